// A body whose last expression borrows a clone (`clone = state`) through a
// temporary (`state.lock().unwrap().sent`, a `MutexGuard`): the attempt
// binds the body's value before its clones go, so the temporary is dropped
// first, as in the function without the attribute. Before Rust 2024 (this
// crate's edition is 2021) the temporary lived to the end of the attempt's
// block, past the clone: E0597 "`state` does not live long enough".
#![deny(warnings)]

use std::sync::{Arc, Mutex};
use retry_runtime::retry;

struct State { sent: u32 }

#[retry(attempts = 3, backoff = "none", clone = state)]
fn sent(state: Arc<Mutex<State>>) -> Result<u32, std::io::Error> {
    Ok(state.lock().unwrap().sent)
}

#[retry(attempts = 3, backoff = "none", clone = state)]
async fn sent_async(state: Arc<Mutex<State>>) -> Result<u32, std::io::Error> {
    Ok(state.lock().unwrap().sent)
}

fn main() {
    let s = Arc::new(Mutex::new(State { sent: 2 }));
    assert_eq!(sent(s.clone()).unwrap(), 2);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert_eq!(rt.block_on(sent_async(s)).unwrap(), 2);
}
