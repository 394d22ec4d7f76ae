//! An error of any kind with an optional Retry-After hint: what the
//! Retry-After tests fail with, and what the `policy` fuzz target's attempts
//! fail with (`fuzz/fuzz_targets/policy.rs` includes this file by its path).

use std::fmt;
use std::time::Duration;

use retry_runtime::{Classify, ErrorKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hinted {
    pub kind: ErrorKind,
    /// The server's requested wait, if any.
    pub after: Option<Duration>,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (retry after {:?})", self.kind, self.after)
    }
}

impl std::error::Error for Hinted {}

impl Classify for Hinted {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
    fn retry_after(&self) -> Option<Duration> {
        self.after
    }
}
