// Decorrelated jitter over `policy = ..` without a `backoff` key: the
// policy's backoff is known only at run time, and nothing checks it there
// (a fixed one would leave every wait unrandomized, silently).
use std::time::Duration;

use retry_runtime::{retry, Backoff, Policy};

const FIXED: Policy = Policy::new()
    .with_max_attempts(5)
    .with_backoff(Backoff::fixed(Duration::from_secs(1)))
    .checked();

#[retry(policy = FIXED, jitter = "decorrelated")]
fn refused() -> Result<(), std::io::Error> {
    Err(std::io::ErrorKind::TimedOut.into())
}

// with the backoff given here it is checked, and builds
#[retry(policy = FIXED, backoff = "exp(100ms, 10s)", jitter = "decorrelated")]
fn checked() -> Result<(), std::io::Error> {
    Err(std::io::ErrorKind::TimedOut.into())
}

fn main() {}
