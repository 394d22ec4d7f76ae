use retry_runtime::retry;

async fn consume(body: String) -> Result<usize, String> {
    Ok(body.len())
}

// An async body that is one awaited call moves `body` into the first
// attempt's future, and the next attempt needs it again: the compiler
// names it, in the body; the fix is `clone = body`.
#[retry(attempts = 3)]
async fn send(body: String) -> Result<usize, String> {
    consume(body).await
}

// A body of more than one statement runs in an `async` block of its own
// each attempt: the move is reported in the body too, not on the attribute.
#[retry(attempts = 3)]
async fn send_counted(body: String) -> Result<usize, String> {
    let n = consume(body).await?;
    Ok(n)
}

struct Request {
    body: String,
}

impl Request {
    // (and so is a receiver taken by value)
    #[retry(attempts = 3)]
    async fn send_boxed(self: Box<Self>) -> Result<usize, String> {
        let request = *self;
        let n = consume(request.body).await?;
        Ok(n)
    }
}

fn main() {}
