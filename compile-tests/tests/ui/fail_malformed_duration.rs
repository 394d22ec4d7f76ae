use retry_runtime::retry;

#[retry(backoff = "fixed(5 secs)")]
fn f() -> Result<(), String> {
    Ok(())
}

#[retry(max_elapsed = "2")]
fn g() -> Result<(), String> {
    Ok(())
}

fn main() {}
