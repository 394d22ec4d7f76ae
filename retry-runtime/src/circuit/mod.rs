//! [`CircuitBreaker`]: stop calling a dependency that keeps failing, and probe
//! it again after a recovery timeout.
//!
//! ```text
//!            N consecutive failures, or the failure rate
//!            of the last M calls reaches the threshold
//!   Closed ─────────────────────────────────────────────▶ Open ──┐
//!     ▲                                                   ▲      │ recovery timeout
//!     │ every probe succeeded            a probe failed   │      ▼
//!     └──────────────────────────── HalfOpen ─────────────┘  (the next call
//!                                  (up to `probes` calls)     turns it half-open)
//! ```
//!
//! - **Closed**: calls go through. Retriable failures count; a success resets
//!   the consecutive count. Errors the policy does *not* retry (a 404, bad
//!   input) are neutral: they say nothing about the dependency's health.
//! - **Open**: calls are rejected at once with [`CircuitOpen`], without
//!   calling the operation.
//! - **HalfOpen**: once the recovery timeout has passed, up to `probes` calls
//!   go through. When all of them succeed the breaker closes; one failure
//!   re-opens it for another recovery timeout. A probe whose run is dropped
//!   in its attempt (a cancelled future, a panic) is recorded as neutral by
//!   the run, every executor's and `#[retry]`'s: its slot is free at once.
//!   A probe that never reports (a call that hangs, a [`Permit`] of your
//!   own never recorded) does not block the breaker either: after another
//!   recovery timeout a new round of probes is let through. A probe of the
//!   round so replaced that reports late still counts, in the new round:
//!   calls slower than the recovery timeout close the breaker too.
//! - By hand: [`force_open`](CircuitBreaker::force_open) opens it until
//!   [`reset`](CircuitBreaker::reset) closes it (no recovery timeout, no
//!   probes; its rejections are [`forced`](CircuitOpen::forced), with no
//!   wait to retry after); `reset` closes it from any state.
//!
//! State changes are logged on `tracing` under the target
//! [`retry_runtime`](crate::log::TARGET): WARN when it opens, INFO when it
//! turns half-open or closes, with the fields `circuit` (its name) and
//! `state` (and `failures` and `recovery_ms` when it opens or opens again,
//! `probes` otherwise). Each line is written by
//! the thread that made the move, after it: moves made at the same moment
//! on several threads may be logged in another order than they were made.
//! [`state`](CircuitBreaker::state), and the `retry_circuit_state` gauge of
//! the metrics (feature `metrics`), end on the current state.
//!
//! # Concurrency
//! The whole state machine is one `AtomicU64` (state, consecutive failures or
//! probe counts, a generation, the time of the last transition) changed by
//! compare-and-swap, plus one `AtomicU64` ring of the last outcomes when a
//! failure-rate window is configured. No lock, no allocation (with the
//! `metrics` feature on, a transition sets the state gauge under a
//! lock of the breaker's own, so that it ends on the current state when
//! threads move the breaker at once). In the closed
//! state, letting a call through is one load (and a counter increment for
//! [`stats`](CircuitBreaker::stats)); recording a success writes only when
//! there were failures to forget.
//!
//! # Time
//! The breaker reads time through a [`Clock`]: [`SystemClock`]
//! (tokio's clock, which follows `tokio::time::pause()`, plus the virtual time of
//! [`testing::pause`](crate::testing::pause)), or a [`ManualClock`] that tests
//! move by hand. It keeps the time of its last transition in whole
//! milliseconds on a 40-bit wrapping scale, and takes a reading 2^39 ms
//! (about 17 years) or more after it for a clock that went back: see
//! [`ManualClock`]'s docs.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::circuit::{CircuitBreaker, CircuitState, ManualClock, Outcome};
//!
//! static CLOCK: ManualClock = ManualClock::new();
//! static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream")
//!     .with_failures(2)
//!     .with_recovery(Duration::from_secs(30))
//!     .with_clock(&CLOCK);
//!
//! for _ in 0..2 {
//!     let permit = UPSTREAM.try_acquire().unwrap();
//!     UPSTREAM.record(permit, Outcome::Failure);
//! }
//! let open = UPSTREAM.try_acquire().unwrap_err();
//! assert_eq!(open.to_string(), "circuit `upstream` is open; retry after 30s");
//!
//! CLOCK.advance(Duration::from_secs(30));
//! let probe = UPSTREAM.try_acquire().unwrap();
//! assert_eq!(UPSTREAM.state(), CircuitState::HalfOpen);
//! UPSTREAM.record(probe, Outcome::Success);
//! assert_eq!(UPSTREAM.state(), CircuitState::Closed);
//! ```

// One concern a file: `word` (the packed state word and `AtomicWord::update`,
// the one compare-and-swap every transition goes through), `ring` (the
// failure-rate window), `error` (`CircuitOpen`), `clock`, `stats`
// (`CircuitState`, `CircuitStats`); its log lines are in `crate::log`.
mod breakers;
mod error;
mod ring;
mod stats;
mod word;

use core::fmt;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::classify::{ErrorKind, KindSet};
use crate::clock::SharedClock;
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use breakers::Breakers;
pub use error::CircuitOpen;
pub use stats::{CircuitState, CircuitStats};

use crate::log::{self, Trip};
use crate::metrics::{self, GaugeLock};
use ring::{AtomicRing, MAX_WINDOW};
use word::{AtomicWord, MAX_FAILURES, MAX_PROBES, Word};

/// A circuit breaker, meant to live in a `static` shared by every caller of
/// one dependency. See the [module docs](self) for the state machine.
///
/// Attach it to a policy with [`Policy::with_circuit`](crate::Policy::with_circuit)
/// (or `#[retry(circuit = NAME)]`), or drive it by hand with
/// [`try_acquire`](CircuitBreaker::try_acquire) and
/// [`record`](CircuitBreaker::record).
///
/// Every setter is a `const fn` and clamps its value to the documented range
/// (an out-of-range value behaves as the nearest valid one).
///
/// # Default
/// [`CircuitBreaker::new`]: opens after 5 consecutive failures, no
/// failure-rate window, recovery timeout 30s, 1 probe, [`SystemClock`].
///
/// # Example
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets, CircuitBreaker, CircuitOpen, Classify, ErrorKind};
///
/// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream")
///     .with_failures(5)
///     .with_failure_rate(50, 20) // or: half of the last 20 calls failed
///     .with_recovery(Duration::from_secs(30))
///     .with_probes(2);
///
/// #[derive(Debug, thiserror::Error)]
/// enum ApiError {
///     #[error("upstream timed out")]
///     Timeout,
///     #[error(transparent)]
///     Open(#[from] CircuitOpen),
/// }
/// impl Classify for ApiError {
///     fn kind(&self) -> ErrorKind {
///         match self { ApiError::Timeout => ErrorKind::Timeout, ApiError::Open(o) => o.kind() }
///     }
/// }
///
/// let _paused = retry_runtime::testing::pause();
/// let policy = presets::API.with_circuit(&UPSTREAM);
/// let r: Result<&str, ApiError> = policy.retry(|| Ok("pong")).call();
/// assert_eq!(r.unwrap(), "pong");
/// assert_eq!(UPSTREAM.stats().successes, 1);
/// ```
#[must_use = "a breaker does nothing until a policy uses it (`Policy::with_circuit`); its `with_*` methods return the changed breaker"]
pub struct CircuitBreaker {
    name: &'static str,
    failures: u32,
    window: u32,
    rate: u32,
    probes: u32,
    /// Kinds of errors that are neutral to it (`with_neutral_kinds`).
    neutral_kinds: KindSet,
    /// Kinds of errors that count as failures though not retried
    /// (`with_failure_kinds`).
    failure_kinds: KindSet,
    recovery: Duration,
    recovery_ms: u64,
    clock: SharedClock,
    word: AtomicWord,
    ring: AtomicRing,
    permitted: AtomicU64,
    rejected: AtomicU64,
    successes: AtomicU64,
    failed: AtomicU64,
    neutral: AtomicU64,
    opened: AtomicU64,
    gauge: GaugeLock,
}

