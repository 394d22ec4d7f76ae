//! The state machine of a run, [`State`]: the quick path of a plain retry,
//! the full judgement of a failure (breaker, budget, logging, callbacks),
//! and what a run reports at the end.

use core::fmt::Display;
use std::time::Duration;

use super::announce::{OnRetry, announce_give_up, announce_retry};
use super::gate::Notify;
use crate::attempt::Attempt;
use crate::circuit::{Outcome, Permit};
use crate::classify::ErrorKind;
use crate::clock::{Clock, Stamp, SystemClock};
use crate::cooldown::give_back;
use crate::error::RetryError;
use crate::hooks::{GiveUpEvent, RetryEvent, WhyPermanent};
use crate::jitter::{Jitter, Rng};
use crate::log;
use crate::metrics;
use crate::nested::{self, Nested};
use crate::policy::{Decision, Policy, Verdict, When};
use crate::stop::StopReason;

/// What the lines of a run say of an `Ok` that `retry_if_ok` rejected,
/// in the place of an error.
pub(crate) const REJECTED_OK: &str = "the result was rejected by retry_if_ok";

/// The verdict on an `Ok` that `retry_if_ok` rejected: retried, of no
/// kind, with no server's wait.
const REJECTED: Verdict = Verdict {
    retry: true,
    kind: None,
    retry_after: None,
};

/// Everything of a run but its policy, which each step is handed: the
/// `#[retry]` loop keeps the policy as a constant and this beside it
/// (see [`LazyRun`](super::lazy::LazyRun)).
pub(crate) struct State {
    pub(super) attempts: u32,
    /// [`PLAIN`](Self::PLAIN), [`LAST`](Self::LAST), [`MARKS`](Self::MARKS): flags in one
    /// byte, so the state stays 32 bytes (the `#[retry]` future holds it).
    pub(super) flags: u8,
    /// The call's number in its log lines (`call`), taken at its first
    /// line: a call that logs nothing takes none.
    pub(super) call: log::CallId,
    /// The breaker's leave for the attempt in progress.
    pub(super) permit: Option<Permit>,
    /// The previous wait, in nanoseconds (saturated: 584 years).
    previous: u64,
    /// When the run started, on the [`SystemClock`] (a [`Stamp`]: 8
    /// bytes, where an `Option<Duration>` takes 16).
    start: Stamp,
    /// The kind of the last attempt's error, as the policy's verdict on it
    /// classified it (`None` after a result `retry_if_ok` rejected): what
    /// the context form hands the next attempt. Kept from the verdict the
    /// run decides by, so a classifier is asked once per failure, and by
    /// the full path only ([`judge`](Self::judge)): a run that hands out
    /// its attempts (the context form, an `#[attempt]` parameter) decides
    /// every failure there (its state drops `PLAIN` in `next_attempt`, and
    /// the macro calls `LazyRun::failed_in_full`), so the quick path keeps
    /// nothing and the other runs pay nothing for this.
    last_kind: Option<ErrorKind>,
}

impl State {
    /// The attempt now failing was cut short by the run's deadline (a
    /// layer's or middleware's per-attempt timeout, shortened to the time
    /// left before `max_elapsed`): its failure is the deadline's, not the
    /// dependency's. Told to the guards as neither failure nor success
    /// (`Neutral`: a caller in a hurry does not open a breaker a patient
    /// one needs), and the run gives up on its deadline, whatever the
    /// policy retries. Clears [`PLAIN`](Self::PLAIN): the full path judges
    /// it.
    pub(super) const CUT: u8 = 1;
    /// [`Policy::is_plain`], asked once when the run needs a state: the
    /// executors hold the policy behind a reference the optimizer cannot
    /// see through, and the question is then one load per retry, not seven.
    const PLAIN: u8 = 2;
    /// The next attempt is the run's last, whatever the policy allows (a
    /// tower request that is sent once); clears [`PLAIN`](Self::PLAIN),
    /// since the quick path reads the policy's limit. A failure the policy
    /// would retry then ends the run with [`StopReason::SentOnce`], not
    /// `Attempts`: the policy's attempts did not run out, and its events
    /// keep its limit.
    const LAST: u8 = 4;
    /// The next failure is decided by the run that made its attempt's
    /// span, in that span, which it then marks failed (see
    /// [`mark_next_failure`](Self::mark_next_failure)); taken by that
    /// decision, on the full path.
    const MARKS: u8 = 8;
    /// The call's stop signal fired ([`stop_next_failure`](Self::stop_next_failure)):
    /// with [`LAST`](Self::LAST), a failure the policy would retry ends the
    /// run with [`StopReason::Stopped`].
    const STOPPED: u8 = 16;
    /// The first attempt's wait for the policy's cooldown was checked
    /// once more (`LazyRun::hold_again`).
    pub(super) const HELD_AGAIN: u8 = 32;
    /// The run made attempts before a [`restart_count`](Self::restart_count)
    /// (`Run::progressed`): a guard that turns its next attempt away
    /// (asked as a first attempt's, its count being 0) ends a call that
    /// made attempts, counted as such (`throttled`, `circuit_open`), not
    /// as one nothing was sent for (`not_attempted_*`); and a success at
    /// the attempt its count says is the first ends a call that made
    /// retries: `succeeded_after_retries`, with the success line that
    /// closes those retries' lines (see [`succeeded`](Self::succeeded)).
    pub(super) const RESTARTED: u8 = 64;
    /// The attempt now failing made progress (`Run::progressed`): its
    /// failure is told to the guards as neutral (the dependency answered
    /// for a while; the drop says nothing of its health). Taken by that
    /// failure's decision.
    const PROGRESSED: u8 = 128;

