//! The events handed to `before_sleep` and `on_give_up` callbacks. The log
//! lines that go with them are listed in [`crate::log`].
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
//! use retry_runtime::{GiveUpEvent, Policy, RetryEvent};
//! static RETRIES: AtomicU32 = AtomicU32::new(0);
//! static GAVE_UP_AFTER: AtomicU32 = AtomicU32::new(0);
//! let _paused = retry_runtime::testing::pause();
//! let policy = Policy::new()
//!     .with_before_sleep(|_: &RetryEvent<'_>| { RETRIES.fetch_add(1, Relaxed); })
//!     .with_on_give_up(|ev: &GiveUpEvent<'_>| GAVE_UP_AFTER.store(ev.attempts, Relaxed));
//! assert_eq!(policy.retry(|| Err::<(), _>("down")).call(), Err("down"));
//! assert_eq!((RETRIES.load(Relaxed), GAVE_UP_AFTER.load(Relaxed)), (2, 3));
//! ```

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
/// let _ = Policy::new().with_max_attempts(3).with_before_sleep(count).retry(|| Err::<(), _>("down")).call();
/// assert_eq!(RETRIES.load(Ordering::Relaxed), 2);
/// ```
///
/// Built by the runtime (`#[non_exhaustive]`, with no constructor); to test
/// a hook, drive a policy with [`testing::pause()`](crate::testing::pause):
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{testing, Backoff, Policy, RetryEvent};
///
/// // the hook under test: the line it logs for a retry
/// fn describe(ev: &RetryEvent<'_>) -> String {
///     format!("{} attempt {}/{} failed ({}), next in {:?}",
///         ev.operation, ev.attempt, ev.max_attempts, ev.error, ev.wait)
/// }
///
/// let paused = testing::pause(); // the waits are recorded, not slept
/// let policy = Policy::new()
///     .with_name("charge")
///     .with_max_attempts(2)
///     .with_backoff(Backoff::fixed(Duration::from_secs(1)));
/// let mut lines = Vec::new();
/// let _ = policy
///     .retry(|| Err::<(), _>("card declined"))
///     .notify(|ev| lines.push(describe(ev)))
///     .call();
/// assert_eq!(lines, ["charge attempt 1/2 failed (card declined), next in 1s"]);
/// assert_eq!(paused.waits(), [Duration::from_secs(1)]);
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
    /// Time since the run started; for a decision reported with
    /// [`Policy::report_at`](crate::Policy::report_at), the `elapsed` given
    /// (zero for a decision reported with
    /// [`Policy::report`](crate::Policy::report)).
    pub elapsed: Duration,
    /// What chose `wait`: the backoff, the server's Retry-After hint
    /// (under [`RetryAfter::with_at_least_backoff`](crate::RetryAfter::with_at_least_backoff),
    /// when the hint's wait was the longer), or the policy's
    /// [cooldown](crate::cooldown) (another call's hold, or its pace's
    /// slot, made it longer than either).
    pub wait_source: WaitSource,
    /// The wait the server asked for, when the policy honoured it but
    /// waited otherwise: cut to its cap
    /// ([`RetryAfter::cap`](crate::RetryAfter::cap), 60s by default), the
    /// retry line reading `next attempt in 1m (Retry-After: 2m, capped)`,
    /// or raised to its floor ([`RetryAfter::floor`](crate::RetryAfter::floor)),
    /// `next attempt in 2s (Retry-After: 0ns, floored)`. `None` for a
    /// wait the server's hint did not choose, or one it chose as asked.
    pub asked: Option<Duration>,
    /// `true` when the attempt returned an `Ok` that `retry_if_ok` (or
    /// [`Run::rejected`](crate::Run::rejected)) rejected, a poll's "not
    /// ready yet": `error` is then `the result was rejected by
    /// retry_if_ok`. A hook that counts failures leaves these out.
    pub rejected_ok: bool,
}

/// What chose a retry's wait ([`RetryEvent::wait_source`]; the retry
/// line's `wait_source` field, [`as_str`](Self::as_str)).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{testing, Backoff, Policy, WaitSource};
/// use retry_runtime::cooldown::Cooldown;
///
/// static PARTNER: Cooldown = Cooldown::new("partner");
/// let _paused = testing::pause();
/// let policy = Policy::new()
///     .with_max_attempts(2)
///     .with_backoff(Backoff::fixed(Duration::from_millis(20)))
///     .with_cooldown(&PARTNER);
/// let mut sources = Vec::new();
/// let _ = policy
///     .retry(|| {
///         PARTNER.hold_for(Duration::from_secs(3)); // another call's 429
///         Err::<(), _>("busy")
///     })
///     .notify(|ev| sources.push(ev.wait_source))
///     .call();
/// assert_eq!(sources, [WaitSource::Cooldown]);
/// assert_eq!(WaitSource::Cooldown.as_str(), "cooldown");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitSource {
    /// The policy's backoff (and jitter).
    Backoff,
    /// The server's hint (`Retry-After`, `retry-after-ms`,
    /// `grpc-retry-pushback-ms`, an error's own), as the policy honours it.
    RetryAfter,
    /// The policy's [cooldown](crate::cooldown): its hold (another call's
    /// 429) or its pace's next slot, later than the wait the backoff or
    /// the server chose.
    Cooldown,
}

