// `#[retry]` above `#[tracing::instrument]`, the order docs/attribute.md
// asks for: the loop is written first, and `instrument` runs the whole
// call in one span. Compiles with a by-value `String` argument, async or
// sync, with `err`, `ret`, both or neither (what the refusal of the other
// order leaves alone).
use retry_runtime::retry;
use tracing::instrument;

struct Pg;

impl Pg {
    #[retry(attempts = 2, backoff = "none")]
    #[tracing::instrument(skip(self))]
    async fn rename(&self, id: u64, name: String) -> Result<(u64, String), String> {
        Ok((id, name.clone()))
    }

    #[retry(attempts = 2, backoff = "none")]
    #[tracing::instrument(skip(self), err)]
    async fn get(&self, id: u64) -> Result<u64, String> {
        Err(id.to_string())
    }

    #[retry(attempts = 2, backoff = "none")]
    #[tracing::instrument(skip(self), err)]
    fn rename_sync(&self, id: u64, name: String) -> Result<(u64, String), String> {
        Ok((id, name.clone()))
    }

    #[retry(attempts = 2, backoff = "none")]
    #[instrument(skip(self))]
    fn get_sync(&self, id: u64) -> Result<u64, String> {
        Err(id.to_string())
    }
}

#[retry(attempts = 2, backoff = "none")]
#[instrument(ret, err)]
fn load(key: String) -> Result<usize, String> {
    Ok(key.len())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let pg = Pg;
    assert_eq!(pg.rename(1, "a".into()).await, Ok((1, "a".to_string())));
    assert!(pg.get(2).await.is_err());
    assert_eq!(pg.rename_sync(3, "b".into()), Ok((3, "b".to_string())));
    assert!(pg.get_sync(4).is_err());
    assert_eq!(load("abc".into()), Ok(3));
}
