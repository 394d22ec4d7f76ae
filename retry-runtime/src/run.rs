//! One run of attempts: the state machine shared by [`Retry`](crate::Retry)
//! and the code `#[retry]` generates, and the sync loop both use.

use core::fmt::Display;
use core::marker::PhantomData;
use core::ops::ControlFlow;
use std::time::Duration;

use crate::__private::IsResult;
use crate::circuit::{CircuitBreaker, CircuitOpen, CircuitState, Outcome, Permit};
use crate::classify::ErrorKind;
use crate::error::RetryError;
use crate::hooks::{GiveUpEvent, RetryEvent};
use crate::jitter::{Jitter, Rng};
use crate::log;
use crate::policy::{Decision, NoCircuit, Policy, Verdict, When, WithCircuit};
use crate::sleep::{BlockingSleeper, Clock, DefaultSleeper, SyncClock};
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
/// let mut run = Run::<_, SyncClock, _>::new(&policy);
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
/// let mut run = Run::<_, SyncClock, _>::new(&policy);
/// let open: CircuitOpen = run.before_attempt().unwrap_err();
/// assert_eq!(open.circuit, "upstream");
/// ```
pub struct Run<'p, W, C: Clock, G = NoCircuit> {
    policy: &'p Policy<W, G>,
    state: State<C>,
}

// The steps of the common path are `inline(always)` in optimized builds (a
// retry of a constant policy then folds to a few instructions in the
// caller) but only `inline` in debug builds, where forcing them into every
// annotated function's own copy of the loop made a crate of 200 such
// functions build 35% slower.

/// Everything of a run but its policy, which each step is handed: the
/// `#[retry]` loop keeps the policy as a constant and this beside it
/// (see [`LazyRun`]).
pub(crate) struct State<C: Clock> {
    attempts: u32,
    timed: bool,
    /// The breaker's leave for the attempt in progress.
    permit: Option<Permit>,
    /// The previous wait, in nanoseconds (saturated: 584 years).
    previous: u64,
    start: Option<C::Instant>,
    clock: PhantomData<C>,
}

