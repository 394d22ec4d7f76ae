//! The `#[retry]` macro's contract with the runtime: [`LazyRun`], a run
//! that keeps no state until it needs one, and the sync loop
//! ([`retry_sync`]) that a sync `Retry` shares.

use core::fmt::{self, Display};
use std::time::Duration;

use super::gate::{Admission, NoNotify, Notify};
use super::leave::{Guarded, HoldsLeave};
use super::state::State;
use crate::__private::{DisplayError, IsResult};
use crate::attempt::Attempt;
use crate::cooldown::first_wait_of;
use crate::error::RetryError;
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
use crate::log;
use crate::nested;
use crate::policy::{Decision, Policy, RetriedKinds, When};
use crate::sleep::{self, BlockingSleeper};
use crate::stop::StopReason;

#[path = "settle.rs"]
mod settle;
pub(crate) use settle::Settled;

/// A [`Run`] as the `#[retry]` loop and the executors keep it: the policy
/// stays with the caller (a constant, for the attribute), and there is no
/// state until it is needed, at the first failure (or from the start, for a
/// policy with a deadline, a circuit breaker or a retry budget, which need
/// the start time or every outcome). A first attempt that succeeds then costs
/// what it costs in a hand-written loop. The macro's contract, not public API:
/// every call must be given the same policy.
#[doc(hidden)]
pub struct LazyRun(Option<State>);

/// A run without a state holds no leave: a policy with a breaker keeps a
/// state from the start.
impl HoldsLeave for LazyRun {
    #[inline]
    fn give_back(&mut self, breaker: &'static crate::circuit::CircuitBreaker) {
        if let Some(state) = &mut self.0 {
            state.give_back(breaker);
        }
    }
}

/// Shows the attempts made so far and whether the run keeps a state yet
/// (none until the first failure, unless the policy needs one from the
/// start).
impl fmt::Debug for LazyRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyRun")
            .field("attempts", &self.attempts())
            .field("has_state", &self.0.is_some())
            .finish()
    }
}

impl LazyRun {
    /// A run with no state yet.
    #[inline]
    pub(crate) fn empty() -> Self {
        LazyRun(None)
    }

    /// Does `policy` need a run's state before the first attempt: a
    /// deadline or a callback (the start time), a breaker or a budget
    /// (every outcome), a cooldown (its first attempt is held, and the
    /// wait counts toward `max_elapsed`)?
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub const fn needed_from_start<W, G>(policy: &Policy<W, G>) -> bool {
        policy.stop.max_elapsed.is_some()
            || policy.has_callbacks()
            || policy.is_guarded()
            || policy.cooldown.is_some()
    }

