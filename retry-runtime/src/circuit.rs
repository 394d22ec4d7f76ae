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
//!   re-opens it for another recovery timeout. A probe that never reports
//!   (its future was dropped) does not block the breaker: after another
//!   recovery timeout new probes are let through.
//!
//! State changes are logged on `tracing`: WARN when it opens, INFO when it
//! turns half-open or closes, with the fields `name` and `state` (and
//! `failures` when it opens, `probes` otherwise).
//!
//! # Concurrency
//! The whole state machine is one `AtomicU64` (state, consecutive failures or
//! probe counts, a generation, the time of the last transition) changed by
//! compare-and-swap, plus one `AtomicU64` ring of the last outcomes when a
//! failure-rate window is configured. No lock, no allocation. In the closed
//! state, letting a call through is one load (and a counter increment for
//! [`stats`](CircuitBreaker::stats)); recording a success writes only when
//! there were failures to forget.
//!
//! # Time
//! The breaker reads time through a [`BreakerClock`]: [`DefaultClock`]
//! (tokio's clock, which follows `tokio::time::pause()`, plus the virtual time of
//! [`testing::pause`](crate::testing::pause)), or a [`ManualClock`] that tests
//! move by hand.
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

use core::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::classify::{Classify, ErrorKind};

// The state word: | time of the last transition, ms (40) | generation (8) | count (14) | state (2) |
// `count` is the consecutive failures when closed, and the probes let through
// (low 7 bits) and the probes that succeeded (high 7 bits) when half-open.
const STATE_MASK: u64 = 0b11;
const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;
const COUNT_SHIFT: u32 = 2;
const COUNT_MASK: u64 = (1 << 14) - 1;
const PROBE_MASK: u64 = (1 << 7) - 1;
const GEN_SHIFT: u32 = 16;
const TIME_SHIFT: u32 = 24;
const TIME_MASK: u64 = (1 << 40) - 1;
/// The longest recovery timeout and time difference the word can hold: 2^39 ms, about 17 years.
const MAX_MS: u64 = TIME_MASK >> 1;

/// The largest consecutive-failure threshold.
const MAX_FAILURES: u32 = COUNT_MASK as u32;
/// The largest number of probes.
const MAX_PROBES: u32 = PROBE_MASK as u32;
/// The largest failure-rate window, in calls.
const MAX_WINDOW: u32 = 48;

// The window ring: | outcomes, newest lowest, 1 = failure (48) | calls recorded (8) | generation (8) |
const RING_FILLED_SHIFT: u32 = 8;
const RING_BITS_SHIFT: u32 = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
struct Word(u64);

impl Word {
    const fn new(state: u64, count: u64, generation: u8, time_ms: u64) -> Word {
        Word(
            state
                | (count & COUNT_MASK) << COUNT_SHIFT
                | (generation as u64) << GEN_SHIFT
                | (time_ms & TIME_MASK) << TIME_SHIFT,
        )
    }
    fn state(self) -> u64 {
        self.0 & STATE_MASK
    }
    fn count(self) -> u64 {
        (self.0 >> COUNT_SHIFT) & COUNT_MASK
    }
    fn probes(self) -> u64 {
        self.count() & PROBE_MASK
    }
    fn successes(self) -> u64 {
        self.count() >> 7
    }
    fn generation(self) -> u8 {
        (self.0 >> GEN_SHIFT) as u8
    }
    fn time(self) -> u64 {
        (self.0 >> TIME_SHIFT) & TIME_MASK
    }
    fn with_count(self, count: u64) -> Word {
        Word((self.0 & !(COUNT_MASK << COUNT_SHIFT)) | (count & COUNT_MASK) << COUNT_SHIFT)
    }
    fn half_open_count(probes: u64, successes: u64) -> u64 {
        (probes & PROBE_MASK) | (successes & PROBE_MASK) << 7
    }
}

/// Milliseconds from `then` to `now` on the 40-bit wrapping clock; 0 if the
/// clock went back (thread-local virtual time under `testing::pause`).
fn elapsed_ms(now: u64, then: u64) -> u64 {
    let d = now.wrapping_sub(then) & TIME_MASK;
    if d > MAX_MS { 0 } else { d }
}

