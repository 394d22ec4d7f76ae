//! Panics are never caught, retried or turned into errors.
//!
//! - A panic in the body propagates out of the call on the attempt that
//!   panicked: no further attempt, no `on_give_up` hook, no give-up log line
//!   (sync: `catch_unwind` around the call; async: the task's `JoinError` is a
//!   panic carrying the body's payload).
//! - A panicking hook propagates out of the call too: `before_sleep` runs
//!   after the WARN line and before the sleep, so when it panics the call
//!   panics with its payload, the failed attempt is the last one made, and
//!   there is no sleep and no further attempt; `on_give_up` runs after the
//!   give-up line, so the call panics instead of returning the last error.
//!   A cooldown's `with_on_hold` hook runs after the hold is set: when it
//!   panics, the call panics and the other calls hold all the same.
//! - A panicking attempt that was a circuit breaker's half-open probe never
//!   reports its outcome; the breaker does not stay stuck: after another
//!   recovery timeout it lets a new probe through (as for a dropped future).

use std::future::IntoFuture;
use testkit::capture as support;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use retry_runtime::circuit::CircuitState;
use retry_runtime::{retry, testing, Backoff, GiveUpEvent, Policy, RetryEvent};
use testkit::calls::ok_on_call;
use tracing::Level;

/// The panic's message.
fn message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_owned(),
            Err(_) => "<not a string>".to_owned(),
        },
    }
}

/// The message of the panic that `f` must end in.
fn panic_message<R: std::fmt::Debug>(f: impl FnOnce() -> R) -> String {
    message(catch_unwind(AssertUnwindSafe(f)).unwrap_err())
}

/// The message of the panic that ends the task running `fut`.
async fn task_panic_message<F>(fut: F) -> String
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + std::fmt::Debug + 'static,
{
    let err = tokio::spawn(fut).await.unwrap_err();
    assert!(err.is_panic());
    message(err.into_panic())
}

/// A failing attempt that counts itself into `calls`.
fn count_and_fail(calls: &AtomicU32) -> Result<(), String> {
    calls.fetch_add(1, SeqCst);
    Err("down".to_owned())
}

/// Counts `on_give_up` calls into the static `$gave_up`.
macro_rules! count_give_ups {
    ($gave_up:ident) => {
        fn on_give_up(_: &GiveUpEvent<'_>) {
            $gave_up.fetch_add(1, SeqCst);
        }
    };
}

#[test]
fn sync_body_panic_propagates_on_the_first_attempt() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    static GAVE_UP: AtomicU32 = AtomicU32::new(0);
    count_give_ups!(GAVE_UP);
    #[retry(attempts = 5, backoff = "fixed(1s)", on_give_up = on_give_up)]
    fn boom() -> Result<(), String> {
        CALLS.fetch_add(1, SeqCst);
        panic!("boom in the body");
    }

    let paused = testing::pause();
    let logs = support::capture();
    assert_eq!(panic_message(boom), "boom in the body");
    assert_eq!(CALLS.load(SeqCst), 1, "a panic is never retried");
    assert_eq!(GAVE_UP.load(SeqCst), 0);
    assert!(paused.waits().is_empty());
    assert!(logs.lines().is_empty(), "{:?}", logs.lines());
}

#[test]
fn sync_body_panic_after_a_failure_ends_the_run() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    static GAVE_UP: AtomicU32 = AtomicU32::new(0);
    count_give_ups!(GAVE_UP);
    #[retry(attempts = 5, backoff = "fixed(1s)", on_give_up = on_give_up)]
    fn second_panics() -> Result<(), String> {
        if CALLS.fetch_add(1, SeqCst) == 0 {
            return Err("down".to_owned());
        }
        panic!("boom on attempt 2");
    }

    let paused = testing::pause();
    assert_eq!(panic_message(second_panics), "boom on attempt 2");
    assert_eq!(CALLS.load(SeqCst), 2);
    assert_eq!(GAVE_UP.load(SeqCst), 0);
    assert_eq!(paused.waits(), [Duration::from_secs(1)]);
}

