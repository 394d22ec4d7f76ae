use retry_runtime::retry;

#[retry(backoff = "exp(1s, 4s, x0.5)")]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
