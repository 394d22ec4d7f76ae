use retry_runtime::retry;

async fn consume(body: String) -> Result<usize, String> {
    Ok(body.len())
}

// An async body that is one awaited call moves `body` into the first
// attempt's future, and the next attempt needs it again: the compiler
// names it, in the body; the fix is `clone = body`.
#[retry(attempts = 3)]
async fn send(body: String) -> Result<usize, String> {
    consume(body).await
}

fn main() {}