#[test]
fn sync_functional_panic_propagates() {
    let _paused = testing::pause();
    let mut calls = 0;
    let payload = panic_message(|| {
        Policy::new()
            .with_max_attempts(5)
            .retry(|| -> Result<(), &str> {
                calls += 1;
                panic!("functional boom");
            })
            .call()
    });
    assert_eq!(payload, "functional boom");
    assert_eq!(calls, 1);
}

#[tokio::test(start_paused = true)]
async fn async_body_panic_is_a_join_error_after_one_call() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    static GAVE_UP: AtomicU32 = AtomicU32::new(0);
    count_give_ups!(GAVE_UP);
    #[retry(attempts = 5, backoff = "fixed(1s)", on_give_up = on_give_up)]
    async fn boom() -> Result<(), String> {
        CALLS.fetch_add(1, SeqCst);
        tokio::task::yield_now().await;
        panic!("async boom");
    }

    assert_eq!(task_panic_message(boom()).await, "async boom");
    assert_eq!(CALLS.load(SeqCst), 1);
    assert_eq!(GAVE_UP.load(SeqCst), 0);
    // nothing left running: no second attempt after any wait
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!(CALLS.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn async_functional_panic_is_a_join_error_after_one_call() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    const POLICY: Policy = Policy::new()
        .with_max_attempts(5)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)));

    let task = POLICY
        .retry(|| async {
            // (an `if` that is always true gives the block its `Result` type)
            if CALLS.fetch_add(1, SeqCst) < u32::MAX {
                panic!("functional async boom");
            }
            Ok::<(), &str>(())
        })
        .into_future();
    assert_eq!(task_panic_message(task).await, "functional async boom");
    assert_eq!(CALLS.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn async_body_panic_on_a_later_attempt() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[retry(attempts = 5, backoff = "fixed(1s)")]
    async fn third_panics() -> Result<(), String> {
        if CALLS.fetch_add(1, SeqCst) < 2 {
            return Err("down".to_owned());
        }
        panic!("boom on attempt 3");
    }

    let start = tokio::time::Instant::now();
    assert_eq!(
        task_panic_message(third_panics()).await,
        "boom on attempt 3"
    );
    assert_eq!(CALLS.load(SeqCst), 3);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[test]
fn panicking_before_sleep_ends_the_call() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    static GAVE_UP: AtomicU32 = AtomicU32::new(0);
    count_give_ups!(GAVE_UP);
    fn before_sleep(ev: &RetryEvent<'_>) {
        panic!("before_sleep panicked after attempt {}", ev.attempt);
    }
    #[retry(attempts = 5, backoff = "fixed(1s)", before_sleep = before_sleep, on_give_up = on_give_up)]
    fn down() -> Result<(), String> {
        count_and_fail(&CALLS)
    }

    let paused = testing::pause();
    let logs = support::capture();
    assert_eq!(panic_message(down), "before_sleep panicked after attempt 1");
    assert_eq!(CALLS.load(SeqCst), 1, "no further attempt");
    assert_eq!(GAVE_UP.load(SeqCst), 0, "a hook's panic is not a give-up");
    assert!(paused.waits().is_empty(), "no sleep");
    // the WARN line was written before the hook ran
    logs.assert_logged(Level::WARN, "retrying down after attempt 1/5");
    assert_eq!(logs.lines().len(), 1, "{:?}", logs.lines());
}

#[tokio::test(start_paused = true)]
async fn panicking_before_sleep_ends_the_async_call() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    fn before_sleep(_: &RetryEvent<'_>) {
        panic!("async before_sleep panicked");
    }
    const POLICY: Policy = Policy::new()
        .with_max_attempts(5)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .with_before_sleep(before_sleep);

    let task = POLICY
        .retry(|| async {
            CALLS.fetch_add(1, SeqCst);
            Err::<(), _>("down")
        })
        .into_future();
    assert_eq!(
        task_panic_message(task).await,
        "async before_sleep panicked"
    );
    assert_eq!(CALLS.load(SeqCst), 1);
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!(CALLS.load(SeqCst), 1);
}

