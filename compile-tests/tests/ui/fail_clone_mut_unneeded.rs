#![deny(unused_mut)]
use retry_runtime::retry;

// A `mut` argument named in `clone` that no attempt changes is told that it
// does not need to be mutable, on its `mut`, as it would be without the
// attribute: the clone's `mut` is the user's, with no `#[allow]` on it.
#[retry(attempts = 2, clone = body)]
fn send(mut body: String) -> Result<usize, String> {
    Ok(body.len())
}

#[retry(attempts = 2, clone = body)]
async fn send_async(mut body: String) -> Result<usize, String> {
    Ok(body.len())
}

fn main() {
    let _ = send(String::new());
    let _ = send_async(String::new());
}
