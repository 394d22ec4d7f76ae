//! What a breaker shows of itself: its [`CircuitState`] and the
//! [`CircuitStats`] snapshot for metrics.

use core::fmt;

/// The state of a [`CircuitBreaker`](super::CircuitBreaker).
///
/// ```
/// use retry_runtime::circuit::CircuitState;
/// assert_eq!(CircuitState::HalfOpen.to_string(), "half-open");
/// assert_eq!(CircuitState::default(), CircuitState::Closed);
/// ```
///
/// The breaker hands it to you ([`state`](super::CircuitBreaker::state),
/// [`CircuitStats::state`]), so it is `#[non_exhaustive]`, as the other
/// enums you receive are: a `match` on it has a `_` arm.
///
/// ```
/// use retry_runtime::{circuit::CircuitState, CircuitBreaker};
/// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");
/// let calls = match UPSTREAM.state() {
///     CircuitState::Closed => "all",
///     CircuitState::HalfOpen => "a few probes",
///     _ => "none", // Open, and any state a later version adds
/// };
/// assert_eq!(calls, "all");
/// ```
///
/// ```compile_fail,E0004
/// use retry_runtime::circuit::CircuitState;
/// fn calls(state: CircuitState) -> &'static str {
///     match state {
///         CircuitState::Closed => "all",
///         CircuitState::Open => "none",
///         CircuitState::HalfOpen => "a few probes",
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CircuitState {
    /// Calls go through; failures are counted.
    #[default]
    Closed,
    /// Calls are rejected until the recovery timeout has passed (or, forced
    /// open with [`force_open`](super::CircuitBreaker::force_open), until a
    /// reset).
    Open,
    /// A bounded number of probe calls go through; the rest are rejected.
    HalfOpen,
}

impl CircuitState {
    /// `"closed"`, `"open"` or `"half-open"`, as in log fields.
    ///
    /// ```
    /// assert_eq!(retry_runtime::circuit::CircuitState::Open.as_str(), "open");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
        }
    }
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of a [`CircuitBreaker`](super::CircuitBreaker) for metrics, from
/// [`CircuitBreaker::stats`](super::CircuitBreaker::stats).
///
/// ```
/// let s = retry_runtime::CircuitBreaker::new("b").stats();
/// assert_eq!(s.permitted + s.rejected, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitStats {
    /// The current state.
    pub state: CircuitState,
    /// Consecutive failures so far (closed; 0 otherwise).
    pub consecutive_failures: u32,
    /// Calls in the failure-rate window (closed, with a window; 0 otherwise).
    pub window_calls: u32,
    /// Failures among them.
    pub window_failures: u32,
    /// Probe slots taken in this half-open round (half-open; 0 otherwise): a
    /// probe that ended with no outcome (cancelled, panicked) gave its slot
    /// back and is not counted.
    pub probes_let_through: u32,
    /// Probes of this round that succeeded, with those of the round it
    /// replaced that succeeded since (they took none of this round's
    /// slots, so this may exceed `probes_let_through`).
    pub probes_succeeded: u32,
    /// Calls let through, ever (probes included).
    pub permitted: u64,
    /// Calls rejected, ever: attempts asked for while the breaker let
    /// none through (a `try_acquire` answered `Err`, the calls of
    /// `StopReason::CircuitOpen` with no attempt made). A run whose retry
    /// finds the breaker not closed stops without asking (it returns its
    /// last attempt's error, `StopReason::CircuitOpen` after its attempts)
    /// and is not counted here: 20 runs that all end on a breaker that
    /// opened under them may count 2. Count runs by how they ended
    /// ([`RetryError::reason`](crate::RetryError::reason), or the metric
    /// `retry_calls_total`'s outcomes `circuit_open` and
    /// `not_attempted_circuit_open`).
    pub rejected: u64,
    /// Successes recorded, ever.
    pub successes: u64,
    /// Failures recorded, ever.
    pub failures: u64,
    /// Neutral outcomes recorded, ever: errors the policy does not retry,
    /// results `retry_if_ok` rejected, and attempts cut short (a run
    /// dropped or unwound in its attempt, a hedged attempt cancelled).
    pub neutral: u64,
    /// Times the breaker opened (re-opening after a failed probe and
    /// [`force_open`](super::CircuitBreaker::force_open) of a breaker that
    /// was not open included; forcing open a breaker its failures opened
    /// adds nothing).
    pub opened: u64,
    /// Open by [`force_open`](super::CircuitBreaker::force_open): until a
    /// reset, with no recovery timeout.
    pub forced_open: bool,
}
