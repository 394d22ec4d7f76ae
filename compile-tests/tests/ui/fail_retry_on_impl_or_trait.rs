// #[retry] on an `impl` block or a trait, not on its methods: said so at
// the attribute, with where it goes (not "can only be applied to a function
// with a body: .. a method in an `impl` block", which it is on).
use async_trait::async_trait;
use retry_runtime::retry;

struct Pg;

#[retry(attempts = 3)]
impl Pg {
    async fn get(&self, id: u64) -> Result<u64, String> {
        Err(id.to_string())
    }
}

#[async_trait]
trait DynRepo: Send + Sync {
    async fn get(&self, id: u64) -> Result<u64, String>;
}

#[retry(attempts = 3)]
#[async_trait]
impl DynRepo for Pg {
    async fn get(&self, id: u64) -> Result<u64, String> {
        Err(id.to_string())
    }
}

#[retry(attempts = 3)]
pub trait Repo {
    async fn get(&self, id: u64) -> Result<u64, String>;
}

fn main() {}