    /// No state yet, unless `policy` needs it from the start.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn new<W, G>(policy: &Policy<W, G>) -> Self {
        let mut run = LazyRun(None);
        if Self::needed_from_start(policy) {
            start_state::<W, G, true>(&mut run.0, policy);
        }
        run
    }

    /// [`new`](Self::new) for a call of the tower layer or the reqwest
    /// middleware, whose request may be sent only once (`once`: its first
    /// attempt is the run's last); `from_start` is
    /// [`needed_from_start`](Self::needed_from_start)`(policy)`, which the
    /// layer asks once. One expression, so the layer builds its future
    /// around it without a `&mut` to a run made beforehand.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn for_request<W, G>(policy: &Policy<W, G>, once: bool, from_start: bool) -> Self {
        debug_assert_eq!(from_start, Self::needed_from_start(policy));
        if once || from_start {
            Self::started_for_request(policy, once)
        } else {
            LazyRun(None)
        }
    }

    /// [`for_request`](Self::for_request)'s state, when it needs one.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[cold]
    #[inline(never)]
    fn started_for_request<W, G>(policy: &Policy<W, G>, once: bool) -> Self {
        let mut state = State::new(policy);
        if once {
            state.set_last();
        }
        LazyRun(Some(state))
    }

    /// The run's state, made at the first call (out of line: see
    /// [`start_state`]).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn state<W, G>(&mut self, policy: &Policy<W, G>) -> &mut State {
        match self.0 {
            Some(ref mut state) => state,
            // made at the first failure: the policy needs no start time
            // (`needed_from_start` would have made the state at the start)
            None => start_state::<W, G, false>(&mut self.0, policy),
        }
    }

    /// [`state`](Self::state), told that its next failure marks the
    /// attempt's span if `marks` (a constant `false` folds away).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn state_marking<W, G>(&mut self, policy: &Policy<W, G>, marks: bool) -> &mut State {
        let state = self.state(policy);
        if marks {
            state.mark_next_failure();
        }
        state
    }

    /// A run that reports its attempts and the time it took (waits
    /// included), on success as on failure: the clock is read at its start.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn timed<W, G>(policy: &Policy<W, G>) -> Self {
        let mut state = State::new(policy);
        state.start_clock();
        LazyRun(Some(state))
    }

    /// Read the clock now, for a report of the time the run took (the
    /// reqwest middleware's and the tower layer's `with_report`), if the
    /// run has not yet.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[cold]
    pub(crate) fn start_clock<W, G>(&mut self, policy: &Policy<W, G>) {
        self.state(policy).start_clock();
    }

    /// The attempt about to be made (a run with state: a timed one).
    pub fn next_attempt<W, G>(&mut self, policy: &Policy<W, G>) -> Attempt {
        self.state(policy).next_attempt(policy)
    }

    /// No state yet: no attempt failed, and the policy needs none from the
    /// start.
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// May the first attempt's wait for the policy's cooldown be checked
    /// once more (a hold made longer during it)? Once: a sleeper that
    /// returns at once would otherwise find the hold still holding, again
    /// and again. (A run of a policy with a cooldown has its state.)
    pub(crate) fn hold_again(&mut self) -> bool {
        self.0.as_mut().is_some_and(|state| {
            let first = state.flags & State::HELD_AGAIN == 0;
            state.flags |= State::HELD_AGAIN;
            first
        })
    }

    /// Attempts made so far (0 while there is no state: none failed yet).
    #[inline]
    pub(crate) fn attempts(&self) -> u32 {
        self.0.as_ref().map_or(0, |state| state.attempts)
    }

    /// Attempts made so far, and the time since the run started (zero for
    /// a run that kept no state: one attempt, no clock read).
    pub(crate) fn progress(&mut self) -> (u32, Duration) {
        match &mut self.0 {
            Some(state) => (state.attempts, state.elapsed()),
            None => (1, Duration::ZERO),
        }
    }

    /// [`progress`](Self::progress), with what the log lines show of the
    /// time (unknown for a run that read no clock at its start).
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    pub(crate) fn progress_shown(&mut self) -> (u32, Duration, log::Elapsed) {
        match &mut self.0 {
            Some(state) => {
                let (elapsed, shown) = state.measure();
                (state.attempts, elapsed, shown)
            }
            None => (1, Duration::ZERO, log::Elapsed::Unknown),
        }
    }

    /// What the log lines show of the time since the run's start (read
    /// only if a line is written; unknown for a run that read no clock at
    /// its start).
    #[cfg(feature = "tower")]
    pub(crate) fn shown_elapsed(&self) -> log::Elapsed {
        self.0
            .as_ref()
            .map_or(log::Elapsed::Unknown, State::shown_elapsed)
    }

    /// What the run makes of a failure it is shown by reference (the tower
    /// layer's, which hands a given-up failure back as it is): a retry and
    /// its wait, or the end of the run, logged and counted as `settle_keeping`
    /// would; `notify` (the layer's `with_notify` hook, or [`NoNotify`]:
    /// the code it was without one) is told of a retry after the policy's
    /// `before_sleep`.
    #[cfg(feature = "tower")]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn judge<W, G, E: Display, N: Notify<E>>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
        notify: &mut N,
    ) -> Decision
    where
        W: When<E>,
    {
        self.state(policy).failed_notify(policy, error, notify)
    }

    /// The attempt about to be judged, or the next one, is the run's last
    /// (see `State::LAST`): a request the tower layer or the reqwest
    /// middleware sends once.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    pub(crate) fn last_attempt<W, G>(&mut self, policy: &Policy<W, G>) {
        self.state(policy).set_last();
    }

    /// The attempt now failing was cut short by the run's deadline (its
    /// per-attempt timeout shortened to the time left): the run ends on
    /// the deadline, and its guards count the attempt as neither failure
    /// nor success (`State::CUT`).
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[cold]
    #[inline(never)]
    pub(crate) fn cut_at_deadline<W, G>(&mut self, policy: &Policy<W, G>) {
        self.state(policy).set_cut();
    }

    /// Was the run told that its next attempt is its last?
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[inline]
    pub(crate) fn is_last(&self) -> bool {
        self.0.as_ref().is_some_and(State::is_last)
    }

    /// Can another attempt follow the next one? Not for a policy of one
    /// attempt, nor when the run was told the next is its last, nor when
    /// the next is the policy's last: a copy of a request made for such an
    /// attempt would never be sent.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[inline]
    pub(crate) fn may_retry_next<W, G>(&self, policy: &Policy<W, G>) -> bool {
        let max = policy.stop.max_attempts();
        match &self.0 {
            None => max > 1,
            // out of line: the first attempt, where the run keeps no state,
            // is the success path
            Some(state) => state.may_retry_next(max),
        }
    }

    /// The call's number for a line of the layer's or the middleware's
    /// own (`log::sent_once`, a give-up before an attempt): a run that
    /// kept no state yet (a service not ready for its first attempt) makes
    /// one, a cold path.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    pub(crate) fn call<W, G>(&mut self, policy: &Policy<W, G>) -> &mut log::CallId {
        &mut self.state(policy).call
    }

    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    pub(crate) fn attempts_made(&self) -> u32 {
        self.0.as_ref().map_or(0, |state| state.attempts)
    }

    /// Before an attempt: `Err(e)` when the policy's circuit breaker rejects
    /// it (`e` built from the `CircuitOpen` or `Throttled` rejection); for a policy without a
    /// breaker, nothing at all.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn admit<W, G: Admission<E>, E>(&mut self, policy: &Policy<W, G>) -> Result<(), E> {
        self.admit_or_stop(policy).map_err(|(e, _)| e)
    }

    /// [`admit`](LazyRun::admit), with the reason the run stops when a
    /// guard turns the attempt away.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn admit_or_stop<W, G: Admission<E>, E>(
        &mut self,
        policy: &Policy<W, G>,
    ) -> Result<(), (E, StopReason)> {
        if G::ASKS {
            // (a policy with a guard has a state from the start)
            if let Some(state) = &mut self.0 {
                return state.admit_or_stop(policy);
            }
        }
        Ok(())
    }

    /// [`Run::succeeded`]; nothing to do while there is no state.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn succeeded<W, G>(&mut self, policy: &Policy<W, G>) {
        match &mut self.0 {
            Some(state) => state.succeeded(policy),
            None => crate::metrics::succeeded_first_try(policy.name),
        }
    }

    /// [`Run::failed`], starting the state at the first failure.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn failed<W, G, E: DisplayError>(&mut self, policy: &Policy<W, G>, error: &E) -> Decision
    where
        W: When<E>,
    {
        self.failed_as::<W, G, E, false>(policy, error)
    }

    /// [`failed`](Self::failed) for a loop whose body reads its attempt
    /// (an `#[attempt]` parameter): decided on the full path, which keeps
    /// the failure's kind for the next attempt's `previous_kind`.
    #[inline]
    pub fn failed_in_full<W, G, E: DisplayError>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
    ) -> Decision
    where
        W: When<E>,
    {
        self.failed_as::<W, G, E, true>(policy, error)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn failed_as<W, G, E: Display, const IN_FULL: bool>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
    ) -> Decision
    where
        W: When<E>,
    {
        let state = self.state(policy);
        if IN_FULL {
            state.failed_in_full(policy, error)
        } else {
            state.failed(policy, error)
        }
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
        R::Err: DisplayError,
        W: When<R::Err>,
    {
        self.next_wait_as::<W, G, R, false>(policy, result)
    }

    /// [`next_wait`](Self::next_wait) for a loop whose body reads its
    /// attempt (see [`failed_in_full`](Self::failed_in_full)).
    #[inline]
    pub fn next_wait_in_full<W, G, R>(
        &mut self,
        policy: &Policy<W, G>,
        result: &R,
    ) -> Option<Duration>
    where
        R: IsResult,
        R::Err: DisplayError,
        W: When<R::Err>,
    {
        self.next_wait_as::<W, G, R, true>(policy, result)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn next_wait_as<W, G, R, const IN_FULL: bool>(
        &mut self,
        policy: &Policy<W, G>,
        result: &R,
    ) -> Option<Duration>
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
            Err(error) => match self.failed_as::<W, G, R::Err, IN_FULL>(policy, error) {
                Decision::Retry { wait, .. } => Some(wait),
                Decision::GiveUp { .. } => None,
            },
        }
    }

    /// [`failed_in_full`](Self::failed_in_full) for a loop with attempt
    /// spans, deciding in the attempt's span, which it made: the failure
    /// marks that span if `marks` (the subscriber enabled it). A run
    /// inside the attempt never marks it, its own state not being told.
    #[inline(never)]
    pub fn failed_spanned<W, G, E: DisplayError>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
        marks: bool,
    ) -> Decision
    where
        W: When<E>,
    {
        self.state_marking(policy, marks)
            .failed_in_full(policy, error)
    }

    /// [`next_wait_in_full`](Self::next_wait_in_full) for a loop with
    /// attempt spans (see [`failed_spanned`](Self::failed_spanned)).
    #[inline]
    pub fn next_wait_spanned<W, G, R>(
        &mut self,
        policy: &Policy<W, G>,
        result: &R,
        marks: bool,
    ) -> Option<Duration>
    where
        R: IsResult,
        R::Err: DisplayError,
        W: When<R::Err>,
    {
        match result.as_result() {
            Ok(_) => {
                self.succeeded(policy);
                None
            }
            Err(error) => match self.failed_spanned(policy, error, marks) {
                Decision::Retry { wait, .. } => Some(wait),
                Decision::GiveUp { .. } => None,
            },
        }
    }

    /// [`Run::rejected`], starting the state if need be.
    #[inline(never)]
    pub fn rejected<W, G>(&mut self, policy: &Policy<W, G>) -> Decision {
        self.state(policy).rejected(policy)
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

    /// An attempt of a call with a stop signal failed, and the signal
    /// has `fired` or not: its failures are decided on the full path, which
    /// keeps their kinds (for the line the run ends with if the signal
    /// fires in its wait), and once the signal has fired, a failure the
    /// policy would retry ends the run, [`StopReason::Stopped`].
    #[inline(never)]
    pub(crate) fn failed_with_signal<W, G>(&mut self, policy: &Policy<W, G>, fired: bool) {
        let state = self.state(policy);
        state.keep_kinds();
        if fired {
            state.stop_next_failure();
        }
    }

    /// The call's stop signal fired while it waited to retry the attempt
    /// that failed with `error`: the run ends here with
    /// [`StopReason::Stopped`] and that error; the retry's budget token
    /// goes back.
    #[cold]
    pub(crate) fn stopped_in_wait<W, G, E: Display>(
        &mut self,
        policy: &Policy<W, G>,
        error: E,
    ) -> RetryError<E> {
        let mut state = self.tell_stopped_in_wait(policy, &error);
        state.error(policy, error, StopReason::Stopped)
    }

    /// [`stopped_in_wait`](Self::stopped_in_wait)'s line, metric and
    /// callback, told `error` (an error, or what the lines say of an `Ok`
    /// `retry_if_ok` rejected): the run's state, taken, for its report.
    #[cold]
    #[inline(never)]
    pub(crate) fn tell_stopped_in_wait<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        error: &dyn Display,
    ) -> State {
        let mut state = self.0.take().unwrap_or_else(|| State::new(policy));
        state.stopped_in_wait(policy, error);
        state
    }
}

