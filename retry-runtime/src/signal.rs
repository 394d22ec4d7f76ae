//! A call's stop signal ([`Retry::stop_on`](crate::Retry::stop_on), `#[retry(stop_on = ..)]`): a
//! future (a shutdown's `token.cancelled()`) that, once it completes, lets
//! the run make no retry and sleep out no wait, ending with its last
//! attempt's error.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::Context;
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
use core::task::Poll;

/// A [`Retry`](crate::Retry) without a stop signal (the default): nothing
/// is kept, nothing is asked.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStop;

pin_project_lite::pin_project! {
    /// A [`Retry`](crate::Retry)'s stop signal
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

/// A [`Retry`](crate::Retry) without a stop signal, what `.call()` and
/// `.hedged()` ask: a sync wait cannot be raced against a signal, and a
/// hedged call takes none. Only [`NoStop`] is one, so `.stop_on(..)`
/// before either is a compile error that says so.
///
/// ```compile_fail,E0277
/// use retry_runtime::Policy;
/// let r: Result<(), &str> = Policy::new()
///     .retry(|| Err("down"))
///     .stop_on(std::future::pending::<()>())
///     .call(); // error[E0277]: `.call()` and `.hedged()` take no stop signal
/// ```
#[diagnostic::on_unimplemented(
    message = "`.call()` and `.hedged()` take no stop signal",
    label = "this retry has a `.stop_on(..)`",
    note = "a stop signal is for a call that is awaited (`.await`): a sync wait cannot be raced (a `BlockingSleeper` that returns early is the way there: its rustdoc's \"Ctrl-C\"), and a hedged call takes none"
)]
pub trait WithoutStop {}

impl WithoutStop for NoStop {}

/// What a run asks of its stop signal ([`NoStop`], [`StopOn`]), for a call
/// whose error type is `E`.
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

#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
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

#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
impl<'s, W, X> StopWait<'s, W, X> {
    #[inline(always)]
    pub(crate) fn new(wait: crate::run::token_wait::TokenWait<W>, stop: Pin<&'s mut X>) -> Self {
        StopWait { wait, stop }
    }
}

#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
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
