//! One run of attempts: the state machine shared by the executors and the
//! code `#[retry]` generates, and the executors themselves
//! ([`Policy::retry`], [`Policy::retry_async`] and their `_detailed` forms).

use core::fmt::Display;
use core::marker::PhantomData;
use core::ops::ControlFlow;
use std::future::Future;
use std::time::Duration;

use crate::budget;
use crate::circuit::{CircuitBreaker, CircuitOpen, CircuitState, Outcome, Permit};
use crate::classify::ErrorKind;
use crate::error::RetryError;
use crate::hooks::{self, GiveUpEvent, RetryEvent};
use crate::jitter::{Jitter, Rng};
use crate::policy::{Decision, Policy, Verdict, When};
use crate::sleep::{self, Clock, SyncClock, TokioClock};
use crate::stop::StopReason;

/// The state of one run: attempts made, the previous wait, the start time.
///
/// Call [`succeeded`](Run::succeeded) after an `Ok`, [`failed`](Run::failed)
/// after an `Err` (it logs, runs the callbacks and returns the decision), and
/// sleep the returned wait yourself. This is what the executors and the
/// `#[retry]` attribute do; use it directly to drive a custom loop.
///
/// ```
/// use retry_runtime::{Decision, Policy, Run, sleep::SyncClock};
/// let policy = Policy::new().attempts(3);
/// let mut run = Run::<_, SyncClock>::new(&policy);
/// let mut answers = vec![Ok(42), Err("flaky")].into_iter().rev();
/// let value = loop {
///     match answers.next().unwrap() {
///         Ok(v) => { run.succeeded(); break v; }
///         Err(e) => match run.failed(&e) {
///             Decision::Retry(_wait) => continue, // sleep here
///             Decision::GiveUp(_) => panic!("gave up: {e}"),
///         },
///     }
/// };
/// assert_eq!((value, run.attempts()), (42, 2));
/// ```
///
/// # Circuit breaker and retry budget
/// When the policy has a [`CircuitBreaker`], call
/// [`before_attempt`](Run::before_attempt) before each attempt: an `Err` means
/// the breaker rejected the call; do not make it, return the error. The
/// outcomes are recorded by `succeeded`/`failed`/`rejected` (an attempt not
/// preceded by `before_attempt` is recorded too, but never rejected). A
/// [`RetryBudget`](crate::RetryBudget) needs nothing more: `failed` returns
/// [`Decision::GiveUp`] when it refuses the retry. Without either, these cost
/// a `None` check.
///
/// ```
/// use retry_runtime::{CircuitBreaker, CircuitOpen, Decision, Policy, Run, StopReason, sleep::SyncClock};
/// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(2);
/// let policy = Policy::new().attempts(5).circuit(&UPSTREAM);
///
/// let mut calls = 0;
/// let mut run = Run::<_, SyncClock>::new(&policy);
/// let last: Result<(), String> = loop {
///     if let Err(open) = run.before_attempt() {
///         break Err(open.to_string());
///     }
///     calls += 1;
///     let e = "timed out";
///     match run.failed(&e) {
///         Decision::Retry(_wait) => continue, // sleep here
///         Decision::GiveUp(reason) => {
///             assert_eq!(reason, StopReason::CircuitOpen); // opened after 2 failures
///             break Err(e.to_string());
///         }
///     }
/// };
/// assert_eq!((calls, last.unwrap_err()), (2, "timed out".to_string()));
/// // the next run is rejected without calling
/// let mut run = Run::<_, SyncClock>::new(&policy);
/// let open: CircuitOpen = run.before_attempt().unwrap_err();
/// assert_eq!(open.circuit, "upstream");
/// ```
pub struct Run<'p, W, C: Clock> {
    policy: &'p Policy<W>,
    attempts: u32,
    previous: Duration,
    start: Option<C::Instant>,
    timed: bool,
    clock: PhantomData<C>,
    /// The breaker's leave for the attempt in progress.
    permit: Option<Permit>,
}

impl<'p, W, C: Clock> Run<'p, W, C> {
    /// A run that has made no attempt yet. Reads the clock only when the
    /// policy has a `max_elapsed` limit.
    #[inline]
    pub fn new(policy: &'p Policy<W>) -> Self {
        Run {
            policy,
            attempts: 0,
            previous: Duration::ZERO,
            start: policy.stop.max_elapsed.map(|_| C::now()),
            timed: false,
            clock: PhantomData,
            permit: None,
        }
    }

