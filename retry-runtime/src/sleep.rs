//! Sleeping between attempts (time itself is read through [`clock`](crate::clock)).
//!
//! Sync runs block the thread ([`sleep_sync`], or a [`BlockingSleeper`] of
//! yours). Async runs await a [`Sleeper`]'s timer: the [`DefaultSleeper`]
//! uses the timer of the runtime feature that is enabled, in this order:
//!
//! | feature | timer | runs on |
//! |---|---|---|
#![cfg_attr(
    feature = "tokio",
    doc = "| `tokio` (default) | `tokio::time::sleep` ([`TokioSleeper`]) | a tokio runtime; follows `tokio::time::pause()` in tests |"
)]
#![cfg_attr(
    not(feature = "tokio"),
    doc = "| `tokio` (default) | `tokio::time::sleep` (`TokioSleeper`) | a tokio runtime; follows `tokio::time::pause()` in tests |"
)]
#![cfg_attr(
    feature = "smol",
    doc = "| `smol` | `async_io::Timer` ([`SmolSleeper`]) | any executor (smol, async-std, ...) |"
)]
#![cfg_attr(
    not(feature = "smol"),
    doc = "| `smol` | `async_io::Timer` (`SmolSleeper`) | any executor (smol, async-std, ...) |"
)]
#![cfg_attr(
    feature = "futures-timer",
    doc = "| `futures-timer` | `futures_timer::Delay` ([`FuturesTimerSleeper`]) | any executor |"
)]
#![cfg_attr(
    not(feature = "futures-timer"),
    doc = "| `futures-timer` | `futures_timer::Delay` (`FuturesTimerSleeper`) | any executor |"
)]
//!
//! With none of them, async retries need a sleeper of yours
//! ([`Retry::sleep_with`](crate::Retry::sleep_with); for async `#[retry]`
//! the key `sleeper = my_sleeper`); without one, the compile error names
//! the features and the key. A program that
//! enables `tokio` and another (say, one dependency asks for `tokio`, you
//! for `smol`) gets tokio's timer inside a tokio runtime and the other's
//! outside (`EitherSleep`, in such a build: one check for a tokio runtime per
//! sleep, in that build only), so `#[retry]` works on both. Inside a tokio
//! runtime the timer is tokio's, so that runtime needs its time driver
//! (`enable_time()`, or `enable_all()`), as any tokio timer does: tokio
//! offers no way to ask whether it has one, and without it tokio's timer
//! panics with a message saying to call `enable_time`.
//!
//! A sleeper of yours that sleeps on this library's timer calls the
//! [`DefaultSleeper`]:
#![cfg_attr(
    any(feature = "tokio", feature = "smol", feature = "futures-timer"),
    doc = "[`sleep_async`]"
)]
#![cfg_attr(
    not(any(feature = "tokio", feature = "smol", feature = "futures-timer")),
    doc = "`sleep_async` (with a timer feature)"
)]
//! records its wait under
//! [`testing::pause`], which the run has done already. (A sync sleeper of
//! yours may call [`sleep_sync`]: the run's wait is recorded once.)
//!
//! A zero wait does not sleep at all: no timer is registered and the task
//! does not yield (tokio would round even `sleep(ZERO)` up to its next 1 ms
//! tick). Under [`testing::pause`] every wait is recorded, and sync sleeps
//! are virtual, as are async runs' waits on this library's timers other
//! than tokio's (which has a paused clock of its own): the run's clock
//! advances instead, and the waits of runs going at once on the thread
//! end in the order of their deadlines, as on tokio's paused clock. Not
//! those of a run with a hedge delay, whose attempts race its waits in
//! real time: slept for real.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! # #[cfg(feature = "tokio")] {
//! use std::time::Duration;
//! use retry_runtime::Policy;
//! let start = tokio::time::Instant::now();
//! let r = Policy::new() // waits 1s, then 2s, on the DefaultSleeper: tokio's timer here
//!     .retry(|| async { Err::<(), _>("down") })
//!     .await;
//! assert_eq!(r, Err("down"));
//! assert!(start.elapsed() >= Duration::from_secs(3)); // on tokio's paused clock: no real wait
//! # }}
//! ```

use core::fmt;
use std::future::Future;
use std::time::Duration;

use crate::clock::virtual_time;
#[allow(unused_imports)] // the docs link to it
use crate::testing;

