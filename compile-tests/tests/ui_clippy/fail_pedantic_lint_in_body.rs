// The user's own code in a `#[retry]` body is still linted: the expansion's
// `#[allow]`s (here `clippy::needless_pass_by_value` on a sync function
// with `clone`) name one lint each, not the group. A pedantic lint, sync
// and async.
#![deny(clippy::pedantic)]

use retry_runtime::retry;

#[retry(attempts = 2, backoff = "none", clone = body)]
fn send(body: Vec<u8>, len: u64) -> Result<u8, String> {
    let short = len as u8;
    Ok(body.into_iter().fold(short, u8::wrapping_add))
}

#[retry(attempts = 2, backoff = "none")]
async fn fetch(len: u64) -> Result<u32, String> {
    tokio::task::yield_now().await;
    Ok(len as u32)
}

fn main() {
    drop(send(Vec::new(), 0));
    drop(fetch(0));
}
