//! [`RetryFuture`]: an awaited [`Retry`] of an async operation, one loop
//! that holds the attempt's future or the sleep's timer, never both.

use core::fmt::{self, Display};
use core::future::{Future, IntoFuture};
use core::ops::ControlFlow;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use super::Retry;
use super::if_ok::{AnyOk, KeepsOk, OkCheck, OkSlot};
use crate::attempt::Op;
use crate::classify::KindSet;
use crate::form::{Finish, Form};
use crate::nested;
use crate::policy::{Guards, Policy, RetriedKinds, When};
use crate::run::{Admission, Guarded, LazyRun, Notify, Settled};
use crate::signal::{NoStop, StopSignal};
use crate::sleep::{self, Sleeper};
use crate::stop::StopReason;

pin_project! {
    /// The future of an awaited [`Retry`] of an async operation: one loop,
    /// holding the attempt's future or the sleep's timer, never both.
    ///
    /// It is [`Debug`](fmt::Debug) whatever the operation and its future:
    /// it shows the policy, the output form, the attempts made so far and
    /// the step it is in (`Start`, `Attempt` or `Sleep`).
    ///
    /// A future of its own, to store or spawn: `.into_future()` makes it
    /// without awaiting it. Spawned, it needs a `'static` policy (a
    /// `static`) and a `'static` operation.
    ///
    /// ```
    /// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::future::IntoFuture;
    /// use retry_runtime::Policy;
    /// static FETCH: Policy = Policy::new().with_max_attempts(3);
    /// let mut tasks = Vec::new();
    /// for id in [1, 2, 3] {
    ///     let retry = FETCH.retry(move || async move { if id == 2 { Err("gone") } else { Ok(id * 10) } });
    ///     tasks.push(tokio::spawn(retry.into_future())); // `spawn` takes a `Future`, not an `IntoFuture`
    /// }
    /// let mut results = Vec::new();
    /// for task in tasks { results.push(task.await.unwrap()); }
    /// assert_eq!(results, [Ok(10), Err("gone"), Ok(30)]);
    /// # }
    /// # #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))] fn main() {}
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct RetryFuture<
        'p, W, G: Guards, F, Fut, S: Sleeper, N, D, X = NoStop, K: KeepsOk<X> = AnyOk,
    > {
        policy: &'p Policy<W, G>,
        op: F,
        sleeper: S,
        notify: N,
        run: Guarded<LazyRun, G>,
        detail: D,
        check: K,
        // (the rejected value a stop would return, through the wait
        // before its retry: nothing without a stop)
        kept: K::Kept,
        #[pin]
        step: Step<Fut, S::Sleep>,
        #[pin]
        stop: X,
    }
}