/// How an async run waits between attempts: a timer future per wait.
///
/// [`DefaultSleeper`] uses the enabled runtime's timer. Any `Fn(Duration) ->
/// impl Future<Output = ()>` is a sleeper too (a runtime's `sleep`
/// function as it is, as backon's `.sleep(..)` takes it, when its future's
/// output is `()`, or a closure), so
/// another runtime's timer plugs in per call with
/// [`Retry::sleep_with`](crate::Retry::sleep_with); [`SleepFn`] wraps one
/// to make it `Debug` and nameable in a struct:
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use retry_runtime::Policy;
/// let policy = Policy::new().with_max_attempts(2);
/// let mut calls = 0;
/// let r = policy
///     .retry(|| { calls += 1; let n = calls; async move { if n < 2 { Err("busy") } else { Ok(n) } } })
///     .sleep_with(tokio::time::sleep) // any runtime's timer
///     .await;
/// assert_eq!(r, Ok(2));
/// # }
/// ```
///
/// A timer whose future has another output is not a sleeper as it is:
/// smol's (async-io's) `Timer::after` resolves to the `Instant` it fired
/// at. Wrap it in an `async` block that drops the output, or enable the
/// feature `smol`, whose `SmolSleeper` is that timer:
///
/// ```
/// # #[cfg(feature = "smol")] {
/// use std::time::Duration;
/// use retry_runtime::{Backoff, Policy};
/// let policy = Policy::new()
///     .with_max_attempts(2)
///     .with_backoff(Backoff::fixed(Duration::from_millis(1)));
/// let mut calls = 0;
/// let r = async_io::block_on( // `smol::block_on`, the same function
///     policy
///         .retry(|| { calls += 1; let n = calls; async move { if n < 2 { Err("busy") } else { Ok(n) } } })
///         // with `smol` as your dependency: `smol::Timer::after(wait).await;`
///         .sleep_with(|wait| async move { async_io::Timer::after(wait).await; })
///         .into_future(),
/// );
/// assert_eq!(r, Ok(2));
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot sleep between async attempts",
    label = "no async timer for this retry",
    note = "enable one of retry-runtime's features `tokio` (the default), `smol` or `futures-timer`, or pass your runtime's timer with `.sleep_with(my_runtime::sleep)`"
)]
pub trait Sleeper {
    /// The timer future.
    type Sleep: Future<Output = ()>;
    /// A future that completes after `wait`: the run makes one per wait
    /// between attempts and awaits it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::sync::Mutex;
    /// use std::time::Duration;
    /// use retry_runtime::{sleep::Sleeper, Policy};
    ///
    /// /// tokio's timer, each wait kept as well (for a metric of your own, say).
    /// struct Kept<'a>(&'a Mutex<Vec<Duration>>);
    /// impl Sleeper for Kept<'_> {
    ///     type Sleep = tokio::time::Sleep;
    ///     fn sleep(&self, wait: Duration) -> tokio::time::Sleep {
    ///         self.0.lock().unwrap().push(wait);
    ///         tokio::time::sleep(wait)
    ///     }
    /// }
    ///
    /// let waits = Mutex::new(Vec::new());
    /// let start = tokio::time::Instant::now();
    /// let r = Policy::new() // 3 attempts, waits 1s, 2s
    ///     .retry(|| async { Err::<(), _>("down") })
    ///     .sleep_with(Kept(&waits))
    ///     .await;
    /// assert_eq!(r, Err("down"));
    /// let s = Duration::from_secs;
    /// assert_eq!(*waits.lock().unwrap(), [s(1), s(2)]);
    /// assert!(start.elapsed() >= s(3)); // on tokio's paused clock: no real wait
    /// # }
    /// ```
    fn sleep(&self, wait: Duration) -> Self::Sleep;

    /// Under [`testing::pause`], is a run's wait between attempts virtual
    /// (the run's clock advances, the timer is not awaited)? `true` for
    /// this library's timers other than tokio's, which has a paused clock
    /// of its own (outside a tokio runtime, for the
    /// [`DefaultSleeper`]); by default `false`: a
    /// sleeper of yours is awaited, its waits recorded. (A run with a hedge
    /// delay sleeps its waits for real whatever this says.)
    ///
    /// With `false` the run's clock moves only as the sleeper's timer
    /// does: a sleeper that does not wait (a closure, `|_|
    /// std::future::ready(())`, say) leaves it where it was, so
    /// `max_elapsed` counts none of its waits (the first run below makes
    /// all 100 attempts). A
    /// sleeper that does not wait and says `true` here keeps the deadline
    /// under `testing::pause()`: [`testing::NoWait`] is one (its `sleep`
    /// returns `std::future::ready(())`, and this returns `true`):
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::future::ready;
    /// use std::time::Duration;
    /// use retry_runtime::testing::{self, NoWait};
    /// use retry_runtime::{Backoff, Policy};
    ///
    /// let s = Duration::from_secs;
    /// let policy = Policy::new()
    ///     .with_max_attempts(100)
    ///     .with_backoff(Backoff::exponential(s(1), s(4)))
    ///     .with_max_elapsed(s(10));
    /// let _paused = testing::pause();
    /// let closure = policy.retry(|| async { Err::<(), _>("down") })
    ///     .sleep_with(|_| ready(())).detailed().await.unwrap_err();
    /// assert_eq!(closure.attempts, 100); // the clock stood still
    /// let virtual_waits = policy.retry(|| async { Err::<(), _>("down") })
    ///     .sleep_with(NoWait).detailed().await.unwrap_err();
    /// assert_eq!(virtual_waits.attempts, 4); // waits 1s, 2s, 4s; a fourth would end past 10s
    /// # }
    /// ```
    ///
    ///
    /// A sleeper that wraps one of this library's (an SDK's choice between
    /// `FuturesTimerSleeper` and a timer its users give) forwards this
    /// and [`sleep_virtual`](Self::sleep_virtual) to the one it holds, so
    /// that its users' tests under `testing::pause()` do not sleep:
    ///
    /// ```
    /// # #[cfg(feature = "smol")] {
    /// use std::time::Duration;
    /// use retry_runtime::sleep::{SleepFn, Sleeper, SmolSleeper};
    /// use retry_runtime::{testing, Policy};
    ///
    /// type UserSleep = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
    /// enum SdkSleeper {
    ///     Timer(SmolSleeper),
    ///     User(SleepFn<fn(Duration) -> UserSleep>),
    /// }
    /// impl Sleeper for SdkSleeper {
    ///     type Sleep = UserSleep;
    ///     fn sleep(&self, wait: Duration) -> UserSleep {
    ///         match self {
    ///             SdkSleeper::Timer(t) => Box::pin(t.sleep(wait)),
    ///             SdkSleeper::User(u) => u.sleep(wait),
    ///         }
    ///     }
    ///     fn virtual_when_paused(&self) -> bool {
    ///         matches!(self, SdkSleeper::Timer(t) if t.virtual_when_paused())
    ///     }
    ///     fn sleep_virtual(&self) -> UserSleep {
    ///         match self {
    ///             SdkSleeper::Timer(t) => Box::pin(t.sleep_virtual()),
    ///             SdkSleeper::User(u) => u.sleep(Duration::ZERO),
    ///         }
    ///     }
    /// }
    ///
    /// let paused = testing::pause();
    /// let policy = Policy::new().with_max_attempts(3); // waits 1s, 2s
    /// let r = async_io::block_on(async {
    ///     policy
    ///         .retry(|| async { Err::<(), _>("down") })
    ///         .sleep_with(SdkSleeper::Timer(SmolSleeper))
    ///         .detailed()
    ///         .await
    /// });
    /// let s = Duration::from_secs;
    /// assert!(r.unwrap_err().elapsed >= s(3)); // on the virtual clock, not slept
    /// assert_eq!(paused.waits(), [s(1), s(2)]);
    /// # }
    /// ```
    #[inline(always)]
    fn virtual_when_paused(&self) -> bool {
        false
    }

