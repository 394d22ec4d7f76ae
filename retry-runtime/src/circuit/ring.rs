//! The failure-rate window: the outcomes of the last calls, packed in one `u64`.
//!
//! ```text
//! | outcomes, newest lowest, 1 = failure (48) | calls recorded (8) | generation (8) |
//! ```
//!
//! The generation is the state word's generation of the closed period the
//! outcomes belong to: a ring of an earlier period reads as empty.

use std::sync::atomic::{AtomicU64, Ordering};

const FILLED_SHIFT: u32 = 8;
const BITS_SHIFT: u32 = 16;

/// The largest failure-rate window, in calls.
pub(super) const MAX_WINDOW: u32 = 48;

/// One value of the window.
#[derive(Clone, Copy)]
pub(super) struct Ring(u64);

impl Ring {
    /// `raw` as seen by the closed period `generation`: empty (of that
    /// period) if it holds an earlier period's outcomes.
    fn of(raw: u64, generation: u8) -> Ring {
        if raw as u8 == generation {
            Ring(raw)
        } else {
            Ring(u64::from(generation))
        }
    }

    /// Calls recorded, at most the window.
    pub(super) fn filled(self) -> u32 {
        (self.0 >> FILLED_SHIFT) as u8 as u32
    }

    /// Failures among them.
    pub(super) fn failures(self) -> u32 {
        (self.0 >> BITS_SHIFT).count_ones()
    }

    /// With one more outcome, in a window of `window` calls (1..=[`MAX_WINDOW`]).
    fn pushed(self, failure: bool, window: u32) -> Ring {
        let mask = (1u64 << window) - 1;
        let bits = (((self.0 >> BITS_SHIFT) << 1) | u64::from(failure)) & mask;
        let filled = (self.filled() + 1).min(window);
        Ring(u64::from(self.0 as u8) | u64::from(filled) << FILLED_SHIFT | bits << BITS_SHIFT)
    }
}

/// The window of one breaker.
pub(super) struct AtomicRing(AtomicU64);

impl AtomicRing {
    /// Empty, of generation 0.
    pub(super) const fn new() -> AtomicRing {
        AtomicRing(AtomicU64::new(0))
    }

    /// The window of the closed period `generation`.
    pub(super) fn load(&self, generation: u8) -> Ring {
        Ring::of(self.0.load(Ordering::Relaxed), generation)
    }

    /// Add one outcome to the window of the closed period `generation`, of
    /// `window` calls; returns the window with it. `None` when the ring
    /// holds another period's outcomes and `generation` is no longer the
    /// breaker's (`current` says whether it is): a late outcome of an
    /// earlier period must not wipe the window of the period after it.
    ///
    /// Relaxed suffices: the ring publishes nothing else, and a failure rate
    /// read from it only asks to open the breaker, which goes through the
    /// state word and re-checks the generation there.
    pub(super) fn push(
        &self,
        generation: u8,
        failure: bool,
        window: u32,
        current: impl Fn() -> bool,
    ) -> Option<Ring> {
        let mut next = Ring(0);
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |raw| {
                if raw as u8 != generation && !current() {
                    return None;
                }
                next = Ring::of(raw, generation).pushed(failure, window);
                Some(next.0)
            })
            .ok()
            .map(|_| next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_window_outcomes_of_its_generation() {
        let ring = AtomicRing::new();
        for failure in [true, false, true, true] {
            ring.push(1, failure, 3, || true);
        }
        let r = ring.load(1);
        assert_eq!((r.filled(), r.failures()), (3, 2)); // the first failure left the window
        let r = ring.load(3);
        assert_eq!((r.filled(), r.failures()), (0, 0)); // an earlier period's window
        let r = ring.push(3, true, 3, || true).unwrap();
        assert_eq!((r.filled(), r.failures()), (1, 1));
    }

    /// A late outcome of period 3, once the breaker is in period 5, leaves
    /// period 5's window as it is (it replaced it with its own).
    #[test]
    fn a_late_outcome_of_an_earlier_period_is_dropped() {
        let ring = AtomicRing::new();
        ring.push(5, true, 3, || true);
        ring.push(5, false, 3, || true);
        assert!(ring.push(3, true, 3, || false).is_none());
        let r = ring.load(5);
        assert_eq!((r.filled(), r.failures()), (2, 1));
    }
}
