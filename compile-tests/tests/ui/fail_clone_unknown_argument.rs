use retry_runtime::retry;

#[retry(clone = bdy)]
fn send(body: String) -> Result<usize, String> {
    Ok(body.len())
}

fn main() {}
