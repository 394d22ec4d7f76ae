//! The runtime's one notion of time: a [`Clock`] reads a monotonic
//! duration since a fixed origin. Runs (their `max_elapsed` and elapsed
//! time), the circuit breaker and the adaptive throttle read
//! [`SystemClock`]; a breaker and a throttle can be given a
//! [`ManualClock`] instead (`with_clock`). The retry budget has no clock:
//! it counts calls, not time.
//!
//! [`SystemClock`] is tokio's clock with the `tokio` feature (so
//! `tokio::time::pause()` moves it in async tests), else std's, plus the
//! virtual time of this thread: [`testing::pause`](crate::testing::pause)
//! turns virtual time on for its thread, and sync sleeps (and async runs'
//! waits on this library's smol and futures-timer timers, but for a run
//! with a hedge delay, in the order of their deadlines) then advance it
//! instead of sleeping. That state lives here, with the clock;
//! [`testing`](crate::testing) is only its guard.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::clock::{Clock, ManualClock, SystemClock};
//! let _paused = retry_runtime::testing::pause();
//! let before = SystemClock.now();
//! retry_runtime::sleep::sleep_sync(Duration::from_secs(60)); // virtual: moves this thread's clock
//! assert!(SystemClock.now() - before >= Duration::from_secs(60));
//! static CLOCK: ManualClock = ManualClock::new(); // for a breaker or a throttle: `with_clock(&CLOCK)`
//! CLOCK.advance(Duration::from_secs(5));
//! assert_eq!(CLOCK.now(), Duration::from_secs(5));
//! ```

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Where the runtime reads the time: a monotonic reading since an arbitrary
/// fixed origin.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::clock::Clock;
/// struct Frozen;
/// impl Clock for Frozen {
///     fn now(&self) -> Duration { Duration::from_secs(42) }
/// }
/// static FROZEN: Frozen = Frozen;
/// static B: retry_runtime::CircuitBreaker = retry_runtime::CircuitBreaker::new("b").with_clock(&FROZEN);
/// ```
///
/// A clock is shared by every thread that asks the breaker or the throttle
/// it is given to (`Sync`). It need not be unwind-safe: a breaker or a
/// throttle only reads it (`now`), before it changes anything of its own,
/// so they, and a policy holding them, are unwind-safe with any clock (a
/// clock on a `parking_lot::Mutex` too).
pub trait Clock: Sync {
    /// Time since this clock's origin. A breaker given the clock reads it
    /// when it changes state (the time it keeps) and when a call comes
    /// while it is open (has its recovery timeout passed?).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    /// use std::time::Duration;
    /// use retry_runtime::circuit::{CircuitBreaker, CircuitState, Clock, Outcome};
    ///
    /// /// A simulation's clock: the milliseconds its loop has stepped through.
    /// struct Ticks(AtomicU64);
    /// impl Clock for Ticks {
    ///     fn now(&self) -> Duration { Duration::from_millis(self.0.load(Relaxed)) }
    /// }
    /// static TICKS: Ticks = Ticks(AtomicU64::new(0));
    /// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream")
    ///     .with_failures(1)
    ///     .with_recovery(Duration::from_secs(10))
    ///     .with_clock(&TICKS);
    ///
    /// let call = UPSTREAM.try_acquire().unwrap();
    /// UPSTREAM.record(call, Outcome::Failure); // opens at 0s
    /// TICKS.0.store(9_999, Relaxed);
    /// assert!(UPSTREAM.try_acquire().is_err()); // still open at 9.999s
    /// TICKS.0.store(10_000, Relaxed);
    /// assert!(UPSTREAM.try_acquire().is_ok()); // 10s: a probe goes through
    /// assert_eq!(UPSTREAM.state(), CircuitState::HalfOpen);
    /// ```
    fn now(&self) -> Duration;