const fn duration_to_ms(d: Duration) -> u64 {
    let ms = d.as_millis();
    // round up, so a wait never ends early
    let ms = if d.subsec_nanos() % 1_000_000 != 0 {
        ms + 1
    } else {
        ms
    };
    if ms > MAX_MS as u128 {
        MAX_MS
    } else {
        ms as u64
    }
}

/// A circuit breaker, meant to live in a `static` shared by every caller of
/// one dependency. See the [module docs](self) for the state machine.
///
/// Attach it to a policy with [`Policy::circuit`](crate::Policy::circuit)
/// (or `#[retry(circuit = NAME)]`), or drive it by hand with
/// [`try_acquire`](CircuitBreaker::try_acquire) and
/// [`record`](CircuitBreaker::record).
///
/// Every setter is a `const fn` and clamps its value to the documented range
/// (an out-of-range value behaves as the nearest valid one).
///
/// # Default
/// [`CircuitBreaker::new`]: opens after 5 consecutive failures, no
/// failure-rate window, recovery timeout 30s, 1 probe, [`DefaultClock`].
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
/// let policy = presets::API.circuit(&UPSTREAM);
/// let r: Result<&str, ApiError> = policy.retry(|| Ok("pong")).call();
/// assert_eq!(r.unwrap(), "pong");
/// assert_eq!(UPSTREAM.stats().successes, 1);
/// ```
pub struct CircuitBreaker {
    name: &'static str,
    failures: u32,
    window: u32,
    rate: u32,
    probes: u32,
    recovery: Duration,
    recovery_ms: u64,
    clock: &'static dyn BreakerClock,
    word: AtomicU64,
    ring: AtomicU64,
    permitted: AtomicU64,
    rejected: AtomicU64,
    successes: AtomicU64,
    failed: AtomicU64,
    neutral: AtomicU64,
    opened: AtomicU64,
}

