use retry_runtime::retry;

// Each argument's mistake is reported, not just the first.
#[retry(backoff = "exp(1sec, 4secs, x0.5)")]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
