//! The public types a program keeps, shares or returns are `Send`, `Sync`,
//! `Unpin` and unwind-safe (a policy or a breaker in a `static` used from
//! every thread and inside `catch_unwind`), and the errors go across
//! threads and into `anyhow` (`Send + Sync + 'static`; not unwind-safe, as
//! `io::Error` is not, whose `RetryError` holds it). Losing one of these
//! would break users' code far from the change that lost it; this test
//! fails at compile time instead. (The hooks' events and `Causes` borrow
//! the error as `&dyn Display` / `&dyn Error`: views for one call, not
//! values to share.)

use std::io;
use std::panic::{RefUnwindSafe, UnwindSafe};

use retry_runtime::circuit::{
    CircuitBreaker, CircuitOpen, CircuitState, CircuitStats, ManualClock, Outcome, SystemClock,
};
use retry_runtime::nested::Outer;
use retry_runtime::{
    Attempt, AttemptTimeout, Backoff, Decision, ErrorKind, Jitter, KindSet, Nested, ParseError,
    Policy, PolicyError, RetryAfter, RetryAll, RetryBudget, RetryError, RetryIf, RetryOn,
    RetryOnOrIf, Stop, StopReason, Succeeded, Throttle, Throttled, Verdict, WithCircuit,
    WithCircuitAndThrottle, WithThrottle,
};

/// Every auto trait a shared value needs.
fn shared<T: Send + Sync + Unpin + UnwindSafe + RefUnwindSafe>() {}
/// For an error, what `anyhow::Error::new` and `Box<dyn Error + Send + Sync>` take.
fn error<T: std::error::Error + Send + Sync + Unpin + 'static>() {}

#[test]
fn policies_guards_and_their_settings_are_shared_values() {
    shared::<Policy>();
    shared::<Policy<RetryOn>>();
    shared::<Policy<RetryIf<fn(&io::Error) -> bool>>>();
    shared::<Policy<RetryOnOrIf<fn(&io::Error) -> bool>>>();
    shared::<Policy<RetryAll, WithCircuit>>();
    shared::<Policy<RetryOn, WithThrottle>>();
    shared::<Policy<RetryOn, WithCircuitAndThrottle>>();
    shared::<CircuitBreaker>();
    shared::<RetryBudget>();
    shared::<Throttle>();
    shared::<ManualClock>();
    shared::<SystemClock>();
    shared::<Backoff>();
    shared::<Jitter>();
    shared::<Stop>();
    shared::<KindSet>();
    shared::<ErrorKind>();
    shared::<Nested>();
    shared::<Outer>();
    shared::<RetryAfter>();
    shared::<Decision>();
    shared::<Verdict>();
}

#[test]
fn what_a_run_hands_back_is_shared_values() {
    shared::<Attempt>();
    shared::<StopReason>();
    shared::<Outcome>();
    shared::<CircuitState>();
    shared::<CircuitStats>();
    shared::<retry_runtime::budget::BudgetStats>();
    shared::<retry_runtime::throttle::ThrottleStats>();
    shared::<Succeeded<u32>>();
}

#[test]
fn the_errors_go_into_anyhow_and_across_threads() {
    error::<RetryError<io::Error>>();
    error::<CircuitOpen>();
    error::<Throttled>();
    error::<AttemptTimeout>();
    error::<PolicyError>();
    error::<ParseError>();
}

#[test]
fn the_tower_layer_and_its_error_are_shared_values() {
    use retry_runtime::tower::{BoxErrorsLayer, Error, NotReady, RetryLayer};
    shared::<RetryLayer<RetryOn>>();
    shared::<
        RetryLayer<
            RetryOn,
            WithCircuit,
            retry_runtime::DefaultSleeper,
            retry_runtime::tower::WithTimeout,
            retry_runtime::tower::PolicyFn<RetryOn, WithCircuit>,
        >,
    >();
    shared::<BoxErrorsLayer>();
    error::<Error<io::Error>>();
    error::<NotReady>();
}

#[test]
fn the_http_error_goes_into_anyhow() {
    error::<retry_runtime::HttpError>();
}

#[test]
fn the_middleware_is_a_shared_value() {
    shared::<retry_runtime::reqwest_middleware::RetryMiddleware<RetryOn>>();
    shared::<
        retry_runtime::reqwest_middleware::RetryMiddleware<
            RetryOn,
            WithCircuit,
            retry_runtime::DefaultSleeper,
            retry_runtime::tower::PolicyFn<RetryOn, WithCircuit>,
        >,
    >();
}

/// A clock of a type that is not unwind-safe (here a `dyn Fn` inside, as
/// a `parking_lot::Mutex` would be) can be given to a breaker, and a
/// policy holding that breaker is still used inside `catch_unwind` as is.
#[test]
fn a_breaker_on_any_clock_keeps_its_policy_unwind_safe() {
    use std::time::Duration;

    use retry_runtime::clock::Clock;

    struct FnClock(&'static (dyn Fn() -> Duration + Sync));
    impl Clock for FnClock {
        fn now(&self) -> Duration {
            (self.0)()
        }
    }
    static CLOCK: FnClock = FnClock(&|| Duration::from_secs(7));
    static BREAKER: CircuitBreaker = CircuitBreaker::new("fn-clock").with_clock(&CLOCK);
    static POLICY: Policy<RetryAll, WithCircuit> = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .with_circuit(&BREAKER);

    let policy = &POLICY;
    let got = std::panic::catch_unwind(|| {
        policy
            .retry(|| Err::<(), _>(io::Error::from(io::ErrorKind::TimedOut)))
            .call()
    });
    let error = got.expect("no panic").expect_err("every attempt failed");
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert_eq!(
        BREAKER.stats().permitted,
        2,
        "the breaker was asked, on its clock"
    );
}

/// The timers' futures go with a run's future across threads (a
/// multi-thread executor moves the task): smol's stays `Send + Sync`, its
/// virtual wait under `testing::pause` too (the line it waits in is the
/// process's, keyed by thread, not a thread-local of the task's).
#[test]
fn the_smol_timers_future_is_send_and_sync() {
    fn send_sync<T: Send + Sync + Unpin>() {}
    send_sync::<retry_runtime::sleep::SmolSleep>();
}