/// Shows the policy, the output form, the attempts made so far (0 while
/// the first is in flight) and the step: `Start` (no attempt started yet),
/// `Attempt` (one in flight) or `Sleep` (waiting before the next); not the
/// operation, its future, the sleeper or the hook, which need not be `Debug`.
///
/// ```
/// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::future::{Future, IntoFuture};
/// use std::task::Poll;
/// use std::time::Duration;
/// use retry_runtime::{Backoff, Policy};
///
/// let policy = Policy::new()
///     .with_name("upload")
///     .with_max_attempts(2)
///     .with_backoff(Backoff::fixed(Duration::from_secs(1)));
/// let mut calls = 0;
/// let fut = policy
///     .retry(|| { calls += 1; async { Err::<(), _>("down") } })
///     .into_future();
/// let shown = format!("{fut:?}");
/// assert!(shown.starts_with(r#"RetryFuture { policy: Policy { name: "upload","#), "{shown}");
/// assert!(shown.ends_with("form: Plain, attempts: 0, step: Start, .. }"), "{shown}");
///
/// let mut fut = Box::pin(fut);
/// // one poll: the first attempt fails, the future sleeps before the second
/// let once = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
/// assert!(once.is_pending());
/// assert!(format!("{fut:?}").ends_with("attempts: 1, step: Sleep, .. }"));
/// assert_eq!(fut.await, Err("down"));
/// # }
/// # #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))] fn main() {}
/// ```
impl<W: fmt::Debug, G: Guards, F, Fut, S: Sleeper, N, D: fmt::Debug, X, K: KeepsOk<X>> fmt::Debug
    for RetryFuture<'_, W, G, F, Fut, S, N, D, X, K>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Start => "Start",
            Step::Attempt { .. } | Step::AttemptInSpan { .. } => "Attempt",
            Step::Sleep { .. } => "Sleep",
        };
        f.debug_struct("RetryFuture")
            .field("policy", self.policy)
            .field("form", &self.detail)
            .field("attempts", &self.run.attempts())
            .field("step", &format_args!("{step}"))
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// Where a [`RetryFuture`] is.
    #[project = StepProj]
    #[project_replace = StepReplace]
    // A tag of its own, read in one load (the niche in tokio's `Sleep` costs
    // a subtraction and a compare per lookup); the kinds sit in its padding.
    #[repr(u8)]
    enum Step<Fut, Sl> {
        /// About to start an attempt (ask the breaker, call `op`).
        Start,
        /// Awaiting an attempt, with the kinds published around each poll
        /// of it (`policy.published_kinds()`, asked when the attempt
        /// starts, not at each poll: the policy is behind a reference the
        /// optimizer cannot see through).
        Attempt { kinds: KindSet, #[pin] fut: Fut },
        /// Awaiting an attempt in its span (a policy with attempt spans): a
        /// variant of its own, so that the common one never handles a span.
        AttemptInSpan { #[pin] fut: Fut, span: AttemptSpan },
        /// Awaiting the wait before the next attempt.
        Sleep { #[pin] sleep: Sl },
    }
}

/// The span of an attempt in its step (a policy with attempt spans),
/// while the attempt runs: taken out when it finishes, for the decision,
/// so a span still here when the step is dropped is an attempt cancelled
/// (the call dropped mid-attempt), which its drop records. Closed by an
/// out-of-line call: the span's own drop (a call into the dispatcher, a
/// reference count, their unwinding) inline in the step made
/// [`RetryFuture`]'s drop glue too large to inline, so every finished
/// future paid a call to drop it, with spans or without.
struct AttemptSpan(Option<tracing::Span>);

impl AttemptSpan {
    /// Enter the span (it is there until the attempt finishes).
    #[inline]
    fn enter(&self) -> Option<tracing::span::Entered<'_>> {
        self.0.as_ref().map(tracing::Span::enter)
    }
}

impl Drop for AttemptSpan {
    #[inline(always)]
    fn drop(&mut self) {
        if self.0.is_some() {
            close_span(&mut self.0);
        }
    }
}

/// The span of an attempt that did not finish: it was cancelled.
#[cold]
#[inline(never)]
fn close_span(span: &mut Option<tracing::Span>) {
    if let Some(span) = span.take() {
        crate::span::attempt_dropped(&span);
    }
}

/// Moves a [`RetryFuture`] to its next step. Not `Pin::set`, which calls
/// the whole enum's drop glue out of line (a call per step, the old step
/// unknown to it): the old step is matched here, inline, where the caller
/// often knows it (from `Start`, nothing to drop).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn step_to<Fut, Sl>(step: Pin<&mut Step<Fut, Sl>>, next: Step<Fut, Sl>) {
    // (the old step's pinned fields are dropped in place; the span, the one
    // unpinned field, comes back and is dropped here)
    drop(step.project_replace(next));
}

/// The step of a new attempt (a policy without attempt spans): `op`'s
/// future, and the kinds published around each poll of it.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn attempt_step<W: RetriedKinds, G, F: Op, Sl>(
    policy: &Policy<W, G>,
    run: &mut LazyRun,
    op: &mut F,
) -> Step<F::Output, Sl> {
    // made with the kinds published, as it is polled: a run the operation
    // makes before its future (a sync one, say) defers to this one too
    let kinds = policy.published_kinds();
    let fut = {
        let _published = nested::publish(kinds);
        op.attempt(|| run.next_attempt(policy))
    };
    Step::Attempt { kinds, fut }
}

