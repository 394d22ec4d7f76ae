#![deny(dead_code)]
use retry_runtime::retry;

#[retry(attempts = 3)]
fn never_called() -> Result<(), String> {
    Ok(())
}

fn main() {}
