use retry_runtime::retry;

#[retry(attempts = 3)]
#[retry(attempts = 4)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
