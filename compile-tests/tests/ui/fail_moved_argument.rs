use retry_runtime::retry;

fn consume(body: String) -> Result<usize, String> {
    Ok(body.len())
}

// The body moves `body`, which the next attempt needs again: the compiler
// names it; the fix is `clone = body`.
#[retry(attempts = 3)]
fn send(body: String) -> Result<usize, String> {
    consume(body)
}

fn main() {}
