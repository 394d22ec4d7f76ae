// `#[async_trait]` on the impl has already rewritten the method when
// `#[retry]` sees it: the `#[attempt]` parameter is one of the arguments its
// boxed future rebinds, which callers would have to pass. Refused with what
// to do instead (not "cannot retry a function that returns the future it
// builds", nor an unknown `a`); the method is left as async-trait wrote it,
// so rustc adds that it has a parameter more than the trait, as the message
// says.
use async_trait::async_trait;
use retry_runtime::{retry, Attempt};

#[async_trait]
trait Repo {
    async fn load(&self, id: u32) -> Result<u32, std::io::Error>;
}

struct R;

#[async_trait]
impl Repo for R {
    #[retry(attempts = 3)]
    async fn load(&self, id: u32, #[attempt] a: Attempt) -> Result<u32, std::io::Error> {
        Ok(id + a.number)
    }
}

// `mut`: the same one error, not also "add `clone = a`"
#[async_trait]
trait Counter {
    async fn count(&self) -> Result<u32, std::io::Error>;
}

#[async_trait]
impl Counter for R {
    #[retry(attempts = 3)]
    async fn count(&self, #[attempt] mut a: Attempt) -> Result<u32, std::io::Error> {
        a.number += 1;
        Ok(a.number)
    }
}

fn main() {}
