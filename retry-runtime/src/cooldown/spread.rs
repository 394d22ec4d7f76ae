//! [`Cooldown::with_spread`]: the calls a hold held are released over a
//! window after its end, each at a point drawn in it, rather than all at
//! the hold's end (a burst that draws the next 429s).

use core::sync::atomic::Ordering;
use std::time::Duration;

use super::Cooldown;
use crate::jitter::Rng;

impl Cooldown {
    /// Release the calls a hold held over `over` after its end, rather
    /// than all at its end: each call whose wait the hold made (a first
    /// attempt, a retry lengthened to the hold's end, a hedge due while it
    /// holds, a [`ready`](Self::ready) wait) starts at a point drawn
    /// uniformly in `[end, end + over]`, on its own. Zero (the default):
    /// every held call goes at the hold's end. A window past 584 years
    /// (`Duration::MAX`) is taken as 584 years, as
    /// [`spread`](Self::spread) then says.
    ///
    /// When a server's wait ends, every call that waited for it goes at
    /// once: 32 tasks of one importer, or the held calls of 4 replicas
    /// sharing their holds, are one burst that draws the next 429s. A
    /// spread turns that burst into a ramp, and costs only the calls the
    /// hold held, only then: a call the hold did not hold (not held, or a
    /// retry whose own wait ends past the hold's end) is not moved, and
    /// nothing is spread before the first 429. The retries of the calls
    /// whose own 429s made the hold wait the server's wait, which ends
    /// with it: the one whose hold ends last (of calls turned away in the
    /// same instant, as on a paused clock: the first decided) goes at its
    /// end, the others, lengthened to it, at their points (a lone 429's
    /// retry is not delayed: spreading every such retry was measured, no
    /// fewer 429s in 1.11x-1.21x the time; bench/HISTORY.md). Choose it
    /// for a partner whose limit you do not know or that moves; choose
    /// [`with_pace`](Self::with_pace) (a rate limiter, always on) for a
    /// limit you know. With both, a held call takes the pace's first free
    /// slot at or after its point in the spread. The window need not be
    /// sized to the calls: against a partner of 10 a second and its
    /// `Retry-After: 1`, 32 tasks got as few 429s with 0.75 s as with 3 s
    /// or 6 s (0.081x, 0.077x and 0.077x of no cooldown's), in less time
    /// (1.12x, 1.28x, 1.39x; bench/HISTORY.md, session 51): start near the
    /// server's own wait, and widen it if the 429s after each hold's end
    /// stay.
    ///
    /// Useful in one process (32 tasks through one cooldown) as across
    /// replicas sharing their holds ([`with_on_hold`](Self::with_on_hold)).
    /// Measured against a partner allowing 10 requests a second
    /// (bench/HISTORY.md, session 51, `with_spread(3s)`): 32 tasks got
    /// 0.11x the 429s of a plain hold, in 1.24x its time; 4 replicas of 8
    /// tasks sharing their holds got 0.27x-0.29x the 429s of replicas
    /// holding their own (sharing without a spread: 0.92x-0.93x), in
    /// 1.24x-1.30x the time.
    ///
    /// The point is drawn from the calling thread's generator, the one the
    /// jitter draws from ([`testing::seed`](crate::testing::seed) repeats
    /// it; [`Policy::decide_with`](crate::Policy::decide_with) draws a
    /// retry's from the generator it is given), not spaced by arrival: a
    /// call does not know how many more the hold will hold, and replicas
    /// spacing their own calls by arrival would each send their first
    /// at the hold's end, together. The wait is the call's own, as its
    /// line and `retry_cooldown_wait_seconds` (`cause="hold"`, the spread
    /// included) say; a retry that could not start before the policy's
    /// `max_elapsed` at its point is not made, and a call's stop signal
    /// ends its wait, as for any hold.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::cooldown::Cooldown;
    /// static PARTNER: Cooldown = Cooldown::new("partner").with_spread(Duration::from_secs(3));
    ///
    /// let paused = retry_runtime::testing::pause();
    /// PARTNER.hold_for(Duration::from_secs(2));
    /// PARTNER.ready_sync(); // the hold's 2s, then its point in the next 3s
    /// let waited = paused.waits()[0];
    /// assert!(waited > Duration::from_secs(1) && waited <= Duration::from_secs(5), "{waited:?}");
    /// assert_eq!(PARTNER.spread(), Duration::from_secs(3));
    /// ```
    pub const fn with_spread(mut self, over: Duration) -> Cooldown {
        let nanos = over.as_nanos();
        // (584 years at most: `nanos`' saturation, in a `const fn`)
        self.spread = if nanos > u64::MAX as u128 {
            u64::MAX
        } else {
            nanos as u64
        };
        self
    }

