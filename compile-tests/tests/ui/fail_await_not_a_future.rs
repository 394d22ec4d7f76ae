use retry_runtime::retry;

fn lookup(id: u32) -> Result<u32, String> {
    Ok(id)
}

// Awaiting what is not a future is reported on the user's tokens: on the
// expression (rustc's own message), on its `.await` (the attempt's future
// the loop awaits), and on both (the awaited value, of the return type).
// The body is one awaited expression, whose future the loop makes itself.
#[retry(attempts = 3)]
async fn find(id: u32) -> Result<u32, String> {
    lookup(id).await
}

fn main() {}