    /// Does this clock read earlier than another thread's reading only
    /// because of a test's virtual time (a paused tokio runtime,
    /// [`testing::pause`](crate::testing::pause)), which threads do not
    /// share? [`SystemClock`] does. Then a breaker stamped further ahead than
    /// its recovery timeout takes the recovery as passed, instead of
    /// keeping every other thread out for that thread's virtual hours. The
    /// default, `false`, takes a clock that goes back at its word: a breaker
    /// stays open until the clock has passed its stamp plus the recovery.
    ///
    /// ```
    /// use retry_runtime::clock::{Clock, ManualClock, SystemClock};
    /// assert!(SystemClock.goes_back_only_in_tests());
    /// assert!(!ManualClock::new().goes_back_only_in_tests());
    /// ```
    fn goes_back_only_in_tests(&self) -> bool {
        false
    }
}

/// A breaker's or a throttle's clock, as they hold it.
///
/// Unwind-safe whatever the clock's type (a `parking_lot::Mutex` inside is
/// not): they call only [`Clock::now`] and
/// [`Clock::goes_back_only_in_tests`], before they change their own
/// atomics, so a panic in the clock leaves nothing of theirs half-changed,
/// and the clock's own state is the clock's to keep. So a `Policy` holding
/// a breaker can be used inside `std::panic::catch_unwind` without
/// `AssertUnwindSafe` (tests/runtime/auto_traits.rs).
#[derive(Clone, Copy)]
pub(crate) struct SharedClock(pub(crate) &'static dyn Clock);

impl core::panic::UnwindSafe for SharedClock {}
impl core::panic::RefUnwindSafe for SharedClock {}

impl SharedClock {
    /// The clock's [`Clock::now`].
    #[inline]
    pub(crate) fn now(self) -> Duration {
        self.0.now()
    }

    /// The clock's [`Clock::goes_back_only_in_tests`].
    #[inline]
    pub(crate) fn goes_back_only_in_tests(self) -> bool {
        self.0.goes_back_only_in_tests()
    }
}

/// The default [`Clock`]: `tokio::time::Instant::now()` (which follows
/// tokio's paused clock in tests, and is `std::time::Instant` outside a
/// runtime), plus the virtual time of [`testing::pause`](crate::testing::pause)
/// on this thread, so sync tests that sleep virtually move it too.
///
/// ```
/// use retry_runtime::clock::{Clock, SystemClock};
/// let _paused = retry_runtime::testing::pause();
/// let before = SystemClock.now();
/// retry_runtime::sleep::sleep_sync(std::time::Duration::from_secs(60)); // virtual
/// assert!(SystemClock.now() - before >= std::time::Duration::from_secs(60));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
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
        #[cfg(feature = "tokio")]
        let now = tokio::time::Instant::now().into_std();
        #[cfg(not(feature = "tokio"))]
        let now = std::time::Instant::now();
        now.saturating_duration_since(origin)
            .saturating_add(virtual_time::offset())
    }

    /// `Instant` is monotonic: only a thread's virtual time, or one paused
    /// tokio runtime's clock against another's, reads behind.
    fn goes_back_only_in_tests(&self) -> bool {
        true
    }
}

/// A reading of the [`SystemClock`] in 8 bytes, or none: a run's start, as
/// its state keeps it (an `Option<Duration>` takes 16, and the state, which
/// the `#[retry]` future holds, stays 32 bytes with the call's number for
/// its log lines beside it). In nanoseconds since the clock's origin, plus
/// one, saturated (584 years after it); 0 is none, so that a state made
/// without a start is zeros but for its flags and its guards' leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp(u64);

impl Stamp {
    /// No reading: a run that read no clock at its start.
    pub(crate) const NONE: Stamp = Stamp(0);

    /// The reading `time`.
    #[inline]
    pub(crate) fn at(time: Duration) -> Stamp {
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        Stamp(nanos.saturating_add(1))
    }

    /// The reading, if there is one.
    #[inline]
    pub(crate) fn get(self) -> Option<Duration> {
        self.0.checked_sub(1).map(Duration::from_nanos)
    }
}