    /// The "timer" of a virtual wait, made only when
    /// [`virtual_when_paused`](Self::virtual_when_paused) is true, right
    /// after the run recorded the wait (and moved the thread's clock by
    /// it). This crate's smol and futures-timer timers take that wait
    /// over: they yield once (wake the task and return `Pending`), so that
    /// the executor runs its other ready tasks, then end when theirs is
    /// the earliest deadline among the virtual waits on the thread, moving
    /// its clock to it. So runs going at once on one thread wait side by
    /// side, as on tokio's paused clock (a task dropped in its wait leaves
    /// the line). An override that forwards to one of them (the example
    /// above) keeps that. One of its own must complete without real time
    /// passing, and should yield as well; its waits keep the whole advance
    /// the run made, so runs at once on the thread on it see each other's
    /// waits (their clocks add up). By default `self.sleep(Duration::ZERO)`;
    /// override it when your timer's zero wait is not free (tokio's rounds
    /// it up to its next millisecond tick, on real time):
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() { // (real time)
    /// use std::future::Future;
    /// use std::pin::Pin;
    /// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    /// use std::time::Duration;
    /// use retry_runtime::{sleep::Sleeper, testing, Policy};
    ///
    /// type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;
    /// static TIMERS_SET: AtomicUsize = AtomicUsize::new(0);
    /// /// An SDK's timer, whose users' tests under `testing::pause()` do not sleep.
    /// struct SdkTimer;
    /// impl Sleeper for SdkTimer {
    ///     type Sleep = Sleep;
    ///     fn sleep(&self, wait: Duration) -> Sleep {
    ///         TIMERS_SET.fetch_add(1, Relaxed);
    ///         Box::pin(tokio::time::sleep(wait))
    ///     }
    ///     fn virtual_when_paused(&self) -> bool { true }
    ///     fn sleep_virtual(&self) -> Sleep { Box::pin(tokio::task::yield_now()) } // no timer
    /// }
    ///
    /// let paused = testing::pause();
    /// let e = Policy::new() // 3 attempts, waits 1s, 2s
    ///     .retry(|| async { Err::<(), _>("down") })
    ///     .sleep_with(SdkTimer)
    ///     .detailed()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(TIMERS_SET.load(Relaxed), 0); // no real timer: not slept
    /// assert!(e.elapsed >= Duration::from_secs(3)); // the run's clock moved
    /// assert_eq!(paused.waits(), [Duration::from_secs(1), Duration::from_secs(2)]);
    /// # }
    /// ```
    #[inline]
    fn sleep_virtual(&self) -> Self::Sleep {
        self.sleep(Duration::ZERO)
    }
}

/// A timer, or the "timer" of a virtual wait ([`Sleeper::sleep_virtual`]):
/// a yield, then its turn among the paused thread's virtual waits (see
/// `virtual_timers`).
#[cfg(any(feature = "smol", feature = "futures-timer"))]
#[derive(Debug)]
enum TimerOrYield<T> {
    Timer(T),
    Yield(crate::virtual_timers::VirtualWait),
}

#[cfg(any(feature = "smol", feature = "futures-timer"))]
impl<T: Future + Unpin> TimerOrYield<T> {
    #[inline]
    fn poll_timer(&mut self, cx: &mut core::task::Context<'_>) -> core::task::Poll<()> {
        match self {
            TimerOrYield::Timer(timer) => core::pin::Pin::new(timer).poll(cx).map(|_| ()),
            TimerOrYield::Yield(wait) => wait.poll(cx),
        }
    }
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
///     .with_max_attempts(3)
///     .retry(|| Err("down"))
///     .sleep_with(|wait: Duration| slept.borrow_mut().push(wait))
///     .call();
/// assert!(r.is_err());
/// assert_eq!(slept.borrow().len(), 2);
/// ```
///
/// Under [`testing::pause`] every wait is recorded
/// whichever sleeper is used; the [`DefaultSleeper`]'s wait is virtual
/// (the thread does not block, the run's clock advances), another sleeper
/// is still called, and the clock moves only as far as it blocks: one
/// that returns at once leaves `max_elapsed` nothing to count. A sleeper
/// of yours that calls [`sleep_sync`] is virtual there as the default one
/// is.
///
/// # Ctrl-C
///
/// A sync wait cannot be interrupted. Without a signal handler, Ctrl-C
/// ends the process, as Python's `KeyboardInterrupt` ends a tenacity
/// sleep. With one installed (the `ctrlc` or `signal-hook` crate), Ctrl-C
/// does not interrupt the wait: [`std::thread::sleep`] sleeps on after the
/// signal. `sleep_blocking` returns nothing, so a sleeper that returns
/// early only starts the next attempt sooner: the run goes on, and the
/// WARN line before the wait still shows the planned one (`next attempt
/// in 30s`); while the sleeper keeps returning at once, the attempts left
/// run back to back.
///
/// To stop on Ctrl-C, use the functional form with a sleeper that waits on
/// your signal (a `Condvar`, or a channel's `recv_timeout`) and
/// [`.stop_when(..)`](crate::Retry::stop_when) asking the same flag: the
/// wait ends when the flag is set, and the run ends with
/// [`StopReason::Stopped`](crate::StopReason::Stopped) and the last
/// attempt's error (a flag set during an attempt ends the run at its
/// failure). (`#[retry]` on a sync function takes both as keys:
/// `#[retry(stop_when = flag(), sleeper = |wait| wake_on_flag(wait))]`;
/// without a sleeper it sleeps with [`std::thread::sleep`], and
/// `stop_when` ends the run after the wait the flag came up in.) In a test
/// under [`testing::pause`] such a sleeper hands its wait to
/// [`sleep_sync`] to make it virtual (the first line of the sleeper below;
/// see [`testing::is_paused`]).
///
/// ```
/// # #[cfg(feature = "macros")] {
/// use std::sync::{Condvar, Mutex};
/// use std::time::Duration;
/// use retry_runtime::{presets, Classify, StopReason};
///
/// #[derive(Debug, thiserror::Error, Classify)]
/// #[error("database is locked")]
/// #[classify(Interrupted)]
/// struct Busy;
///
/// static STOP: Mutex<bool> = Mutex::new(false);
/// static WAKE: Condvar = Condvar::new();
/// // what the handler does: `ctrlc::set_handler(ctrl_c)`
/// fn ctrl_c() {
///     *STOP.lock().unwrap() = true;
///     WAKE.notify_all();
/// }
///
/// std::thread::spawn(|| {
///     std::thread::sleep(Duration::from_millis(50));
///     ctrl_c(); // (here: Ctrl-C during the first wait, of 1s)
/// });
/// let e = presets::DB // waits 1s, 2s, 4s
///     .retry(|| Err::<(), _>(Busy))
///     .sleep_with(|wait: Duration| {
///         if retry_runtime::testing::is_paused() {
///             return retry_runtime::sleep::sleep_sync(wait); // virtual in tests
///         }
///         let stop = STOP.lock().unwrap();
///         let _ = WAKE.wait_timeout_while(stop, wait, |stop| !*stop).unwrap();
///     })
///     .stop_when(|| *STOP.lock().unwrap())
///     .detailed()
///     .call()
///     .unwrap_err();
/// assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
/// assert_eq!(e.last_error.to_string(), "database is locked");
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot sleep between sync attempts",
    label = "no blocking sleep for `.call()`",
    note = "`.call()` sleeps with a `Fn(Duration)` that blocks, e.g. `.sleep_with(|wait| std::thread::sleep(wait))`; a `SleepFn` or a runtime's timer is an async sleeper, for `.await`"
)]
pub trait BlockingSleeper {
    /// Block for `wait`: `.call()` calls it for each wait between attempts
    /// (not for a zero one).
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::time::Duration;
    /// use retry_runtime::{sleep::sleep_sync, BlockingSleeper, Policy};
    ///
    /// /// Sleeps as the default sleeper does, and counts the waits (for a progress line).
    /// struct Counted<'a>(&'a Cell<u32>);
    /// impl BlockingSleeper for Counted<'_> {
    ///     fn sleep_blocking(&self, wait: Duration) {
    ///         self.0.set(self.0.get() + 1);
    ///         sleep_sync(wait); // virtual under `testing::pause`
    ///     }
    /// }
    ///
    /// let _paused = retry_runtime::testing::pause();
    /// let waits = Cell::new(0);
    /// let r = Policy::new().with_max_attempts(3).retry(|| Err::<(), _>("down")).sleep_with(Counted(&waits)).call();
    /// assert_eq!((r, waits.get()), (Err("down"), 2));
    /// ```
    fn sleep_blocking(&self, wait: Duration);

