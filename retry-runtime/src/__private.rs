//! The only contract between `retry-macros` and this crate. Not public API.

pub use crate::backoff::Backoff;
pub use crate::budget::RetryBudget;
pub use crate::circuit::{CircuitBreaker, CircuitOpen};
pub use crate::classify::{ErrorKind, KindSet};
pub use crate::jitter::Jitter;
pub use crate::policy::{Decision, Policy, RetryAfter, RetryAll, RetryIf, RetryOn};
pub use crate::presets;
pub use crate::run::{LazyRun, Run, retry_sync};
pub use crate::sleep::{SyncClock, TokioClock, should_sleep, sleep_async, sleep_sync};
pub use crate::stop::Stop;
pub use crate::timeout::timeout;
pub use core::time::Duration;
pub use tokio::time::sleep as tokio_sleep;

/// Lets the generated loop look inside the function's return value without
/// naming its type (it may be an alias like `io::Result<T>`), and turns a
/// non-`Result` return type into one readable error.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` needs the function to return `Result<T, E>`, but it returns `{Self}`",
    label = "not a `Result`",
    note = "retrying needs an error to look at: return `Result<T, E>` (aliases such as `std::io::Result<T>` are fine)"
)]
pub trait IsResult {
    /// The success type.
    type Ok;
    /// The error type.
    type Err;
    /// Borrow the value as a `Result`.
    fn as_result(&self) -> Result<&Self::Ok, &Self::Err>;
}

impl<T, E> IsResult for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline(always)]
    fn as_result(&self) -> Result<&T, &E> {
        self.as_ref()
    }
}

/// `IsResult::as_result` as a free function (its span is put on the return type).
#[inline(always)]
pub fn as_result<R: IsResult>(r: &R) -> Result<&R::Ok, &R::Err> {
    r.as_result()
}

/// Nothing at run time: the sync `#[retry]` loop calls it with its attempt
/// closure, under the return type's span, so that a function that does not
/// return a `Result` is told so there.
#[inline(always)]
pub fn returns_result<R: IsResult, F: FnMut() -> R>(_: &F) {}

/// Turns a circuit breaker's rejection into the function's error type, with a
/// readable error when that type cannot hold one. The generated loop, with
/// `circuit = NAME`, starts each attempt with
/// `if let Err(open) = run.before_attempt() { return Err(circuit_open_error(open)); }`.
#[diagnostic::on_unimplemented(
    message = "`#[retry(circuit = ...)]` needs the error type `{Self}` to implement `From<CircuitOpen>`",
    label = "a rejected call returns this error type, built from `retry_runtime::CircuitOpen`",
    note = "add a variant holding the rejection, e.g. `#[error(transparent)] CircuitOpen(#[from] retry_runtime::CircuitOpen)`, or implement `From<retry_runtime::CircuitOpen>` for it (`std::io::Error` already does)"
)]
pub trait FromCircuitOpen {
    /// Build the error.
    fn from_circuit_open(open: CircuitOpen) -> Self;
}

impl<E: From<CircuitOpen>> FromCircuitOpen for E {
    #[inline(always)]
    fn from_circuit_open(open: CircuitOpen) -> Self {
        E::from(open)
    }
}

/// `E::from(open)`, through [`FromCircuitOpen`] for its error message.
///
/// ```
/// let e: std::io::Error = retry_runtime::__private::circuit_open_error(
///     retry_runtime::CircuitOpen::new("upstream", std::time::Duration::from_secs(1)),
/// );
/// assert_eq!(e.kind(), std::io::ErrorKind::ResourceBusy);
/// ```
///
/// ```compile_fail
/// #[derive(Debug)]
/// struct MyError;
/// fn f() -> Result<(), MyError> {
///     // error: `#[retry(circuit = ...)]` needs the error type `MyError` to implement `From<CircuitOpen>`
///     Err(retry_runtime::__private::circuit_open_error(retry_runtime::CircuitOpen::new("x", Default::default())))
/// }
/// ```
#[inline(always)]
pub fn circuit_open_error<E: FromCircuitOpen>(open: CircuitOpen) -> E {
    E::from_circuit_open(open)
}
