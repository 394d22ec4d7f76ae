//! The one way to run a retry with a policy: [`Policy::retry`] returns a
//! [`Retry`], which runs either way: `.call()` for a sync operation, `.await`
//! for an async one. Options are methods on it.

use core::fmt::{self, Display};
use core::future::{Future, IntoFuture};
use core::ops::ControlFlow;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::attempt::{Attempt, Op, WithAttempt};
use crate::classify::KindSet;
use crate::clock::{Clock, SystemClock};
use crate::error::RetryError;
use crate::form::{Detailed, Finish, Form, Plain};
use crate::hedge;
use crate::hooks::RetryEvent;
use crate::nested;
use crate::policy::{Guards, Policy, RetriedKinds, When};
use crate::run::{
    Admission, Guarded, LazyRun, NoNotify, Notify, State, retry_sync, retry_sync_rest,
};
use crate::signal::{NoStop, StopCheck, StopSignal, WithoutStop};
use crate::sleep::{self, BlockingSleeper, DefaultSleeper, Sleeper};

/// A retry of one operation with one policy, not started yet: made by
/// [`Policy::retry`], run by [`call`](Retry::call) (a sync operation) or by
/// `.await` (an async one, through [`IntoFuture`]). An async `op` whose
/// future changes a variable it captures (`|| async { n += 1; .. }`) does
/// not compile ("captured variable cannot escape `FnMut` closure body":
/// each attempt's future would hold the borrow): change it before the
/// `async move` block, keep it in a `Cell`, an atomic or a `Mutex`, or put
/// it behind a `&mut` argument of a `#[retry]` function, which each
/// attempt borrows in turn.
///
/// - On success: the value. On giving up: the last error, unchanged; or,
///   with [`detailed`](Retry::detailed), a [`RetryError`] that says how many
///   attempts were made, how long it took and why it stopped (and the
///   attempts and time of a success, in [`Succeeded`](crate::Succeeded)).
/// - [`notify`](Retry::notify): a per-call `FnMut(&RetryEvent)` told of
///   each retry before its sleep (after the WARN line and the policy's
///   `before_sleep`).
/// - [`sleep_with`](Retry::sleep_with): a per-call [`Sleeper`] (async) or
///   [`BlockingSleeper`] (sync) instead of the [`DefaultSleeper`].
///
/// A policy with a [circuit breaker](Policy::with_circuit) asks it before every
/// attempt, the first included; while it is open the call is not made and
/// the error is `E::from(`[`CircuitOpen`](crate::CircuitOpen)`)` (the
/// policy's type, `Policy<_, WithCircuit>`, requires `E: From<CircuitOpen>`).
/// A policy with a [throttle](Policy::with_throttle) asks it before the
/// first attempt (the error of a rejected call is `E::from(`[`Throttled`](crate::Throttled)`)`)
/// and before each retry.
///
/// It is [`Debug`](fmt::Debug) whatever the operation (a closure, as a
/// rule, is not): it shows the policy and the output form.
///
/// `.call()` on an async op gets rustc's E0271 (a future is not a
/// `Result`), and rustc may suggest `.await.call()`, or an `.await` inside
/// the closure: write `.await` alone, in place of `.call()`.
///
/// `.await` on a retry whose bounds are not met gets rustc's "`Retry<..>`
/// is not a future" and "remove the `.await`", whatever the bound: the op
/// is sync (use [`call`](Retry::call)), or its error type lacks what the
/// policy needs (`Classify` for `retry_on`, `Display`, `From<CircuitOpen>`
/// with a breaker, `From<Throttled>` with a throttle), or the sleeper is a
/// blocking one, or no async timer is enabled. rustc names the bound for
/// [`call`](Retry::call) and for [`hedged`](Retry::hedged), whose bounds
/// are on the method: write `.hedged().await` for a moment (without a
/// hedge delay it runs as `.await` does) to see which it is.
///
/// ```
/// use retry_runtime::{presets, Policy};
/// let _paused = retry_runtime::testing::pause(); // record the waits instead of sleeping
///
/// // sync
/// let mut calls = 0;
/// let r = presets::QUICK.retry(|| {
///     calls += 1;
///     if calls < 2 { Err(std::io::Error::from(std::io::ErrorKind::TimedOut)) } else { Ok(calls) }
/// }).call();
/// assert_eq!(r.unwrap(), 2);
///
/// // with a per-call hook, and the attempts made on success
/// let mut calls = 0;
/// let mut seen = Vec::new();
/// let ok = Policy::new().with_max_attempts(3)
///     .retry(|| { calls += 1; if calls < 3 { Err("busy") } else { Ok("done") } })
///     .notify(|ev: &retry_runtime::RetryEvent<'_>| seen.push(ev.attempt))
///     .detailed()
///     .call()
///     .unwrap();
/// assert_eq!((ok.value, ok.attempts), ("done", 3));
/// assert_eq!(seen, [1, 2]);
/// ```
///
/// ```
/// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use retry_runtime::presets;
/// // async: the same value, awaited
/// let mut calls = 0;
/// let r = presets::AI_PROVIDER
///     .retry(|| {
///         calls += 1;
///         let n = calls;
///         async move { if n < 3 { Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset)) } else { Ok(n) } }
///     })
///     .await;
/// assert_eq!(r.unwrap(), 3);
/// # }
/// # #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))] fn main() {}
/// ```
#[must_use = "a retry does nothing until `.call()` or `.await`"]
pub struct Retry<'p, W, G, F, S = DefaultSleeper, N = NoNotify, D = Plain, X = NoStop> {
    policy: &'p Policy<W, G>,
    op: F,
    sleeper: S,
    notify: N,
    detail: D,
    stop: X,
}

