// `.await` on a retry whose policy has a breaker and whose error type lacks
// `From<CircuitOpen>` gets rustc's "is not a future" ("remove the
// `.await`"); `.hedged().await` for a moment makes rustc name the bound.
// docs/breaker-and-budget.md shows both: pinned here so that it stays true.
use retry_runtime::{presets, CircuitBreaker};

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");

#[derive(Debug)]
struct ApiError;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("api error")
    }
}

impl retry_runtime::Classify for ApiError {
    fn kind(&self) -> retry_runtime::ErrorKind {
        retry_runtime::ErrorKind::Unavailable
    }
}

async fn awaited() -> Result<u32, ApiError> {
    let policy = presets::API.with_circuit(&UPSTREAM);
    policy.retry(|| async { Err::<u32, _>(ApiError) }).await
}

async fn hedged() -> Result<u32, ApiError> {
    let policy = presets::API.with_circuit(&UPSTREAM);
    policy.retry(|| async { Err::<u32, _>(ApiError) }).hedged().await
}

fn main() {
    let _ = (awaited(), hedged());
}
