// #[retry] on a method an `#[async_trait]` trait declares without a body:
// the error is at the #[retry] attribute (async-trait points the methods it
// rewrites at its own attribute), and says that a default method with a
// body takes it.
use async_trait::async_trait;
use retry_runtime::retry;

#[async_trait]
pub trait DynRepo: Send + Sync {
    #[retry(attempts = 3)]
    async fn get(&self, id: u64) -> Result<u64, String>;

    // (a default method with a body: fine)
    #[retry(attempts = 3)]
    async fn get_twice(&self, id: u64) -> Result<u64, String> {
        Ok(id * 2)
    }
}

fn main() {}
