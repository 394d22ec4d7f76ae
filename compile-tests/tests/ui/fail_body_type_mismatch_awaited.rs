use retry_runtime::{retry, Backoff, Policy};
use std::io;

async fn fetch_name(id: u32) -> io::Result<String> {
    Ok(id.to_string())
}

const QUICK: Policy = Policy::new().with_backoff(Backoff::None);

// An async body that is one awaited expression, which the loop awaits
// itself (no `async` block of its own pins its type): a future of the
// wrong output type is reported on the body's expression, as a body of
// more statements is, not on the attribute.
#[retry(attempts = 3)]
async fn count(id: u32) -> io::Result<u32> {
    fetch_name(id).await
}

// The same with the user's policy, and in parentheses.
#[retry(policy = QUICK)]
async fn count_either(id: u32) -> io::Result<u32> {
    (if id > 3 { fetch_name(id) } else { fetch_name(0) }).await
}

// With a per-attempt timeout.
#[retry(attempts = 3, timeout = "1s")]
async fn count_in_time(id: u32) -> io::Result<u32> {
    fetch_name(id).await
}

fn main() {}
