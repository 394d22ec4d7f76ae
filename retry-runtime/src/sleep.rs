//! Sleeping between attempts, and the clocks runs are timed with.
//!
//! A zero wait does not sleep at all: no timer is registered and the task
//! does not yield (tokio would round even `sleep(ZERO)` up to its next 1 ms tick).
//! Sync code sleeps with [`std::thread::sleep`] unless [`crate::testing::pause`]
//! is active on the thread; async code sleeps on tokio's timer, so
//! `tokio::time::pause()` makes tests instant.

use std::future::Future;
use std::time::Duration;

use crate::testing;

/// How an async run waits between attempts: a timer future per wait.
///
/// [`DefaultSleeper`] uses tokio's timer. Any `Fn(Duration) -> impl
/// Future<Output = ()>` is a sleeper too, so another runtime's timer plugs
/// in per call with [`Retry::sleep_with`](crate::Retry::sleep_with):
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::Policy;
/// let policy = Policy::new().attempts(2);
/// let mut calls = 0;
/// let r = policy
///     .retry(|| { calls += 1; let n = calls; async move { if n < 2 { Err("busy") } else { Ok(n) } } })
///     .sleep_with(|wait: Duration| tokio::time::sleep(wait)) // any runtime's timer
///     .await;
/// assert_eq!(r, Ok(2));
/// # }
/// ```
pub trait Sleeper {
    /// The timer future.
    type Sleep: Future<Output = ()>;
    /// A future that completes after `wait`.
    fn sleep(&self, wait: Duration) -> Self::Sleep;
}

/// How a sync run waits between attempts: [`DefaultSleeper`] blocks the
/// thread ([`sleep_sync`]); any `Fn(Duration)` is one too.
///
/// ```
/// use std::cell::RefCell;
/// use std::time::Duration;
/// use retry_runtime::Policy;
/// let slept = RefCell::new(Vec::new());
/// let r: Result<(), &str> = Policy::new()
///     .attempts(3)
///     .retry(|| Err("down"))
///     .sleep_with(|wait: Duration| slept.borrow_mut().push(wait))
///     .call();
/// assert!(r.is_err());
/// assert_eq!(slept.borrow().len(), 2);
/// ```
pub trait BlockingSleeper {
    /// Block for `wait`.
    fn sleep_blocking(&self, wait: Duration);
}

/// Sleeps on tokio's timer (async) and with [`std::thread::sleep`] (sync,
/// virtual under [`testing::pause`]). A zero wait does not sleep at all.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultSleeper;

impl Sleeper for DefaultSleeper {
    type Sleep = tokio::time::Sleep;
    #[inline]
    fn sleep(&self, wait: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(wait)
    }
}

impl BlockingSleeper for DefaultSleeper {
    #[inline]
    fn sleep_blocking(&self, wait: Duration) {
        sleep_sync(wait);
    }
}

impl<F, Fut> Sleeper for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    type Sleep = Fut;
    #[inline]
    fn sleep(&self, wait: Duration) -> Fut {
        self(wait)
    }
}

impl<F: Fn(Duration)> BlockingSleeper for F {
    #[inline]
    fn sleep_blocking(&self, wait: Duration) {
        self(wait);
    }
}

/// Sleep the current thread for `wait` (virtually, under [`testing::pause`]).
///
/// ```
/// retry_runtime::sleep::sleep_sync(std::time::Duration::ZERO); // returns at once
/// ```
#[inline]
pub fn sleep_sync(wait: Duration) {
    if testing::on_sync_sleep(wait) || wait.is_zero() {
        return;
    }
    std::thread::sleep(wait);
}

/// Sleep on tokio's timer for `wait`; a zero wait returns without yielding.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// retry_runtime::sleep::sleep_async(std::time::Duration::ZERO).await;
/// # }
/// ```
pub async fn sleep_async(wait: Duration) {
    if should_sleep(wait) {
        tokio::time::sleep(wait).await;
    }
}

/// The first half of [`sleep_async`], for a loop that awaits
/// `tokio::time::sleep(wait)` itself (the executors and `#[retry]` do, so
/// their future holds only tokio's `Sleep`, not a wrapping future too):
/// records the wait under [`testing::pause`], and says whether there is
/// anything to sleep (a zero wait is not slept).
///
/// ```
/// use std::time::Duration;
/// assert!(!retry_runtime::sleep::should_sleep(Duration::ZERO));
/// assert!(retry_runtime::sleep::should_sleep(Duration::from_millis(1)));
/// ```
#[inline]
pub fn should_sleep(wait: Duration) -> bool {
    testing::on_async_sleep(wait);
    !wait.is_zero()
}

/// A clock that times a run (sync or async).
pub trait Clock {
    /// A point in time.
    type Instant: Copy;
    /// Now.
    fn now() -> Self::Instant;
    /// Time passed since `start`.
    fn since(start: Self::Instant) -> Duration;
}

/// `std::time::Instant`, advanced by virtual sleeps under [`testing::pause`].
#[derive(Debug, Clone, Copy)]
pub struct SyncClock;

impl Clock for SyncClock {
    type Instant = (std::time::Instant, Duration);
    fn now() -> Self::Instant {
        (std::time::Instant::now(), testing::virtual_offset())
    }
    fn since(start: Self::Instant) -> Duration {
        let (now, offset) = Self::now();
        // saturating: huge virtual waits under `testing::pause` must not panic
        now.saturating_duration_since(start.0)
            .saturating_add(offset.saturating_sub(start.1))
    }
}

/// `tokio::time::Instant`, which follows tokio's paused clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = tokio::time::Instant;
    fn now() -> Self::Instant {
        tokio::time::Instant::now()
    }
    fn since(start: Self::Instant) -> Duration {
        start.elapsed()
    }
}
