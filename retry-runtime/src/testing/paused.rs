//! [`pause`]: waits recorded, sync sleeps virtual, on this thread (see
//! [the module docs](crate::testing)).

use core::marker::PhantomData;
use std::time::Duration;

use crate::clock::virtual_time;

/// While alive, records waits and makes sync sleeps (and async waits on
/// this library's smol and futures-timer timers, but for a run with a
/// hedge delay) virtual on this thread.
/// Not `Send`: it belongs to the thread that made it. Guards nest; each sees
/// the waits recorded since it was made, while the guards made after it
/// live (the waits of an inner guard go with it when it drops). A helper
/// that makes its own guard hides its waits from the caller's guard once
/// it returns: return `waits()` from the helper. Dropping the last one
/// turns the thread's clock back to real time: keep it alive until the
/// runs under it have ended.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{sleep::sleep_sync, testing};
/// let s = Duration::from_secs;
/// let outer = testing::pause();
/// sleep_sync(s(1));
/// let inner = testing::pause();
/// sleep_sync(s(2));
/// assert_eq!((outer.waits(), inner.waits()), (vec![s(1), s(2)], vec![s(2)]));
/// drop(inner); // its waits go with it
/// assert_eq!(outer.waits(), [s(1)]);
/// ```
#[derive(Debug)]
#[must_use = "the waits are virtual only while this guard lives: bind it (`let _paused = testing::pause();`), not to `_`"]
pub struct Paused {
    guard: virtual_time::Guard,
    _not_send: PhantomData<*const ()>,
}

/// Start recording waits on this thread; sync sleeps (and async waits on
/// this library's smol and futures-timer timers, but for a run with a
/// hedge delay) become virtual. The virtual waits of runs going at once on
/// the thread end in the order of their deadlines, as on tokio's paused
/// clock (see [the module docs](crate::testing)).
///
/// ```
/// let p = retry_runtime::testing::pause();
/// retry_runtime::sleep::sleep_sync(std::time::Duration::from_secs(3600)); // instant
/// assert_eq!(p.total(), std::time::Duration::from_secs(3600));
/// ```
pub fn pause() -> Paused {
    Paused {
        guard: virtual_time::enter(),
        _not_send: PhantomData,
    }
}

/// Is [`pause`] on for this thread (a guard alive)? For a blocking sleeper
/// of yours that waits on something else than [`sleep_sync`]
/// (a `Condvar` that a Ctrl-C handler wakes, a channel's `recv_timeout`):
/// the run has recorded its wait, and the sleeper makes it virtual by
/// handing it to [`sleep_sync`] (which advances the thread's clock, so
/// `max_elapsed` counts it, and does not record it again). See
/// [`BlockingSleeper`](crate::BlockingSleeper)'s "Ctrl-C".
///
/// [`sleep_sync`]: crate::sleep::sleep_sync
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{sleep::sleep_sync, testing, Backoff, Policy};
///
/// // a sleeper that a shutdown would wake (here: a real wait otherwise)
/// let wake_or_wait = |wait: Duration| {
///     if testing::is_paused() {
///         return sleep_sync(wait); // virtual: no real wait in a test
///     }
///     std::thread::sleep(wait) // (a `Condvar::wait_timeout` in a program)
/// };
/// let paused = testing::pause();
/// let r: Result<(), &str> = Policy::new()
///     .with_max_attempts(3)
///     .with_backoff(Backoff::fixed(Duration::from_secs(60)))
///     .retry(|| Err("down"))
///     .sleep_with(wake_or_wait)
///     .call();
/// assert!(r.is_err());
/// assert_eq!(paused.waits(), [Duration::from_secs(60); 2]); // each once, none slept
/// ```
pub fn is_paused() -> bool {
    virtual_time::paused_here()
}

impl Paused {
    /// The waits recorded since this guard was made, in order: each as it
    /// starts, so a run dropped during a wait (a `tokio::time::timeout` of
    /// yours around it) has that wait listed whole. Waits of runs on other
    /// threads are not here (see [the module docs](crate::testing)).
    ///
    /// ```
    /// let p = retry_runtime::testing::pause();
    /// assert!(p.waits().is_empty());
    /// ```
    pub fn waits(&self) -> Vec<Duration> {
        virtual_time::waits_since(self.guard.first)
    }

    /// Their sum (`Duration::MAX` if it would overflow).
    ///
    /// ```
    /// assert_eq!(retry_runtime::testing::pause().total(), std::time::Duration::ZERO);
    /// ```
    pub fn total(&self) -> Duration {
        self.waits()
            .into_iter()
            .fold(Duration::ZERO, Duration::saturating_add)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        virtual_time::leave(self.guard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_guards_see_their_own_waits() {
        let outer = pause();
        crate::sleep::sleep_sync(Duration::from_secs(1));
        {
            let inner = pause();
            crate::sleep::sleep_sync(Duration::from_secs(2));
            assert_eq!(inner.waits(), [Duration::from_secs(2)]);
        }
        assert_eq!(outer.waits(), [Duration::from_secs(1)]);
        drop(outer);
        assert_eq!(virtual_time::paused(), 0);
        assert_eq!(virtual_time::offset(), Duration::ZERO);
    }

    #[test]
    fn an_outer_guard_dropped_first_leaves_the_inner_its_waits() {
        let s = Duration::from_secs;
        let a = pause();
        crate::sleep::sleep_sync(s(1));
        let b = pause();
        crate::sleep::sleep_sync(s(2));
        drop(a);
        crate::sleep::sleep_sync(s(3));
        assert_eq!(b.waits(), [s(2), s(3)]);
        drop(b);
        assert_eq!(virtual_time::paused(), 0);
        let c = pause();
        assert!(c.waits().is_empty());
    }

    /// A guard dropped between two others is the one that goes: the
    /// newest, dropped next, still takes its waits with it.
    #[test]
    fn a_middle_guard_dropped_first_leaves_the_newest_its_place() {
        let s = Duration::from_secs;
        let a = pause();
        crate::sleep::sleep_sync(s(1));
        let b = pause();
        let c = pause();
        crate::sleep::sleep_sync(s(2));
        drop(b);
        drop(c);
        assert_eq!(a.waits(), [s(1)]);
    }

    /// Two guards made with no wait between them start at the same place;
    /// the outer one dropped first still leaves the inner its waits.
    #[test]
    fn guards_made_back_to_back_keep_their_own_waits() {
        let s = Duration::from_secs;
        let a = pause();
        let b = pause();
        crate::sleep::sleep_sync(s(1));
        drop(a);
        assert_eq!(b.waits(), [s(1)]);
        assert_eq!(b.total(), s(1));
    }

    /// The sum saturates: waits a policy allows (a `Duration::MAX`
    /// backoff) must not panic a test that asks for their total.
    #[test]
    fn the_total_saturates() {
        let p = pause();
        crate::sleep::sleep_sync(Duration::MAX);
        crate::sleep::sleep_sync(Duration::from_nanos(1));
        assert_eq!(p.total(), Duration::MAX);
    }

    #[test]
    fn virtual_sleep_moves_the_clock() {
        use crate::clock::{Clock, SystemClock};
        let _p = pause();
        let start = SystemClock.now();
        crate::sleep::sleep_sync(Duration::from_secs(90));
        assert!(SystemClock.now() - start >= Duration::from_secs(90));
        assert!(SystemClock.now() - start < Duration::from_secs(91));
    }
}
