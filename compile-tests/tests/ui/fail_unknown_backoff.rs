use retry_runtime::retry;

#[retry(backoff = "expo(1s, 4s)")]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
