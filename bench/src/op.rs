//! The operation every contestant retries: trivial work on a black-boxed
//! counter, failing the first `k` calls of each run by a script.

use std::cell::Cell;
use std::fmt;
use std::hint::black_box;

/// The op's state: how many more calls fail, and the counter it bumps.
#[derive(Debug, Default)]
pub struct Script {
    fails_left: Cell<u32>,
    counter: Cell<u64>,
}

impl Script {
    /// A script for one run per call: `&'static` so that async contestants
    /// can be plain closures `Fn(&'static Script) -> impl Future`.
    pub fn leak() -> &'static Script {
        Box::leak(Box::default())
    }

    /// The next `k` calls fail, then calls succeed.
    #[inline(always)]
    pub fn arm(&self, k: u32) {
        self.fails_left.set(k);
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.counter.get()
    }
}

/// The op's error: any error is retried by every contestant's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpError;

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scripted failure")
    }
}

impl std::error::Error for OpError {}

/// The sync op: bumps the counter, fails while the script says so.
#[inline(never)]
pub fn op(s: &Script) -> Result<u64, OpError> {
    let n = black_box(s.counter.get()).wrapping_add(1);
    s.counter.set(n);
    match s.fails_left.get() {
        0 => Ok(n),
        left => {
            s.fails_left.set(left - 1);
            Err(OpError)
        }
    }
}

/// The async op: the same work, in a future that holds only `&Script` (no
/// await inside, so it is ready on its first poll).
pub async fn op_async(s: &Script) -> Result<u64, OpError> {
    op(s)
}
