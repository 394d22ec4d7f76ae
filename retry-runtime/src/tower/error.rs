//! [`Error`], the error of a [`RetryService`](super::RetryService), and
//! what a run that gives up hands back.

use core::fmt;
use std::error::Error as StdError;
use std::time::Duration;

use crate::chain::{classify_error, no_classify, retry_after_of};
use crate::circuit::CircuitOpen;
use crate::classify::{Classify, ErrorKind};
use crate::response::{Failure, MaskedDebug, NotReplayable};
use crate::throttle::Throttled;
use crate::timeout::AttemptTimeout;

/// The error of a [`RetryService`](super::RetryService): the inner
/// service's last error, or why the layer itself gave up.
///
/// Its `Display` is the held error's, and its [`source`](StdError::source)
/// is the held error itself. A reporter of the whole chain (anyhow's `{:#}`)
/// so prints the held error's message twice; that is the price of keeping
/// the held error in the chain: once the error is boxed (tower's `Buffer`
/// above the layer boxes it), walking the chain is the only way to reach
/// it, and [`error_kind`](crate::classify::error_kind) and the runtime's
/// `Retry-After` reading walk it to classify the inner error and to read a
/// [`CircuitOpen`]'s or a pushback's wait. A type made transparent would
/// hide them. Print it with `{}` (or `{:#}` of its source) to see each
/// message once.
///
/// ```
/// use std::error::Error as _;
/// use retry_runtime::tower::Error;
///
/// let e: Error<std::io::Error> = Error::Inner(std::io::ErrorKind::ConnectionReset.into());
/// assert_eq!(e.to_string(), "connection reset");
/// assert_eq!(e.source().unwrap().to_string(), "connection reset");
/// ```
///
/// It is `Clone` and `PartialEq` when the inner error is, as
/// [`RetryError`](crate::RetryError) is (not `Eq`: a [`Throttled`] holds a
/// rate).
///
/// ```
/// use retry_runtime::tower::Error;
/// let e: Error<&str> = Error::Inner("reset");
/// assert_eq!(e.clone(), Error::Inner("reset"));
/// assert_ne!(e, Error::Inner("refused"));
/// ```
///
/// It is `#[non_exhaustive]`: a later version may give the layer another
/// reason to give up, so a `match` on it has a `_` arm.
///
/// ```compile_fail,E0004
/// use retry_runtime::tower::Error;
/// fn why(e: &Error<std::io::Error>) -> &'static str {
///     match e {
///         Error::Inner(_) => "the service failed",
///         Error::Timeout(_) => "too slow",
///         Error::CircuitOpen(_) => "breaker open",
///         Error::Throttled(_) => "throttled",
///         Error::NotReplayable(_) => "not replayable",
///         Error::NotReady(_) => "not ready before the deadline",
///     } // error[E0004]: `_` not covered
/// }
/// ```
///
/// # With `with_report`
///
/// A layer [`with_report`](super::RetryLayer::with_report) fails with a
/// [`Reported<Error<E>>`](super::Reported), this error beside its run's
/// report: a pattern of this type against it is a type mismatch.
///
/// ```compile_fail,E0308
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use retry_runtime::{presets, tower::Error};
/// use tower::{service_fn, Layer, ServiceExt};
/// let refused = service_fn(|_: http::Request<()>| async {
///     Err::<http::Response<()>, _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
/// });
/// let svc = presets::API.layer().with_report().layer(refused);
/// match svc.oneshot(http::Request::new(())).await {
///     Err(Error::Inner(e)) => println!("unreachable: {e}"), // error[E0308]: expected `Reported<Error<..>>`
///     _ => {}
/// }
/// # }
/// ```
///
/// Match the error it holds: by reference, `match &*e` (it derefs to
/// the error) or `match e.error()`; by value, `match e.into_inner()`, or
/// `let (error, report) = e.into_parts()` to keep the attempts made and
/// why the run stopped as well.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use retry_runtime::{presets, tower::Error, StopReason};
/// use tower::{service_fn, Layer, ServiceExt};
/// let refused = service_fn(|_: http::Request<()>| async {
///     Err::<http::Response<()>, _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
/// });
/// let svc = presets::API.layer().with_report().layer(refused);
/// let e = svc.oneshot(http::Request::new(())).await.unwrap_err();
/// // by reference: the report stays with it
/// assert!(matches!(&*e, Error::Inner(io) if io.kind() == std::io::ErrorKind::ConnectionRefused));
/// // by value, with the report
/// let (error, report) = e.into_parts();
/// let told = match error {
///     Error::Inner(io) => format!("unreachable after {} attempts: {io}", report.attempts),
///     Error::Timeout(t) => format!("too slow: {t}"),
///     other => other.to_string(),
/// };
/// assert_eq!(told, "unreachable after 3 attempts: connection refused");
/// assert_eq!(report.gave_up, Some(StopReason::Attempts));
/// # }
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The inner service's error (from its last attempt, or from `poll_ready`).
    Inner(E),
    /// The last attempt took longer than the layer's per-attempt timeout.
    Timeout(AttemptTimeout),
    /// The policy's circuit breaker is open: the call was not made, or,
    /// after attempts, the breaker opened while the layer waited for a
    /// retry, which was not made. (The last attempt's response or error
    /// was dropped before the wait: a response kept across it would hold
    /// its connection; the WARN line announcing the retry has it.)
    CircuitOpen(CircuitOpen),
    /// The policy's throttle rejected the call: it was not made.
    Throttled(Throttled),
    /// No request was left to send (cannot happen; see [`NotReplayable`]).
    NotReplayable(NotReplayable),
    /// The policy's `max_elapsed` passed while the layer waited for the
    /// inner service to be ready for a retry, which was not made. (The
    /// last attempt's response or error was dropped before the wait, as
    /// for [`CircuitOpen`](Error::CircuitOpen); the WARN line announcing
    /// the retry has it.)
    NotReady(NotReady),
}