/// A [`Clock`] for tests: stands still until moved.
///
/// Move it in steps of less than 2^39 ms (about 17 years) at once. A
/// circuit breaker keeps the time of its last transition in milliseconds
/// on a 40-bit wrapping scale, and a reading 2^39 ms or more after it is
/// taken for a clock that went back: an open breaker whose clock was moved
/// on 18 years by one [`advance`](ManualClock::advance) (or
/// [`set`](ManualClock::set)) stays open, as though the clock had gone
/// back by the rest of 2^40 ms. (A real clock gets there only with a
/// breaker left untouched for 17 years.)
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::clock::{Clock, ManualClock};
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
    /// use retry_runtime::clock::{Clock, ManualClock};
    /// assert_eq!(ManualClock::new().now(), std::time::Duration::ZERO);
    /// ```
    pub const fn new() -> ManualClock {
        ManualClock {
            nanos: AtomicU64::new(0),
        }
    }

    /// Move the clock forward by `by` (less than 2^39 ms, about 17 years,
    /// for a circuit breaker reading it: see the type's docs).
    ///
    /// ```
    /// use retry_runtime::clock::{Clock, ManualClock};
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

    /// Set the clock to `to` (less than 2^39 ms, about 17 years, ahead of
    /// the time a circuit breaker reading it last moved: see the type's
    /// docs).
    ///
    /// ```
    /// use retry_runtime::clock::{Clock, ManualClock};
    /// let c = ManualClock::new();
    /// c.set(std::time::Duration::from_secs(9));
    /// assert_eq!(c.now().as_secs(), 9);
    /// ```
    pub fn set(&self, to: Duration) {
        let to = u64::try_from(to.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.store(to, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

/// The virtual time of each thread, on while a
/// [`testing::pause`](crate::testing::pause) guard lives on it: sync sleeps
/// and async waits on this library's smol and futures-timer timers (but for
/// a run with a hedge delay) advance it instead of sleeping, and every wait
/// is recorded.
pub(crate) mod virtual_time {
    use core::cell::{Cell, RefCell};
    use std::time::Duration;

    thread_local! {
        static PAUSED: Cell<u32> = const { Cell::new(0) };
        static OFFSET: Cell<Duration> = const { Cell::new(Duration::ZERO) };
        static WAITS: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
        /// Each live guard (its number, where its waits start), oldest
        /// guard first.
        static GUARDS: RefCell<Vec<(u64, usize)>> = const { RefCell::new(Vec::new()) };
        /// The number of the next guard: two guards made with no wait
        /// between them start at the same place, so the place cannot
        /// name them.
        static NEXT_GUARD: Cell<u64> = const { Cell::new(0) };
        /// A run's sleeper of the user's is sleeping a wait the run has
        /// recorded: a `sleep_sync` inside it does not record it again.
        static RECORDED: Cell<bool> = const { Cell::new(false) };
        /// The last virtual wait [`on_paused_async_wait`] moved the clock
        /// by (the clock before it, after it), for this library's timer
        /// made next to take back ([`claim_last_wait`]).
        static LAST_WAIT: Cell<Option<(Duration, Duration)>> = const { Cell::new(None) };
        /// This thread's key in the virtual timers' line (0: none yet).
        #[cfg(any(feature = "smol", feature = "futures-timer"))]
        static THREAD_KEY: Cell<u64> = const { Cell::new(0) };
    }

    /// The next thread's key ([`thread_key`]): thread ids of std's own
    /// cannot be read while a thread's locals are being destroyed.
    #[cfg(any(feature = "smol", feature = "futures-timer"))]
    static NEXT_THREAD_KEY: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

    /// A live guard: its number, and where its recorded waits start.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Guard {
        id: u64,
        pub(crate) first: usize,
        /// Its thread's [`thread_key`] (read where the guard was made: a
        /// guard may drop while its thread's locals are destroyed).
        #[cfg(any(feature = "smol", feature = "futures-timer"))]
        thread: u64,
    }

    /// Turn virtual time on (guards nest).
    pub(crate) fn enter() -> Guard {
        PAUSED.with(|p| p.set(p.get().saturating_add(1)));
        let id = NEXT_GUARD.with(|n| {
            let id = n.get();
            n.set(id.wrapping_add(1));
            id
        });
        let first = WAITS.with(|w| w.borrow().len());
        GUARDS.with(|g| g.borrow_mut().push((id, first)));
        Guard {
            id,
            first,
            #[cfg(any(feature = "smol", feature = "futures-timer"))]
            thread: thread_key().unwrap_or(0),
        }
    }

    /// This thread's key, unique in the process (`None` while its locals
    /// are being destroyed).
    #[cfg(any(feature = "smol", feature = "futures-timer"))]
    pub(crate) fn thread_key() -> Option<u64> {
        THREAD_KEY
            .try_with(|k| {
                if k.get() == 0 {
                    k.set(NEXT_THREAD_KEY.fetch_add(1, core::sync::atomic::Ordering::Relaxed));
                }
                k.get()
            })
            .ok()
    }

    /// A guard made by [`enter`] is gone. The waits recorded under the
    /// newest guard go with it; a guard that goes while a newer one lives
    /// leaves them to that one. The last one clears the record and the
    /// virtual time.
    // `try_with` throughout: a guard kept in a thread-local of the user's
    // may drop while the thread exits, after these were destroyed (a
    // panic there would abort the process); there is nothing left to undo.
    pub(crate) fn leave(guard: Guard) {
        let left = PAUSED
            .try_with(|p| {
                let n = p.get().saturating_sub(1);
                p.set(n);
                n
            })
            .unwrap_or(0);
        let newest = GUARDS
            .try_with(|g| {
                let mut g = g.borrow_mut();
                let newest = g.last().is_some_and(|&(id, _)| id == guard.id);
                if let Some(at) = g.iter().rposition(|&(id, _)| id == guard.id) {
                    g.remove(at);
                }
                newest
            })
            .unwrap_or(false);
        if newest {
            let _ = WAITS.try_with(|w| w.borrow_mut().truncate(guard.first));
        }
        if left == 0 {
            let _ = WAITS.try_with(|w| w.borrow_mut().clear());
            let _ = GUARDS.try_with(|g| g.borrow_mut().clear());
            let _ = OFFSET.try_with(|o| o.set(Duration::ZERO));
            let _ = LAST_WAIT.try_with(|l| l.set(None));
            #[cfg(any(feature = "smol", feature = "futures-timer"))]
            crate::virtual_timers::clear(guard.thread);
        }
    }

    /// The waits recorded from `first` on.
    pub(crate) fn waits_since(first: usize) -> Vec<Duration> {
        WAITS.with(|w| {
            w.borrow()
                .get(first..)
                .map(<[_]>::to_vec)
                .unwrap_or_default()
        })
    }

    /// Records a sync wait; `true` when the sleep is virtual (skip the real
    /// one). Inline: one thread-local read when no test paused the thread.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn on_sync_sleep(wait: Duration) -> bool {
        if PAUSED.with(Cell::get) == 0 {
            return false;
        }
        record_sync(wait);
        true
    }

    #[cold]
    #[inline(never)]
    fn record_sync(wait: Duration) {
        if !RECORDED.with(Cell::get) {
            WAITS.with(|w| w.borrow_mut().push(wait));
        }
        OFFSET.with(|o| o.set(o.get().saturating_add(wait)));
        LAST_WAIT.with(|l| l.set(None));
    }

    /// A sync run's wait slept by a sleeper of the user's (`sleep`): the
    /// run records it, then `sleep` runs with it marked as recorded, so
    /// that a sleeper which calls `sleep_sync` (or wraps the
    /// `DefaultSleeper`) does not record it twice; its sleep is still
    /// virtual.
    #[inline]
    pub(crate) fn recorded_while(wait: Duration, sleep: impl FnOnce()) {
        if PAUSED.with(Cell::get) == 0 {
            return sleep();
        }
        record_async(wait);
        /// Takes the mark off again, also when the sleeper panics.
        struct Marked(bool);
        impl Drop for Marked {
            fn drop(&mut self) {
                let before = self.0;
                let _ = RECORDED.try_with(|r| r.set(before));
            }
        }
        let _marked = Marked(RECORDED.with(|r| r.replace(true)));
        sleep();
    }

    /// Is virtual time on for this thread? (One thread-local read: the
    /// async executors ask it for each wait, and do the rest out of line.)
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn paused_here() -> bool {
        PAUSED.with(Cell::get) != 0
    }

    /// Records an async run's wait on this paused thread; a `virtual` one
    /// also advances the virtual time (its timer is skipped), where
    /// another is slept for real (tokio's paused clock makes its timer
    /// instant, and moves the run's clock itself). A virtual one is
    /// remembered: this library's own virtual timer, made next, takes the
    /// advance back and moves the clock when its turn comes
    /// ([`claim_last_wait`]); any other wait keeps it. (Out of line: only
    /// a paused thread comes here.)
    #[cold]
    #[inline(never)]
    pub(crate) fn on_paused_async_wait(wait: Duration, virtual_wait: bool) {
        record_async(wait);
        let mut last = None;
        if virtual_wait {
            let before = OFFSET.with(Cell::get);
            let after = before.saturating_add(wait);
            OFFSET.with(|o| o.set(after));
            last = (after != before).then_some((before, after));
        }
        LAST_WAIT.with(|l| l.set(last));
    }

    /// For this library's virtual timer, made right after the wait it
    /// stands for was recorded ([`on_paused_async_wait`]): takes that
    /// wait's advance of the clock back, and gives the time the clock
    /// reads when the wait is over (its deadline), which the timer moves
    /// it to in its turn. `None` (the clock left as it is) when the last
    /// wait recorded was not virtual, or was taken already, or the clock
    /// has moved since (a sync sleep, another timer's end): a timer made
    /// on its own, not for a run's wait.
    #[cfg(any(feature = "smol", feature = "futures-timer"))]
    pub(crate) fn claim_last_wait() -> Option<Duration> {
        let (before, after) = LAST_WAIT.try_with(Cell::take).ok().flatten()?;
        if OFFSET.with(Cell::get) != after {
            return None;
        }
        OFFSET.with(|o| o.set(before));
        Some(after)
    }

    /// Was `wait` the last wait recorded, virtual, and not yet taken by a
    /// timer ([`claim_last_wait`])? (A run's loop records its wait before
    /// it makes the timer; a first attempt's wait for a cooldown is not
    /// recorded before.)
    pub(crate) fn just_recorded(wait: Duration) -> bool {
        LAST_WAIT.with(Cell::get).is_some_and(|(before, after)| {
            before.saturating_add(wait) == after && OFFSET.with(Cell::get) == after
        })
    }

    /// The virtual wait just recorded is not for this library's timer to
    /// take: a sleeper of the user's made its timer (`NoWait`, a
    /// `sleep_virtual` of its own), or none is made (a hedged run's, a
    /// loop of the user's that asked `should_sleep`). Forgotten, so that
    /// the next timer made for another wait of the same length, not
    /// recorded before it (a first attempt's wait for a cooldown), does
    /// not take it ([`just_recorded`]).
    #[cold]
    #[inline(never)]
    pub(crate) fn forget_last_wait() {
        let _ = LAST_WAIT.try_with(|l| l.set(None));
    }

    /// A virtual timer's wait is over: this thread's clock reads at least
    /// its `deadline` (a later one, from a wait not claimed, stays).
    #[cfg(any(feature = "smol", feature = "futures-timer"))]
    pub(crate) fn advance_to(deadline: Duration) {
        let _ = OFFSET.try_with(|o| o.set(o.get().max(deadline)));
    }

    #[cold]
    #[inline(never)]
    fn record_async(wait: Duration) {
        WAITS.with(|w| w.borrow_mut().push(wait));
    }

    /// This thread's virtual time.
    #[inline]
    pub(crate) fn offset() -> Duration {
        OFFSET.with(Cell::get)
    }

    #[cfg(test)]
    pub(crate) fn paused() -> u32 {
        PAUSED.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stamp gives back the reading it was made from, to the
    /// nanosecond; one past what it holds, the most it holds, never none.
    #[test]
    fn a_stamp_gives_back_its_reading() {
        for time in [
            Duration::ZERO,
            Duration::new(3600, 999_999_999),
            SystemClock.now(),
        ] {
            assert_eq!(Stamp::at(time).get(), Some(time));
        }
        assert_eq!(Stamp::NONE.get(), None);
        let most = Stamp::at(Duration::MAX).get();
        assert_eq!(most, Some(Duration::from_nanos(u64::MAX - 1)));
    }
}
