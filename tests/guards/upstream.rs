//! A dependency behind a circuit breaker: a fresh breaker on its own manual
//! clock, and the error of a call (what the dependency answered, or the
//! breaker's rejection with its `Retry-After`).

use std::time::Duration;

use retry_runtime::circuit::{CircuitBreaker, CircuitOpen, ManualClock};
use retry_runtime::{Classify, ErrorKind};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("upstream timed out")]
    Timeout,
    #[error("503 from the dependency")]
    Unavailable,
    #[error("no such clip")]
    NotFound,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

impl Classify for CallError {
    fn kind(&self) -> ErrorKind {
        match self {
            CallError::Timeout => ErrorKind::Timeout,
            CallError::Unavailable => ErrorKind::Unavailable,
            CallError::NotFound => ErrorKind::Permanent,
            CallError::Open(open) => open.kind(),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Open(open) => open.retry_after(),
            _ => None,
        }
    }
}

/// A fresh breaker named "upstream" on its own manual clock (leaked: tests
/// are short-lived processes, and `with_clock` wants `'static`).
pub fn breaker(
    configure: impl FnOnce(CircuitBreaker) -> CircuitBreaker,
) -> (&'static CircuitBreaker, &'static ManualClock) {
    let clock: &'static ManualClock = Box::leak(Box::new(ManualClock::new()));
    let b = configure(CircuitBreaker::new("upstream").with_clock(clock));
    (Box::leak(Box::new(b)), clock)
}

/// A call that always times out, counting itself into `calls`.
pub fn timing_out(calls: &mut u32) -> impl FnMut() -> Result<(), CallError> + '_ {
    move || {
        *calls += 1;
        Err(CallError::Timeout)
    }
}
