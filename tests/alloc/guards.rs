//! A breaker and a budget never allocate: guarded runs that succeed, retry,
//! open the breaker, are rejected, probe and close, and runs refused by the
//! budget, sync and async, with no tracing subscriber installed. The binary's
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
