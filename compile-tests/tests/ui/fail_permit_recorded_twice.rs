// A circuit breaker's `Permit` is neither `Clone` nor `Copy`: `record`
// takes it by value, so one call cannot be recorded twice (a probe
// recorded as two successes would close a breaker of two probes after
// one call).
use retry_runtime::circuit::{CircuitBreaker, Outcome};

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_probes(2);

fn main() {
    let permit = UPSTREAM.try_acquire().unwrap();
    UPSTREAM.record(permit, Outcome::Success);
    UPSTREAM.record(permit, Outcome::Success);
}