/// Shows the policy and the output form ([`Plain`] or [`Detailed`]); not
/// the operation, the sleeper or the hook, which need not be `Debug`.
///
/// ```
/// use retry_runtime::Policy;
/// let policy = Policy::new().with_name("fetch").with_max_attempts(3);
/// let retry = policy.retry(|| Err::<(), _>("busy")).detailed();
/// let shown = format!("{retry:?}");
/// assert!(shown.starts_with(r#"Retry { policy: Policy { name: "fetch", attempts: 3,"#), "{shown}");
/// assert!(shown.ends_with("form: Detailed, .. }"), "{shown}");
/// ```
impl<W: fmt::Debug, G, F, S, N, D: fmt::Debug, X> fmt::Debug for Retry<'_, W, G, F, S, N, D, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", self.policy)
            .field("form", &self.detail)
            .finish_non_exhaustive()
    }
}

impl<W, G> Policy<W, G> {
    /// Retry `op` with this policy: `.call()` it (sync `op`), or `.await` it
    /// (`op` returns a future). See [`Retry`] for the options.
    ///
    /// ```
    /// use retry_runtime::presets;
    /// let _paused = retry_runtime::testing::pause();
    /// let mut calls = 0;
    /// let r = presets::QUICK.retry(|| {
    ///     calls += 1;
    ///     Err::<(), _>(std::io::Error::from(std::io::ErrorKind::TimedOut))
    /// }).call();
    /// assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    /// assert_eq!(calls, 2);
    /// ```
    #[inline]
    pub fn retry<F>(&self, op: F) -> Retry<'_, W, G, F> {
        Retry {
            policy: self,
            op,
            sleeper: DefaultSleeper,
            notify: NoNotify,
            detail: Plain,
            stop: NoStop,
        }
    }
}

