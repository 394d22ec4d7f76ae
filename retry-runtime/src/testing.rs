//! Check the waits of a retry without waiting.
//!
//! [`pause`] returns a guard; while it lives, on this thread:
//! - sync retries do not sleep: each wait is recorded and advances a virtual
//!   clock that the sync executor's `max_elapsed` check reads;
//! - async retries record their waits too (they still sleep on tokio's timer:
//!   combine with `tokio::time::pause()`, or `#[tokio::test(start_paused = true)]`,
//!   on a current-thread runtime so the task stays on this thread).
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

use core::cell::{Cell, RefCell};
use core::marker::PhantomData;
use std::time::Duration;

thread_local! {
    static PAUSED: Cell<u32> = const { Cell::new(0) };
    static OFFSET: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    static WAITS: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
}

/// While alive, records waits and makes sync sleeps virtual on this thread.
/// Not `Send`: it belongs to the thread that made it. Guards nest; each sees
/// the waits recorded since it was made.
#[derive(Debug)]
pub struct Paused {
    first: usize,
    _not_send: PhantomData<*const ()>,
}

/// Start recording waits on this thread; sync sleeps become virtual.
///
/// ```
/// let p = retry_runtime::testing::pause();
/// retry_runtime::sleep::sleep_sync(std::time::Duration::from_secs(3600)); // instant
/// assert_eq!(p.total(), std::time::Duration::from_secs(3600));
/// ```
pub fn pause() -> Paused {
    PAUSED.with(|p| p.set(p.get() + 1));
    Paused {
        first: WAITS.with(|w| w.borrow().len()),
        _not_send: PhantomData,
    }
}

impl Paused {
    /// The waits recorded since this guard was made, in order.
    ///
    /// ```
    /// let p = retry_runtime::testing::pause();
    /// assert!(p.waits().is_empty());
    /// ```
    pub fn waits(&self) -> Vec<Duration> {
        WAITS.with(|w| {
            w.borrow()
                .get(self.first..)
                .map(<[_]>::to_vec)
                .unwrap_or_default()
        })
    }

    /// Their sum.
    ///
    /// ```
    /// assert_eq!(retry_runtime::testing::pause().total(), std::time::Duration::ZERO);
    /// ```
    pub fn total(&self) -> Duration {
        self.waits().iter().sum()
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let left = PAUSED.with(|p| {
            let n = p.get().saturating_sub(1);
            p.set(n);
            n
        });
        WAITS.with(|w| w.borrow_mut().truncate(self.first));
        if left == 0 {
            OFFSET.with(|o| o.set(Duration::ZERO));
        }
    }
}

/// Records a sync wait; `true` when the sleep is virtual (skip the real one).
/// Inline: one thread-local read when no test paused the thread.
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
    WAITS.with(|w| w.borrow_mut().push(wait));
    OFFSET.with(|o| o.set(o.get().saturating_add(wait)));
}

#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn on_async_sleep(wait: Duration) {
    if PAUSED.with(Cell::get) != 0 {
        record_async(wait);
    }
}

#[cold]
#[inline(never)]
fn record_async(wait: Duration) {
    WAITS.with(|w| w.borrow_mut().push(wait));
}

#[inline]
pub(crate) fn virtual_offset() -> Duration {
    OFFSET.with(Cell::get)
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
        assert_eq!(PAUSED.with(Cell::get), 0);
        assert_eq!(virtual_offset(), Duration::ZERO);
    }

    #[test]
    fn virtual_sleep_moves_the_sync_clock() {
        use crate::sleep::{Clock, SyncClock};
        let _p = pause();
        let start = SyncClock::now();
        crate::sleep::sleep_sync(Duration::from_secs(90));
        assert!(SyncClock::since(start) >= Duration::from_secs(90));
        assert!(SyncClock::since(start) < Duration::from_secs(91));
    }
}
