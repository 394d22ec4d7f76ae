use retry_runtime::retry;

// `clone = []` clones nothing: reported on the key.
#[retry(clone = [])]
fn send(body: String) -> Result<usize, String> {
    Ok(body.len())
}

fn main() {}