#[test]
fn panicking_on_give_up_panics_instead_of_returning_the_error() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    fn on_give_up(ev: &GiveUpEvent<'_>) {
        panic!("on_give_up panicked after {} attempts", ev.attempts);
    }
    #[retry(attempts = 3, backoff = "fixed(1s)", on_give_up = on_give_up)]
    fn down() -> Result<(), String> {
        count_and_fail(&CALLS)
    }

    let paused = testing::pause();
    let logs = support::capture();
    assert_eq!(panic_message(down), "on_give_up panicked after 3 attempts");
    assert_eq!(CALLS.load(SeqCst), 3, "every attempt was made first");
    assert_eq!(paused.waits().len(), 2);
    // the give-up line was written before the hook ran
    logs.assert_logged(Level::ERROR, "down failed after 3 attempts");
}

#[tokio::test(start_paused = true)]
async fn panicking_on_give_up_in_an_async_call() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    fn on_give_up(_: &GiveUpEvent<'_>) {
        panic!("async on_give_up panicked");
    }
    #[retry(attempts = 2, backoff = "fixed(1s)", on_give_up = on_give_up)]
    async fn down() -> Result<(), String> {
        count_and_fail(&CALLS)
    }

    assert_eq!(
        task_panic_message(down()).await,
        "async on_give_up panicked"
    );
    assert_eq!(CALLS.load(SeqCst), 2);
}

/// A panicking hook is not "poisoned" state: the same policy works for the
/// next call (hooks are plain `fn`s; the run holds no lock).
#[test]
fn the_policy_still_works_after_a_hook_panicked() {
    static PANIC_NEXT: AtomicU32 = AtomicU32::new(1);
    fn before_sleep(_: &RetryEvent<'_>) {
        if PANIC_NEXT.swap(0, SeqCst) == 1 {
            panic!("once");
        }
    }
    const POLICY: Policy = Policy::new()
        .with_max_attempts(3)
        .with_before_sleep(before_sleep);

    let _paused = testing::pause();
    let first = catch_unwind(|| POLICY.retry(|| Err::<(), _>("down")).call());
    assert!(first.is_err());
    let second = POLICY.retry(ok_on_call(3, || "down")).call();
    assert_eq!(second, Ok(3));
}

#[test]
fn a_panicking_probe_gives_its_slot_back() {
    let (upstream, clock, policy) = crate::one_strike_breaker("panicky");
    let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);

    let _paused = testing::pause();
    assert!(policy.retry(|| Err::<(), _>(timed_out())).call().is_err());
    assert_eq!(upstream.state(), CircuitState::Open);

    // the recovery timeout passes; the probe call panics
    clock.advance(Duration::from_secs(30));
    let probe = catch_unwind(AssertUnwindSafe(|| {
        policy
            .retry(|| -> Result<(), std::io::Error> { panic!("the probe panicked") })
            .call()
    }));
    assert_eq!(message(probe.unwrap_err()), "the probe panicked");
    // the unwinding run told the breaker of an attempt with no outcome: its
    // slot is free, and the next call probes at once (it was turned away,
    // not called, for another recovery timeout) and closes the breaker
    assert_eq!(upstream.state(), CircuitState::HalfOpen);
    assert_eq!(upstream.stats().neutral, 1);
    assert_eq!(
        policy.retry(|| Ok::<_, std::io::Error>(7)).call().unwrap(),
        7
    );
    assert_eq!(upstream.state(), CircuitState::Closed);
}

