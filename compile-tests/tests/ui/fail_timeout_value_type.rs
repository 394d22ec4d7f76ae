use retry_runtime::retry;

struct Client {
    timeout_secs: u64,
}

impl Client {
    // a value of `timeout` is a `Duration` or an `Option<Duration>`
    #[retry(attempts = 2, timeout = self.timeout_secs)]
    async fn fetch(&self) -> Result<u32, std::io::Error> {
        Ok(1)
    }
}

// and, like a literal, needs an `async fn`
#[retry(attempts = 2, timeout = std::time::Duration::from_secs(1))]
fn fetch_sync() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {
    let _ = Client { timeout_secs: 1 }.fetch();
    let _ = fetch_sync();
}