    /// The next failure decided is that of an attempt in an enabled span
    /// of this run's, entered now: the decision marks the span failed
    /// (`span::attempt_failed`). Set by the run that made the span, so a
    /// run inside the attempt (a retried call, the tower layer, a `Run`
    /// in a predicate) never marks it: its own state has no such bit.
    ///
    /// Such a run's failures take the full path from then on (`PLAIN`
    /// cleared), whose decision takes the bit: the quick path, taken when
    /// nobody listens for the WARN line (a level lowered mid-run), would
    /// leave it to a later decision, which would mark whatever span is
    /// current then. (A run with spans is not on the quick path anyway
    /// while its spans are exported.)
    #[inline]
    pub(crate) fn mark_next_failure(&mut self) {
        self.flags = (self.flags | Self::MARKS) & !Self::PLAIN;
    }

    /// Read the clock now, for a run that tells the time since its start
    /// (a per-call hook's events, a detailed run's error, `Run::timed`),
    /// unless it did: such a run has a start from its first attempt on,
    /// and its failures need not ask.
    #[inline]
    pub(crate) fn start_clock(&mut self) {
        if self.start == Stamp::NONE {
            self.start = Stamp::at(start_time());
        }
    }

    /// The call's stop signal fired during the attempt now ending: if the
    /// policy would retry its failure, the run ends with
    /// [`StopReason::Stopped`] instead (see [`STOPPED`](Self::STOPPED)).
    #[cold]
    pub(super) fn stop_next_failure(&mut self) {
        self.flags = (self.flags | Self::LAST | Self::STOPPED) & !Self::PLAIN;
    }

    /// A run with a stop signal keeps each failure's kind (the full path
    /// from here on), for the line it ends with if the signal fires in
    /// its wait: the error is not classified a second time then.
    #[inline]
    pub(super) fn keep_kinds(&mut self) {
        self.flags &= !Self::PLAIN;
    }

    /// The call's stop signal fired while it waited for the retry it
    /// announced: the retry is not made (its budget token goes back), and
    /// the run ends with [`StopReason::Stopped`], `error` the error of the
    /// attempt it waited to retry, of the kind its decision kept (see
    /// [`keep_kinds`](Self::keep_kinds)).
    #[cold]
    pub(super) fn stopped_in_wait<W, G>(&mut self, policy: &Policy<W, G>, error: &dyn Display) {
        self.ends_in_wait(policy, StopReason::Stopped, error, self.last_kind);
    }

