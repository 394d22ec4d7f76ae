// `#[retry]` below `#[tracing::instrument]` on a function that is not an
// `#[async_trait]` method: handed the body `instrument` wrote, each attempt
// would make a span of its own, and would move the arguments instrument's
// `async move` block or `move` closure takes ("use of moved value",
// "cannot move out of `name`, a captured variable in an `FnMut` closure").
// Refused at the #[retry] attribute with the order to write, async or sync,
// `err`, `ret` or neither, `Copy` arguments only or not; the function is
// left as `instrument` wrote it, so nothing else is reported.
use retry_runtime::retry;
use tracing::instrument;

struct Pg;

impl Pg {
    #[tracing::instrument(skip(self))]
    #[retry(attempts = 2, backoff = "none")]
    async fn rename(&self, id: u64, name: String) -> Result<(u64, String), String> {
        Ok((id, name))
    }

    // (only `Copy` arguments: this one would compile, its attempts each in
    // a span of their own, the retry's log lines outside them)
    #[tracing::instrument(skip(self), err)]
    #[retry(attempts = 2, backoff = "none")]
    async fn get(&self, id: u64) -> Result<u64, String> {
        Err(id.to_string())
    }

    #[tracing::instrument(skip(self), err)]
    #[retry(attempts = 2, backoff = "none")]
    fn rename_sync(&self, id: u64, name: String) -> Result<(u64, String), String> {
        Ok((id, name))
    }

    #[instrument(skip(self))]
    #[retry(attempts = 2, backoff = "none")]
    fn get_sync(&self, id: u64) -> Result<u64, String> {
        Err(id.to_string())
    }
}

#[instrument(ret, err)]
#[retry(attempts = 2, backoff = "none")]
fn load(key: String) -> Result<usize, String> {
    Ok(key.len())
}

fn main() {}
