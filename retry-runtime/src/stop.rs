//! Stop conditions: when to give up.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{Policy, Stop, StopReason};
//! let _paused = retry_runtime::testing::pause(); // the waits (1s, 2s, 4s, ...) are virtual
//! let stop = Stop::after_attempts(10).with_max_elapsed(Duration::from_secs(5));
//! let e = Policy::new().with_stop(stop).retry(|| Err::<(), _>("down")).detailed().call().unwrap_err();
//! assert_eq!((e.attempts, e.reason), (3, StopReason::Deadline)); // after 1s + 2s, a 4s wait passes 5s
//! ```

use core::fmt;
use std::time::Duration;

use crate::policy_error::PolicyError;

/// When to stop retrying: after a number of attempts, after a total time, or
/// whichever comes first.
///
/// [`max_attempts`](Stop::max_attempts) counts calls, the first one
/// included: 3 means one call and up to two retries (tenacity's
/// `stop_after_attempt(3)`). [`max_elapsed`](Stop::max_elapsed) is the total
/// time including sleeps: a retry whose wait would reach it is not started;
/// the run gives up with [`StopReason::Deadline`] instead.
///
/// Built with [`Stop::after_attempts`] (or [`Stop::DEFAULT`]) and the
/// `with_*` setters, read with the getters of the same names; its fields are
/// private, so a later version can add a condition without breaking a
/// struct literal:
///
/// ```compile_fail,E0451
/// use retry_runtime::Stop;
/// let stop = Stop { max_attempts: 3, max_elapsed: None }; // error[E0451]: fields are private
/// ```
///
/// # Default
/// 3 attempts, no time limit.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Stop, StopReason};
/// let stop = Stop::after_attempts(3).with_max_elapsed(Duration::from_secs(10));
/// assert_eq!(stop.check(3, Duration::ZERO, Duration::ZERO), Some(StopReason::Attempts));
/// assert_eq!(stop.check(1, Duration::from_secs(9), Duration::from_secs(2)), Some(StopReason::Deadline));
/// assert_eq!(stop.check(1, Duration::from_secs(1), Duration::from_secs(2)), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[must_use = "a stop condition does nothing until a policy uses it (`Policy::with_stop`); `with_*` returns the changed one"]
pub struct Stop {
    /// Total calls allowed, as set: 0 (which [`Stop::validate`] rejects) is
    /// read as 1 by [`Stop::max_attempts`], which is what the runs use.
    pub(crate) attempts: u32,
    /// Total time allowed, sleeps included. (The crate's runs read the
    /// field, as [`Stop::max_elapsed`] returns it.)
    pub(crate) max_elapsed: Option<Duration>,
}

/// `Stop { max_attempts: 3, max_elapsed: None }`: the attempt limit as set
/// (0 included, so that an invalid one shows).
///
/// ```
/// let shown = format!("{:?}", retry_runtime::Stop::after_attempts(0));
/// assert_eq!(shown, "Stop { max_attempts: 0, max_elapsed: None }");
/// ```
impl fmt::Debug for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stop")
            .field("max_attempts", &self.attempts)
            .field("max_elapsed", &self.max_elapsed)
            .finish()
    }
}

impl Default for Stop {
    fn default() -> Self {
        Stop::DEFAULT
    }
}

impl Stop {
    /// 3 attempts, no time limit.
    ///
    /// ```
    /// use retry_runtime::Stop;
    /// assert_eq!((Stop::DEFAULT.max_attempts(), Stop::DEFAULT.max_elapsed()), (3, None));
    /// assert_eq!(Stop::default(), Stop::DEFAULT);
    /// ```
    pub const DEFAULT: Stop = Stop::after_attempts(3);

    /// Stop after `n` calls in all, with no time limit (`n` below 1 is
    /// rejected by [`Stop::validate`] and treated as 1).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Stop::after_attempts(4).max_attempts(), 4);
    /// ```
    pub const fn after_attempts(n: u32) -> Stop {
        Stop {
            attempts: n,
            max_elapsed: None,
        }
    }

    /// Stop after `n` calls in all, the time limit kept (`n` below 1 is
    /// rejected by [`Stop::validate`] and treated as 1).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Stop;
    /// let s = Stop::DEFAULT.with_max_elapsed(Duration::from_secs(30)).with_max_attempts(6);
    /// assert_eq!((s.max_attempts(), s.max_elapsed()), (6, Some(Duration::from_secs(30))));
    /// ```
    pub const fn with_max_attempts(self, n: u32) -> Stop {
        Stop {
            attempts: n,
            ..self
        }
    }

