use retry_runtime::retry;

fn transient(_: &std::io::Error) -> bool {
    true
}

#[retry(retry_on = Timeout, retry_if = transient)]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
