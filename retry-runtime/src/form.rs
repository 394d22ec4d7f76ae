//! The output forms of a [`Retry`](crate::Retry): [`Plain`] (the value, or the last
//! error) and [`Detailed`] ([`Succeeded`] or [`RetryError`]), and
//! [`Form`] and [`Finish`], the bounds of code that runs either.

use std::time::Duration;

use crate::error::{RetryError, Succeeded};
use crate::run::LazyRun;
use crate::stop::StopReason;

/// The output of a [`Retry`](crate::Retry): the value, or the last error unchanged.
///
/// ```
/// use retry_runtime::{Plain, Policy, Retry};
/// let policy = Policy::new();
/// // the form a retry starts in: `.call()` returns `Result<T, E>`
/// let retry: Retry<'_, _, _, _, _, _, Plain> = policy.retry(|| Ok::<_, &str>(7));
/// assert_eq!(retry.call(), Ok(7));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Plain;

/// The output of a [`Retry::detailed`](crate::Retry::detailed): [`Succeeded`] or [`RetryError`].
///
/// ```
/// use retry_runtime::{Detailed, Policy, Retry, Succeeded};
/// let policy = Policy::new();
/// let retry: Retry<'_, _, _, _, _, _, Detailed> = policy.retry(|| Ok::<_, &str>(7)).detailed();
/// let done: Succeeded<i32> = retry.call().unwrap();
/// assert_eq!((done.value, done.attempts), (7, 1));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Detailed;

/// An output form of a [`Retry`](crate::Retry): [`Plain`] or [`Detailed`]. Code that
/// runs a retry of either form is bounded by [`Finish`], which implies it.
///
/// ```
/// use retry_runtime::{Form, Policy, Retry};
/// // a helper of yours that takes a retry in either form, before it runs
/// fn form_of<W, G, F, S, N, D: Form>(_: &Retry<'_, W, G, F, S, N, D>) -> &'static str {
///     std::any::type_name::<D>()
/// }
/// let policy = Policy::new();
/// let retry = policy.retry(|| Ok::<_, &str>(1));
/// assert!(form_of(&retry).ends_with("Plain"));
/// assert!(form_of(&retry.detailed()).ends_with("Detailed"));
/// ```
///
/// Use it (and [`Finish`]) as a bound; both are sealed, implemented for
/// [`Plain`] and [`Detailed`] only (their hidden items are the executors'
/// and may change):
///
/// ```compile_fail,E0277
/// struct Quiet;
/// impl retry_runtime::Form for Quiet { // error[E0277]: the trait bound `Quiet: Sealed` is not satisfied
///     const TIMED: bool = false;
/// }
/// ```
pub trait Form: sealed::Sealed {
    /// Does the run read the clock at its start (to report its time)?
    #[doc(hidden)]
    const TIMED: bool;
}

/// [`Form`] (and so [`Finish`], which implies it) is implemented for the two
/// forms only.
mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Plain {}
    impl Sealed for super::Detailed {}
}

impl Form for Plain {
    const TIMED: bool = false;
}

impl Form for Detailed {
    const TIMED: bool = true;
}

/// What a finished run returns, for each output form ([`Plain`], [`Detailed`]), sync or async.
/// Sealed, as [`Form`] (which it implies) is: use it as a bound.
///
/// ```
/// use retry_runtime::{DefaultSleeper, Finish, NoCircuit, NoNotify, Policy, Retry, RetryAll};
/// // a helper of yours that runs a retry in either form, returning that form's output
/// fn run<F, D>(retry: Retry<'_, RetryAll, NoCircuit, F, DefaultSleeper, NoNotify, D>) -> D::Output
/// where
///     F: FnMut() -> Result<u32, String>,
///     D: Finish<u32, String>,
/// {
///     retry.call()
/// }
/// let _paused = retry_runtime::testing::pause();
/// let policy = Policy::new().with_max_attempts(2);
/// assert_eq!(run(policy.retry(|| Ok(7))), Ok(7));
/// let e = run(policy.retry(|| Err("down".to_string())).detailed()).unwrap_err();
/// assert_eq!((e.attempts, e.last_error.as_str()), (2, "down"));
/// ```
pub trait Finish<T, E>: Form {
    /// The output.
    type Output;
    /// A success, with the run that made it.
    #[doc(hidden)]
    fn ok(value: T, run: &mut LazyRun) -> Self::Output;
    /// Giving up.
    #[doc(hidden)]
    fn err(error: RetryError<E>) -> Self::Output;
    /// The output of a run that kept no record (`None` for a form that
    /// needs one; such a form is `TIMED` and never asks).
    #[doc(hidden)]
    fn untimed(out: Result<T, E>) -> Option<Self::Output>;
    /// A success after `attempts` attempts and `elapsed` (a hedged run).
    #[doc(hidden)]
    fn done(value: T, attempts: u32, elapsed: Duration) -> Self::Output;
    /// An `Ok` that `retry_if_ok` rejected, returned as the run gave up
    /// for `reason` after `attempts` attempts and `elapsed`.
    #[doc(hidden)]
    fn rejected(value: T, reason: StopReason, attempts: u32, elapsed: Duration) -> Self::Output;
}

impl<T, E> Finish<T, E> for Plain {
    type Output = Result<T, E>;
    #[inline(always)]
    fn ok(value: T, _: &mut LazyRun) -> Result<T, E> {
        Ok(value)
    }
    #[inline]
    fn err(error: RetryError<E>) -> Result<T, E> {
        Err(error.last_error)
    }
    #[inline(always)]
    fn untimed(out: Result<T, E>) -> Option<Result<T, E>> {
        Some(out)
    }
    #[inline]
    fn done(value: T, _: u32, _: Duration) -> Result<T, E> {
        Ok(value)
    }
    #[inline]
    fn rejected(value: T, _: StopReason, _: u32, _: Duration) -> Result<T, E> {
        Ok(value)
    }
}

impl<T, E> Finish<T, E> for Detailed {
    type Output = Result<Succeeded<T>, RetryError<E>>;
    #[inline]
    fn ok(value: T, run: &mut LazyRun) -> Self::Output {
        let (attempts, elapsed) = run.progress();
        Ok(Succeeded {
            value,
            attempts,
            elapsed,
            gave_up: None,
        })
    }
    #[inline]
    fn err(error: RetryError<E>) -> Self::Output {
        Err(error)
    }
    #[inline(always)]
    fn untimed(_: Result<T, E>) -> Option<Self::Output> {
        None
    }
    #[inline]
    fn done(value: T, attempts: u32, elapsed: Duration) -> Self::Output {
        Ok(Succeeded {
            value,
            attempts,
            elapsed,
            gave_up: None,
        })
    }
    #[inline]
    fn rejected(value: T, reason: StopReason, attempts: u32, elapsed: Duration) -> Self::Output {
        Ok(Succeeded {
            value,
            attempts,
            elapsed,
            gave_up: Some(reason),
        })
    }
}
