// A hand-written function that returns a boxed future is not a method
// `#[async_trait]` rewrote: its body only builds the future, so there is
// nothing for `#[retry]` to retry. (Its `let`s are the user's, not
// async-trait's rebinds of the arguments.)
use std::future::Future;
use std::pin::Pin;

use retry_runtime::retry;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

struct Service;

impl Service {
    fn hit(&self) -> Result<u32, String> {
        Ok(1)
    }

    #[retry(attempts = 3)]
    fn first(&self) -> BoxFuture<'_, Result<u32, String>> {
        Box::pin(async move {
            let n = self.hit();
            let r = n;
            r
        })
    }

    #[retry(attempts = 3)]
    fn shifted(&self, key: u32) -> BoxFuture<'_, Result<u32, String>> {
        Box::pin(async move {
            let key = key + 1;
            let k = key;
            Ok(self.hit()? + k)
        })
    }

    #[retry(attempts = 3)]
    fn counted(&self, y: u32) -> BoxFuture<'_, Result<u32, String>> {
        Box::pin(async move {
            let mut x = y;
            x += self.hit()?;
            Ok(x)
        })
    }
}

fn main() {}
