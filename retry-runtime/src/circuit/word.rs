//! The breaker's state machine as one packed `u64`, and the one way it changes
//! ([`AtomicWord::update`]).
//!
//! ```text
//! | time of the last transition, ms (40) | generation (8) | count (14) | state (2) |
//! ```
//!
//! `state` is closed, open, half-open, or open by hand
//! ([`force_open`](super::CircuitBreaker::force_open)): open, with no
//! recovery timeout, until a reset.
//!
//! `count` is the consecutive failures when closed, and the probes let through
//! (low 7 bits) and the probes that succeeded (high 7 bits) when half-open.
//! Every transition moves to a new generation, so a call can tell whether the
//! state it was let through in is still the current one. The generation is
//! 8 bits and wraps: a permit held across 256 transitions (or a multiple;
//! a probe's permit: or one more, as a probe of the round just replaced
//! counts in the one under way) and recorded in the state it was let
//! through in is taken for a current one (`Permit` and
//! `CircuitBreaker::record` say so). A wider count would take its bits
//! from the time or the counts, and a permit held across that many
//! transitions is a call that hung through at least 85 recovery timeouts
//! (only a move to half-open waits one, from open or from a half-open
//! round whose probes did not report, and between two of those come at
//! most two more transitions: half-open to closed to open) or through 256
//! resets and forced openings by hand. With a recovery of 1 ms, 256
//! transitions take as little as about 86 ms; with none, no time
//! (`CircuitBreaker::with_recovery` says so).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::CircuitState;

const STATE_MASK: u64 = 0b11;
const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;
/// Open until a reset (`OPEN`'s bit set, so it reads as open).
const FORCED_OPEN: u64 = 3;
const COUNT_SHIFT: u32 = 2;
const COUNT_MASK: u64 = (1 << 14) - 1;
const PROBE_MASK: u64 = (1 << 7) - 1;
const SUCCESS_SHIFT: u32 = 7;
const GEN_SHIFT: u32 = 16;
const TIME_SHIFT: u32 = 24;
const TIME_MASK: u64 = (1 << 40) - 1;
/// The longest recovery timeout and time difference the word can hold: 2^39 ms, about 17 years.
const MAX_MS: u64 = TIME_MASK >> 1;

/// The largest consecutive-failure threshold.
pub(super) const MAX_FAILURES: u32 = COUNT_MASK as u32;
/// The largest number of probes.
pub(super) const MAX_PROBES: u32 = PROBE_MASK as u32;

/// One value of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Word(u64);

impl Word {
    const fn new(state: CircuitState, count: u64, generation: u8, time_ms: u64) -> Word {
        let state = match state {
            CircuitState::Closed => CLOSED,
            CircuitState::Open => OPEN,
            CircuitState::HalfOpen => HALF_OPEN,
        };
        Word(
            state
                | (count & COUNT_MASK) << COUNT_SHIFT
                | (generation as u64) << GEN_SHIFT
                | (time_ms & TIME_MASK) << TIME_SHIFT,
        )
    }

    pub(super) fn state(self) -> CircuitState {
        match self.0 & STATE_MASK {
            CLOSED => CircuitState::Closed,
            OPEN | FORCED_OPEN => CircuitState::Open,
            _ => CircuitState::HalfOpen,
        }
    }

    /// Open by hand: no recovery timeout, no probes, until a reset.
    pub(super) fn is_forced_open(self) -> bool {
        self.0 & STATE_MASK == FORCED_OPEN
    }

    /// Consecutive failures (closed).
    pub(super) fn failures(self) -> u64 {
        self.count()
    }

    /// Probes let through in this round (half-open).
    pub(super) fn probes(self) -> u64 {
        self.count() & PROBE_MASK
    }

    /// Probes of this round that succeeded (half-open).
    pub(super) fn successes(self) -> u64 {
        self.count() >> SUCCESS_SHIFT
    }

    pub(super) fn generation(self) -> u8 {
        (self.0 >> GEN_SHIFT) as u8
    }

    /// The time of the last transition (or half-open grant), as
    /// [`stamp_of`] rounds it: up, to the next whole millisecond.
    pub(super) fn time(self) -> u64 {
        (self.0 >> TIME_SHIFT) & TIME_MASK
    }

