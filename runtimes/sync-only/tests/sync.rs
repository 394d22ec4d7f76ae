//! retry-runtime with `default-features = false, features = ["macros"]`:
//! no async runtime in the tree (tests/runtimes/ checks `cargo tree`), and
//! everything sync works: `#[retry]`, presets, the functional API, the
//! circuit breaker and the retry budget.

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::{
    CircuitBreaker, CircuitOpen, Classify, Policy, RetryBudget, StopReason, presets, retry, testing,
};

#[derive(Debug, PartialEq, thiserror::Error, Classify)]
#[classify(default = Unavailable)]
enum Fail {
    #[error("Down")]
    Down,
    #[error("Open")]
    Open,
}

impl From<CircuitOpen> for Fail {
    fn from(_: CircuitOpen) -> Self {
        Fail::Open
    }
}

thread_local!(static CALLS: Cell<u32> = const { Cell::new(0) });

fn down_until(n: u32) -> Result<u32, Fail> {
    let calls = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if calls < n {
        Err(Fail::Down)
    } else {
        Ok(calls)
    }
}

#[retry(preset = "webhook")]
fn send() -> Result<u32, Fail> {
    down_until(3)
}

#[test]
fn a_sync_annotated_fn_retries_with_its_preset_waits() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    assert_eq!(send(), Ok(3));
    assert_eq!(
        paused.waits(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
}

#[test]
fn presets_and_the_functional_api_work_sync() {
    CALLS.with(|c| c.set(0));
    let _paused = testing::pause();
    let ok = presets::QUICK
        .with_attempts(3)
        .retry(|| down_until(2))
        .detailed()
        .call()
        .unwrap();
    assert_eq!((ok.value, ok.attempts), (2, 2));
}

static BREAKER: CircuitBreaker = CircuitBreaker::new("sync-only").with_failures(2);
static BUDGET: RetryBudget = RetryBudget::new("sync-only");

#[test]
fn the_breaker_and_the_budget_work_without_an_async_runtime() {
    CALLS.with(|c| c.set(0));
    let _paused = testing::pause();
    let policy = Policy::new()
        .with_attempts(5)
        .with_circuit(&BREAKER)
        .with_budget(&BUDGET);
    let e = policy
        .retry(|| down_until(100))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (2, StopReason::CircuitOpen));
    // open: the next call is rejected without being made
    let before = CALLS.with(Cell::get);
    assert_eq!(policy.retry(|| down_until(1)).call(), Err(Fail::Open));
    assert_eq!(CALLS.with(Cell::get), before);
    assert!(BUDGET.stats().first_attempts >= 1);
}

/// Async `#[retry]` with no runtime feature does not compile, and the error
/// names the features to turn on.
#[test]
fn async_retry_without_a_runtime_feature_names_the_features() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
