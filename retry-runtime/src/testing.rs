//! Check the waits of a retry without waiting.
//!
//! [`pause`] returns a guard; while it lives, on this thread:
//! - sync retries do not sleep: each wait is recorded and advances a virtual
//!   clock that the sync executor's `max_elapsed` check reads (a sleeper
//!   given with `.sleep_with(..)` is still called, as outside the guard:
//!   one that returns at once moves no clock);
//! - async retries record their waits too. On tokio's timer they still
//!   sleep: combine with `tokio::time::pause()`, or
//!   `#[tokio::test(start_paused = true)]`, on a current-thread runtime so
//!   the task stays on this thread. On this library's other timers (the
//!   `smol` and `futures-timer` features, also beside `tokio` for a future
//!   run outside a tokio runtime) they do not sleep: each wait advances
//!   the virtual clock, as a sync one does, and is one yield (the executor
//!   polls its other ready tasks once: less than tokio's paused clock,
//!   which moves only when every task is idle, so a task that needs
//!   several polls to act during a wait, or a signal on the real timer,
//!   sees more attempts go by than the program would make). A sleeper of
//!   yours (`SleepFn`) is still awaited, and a per-attempt `timeout` and
//!   every wait of a run with a hedge delay (its attempts race them in
//!   real time) run on the real timer, recorded.
//!
//! The virtual clock is the thread's and only adds: two runs going at once
//! on this thread (`join!`) each move it by their own waits and see the
//! other's (tokio's paused clock, which jumps to the next timer due, runs
//! them side by side as in real time). It is not tokio's clock either: a
//! virtual wait does not move `tokio::time::Instant`, so code that waits
//! on tokio's timer beside the run (a stub server's recovery, a
//! `tokio::time::timeout` around it) sees none of them.
//!
//! The guard sees this thread only. A retry in a task spawned on a
//! multi-thread runtime, in `spawn_blocking` or on a thread of its own
//! runs on a thread that is not paused: its waits are real and are not
//! recorded ([`Paused::waits`] stays empty, so an assertion that nothing
//! was retried passes whatever the run did), and [`seed`] does not reach
//! its jitter. Count such waits with a per-call hook
//! ([`Retry::notify`](crate::Retry::notify)), a closure that runs on any
//! thread and can hold the test's own counter, or test on a current-thread
//! runtime, whose spawned tasks run on the test's thread.
//! [`Policy::with_before_sleep`](crate::Policy::with_before_sleep) runs on
//! any thread too, but it is a `fn`: it can only write to a `static`,
//! which every test of the binary shares while they run in parallel. Key
//! what it records by [`RetryEvent::operation`](crate::RetryEvent::operation)
//! and give each test's policy its own
//! [`with_name`](crate::Policy::with_name), or run such tests under
//! `cargo nextest` (a process per test).
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{presets, testing};
//! let paused = testing::pause();
//! let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
//! let r: Result<(), _> = presets::WEBHOOK.retry(|| Err(refused())).call();
//! assert!(r.is_err());
//! let s = Duration::from_secs;
//! assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
//! ```

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
/// hedge delay) become virtual.
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
    /// threads are not here (see [the module docs](self)).
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

/// Make this thread's random draws (the jitter, a [`Throttle`](crate::Throttle)'s
/// rejections) repeat from run to run: seed its generator.
///
/// After `seed(n)`, this thread's generator is
/// [`jitter::Rng::with_seed(n)`](crate::jitter::Rng::with_seed), and the
/// runs on this thread draw from it, in order:
/// - each wait the backoff decides, under a jitter other than
///   `Jitter::None`, is
///   `policy.jitter().apply(policy.backoff().delay(i), previous, &policy.backoff(), &mut rng)`
///   for retry `i` (from 0), `previous` being the wait made before it
///   (zero before the first); [`Policy::decide`](crate::Policy::decide)
///   draws the same way, `previous` being the backoff's wait for the
///   retry before;
/// - a wait a `Retry-After` sets, and a policy without jitter, draw
///   nothing;
/// - a [`Throttle`](crate::Throttle) whose rejection probability is above
///   zero draws one [`next_f64`](crate::jitter::Rng::next_f64) for each
///   attempt it is asked to let through.
///
/// A seed gives the same waits from run to run, not from version to
/// version of this crate: a later version may draw otherwise. Compute the
/// waits a test expects, as the second example does, rather than writing
/// their values in it.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Backoff, Jitter, Policy, testing};
/// let policy = Policy::new().with_backoff(Backoff::fixed(Duration::from_secs(1))).with_jitter(Jitter::Full);
/// let waits = || {
///     let paused = testing::pause();
///     let _ = policy.retry(|| Err::<(), _>("down")).call();
///     paused.waits()
/// };
/// testing::seed(42);
/// let first = waits();
/// testing::seed(42);
/// assert_eq!(waits(), first);
/// ```
///
/// The waits of a seeded run, computed:
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{jitter::Rng, testing, Backoff, Jitter, Policy};
/// let s = Duration::from_secs;
/// let policy = Policy::new()
///     .with_max_attempts(4)
///     .with_backoff(Backoff::exponential(s(1), s(8)))
///     .with_jitter(Jitter::Decorrelated);
/// let paused = testing::pause();
/// testing::seed(42);
/// let _ = policy.retry(|| Err::<(), _>("down")).call();
///
/// let mut rng = Rng::with_seed(42);
/// let mut previous = Duration::ZERO;
/// let expected: Vec<Duration> = (0..3)
///     .map(|i| {
///         let delay = policy.backoff().delay(i);
///         previous = policy.jitter().apply(delay, previous, &policy.backoff(), &mut rng);
///         previous
///     })
///     .collect();
/// assert_eq!(paused.waits(), expected);
/// ```
pub fn seed(seed: u64) {
    crate::jitter::Rng::seed_thread(seed);
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