    /// A run that ends in its wait, the retry it announced not made: its
    /// budget token goes back, then the line of its `reason`, the metric
    /// and `on_give_up`, told `error` (of `kind`).
    pub(super) fn ends_in_wait<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        reason: StopReason,
        error: &dyn Display,
        kind: Option<ErrorKind>,
    ) {
        policy.retry_not_made();
        self.tell_end(policy, reason, error, kind);
    }

    /// A run stopped during an attempt it was let make (a hand-driven
    /// loop that raced the attempt with its shutdown,
    /// [`Run::stopped`](super::Run::stopped)): the attempt counts, and the
    /// end is told; no retry was announced, so no token goes back, and the
    /// attempt's error is not classified (it did not end).
    #[cold]
    pub(super) fn stopped_in_attempt<W, G>(&mut self, policy: &Policy<W, G>, error: &dyn Display) {
        self.attempts = self.attempts.saturating_add(1);
        self.tell_end(policy, StopReason::Stopped, error, None);
    }

    /// The line of the run's end for `reason`, the metric and `on_give_up`,
    /// told `error` (of `kind`).
    fn tell_end<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        reason: StopReason,
        error: &dyn Display,
        kind: Option<ErrorKind>,
    ) {
        let (elapsed, shown) = self.measure();
        let ev = GiveUpEvent {
            operation: policy.name,
            attempts: self.attempts,
            max_attempts: policy.stop.max_attempts(),
            reason,
            error,
            kind,
            elapsed,
            why_permanent: None,
        };
        // (no attempt is running: the last one's span is closed)
        announce_give_up(policy, &ev, shown, false, Some(&mut self.call));
    }

    /// The attempt now failing made progress: the run counts its attempts
    /// afresh from it, and its wait is the schedule's first
    /// ([`Run::progressed`](super::Run::progressed)).
    pub(super) fn restart_count(&mut self) {
        if self.attempts > 0 {
            self.flags |= Self::RESTARTED;
        }
        self.flags |= Self::PROGRESSED;
        self.attempts = 0;
        self.previous = 0;
    }

    /// See [`LAST`](Self::LAST).
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    pub(super) fn set_last(&mut self) {
        self.flags = (self.flags | Self::LAST) & !Self::PLAIN;
    }

    /// See [`CUT`](Self::CUT).
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    pub(super) fn set_cut(&mut self) {
        self.flags = (self.flags | Self::CUT) & !Self::PLAIN;
    }

    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[inline]
    pub(super) fn is_last(&self) -> bool {
        self.flags & Self::LAST != 0
    }

    /// Can another attempt follow the next one, of at most `max`?
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[inline(never)]
    pub(super) fn may_retry_next(&self, max: u32) -> bool {
        !self.is_last() && self.attempts.saturating_add(1) < max
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn new<W, G>(policy: &Policy<W, G>) -> Self {
        // The time since the start, for the deadline and the callbacks'
        // events. Such a policy is not plain: deciding that first leaves
        // nothing to work out after the clock's call.
        let (flags, start) = if timed_from_start(policy) {
            (0, Stamp::at(start_time()))
        } else {
            (
                if policy.is_plain() { State::PLAIN } else { 0 },
                Stamp::NONE,
            )
        };
        State {
            attempts: 0,
            flags,
            call: log::CallId::NEW,
            permit: None,
            previous: 0,
            start,
            last_kind: None,
        }
    }

    /// [`new`](Self::new) for a run that made its first attempt without a
    /// state and keeps one from its first failure: its policy has no
    /// deadline or callback (they need the start time, and their runs make
    /// the state at the start), so the clock is not read, or asked about.
    #[inline(always)]
    pub(crate) fn without_start<W, G>(policy: &Policy<W, G>) -> Self {
        debug_assert!(policy.stop.max_elapsed.is_none() && !policy.has_callbacks());
        State {
            attempts: 0,
            flags: if policy.is_plain() { State::PLAIN } else { 0 },
            call: log::CallId::NEW,
            permit: None,
            previous: 0,
            start: Stamp::NONE,
            last_kind: None,
        }
    }

    /// The attempt about to be made, as the context form hands it to the
    /// operation (reads the clock).
    pub(crate) fn next_attempt<W, G>(&mut self, policy: &Policy<W, G>) -> Attempt {
        // its failures take the full path, which keeps their kinds
        self.flags &= !Self::PLAIN;
        // (its clock starts before the first attempt, if nothing started it)
        self.start_clock();
        let elapsed = self.elapsed();
        Attempt {
            number: self.attempts.saturating_add(1),
            max: policy.stop.max_attempts(),
            elapsed,
            remaining: policy
                .stop
                .max_elapsed
                .map(|limit| limit.saturating_sub(elapsed)),
            previous_kind: self.last_kind,
        }
    }

    /// The attempt just made succeeded. A success after retries writes
    /// the INFO line and is counted `succeeded_after_retries`; so is one at
    /// attempt 1 of a count `Run::progressed` restarted after attempts
    /// ([`RESTARTED`](Self::RESTARTED)): the call retried, and logged its
    /// retries under its `call`, which the success line closes. (The flag
    /// is read only when the count is 1: a success after retries pays
    /// nothing for it, and a run that reaches here at its first attempt,
    /// a guarded or hand-driven one, one load of the byte; a `#[retry]`
    /// or `Policy::retry` run that succeeds at once has no state.)
    #[inline]
    pub(super) fn succeeded<W, G>(&mut self, policy: &Policy<W, G>) {
        self.attempts = self.attempts.saturating_add(1);
        if policy.is_guarded() {
            self.record(policy, Outcome::Success, None);
        }
        if self.attempts > 1 || self.flags & Self::RESTARTED != 0 {
            log::success(
                policy.name,
                self.attempts,
                policy.stop.max_attempts(),
                &self.start,
                policy.levels.success,
                &mut self.call,
            );
            self.ended(policy, metrics::Outcome::SucceededAfterRetries);
        } else {
            metrics::succeeded_first_try(policy.name);
        }
    }

    /// The run ends with `outcome`: its metrics.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn ended<W, G>(&self, policy: &Policy<W, G>, outcome: metrics::Outcome) {
        metrics::call_ended(policy.name, outcome, self.attempts);
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(super) fn failed<W, G, E: Display>(&mut self, policy: &Policy<W, G>, error: &E) -> Decision
    where
        W: When<E>,
    {
        self.failed_as(policy, error, policy.is_plain())
    }

    /// [`failed`](State::failed) on the full path, for a run that hands
    /// out its attempts: the failure's kind is kept for the next one.
    #[inline]
    pub(super) fn failed_in_full<W, G, E: Display>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
    ) -> Decision
    where
        W: When<E>,
    {
        self.failed_as(policy, error, false)
    }

    /// [`failed`](State::failed), with [`Policy::is_plain`] asked once by
    /// a caller that holds the policy behind a reference across retries.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn failed_as<W, G, E: Display>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
        plain_policy: bool,
    ) -> Decision
    where
        W: When<E>,
    {
        let verdict = policy.when.check(error);
        match self.quick_retry(policy, verdict, plain_policy) {
            Some(wait) => Decision::retry(wait),
            None => self.failed_slow(policy, verdict, error),
        }
    }

    /// [`failed`](State::failed), telling `notify` of a retry too. Without
    /// a hook (`N::ACTIVE` false) it is `failed`, with the policy's
    /// [`Policy::is_plain`] as the state noted it: the executors hold the
    /// policy behind a reference, which the optimizer cannot see through.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn failed_notify<W, G, E: Display, N: Notify<E>>(
        &mut self,
        policy: &Policy<W, G>,
        error: &E,
        notify: &mut N,
    ) -> Decision
    where
        W: When<E>,
    {
        if !N::ACTIVE {
            let plain_policy = self.flags & Self::PLAIN != 0;
            return self.failed_as(policy, error, plain_policy);
        }
        let verdict = policy.when.check(error);
        let outcome = if verdict.retry {
            Outcome::Failure
        } else {
            Outcome::Neutral
        };
        let mut told = |ev: &RetryEvent<'_>| notify.on_retry(ev, Some(error));
        let why = || policy.when.why_permanent(error);
        self.judge(
            policy,
            verdict,
            (error, Some(&why)),
            outcome,
            Some(&mut told),
        )
    }

    /// The common retry, decided in a few instructions where the caller is:
    /// a plain policy (see [`Policy::is_plain`]), a retriable error without a
    /// Retry-After hint, attempts left, nothing to time and nobody listening
    /// for the WARN line. `None` for anything else, which `failed_slow`
    /// handles in full (it reaches the same decision for this case; a test
    /// checks that). With the policy a constant, the checks fold away.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn quick_retry<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
        plain_policy: bool,
    ) -> Option<Duration> {
        if log::warn_may_log() {
            return None;
        }
        let plain = self.plain_run_as(policy, plain_policy, nested::inside_a_retry());
        self.quick_step(policy, verdict, plain)
    }

    /// [`quick_retry`](Self::quick_retry) whoever listens (for tests, which
    /// may run under a subscriber).
    #[cfg(test)]
    fn quick_retry_unlogged<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
    ) -> Option<Duration> {
        let plain = self.plain_run_in(policy, nested::inside_a_retry());
        self.quick_step(policy, verdict, plain)
    }

    /// May this run take the quick path at all? What does not change from
    /// one failure to the next: a plain policy (no jitter, deadline,
    /// callbacks or guards), and no outer run to defer to. A sync loop asks once, before its first retry (see
    /// [`quick_retry_in`](Self::quick_retry_in)).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn plain_run_in<W, G>(&self, policy: &Policy<W, G>, inside_a_retry: bool) -> bool {
        self.plain_run_as(policy, policy.is_plain(), inside_a_retry)
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn plain_run_as<W, G>(
        &self,
        policy: &Policy<W, G>,
        plain_policy: bool,
        inside_a_retry: bool,
    ) -> bool {
        plain_policy && !(policy.nested == Nested::Defer && inside_a_retry)
    }

    /// The quick path for a loop that computed
    /// [`plain_run_in`](Self::plain_run_in) before its first retry (the outer
    /// runs' kinds are restored after each attempt, and nothing else in it
    /// changes during a run): the wait of a plain retry, or `None` for
    /// [`failed_slow`](Self::failed_slow).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn quick_retry_in<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
        plain: bool,
    ) -> Option<Duration> {
        if log::warn_may_log() {
            return None;
        }
        self.quick_step(policy, verdict, plain)
    }

    /// The part of the quick path that changes with each failure: a
    /// retriable error without a hint, and attempts left. (The caller asks
    /// first whether anyone listens for the WARN line.)
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn quick_step<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
        plain: bool,
    ) -> Option<Duration> {
        // `max_attempts() >= 1`, and below it `attempts + 1` cannot overflow.
        let quick = plain
            && verdict.retry
            && verdict.retry_after.is_none()
            && self.attempts < policy.stop.max_attempts() - 1;
        if !quick {
            return None;
        }
        let wait = policy.backoff.delay(self.attempts);
        self.attempts += 1;
        metrics::waits(policy.name, wait, verdict.kind);
        // `previous` is left alone: only the decorrelated jitter reads it,
        // and a plain policy has no jitter.
        Some(wait)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn failed_slow<W, G, E: Display>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
        error: &E,
    ) -> Decision
    where
        W: When<E>,
    {
        let outcome = if verdict.retry {
            Outcome::Failure
        } else {
            Outcome::Neutral
        };
        let why = || policy.when.why_permanent(error);
        self.judge(policy, verdict, (error, Some(&why)), outcome, None)
    }

    /// [`rejected`](State::rejected), telling `notify` of a retry too.
    #[inline(never)]
    pub(super) fn rejected_notify<W, G, E: ?Sized, N: Notify<E>>(
        &mut self,
        policy: &Policy<W, G>,
        notify: &mut N,
    ) -> Decision {
        if !N::ACTIVE {
            return self.rejected(policy);
        }
        let mut told = |ev: &RetryEvent<'_>| notify.on_retry(ev, None);
        self.judge(
            policy,
            REJECTED,
            (&REJECTED_OK, None),
            Outcome::Neutral,
            Some(&mut told),
        )
    }

    #[inline(never)]
    pub(super) fn rejected<W, G>(&mut self, policy: &Policy<W, G>) -> Decision {
        // The dependency answered: no signal for a circuit breaker.
        self.judge(
            policy,
            REJECTED,
            (&REJECTED_OK, None),
            Outcome::Neutral,
            None,
        )
    }

    /// (`error` with the question of why it is `Permanent`, for its
    /// give-up line: `None` for a result `retry_if_ok` rejected)
    fn judge<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        verdict: Verdict,
        (error, why_permanent): (&dyn Display, WhyPermanent<'_>),
        outcome: Outcome,
        notify: Option<&mut dyn OnRetry>,
    ) -> Decision {
        self.attempts = self.attempts.saturating_add(1);
        self.last_kind = verdict.kind;
        // (a server's wait holds every call sharing the cooldown, a failure
        // left to the outer run's too)
        policy.hold_cooldown(verdict);
        let guarded = policy.is_guarded();
        let cut = self.flags & Self::CUT != 0;
        if guarded {
            let neutral = cut || self.flags & Self::PROGRESSED != 0;
            self.flags &= !Self::PROGRESSED;
            let outcome = if neutral { Outcome::Neutral } else { outcome };
            self.record(policy, outcome, verdict.kind);
        }
        // (a run told that this attempt was its last stops here)
        let last = self.flags & Self::LAST != 0;
        let max_attempts = policy.stop.max_attempts();
        // Reading the clock is most of a retry's cost: only when a deadline
        // or a callback needs the time (a run that reports it at the end
        // read it at its start).
        let needs_time =
            policy.stop.max_elapsed.is_some() || policy.has_callbacks() || notify.is_some();
        let (elapsed, shown) = if needs_time {
            self.measure()
        } else {
            // (the log line reads the clock, if it is written and the run
            // has a start)
            (Duration::ZERO, log::Elapsed::since(self.start.get()))
        };
        let previous = Duration::from_nanos(self.previous);
        // Without jitter no random number is drawn: skip the thread's generator.
        // (a value `retry_if_ok` rejected, `Outcome::Neutral`, is never left
        // to the outer run: to it the call succeeded; an error this run
        // would not retry but the outer one does is left to it too, with
        // its line and outcome: not a "non-retriable" WARN for a failure
        // the outer run retries)
        let rejected_ok = verdict.retry && outcome == Outcome::Neutral;
        let (mut decision, imposed) = if !rejected_ok
            && policy.nested == Nested::Defer
            && nested::outer_retries(verdict.kind)
        {
            (Decision::give_up(StopReason::Deferred), None)
        } else if policy.jitter == Jitter::None
            && policy.cooldown.is_none_or(|c| c.spread().is_zero())
        {
            // (nothing to draw: a spread draws a held retry's point from
            // the thread's generator, as a jitter draws its wait)
            policy.next_imposed(
                self.attempts,
                previous,
                elapsed,
                verdict,
                &mut Rng::with_seed(0),
            )
        } else {
            Rng::with_thread(|rng| {
                policy.next_imposed(self.attempts, previous, elapsed, verdict, rng)
            })
        };
        // The policy would retry, but the request cannot be sent again:
        // not `Attempts`, which would tell of a limit the run did not reach.
        // (A retry not made leaves its pace's slot to another call.)
        if let (true, Decision::Retry { wait, .. }) = (last, decision) {
            give_back(policy, wait);
            decision = Decision::give_up(if self.flags & Self::STOPPED != 0 {
                StopReason::Stopped
            } else {
                StopReason::SentOnce
            });
        }
        // (a failure left to the outer run stays its: it retries it)
        if cut
            && !matches!(
                decision,
                Decision::GiveUp {
                    reason: StopReason::Deferred,
                    ..
                }
            )
        {
            decision = at_deadline(policy, decision);
        }
        if let (true, Decision::Retry { wait, .. }) = (guarded, decision) {
            decision = Self::guard_retry(policy, wait);
        }
        // (what a cooldown added to a retry now sure to be made)
        if let (Decision::Retry { wait, .. }, Some(imposed)) = (decision, imposed) {
            imposed.record(wait);
        }
        // An error marks the attempt's span, if this run made it (and said
        // so, `MARKS`), whether the policy retries it or not; a result
        // `retry_if_ok` rejected is no error (the only verdict to retry
        // told to the guards as neither failure nor success: `rejected`).
        let marks = self.flags & Self::MARKS != 0;
        self.flags &= !Self::MARKS;
        let mark = marks && !rejected_ok;
        match decision {
            Decision::Retry { wait, .. } => {
                self.previous = nanos(wait);
                let wait_source = policy.wait_source(verdict, wait, imposed);
                let ev = RetryEvent {
                    operation: policy.name,
                    attempt: self.attempts,
                    max_attempts,
                    wait,
                    error,
                    kind: verdict.kind,
                    elapsed,
                    wait_source,
                    asked: policy.asked_of(verdict, wait_source),
                    rejected_ok,
                };
                announce_retry(policy, &ev, shown, notify, mark, Some(&mut self.call));
            }
            Decision::GiveUp { reason, .. } => {
                let ev = GiveUpEvent {
                    operation: policy.name,
                    attempts: self.attempts,
                    max_attempts,
                    reason,
                    error,
                    kind: verdict.kind,
                    elapsed,
                    why_permanent,
                };
                announce_give_up(policy, &ev, shown, mark, Some(&mut self.call));
            }
        }
        decision
    }

    pub(super) fn elapsed(&mut self) -> Duration {
        self.measure().0
    }

    /// [`elapsed`](Self::elapsed), and what the log lines show of it: the
    /// time since the run's start, or, for a run that read no clock at its
    /// start, 0 and unknown (no start is set from here: a start set late
    /// would make the later lines' `elapsed_ms` count from it, not from the
    /// run's start).
    pub(crate) fn measure(&mut self) -> (Duration, log::Elapsed) {
        match self.start.get() {
            Some(start) => {
                let elapsed = SystemClock.now().saturating_sub(start);
                (elapsed, log::Elapsed::Measured(elapsed))
            }
            None => (Duration::ZERO, log::Elapsed::Unknown),
        }
    }

    /// What the log lines show of the time since the run's start (read
    /// only if a line is written).
    #[cfg(feature = "tower")]
    pub(crate) fn shown_elapsed(&self) -> log::Elapsed {
        log::Elapsed::since(self.start.get())
    }

    pub(super) fn error<W, G, E>(
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

/// Does a run of `policy` read the clock at its start, for its deadline or
/// its callbacks' events ([`State::new`])? Only then (or when the run
/// reports its time: [`State::start_clock`]) do its log lines show the time
/// it took.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) const fn timed_from_start<W, G>(policy: &Policy<W, G>) -> bool {
    policy.stop.max_elapsed.is_some() || policy.has_callbacks()
}