/// The same through a sync `#[retry(circuit = ..)]`: the panic unwinds
/// through the generated loop, whose run gives the probe's slot back.
#[test]
fn a_panicking_annotated_probe_gives_its_slot_back() {
    static CLOCK: retry_runtime::clock::ManualClock = retry_runtime::clock::ManualClock::new();
    static UPSTREAM: retry_runtime::CircuitBreaker =
        retry_runtime::CircuitBreaker::new("panicky-annotated")
            .with_failures(1)
            .with_recovery(Duration::from_secs(30))
            .with_clock(&CLOCK);
    static MODE: AtomicU32 = AtomicU32::new(0);

    #[retry(attempts = 1, circuit = UPSTREAM)]
    fn fetch() -> Result<u32, std::io::Error> {
        match MODE.load(SeqCst) {
            0 => Err(std::io::ErrorKind::TimedOut.into()),
            1 => panic!("the probe panicked"),
            _ => Ok(7),
        }
    }

    let _paused = testing::pause();
    assert!(fetch().is_err());
    assert_eq!(UPSTREAM.state(), CircuitState::Open);
    CLOCK.advance(Duration::from_secs(30));
    MODE.store(1, SeqCst);
    let probe = catch_unwind(fetch);
    assert_eq!(message(probe.unwrap_err()), "the probe panicked");
    assert_eq!(UPSTREAM.state(), CircuitState::HalfOpen);
    MODE.store(2, SeqCst);
    assert_eq!(fetch().unwrap(), 7);
    assert_eq!(UPSTREAM.state(), CircuitState::Closed);
}

/// A cooldown's `with_on_hold` hook that panics unwinds through the call,
/// as the body's panic does: after the hold is set (the other calls hold),
/// and a breaker's probe it ends gives its slot back.
#[test]
fn a_panicking_on_hold_hook_ends_the_call_after_the_hold() {
    use retry_runtime::cooldown::{Cooldown, HoldEvent};
    use retry_runtime::{Classify, ErrorKind};

    #[derive(Debug)]
    enum Upstream {
        TimedOut,
        TooMany(Duration),
        Open,
    }
    impl From<retry_runtime::CircuitOpen> for Upstream {
        fn from(_: retry_runtime::CircuitOpen) -> Self {
            Upstream::Open
        }
    }
    impl std::fmt::Display for Upstream {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }
    impl Classify for Upstream {
        fn kind(&self) -> ErrorKind {
            match self {
                Upstream::TimedOut => ErrorKind::Timeout,
                Upstream::TooMany(_) => ErrorKind::RateLimited,
                Upstream::Open => ErrorKind::Unavailable,
            }
        }
        fn retry_after(&self) -> Option<Duration> {
            match self {
                Upstream::TooMany(wait) => Some(*wait),
                Upstream::TimedOut | Upstream::Open => None,
            }
        }
    }
    fn panics(_: &HoldEvent) {
        panic!("the hook panicked");
    }
    static PARTNER: Cooldown = Cooldown::new("panicky-hook").with_on_hold(panics);
    // one_strike_breaker's, with a policy that honours a 429's wait
    let (upstream, clock, _) = crate::one_strike_breaker("panicky-hook");
    let policy = retry_runtime::presets::API
        .with_max_attempts(1)
        .with_circuit(upstream)
        .with_cooldown(&PARTNER);

    let _paused = testing::pause();
    assert!(policy
        .retry(|| Err::<(), _>(Upstream::TimedOut))
        .call()
        .is_err());
    assert_eq!(upstream.state(), CircuitState::Open);
    clock.advance(Duration::from_secs(30));
    // the probe hears a 429: the hold is set, then the hook panics
    let probe = catch_unwind(AssertUnwindSafe(|| {
        policy
            .retry(|| Err::<(), _>(Upstream::TooMany(Duration::from_secs(2))))
            .call()
    }));
    assert_eq!(message(probe.unwrap_err()), "the hook panicked");
    assert!(PARTNER.remaining().is_some(), "held before the hook ran");
    assert_eq!(upstream.state(), CircuitState::HalfOpen);
    assert_eq!(upstream.stats().neutral, 1);
    // the next call waits the hold out (virtual) and probes
    assert_eq!(policy.retry(|| Ok::<_, Upstream>(7)).call().unwrap(), 7);
    assert_eq!(upstream.state(), CircuitState::Closed);
}
