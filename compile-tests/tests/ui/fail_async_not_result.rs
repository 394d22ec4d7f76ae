use retry_runtime::retry;

// The async loop asks the policy's breaker or throttle before each attempt
// and returns the rejection as the function's return type: one that is
// not a `Result` is told so once, on it (not first as mismatched types on
// the attribute).
#[retry(attempts = 2)]
pub async fn opt(x: u32) -> Option<u32> {
    Some(x)
}

fn main() {}
