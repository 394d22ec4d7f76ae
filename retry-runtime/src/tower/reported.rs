//! [`Reported`], an error given back with the [`RetryReport`] of its run:
//! the error of a [`RetryLayer::with_report`](super::RetryLayer::with_report)'s
//! service.

use core::fmt;
use core::ops::Deref;
use std::error::Error as StdError;
use std::time::Duration;

use crate::classify::{Classify, ErrorKind};
use crate::response::RetryReport;

/// An error and the [`RetryReport`] of the run that ended on it: what a
/// call of a [`RetryLayer::with_report`](super::RetryLayer::with_report)'s
/// service fails with, its error
/// ([`Error<E>`](super::Error)) beside the attempts made, the time spent
/// and why the run stopped (a successful or failed response carries the
/// same report in its extensions). A layer without `with_report` fails
/// with the plain [`Error<E>`](super::Error), as before: the error type is
/// the layer's, in its settings' type
/// ([`AttemptLimit::CallError`](super::AttemptLimit::CallError)).
///
/// It passes the error through: its `Display`, its
/// [`source`](StdError::source) (so a chain reporter prints each message
/// as it did) and its [`Classify`] (so a `#[retry]` around the call, or a
/// `Buffer` above the layer boxing it, classifies it as it did: boxed, it
/// downcasts to `Reported<Error<E>>`, not to `Error<E>`, a change for code
/// that downcast the layer's errors).
///
/// A pattern of the error's type (`Error::Inner(e)`) does not match a
/// `Reported` itself (a type mismatch): match what it holds, by reference
/// through its [`Deref`] (`match &*e`, or [`error`](Self::error)), or by
/// value with [`into_inner`](Self::into_inner), or with its report,
/// [`into_parts`](Self::into_parts).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::response::RetryReport;
/// use retry_runtime::tower::{Error, Reported};
/// use retry_runtime::{Classify, ErrorKind, StopReason};
///
/// let reset: Error<std::io::Error> = Error::Inner(std::io::ErrorKind::ConnectionReset.into());
/// let e = Reported::new(reset, RetryReport::new(3, Duration::from_secs(2), Some(StopReason::Attempts)));
/// assert_eq!(e.to_string(), "connection reset");
/// assert_eq!(e.kind(), ErrorKind::Connect);
/// assert_eq!((e.report().attempts, e.report().gave_up), (3, Some(StopReason::Attempts)));
/// // match what it holds: by reference, or by value
/// assert!(matches!(&*e, Error::Inner(io) if io.kind() == std::io::ErrorKind::ConnectionReset));
/// let (error, report) = e.into_parts();
/// match error {
///     Error::Inner(io) => assert_eq!((io.kind(), report.elapsed), (std::io::ErrorKind::ConnectionReset, Duration::from_secs(2))),
///     other => panic!("{other}"),
/// }
/// ```
#[derive(Clone, PartialEq)]
pub struct Reported<E> {
    error: E,
    report: RetryReport,
}

impl<E> Reported<E> {
    /// `error`, given back after the run `report` says (for a test's
    /// stand-in; the layer makes its own).
    ///
    /// ```
    /// use retry_runtime::{response::RetryReport, tower::Reported};
    /// let e = Reported::new("refused", RetryReport::new(0, std::time::Duration::ZERO, None));
    /// assert_eq!((*e.error(), e.report().attempts), ("refused", 0));
    /// ```
    pub const fn new(error: E, report: RetryReport) -> Self {
        Reported { error, report }
    }

    /// The error.
    ///
    /// ```
    /// use retry_runtime::{response::RetryReport, tower::Reported};
    /// let e = Reported::new("refused", RetryReport::new(1, std::time::Duration::ZERO, None));
    /// assert_eq!(*e.error(), "refused");
    /// ```
    pub const fn error(&self) -> &E {
        &self.error
    }

    /// The report of the run that ended on the error: the attempts made
    /// (0 for a call a guard refused before its first attempt, or whose
    /// service failed its `poll_ready` before it), the time
    /// spent, and, always `Some` for an error, why the run stopped.
    ///
    /// ```
    /// use retry_runtime::{response::RetryReport, tower::Reported, StopReason};
    /// let report = RetryReport::new(0, std::time::Duration::ZERO, Some(StopReason::CircuitOpen));
    /// assert_eq!(Reported::new("open", report).report(), &report);
    /// ```
    pub const fn report(&self) -> &RetryReport {
        &self.report
    }

    /// The error, its report dropped.
    ///
    /// ```
    /// use retry_runtime::{response::RetryReport, tower::Reported};
    /// let e = Reported::new("refused", RetryReport::new(1, std::time::Duration::ZERO, None));
    /// assert_eq!(e.into_inner(), "refused");
    /// ```
    pub fn into_inner(self) -> E {
        self.error
    }

    /// The error and its report.
    ///
    /// ```
    /// use retry_runtime::{response::RetryReport, tower::Reported};
    /// let e = Reported::new("refused", RetryReport::new(2, std::time::Duration::ZERO, None));
    /// let (error, report) = e.into_parts();
    /// assert_eq!((error, report.attempts), ("refused", 2));
    /// ```
    pub fn into_parts(self) -> (E, RetryReport) {
        (self.error, self.report)
    }
}

/// The error it holds.
impl<E> Deref for Reported<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.error
    }
}

/// Both, the error's own `Debug` first (a URL in it masked, as
/// [`Error`](super::Error)'s masks it).
///
/// ```
/// use retry_runtime::{response::RetryReport, tower::Reported};
/// let e = Reported::new("refused", RetryReport::new(1, std::time::Duration::ZERO, None));
/// assert_eq!(format!("{e:?}"), r#"Reported { error: "refused", report: RetryReport { attempts: 1, elapsed: 0ns, gave_up: None } }"#);
/// ```
impl<E: fmt::Debug> fmt::Debug for Reported<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reported")
            .field("error", &self.error)
            .field("report", &self.report)
            .finish()
    }
}

/// The error's: the report is read, not printed.
impl<E: fmt::Display> fmt::Display for Reported<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

/// The error's source (transparent: the chain is the error's, as without
/// a report, the report adding no message of its own). A chain reporter
/// (anyhow's `{:#}`) so prints it as it prints the bare
/// [`Error`](super::Error): the held error's message twice, the
/// `Error`'s and its source's (see [`Error`](super::Error) for why); print
/// it with `{}` to see each message once.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{response::RetryReport, tower::{Error, Reported}, StopReason};
///
/// fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
///     let mut messages = vec![e.to_string()];
///     let mut next = e.source();
///     while let Some(s) = next {
///         messages.push(s.to_string());
///         next = s.source();
///     }
///     messages
/// }
/// let reset = || Error::Inner(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
/// let report = RetryReport::new(3, Duration::from_secs(2), Some(StopReason::Attempts));
/// let reported = Reported::new(reset(), report);
/// assert_eq!(chain(&reported), chain(&reset()));
/// assert_eq!(chain(&reported), ["connection reset", "connection reset"]);
/// ```
impl<E: StdError> StdError for Reported<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.error.source()
    }
}

/// The error's kind and wait: a retried call around the layer's service
/// classifies it as it did without the report.
impl<E: Classify> Classify for Reported<E> {
    fn kind(&self) -> ErrorKind {
        self.error.kind()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.error.retry_after()
    }
    fn why_permanent(&self) -> Option<&'static str> {
        self.error.why_permanent()
    }
}