/// A wait in nanoseconds, saturated (for the decorrelated jitter's memory).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn nanos(wait: Duration) -> u64 {
    u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX)
}

/// The decision on an attempt the run's deadline cut short
/// ([`State::CUT`]): the run ends on the deadline (a retry decided gives
/// its pace's slot back).
#[cold]
#[inline(never)]
fn at_deadline<W, G>(policy: &Policy<W, G>, decision: Decision) -> Decision {
    if let Decision::Retry { wait, .. } = decision {
        give_back(policy, wait);
    }
    Decision::give_up(StopReason::Deadline)
}

/// The clock read at a run's start: out of line, so that the making of a
/// state that needs no start time (inline where the run starts, or in the
/// first failure's hand-over) does not carry the clock's code and frame.
#[inline(never)]
fn start_time() -> Duration {
    SystemClock.now()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Backoff;
    use crate::circuit::CircuitBreaker;

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
                let policy = Policy::new()
                    .with_max_attempts(attempts)
                    .with_backoff(backoff);
                let mut quick = State::new(&policy);
                let mut full = State::new(&policy);
                let mut quick_retries = 0;
                loop {
                    let verdict = policy.when.check(&"down");
                    let q = quick.quick_retry_unlogged(&policy, verdict);
                    let expected = full.failed_slow(&policy, verdict, &"down");
                    match q {
                        Some(wait) => {
                            quick_retries += 1;
                            assert_eq!(Decision::retry(wait), expected, "{backoff:?}");
                            assert_eq!(quick.attempts, full.attempts);
                        }
                        None => {
                            assert_eq!(expected, Decision::give_up(StopReason::Attempts));
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

    /// The state stays 32 bytes with the call's number in it (the
    /// `#[retry]` future holds it, and is no larger than a hand loop's).
    #[test]
    fn the_state_is_32_bytes() {
        assert!(core::mem::size_of::<State>() <= 32);
    }

    /// A call takes its number at its first line and keeps it; one that
    /// succeeds at its first attempt writes no line and takes none, even
    /// with every line listened to.
    #[test]
    fn a_call_takes_its_number_at_its_first_line_only() {
        use crate::run::gate::NoNotify;
        let everything = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(everything, || {
            let policy = Policy::new()
                .with_max_attempts(3)
                .with_backoff(Backoff::None);
            let mut at_once = State::new(&policy);
            at_once.succeeded(&policy);
            assert_eq!(at_once.call, log::CallId::NEW);
            let mut retried = State::new(&policy);
            let decision = retried.failed_notify(&policy, &"down", &mut NoNotify);
            assert_eq!(decision, Decision::retry(Duration::ZERO));
            let number = retried.call;
            assert_ne!(number, log::CallId::NEW, "taken by the retry's line");
            retried.succeeded(&policy);
            assert_eq!(retried.call, number, "the success's line has the same");
        });
    }

    /// Anything beyond backoff and attempts goes the full way.
    #[test]
    fn the_quick_retry_leaves_everything_else_to_the_full_path() {
        fn hook(_: &RetryEvent<'_>) {}
        static BREAKER: CircuitBreaker = CircuitBreaker::new("quick");
        let plain = Policy::new().with_max_attempts(5);
        let not_plain = [
            plain.with_jitter(Jitter::Full),
            plain.with_max_elapsed(ms(100)),
            plain.with_before_sleep(hook),
        ];
        let retriable = Verdict {
            retry: true,
            kind: None,
            retry_after: None,
        };
        for policy in not_plain {
            let mut state = State::new(&policy);
            assert_eq!(
                state.quick_retry_unlogged(&policy, retriable),
                None,
                "{policy:?}"
            );
        }
        let guarded = plain.with_circuit(&BREAKER);
        let mut state = State::new(&guarded);
        assert_eq!(state.quick_retry_unlogged(&guarded, retriable), None);
        let mut state = State::new(&plain);
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
        assert_eq!(state.attempts, 0, "a refused quick retry changes nothing");
        // a run that reports its time has its start: the quick path is open
        let mut timed = State::new(&plain);
        timed.start_clock();
        assert!(timed.quick_retry_unlogged(&plain, retriable).is_some());
    }

    /// Inside a retry that retries the error's kind, a plain policy that
    /// defers to it (the default) takes the full path, which defers; one
    /// that retries on its own (`Nested::Retry`) keeps the quick path.
    #[test]
    fn a_run_that_defers_to_an_outer_retry_leaves_the_quick_path() {
        use crate::classify::KindSet;
        let defers = Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::None);
        let retries = defers.with_nested(Nested::Retry);
        let _outer = nested::publish(KindSet::ALL);
        let verdict = defers.when.check(&"down");
        let mut state = State::new(&defers);
        assert_eq!(state.quick_retry_unlogged(&defers, verdict), None);
        assert_eq!(
            state.failed_slow(&defers, verdict, &"down"),
            Decision::give_up(StopReason::Deferred)
        );
        let mut state = State::new(&retries);
        assert_eq!(
            state.quick_retry_unlogged(&retries, verdict),
            Some(Duration::ZERO)
        );
    }

    /// A run that hands out its attempts (the context form) leaves the
    /// quick path at its first one: its failures are decided in full,
    /// which keep their kinds for the next attempt (the quick path, taken
    /// when nobody listens for the WARN line, keeps none).
    #[test]
    fn a_run_that_hands_out_its_attempts_leaves_the_quick_path() {
        use crate::classify::KindSet;
        use crate::run::gate::NoNotify;
        let plain = Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::None)
            .retry_on(KindSet::TRANSIENT);
        let mut state = State::new(&plain);
        assert_ne!(state.flags & State::PLAIN, 0);
        assert_eq!(state.next_attempt(&plain).previous_kind, None);
        assert_eq!(state.flags & State::PLAIN, 0, "decided in full from now on");
        let timeout = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(
            state.failed_notify(&plain, &timeout, &mut NoNotify),
            Decision::retry(Duration::ZERO)
        );
        assert_eq!(
            state.next_attempt(&plain).previous_kind,
            Some(ErrorKind::Timeout)
        );
    }

    /// A run told that its next attempt is its last gives up after a
    /// failure the policy would retry, as sent once (not `Attempts`: the
    /// policy's are not used up); and it no longer takes the quick path,
    /// which reads the policy's limit. A failure the policy would not retry
    /// keeps its own reason.
    /// A failure its run marks (the run made its attempt's span) takes
    /// the full path, and its decision takes the bit. (The quick path,
    /// taken when nobody listens for the WARN line -- a level lowered
    /// mid-run -- left the bit set, and a later decision of the run's
    /// marked whatever span was current: another run's attempt.)
    #[test]
    fn a_marked_failure_takes_the_full_path_and_its_bit() {
        use crate::run::gate::NoNotify;
        let plain = Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::None);
        let mut state = State::new(&plain);
        assert_ne!(state.flags & State::PLAIN, 0);
        state.mark_next_failure();
        assert_eq!(
            state.flags & State::PLAIN,
            0,
            "a marked failure goes the full way"
        );
        assert_eq!(
            state.failed_notify(&plain, &"down", &mut NoNotify),
            Decision::retry(Duration::ZERO)
        );
        assert_eq!(state.flags & State::MARKS, 0, "the decision took it");
    }

    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[test]
    fn a_last_attempt_ends_the_run_whatever_the_policy_allows() {
        use crate::run::gate::NoNotify;
        let plain = Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::None);
        let mut state = State::new(&plain);
        assert_eq!(
            state.failed_notify(&plain, &"down", &mut NoNotify),
            Decision::retry(Duration::ZERO)
        );
        state.set_last();
        assert!(state.is_last());
        assert_eq!(state.flags & State::PLAIN, 0);
        assert_eq!(
            state.failed_notify(&plain, &"down", &mut NoNotify),
            Decision::give_up(StopReason::SentOnce)
        );
        assert_eq!(state.attempts, 2);

        let never = plain.retry_if(|_: &&str| false);
        let mut state = State::new(&never);
        state.set_last();
        assert_eq!(
            state.failed_notify(&never, &"down", &mut NoNotify),
            Decision::give_up(StopReason::Permanent)
        );
    }
}
