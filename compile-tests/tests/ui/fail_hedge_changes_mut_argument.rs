use retry_runtime::retry;
use std::io;

async fn bump(n: &mut u32) -> io::Result<u32> {
    *n += 1;
    Ok(*n)
}

pub struct Counter(u32);

// Hedged attempts run side by side and share the arguments: a body may
// read through `&mut self` or a `&mut T` argument, not change what it
// points at. A change the attribute sees is refused on the `hedge` key
// (and shown where it is made).
impl Counter {
    #[retry(attempts = 3, hedge = "10ms")]
    pub async fn bump(&mut self) -> io::Result<u32> {
        bump(&mut self.0).await
    }

    #[retry(attempts = 3, hedge = "10ms")]
    pub async fn count(&mut self) -> io::Result<u32> {
        self.0 += 1;
        Ok(self.0)
    }
}

#[retry(attempts = 3, hedge = "10ms")]
pub async fn reset(n: &mut u32) -> io::Result<u32> {
    *n = 0;
    Ok(0)
}

// One it cannot see (a method that takes `&mut self`) is rustc's error
// about the closure the body becomes, on the key too.
#[retry(attempts = 3, hedge = "10ms")]
pub async fn append(out: &mut Vec<u8>) -> io::Result<usize> {
    out.push(1);
    Ok(out.len())
}

fn main() {}
