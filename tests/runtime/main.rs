//! The runtime's behaviour through its public API, one module per subject:
//! policies and their stop rules, classification, hooks and log lines,
//! Retry-After, concurrency, cancellation, panics, bad configuration, and the
//! size of the retry futures; and docs/project.md's list of the source files
//! (`project_layout`).

use retry_runtime::circuit::{CircuitBreaker, ManualClock};
use retry_runtime::{Policy, RetryAll, WithCircuit};

/// A breaker named `name` that opens on one failure and lets a probe through
/// 30s later, on its own manual clock (leaked: `with_clock` wants `'static`),
/// and a one-attempt policy guarded by it.
fn one_strike_breaker(
    name: &'static str,
) -> (
    &'static CircuitBreaker,
    &'static ManualClock,
    Policy<RetryAll, WithCircuit>,
) {
    let clock: &'static ManualClock = Box::leak(Box::new(ManualClock::new()));
    let breaker: &'static CircuitBreaker = Box::leak(Box::new(
        CircuitBreaker::new(name)
            .with_failures(1)
            .with_recovery(std::time::Duration::from_secs(30))
            .with_clock(clock),
    ));
    (
        breaker,
        clock,
        Policy::new().with_max_attempts(1).with_circuit(breaker),
    )
}

mod auto_traits;
mod bad_config;
mod batch_breaker;
mod boxed_errors;
mod cancellation;
mod concurrency;
mod config_file;
mod context;
mod cooldown;
mod debug;
mod docs_as_read;
mod edge_values;
mod errors;
mod failover;
mod from_backon;
mod future_size;
mod fuzz_regressions;
mod hedge;
mod hinted;
mod hooks;
mod log_calls;
mod log_fields;
mod log_target;
mod log_why;
mod mixed_runtimes;
mod nested;
mod nested_pools;
mod notify_error;
mod own_condition;
mod panics;
mod parse;
mod pause;
mod poll_paths;
mod presets;
mod progress;
mod project_layout;
mod readme_links;
mod retry_after;
mod retry_if_ok;
mod send;
mod shutdown;
mod stop;
mod widen;
mod zero_wait;
