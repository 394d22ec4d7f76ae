use retry_runtime::retry;

#[retry(atempts = 3)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
