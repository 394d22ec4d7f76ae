//! The virtual waits of this library's smol and futures-timer timers under
//! [`testing::pause`](crate::testing::pause), in the order of their
//! deadlines: a discrete-event clock for the runs going at once on a paused
//! thread (two tasks of a `LocalExecutor`, a `join!`), as tokio's paused
//! clock is for tokio's timer.
//!
//! A run's wait is recorded and moves the thread's clock at once
//! ([`virtual_time::on_paused_async_wait`]); the timer made right after it
//! ([`VirtualWait::new`], from the sleepers' `sleep_virtual`) takes that
//! advance back and joins the thread's line with its deadline, the clock
//! plus the wait. Polled the first time, it yields (its task woken) so
//! that the executor's other ready tasks run and join the line with their
//! own waits; polled again, it ends when it is the first in its thread's
//! line (the earliest deadline, then the oldest), moving the clock to its
//! deadline and waking the next; else it waits to be woken (no spin).
//! Dropped in the line, it leaves it and wakes the next. The last pause
//! guard of a thread empties its line ([`clear`]).
//!
//! The line is the process's, each timer in it under its thread's key: a
//! timer polled on another thread than its own (a multi-thread executor
//! moved its task) ends at once, and leaves its own thread's line, so that
//! it holds no timer there. Nothing here runs outside `testing::pause()`
//! (the sleepers make a `VirtualWait` only for `sleep_virtual`), and a
//! timer made without a wait to take (`sleep_virtual` called with none
//! just recorded) is the one yield it was before.

use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::virtual_time;

/// A timer in the line.
struct Entry {
    /// Its thread's key ([`virtual_time::thread_key`]).
    thread: u64,
    /// Its number, in the order timers were made (0 is none).
    id: u64,
    /// The thread's clock when its wait is over.
    deadline: Duration,
    /// Its task, when it waits for its turn.
    waker: Option<Waker>,
}

/// Every paused thread's virtual timers.
static LINE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The line (a panic while it was held left nothing half-changed: each
/// change is one `push` or `swap_remove`).
fn line() -> MutexGuard<'static, Vec<Entry>> {
    LINE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The place of `thread`'s first timer: the earliest deadline, then the
/// oldest.
fn first_of(line: &[Entry], thread: u64) -> Option<usize> {
    line.iter()
        .enumerate()
        .filter(|(_, e)| e.thread == thread)
        .min_by_key(|(_, e)| (e.deadline, e.id))
        .map(|(at, _)| at)
}

/// Takes the timer at `at` out of the line, and the waker of its thread's
/// first timer after it, to wake once the line is let go.
fn take_out(line: &mut Vec<Entry>, at: usize) -> (Entry, Option<Waker>) {
    let entry = line.swap_remove(at);
    let next = first_of(line, entry.thread).and_then(|at| line[at].waker.take());
    (entry, next)
}

/// The "timer" of a virtual wait on this library's smol or futures-timer
/// timer ([`Sleeper::sleep_virtual`](crate::Sleeper::sleep_virtual)): in
/// its thread's line when it took a run's wait, else one yield.
#[derive(Debug)]
pub(crate) struct VirtualWait {
    /// Its number in the line; 0: not in it (a plain yield, or over).
    id: u64,
    yielded: bool,
}

impl VirtualWait {
    /// The timer of the wait just recorded on this thread, in its line
    /// with that wait's deadline; a plain yield when there is none to take
    /// ([`virtual_time::claim_last_wait`]).
    #[cold]
    #[inline(never)]
    pub(crate) fn new() -> VirtualWait {
        let mut id = 0;
        if let Some(deadline) = virtual_time::claim_last_wait() {
            if let Some(thread) = virtual_time::thread_key() {
                id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                line().push(Entry {
                    thread,
                    id,
                    deadline,
                    waker: None,
                });
            } else {
                // (no line while the thread's locals are destroyed: the
                // wait moves the clock at once, as it did)
                virtual_time::advance_to(deadline);
            }
        }
        VirtualWait { id, yielded: false }
    }

    /// Ready once it has yielded and, in a line, its turn has come.
    #[cold]
    #[inline(never)]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.id == 0 {
            return Poll::Ready(());
        }
        let here = virtual_time::thread_key();
        let mut line = line();
        // (not in it: its thread's last pause guard has gone)
        let Some(at) = line.iter().position(|e| e.id == self.id) else {
            self.id = 0;
            return Poll::Ready(());
        };
        let own_thread = here == Some(line[at].thread);
        if own_thread && first_of(&line, line[at].thread) != Some(at) {
            let waker = &mut line[at].waker;
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        // its turn, or polled on another thread: over
        let (entry, next) = take_out(&mut line, at);
        drop(line);
        self.id = 0;
        if own_thread {
            virtual_time::advance_to(entry.deadline);
        }
        if let Some(next) = next {
            next.wake();
        }
        Poll::Ready(())
    }
}

