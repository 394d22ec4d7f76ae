use retry_runtime::Policy;

async fn fetch_from(offset: u64) -> Result<u64, std::io::Error> {
    Ok(offset + 1)
}

// An async closure that changes what it captures is no `FnMut` (its future
// borrows the closure): not an `Op`. docs/migrating.md, `AsyncRetrying`,
// says what to write instead.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut offset = 0u64;
    let _ = Policy::new()
        .retry(async || {
            offset = fetch_from(offset).await?;
            Ok::<_, std::io::Error>(offset)
        })
        .await;
}
