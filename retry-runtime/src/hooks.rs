//! Log lines on `tracing`, and the events handed to `before_sleep` and
//! `on_give_up` callbacks.
//!
//! | when | level | message |
//! |---|---|---|
//! | before each sleep | WARN | `retrying {operation} after attempt {n}/{max} failed; next attempt in {wait}` (plus ` (Retry-After)` when the server chose the wait) |
//! | success after a retry | INFO | `{operation} succeeded on attempt {n}` |
//! | attempts exhausted | ERROR | `{operation} failed after {n} attempts` |
//! | deadline reached (or another stop) | ERROR | `{operation} failed after {n} attempts ({reason})` |
//! | a non-retriable error | WARN | `{operation} failed with a non-retriable error on attempt {n}` |
//!
//! Every event carries the fields `operation`, `attempt`, `max_attempts`,
//! `wait_ms` and `wait_source` (`backoff` or `retry_after`; before a sleep), `error` (its `Display`; it is a field, not part
//! of the message, so a log line shows it once) and `error_kind`
//! (`unclassified` when the policy does not classify errors). With no
//! subscriber interested, nothing is formatted and nothing is allocated.

use core::fmt::{self, Display};
use std::time::Duration;

use crate::classify::ErrorKind;
use crate::stop::StopReason;

/// Handed to a `before_sleep` callback, after the WARN line, before the sleep.
///
/// ```
/// use retry_runtime::{Policy, RetryEvent};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// static RETRIES: AtomicU32 = AtomicU32::new(0);
/// fn count(ev: &RetryEvent<'_>) {
///     RETRIES.fetch_add(1, Ordering::Relaxed);
///     assert!(ev.attempt < ev.max_attempts);
/// }
/// let _paused = retry_runtime::testing::pause();
/// let _ = Policy::new().attempts(3).before_sleep(count).retry(|| Err::<(), _>("down")).call();
/// assert_eq!(RETRIES.load(Ordering::Relaxed), 2);
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct RetryEvent<'a> {
    /// The operation's name.
    pub operation: &'static str,
    /// The attempt that just failed, from 1.
    pub attempt: u32,
    /// The policy's attempt limit.
    pub max_attempts: u32,
    /// The wait before the next attempt.
    pub wait: Duration,
    /// The error of the failed attempt.
    pub error: &'a dyn Display,
    /// Its kind, when the policy classifies errors.
    pub kind: Option<ErrorKind>,
    /// Time since the run started.
    pub elapsed: Duration,
    /// `true` when `wait` is the server's Retry-After hint rather than the backoff's.
    pub from_retry_after: bool,
}

/// Handed to an `on_give_up` callback, once, after the log line.
///
/// ```
/// use retry_runtime::{GiveUpEvent, Policy, StopReason};
/// fn alert(ev: &GiveUpEvent<'_>) {
///     assert_eq!(ev.reason, StopReason::Attempts);
///     assert_eq!(ev.attempts, 2);
///     assert_eq!(ev.error.to_string(), "down");
/// }
/// let _paused = retry_runtime::testing::pause();
/// let _ = Policy::new().attempts(2).on_give_up(alert).retry(|| Err::<(), _>("down")).call();
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct GiveUpEvent<'a> {
    /// The operation's name.
    pub operation: &'static str,
    /// Attempts made.
    pub attempts: u32,
    /// The policy's attempt limit.
    pub max_attempts: u32,
    /// Why the run stopped.
    pub reason: StopReason,
    /// The last error.
    pub error: &'a dyn Display,
    /// Its kind, when the policy classifies errors.
    pub kind: Option<ErrorKind>,
    /// Time since the run started.
    pub elapsed: Duration,
}

impl fmt::Debug for RetryEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryEvent")
            .field("operation", &self.operation)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .field("wait", &self.wait)
            .field("error", &format_args!("{}", self.error))
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Debug for GiveUpEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GiveUpEvent")
            .field("operation", &self.operation)
            .field("attempts", &self.attempts)
            .field("reason", &self.reason)
            .field("error", &format_args!("{}", self.error))
            .field("kind", &self.kind)
            .finish()
    }
}

/// " (deadline reached)" after "failed after N attempts"; nothing when the
/// attempts ran out, which the message already says.
struct Why(StopReason);

impl Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            StopReason::Attempts => Ok(()),
            reason => write!(f, " ({reason})"),
        }
    }
}

fn kind_name(kind: Option<ErrorKind>) -> &'static str {
    kind.map_or("unclassified", ErrorKind::name)
}

/// Could a WARN event reach anyone: a `tracing` subscriber that wants WARN,
/// or the `log` crate through `tracing`'s `log` feature? One relaxed atomic
/// load when nothing listens. When this is `false`, [`log_retry`] would
/// do nothing, so a run may skip building its event.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn warn_may_log() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    let to_tracing =
        tracing::Level::WARN <= STATIC_MAX_LEVEL && tracing::Level::WARN <= LevelFilter::current();
    to_tracing || tracing::if_log_enabled!(tracing::Level::WARN, { true } else { false })
}

pub(crate) fn log_retry(ev: &RetryEvent<'_>) {
    tracing::warn!(
        operation = ev.operation,
        attempt = ev.attempt,
        max_attempts = ev.max_attempts,
        wait_ms = u64::try_from(ev.wait.as_millis()).unwrap_or(u64::MAX),
        error = %ev.error,
        error_kind = kind_name(ev.kind),
        wait_source = if ev.from_retry_after { "retry_after" } else { "backoff" },
        "retrying {} after attempt {}/{} failed; next attempt in {:?}{}",
        ev.operation,
        ev.attempt,
        ev.max_attempts,
        ev.wait,
        if ev.from_retry_after { " (Retry-After)" } else { "" },
    );
}

pub(crate) fn log_give_up(ev: &GiveUpEvent<'_>) {
    if ev.reason == StopReason::Permanent {
        tracing::warn!(
            operation = ev.operation,
            attempt = ev.attempts,
            max_attempts = ev.max_attempts,
            error = %ev.error,
            error_kind = kind_name(ev.kind),
            "{} failed with a non-retriable error on attempt {}",
            ev.operation,
            ev.attempts,
        );
    } else {
        tracing::error!(
            operation = ev.operation,
            attempt = ev.attempts,
            max_attempts = ev.max_attempts,
            error = %ev.error,
            error_kind = kind_name(ev.kind),
            reason = %ev.reason,
            "{} failed after {} attempts{}",
            ev.operation,
            ev.attempts,
            Why(ev.reason),
        );
    }
}

pub(crate) fn log_success(operation: &'static str, attempt: u32, max_attempts: u32) {
    tracing::info!(
        operation,
        attempt,
        max_attempts,
        "{} succeeded on attempt {}",
        operation,
        attempt
    );
}
