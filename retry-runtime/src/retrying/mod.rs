//! The one way to run a retry with a policy: [`Policy::retry`] returns a
//! [`Retry`], which runs either way: `.call()` for a sync operation, `.await`
//! for an async one. Options are methods on it.

use core::fmt::{self, Display};
use core::future::Future;
use core::ops::ControlFlow;

use crate::attempt::{Attempt, Op, WithAttempt};
use crate::clock::{Clock, SystemClock};
use crate::form::{Detailed, Finish, Plain};
use crate::hedge;
use crate::hooks::RetryEvent;
use crate::nested;
use crate::policy::{Policy, When};
use crate::run::{
    Admission, ErrorHook, Guarded, LazyRun, NoNotify, Notify, Settled, State, retry_sync,
    retry_sync_rest,
};
use crate::signal::{NoStop, StopCheck, WithoutStop};
use crate::sleep::{self, BlockingSleeper, DefaultSleeper, Sleeper};
use crate::stop::StopReason;

mod future;
mod if_ok;

pub use future::RetryFuture;
pub use if_ok::{AnyOk, KeepsOk, NothingKept, OkCheck, OkSlot, RetryIfOk, WithoutOkCheck};

/// A retry of one operation with one policy, not started yet: made by
/// [`Policy::retry`], run by [`call`](Retry::call) (a sync operation) or by
/// `.await` (an async one, through [`IntoFuture`]). An async `op` whose
/// future changes a variable it captures (`|| async { n += 1; .. }`) does
/// not compile ("captured variable cannot escape `FnMut` closure body":
/// each attempt's future would hold the borrow): change it before the
/// `async move` block, keep it in an atomic (`AtomicU32`) or a `Mutex`, or
/// put it behind a `&mut` argument of a `#[retry]` function, which each
/// attempt borrows in turn. (A `Cell` compiles too, but makes the future
/// not `Send`: `tokio::spawn` refuses it.)
///
/// - On success: the value. On giving up: the last error, unchanged; or,
///   with [`detailed`](Retry::detailed), a [`RetryError`](crate::RetryError) that says how many
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
pub struct Retry<'p, W, G, F, S = DefaultSleeper, N = NoNotify, D = Plain, X = NoStop, K = AnyOk> {
    policy: &'p Policy<W, G>,
    op: F,
    sleeper: S,
    notify: N,
    detail: D,
    stop: X,
    check: K,
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
impl<W: fmt::Debug, G, F, S, N, D: fmt::Debug, X, K> fmt::Debug
    for Retry<'_, W, G, F, S, N, D, X, K>
{
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
            check: AnyOk,
        }
    }
}

impl<'p, W, G, F, S, N, D, X, K> Retry<'p, W, G, F, S, N, D, X, K> {
    /// On success, [`Succeeded`](crate::Succeeded) (the value, the attempts made and the time
    /// spent, waits included); on giving up, a [`RetryError`](crate::RetryError) (the same,
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
    pub fn detailed(self) -> Retry<'p, W, G, F, S, N, Detailed, X, K> {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: self.notify,
            detail: Detailed,
            stop: self.stop,
            check: self.check,
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
    pub fn notify<N2>(self, hook: N2) -> Retry<'p, W, G, F, S, N2, D, X, K>
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
            check: self.check,
        }
    }

    /// [`notify`](Retry::notify) with the error retried, as its type:
    /// `hook(&error, &event)` before each retry's sleep, to count a
    /// status code, record a field of the error, or read what the event's
    /// text (`RetryEvent::error`, a `&dyn Display`) does not carry
    /// (backon's `.notify(|err, dur| ..)`). Annotate the error's type,
    /// `|e: &MyError, ev|`: the operation's is not known here. A retry of an `Ok`
    /// that [`retry_if_ok`](Retry::retry_if_ok) rejected has no error, and is
    /// not told to it (`.notify(..)` hears of every retry). Replaces a
    /// `.notify(..)` given before it, as another `.notify` would.
    ///
    /// ```
    /// use std::io;
    /// use retry_runtime::Policy;
    /// let _paused = retry_runtime::testing::pause();
    /// let mut kinds = Vec::new();
    /// let mut calls = 0;
    /// let r = Policy::new().with_max_attempts(3)
    ///     .retry(|| {
    ///         calls += 1;
    ///         Err::<(), _>(io::Error::from(if calls == 1 { io::ErrorKind::ConnectionRefused } else { io::ErrorKind::TimedOut }))
    ///     })
    ///     .notify_error(|e: &io::Error, ev| kinds.push((ev.attempt, e.kind())))
    ///     .call();
    /// assert!(r.is_err());
    /// assert_eq!(kinds, [(1, io::ErrorKind::ConnectionRefused), (2, io::ErrorKind::TimedOut)]);
    /// ```
    #[inline]
    pub fn notify_error<E2: ?Sized, H>(
        self,
        hook: H,
    ) -> Retry<'p, W, G, F, S, ErrorHook<H>, D, X, K>
    where
        H: FnMut(&E2, &RetryEvent<'_>),
    {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: ErrorHook(hook),
            detail: self.detail,
            stop: self.stop,
            check: self.check,
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
    pub fn sleep_with<S2>(self, sleeper: S2) -> Retry<'p, W, G, F, S2, N, D, X, K> {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper,
            notify: self.notify,
            detail: self.detail,
            stop: self.stop,
            check: self.check,
        }
    }
}

