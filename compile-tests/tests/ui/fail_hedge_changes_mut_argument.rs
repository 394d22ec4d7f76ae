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

// A `&mut` argument whose type a macro writes (in its invisible group), or
// in parentheses, is one too.
macro_rules! reset_with {
    ($name:ident, $ty:ty) => {
        #[retry(attempts = 3, hedge = "10ms")]
        pub async fn $name(n: $ty) -> io::Result<u32> {
            *n = 0;
            Ok(0)
        }
    };
}

reset_with!(reset_written, &mut u32);

#[allow(unused_parens)]
#[retry(attempts = 3, hedge = "10ms")]
pub async fn reset_parenthesized(n: (&mut u32)) -> io::Result<u32> {
    *n = 0;
    Ok(0)
}

// A `&mut` of a place that a `for` loop goes through (shown up to the
// place).
pub struct Batch(Vec<u32>);

impl Batch {
    #[retry(attempts = 3, hedge = "10ms")]
    pub async fn bump_all(&mut self) -> io::Result<usize> {
        for n in &mut self.0 {
            *n += 1;
        }
        Ok(self.0.len())
    }
}

// A receiver that is not a `&mut` reference is not "`&mut self`": what its
// body changes is rustc's error.
impl Counter {
    #[retry(attempts = 3, hedge = "10ms")]
    pub async fn boxed(self: Box<Self>) -> io::Result<u32> {
        self.0 += 1;
        Ok(self.0)
    }
}

fn main() {}
