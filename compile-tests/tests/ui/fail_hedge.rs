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

fn main() {}
