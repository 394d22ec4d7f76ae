//! The only contract between `retry-macros` and this crate. Not public API.

pub use crate::backoff::Backoff;
pub use crate::budget::RetryBudget;
pub use crate::circuit::{CircuitBreaker, CircuitOpen};
pub use crate::classify::{ErrorKind, KindSet};
pub use crate::jitter::Jitter;
pub use crate::nested::Nested;
pub use crate::policy::{Decision, Policy, RetryAfter, RetryAll, RetryIf, RetryOn};
use crate::policy::{WithCircuit, WithCircuitAndThrottle, WithThrottle};
pub use crate::presets;
pub use crate::run::{Admission, Guarded, LazyRun, Run, retry_sync};
use crate::run::{FromCircuitOpen, FromThrottled};
use crate::signal::{StopOn, StopSignal};
pub use crate::sleep::DefaultSleeper;
pub use crate::sleep::sleep_sync;
pub use crate::stop::Stop;
pub use crate::throttle::Throttle;
pub use core::time::Duration;
pub use tracing::Instrument;

mod timers;
pub use timers::*;

use core::sync::atomic::{AtomicBool, Ordering};

/// The span of the attempt a `#[retry]` loop with `attempt_spans = true` is
/// about to make (a disabled span if the policy's attempt spans are off).
///
/// ```
/// use retry_runtime::{__private::{attempt_finished, attempt_span, LazyRun}, Policy};
/// let policy = Policy::new().with_attempt_spans(true);
/// let run = LazyRun::new(&policy);
/// let span = attempt_span(&run, &policy);
/// let _instrumented: tracing::Span = span.span(); // the async attempt's
/// let _entered = span.enter();
/// attempt_finished(&span);
/// ```
#[inline]
pub fn attempt_span<W, G>(run: &LazyRun, policy: &Policy<W, G>) -> AttemptSpan {
    AttemptSpan {
        span: crate::span::next_attempt_span(policy, run.attempts())
            .unwrap_or_else(tracing::Span::none),
        finished: AtomicBool::new(false),
    }
}

/// An attempt's span in a `#[retry]` loop ([`attempt_span`]): dropped
/// before [`attempt_finished`] said the attempt finished, the attempt was
/// cancelled (the call's future dropped while it ran: a timeout around
/// it, a client gone), which the span records, `cancelled = true`.
#[derive(Debug)]
pub struct AttemptSpan {
    span: tracing::Span,
    // (atomic: the loop's future holds the span across the attempt's
    // `.await`, and stays `Send` and `Sync` as the span is)
    finished: AtomicBool,
}

impl AttemptSpan {
    /// Enter the span.
    #[inline]
    pub fn enter(&self) -> tracing::span::Entered<'_> {
        self.span.enter()
    }

    /// The span, for the async attempt's future to be instrumented with.
    #[inline]
    pub fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// Does a failure decided in it mark it (the subscriber enabled it)?
    /// The loop tells its run ([`LazyRun::next_wait_spanned`]).
    #[inline]
    pub fn marks(&self) -> bool {
        crate::span::marks(Some(&self.span))
    }
}

impl Drop for AttemptSpan {
    #[inline]
    fn drop(&mut self) {
        if !*self.finished.get_mut() {
            crate::span::attempt_dropped(&self.span);
        }
    }
}

/// A `#[retry]` loop with `attempt_spans = true` says its attempt
/// finished (after it, before the decision): the span's drop from then on
/// is no cancel.
///
/// ```
/// use retry_runtime::{__private::{attempt_finished, attempt_span, LazyRun}, Policy};
/// let policy = Policy::new().with_attempt_spans(true);
/// let span = attempt_span(&LazyRun::new(&policy), &policy);
/// attempt_finished(&span);
/// drop(span); // records nothing
/// ```
#[inline]
pub fn attempt_finished(span: &AttemptSpan) {
    span.finished.store(true, Ordering::Relaxed);
}

/// The policy of `#[retry(policy = EXPR)]`, called as `policy(&EXPR)` at
/// `EXPR`: a [`Policy`], or a reference, an `Arc`, a `LazyLock` or another
/// pointer to one (deref coercion), copied (every policy is `Copy`).
/// Anything else is reported on `EXPR`: "expected `&Policy<_, _>`".
///
/// ```
/// use retry_runtime::{__private::policy, Policy};
/// const QUICK: Policy = Policy::new().with_max_attempts(2);
/// let shared = std::sync::Arc::new(QUICK);
/// let _copied: Policy = policy(&QUICK);
/// let _from_arc: Policy = policy(&shared);
/// ```
#[inline(always)]
pub fn policy<W: Copy, G: Copy>(policy: &Policy<W, G>) -> Policy<W, G> {
    *policy
}