impl<'p, W, C: Clock, G> Run<'p, W, C, G> {
    /// A run that has made no attempt yet. Reads the clock only when the
    /// policy has a `max_elapsed` limit.
    #[inline]
    pub fn new(policy: &'p Policy<W, G>) -> Self {
        Run {
            policy,
            state: State::new(policy),
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
        self.state.timed = true;
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
        self.state.before_attempt(self.policy)
    }

    /// The attempt just made succeeded; logs at INFO if it was not the first.
    #[inline]
    pub fn succeeded(&mut self) {
        self.state.succeeded(self.policy);
    }

    /// The attempt just made failed with `error`: decide, log, and call the
    /// policy's callbacks. Returns the wait before the next attempt, or why to give up.
    #[inline]
    pub fn failed<E: Display>(&mut self, error: &E) -> Decision
    where
        W: When<E>,
    {
        self.state.failed(self.policy, error)
    }

    /// The attempt just made returned an `Ok` that `retry_if_ok` rejected:
    /// retried like a retriable error.
    #[inline(never)]
    pub fn rejected(&mut self) -> Decision {
        self.state.rejected(self.policy)
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.state.attempts
    }

    /// Time since the run started (see [`RetryError`] for when that is).
    pub fn elapsed(&mut self) -> Duration {
        self.state.elapsed()
    }

    /// Wrap the last error of a run that gave up.
    pub fn into_error<E>(mut self, last_error: E, reason: StopReason) -> RetryError<E> {
        self.state.error(self.policy, last_error, reason)
    }
}

impl<C: Clock> State<C> {
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn new<W, G>(policy: &Policy<W, G>) -> Self {
        State {
            attempts: 0,
            timed: false,
            permit: None,
            previous: 0,
            start: policy.stop.max_elapsed.map(|_| C::now()),
            clock: PhantomData,
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn before_attempt<W, G>(&mut self, policy: &Policy<W, G>) -> Result<(), CircuitOpen> {
        match policy.circuit {
            None => Ok(()),
            Some(breaker) => self.acquire(policy, breaker),
        }
    }

    /// [`LazyRun::admit`] for a run that has its state.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn admit<W, G: Admission<E>, E>(&mut self, policy: &Policy<W, G>) -> Result<(), E> {
        if G::ASKS {
            if let Err(open) = self.before_attempt(policy) {
                if let Some(e) = G::rejection(open) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    #[inline(never)]
    fn acquire<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        breaker: &CircuitBreaker,
    ) -> Result<(), CircuitOpen> {
        match breaker.try_acquire() {
            Ok(permit) => {
                self.permit = Some(permit);
                Ok(())
            }
            Err(open) => {
                self.permit = None;
                log::not_attempted(policy.name, self.attempts.saturating_add(1), &open);
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

    #[inline]
    fn succeeded<W, G>(&mut self, policy: &Policy<W, G>) {
        self.attempts = self.attempts.saturating_add(1);
        if policy.circuit.is_some() || policy.budget.is_some() {
            self.record(policy, Outcome::Success);
        }
        if self.attempts > 1 {
            log::success(policy.name, self.attempts, policy.stop.attempts());
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn failed<W, G, E: Display>(&mut self, policy: &Policy<W, G>, error: &E) -> Decision
    where
        W: When<E>,
    {
        let verdict = policy.when.check(error);
        match self.quick_retry(policy, verdict) {
            Some(wait) => Decision::Retry(wait),
            None => self.failed_slow(policy, verdict, error),
        }
    }

    /// [`failed`](State::failed), telling `notify` of a retry too. Without
    /// a hook (`N::ACTIVE` false) it is `failed`.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn failed_notify<W, G, E: Display, N: Notify>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
        notify: &mut N,
    ) -> Decision
    where
        W: When<E>,
    {
        if !N::ACTIVE {
            return self.failed(policy, error);
        }
        let verdict = policy.when.check(error);
        let outcome = if verdict.retry {
            Outcome::Failure
        } else {
            Outcome::Neutral
        };
        self.judge(policy, verdict, error, outcome, Some(notify))
    }

    /// The common retry, decided in a few instructions where the caller is:
    /// a plain policy (see [`Policy::is_plain`]), a retriable error without a
    /// Retry-After hint, attempts left, nothing to time and nobody listening
    /// for the WARN line. `None` for anything else, which `failed_slow`
    /// handles in full (it reaches the same decision for this case; a test
    /// checks that). With the policy a constant, the checks fold away.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn quick_retry<W, G>(&mut self, policy: &Policy<W, G>, verdict: Verdict) -> Option<Duration> {
        if log::warn_may_log() {
            return None;
        }
        self.quick_retry_unlogged(policy, verdict)
    }

    /// [`quick_retry`](State::quick_retry) but for the "is anyone listening" check.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn quick_retry_unlogged<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
    ) -> Option<Duration> {
        // `attempts() >= 1`, and below it `attempts + 1` cannot overflow.
        let quick = policy.is_plain()
            && verdict.retry
            && verdict.retry_after.is_none()
            && self.attempts < policy.stop.attempts() - 1
            && !(self.timed && self.start.is_none());
        if !quick {
            return None;
        }
        let wait = policy.backoff.delay(self.attempts);
        self.attempts += 1;
        // `previous` is left alone: only the decorrelated jitter reads it,
        // and a plain policy has no jitter.
        Some(wait)
    }

    #[inline(never)]
    fn failed_slow<W, G, E: Display>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
        error: &E,
    ) -> Decision {
        let outcome = if verdict.retry {
            Outcome::Failure
        } else {
            Outcome::Neutral
        };
        self.judge(policy, verdict, error, outcome, None)
    }

    #[inline(never)]
    fn rejected<W, G>(&mut self, policy: &Policy<W, G>) -> Decision {
        let verdict = Verdict {
            retry: true,
            kind: None,
            retry_after: None,
        };
        // The dependency answered: no signal for a circuit breaker.
        self.judge(
            policy,
            verdict,
            &"the result was rejected by retry_if_ok",
            Outcome::Neutral,
            None,
        )
    }

    /// The attempt just made (`self.attempts`) ended with `outcome`: a first
    /// attempt deposits into the budget; the breaker records the outcome.
    #[inline(never)]
    fn record<W, G>(&mut self, policy: &Policy<W, G>, outcome: Outcome) {
        if self.attempts == 1 {
            if let Some(budget) = policy.budget {
                budget.deposit();
            }
        }
        if let Some(breaker) = policy.circuit {
            // No `before_attempt` (an unguarded executor): take the leave now,
            // so the outcome still counts, and the breaker still moves on.
            if let Some(permit) = self.permit.take().or_else(|| breaker.acquire_quietly()) {
                breaker.record(permit, outcome);
            }
        }
    }

    /// A retry the policy allows: does the breaker or the budget stop it?
    #[inline(never)]
    fn guard_retry<W, G>(policy: &Policy<W, G>, wait: Duration) -> Decision {
        if let Some(breaker) = policy.circuit {
            if breaker.state() != CircuitState::Closed {
                return Decision::GiveUp(StopReason::CircuitOpen);
            }
        }
        if let Some(budget) = policy.budget {
            if !budget.try_withdraw() {
                return Decision::GiveUp(StopReason::Budget);
            }
        }
        Decision::Retry(wait)
    }

    fn judge<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
        error: &dyn Display,
        outcome: Outcome,
        notify: Option<&mut dyn OnRetry>,
    ) -> Decision {
        self.attempts = self.attempts.saturating_add(1);
        let guarded = policy.circuit.is_some() || policy.budget.is_some();
        if guarded {
            self.record(policy, outcome);
        }
        // Reading the clock is most of a retry's cost: only when a deadline
        // or a callback needs the time, or the run reports it at the end.
        let needs_time = policy.stop.max_elapsed.is_some()
            || policy.before_sleep.is_some()
            || policy.on_give_up.is_some()
            || notify.is_some();
        let elapsed = if needs_time || (self.timed && self.start.is_none()) {
            self.elapsed()
        } else {
            Duration::ZERO
        };
        let previous = Duration::from_nanos(self.previous);
        // Without jitter no random number is drawn: skip the thread's generator.
        let mut decision = if policy.jitter == Jitter::None {
            policy.next(
                self.attempts,
                previous,
                elapsed,
                verdict,
                &mut Rng::with_seed(0),
            )
        } else {
            Rng::with_thread(|rng| policy.next(self.attempts, previous, elapsed, verdict, rng))
        };
        if let (true, Decision::Retry(wait)) = (guarded, decision) {
            decision = Self::guard_retry(policy, wait);
        }
        match decision {
            Decision::Retry(wait) => {
                self.previous = nanos(wait);
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
                log::retry(&ev);
                if let Some(hook) = policy.before_sleep {
                    hook(&ev);
                }
                if let Some(notify) = notify {
                    notify.on_retry(&ev);
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
                    (StopReason::Budget, Some(budget)) => log::budget_exhausted(&ev, budget),
                    _ => log::give_up(&ev),
                }
                if let Some(hook) = policy.on_give_up {
                    hook(&ev);
                }
            }
        }
        decision
    }

    fn elapsed(&mut self) -> Duration {
        match self.start {
            Some(start) => C::since(start),
            None => {
                self.start = Some(C::now());
                Duration::ZERO
            }
        }
    }

    fn error<W, G, E>(
        &mut self,
        policy: &Policy<W, G>,
        last_error: E,
        reason: StopReason,
    ) -> RetryError<E> {
        RetryError {
            operation: policy.name,
            attempts: self.attempts,
            elapsed: self.elapsed(),
            reason,
            last_error,
        }
    }
}

/// A wait in nanoseconds, saturated (for the decorrelated jitter's memory).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn nanos(wait: Duration) -> u64 {
    u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX)
}

/// A [`Run`] as the `#[retry]` loop and the executors keep it: the policy
/// stays with the caller (a constant, for the attribute), and there is no
/// state until it is needed, at the first failure (or from the start, for a
/// policy with a deadline, a circuit breaker or a retry budget, which need
/// the start time or every outcome). A first attempt that succeeds then costs
/// what it costs in a hand-written loop. The macro's contract, not public API:
/// every call must be given the same policy.
#[doc(hidden)]
pub struct LazyRun<C: Clock>(Option<State<C>>);

impl<C: Clock> LazyRun<C> {
    /// A run with no state yet.
    #[inline]
    pub(crate) fn empty() -> Self {
        LazyRun(None)
    }

