//! `#[retry(circuit = NAME, budget = NAME)]`: a shared circuit breaker and
//! retry budget through the attribute, sync and async; a breaker beside a
//! throttle (`circuit = NAME, throttle = NAME`); and a breaker chosen at run
//! time, on the `policy`, sync and async.

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::circuit::CircuitState;
use retry_runtime::{
    retry, CircuitBreaker, CircuitOpen, Classify, RetryBudget, Throttle, Throttled,
};

#[derive(Debug, PartialEq, thiserror::Error, Classify)]
enum ApiError {
    #[error("timed out")]
    #[classify(Timeout)]
    Timeout,
    #[error("not found")]
    #[classify(Permanent)]
    NotFound,
    #[error(transparent)]
    #[classify(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    #[classify(Unavailable)]
    Throttled(#[from] Throttled),
}

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
    static FAIL_WITH: Cell<Option<fn() -> ApiError>> = const { Cell::new(None) };
    static TIMEOUTS_FIRST: Cell<u32> = const { Cell::new(0) };
}

fn call() -> Result<u32, ApiError> {
    CALLS.with(|c| c.set(c.get() + 1));
    if TIMEOUTS_FIRST.with(|t| t.replace(t.get().saturating_sub(1))) > 0 {
        return Err(ApiError::Timeout);
    }
    match FAIL_WITH.with(Cell::get) {
        Some(make) => Err(make()),
        None => Ok(CALLS.with(Cell::get)),
    }
}

fn reset(fail: Option<fn() -> ApiError>) {
    CALLS.with(|c| c.set(0));
    FAIL_WITH.with(|f| f.set(fail));
    TIMEOUTS_FIRST.with(|t| t.set(0));
}

/// The next `n` calls time out, whatever [`reset`] said.
fn time_out_first(n: u32) {
    TIMEOUTS_FIRST.with(|t| t.set(n));
}

fn calls() -> u32 {
    CALLS.with(Cell::get)
}

static SYNC_UPSTREAM: CircuitBreaker = CircuitBreaker::new("sync-upstream")
    .with_failures(3)
    .with_recovery(Duration::from_secs(30));

#[retry(attempts = 2, backoff = "none", retry_on = Timeout, circuit = SYNC_UPSTREAM)]
fn get_sync() -> Result<u32, ApiError> {
    call()
}

#[test]
fn an_open_breaker_rejects_without_calling_sync() {
    let _paused = retry_runtime::testing::pause();
    reset(Some(|| ApiError::Timeout));
    // 1st call: 2 failures; 2nd call: the 3rd failure opens it, the run stops retrying
    assert_eq!(get_sync(), Err(ApiError::Timeout));
    assert_eq!(get_sync(), Err(ApiError::Timeout));
    assert_eq!(calls(), 3);
    assert_eq!(SYNC_UPSTREAM.state(), CircuitState::Open);
    // open: rejected at once, the body is not called
    reset(None);
    assert!(matches!(get_sync(), Err(ApiError::Open(_))));
    assert_eq!(calls(), 0);
    // a 404 says nothing about the dependency's health
    SYNC_UPSTREAM.reset();
    reset(Some(|| ApiError::NotFound));
    for _ in 0..5 {
        assert_eq!(get_sync(), Err(ApiError::NotFound));
    }
    assert_eq!(SYNC_UPSTREAM.state(), CircuitState::Closed);
}

static ASYNC_UPSTREAM: CircuitBreaker = CircuitBreaker::new("async-upstream")
    .with_failures(2)
    .with_recovery(Duration::from_secs(10));

