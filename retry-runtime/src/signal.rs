//! A call's stop signal ([`Retry::stop_on`](crate::Retry::stop_on), `#[retry(stop_on = ..)]`): a
//! future (a shutdown's `token.cancelled()`) that, once it completes, lets
//! the run make no retry and sleep out no wait, ending with its last
//! attempt's error.

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::Retry;
use crate::attempt::Op;

impl<'p, W, G, F, S, N, D, K> Retry<'p, W, G, F, S, N, D, NoStop, K> {
    /// Stop retrying once `signal` completes (a shutdown: any future, its
    /// output dropped: tokio-util's `token.cancelled_owned()`, a oneshot
    /// receiver, `tokio::signal::ctrl_c()`): an async call makes no retry after it fires and sleeps out no wait,
    /// and ends with its last attempt's error. Fired during an attempt,
    /// the attempt runs to its end (race the body against the signal
    /// yourself if it must not) and a failure the policy would retry ends
    /// the call; fired during a wait, the wait ends at once, and the retry's
    /// budget token goes back. Either way the reason is
    /// [`StopReason::Stopped`](crate::StopReason::Stopped), with its line
    /// (WARN: a shutdown is no failure of the dependency), its metric
    /// (`outcome="stopped"`) and the policy's `on_give_up`, and the
    /// detailed form tells the attempts made: what a job queue needs to put
    /// the job back. A success, or an error the policy would not retry, is
    /// returned as without the signal; a call made after it fired makes
    /// its first attempt. Dropping the call stops it at once too, but
    /// tells nothing and returns nothing; this ends it as a run ends.
    ///
    /// A first attempt that waits for the policy's
    /// [cooldown](crate::cooldown::Cooldown) (a shared 429's hold, its
    /// pace's slot, a hold made longer meanwhile) waits until the signal
    /// fires, not longer, and not at all once it has: the attempt is then
    /// made at once, the call's only one (there is no error to return
    /// without it; a failure the policy would retry ends the call,
    /// `Stopped`, any other as it would without the signal), and keeps the
    /// pace's slot it took (it counts against the pace, early). A worker
    /// shutting down does not sit out a 60 s hold, longer than its grace
    /// period, before it.
    ///
    /// The signal is polled once before the first attempt
    /// (`tokio::signal::ctrl_c()` listens from its first poll on), then
    /// through a first attempt's wait for a cooldown, after each failed
    /// attempt and through each wait.
    ///
    /// For `.await` only (a sync wait cannot be raced: `.call()` takes
    /// [`stop_when`](Retry::stop_when), a flag), not under `.hedged()`:
    /// either after `.stop_on(..)` is a compile error that says so
    /// ([`StopCheck`], [`WithoutStop`]). The signal
    /// is kept in the call's future and polled by its task, and so is the
    /// last error while the run waits (the future is `Send` only if the
    /// error is).
    ///
    /// ```
    /// # #[cfg(feature = "tokio")] // (tokio's paused clock times the waits)
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Policy, StopReason};
    ///
    /// let policy = Policy::new()
    ///     .with_max_attempts(5)
    ///     .with_backoff(Backoff::fixed(Duration::from_secs(10)));
    /// let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
    /// tokio::spawn(async move {
    ///     tokio::time::sleep(Duration::from_secs(15)).await; // mid-way through the second wait
    ///     let _ = shutdown.send(());
    /// });
    /// let started = tokio::time::Instant::now();
    /// let e = policy
    ///     .retry(|| async { Err::<(), _>("upstream down") })
    ///     .stop_on(signal)
    ///     .detailed()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(started.elapsed(), Duration::from_secs(15)); // not 40
    /// assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
    /// assert_eq!(e.last_error, "upstream down");
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    #[inline]
    #[allow(clippy::type_complexity)] // (the retry's own parameters, one of them the signal's)
    pub fn stop_on<Sig, E>(
        self,
        signal: Sig,
    ) -> Retry<'p, W, G, F, S, N, D, StopOn<Sig::IntoFuture, E>, K>
    where
        Sig: IntoFuture,
    {
        self.with_stop(StopOn::new(signal.into_future()))
    }
}

