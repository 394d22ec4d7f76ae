use retry_runtime::retry;

#[retry(attempts = 3, attempt_span = true)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