/// The inner service was not ready for a retry before the policy's
/// `max_elapsed` (a saturated `ConcurrencyLimit`, a `Buffer` whose worker
/// is stuck, below the layer): the retry was not made. Classified
/// `Timeout`, with no hint.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{tower::NotReady, Classify, ErrorKind};
/// let e = NotReady { max_elapsed: Duration::from_secs(5) };
/// assert_eq!(e.to_string(), "the service was not ready for a retry within max_elapsed (5s)");
/// assert_eq!(e.kind(), ErrorKind::Timeout);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotReady {
    /// The policy's `max_elapsed`.
    pub max_elapsed: Duration,
}

impl NotReady {
    /// The error for a policy whose `max_elapsed` is `max_elapsed`.
    pub(crate) const fn new(max_elapsed: Duration) -> NotReady {
        NotReady { max_elapsed }
    }
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the service was not ready for a retry within max_elapsed ({})",
            crate::log::ShownLimit(self.max_elapsed)
        )
    }
}

impl StdError for NotReady {}

impl Classify for NotReady {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Timeout
    }
}

/// As derived, but for the URL that a `reqwest::Error` (a
/// `reqwest::Client` as the inner service) writes whole in its `Debug`:
/// masked, as the layer's lines mask it (feature `reqwest`).
///
/// ```
/// use retry_runtime::tower::Error;
/// let e: Error<std::io::Error> = Error::Inner(std::io::ErrorKind::ConnectionReset.into());
/// assert_eq!(format!("{e:?}"), "Inner(Kind(ConnectionReset))");
/// ```
impl<E: fmt::Debug + 'static> fmt::Debug for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Inner(e) => f.debug_tuple("Inner").field(&MaskedDebug(e)).finish(),
            Error::Timeout(t) => f.debug_tuple("Timeout").field(t).finish(),
            Error::CircuitOpen(open) => f.debug_tuple("CircuitOpen").field(open).finish(),
            Error::Throttled(t) => f.debug_tuple("Throttled").field(t).finish(),
            Error::NotReplayable(e) => f.debug_tuple("NotReplayable").field(e).finish(),
            Error::NotReady(e) => f.debug_tuple("NotReady").field(e).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Inner(e) => e.fmt(f),
            Error::Timeout(t) => t.fmt(f),
            Error::CircuitOpen(open) => open.fmt(f),
            Error::Throttled(t) => t.fmt(f),
            Error::NotReplayable(e) => e.fmt(f),
            Error::NotReady(e) => e.fmt(f),
        }
    }
}

impl<E: StdError + 'static> StdError for Error<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Inner(e) => Some(e),
            Error::Timeout(t) => Some(t),
            Error::CircuitOpen(open) => Some(open),
            Error::Throttled(t) => Some(t),
            Error::NotReplayable(e) => Some(e),
            Error::NotReady(e) => Some(e),
        }
    }
}