impl CircuitBreaker {
    /// A closed breaker named `name` (in log lines and [`CircuitOpen`]), with
    /// the defaults of the type's "Default" section.
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
            recovery: Duration::from_secs(30),
            recovery_ms: 30_000,
            clock: &DefaultClock,
            word: AtomicU64::new(Word::new(CLOSED, 0, 0, 0).0),
            ring: AtomicU64::new(0),
            permitted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            successes: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            neutral: AtomicU64::new(0),
            opened: AtomicU64::new(0),
        }
    }

    /// Open after `n` consecutive failures (neutral outcomes neither count
    /// nor reset the count). `0` turns this rule off (use a failure-rate
    /// window instead); at most 16383.
    ///
    /// ```
    /// use retry_runtime::CircuitBreaker;
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_failures(3);
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
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::CircuitBreaker;
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_recovery(Duration::from_secs(10));
    /// assert_eq!(B.recovery(), Duration::from_secs(10));
    /// ```
    pub const fn with_recovery(mut self, recovery: Duration) -> CircuitBreaker {
        self.recovery_ms = duration_to_ms(recovery);
        self.recovery = Duration::from_millis(self.recovery_ms);
        self
    }

    /// How many probe calls it lets through when half-open; it closes when
    /// all of them succeed. 1..=127.
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

    /// Read time from `clock` instead of [`DefaultClock`] (tests: a [`ManualClock`]).
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, ManualClock};
    /// static CLOCK: ManualClock = ManualClock::new();
    /// static B: CircuitBreaker = CircuitBreaker::new("b").with_clock(&CLOCK);
    /// ```
    pub const fn with_clock(mut self, clock: &'static dyn BreakerClock) -> CircuitBreaker {
        self.clock = clock;
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

    /// Ask to make a call. `Ok` with a [`Permit`] to hand back to
    /// [`record`](CircuitBreaker::record) with the call's outcome, or
    /// `Err(`[`CircuitOpen`]`)`: do not call.
    ///
    /// Closed: always `Ok`. Open: `Err` until the recovery timeout has
    /// passed; then this call becomes the first probe and the breaker turns
    /// half-open. HalfOpen: `Ok` for up to `probes` calls, then `Err`.
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
        let mut w = Word(self.word.load(Ordering::Acquire));
        loop {
            let next = match w.state() {
                CLOSED => {
                    self.permitted.fetch_add(1, Ordering::Relaxed);
                    return Ok(Permit {
                        generation: w.generation(),
                        probe: false,
                    });
                }
                OPEN => self.first_probe_after_recovery(w)?,
                _ => {
                    if w.probes() < u64::from(self.probes) {
                        w.with_count(Word::half_open_count(w.probes() + 1, w.successes()))
                    } else {
                        // Every probe is out. If they have not all reported within a
                        // recovery timeout, some were lost: start a new round.
                        self.first_probe_after_recovery(w)?
                    }
                }
            };
            match self.cas(w, next) {
                Ok(()) => {
                    if next.generation() != w.generation() {
                        self.log_half_open(w.state() == HALF_OPEN);
                    }
                    self.permitted.fetch_add(1, Ordering::Relaxed);
                    return Ok(Permit {
                        generation: next.generation(),
                        probe: true,
                    });
                }
                Err(current) => w = current,
            }
        }
    }

    /// Once a recovery timeout has passed since `w`'s last transition, the
    /// word of a new half-open round with this call as its first probe;
    /// before that, the rejection.
    fn first_probe_after_recovery(&self, w: Word) -> Result<Word, CircuitOpen> {
        let now = self.now_ms();
        let elapsed = elapsed_ms(now, w.time());
        if elapsed < self.recovery_ms {
            return Err(self.open_error(elapsed));
        }
        Ok(Word::new(
            HALF_OPEN,
            Word::half_open_count(1, 0),
            w.generation().wrapping_add(1),
            now,
        ))
    }

    fn open_error(&self, elapsed_ms: u64) -> CircuitOpen {
        CircuitOpen {
            circuit: self.name,
            retry_after: Duration::from_millis(self.recovery_ms.saturating_sub(elapsed_ms)),
        }
    }

    /// Report the outcome of a call made with `permit`.
    ///
    /// - [`Outcome::Failure`]: a failure the policy would retry (a timeout, a
    ///   503): counts towards opening; a failed probe re-opens the breaker.
    /// - [`Outcome::Success`]: resets the consecutive failures; a probe
    ///   success (the last of `probes`) closes the breaker.
    /// - [`Outcome::Neutral`]: an error that says nothing about the
    ///   dependency's health (a 404, bad input): changes nothing, except
    ///   that a neutral probe frees its slot for another probe.
    ///
    /// An outcome from before the last state change (a call that was let
    /// through while closed and ends after the breaker opened) is counted in
    /// [`stats`](CircuitBreaker::stats) but does not move the state.
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

    fn record_closed(&self, generation: u8, outcome: Outcome) {
        let failure = match outcome {
            Outcome::Neutral => return,
            Outcome::Success => false,
            Outcome::Failure => true,
        };
        let mut w = Word(self.word.load(Ordering::Acquire));
        loop {
            if w.state() != CLOSED || w.generation() != generation {
                return; // the state changed since this call was let through
            }
            let mut trip = None;
            let next = if !failure {
                if w.count() == 0 {
                    break; // the common case: nothing to write
                }
                w.with_count(0)
            } else {
                let n = (w.count() + 1).min(COUNT_MASK);
                if self.failures != 0 && n >= u64::from(self.failures) {
                    trip = Some(Trip::Consecutive(n as u32));
                    Word::new(OPEN, 0, generation.wrapping_add(1), self.now_ms())
                } else {
                    w.with_count(n)
                }
            };
            // On a lost race the count is re-read: a success that got in
            // first resets it, and this failure starts a new count.
            match self.cas(w, next) {
                Ok(()) => match trip {
                    Some(why) => return self.opened(why),
                    None => break,
                },
                Err(current) => w = current,
            }
        }
        if self.window != 0 {
            let (failures, filled) = self.push(generation, failure);
            if failure
                && filled >= self.window
                && u64::from(failures) * 100 >= u64::from(self.rate) * u64::from(self.window)
            {
                self.open_from(generation, Trip::Rate(failures));
            }
        }
    }

    fn opened(&self, why: Trip) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.log_open(why);
    }

    /// Open the breaker if it is still closed in generation `generation`.
    fn open_from(&self, generation: u8, why: Trip) {
        let mut w = Word(self.word.load(Ordering::Acquire));
        loop {
            if w.state() != CLOSED || w.generation() != generation {
                return; // another thread changed the state first
            }
            let next = Word::new(OPEN, 0, generation.wrapping_add(1), self.now_ms());
            match self.cas(w, next) {
                Ok(()) => return self.opened(why),
                Err(current) => w = current,
            }
        }
    }

    /// Add one outcome to the failure-rate window of generation `generation`:
    /// returns (failures, calls) in the window.
    fn push(&self, generation: u8, failure: bool) -> (u32, u32) {
        let mask = (1u64 << self.window) - 1;
        let mut r = self.ring.load(Ordering::Relaxed);
        loop {
            let (filled, bits) = if r as u8 == generation {
                ((r >> RING_FILLED_SHIFT) as u8 as u32, r >> RING_BITS_SHIFT)
            } else {
                (0, 0) // a window of an earlier closed period: start afresh
            };
            let bits = ((bits << 1) | u64::from(failure)) & mask;
            let filled = (filled + 1).min(self.window);
            let next = u64::from(generation)
                | u64::from(filled) << RING_FILLED_SHIFT
                | bits << RING_BITS_SHIFT;
            match self
                .ring
                .compare_exchange_weak(r, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return (bits.count_ones(), filled),
                Err(current) => r = current,
            }
        }
    }

    fn record_probe(&self, generation: u8, outcome: Outcome) {
        let mut w = Word(self.word.load(Ordering::Acquire));
        loop {
            if w.state() != HALF_OPEN || w.generation() != generation {
                return; // a probe of an earlier round
            }
            let next = match outcome {
                Outcome::Failure => Word::new(OPEN, 0, generation.wrapping_add(1), self.now_ms()),
                Outcome::Success if w.successes() + 1 >= u64::from(self.probes) => {
                    Word::new(CLOSED, 0, generation.wrapping_add(1), self.now_ms())
                }
                Outcome::Success => {
                    w.with_count(Word::half_open_count(w.probes(), w.successes() + 1))
                }
                Outcome::Neutral => w.with_count(Word::half_open_count(
                    w.probes().saturating_sub(1),
                    w.successes(),
                )),
            };
            match self.cas(w, next) {
                Ok(()) => {
                    match next.state() {
                        OPEN => self.opened(Trip::Probe),
                        CLOSED => self.log_closed(),
                        _ => {}
                    }
                    return;
                }
                Err(current) => w = current,
            }
        }
    }

    fn cas(&self, current: Word, next: Word) -> Result<(), Word> {
        self.word
            .compare_exchange_weak(current.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Word)
    }

    fn now_ms(&self) -> u64 {
        let ms = self.clock.now().as_millis();
        (ms as u64) & TIME_MASK
    }

    /// The current state. An open breaker reads `Open` until the first call
    /// after its recovery timeout turns it half-open.
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, CircuitState};
    /// assert_eq!(CircuitBreaker::new("b").state(), CircuitState::Closed);
    /// ```
    pub fn state(&self) -> CircuitState {
        CircuitState::of(Word(self.word.load(Ordering::Acquire)).state())
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
        let w = Word(self.word.load(Ordering::Acquire));
        let state = CircuitState::of(w.state());
        let (window_calls, window_failures) = match state {
            CircuitState::Closed if self.window != 0 => {
                let r = self.ring.load(Ordering::Relaxed);
                if r as u8 == w.generation() {
                    (
                        (r >> RING_FILLED_SHIFT) as u8 as u32,
                        (r >> RING_BITS_SHIFT).count_ones(),
                    )
                } else {
                    (0, 0)
                }
            }
            _ => (0, 0),
        };
        let (consecutive_failures, probes_let_through, probes_succeeded) = match state {
            CircuitState::Closed => (w.count() as u32, 0, 0),
            CircuitState::HalfOpen => (0, w.probes() as u32, w.successes() as u32),
            CircuitState::Open => (0, 0, 0),
        };
        CircuitStats {
            state,
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
    /// the counters of [`stats`](CircuitBreaker::stats) are kept).
    ///
    /// ```
    /// use retry_runtime::circuit::{CircuitBreaker, CircuitState, Outcome};
    /// let b = CircuitBreaker::new("b").with_failures(1);
    /// let p = b.try_acquire().unwrap();
    /// b.record(p, Outcome::Failure);
    /// b.reset();
    /// assert_eq!(b.state(), CircuitState::Closed);
    /// ```
    pub fn reset(&self) {
        let mut w = Word(self.word.load(Ordering::Acquire));
        loop {
            let next = Word::new(CLOSED, 0, w.generation().wrapping_add(1), self.now_ms());
            match self.cas(w, next) {
                Ok(()) => return,
                Err(current) => w = current,
            }
        }
    }

    fn log_open(&self, why: Trip) {
        match why {
            Trip::Consecutive(n) => tracing::warn!(
                name = self.name,
                state = "open",
                failures = n,
                recovery_ms = self.recovery_ms,
                "circuit `{}` opened after {} consecutive failures; rejecting calls for {:?}",
                self.name,
                n,
                self.recovery,
            ),
            Trip::Rate(n) => tracing::warn!(
                name = self.name,
                state = "open",
                failures = n,
                window = self.window,
                recovery_ms = self.recovery_ms,
                "circuit `{}` opened: {} of the last {} calls failed; rejecting calls for {:?}",
                self.name,
                n,
                self.window,
                self.recovery,
            ),
            Trip::Probe => tracing::warn!(
                name = self.name,
                state = "open",
                failures = 1u32,
                recovery_ms = self.recovery_ms,
                "circuit `{}` re-opened: a probe call failed; rejecting calls for {:?}",
                self.name,
                self.recovery,
            ),
        }
    }

    fn log_half_open(&self, again: bool) {
        if again {
            self.log_probes(
                "half-open",
                format_args!(
                    "circuit `{}` is still half-open: its probes did not report; letting {} new probe call(s) through",
                    self.name, self.probes
                ),
            );
        } else {
            self.log_probes(
                "half-open",
                format_args!(
                    "circuit `{}` is half-open: letting {} probe call(s) through",
                    self.name, self.probes
                ),
            );
        }
    }

    fn log_closed(&self) {
        self.log_probes(
            "closed",
            format_args!(
                "circuit `{}` closed: {} probe call(s) succeeded",
                self.name, self.probes
            ),
        );
    }

    /// The INFO line of a move to `state` that concerns the probes.
    fn log_probes(&self, state: &'static str, message: fmt::Arguments<'_>) {
        tracing::info!(name = self.name, state, probes = self.probes, "{}", message);
    }
}

#[derive(Clone, Copy)]
enum Trip {
    Consecutive(u32),
    Rate(u32),
    Probe,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .field("failures", &self.failures)
            .field("failure_rate", &(self.rate, self.window))
            .field("recovery", &self.recovery)
            .field("probes", &self.probes)
            .finish_non_exhaustive()
    }
}