/// The loop of a sync [`Retry`](crate::Retry) and of a sync `#[retry]` function (without
/// `circuit` or `retry_if_ok`, which keep their loop in the function): the
/// first attempt here, inline, and the retries in `retry_sync_rest`, out
/// of line, so a call that succeeds at once costs what a plain call does
/// plus one check. Sleeps with `sleeper` (`#[retry]` passes the
/// `DefaultSleeper`). The macro's contract, not public API.
///
/// ```
/// use retry_runtime::{__private::{retry_sync, DefaultSleeper}, Policy};
/// let policy = Policy::new().with_max_attempts(3).with_backoff(retry_runtime::Backoff::None);
/// let mut calls = 0;
/// let r: Result<u32, &str> = retry_sync(&policy, || { calls += 1; if calls < 3 { Err("down") } else { Ok(calls) } }, &DefaultSleeper);
/// assert_eq!(r, Ok(3));
/// ```
#[doc(hidden)]
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub fn retry_sync<W, G, R, F, S>(policy: &Policy<W, G>, mut attempt: F, sleeper: &S) -> R
where
    R: IsResult,
    R::Err: DisplayError,
    W: When<R::Err>,
    G: Admission<R::Err>,
    F: FnMut() -> R,
    S: BlockingSleeper + ?Sized,
{
    // A policy that needs its state from the start (a deadline, a breaker,
    // a budget) gets it before the first attempt; any other makes its first
    // attempt here, inline, and keeps no state unless it fails.
    let first = if LazyRun::needed_from_start(policy) || policy.attempt_spans {
        None
    } else {
        let first = attempt_published(policy, &mut attempt);
        if first.as_result().is_ok() {
            crate::metrics::succeeded_first_try(policy.name);
            return first;
        }
        Some(first)
    };
    retry_sync_rest(
        policy,
        State::new(policy),
        first,
        attempt,
        sleeper,
        &mut NoNotify,
    )
}

