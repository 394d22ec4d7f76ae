use retry_runtime::retry;

// `nested` is "defer" or "retry": a near miss is named.
#[retry(nested = "retries")]
fn save() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
