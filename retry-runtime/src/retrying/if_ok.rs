//! [`Retry::retry_if_ok`]: an `Ok` that is really a failure (a job still
//! pending, an empty page, a lock not acquired) retried as one, the
//! functional form of `#[retry(retry_if_ok = ..)]`.

use core::marker::PhantomData;

use super::Retry;
use crate::signal::{NoStop, StopOn, StopWhen};

/// What a [`Retry`] asks of each attempt's `Ok` value: [`AnyOk`] (every
/// `Ok` is a success, the default) or [`RetryIfOk`] (made by
/// [`Retry::retry_if_ok`]).
pub trait OkCheck<T> {
    /// Is there a check to make (`false` for [`AnyOk`], whose questions
    /// fold away)?
    #[doc(hidden)]
    const ACTIVE: bool;

    /// Is `value` a failure to retry?
    #[doc(hidden)]
    fn rejects(&mut self, value: &T) -> bool;
}

/// Where a [`RetryFuture`](crate::RetryFuture) with the check `Self` and
/// the stop `X` keeps the rejected value it waits to retry: an `Option`
/// under a stop signal (the value is returned if the stop comes in the
/// wait), [`NothingKept`] otherwise. Not the check's own field: a future
/// without a stop then holds no value through its waits, and is `Send`
/// whether the value is or not, as without the check.
#[doc(hidden)]
pub trait KeepsOk<X> {
    /// The slot.
    type Kept: Default;
}

impl<X> KeepsOk<X> for AnyOk {
    type Kept = NothingKept;
}

impl<P, T> KeepsOk<NoStop> for RetryIfOk<P, T> {
    type Kept = NothingKept;
}

impl<P, T, F, E> KeepsOk<StopOn<F, E>> for RetryIfOk<P, T> {
    type Kept = Option<T>;
}

impl<P, T, Q> KeepsOk<StopWhen<Q>> for RetryIfOk<P, T> {
    type Kept = Option<T>;
}

/// A slot of [`KeepsOk`]: keeps a rejected value through a wait, or not.
#[doc(hidden)]
pub trait OkSlot<T> {
    /// Keep `value` (dropped by [`NothingKept`]).
    fn keep(&mut self, value: T);

    /// The value kept, if any (taken: the wait is over, or the stop came).
    fn take(&mut self) -> Option<T>;

    /// Is a value kept?
    fn holds(&self) -> bool;
}

impl<T> OkSlot<T> for Option<T> {
    #[inline]
    fn keep(&mut self, value: T) {
        *self = Some(value);
    }

    #[inline]
    fn take(&mut self) -> Option<T> {
        Option::take(self)
    }

    #[inline]
    fn holds(&self) -> bool {
        self.is_some()
    }
}

/// The slot of a future that keeps no value (no stop signal, or no check).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NothingKept;

impl<T> OkSlot<T> for NothingKept {
    #[inline(always)]
    fn keep(&mut self, value: T) {
        drop(value);
    }

    #[inline(always)]
    fn take(&mut self) -> Option<T> {
        None
    }

    #[inline(always)]
    fn holds(&self) -> bool {
        false
    }
}

/// A [`Retry`] without [`retry_if_ok`](Retry::retry_if_ok), what
/// `.hedged()` asks (a hedged call's attempts run side by side: the first
/// `Ok` wins). Only [`AnyOk`] is one, so `.retry_if_ok(..)` before
/// `.hedged()` is a compile error that says so.
///
/// ```compile_fail,E0277
/// # async fn f() {
/// use retry_runtime::Policy;
/// let policy = Policy::new().with_max_attempts(3);
/// let _ = policy
///     .retry(|| async { Ok::<bool, std::io::Error>(false) })
///     .retry_if_ok(|done: &bool| !done)
///     .hedged() // error[E0277]: `.hedged()` takes no `retry_if_ok`
///     .await;
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`.hedged()` takes no `retry_if_ok`",
    label = "this retry has a `.retry_if_ok(..)`",
    note = "a hedged call's attempts run side by side and its first `Ok` wins: poll without hedging"
)]
pub trait WithoutOkCheck {}

impl WithoutOkCheck for AnyOk {}

/// Every `Ok` is a success: the check of a [`Retry`] without
/// [`retry_if_ok`](Retry::retry_if_ok).
///
/// ```
/// use retry_runtime::{AnyOk, Policy, Retry};
/// let policy = Policy::new();
/// let retry: Retry<'_, _, _, _, _, _, _, _, AnyOk> = policy.retry(|| Ok::<_, &str>(1));
/// assert_eq!(retry.call(), Ok(1));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyOk;

impl<T> OkCheck<T> for AnyOk {
    const ACTIVE: bool = false;

    #[inline(always)]
    fn rejects(&mut self, _: &T) -> bool {
        false
    }
}

