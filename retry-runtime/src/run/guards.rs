//! The guards of a run, as [`State`] asks them: the breaker and the
//! throttle before an attempt, the breaker, budget and throttle before a
//! retry, and what each attempt's outcome records in them.

use core::fmt::Display;
use std::time::Duration;

use super::announce::announce_not_attempted;
use super::gate::{Admission, Refusal};
use super::leave::HoldsLeave;
use super::state::State;
use crate::circuit::{CircuitBreaker, CircuitOpen, CircuitState, Outcome, Permit};
use crate::classify::ErrorKind;
use crate::cooldown::give_back;
use crate::log;
use crate::metrics;
use crate::policy::{Decision, Policy};
use crate::stop::StopReason;
use crate::throttle::{Throttle, Throttled};

impl State {
    /// Before an attempt: ask the breaker (every attempt) and the throttle
    /// (the first attempt; a retry asks it in [`guard_retry`](State::guard_retry)).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(super) fn before_attempt<W, G>(&mut self, policy: &Policy<W, G>) -> Result<(), Refusal> {
        if let Some(breaker) = policy.circuit {
            self.acquire(policy, breaker).map_err(Refusal::Circuit)?;
        }
        match policy.throttle {
            Some(throttle) if self.attempts == 0 => self
                .throttle_first(policy, throttle)
                .map_err(Refusal::Throttle),
            _ => Ok(()),
        }
    }

    /// [`LazyRun::admit`](super::lazy::LazyRun::admit) for a run that has its state.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn admit<W, G: Admission<E>, E>(&mut self, policy: &Policy<W, G>) -> Result<(), E> {
        self.admit_or_stop(policy).map_err(|(e, _)| e)
    }

    /// [`admit`](State::admit), with the reason the run stops when a guard
    /// turns the attempt away.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn admit_or_stop<W, G: Admission<E>, E>(
        &mut self,
        policy: &Policy<W, G>,
    ) -> Result<(), (E, StopReason)> {
        if G::ASKS {
            if let Err(refusal) = self.before_attempt(policy) {
                if let Some(e) = G::rejection(refusal) {
                    return Err((e, refusal.stop_reason()));
                }
            }
        }
        Ok(())
    }

    /// The throttle's leave for a first attempt; a rejection ends the run
    /// before it made any attempt.
    #[inline(never)]
    fn throttle_first<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        throttle: &Throttle,
    ) -> Result<(), Throttled> {
        throttle.try_acquire().inspect_err(|rejection| {
            // the breaker's leave for this attempt goes back unused (the
            // pace's slot it waited for does not: `Cooldown::with_pace`)
            policy.release_permit(self.permit.take());
            let outcome = self.turned_away(StopReason::Throttled);
            log::throttled(policy.name, 1, rejection, outcome, &mut self.call);
            self.not_attempted(policy, outcome, StopReason::Throttled, rejection);
        })
    }

    /// The outcome of a run a guard ends, for `reason`, before the attempt
    /// its count says is its first: `not_attempted_*`, unless it made
    /// attempts before `Run::progressed` restarted its count (see
    /// [`RESTARTED`](Self::RESTARTED)).
    fn turned_away(&self, reason: StopReason) -> metrics::Outcome {
        if self.flags & Self::RESTARTED != 0 {
            reason.into()
        } else {
            metrics::Outcome::not_attempted(reason)
        }
    }

    /// Tell the policy's `on_give_up` callback of a run that ends before an
    /// attempt because a guard turned it away; its metric, as `outcome`.
    fn not_attempted<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        outcome: metrics::Outcome,
        reason: StopReason,
        error: &dyn Display,
    ) {
        let elapsed = self.elapsed();
        announce_not_attempted(policy, outcome, reason, error, self.attempts, elapsed);
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
                if self.attempts > 0 {
                    self.retry_refused(policy, &open);
                } else {
                    let outcome = self.turned_away(StopReason::CircuitOpen);
                    log::not_attempted(policy.name, 1, &open, outcome, &mut self.call);
                    self.not_attempted(policy, outcome, StopReason::CircuitOpen, &open);
                }
                Err(open)
            }
        }
    }

    /// A retry the breaker turned away: it opened during the wait. The run
    /// gives up after the attempts it made, as when the breaker opened
    /// before the wait ([`guard_retry`](Self::guard_retry)): the ERROR line
    /// `failed after {n} attempts (circuit open)`, the metric, then
    /// `on_give_up`; the error is the rejection, which the run returns.
    /// The budget's token for the retry goes back.
    #[cold]
    #[inline(never)]
    fn retry_refused<W, G>(&mut self, policy: &Policy<W, G>, open: &CircuitOpen) {
        let kind = Some(ErrorKind::Unavailable);
        self.ends_in_wait(policy, StopReason::CircuitOpen, open, kind);
    }

    /// The attempt just made (`self.attempts`) ended with `outcome` (an
    /// error of `kind`): a first attempt deposits into the budget; the
    /// breaker records the outcome as it judges it (a failure of a kind it
    /// takes as neutral, `with_neutral_kinds`); the throttle counts a
    /// request, and an accept unless the attempt failed retriably.
    #[inline(never)]
    pub(super) fn record<W, G>(
        &mut self,
        policy: &Policy<W, G>,
        outcome: Outcome,
        kind: Option<ErrorKind>,
    ) {
        // (an attempt the run's deadline cut says nothing of the
        // dependency: not a request the throttle counts, accepted or not)
        if let Some(throttle) = policy.throttle.filter(|_| self.flags & Self::CUT == 0) {
            throttle.record(outcome != Outcome::Failure);
        }
        if self.attempts == 1 {
            if let Some(budget) = policy.budget {
                budget.deposit();
            }
        }
        if let Some(breaker) = policy.circuit {
            // No `before_attempt` (an unguarded executor): take the leave now,
            // so the outcome still counts, and the breaker still moves on.
            if let Some(permit) = self.permit.take().or_else(|| breaker.acquire_quietly()) {
                let outcome = breaker.judged(&permit, outcome, kind);
                breaker.record(permit, outcome);
            }
        }
    }

    /// A retry the policy allows: does the breaker, the budget or the
    /// throttle stop it? (A retry the throttle lets through counts as a
    /// request when its attempt ends, in [`record`](Self::record): one
    /// dropped in its wait counts nothing.)
    #[inline(never)]
    pub(super) fn guard_retry<W, G>(policy: &Policy<W, G>, wait: Duration) -> Decision {
        let refused = if policy
            .circuit
            .is_some_and(|b| b.state() != CircuitState::Closed)
        {
            StopReason::CircuitOpen
        } else if policy.budget.is_some_and(|b| !b.try_withdraw()) {
            StopReason::Budget
        } else if policy.throttle.is_some_and(|t| t.try_acquire().is_err()) {
            policy.retry_not_made();
            StopReason::Throttled
        } else {
            return Decision::retry(wait);
        };
        give_back(policy, wait);
        Decision::give_up(refused)
    }
}

/// A run dropped in an attempt: the leave it holds, if any, is recorded as an
/// attempt made with no outcome (see `run::leave`).
impl HoldsLeave for State {
    #[inline]
    fn give_back(&mut self, breaker: &'static CircuitBreaker) {
        if let Some(permit) = self.permit.take() {
            given_back(breaker, permit);
        }
    }
}

#[cold]
#[inline(never)]
fn given_back(breaker: &'static CircuitBreaker, permit: Permit) {
    breaker.record(permit, Outcome::Neutral);
}