    /// Does `sleep_blocking` record its waits for `testing::pause` itself?
    /// Only [`sleep_sync`]'s sleeper does: the executors record the others'.
    #[doc(hidden)]
    const RECORDS_ITS_WAITS: bool = false;
}

/// A sync run's wait: recorded under [`testing::pause`]
/// (the async executors record every sleeper's wait as well), then slept.
/// A sleeper of the user's is not called for a zero wait (as an async
/// sleeper is not), and one that calls [`sleep_sync`] does not record the
/// wait a second time.
#[inline(always)]
pub(crate) fn block_on_wait<S: BlockingSleeper + ?Sized>(sleeper: &S, wait: Duration) {
    if S::RECORDS_ITS_WAITS {
        sleeper.sleep_blocking(wait);
    } else {
        virtual_time::recorded_while(wait, || {
            if !is_zero(wait) {
                sleeper.sleep_blocking(wait);
            }
        });
    }
}

/// The sleeper a retry uses unless told otherwise: [`sleep_sync`] for sync
/// runs; for async runs the timer of the first enabled runtime feature
/// (`tokio`, then `smol`, then `futures-timer`; see the [module](self) docs).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{testing, BlockingSleeper, DefaultSleeper};
/// let paused = testing::pause();
/// DefaultSleeper.sleep_blocking(Duration::from_secs(60)); // virtual under pause: returns at once
/// assert_eq!(paused.waits(), [Duration::from_secs(60)]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultSleeper;

