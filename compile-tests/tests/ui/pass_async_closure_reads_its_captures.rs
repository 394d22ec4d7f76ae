use retry_runtime::Policy;

async fn fetch(url: &str) -> Result<usize, std::io::Error> {
    Ok(url.len())
}

// An async closure that only reads what it captures is an `Op`
// (docs/migrating.md, `AsyncRetrying`).
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = String::from("http://127.0.0.1/file");
    let got = Policy::new().retry(async || fetch(&url).await).await;
    assert_eq!(got.unwrap(), 21);
}