/// The rest of a sync run: from the result of the first attempt if it was
/// made, else from the start (asking the breaker first). Sleeps with
/// `sleeper`; tells `notify` of each retry. A policy with attempt spans
/// gets a loop of its own, so that the common one handles no span.
///
/// `inline` and `cold`: not inlined (a call that succeeds at once carries
/// none of it), but copied into the caller's codegen unit, where the
/// caller's constant policy reaches it. With `inline(never)` alone, the
/// copy went to a unit of this module's instances, and whether the
/// optimizer saw the policy depended on how rustc merged the units: a
/// change elsewhere in the crate moved a sync retry from 47 to 75
/// instructions (bench/callgrind.sh; bench/HISTORY.md, session 44).
#[inline]
#[cold]
pub(crate) fn retry_sync_rest<W, G, R, F, S, N>(
    policy: &Policy<W, G>,
    state: State,
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
    N: Notify<R::Err>,
{
    // a first attempt made here waits out the policy's cooldown first
    // (its hold, then its pace's slot)
    if first.is_none() && policy.cooldown.is_some() {
        hold_first_blocking(policy, sleeper);
    }
    if policy.attempt_spans {
        return rest_in_spans(policy, state, first, attempt, sleeper, notify);
    }
    // (given back by the drop of a run an attempt's panic unwinds through)
    let mut state = Guarded::of(policy, state);
    let scope = nested::Scope::here(policy.published_kinds());
    let mut attempt = move || {
        let _published = scope.enter();
        attempt()
    };
    let plain = state.plain_run_in(policy, scope.inside_a_retry());
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
        // Each way to a retry sleeps on its own, and one attempt follows:
        // the quick path's wait is a constant for a constant backoff, and
        // the sleep's checks fold there.
        match result.as_result() {
            Ok(_) => {
                // inline, where the policy is known: a success after retries
                // is how most of these runs end
                state.succeeded(policy);
                return result;
            }
            Err(error) if N::ACTIVE => match state.failed_notify(policy, error, notify) {
                Decision::Retry { wait, .. } => sleep::block_on_wait(sleeper, wait),
                Decision::GiveUp { .. } => return result,
            },
            Err(error) => {
                let verdict = policy.when.check(error);
                match state.quick_retry_in(policy, verdict, plain) {
                    Some(wait) => sleep::block_on_wait(sleeper, wait),
                    None => match state.failed_slow(policy, verdict, error) {
                        Decision::Retry { wait, .. } => sleep::block_on_wait(sleeper, wait),
                        Decision::GiveUp { .. } => return result,
                    },
                }
            }
        }
        if let Err(e) = state.admit(policy) {
            return R::from_err(e);
        }
        result = attempt();
    }
}

