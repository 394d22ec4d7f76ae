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