/// The inner error by [`error_kind`](crate::classify::error_kind) (and the wait it asks for: a
/// `tonic::Status`'s pushback, say); a timeout is `Timeout`, an open
/// breaker `Unavailable` (with its recovery time as the hint), a throttled
/// call `Unavailable`, a service not ready before the deadline `Timeout`.
///
/// ```
/// use retry_runtime::{tower::Error, Classify, ErrorKind};
/// let e: Error<std::io::Error> = Error::Inner(std::io::ErrorKind::ConnectionReset.into());
/// assert_eq!(e.kind(), ErrorKind::Connect);
/// ```
impl<E: StdError + 'static> Classify for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Inner(e) => classify_error(e, no_classify).0,
            Error::Timeout(t) => t.kind(),
            Error::CircuitOpen(open) => open.kind(),
            Error::Throttled(t) => t.kind(),
            Error::NotReplayable(_) => ErrorKind::Permanent,
            Error::NotReady(e) => e.kind(),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Inner(e) => retry_after_of(e, no_classify),
            Error::CircuitOpen(open) => open.retry_after(),
            Error::Throttled(t) => t.retry_after(),
            Error::Timeout(_) | Error::NotReplayable(_) | Error::NotReady(_) => None,
        }
    }
    fn why_permanent(&self) -> Option<&'static str> {
        match self {
            Error::Inner(e) => crate::chain::why_permanent_in(e, no_classify),
            _ => None,
        }
    }
}

impl<Res, E> Failure<Res, E> {
    /// What the caller of a middleware gets when the run gives up on this
    /// failure: a failed response is handed back as it is.
    pub(crate) fn into_result(self) -> Result<Res, Error<E>> {
        match self {
            Failure::Response { response, .. } => Ok(response),
            Failure::Error { error, .. } => Err(Error::Inner(error)),
            Failure::Timeout(t) => Err(Error::Timeout(t)),
            Failure::CircuitOpen(open) => Err(Error::CircuitOpen(open)),
            Failure::Throttled(t) => Err(Error::Throttled(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `reqwest::Client` as the inner service: `Debug` was derived, and
    /// the error's own `Debug` writes its URL whole (`url: "..."`). It is
    /// masked, as the layer's lines mask it.
    #[cfg(feature = "reqwest")]
    #[tokio::test]
    async fn debug_masks_the_url_of_a_reqwest_error() {
        let (error, port) = crate::reqwest::refused("/p?api_key=SECRET&page=2").await;
        let e = Error::Inner(error);
        for shown in [format!("{e:?}"), format!("{e:#?}")] {
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(
                shown.contains(&format!("http://127.0.0.1:{port}/p?api_key=***&page=***")),
                "{shown}"
            );
        }
        assert!(format!("{e:?}").starts_with("Inner(reqwest::Error { kind: Request, url: "));
        let boxed: Box<dyn StdError + Send + Sync> = match e {
            Error::Inner(error) => Box::new(error),
            _ => unreachable!(),
        };
        let e = Error::Inner(crate::response::BoxedError(boxed));
        assert!(!format!("{e:?}").contains("SECRET"), "{e:?}");
        // a timeout as it was
        let e: Error<std::io::Error> = Error::Timeout(AttemptTimeout {
            after: Duration::from_secs(1),
        });
        assert_eq!(format!("{e:?}"), "Timeout(AttemptTimeout { after: 1s })");
    }

    /// `Clone` and `PartialEq` as `RetryError` has them: for an inner
    /// error that has them, and an error that has neither still fits.
    #[test]
    fn clone_and_eq_when_the_inner_error_has_them() {
        let inner: Error<&str> = Error::Inner("reset");
        assert_eq!(inner.clone(), inner);
        assert_ne!(inner, Error::Inner("refused"));
        let timeout = Error::Timeout(AttemptTimeout {
            after: Duration::from_secs(1),
        });
        assert_ne!(inner, timeout);
        assert_eq!(timeout.clone(), timeout);
        let not_ready = Error::<&str>::NotReady(NotReady::new(Duration::from_secs(5)));
        assert_eq!(not_ready.clone(), not_ready);
        assert_ne!(not_ready, timeout);
        struct Opaque;
        let Error::Inner(Opaque) = Error::Inner(Opaque) else {
            unreachable!()
        };
    }

    /// Boxed (tower's `Buffer` boxes its service's errors), the layer's
    /// errors keep their kinds: the inner error's through the chain, and
    /// a service not ready before the deadline, `Timeout`.
    #[test]
    fn boxed_the_layers_errors_keep_their_kinds() {
        type BoxError = Box<dyn StdError + Send + Sync>;
        let not_ready: BoxError = Box::new(Error::<std::io::Error>::NotReady(NotReady::new(
            Duration::from_secs(5),
        )));
        assert_eq!(not_ready.kind(), ErrorKind::Timeout);
        let reset: BoxError = Box::new(Error::Inner(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(reset.kind(), ErrorKind::Connect);
        let timeout: BoxError = Box::new(Error::<std::io::Error>::Timeout(AttemptTimeout {
            after: Duration::from_secs(1),
        }));
        assert_eq!(timeout.kind(), ErrorKind::Timeout);
    }
}
