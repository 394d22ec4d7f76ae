use retry_runtime::retry;

#[retry(attempt_spans = true, attempts = 3, attempt_spans = false)]
async fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
