// A `timeout` races the attempt on the same missing timer: still one error
// per function (there were two, the second at the `timeout` key).
use retry_runtime::retry;

#[retry(attempts = 2, backoff = "fixed(1s)", timeout = "5s")]
async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