impl<'p, W, G, F, S, N, D, X> Retry<'p, W, G, F, S, N, D, X> {
    /// On success, [`Succeeded`](crate::Succeeded) (the value, the attempts made and the time
    /// spent, waits included); on giving up, a [`RetryError`] (the same,
    /// why it stopped, and the last error). Under [`hedged`](Retry::hedged),
    /// the attempts are those started, hedges included.
    ///
    /// ```
    /// use retry_runtime::{Policy, StopReason};
    /// let _paused = retry_runtime::testing::pause();
    /// let mut calls = 0;
    /// let ok = Policy::new().with_max_attempts(3)
    ///     .retry(|| { calls += 1; if calls < 3 { Err("busy") } else { Ok(calls) } })
    ///     .detailed()
    ///     .call()
    ///     .unwrap();
    /// assert_eq!((ok.value, ok.attempts), (3, 3));
    /// let e = Policy::new().with_max_attempts(2).retry(|| Err::<(), _>("down")).detailed().call().unwrap_err();
    /// assert_eq!((e.attempts, e.reason), (2, StopReason::Attempts));
    /// ```
    #[inline]
    pub fn detailed(self) -> Retry<'p, W, G, F, S, N, Detailed, X> {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: self.notify,
            detail: Detailed,
            stop: self.stop,
        }
    }

    /// Tell `hook` of each retry, before its sleep: a per-call
    /// `FnMut(&RetryEvent)` that may capture anything (a counter, a request
    /// id). It runs after the WARN line and the policy's `before_sleep`.
    /// Under [`hedged`](Retry::hedged), it hears of each retry after a
    /// failure, not of a hedge's start.
    ///
    /// ```
    /// use retry_runtime::Policy;
    /// let _paused = retry_runtime::testing::pause();
    /// let request_id = "req-42";
    /// let mut log = Vec::new();
    /// let _ = Policy::new().with_max_attempts(3)
    ///     .retry(|| Err::<(), _>("busy"))
    ///     .notify(|ev| log.push(format!("{request_id}: attempt {} failed", ev.attempt)))
    ///     .call();
    /// assert_eq!(log, ["req-42: attempt 1 failed", "req-42: attempt 2 failed"]);
    /// ```
    #[inline]
    pub fn notify<N2>(self, hook: N2) -> Retry<'p, W, G, F, S, N2, D, X>
    where
        // (an `FnMut` bound, not `Notify`'s: the closure's argument type is
        // then inferred, `|ev| ...` needs no annotation)
        N2: FnMut(&RetryEvent<'_>),
    {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: hook,
            detail: self.detail,
            stop: self.stop,
        }
    }

    /// Sleep with `sleeper` instead of the [`DefaultSleeper`]: a [`Sleeper`]
    /// for `.await` (another runtime's timer: its `sleep` function as it
    /// is, `.sleep_with(my_runtime::sleep)`, or any `Fn(Duration) -> impl
    /// Future<Output = ()>`; a timer whose future has another output, as
    /// smol's `Timer::after` resolves to an `Instant`, wrapped:
    /// `.sleep_with(|d| async move { smol::Timer::after(d).await; })`, or
    /// the feature `smol`, see [`Sleeper`]), a [`BlockingSleeper`] for
    /// `.call()` (any `Fn(Duration)`). On tokio, smol or futures-timer with its feature
    /// on, none is needed. It is the sleeper of the waits
    /// between attempts (and of a hedged run's timers); a per-attempt
    /// [`timeout`](crate::timeout()) inside `op` has its own,
    /// [`timeout_with`](crate::timeout_with) for another than the default.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Policy};
    /// let ms = Duration::from_millis;
    /// let policy = Policy::new().with_max_attempts(3).with_backoff(Backoff::exponential(ms(100), ms(1000)));
    /// let slept = RefCell::new(Vec::new()); // a sleeper of yours: records, does not block
    /// let r: Result<(), &str> = policy
    ///     .retry(|| Err("down"))
    ///     .sleep_with(|wait: Duration| slept.borrow_mut().push(wait))
    ///     .call();
    /// assert_eq!(r, Err("down"));
    /// assert_eq!(*slept.borrow(), [ms(100), ms(200)]);
    /// ```
    #[inline]
    pub fn sleep_with<S2>(self, sleeper: S2) -> Retry<'p, W, G, F, S2, N, D, X> {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper,
            notify: self.notify,
            detail: self.detail,
            stop: self.stop,
        }
    }
}

impl<'p, W, G, F, S, N, D> Retry<'p, W, G, F, S, N, D> {
    /// This retry with the stop `stop` ([`stop_on`](Retry::stop_on),
    /// [`stop_when`](Retry::stop_when), in `signal`).
    #[inline]
    pub(crate) fn with_stop<X>(self, stop: X) -> Retry<'p, W, G, F, S, N, D, X> {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: self.notify,
            detail: self.detail,
            stop,
        }
    }
}

impl<'p, W, G, F, S, N, D, X> Retry<'p, W, G, F, S, N, D, X> {
    /// The context form: `op` is an `FnMut(`[`Attempt`]`)` and is handed the
    /// attempt it is about to make (number, limit, time spent and left, the
    /// previous failure's kind). Runs as the other forms do. (`retry` comes
    /// before `context`, so the closure's argument needs its type written:
    /// `|a: Attempt|`.)
    ///
    /// ```
    /// use retry_runtime::{Attempt, Policy};
    /// let _paused = retry_runtime::testing::pause();
    /// // (an idempotency key is made once, before the run: every attempt
    /// // sends the same one; what changes per attempt is a header)
    /// let key = "order-7";
    /// let mut sent = Vec::new();
    /// let r = Policy::new().with_max_attempts(3)
    ///     .retry(|a: Attempt| {
    ///         // e.g. gRPC's grpc-previous-rpc-attempts beside the key
    ///         sent.push((key, a.previous_attempts()));
    ///         if a.number < 2 { Err("busy") } else { Ok(a.previous_attempts()) }
    ///     })
    ///     .context()
    ///     .call();
    /// assert_eq!(r, Ok(1));
    /// assert_eq!(sent, [("order-7", 0), ("order-7", 1)]);
    /// ```
    #[inline]
    pub fn context(self) -> Retry<'p, W, G, WithAttempt<F>, S, N, D, X> {
        Retry {
            policy: self.policy,
            op: WithAttempt(self.op),
            sleeper: self.sleeper,
            notify: self.notify,
            detail: self.detail,
            stop: self.stop,
        }
    }
}

