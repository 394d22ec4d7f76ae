//! [`Pace`]: the slots of a [`Cooldown`](super::Cooldown) that paces
//! calls (`with_pace`): the generic cell rate algorithm's frontier (the
//! time the next call is due), and a few slots reserved ahead of it by
//! retries that wait longer, so that they do not move the frontier for
//! every other call.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Slots reserved ahead of the frontier apart at once, at most; past
/// them, a retry's slot joins the overflow run ([`Slots::far`]).
const AHEAD: usize = 16;

/// At most one call per `interval`, with `burst` calls at once from a
/// pace that had time to fill: each call takes the first slot free at or
/// after the time it asks for.
pub(super) struct Pace {
    /// Nanoseconds between two calls; 0: no pacing.
    interval: u64,
    /// Calls that may go at once, at least 1.
    burst: u32,
    slots: Mutex<Slots>,
}

/// The slots taken, in nanoseconds on the `SystemClock`.
#[derive(Clone, Copy)]
struct Slots {
    /// When the next call is due at the latest (the "theoretical arrival
    /// time"); 0: no call yet.
    due: u64,
    /// Single slots taken past the frontier, with free ones before them
    /// (a retry's, after its backoff): 0 for none.
    ahead: [u64; AHEAD],
    /// The overflow run, `far_from..far`: the slots of retries that found
    /// `ahead` full, one after another (many retries decided at once, on
    /// one backoff); a call due before it goes without waiting for it (the
    /// frontier is not moved: moved, every call through the pace waited
    /// behind the latest retry, half an hour behind twenty jobs
    /// rescheduled thirty minutes out), one due in it after it. 0: none.
    far_from: u64,
    far: u64,
    /// The time of the call whose slot is the frontier's last (the one
    /// before `due`): with a burst, it went before that slot. 0: none
    /// known (none yet, or given back).
    last: u64,
}

impl Pace {
    /// Paces nothing.
    pub(super) const fn off() -> Pace {
        Pace::with(0, 1)
    }

    const fn with(interval: u64, burst: u32) -> Pace {
        Pace {
            interval,
            burst,
            slots: Mutex::new(Slots {
                due: 0,
                ahead: [0; AHEAD],
                far_from: 0,
                far: 0,
                last: 0,
            }),
        }
    }

    /// `calls` per `per` (at least 1), spaced evenly; `per` zero paces
    /// nothing.
    pub(super) const fn new(calls: u32, per: Duration, burst: u32) -> Pace {
        let calls = if calls == 0 { 1 } else { calls };
        let interval = per.as_nanos() / calls as u128;
        let interval = if interval > u64::MAX as u128 {
            u64::MAX
        } else {
            interval as u64
        };
        Pace::with(interval, if burst == 0 { 1 } else { burst })
    }