/// Wait on `sleeper` before a sync run's first attempt: its policy's
/// cooldown's hold, then its pace's slot (taken), and, once, a hold made
/// longer meanwhile.
#[cold]
#[inline(never)]
pub(crate) fn hold_first_blocking<W, G, S: BlockingSleeper + ?Sized>(
    policy: &Policy<W, G>,
    sleeper: &S,
) {
    if let Some(wait) = first_wait_of(policy, false) {
        sleep::block_on_wait(sleeper, wait);
        // (once: see `LazyRun::hold_again`)
        if let Some(wait) = first_wait_of(policy, true) {
            sleep::block_on_wait(sleeper, wait);
        }
    }
}

/// [`retry_sync_rest`] for a policy with attempt spans: each attempt, and
/// what the run makes of it, in its span. (A loop of its own, so that the
/// common one carries no span.)
#[cold]
#[inline(never)]
fn rest_in_spans<W, G, R, F, S, N>(
    policy: &Policy<W, G>,
    state: State,
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
    N: Notify<R::Err>,
{
    let mut state = Guarded::of(policy, state);
    let kinds = policy.published_kinds();
    let mut first = first;
    loop {
        // (the first attempt, made inline, has no span: a policy with spans
        // does not make it there)
        let (result, span) = match first.take() {
            Some(result) => (result, None),
            None => {
                if let Err(e) = state.admit(policy) {
                    return R::from_err(e);
                }
                let span = crate::span::next_attempt_span(policy, state.attempts);
                let _published = nested::publish(kinds);
                (crate::span::in_span(span.as_ref(), |_| attempt()), span)
            }
        };
        let entered = span.as_ref().map(tracing::Span::enter);
        let wait = match result.as_result() {
            Ok(_) => {
                state.succeeded(policy);
                return result;
            }
            Err(error) => {
                // (decided in the attempt's span: a failure marks it)
                if crate::span::marks(span.as_ref()) {
                    state.mark_next_failure();
                }
                match state.failed_notify(policy, error, notify) {
                    Decision::Retry { wait, .. } => wait,
                    Decision::GiveUp { .. } => return result,
                }
            }
        };
        // the attempt's span closes before the sleep: its time is the
        // attempt's and the decision's, not the backoff's
        drop(entered);
        drop(span);
        sleep::block_on_wait(sleeper, wait);
    }
}

/// One sync attempt, with the kinds the policy retries published for the
/// retried calls inside it (see [`nested`]).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn attempt_published<W: RetriedKinds, G, R>(
    policy: &Policy<W, G>,
    attempt: &mut impl FnMut() -> R,
) -> R {
    let _published = nested::publish(policy.published_kinds());
    attempt()
}

