//! [`CircuitOpen`], the error of a call the breaker rejected.

use core::fmt;
use std::time::Duration;

use crate::classify::{Classify, ErrorKind};

/// A call rejected by an open (or fully probing half-open)
/// [`CircuitBreaker`](super::CircuitBreaker); the operation was not called.
///
/// It classifies as [`ErrorKind::Unavailable`] (the dependency is, as far as
/// this process knows, unavailable), with [`Classify::retry_after`] saying when
/// the breaker will let a probe through. A breaker
/// [forced open](super::CircuitBreaker::force_open) lets none through until a
/// reset, whatever the time: its rejection is [`forced`](CircuitOpen::forced),
/// reads ``circuit `{name}` is forced open; calls are rejected until a
/// reset``, and has no `retry_after` hint, so a retry around the call waits
/// its own backoff rather than a wait the breaker cannot keep. The run that owns the breaker never
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
///
/// // forced open: no hint, until a reset
/// let forced = CircuitOpen::new_forced("upstream");
/// assert_eq!(forced.to_string(), "circuit `upstream` is forced open; calls are rejected until a reset");
/// assert_eq!((forced.forced, forced.kind(), forced.retry_after()), (true, ErrorKind::Unavailable, None));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitOpen {
    /// The breaker's name.
    pub circuit: &'static str,
    /// When it will let a probe through, from now (never less; up to a
    /// millisecond more, as the breaker keeps whole milliseconds).
    /// `Duration::MAX` when [`forced`](CircuitOpen::forced): it lets none
    /// through until a reset.
    pub retry_after: Duration,
    /// The breaker was [forced open](super::CircuitBreaker::force_open): it
    /// rejects every call until a [reset](super::CircuitBreaker::reset),
    /// and the rejection gives no [`Classify::retry_after`] hint.
    pub forced: bool,
    /// The breaker is half-open: its probes are out and have not answered.
    /// `retry_after` is then the longest it can take (a probe that hangs is
    /// replaced after a recovery timeout); a probe's success closes the
    /// breaker sooner.
    pub half_open: bool,
}

/// ``circuit `{name}` is open; retry after {wait}`` (forced open:
/// ``circuit `{name}` is forced open; calls are rejected until a reset``;
/// half-open: ``circuit `{name}` is half-open (its probes are under way);
/// retry after {wait} at most``),
/// the name's control and format characters escaped (`\n`, `\u{1b}`), as a
/// log line's message shows it: a breaker named at run time cannot split a
/// line that shows this error.
///
/// ```
/// let name: &'static str = "tenant\n7".to_string().leak();
/// let open = retry_runtime::CircuitOpen::new(name, std::time::Duration::from_secs(1));
/// assert_eq!(open.to_string(), r"circuit `tenant\n7` is open; retry after 1s");
/// ```
impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = crate::log::Escaped(self.circuit);
        if self.forced {
            write!(
                f,
                "circuit `{name}` is forced open; calls are rejected until a reset"
            )
        } else if self.half_open {
            let wait = Wait::of(&self.retry_after);
            write!(
                f,
                "circuit `{name}` is half-open (its probes are under way); retry after {wait} at most"
            )
        } else {
            let wait = Wait::of(&self.retry_after);
            write!(f, "circuit `{name}` is open; retry after {wait}")
        }
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
            forced: false,
            half_open: false,
        }
    }

    /// A rejection by the breaker named `circuit` while it is half-open,
    /// its probes out (for tests and custom breakers): `retry_after` is
    /// the longest they can take.
    ///
    /// ```
    /// use std::time::Duration;
    /// let o = retry_runtime::CircuitOpen::new_half_open("db", Duration::from_secs(29));
    /// assert!(o.half_open);
    /// assert_eq!(o.to_string(), "circuit `db` is half-open (its probes are under way); retry after 29s at most");
    /// ```
    pub const fn new_half_open(circuit: &'static str, retry_after: Duration) -> CircuitOpen {
        CircuitOpen {
            circuit,
            retry_after,
            forced: false,
            half_open: true,
        }
    }

    /// A rejection by the breaker named `circuit`, [forced
    /// open](super::CircuitBreaker::force_open) until a reset (for tests
    /// and custom breakers): [`forced`](CircuitOpen::forced), its
    /// `retry_after` `Duration::MAX`, and no [`Classify::retry_after`] hint.
    ///
    /// ```
    /// use retry_runtime::{CircuitOpen, Classify};
    /// let o = CircuitOpen::new_forced("db");
    /// assert_eq!(o.to_string(), "circuit `db` is forced open; calls are rejected until a reset");
    /// assert_eq!((o.forced, o.retry_after), (true, std::time::Duration::MAX));
    /// assert_eq!(Classify::retry_after(&o), None);
    /// ```
    pub const fn new_forced(circuit: &'static str) -> CircuitOpen {
        CircuitOpen {
            circuit,
            retry_after: Duration::MAX,
            forced: true,
            half_open: false,
        }
    }
}

/// [`ErrorKind::Unavailable`], with the wait until the breaker lets a probe
/// through as the hint; no hint for a breaker [forced
/// open](CircuitOpen::forced), which lets none through until a reset.
impl Classify for CircuitOpen {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
    fn retry_after(&self) -> Option<Duration> {
        (!self.forced).then_some(self.retry_after)
    }
}

/// An `io::ErrorKind::ResourceBusy` error holding the rejection: get it
/// back with `get_ref()` or `into_inner()` and a downcast; its hint is the
/// `io::Error`'s [`Classify::retry_after`] (none for a breaker forced open).
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
            write!(f, "{}", crate::log::WholeSeconds(s))
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
        // a whole number of minutes or hours, rounded up first, in that unit
        assert_eq!(w(Duration::from_secs(300)), "5m");
        assert_eq!(w(Duration::from_millis(299_500)), "5m");
        assert_eq!(w(Duration::from_secs(7200)), "2h");
        assert_eq!(w(Duration::from_secs(90)), "90s");
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

    /// A breaker forced open lets no call through until a reset: its
    /// rejection says so, and gives no wait to retry after (the breaker's
    /// recovery was the hint: a job rescheduled at it spent its attempts in
    /// minutes), also converted to an `io::Error`.
    #[test]
    fn a_forced_rejection_has_no_wait() {
        let forced = CircuitOpen::new_forced("pay");
        assert!(forced.forced && !CircuitOpen::new("pay", Duration::from_secs(30)).forced);
        assert_eq!(
            forced.to_string(),
            "circuit `pay` is forced open; calls are rejected until a reset"
        );
        assert_eq!(
            (forced.kind(), forced.retry_after()),
            (ErrorKind::Unavailable, None)
        );
        let io: std::io::Error = forced.into();
        assert_eq!(
            (Classify::kind(&io), Classify::retry_after(&io)),
            (ErrorKind::Unavailable, None)
        );
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(io);
        assert_eq!(
            (boxed.kind(), boxed.retry_after()),
            (ErrorKind::Unavailable, None)
        );
        // the name escaped, as in the other message
        let name: &'static str = "tenant\n7".to_string().leak();
        assert_eq!(
            CircuitOpen::new_forced(name).to_string(),
            r"circuit `tenant\n7` is forced open; calls are rejected until a reset"
        );
    }
}
