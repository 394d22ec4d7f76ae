//! [`ResponseFuture`], the future of a
//! [`RetryService`](super::RetryService) call: the run's loop over attempts
//! and waits.

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use core::time::Duration;
use std::error::Error as StdError;
use std::future::Future;

use pin_project_lite::pin_project;
use tower_service::Service;

use super::hooks::Told;
use super::{
    AttemptLimit, ClassifyHook, Error, FixedPolicy, Hooks, NoTimeout, NotReady, Replay, RetryHook,
};
use crate::chain::{FindClassify, classify_error, never_sent, no_classify};
use crate::classify::Classify;
use crate::log;
use crate::nested;
use crate::policy::{Decision, Guards, Policy, When};
use crate::response::{ClassifyResponse, Failure, NotReplayable, RetryReport};
use crate::run::token_wait::TokenWait;
use crate::run::{
    Admission, Guarded, LazyRun, NoNotify, deadline_or_deferred, ended_before_retry, too_late,
};
use crate::sleep::{self, Sleeper};
use crate::stop::StopReason;
use crate::timeout::AttemptTimeout;

pin_project! {
    /// The future of a [`RetryService`](super::RetryService) call: one loop
    /// over attempts and waits, holding the attempt's future or the sleep's
    /// timer, never both. It allocates nothing of its own (each attempt sends
    /// a copy of the request, made by [`Replay::replay`]).
    ///
    /// It is [`Debug`](fmt::Debug) whatever the service, the request and
    /// the sleeper: it shows the policy, the per-attempt timeout, why the
    /// request is sent once (if it is), the attempts made so far and the
    /// step it is in (`Start`, `Attempt` or `Sleep`).
    ///
    /// It is `Send` and `'static` when the service, its future, the request
    /// and the sleeper are (and the part of the request its reading keeps,
    /// `K`: nothing, `()`, unless the layer's reading is told what was
    /// sent, [`with_classify_sent`](super::RetryLayer::with_classify_sent)):
    /// a call can be spawned.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use tower::{Layer, Service};
    /// use retry_runtime::presets;
    ///
    /// let answer = |_: http::Request<String>| async { Ok::<_, Infallible>(http::Response::new(String::new())) };
    /// let mut svc = presets::API.layer().layer(tower::service_fn(answer));
    /// let call = svc.call(http::Request::get("/clips/7").body(String::new()).unwrap());
    /// let response = tokio::spawn(call).await.unwrap().unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    // (`repr(C)`: the fields in the order written, the request beside the
    // run and the step last, so that the caller's moves of the future are
    // one copy each. Left to rustc, the order follows each field's spare
    // values, which a change to the run's state shifts: the `call` id
    // (a303a17) put the step between the request and the run, a second
    // `memcpy` per move, +16 instructions per call. bench/callgrind.sh
    // tower:ours, success / 4 failures / per retry: 1270/3602/583 left to
    // rustc, 1206/3553/586 in this order.)
    #[repr(C)]
    pub struct ResponseFuture<S, Req, W, G, Sl, T = NoTimeout, H = Hooks, P = FixedPolicy<W, G>, K = ()>
    where
        S: Service<Req>,
        Sl: Sleeper,
        T: AttemptLimit,
        W: 'static,
        G: 'static,
        G: Guards,
    {
        // (a pointer, `FixedPolicy`, for a layer made with `new` or
        // `from_fn`: copying the policy into each call cost more than the
        // rest of the call's own work; a copy, `OwnedPolicy`, for one made
        // with `from_policy`)
        pub(super) policy: P,
        // (`W` is the policy's, which `P` holds or points to)
        pub(super) of: PhantomData<fn() -> W>,
        pub(super) service: S,
        // The request, kept to copy for each attempt (and sent itself
        // when no copy can be made).
        pub(super) request: Option<Req>,
        pub(super) run: Guarded<LazyRun, G>,
        // Why the request is sent once, if it is.
        pub(super) once: Option<&'static str>,
        pub(super) timeout: T,
        pub(super) classify: FindClassify,
        pub(super) sleeper: Sl,
        // The layer's `with_notify` and its reading of responses
        // (`with_classify_response`, `with_classify_sent`; two zero-sized
        // defaults without them).
        pub(super) hooks: H,
        // What the layer's response reading keeps of the request, taken
        // at the call's start (`()`, no room, for a reading of the
        // response alone).
        pub(super) sent: K,
        // Is `service` ready for a call (it is when the call starts)?
        pub(super) ready: bool,
        // Does the `Sleep` step hold the deadline of a wait for the
        // service's readiness (not a wait between attempts)?
        pub(super) readying: bool,
        #[pin]
        pub(super) step: Step<S::Future, T::Deadline<Sl::Sleep>, TokenWait<Sl::Sleep>>,
    }
}

