// A `mut` parameter named in `clone`: each attempt changes its own copy,
// and the expansion adds no warning (`unused_mut` on the signature).
#![deny(warnings)]

use retry_runtime::retry;

#[retry(attempts = 3, backoff = "none", clone = body)]
fn send(mut body: Vec<u8>) -> Result<usize, usize> {
    let payload = std::mem::take(&mut body);
    body.push(1);
    Err(payload.len())
}

#[retry(attempts = 3, backoff = "none", clone = body)]
async fn send_async(mut body: Vec<u8>) -> Result<usize, usize> {
    let payload = std::mem::take(&mut body);
    Err(payload.len())
}

fn main() {
    let _paused = retry_runtime::testing::pause();
    assert_eq!(send(vec![1, 2, 3]), Err(3));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(send_async(vec![1, 2, 3])), Err(3));
}