/// The state a lazy run makes at its first failure (or at its start, for a
/// policy that needs one from there), written in place. Out of line on
/// purpose: inline, the optimizer writes its constant fields when every run
/// starts (four stores on every call, success or not) as well as here.
#[cold]
#[inline(never)]
fn start_state<'a, W, G, const AT_START: bool>(
    slot: &'a mut Option<State>,
    policy: &Policy<W, G>,
) -> &'a mut State {
    slot.insert(if AT_START {
        State::new(policy)
    } else {
        State::without_start(policy)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Backoff;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A lazy run has no state until the first failure, unless the policy
    /// needs its start time or sees every outcome.
    #[test]
    fn a_lazy_run_starts_at_the_first_failure() {
        static BUDGET: crate::RetryBudget = crate::RetryBudget::new("lazy");
        let plain = Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::None);
        let mut run = LazyRun::new(&plain);
        assert!(run.0.is_none());
        run.succeeded(&plain);
        assert!(run.0.is_none(), "a first success needs no state");
        assert_eq!(run.failed(&plain, &"down"), Decision::retry(Duration::ZERO));
        assert_eq!(run.0.as_ref().map(|s| s.attempts), Some(1));
        for needs_start in [plain.with_max_elapsed(ms(10)), plain.with_budget(&BUDGET)] {
            assert!(LazyRun::new(&needs_start).0.is_some());
        }
    }

    /// Its `Debug` says how far it is and whether it keeps a state yet.
    #[test]
    fn a_lazy_run_shows_its_attempts_and_state() {
        let plain = Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::None);
        let mut run = LazyRun::new(&plain);
        assert_eq!(
            format!("{run:?}"),
            "LazyRun { attempts: 0, has_state: false }"
        );
        let _ = run.failed(&plain, &"down");
        assert_eq!(
            format!("{run:?}"),
            "LazyRun { attempts: 1, has_state: true }"
        );
        let timed = LazyRun::new(&plain.with_max_elapsed(ms(10)));
        assert_eq!(
            format!("{timed:?}"),
            "LazyRun { attempts: 0, has_state: true }"
        );
    }
}