impl<W, G, F, S, N, D, X> Retry<'_, W, G, F, S, N, D, X> {
    /// Run a sync `op` until it succeeds or the policy gives up, sleeping
    /// with the sleeper ([`std::thread::sleep`] by default). On giving up,
    /// the last error, unchanged; with [`detailed`](Retry::detailed),
    /// [`Succeeded`](crate::Succeeded) or a [`RetryError`].
    ///
    /// It blocks the thread it runs on through its attempts and waits: in
    /// async code, run it in `tokio::task::spawn_blocking` (carrying the
    /// retries around it with [`nested::Outer`]), or
    /// `.await` the retry of an async `op` instead.
    #[inline]
    pub fn call<T, E>(self) -> D::Output
    where
        X: StopCheck,
        F: Op<Output = Result<T, E>>,
        W: When<E>,
        G: Admission<E>,
        E: Display,
        S: BlockingSleeper,
        N: Notify,
        D: Finish<T, E>,
    {
        let Retry {
            policy,
            mut op,
            sleeper,
            mut notify,
            mut stop,
            ..
        } = self;
        // The plain form without the context keeps no state unless a retry
        // needs it, and makes its first attempt inline.
        if !D::TIMED && !F::WANTS_ATTEMPT && !X::ACTIVE {
            let attempt = || op.attempt(unreachable_attempt);
            let out = if G::ASKS || N::ACTIVE || policy.attempt_spans {
                let mut state = State::new(policy);
                if N::ACTIVE {
                    // the hook's events tell the time since the start
                    state.start_clock();
                }
                retry_sync_rest(policy, state, None, attempt, &sleeper, &mut notify)
            } else {
                retry_sync(policy, attempt, &sleeper)
            };
            if let Some(out) = D::untimed(out) {
                return out;
            }
        }
        // The detailed and the context forms keep the run's state from the
        // start (to report attempts and time, or to hand them out).
        let mut run = Guarded::<_, G>::of(policy, LazyRun::timed(policy));
        loop {
            if let Err((e, reason)) = run.admit_or_stop(policy) {
                let e =
                    core::mem::replace(&mut *run, LazyRun::empty()).into_error(policy, e, reason);
                return D::err(e);
            }
            // The attempt and what the run makes of it, in the attempt's span.
            let span = crate::span::next_attempt_span(policy, run.attempts());
            // (with a stop check, the error of the attempt the run waits to
            // retry, returned if the stop comes in the wait)
            let mut kept = None;
            let flow = crate::span::in_span(span.as_ref(), |spanned| {
                let outcome = {
                    let _published = nested::publish(policy.published_kinds());
                    op.attempt(|| run.next_attempt(policy))
                };
                // (a stop that came during the attempt ends the run at its
                // failure; a constant `false` without a stop check)
                if X::ACTIVE && outcome.is_err() {
                    let fired = stop.stopped();
                    run.failed_with_signal(policy, fired);
                }
                // (decided in the attempt's span: a failure marks it)
                run.settle_keeping(policy, outcome, &mut notify, spanned, |e| {
                    if X::ACTIVE {
                        kept = Some(e);
                    }
                })
            });
            // the attempt's span closes before the sleep: its time is the
            // attempt's and the decision's, not the backoff's
            drop(span);
            match flow {
                ControlFlow::Break(Ok(value)) => return D::ok(value, &mut run),
                ControlFlow::Break(Err(e)) => return D::err(e),
                ControlFlow::Continue(wait) => {
                    sleep::block_on_wait(&sleeper, wait);
                    if let Some(e) = kept.take().filter(|_| stop.stopped()) {
                        return D::err(run.stopped_in_wait(policy, e));
                    }
                }
            }
        }
    }

    /// Run an async `op` hedged (see [`hedge`]): when an
    /// attempt has not answered after the policy's hedge delay
    /// ([`Policy::with_hedge`]), the next starts beside it; the first
    /// success wins and the others are dropped. Without a hedge delay, the
    /// attempts run one after another, as with `.await`, with one
    /// difference: a circuit breaker that opens while a retry waits ends
    /// the call with the last attempt's error (a hedged run holds it
    /// anyway), where `.await` returns the breaker's rejection. Only for
    /// operations that are safe to run twice at once; `.await` and
    /// [`call`](Retry::call) never hedge, whatever the policy's hedge delay.
    ///
    /// The future keeps the errors of failed attempts while others are in
    /// flight (the last one, to return if none succeeds): it is `Send` when
    /// the attempts' futures and the error type `E` are, where `.await`'s
    /// needs no `Send` error (it drops the error before it sleeps).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Policy;
    /// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let replicas = Policy::new().with_max_attempts(2).with_hedge(Duration::from_millis(50));
    /// let done = replicas
    ///     .retry(|| async { Ok::<_, std::io::Error>("fast enough") })
    ///     .detailed()
    ///     .hedged()
    ///     .await
    ///     .unwrap();
    /// assert_eq!((done.value, done.attempts), ("fast enough", 1));
    /// # }
    /// # #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))] fn main() {}
    /// ```
    pub async fn hedged<T, E, Fut>(self) -> D::Output
    where
        X: WithoutStop,
        F: Op<Output = Fut>,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        G: Admission<E>,
        E: Display,
        S: Sleeper,
        N: Notify,
        D: Finish<T, E>,
    {
        let Retry {
            policy,
            mut op,
            sleeper,
            mut notify,
            ..
        } = self;
        let start = SystemClock.now();
        let attempt = |number, previous_kind| {
            let elapsed = SystemClock.now().saturating_sub(start);
            Attempt {
                number,
                max: policy.stop.max_attempts(),
                elapsed,
                remaining: policy.stop.max_elapsed.map(|l| l.saturating_sub(elapsed)),
                previous_kind,
            }
        };
        let op = |number, previous_kind| op.attempt(|| attempt(number, previous_kind));
        match hedge::run(policy, op, &sleeper, &mut notify).await {
            Ok(won) => D::done(won.value, won.attempts, won.elapsed),
            Err(e) => D::err(e),
        }
    }
}

