use retry_runtime::{retry, CircuitBreaker};

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");

#[derive(Debug)]
struct ApiError;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("api error")
    }
}

// An open breaker rejects before calling: the error type must be able to say so.
#[retry(circuit = UPSTREAM)]
fn get_user() -> Result<u32, ApiError> {
    Err(ApiError)
}

fn main() {}