/// The retry budget's token a retry holds while the loop waits for it:
/// the policy's budget, which granted it (see [`default_sleep`]).
#[inline(always)]
pub const fn budget_token<W, G>(policy: &Policy<W, G>) -> Option<&'static RetryBudget> {
    policy.budget
}

/// `#[retry(stop_on = ..)]`'s signal, made once per call and pinned in
/// its loop: any future, what it returns dropped.
///
/// ```
/// use retry_runtime::__private::stop_signal;
/// let stop = core::pin::pin!(stop_signal(core::future::ready(7)));
/// # drop(stop);
/// ```
#[inline(always)]
pub fn stop_signal<F: IntoStopSignal>(signal: F) -> F::Signal {
    signal.into_signal()
}

/// What `stop_on = EXPR` takes: a future. (A trait of its own, for the
/// message at the expression of a value that is not one; rustc repeats
/// the error, shorter, where the loop polls the signal.)
#[diagnostic::on_unimplemented(
    message = "`stop_on` takes a future, and `{Self}` is not one",
    label = "not a future",
    note = "a shutdown's signal is a future that completes when the shutdown starts: `token.cancelled()` (tokio-util), a oneshot receiver, `tokio::signal::ctrl_c()`; for a flag, `async {{ while !flag.load(..) {{ tick().await }} }}`"
)]
pub trait IntoStopSignal {
    /// The signal, pinned in the loop.
    type Signal: StopSignal<()>;
    /// Make it.
    fn into_signal(self) -> Self::Signal;
}

impl<F: core::future::Future> IntoStopSignal for F {
    type Signal = StopOn<F, ()>;
    #[inline(always)]
    fn into_signal(self) -> Self::Signal {
        StopOn::new(self)
    }
}

/// A `#[retry(stop_when = FLAG)]` loop's flag, asked after a failed
/// attempt and after a wait: a `bool` (checked here, at the expression).
///
/// ```
/// assert!(retry_runtime::__private::stop_flag(true));
/// ```
#[inline(always)]
pub const fn stop_flag(stopping: bool) -> bool {
    stopping
}

/// A `#[retry(stop_on = ..)]` loop after an attempt that `failed` (before
/// its decision): has its signal fired (polled once, if it failed)? Holds
/// nothing of the result, so an error that is `Send` but not `Sync` keeps
/// the function's future `Send`.
#[inline(always)]
pub fn stop_fired<X: StopSignal<()>>(
    mut stop: core::pin::Pin<&mut X>,
    failed: bool,
) -> impl core::future::Future<Output = bool> + '_ {
    core::future::poll_fn(move |cx| core::task::Poll::Ready(failed && stop.as_mut().poll_fired(cx)))
}

/// The signal of a `#[retry(stop_on = ..)]` loop fired during the attempt
/// that failed now: if the policy would retry the failure, the run ends,
/// [`StopReason::Stopped`](crate::StopReason::Stopped). (The loop decides
/// on the full path, which keeps each failure's kind for the line it may
/// end with in a wait.)
#[cold]
#[inline(never)]
pub fn stop_next_failure<W, G>(run: &mut LazyRun, policy: &Policy<W, G>) {
    run.failed_with_signal(policy, true);
}

/// A `#[retry(stop_on = ..)]` loop whose signal fired in its wait: the
/// retry is not made (its budget token goes back), the run ends with
/// [`StopReason::Stopped`](crate::StopReason::Stopped), its line, metric
/// and `on_give_up`, and the call returns `result`, the attempt's it
/// waited to retry (an error, or an `Ok` that `retry_if_ok` rejected).
#[cold]
#[inline(never)]
pub fn stopped_in_wait<W, G, R>(run: &mut LazyRun, policy: &Policy<W, G>, result: R) -> R
where
    R: IsResult,
    R::Err: DisplayError,
{
    let told: &dyn core::fmt::Display = match result.as_result() {
        Err(e) => e,
        Ok(_) => &crate::run::REJECTED_OK,
    };
    let _ended = run.tell_stopped_in_wait(policy, told);
    result
}