impl WaitSource {
    /// The name the retry line's `wait_source` field gives it:
    /// `backoff`, `retry_after` or `cooldown`.
    ///
    /// ```
    /// assert_eq!(retry_runtime::WaitSource::RetryAfter.as_str(), "retry_after");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            WaitSource::Backoff => "backoff",
            WaitSource::RetryAfter => "retry_after",
            WaitSource::Cooldown => "cooldown",
        }
    }
}

/// Handed to an `on_give_up` callback, once, after the log line. A run that
/// leaves its error to an outer retried call ([`StopReason::Deferred`],
/// [`nested`](crate::nested)) has not given up and does not call it: the
/// outer run does, if it gives up.
///
/// ```
/// use retry_runtime::{GiveUpEvent, Policy, StopReason};
/// fn alert(ev: &GiveUpEvent<'_>) {
///     assert_eq!(ev.reason, StopReason::Attempts);
///     assert_eq!(ev.attempts, 2);
///     assert_eq!(ev.error.to_string(), "down");
/// }
/// let _paused = retry_runtime::testing::pause();
/// let _ = Policy::new().with_max_attempts(2).with_on_give_up(alert).retry(|| Err::<(), _>("down")).call();
/// ```
///
/// Built by the runtime (`#[non_exhaustive]`, with no constructor); to test
/// a hook, drive a policy with [`testing::pause()`](crate::testing::pause):
///
/// ```
/// use std::sync::Mutex;
/// use retry_runtime::{testing, GiveUpEvent, Policy};
///
/// // the hook under test: the text of the alert it sends
/// fn alert(ev: &GiveUpEvent<'_>) -> String {
///     format!("{} gave up after {} attempts ({:?}): {}",
///         ev.operation, ev.attempts, ev.reason, ev.error)
/// }
///
/// static SENT: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// let _paused = testing::pause(); // the waits are recorded, not slept
/// let policy = Policy::new()
///     .with_name("charge")
///     .with_max_attempts(3)
///     .with_on_give_up(|ev| SENT.lock().unwrap().push(alert(ev)));
/// let _ = policy.retry(|| Err::<(), _>("card declined")).call();
/// assert_eq!(*SENT.lock().unwrap(), ["charge gave up after 3 attempts (Attempts): card declined"]);
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct GiveUpEvent<'a> {
    /// The operation's name.
    pub operation: &'static str,
    /// Attempts made (a hedged run's: those it started, hedges included;
    /// its last error may be an earlier attempt's than the last started).
    pub attempts: u32,
    /// The policy's attempt limit.
    pub max_attempts: u32,
    /// Why the run stopped.
    pub reason: StopReason,
    /// The last error.
    pub error: &'a dyn Display,
    /// Its kind, when the policy classifies errors.
    pub kind: Option<ErrorKind>,
    /// Time since the run started; for a decision reported with
    /// [`Policy::report_at`](crate::Policy::report_at), the `elapsed` given
    /// (zero for a decision reported with
    /// [`Policy::report`](crate::Policy::report)).
    pub elapsed: Duration,
    /// Why the error is `Permanent` when its kind alone would not say so
    /// ([`When::why_permanent`](crate::When::why_permanent)), asked by the
    /// give-up line of a non-retriable error if it is written; `None`
    /// where the error's type is not known.
    pub(crate) why_permanent: WhyPermanent<'a>,
}

/// [`GiveUpEvent`]'s `why_permanent`: the question, asked only by a line
/// that is written (a gRPC status reads its metadata again).
pub(crate) type WhyPermanent<'a> = Option<&'a dyn Fn() -> Option<&'static str>>;

/// Every field; `error` by its `Display` (it is a `&dyn Display`).
impl fmt::Debug for RetryEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryEvent")
            .field("operation", &self.operation)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .field("wait", &self.wait)
            .field("error", &format_args!("{}", self.error))
            .field("kind", &self.kind)
            .field("elapsed", &self.elapsed)
            .field("wait_source", &self.wait_source)
            .field("asked", &self.asked)
            .field("rejected_ok", &self.rejected_ok)
            .finish()
    }
}

/// Every field; `error` by its `Display` (it is a `&dyn Display`).
impl fmt::Debug for GiveUpEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GiveUpEvent")
            .field("operation", &self.operation)
            .field("attempts", &self.attempts)
            .field("max_attempts", &self.max_attempts)
            .field("reason", &self.reason)
            .field("error", &format_args!("{}", self.error))
            .field("kind", &self.kind)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

