use retry_runtime::retry;

#[retry(attempts = 3, backoff = "none", attempts = 4)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