pin_project! {
    /// Where a [`ResponseFuture`] is.
    #[project = StepProj]
    #[project_replace = StepReplace]
    // A tag of its own, as `RetryFuture`'s step has: read in one byte load
    // (tokio's `Sleep` niche cost a subtraction and a compare per lookup),
    // and a success moves fewer bytes (-26 instructions per call).
    #[repr(u8)]
    pub(super) enum Step<F, Dl, Sl> {
        /// About to make an attempt: wait for the service, ask the breaker, call.
        Start,
        /// Awaiting an attempt, and its deadline (one that never comes, and
        /// takes no room, without a timeout: [`NoTimeout`]).
        Attempt { #[pin] fut: F, #[pin] deadline: Dl },
        /// Awaiting the wait before the next attempt (before the first:
        /// a shared cooldown's hold or pace slot); or, when the
        /// future's `readying` is set, the service's readiness for a retry,
        /// with this timer at the policy's `max_elapsed` (a variant of its
        /// own cost every call 7 instructions: the step's drop and match
        /// grew).
        Sleep { #[pin] sleep: Sl },
    }
}

/// Shows the policy, the per-attempt timeout, why the request is sent once
/// (`None`: it may be sent again; with the layer's `with_retry_refused`,
/// it is still sent again while its connection is refused), the attempts
/// made so far (0 while the
/// first is in flight) and the step: `Start` (waiting for the service to be
/// ready, or no attempt started yet), `Attempt` (one in flight) or `Sleep`
/// (waiting before the next, or, with `max_elapsed`, for the service to be
/// ready until then; with 0 attempts, before the first, for a shared
/// cooldown's hold or pace); not the service, the request or the sleeper,
/// which need not be `Debug`.
///
/// ```
/// use std::convert::Infallible;
/// use tower::{Layer, Service};
/// use retry_runtime::Policy;
///
/// // a service that is never `Debug`: a closure
/// let answer = |_: http::Request<String>| async { Ok::<_, Infallible>(http::Response::new(String::new())) };
/// static POLICY: Policy = Policy::new().with_name("upload").with_max_attempts(2);
/// let mut svc = POLICY.layer().layer(tower::service_fn(answer));
/// let fut = svc.call(http::Request::post("/clips").body(String::new()).unwrap());
/// let shown = format!("{fut:?}");
/// assert!(shown.starts_with(r#"ResponseFuture { policy: Policy { name: "upload","#), "{shown}");
/// assert!(shown.contains("timeout: None, sent_once: Some(\"its method is not idempotent"), "{shown}");
/// assert!(shown.ends_with("attempts: 0, step: Start, .. }"), "{shown}");
/// ```
impl<S, Req, W: fmt::Debug + 'static, G: Guards + 'static, Sl, T, H, P, K> fmt::Debug
    for ResponseFuture<S, Req, W, G, Sl, T, H, P, K>
where
    S: Service<Req>,
    Sl: Sleeper,
    T: AttemptLimit,
    P: Deref<Target = Policy<W, G>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Start => "Start",
            Step::Attempt { .. } => "Attempt",
            Step::Sleep { .. } => "Sleep",
        };
        f.debug_struct("ResponseFuture")
            .field("policy", &*self.policy)
            .field("timeout", &self.timeout.limit())
            .field("sent_once", &self.once)
            .field("attempts", &self.run.attempts_made())
            .field("step", &format_args!("{step}"))
            .finish_non_exhaustive()
    }
}

