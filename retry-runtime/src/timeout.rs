//! A time limit for one attempt (async).

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::future::Future;
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::classify::{Classify, ErrorKind};
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
use crate::sleep::DefaultSleeper;
use crate::sleep::Sleeper;

/// One attempt took longer than its limit. Classifies as [`ErrorKind::Timeout`].
///
/// An annotated function with `timeout = "10s"` needs its error type to
/// implement `From<AttemptTimeout>`.
///
/// ```
/// use retry_runtime::{AttemptTimeout, Classify, ErrorKind};
/// let t = AttemptTimeout::new(std::time::Duration::from_secs(10));
/// assert_eq!(t.kind(), ErrorKind::Timeout);
/// assert_eq!(t.to_string(), "attempt timed out after 10s");
/// assert_eq!(t.after.as_secs(), 10);
/// ```
///
/// `#[non_exhaustive]`, as [`CircuitOpen`](crate::CircuitOpen) and
/// [`Throttled`](crate::Throttled) are: read its fields, make one with
/// [`new`](AttemptTimeout::new) (a struct literal does not compile
/// outside this crate).
///
/// ```compile_fail,E0639
/// let t = retry_runtime::AttemptTimeout { after: std::time::Duration::from_secs(10) };
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptTimeout {
    /// The limit that was hit.
    pub after: Duration,
}

impl AttemptTimeout {
    /// An attempt that hit the limit `after` (for tests and loops of your
    /// own).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = retry_runtime::AttemptTimeout::new(Duration::from_millis(250));
    /// assert_eq!(t.after, Duration::from_millis(250));
    /// ```
    pub const fn new(after: Duration) -> AttemptTimeout {
        AttemptTimeout { after }
    }
}

impl std::fmt::Display for AttemptTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attempt timed out after {}",
            crate::log::ShownLimit(self.after)
        )
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

/// Run `attempt`, failing with `E::from(AttemptTimeout)` if it has not
/// answered when `limit` is up (an answer ready in the same poll as the
/// timer wins): a race between the attempt and a sleep on the
/// [`DefaultSleeper`]'s timer (tokio's, smol's or futures-timer's; see
/// [`sleep`](crate::sleep)), also inside a retry given another sleeper
/// with [`sleep_with`](crate::Retry::sleep_with), which does not reach the
/// attempts. [`timeout_with`] races another sleeper: the one the retry
/// waits on, `timeout_with(&sleeper, limit, op())`. (Only with a timer
/// feature; `timeout_with` is always there.) The race is decided when the
/// attempt's future is polled: an attempt that blocks its thread (a sync
/// call, a sync retry's `std::thread::sleep`) is not cut short, and ends
/// when it returns, with its own answer.
///
/// ```
/// # #[cfg(feature = "tokio")]
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::timeout;
/// let slow = async { tokio::time::sleep(Duration::from_secs(60)).await; Ok::<_, std::io::Error>(1) };
/// let err = timeout(Duration::from_secs(1), slow).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// # }
/// # #[cfg(not(feature = "tokio"))] fn main() {}
/// ```
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
#[inline]
pub fn timeout<T, E, Fut>(
    limit: Duration,
    attempt: Fut,
) -> Timeout<Fut, <DefaultSleeper as Sleeper>::Sleep>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<AttemptTimeout>,
{
    timeout_with(&DefaultSleeper, limit, attempt)
}

#[cfg_attr(
    any(feature = "tokio", feature = "smol", feature = "futures-timer"),
    doc = "[`timeout`] on `sleeper`'s timer."
)]
#[cfg_attr(
    not(any(feature = "tokio", feature = "smol", feature = "futures-timer")),
    doc = "What `timeout` does (in a build with a timer feature), on `sleeper`'s timer."
)]
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::{sleep::SleepFn, timeout_with};
/// let never = std::future::pending::<Result<(), std::io::Error>>();
/// let sleeper = SleepFn(|wait: Duration| tokio::time::sleep(wait));
/// let err = timeout_with(&sleeper, Duration::from_millis(5), never).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// # }
/// ```
#[inline]
pub fn timeout_with<T, E, Fut, S>(
    sleeper: &S,
    limit: Duration,
    attempt: Fut,
) -> Timeout<Fut, S::Sleep>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<AttemptTimeout>,
    S: Sleeper + ?Sized,
{
    Timeout {
        attempt,
        sleep: sleeper.sleep(limit),
        limit,
    }
}

pin_project! {
    #[cfg_attr(any(feature = "tokio", feature = "smol", feature = "futures-timer"), doc = "The future of [`timeout`]: the attempt, raced against a sleep.")]
    #[cfg_attr(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")), doc = "The future of `timeout` and [`timeout_with`]: the attempt, raced against a sleep.")]
    ///
    /// It is [`Debug`](fmt::Debug) whatever the attempt and the sleep: it
    /// shows the limit.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use retry_runtime::{sleep::SleepFn, timeout_with, Timeout};
    /// let sleeper = SleepFn(|wait: Duration| tokio::time::sleep(wait));
    /// let ready = async { Ok::<_, std::io::Error>(7) };
    /// let raced: Timeout<_, _> = timeout_with(&sleeper, Duration::ZERO, ready);
    /// assert_eq!(raced.await.unwrap(), 7); // no time at all, but the answer was ready
    /// # }
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<Fut, Sl> {
        #[pin]
        attempt: Fut,
        #[pin]
        sleep: Sl,
        limit: Duration,
    }
}

/// Shows the limit; not the attempt or the sleep, which need not be `Debug`.
///
/// ```
/// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::timeout;
/// let raced = timeout(Duration::from_secs(10), async { Ok::<_, std::io::Error>(7) });
/// assert_eq!(format!("{raced:?}"), "Timeout { limit: 10s, .. }");
/// # }
/// # #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))] fn main() {}
/// ```
impl<Fut, Sl> fmt::Debug for Timeout<Fut, Sl> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<T, E, Fut, Sl> Future for Timeout<Fut, Sl>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<AttemptTimeout>,
    Sl: Future<Output = ()>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, E>> {
        let this = self.project();
        // The attempt first: an answer that is ready when the time is up wins.
        if let Poll::Ready(out) = this.attempt.poll(cx) {
            return Poll::Ready(out);
        }
        match this.sleep.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(E::from(AttemptTimeout { after: *this.limit }))),
            Poll::Pending => Poll::Pending,
        }
    }
}
