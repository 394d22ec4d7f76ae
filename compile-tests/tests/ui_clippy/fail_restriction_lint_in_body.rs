// The user's own code in a `#[retry]` body is still linted: the expansion's
// `#[allow]`s (here `clippy::shadow_reuse` on the clone of `body`) sit on
// the generated statements, not on the body. Restriction lints, sync and
// async.
#![deny(clippy::unwrap_used, clippy::shadow_reuse)]

use retry_runtime::retry;

#[retry(attempts = 2, backoff = "none", clone = body)]
fn send(body: String) -> Result<usize, String> {
    let body = body.trim().to_owned();
    let n: usize = body.parse().unwrap();
    Ok(n)
}

#[retry(attempts = 2, backoff = "none")]
async fn fetch(key: &str) -> Result<usize, String> {
    tokio::task::yield_now().await;
    Ok(key.parse::<usize>().ok().unwrap())
}

fn main() {
    drop(send(String::new()));
    drop(fetch(""));
}