/// Poll an attempt in its span, and settle its outcome in it (out of line:
/// a policy with attempt spans). The span closes when the step moves on.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)] // (the future's fields, split for the borrow checker)
fn settle_in_span<W, G, Fut, T, E, N, X, K>(
    span: &mut AttemptSpan,
    fut: Pin<&mut Fut>,
    cx: &mut Context<'_>,
    policy: &Policy<W, G>,
    run: &mut LazyRun,
    notify: &mut N,
    mut stop: Pin<&mut X>,
    check: &mut K,
    kept: &mut impl OkSlot<T>,
) -> Poll<ControlFlow<Settled<T, E>, core::time::Duration>>
where
    Fut: Future<Output = Result<T, E>>,
    W: When<E>,
    E: Display,
    N: Notify<E>,
    X: StopSignal<E>,
    K: OkCheck<T>,
{
    let outcome = {
        let _entered = span.enter();
        let _published = nested::publish(policy.published_kinds());
        ready!(fut.poll(cx))
    };
    // The attempt finished: its span leaves the step (which would take it
    // for cancelled), for the decision, in it (a failure marks it).
    let span = span.0.take();
    let _entered = span.as_ref().map(tracing::Span::enter);
    let marks = crate::span::marks(span.as_ref());
    let rejected = K::ACTIVE && matches!(&outcome, Ok(v) if check.rejects(v));
    // (a stop signal that fired ends the run at this failure, as on the
    // path without spans: asked once the attempt has ended)
    if X::ACTIVE && (outcome.is_err() || rejected) {
        let fired = stop.as_mut().poll_fired(cx);
        run.failed_with_signal(policy, fired);
    }
    Poll::Ready(run.settle_checked(
        policy,
        outcome,
        rejected,
        notify,
        marks,
        |e| stop.keep(e),
        |v| {
            if X::ACTIVE {
                kept.keep(v);
            }
        },
    ))
}

/// The timer of the wait before a run's first attempt, when the policy's
/// cooldown asks for one.
#[inline]
fn first_wait<W, G, S: Sleeper>(
    policy: &Policy<W, G>,
    sleeper: &S,
    again: bool,
) -> Option<S::Sleep> {
    // (the test inline: `first_wait_of` is out of line, and most
    // policies have no cooldown)
    policy.cooldown?;
    let wait = crate::cooldown::first_wait_of(policy, again)?;
    let how = sleep::wait_on(sleeper, wait);
    (how != sleep::Wait::Skip).then(|| sleep::timer(sleeper, wait, how))
}

/// After a sleep of a run of a policy with a cooldown: the timer of a
/// first attempt's wait for a hold made longer meanwhile, once (a
/// retry's sleep, or the second check, none).
#[cold]
#[inline(never)]
fn held_again<W, G, S: Sleeper>(
    policy: &Policy<W, G>,
    run: &mut LazyRun,
    sleeper: &S,
) -> Option<S::Sleep> {
    if run.attempts() > 0 || !run.hold_again() {
        return None;
    }
    first_wait(policy, sleeper, true)
}

/// Start an attempt in its span (a policy with attempt spans): the
/// attempt's future, made in the span, and the span.
#[cold]
#[inline(never)]
fn start_in_span<W: RetriedKinds, G, F: Op>(
    policy: &Policy<W, G>,
    run: &mut LazyRun,
    op: &mut F,
) -> (F::Output, AttemptSpan) {
    let span = crate::span::attempt_span(policy.name, run.attempts().saturating_add(1));
    let fut = span.in_scope(|| {
        let _published = nested::publish(policy.published_kinds());
        op.attempt(|| run.next_attempt(policy))
    });
    (fut, AttemptSpan(Some(span)))
}

// Awaitable whenever its future is a future (the bounds are the future's).
impl<'p, W, G, F, Fut, T, E, S, N, D, X, K> IntoFuture for Retry<'p, W, G, F, S, N, D, X, K>
where
    W: RetriedKinds,
    G: Guards,
    F: Op<Output = Fut>,
    Fut: Future<Output = Result<T, E>>,
    N: Notify<E>,
    S: Sleeper,
    K: KeepsOk<X>,
    D: Form,
    RetryFuture<'p, W, G, F, Fut, S, N, D, X, K>: Future,
{
    type Output = <Self::IntoFuture as Future>::Output;
    type IntoFuture = RetryFuture<'p, W, G, F, Fut, S, N, D, X, K>;

    #[inline]
    fn into_future(self) -> Self::IntoFuture {
        RetryFuture {
            // the detailed form and the context tell the time since the
            // start, and so do a per-call hook's events
            run: Guarded::of(
                self.policy,
                if D::TIMED || F::WANTS_ATTEMPT || N::ACTIVE {
                    LazyRun::timed(self.policy)
                } else {
                    LazyRun::new(self.policy)
                },
            ),
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: self.notify,
            detail: self.detail,
            check: self.check,
            kept: Default::default(),
            step: Step::Start,
            stop: self.stop,
        }
    }
}