impl CircuitBreaker {
    /// A closed breaker named `name` (in log lines, [`CircuitOpen`] and
    /// metrics), with the defaults of the type's "Default" section. Breakers
    /// with the same name share their metric series: give each its own.
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// static DB: CircuitBreaker = CircuitBreaker::new("db");
    /// assert_eq!(DB.name(), "db");
    /// ```
    pub const fn new(name: &'static str) -> CircuitBreaker {
        CircuitBreaker {
            name,
            failures: 5,
            window: 0,
            rate: 100,
            probes: 1,
            neutral_kinds: KindSet::EMPTY,
            failure_kinds: KindSet::EMPTY,
            recovery: Duration::from_secs(30),
            recovery_ms: 30_000,
            clock: SharedClock(&SystemClock),
            word: AtomicWord::new(),
            ring: AtomicRing::new(),
            permitted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            successes: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            neutral: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            gauge: GaugeLock::new(),
        }
    }

    /// Open after `n` consecutive failures (neutral outcomes neither count
    /// nor reset the count). `0` turns this rule off (use a failure-rate
    /// window instead); at most 16383.
    ///
    /// `0` without a failure-rate window
    /// ([`with_failure_rate`](CircuitBreaker::with_failure_rate)) gives a
    /// breaker that can never open. The breaker itself does not refuse it
    /// (its setters clamp and never fail); a policy's check does:
    /// [`Policy::build`](crate::Policy::build) returns
    /// [`PolicyError::CircuitNeverOpens`](crate::PolicyError::CircuitNeverOpens),
    /// and [`Policy::checked`](crate::Policy::checked) in a `static` does not
    /// compile. A policy that skips both, a breaker driven by hand, and
    /// `#[retry(circuit = NAME)]` (which attaches the breaker after its
    /// compile-time check) are not checked.
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_failures(3);
    /// ```
    ///
    /// ```compile_fail,E0080
    /// use retry_runtime::{presets, CircuitBreaker, Policy, RetryOn, WithCircuit};
    /// static NEVER: CircuitBreaker = CircuitBreaker::new("b").with_failures(0);
    /// // error[E0080]: the circuit breaker can never open: ...
    /// static API: Policy<RetryOn, WithCircuit> = presets::API.with_circuit(&NEVER).checked();
    /// ```
    pub const fn with_failures(mut self, n: u32) -> CircuitBreaker {
        self.failures = if n > MAX_FAILURES { MAX_FAILURES } else { n };
        self
    }

    /// Also open when at least `percent`% of the last `calls` calls failed
    /// (checked once `calls` calls have been recorded since the breaker last
    /// closed). `calls` is 1..=48, `percent` 1..=100; `calls = 0` turns the
    /// rule off.
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// // ratio only: half of the last 20 calls
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_failures(0).with_failure_rate(50, 20);
    /// ```
    pub const fn with_failure_rate(mut self, percent: u32, calls: u32) -> CircuitBreaker {
        self.rate = if percent == 0 {
            1
        } else if percent > 100 {
            100
        } else {
            percent
        };
        self.window = if calls > MAX_WINDOW {
            MAX_WINDOW
        } else {
            calls
        };
        self
    }

    /// How long it stays open before letting probes through (rounded up to
    /// whole milliseconds, at most about 17 years).
    ///
    /// The breaker keeps time in whole milliseconds, rounded so that the
    /// timeout never ends early: it ends less than 1 ms after it has
    /// passed, and a rejection's [`retry_after`](CircuitOpen::retry_after)
    /// is never shorter than the time until then. On a clock that reads
    /// fractions of a millisecond (the default [`SystemClock`], tokio's
    /// paused clock in tests), a test that moves time on by exactly the
    /// recovery may find the breaker still open: move it on by the
    /// rejection's `retry_after`.
    ///
    /// It also times a half-open round: probes that have not all reported a
    /// recovery after the latest was let through are taken for lost, and
    /// the next call starts a new round. A probe of the round so replaced
    /// that reports later still counts, in the new round (see
    /// [`record`](CircuitBreaker::record)), so calls slower than the
    /// recovery close the breaker too; one two rounds old no longer does.
    ///
    /// A very small recovery shortens the time a stale permit can be told
    /// apart from a current one. The breaker tells them by a generation of
    /// 8 bits, which wraps after 256 transitions, and of its own moves only
    /// those to half-open wait the recovery: with a recovery of 1 ms, 256
    /// transitions can take as little as about 86 ms of the clock (a
    /// close, an opening and a move to half-open a millisecond), and with
    /// [`Duration::ZERO`] no time at all. A call let through before them
    /// and recorded after them, in the state it was let through in, moves
    /// the state as a current one would: a slow call's late failure can
    /// count towards opening a breaker that has closed since. With a
    /// recovery of seconds, that takes a call hung through at least 85
    /// recoveries.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::CircuitBreaker;
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_recovery(Duration::from_secs(10));
    /// assert_eq!(B.recovery(), Duration::from_secs(10));
    /// ```
    pub const fn with_recovery(mut self, recovery: Duration) -> CircuitBreaker {
        self.recovery_ms = word::duration_to_ms(recovery);
        self.recovery = Duration::from_millis(self.recovery_ms);
        self
    }

    /// Errors of these kinds, which a retry run would retry, are neutral to
    /// the breaker: they neither count toward opening it nor reset the
    /// count, and a probe answered with one counts as a probe's success
    /// (the dependency answered: with one probe, the breaker closes, and
    /// the runs wait what the server asked for). The run must know the
    /// kind: its policy classifies errors (`retry_on`, a preset,
    /// `or_retry_if`); under one that retries every error (`Policy::new()`,
    /// a bare `#[retry]`) or a `retry_if` predicate, no kind is known and
    /// these count as failures. For a
    /// dependency that rate-limits (`kinds![RateLimited]`: a 429, S3's
    /// `SlowDown`): the dependency answered, and a run waits the time it
    /// asked for, where five 429s in a row would otherwise open a default
    /// breaker for its 30s. None by default (a rate-limited dependency
    /// that keeps refusing then opens it, and calls fail fast). Asked by
    /// the retry runs (`#[retry]`, the functional form, [`Run`](crate::Run),
    /// the tower layer, the reqwest middleware), which know the kind; a
    /// [`record`](Self::record) of your own says its outcome itself.
    ///
    /// ```
    /// use retry_runtime::{kinds, CircuitBreaker, ErrorKind};
    /// static API: CircuitBreaker = CircuitBreaker::new("api").with_neutral_kinds(kinds![RateLimited]);
    /// assert!(API.neutral_kinds().contains(ErrorKind::RateLimited));
    /// ```
    pub const fn with_neutral_kinds(mut self, kinds: KindSet) -> CircuitBreaker {
        self.neutral_kinds = kinds;
        self
    }

