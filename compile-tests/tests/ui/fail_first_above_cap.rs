use retry_runtime::retry;

#[retry(backoff = "exp(10s, 4s)")]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
