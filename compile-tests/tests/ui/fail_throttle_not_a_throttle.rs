use retry_runtime::{retry, CircuitBreaker};

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");

// `throttle` names a breaker: reported on the name.
#[retry(throttle = UPSTREAM)]
fn search() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {}