    /// Errors of these kinds count as failures though the policy does not
    /// retry them: a dependency's trouble, which a policy for calls that
    /// are not safe to repeat leaves alone (an `INCR`, a POST without an
    /// idempotency key: a timeout or a reset connection may have applied
    /// it, so such a policy retries only what was never sent). Without
    /// it, "only errors the policy retries count", and an outage seen
    /// through such calls never opens the breaker. `KindSet::TRANSIENT`
    /// for those; none by default. A kind also in
    /// [`neutral_kinds`](Self::neutral_kinds) is neutral. As with neutral
    /// kinds, the run must know the kind (a policy that classifies its
    /// errors); the run itself is unchanged: the error is not retried, its
    /// line and metric say so (`non-retriable`, `permanent_error`).
    ///
    /// ```
    /// use retry_runtime::{CircuitBreaker, ErrorKind, KindSet};
    /// static REDIS: CircuitBreaker = CircuitBreaker::new("redis").with_failure_kinds(KindSet::TRANSIENT);
    /// assert!(REDIS.failure_kinds().contains(ErrorKind::Timeout));
    /// ```
    pub const fn with_failure_kinds(mut self, kinds: KindSet) -> CircuitBreaker {
        self.failure_kinds = kinds;
        self
    }

    /// The kinds of errors that count as failures though not retried
    /// ([`with_failure_kinds`](Self::with_failure_kinds)).
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// assert!(CircuitBreaker::new("b").failure_kinds().is_empty());
    /// ```
    pub const fn failure_kinds(&self) -> KindSet {
        self.failure_kinds
    }

    /// What a retry run's `outcome` of the call made with `permit` (an
    /// error of `kind` for a failure) says to this breaker: an error the
    /// policy left alone is a failure when of one of its
    /// [`failure_kinds`](Self::failure_kinds); a failure of
    /// one of its [`neutral_kinds`](Self::neutral_kinds) is neutral, and a
    /// success for a probe (the dependency answered: neutral there would
    /// leave the breaker half-open, each call a probe, none of them waiting
    /// what the server asked for). The permit says whether it is a probe,
    /// not the breaker's state now (a call let through while closed may
    /// end after the breaker turned half-open).
    #[inline]
    pub(crate) fn judged(
        &self,
        permit: &Permit,
        outcome: Outcome,
        kind: Option<ErrorKind>,
    ) -> Outcome {
        match (outcome, kind) {
            (Outcome::Failure, Some(kind)) if self.neutral_kinds.contains(kind) => {
                if permit.probe {
                    Outcome::Success
                } else {
                    Outcome::Neutral
                }
            }
            (Outcome::Neutral, Some(kind))
                if self.failure_kinds.contains(kind) && !self.neutral_kinds.contains(kind) =>
            {
                Outcome::Failure
            }
            _ => outcome,
        }
    }

    /// The kinds of errors neutral to it ([`with_neutral_kinds`](Self::with_neutral_kinds)).
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// assert!(CircuitBreaker::new("b").neutral_kinds().is_empty());
    /// ```
    pub const fn neutral_kinds(&self) -> KindSet {
        self.neutral_kinds
    }

    /// How many probe calls it lets through when half-open; it closes when
    /// all of them succeed. 1..=127. That many per round: when a round's
    /// probes have not all reported after the recovery timeout, a new round
    /// lets as many through again (see [`with_recovery`](Self::with_recovery)),
    /// so calls slower than the recovery timeout can have more than
    /// `probes` in flight at once.
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_probes(3);
    /// ```
    pub const fn with_probes(mut self, n: u32) -> CircuitBreaker {
        self.probes = if n == 0 {
            1
        } else if n > MAX_PROBES {
            MAX_PROBES
        } else {
            n
        };
        self
    }