impl<S, Req, W: 'static, G: 'static, Sl, T, N, C, P, K> Future
    for ResponseFuture<S, Req, W, G, Sl, T, Hooks<N, C>, P, K>
where
    P: Deref<Target = Policy<W, G>>,
    S: Service<Req>,
    S::Response: ClassifyResponse,
    S::Error: StdError + 'static,
    Req: Replay,
    W: When<Failure<S::Response, S::Error>>,
    G: Admission<Failure<S::Response, S::Error>>,
    Sl: Sleeper,
    T: AttemptLimit,
    N: RetryHook<Failure<S::Response, S::Error>>,
    C: ClassifyHook<S::Response, Sent = K>,
{
    type Output = Result<S::Response, T::CallError<S::Error>>;

    // As `RetryFuture::poll`: inlined into the caller's future in release
    // builds (the success path is a few checks around the inner call).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // The run ends on `error`, stopped for `reason`: the error as the
        // call gives it back (beside its report, for a layer
        // `with_report`; as it is, with no code, without).
        macro_rules! failed {
            ($error:expr, $reason:expr) => {{
                let error = $error;
                Poll::Ready(Err(T::call_error(error, || report_of(this.run, $reason))))
            }};
        }
        // Wait for the service, ask the breaker, then make the next attempt
        // (its future and its deadline): from the start, and after a wait.
        macro_rules! next_attempt {
            () => {{
                if !*this.ready {
                    // tower's rule: a service is called only once ready.
                    match this.service.poll_ready(cx) {
                        Poll::Ready(Ok(())) => *this.ready = true,
                        // The service is broken (tower: discard it): the
                        // run ends on its error, announced as any give-up.
                        Poll::Ready(Err(e)) => {
                            let (error, reason) = broken(this.run, this.policy, *this.classify, e);
                            return failed!(error, reason);
                        }
                        // (out of line: a retry's wait for the service)
                        Poll::Pending => {
                            return not_yet_ready::<_, _, _, _, _, _, _, T>(
                                this.step.as_mut(),
                                this.readying,
                                this.run,
                                this.policy,
                                &*this.sleeper,
                                cx,
                            );
                        }
                    }
                }
                // (a retry under a timeout whose wait ended past the
                // deadline is not made, nor its breaker asked; a constant
                // `false` without a timeout)
                if this.timeout.limit().is_some() && this.run.attempts_made() > 0 {
                    if let Some(gone) = too_late(this.run, this.policy) {
                        return failed!(Error::Timeout(gone), StopReason::Deadline);
                    }
                }
                if let Err((rejected, reason)) = this.run.admit_or_stop(this.policy) {
                    return match Failure::into_result(rejected) {
                        Err(error) => failed!(error, reason),
                        Ok(response) => Poll::Ready(Ok(response)),
                    };
                }
                // A copy while one can be made; the request itself
                // when not, and then no attempt after this one.
                let copy = match this.request.as_ref() {
                    Some(request) if this.run.may_retry_next(this.policy) => {
                        T::replay(request, || this.run.next_attempt(this.policy))
                    }
                    _ => None,
                };
                let request = match copy {
                    Some(copy) => copy,
                    None => match this.request.take() {
                        Some(request) => {
                            no_more_attempts(this.policy, this.run, this.once);
                            T::carry_attempt(request, || this.run.next_attempt(this.policy))
                        }
                        // Cannot happen: the attempt that sent the
                        // request itself was the run's last.
                        None => {
                            return failed!(
                                Error::NotReplayable(NotReplayable),
                                StopReason::Permanent
                            );
                        }
                    },
                };
                *this.ready = false;
                this.service.call(request)
            }};
        }
        // The step an attempt was just made in, looked up again in straight
        // code, where the optimizer knows it (not through the jump at the
        // loop's top, taken twice on a first attempt).
        // (the deadline is made where it is stored: a future moved fewer
        // times, as a pair, is copied fewer times)
        macro_rules! started {
            ($fut:expr) => {{
                step_to(
                    this.step.as_mut(),
                    Step::Attempt {
                        fut: $fut,
                        deadline: this
                            .timeout
                            .deadline(this.sleeper, || time_left(this.policy, this.run)),
                    },
                );
                match this.step.as_mut().project() {
                    StepProj::Attempt { fut, deadline } => (fut, deadline),
                    _ => continue,
                }
            }};
        }
        loop {
            let (mut fut, mut deadline) = match this.step.as_mut().project() {
                StepProj::Attempt { fut, deadline } => (fut, deadline),
                StepProj::Start => {
                    // (the report's time, and the `with_notify` hook's
                    // events' `elapsed`, from the start, as a per-call
                    // hook's are in every form; constants, false without)
                    if T::REPORTS || <N as RetryHook<Failure<S::Response, S::Error>>>::__active() {
                        this.run.start_clock(this.policy);
                    }
                    // A first attempt waits out a shared cooldown's hold
                    // and takes its pace's slot (a retry's wait was
                    // lengthened to them when it was decided).
                    if this.policy.cooldown().is_some() {
                        let wait = first_wait(this.policy, this.run, &*this.sleeper, false);
                        if let Some(sleep) = wait {
                            step_to(this.step.as_mut(), Step::Sleep { sleep });
                            continue;
                        }
                    }
                    let fut = next_attempt!();
                    started!(fut)
                }
                StepProj::Sleep { sleep } => {
                    if *this.readying {
                        // woken by the service (ready now?) or by the
                        // deadline: no retry starts past it, ready or not
                        if let Deadline::Passed(gone) =
                            deadline_state(sleep, this.run, this.policy, cx)
                        {
                            return failed!(gone, StopReason::Deadline);
                        }
                        *this.readying = false;
                    } else {
                        ready!(sleep.poll(cx));
                        // (a first attempt's wait for a cooldown: a hold
                        // made longer meanwhile is waited out too, once)
                        if this.policy.cooldown().is_some()
                            && this.run.attempts_made() == 0
                            && this.run.hold_again()
                        {
                            let wait = first_wait(this.policy, this.run, &*this.sleeper, true);
                            if let Some(sleep) = wait {
                                step_to(this.step.as_mut(), Step::Sleep { sleep });
                                continue;
                            }
                        }
                    }
                    let fut = next_attempt!();
                    started!(fut)
                }
            };
            loop {
                // polled with the kinds this run retries published, for the
                // retried calls inside the service (`nested`)
                let polled = {
                    let _published = nested::publish(this.policy.published_kinds());
                    fut.as_mut().poll(cx)
                };
                // (the failure is dropped where it lies, at the block's end,
                // before the wait: moved into `drop` it would be copied)
                let wait = {
                    let mut failure = match polled {
                        // (read as the response's `ClassifyResponse` reads
                        // it, unless the layer's `with_classify_response`
                        // or `with_classify_sent` says otherwise)
                        Poll::Ready(Ok(mut response)) => {
                            match this.hooks.classify.classify(
                                this.sent,
                                &response,
                                response.failure(),
                            ) {
                                // A success goes straight back.
                                None => {
                                    this.run.succeeded(this.policy);
                                    if T::REPORTS {
                                        report(&mut response, this.run, None);
                                    }
                                    return Poll::Ready(Ok(response));
                                }
                                Some(failure) => Failure::Response { response, failure },
                            }
                        }
                        Poll::Ready(Err(error)) => {
                            let (kind, retry_after) = classify_error(&error, *this.classify);
                            Failure::Error {
                                error,
                                kind,
                                retry_after,
                                find: *this.classify,
                            }
                        }
                        Poll::Pending => {
                            ready!(deadline.as_mut().poll(cx));
                            let after = T::limit_of(deadline.as_ref().get_ref());
                            // (cut short by the run's deadline: the
                            // deadline's failure, not the service's)
                            if this.timeout.limit().is_some_and(|limit| after < limit) {
                                this.run.cut_at_deadline(this.policy);
                            }
                            Failure::Timeout(AttemptTimeout { after })
                        }
                    };
                    // Left to a retried call around this one only if that
                    // run sees it: a failed response goes back as `Ok`, and
                    // an error as `Error::Inner`, which it classifies
                    // without this layer's `with_classify`: seen, when it
                    // classifies it as the layer did, or as a kind it
                    // retries anyway (a run that retries every error).
                    // (Without `with_classify`, the outer run sees it as the
                    // layer did: not classified again, nor logged again.)
                    let _unseen = nested::hidden_if(|| {
                        !failure.seen_by_outer_run(|error, kind| {
                            core::ptr::fn_addr_eq(*this.classify, no_classify as FindClassify) || {
                                let seen = classify_error(error, no_classify).0;
                                seen == kind || nested::outer_retries(Some(seen))
                            }
                        })
                    });
                    // A request sent once for its method, with
                    // `with_retry_refused`, ends the run here, unless it
                    // never reached the server (without it, the run was
                    // told at its start). A branch here and the call out of
                    // line, not cold: a cold call cost the success path 20
                    // instructions, a call on every failure 10 per retry.
                    if this.once.is_some() && !this.run.is_last() {
                        sent_once_unless_unsent(this.run, this.policy, &failure);
                    }
                    // Judged where it lies (not moved through the run's
                    // `settle_keeping`: a failed response is a few hundred bytes), then
                    // handed back as it is, or dropped before the wait.
                    // (the layer's `with_notify` hook told of a retry)
                    // (a constant once inlined: the code without a hook
                    // judges with `NoNotify`, as it did)
                    let decision = if <N as RetryHook<Failure<S::Response, S::Error>>>::__active() {
                        this.run
                            .judge(this.policy, &failure, &mut Told(&this.hooks.notify))
                    } else {
                        this.run.judge(this.policy, &failure, &mut NoNotify)
                    };
                    match decision {
                        Decision::Retry { wait, .. } => wait,
                        Decision::GiveUp { reason, .. } => {
                            if let (StopReason::SentOnce, Some(why)) = (reason, *this.once) {
                                log::sent_once(
                                    this.policy.name,
                                    this.run.attempts_made(),
                                    this.policy.stop.max_attempts(),
                                    &failure,
                                    failure.kind(),
                                    why,
                                    this.run.shown_elapsed(),
                                    this.policy.give_up_levels(),
                                    Some(this.run.call(this.policy)),
                                );
                            }
                            if T::REPORTS {
                                if let Failure::Response { response, .. } = &mut failure {
                                    report(response, this.run, Some(reason));
                                }
                            }
                            return match failure.into_result() {
                                Ok(response) => Poll::Ready(Ok(response)),
                                Err(error) => failed!(error, reason),
                            };
                        }
                    }
                };
                let how = sleep::wait_on(&*this.sleeper, wait);
                if how != sleep::Wait::Skip {
                    let sleep = sleep::timer(&*this.sleeper, wait, how);
                    // (the budget's token for the retry goes back if the
                    // call is dropped in its wait)
                    let sleep = TokenWait::new(sleep, this.policy.budget);
                    step_to(this.step.as_mut(), Step::Sleep { sleep });
                    break;
                }
                // No wait: the next attempt takes the finished one's place
                // (only its future and deadline are dropped, not the step).
                let next = next_attempt!();
                fut.set(next);
                deadline.set(
                    this.timeout
                        .deadline(this.sleeper, || time_left(this.policy, this.run)),
                );
            }
        }
    }
}