    /// Measure the run's elapsed time even when nothing needs it on the way
    /// (no `max_elapsed`, no callbacks), so that [`into_error`](Run::into_error)
    /// reports it: from the first failure (one clock read per run). Without
    /// this, a retry reads no clock at all unless the policy needs the time.
    ///
    /// ```
    /// use retry_runtime::{Policy, Run, sleep::SyncClock};
    /// let policy = Policy::new();
    /// let run = Run::<_, SyncClock>::new(&policy).timed();
    /// # let _ = run;
    /// ```
    #[inline]
    pub fn timed(mut self) -> Self {
        self.timed = true;
        self
    }

    /// Call before each attempt. With a circuit breaker on the policy, asks
    /// it for leave: `Err(`[`CircuitOpen`]`)` means it is open, so do not make
    /// the attempt; return the rejection as the function's error (the run
    /// is over: the policy's `on_give_up` callback has been called with
    /// [`StopReason::CircuitOpen`]). Without a breaker, `Ok(())`.
    ///
    /// ```
    /// use retry_runtime::{Policy, Run, sleep::SyncClock};
    /// let policy = Policy::new();
    /// let mut run = Run::<_, SyncClock>::new(&policy);
    /// assert!(run.before_attempt().is_ok()); // no breaker: always
    /// ```
    #[inline]
    pub fn before_attempt(&mut self) -> Result<(), CircuitOpen> {
        match self.policy.circuit {
            None => Ok(()),
            Some(breaker) => self.acquire(breaker),
        }
    }

    #[inline(never)]
    fn acquire(&mut self, breaker: &CircuitBreaker) -> Result<(), CircuitOpen> {
        match breaker.try_acquire() {
            Ok(permit) => {
                self.permit = Some(permit);
                Ok(())
            }
            Err(open) => {
                self.permit = None;
                let policy = self.policy;
                tracing::debug!(
                    operation = policy.name,
                    attempt = self.attempts.saturating_add(1),
                    circuit = open.circuit,
                    "{} not attempted: {}",
                    policy.name,
                    open,
                );
                if let Some(hook) = policy.on_give_up {
                    hook(&GiveUpEvent {
                        operation: policy.name,
                        attempts: self.attempts,
                        max_attempts: policy.stop.attempts(),
                        reason: StopReason::CircuitOpen,
                        error: &open,
                        kind: Some(ErrorKind::Unavailable),
                        elapsed: self.elapsed(),
                    });
                }
                Err(open)
            }
        }
    }

    /// The attempt just made succeeded; logs at INFO if it was not the first.
    #[inline]
    pub fn succeeded(&mut self) {
        self.attempts = self.attempts.saturating_add(1);
        if self.policy.circuit.is_some() || self.policy.budget.is_some() {
            self.record(Outcome::Success);
        }
        if self.attempts > 1 {
            hooks::log_success(self.policy.name, self.attempts, self.policy.stop.attempts());
        }
    }

    /// The attempt just made failed with `error`: decide, log, and call the
    /// policy's callbacks. Returns the wait before the next attempt, or why to give up.
    #[inline(never)]
    pub fn failed<E: Display>(&mut self, error: &E) -> Decision
    where
        W: When<E>,
    {
        let verdict = self.policy.when.check(error);
        let outcome = if verdict.retry {
            Outcome::Failure
        } else {
            Outcome::Neutral
        };
        self.judge(verdict, error, outcome)
    }

    /// The attempt just made returned an `Ok` that `retry_if_ok` rejected:
    /// retried like a retriable error.
    #[inline(never)]
    pub fn rejected(&mut self) -> Decision {
        let verdict = Verdict {
            retry: true,
            kind: None,
            retry_after: None,
        };
        // The dependency answered: no signal for a circuit breaker.
        self.judge(
            verdict,
            &"the result was rejected by retry_if_ok",
            Outcome::Neutral,
        )
    }

    /// The attempt just made (`self.attempts`) ended with `outcome`: a first
    /// attempt deposits into the budget; the breaker records the outcome.
    #[inline(never)]
    fn record(&mut self, outcome: Outcome) {
        if self.attempts == 1 {
            if let Some(budget) = self.policy.budget {
                budget.deposit();
            }
        }
        if let Some(breaker) = self.policy.circuit {
            // No `before_attempt` (an unguarded executor): take the leave now,
            // so the outcome still counts, and the breaker still moves on.
            if let Some(permit) = self.permit.take().or_else(|| breaker.acquire_quietly()) {
                breaker.record(permit, outcome);
            }
        }
    }

    /// A retry the policy allows: does the breaker or the budget stop it?
    #[inline(never)]
    fn guard_retry(&self, wait: Duration) -> Decision {
        if let Some(breaker) = self.policy.circuit {
            if breaker.state() != CircuitState::Closed {
                return Decision::GiveUp(StopReason::CircuitOpen);
            }
        }
        if let Some(budget) = self.policy.budget {
            if !budget.try_withdraw() {
                return Decision::GiveUp(StopReason::Budget);
            }
        }
        Decision::Retry(wait)
    }