impl<W, G, F, Fut, T, E, S, N, D, X, K> Future for RetryFuture<'_, W, G, F, Fut, S, N, D, X, K>
where
    F: Op<Output = Fut>,
    Fut: Future<Output = Result<T, E>>,
    W: When<E>,
    G: Admission<E>,
    E: Display,
    S: Sleeper,
    N: Notify<E>,
    D: Finish<T, E>,
    X: StopSignal<E>,
    K: OkCheck<T> + KeepsOk<X, Kept: OkSlot<T>>,
{
    type Output = D::Output;

    // The first attempt of a run that keeps no state, inline, as a hand
    // loop makes it: call `op`, poll its future, return a success. Any
    // other step, and any other outcome, goes to `poll_steps`, out of
    // line, so this function holds (and saves) few registers, and the
    // caller's first poll knows the step it starts from.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<D::Output> {
        let outcome = {
            let mut this = self.as_mut().project();
            // A stop signal is polled once before the first attempt: one
            // that listens from its first poll on (`ctrl_c()`) hears a
            // signal that comes during that attempt. (Folded away without.)
            if X::ACTIVE && matches!(this.step.as_mut().project(), StepProj::Start) {
                let _ = this.stop.as_mut().poll_fired(cx);
            }
            let outcome = match this.step.as_mut().project() {
                StepProj::Attempt { kinds, fut } => {
                    let _published = nested::publish(*kinds);
                    ready!(fut.poll(cx))
                }
                // (a run with no state has no guard to ask: a policy with
                // one starts with a state)
                StepProj::Start if this.run.is_empty() && !this.policy.attempt_spans => {
                    // made and polled under one publication of the kinds
                    let kinds = this.policy.published_kinds();
                    let _published = nested::publish(kinds);
                    let fut = this.op.attempt(|| this.run.next_attempt(this.policy));
                    step_to(this.step.as_mut(), Step::Attempt { kinds, fut });
                    match this.step.as_mut().project() {
                        StepProj::Attempt { fut, .. } => ready!(fut.poll(cx)),
                        _ => return self.poll_steps(cx, None),
                    }
                }
                _ => return self.poll_steps(cx, None),
            };
            match outcome {
                // (an `Ok` that `retry_if_ok` checks is settled below, where
                // the check is asked once)
                Ok(value) if !K::ACTIVE && this.run.is_empty() => {
                    this.run.succeeded(this.policy);
                    return Poll::Ready(D::ok(value, this.run));
                }
                outcome => outcome,
            }
        };
        self.poll_steps(cx, Some(outcome))
    }
}