    /// Read time from `clock` instead of [`SystemClock`] (tests: a [`ManualClock`]).
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, ManualClock};
    /// static CLOCK: ManualClock = ManualClock::new();
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_clock(&CLOCK);
    /// ```
    pub const fn with_clock(mut self, clock: &'static dyn Clock) -> CircuitBreaker {
        self.clock = SharedClock(clock);
        self
    }

    /// The breaker's name.
    ///
    /// ```
    /// assert_eq!(retry_runtime::CircuitBreaker::new("s3").name(), "s3");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The recovery timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(retry_runtime::CircuitBreaker::new("s3").recovery(), Duration::from_secs(30));
    /// ```
    pub const fn recovery(&self) -> Duration {
        self.recovery
    }

    /// The consecutive failures that open it, as set by
    /// [`with_failures`](CircuitBreaker::with_failures) (clamped to at most
    /// 16383); `0` when the rule is off.
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// assert_eq!(CircuitBreaker::new("s3").failures(), 5);
    /// assert_eq!(CircuitBreaker::new("s3").with_failures(3).failures(), 3);
    /// assert_eq!(CircuitBreaker::new("s3").with_failures(u32::MAX).failures(), 16383);
    /// ```
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// The failure-rate rule as `(percent, calls)`, as set by
    /// [`with_failure_rate`](CircuitBreaker::with_failure_rate) after its
    /// clamping (`percent` 1..=100, `calls` at most 48); `None` when no rule
    /// is set (the default, or `calls = 0`).
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// assert_eq!(CircuitBreaker::new("s3").failure_rate(), None);
    /// let b = CircuitBreaker::new("s3").with_failure_rate(50, 20);
    /// assert_eq!(b.failure_rate(), Some((50, 20)));
    /// // clamped: at least 1%, at most 48 calls
    /// let b = CircuitBreaker::new("s3").with_failure_rate(0, 100);
    /// assert_eq!(b.failure_rate(), Some((1, 48)));
    /// assert_eq!(CircuitBreaker::new("s3").with_failure_rate(50, 0).failure_rate(), None);
    /// ```
    pub const fn failure_rate(&self) -> Option<(u32, u32)> {
        if self.window == 0 {
            None
        } else {
            Some((self.rate, self.window))
        }
    }

    /// Can it open at all: a consecutive-failure rule or a failure-rate
    /// window ([`Policy::build`](crate::Policy::build) checks it).
    pub(crate) const fn can_open(&self) -> bool {
        self.failures != 0 || self.window != 0
    }

    /// How many probes it lets through when half-open, as set by
    /// [`with_probes`](CircuitBreaker::with_probes) (clamped to 1..=127).
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// assert_eq!(CircuitBreaker::new("s3").probes(), 1);
    /// assert_eq!(CircuitBreaker::new("s3").with_probes(3).probes(), 3);
    /// assert_eq!(CircuitBreaker::new("s3").with_probes(0).probes(), 1);
    /// ```
    pub const fn probes(&self) -> u32 {
        self.probes
    }

    /// Ask to make a call. `Ok` with a [`Permit`] to hand back to
    /// [`record`](CircuitBreaker::record) with the call's outcome, or
    /// `Err(`[`CircuitOpen`]`)`: do not call.
    ///
    /// Closed: always `Ok`. Open: `Err` until the recovery timeout has
    /// passed (or, forced open with [`force_open`](CircuitBreaker::force_open),
    /// until a reset); then this call becomes the first probe and the breaker turns
    /// half-open. HalfOpen: `Ok` for up to `probes` calls, then `Err`
    /// until a recovery timeout after the latest of them: if they have not
    /// all reported by then, this call is the first probe of a new round
    /// (the old round's probes still count when they report, see
    /// [`record`](CircuitBreaker::record)).
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, Outcome};
    /// let b = CircuitBreaker::new("b").with_failures(1);
    /// let p = b.try_acquire().unwrap();
    /// b.record(p, Outcome::Failure);
    /// assert!(b.try_acquire().is_err());
    /// ```
    pub fn try_acquire(&self) -> Result<Permit, CircuitOpen> {
        let r = self.acquire();
        if r.is_err() {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    /// `try_acquire` without counting a refusal as a rejection: for a call
    /// that is made anyway (an unguarded executor).
    pub(crate) fn acquire_quietly(&self) -> Option<Permit> {
        self.acquire().ok()
    }

    fn acquire(&self) -> Result<Permit, CircuitOpen> {
        // `Err` is the answer when there is nothing to write: a closed
        // breaker's permit, or the rejection.
        let moved = self.word.update(|w| match w.state() {
            CircuitState::Closed => Err(Ok(Permit {
                generation: w.generation(),
                probe: false,
            })),
            // Open by hand: until a reset, whatever the time, so the
            // rejection tells no wait.
            CircuitState::Open if w.is_forced_open() => {
                Err(Err(CircuitOpen::new_forced(self.name)))
            }
            CircuitState::Open => self.first_probe_after_recovery(w).map_err(Err),
            // A probe's slot, stamped with the time it was granted: a slot
            // freed (a neutral probe) and granted again late in a round
            // counts as lost only a recovery timeout after that grant.
            CircuitState::HalfOpen if w.probes() < u64::from(self.probes) => Ok(w
                .with_probes(w.probes() + 1, w.successes())
                .stamped(self.stamp_ms())),
            // Every probe is out. If they have not all reported within a
            // recovery timeout of the latest grant, some were lost: start a
            // new round.
            CircuitState::HalfOpen => self
                .first_probe_after_recovery(w)
                .map_err(|open| Err(CircuitOpen::new_half_open(open.circuit, open.retry_after))),
        });
        let permit = match moved {
            Ok((w, next)) => {
                if next.generation() != w.generation() {
                    let again = w.state() == CircuitState::HalfOpen;
                    log::circuit_half_open(self.name, self.probes, again);
                    if !again {
                        self.state_moved();
                    }
                }
                Permit {
                    generation: next.generation(),
                    probe: true,
                }
            }
            Err(answer) => answer?,
        };
        self.permitted.fetch_add(1, Ordering::Relaxed);
        Ok(permit)
    }

    /// Would [`try_acquire`](Self::try_acquire) refuse a call now? Read
    /// only (no probe's slot taken, nothing counted): a first attempt that
    /// will be refused skips its cooldown's wait. `Open` alone does not
    /// say: an open breaker reads `Open` until the first call after its
    /// recovery turns it half-open, and that call is let through.
    pub(crate) fn refuses_now(&self) -> bool {
        let w = self.word.load();
        match w.state() {
            CircuitState::Closed => false,
            CircuitState::Open if w.is_forced_open() => true,
            CircuitState::HalfOpen if w.probes() < u64::from(self.probes) => false,
            CircuitState::Open | CircuitState::HalfOpen => {
                self.first_probe_after_recovery(w).is_err()
            }
        }
    }

    /// Once a recovery timeout has passed since `w`'s last transition, the
    /// word of a new half-open round with this call as its first probe;
    /// before that, the rejection, with the time until then. (The stamp is
    /// rounded up and the reading down, [`word::stamp_of`]: the timeout
    /// never ends early, and the wait told never falls short.)
    fn first_probe_after_recovery(&self, w: Word) -> Result<Word, CircuitOpen> {
        let now = self.clock.now();
        let left_ms = match word::elapsed_ms(word::ms_of(now), w.time()) {
            Ok(elapsed) if elapsed >= self.recovery_ms => 0,
            Ok(elapsed) => self.recovery_ms - elapsed,
            // Stamped by a thread whose test clock runs ahead of this one's:
            // its recovery cannot be timed here, so it is taken as passed
            // rather than keep everyone out for that thread's virtual hours.
            Err(ahead) if ahead > self.recovery_ms && self.clock.goes_back_only_in_tests() => 0,
            // A stamp ahead of the reading (rounded up within the same
            // millisecond, or a clock that went back): the whole recovery
            // from the stamp.
            Err(ahead) => self.recovery_ms.saturating_add(ahead),
        };
        if left_ms > 0 {
            return Err(CircuitOpen::new(self.name, Duration::from_millis(left_ms)));
        }
        Ok(w.moved_to(CircuitState::HalfOpen, word::stamp_of(now))
            .with_probes(1, 0))
    }

    /// Report the outcome of a call made with `permit`.
    ///
    /// - [`Outcome::Failure`]: a failure the policy would retry (a timeout, a
    ///   503): counts towards opening; a failed probe re-opens the breaker.
    ///   (A retry run records an error of one of the breaker's
    ///   [`neutral_kinds`](Self::neutral_kinds) as neutral, and a probe's
    ///   as a success.)
    /// - [`Outcome::Success`]: resets the consecutive failures; a probe
    ///   success (the last of `probes`) closes the breaker.
    /// - [`Outcome::Neutral`]: an error that says nothing about the
    ///   dependency's health (a 404, bad input): changes nothing, except
    ///   that a neutral probe frees its slot for another probe.
    ///
    /// An outcome from before the last state change (a call that was let
    /// through while closed and ends after the breaker opened) is counted in
    /// [`stats`](CircuitBreaker::stats) but does not move the state, with
    /// one exception: a probe whose round was replaced by a new one (its
    /// probes had not all reported a recovery timeout after the latest was
    /// let through, see [`try_acquire`](CircuitBreaker::try_acquire)) and
    /// that reports while that new round is under way counts in it. Its
    /// success is one of the new round's successes (closing the breaker
    /// once they reach `probes`; it takes none of the round's slots), its
    /// failure re-opens the breaker, and a neutral outcome changes nothing
    /// (its slot was the old round's). So calls slower than the recovery
    /// timeout still close the breaker. A probe of any earlier round is
    /// ignored.
    ///
    /// The permit tells the state it was let through in by the breaker's
    /// generation, its transitions counted modulo 256: a permit recorded
    /// after a multiple of 256 further transitions (a probe's: or one
    /// more, its round's replacement), while the breaker is in the state it
    /// was let through in, is taken for a current one and moves the state
    /// as one would: a call that hung through at least 85 recovery
    /// timeouts (with a recovery of a millisecond or less, that can be a
    /// call of 86 ms or less: see [`with_recovery`](CircuitBreaker::with_recovery)).
    /// Record a permit when its call ends, and give the call a timeout
    /// shorter than the recovery timeout.
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, CircuitState, Outcome};
    /// let b = CircuitBreaker::new("b").with_failures(2);
    /// for outcome in [Outcome::Failure, Outcome::Neutral, Outcome::Failure] {
    ///     let p = b.try_acquire().unwrap();
    ///     b.record(p, outcome);
    /// }
    /// assert_eq!(b.state(), CircuitState::Open); // the 404 in between did not reset the count
    /// ```
    pub fn record(&self, permit: Permit, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Success => &self.successes,
            Outcome::Failure => &self.failed,
            Outcome::Neutral => &self.neutral,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if permit.probe {
            self.record_probe(permit.generation, outcome);
        } else {
            self.record_closed(permit.generation, outcome);
        }
    }

    /// Hand back a permit whose call was not made, because a guard asked
    /// after the breaker (the throttle, the budget) turned it away: it is
    /// not counted as let through, and a probe frees its slot, so the
    /// half-open breaker lets another call probe at once rather than after
    /// another recovery timeout.
    pub(crate) fn release(&self, permit: Permit) {
        let _ = self
            .permitted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        if permit.probe {
            // as a neutral probe does: the slot only, no transition
            self.record_probe(permit.generation, Outcome::Neutral);
        }
    }

    fn record_closed(&self, generation: u8, outcome: Outcome) {
        let failure = match outcome {
            Outcome::Neutral => return,
            Outcome::Success => false,
            Outcome::Failure => true,
        };
        // On a lost race the count is re-read: a success that got in
        // first resets it, and this failure starts a new count.
        let mut failures = 0;
        let moved = self.word.update(|w| {
            if !w.is(CircuitState::Closed, generation) {
                return Err(Unwritten::Stale);
            }
            if !failure {
                return match w.failures() {
                    0 => Err(Unwritten::Unchanged), // the common case: nothing to write
                    _ => Ok(w.with_failures(0)),
                };
            }
            failures = (w.failures() + 1).min(u64::from(MAX_FAILURES));
            if self.failures != 0 && failures >= u64::from(self.failures) {
                Ok(w.moved_to(CircuitState::Open, self.stamp_ms()))
            } else {
                Ok(w.with_failures(failures))
            }
        });
        match moved {
            Ok((_, next)) if next.state() == CircuitState::Open => {
                return self.opened(Trip::Consecutive(failures as u32));
            }
            Err(Unwritten::Stale) => return, // the state changed since this call was let through
            Ok(_) | Err(Unwritten::Unchanged) => {}
        }
        if self.window != 0 {
            let current = || self.word.load().is(CircuitState::Closed, generation);
            let Some(ring) = self.ring.push(generation, failure, self.window, current) else {
                return; // an outcome of an earlier closed period
            };
            if failure
                && ring.filled() >= self.window
                && u64::from(ring.failures()) * 100 >= u64::from(self.rate) * u64::from(self.window)
            {
                self.open_from(generation, Trip::Rate(ring.failures()));
            }
        }
    }

    fn opened(&self, why: Trip) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        log::circuit_open(self.name, self.window, self.recovery, self.recovery_ms, why);
        self.state_moved();
    }

    /// After a transition (counted and logged): the state gauge, set from
    /// the word as it is now, which another thread may have moved on
    /// since (see [`metrics::circuit_state`]).
    fn state_moved(&self) {
        metrics::circuit_state(self.name, &self.gauge, || self.word.load().state().into());
    }

    /// Open the breaker if it is still closed in generation `generation`.
    fn open_from(&self, generation: u8, why: Trip) {
        let moved = self.word.update(|w| {
            if !w.is(CircuitState::Closed, generation) {
                return Err(()); // another thread changed the state first
            }
            Ok(w.moved_to(CircuitState::Open, self.stamp_ms()))
        });
        if moved.is_ok() {
            self.opened(why);
        }
    }

    /// A probe's outcome moves the round it was let through in, or the
    /// round that replaced it (see [`acquire`](Self::acquire)): a probe
    /// slower than the recovery timeout reports after a new round began,
    /// and were it dropped, probes that take longer than the recovery
    /// would never close the breaker (every round replaced before its
    /// probes report). The permit's generation was a half-open one, and
    /// the only move from `HalfOpen(g)` straight to `HalfOpen(g + 1)` is
    /// that restart (a failure, a close, a reset or a forced opening
    /// moves to another state, and from there back to half-open is a
    /// second move), so half-open in the next generation is the round
    /// that replaced the probe's. Only one round back: a permit of a
    /// round before that is ignored.
    fn record_probe(&self, generation: u8, outcome: Outcome) {
        let moved = self.word.update(|w| {
            let own_round = w.is(CircuitState::HalfOpen, generation);
            if !own_round && !w.is(CircuitState::HalfOpen, generation.wrapping_add(1)) {
                return Err(()); // a probe of an earlier round, or the state moved on
            }
            Ok(match outcome {
                Outcome::Failure => w.moved_to(CircuitState::Open, self.stamp_ms()),
                Outcome::Success if w.successes() + 1 >= u64::from(self.probes) => {
                    w.moved_to(CircuitState::Closed, self.stamp_ms())
                }
                // a late success counts in the round under way, whose
                // slots it did not take
                Outcome::Success => w.with_probes(w.probes(), w.successes() + 1),
                Outcome::Neutral if own_round => {
                    w.with_probes(w.probes().saturating_sub(1), w.successes())
                }
                // its slot was the replaced round's: nothing to free
                Outcome::Neutral => return Err(()),
            })
        });
        if let Ok((_, next)) = moved {
            match next.state() {
                CircuitState::Open => self.opened(Trip::Probe),
                CircuitState::Closed => {
                    log::circuit_closed(self.name, self.probes);
                    self.state_moved();
                }
                CircuitState::HalfOpen => {}
            }
        }
    }

    /// The clock now as a stamp of the word: rounded up, so that a
    /// recovery timed from it never ends early (see [`word::stamp_of`]).
    fn stamp_ms(&self) -> u64 {
        word::stamp_of(self.clock.now())
    }

    /// The current state. An open breaker reads `Open` until the first call
    /// after its recovery timeout turns it half-open (or, forced open with
    /// [`force_open`](CircuitBreaker::force_open), until a reset).
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, CircuitState};
    /// assert_eq!(CircuitBreaker::new("b").state(), CircuitState::Closed);
    /// ```
    pub fn state(&self) -> CircuitState {
        self.word.load().state()
    }

    /// The state and the counters, for metrics.
    ///
    /// The counters are exact: every [`try_acquire`](CircuitBreaker::try_acquire)
    /// adds one to `permitted` or `rejected`, every [`record`](CircuitBreaker::record)
    /// one to `successes`, `failures` or `neutral`.
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, Outcome};
    /// let b = CircuitBreaker::new("b");
    /// let p = b.try_acquire().unwrap();
    /// b.record(p, Outcome::Failure);
    /// let s = b.stats();
    /// assert_eq!((s.permitted, s.failures, s.consecutive_failures), (1, 1, 1));
    /// ```
    pub fn stats(&self) -> CircuitStats {
        let w = self.word.load();
        let state = w.state();
        let (window_calls, window_failures) = match state {
            CircuitState::Closed if self.window != 0 => {
                let ring = self.ring.load(w.generation());
                (ring.filled(), ring.failures())
            }
            _ => (0, 0),
        };
        let (consecutive_failures, probes_let_through, probes_succeeded) = match state {
            CircuitState::Closed => (w.failures() as u32, 0, 0),
            CircuitState::HalfOpen => (0, w.probes() as u32, w.successes() as u32),
            CircuitState::Open => (0, 0, 0),
        };
        CircuitStats {
            state,
            forced_open: w.is_forced_open(),
            consecutive_failures,
            window_calls,
            window_failures,
            probes_let_through,
            probes_succeeded,
            permitted: self.permitted.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            successes: self.successes.load(Ordering::Relaxed),
            failures: self.failed.load(Ordering::Relaxed),
            neutral: self.neutral.load(Ordering::Relaxed),
            opened: self.opened.load(Ordering::Relaxed),
        }
    }

    /// Close the breaker now and forget its failures (an operator's "reset";
    /// the counters of [`stats`](CircuitBreaker::stats) are kept). An open
    /// or half-open breaker says so in an INFO line and the state metric,
    /// as any move does.
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, CircuitState, Outcome};
    /// let b = CircuitBreaker::new("b").with_failures(1);
    /// let p = b.try_acquire().unwrap();
    /// b.record(p, Outcome::Failure);
    /// b.reset();
    /// assert_eq!(b.state(), CircuitState::Closed);
    /// assert_eq!(b.stats().failures, 1); // the counters are kept
    /// ```
    pub fn reset(&self) {
        let Ok((before, _)) = self
            .word
            .update(|w| Ok::<_, Infallible>(w.moved_to(CircuitState::Closed, self.stamp_ms())));
        if before.state() != CircuitState::Closed {
            log::circuit_reset(self.name, before.state());
            self.state_moved();
        }
    }

    /// Open the breaker now and keep it open until [`reset`](Self::reset):
    /// an operator's switch for a dependency known to be down (an incident,
    /// a maintenance window), without a redeploy. Every call is turned away
    /// with a [`CircuitOpen`] that is [`forced`](CircuitOpen::forced)
    /// (``circuit `{name}` is forced open; calls are rejected until a
    /// reset``, with no [`retry_after`](crate::Classify::retry_after) hint,
    /// as the breaker cannot say when it will be reset: a retry around the
    /// call, a job's reschedule, waits its own backoff), no probe is
    /// let through however long it stays so, and outcomes of calls let
    /// through before are counted in [`stats`](Self::stats) but move
    /// nothing. It says so in a WARN line, the state metric (`open`) and
    /// [`CircuitStats::forced_open`]; it adds one to
    /// [`CircuitStats::opened`] only when the breaker was not open already
    /// (closed or half-open). A breaker forced open already is left as it
    /// is.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::circuit::{CircuitBreaker, CircuitState, ManualClock};
    /// static CLOCK: ManualClock = ManualClock::new();
    /// static PAYMENTS: CircuitBreaker = CircuitBreaker::new("payments")
    ///     .with_recovery(Duration::from_secs(30))
    ///     .with_clock(&CLOCK);
    ///
    /// PAYMENTS.force_open(); // e.g. from an admin endpoint
    /// CLOCK.advance(Duration::from_secs(3600));
    /// let rejected = PAYMENTS.try_acquire().unwrap_err(); // no probe after the recovery timeout
    /// assert!(rejected.forced);
    /// assert_eq!(rejected.to_string(), "circuit `payments` is forced open; calls are rejected until a reset");
    /// assert!(PAYMENTS.stats().forced_open);
    ///
    /// PAYMENTS.reset();
    /// assert_eq!(PAYMENTS.state(), CircuitState::Closed);
    /// assert!(PAYMENTS.try_acquire().is_ok());
    /// ```
    pub fn force_open(&self) {
        let moved = self.word.update(|w| {
            if w.is_forced_open() {
                return Err(()); // forced open already
            }
            Ok(w.forced_open(self.stamp_ms()))
        });
        if let Ok((before, _)) = moved {
            // an opening, unless it was open already (by its failures)
            if before.state() != CircuitState::Open {
                self.opened.fetch_add(1, Ordering::Relaxed);
            }
            log::circuit_forced_open(self.name, before.state());
            self.state_moved();
        }
    }
}

