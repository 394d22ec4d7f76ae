use retry_runtime::retry;

struct Payload;

fn consume(_: Payload) -> Result<(), String> {
    Ok(())
}

#[retry(attempts = 3, clone = body)]
fn send(body: Payload) -> Result<(), String> {
    consume(body)
}

fn main() {}