/// What `timeout = value` takes: a `Duration`, or an `Option<Duration>`
/// whose `None` sets no limit (a command-line flag left out).
#[diagnostic::on_unimplemented(
    message = "`timeout = ..` takes a `Duration` or an `Option<Duration>`, not `{Self}`",
    label = "not a `Duration`",
    note = "a literal is checked when the function compiles: `timeout = \"10s\"`; a value (`timeout = self.timeout`, `timeout = cfg.attempt_timeout`) is read before each attempt"
)]
pub trait IntoAttemptLimit {
    /// The limit, if any.
    fn into_attempt_limit(self) -> Option<Duration>;
}

impl IntoAttemptLimit for Duration {
    #[inline(always)]
    fn into_attempt_limit(self) -> Option<Duration> {
        Some(self)
    }
}

impl IntoAttemptLimit for Option<Duration> {
    #[inline(always)]
    fn into_attempt_limit(self) -> Option<Duration> {
        self
    }
}

/// The value of `timeout = value`, read before an attempt, its type
/// checked at the value.
#[inline(always)]
pub fn attempt_limit(limit: impl IntoAttemptLimit) -> Option<Duration> {
    limit.into_attempt_limit()
}

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
    /// The value for an error (a call the circuit breaker rejected).
    fn from_err(error: Self::Err) -> Self;
    /// The value as a `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// The value from a `Result`.
    fn from_result(result: Result<Self::Ok, Self::Err>) -> Self;
}

impl<T, E> IsResult for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline(always)]
    fn as_result(&self) -> Result<&T, &E> {
        self.as_ref()
    }
    #[inline(always)]
    fn from_err(error: E) -> Self {
        Err(error)
    }
    #[inline(always)]
    fn into_result(self) -> Self {
        self
    }
    #[inline(always)]
    fn from_result(result: Self) -> Self {
        result
    }
}

/// The error type of a `#[retry]` function: each failure is logged with
/// its `Display` (and `Retry`'s errors show it), so it must have one. A
/// trait of its own, so that a type without `Display` is told why, on the
/// error type in the function's signature.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` logs each failure with the error's `Display`, but `{Self}` doesn't implement `std::fmt::Display`",
    label = "this error type needs `Display`",
    note = "derive it (`#[derive(thiserror::Error)]` with `#[error(\"...\")]` on the type or its variants), or implement `std::fmt::Display` for `{Self}`"
)]
pub trait DisplayError: core::fmt::Display {}

impl<E: core::fmt::Display + ?Sized> DisplayError for E {}

/// Nothing at run time: an async `#[retry]` loop (and a sync one of the
/// function's own) calls it with each attempt's result, under the span of
/// the return type's error type, so that an error type without `Display`
/// is told so there ([`DisplayError`]).
///
/// ```
/// use retry_runtime::__private::error_displays;
/// error_displays(&Err::<u32, std::io::Error>(std::io::ErrorKind::TimedOut.into()));
/// ```
#[inline(always)]
pub fn error_displays<R: IsResult>(_: &R)
where
    R::Err: DisplayError,
{
}

/// [`error_displays`] for the sync loop's attempt closure, which it hands
/// on (see [`returns_result`]).
///
/// ```
/// use retry_runtime::__private::attempt_error_displays;
/// let mut attempt = attempt_error_displays(|| Ok::<u32, std::io::Error>(1));
/// assert_eq!(attempt().unwrap(), 1);
/// ```
#[inline(always)]
pub fn attempt_error_displays<R: IsResult, F: FnMut() -> R>(attempt: F) -> F
where
    R::Err: DisplayError,
{
    attempt
}

/// `IsResult::as_result` as a free function (its span is put on the return type).
#[inline(always)]
pub fn as_result<R: IsResult>(r: &R) -> Result<&R::Ok, &R::Err> {
    r.as_result()
}

/// Nothing at run time: the sync `#[retry]` loop passes its attempt
/// closure through it, under the return type's span, so that a function
/// that does not return a `Result` is told so there. The closure is written
/// as its argument, where an `FnMut` is expected, so that a body moving a
/// captured argument is reported on the move (E0507), not as a closure
/// that "only implements `FnOnce`" (E0525).
///
/// ```
/// use retry_runtime::__private::returns_result;
/// let mut attempt = returns_result(|| -> Result<u32, ()> { Ok(1) });
/// assert_eq!(attempt(), Ok(1));
/// ```
#[inline(always)]
pub fn returns_result<R: IsResult, F: FnMut() -> R>(attempt: F) -> F {
    attempt
}