    /// Is the breaker still `state` in `generation`, as when a call was let through?
    pub(super) fn is(self, state: CircuitState, generation: u8) -> bool {
        self.state() == state && self.generation() == generation
    }

    /// The same word with `n` consecutive failures.
    pub(super) fn with_failures(self, n: u64) -> Word {
        self.with_count(n)
    }

    /// The same word with these probe counts.
    pub(super) fn with_probes(self, probes: u64, successes: u64) -> Word {
        self.with_count((probes & PROBE_MASK) | (successes & PROBE_MASK) << SUCCESS_SHIFT)
    }

    /// The same word stamped at `now_ms` (a half-open round's latest probe).
    pub(super) fn stamped(self, now_ms: u64) -> Word {
        Word((self.0 & !(TIME_MASK << TIME_SHIFT)) | (now_ms & TIME_MASK) << TIME_SHIFT)
    }

    /// A transition to `state` at `now_ms`: the next generation, its count zero.
    pub(super) fn moved_to(self, state: CircuitState, now_ms: u64) -> Word {
        Word::new(state, 0, self.generation().wrapping_add(1), now_ms)
    }

    /// A transition to open by hand at `now_ms`: the next generation.
    pub(super) fn forced_open(self, now_ms: u64) -> Word {
        Word(self.moved_to(CircuitState::Open, now_ms).0 | FORCED_OPEN)
    }

    fn count(self) -> u64 {
        (self.0 >> COUNT_SHIFT) & COUNT_MASK
    }

    fn with_count(self, count: u64) -> Word {
        Word((self.0 & !(COUNT_MASK << COUNT_SHIFT)) | (count & COUNT_MASK) << COUNT_SHIFT)
    }
}

/// The state word of one breaker.
pub(super) struct AtomicWord(AtomicU64);

impl AtomicWord {
    /// Closed, generation 0, time 0.
    pub(super) const fn new() -> AtomicWord {
        AtomicWord(AtomicU64::new(Word::new(CircuitState::Closed, 0, 0, 0).0))
    }

    pub(super) fn load(&self) -> Word {
        Word(self.0.load(Ordering::Acquire))
    }

    /// The one way the word changes. `f` maps the current word to the next
    /// one, or declines with `Err` (nothing is written); when another thread
    /// changed the word first, `f` runs again on the word that won. Returns
    /// the word replaced and the word written, or what `f` declined with.
    ///
    /// Orderings: a compare-and-swap always compares against the latest
    /// value of this one atomic, so no transition is lost or applied to a
    /// stale word whatever the ordering; everything a transition decides is
    /// in the word (plus a clock reading), and nothing else is published
    /// through it. Acquire on every read and AcqRel on the swap (as before
    /// this helper existed) add that what a thread did before a transition
    /// (its counter increments, its ring push) is visible to any thread that
    /// sees the transition, e.g. in [`stats`](super::CircuitBreaker::stats).
    pub(super) fn update<E>(
        &self,
        mut f: impl FnMut(Word) -> Result<Word, E>,
    ) -> Result<(Word, Word), E> {
        let mut current = self.load();
        loop {
            let next = f(current)?;
            match self.0.compare_exchange_weak(
                current.0,
                next.0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok((current, next)),
                Err(actual) => current = Word(actual),
            }
        }
    }
}

/// A clock reading on the word's 40-bit wrapping millisecond scale,
/// rounded down: the time now, to compare with a [`stamp_of`].
pub(super) fn ms_of(now: Duration) -> u64 {
    (now.as_millis() as u64) & TIME_MASK
}

/// A clock reading on the same scale rounded up: the time a word is
/// stamped with. The milliseconds from a stamp to an [`ms_of`] reading
/// are then never more than the time that passed (rounding both down
/// counted up to 1 ms too many: a breaker opened at 0.999 ms with a 1 ms
/// recovery let a probe through at 1.001 ms), and at most 2 ms fewer: a
/// wait timed by them never ends early, and ends less than 1 ms late (the
/// next whole millisecond of the clock once it has passed).
pub(super) fn stamp_of(now: Duration) -> u64 {
    let ms = now.as_millis() as u64;
    let up = if now.subsec_nanos() % 1_000_000 != 0 {
        ms.wrapping_add(1)
    } else {
        ms
    };
    up & TIME_MASK
}

