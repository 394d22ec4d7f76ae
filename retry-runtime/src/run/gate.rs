//! What a policy's type parameters decide for a run: whether it asks a
//! circuit breaker or a throttle before an attempt ([`Admission`], with the
//! error a rejection returns, [`FromCircuitOpen`], [`FromThrottled`]) and
//! whether a per-call hook hears of retries ([`Notify`], [`NoNotify`]).

use crate::circuit::CircuitOpen;
use crate::hooks::RetryEvent;
use crate::policy::{NoCircuit, WithCircuit, WithCircuitAndThrottle, WithThrottle};
use crate::throttle::Throttled;

/// Why a guard turned an attempt away: the breaker is open, or the
/// throttle rejected the call. (Not public API: [`Admission`] turns it into
/// the run's error type.)
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Refusal {
    /// The circuit breaker's rejection.
    Circuit(CircuitOpen),
    /// The throttle's rejection.
    Throttle(Throttled),
}

/// What a run of a policy whose guard type parameter is `Self` does before
/// an attempt: nothing for [`NoCircuit`]; for [`WithCircuit`], ask the
/// breaker, and while it is open return `E::from(`[`CircuitOpen`]`)`
/// without making the call; for [`WithThrottle`], ask the throttle before
/// the first attempt and return `E::from(`[`Throttled`]`)` when it rejects
/// the call; [`WithCircuitAndThrottle`] both. Implemented by those types
/// only.
///
/// ```
/// use std::io;
/// use retry_runtime::{Admission, CircuitBreaker, Policy, RetryAll};
/// // a helper of yours that runs a policy with a breaker or without one
/// fn ping<G: Admission<io::Error>>(policy: &Policy<RetryAll, G>) -> io::Result<&'static str> {
///     policy.retry(|| Ok("pong")).call()
/// }
/// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");
/// assert_eq!(ping(&Policy::new()).unwrap(), "pong");
/// assert_eq!(ping(&Policy::new().with_circuit(&UPSTREAM)).unwrap(), "pong");
/// assert_eq!(UPSTREAM.stats().successes, 1);
/// ```
pub trait Admission<E>: crate::policy::Guards {
    /// Does a run ask a guard before each attempt?
    #[doc(hidden)]
    const ASKS: bool;
    /// The error a rejected call returns (`None`: this guard cannot refuse).
    #[doc(hidden)]
    fn rejection(refusal: Refusal) -> Option<E>;
}

impl<E> Admission<E> for NoCircuit {
    const ASKS: bool = false;
    #[inline(always)]
    fn rejection(_: Refusal) -> Option<E> {
        None
    }
}

impl<E: FromCircuitOpen> Admission<E> for WithCircuit {
    const ASKS: bool = true;
    #[inline]
    fn rejection(refusal: Refusal) -> Option<E> {
        match refusal {
            Refusal::Circuit(open) => Some(E::from_circuit_open(open)),
            Refusal::Throttle(_) => None,
        }
    }
}

impl<E: FromThrottled> Admission<E> for WithThrottle {
    const ASKS: bool = true;
    #[inline]
    fn rejection(refusal: Refusal) -> Option<E> {
        match refusal {
            Refusal::Circuit(_) => None,
            Refusal::Throttle(t) => Some(E::from_throttled(t)),
        }
    }
}

impl<E: FromCircuitOpen + FromThrottled> Admission<E> for WithCircuitAndThrottle {
    const ASKS: bool = true;
    #[inline]
    fn rejection(refusal: Refusal) -> Option<E> {
        Some(match refusal {
            Refusal::Circuit(open) => E::from_circuit_open(open),
            Refusal::Throttle(t) => E::from_throttled(t),
        })
    }
}

/// `From<CircuitOpen>`, under a name of its own so that an error type
/// without it, run with a policy that has a breaker, gets a message that
/// says what to do. Implemented for every `E: From<CircuitOpen>`.
///
/// ```
/// use retry_runtime::{circuit::Outcome, CircuitBreaker, CircuitOpen, Policy};
/// #[derive(Debug, thiserror::Error)]
/// enum ApiError {
///     #[error("timed out")] Timeout,
///     #[error(transparent)] Open(CircuitOpen),
/// }
/// impl From<CircuitOpen> for ApiError { // so it is `FromCircuitOpen`
///     fn from(open: CircuitOpen) -> Self { ApiError::Open(open) }
/// }
/// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(1);
/// UPSTREAM.record(UPSTREAM.try_acquire().unwrap(), Outcome::Failure); // one failure opens it
/// let r: Result<(), _> = Policy::new().with_circuit(&UPSTREAM).retry(|| Err(ApiError::Timeout)).call();
/// assert!(matches!(r, Err(ApiError::Open(open)) if open.circuit == "upstream")); // not called
/// ```
#[diagnostic::on_unimplemented(
    message = "this policy has a circuit breaker, so a call it rejects returns `{Self}` built from `CircuitOpen`: `{Self}` must implement `From<CircuitOpen>`",
    label = "a rejected call returns this error type, built from `retry_runtime::CircuitOpen`",
    note = "add a variant holding the rejection, e.g. `#[error(transparent)] CircuitOpen(#[from] retry_runtime::CircuitOpen)`, or implement `From<retry_runtime::CircuitOpen>` for it (`std::io::Error` already does)"
)]
pub trait FromCircuitOpen {
    /// `Self::from(open)`.
    fn from_circuit_open(open: CircuitOpen) -> Self;
}

impl<E: From<CircuitOpen>> FromCircuitOpen for E {
    #[inline]
    fn from_circuit_open(open: CircuitOpen) -> Self {
        E::from(open)
    }
}