#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Timeout, circuit = ASYNC_UPSTREAM)]
async fn get_async() -> Result<u32, ApiError> {
    call()
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_rejects_then_probes_async() {
    reset(Some(|| ApiError::Timeout));
    assert_eq!(get_async().await, Err(ApiError::Timeout));
    assert_eq!(
        calls(),
        2,
        "the 2nd failure opened the breaker: no 3rd attempt"
    );
    assert_eq!(ASYNC_UPSTREAM.state(), CircuitState::Open);
    reset(None);
    let Err(ApiError::Open(open)) = get_async().await else {
        panic!("expected a rejection");
    };
    assert_eq!(open.circuit, "async-upstream");
    assert_eq!(calls(), 0);
    // after the recovery time one probe goes through and closes it (the
    // time it says to wait: 10s, and at most a millisecond more, as the
    // breaker keeps whole milliseconds of a clock that reads fractions)
    assert!(open.retry_after >= Duration::from_secs(10), "{open:?}");
    assert!(
        open.retry_after <= Duration::from_millis(10_001),
        "{open:?}"
    );
    tokio::time::advance(open.retry_after).await;
    assert_eq!(get_async().await, Ok(1));
    assert_eq!(ASYNC_UPSTREAM.state(), CircuitState::Closed);
}

static BOTH_BREAKER: CircuitBreaker = CircuitBreaker::new("both-breaker");
static BOTH_THROTTLE: Throttle = Throttle::new("both-throttle");

#[retry(attempts = 2, backoff = "none", circuit = BOTH_BREAKER, throttle = BOTH_THROTTLE)]
fn get_breaker_and_throttle() -> Result<u32, ApiError> {
    call()
}

#[test]
fn beside_a_throttle_an_open_breaker_rejects_without_calling() {
    let _paused = retry_runtime::testing::pause();
    reset(None);
    assert_eq!(get_breaker_and_throttle(), Ok(1));
    assert_eq!(BOTH_THROTTLE.stats().requests, 1, "asked the throttle");
    BOTH_BREAKER.force_open();
    assert!(
        matches!(get_breaker_and_throttle(), Err(ApiError::Open(ref open)) if open.circuit == "both-breaker"),
        "turned away by the breaker"
    );
    assert_eq!(calls(), 1, "not called");
}

static RETRIES: RetryBudget = RetryBudget::new("retries").with_max_tokens(4);

#[retry(attempts = 10, backoff = "none", budget = RETRIES)]
fn get_budgeted() -> Result<u32, ApiError> {
    call()
}

#[test]
fn the_budget_caps_retries() {
    // 4 tokens, full; each first attempt deposits 0.1; a retry needs more than
    // half (2) and takes 1.
    reset(Some(|| ApiError::Timeout));
    assert_eq!(get_budgeted(), Err(ApiError::Timeout));
    assert_eq!(
        calls(),
        3,
        "4 -> 3 -> 2: two retries, then 2 is not more than half"
    );
    reset(Some(|| ApiError::Timeout));
    assert_eq!(get_budgeted(), Err(ApiError::Timeout));
    assert_eq!(calls(), 2, "2.1 allows one retry, leaving 1.1");
    reset(Some(|| ApiError::Timeout));
    assert_eq!(get_budgeted(), Err(ApiError::Timeout));
    assert_eq!(
        calls(),
        1,
        "1.2: the budget is spent, the first attempt only"
    );
    assert_eq!(RETRIES.stats().refused, 3);
}

static BOTH_UPSTREAM: CircuitBreaker = CircuitBreaker::new("both");
static BOTH_RETRIES: RetryBudget = RetryBudget::new("both");

#[retry(preset = "api", circuit = BOTH_UPSTREAM, budget = BOTH_RETRIES)]
async fn get_with_preset_and_both() -> Result<u32, ApiError> {
    call()
}

#[tokio::test(start_paused = true)]
async fn preset_with_breaker_and_budget() {
    // two timeouts, then the answer: both guards see each attempt
    reset(None);
    time_out_first(2);
    assert_eq!(get_with_preset_and_both().await, Ok(3));
    assert_eq!(calls(), 3);
    let budget = BOTH_RETRIES.stats();
    assert_eq!(
        (budget.first_attempts, budget.retries, budget.refused),
        (1, 2, 0),
        "{budget:?}"
    );
    let breaker = BOTH_UPSTREAM.stats();
    assert_eq!(
        (breaker.permitted, breaker.failures, breaker.successes),
        (3, 2, 1),
        "{breaker:?}"
    );
    // the success after the failures reset the breaker's count; it is closed
    assert_eq!(breaker.consecutive_failures, 0, "{breaker:?}");
    assert_eq!(breaker.state, CircuitState::Closed);
}

/// An SDK's client whose breaker its user picks at run time: the `circuit`
/// key names a `static`, so the breaker goes on the policy.
struct Client {
    policy: retry_runtime::Policy<retry_runtime::RetryOn>,
    breaker: &'static CircuitBreaker,
}

impl Client {
    #[retry(policy = self.policy.with_circuit(self.breaker))]
    fn get(&self) -> Result<u32, ApiError> {
        call()
    }

    #[retry(policy = self.policy.with_circuit(self.breaker))]
    async fn get_async(&self) -> Result<u32, ApiError> {
        call()
    }
}

#[test]
fn a_breaker_chosen_at_run_time_goes_on_the_policy() {
    static PICKED: CircuitBreaker = CircuitBreaker::new("picked").with_failures(2);
    let client = Client {
        policy: retry_runtime::Policy::new()
            .with_max_attempts(3)
            .with_backoff(retry_runtime::Backoff::None)
            .retry_on(retry_runtime::kinds![Timeout]),
        breaker: &PICKED,
    };
    let _paused = retry_runtime::testing::pause();
    // the second timeout opens it: the run stops there
    reset(None);
    time_out_first(3);
    assert_eq!(client.get(), Err(ApiError::Timeout));
    assert_eq!(calls(), 2);
    assert_eq!(PICKED.state(), CircuitState::Open);
    // and the next call is turned away by it, without a call
    assert!(
        matches!(client.get(), Err(ApiError::Open(ref open)) if open.circuit == "picked"),
        "turned away by the picked breaker"
    );
    assert_eq!(calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_breaker_chosen_at_run_time_turns_an_async_call_away() {
    static PICKED_ASYNC: CircuitBreaker = CircuitBreaker::new("picked-async");
    let client = Client {
        policy: retry_runtime::Policy::new()
            .with_max_attempts(3)
            .with_backoff(retry_runtime::Backoff::None)
            .retry_on(retry_runtime::kinds![Timeout]),
        breaker: &PICKED_ASYNC,
    };
    reset(None);
    assert_eq!(client.get_async().await, Ok(1));
    PICKED_ASYNC.force_open();
    assert!(
        matches!(client.get_async().await, Err(ApiError::Open(ref open)) if open.circuit == "picked-async"),
        "turned away by the picked breaker"
    );
    assert_eq!(calls(), 1, "not called");
}
