use retry_runtime::Policy;

async fn fetch(url: &str) -> Result<usize, std::io::Error> {
    Ok(url.len())
}

// An `async move` closure's future borrows what the closure owns: no
// `FnMut`, not an `Op` (docs/migrating.md, `AsyncRetrying`).
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = String::from("http://127.0.0.1/file");
    let _ = Policy::new().retry(async move || fetch(&url).await).await;
}