impl Drop for VirtualWait {
    fn drop(&mut self) {
        if self.id != 0 {
            leave_line(self.id);
        }
    }
}

/// A timer dropped in the line leaves it, and its thread's first timer
/// then is woken (its turn may have come).
#[cold]
#[inline(never)]
fn leave_line(id: u64) {
    let mut line = line();
    let Some(at) = line.iter().position(|e| e.id == id) else {
        return;
    };
    let (left, next) = take_out(&mut line, at);
    drop(line);
    // its stored waker dropped after the line is let go: a waker's drop
    // may drop a task, whose timers would take the line again
    drop(left);
    if let Some(next) = next {
        next.wake();
    }
}

/// `thread`'s last pause guard has gone: its timers leave the line, and
/// those waiting for their turn are woken (they are over).
pub(crate) fn clear(thread: u64) {
    let mut woken = Vec::new();
    {
        let mut line = line();
        if !line.iter().any(|e| e.thread == thread) {
            return;
        }
        line.retain_mut(|e| {
            if e.thread != thread {
                return true;
            }
            woken.extend(e.waker.take());
            false
        });
    }
    for waker in woken {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    #[cfg(feature = "smol")]
    use core::future::Future;

    /// Polls `wait` once with a waker that does nothing.
    fn poll_once(wait: &mut VirtualWait) -> Poll<()> {
        wait.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// A virtual wait's timer with `wait` recorded just before, as a run
    /// makes it.
    fn timer_for(wait: Duration) -> VirtualWait {
        virtual_time::on_paused_async_wait(wait, true);
        VirtualWait::new()
    }

    /// Timers for waits of 1s and 2s, both past their yield, the 2s one
    /// waiting for its turn.
    fn two_in_line() -> (VirtualWait, VirtualWait) {
        let mut first = timer_for(Duration::from_secs(1));
        let mut second = timer_for(Duration::from_secs(2));
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        assert!(poll_once(&mut second).is_pending(), "1s first");
        (first, second)
    }

    #[test]
    fn the_timer_takes_its_waits_advance_back_and_moves_the_clock_in_its_turn() {
        let _paused = testing::pause();
        let s = Duration::from_secs;
        let mut late = timer_for(s(5));
        assert_eq!(virtual_time::offset(), Duration::ZERO);
        let mut early = timer_for(s(2));
        assert_eq!(virtual_time::offset(), Duration::ZERO);
        assert!(poll_once(&mut late).is_pending()); // the first poll yields
        assert!(poll_once(&mut early).is_pending());
        assert!(poll_once(&mut late).is_pending(), "2s ends first");
        assert!(poll_once(&mut early).is_ready());
        assert_eq!(virtual_time::offset(), s(2));
        assert!(poll_once(&mut late).is_ready());
        assert_eq!(virtual_time::offset(), s(5));
    }

    /// A timer made when the clock has moved since the wait was recorded
    /// (a sync sleep between), or with no wait recorded, or a second time
    /// for one wait, takes nothing: one yield, the clock as it is.
    #[test]
    fn a_timer_with_no_wait_to_take_is_one_yield() {
        let _paused = testing::pause();
        let s = Duration::from_secs;
        virtual_time::on_paused_async_wait(s(3), true);
        crate::sleep::sleep_sync(s(1));
        let mut stale = VirtualWait::new();
        assert_eq!(stale.id, 0);
        assert_eq!(virtual_time::offset(), s(4));
        let mut taken = timer_for(s(1));
        let mut again = VirtualWait::new();
        assert_eq!(again.id, 0);
        assert!(poll_once(&mut stale).is_pending());
        assert!(poll_once(&mut stale).is_ready());
        assert!(poll_once(&mut again).is_pending());
        assert!(poll_once(&mut again).is_ready());
        assert!(poll_once(&mut taken).is_pending());
        assert!(poll_once(&mut taken).is_ready());
        assert_eq!(virtual_time::offset(), s(5));
    }

    /// Another run's first wait for a cooldown on smol's timer, not
    /// recorded before its timer is made (`paused_sleep` records it),
    /// polled to its end.
    #[cfg(feature = "smol")]
    fn another_runs_first_wait(wait: Duration) {
        let mut first = crate::__private::sleep_on(&crate::sleep::SmolSleeper, wait);
        let mut cx = Context::from_waker(Waker::noop());
        while core::pin::Pin::new(&mut first).poll(&mut cx).is_pending() {}
    }

    /// A wait no timer of this library's took (a run on a sleeper of
    /// yours, on `NoWait`, a hedged run without a hedge delay, a loop of
    /// yours that asks `sleep::should_sleep`: the clock
    /// moved by it whole) is not taken by the next timer made for another
    /// run's wait of the same length that was not recorded before it (the
    /// first attempt's wait for a cooldown, `paused_sleep`): that wait is
    /// recorded and moves the clock too.
    #[cfg(feature = "smol")]
    #[test]
    fn a_wait_left_untaken_is_not_taken_by_another_runs_first_wait() {
        let paused = testing::pause();
        let s = Duration::from_secs;
        let how = crate::sleep::wait_on(&testing::NoWait, s(1));
        let mut no_wait = core::pin::pin!(crate::sleep::timer(&testing::NoWait, s(1), how));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(no_wait.as_mut().poll(&mut cx).is_ready());
        assert_eq!(virtual_time::offset(), s(1));
        another_runs_first_wait(s(1));
        assert_eq!(paused.waits(), [s(1), s(1)]);
        assert_eq!(virtual_time::offset(), s(2));
        // a loop of the user's that asks `should_sleep` makes no timer
        assert!(!crate::sleep::should_sleep(s(1)));
        another_runs_first_wait(s(1));
        assert_eq!(paused.waits(), [s(1); 4]);
        assert_eq!(virtual_time::offset(), s(4));
    }

    /// The same for a hedged run without a hedge delay, whose virtual
    /// wait no timer takes (it yields itself).
    #[cfg(feature = "smol")]
    #[test]
    fn a_hedged_runs_wait_is_not_taken_by_another_runs_first_wait() {
        let paused = testing::pause();
        let s = Duration::from_secs;
        let policy = crate::Policy::new()
            .with_max_attempts(2)
            .with_backoff(crate::Backoff::fixed(s(1)));
        let hedged = policy
            .retry(|| async { Err::<(), _>("down") })
            .sleep_with(crate::sleep::SmolSleeper)
            .hedged();
        let mut hedged = core::pin::pin!(hedged);
        let mut cx = Context::from_waker(Waker::noop());
        // its first attempt failed, its wait recorded: it yields
        assert!(hedged.as_mut().poll(&mut cx).is_pending());
        assert_eq!(paused.waits(), [s(1)]);
        another_runs_first_wait(s(1));
        assert_eq!(paused.waits(), [s(1), s(1)]);
        assert_eq!(virtual_time::offset(), s(2));
    }

    /// A timer polled on another thread than its own (a task moved by a
    /// multi-thread executor) ends, and leaves its own thread's line: the
    /// next timer there has its turn.
    #[test]
    fn a_timer_polled_on_another_thread_ends_and_leaves_its_line() {
        let _paused = testing::pause();
        let s = Duration::from_secs;
        let (moved, mut next) = two_in_line();
        let over = std::thread::spawn(move || {
            let mut moved = moved;
            poll_once(&mut moved)
        });
        assert!(over.join().unwrap().is_ready());
        assert!(poll_once(&mut next).is_ready());
        assert_eq!(virtual_time::offset(), s(2));
    }

    /// A limit that stays (docs/testing.md): a timer kept alive but no
    /// longer polled (a `select`'s loser kept for later) keeps its place
    /// in the line, so a later deadline on its thread does not end (a test
    /// that awaits it hangs) until that timer is dropped.
    #[test]
    fn a_timer_kept_but_not_polled_holds_later_ones_until_dropped() {
        let _paused = testing::pause();
        let (kept, mut later) = two_in_line();
        for _ in 0..3 {
            assert!(poll_once(&mut later).is_pending());
        }
        drop(kept);
        assert!(poll_once(&mut later).is_ready());
        assert_eq!(virtual_time::offset(), Duration::from_secs(2));
    }

    /// The last pause guard empties its thread's line: a timer left in it
    /// ends when next polled.
    #[test]
    fn the_last_guard_empties_the_line() {
        let paused = testing::pause();
        let (mut first, mut second) = two_in_line();
        drop(paused);
        let here = virtual_time::thread_key();
        assert!(!line().iter().any(|e| Some(e.thread) == here));
        assert!(poll_once(&mut second).is_ready());
        assert!(poll_once(&mut first).is_ready());
    }
}