    /// Does `policy` need a run's state before the first attempt: a
    /// deadline (its start time), a breaker or a budget (every outcome)?
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn needed_from_start<W, G>(policy: &Policy<W, G>) -> bool {
        policy.stop.max_elapsed.is_some() || policy.circuit.is_some() || policy.budget.is_some()
    }

    /// No state yet, unless `policy` needs it from the start.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn new<W, G>(policy: &Policy<W, G>) -> Self {
        LazyRun(if Self::needed_from_start(policy) {
            Some(State::new(policy))
        } else {
            None
        })
    }

    /// A run that reports its attempts and the time it took (waits
    /// included), on success as on failure: the clock is read at its start.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn timed<W, G>(policy: &Policy<W, G>) -> Self {
        let mut state = State::new(policy);
        state.timed = true;
        if state.start.is_none() {
            state.start = Some(C::now());
        }
        LazyRun(Some(state))
    }

    /// Attempts made so far, and the time since the run started (zero for
    /// a run that kept no state: one attempt, no clock read).
    pub(crate) fn progress(&mut self) -> (u32, Duration) {
        match &mut self.0 {
            Some(state) => (state.attempts, state.elapsed()),
            None => (1, Duration::ZERO),
        }
    }

    /// Before an attempt: `Err(e)` when the policy's circuit breaker rejects
    /// it (`e` built from the [`CircuitOpen`]); for a policy without a
    /// breaker, nothing at all.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn admit<W, G: Admission<E>, E>(&mut self, policy: &Policy<W, G>) -> Result<(), E> {
        if G::ASKS {
            if let Err(open) = self.before_attempt(policy) {
                if let Some(e) = G::rejection(open) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// [`Run::before_attempt`]; `Ok` while there is no state (so no breaker).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn before_attempt<W, G>(&mut self, policy: &Policy<W, G>) -> Result<(), CircuitOpen> {
        match &mut self.0 {
            Some(state) => state.before_attempt(policy),
            None => Ok(()),
        }
    }

    /// [`Run::succeeded`]; nothing to do while there is no state.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn succeeded<W, G>(&mut self, policy: &Policy<W, G>) {
        if let Some(state) = &mut self.0 {
            succeeded_cold(state, policy);
        }
    }