/// Milliseconds from `then` to `now` on the 40-bit wrapping clock, or `Err`
/// with how far `then` is ahead of `now` when the clock went back
/// (thread-local virtual time under `testing::pause`, a clock of the user's).
pub(super) fn elapsed_ms(now: u64, then: u64) -> Result<u64, u64> {
    let d = now.wrapping_sub(then) & TIME_MASK;
    if d > MAX_MS {
        Err(then.wrapping_sub(now) & TIME_MASK)
    } else {
        Ok(d)
    }
}

/// `d` in whole milliseconds, rounded up and clamped to what the word can hold.
pub(super) const fn duration_to_ms(d: Duration) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_fields_round_trip() {
        let w = Word::new(CircuitState::HalfOpen, 0, 200, TIME_MASK).with_probes(5, 3);
        assert_eq!(
            (
                w.state(),
                w.probes(),
                w.successes(),
                w.generation(),
                w.time()
            ),
            (CircuitState::HalfOpen, 5, 3, 200, TIME_MASK)
        );
        let s = w.stamped(777);
        assert_eq!(
            (
                s.state(),
                s.probes(),
                s.successes(),
                s.generation(),
                s.time()
            ),
            (CircuitState::HalfOpen, 5, 3, 200, 777)
        );
        let w = Word::new(CircuitState::Closed, COUNT_MASK, 7, 12345).with_failures(9);
        assert_eq!(
            (w.state(), w.failures(), w.generation(), w.time()),
            (CircuitState::Closed, 9, 7, 12345)
        );
    }

    #[test]
    fn forced_open_reads_as_open_in_a_new_generation() {
        let w = Word::new(CircuitState::HalfOpen, 0, 255, 9).with_probes(2, 1);
        let f = w.forced_open(40);
        assert_eq!(
            (
                f.state(),
                f.is_forced_open(),
                f.generation(),
                f.time(),
                f.probes()
            ),
            (CircuitState::Open, true, 0, 40, 0)
        );
        assert!(f.is(CircuitState::Open, 0));
        let opened = w.moved_to(CircuitState::Open, 40);
        assert!(!opened.is_forced_open());
        assert!(!f.moved_to(CircuitState::Closed, 41).is_forced_open());
    }

    #[test]
    fn elapsed_wraps_and_never_goes_negative() {
        assert_eq!(elapsed_ms(10, 3), Ok(7));
        assert_eq!(elapsed_ms(2, TIME_MASK - 1), Ok(4)); // across the 40-bit wrap
        assert_eq!(elapsed_ms(3, 10), Err(7)); // the clock went back
        assert_eq!(elapsed_ms(TIME_MASK - 1, 2), Err(4)); // ahead, across the wrap
    }

    /// Stamps round up and readings down, so what elapses between them is
    /// never more than the time that passed.
    #[test]
    fn stamps_round_up_and_readings_down() {
        let us = Duration::from_micros;
        assert_eq!((stamp_of(us(999)), ms_of(us(999))), (1, 0));
        assert_eq!((stamp_of(us(1000)), ms_of(us(1000))), (1, 1));
        assert_eq!(elapsed_ms(ms_of(us(1001)), stamp_of(us(999))), Ok(0));
        assert_eq!(elapsed_ms(ms_of(us(2000)), stamp_of(us(999))), Ok(1));
        // the last millisecond of the 40-bit scale rounds up to its wrap
        let last = Duration::from_millis(TIME_MASK) + us(1);
        assert_eq!(stamp_of(last), 0);
        assert_eq!(elapsed_ms(ms_of(last + us(999)), stamp_of(last)), Ok(0));
    }

    #[test]
    fn recovery_rounds_up_and_saturates() {
        assert_eq!(duration_to_ms(Duration::from_micros(1500)), 2);
        assert_eq!(duration_to_ms(Duration::from_secs(30)), 30_000);
        assert_eq!(duration_to_ms(Duration::MAX), MAX_MS);
    }
}