/// The time left before the run's `max_elapsed`, for an attempt's timeout
/// (a layer [`with_timeout`](super::RetryLayer::with_timeout) only): none
/// without a deadline, nor for a first attempt with none left (a
/// cooldown's wait took it: it keeps the whole limit); a retry whose wait
/// ended past the deadline (a timer that woke late) has nothing.
#[inline]
fn time_left<W, G>(policy: &Policy<W, G>, run: &mut LazyRun) -> Option<Duration> {
    policy.stop.max_elapsed?;
    let left = run.next_attempt(policy).remaining?;
    (run.attempts_made() > 0 || !left.is_zero()).then_some(left)
}

/// Put the run's [`RetryReport`] in `response`'s extensions (a layer
/// [`with_report`](super::RetryLayer::with_report)).
#[cold]
#[inline(never)]
fn report<Res: ClassifyResponse>(
    response: &mut Res,
    run: &mut LazyRun,
    gave_up: Option<StopReason>,
) {
    let (attempts, elapsed) = run.progress();
    if let Some(extensions) = response.extensions_mut() {
        extensions.insert(RetryReport::new(attempts, elapsed, gave_up));
    }
}

/// The run's [`RetryReport`], for the error it ended on, stopped for
/// `reason` (a layer [`with_report`](super::RetryLayer::with_report)).
#[cold]
#[inline(never)]
fn report_of(run: &mut LazyRun, reason: StopReason) -> RetryReport {
    let (attempts, elapsed) = run.progress();
    RetryReport::new(attempts, elapsed, Some(reason))
}

