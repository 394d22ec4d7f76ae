use retry_runtime::{retry, CircuitBreaker, Policy};
use std::io;

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");
const QUICK: Policy = Policy::new().with_max_attempts(2);

// `policy = ..` takes a `Policy` (or a reference to one, through an `Arc`
// or a `LazyLock` too): anything else is reported on the expression, as
// not a `Policy`, not as a method of the expansion missing on it.

// a breaker, which goes in `circuit = ..`
#[retry(policy = UPSTREAM)]
fn breaker() -> io::Result<u32> {
    Ok(1)
}

// a preset's name, which goes in `preset = ".."`
#[retry(policy = "api")]
async fn preset_name() -> io::Result<u32> {
    Ok(1)
}

// an `Option`, with other keys after it
#[retry(policy = Some(QUICK), attempts = 3)]
fn optional() -> io::Result<u32> {
    Ok(1)
}

fn main() {}
