use retry_runtime::retry;
use std::io;

fn is_big(n: &u32) -> bool {
    *n > 10
}

fn is_timeout(e: io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut
}

// A `retry_if` predicate takes `&E`, `E` the function's error type: one
// that takes something else is reported on the predicate, the type it
// takes beside the `&E` it is given.
#[retry(retry_if = is_big)]
fn fetch(n: u32) -> Result<u32, io::Error> {
    Ok(n)
}

#[retry(retry_if = is_big)]
async fn fetch_async(n: u32) -> Result<u32, io::Error> {
    Ok(n)
}

// by value
#[retry(retry_if = is_timeout)]
fn fetch_by_value(n: u32) -> io::Result<u32> {
    Ok(n)
}

// with `impl Trait` in the success type (erased in the attempt's type):
// the same message, on the predicate
#[retry(retry_if = is_big)]
fn fetch_impl(n: u32) -> Result<impl std::fmt::Display, io::Error> {
    Ok(n)
}

fn main() {}
