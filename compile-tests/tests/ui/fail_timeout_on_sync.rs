use retry_runtime::retry;

#[retry(timeout = "10s")]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
