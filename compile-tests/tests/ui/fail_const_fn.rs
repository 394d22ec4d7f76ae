use retry_runtime::retry;

#[retry(attempts = 3)]
const fn f() -> Result<(), u8> {
    Ok(())
}

fn main() {}
