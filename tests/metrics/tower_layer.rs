//! Calls through the tower layer are counted as every other call: one
//! whose service fails its readiness check (`poll_ready`) before the first
//! attempt too, which ends before the run's future exists.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::{Layer, Service, ServiceExt};

use retry_runtime::metrics::Outcome;
use retry_runtime::{
    Backoff, CircuitBreaker, GiveUpEvent, KindSet, Policy, RetryBudget, RetryOn, StopReason,
    WithCircuit,
};
use testkit::capture::{capture, field};
use tracing::Level;

use crate::script::{assert_one_call, block_on, record};

/// A service whose readiness check fails at once (tower: it is broken, a
/// `Buffer` whose worker is gone, a pool closed); it is never called.
#[derive(Clone)]
struct Broken {
    calls: &'static AtomicUsize,
}

impl Service<Request<String>> for Broken {
    type Response = Response<String>;
    type Error = io::Error;
    type Future = std::future::Ready<Result<Response<String>, io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Err(io::Error::other("the connection pool is closed")))
    }

    fn call(&mut self, _: Request<String>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(Response::new(String::new())))
    }
}

/// The call ends before its first attempt, on the service's error: it is
/// counted (`permanent_error`, as the report's `Permanent` and the same
/// failure before a retry; 0 attempts, as a call a guard turned away), its
/// give-up line is logged and the policy's `on_give_up` told. Nothing was
/// sent: the breaker and the budget record nothing. (It was invisible: no
/// outcome, no line, no callback.)
#[test]
fn a_service_broken_before_the_first_attempt_is_counted_and_logged() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static GAVE_UP: AtomicUsize = AtomicUsize::new(0);
    static BREAKER: CircuitBreaker = CircuitBreaker::new("tower-broken").with_failures(1);
    static BUDGET: RetryBudget = RetryBudget::new("tower-broken");
    fn gave_up(ev: &GiveUpEvent<'_>) {
        assert_eq!((ev.reason, ev.attempts), (StopReason::Permanent, 0));
        assert_eq!(ev.error.to_string(), "the connection pool is closed");
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
    static POLICY: Policy<RetryOn, WithCircuit> = Policy::new()
        .with_name("pool")
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT)
        .with_budget(&BUDGET)
        .with_on_give_up(gave_up)
        .with_circuit(&BREAKER);
    let logs = capture();
    let (rec, result) = record(|| {
        let svc = POLICY.layer().with_report().layer(Broken { calls: &CALLS });
        let get = Request::get("/clips").body(String::new()).unwrap();
        block_on(svc.oneshot(get))
    });
    let (error, report) = result.unwrap_err().into_parts();
    assert_eq!(error.to_string(), "the connection pool is closed");
    assert_eq!(
        (report.attempts, report.gave_up),
        (0, Some(StopReason::Permanent))
    );
    assert_eq!(CALLS.load(Ordering::SeqCst), 0);
    assert_one_call(&rec, "pool", Outcome::PermanentError, 0, &[], "tower");
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 1);
    let line = logs.assert_logged(
        Level::WARN,
        "pool failed with a non-retriable error on attempt 0",
    );
    assert_eq!(
        field(&line, "error"),
        Some("the connection pool is closed"),
        "{line}"
    );
    assert_eq!(field(&line, "attempt"), Some("0"), "{line}");
    assert_eq!(field(&line, "outcome"), Some("permanent_error"), "{line}");
    // nothing reached the dependency: no failure for the breaker, no
    // first attempt's deposit in the budget
    let stats = BREAKER.stats();
    let asked = (
        stats.permitted,
        stats.rejected,
        stats.failures,
        stats.neutral,
    );
    assert_eq!(asked, (0, 0, 0, 0), "{stats:?}");
    let budget = BUDGET.stats();
    assert_eq!(
        (budget.first_attempts, budget.retries),
        (0, 0),
        "{budget:?}"
    );
}