/// Leave to make one call, from [`CircuitBreaker::try_acquire`]; hand it back
/// to [`CircuitBreaker::record`] with the outcome.
///
/// A permit that is never recorded is harmless while the breaker is closed;
/// a lost probe is replaced after one recovery timeout.
///
/// ```
/// use retry_runtime::circuit::{CircuitBreaker, Outcome};
/// let b = CircuitBreaker::new("b");
/// let permit = b.try_acquire().unwrap();
/// assert!(!permit.is_probe());
/// b.record(permit, Outcome::Success);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// The call failed with an error the policy does not retry (a 404, bad input): no signal.
    Neutral,
}

/// The state of a [`CircuitBreaker`].
///
/// ```
/// use retry_runtime::circuit::CircuitState;
/// assert_eq!(CircuitState::HalfOpen.to_string(), "half-open");
/// assert_eq!(CircuitState::default(), CircuitState::Closed);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls go through; failures are counted.
    #[default]
    Closed,
    /// Calls are rejected until the recovery timeout has passed.
    Open,
    /// A bounded number of probe calls go through; the rest are rejected.
    HalfOpen,
}

impl CircuitState {
    fn of(bits: u64) -> CircuitState {
        match bits {
            CLOSED => CircuitState::Closed,
            OPEN => CircuitState::Open,
            _ => CircuitState::HalfOpen,
        }
    }

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

/// A snapshot of a [`CircuitBreaker`] for metrics, from [`CircuitBreaker::stats`].
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
    /// Probes let through in this half-open round (half-open; 0 otherwise).
    pub probes_let_through: u32,
    /// Probes of this round that succeeded.
    pub probes_succeeded: u32,
    /// Calls let through, ever (probes included).
    pub permitted: u64,
    /// Calls rejected, ever.
    pub rejected: u64,
    /// Successes recorded, ever.
    pub successes: u64,
    /// Failures recorded, ever.
    pub failures: u64,
    /// Neutral outcomes recorded, ever.
    pub neutral: u64,
    /// Times the breaker opened (re-opening after a failed probe included).
    pub opened: u64,
}