/// The generated loop's first step of each attempt, [`LazyRun::admit`] as a
/// free function, so that its path can carry the span of the `circuit` key
/// (an error type without `From<CircuitOpen>` is reported there).
///
/// ```
/// use retry_runtime::{__private::{admit, LazyRun}, Policy};
/// let policy = Policy::new();
/// let mut run = LazyRun::new(&policy);
/// assert!(admit::<_, _, std::io::Error>(&mut run, &policy).is_ok()); // no breaker
/// ```
#[inline(always)]
pub fn admit<W, G: Admission<E>, E>(run: &mut LazyRun, policy: &Policy<W, G>) -> Result<(), E> {
    run.admit(policy)
}

/// [`admit`] for a loop with `circuit = NAME`: the error type's bound is
/// its own, so that a missing `From<CircuitOpen>` is reported with
/// [`FromCircuitOpen`]'s message, on the `circuit` key.
///
/// ```
/// use retry_runtime::{__private::{admit_circuit, LazyRun}, CircuitBreaker, Policy};
/// static B: CircuitBreaker = CircuitBreaker::new("b");
/// let policy = Policy::new().with_circuit(&B);
/// let mut run = LazyRun::new(&policy);
/// assert!(admit_circuit::<_, std::io::Error>(&mut run, &policy).is_ok()); // closed
/// ```
///
/// ```compile_fail
/// use retry_runtime::{__private::{admit_circuit, LazyRun}, CircuitBreaker, Policy};
/// static B: CircuitBreaker = CircuitBreaker::new("b");
/// struct MyError;
/// let policy = Policy::new().with_circuit(&B);
/// let mut run = LazyRun::new(&policy);
/// // error: this policy has a circuit breaker, so a call it rejects returns `MyError` built from `CircuitOpen` ...
/// let _ = admit_circuit::<_, MyError, _>(&mut run, &policy);
/// ```
#[inline(always)]
pub fn admit_circuit<W, E: FromCircuitOpen>(
    run: &mut LazyRun,
    policy: &Policy<W, WithCircuit>,
) -> Result<(), E> {
    run.admit(policy)
}

/// [`admit`] for a loop with `throttle = NAME`: a missing `From<Throttled>`
/// is reported with [`FromThrottled`]'s message, on the `throttle` key.
///
/// ```
/// use retry_runtime::{__private::{admit_throttle, LazyRun}, Policy, Throttle};
/// static T: Throttle = Throttle::new("t");
/// let policy = Policy::new().with_throttle(&T);
/// let mut run = LazyRun::new(&policy);
/// assert!(admit_throttle::<_, std::io::Error>(&mut run, &policy).is_ok()); // nothing failed yet
/// ```
#[inline(always)]
pub fn admit_throttle<W, E: FromThrottled>(
    run: &mut LazyRun,
    policy: &Policy<W, WithThrottle>,
) -> Result<(), E> {
    run.admit(policy)
}

/// [`admit`] for a loop with both `circuit = NAME` and `throttle = NAME`.
///
/// ```
/// use retry_runtime::{__private::{admit_circuit_and_throttle, LazyRun}, CircuitBreaker, Policy, Throttle};
/// static B: CircuitBreaker = CircuitBreaker::new("b");
/// static T: Throttle = Throttle::new("t");
/// let policy = Policy::new().with_circuit(&B).with_throttle(&T);
/// let mut run = LazyRun::new(&policy);
/// assert!(admit_circuit_and_throttle::<_, std::io::Error>(&mut run, &policy).is_ok());
/// ```
#[inline(always)]
pub fn admit_circuit_and_throttle<W, E: FromCircuitOpen + FromThrottled>(
    run: &mut LazyRun,
    policy: &Policy<W, WithCircuitAndThrottle>,
) -> Result<(), E> {
    run.admit(policy)
}

