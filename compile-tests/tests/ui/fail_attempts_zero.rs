use retry_runtime::retry;

#[retry(attempts = 0)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
