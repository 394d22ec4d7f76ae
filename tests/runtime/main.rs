//! The runtime's behaviour through its public API, one module per subject:
//! policies and their stop rules, classification, hooks and log lines,
//! Retry-After, concurrency, cancellation, panics, bad configuration, and the
//! size of the retry futures.

mod bad_config;
mod cancellation;
mod clip;
mod concurrency;
mod edge_values;
mod errors;
mod future_size;
mod fuzz_regressions;
mod hooks;
mod panics;
mod presets;
mod retry_after;
mod send;
mod stop;
mod zero_wait;