    /// The window after a hold's end over which the calls it held are
    /// released ([`with_spread`](Self::with_spread)); zero by default.
    ///
    /// ```
    /// use retry_runtime::cooldown::Cooldown;
    /// assert!(Cooldown::new("partner").spread().is_zero());
    /// ```
    pub const fn spread(&self) -> Duration {
        Duration::from_nanos(self.spread)
    }

    /// One held call's point in the spread after the hold's end, drawn
    /// uniformly in `[0, spread]` from `rng`.
    pub(super) fn point(&self, rng: &mut Rng) -> Duration {
        Duration::from_nanos(rng.below_inclusive(u128::from(self.spread)) as u64)
    }

    /// `left` and a point drawn from `rng` after it: a held retry's wait
    /// for the hold (out of line: a cooldown without a spread, or a call
    /// not held, keeps its code as small as it was, hold's and pace's
    /// reads inlined).
    #[cold]
    #[inline(never)]
    pub(super) fn point_after(&self, left: Duration, rng: &mut Rng) -> Duration {
        left.saturating_add(self.point(rng))
    }

    /// Has a retry taken the end of the hold (as it ends now) already?
    /// Takes it if not. Several calls turned away together (their 429s in
    /// the same instant, each told the same wait) hold the cooldown to one
    /// end, their retries' waits all ending with it: the first retry
    /// decided goes at the end, the others are held, and spread. On a real
    /// clock their holds' ends differ by the time between their 429s, and
    /// each but the last is lengthened, so held, anyway: this makes a
    /// virtual clock's ties (`testing::pause`, a paused tokio runtime)
    /// behave as the real clock does.
    fn end_taken(&self) -> bool {
        let until = self.until.load(Ordering::Acquire);
        self.end_claimed.fetch_max(until, Ordering::AcqRel) >= until
    }

    /// The wait of a retry whose own `wait` ends at or before the hold's
    /// end, `left` from now, with a spread: its point in the spread, drawn
    /// from `rng`, unless it ends with the hold and takes its end
    /// ([`end_taken`](Self::end_taken)). Out of line: a cooldown without a
    /// spread, or not holding, never comes here.
    #[cold]
    #[inline(never)]
    pub(super) fn held_retry(&self, wait: Duration, left: Duration, rng: &mut Rng) -> Duration {
        if wait == left && !self.end_taken() {
            return left;
        }
        self.point_after(left, rng)
    }

    /// A held call's wait: the hold's time `left`, plus its point in the
    /// spread (drawn from the thread's generator) when it has one.
    #[inline(always)]
    pub(super) fn spread_after(&self, left: Duration) -> Duration {
        if self.spread == 0 {
            return left;
        }
        self.drawn_after(left)
    }

    /// [`point_after`](Self::point_after) from the thread's generator.
    #[cold]
    #[inline(never)]
    fn drawn_after(&self, left: Duration) -> Duration {
        Rng::with_thread(|rng| self.point_after(left, rng))
    }

