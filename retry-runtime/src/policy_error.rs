//! [`PolicyError`], the error of an invalid policy value, in a module of its
//! own: `backoff` and `stop` return it from their checks and `policy`
//! builds on them, so none of them imports it from another.

/// An invalid policy value.
///
/// ```
/// assert_eq!(retry_runtime::PolicyError::ZeroAttempts.to_string(), "attempts must be at least 1");
/// // also at its older path
/// let _: retry_runtime::policy::PolicyError = retry_runtime::PolicyError::ZeroAttempts;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// `attempts` was 0.
    ZeroAttempts,
    /// The first delay of a linear, exponential or fibonacci backoff exceeds its cap.
    FirstAboveCap,
    /// An exponential factor below 1, NaN or infinite.
    FactorBelowOne,
    /// Every wait of the backoff would be zero (an exponential or fibonacci
    /// backoff starting at zero, a linear one with zero start and step);
    /// `Backoff::None` says that on purpose.
    ZeroDelays,
    /// A hedge delay of zero (every attempt at once: use more callers, not
    /// hedging), or one at or above `max_elapsed` (no hedge could start).
    HedgeDelay,
    /// A `max_elapsed` of zero: the run would give up at its first failure
    /// (leave it unset for no limit).
    ZeroMaxElapsed,
    /// Decorrelated jitter with a backoff whose first wait is its cap (a
    /// fixed one): it draws between the two, so no wait would be randomized;
    /// or whose first wait is zero (a linear backoff starting at zero): every
    /// wait of a run would be zero (each draw starts from the previous one).
    DecorrelatedWithoutRange,
    /// A [`RetryAfter`](crate::RetryAfter) honouring hints for some kinds with
    /// a cap of zero: every hint would become a wait of zero, an immediate
    /// retry, the burst the server asked to avoid.
    /// [`RetryAfter::IGNORE`](crate::RetryAfter::IGNORE) ignores hints.
    ZeroRetryAfterCap,
    /// A [`RetryAfter`](crate::RetryAfter) whose `floor` is above its `cap`.
    RetryAfterFloorAboveCap,
    /// A [`CircuitBreaker`](crate::CircuitBreaker) that can never open:
    /// [`with_failures(0)`](crate::CircuitBreaker::with_failures) turned its
    /// consecutive-failure rule off, and it has no failure-rate window
    /// ([`with_failure_rate`](crate::CircuitBreaker::with_failure_rate)).
    CircuitNeverOpens,
    /// A hedge delay with `attempts` of 1: at most `attempts` run at once,
    /// so no hedge could ever start.
    HedgeWithOneAttempt,
    /// A jitter that adds nothing or more than ten times the wait:
    /// `Jitter::Plus(Duration::ZERO)`, `Jitter::Proportional(0)`, or a
    /// percent above 1000 (the attribute's `"+0%"`, `"+0s"` and `"+5000%"`
    /// are refused the same way).
    JitterAmount,
    /// A [`Backoff::schedule`](crate::Backoff::schedule) of no wait, or
    /// of more than 32 (the last wait repeats: list it once).
    ScheduleLength,
    /// A [`Backoff::schedule`](crate::Backoff::schedule) of more waits
    /// than the attempt limit makes retries: its last waits would never be
    /// waited (with 3 attempts, two waits are).
    ScheduleBeyondAttempts,
    /// Decorrelated jitter over a [`Backoff::schedule`](crate::Backoff::schedule):
    /// it draws its own waits (from the first up to three times the
    /// previous one), so the schedule's would not be waited as written.
    DecorrelatedOverSchedule,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    /// The message, usable in `const` panics.
    ///
    /// ```
    /// assert!(retry_runtime::PolicyError::FactorBelowOne.message().contains(">= 1"));
    /// ```
    pub const fn message(self) -> &'static str {
        match self {
            PolicyError::ZeroAttempts => "attempts must be at least 1",
            PolicyError::FirstAboveCap => "the first delay of the backoff is greater than its cap",
            PolicyError::FactorBelowOne => {
                "the exponential backoff factor must be a finite number >= 1"
            }
            PolicyError::ZeroDelays => {
                "every wait of this backoff would be zero; use Backoff::None for no wait"
            }
            PolicyError::HedgeDelay => "the hedge delay must be above zero and below max_elapsed",
            PolicyError::ZeroMaxElapsed => {
                "max_elapsed must be above zero (leave it unset for no limit)"
            }
            PolicyError::DecorrelatedWithoutRange => {
                "decorrelated jitter draws between the backoff's first wait and its cap, which are equal here (or the first is zero, so every wait of a run would be); use full or equal jitter, or a backoff that starts above zero and grows"
            }
            PolicyError::ZeroRetryAfterCap => {
                "a Retry-After cap of zero turns every server's hint into an immediate retry; use RetryAfter::IGNORE to ignore hints, or a cap above zero"
            }
            PolicyError::RetryAfterFloorAboveCap => {
                "the Retry-After floor is above its cap; a hint's wait is at least the floor and at most the cap"
            }
            PolicyError::HedgeWithOneAttempt => {
                "a hedge needs at least 2 attempts: at most `attempts` run at once, so with 1 no hedge could start"
            }
            PolicyError::ScheduleLength => {
                "a schedule lists 1 to 32 waits (the last one repeats for every further retry)"
            }
            PolicyError::ScheduleBeyondAttempts => {
                "the schedule lists more waits than the attempt limit makes retries, so its last waits would never be waited; set the attempts to the waits + 1 (or more: the last wait repeats), or drop the waits never reached"
            }
            PolicyError::DecorrelatedOverSchedule => {
                "decorrelated jitter draws its own waits, so a schedule's would not be waited as written; spread them with Proportional, Plus, Full or Equal jitter"
            }
            PolicyError::JitterAmount => {
                "the jitter must add something and at most ten times the wait: Plus above zero, Proportional from 1 to 1000 percent; use Jitter::None for no jitter"
            }
            PolicyError::CircuitNeverOpens => {
                "the circuit breaker can never open: with_failures(0) turns its consecutive-failure rule off and it has no failure-rate window; give it with_failures(n) with n >= 1, or with_failure_rate(percent, calls)"
            }
        }
    }
}