impl GiveUpEvent<'_> {
    /// Why the error is `Permanent` when its kind alone would not say so
    /// ([`Classify::why_permanent`](crate::Classify::why_permanent)): what
    /// the give-up line of a non-retriable error adds in parentheses, for
    /// an alert that says it too. Asked when called (a gRPC status reads its
    /// pushback again); `None` for a run that did not stop on a
    /// non-retriable error ([`StopReason::Permanent`]), an error that says
    /// nothing, and one whose type the policy's condition does not know (a
    /// `retry_if` predicate's).
    ///
    /// ```
    /// use std::fmt;
    /// use std::sync::Mutex;
    /// use retry_runtime::{Classify, ErrorKind, GiveUpEvent, Policy};
    ///
    /// /// A payment the provider declined, and said not to try again.
    /// #[derive(Debug)]
    /// struct Declined;
    /// impl fmt::Display for Declined {
    ///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("card declined") }
    /// }
    /// impl Classify for Declined {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::Permanent }
    ///     fn why_permanent(&self) -> Option<&'static str> {
    ///         Some("the provider marked the decline final")
    ///     }
    /// }
    ///
    /// static ALERTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    /// fn alert(ev: &GiveUpEvent<'_>) {
    ///     let why = ev.why_permanent().unwrap_or("no reason given");
    ///     ALERTS.lock().unwrap().push(format!("{}: {} ({why})", ev.operation, ev.error));
    /// }
    /// let policy = Policy::new()
    ///     .with_name("charge")
    ///     .retry_on(ErrorKind::Unavailable | ErrorKind::Timeout)
    ///     .with_on_give_up(alert);
    /// let _ = policy.retry(|| Err::<(), _>(Declined)).call();
    /// assert_eq!(
    ///     *ALERTS.lock().unwrap(),
    ///     ["charge: card declined (the provider marked the decline final)"]
    /// );
    /// ```
    pub fn why_permanent(&self) -> Option<&'static str> {
        if self.reason != StopReason::Permanent {
            return None;
        }
        self.why_permanent.and_then(|why| why())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field by name, in the order of the struct.
    fn assert_fields(debug: &str, fields: &[&str]) {
        let mut rest = debug;
        for field in fields {
            let at = rest
                .find(&format!("{field}: "))
                .unwrap_or_else(|| panic!("`{field}` missing (or out of order) in {debug}"));
            rest = &rest[at..];
        }
    }

    #[test]
    fn debug_shows_every_field() {
        let retry = RetryEvent {
            operation: "fetch",
            attempt: 1,
            max_attempts: 3,
            wait: Duration::from_secs(2),
            error: &"boom",
            kind: Some(ErrorKind::Timeout),
            elapsed: Duration::from_millis(5),
            wait_source: WaitSource::RetryAfter,
            asked: Some(Duration::from_secs(120)),
            rejected_ok: false,
        };
        let debug = format!("{retry:?}");
        assert_fields(
            &debug,
            &[
                "operation",
                "attempt",
                "max_attempts",
                "wait",
                "error",
                "kind",
                "elapsed",
                "wait_source",
                "asked",
                "rejected_ok",
            ],
        );
        assert!(debug.contains("error: boom") && debug.contains("wait_source: RetryAfter"));
        let give_up = GiveUpEvent {
            operation: "fetch",
            attempts: 3,
            max_attempts: 3,
            reason: StopReason::Attempts,
            error: &"boom",
            kind: None,
            elapsed: Duration::from_millis(5),
            why_permanent: None,
        };
        assert_fields(
            &format!("{give_up:?}"),
            &[
                "operation",
                "attempts",
                "max_attempts",
                "reason",
                "error",
                "kind",
                "elapsed",
            ],
        );
    }

    /// `why_permanent()` answers for a non-retriable error only: the reason
    /// an error gives is not why a run that exhausted its attempts stopped.
    #[test]
    fn why_permanent_is_told_for_a_non_retriable_error_only() {
        let why = || Some("the server asked not to retry");
        let event = |reason| GiveUpEvent {
            operation: "fetch",
            attempts: 1,
            max_attempts: 3,
            reason,
            error: &"boom",
            kind: Some(ErrorKind::Permanent),
            elapsed: Duration::ZERO,
            why_permanent: Some(&why),
        };
        assert_eq!(
            event(StopReason::Permanent).why_permanent(),
            Some("the server asked not to retry")
        );
        assert_eq!(event(StopReason::Attempts).why_permanent(), None);
        assert_eq!(event(StopReason::Deadline).why_permanent(), None);
        let unknown = GiveUpEvent {
            why_permanent: None,
            ..event(StopReason::Permanent)
        };
        assert_eq!(unknown.why_permanent(), None);
    }
}
