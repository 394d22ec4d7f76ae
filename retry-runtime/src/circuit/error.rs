//! [`CircuitOpen`], the error of a call the breaker rejected.

use core::fmt;
use std::time::Duration;

use crate::classify::{Classify, ErrorKind};

/// A call rejected by an open (or fully probing half-open)
/// [`CircuitBreaker`](super::CircuitBreaker); the operation was not called.
///
/// It classifies as [`ErrorKind::Unavailable`] (the dependency is, as far as
/// this process knows, unavailable), with [`Classify::retry_after`] saying when
/// the breaker will let a probe through. The run that owns the breaker never
/// retries it: the rejection ends the run before any attempt is made
/// ([`StopReason::CircuitOpen`](crate::StopReason::CircuitOpen)). An outer
/// retry layer without this breaker may retry it later, and waits for the
/// hint if it honours Retry-After for `Unavailable` (the `api` preset does).
///
/// `#[retry(circuit = NAME)]` and every run of a policy with a breaker return it as the
/// function's own error type, which implements `From<CircuitOpen>`
/// (`std::io::Error` does: an `io::ErrorKind::ResourceBusy` error that
/// holds the rejection, so its `retry_after` is still there, for you to
/// downcast to and for a retry around the call to wait for).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{CircuitOpen, Classify, ErrorKind};
/// let open = CircuitOpen::new("upstream", Duration::from_secs(30));
/// assert_eq!(open.to_string(), "circuit `upstream` is open; retry after 30s");
/// assert_eq!((open.kind(), open.retry_after()), (ErrorKind::Unavailable, Some(Duration::from_secs(30))));
/// let io: std::io::Error = open.into();
/// assert_eq!(Classify::kind(&io), ErrorKind::Unavailable);
/// assert_eq!(Classify::retry_after(&io), Some(Duration::from_secs(30)));
/// let held = io.get_ref().and_then(|e| e.downcast_ref::<CircuitOpen>());
/// assert_eq!(held.map(|o| o.retry_after), Some(Duration::from_secs(30)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitOpen {
    /// The breaker's name.
    pub circuit: &'static str,
    /// When it will let a probe through, from now (never less; up to a
    /// millisecond more, as the breaker keeps whole milliseconds).
    pub retry_after: Duration,
}

/// ``circuit `{name}` is open; retry after {wait}``, the name's control and
/// format characters escaped (`\n`, `\u{1b}`), as a log line's message
/// shows it: a breaker named at run time cannot split a line that shows
/// this error.
///
/// ```
/// let name: &'static str = "tenant\n7".to_string().leak();
/// let open = retry_runtime::CircuitOpen::new(name, std::time::Duration::from_secs(1));
/// assert_eq!(open.to_string(), r"circuit `tenant\n7` is open; retry after 1s");
/// ```
impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "circuit `{}` is open; retry after {}",
            crate::log::Escaped(self.circuit),
            Wait::of(&self.retry_after)
        )
    }
}

impl std::error::Error for CircuitOpen {}

impl CircuitOpen {
    /// A rejection by the breaker named `circuit` (for tests and custom breakers).
    ///
    /// ```
    /// let o = retry_runtime::CircuitOpen::new("db", std::time::Duration::from_millis(250));
    /// assert_eq!(o.to_string(), "circuit `db` is open; retry after 250ms");
    /// ```
    pub const fn new(circuit: &'static str, retry_after: Duration) -> CircuitOpen {
        CircuitOpen {
            circuit,
            retry_after,
        }
    }
}

impl Classify for CircuitOpen {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
    fn retry_after(&self) -> Option<Duration> {
        Some(self.retry_after)
    }
}

/// An `io::ErrorKind::ResourceBusy` error holding the rejection: get it
/// back with `get_ref()` or `into_inner()` and a downcast; its wait is the
/// `io::Error`'s [`Classify::retry_after`].
impl From<CircuitOpen> for std::io::Error {
    fn from(open: CircuitOpen) -> Self {
        std::io::Error::new(std::io::ErrorKind::ResourceBusy, open)
    }
}

/// A wait for humans: whole seconds from 1s, else milliseconds, rounded up
/// past the millisecond the breaker may add to a wait (it keeps whole
/// milliseconds, and rounds a wait up to never tell it short): a breaker
/// opened for 30s says "retry after 30s" at once, not "31s". The exact
/// wait is [`CircuitOpen::retry_after`].
struct Wait(Duration);

impl Wait {
    fn of(d: &Duration) -> Wait {
        Wait(*d)
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d >= Duration::from_secs(1) {
            let d = d - Duration::from_millis(1);
            let s = d.as_secs().saturating_add(u64::from(d.subsec_nanos() != 0));
            write!(f, "{s}s")
        } else {
            let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
            write!(f, "{ms}ms")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_display() {
        let w = |d| Wait(d).to_string();
        assert_eq!(w(Duration::from_secs(30)), "30s");
        // the millisecond a breaker's wait may carry is not a second more
        assert_eq!(w(Duration::from_millis(30_001)), "30s");
        assert_eq!(w(Duration::from_millis(29_001)), "29s");
        assert_eq!(w(Duration::from_micros(29_001_001)), "30s");
        assert_eq!(w(Duration::from_millis(1_000)), "1s");
        assert_eq!(w(Duration::from_millis(1_001)), "1s");
        assert_eq!(w(Duration::from_millis(1_002)), "2s");
        assert_eq!(w(Duration::from_millis(250)), "250ms");
        assert_eq!(w(Duration::from_micros(1)), "1ms");
        assert_eq!(w(Duration::ZERO), "0ms");
        // a user's "open indefinitely" (the field is public): no overflow
        assert_eq!(w(Duration::MAX), format!("{}s", u64::MAX));
    }

    /// A rejection converted to an `io::Error` (a function returning
    /// `io::Result` under a breaker) keeps its wait: for the user, who
    /// downcasts to it, and for the runtime, which reads it as the hint.
    #[test]
    fn an_io_error_keeps_the_rejection_and_its_wait() {
        let io: std::io::Error = CircuitOpen::new("db", Duration::from_secs(30)).into();
        let open = io.get_ref().and_then(|e| e.downcast_ref::<CircuitOpen>());
        assert_eq!(open.map(|o| o.retry_after), Some(Duration::from_secs(30)));
        assert_eq!(Classify::kind(&io), ErrorKind::Unavailable);
        assert_eq!(Classify::retry_after(&io), Some(Duration::from_secs(30)));
        // boxed, by its chain, as a middleware's classifier reads it
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(io);
        assert_eq!(
            (boxed.kind(), boxed.retry_after()),
            (ErrorKind::Unavailable, Some(Duration::from_secs(30)))
        );
        let io = boxed.downcast::<std::io::Error>().unwrap();
        let open = io.into_inner().unwrap().downcast::<CircuitOpen>().unwrap();
        assert_eq!(*open, CircuitOpen::new("db", Duration::from_secs(30)));
    }
}