    fn judge(&mut self, verdict: Verdict, error: &dyn Display, outcome: Outcome) -> Decision {
        self.attempts = self.attempts.saturating_add(1);
        let guarded = self.policy.circuit.is_some() || self.policy.budget.is_some();
        if guarded {
            self.record(outcome);
        }
        let policy = self.policy;
        // Reading the clock is most of a retry's cost: only when a deadline
        // or a callback needs the time, or the run reports it at the end.
        let needs_time = policy.stop.max_elapsed.is_some()
            || policy.before_sleep.is_some()
            || policy.on_give_up.is_some();
        let elapsed = if needs_time || (self.timed && self.start.is_none()) {
            self.elapsed()
        } else {
            Duration::ZERO
        };
        // Without jitter no random number is drawn: skip the thread's generator.
        let mut decision = if policy.jitter == Jitter::None {
            policy.next(
                self.attempts,
                self.previous,
                elapsed,
                verdict,
                &mut Rng::with_seed(0),
            )
        } else {
            Rng::with_thread(|rng| policy.next(self.attempts, self.previous, elapsed, verdict, rng))
        };
        if let (true, Decision::Retry(wait)) = (guarded, decision) {
            decision = self.guard_retry(wait);
        }
        match decision {
            Decision::Retry(wait) => {
                self.previous = wait;
                let ev = RetryEvent {
                    operation: policy.name,
                    attempt: self.attempts,
                    max_attempts: policy.stop.attempts(),
                    wait,
                    error,
                    kind: verdict.kind,
                    elapsed,
                    from_retry_after: matches!(
                        (verdict.kind, verdict.retry_after),
                        (Some(kind), Some(_)) if policy.retry_after.kinds.contains(kind)
                    ),
                };
                hooks::log_retry(&ev);
                if let Some(hook) = policy.before_sleep {
                    hook(&ev);
                }
            }
            Decision::GiveUp(reason) => {
                let ev = GiveUpEvent {
                    operation: policy.name,
                    attempts: self.attempts,
                    max_attempts: policy.stop.attempts(),
                    reason,
                    error,
                    kind: verdict.kind,
                    elapsed,
                };
                match (reason, policy.budget) {
                    (StopReason::Budget, Some(budget)) => budget::log_exhausted(&ev, budget),
                    _ => hooks::log_give_up(&ev),
                }
                if let Some(hook) = policy.on_give_up {
                    hook(&ev);
                }
            }
        }
        decision
    }

