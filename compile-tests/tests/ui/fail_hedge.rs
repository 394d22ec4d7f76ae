use async_trait::async_trait;
use retry_runtime::retry;

// A blocking call cannot be hedged.
#[retry(hedge = "150ms")]
fn read_sync() -> Result<u32, std::io::Error> {
    Ok(1)
}

// Zero would start every attempt at once.
#[retry(hedge = "0ms")]
async fn read_zero() -> Result<u32, std::io::Error> {
    Ok(1)
}

// No hedge could start before the deadline.
#[retry(max_elapsed = "1s", hedge = "2s")]
async fn read_late() -> Result<u32, std::io::Error> {
    Ok(1)
}

// Each attempt times out before a hedge could start beside it (reported on
// the later of the two keys).
#[retry(hedge = "500ms", timeout = "200ms")]
async fn read_timed_out() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[retry(timeout = "200ms", hedge = "200ms")]
async fn read_equal() -> Result<u32, std::io::Error> {
    Ok(1)
}

// At most `attempts` run at once: with one, no hedge could start.
#[retry(attempts = 1, hedge = "150ms")]
async fn read_once() -> Result<u32, std::io::Error> {
    Ok(1)
}

// A hedged call keeps the first success: a result `retry_if_ok` rejects
// could not be told apart from one a hedge would replace.
fn is_empty(v: &Vec<u32>) -> bool {
    v.is_empty()
}

#[retry(hedge = "150ms", retry_if_ok = is_empty)]
async fn read_until_full() -> Result<Vec<u32>, std::io::Error> {
    Ok(vec![1])
}

// `#[async_trait]` has already turned the method into one that returns a
// boxed future when `#[retry]` sees it: its attempts cannot be started side
// by side.
#[async_trait]
trait Store {
    async fn get(&self) -> Result<u32, std::io::Error>;
}

struct S;

#[async_trait]
impl Store for S {
    #[retry(hedge = "150ms")]
    async fn get(&self) -> Result<u32, std::io::Error> {
        Ok(1)
    }
}

fn main() {}
