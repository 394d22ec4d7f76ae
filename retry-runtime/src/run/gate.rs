//! What a policy's type parameters decide for a run: whether it asks a
//! circuit breaker ([`Admission`], with the error a rejection returns,
//! [`FromCircuitOpen`]) and whether a per-call hook hears of retries
//! ([`Notify`], [`NoNotify`]).

use crate::circuit::CircuitOpen;
use crate::hooks::RetryEvent;
use crate::policy::{NoCircuit, WithCircuit};

/// What a run of a policy whose circuit-breaker type parameter is `Self`
/// does before each attempt: nothing for [`NoCircuit`]; for
/// [`WithCircuit`], ask the breaker, and while it is open return
/// `E::from(`[`CircuitOpen`]`)` without making the call. Implemented by
/// those two types only.
pub trait Admission<E>: Copy {
    /// Does a run ask a breaker before each attempt?
    #[doc(hidden)]
    const ASKS: bool;
    /// The error a rejected call returns.
    #[doc(hidden)]
    fn rejection(open: CircuitOpen) -> Option<E>;
}

impl<E> Admission<E> for NoCircuit {
    const ASKS: bool = false;
    #[inline(always)]
    fn rejection(_: CircuitOpen) -> Option<E> {
        None
    }
}

impl<E: FromCircuitOpen> Admission<E> for WithCircuit {
    const ASKS: bool = true;
    #[inline]
    fn rejection(open: CircuitOpen) -> Option<E> {
        Some(E::from_circuit_open(open))
    }
}

/// `From<CircuitOpen>`, under a name of its own so that an error type
/// without it, run with a policy that has a breaker, gets a message that
/// says what to do. Implemented for every `E: From<CircuitOpen>`.
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

/// A per-call hook told of each retry, before its sleep: any
/// `FnMut(&RetryEvent)` (see [`Retry::notify`](crate::Retry::notify)), or
/// [`NoNotify`].
pub trait Notify {
    /// `false` for [`NoNotify`]: a run without a hook keeps its fast path.
    const ACTIVE: bool;
    /// A retry is about to sleep.
    fn on_retry(&mut self, event: &RetryEvent<'_>);
}

/// No per-call hook (the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNotify;

impl Notify for NoNotify {
    const ACTIVE: bool = false;
    #[inline(always)]
    fn on_retry(&mut self, _: &RetryEvent<'_>) {}
}

impl<F: FnMut(&RetryEvent<'_>)> Notify for F {
    const ACTIVE: bool = true;
    #[inline]
    fn on_retry(&mut self, event: &RetryEvent<'_>) {
        self(event)
    }
}
