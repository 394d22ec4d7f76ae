// A trait's default method that promises `+ Send` and builds its future
// (`-> impl Future<..> + Send { async move { .. } }`): refused as any built
// future, and the message says why not an `async fn` here (it would drop
// the `+ Send` promise, and rustc's help would send the user back): keep
// the signature and retry inside with the functional form.
use std::future::Future;

use retry_runtime::retry;

pub trait Repo: Sync {
    fn get_user(&self, id: u64) -> impl Future<Output = Result<String, std::io::Error>> + Send;

    #[retry(preset = "db", name = "repo.get_two")]
    fn get_two(
        &self,
        a: u64,
        b: u64,
    ) -> impl Future<Output = Result<(String, String), std::io::Error>> + Send {
        async move { Ok((self.get_user(a).await?, self.get_user(b).await?)) }
    }
}

fn main() {}