impl BlockingSleeper for DefaultSleeper {
    #[inline]
    fn sleep_blocking(&self, wait: Duration) {
        sleep_sync(wait);
    }

    const RECORDS_ITS_WAITS: bool = true;
}

/// The [`DefaultSleeper`]'s async timer is that of `$sleeper` (one timer
/// feature, or `smol` and `futures-timer` without `tokio`).
#[cfg(any(
    all(
        feature = "tokio",
        not(feature = "smol"),
        not(feature = "futures-timer")
    ),
    all(
        not(feature = "tokio"),
        any(feature = "smol", feature = "futures-timer")
    )
))]
macro_rules! default_sleeper_is {
    ($sleeper:ident) => {
        impl Sleeper for DefaultSleeper {
            type Sleep = <$sleeper as Sleeper>::Sleep;
            #[inline]
            fn sleep(&self, wait: Duration) -> Self::Sleep {
                $sleeper.sleep(wait)
            }
            #[inline(always)]
            fn virtual_when_paused(&self) -> bool {
                $sleeper.virtual_when_paused()
            }
            #[inline]
            fn sleep_virtual(&self) -> Self::Sleep {
                $sleeper.sleep_virtual()
            }
        }
    };
}

#[cfg(all(
    feature = "tokio",
    not(feature = "smol"),
    not(feature = "futures-timer")
))]
default_sleeper_is!(TokioSleeper);
#[cfg(all(not(feature = "tokio"), feature = "smol"))]
default_sleeper_is!(SmolSleeper);
#[cfg(all(
    not(feature = "tokio"),
    not(feature = "smol"),
    feature = "futures-timer"
))]
default_sleeper_is!(FuturesTimerSleeper);

/// With `tokio` and another timer feature both enabled (one dependency asks
/// for tokio, the program runs on smol): tokio's timer inside a tokio
/// runtime, the other one (smol's, else futures-timer's) outside, where
/// tokio's would panic.
#[cfg(all(feature = "tokio", any(feature = "smol", feature = "futures-timer")))]
mod either_runtime {
    use super::*;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    /// The other runtime's timer.
    #[cfg(feature = "smol")]
    type Other = SmolSleeper;
    #[cfg(not(feature = "smol"))]
    type Other = FuturesTimerSleeper;

    pin_project_lite::pin_project! {
        /// The [`DefaultSleeper`]'s timer when `tokio` and `smol` or
        /// `futures-timer` are both enabled: tokio's inside a tokio runtime,
        /// the other's outside (chosen where the sleep is made: the
        /// executors make theirs in the poll).
        ///
        /// ```
        /// # #[cfg(all(feature = "tokio", any(feature = "smol", feature = "futures-timer")))] {
        /// use std::time::{Duration, Instant};
        /// use retry_runtime::{sleep::EitherSleep, DefaultSleeper, Sleeper};
        /// let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        /// // made inside a tokio runtime: tokio's timer, which follows its paused clock
        /// let start = Instant::now();
        /// rt.block_on(async { DefaultSleeper.sleep(Duration::from_secs(3600)).await });
        /// assert!(start.elapsed() < Duration::from_secs(60));
        /// // made outside one: the other timer (tokio's would panic there)
        /// let start = Instant::now();
        /// let sleep: EitherSleep = DefaultSleeper.sleep(Duration::from_millis(5));
        /// rt.block_on(sleep);
        /// assert!(start.elapsed() >= Duration::from_millis(5));
        /// # }
        /// ```
        #[derive(Debug)]
        pub struct EitherSleep {
            #[pin]
            timer: Timer,
        }
    }

    pin_project_lite::pin_project! {
        #[project = TimerProj]
        #[derive(Debug)]
        enum Timer {
            Tokio { #[pin] sleep: tokio::time::Sleep },
            Other { #[pin] sleep: <Other as Sleeper>::Sleep },
        }
    }

    impl Future for EitherSleep {
        type Output = ();
        #[inline]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            match self.project().timer.project() {
                TimerProj::Tokio { sleep } => sleep.poll(cx),
                TimerProj::Other { sleep } => sleep.poll(cx),
            }
        }
    }

    impl Sleeper for DefaultSleeper {
        type Sleep = EitherSleep;
        #[inline]
        fn sleep(&self, wait: Duration) -> EitherSleep {
            let timer = if tokio::runtime::Handle::try_current().is_ok() {
                Timer::Tokio {
                    sleep: TokioSleeper.sleep(wait),
                }
            } else {
                Timer::Other {
                    sleep: Other::default().sleep(wait),
                }
            };
            EitherSleep { timer }
        }
        /// Outside a tokio runtime: the other timer's waits are virtual.
        #[inline]
        fn virtual_when_paused(&self) -> bool {
            tokio::runtime::Handle::try_current().is_err()
        }
        fn sleep_virtual(&self) -> EitherSleep {
            EitherSleep {
                timer: Timer::Other {
                    sleep: Other::default().sleep_virtual(),
                },
            }
        }
    }
}
#[cfg(all(feature = "tokio", any(feature = "smol", feature = "futures-timer")))]
pub use either_runtime::EitherSleep;

/// tokio's timer (feature `tokio`): `tokio::time::sleep`. Needs a tokio
/// runtime with the time driver; follows `tokio::time::pause()`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// # #[cfg(feature = "tokio")] {
/// use std::time::Duration;
/// use retry_runtime::{Sleeper, TokioSleeper};
/// let start = tokio::time::Instant::now();
/// TokioSleeper.sleep(Duration::from_secs(60)).await; // the paused clock: instant
/// assert!(start.elapsed() >= Duration::from_secs(60));
/// # }}
/// ```
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

