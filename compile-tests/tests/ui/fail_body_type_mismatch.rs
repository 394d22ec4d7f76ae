use retry_runtime::retry;

// The body is checked against the declared return type, as without the
// attribute: a type error in it is reported on the body's tokens, with the
// return type as the reason.
#[retry(attempts = 3)]
fn count(s: &str) -> Result<u32, String> {
    Ok(s.len())
}

#[retry(attempts = 3)]
async fn count_async(s: &str) -> Result<u32, String> {
    let n = s.len();
    Ok(n)
}

fn main() {}