/// `body()`: a sync `#[retry]` attempt with clones (or pinned re-borrows)
/// of its own runs the body in a closure of its own, so that the
/// temporaries of its last expression are dropped when it returns, before
/// the attempt's locals they may borrow (before Rust 2024 a block's last
/// expression's temporaries outlived the block's locals).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let state = Arc::new(Mutex::new(2));
/// let attempt = || -> Result<u32, ()> {
///     let state = Arc::clone(&state);
///     retry_runtime::__private::value_of(|| -> Result<u32, ()> { Ok(*state.lock().unwrap()) })
/// };
/// assert_eq!(attempt(), Ok(2));
/// ```
#[inline(always)]
pub fn value_of<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Nothing, but an async `#[retry]` attempt's block that calls it with
/// `&mut *self` captures the `&mut self` receiver uniquely: a `&mut Self`,
/// `Send` when `Self` is, where a body that only reads through `self`
/// would capture shared borrows of its fields, `Send` only for `Sync`
/// fields (a `Cell`, a `Box<dyn Fn + Send>`).
///
/// ```
/// let mut n = std::cell::Cell::new(1);
/// let r = &mut n;
/// let attempt = async {
///     retry_runtime::__private::borrow_uniquely(&mut *r);
///     r.get()
/// };
/// fn is_send<T: Send>(t: T) -> T { t }
/// let _ = is_send(attempt);
/// ```
#[inline(always)]
pub fn borrow_uniquely<T: ?Sized>(_: &mut T) {}

/// One attempt of a sync `#[retry]` loop, with the kinds the policy
/// retries published for the retried calls inside it (`retry_runtime::nested`).
///
/// ```
/// use retry_runtime::{__private::attempt_sync, Policy};
/// let policy = Policy::new();
/// assert_eq!(attempt_sync(&policy, || Ok::<_, ()>(1)), Ok(1));
/// ```
#[inline(always)]
pub fn attempt_sync<W: crate::RetriedKinds, G, R>(
    policy: &Policy<W, G>,
    attempt: impl FnOnce() -> R,
) -> R {
    let _published = crate::nested::publish(policy.published_kinds());
    attempt()
}

/// One attempt of an async `#[retry]` loop: its future, polled with the
/// kinds the policy retries published (`retry_runtime::nested`).
///
/// ```
/// use retry_runtime::{__private::in_scope, Policy};
/// let policy = Policy::new();
/// let fut = in_scope(&policy, async { Ok::<_, ()>(1) });
/// # drop(fut);
/// ```
#[inline(always)]
pub fn in_scope<W: crate::RetriedKinds, G, F: core::future::Future>(
    policy: &Policy<W, G>,
    attempt: F,
) -> crate::nested::InScope<F> {
    crate::nested::InScope::new(policy.published_kinds(), attempt)
}

/// The kinds `policy` retries, published until the guard is given to
/// [`made_in_scope`] or [`made_in_const_scope`]: an async `#[retry]`
/// attempt whose body is one awaited expression makes its future with them
/// published (as an `async` block around the body would, at its first
/// poll), then polls it in their scope, without a block of its own.
///
/// ```
/// use retry_runtime::{__private::{made_in_scope, publish}, Policy};
/// let policy = Policy::new();
/// let fut = made_in_scope(&policy, publish(&policy), async { Ok::<_, ()>(1) });
/// # drop(fut);
/// ```
#[inline(always)]
pub fn publish<W: crate::RetriedKinds, G>(policy: &Policy<W, G>) -> crate::nested::Published {
    crate::nested::publish(policy.published_kinds())
}

/// [`in_scope`] for an attempt made while `published` is held: `attempt`
/// is made into a future (as `.await` would), then the publication ends
/// and the future is polled in the scope. The arguments are evaluated in
/// order, so `made_in_scope(policy, publish(policy), make())` makes the
/// future with the kinds published, and the temporaries of `make()` live
/// as long as they would in `make().await`.
///
/// ```
/// use retry_runtime::{__private::{made_in_scope, publish}, Policy};
/// let policy = Policy::new();
/// let fut = made_in_scope(&policy, publish(&policy), async { Ok::<_, ()>(1) });
/// # drop(fut);
/// ```
#[inline(always)]
pub fn made_in_scope<W: crate::RetriedKinds, G, F: core::future::IntoFuture>(
    policy: &Policy<W, G>,
    published: crate::nested::Published,
    attempt: F,
) -> crate::nested::InScope<F::IntoFuture> {
    in_scope(policy, made(published, attempt))
}