    /// [`failed`](LazyRun::failed), telling `notify` of a retry too.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn failed_notify<W, G, E: Display, N: Notify>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
        notify: &mut N,
    ) -> Decision
    where
        W: When<E>,
    {
        self.0
            .get_or_insert_with(|| State::new(policy))
            .failed_notify(policy, error, notify)
    }

    /// [`Run::failed`], starting the state at the first failure.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn failed<W, G, E: Display>(&mut self, policy: &Policy<W, G>, error: &E) -> Decision
    where
        W: When<E>,
    {
        self.0
            .get_or_insert_with(|| State::new(policy))
            .failed(policy, error)
    }

    /// The generated loop's step after an attempt: `None` to return its
    /// result as it is (it succeeded, or the run gives up), `Some(wait)` to
    /// sleep and try again. One call where the loop would otherwise match
    /// the result and then the decision, so less to compile per function.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn next_wait<W, G, R>(&mut self, policy: &Policy<W, G>, result: &R) -> Option<Duration>
    where
        R: IsResult,
        R::Err: Display,
        W: When<R::Err>,
    {
        match result.as_result() {
            Ok(_) => {
                self.succeeded(policy);
                None
            }
            Err(error) => match self.failed(policy, error) {
                Decision::Retry(wait) => Some(wait),
                Decision::GiveUp(_) => None,
            },
        }
    }

    /// [`Run::rejected`], starting the state if need be.
    #[inline(never)]
    pub fn rejected<W, G>(&mut self, policy: &Policy<W, G>) -> Decision {
        self.0
            .get_or_insert_with(|| State::new(policy))
            .rejected(policy)
    }

    /// The last error of a run that gave up, wrapped.
    #[inline(never)]
    pub(crate) fn into_error<W, G, E>(
        self,
        policy: &Policy<W, G>,
        last_error: E,
        reason: StopReason,
    ) -> RetryError<E> {
        self.0
            .unwrap_or_else(|| State::new(policy))
            .error(policy, last_error, reason)
    }

    /// The executors' shared step: record an attempt's outcome, and either
    /// finish (`Break`: the value, or the error wrapped by `finish`) or go
    /// on after a wait (`Continue`). The error is dropped here, so the
    /// caller holds nothing of it while it sleeps.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn settle<W, G, T, E: Display, N: Notify>(
        &mut self,
        policy: &Policy<W, G>,
        outcome: Result<T, E>,
        notify: &mut N,
    ) -> ControlFlow<Result<T, RetryError<E>>, Duration>
    where
        W: When<E>,
    {
        match outcome {
            Ok(value) => {
                self.succeeded(policy);
                ControlFlow::Break(Ok(value))
            }
            Err(error) => match self.failed_notify(policy, &error, notify) {
                Decision::Retry(wait) => ControlFlow::Continue(wait),
                Decision::GiveUp(reason) => {
                    let state = self.0.take();
                    let e = LazyRun(state).into_error(policy, error, reason);
                    ControlFlow::Break(Err(e))
                }
            },
        }
    }
}