/// The attempt a plain operation is never handed (it does not want one).
#[cold]
fn unreachable_attempt() -> Attempt {
    Attempt {
        number: 0,
        max: 0,
        elapsed: core::time::Duration::ZERO,
        remaining: None,
        previous_kind: None,
    }
}

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
    pub struct RetryFuture<'p, W, G: Guards, F, Fut, S: Sleeper, N, D, X = NoStop> {
        policy: &'p Policy<W, G>,
        op: F,
        sleeper: S,
        notify: N,
        run: Guarded<LazyRun, G>,
        detail: D,
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
impl<W: fmt::Debug, G: Guards, F, Fut, S: Sleeper, N, D: fmt::Debug, X> fmt::Debug
    for RetryFuture<'_, W, G, F, Fut, S, N, D, X>
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
fn settle_in_span<W, G, Fut, T, E, N, X>(
    span: &mut AttemptSpan,
    fut: Pin<&mut Fut>,
    cx: &mut Context<'_>,
    policy: &Policy<W, G>,
    run: &mut LazyRun,
    notify: &mut N,
    mut stop: Pin<&mut X>,
) -> Poll<ControlFlow<Result<T, RetryError<E>>, core::time::Duration>>
where
    Fut: Future<Output = Result<T, E>>,
    W: When<E>,
    E: Display,
    N: Notify,
    X: StopSignal<E>,
{
    let outcome = {
        let _entered = span.enter();
        let _published = nested::publish(policy.published_kinds());
        ready!(fut.poll(cx))
    };
    // (a stop signal that fired ends the run at this failure, as on the
    // path without spans: asked once the attempt has ended)
    if X::ACTIVE && outcome.is_err() {
        let fired = stop.as_mut().poll_fired(cx);
        run.failed_with_signal(policy, fired);
    }
    // The attempt finished: its span leaves the step (which would take it
    // for cancelled), for the decision, in it (a failure marks it).
    let span = span.0.take();
    let _entered = span.as_ref().map(tracing::Span::enter);
    let marks = crate::span::marks(span.as_ref());
    Poll::Ready(run.settle_keeping(policy, outcome, notify, marks, |e| stop.keep(e)))
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
impl<'p, W, G, F, Fut, S, N, D, X> IntoFuture for Retry<'p, W, G, F, S, N, D, X>
where
    W: RetriedKinds,
    G: Guards,
    F: Op<Output = Fut>,
    S: Sleeper,
    N: Notify,
    D: Form,
    RetryFuture<'p, W, G, F, Fut, S, N, D, X>: Future,
{
    type Output = <Self::IntoFuture as Future>::Output;
    type IntoFuture = RetryFuture<'p, W, G, F, Fut, S, N, D, X>;

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
            step: Step::Start,
            stop: self.stop,
        }
    }
}

