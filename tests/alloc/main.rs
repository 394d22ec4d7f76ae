//! No heap allocation on the success path, per retry, or in the breaker and
//! budget, with no tracing subscriber installed. The counting allocator
//! counts per thread, so the tests may run in parallel. The root package
//! builds retry-runtime with its `metrics` feature: with no recorder
//! installed, the metrics allocate nothing either, not even at an
//! operation's first call.

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

mod guards;
mod metrics;
mod reqwest_middleware;
mod retries;
