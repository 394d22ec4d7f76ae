use retry_runtime::retry;

#[retry(jitter = "fuel")]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