/// The loop of a sync [`Retry`](crate::Retry) and of a sync `#[retry]` function (without
/// `circuit` or `retry_if_ok`, which keep their loop in the function): the
/// first attempt here, inline, and the retries in `retry_sync_rest`, out
/// of line, so a call that succeeds at once costs what a plain call does
/// plus one check. The macro's contract, not public API.
///
/// ```
/// use retry_runtime::{__private::retry_sync, Policy};
/// let policy = Policy::new().attempts(3).backoff(retry_runtime::Backoff::None);
/// let mut calls = 0;
/// let r: Result<u32, &str> = retry_sync(&policy, || { calls += 1; if calls < 3 { Err("down") } else { Ok(calls) } });
/// assert_eq!(r, Ok(3));
/// ```
#[doc(hidden)]
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub fn retry_sync<W, G, R, F>(policy: &Policy<W, G>, attempt: F) -> R
where
    R: IsResult,
    R::Err: Display,
    W: When<R::Err>,
    G: Admission<R::Err>,
    F: FnMut() -> R,
{
    retry_sync_with(policy, attempt, &DefaultSleeper)
}

/// [`retry_sync`] with a sleeper of the caller's.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn retry_sync_with<W, G, R, F, S>(
    policy: &Policy<W, G>,
    mut attempt: F,
    sleeper: &S,
) -> R
where
    R: IsResult,
    R::Err: Display,
    W: When<R::Err>,
    G: Admission<R::Err>,
    F: FnMut() -> R,
    S: BlockingSleeper + ?Sized,
{
    if LazyRun::<SyncClock>::needed_from_start(policy) {
        let state = State::new(policy);
        return retry_sync_rest(policy, state, None, attempt, sleeper, &mut NoNotify);
    }
    let first = attempt();
    if first.as_result().is_ok() {
        return first;
    }
    let state = State::new(policy);
    retry_sync_rest(policy, state, Some(first), attempt, sleeper, &mut NoNotify)
}

/// The rest of a sync run: from the result of the first attempt if it was
/// made, else from the start (asking the breaker first). Sleeps with
/// `sleeper`; tells `notify` of each retry.
#[inline(never)]
pub(crate) fn retry_sync_rest<W, G, R, F, S, N>(
    policy: &Policy<W, G>,
    mut state: State<SyncClock>,
    first: Option<R>,
    mut attempt: F,
    sleeper: &S,
    notify: &mut N,
) -> R
where
    R: IsResult,
    R::Err: Display,
    W: When<R::Err>,
    G: Admission<R::Err>,
    F: FnMut() -> R,
    S: BlockingSleeper + ?Sized,
    N: Notify,
{
    let mut result = match first {
        Some(result) => result,
        None => {
            if let Err(e) = state.admit(policy) {
                return R::from_err(e);
            }
            attempt()
        }
    };
    loop {
        let wait = match result.as_result() {
            Ok(_) => {
                succeeded_cold(&mut state, policy);
                return result;
            }
            Err(error) => match state.failed_notify(policy, error, notify) {
                Decision::Retry(wait) => wait,
                Decision::GiveUp(_) => return result,
            },
        };
        sleeper.sleep_blocking(wait);
        if let Err(e) = state.admit(policy) {
            return R::from_err(e);
        }
        result = attempt();
    }
}

/// A success after a failure, or under a breaker or budget: not the hot path.
#[cold]
#[inline(never)]
fn succeeded_cold<W, G, C: Clock>(state: &mut State<C>, policy: &Policy<W, G>) {
    state.succeeded(policy);
}

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