impl<W, G, F, Fut, T, E, S, N, D, X> Future for RetryFuture<'_, W, G, F, Fut, S, N, D, X>
where
    F: Op<Output = Fut>,
    Fut: Future<Output = Result<T, E>>,
    W: When<E>,
    G: Admission<E>,
    E: Display,
    S: Sleeper,
    N: Notify,
    D: Finish<T, E>,
    X: StopSignal<E>,
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
                Ok(value) if this.run.is_empty() => {
                    this.run.succeeded(this.policy);
                    return Poll::Ready(D::ok(value, this.run));
                }
                outcome => outcome,
            }
        };
        self.poll_steps(cx, Some(outcome))
    }
}

impl<W, G, F, Fut, T, E, S, N, D, X> RetryFuture<'_, W, G, F, Fut, S, N, D, X>
where
    F: Op<Output = Fut>,
    Fut: Future<Output = Result<T, E>>,
    W: When<E>,
    G: Admission<E>,
    E: Display,
    S: Sleeper,
    N: Notify,
    D: Finish<T, E>,
    X: StopSignal<E>,
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
        // After an attempt: return, sleep, or start the next one at once.
        macro_rules! go_on {
            ($flow:expr) => {
                match $flow {
                    ControlFlow::Break(Ok(value)) => {
                        return Poll::Ready(D::ok(value, this.run));
                    }
                    ControlFlow::Break(Err(e)) => {
                        return Poll::Ready(D::err(e));
                    }
                    ControlFlow::Continue(wait) => {
                        let how = sleep::wait_on(&*this.sleeper, wait);
                        if how != sleep::Wait::Skip {
                            let sleep = sleep::timer(&*this.sleeper, wait, how);
                            step_to(this.step.as_mut(), Step::Sleep { sleep });
                        } else {
                            this.stop.as_mut().forget();
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
                    start_attempt!();
                    started!()
                }
                StepProj::Sleep { sleep } => {
                    if let Some(e) = this.stop.as_mut().poll_stop(cx) {
                        return Poll::Ready(D::err(this.run.stopped_in_wait(this.policy, e)));
                    }
                    ready!(sleep.poll(cx));
                    this.stop.as_mut().forget();
                    start_attempt!();
                    started!()
                }
                StepProj::AttemptInSpan { fut, span } => {
                    let (policy, run, notify) = (*this.policy, &mut *this.run, &mut *this.notify);
                    let flow = ready!(settle_in_span::<W, G, Fut, T, E, N, X>(
                        span,
                        fut,
                        cx,
                        policy,
                        run,
                        notify,
                        this.stop.as_mut()
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
                // (a constant `false` without a stop signal)
                if X::ACTIVE && outcome.is_err() {
                    let fired = this.stop.as_mut().poll_fired(cx);
                    this.run.failed_with_signal(this.policy, fired);
                }
                let stop = this.stop.as_mut();
                let flow = this
                    .run
                    .settle_keeping(this.policy, outcome, this.notify, false, |e| stop.keep(e));
                // A retry with no wait starts the next attempt in the
                // finished one's place and polls it at once: only the
                // attempt's future is dropped, not the whole step, and the
                // step is not looked up again. (An `Attempt` step is only
                // ever made for a policy without attempt spans.)
                let wait = match flow {
                    ControlFlow::Break(Ok(value)) => {
                        return Poll::Ready(D::ok(value, this.run));
                    }
                    ControlFlow::Break(Err(e)) => return Poll::Ready(D::err(e)),
                    ControlFlow::Continue(wait) => wait,
                };
                let how = sleep::wait_on(&*this.sleeper, wait);
                if how != sleep::Wait::Skip {
                    let sleep = sleep::timer(&*this.sleeper, wait, how);
                    step_to(this.step.as_mut(), Step::Sleep { sleep });
                    break;
                }
                this.stop.as_mut().forget();
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
