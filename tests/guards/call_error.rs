//! The error of a call to a guarded dependency: what the dependency answered,
//! or the circuit breaker's rejection (with its `Retry-After`).

use std::time::Duration;

use retry_runtime::circuit::CircuitOpen;
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