impl<'p, W, G, F, S, N, D, K> Retry<'p, W, G, F, S, N, D, NoStop, K> {
    /// Stop retrying once `stopped()` says so (a shutdown flag, set by a
    /// Ctrl-C handler): the sync counterpart of [`stop_on`](Retry::stop_on),
    /// for `.call()`, whose wait cannot be raced. It is asked after each
    /// failed attempt (a failure the policy would retry then ends the call)
    /// and after each wait (the retry is then not made, and its budget
    /// token goes back); a sleeper that wakes on the same flag
    /// ([`BlockingSleeper`](crate::BlockingSleeper)'s "Ctrl-C") ends the wait early. The call ends
    /// as a run ends, with its last attempt's error and
    /// [`StopReason::Stopped`](crate::StopReason::Stopped): its WARN line,
    /// `outcome="stopped"`, `on_give_up`, and the attempts in
    /// `.detailed()`. Not asked before the first attempt, nor on a
    /// success. For `.call()` only (`.await` takes
    /// [`stop_on`](Retry::stop_on), a future, and `.hedged()` neither:
    /// either after `.stop_when(..)` is a compile error that says so).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Policy, StopReason};
    ///
    /// static STOP: AtomicBool = AtomicBool::new(false);
    /// let _paused = retry_runtime::testing::pause();
    /// let mut calls = 0;
    /// let e = Policy::new()
    ///     .with_max_attempts(5)
    ///     .with_backoff(Backoff::fixed(Duration::from_secs(30)))
    ///     .retry(|| {
    ///         calls += 1;
    ///         if calls == 2 {
    ///             STOP.store(true, Relaxed); // (here: Ctrl-C during the second attempt)
    ///         }
    ///         Err::<(), _>("database is locked")
    ///     })
    ///     .stop_when(|| STOP.load(Relaxed))
    ///     .detailed()
    ///     .call()
    ///     .unwrap_err();
    /// assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
    /// assert_eq!(e.last_error, "database is locked");
    /// ```
    #[inline]
    pub fn stop_when<P>(self, stopped: P) -> Retry<'p, W, G, F, S, N, D, StopWhen<P>, K>
    where
        F: Op,
        F::Output: SyncAttempt,
        P: FnMut() -> bool,
    {
        self.with_stop(StopWhen(stopped))
    }
}

/// A [`Retry`] without a stop signal (the default): nothing
/// is kept, nothing is asked. `.stop_on(..)` and `.stop_when(..)` take a
/// retry that has none (it has one stop at most), so a function of yours
/// that gives every retry of a worker its shutdown flag names it:
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
/// use retry_runtime::signal::{NoStop, StopWhen, SyncAttempt};
/// use retry_runtime::{Op, Policy, Retry, StopReason};
///
/// static SHUTDOWN: AtomicBool = AtomicBool::new(false); // set by a Ctrl-C handler
///
/// fn until_shutdown<'p, W, G, F, S, N, D, K>(
///     retry: Retry<'p, W, G, F, S, N, D, NoStop, K>,
/// ) -> Retry<'p, W, G, F, S, N, D, StopWhen<fn() -> bool>, K>
/// where
///     F: Op,
///     F::Output: SyncAttempt,
/// {
///     retry.stop_when(|| SHUTDOWN.load(Relaxed))
/// }
///
/// let _paused = retry_runtime::testing::pause();
/// let policy = Policy::new().with_max_attempts(3);
/// let e = until_shutdown(policy.retry(|| Err::<(), _>("down"))).detailed().call().unwrap_err();
/// assert_eq!((e.attempts, e.reason), (3, StopReason::Attempts));
/// SHUTDOWN.store(true, Relaxed);
/// let e = until_shutdown(policy.retry(|| Err::<(), _>("down"))).detailed().call().unwrap_err();
/// assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStop;

pin_project_lite::pin_project! {
    /// A [`Retry`]'s stop signal
    /// ([`stop_on`](crate::Retry::stop_on)): the future, polled when an
    /// attempt fails and while the run waits, whether it has completed,
    /// and the error of the attempt the run waits to retry, returned if
    /// the signal fires in the wait.
    pub struct StopOn<F, E> {
        #[pin]
        signal: F,
        fired: bool,
        last: Option<E>,
    }
}

impl<F, E> StopOn<F, E> {
    pub(crate) fn new(signal: F) -> Self {
        StopOn {
            signal,
            fired: false,
            last: None,
        }
    }
}

/// Shows whether it fired and holds an error; not the signal, which need
/// not be `Debug`, nor the error.
impl<F, E> fmt::Debug for StopOn<F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopOn")
            .field("fired", &self.fired)
            .field("holds_error", &self.last.is_some())
            .finish_non_exhaustive()
    }
}

/// A [`Retry`] without a stop, what `.hedged()` asks: a
/// hedged call takes none. Only [`NoStop`] is one, so `.stop_on(..)` or
/// `.stop_when(..)` before it is a compile error that says so (and
/// `.stop_on(..)` before `.call()`: see [`StopCheck`]).
///
/// ```compile_fail,E0277
/// use retry_runtime::Policy;
/// let r: Result<(), &str> = Policy::new()
///     .retry(|| Err("down"))
///     .stop_on(std::future::pending::<()>())
///     .call(); // error[E0277]: `.call()` takes no stop signal that is a future
/// ```
#[diagnostic::on_unimplemented(
    message = "`.hedged()` takes no stop",
    label = "this retry has a `.stop_on(..)` or a `.stop_when(..)`",
    note = "a hedged call's attempts run side by side: drop the call to stop them"
)]
pub trait WithoutStop {}