#[cfg(feature = "tokio")]
impl Sleeper for TokioSleeper {
    type Sleep = tokio::time::Sleep;
    #[inline]
    fn sleep(&self, wait: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(wait)
    }
}

/// async-io's timer (feature `smol`), which smol and async-std use: works
/// on any executor (async-io drives it from its own thread when no
/// executor of its own is running).
///
/// ```
/// # #[cfg(feature = "smol")] {
/// use std::time::Duration;
/// use retry_runtime::{Backoff, Policy, SmolSleeper};
/// let policy = Policy::new().with_max_attempts(2).with_backoff(Backoff::fixed(Duration::from_millis(1)));
/// let mut calls = 0;
/// let r = async_io::block_on(async { // no tokio runtime
///     policy
///         .retry(|| { calls += 1; let n = calls; async move { if n < 2 { Err("busy") } else { Ok(n) } } })
///         .sleep_with(SmolSleeper)
///         .await
/// });
/// assert_eq!(r, Ok(2));
/// # }
/// ```
#[cfg(feature = "smol")]
#[derive(Clone, Copy, Debug, Default)]
pub struct SmolSleeper;

#[cfg(feature = "smol")]
impl Sleeper for SmolSleeper {
    type Sleep = SmolSleep;
    #[inline]
    fn sleep(&self, wait: Duration) -> SmolSleep {
        SmolSleep(TimerOrYield::Timer(async_io::Timer::after(wait)))
    }
    #[inline(always)]
    fn virtual_when_paused(&self) -> bool {
        true
    }
    fn sleep_virtual(&self) -> SmolSleep {
        SmolSleep(TimerOrYield::Yield(
            crate::virtual_timers::VirtualWait::new(),
        ))
    }
}

/// The future of a [`SmolSleeper`]'s sleep: an `async_io::Timer` whose
/// output (the instant it fired) is dropped (or, for a virtual wait under
/// [`testing::pause`], the wait's turn on the thread's virtual clock: see
/// [`Sleeper::sleep_virtual`]).
///
/// ```
/// # #[cfg(feature = "smol")] {
/// use std::time::{Duration, Instant};
/// use retry_runtime::{sleep::{SmolSleep, SmolSleeper}, Sleeper};
/// let start = Instant::now();
/// let sleep: SmolSleep = SmolSleeper.sleep(Duration::from_millis(5));
/// let () = async_io::block_on(sleep);
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # }
/// ```
#[cfg(feature = "smol")]
#[derive(Debug)]
pub struct SmolSleep(TimerOrYield<async_io::Timer>);

#[cfg(feature = "smol")]
impl Future for SmolSleep {
    type Output = ();
    #[inline]
    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        self.0.poll_timer(cx)
    }
}

/// futures-timer's `Delay` (feature `futures-timer`): runtime-agnostic, one
/// timer thread for the process.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # #[cfg(feature = "futures-timer")] {
/// use std::time::{Duration, Instant};
/// use retry_runtime::{FuturesTimerSleeper, Sleeper};
/// let start = Instant::now();
/// FuturesTimerSleeper.sleep(Duration::from_millis(5)).await; // any executor: tokio's here
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # }}
/// ```
#[cfg(feature = "futures-timer")]
#[derive(Clone, Copy, Debug, Default)]
pub struct FuturesTimerSleeper;

#[cfg(feature = "futures-timer")]
impl Sleeper for FuturesTimerSleeper {
    type Sleep = FuturesTimerSleep;
    #[inline]
    fn sleep(&self, wait: Duration) -> FuturesTimerSleep {
        FuturesTimerSleep(TimerOrYield::Timer(futures_timer::Delay::new(wait)))
    }
    #[inline(always)]
    fn virtual_when_paused(&self) -> bool {
        true
    }
    fn sleep_virtual(&self) -> FuturesTimerSleep {
        FuturesTimerSleep(TimerOrYield::Yield(
            crate::virtual_timers::VirtualWait::new(),
        ))
    }
}

/// The future of a [`FuturesTimerSleeper`]'s sleep: a
/// `futures_timer::Delay` (or, for a virtual wait under
/// [`testing::pause`], the wait's turn on the thread's virtual clock: see
/// [`Sleeper::sleep_virtual`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # #[cfg(feature = "futures-timer")] {
/// use std::time::{Duration, Instant};
/// use retry_runtime::{sleep::FuturesTimerSleep, FuturesTimerSleeper, Sleeper};
/// let start = Instant::now();
/// let sleep: FuturesTimerSleep = FuturesTimerSleeper.sleep(Duration::from_millis(5));
/// sleep.await; // any executor: tokio's here
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # }}
/// ```
#[cfg(feature = "futures-timer")]
#[derive(Debug)]
pub struct FuturesTimerSleep(TimerOrYield<futures_timer::Delay>);

#[cfg(feature = "futures-timer")]
impl Future for FuturesTimerSleep {
    type Output = ();
    #[inline]
    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        self.0.poll_timer(cx)
    }
}

