use retry_runtime::retry;

#[retry(attempts = 3, attempt_spans)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
