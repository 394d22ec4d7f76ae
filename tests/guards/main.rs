//! The circuit breaker, the retry budget and the adaptive throttle: their
//! state machines, their effect on retries (`*_in_retries`), simulated
//! outages and overload (`*_simulation`, `outage`), stress from many
//! threads, and several guards on one policy (`guards_together`).

/// `assert_stats!(of; field: value, ...)`: the named fields of
/// `of.stats()` (a breaker's or a budget's), compared at once; the whole
/// snapshot is shown when they differ.
macro_rules! assert_stats {
    ($of:expr; $($field:ident: $value:expr),+ $(,)?) => {{
        let st = $of.stats();
        assert_eq!(($(st.$field,)+), ($($value,)+), "{st:?}");
    }};
}

/// A value for the test's whole run (the guards take `&'static`).
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// Runs `check` on `cases` values of `strategy` (`{NAME}_MODEL_CASES`
/// overrides it) from a fixed seed, so that CI sees the same cases each
/// run; `{NAME}_MODEL_SEED=random` explores further. A failure panics with
/// the shrunk case.
fn model_check<S: proptest::strategy::Strategy>(
    name: &str,
    cases: u32,
    strategy: &S,
    check: impl Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
) {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let var = |what: &str| std::env::var(format!("{name}_MODEL_{what}")).ok();
    let cases = var("CASES").and_then(|n| n.parse().ok()).unwrap_or(cases);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = match var("SEED").as_deref() {
        Some("random") => TestRunner::new(config),
        _ => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    };
    if let Err(e) = runner.run(strategy, check) {
        panic!("{e}");
    }
}

mod breaker_in_retries;
mod breaker_model;
mod breaker_simulation;
mod breaker_state;
mod breaker_stress;
mod budget_in_retries;
mod budget_simulation;
mod guards_together;
mod outage;
mod throttle_in_retries;
mod throttle_model;
mod throttle_simulation;
mod upstream;