/// The check of [`Retry::retry_if_ok`]: an `FnMut(&T) -> bool`, `true`
/// for a value to retry. (It holds no value: under a stop signal, the
/// rejected value the call waits to retry, returned if the stop comes in
/// the wait, is the executor's.)
///
/// ```
/// use retry_runtime::{Policy, Retry, RetryIfOk};
/// let _paused = retry_runtime::testing::pause();
/// let policy = Policy::new().with_max_attempts(3);
/// let mut n = 0;
/// let retry: Retry<'_, _, _, _, _, _, _, _, RetryIfOk<_, u32>> = policy
///     .retry(|| { n += 1; Ok::<_, &str>(n) })
///     .retry_if_ok(|n: &u32| *n < 2);
/// assert_eq!(retry.call(), Ok(2));
/// ```
pub struct RetryIfOk<P, T> {
    rejects: P,
    value: PhantomData<fn(&T) -> bool>,
}

/// Shows no more than its name: the predicate, a closure as a rule, is
/// not `Debug`.
impl<P, T> core::fmt::Debug for RetryIfOk<P, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RetryIfOk(..)")
    }
}

impl<T, P: FnMut(&T) -> bool> OkCheck<T> for RetryIfOk<P, T> {
    const ACTIVE: bool = true;

    #[inline]
    fn rejects(&mut self, value: &T) -> bool {
        (self.rejects)(value)
    }
}

impl<'p, W, G, F, S, N, D, X> Retry<'p, W, G, F, S, N, D, X, AnyOk> {
    /// Retry an `Ok` for which `rejects` says `true`, as a failure: a poll
    /// until a job is done, a lock acquired, a page not empty (tenacity's
    /// `retry_if_result`; `#[retry(retry_if_ok = ..)]`'s functional form).
    /// Such a value is retried whatever the policy's kinds, after the
    /// backoff's wait, within its attempts and `max_elapsed`; when the run
    /// stops retrying, the call returns that last `Ok`, and under
    /// [`detailed`](Retry::detailed) its
    /// [`Succeeded::gave_up`](crate::Succeeded::gave_up) says why: the
    /// attempts ran out, the deadline came, the call's stop signal fired
    /// ([`stop_on`](Retry::stop_on), [`stop_when`](Retry::stop_when): a
    /// shutdown that comes in a wait ends it at once, with the value it
    /// waited to retry). An `Err` is retried as the policy says, as
    /// without the check.
    ///
    /// Each rejected value writes the retry's line (`error` is `the result
    /// was rejected by retry_if_ok`, at the policy's
    /// [`with_rejected_ok_level`](crate::Policy::with_rejected_ok_level)),
    /// and the [`notify`](Retry::notify) hook hears of it
    /// ([`RetryEvent::rejected_ok`](crate::RetryEvent)); a circuit breaker
    /// takes it for neither a failure nor a success (the dependency
    /// answered); metrics count its retry.
    ///
    /// `rejects` is asked once per `Ok`, its argument's type written
    /// (`|job: &Job| ..`: `retry` comes first, and the value's type is not
    /// known to the closure yet). Under a stop signal the call keeps the
    /// rejected value through its wait (so the future is `Send` only if
    /// the value is). Not with [`hedged`](Retry::hedged), whose attempts
    /// run side by side (a compile error, [`WithoutOkCheck`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Policy};
    /// let paused = retry_runtime::testing::pause(); // the waits recorded, not slept
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum Export { Pending, Ready(&'static str) }
    ///
    /// let poll = Policy::new()
    ///     .with_name("export_status")
    ///     .with_max_attempts(10)
    ///     .with_backoff(Backoff::fixed(Duration::from_secs(2)));
    /// let mut asked = 0;
    /// let status = poll
    ///     .retry(|| {
    ///         asked += 1;
    ///         Ok::<_, std::io::Error>(if asked < 3 { Export::Pending } else { Export::Ready("s3://exports/7") })
    ///     })
    ///     .retry_if_ok(|s: &Export| *s == Export::Pending)
    ///     .call();
    /// assert_eq!(status.unwrap(), Export::Ready("s3://exports/7"));
    /// assert_eq!(paused.waits(), [Duration::from_secs(2); 2]);
    ///
    /// // the attempts run out: the last `Ok`, still pending
    /// let last = poll.with_max_attempts(2).retry(|| Ok::<_, std::io::Error>(Export::Pending))
    ///     .retry_if_ok(|s: &Export| *s == Export::Pending)
    ///     .call();
    /// assert_eq!(last.unwrap(), Export::Pending);
    /// ```
    ///
    /// Awaited, the same:
    ///
    /// ```
    /// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::Policy;
    /// let lock = Policy::new().with_max_attempts(5);
    /// let mut tries = 0;
    /// let acquired = lock
    ///     .retry(|| { tries += 1; let t = tries; async move { Ok::<bool, std::io::Error>(t == 3) } })
    ///     .retry_if_ok(|acquired: &bool| !acquired)
    ///     .detailed()
    ///     .await
    ///     .unwrap();
    /// assert_eq!((acquired.value, acquired.attempts), (true, 3));
    /// # }
    /// # #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))] fn main() {}
    /// ```
    #[inline]
    pub fn retry_if_ok<T, P>(self, rejects: P) -> Retry<'p, W, G, F, S, N, D, X, RetryIfOk<P, T>>
    where
        P: FnMut(&T) -> bool,
    {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: self.notify,
            detail: self.detail,
            stop: self.stop,
            check: RetryIfOk {
                rejects,
                value: PhantomData,
            },
        }
    }
}