/// [`Notify`] without its constant, so the slow path can take it as a `dyn`.
trait OnRetry {
    fn on_retry(&mut self, event: &RetryEvent<'_>);
}

impl<N: Notify> OnRetry for N {
    fn on_retry(&mut self, event: &RetryEvent<'_>) {
        Notify::on_retry(self, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Backoff;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The quick retry must reach the decision the full path reaches, and
    /// leave the same state, for every policy it takes; and it must be taken
    /// for every retry of a plain policy.
    #[test]
    fn the_quick_retry_decides_as_the_full_path() {
        let backoffs = [
            Backoff::None,
            Backoff::fixed(ms(5)),
            Backoff::linear(ms(1), ms(2), ms(6)),
            Backoff::exponential(ms(1), ms(8)),
            Backoff::exponential(ms(1), ms(30)).with_factor(3.0),
            Backoff::fibonacci(ms(1), ms(9)),
        ];
        for backoff in backoffs {
            for attempts in 1..=7 {
                let policy = Policy::new().attempts(attempts).backoff(backoff);
                let mut quick = State::<SyncClock>::new(&policy);
                let mut full = State::<SyncClock>::new(&policy);
                let mut quick_retries = 0;
                loop {
                    let verdict = policy.when.check(&"down");
                    let q = quick.quick_retry_unlogged(&policy, verdict);
                    let expected = full.failed_slow(&policy, verdict, &"down");
                    match q {
                        Some(wait) => {
                            quick_retries += 1;
                            assert_eq!(Decision::Retry(wait), expected, "{backoff:?}");
                            assert_eq!(quick.attempts, full.attempts);
                        }
                        None => {
                            assert_eq!(expected, Decision::GiveUp(StopReason::Attempts));
                            break;
                        }
                    }
                }
                assert_eq!(
                    quick_retries,
                    attempts - 1,
                    "{backoff:?}, {attempts} attempts"
                );
            }
        }
    }

    /// Anything beyond backoff and attempts goes the full way.
    #[test]
    fn the_quick_retry_leaves_everything_else_to_the_full_path() {
        fn hook(_: &RetryEvent<'_>) {}
        static BREAKER: CircuitBreaker = CircuitBreaker::new("quick");
        let plain = Policy::new().attempts(5);
        let not_plain = [
            plain.jitter(Jitter::Full),
            plain.max_elapsed(ms(100)),
            plain.before_sleep(hook),
        ];
        let retriable = Verdict {
            retry: true,
            kind: None,
            retry_after: None,
        };
        for policy in not_plain {
            let mut state = State::<SyncClock>::new(&policy);
            assert_eq!(
                state.quick_retry_unlogged(&policy, retriable),
                None,
                "{policy:?}"
            );
        }
        let guarded = plain.circuit(&BREAKER);
        let mut state = State::<SyncClock>::new(&guarded);
        assert_eq!(state.quick_retry_unlogged(&guarded, retriable), None);
        let mut state = State::<SyncClock>::new(&plain);
        let permanent = Verdict {
            retry: false,
            ..retriable
        };
        assert_eq!(state.quick_retry_unlogged(&plain, permanent), None);
        let hinted = Verdict {
            retry_after: Some(ms(7)),
            ..retriable
        };
        assert_eq!(state.quick_retry_unlogged(&plain, hinted), None);
        let mut timed = State::<SyncClock>::new(&plain);
        timed.timed = true;
        assert_eq!(timed.quick_retry_unlogged(&plain, retriable), None);
        assert_eq!(state.attempts, 0, "a refused quick retry changes nothing");
    }

    /// A lazy run has no state until the first failure, unless the policy
    /// needs its start time or sees every outcome.
    #[test]
    fn a_lazy_run_starts_at_the_first_failure() {
        static BUDGET: crate::RetryBudget = crate::RetryBudget::new("lazy");
        let plain = Policy::new().attempts(3).backoff(Backoff::None);
        let mut run = LazyRun::<SyncClock>::new(&plain);
        assert!(run.0.is_none());
        run.succeeded(&plain);
        assert!(run.0.is_none(), "a first success needs no state");
        assert_eq!(run.failed(&plain, &"down"), Decision::Retry(Duration::ZERO));
        assert_eq!(run.0.as_ref().map(|s| s.attempts), Some(1));
        for needs_start in [plain.max_elapsed(ms(10)), plain.budget(&BUDGET)] {
            assert!(LazyRun::<SyncClock>::new(&needs_start).0.is_some());
        }
    }
}
