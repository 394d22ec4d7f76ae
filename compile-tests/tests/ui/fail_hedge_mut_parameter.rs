// Hedged attempts run at the same time: they cannot share a `&mut`
// argument (nor `&mut self`).
use retry_runtime::retry;

struct Cache {
    hits: u32,
}

impl Cache {
    #[retry(hedge = "50ms")]
    async fn lookup(&mut self, key: u32) -> Result<u32, std::io::Error> {
        self.hits += 1;
        Ok(key)
    }
}

#[retry(attempts = 3, hedge = "50ms")]
async fn fill(buf: &mut Vec<u8>, key: u8) -> Result<usize, std::io::Error> {
    buf.push(key);
    Ok(buf.len())
}

impl Cache {
    // Refused where the body only reads through it too (which compiled):
    // hedged attempts can only read, so a shared reference says it.
    #[retry(hedge = "50ms")]
    async fn lookup_pinned(self: std::pin::Pin<&mut Self>, key: u32) -> Result<u32, std::io::Error> {
        Ok(key + self.hits)
    }
}

fn main() {}
