// A policy with a breaker cannot be typed as one without (`widen` goes one
// way): a `Policy<_, NoCircuit>` runs without asking any breaker, so the
// breaker would be skipped before each attempt. The call says which
// widening is possible.
use retry_runtime::{presets, CircuitBreaker, NoCircuit, Policy, RetryOn};

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");

fn main() {
    let guarded = presets::API.with_circuit(&UPSTREAM);
    let _plain: Policy<RetryOn, NoCircuit> = guarded.widen();
}
