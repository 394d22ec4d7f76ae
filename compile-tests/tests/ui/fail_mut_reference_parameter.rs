// `mut buf: &mut [u8]` re-points the reference: each attempt would start
// from where the one before left it. A `&mut` reference is not `Clone`, so
// `clone = buf` cannot help: the error says to re-borrow it in the body.
use retry_runtime::retry;

#[retry(attempts = 2, backoff = "none")]
fn advance(mut buf: &mut [u8]) -> Result<usize, String> {
    buf = &mut buf[1..];
    buf[0] = 1;
    Err(format!("{} left", buf.len()))
}

// what the error says to write: compiles
#[retry(attempts = 2, backoff = "none")]
fn advanced(buf: &mut [u8]) -> Result<usize, String> {
    let mut buf = &mut *buf;
    buf = &mut buf[1..];
    buf[0] = 1;
    Ok(buf.len())
}

fn main() {}