/// A request that may be sent only once failed: unless its error says it
/// never reached the server (a refused connection: [`never_sent`]; a
/// response, a timeout or a guard's rejection may have followed the
/// request), the attempt just made is the run's last, and a failure the
/// policy would retry ends it as sent once.
#[inline(never)]
fn sent_once_unless_unsent<W, G, R, E: StdError + 'static>(
    run: &mut LazyRun,
    policy: &Policy<W, G>,
    failure: &Failure<R, E>,
) {
    if !matches!(failure, Failure::Error { error, .. } if never_sent(error)) {
        run.last_attempt(policy);
    }
}

/// The wait before a first attempt through `cooldown` (its hold, then
/// its pace's slot, taken), a timer on `sleeper`; `None` for a retry, or
/// when it need not wait. `again`: after that wait, the wait for a hold
/// made longer meanwhile (another request's 429), if any, and a slot
/// after it (the one taken before came inside the hold).
#[cold]
#[inline(never)]
fn first_wait<W, G, Sl: Sleeper>(
    policy: &Policy<W, G>,
    run: &LazyRun,
    sleeper: &Sl,
    again: bool,
) -> Option<TokenWait<Sl::Sleep>> {
    if run.attempts_made() > 0 {
        return None;
    }
    let wait = crate::cooldown::first_wait_of(policy, again)?;
    let how = sleep::wait_on(sleeper, wait);
    (how != sleep::Wait::Skip).then(|| TokenWait::new(sleep::timer(sleeper, wait, how), None))
}

