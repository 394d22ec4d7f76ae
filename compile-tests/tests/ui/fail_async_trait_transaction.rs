// `#[async_trait]` writes `mut tx` as `tx` in the signature and
// `let mut tx = tx;` in its block: the transaction advice, once (not the
// generic advice for a `mut` parameter beside it); and a transaction
// taken by value without `mut` gets it too.
use async_trait::async_trait;
use retry_runtime::retry;

pub struct Transaction<'c>(pub &'c mut u32);
impl Transaction<'_> {
    pub fn execute(&mut self, _sql: &str) {
        *self.0 += 1;
    }
    pub fn commit(self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

#[async_trait]
trait Store {
    async fn bump(&self, tx: Transaction<'_>) -> Result<(), std::io::Error>;
    async fn bump_mut(&self, tx: Transaction<'_>) -> Result<(), std::io::Error>;
}

struct S;

#[async_trait]
impl Store for S {
    #[retry(preset = "db")]
    async fn bump(&self, tx: Transaction<'_>) -> Result<(), std::io::Error> {
        tx.commit()
    }

    #[retry(preset = "db")]
    async fn bump_mut(&self, mut tx: Transaction<'_>) -> Result<(), std::io::Error> {
        tx.execute("UPDATE clips SET views = views + 1");
        tx.commit()
    }
}

fn main() {}