impl WithoutStop for NoStop {}

/// A sync [`Retry`]'s stop check
/// ([`stop_when`](crate::Retry::stop_when)): a function asked after each
/// failed attempt and after each wait (a shutdown flag), for `.call()`.
///
/// Any `FnMut() -> bool`: here a job queue's lease on the job, which the
/// worker must not retry past (a check, not a `max_elapsed`: another
/// thread may renew the lease):
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::clock::{Clock, SystemClock};
/// use retry_runtime::{Backoff, Policy, StopReason};
///
/// let _paused = retry_runtime::testing::pause(); // the waits move this thread's clock
/// let s = Duration::from_secs;
/// let lease_ends = SystemClock.now() + s(45);
/// let e = Policy::new()
///     .with_max_attempts(5)
///     .with_backoff(Backoff::fixed(s(30)))
///     .retry(|| Err::<(), _>("upstream down"))
///     .stop_when(|| SystemClock.now() >= lease_ends)
///     .detailed()
///     .call()
///     .unwrap_err();
/// // asked after each failure and each wait: at 0s, 30s, 30s, then at 60s, past the lease
/// assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
/// assert_eq!(e.last_error, "upstream down");
/// ```
pub struct StopWhen<P>(pub(crate) P);

/// Shows nothing of the function.
impl<P> fmt::Debug for StopWhen<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopWhen").finish_non_exhaustive()
    }
}

/// What `.call()` asks of a [`Retry`]'s stop: [`NoStop`]
/// (nothing) or [`StopWhen`]'s function. A stop signal that is a future
/// ([`StopOn`]) is not one: a sync wait cannot be raced (`.stop_on(..)`
/// before `.call()` is a compile error that says so, as [`WithoutStop`]
/// shows).
///
/// ```
/// use retry_runtime::{Policy, StopReason};
/// let _paused = retry_runtime::testing::pause();
/// let policy = Policy::new().with_max_attempts(3);
/// // NoStop: every attempt the policy allows
/// let e = policy.retry(|| Err::<(), _>("down")).detailed().call().unwrap_err();
/// assert_eq!((e.attempts, e.reason), (3, StopReason::Attempts));
/// // StopWhen: its function, asked after the first failure, says stop
/// let e = policy.retry(|| Err::<(), _>("down")).stop_when(|| true).detailed().call().unwrap_err();
/// assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
/// ```
#[diagnostic::on_unimplemented(
    message = "`.call()` takes no stop signal that is a future",
    label = "this retry has a `.stop_on(..)`",
    note = "a sync wait cannot be raced against a future: `.stop_when(|| flag)` is asked after each failed attempt and after each wait (with a sleeper that wakes on the same flag, the wait ends early: `BlockingSleeper`'s rustdoc, \"Ctrl-C\")"
)]
pub trait StopCheck {
    /// Is there a check to make (`false` for [`NoStop`], whose questions
    /// fold away)?
    #[doc(hidden)]
    const ACTIVE: bool;

    /// Has the stop come?
    #[doc(hidden)]
    fn stopped(&mut self) -> bool;
}

impl StopCheck for NoStop {
    const ACTIVE: bool = false;

    #[inline(always)]
    fn stopped(&mut self) -> bool {
        false
    }
}

impl<P: FnMut() -> bool> StopCheck for StopWhen<P> {
    const ACTIVE: bool = true;

    #[inline]
    fn stopped(&mut self) -> bool {
        (self.0)()
    }
}

/// An operation `.stop_when(..)` takes: a sync one, whose attempt returns
/// a `Result` (for `.call()`); an awaited call takes `.stop_on(..)`.
/// An operation told its [`Attempt`](crate::Attempt)
/// ([`context`](crate::Retry::context)) is one too, when it returns a
/// `Result`:
///
/// ```
/// use std::cell::Cell;
/// use retry_runtime::{Attempt, Policy, StopReason};
/// let _paused = retry_runtime::testing::pause();
/// let shutdown = Cell::new(false);
/// let e = Policy::new()
///     .with_max_attempts(5)
///     .retry(|a: Attempt| {
///         shutdown.set(a.number == 2); // (Ctrl-C during the second attempt)
///         Err::<(), _>("database is locked")
///     })
///     .context()
///     .stop_when(|| shutdown.get())
///     .detailed()
///     .call()
///     .unwrap_err();
/// assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
/// ```
///
/// An async operation is not:
///
/// ```compile_fail,E0277
/// # async fn f() {
/// use retry_runtime::Policy;
/// let r = Policy::new()
///     .retry(|| async { Err::<(), _>("down") })
///     .stop_when(|| false) // error[E0277]: `.stop_when(..)` is for a sync call (`.call()`)
///     .await;
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`.stop_when(..)` is for a sync call (`.call()`): an awaited one takes `.stop_on(..)`",
    label = "this operation's attempt returns `{Self}`, not a `Result`",
    note = "a sync wait cannot be raced, so `.call()` asks a flag after each failed attempt and after each wait; an awaited call's wait ends at once on a future: `.stop_on(token.cancelled())`"
)]
pub trait SyncAttempt {}

