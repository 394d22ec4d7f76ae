// A closure parameter of a trait impl's method: the impl cannot take
// `on_row: &mut F` (or `Fn`) on its own (E0053, the trait fixes the
// signature), so the message also says to change the trait's signature
// too, or keep the impl method un-retried and have it call a retried
// inherent method.
use retry_runtime::retry;

pub trait Scan {
    async fn scan<F: FnMut(&u8)>(&self, on_row: F) -> Result<usize, String>;
    async fn with_first<F: FnOnce(u8)>(&self, done: F) -> Result<(), String>;
}

pub struct Db(Vec<u8>);

impl Scan for Db {
    #[retry(attempts = 3, backoff = "none")]
    async fn scan<F: FnMut(&u8)>(&self, mut on_row: F) -> Result<usize, String> {
        self.0.iter().for_each(|r| on_row(r));
        Ok(self.0.len())
    }

    #[retry(attempts = 3, backoff = "none")]
    async fn with_first<F: FnOnce(u8)>(&self, done: F) -> Result<(), String> {
        done(self.0[0]);
        Ok(())
    }
}

fn main() {}