    /// Also stop once `limit` has passed since the first attempt started.
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = retry_runtime::Stop::after_attempts(10).with_max_elapsed(Duration::from_secs(120));
    /// assert_eq!(s.max_elapsed(), Some(Duration::from_secs(120)));
    /// ```
    pub const fn with_max_elapsed(self, limit: Duration) -> Stop {
        Stop {
            max_elapsed: Some(limit),
            ..self
        }
    }

    /// The attempt limit the runs use: the number of calls set, read as 1
    /// when it is 0 (which [`Stop::validate`] rejects).
    ///
    /// ```
    /// use retry_runtime::Stop;
    /// assert_eq!(Stop::after_attempts(5).max_attempts(), 5);
    /// assert_eq!(Stop::after_attempts(0).max_attempts(), 1);
    /// ```
    pub const fn max_attempts(&self) -> u32 {
        if self.attempts == 0 { 1 } else { self.attempts }
    }

    /// The time limit, if any (`None`: no limit).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Stop;
    /// assert_eq!(Stop::DEFAULT.max_elapsed(), None);
    /// let s = Stop::DEFAULT.with_max_elapsed(Duration::from_secs(5));
    /// assert_eq!(s.max_elapsed(), Some(Duration::from_secs(5)));
    /// ```
    #[inline]
    pub const fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }

    /// `Err` when the attempt limit is 0, or the time limit is zero (a run
    /// that would give up at its first failure; `None` is no limit).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Stop;
    /// assert!(Stop::after_attempts(0).validate().is_err());
    /// let zero = Stop::after_attempts(3).with_max_elapsed(Duration::ZERO);
    /// assert!(zero.validate().is_err());
    /// assert!(Stop::DEFAULT.validate().is_ok());
    /// ```
    pub const fn validate(&self) -> Result<(), PolicyError> {
        if self.attempts == 0 {
            return Err(PolicyError::ZeroAttempts);
        }
        match self.max_elapsed {
            Some(limit) if limit.is_zero() => Err(PolicyError::ZeroMaxElapsed),
            _ => Ok(()),
        }
    }

    /// Should the run stop, after `attempts_made` calls, `elapsed` since the
    /// start, with `next_wait` to sleep before the next call?
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = retry_runtime::Stop::after_attempts(2);
    /// assert!(s.check(1, Duration::ZERO, Duration::ZERO).is_none());
    /// assert!(s.check(2, Duration::ZERO, Duration::ZERO).is_some());
    /// ```
    #[inline]
    pub fn check(
        &self,
        attempts_made: u32,
        elapsed: Duration,
        next_wait: Duration,
    ) -> Option<StopReason> {
        if attempts_made >= self.max_attempts() {
            return Some(StopReason::Attempts);
        }
        match self.max_elapsed {
            Some(limit) if elapsed.saturating_add(next_wait) >= limit => Some(StopReason::Deadline),
            _ => None,
        }
    }
}

