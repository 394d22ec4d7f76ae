//! [`NoWait`]: an async sleeper that does not wait, for tests.

use std::future::{Ready, ready};
use std::time::Duration;

use crate::sleep::Sleeper;

/// An async [`Sleeper`] that does not wait: each wait between attempts is
/// over at once, on any runtime and on none, whatever tokio's clock does.
/// Under [`pause`](super::pause) its waits are virtual
/// ([`virtual_when_paused`](Sleeper::virtual_when_paused) is `true`): they
/// are recorded ([`Paused::waits`](super::Paused::waits)) and move the
/// run's clock, so `max_elapsed` still ends the run when the waits add up
/// to it, as in production. Not in a hedged run
/// ([`Retry::hedged`](crate::Retry::hedged) with a hedge delay), whose
/// waits are never virtual (its attempts race them): there each is over
/// at once and moves no clock, so `max_elapsed` counts none of them.
///
/// For the tests a paused tokio clock does not serve: a multi-thread
/// runtime (whose clock tokio does not pause), real I/O beside the run (a
/// local server on another thread, a client's own timeout, which tokio's
/// paused clock can fire while the socket is read), another executor.
/// Give it to a run with [`Retry::sleep_with`](crate::Retry::sleep_with),
/// to an async `#[retry]` function with its `sleeper` key (`sleeper =
/// self.timer`, the client's timer `NoWait` in tests), to the tower layer
/// and the reqwest middleware with their `sleep_with` (`Copy`: they copy
/// their sleeper).
///
/// Outside `pause()` it does not wait either, but then the run's clock
/// does not move: `max_elapsed` counts none of its waits. A per-attempt
/// `timeout` runs on the run's sleeper too: on this one, an attempt that
/// is not ready at its first poll (one that awaits a socket, a timer,
/// another task) times out at once, whatever the limit, while one ready
/// at once is not timed out (the attempt is polled before its timer), so
/// leave the timeout out of a test that waits on `NoWait`:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::{testing::NoWait, timeout_with, AttemptTimeout};
///
/// let limit = Duration::from_secs(30);
/// let ready = timeout_with(&NoWait, limit, async { Ok::<_, AttemptTimeout>(7) });
/// assert_eq!(ready.await.unwrap(), 7);
/// let awaits = async {
///     tokio::task::yield_now().await; // not ready at its first poll
///     Ok::<_, AttemptTimeout>(7)
/// };
/// assert!(timeout_with(&NoWait, limit, awaits).await.is_err()); // at once
/// # }
/// ```
///
/// A virtual wait does not yield to the executor, and moves the thread's
/// clock at once by the whole wait (a wait on this crate's smol and
/// futures-timer timers yields once, then ends in its turn among the
/// waits of the runs going at once on the thread): the next attempt
/// starts at once.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() { // tokio's real clock
/// use std::time::Duration;
/// use retry_runtime::testing::{self, NoWait};
/// use retry_runtime::{Backoff, Policy};
///
/// let s = Duration::from_secs;
/// let policy = Policy::new()
///     .with_max_attempts(100)
///     .with_backoff(Backoff::exponential(s(1), s(4)))
///     .with_max_elapsed(s(10));
/// let paused = testing::pause();
/// let e = policy
///     .retry(|| async { Err::<(), _>("refused") })
///     .sleep_with(NoWait)
///     .detailed()
///     .await
///     .unwrap_err();
/// // waits 1s, 2s, 4s, not slept; a fourth (4s) would end past 10s
/// assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
/// assert_eq!(e.attempts, 4);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoWait;

impl Sleeper for NoWait {
    type Sleep = Ready<()>;

    /// Ready at once, whatever `wait` is.
    #[inline]
    fn sleep(&self, _wait: Duration) -> Ready<()> {
        ready(())
    }

    /// `true`: under [`pause`](super::pause), the run's clock advances by
    /// each wait.
    #[inline]
    fn virtual_when_paused(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Backoff, Policy, testing};
    use core::future::Future as _;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    /// An hour's wait is ready at its first poll, and its "timer" under
    /// `pause()` too.
    #[test]
    fn a_wait_is_over_at_its_first_poll() {
        let mut cx = Context::from_waker(Waker::noop());
        let hour = Duration::from_secs(3600);
        assert_eq!(pin!(NoWait.sleep(hour)).poll(&mut cx), Poll::Ready(()));
        assert!(NoWait.virtual_when_paused());
        assert_eq!(pin!(NoWait.sleep_virtual()).poll(&mut cx), Poll::Ready(()));
    }

    /// Under `pause()` the waits are recorded and move the run's clock, so
    /// `max_elapsed` ends the run; outside it they move nothing.
    #[tokio::test(flavor = "current_thread")]
    async fn under_pause_its_waits_count_toward_max_elapsed() {
        let s = Duration::from_secs;
        let policy = Policy::new()
            .with_max_attempts(100)
            .with_backoff(Backoff::exponential(s(1), s(4)))
            .with_max_elapsed(s(10));
        let run = || {
            policy
                .retry(|| async { Err::<(), _>("down") })
                .sleep_with(NoWait)
                .detailed()
        };
        {
            let paused = testing::pause();
            let e = run().await.unwrap_err();
            assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
            assert_eq!(e.attempts, 4);
            assert!(e.elapsed >= s(7), "{:?}", e.elapsed);
        }
        // outside pause(): no wait, and no clock moved by one
        let e = run().await.unwrap_err();
        assert_eq!(e.attempts, 100);
    }

    /// A hedged run's waits are never virtual, whatever the sleeper: with
    /// `NoWait` under `pause()` they move no clock, and `max_elapsed`
    /// counts none of them (its docs say so).
    #[tokio::test(flavor = "current_thread")]
    async fn in_a_hedged_run_its_waits_move_no_clock() {
        let s = Duration::from_secs;
        let policy = Policy::new()
            .with_max_attempts(20)
            .with_backoff(Backoff::exponential(s(1), s(4)))
            .with_max_elapsed(s(10))
            .with_hedge(Duration::from_millis(50));
        let paused = testing::pause();
        let e = policy
            .retry(|| async { Err::<(), _>("down") })
            .sleep_with(NoWait)
            .detailed()
            .hedged()
            .await
            .unwrap_err();
        assert_eq!(e.attempts, 20);
        // (virtual waits of 1s, 2s, 4s would have moved it to 7s)
        assert!(e.elapsed < s(7), "{:?}", e.elapsed);
        assert!(!paused.waits().is_empty()); // recorded all the same
    }
}
