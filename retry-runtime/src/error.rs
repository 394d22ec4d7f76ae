//! [`RetryError`]: the detailed outcome of a run that gave up.

use std::time::Duration;

use crate::stop::StopReason;

/// A run that gave up: how many attempts, how long, why, and the last error
/// (never lost). Returned by the `*_detailed` executors.
///
/// `elapsed` is measured from the start of the first attempt when the policy
/// has a `max_elapsed` limit; otherwise from the end of the first failed
/// attempt (so the success path reads no clock).
///
/// ```
/// use retry_runtime::{Policy, StopReason};
/// let _paused = retry_runtime::testing::pause();
/// let err = Policy::new().attempts(2).retry_detailed(|| Err::<(), _>("boom")).unwrap_err();
/// assert_eq!(err.attempts, 2);
/// assert_eq!(err.reason, StopReason::Attempts);
/// assert_eq!(err.to_string(), "operation failed after 2 attempts (attempts exhausted): boom");
/// assert_eq!(err.into_inner(), "boom");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed after {attempts} attempts ({reason}): {last_error}")]
#[non_exhaustive]
pub struct RetryError<E> {
    /// The operation's name.
    pub operation: &'static str,
    /// Attempts made (calls).
    pub attempts: u32,
    /// Time spent, sleeps included.
    pub elapsed: Duration,
    /// Why the run stopped.
    pub reason: StopReason,
    /// The error of the last attempt.
    #[source]
    pub last_error: E,
}

impl<E> RetryError<E> {
    /// The last error.
    ///
    /// ```
    /// let _paused = retry_runtime::testing::pause();
    /// let e = retry_runtime::Policy::new().retry_detailed(|| Err::<(), _>(5)).unwrap_err();
    /// assert_eq!(e.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> E {
        self.last_error
    }
}
