// Built by tests/sync.rs with incremental compilation on, as `cargo build`
// and `cargo check` of a user's crate are: each async `#[retry]` below gets
// one "needs an async timer" error, whatever its keys and shape.
use retry_runtime::{Attempt, retry};

async fn call() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[retry(attempts = 2, backoff = "fixed(1s)")]
async fn plain() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[retry(attempts = 2, backoff = "fixed(1s)")]
async fn one_awaited_call() -> Result<u32, std::io::Error> {
    call().await
}

#[retry(attempts = 2, backoff = "fixed(1s)", timeout = "5s")]
async fn timed(#[attempt] attempt: Attempt) -> Result<u32, std::io::Error> {
    Ok(attempt.number)
}

#[retry(attempts = 2, backoff = "fixed(1s)", hedge = "100ms", timeout = "5s")]
async fn hedged() -> Result<u32, std::io::Error> {
    Ok(1)
}

struct Client;

impl Client {
    #[retry(attempts = 2, backoff = "fixed(1s)", timeout = "5s")]
    async fn method(&mut self, out: &mut Vec<u32>) -> Result<u32, std::io::Error> {
        out.push(1);
        Ok(1)
    }
}

fn main() {
    let _ = (plain(), one_awaited_call(), timed(), hedged());
    let _ = Client.method(&mut Vec::new());
}
