use retry_runtime::{retry, Throttle};

static SEARCH: Throttle = Throttle::new("search");

#[derive(Debug)]
struct ApiError;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("api error")
    }
}

// A throttle rejects before calling: the error type must be able to say so.
#[retry(throttle = SEARCH)]
fn search() -> Result<u32, ApiError> {
    Err(ApiError)
}

fn main() {}
