//! A time limit for one attempt (async).

use std::future::Future;
use std::time::Duration;

use crate::classify::{Classify, ErrorKind};

/// One attempt took longer than its limit. Classifies as [`ErrorKind::Timeout`].
///
/// An annotated function with `timeout = "10s"` needs its error type to
/// implement `From<AttemptTimeout>`.
///
/// ```
/// use retry_runtime::{AttemptTimeout, Classify, ErrorKind};
/// let t = AttemptTimeout { after: std::time::Duration::from_secs(10) };
/// assert_eq!(t.kind(), ErrorKind::Timeout);
/// assert_eq!(t.to_string(), "attempt timed out after 10s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptTimeout {
    /// The limit that was hit.
    pub after: Duration,
}

impl std::fmt::Display for AttemptTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "attempt timed out after {:?}", self.after)
    }
}

impl std::error::Error for AttemptTimeout {}

impl Classify for AttemptTimeout {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Timeout
    }
}

impl From<AttemptTimeout> for std::io::Error {
    fn from(t: AttemptTimeout) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, t)
    }
}

/// Run `attempt`, failing with `E::from(AttemptTimeout)` if it takes `limit` or longer.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::{timeout, AttemptTimeout};
/// let slow = async { tokio::time::sleep(Duration::from_secs(60)).await; Ok::<_, std::io::Error>(1) };
/// let err = timeout(Duration::from_secs(1), slow).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// # }
/// ```
pub async fn timeout<T, E, Fut>(limit: Duration, attempt: Fut) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<AttemptTimeout>,
{
    match tokio::time::timeout(limit, attempt).await {
        Ok(out) => out,
        Err(_) => Err(E::from(AttemptTimeout { after: limit })),
    }
}
