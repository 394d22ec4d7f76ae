// A body that can end its attempt early (here with `?`) runs in its own
// `async` block, which borrows the arguments (so `&mut self` and `&mut T` work
// across attempts); a by-value argument that is `Send` but not `Sync` is
// therefore borrowed across an await, and the future is not `Send`. Take it
// by `&mut` or wrap it in a `Mutex` to spawn the call. (docs/attribute.md: "Arguments
// and attempts")
use retry_runtime::retry;
use std::cell::Cell;

#[retry(attempts = 3, backoff = "none")]
async fn count(counter: Cell<u32>) -> Result<u32, String> {
    tokio::task::yield_now().await;
    let n = checked(counter.get())?;
    Ok(n)
}

fn checked(n: u32) -> Result<u32, String> {
    Ok(n)
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    assert_send(count(Cell::new(0)));
}
