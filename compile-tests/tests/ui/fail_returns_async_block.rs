// A sync function that returns the future its `async` block builds: an
// attempt would only build the future, not run it. Written as an
// `async fn`, it is retried.
use std::future::Future;
use std::pin::Pin;

use retry_runtime::retry;

async fn fetch(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

#[retry(attempts = 3)]
fn load(id: u32) -> impl Future<Output = Result<u32, std::io::Error>> {
    async move {
        let n = fetch(id).await?;
        Ok(n + 1)
    }
}

#[retry(attempts = 3)]
fn load_logged(id: u32) -> impl Future<Output = Result<u32, std::io::Error>> + Send {
    println!("loading {id}");
    async move { fetch(id).await }
}

// (a future made elsewhere: the return type says it)
#[retry(attempts = 3)]
fn load_elsewhere(id: u32) -> impl Future<Output = Result<u32, std::io::Error>> {
    fetch(id)
}

// (a boxed future made by a call: the return type says it)
#[retry(attempts = 3)]
fn load_boxed(id: u32) -> Pin<Box<dyn Future<Output = Result<u32, std::io::Error>> + Send>> {
    Box::pin(fetch(id))
}

fn main() {}