/// A call rejected by an open (or fully probing half-open) [`CircuitBreaker`];
/// the operation was not called.
///
/// It classifies as [`ErrorKind::Unavailable`] (the dependency is, as far as
/// this process knows, unavailable), with [`Classify::retry_after`] saying when
/// the breaker will let a probe through. The run that owns the breaker never
/// retries it: the rejection ends the run before any attempt is made
/// ([`StopReason::CircuitOpen`](crate::StopReason::CircuitOpen)). An outer
/// retry layer without this breaker may retry it later, and waits for the
/// hint if it honours Retry-After for `Unavailable` (the `api` preset does).
///
/// `#[retry(circuit = NAME)]` and the `*_guarded` executors return it as the
/// function's own error type, which implements `From<CircuitOpen>`
/// (`std::io::Error` does: an `io::ErrorKind::ResourceBusy` error).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{CircuitOpen, Classify, ErrorKind};
/// let open = CircuitOpen::new("upstream", Duration::from_secs(30));
/// assert_eq!(open.to_string(), "circuit `upstream` is open; retry after 30s");
/// assert_eq!((open.kind(), open.retry_after()), (ErrorKind::Unavailable, Some(Duration::from_secs(30))));
/// let io: std::io::Error = open.into();
/// assert_eq!(Classify::kind(&io), ErrorKind::Unavailable);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitOpen {
    /// The breaker's name.
    pub circuit: &'static str,
    /// When it will let a probe through, from now.
    pub retry_after: Duration,
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "circuit `{}` is open; retry after {}",
            self.circuit,
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

