use retry_runtime::retry;

// Arguments separated as in some configuration formats: the message writes
// the fix.
#[retry(backoff = "exp(1s; 4s)")]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
