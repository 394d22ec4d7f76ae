use retry_runtime::retry;

// Decorrelated jitter draws between the first wait and the cap: a fixed
// backoff (or one that starts at its cap) leaves nothing to randomize.
#[retry(backoff = "fixed(1s)", jitter = "decorrelated")]
fn fixed() -> Result<(), String> {
    Ok(())
}

#[retry(backoff = "exp(2s, 2s)", jitter = "decorrelated")]
fn starts_at_cap() -> Result<(), String> {
    Ok(())
}

// a backoff that grows: accepted
#[retry(backoff = "exp(1s, 8s)", jitter = "decorrelated")]
fn grows() -> Result<(), String> {
    Ok(())
}

fn main() {}