/// [`made_in_scope`] for a loop whose policy is a constant (see
/// [`in_const_scope`]).
///
/// ```
/// use retry_runtime::{__private::{made_in_const_scope, publish}, Policy};
/// let policy = || &const { Policy::new() };
/// let fut = made_in_const_scope(policy, publish(policy()), async { Ok::<_, ()>(1) });
/// # drop(fut);
/// ```
#[inline(always)]
pub fn made_in_const_scope<P, W, G, F>(
    policy: P,
    published: crate::nested::Published,
    attempt: F,
) -> crate::nested::InScope<F::IntoFuture, crate::nested::ConstPolicy<P>>
where
    P: Fn() -> &'static Policy<W, G>,
    W: crate::RetriedKinds + 'static,
    G: 'static,
    F: core::future::IntoFuture,
{
    in_const_scope(policy, made(published, attempt))
}

/// `attempt` made into its future while `published` is held, then the
/// publication ended (both `made_*` forms).
#[inline(always)]
fn made<F: core::future::IntoFuture>(
    published: crate::nested::Published,
    attempt: F,
) -> F::IntoFuture {
    let attempt = attempt.into_future();
    drop(published);
    attempt
}

/// [`in_scope`] for a loop whose policy is a constant, given as the
/// closure that returns it (`#[retry]` without `policy = ...` or a guard):
/// the kinds are read from the constant at each poll, where they fold to
/// an immediate, instead of being kept in the attempt's future.
///
/// ```
/// use retry_runtime::{__private::in_const_scope, Policy};
/// let policy = || &const { Policy::new() };
/// let fut = in_const_scope(policy, async { Ok::<_, ()>(1) });
/// # drop(fut);
/// ```
#[inline(always)]
pub fn in_const_scope<P, W, G, F>(
    policy: P,
    attempt: F,
) -> crate::nested::InScope<F, crate::nested::ConstPolicy<P>>
where
    P: Fn() -> &'static Policy<W, G>,
    W: crate::RetriedKinds + 'static,
    G: 'static,
    F: core::future::Future,
{
    crate::nested::InScope::new(crate::nested::ConstPolicy(policy), attempt)
}

/// The attempt about to be made, for an `#[attempt]` parameter of a
/// `#[retry]` function (see `retry_runtime::retry`).
///
/// ```
/// use retry_runtime::{__private::{next_attempt, LazyRun}, Policy};
/// let policy = Policy::new();
/// let mut run = LazyRun::new(&policy);
/// assert_eq!(next_attempt(&mut run, &policy).number, 1);
/// ```
#[inline]
pub fn next_attempt<W, G>(run: &mut LazyRun, policy: &Policy<W, G>) -> crate::Attempt {
    run.next_attempt(policy)
}

/// A `#[derive(Classify)]` type's `#[classify(chain)]` field, as the `dyn
/// Error` it is: that is [`Classify`](crate::Classify) by its `source()`
/// chain ([`error_kind`](crate::classify::error_kind), the kind of the
/// first error in it, the field itself included, whose kind is known, and
/// that error's retry-after hint), as a `Box<dyn Error + Send + Sync>` is.
/// The derive calls `Classify::kind(ChainField::as_chain(field))` (and
/// `retry_after`, `why_permanent`). A trait, not `&dyn Error` itself, for its message: a
/// field that is no error is reported on the field with what to do.
///
/// ```
/// use retry_runtime::{__private::ChainField, Classify, ErrorKind};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let wrapped = std::io::Error::other(refused);
/// assert_eq!(Classify::kind(wrapped.as_chain()), ErrorKind::Connect);
/// assert_eq!(Classify::kind(std::fmt::Error.as_chain()), ErrorKind::Unknown);
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[classify(chain)]` classifies an error by its `source()` chain, and `{Self}` is not an error",
    label = "not `std::error::Error + 'static`",
    note = "give the variant (or struct) a kind of its own instead (`#[classify(Permanent)]`), or, if `{Self}` implements `Classify`, `#[classify(transparent)]`"
)]
pub trait ChainField {
    /// The field, as the first error of its chain.
    fn as_chain(&self) -> &(dyn std::error::Error + 'static);
}

impl<E: std::error::Error + 'static> ChainField for E {
    #[inline(always)]
    fn as_chain(&self) -> &(dyn std::error::Error + 'static) {
        self
    }
}
