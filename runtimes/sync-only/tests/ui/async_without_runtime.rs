use retry_runtime::retry;

#[retry(attempts = 2, backoff = "fixed(1s)")]
async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {
    let _ = fetch();
}