/// Moves a [`ResponseFuture`] to its next step without `Pin::set`, which
/// calls the whole enum's drop glue out of line: the old step is matched
/// here, inline, where the caller often knows it.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn step_to<F, Dl, Sl>(step: Pin<&mut Step<F, Dl, Sl>>, next: Step<F, Dl, Sl>) {
    let _old = step.project_replace(next);
}

/// The service failed its readiness check before a retry: the run ends on
/// its error, announced as a give-up on a non-retriable error, or left to
/// a retried call around it that retries the error
/// ([`broken_reason`](super::broken_reason)); why it ended.
#[cold]
#[inline(never)]
fn broken<W, G, E: StdError + 'static>(
    run: &mut LazyRun,
    policy: &Policy<W, G>,
    classify: FindClassify,
    error: E,
) -> (Error<E>, StopReason) {
    let kind = classify_error(&error, classify).0;
    let reason = super::broken_reason(policy, &error, kind, classify);
    let why = || crate::chain::why_permanent_in(&error, classify);
    ended_before_retry(run, policy, reason, &error, kind, Some(&why));
    (Error::Inner(error), reason)
}

/// The service is not ready for the next attempt: wait for it (tower's
/// rule: a service is called only once ready). A retry of a policy with
/// `max_elapsed` waits until then, not past it: in the `Sleep` step, its
/// timer at the deadline (`readying` set), and [`not_ready`] if the
/// deadline comes first; any other wait is the `Start` step's, as long as
/// the service takes.
#[cold]
#[inline(never)]
fn not_yet_ready<F, Dl, Sl: Sleeper, W, G, R, E, T: AttemptLimit>(
    mut step: Pin<&mut Step<F, Dl, TokenWait<Sl::Sleep>>>,
    readying: &mut bool,
    run: &mut LazyRun,
    policy: &Policy<W, G>,
    sleeper: &Sl,
    cx: &mut Context<'_>,
) -> Poll<Result<R, T::CallError<E>>> {
    let limit = match policy.stop.max_elapsed {
        Some(limit) if run.attempts_made() > 0 => limit,
        _ => {
            step_to(step, Step::Start);
            return Poll::Pending;
        }
    };
    if !*readying {
        let (_, elapsed) = run.progress();
        let sleep = TokenWait::new(sleeper.sleep(limit.saturating_sub(elapsed)), None);
        step_to(step.as_mut(), Step::Sleep { sleep });
        *readying = true;
    }
    let state = match step.as_mut().project() {
        StepProj::Sleep { sleep } => deadline_state(sleep, run, policy, cx),
        _ => Deadline::Early,
    };
    match state {
        Deadline::Passed(gone) => Poll::Ready(Err(T::call_error(gone, || {
            report_of(run, StopReason::Deadline)
        }))),
        Deadline::Pending => Poll::Pending,
        // a sleeper that does not wait (a test's): the service's wake only
        Deadline::Early => {
            step_to(step, Step::Start);
            *readying = false;
            Poll::Pending
        }
    }
}