/// Why a run gave up.
///
/// ```
/// assert_eq!(retry_runtime::StopReason::Attempts.to_string(), "attempts exhausted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The policy does not retry this error: its kind is not among the
    /// kinds the policy retries, or its `retry_if` predicate said no. A
    /// `Permanent` error (a 404, a 401, bad input) is never retried by the
    /// presets, but this is any error the policy leaves alone: an
    /// `Unknown` one under `db`, which does not retry that kind, gives up
    /// with this reason too ("not retriable", `permanent_error` in the
    /// metrics).
    Permanent,
    /// Every attempt the policy allows was made.
    Attempts,
    /// The next retry would have started at or after `max_elapsed`, or
    /// the wait a server asked for (a Retry-After the policy honours, as
    /// asked, before the policy's cap) would have ended there.
    Deadline,
    /// The policy's [`CircuitBreaker`](crate::CircuitBreaker) is not closed:
    /// it rejected the next attempt, or it opened, so the run does not retry.
    CircuitOpen,
    /// The policy's [`RetryBudget`](crate::RetryBudget) refused the retry.
    Budget,
    /// The policy's [`Throttle`](crate::Throttle) rejected the call (before
    /// its first attempt) or the retry.
    Throttled,
    /// A retried call around this one retries this error: it is returned
    /// after one attempt, for the outer run to retry (see
    /// [`nested`](crate::nested)).
    Deferred,
    /// The request cannot be sent again, and the policy would have retried
    /// its failure (a retriable error, attempts left): the run ends after
    /// the attempt that sent it. The tower layer and the reqwest
    /// middleware send once a request whose method is not idempotent
    /// (unless it is marked so) or whose body cannot be copied; the policy's
    /// attempts did not run out, which [`Attempts`](Self::Attempts) says.
    ///
    /// ```
    /// use retry_runtime::StopReason;
    /// assert_eq!(StopReason::SentOnce.to_string(), "sent once (the request cannot be repeated)");
    /// ```
    SentOnce,
    /// The call's stop signal fired ([`Retry::stop_on`](crate::Retry::stop_on),
    /// a shutdown): no retry was made after it, and no wait was slept out;
    /// the error is the last attempt's (fired during an attempt, the
    /// attempt ran to its end; during a wait, the wait ended at once).
    ///
    /// ```
    /// use retry_runtime::StopReason;
    /// assert_eq!(StopReason::Stopped.to_string(), "stopped: its stop signal fired");
    /// ```
    Stopped,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::Permanent => "not retriable",
            StopReason::Attempts => "attempts exhausted",
            StopReason::Deadline => "deadline reached",
            StopReason::CircuitOpen => "circuit open",
            StopReason::Budget => "retry budget exhausted",
            StopReason::Throttled => "throttled",
            StopReason::Deferred => "left to the outer retry",
            StopReason::SentOnce => "sent once (the request cannot be repeated)",
            StopReason::Stopped => "stopped: its stop signal fired",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn attempts_count_calls() {
        let stop = Stop::after_attempts(3);
        assert_eq!(stop.check(1, s(0), s(1)), None);
        assert_eq!(stop.check(2, s(0), s(1)), None);
        assert_eq!(stop.check(3, s(0), s(1)), Some(StopReason::Attempts));
        assert_eq!(
            Stop::after_attempts(1).check(1, s(0), s(0)),
            Some(StopReason::Attempts)
        );
    }

    #[test]
    fn zero_attempts_is_invalid_but_harmless() {
        let stop = Stop::after_attempts(0);
        assert!(stop.validate().is_err());
        assert_eq!(stop.check(1, s(0), s(0)), Some(StopReason::Attempts));
    }

    /// One accessor per value: what a setter sets, its getter reads, in a
    /// const too (a `Stop` in a `const` policy).
    #[test]
    fn setters_and_getters_agree_in_const() {
        const S: Stop = Stop::DEFAULT
            .with_max_elapsed(Duration::from_secs(9))
            .with_max_attempts(7);
        const PAIR: (u32, Option<Duration>) = (S.max_attempts(), S.max_elapsed());
        assert_eq!(PAIR, (7, Some(s(9))));
        assert_eq!(S, Stop::after_attempts(7).with_max_elapsed(s(9)));
        // 0 is kept (validate reports it) and read as the 1 the runs make
        let zero = S.with_max_attempts(0);
        assert_eq!((zero.max_attempts(), zero.max_elapsed()), (1, Some(s(9))));
        assert_eq!(zero.validate(), Err(PolicyError::ZeroAttempts));
    }

    #[test]
    fn deadline_counts_the_coming_sleep() {
        let stop = Stop::after_attempts(100).with_max_elapsed(s(3));
        assert_eq!(stop.check(1, s(0), s(1)), None);
        assert_eq!(stop.check(2, s(1), s(1)), None);
        assert_eq!(stop.check(2, s(1), s(2)), Some(StopReason::Deadline));
        assert_eq!(stop.check(2, s(3), s(0)), Some(StopReason::Deadline));
        assert_eq!(
            stop.check(2, Duration::MAX, Duration::MAX),
            Some(StopReason::Deadline)
        );
    }

    #[test]
    fn both_limits_first_wins() {
        let stop = Stop::after_attempts(2).with_max_elapsed(s(10));
        assert_eq!(stop.check(2, s(0), s(0)), Some(StopReason::Attempts));
        assert_eq!(stop.check(1, s(9), s(5)), Some(StopReason::Deadline));
    }
}