/// Any `Fn(Duration) -> impl Future<Output = ()>` as a [`Sleeper`] that is
/// [`Debug`](fmt::Debug) even when the function is a closure: another
/// runtime's timer, or your own. (The function itself is a `Sleeper` too;
/// a `fn` pointer, `fn(Duration) -> MySleep`, is a type to name and
/// `Debug` already.)
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::{sleep::SleepFn, Sleeper};
/// SleepFn(|wait: Duration| tokio::time::sleep(wait)).sleep(Duration::from_millis(5)).await;
/// # }
/// ```
///
/// It is [`Debug`](fmt::Debug) whatever the function (a closure is not).
#[derive(Clone, Copy, Default)]
pub struct SleepFn<F>(
    /// The function: given the wait, it returns the timer's future.
    pub F,
);

/// Shows its name only: the function need not be `Debug`.
///
/// ```
/// use retry_runtime::sleep::SleepFn;
/// use std::time::Duration;
/// let sleeper = SleepFn(|wait: Duration| async move { let _ = wait; });
/// assert_eq!(format!("{sleeper:?}"), "SleepFn(..)");
/// ```
impl<F> fmt::Debug for SleepFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SleepFn").finish_non_exhaustive()
    }
}

/// The function's own impl (below), shown as `SleepFn(..)`; a `Sleeper`
/// wrapped whole (`SleepFn(SmolSleeper)`) keeps its virtual waits under
/// [`testing::pause`], as [`Sleeper`]'s docs ask
/// of a wrapper.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::{sleep::SleepFn, Sleeper};
/// #[derive(Debug)]
/// struct Instant;
/// impl Sleeper for Instant {
///     type Sleep = std::future::Ready<()>;
///     fn sleep(&self, _: Duration) -> Self::Sleep { std::future::ready(()) }
///     fn virtual_when_paused(&self) -> bool { true }
/// }
/// assert!(SleepFn(Instant).virtual_when_paused());
/// SleepFn(Instant).sleep_virtual().await;
/// # }
/// ```
impl<F: Sleeper> Sleeper for SleepFn<F> {
    type Sleep = F::Sleep;
    #[inline]
    fn sleep(&self, wait: Duration) -> F::Sleep {
        self.0.sleep(wait)
    }
    #[inline]
    fn virtual_when_paused(&self) -> bool {
        self.0.virtual_when_paused()
    }
    #[inline]
    fn sleep_virtual(&self) -> F::Sleep {
        self.0.sleep_virtual()
    }
}

/// A function (or closure) that returns a timer's future: a runtime's own
/// `sleep`, as it is.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_runtime::Sleeper;
/// tokio::time::sleep.sleep(Duration::from_millis(5)).await;
/// (|wait| tokio::time::sleep(wait)).sleep(Duration::from_millis(5)).await;
/// # }
/// ```
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
    if virtual_time::on_sync_sleep(wait) || is_zero(wait) {
        return;
    }
    std::thread::sleep(wait);
}

/// Sleep on the [`DefaultSleeper`]'s timer for `wait`; a zero wait returns
/// without yielding. Under [`testing::pause`] the wait is recorded, and
/// off tokio's timer it is virtual: no real sleep, it ends in its turn on
/// the thread's virtual clock, beside the waits of the runs going at once
/// on the thread ([`Sleeper::sleep_virtual`]).
///
/// Not for a [`Sleeper`] of yours that an async run awaits
/// (`.sleep_with(|w| sleep_async(w))`): the run has recorded its wait
/// already, so under `testing::pause` each wait is recorded twice (the
/// sync side, [`sleep_sync`] inside a blocking sleeper, is recorded once).
/// Return the runtime's own timer there, or a `Sleeper` of this module.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// retry_runtime::sleep::sleep_async(std::time::Duration::ZERO).await;
/// # }
/// ```
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
pub async fn sleep_async(wait: Duration) {
    let how = wait_on(&DefaultSleeper, wait);
    if how != Wait::Skip {
        timer(&DefaultSleeper, wait, how).await;
    }
}

#[cfg_attr(
    any(feature = "tokio", feature = "smol", feature = "futures-timer"),
    doc = "The first half of [`sleep_async`], for a loop of yours that awaits the"
)]
#[cfg_attr(
    not(any(feature = "tokio", feature = "smol", feature = "futures-timer")),
    doc = "The first half of `sleep_async`, for a loop of yours that awaits the"
)]
/// [`DefaultSleeper`]'s timer itself: says whether there is anything to
/// sleep. A zero wait is not slept; under [`testing::pause`] the wait is
/// recorded, and is virtual (advances the run's clock, and is not slept:
/// `false`, so the loop goes on at once) unless the timer is tokio's,
/// which has a paused clock of its own. (This library's executors then
/// await the virtual timer, which ends in its turn among the thread's
/// waits: [`Sleeper::sleep_virtual`]; a loop of yours makes none, and
/// goes on with the clock moved by the whole wait.) In a build without a timer feature, the
/// timer is yours, and its waits are virtual under `testing::pause` as
/// smol's are. (Not for a blocking sleeper of yours: a sync run has
/// recorded its wait already; see [`testing::is_paused`].)
///
/// ```
/// use std::time::Duration;
/// assert!(!retry_runtime::sleep::should_sleep(Duration::ZERO));
/// assert!(retry_runtime::sleep::should_sleep(Duration::from_millis(1)));
/// # #[cfg(not(feature = "tokio"))] {
/// let paused = retry_runtime::testing::pause();
/// assert!(!retry_runtime::sleep::should_sleep(Duration::from_secs(5))); // virtual
/// assert_eq!(paused.waits(), [Duration::from_secs(5)]);
/// # }
/// ```
#[inline]
pub fn should_sleep(wait: Duration) -> bool {
    #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    {
        if virtual_time::paused_here() {
            return should_sleep_paused(wait);
        }
        !is_zero(wait)
    }
    // no timer of this library's: the caller's is awaited, and under
    // `testing::pause` the wait is virtual, as on smol's and futures-timer's
    #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
    {
        if virtual_time::paused_here() {
            return virtual_wait_paused(wait);
        }
        !is_zero(wait)
    }
}