/// Where the deadline of a wait for the service's readiness is.
enum Deadline<E> {
    /// Passed, by the run's clock: the run's end.
    Passed(Error<E>),
    /// Its timer is armed.
    Pending,
    /// Its timer is done, but the run's clock has not reached the deadline:
    /// a sleeper that does not wait (`testing::NoWait`, `|_| ready(())`).
    Early,
}

/// The deadline of a wait for the service's readiness: passed only by the
/// run's clock (which follows tokio's paused one), not by a timer alone,
/// which a sleeper that does not wait makes ready at once.
#[cold]
#[inline(never)]
fn deadline_state<S: Future<Output = ()>, W, G, E>(
    deadline: Pin<&mut S>,
    run: &mut LazyRun,
    policy: &Policy<W, G>,
    cx: &mut Context<'_>,
) -> Deadline<E> {
    let Some(limit) = policy.stop.max_elapsed else {
        return Deadline::Early;
    };
    if deadline.poll(cx).is_pending() {
        return Deadline::Pending;
    }
    if run.progress().1 >= limit {
        Deadline::Passed(not_ready(run, policy, limit))
    } else {
        Deadline::Early
    }
}

/// The policy's `max_elapsed` passed while the service was not ready for a
/// retry: the run ends there, on the deadline, announced as any give-up
/// (the failure before the wait was dropped; its WARN line has it), and
/// the retry's budget token goes back.
#[cold]
#[inline(never)]
fn not_ready<W, G, E>(
    run: &mut LazyRun,
    policy: &Policy<W, G>,
    limit: core::time::Duration,
) -> Error<E> {
    let error = NotReady::new(limit);
    let kind = error.kind();
    ended_before_retry(
        run,
        policy,
        deadline_or_deferred(policy, kind),
        &error,
        kind,
        // (a timeout, never permanent)
        None,
    );
    Error::NotReady(error)
}

/// The request itself is about to be sent (no copy could be made): the run
/// ends with this attempt. Says why, unless it is said already.
#[cold]
fn no_more_attempts<W, G>(
    policy: &Policy<W, G>,
    run: &mut LazyRun,
    once: &mut Option<&'static str>,
) {
    let this_one = run.attempts_made().saturating_add(1);
    if this_one < policy.stop.max_attempts() && !run.is_last() {
        run.last_attempt(policy);
        // (the reason, whatever the method: a refused POST that could be
        // copied would be retried)
        *once = Some("its body cannot be copied");
    }
}
