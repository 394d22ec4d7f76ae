// A pinned receiver is re-borrowed by each attempt with `as_mut()`, which
// needs the binding `mut`: `mut self: Pin<&mut Self>` and `mut p: Pin<&mut
// T>` are not refused as `mut` by-value arguments (what an attempt does
// through them is meant to last, as through any `&mut T`). A pinned
// argument, `mut` or not, is re-borrowed by the attempt itself.
#![deny(warnings)]

use std::pin::Pin;

use retry_runtime::retry;

struct Counter {
    n: u32,
}

impl Counter {
    fn bump(self: Pin<&mut Self>) -> u32 {
        let this = self.get_mut();
        this.n += 1;
        this.n
    }

    #[retry(attempts = 3, backoff = "none")]
    fn bump_until_two(mut self: Pin<&mut Self>) -> Result<u32, String> {
        let n = self.as_mut().bump();
        if n < 2 { Err(format!("only {n}")) } else { Ok(n) }
    }

    #[retry(attempts = 3, backoff = "none")]
    async fn bump_until_two_async(mut self: Pin<&mut Self>) -> Result<u32, String> {
        let n = self.as_mut().bump();
        if n < 2 { Err(format!("only {n}")) } else { Ok(n) }
    }
}

fn take(p: Pin<&mut u32>) -> u32 {
    let n = p.get_mut();
    *n += 1;
    *n
}

#[retry(attempts = 3, backoff = "none")]
fn add_until_two(mut p: Pin<&mut u32>) -> Result<u32, String> {
    let n = take(p.as_mut());
    if n < 2 { Err(format!("only {n}")) } else { Ok(n) }
}

#[retry(attempts = 3, backoff = "none")]
async fn add_until_two_async(mut p: Pin<&mut u32>) -> Result<u32, String> {
    let n = take(p.as_mut());
    if n < 2 { Err(format!("only {n}")) } else { Ok(n) }
}

// Each attempt re-borrows a pinned argument (`Pin::as_mut`): one without
// `mut` can be passed on by value, and the next attempt has it still.
#[retry(attempts = 3, backoff = "none")]
fn take_until_two(p: Pin<&mut u32>) -> Result<u32, String> {
    let n = take(p);
    if n < 2 { Err(format!("only {n}")) } else { Ok(n) }
}

#[retry(attempts = 3, backoff = "none")]
async fn take_until_two_async(p: Pin<&mut u32>) -> Result<u32, String> {
    let n = take(p);
    if n < 2 { Err(format!("only {n}")) } else { Ok(n) }
}

async fn take_later(p: Pin<&mut u32>) -> Result<u32, String> {
    let n = take(p);
    if n < 2 { Err(format!("only {n}")) } else { Ok(n) }
}

// (a body that is one awaited call)
#[retry(attempts = 3, backoff = "none")]
async fn take_later_until_two(p: Pin<&mut u32>) -> Result<u32, String> {
    take_later(p).await
}

// Pointing the attempt's binding elsewhere does not carry to the next
// attempt: it starts from the caller's argument again.
#[retry(attempts = 3, backoff = "none")]
fn re_point_once(mut p: Pin<&mut u32>) -> Result<u32, String> {
    let n = take(p.as_mut());
    if n < 2 {
        p = Pin::new(Box::leak(Box::new(100)));
        return Err(format!("only {n}, now at {p}"));
    }
    Ok(n)
}

#[retry(attempts = 3, backoff = "none")]
async fn re_point_once_async(mut p: Pin<&mut u32>) -> Result<u32, String> {
    let n = take(p.as_mut());
    if n < 2 {
        p = Pin::new(Box::leak(Box::new(100)));
        return Err(format!("only {n}, now at {p}"));
    }
    Ok(n)
}

// A pinned argument bound `ref p` (a borrow of the argument, as any `ref`
// binding) is read through that borrow by every attempt: not re-borrowed
// with `Pin::as_mut`, which takes it by value.
#[retry(attempts = 3, backoff = "none")]
fn read_pinned(ref p: Pin<&mut u32>) -> Result<u32, String> {
    if **p < 2 { Err(format!("only {}", **p)) } else { Ok(**p) }
}

fn main() {
    let mut c = Counter { n: 0 };
    assert_eq!(Pin::new(&mut c).bump_until_two(), Ok(2));
    let mut n = 0;
    assert_eq!(add_until_two(Pin::new(&mut n)), Ok(2));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut c = Counter { n: 0 };
    assert_eq!(rt.block_on(Pin::new(&mut c).bump_until_two_async()), Ok(2));
    let mut n = 0;
    assert_eq!(rt.block_on(add_until_two_async(Pin::new(&mut n))), Ok(2));
    let mut n = 0;
    assert_eq!(take_until_two(Pin::new(&mut n)), Ok(2));
    let mut n = 0;
    assert_eq!(rt.block_on(take_until_two_async(Pin::new(&mut n))), Ok(2));
    let mut n = 0;
    assert_eq!(rt.block_on(take_later_until_two(Pin::new(&mut n))), Ok(2));
    let mut n = 0;
    assert_eq!(re_point_once(Pin::new(&mut n)), Ok(2));
    assert_eq!(n, 2);
    let mut n = 0;
    assert_eq!(rt.block_on(re_point_once_async(Pin::new(&mut n))), Ok(2));
    assert_eq!(n, 2);
    let mut n = 2;
    assert_eq!(read_pinned(Pin::new(&mut n)), Ok(2));
}