/// [`should_sleep`] on a paused thread: the wait recorded, and no timer
/// of this library's made for a virtual one (the loop goes on at once,
/// the clock moved by the whole wait).
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
#[cold]
#[inline(never)]
fn should_sleep_paused(wait: Duration) -> bool {
    let how = wait_paused(&DefaultSleeper, wait);
    if how == Wait::Virtual {
        virtual_time::forget_last_wait();
    }
    how == Wait::Timer
}

/// [`should_sleep`] on a paused thread without a timer feature: the wait
/// recorded, and virtual (the thread's clock advanced; nothing to sleep).
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
#[cold]
#[inline(never)]
fn virtual_wait_paused(wait: Duration) -> bool {
    virtual_time::on_paused_async_wait(wait, true);
    virtual_time::forget_last_wait();
    false
}

/// What an executor does about a wait between attempts ([`wait_on`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Sleep it on the sleeper's timer.
    Timer,
    /// Nothing: a zero wait (no timer, no yield).
    Skip,
    /// A virtual wait under [`testing::pause`]: the run's clock has
    /// advanced; await [`Sleeper::sleep_virtual`] (this library's virtual
    /// timer, made next, takes the advance back and ends in its turn).
    Virtual,
}

/// What to do about a run's wait on `sleeper`: the executors ask it before
/// they make the timer ([`timer`]). Its waits are virtual under
/// [`testing::pause`] when [`Sleeper::virtual_when_paused`] says so.
#[inline(always)]
pub(crate) fn wait_on<S: Sleeper + ?Sized>(sleeper: &S, wait: Duration) -> Wait {
    if virtual_time::paused_here() {
        return wait_paused(sleeper, wait);
    }
    if is_zero(wait) {
        Wait::Skip
    } else {
        Wait::Timer
    }
}

/// [`wait_on`] on a paused thread (out of line: tests only).
#[cold]
#[inline(never)]
fn wait_paused<S: Sleeper + ?Sized>(sleeper: &S, wait: Duration) -> Wait {
    let virtual_wait = sleeper.virtual_when_paused();
    virtual_time::on_paused_async_wait(wait, virtual_wait);
    if is_zero(wait) {
        Wait::Skip
    } else if virtual_wait {
        Wait::Virtual
    } else {
        Wait::Timer
    }
}

/// [`wait_on`] for a wait that is never virtual, whatever the sleeper
/// (recorded under [`testing::pause`] all the same): a run with a hedge
/// delay's, whose attempts race it in real time, which a virtual clock
/// moved by each wait (overlapping ones added up) would not follow.
#[inline(always)]
pub(crate) fn wait_for_real(wait: Duration) -> Wait {
    if virtual_time::paused_here() {
        virtual_time::on_paused_async_wait(wait, false);
    }
    if is_zero(wait) {
        Wait::Skip
    } else {
        Wait::Timer
    }
}

/// The timer for a wait [`wait_on`] did not skip.
#[inline(always)]
pub(crate) fn timer<S: Sleeper + ?Sized>(sleeper: &S, wait: Duration, how: Wait) -> S::Sleep {
    if how == Wait::Virtual {
        return virtual_timer(sleeper);
    }
    sleeper.sleep(wait)
}

/// The timer of a virtual wait just recorded: the sleeper's
/// [`Sleeper::sleep_virtual`] (this library's timers take the wait into
/// their thread's line), and the wait forgotten if it did not.
#[cold]
#[inline(never)]
pub(crate) fn virtual_timer<S: Sleeper + ?Sized>(sleeper: &S) -> S::Sleep {
    let sleep = sleeper.sleep_virtual();
    // (a sleeper of the user's took no wait: none left to take)
    virtual_time::forget_last_wait();
    sleep
}

/// `Duration::is_zero` as one test of both halves (`is_zero` compiles to
/// two tests and a third to join them; this runs once per retry).
#[inline(always)]
fn is_zero(wait: Duration) -> bool {
    (wait.as_secs() | u64::from(wait.subsec_nanos())) == 0
}

#[cfg(all(test, feature = "tokio", feature = "smol"))]
mod tests {
    use super::*;

    /// A wait is zero only when both its seconds and its nanoseconds are:
    /// 1s and 1ns is slept (the halves are equal, not zero).
    #[test]
    fn a_wait_is_zero_only_when_both_halves_are() {
        assert!(is_zero(Duration::ZERO));
        for wait in [
            Duration::new(1, 1),
            Duration::new(1, 0),
            Duration::from_nanos(1),
        ] {
            assert!(!is_zero(wait), "{wait:?}");
        }
    }

    /// With `tokio` and `smol` both enabled, the default timer works
    /// outside a tokio runtime (tokio's own panics there: "there is no
    /// reactor running") and inside one it is tokio's, which follows
    /// tokio's paused clock.
    #[test]
    fn the_default_timer_is_tokios_in_tokio_and_smols_elsewhere() {
        let start = std::time::Instant::now();
        async_io::block_on(DefaultSleeper.sleep(Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let start = std::time::Instant::now();
        // (made inside the runtime: the timer is chosen where the sleep is
        // made, as the executors make theirs, in the poll)
        rt.block_on(async { DefaultSleeper.sleep(Duration::from_secs(3600)).await });
        // an hour on tokio's paused clock: instant
        assert!(start.elapsed() < Duration::from_secs(60));
    }
}
