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

fn main() {}
