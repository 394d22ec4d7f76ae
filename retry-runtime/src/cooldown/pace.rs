//! [`Pace`]: the slots of a [`Cooldown`](super::Cooldown) that paces
//! calls (`with_pace`): the generic cell rate algorithm on one atomic
//! word, the time the next call is due.

use core::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// At most one call per `interval`, with `burst` calls at once from a
/// pace that had time to fill: each call takes the first slot free at or
/// after the time it asks for, and moves the next one on by `interval`.
pub(super) struct Pace {
    /// Nanoseconds between two calls; 0: no pacing.
    interval: u64,
    /// Calls that may go at once, at least 1.
    burst: u32,
    /// When the next call is due at the latest (the "theoretical arrival
    /// time"), in nanoseconds on the `SystemClock`; 0: no call yet.
    due: AtomicU64,
}

impl Pace {
    /// Paces nothing.
    pub(super) const fn off() -> Pace {
        Pace {
            interval: 0,
            burst: 1,
            due: AtomicU64::new(0),
        }
    }

    /// `calls` per `per` (at least 1), spaced evenly; `per` zero paces
    /// nothing.
    pub(super) const fn new(calls: u32, per: Duration, burst: u32) -> Pace {
        let calls = if calls == 0 { 1 } else { calls };
        let interval = per.as_nanos() / calls as u128;
        Pace {
            interval: if interval > u64::MAX as u128 {
                u64::MAX
            } else {
                interval as u64
            },
            burst: if burst == 0 { 1 } else { burst },
            due: AtomicU64::new(0),
        }
    }

    /// With `burst` calls at once (at least 1).
    pub(super) const fn with_burst(self, burst: u32) -> Pace {
        Pace {
            burst: if burst == 0 { 1 } else { burst },
            ..self
        }
    }

    /// Does it pace calls?
    pub(super) const fn is_on(&self) -> bool {
        self.interval > 0
    }

    /// The time between two calls (for `Debug`).
    pub(super) fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    /// Calls that may go at once.
    pub(super) const fn burst(&self) -> u32 {
        self.burst
    }

    /// Take the first slot free at or after `after` from `now` (both in
    /// nanoseconds), if `fits` the wait until it (from `now`): that wait,
    /// else `None`, and the slot is left to another call.
    pub(super) fn take(
        &self,
        now: u64,
        after: u64,
        mut fits: impl FnMut(Duration) -> bool,
    ) -> Option<Duration> {
        if !self.is_on() {
            let wait = Duration::from_nanos(after);
            return fits(wait).then_some(wait);
        }
        // a call may go `tolerance` before it is due (`burst` at once)
        let tolerance = self
            .interval
            .saturating_mul(u64::from(self.burst.max(1) - 1));
        let asked = now.saturating_add(after);
        let mut due = self.due.load(Ordering::Acquire);
        loop {
            let go = asked.max(due.saturating_sub(tolerance));
            let wait = Duration::from_nanos(go - now);
            if !fits(wait) {
                return None;
            }
            let next = due.max(go).saturating_add(self.interval);
            match self
                .due
                .compare_exchange_weak(due, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(wait),
                Err(moved) => due = moved,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn take(pace: &Pace, now_ms: u64) -> Duration {
        pace.take(now_ms * MS, 0, |_| true).unwrap()
    }

    #[test]
    fn calls_at_once_are_spaced_by_the_interval() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        let waits: Vec<_> = (0..4).map(|_| take(&pace, 1_000)).collect();
        assert_eq!(waits, [ms(0), ms(100), ms(200), ms(300)]);
    }

    #[test]
    fn a_pace_left_alone_lets_the_next_call_go_at_once() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(take(&pace, 1_000), ms(0));
        assert_eq!(take(&pace, 1_050), ms(50));
        // idle for a second: no debt, no credit beyond the burst
        assert_eq!(take(&pace, 2_200), ms(0));
        assert_eq!(take(&pace, 2_200), ms(100));
    }

    #[test]
    fn a_burst_goes_at_once_then_the_interval_spaces_the_rest() {
        let pace = Pace::new(10, Duration::from_secs(1), 1).with_burst(3);
        let waits: Vec<_> = (0..5).map(|_| take(&pace, 1_000)).collect();
        assert_eq!(waits, [ms(0), ms(0), ms(0), ms(100), ms(200)]);
    }

    #[test]
    fn a_call_asking_for_later_takes_the_first_slot_then() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(take(&pace, 1_000), ms(0));
        // a retry 30ms from now: the slot at 100ms is the first free
        assert_eq!(pace.take(1_000 * MS, 30 * MS, |_| true), Some(ms(100)));
        // one 500ms from now: free then
        assert_eq!(pace.take(1_000 * MS, 500 * MS, |_| true), Some(ms(500)));
        assert_eq!(take(&pace, 1_000), ms(600));
    }

    #[test]
    fn a_slot_that_does_not_fit_is_left_to_the_next_call() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(take(&pace, 1_000), ms(0));
        let mut asked = Vec::new();
        let refused = pace.take(1_000 * MS, 0, |wait| {
            asked.push(wait);
            wait < ms(50)
        });
        assert_eq!((refused, asked), (None, vec![ms(100)]));
        assert_eq!(
            take(&pace, 1_000),
            ms(100),
            "the refused slot is still free"
        );
    }

    #[test]
    fn off_paces_nothing_and_zero_calls_or_zero_time_do_not_divide_by_zero() {
        assert_eq!(take(&Pace::off(), 1_000), ms(0));
        assert_eq!(Pace::off().take(0, 7 * MS, |_| true), Some(ms(7)));
        let unpaced = Pace::new(5, Duration::ZERO, 1);
        assert!(!unpaced.is_on());
        let one = Pace::new(0, Duration::from_secs(1), 0);
        assert_eq!((one.interval(), one.burst()), (Duration::from_secs(1), 1));
        let huge = Pace::new(1, Duration::MAX, 1);
        assert_eq!(take(&huge, 1), ms(0));
        assert_eq!(
            take(&huge, 1),
            Duration::from_nanos(u64::MAX - MS),
            "saturated, no overflow"
        );
    }
}
