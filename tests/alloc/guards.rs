//! A breaker and a budget never allocate: guarded runs that succeed, retry,
//! open the breaker, are rejected, probe and close, and runs refused by the
//! budget, sync and async, with no tracing subscriber installed; nor does a
//! cooldown telling its hook of a hold, nor one that spreads the calls it
//! held over a window (each call's point drawn as it waits). The binary's
//! counting allocator measures it.

use std::time::Duration;

use retry_runtime::circuit::{CircuitBreaker, CircuitOpen, CircuitState, ManualClock};
use retry_runtime::{Backoff, Policy, RetryAll, RetryBudget, StopReason, WithCircuit};
use testkit::alloc::allocations_in;
use testkit::calls::ok_on_call;

#[derive(Debug)]
enum Error {
    Down,
    Open(CircuitOpen),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Down => f.write_str("down"),
            Error::Open(open) => write!(f, "{open}"),
        }
    }
}

impl From<CircuitOpen> for Error {
    fn from(open: CircuitOpen) -> Self {
        Error::Open(open)
    }
}

static CLOCK: ManualClock = ManualClock::new();
static BREAKER: CircuitBreaker = CircuitBreaker::new("no-alloc")
    .with_failures(3)
    .with_failure_rate(50, 8)
    .with_clock(&CLOCK);
static BUDGET: RetryBudget = RetryBudget::new("no-alloc");
static POLICY: Policy<RetryAll, WithCircuit> = Policy::new()
    .with_max_attempts(5)
    .with_backoff(Backoff::None)
    .with_circuit(&BREAKER)
    .with_budget(&BUDGET);

#[test]
fn guarded_runs_allocate_nothing_in_any_state() {
    let (n, ()) = allocations_in(|| {
        // closed: successes, and a retry that succeeds
        for _ in 0..10 {
            assert!(POLICY.retry(|| Ok::<_, Error>(())).call().is_ok());
        }
        let r = POLICY.retry(ok_on_call(2, || Error::Down)).call();
        assert!(r.is_ok());
        // failures open it; the next run is rejected
        let e = POLICY
            .retry(|| Err::<(), _>(Error::Down))
            .detailed()
            .call()
            .unwrap_err();
        assert_eq!(e.reason, StopReason::CircuitOpen);
        assert!(matches!(
            POLICY.retry(|| Ok::<_, Error>(())).call(),
            Err(Error::Open(_))
        ));
        // a probe closes it
        CLOCK.advance(Duration::from_secs(30));
        assert!(POLICY.retry(|| Ok::<_, Error>(())).call().is_ok());
        assert_eq!(BREAKER.state(), CircuitState::Closed);
        // the plain executor too
        let _ = POLICY.retry(|| Err::<(), _>(Error::Down)).call();
        let _ = BREAKER.stats();
        let _ = BUDGET.stats();
    });
    assert_eq!(n, 0, "allocations");
}

#[test]
fn budget_refusals_allocate_nothing() {
    static TINY: RetryBudget = RetryBudget::new("tiny").with_max_tokens(1);
    static P: Policy = Policy::new()
        .with_max_attempts(5)
        .with_backoff(Backoff::None)
        .with_budget(&TINY);
    let (n, ()) = allocations_in(|| {
        for _ in 0..10 {
            let e = P
                .retry(|| Err::<(), _>("down"))
                .detailed()
                .call()
                .unwrap_err();
            assert_eq!(e.reason, StopReason::Budget);
        }
    });
    assert_eq!(n, 0, "allocations");
}

#[test]
fn async_guarded_runs_allocate_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    static CLOCK2: ManualClock = ManualClock::new();
    static B: CircuitBreaker = CircuitBreaker::new("async-no-alloc")
        .with_failures(2)
        .with_clock(&CLOCK2);
    static P: Policy<RetryAll, WithCircuit> = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_circuit(&B);
    rt.block_on(async {
        // warm the runtime up
        let _ = P.retry(|| async { Ok::<_, Error>(()) }).await;
    });
    let (n, ()) = allocations_in(|| {
        rt.block_on(async {
            let _ = P.retry(|| async { Err::<(), _>(Error::Down) }).await;
            assert!(matches!(
                P.retry(|| async { Ok::<_, Error>(()) }).await,
                Err(Error::Open(_))
            ));
            CLOCK2.advance(Duration::from_secs(30));
            assert!(P.retry(|| async { Ok::<_, Error>(()) }).await.is_ok());
        })
    });
    assert_eq!(n, 0, "allocations");
}