    /// With `burst` calls at once (at least 1).
    pub(super) const fn with_burst(self, burst: u32) -> Pace {
        Pace::with(self.interval, if burst == 0 { 1 } else { burst })
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
    /// else `None`, and the slot is left to another call. A slot past the
    /// frontier with a free one before it is reserved apart (while there
    /// is room), the frontier left where it is.
    #[inline(never)]
    pub(super) fn take(
        &self,
        now: u64,
        after: u64,
        fits: &mut dyn FnMut(Duration) -> bool,
    ) -> Option<Duration> {
        if !self.is_on() {
            let wait = Duration::from_nanos(after);
            return fits(wait).then_some(wait);
        }
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        self.take_in(&mut slots, now, after, fits)
    }

    /// The wait until the slot [`take`](Self::take) would take at or
    /// after `after` from `now` (both in nanoseconds), not taken: worked
    /// out on a copy of the slots, which is let go (`None` when it paces
    /// nothing). Other calls may take it before the caller does.
    #[inline(never)]
    pub(super) fn peek(&self, now: u64, after: u64) -> Option<Duration> {
        if !self.is_on() {
            return None;
        }
        let mut copy = *self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let mut seen = None;
        self.take_in(&mut copy, now, after, &mut |wait| {
            seen = Some(wait);
            false
        });
        seen
    }

    /// [`take`](Self::take) on `slots`, locked (or a copy).
    #[inline(always)]
    fn take_in(
        &self,
        slots: &mut Slots,
        now: u64,
        after: u64,
        fits: &mut dyn FnMut(Duration) -> bool,
    ) -> Option<Duration> {
        let interval = self.interval;
        let kept = &mut *slots;
        let asked = if self.burst <= 1 {
            // One call at a time: a slot kept apart that no call meets any
            // more is free again; one still ahead is skipped below, and a
            // call after it is spaced from it as from any.
            for r in kept
                .ahead
                .iter_mut()
                .filter(|r| r.saturating_add(interval) <= now)
            {
                *r = 0;
            }
            if kept.far <= now {
                (kept.far_from, kept.far) = (0, 0);
            }
            now.saturating_add(after).max(kept.due)
        } else {
            // a call may go `tolerance` before it is due (`burst` at once)
            let tolerance = interval.saturating_mul(u64::from(self.burst - 1));
            // Slots kept apart that the frontier has reached, before or in
            // the slot this call would take (passed ones too: each used
            // some of the burst), are calls before it: counted on the
            // frontier first, the earliest first, so that a call put after
            // one keeps none of the burst that slot used (it kept the whole
            // burst: one call more than the bucket allowed went, a review
            // found). (A slot the frontier has not reached stays apart:
            // counted, it would move the frontier to it, and every call
            // would wait behind it.)
            loop {
                let asked = now
                    .saturating_add(after)
                    .max(kept.due.saturating_sub(tolerance));
                let reach = kept.due.max(now).saturating_add(interval);
                let counted = |r: u64| r < asked.saturating_add(interval) && r < reach;
                let before = kept.ahead.iter_mut().filter(|r| **r != 0 && counted(**r));
                if let Some(r) = before.min_by_key(|r| **r) {
                    kept.due = kept.due.max(*r).saturating_add(interval);
                    kept.last = *r;
                    *r = 0;
                } else if kept.far != 0 && counted(kept.far_from) {
                    let run = kept.far - kept.far_from;
                    kept.due = kept.due.max(kept.far_from).saturating_add(run);
                    kept.last = kept.far - interval;
                    (kept.far_from, kept.far) = (0, 0);
                } else {
                    break asked;
                }
            }
        };
        let mut go = asked;
        // not in a slot reserved ahead, nor in the overflow run (each
        // moves it past one: at most `AHEAD` + 1 times)
        for _ in 0..=AHEAD {
            let overlaps = |r: u64, end: u64| r < go.saturating_add(interval) && go < end;
            let taken = slots
                .ahead
                .iter()
                .find(|&&r| r != 0 && overlaps(r, r.saturating_add(interval)));
            match taken {
                Some(&r) => go = r.saturating_add(interval),
                None if slots.far != 0 && overlaps(slots.far_from, slots.far) => go = slots.far,
                None => break,
            }
        }
        let wait = Duration::from_nanos(go - now);
        if !fits(wait) {
            return None;
        }
        // asked for at or past the frontier, with a free slot before it:
        // reserved apart (a call moved past the frontier by the
        // reservations it skipped has none before it: it moves the
        // frontier, else each call after a reservation off the frontier's
        // grid would take a reservation of its own, until none is left)
        // (one slot past it has a whole free slot before it too: a tie a
        // paused clock and a fixed backoff meet)
        let frontier = slots.due.max(now).saturating_add(interval);
        if asked >= frontier {
            if let Some(free) = slots.ahead.iter_mut().find(|r| **r == 0) {
                *free = go;
                return Some(wait);
            }
        }
        if asked > frontier {
            // No room apart: in the overflow run if it is the run's next
            // slot or the one before it (`go` is never in it), the
            // frontier left where it is. A slot away from the run is
            // taken by no one (counted in, the gap would hold every call
            // due in it until the run's end): that retry goes unpaced, one
            // call more than the pace in its slot at the most.
            let end = go.saturating_add(interval);
            match (slots.far_from, slots.far) {
                (0, 0) => (slots.far_from, slots.far) = (go, end),
                (_, far) if go >= far && go < far.saturating_add(interval) => slots.far = end,
                (from, _) if end <= from && end.saturating_add(interval) > from => {
                    slots.far_from = go;
                }
                _ => {}
            }
            return Some(wait);
        }
        slots.due = slots.due.max(go).saturating_add(interval);
        slots.last = go;
        Some(wait)
    }

    /// Forget every slot taken: the next call's slot is now
    /// ([`Cooldown::reset`](super::Cooldown::reset)).
    pub(super) fn reset(&self) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        *slots = Slots {
            due: 0,
            ahead: [0; AHEAD],
            far_from: 0,
            far: 0,
            last: 0,
        };
    }