impl<T, E> SyncAttempt for Result<T, E> {}

/// What a run asks of its stop signal ([`NoStop`], [`StopOn`]), for a call
/// whose error type is `E`: what `.await` asks of a [`Retry`]'s stop.
///
/// ```
/// # #[cfg(feature = "tokio")]
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use retry_runtime::{Policy, StopReason};
/// let policy = Policy::new().with_max_attempts(3);
/// // NoStop: every attempt the policy allows
/// let e = policy.retry(|| async { Err::<(), _>("down") }).detailed().await.unwrap_err();
/// assert_eq!((e.attempts, e.reason), (3, StopReason::Attempts));
/// // StopOn: a shutdown's receiver, whose sender is gone: fired, so no retry
/// let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
/// drop(shutdown);
/// let e = policy.retry(|| async { Err::<(), _>("down") }).stop_on(signal).detailed().await.unwrap_err();
/// assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
/// # }
/// # #[cfg(not(feature = "tokio"))] fn main() {}
/// ```
pub trait StopSignal<E> {
    /// Is there a signal to ask (`false` for [`NoStop`], whose questions
    /// fold away)?
    #[doc(hidden)]
    const ACTIVE: bool;

    /// Has the signal fired (polled now, waking this task when it does)?
    #[doc(hidden)]
    fn poll_fired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool;

    /// Keep the error of the attempt the run is about to wait to retry
    /// (dropped without a signal).
    #[doc(hidden)]
    fn keep(self: Pin<&mut Self>, error: E);

    /// The error kept, once the signal has fired (polled now).
    #[doc(hidden)]
    fn poll_stop(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Option<E>;

    /// The wait is over: drop the error kept for it, before the next
    /// attempt (an error holding a pooled connection or a permit must not
    /// outlive its wait).
    #[doc(hidden)]
    fn forget(self: Pin<&mut Self>);
}

impl<E> StopSignal<E> for NoStop {
    const ACTIVE: bool = false;

    #[inline(always)]
    fn poll_fired(self: Pin<&mut Self>, _: &mut Context<'_>) -> bool {
        false
    }

    #[inline(always)]
    fn keep(self: Pin<&mut Self>, error: E) {
        drop(error);
    }

    #[inline(always)]
    fn poll_stop(self: Pin<&mut Self>, _: &mut Context<'_>) -> Option<E> {
        None
    }

    #[inline(always)]
    fn forget(self: Pin<&mut Self>) {}
}

impl<F: Future, E> StopSignal<E> for StopOn<F, E> {
    const ACTIVE: bool = true;

    fn poll_fired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let this = self.project();
        // (what the signal returns is dropped: a shutdown's token, a
        // receiver whose sender is gone and `ctrl_c()`'s `Result` all fire)
        if !*this.fired && this.signal.poll(cx).is_ready() {
            *this.fired = true;
        }
        *this.fired
    }

    #[inline]
    fn keep(self: Pin<&mut Self>, error: E) {
        *self.project().last = Some(error);
    }

    fn poll_stop(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Option<E> {
        if self.as_mut().poll_fired(cx) {
            self.project().last.take()
        } else {
            None
        }
    }

    #[inline]
    fn forget(self: Pin<&mut Self>) {
        *self.project().last = None;
    }
}

pin_project_lite::pin_project! {
    /// A `#[retry(stop_on = ..)]` loop's wait, raced with its stop signal
    /// (`__private::stop_sleep`): `true` if the signal fired first (the
    /// wait's budget token is then given back by the run's end, once),
    /// `false` when the wait ends. Not public API.
    #[doc(hidden)]
    #[must_use = "a wait does nothing unless awaited"]
    pub struct StopWait<'s, W, X> {
        #[pin]
        wait: crate::run::token_wait::TokenWait<W>,
        stop: Pin<&'s mut X>,
    }
}

impl<'s, W, X> StopWait<'s, W, X> {
    #[inline(always)]
    pub(crate) fn new(wait: crate::run::token_wait::TokenWait<W>, stop: Pin<&'s mut X>) -> Self {
        StopWait { wait, stop }
    }
}

impl<W: Future<Output = ()>, X: StopSignal<()>> Future for StopWait<'_, W, X> {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = self.project();
        if this.stop.as_mut().poll_fired(cx) {
            this.wait.disarm();
            return Poll::Ready(true);
        }
        this.wait.poll(cx).map(|()| false)
    }
}