    /// A first attempt's wait for the hold: none when it does not hold,
    /// else its time left and the call's point in the spread.
    #[inline(always)]
    pub(super) fn held_left(&self) -> Duration {
        let left = self.remaining().unwrap_or_default();
        if self.spread == 0 || left.is_zero() {
            return left;
        }
        self.drawn_after(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn without_a_spread_a_held_call_waits_the_hold_and_draws_nothing() {
        let _paused = testing::pause();
        let c = Cooldown::new("plain");
        testing::seed(5);
        assert_eq!(c.held_left(), Duration::ZERO);
        c.hold_for(s(4));
        let left = c.held_left();
        assert!(left > s(3) && left <= s(4), "{left:?}");
        // the generator was not touched
        assert_eq!(
            Rng::with_thread(|r| r.next_u64()),
            Rng::with_seed(5).next_u64()
        );
    }

    #[test]
    fn a_held_call_waits_the_hold_then_its_drawn_point() {
        let _paused = testing::pause();
        let c = Cooldown::new("spread").with_spread(s(3));
        // not held: no wait, nothing drawn
        testing::seed(9);
        assert_eq!(c.held_left(), Duration::ZERO);
        c.hold_for(s(4));
        let left = c.remaining().unwrap();
        testing::seed(9);
        let waits: Vec<Duration> = (0..3).map(|_| c.spread_after(left)).collect();
        let mut rng = Rng::with_seed(9);
        let expected: Vec<Duration> = (0..3)
            .map(|_| left + Duration::from_nanos(rng.below_inclusive(3_000_000_000) as u64))
            .collect();
        assert_eq!(waits, expected);
        // three calls, three points, not one
        assert!(waits[0] != waits[1] && waits[1] != waits[2], "{waits:?}");
    }

    #[test]
    fn points_cover_the_window_and_stay_in_it() {
        let c = Cooldown::new("window").with_spread(Duration::from_millis(1000));
        let mut rng = Rng::with_seed(0x5eed);
        let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
        for _ in 0..10_000 {
            let p = c.point(&mut rng);
            lo = lo.min(p);
            hi = hi.max(p);
        }
        assert!(hi <= Duration::from_millis(1000), "{hi:?}");
        assert!(
            lo < Duration::from_millis(10) && hi > Duration::from_millis(990),
            "{lo:?} {hi:?}"
        );
    }

    // (tokio's paused clock stands still: the hold's time left is exact)
    #[cfg(feature = "tokio")]
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_retry_the_hold_lengthens_is_spread_one_it_does_not_is_not() {
        static C: Cooldown = Cooldown::new("decide").with_spread(Duration::from_secs(2));
        C.hold_for(s(10));
        assert_eq!(C.remaining(), Some(s(10)));
        let left = C.remaining().unwrap();
        let mut rng = Rng::with_seed(3);
        let point = C.point(&mut Rng::with_seed(3));
        // held: the hold's end, then its point
        let (decision, imposed) = C.decide(s(1), s(1), &mut rng, |_| None);
        assert_eq!(decision, crate::Decision::retry(left + point));
        assert!(imposed.lengthened(left + point));
        // its own wait ends past the hold's end: as it is, nothing drawn
        let mut untouched = Rng::with_seed(3);
        let (decision, _) = C.decide(s(11), s(11), &mut untouched, |_| None);
        assert_eq!(decision, crate::Decision::retry(s(11)));
        assert_eq!(untouched.next_u64(), Rng::with_seed(3).next_u64());
        // the deadline is judged at its point
        let (decision, _) = C.decide(s(1), s(1), &mut Rng::with_seed(3), |asked| {
            (asked > left).then_some(crate::StopReason::Deadline)
        });
        assert_eq!(
            decision,
            crate::Decision::give_up(crate::StopReason::Deadline)
        );
    }

    #[test]
    fn a_window_past_584_years_is_taken_as_584_years() {
        static LONGEST: Cooldown = Cooldown::new("longest").with_spread(Duration::MAX);
        assert_eq!(LONGEST.spread(), Duration::from_nanos(u64::MAX));
        let nanos = Duration::from_nanos(u64::MAX);
        let just = Cooldown::new("just").with_spread(nanos + Duration::from_nanos(1));
        assert_eq!(just.spread(), nanos);
        assert_eq!(
            Cooldown::new("one")
                .with_spread(Duration::from_nanos(1))
                .spread(),
            Duration::from_nanos(1)
        );
        // a point is drawn in the whole window, nothing wraps
        let p = LONGEST.point(&mut Rng::with_seed(1));
        assert!(p <= nanos, "{p:?}");
    }

    #[test]
    fn debug_shows_the_spread() {
        let c = Cooldown::new("partner").with_spread(Duration::from_millis(1500));
        assert_eq!(
            format!("{c:?}"),
            r#"Cooldown { name: "partner", remaining: None, spread: 1.5s }"#
        );
    }
}