impl<W, G, F, Fut, T, E, S, N, D, X, K> RetryFuture<'_, W, G, F, Fut, S, N, D, X, K>
where
    F: Op<Output = Fut>,
    Fut: Future<Output = Result<T, E>>,
    W: When<E>,
    G: Admission<E>,
    E: Display,
    S: Sleeper,
    N: Notify<E>,
    D: Finish<T, E>,
    X: StopSignal<E>,
    K: OkCheck<T> + KeepsOk<X, Kept: OkSlot<T>>,
{
    /// Every step of the run, from the outcome of the attempt just polled
    /// (`first`) if there is one, else from the step the future is in.
    #[inline(never)]
    fn poll_steps(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        first: Option<Result<T, E>>,
    ) -> Poll<D::Output> {
        let mut this = self.project();
        // Ask the breaker, then start the next attempt in place: from the
        // start, straight after a failure with no wait, and after a sleep.
        macro_rules! admit {
            () => {
                if let Err((e, reason)) = this.run.admit_or_stop(this.policy) {
                    let run = core::mem::replace(&mut **this.run, LazyRun::empty());
                    let e = run.into_error(this.policy, e, reason);
                    return Poll::Ready(D::err(e));
                }
            };
        }
        macro_rules! start_attempt {
            () => {{
                admit!();
                let (policy, run) = (*this.policy, &mut *this.run);
                if policy.attempt_spans {
                    let (fut, span) = start_in_span(policy, run, &mut *this.op);
                    step_to(this.step.as_mut(), Step::AttemptInSpan { fut, span });
                } else {
                    let next = attempt_step(policy, run, &mut *this.op);
                    step_to(this.step.as_mut(), next);
                }
            }};
        }
        // The run ended: its output.
        macro_rules! finished {
            ($settled:expr) => {
                return Poll::Ready(match $settled {
                    Settled::Ok(value) => D::ok(value, this.run),
                    Settled::Err(e) => D::err(e),
                    Settled::Rejected(value, reason) => {
                        let (attempts, elapsed) = this.run.progress();
                        D::rejected(value, reason, attempts, elapsed)
                    }
                })
            };
        }
        // A wait is over (or skipped): drop what a stop kept for it, the
        // error or the rejected value (a constant nothing without a stop).
        macro_rules! forget {
            () => {
                this.stop.as_mut().forget();
                if X::ACTIVE {
                    drop(this.kept.take());
                }
            };
        }
        // A stop that came before the retry the run waits to make (in its
        // wait, or, with no wait, from the hook that announced it) ends the
        // run with what it kept: the error, or the rejected value.
        macro_rules! stopped_before_retry {
            () => {
                if let Some(e) = this.stop.as_mut().poll_stop(cx) {
                    return Poll::Ready(D::err(this.run.stopped_in_wait(this.policy, e)));
                }
                if X::ACTIVE && this.kept.holds() && this.stop.as_mut().poll_fired(cx) {
                    if let Some(value) = this.kept.take() {
                        let (attempts, elapsed) = this.run.stopped_in_wait_ok(this.policy);
                        return Poll::Ready(D::rejected(
                            value,
                            StopReason::Stopped,
                            attempts,
                            elapsed,
                        ));
                    }
                }
            };
        }
        // After an attempt: return, sleep, or start the next one at once.
        macro_rules! go_on {
            ($flow:expr) => {
                match $flow {
                    ControlFlow::Break(settled) => finished!(settled),
                    ControlFlow::Continue(wait) => {
                        let how = sleep::wait_on(&*this.sleeper, wait);
                        if how != sleep::Wait::Skip {
                            let sleep = sleep::timer(&*this.sleeper, wait, how);
                            step_to(this.step.as_mut(), Step::Sleep { sleep });
                        } else {
                            if X::ACTIVE {
                                stopped_before_retry!();
                            }
                            forget!();
                            start_attempt!();
                        }
                    }
                }
            };
        }
        // The step the attempt just started in, looked up again in straight
        // code, where the optimizer knows it (a lookup at the top of the
        // loop is a jump through a table, taken twice on a first attempt).
        macro_rules! started {
            () => {
                match this.step.as_mut().project() {
                    StepProj::Attempt { kinds, fut } => (*kinds, fut),
                    _ => continue,
                }
            };
        }
        // (the attempt that made `first` is the step's: it is settled, and
        // retried in its place, as any other attempt is below)
        let mut first = first;
        loop {
            let (kinds, mut fut) = match this.step.as_mut().project() {
                StepProj::Attempt { kinds, fut } => (*kinds, fut),
                StepProj::Start => {
                    // A first attempt waits out the policy's cooldown (its
                    // hold, then its pace's slot): a run of a policy with
                    // one has its state from the start, so comes here. Not
                    // once the stop signal has fired (polled in `poll`, just
                    // before): the attempt is then made at once, in its
                    // slot's stead. (Folded away without a signal.)
                    let wait = if X::ACTIVE
                        && this.policy.cooldown.is_some()
                        && this.stop.as_mut().poll_fired(cx)
                    {
                        crate::cooldown::first_slot_of(*this.policy);
                        None
                    } else {
                        first_wait(*this.policy, &*this.sleeper, false)
                    };
                    if let Some(sleep) = wait {
                        step_to(this.step.as_mut(), Step::Sleep { sleep });
                        continue;
                    }
                    start_attempt!();
                    started!()
                }
                StepProj::Sleep { sleep } => {
                    stopped_before_retry!();
                    // A first attempt's wait for the cooldown ends when the
                    // stop signal fires: with no error to end the run with,
                    // the attempt is made at once (its failure then ends
                    // it), its pace's slot kept (the attempt counts against
                    // the pace, early). (Folded away without a signal.)
                    let cut =
                        X::ACTIVE && this.run.attempts() == 0 && this.stop.as_mut().poll_fired(cx);
                    if !cut {
                        ready!(sleep.poll(cx));
                        // (a first attempt's wait for the cooldown: a hold
                        // made longer meanwhile is waited out too, once)
                        if this.policy.cooldown.is_some() {
                            if let Some(sleep) = held_again(*this.policy, this.run, &*this.sleeper)
                            {
                                step_to(this.step.as_mut(), Step::Sleep { sleep });
                                continue;
                            }
                        }
                    }
                    forget!();
                    start_attempt!();
                    started!()
                }
                StepProj::AttemptInSpan { fut, span } => {
                    let (policy, run, notify) = (*this.policy, &mut *this.run, &mut *this.notify);
                    let flow = ready!(settle_in_span::<W, G, Fut, T, E, N, X, K>(
                        span,
                        fut,
                        cx,
                        policy,
                        run,
                        notify,
                        this.stop.as_mut(),
                        this.check,
                        this.kept,
                    ));
                    go_on!(flow);
                    continue;
                }
            };
            loop {
                // `settle_keeping` consumes the error, and the wait is taken out of
                // its result before the sleep: nothing of the error is held
                // while sleeping, so the future is `Send` even when `E` is
                // not (but for a stop signal's, which keeps the error for
                // the wait, `StopOn`). Done: the finished attempt's future stays where it is
                // (dropped with this future); a finished future is not
                // polled again.
                let outcome = match first.take() {
                    Some(outcome) => outcome,
                    None => {
                        let _published = nested::publish(kinds);
                        ready!(fut.as_mut().poll(cx))
                    }
                };
                // (a constant `false` without `retry_if_ok`)
                let rejected = K::ACTIVE && matches!(&outcome, Ok(v) if this.check.rejects(v));
                // (a constant `false` without a stop signal)
                if X::ACTIVE && (outcome.is_err() || rejected) {
                    let fired = this.stop.as_mut().poll_fired(cx);
                    this.run.failed_with_signal(this.policy, fired);
                }
                // A retry with no wait starts the next attempt in the
                // finished one's place and polls it at once: only the
                // attempt's future is dropped, not the whole step, and the
                // step is not looked up again. (An `Attempt` step is only
                // ever made for a policy without attempt spans.)
                let wait = match outcome {
                    Ok(value) if rejected => {
                        let kept = &mut *this.kept;
                        let keep_ok = |v| {
                            if X::ACTIVE {
                                kept.keep(v);
                            }
                        };
                        match this
                            .run
                            .settle_rejected(this.policy, value, this.notify, keep_ok)
                        {
                            ControlFlow::Break((value, reason)) => {
                                finished!(Settled::Rejected(value, reason))
                            }
                            ControlFlow::Continue(wait) => wait,
                        }
                    }
                    outcome => {
                        let stop = this.stop.as_mut();
                        let flow = this.run.settle_keeping(
                            this.policy,
                            outcome,
                            this.notify,
                            false,
                            |e| {
                                stop.keep(e);
                            },
                        );
                        match flow {
                            ControlFlow::Break(Ok(value)) => {
                                return Poll::Ready(D::ok(value, this.run));
                            }
                            ControlFlow::Break(Err(e)) => return Poll::Ready(D::err(e)),
                            ControlFlow::Continue(wait) => wait,
                        }
                    }
                };
                let how = sleep::wait_on(&*this.sleeper, wait);
                if how != sleep::Wait::Skip {
                    let sleep = sleep::timer(&*this.sleeper, wait, how);
                    step_to(this.step.as_mut(), Step::Sleep { sleep });
                    break;
                }
                // (folded away without a stop signal)
                if X::ACTIVE {
                    stopped_before_retry!();
                }
                forget!();
                admit!();
                let (policy, run) = (*this.policy, &mut *this.run);
                // made and polled at once, under one publication of the
                // kinds (a run the operation makes before its future, a sync
                // one say, defers to this one as the future's own runs do)
                let _published = nested::publish(kinds);
                fut.set(this.op.attempt(|| run.next_attempt(policy)));
                first = Some(ready!(fut.as_mut().poll(cx)));
            }
        }
    }
}