impl<'p, W, G, F, S, N, D, K> Retry<'p, W, G, F, S, N, D, NoStop, K> {
    /// This retry with the stop `stop` ([`stop_on`](Retry::stop_on),
    /// [`stop_when`](Retry::stop_when), in `signal`).
    #[inline]
    pub(crate) fn with_stop<X>(self, stop: X) -> Retry<'p, W, G, F, S, N, D, X, K> {
        Retry {
            policy: self.policy,
            op: self.op,
            sleeper: self.sleeper,
            notify: self.notify,
            detail: self.detail,
            stop,
            check: self.check,
        }
    }
}

impl<'p, W, G, F, S, N, D, X, K> Retry<'p, W, G, F, S, N, D, X, K> {
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
    pub fn context(self) -> Retry<'p, W, G, WithAttempt<F>, S, N, D, X, K> {
        Retry {
            policy: self.policy,
            op: WithAttempt(self.op),
            sleeper: self.sleeper,
            notify: self.notify,
            detail: self.detail,
            stop: self.stop,
            check: self.check,
        }
    }
}

impl<W, G, F, S, N, D, X, K> Retry<'_, W, G, F, S, N, D, X, K> {
    /// Run a sync `op` until it succeeds or the policy gives up, sleeping
    /// with the sleeper ([`std::thread::sleep`] by default). On giving up,
    /// the last error, unchanged; with [`detailed`](Retry::detailed),
    /// [`Succeeded`](crate::Succeeded) or a [`RetryError`](crate::RetryError).
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
        N: Notify<E>,
        D: Finish<T, E>,
        K: OkCheck<T>,
    {
        let Retry {
            policy,
            mut op,
            sleeper,
            mut notify,
            mut stop,
            mut check,
            ..
        } = self;
        // The plain form without the context keeps no state unless a retry
        // needs it, and makes its first attempt inline.
        if !D::TIMED && !F::WANTS_ATTEMPT && !X::ACTIVE && !K::ACTIVE {
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
        if policy.cooldown.is_some() {
            crate::run::hold_first_blocking(policy, &sleeper);
        }
        loop {
            if let Err((e, reason)) = run.admit_or_stop(policy) {
                let e =
                    core::mem::replace(&mut *run, LazyRun::empty()).into_error(policy, e, reason);
                return D::err(e);
            }
            // The attempt and what the run makes of it, in the attempt's span.
            let span = crate::span::next_attempt_span(policy, run.attempts());
            // (with a stop check, the error or the rejected value of the
            // attempt the run waits to retry, returned if the stop comes in
            // the wait)
            let mut kept = None;
            let mut kept_ok = None;
            let flow = crate::span::in_span(span.as_ref(), |spanned| {
                let outcome = {
                    let _published = nested::publish(policy.published_kinds());
                    op.attempt(|| run.next_attempt(policy))
                };
                // (an `Ok` that `retry_if_ok` rejects; a constant `false`
                // without the check)
                let rejected = K::ACTIVE && matches!(&outcome, Ok(v) if check.rejects(v));
                // (a stop that came during the attempt ends the run at its
                // failure; a constant `false` without a stop check)
                if X::ACTIVE && (outcome.is_err() || rejected) {
                    let fired = stop.stopped();
                    run.failed_with_signal(policy, fired);
                }
                // (decided in the attempt's span: a failure marks it)
                run.settle_checked(
                    policy,
                    outcome,
                    rejected,
                    &mut notify,
                    spanned,
                    |e| {
                        if X::ACTIVE {
                            kept = Some(e);
                        }
                    },
                    |v| {
                        if X::ACTIVE {
                            kept_ok = Some(v);
                        }
                    },
                )
            });
            // the attempt's span closes before the sleep: its time is the
            // attempt's and the decision's, not the backoff's
            drop(span);
            match flow {
                ControlFlow::Break(Settled::Ok(value)) => return D::ok(value, &mut run),
                ControlFlow::Break(Settled::Err(e)) => return D::err(e),
                ControlFlow::Break(Settled::Rejected(value, reason)) => {
                    let (attempts, elapsed) = run.progress();
                    return D::rejected(value, reason, attempts, elapsed);
                }
                ControlFlow::Continue(wait) => {
                    sleep::block_on_wait(&sleeper, wait);
                    // (the value a stop would return is dropped after its
                    // wait either way)
                    if X::ACTIVE && (kept.is_some() || kept_ok.is_some()) && stop.stopped() {
                        if let Some(e) = kept.take() {
                            return D::err(run.stopped_in_wait(policy, e));
                        }
                        if let Some(value) = kept_ok {
                            let (attempts, elapsed) = run.stopped_in_wait_ok(policy);
                            return D::rejected(value, StopReason::Stopped, attempts, elapsed);
                        }
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
        K: WithoutOkCheck,
        F: Op<Output = Fut>,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        G: Admission<E>,
        E: Display,
        S: Sleeper,
        N: Notify<E>,
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
