//! [`TokenWait`]: the wait before a retry, holding the token the policy's
//! retry budget granted for it, which goes back if the run is dropped in
//! the wait (the call cancelled: a client gone, a timeout around it). The
//! async executors whose future can hold it at no cost to a size target
//! wrap their wait in it: `#[retry]` for a policy that can have a budget
//! (one given with `policy = ..` or guard keys), the tower layer, the
//! reqwest middleware. (Compiled with a timer or one of those features.)

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::budget::RetryBudget;

pin_project_lite::pin_project! {
    /// The wait before a retry, holding the token the policy's retry
    /// budget granted for it: dropped before the wait ends (the run's
    /// future cancelled, a client gone), it gives the token back, so the
    /// retry counts as not made, in the budget's tokens and its `retries`.
    /// Once the wait ends the retry is made, and the token spent. The
    /// async executors wrap their wait in it; a policy without a budget
    /// holds `None`, and the drop tests that word only. Not public API.
    #[doc(hidden)]
    #[derive(Debug)]
    #[must_use = "a wait does nothing unless awaited"]
    pub struct TokenWait<F> {
        #[pin]
        wait: F,
        token: Option<&'static RetryBudget>,
    }

    impl<F> PinnedDrop for TokenWait<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(budget) = *this.project().token {
                token_back(budget);
            }
        }
    }
}

impl<F> TokenWait<F> {
    /// `wait`, for a retry that `token`'s budget (the policy's, if any)
    /// granted.
    #[inline(always)]
    pub(crate) fn new(wait: F, token: Option<&'static RetryBudget>) -> Self {
        TokenWait { wait, token }
    }
}

impl<F> TokenWait<F> {
    /// The retry is not made, and its token is given back by whoever
    /// ends the run (a stop signal's end: `stopped_in_wait`), not by this
    /// wait's drop. (Called by the `stop_on` loop.)
    #[inline]
    pub(crate) fn disarm(self: Pin<&mut Self>) {
        *self.project().token = None;
    }
}

impl<F: Future<Output = ()>> Future for TokenWait<F> {
    type Output = ();

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let done = this.wait.poll(cx);
        if done.is_ready() {
            // the retry is made: its token is spent
            *this.token = None;
        }
        done
    }
}

/// The retry budget's token of a retry not made goes back.
#[cold]
#[inline(never)]
fn token_back(budget: &'static RetryBudget) {
    budget.refund();
}
