use retry_runtime::retry;

#[retry(preset = "webhok")]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
