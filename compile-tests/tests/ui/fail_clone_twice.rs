use retry_runtime::retry;

// An argument `clone` names twice is reported on its second occurrence.
#[retry(clone = [body, tags, body])]
fn send(body: String, tags: Vec<String>) -> Result<usize, String> {
    Ok(body.len() + tags.len())
}

fn main() {}