/// A 429 with its wait, for the cooldown below.
#[derive(Debug)]
struct TooMany(Duration);

impl std::fmt::Display for TooMany {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "429, retry after {:?}", self.0)
    }
}

impl retry_runtime::Classify for TooMany {
    fn kind(&self) -> retry_runtime::ErrorKind {
        retry_runtime::ErrorKind::RateLimited
    }
    fn retry_after(&self) -> Option<Duration> {
        Some(self.0)
    }
}

#[test]
fn a_cooldowns_hook_is_told_of_a_hold_without_an_allocation() {
    use retry_runtime::cooldown::{Cooldown, HoldEvent};
    use std::sync::atomic::{AtomicU64, Ordering};
    static TOLD_MS: AtomicU64 = AtomicU64::new(0);
    fn told(event: &HoldEvent) {
        TOLD_MS.fetch_add(event.wait().as_millis() as u64, Ordering::Relaxed);
    }
    static PARTNER: Cooldown = Cooldown::new("no-alloc").with_on_hold(told);
    static CALLS: Policy<retry_runtime::RetryOn> = retry_runtime::presets::API
        .with_max_attempts(1)
        .with_cooldown(&PARTNER);
    let (n, ()) = allocations_in(|| {
        // a run's hold (told), then one by hand (not told): no wait slept
        let r = CALLS
            .retry(|| Err::<(), _>(TooMany(Duration::from_secs(2))))
            .call();
        assert!(r.is_err());
        PARTNER.hold_for(Duration::from_secs(5));
        // a decision holds it as a run does (told again: longer)
        let _ = CALLS.decide(0, &TooMany(Duration::from_secs(9)));
    });
    assert_eq!(n, 0, "allocations");
    assert_eq!(TOLD_MS.load(Ordering::Relaxed), 11_000);
}

/// A cooldown with a spread draws each held call's point on the stack:
/// held first attempts (sync and async), a retry the hold lengthened,
/// `ready` and a decision allocate nothing; a held hedged call what any
/// hedged call does (its attempt's box and the list: tests/alloc/retries.rs)
/// and nothing more. On tokio's paused clock: the waits are virtual.
#[test]
fn a_cooldowns_spread_draws_without_an_allocation() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::jitter::Rng;
    static SPREAD: Cooldown = Cooldown::new("no-alloc-spread")
        .with_spread(Duration::from_secs(2))
        .with_pace(100, Duration::from_secs(1));
    static HELD: Policy<retry_runtime::RetryOn> = retry_runtime::presets::API
        .with_max_attempts(2)
        .with_cooldown(&SPREAD);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let held_calls = || async {
        SPREAD.hold_for(Duration::from_secs(5));
        assert!(HELD.retry(|| async { Ok::<_, TooMany>(()) }).await.is_ok());
        // a retry the hold (another call's 429, during the attempt) lengthens
        let mut first = true;
        let r = HELD
            .retry(|| {
                let fail = std::mem::take(&mut first);
                if fail {
                    SPREAD.hold_for(Duration::from_secs(5));
                }
                async move {
                    match fail {
                        true => Err(TooMany(Duration::ZERO)),
                        false => Ok(()),
                    }
                }
            })
            .await;
        assert!(r.is_ok());
        SPREAD.hold_for(Duration::from_secs(5));
        SPREAD.ready().await;
    };
    rt.block_on(held_calls()); // warms the runtime and its timers up
    let (n, ()) = allocations_in(|| {
        rt.block_on(held_calls());
        // sync: a held first attempt, its sleeper told of the wait
        SPREAD.hold_for(Duration::from_secs(5));
        let r = HELD
            .retry(|| Ok::<_, TooMany>(()))
            .sleep_with(|_: Duration| {})
            .call();
        assert!(r.is_ok());
        let decision = HELD.decide_with(
            0,
            Duration::ZERO,
            &TooMany(Duration::ZERO),
            &mut Rng::with_seed(1),
        );
        assert!(matches!(decision, retry_runtime::Decision::Retry { .. }));
    });
    assert_eq!(n, 0, "allocations");
    // a hedged call held: its attempt's box and the list, as unheld
    let hedged = HELD.with_hedge(Duration::from_millis(50));
    let (n, ()) = allocations_in(|| {
        rt.block_on(async {
            SPREAD.hold_for(Duration::from_secs(5));
            assert!(hedged
                .retry(|| async { Ok::<_, TooMany>(()) })
                .hedged()
                .await
                .is_ok());
        })
    });
    assert_eq!(n, 2, "allocations");
}