    /// Give back the slot at `at` (nanoseconds, within half an interval),
    /// taken for a retry that was then not made: a slot reserved ahead is
    /// freed, the frontier's last one or the overflow run's moved back; a
    /// slot with another taken after it stays taken. With a burst, the
    /// frontier's last slot is also that of a call that went before it
    /// (from the burst), at `at` or within half an interval before it:
    /// the last call taken on the frontier, or one after it in time, never
    /// one before it (the frontier moved back under a later call lets more
    /// calls through than the bucket holds). (A retry that went unpaced
    /// took none: its give-back frees a slot near its time if there is
    /// one, which its call, not made, leaves unused.) Only a slot whose
    /// time is known is given back: a first attempt its throttle refuses
    /// after its wait keeps its slot, unused (found near the time the
    /// refusal came, the slot could be another call's: the next one's,
    /// taken while a late timer had not woken, or one that came while a
    /// first attempt made early held its own ahead).
    #[cold]
    #[inline(never)]
    pub(super) fn give_back(&self, at: u64) {
        if !self.is_on() {
            return;
        }
        let half = self.interval / 2;
        let (from, to) = (at.saturating_sub(half), at.saturating_add(half));
        let near = |slot: u64| (from..=to).contains(&slot);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = slots.ahead.iter_mut().find(|r| **r != 0 && near(**r)) {
            *r = 0;
            return;
        }
        let last = slots.due.saturating_sub(self.interval);
        let went = slots.last;
        let of_burst = went != 0 && (went..=went.saturating_add(half)).contains(&at);
        if slots.due != 0 && (near(last) || of_burst) {
            slots.due = last;
            // (the call before it is not known: a slot given back after
            // is found on the grid only)
            slots.last = 0;
            return;
        }
        // the overflow run's last slot
        let last = slots.far.saturating_sub(self.interval);
        if slots.far != 0 && near(last) {
            slots.far = last;
            if slots.far <= slots.far_from {
                (slots.far_from, slots.far) = (0, 0);
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
        pace.take(now_ms * MS, 0, &mut |_| true).unwrap()
    }

    /// Every slot of the room apart reserved, at 1s, 2s, .. from 0 (each
    /// asked for, each taken where asked).
    fn fill_the_room_apart(pace: &Pace) {
        for n in 0..AHEAD as u64 {
            let after = (n + 1) * 1_000 * MS;
            assert_eq!(
                pace.take(0, after, &mut |_| true),
                Some(Duration::from_nanos(after))
            );
        }
    }

    /// With no room apart: three retries asking for 100s go to the
    /// overflow run, paced among themselves.
    fn overflow_three_at_100s(pace: &Pace) {
        let far: Vec<_> = (0..3)
            .map(|_| pace.take(0, 100_000 * MS, &mut |_| true).unwrap())
            .collect();
        assert_eq!(far, [ms(100_000), ms(100_100), ms(100_200)]);
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
        assert_eq!(pace.take(1_000 * MS, 30 * MS, &mut |_| true), Some(ms(100)));
        // one 500ms from now: free then, reserved apart
        assert_eq!(
            pace.take(1_000 * MS, 500 * MS, &mut |_| true),
            Some(ms(500))
        );
        // the slots before it are the next calls' (a review found every
        // call waiting behind one retry's 5s backoff), and its own is
        // skipped
        let next: Vec<_> = (0..4).map(|_| take(&pace, 1_000)).collect();
        assert_eq!(next, [ms(200), ms(300), ms(400), ms(600)]);
    }

    /// A retry asking for exactly one slot past the frontier (a paused
    /// clock and a fixed backoff meet such ties) leaves the slot before
    /// it to other calls, as one asking for later does: it was taken for
    /// the frontier, moved past it, and the slot went unused.
    #[test]
    fn a_retry_one_slot_past_the_frontier_leaves_the_slot_before_it() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(take(&pace, 1_000), ms(0));
        assert_eq!(
            pace.take(1_000 * MS, 200 * MS, &mut |_| true),
            Some(ms(200))
        );
        let next: Vec<_> = (0..3).map(|_| take(&pace, 1_000)).collect();
        assert_eq!(next, [ms(100), ms(300), ms(400)]);
    }

    /// A reservation off the frontier's grid (a jittered backoff's slot)
    /// that the frontier reaches is skipped, and the frontier moves past
    /// it: the calls after it take frontier slots, not a reservation each
    /// (which filled the room, and then a long retry moved the frontier
    /// for every call again).
    #[test]
    fn a_reservation_the_frontier_reaches_leaves_the_room_to_others() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        // a retry's slot 150ms from now, reserved apart
        assert_eq!(
            pace.take(1_000 * MS, 150 * MS, &mut |_| true),
            Some(ms(150))
        );
        // the next calls: the slot at 0, then after the reservation
        let next: Vec<_> = (0..AHEAD + 1).map(|_| take(&pace, 1_000)).collect();
        assert_eq!(&next[..3], [ms(0), ms(250), ms(350)]);
        assert_eq!(next[AHEAD], ms(1_750));
        // a retry 5s from now still leaves the slots before it free
        assert_eq!(
            pace.take(1_000 * MS, 5_000 * MS, &mut |_| true),
            Some(ms(5_000))
        );
        assert_eq!(take(&pace, 1_000), ms(1_850), "not behind the 5s retry");
    }