/// Why a transition of a closed breaker wrote nothing.
enum Unwritten {
    /// The state changed since the call was let through.
    Stale,
    /// A success with no failures to forget.
    Unchanged,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .field("failures", &self.failures)
            .field("failure_rate", &self.failure_rate())
            .field("recovery", &self.recovery)
            .field("probes", &self.probes)
            .field("neutral_kinds", &self.neutral_kinds)
            .field("failure_kinds", &self.failure_kinds)
            .finish_non_exhaustive()
    }
}

/// Leave to make one call, from [`CircuitBreaker::try_acquire`]; hand it back
/// to [`CircuitBreaker::record`] with the outcome. It is neither `Clone` nor
/// `Copy`: `record` takes it by value, so a call is recorded once (a probe
/// recorded twice would count as two probes, and close a breaker of two
/// probes after one call).
///
/// A permit that is never recorded is harmless while the breaker is closed;
/// a lost probe is replaced after one recovery timeout. (A retry run whose
/// throttle or budget turns the attempt away after the breaker let it
/// through hands its permit back at once; a run dropped or unwound in its
/// attempt records it as neutral.) A probe that reports after its round
/// was replaced still counts, in the round that replaced it
/// ([`CircuitBreaker::record`] says how). A permit knows the state it was
/// let through in by the breaker's transition count modulo 256: one
/// recorded after a multiple of 256 further transitions (a probe's: or
/// one more), in the state it was let through in, is taken for a current
/// one. That is a call that hung through at least 85 recovery timeouts,
/// or through 256 resets and forced openings by hand; with a recovery of
/// a millisecond or less, much sooner ([`CircuitBreaker::with_recovery`]
/// says so).
///
/// ```
/// use retry_runtime::circuit::{CircuitBreaker, Outcome};
/// let b = CircuitBreaker::new("b");
/// let permit = b.try_acquire().unwrap();
/// assert!(!permit.is_probe());
/// b.record(permit, Outcome::Success);
/// ```
#[derive(Debug, PartialEq, Eq)]
#[must_use = "report the call's outcome with `CircuitBreaker::record`"]
pub struct Permit {
    generation: u8,
    probe: bool,
}

