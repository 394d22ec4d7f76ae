use retry_runtime::retry;

#[retry(clone = bdy)]
fn send(body: String) -> Result<usize, String> {
    Ok(body.len())
}

// a misspelled name for a `mut` parameter: one error, not a second one
// saying that `body` is not named in `clone`
#[retry(clone = bdy)]
fn send_mut(mut body: String) -> Result<usize, String> {
    body.push('!');
    Ok(body.len())
}

fn main() {}