    #[test]
    fn a_reservation_ahead_is_free_again_once_passed() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(
            pace.take(1_000 * MS, 500 * MS, &mut |_| true),
            Some(ms(500))
        );
        // its slot (1.5s) holds its interval: a call at 1.55s waits for
        // 1.6s; at 1.6s the slot is past, and the call goes at once
        assert_eq!(take(&pace, 1_550), ms(50));
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(
            pace.take(1_000 * MS, 500 * MS, &mut |_| true),
            Some(ms(500))
        );
        assert_eq!(take(&pace, 1_600), ms(0));
        assert_eq!(take(&pace, 1_600), ms(100));
    }

    /// Past the room apart, retries' slots go to the overflow run, which
    /// the calls due before it do not wait for (it moved the frontier:
    /// a job queue's twenty reschedules thirty minutes out held every call
    /// through the pace for thirty minutes, a review found); the retries in
    /// it are paced among themselves, and a call due in it goes after it.
    #[test]
    fn past_the_reservations_room_slots_go_to_the_overflow_run() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        fill_the_room_apart(&pace);
        // no room: the overflow run, three retries asking for 100s
        overflow_three_at_100s(&pace);
        // the next call goes at once, not behind them
        assert_eq!(take(&pace, 0), ms(0));
        assert_eq!(take(&pace, 0), ms(100));
        // one asking for a time in the run goes after it
        assert_eq!(pace.take(0, 100_050 * MS, &mut |_| true), Some(ms(100_300)));
        // one asking for its next slot, or the one before it: in it
        assert_eq!(pace.take(0, 100_450 * MS, &mut |_| true), Some(ms(100_450)));
        assert_eq!(pace.take(0, 99_900 * MS, &mut |_| true), Some(ms(99_900)));
        assert_eq!(pace.take(0, 99_750 * MS, &mut |_| true), Some(ms(99_750)));
        // (one overlapping its first slot goes after its end)
        assert_eq!(pace.take(0, 99_700 * MS, &mut |_| true), Some(ms(100_550)));
        // one far from it: unpaced, the run unchanged (a gap counted in
        // would hold every call due in it)
        assert_eq!(pace.take(0, 50_000 * MS, &mut |_| true), Some(ms(50_000)));
        assert_eq!(pace.take(50_000 * MS, 0, &mut |_| true), Some(ms(0)));
        assert_eq!(pace.take(0, 200_000 * MS, &mut |_| true), Some(ms(200_000)));
        // the run's last slot given back is the next one's
        pace.give_back(100_550 * MS);
        assert_eq!(pace.take(0, 100_000 * MS, &mut |_| true), Some(ms(100_550)));
        // once passed, it is gone
        assert_eq!(take(&pace, 300_000), ms(0));
        assert_eq!(
            pace.take(300_000 * MS, 1_000 * MS, &mut |_| true),
            Some(ms(1_000))
        );
    }

    /// A pace whose 16 slots apart are taken (1s to 16s from 0), with an
    /// overflow run of three retries' slots at 100s, 100.1s and 100.2s.
    fn with_a_run_of_three() -> Pace {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        fill_the_room_apart(&pace);
        for n in 0..3 {
            let at = pace.take(0, 100_000 * MS, &mut |_| true);
            assert_eq!(at, Some(ms(100_000 + n * 100)));
        }
        pace
    }

    /// The overflow run takes only its next slot or the one before it:
    /// a retry two slots away from it, on either side, goes unpaced and
    /// leaves the run as it was (no gap in it that would hold the calls
    /// due there), so the run's next slot and the one before it are still
    /// the next retries'; a give-back where no slot was taken leaves it
    /// as it is.
    #[test]
    fn the_overflow_run_takes_no_slot_away_from_it() {
        let after = |pace: &Pace, ms: u64| pace.take(0, ms * MS, &mut |_| true).unwrap();
        let pace = with_a_run_of_three();
        assert_eq!(after(&pace, 100_400), ms(100_400));
        assert_eq!(after(&pace, 100_300), ms(100_300), "the run's next");
        let pace = with_a_run_of_three();
        assert_eq!(after(&pace, 99_800), ms(99_800));
        assert_eq!(after(&pace, 99_900), ms(99_900), "the one before it");
        let pace = with_a_run_of_three();
        pace.give_back(50_000 * MS);
        assert_eq!(after(&pace, 100_100), ms(100_300), "its slots still taken");
    }

    /// With a burst, the overflow run a call reaches is counted on the
    /// frontier as the calls it holds, one after another: the call goes
    /// after the run's slots, in what is left of the burst (not before
    /// them, nor as far past them as the run is long in time).
    #[test]
    fn with_a_burst_the_overflow_run_a_call_reaches_counts_as_its_calls() {
        let pace = Pace::new(10, Duration::from_secs(1), 2);
        fill_the_room_apart(&pace);
        overflow_three_at_100s(&pace);
        // at 100.05s: the run's three at 100s, 100.1s and 100.2s are calls
        // before it; it goes with the last of them (the burst's second)
        let next: Vec<_> = (0..2).map(|_| take(&pace, 100_050)).collect();
        assert_eq!(next, [ms(150), ms(250)]);
    }

    /// A burst's calls and a retry's slot apart: a call put after the
    /// slot counts it, so no window of the pace lets more calls through
    /// than the bucket holds (7 in 418ms against 2 + 4.18 before: the
    /// slot apart did not count toward the burst).
    #[test]
    fn a_slot_apart_the_frontier_reaches_counts_toward_the_burst() {
        let pace = Pace::new(10, Duration::from_secs(1), 2);
        assert_eq!(take(&pace, 1_000), ms(0));
        assert_eq!(take(&pace, 1_000), ms(0));
        assert_eq!(
            pace.take(1_000 * MS, 318 * MS, &mut |_| true),
            Some(ms(318))
        );
        let next: Vec<_> = (0..4).map(|_| take(&pace, 1_000)).collect();
        // 1.1s, 1.2s, then the slot at 1.318s counted: 1.4s, 1.5s; 6 calls
        // by 1.418s, the bucket's 2 + 4.18 (before: 1.1s, 1.2s, 1.418s,
        // 1.418s, 7)
        assert_eq!(next, [ms(100), ms(200), ms(400), ms(500)]);
    }

    /// A slot apart that begins where the slot a call would take ends is
    /// not a call before it: not counted ahead of it, the call keeps its
    /// slot (the bucket has room for it), and the calls after it count
    /// the slot apart as the one before them.
    #[test]
    fn a_slot_apart_right_after_a_calls_slot_is_not_before_it() {
        let pace = Pace::new(10, Duration::from_secs(1), 2);
        assert_eq!(
            pace.take(1_000 * MS, 200 * MS, &mut |_| true),
            Some(ms(200))
        );
        let next: Vec<_> = (0..4).map(|_| take(&pace, 1_000)).collect();
        // the burst's two at once, one at 1.1s (before the slot apart at
        // 1.2s, not after it), then 1.3s
        assert_eq!(next, [ms(0), ms(0), ms(100), ms(300)]);
    }

    #[test]
    fn a_slot_given_back_is_the_next_calls() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(take(&pace, 1_000), ms(0));
        // the frontier's last slot (at 1.1s), given back (read 2ms off)
        assert_eq!(take(&pace, 1_000), ms(100));
        pace.give_back(1_102 * MS);
        assert_eq!(take(&pace, 1_000), ms(100));
        // a slot reserved ahead, given back
        assert_eq!(
            pace.take(1_000 * MS, 900 * MS, &mut |_| true),
            Some(ms(900))
        );
        pace.give_back(1_900 * MS);
        assert_eq!(
            pace.take(1_000 * MS, 900 * MS, &mut |_| true),
            Some(ms(900))
        );
        // a frontier slot with another after it stays taken
        assert_eq!(take(&pace, 1_000), ms(200));
        assert_eq!(take(&pace, 1_000), ms(300));
        pace.give_back(1_200 * MS);
        assert_eq!(take(&pace, 1_000), ms(400));
        // nothing there: nothing changes
        pace.give_back(9_000 * MS);
        assert_eq!(take(&pace, 1_000), ms(500));
        Pace::off().give_back(0);
    }

    /// A call of a burst goes before its slot on the frontier's grid:
    /// given back at its own time (a retry refused after its decision, a
    /// hedge that did not start), it is the next call's, though the grid's
    /// last slot is later (it was never found: every call after it waited
    /// an interval more).
    #[test]
    fn a_burst_calls_slot_given_back_is_the_next_calls() {
        let pace = Pace::new(10, Duration::from_secs(1), 1).with_burst(2);
        assert_eq!(take(&pace, 1_000), ms(0));
        assert_eq!(take(&pace, 1_000), ms(0));
        pace.give_back(1_000 * MS);
        assert_eq!(take(&pace, 1_000), ms(0), "the burst's second call");
        assert_eq!(take(&pace, 1_000), ms(100));
        // a slot before the last one taken is not the last: it stays
        // taken (given back, the frontier moved back under the later
        // call, and one call more than the bucket went after it)
        let pace = Pace::new(10, Duration::from_secs(1), 1).with_burst(2);
        assert_eq!(take(&pace, 1_000), ms(0));
        assert_eq!(take(&pace, 1_033), ms(0));
        pace.give_back(1_000 * MS);
        assert_eq!(take(&pace, 1_033), ms(67));
    }

    #[test]
    fn a_slot_that_does_not_fit_is_left_to_the_next_call() {
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        assert_eq!(take(&pace, 1_000), ms(0));
        let mut asked = Vec::new();
        let refused = pace.take(1_000 * MS, 0, &mut |wait| {
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

    /// Threads taking slots of one pace at once, first attempts and
    /// retries asking for later (reserved apart, or moving the frontier
    /// past the reservations), round after round: every slot taken is
    /// its own, an interval from every other (none booked twice).
    #[test]
    fn slots_taken_from_many_threads_are_distinct_and_spaced() {
        use std::sync::{Arc, Barrier};
        const THREADS: u64 = 4;
        const ROUNDS: u64 = 50;
        let pace = Arc::new(Pace::new(10, Duration::from_secs(1), 1));
        let barrier = Arc::new(Barrier::new(THREADS as usize));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (pace, barrier) = (Arc::clone(&pace), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let mut slots = Vec::new();
                    let mut x = t * 2_654_435_761 + 1;
                    for round in 0..ROUNDS {
                        // every thread's clock at the round's start (1s apart)
                        let now = (1_000 + round * 1_000) * MS;
                        barrier.wait();
                        for _ in 0..8 {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            // mostly first attempts; retries off the grid
                            let after = match x % 8 {
                                0 => 150 * MS + x % 97 * MS,
                                1 => 900 * MS + x % 400 * MS,
                                2 => 5_000 * MS,
                                _ => 0,
                            };
                            let wait = pace.take(now, after, &mut |_| true).unwrap();
                            slots.push(now + wait.as_nanos() as u64);
                        }
                    }
                    slots
                })
            })
            .collect();
        let mut slots: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        slots.sort_unstable();
        assert_eq!(slots.len() as u64, THREADS * ROUNDS * 8);
        for pair in slots.windows(2) {
            assert!(
                pair[1] - pair[0] >= 100 * MS,
                "slots {}ms and {}ms",
                pair[0] / MS,
                pair[1] / MS
            );
        }
    }

    /// `peek` is the wait `take` then gives, and takes nothing: on the
    /// frontier, past reservations ahead, in and beside the overflow run,
    /// with a burst (whose passed reservations `take` counts in first).
    #[test]
    fn peek_is_what_take_then_takes_and_takes_nothing() {
        let check = |pace: &Pace, now: u64, after: u64| {
            let seen = pace.peek(now, after);
            assert_eq!(pace.peek(now, after), seen, "peeked twice");
            let taken = pace.take(now, after, &mut |_| true);
            assert_eq!(seen, taken, "now {now}ns, after {after}ns");
        };
        let pace = Pace::new(10, Duration::from_secs(1), 1);
        for after in [0, 0, 30 * MS, 500 * MS, 0, 0, 0, 0] {
            check(&pace, 1_000 * MS, after);
        }
        for n in 0..AHEAD as u64 {
            check(&pace, 0, (n + 2) * 1_000 * MS);
        }
        for after in [100_000, 100_000, 100_050, 99_900, 50_000, 0] {
            check(&pace, 0, after * MS);
        }
        let burst = Pace::new(10, Duration::from_secs(1), 1).with_burst(2);
        for (now, after) in [(1_000, 0), (1_000, 318), (1_000, 0), (1_000, 0), (1_500, 0)] {
            check(&burst, now * MS, after * MS);
        }
        assert_eq!(Pace::off().peek(0, 7 * MS), None, "no pace: no slot");
    }

    #[test]
    fn off_paces_nothing_and_zero_calls_or_zero_time_do_not_divide_by_zero() {
        assert_eq!(take(&Pace::off(), 1_000), ms(0));
        assert_eq!(Pace::off().take(0, 7 * MS, &mut |_| true), Some(ms(7)));
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