    /// The executors' shared step: record an attempt's outcome, and either
    /// finish (`Break`: the value, or the error wrapped in a [`RetryError`])
    /// or go on after a wait (`Continue`). The error is dropped here, so the
    /// caller holds nothing of it while it sleeps.
    #[inline]
    fn settle<T, E: Display>(
        &mut self,
        outcome: Result<T, E>,
    ) -> ControlFlow<Result<T, RetryError<E>>, Duration>
    where
        W: When<E>,
    {
        match outcome {
            Ok(value) => {
                self.succeeded();
                ControlFlow::Break(Ok(value))
            }
            Err(error) => match self.failed(&error) {
                Decision::Retry(wait) => ControlFlow::Continue(wait),
                Decision::GiveUp(reason) => ControlFlow::Break(Err(self.error(error, reason))),
            },
        }
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time since the run started (see [`RetryError`] for when that is).
    pub fn elapsed(&mut self) -> Duration {
        match self.start {
            Some(start) => C::since(start),
            None => {
                self.start = Some(C::now());
                Duration::ZERO
            }
        }
    }

    /// Wrap the last error of a run that gave up.
    pub fn into_error<E>(mut self, last_error: E, reason: StopReason) -> RetryError<E> {
        self.error(last_error, reason)
    }

    fn error<E>(&mut self, last_error: E, reason: StopReason) -> RetryError<E> {
        RetryError {
            operation: self.policy.name,
            attempts: self.attempts,
            elapsed: self.elapsed(),
            reason,
            last_error,
        }
    }
}

impl<W> Policy<W> {
    /// Call `op` until it succeeds or the policy gives up; sleeps with
    /// [`std::thread::sleep`]. On giving up, the last error is returned unchanged.
    ///
    /// A [retry budget](Policy::budget) is honoured. A
    /// [circuit breaker](Policy::circuit) records the outcomes and stops the
    /// retries while open, but cannot reject the first call (there is no
    /// error to return): use [`retry_guarded`](Policy::retry_guarded) for that.
    ///
    /// ```
    /// use retry_runtime::presets;
    /// let _paused = retry_runtime::testing::pause();
    /// let mut calls = 0;
    /// let r = presets::QUICK.retry(|| {
    ///     calls += 1;
    ///     Err::<(), _>(std::io::Error::from(std::io::ErrorKind::TimedOut))
    /// });
    /// assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    /// assert_eq!(calls, 2);
    /// ```
    pub fn retry<T, E, F>(&self, op: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display,
    {
        self.run_sync(op, false).map_err(RetryError::into_inner)
    }

    /// [`retry`](Policy::retry), giving up with a [`RetryError`] that says how and why.
    ///
    /// ```
    /// use retry_runtime::{presets, StopReason};
    /// let not_found = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// let e = presets::WEBHOOK.retry_detailed(|| Err::<(), _>(std::io::Error::from(not_found.kind()))).unwrap_err();
    /// assert_eq!((e.attempts, e.reason), (1, StopReason::Permanent));
    /// ```
    pub fn retry_detailed<T, E, F>(&self, op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display,
    {
        self.run_sync(op, true)
    }

    /// The loop of `retry_detailed`; `timed` measures the elapsed time for its `RetryError`.
    fn run_sync<T, E, F>(&self, mut op: F, timed: bool) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display,
    {
        let mut run = Run::<W, SyncClock>::new(self);
        if timed {
            run = run.timed();
        }
        loop {
            match run.settle(op()) {
                ControlFlow::Break(out) => return out,
                ControlFlow::Continue(wait) => sleep::sleep_sync(wait),
            }
        }
    }

    /// Call `op` and await its future until it succeeds or the policy gives
    /// up; sleeps on tokio's timer (a zero wait does not sleep or yield).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::presets;
    /// let mut calls = 0;
    /// let r = presets::AI_PROVIDER
    ///     .retry_async(|| {
    ///         calls += 1;
    ///         let n = calls;
    ///         async move {
    ///             if n < 3 { Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset)) } else { Ok(n) }
    ///         }
    ///     })
    ///     .await;
    /// assert_eq!(r.unwrap(), 3);
    /// # }
    /// ```
    pub async fn retry_async<T, E, F, Fut>(&self, op: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display,
    {
        self.retry_async_detailed(op)
            .await
            .map_err(RetryError::into_inner)
    }

    /// [`retry_async`](Policy::retry_async), giving up with a [`RetryError`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::{Policy, StopReason};
    /// let e = Policy::new().attempts(4).retry_async_detailed(|| async { Err::<(), _>("down") }).await.unwrap_err();
    /// assert_eq!((e.attempts, e.reason, e.last_error), (4, StopReason::Attempts, "down"));
    /// # }
    /// ```
    pub async fn retry_async_detailed<T, E, F, Fut>(&self, op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display,
    {
        self.run_async(op, true).await
    }

    /// The loop of `retry_async_detailed`; `timed` measures the elapsed time for its `RetryError`.
    async fn run_async<T, E, F, Fut>(&self, mut op: F, timed: bool) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display,
    {
        let mut run = Run::<W, TokioClock>::new(self);
        if timed {
            run = run.timed();
        }
        loop {
            // `settle` consumes the error, and the wait is taken out of its
            // result before the sleep: nothing of the error is held across the
            // await, so the future is `Send` even when `E` is not.
            let outcome = op().await;
            let wait = match run.settle(outcome) {
                ControlFlow::Break(out) => return out,
                ControlFlow::Continue(wait) => wait,
            };
            if sleep::should_sleep(wait) {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// [`retry`](Policy::retry), rejected without calling `op` while the
    /// policy's [`CircuitBreaker`] is open: the error
    /// is then `E::from(`[`CircuitOpen`]`)`. Without a breaker, the same as `retry`.
    ///
    /// ```
    /// use retry_runtime::{CircuitBreaker, Policy};
    /// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(3);
    /// let _paused = retry_runtime::testing::pause();
    /// let policy = Policy::new().attempts(3).circuit(&UPSTREAM);
    /// let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let mut calls = 0;
    /// let first = policy.retry_guarded(|| { calls += 1; Err::<(), _>(refused()) });
    /// assert_eq!(first.unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
    /// // 3 failures opened it: the next call is not made
    /// let second = policy.retry_guarded(|| { calls += 1; Ok::<_, std::io::Error>(()) });
    /// assert_eq!(second.unwrap_err().to_string(), "circuit `upstream` is open; retry after 30s");
    /// assert_eq!(calls, 3);
    /// ```
    pub fn retry_guarded<T, E, F>(&self, op: F) -> Result<T, E>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display + From<CircuitOpen>,
    {
        self.retry_guarded_detailed(op)
            .map_err(RetryError::into_inner)
    }

    /// [`retry_guarded`](Policy::retry_guarded), giving up with a [`RetryError`];
    /// a rejection has the reason [`StopReason::CircuitOpen`].
    ///
    /// ```
    /// use retry_runtime::{CircuitBreaker, Policy, StopReason};
    /// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(1);
    /// let policy = Policy::new().attempts(3).circuit(&UPSTREAM);
    /// let down = || std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let e = policy.retry_guarded_detailed(|| Err::<(), _>(down())).unwrap_err();
    /// assert_eq!((e.attempts, e.reason), (1, StopReason::CircuitOpen)); // opened: no retry
    /// let e = policy.retry_guarded_detailed(|| Ok::<_, std::io::Error>(())).unwrap_err();
    /// assert_eq!((e.attempts, e.reason), (0, StopReason::CircuitOpen)); // rejected
    /// ```
    pub fn retry_guarded_detailed<T, E, F>(&self, op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display + From<CircuitOpen>,
    {
        self.run_guarded(op, true)
    }

    /// The loop of `retry_guarded_detailed`; `timed` measures the elapsed time for its `RetryError`.
    fn run_guarded<T, E, F>(&self, mut op: F, timed: bool) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Result<T, E>,
        W: When<E>,
        E: Display + From<CircuitOpen>,
    {
        let mut run = Run::<W, SyncClock>::new(self);
        if timed {
            run = run.timed();
        }
        loop {
            if let Err(open) = run.before_attempt() {
                return Err(run.into_error(E::from(open), StopReason::CircuitOpen));
            }
            match run.settle(op()) {
                ControlFlow::Break(out) => return out,
                ControlFlow::Continue(wait) => sleep::sleep_sync(wait),
            }
        }
    }

    /// [`retry_async`](Policy::retry_async), rejected without calling `op`
    /// while the policy's [`CircuitBreaker`] is open:
    /// the error is then `E::from(`[`CircuitOpen`]`)`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::{presets, CircuitBreaker, RetryBudget};
    /// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");
    /// static RETRIES: RetryBudget = RetryBudget::new("upstream");
    /// let policy = presets::API.circuit(&UPSTREAM).budget(&RETRIES);
    /// let r = policy
    ///     .retry_async_guarded(|| async { Ok::<_, std::io::Error>("pong") })
    ///     .await;
    /// assert_eq!(r.unwrap(), "pong");
    /// assert_eq!((UPSTREAM.stats().successes, RETRIES.stats().first_attempts), (1, 1));
    /// # }
    /// ```
    pub async fn retry_async_guarded<T, E, F, Fut>(&self, op: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display + From<CircuitOpen>,
    {
        self.retry_async_guarded_detailed(op)
            .await
            .map_err(RetryError::into_inner)
    }

    /// [`retry_async_guarded`](Policy::retry_async_guarded), giving up with a [`RetryError`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::{CircuitBreaker, Policy, StopReason};
    /// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(2);
    /// let policy = Policy::new().attempts(5).circuit(&UPSTREAM);
    /// let down = || std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    /// let e = policy.retry_async_guarded_detailed(|| async { Err::<(), _>(down()) }).await.unwrap_err();
    /// assert_eq!((e.attempts, e.reason), (2, StopReason::CircuitOpen));
    /// # }
    /// ```
    pub async fn retry_async_guarded_detailed<T, E, F, Fut>(
        &self,
        op: F,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display + From<CircuitOpen>,
    {
        self.run_async_guarded(op, true).await
    }

    /// The loop of `retry_async_guarded_detailed`; `timed` measures the elapsed time for its `RetryError`.
    async fn run_async_guarded<T, E, F, Fut>(
        &self,
        mut op: F,
        timed: bool,
    ) -> Result<T, RetryError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        W: When<E>,
        E: Display + From<CircuitOpen>,
    {
        let mut run = Run::<W, TokioClock>::new(self);
        if timed {
            run = run.timed();
        }
        loop {
            if let Err(open) = run.before_attempt() {
                return Err(run.into_error(E::from(open), StopReason::CircuitOpen));
            }
            // As in `retry_async_detailed`: no error is held across the sleep.
            let outcome = op().await;
            let wait = match run.settle(outcome) {
                ControlFlow::Break(out) => return out,
                ControlFlow::Continue(wait) => wait,
            };
            if sleep::should_sleep(wait) {
                tokio::time::sleep(wait).await;
            }
        }
    }
}