impl From<CircuitOpen> for std::io::Error {
    fn from(open: CircuitOpen) -> Self {
        std::io::Error::new(std::io::ErrorKind::ResourceBusy, open)
    }
}

/// A wait for humans: whole seconds (rounded up) from 1s, else milliseconds.
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
            let s = d.as_secs() + u64::from(d.subsec_nanos() != 0);
            write!(f, "{s}s")
        } else {
            let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
            write!(f, "{ms}ms")
        }
    }
}

/// Where a [`CircuitBreaker`] reads the time: a monotonic reading since an
/// arbitrary fixed origin.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::circuit::BreakerClock;
/// struct Frozen;
/// impl BreakerClock for Frozen {
///     fn now(&self) -> Duration { Duration::from_secs(42) }
/// }
/// static FROZEN: Frozen = Frozen;
/// static B: retry_runtime::CircuitBreaker = retry_runtime::CircuitBreaker::new("b").with_clock(&FROZEN);
/// ```
pub trait BreakerClock: Sync {
    /// Time since this clock's origin.
    fn now(&self) -> Duration;
}

/// The default [`BreakerClock`]: `tokio::time::Instant::now()` (which follows
/// tokio's paused clock in tests, and is `std::time::Instant` outside a
/// runtime), plus the virtual time of [`testing::pause`](crate::testing::pause)
/// on this thread, so sync tests that sleep virtually move it too.
///
/// ```
/// use retry_runtime::circuit::{BreakerClock, DefaultClock};
/// let _paused = retry_runtime::testing::pause();
/// let before = DefaultClock.now();
/// retry_runtime::sleep::sleep_sync(std::time::Duration::from_secs(60)); // virtual
/// assert!(DefaultClock.now() - before >= std::time::Duration::from_secs(60));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultClock;