/// `From<Throttled>`, under a name of its own so that an error type without
/// it, run with a policy that has a throttle, gets a message that says what
/// to do. Implemented for every `E: From<Throttled>`.
///
/// ```
/// use retry_runtime::{testing, Policy, Throttle, Throttled};
/// #[derive(Debug, thiserror::Error)]
/// enum SearchError {
///     #[error("overloaded")] Overloaded,
///     #[error(transparent)] Throttled(#[from] Throttled), // `#[from]` writes the `From<Throttled>`
/// }
/// static SEARCH: Throttle = Throttle::new("search");
/// for _ in 0..1000 { SEARCH.record(false); } // the dependency accepted none of 1000 calls
/// testing::seed(1); // the throttle's draw, the same on every run
/// let r: Result<(), _> = Policy::new().with_throttle(&SEARCH).retry(|| Err(SearchError::Overloaded)).call();
/// assert!(matches!(r, Err(SearchError::Throttled(t)) if t.throttle == "search")); // not called
/// ```
#[diagnostic::on_unimplemented(
    message = "this policy has a throttle, so a call it rejects returns `{Self}` built from `Throttled`: `{Self}` must implement `From<Throttled>`",
    label = "a throttled call returns this error type, built from `retry_runtime::Throttled`",
    note = "add a variant holding the rejection, e.g. `#[error(transparent)] Throttled(#[from] retry_runtime::Throttled)`, or implement `From<retry_runtime::Throttled>` for it (`std::io::Error` already does)"
)]
pub trait FromThrottled {
    /// `Self::from(rejection)`.
    fn from_throttled(rejection: Throttled) -> Self;
}

impl<E: From<Throttled>> FromThrottled for E {
    #[inline]
    fn from_throttled(rejection: Throttled) -> Self {
        E::from(rejection)
    }
}

impl Refusal {
    /// Why a run that was turned away stops.
    pub(crate) fn stop_reason(self) -> crate::StopReason {
        match self {
            Refusal::Circuit(_) => crate::StopReason::CircuitOpen,
            Refusal::Throttle(_) => crate::StopReason::Throttled,
        }
    }
}

/// A per-call hook told of each retry, before its sleep, and of the error
/// `E` retried: any `FnMut(&RetryEvent)` (see
/// [`Retry::notify`](crate::Retry::notify)), an [`ErrorHook`] (see
/// [`Retry::notify_error`](crate::Retry::notify_error)), or [`NoNotify`].
/// Both methods take a closure (so that its arguments' types are
/// inferred): a hook of yours that is a type goes in one,
/// `.notify(|ev| hook.record(ev))`.
///
/// ```
/// use retry_runtime::Policy;
/// let _paused = retry_runtime::testing::pause();
/// let mut retries = 0;
/// let r = Policy::new()
///     .with_max_attempts(3)
///     .retry(|| Err::<(), _>("busy"))
///     .notify(|_ev| retries += 1)
///     .call();
/// assert_eq!((r, retries), (Err("busy"), 2));
/// ```
#[diagnostic::on_unimplemented(
    message = "this retry's hook does not take the operation's error, `{E}`",
    label = "a hook for another error type",
    note = "`.notify_error(|e: &E, ev| ..)` is told of the operation's own error: annotate `e` with its type (here `&{E}`), or use `.notify(|ev| ..)`, which takes any"
)]
pub trait Notify<E: ?Sized> {
    /// `false` for [`NoNotify`]: a run without a hook keeps its fast path.
    const ACTIVE: bool;
    /// A retry is about to sleep, after `error` (`None` for an `Ok` that
    /// `retry_if_ok` rejected).
    fn on_retry(&mut self, event: &RetryEvent<'_>, error: Option<&E>);
}

/// No per-call hook (the default).
///
/// ```
/// use retry_runtime::{NoNotify, Policy, Retry};
/// let policy = Policy::new();
/// // a retry without `.notify(..)`
/// let retry: Retry<'_, _, _, _, _, NoNotify> = policy.retry(|| Ok::<_, &str>(1));
/// assert_eq!(retry.call(), Ok(1));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNotify;

impl<E: ?Sized> Notify<E> for NoNotify {
    const ACTIVE: bool = false;
    #[inline(always)]
    fn on_retry(&mut self, _: &RetryEvent<'_>, _: Option<&E>) {}
}

impl<E: ?Sized, F: FnMut(&RetryEvent<'_>)> Notify<E> for F {
    const ACTIVE: bool = true;
    #[inline]
    fn on_retry(&mut self, event: &RetryEvent<'_>, _: Option<&E>) {
        self(event)
    }
}

/// A per-call hook told of each retry after an error, with the error as
/// its type: [`Retry::notify_error`](crate::Retry::notify_error)'s. A
/// retry of an `Ok` that `retry_if_ok` rejected has no error, and is not
/// told to it (`.notify(..)` hears of every retry).
///
/// ```
/// use retry_runtime::{ErrorHook, NoNotify, Notify, RetryEvent};
/// fn active<E, N: Notify<E>>(_: &N) -> bool { N::ACTIVE }
/// let hook = ErrorHook(|e: &std::io::Error, _ev: &RetryEvent<'_>| { let _ = e.kind(); });
/// assert!(active::<std::io::Error, _>(&hook));
/// assert!(!active::<std::io::Error, _>(&NoNotify));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorHook<F>(pub F);

impl<E: ?Sized, F: FnMut(&E, &RetryEvent<'_>)> Notify<E> for ErrorHook<F> {
    const ACTIVE: bool = true;
    #[inline]
    fn on_retry(&mut self, event: &RetryEvent<'_>, error: Option<&E>) {
        if let Some(error) = error {
            (self.0)(error, event);
        }
    }
}
