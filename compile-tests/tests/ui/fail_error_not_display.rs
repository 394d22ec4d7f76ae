use retry_runtime::retry;

// Each failure is logged with the error's `Display`: an error type without
// it is reported on the error type, saying so. (A sync function's loop, in
// the runtime, needs it too, and says so again on the attribute.)
#[derive(Debug)]
struct FetchError;

#[retry(attempts = 3)]
fn fetch(id: u32) -> Result<u32, FetchError> {
    if id == 0 {
        return Err(FetchError);
    }
    Ok(id)
}

#[retry(attempts = 3)]
async fn fetch_async(id: u32) -> Result<u32, FetchError> {
    if id == 0 {
        return Err(FetchError);
    }
    Ok(id)
}

fn main() {}