impl BreakerClock for DefaultClock {
    fn now(&self) -> Duration {
        static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
        // Set back from the first reading, so that a paused tokio clock that
        // lags real time still reads after the origin.
        let origin = *ORIGIN.get_or_init(|| {
            let now = std::time::Instant::now();
            [365 * 24 * 3600, 24 * 3600, 3600, 60]
                .into_iter()
                .find_map(|secs| now.checked_sub(Duration::from_secs(secs)))
                .unwrap_or(now)
        });
        tokio::time::Instant::now()
            .into_std()
            .saturating_duration_since(origin)
            .saturating_add(crate::testing::virtual_offset())
    }
}

/// A [`BreakerClock`] for tests: stands still until moved.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::circuit::{BreakerClock, ManualClock};
/// static CLOCK: ManualClock = ManualClock::new();
/// CLOCK.advance(Duration::from_secs(5));
/// assert_eq!(CLOCK.now(), Duration::from_secs(5));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock reading zero.
    ///
    /// ```
    /// use retry_runtime::circuit::{BreakerClock, ManualClock};
    /// assert_eq!(ManualClock::new().now(), std::time::Duration::ZERO);
    /// ```
    pub const fn new() -> ManualClock {
        ManualClock {
            nanos: AtomicU64::new(0),
        }
    }

    /// Move the clock forward by `by`.
    ///
    /// ```
    /// use retry_runtime::circuit::{BreakerClock, ManualClock};
    /// let c = ManualClock::new();
    /// c.advance(std::time::Duration::from_millis(1500));
    /// assert_eq!(c.now().as_millis(), 1500);
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_add(by))
            });
    }

    /// Set the clock to `to`.
    ///
    /// ```
    /// use retry_runtime::circuit::{BreakerClock, ManualClock};
    /// let c = ManualClock::new();
    /// c.set(std::time::Duration::from_secs(9));
    /// assert_eq!(c.now().as_secs(), 9);
    /// ```
    pub fn set(&self, to: Duration) {
        let to = u64::try_from(to.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.store(to, Ordering::Relaxed);
    }
}

impl BreakerClock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_fields_round_trip() {
        let w = Word::new(HALF_OPEN, Word::half_open_count(5, 3), 200, TIME_MASK);
        assert_eq!(
            (
                w.state(),
                w.probes(),
                w.successes(),
                w.generation(),
                w.time()
            ),
            (HALF_OPEN, 5, 3, 200, TIME_MASK)
        );
        let w = Word::new(CLOSED, COUNT_MASK, 7, 12345).with_count(9);
        assert_eq!(
            (w.state(), w.count(), w.generation(), w.time()),
            (CLOSED, 9, 7, 12345)
        );
    }

    #[test]
    fn elapsed_wraps_and_never_goes_negative() {
        assert_eq!(elapsed_ms(10, 3), 7);
        assert_eq!(elapsed_ms(2, TIME_MASK - 1), 4); // across the 40-bit wrap
        assert_eq!(elapsed_ms(3, 10), 0); // the clock went back
    }

    #[test]
    fn recovery_rounds_up_and_saturates() {
        assert_eq!(duration_to_ms(Duration::from_micros(1500)), 2);
        assert_eq!(duration_to_ms(Duration::from_secs(30)), 30_000);
        assert_eq!(duration_to_ms(Duration::MAX), MAX_MS);
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

    #[test]
    fn wait_display() {
        let w = |d| Wait(d).to_string();
        assert_eq!(w(Duration::from_secs(30)), "30s");
        assert_eq!(w(Duration::from_millis(29_001)), "30s");
        assert_eq!(w(Duration::from_millis(250)), "250ms");
        assert_eq!(w(Duration::from_micros(1)), "1ms");
        assert_eq!(w(Duration::ZERO), "0ms");
    }
}