impl Permit {
    /// Is this call a half-open breaker's probe?
    ///
    /// ```
    /// let p = retry_runtime::CircuitBreaker::new("b").try_acquire().unwrap();
    /// assert!(!p.is_probe());
    /// ```
    pub const fn is_probe(&self) -> bool {
        self.probe
    }
}

/// What a call said about the dependency's health; see [`CircuitBreaker::record`].
///
/// You make it and hand it to the breaker; the runtime never hands you one
/// to `match` on, so it is not `#[non_exhaustive]` (as the enums you
/// receive are: `StopReason`, `CircuitState`, `Nested`,
/// `metrics::Outcome`, `tower::Error`, ...).
///
/// ```
/// use retry_runtime::circuit::Outcome;
/// // what the retry loop records: the policy's verdict on the error
/// let retriable = true;
/// let outcome = if retriable { Outcome::Failure } else { Outcome::Neutral };
/// assert_eq!(outcome, Outcome::Failure);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded.
    Success,
    /// The call failed with an error the policy retries: the dependency may be unhealthy.
    Failure,
    /// The call failed with an error the policy does not retry (a 404, bad
    /// input) or of a kind the breaker takes as neutral
    /// ([`CircuitBreaker::with_neutral_kinds`]: a 429), or ended with no
    /// outcome (a retry run dropped or unwound in its attempt,
    /// a hedged attempt cancelled): no signal.
    Neutral,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `refuses_now` answers as `try_acquire` would, without taking a
    /// probe's slot: closed, no; open within its recovery or forced, yes;
    /// open past its recovery (still reading `Open`), no; half-open, no
    /// while a probe's slot is free, yes once every probe is out.
    #[test]
    fn refuses_now_answers_as_try_acquire_would_and_takes_nothing() {
        use crate::clock::ManualClock;
        static CLOCK: ManualClock = ManualClock::new();
        static B: CircuitBreaker = CircuitBreaker::new("refuses-now")
            .with_failures(1)
            .with_recovery(Duration::from_secs(1))
            .with_clock(&CLOCK);
        assert!(!B.refuses_now());
        let p = B.try_acquire().unwrap();
        B.record(p, Outcome::Failure);
        assert!(B.refuses_now());
        CLOCK.advance(Duration::from_secs(2));
        assert_eq!(B.state(), CircuitState::Open);
        assert!(!B.refuses_now(), "the next call is the probe");
        assert_eq!(B.state(), CircuitState::Open, "asking took nothing");
        let probe = B.try_acquire().unwrap();
        assert_eq!(B.state(), CircuitState::HalfOpen);
        assert!(B.refuses_now(), "its one probe is out");
        assert!(B.try_acquire().is_err());
        B.record(probe, Outcome::Success);
        assert!(!B.refuses_now());
        B.force_open();
        CLOCK.advance(Duration::from_secs(60));
        assert!(B.refuses_now(), "forced open until a reset");
        B.reset();
        assert!(!B.refuses_now());
    }

    /// A call turned away while the breaker is half-open, its probe under
    /// way, is told so (a walk-through's chunk reports read "is open" while
    /// the probe was in flight); an open breaker's rejection is not.
    #[test]
    fn a_rejection_while_probing_says_half_open() {
        use crate::clock::ManualClock;
        static CLOCK: ManualClock = ManualClock::new();
        static B: CircuitBreaker = CircuitBreaker::new("probing")
            .with_failures(1)
            .with_recovery(Duration::from_secs(30))
            .with_clock(&CLOCK);
        let p = B.try_acquire().unwrap();
        B.record(p, Outcome::Failure);
        let open = B.try_acquire().unwrap_err();
        assert!(!open.half_open);
        assert_eq!(
            open.to_string(),
            "circuit `probing` is open; retry after 30s"
        );
        CLOCK.advance(Duration::from_secs(31));
        let probe = B.try_acquire().unwrap();
        CLOCK.advance(Duration::from_secs(1));
        let probing = B.try_acquire().unwrap_err();
        assert!(probing.half_open && !probing.forced);
        assert_eq!(probing.retry_after, Duration::from_secs(29));
        assert_eq!(
            probing.to_string(),
            "circuit `probing` is half-open (its probes are under way); retry after 29s at most"
        );
        B.record(probe, Outcome::Success);
        assert!(B.try_acquire().is_ok());
    }

    /// A breaker opened on a thread whose time is virtual (a test's
    /// `testing::pause`, an hour ahead) is not kept open for that hour on
    /// the threads on real time.
    #[test]
    fn virtual_time_of_one_thread_does_not_hold_a_breaker_open_for_others() {
        static B: CircuitBreaker = CircuitBreaker::new("b")
            .with_failures(1)
            .with_recovery(Duration::from_millis(50));
        std::thread::spawn(|| {
            let _paused = crate::testing::pause();
            crate::sleep::sleep_sync(Duration::from_secs(3600));
            let p = B.try_acquire().unwrap();
            B.record(p, Outcome::Failure);
        })
        .join()
        .unwrap();
        assert_eq!(B.state(), CircuitState::Open);
        let probe = B.try_acquire().expect("the recovery is not an hour away");
        assert!(probe.is_probe());
        // on real time, an open breaker still waits its recovery out
        static C: CircuitBreaker = CircuitBreaker::new("c")
            .with_failures(1)
            .with_recovery(Duration::from_secs(60));
        let p = C.try_acquire().unwrap();
        C.record(p, Outcome::Failure);
        assert!(C.try_acquire().is_err());
    }

    /// A clock of the tests' kind (`goes_back_only_in_tests`) read behind
    /// a breaker's stamp: only a stamp further ahead than the recovery
    /// timeout is taken as another thread's virtual time, and passed; one
    /// ahead by the recovery or less is waited out, the recovery from the
    /// stamp.
    #[test]
    fn only_a_stamp_ahead_by_more_than_the_recovery_is_taken_as_passed() {
        struct Virtual(AtomicU64);
        impl Clock for Virtual {
            fn now(&self) -> Duration {
                Duration::from_millis(self.0.load(Ordering::Relaxed))
            }
            fn goes_back_only_in_tests(&self) -> bool {
                true
            }
        }
        static CLOCK: Virtual = Virtual(AtomicU64::new(10_000));
        static B: CircuitBreaker = CircuitBreaker::new("b")
            .with_failures(1)
            .with_recovery(Duration::from_millis(50))
            .with_clock(&CLOCK);
        let p = B.try_acquire().unwrap();
        B.record(p, Outcome::Failure); // opened at 10s
        CLOCK.0.store(10_000 - 50, Ordering::Relaxed);
        let open = B
            .try_acquire()
            .expect_err("ahead by the recovery: waited out");
        assert_eq!(open.retry_after, Duration::from_millis(100));
        CLOCK.0.store(10_000 - 51, Ordering::Relaxed);
        let probe = B.try_acquire().expect("ahead by more: taken as passed");
        assert!(probe.is_probe());
    }

    /// A breaker opened within a millisecond (its stamp rounded up) tells a
    /// call rejected at once the recovery it set, "30s", not "31s": the
    /// millisecond its wait may carry is not shown as a second.
    #[test]
    fn a_breaker_opened_mid_millisecond_says_its_recovery() {
        static CLOCK: ManualClock = ManualClock::new();
        static B: CircuitBreaker = CircuitBreaker::new("upstream")
            .with_failures(1)
            .with_recovery(Duration::from_secs(30))
            .with_clock(&CLOCK);
        CLOCK.advance(Duration::from_micros(500));
        let p = B.try_acquire().unwrap();
        B.record(p, Outcome::Failure);
        let open = B.try_acquire().unwrap_err();
        assert_eq!(open.retry_after, Duration::from_millis(30_001));
        assert_eq!(
            open.to_string(),
            "circuit `upstream` is open; retry after 30s"
        );
    }

    /// The recovery timeout never ends early, and a rejection's
    /// `retry_after` never says less than is left of it (a call that waits
    /// as told gets through), wherever in a millisecond the breaker opened;
    /// it ends less than 1 ms late. Whole milliseconds were compared:
    /// opened at 999µs, with a 1 ms recovery, a probe went through 2µs
    /// later.
    #[test]
    fn the_recovery_never_ends_early() {
        static CLOCK: ManualClock = ManualClock::new();
        let us = Duration::from_micros;
        // the case found: opened at 999µs, 2µs later
        CLOCK.set(us(999));
        let b = CircuitBreaker::new("b")
            .with_failures(1)
            .with_recovery(Duration::from_millis(1))
            .with_clock(&CLOCK);
        let p = b.try_acquire().unwrap();
        b.record(p, Outcome::Failure);
        CLOCK.advance(us(2));
        let open = b.try_acquire().expect_err("998µs of the recovery are left");
        assert!(open.retry_after >= us(998), "{open:?}");

        for recovery_ms in [1, 3] {
            let recovery = Duration::from_millis(recovery_ms);
            for opened_us in [0, 1, 500, 999, 1000, 1001, 1999, 123_456_789] {
                let b = CircuitBreaker::new("b")
                    .with_failures(1)
                    .with_recovery(recovery)
                    .with_clock(&CLOCK);
                CLOCK.set(us(opened_us));
                let p = b.try_acquire().unwrap();
                b.record(p, Outcome::Failure);
                let mut told = Duration::MAX; // the earliest time a rejection said to come back
                for after in (0..=recovery_ms * 1000 + 1000).map(us) {
                    CLOCK.set(us(opened_us) + after);
                    let case =
                        format!("{recovery:?} recovery, opened at {opened_us}µs, {after:?} later");
                    match b.try_acquire() {
                        Ok(probe) => {
                            assert!(after >= recovery, "early: {case}");
                            assert!(CLOCK.now() <= told, "a wait told fell short: {case}");
                            // a lost probe is replaced a recovery after it, not sooner
                            let granted = CLOCK.now();
                            CLOCK.set(granted + recovery - us(1));
                            assert!(
                                b.try_acquire().is_err(),
                                "lost probe replaced early: {case}"
                            );
                            CLOCK.set(granted + recovery + Duration::from_millis(1));
                            assert!(b.try_acquire().is_ok(), "lost probe replaced late: {case}");
                            // the replaced round's probe reports late: it counts
                            b.record(probe, Outcome::Failure);
                            break;
                        }
                        Err(open) => {
                            assert!(after < recovery + Duration::from_millis(1), "late: {case}");
                            assert!(
                                open.retry_after >= recovery.saturating_sub(after),
                                "{open:?}: {case}"
                            );
                            told = told.min(CLOCK.now() + open.retry_after);
                        }
                    }
                }
                assert_eq!(
                    (b.state(), b.stats().opened),
                    (CircuitState::Open, 2),
                    "a probe went through, and its late failure re-opened the breaker"
                );
            }
        }
    }

    /// The bound `ManualClock`'s docs state: a move of 2^39 ms (about 17
    /// years) or more at once reads as a clock that went back, and the
    /// breaker stays open for the rest of the 40-bit scale; the scale
    /// wraps, so 2^40 ms on it is a move of none.
    #[test]
    fn a_manual_clock_moved_on_by_2_pow_39_ms_reads_as_gone_back() {
        static CLOCK: ManualClock = ManualClock::new();
        static B: CircuitBreaker = CircuitBreaker::new("b")
            .with_failures(1)
            .with_recovery(Duration::from_secs(30))
            .with_clock(&CLOCK);
        let ms = Duration::from_millis;
        let p = B.try_acquire().unwrap();
        B.record(p, Outcome::Failure); // opened at 0
        CLOCK.set(ms((1 << 39) - 1));
        let probe = B.try_acquire().expect("2^39 ms less 1 is a move on");
        B.record(probe, Outcome::Failure); // opened again, at 2^39 ms less 1
        CLOCK.advance(ms(1 << 39));
        let open = B.try_acquire().unwrap_err();
        assert_eq!(
            open.retry_after,
            ms(30_000 + (1 << 39)),
            "read as gone back"
        );
        let eighteen_years = Duration::from_secs(18 * 365 * 24 * 3600);
        CLOCK.set(ms((1 << 39) - 1) + eighteen_years);
        let open = B.try_acquire().unwrap_err();
        assert_eq!(
            open.retry_after,
            ms(30_000 + (1 << 40)) - eighteen_years,
            "read as gone back"
        );
        CLOCK.set(ms((1 << 39) - 1 + (1 << 40) + 30_000));
        assert!(
            B.try_acquire().is_ok(),
            "2^40 ms and 30s later: 30s on the scale"
        );
    }

    /// The bound `with_recovery`'s docs state: with a recovery of 1 ms,
    /// 256 transitions take 86 ms of the clock, and a permit let through
    /// before them is then taken for a current one.
    #[test]
    fn with_a_1ms_recovery_the_generation_wraps_in_86ms() {
        static CLOCK: ManualClock = ManualClock::new();
        static B: CircuitBreaker = CircuitBreaker::new("b")
            .with_failures(1)
            .with_recovery(Duration::from_millis(1))
            .with_clock(&CLOCK);
        let slow = B.try_acquire().unwrap(); // let through while closed, at 0
        let cycle = |failed_probes: u32| {
            let p = B.try_acquire().unwrap();
            B.record(p, Outcome::Failure); // closed -> open
            for _ in 0..failed_probes {
                CLOCK.advance(Duration::from_millis(1));
                let p = B.try_acquire().unwrap(); // open -> half-open
                B.record(p, Outcome::Failure); // half-open -> open
            }
            CLOCK.advance(Duration::from_millis(1));
            let p = B.try_acquire().unwrap(); // open -> half-open
            B.record(p, Outcome::Success); // half-open -> closed
        };
        (0..83).for_each(|_| cycle(0)); // 249 transitions, one wait each 3
        cycle(2); // 7 more, 3 waits: 256, the generation `slow` was let through in
        assert_eq!(B.state(), CircuitState::Closed);
        assert_eq!(CLOCK.now(), Duration::from_millis(86));
        B.record(slow, Outcome::Failure); // taken for a current failure
        assert_eq!(B.state(), CircuitState::Open);
    }

    #[test]
    fn setters_clamp() {
        let b = CircuitBreaker::new("b")
            .with_failures(u32::MAX)
            .with_failure_rate(0, 1000)
            .with_probes(0);
        assert_eq!(
            (b.failures, b.rate, b.window, b.probes),
            (MAX_FAILURES, 1, 48, 1)
        );
        let b = CircuitBreaker::new("b")
            .with_failure_rate(500, 10)
            .with_probes(1000);
        assert_eq!((b.rate, b.window, b.probes), (100, 10, MAX_PROBES));
    }

    /// The getters give back what the setters stored: the value as set,
    /// or as clamped; and `failure_rate` is `None` exactly when the rule
    /// is off (a window of 0 calls), whatever the percent.
    #[test]
    fn getters_return_what_the_setters_stored() {
        static B: CircuitBreaker = CircuitBreaker::new("b")
            .with_failures(3)
            .with_failure_rate(25, 40)
            .with_probes(4)
            .with_recovery(Duration::from_secs(7));
        assert_eq!(
            (B.failures(), B.failure_rate(), B.probes(), B.recovery()),
            (3, Some((25, 40)), 4, Duration::from_secs(7))
        );
        let d = CircuitBreaker::new("d");
        assert_eq!((d.failures(), d.failure_rate(), d.probes()), (5, None, 1));
        let off = CircuitBreaker::new("b")
            .with_failures(0)
            .with_failure_rate(50, 20)
            .with_failure_rate(50, 0);
        assert_eq!((off.failures(), off.failure_rate()), (0, None));
        let clamped = CircuitBreaker::new("b")
            .with_failures(u32::MAX)
            .with_failure_rate(0, 1000)
            .with_probes(0);
        assert_eq!(
            (clamped.failures(), clamped.failure_rate(), clamped.probes()),
            (MAX_FAILURES, Some((1, MAX_WINDOW)), 1)
        );
        let clamped = CircuitBreaker::new("b")
            .with_failure_rate(500, 10)
            .with_probes(1000);
        assert_eq!(
            (clamped.failure_rate(), clamped.probes()),
            (Some((100, 10)), MAX_PROBES)
        );
        // `Debug` shows the rule as the getter does
        assert!(format!("{d:?}").contains("failure_rate: None"), "{d:?}");
        assert!(
            format!("{B:?}").contains("failure_rate: Some((25, 40))"),
            "{B:?}"
        );
    }
}
