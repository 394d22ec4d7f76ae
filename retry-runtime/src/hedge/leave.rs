//! A hedged run's leave for each attempt: the breaker's permit, told its
//! outcome once ([`Leave`]), the leave for a retry or a hedge after the
//! first attempt, the budget's tokens given back when the run ends
//! without spending them ([`Granted`]), the pace's slot of a hedge that
//! does not start in it ([`PacedHedge`]), and a hold of the cooldown that
//! holds the run's starts back ([`Cooled`]).

use std::time::Duration;

use crate::budget::RetryBudget;
use crate::circuit::{CircuitBreaker, CircuitState, Outcome, Permit};
use crate::classify::ErrorKind;
use crate::clock::{Clock, SystemClock};
use crate::cooldown::Cooldown;
use crate::policy::{Policy, Verdict};
use crate::stop::StopReason;

/// An attempt's leave, until its outcome is told ([`Leave::told`]): made
/// before the operation makes the attempt's future, so that an attempt
/// dropped in flight (another won, the run ended, or the operation
/// panicked while making it) is told to the breaker as made with no
/// outcome (`Neutral`): every leave granted is recorded once, and a
/// half-open probe's slot comes free. (The throttle is told nothing: it
/// counts an attempt only with its outcome.)
pub(super) struct Leave {
    pub(super) permit: Option<Permit>,
    pub(super) breaker: Option<&'static CircuitBreaker>,
    pub(super) told: bool,
}

impl Leave {
    pub(super) fn new<W, G>(policy: &Policy<W, G>, permit: Option<Permit>) -> Leave {
        Leave {
            permit,
            breaker: policy.circuit,
            told: false,
        }
    }

    /// The attempt finished with `outcome`: told to the breaker (with its
    /// leave) and the throttle.
    pub(super) fn told<W, G>(&mut self, policy: &Policy<W, G>, outcome: Outcome) {
        self.told_of(policy, outcome, None);
    }

    /// [`told`](Self::told), of an error of `kind` for a failure (a kind
    /// the breaker takes as neutral is neutral to it).
    fn told_of<W, G>(&mut self, policy: &Policy<W, G>, outcome: Outcome, kind: Option<ErrorKind>) {
        self.told = true;
        record(policy, self.permit.take(), outcome, kind);
    }

    /// The attempt failed, the policy's `verdict` on its error: told as a
    /// failure if the error is one the policy retries, as neither
    /// otherwise (a 404 says nothing of the dependency's health). Once: an
    /// attempt already told is not told again.
    pub(super) fn told_failed<W, G>(&mut self, policy: &Policy<W, G>, verdict: Verdict) {
        if self.told {
            return;
        }
        let outcome = if verdict.retry {
            Outcome::Failure
        } else {
            Outcome::Neutral
        };
        self.told_of(policy, outcome, verdict.kind);
    }
}

impl Drop for Leave {
    fn drop(&mut self) {
        if self.told {
            return;
        }
        if let (Some(breaker), Some(permit)) = (self.breaker, self.permit.take()) {
            breaker.record(permit, Outcome::Neutral);
        }
    }
}

/// Leave for an attempt after the first: a retry already granted (its
/// budget token taken and the throttle asked when it was decided), or
/// else the guards' leave for it now ([`retry_leave`]); then the breaker's
/// leave for the attempt.
pub(super) fn next_leave<W, G>(
    policy: &Policy<W, G>,
    granted: &mut Granted<'_>,
) -> Result<Option<Permit>, StopReason> {
    if granted.retries > 0 {
        granted.retries -= 1;
    } else {
        retry_leave(policy)?;
    }
    let Some(breaker) = policy.circuit else {
        return Ok(None);
    };
    let permit = if breaker.state() == CircuitState::Closed {
        breaker.try_acquire().ok()
    } else {
        None
    };
    if permit.is_none() {
        // the retry is not made: its token goes back
        policy.retry_not_made();
        return Err(StopReason::CircuitOpen);
    }
    Ok(permit)
}

/// May the run retry: the breaker closed, a budget token, the throttle's
/// leave (a token the throttle turns away goes back).
pub(super) fn retry_leave<W, G>(policy: &Policy<W, G>) -> Result<(), StopReason> {
    if let Some(breaker) = policy.circuit {
        if breaker.state() != CircuitState::Closed {
            return Err(StopReason::CircuitOpen);
        }
    }
    if let Some(budget) = policy.budget {
        if !budget.try_withdraw() {
            return Err(StopReason::Budget);
        }
    }
    if let Some(throttle) = policy.throttle {
        if throttle.try_acquire().is_err() {
            policy.retry_not_made();
            return Err(StopReason::Throttled);
        }
    }
    Ok(())
}

/// The retries a hedged run decided (each granted its budget token) and
/// has not started yet: their tokens are given back when the run ends or
/// is dropped before it starts them. (The throttle that let them through
/// counts nothing for them until they end.)
pub(super) struct Granted<'b> {
    pub(super) budget: Option<&'b RetryBudget>,
    pub(super) retries: u32,
}

impl Granted<'_> {
    /// The retries granted will not start: their tokens go back.
    pub(super) fn give_back(&mut self) {
        if let Some(budget) = self.budget {
            for _ in 0..self.retries {
                budget.refund();
            }
        }
        self.retries = 0;
    }
}

impl Drop for Granted<'_> {
    fn drop(&mut self) {
        self.give_back();
    }
}

/// A hold of the policy's cooldown begun since a start was armed (another
/// call's 429): its end, which holds a retry back, and the held hedge's
/// point in its spread after it ([`Cooldown::with_spread`]; the end
/// without one), which holds a hedge due before the end. Zero: none.
#[derive(Clone, Copy, Default)]
pub(super) struct Cooled {
    end: Duration,
    point: Duration,
}

impl Cooled {
    /// A hedge was held by a hold ending at `end`, to its `point` after it.
    #[inline]
    pub(super) fn held(&mut self, end: Duration, point: Duration) {
        self.end = self.end.max(end);
        self.point = self.point.max(point);
    }

    /// Until when a retry is held back: the hold's end (a retry after it
    /// is not held; one decided in it has its own point).
    #[inline]
    pub(super) fn end(self) -> Duration {
        self.end
    }

    /// Until when a hedge due `delay` after `now` is held back: the held
    /// hedge's point when it is due before the hold's end, else the end
    /// (past by then: a start after the hold is not held).
    #[inline]
    pub(super) fn hedge(self, now: Duration, delay: Option<Duration>) -> Duration {
        // (most runs meet no hold: the test inline, the rest out of line)
        if self.end.is_zero() {
            return Duration::ZERO;
        }
        self.held_hedge(now, delay)
    }

    #[cold]
    #[inline(never)]
    fn held_hedge(self, now: Duration, delay: Option<Duration>) -> Duration {
        if delay.is_some_and(|d| now.saturating_add(d) < self.end) {
            self.point
        } else {
            self.end
        }
    }
}

/// The pace's slot a hedge took and waits for, or starts in at once
/// ([`Cooldown::hedge_slot`]), if one does: the slot goes back when the
/// hedge does not start in it (a retry started before it, its start was
/// refused, a hold held it past it, or the call ended or was dropped
/// first), so that the next call takes it.
pub(super) struct PacedHedge {
    /// The cooldown and the slot's time, on the `SystemClock`.
    slot: Option<(&'static Cooldown, Duration)>,
}

impl PacedHedge {
    pub(super) fn new() -> PacedHedge {
        PacedHedge { slot: None }
    }

    /// Does a hedge hold a slot it waits for?
    #[inline]
    pub(super) fn pending(&self) -> bool {
        self.slot.is_some()
    }

    /// The hedge took the slot of `cooldown` `wait` from now.
    pub(super) fn took(&mut self, cooldown: &'static Cooldown, wait: Duration) {
        self.slot = Some((cooldown, SystemClock.now().saturating_add(wait)));
    }

    /// An attempt starts now: the slot is its if due (the hedge's timer
    /// fired for it); one still ahead (a retry started first) goes back.
    #[inline]
    pub(super) fn started(&mut self) {
        if self.pending() {
            self.start_in_slot();
        }
    }

    #[cold]
    #[inline(never)]
    fn start_in_slot(&mut self) {
        if self.slot.is_some_and(|(_, at)| at > SystemClock.now()) {
            self.give_back();
        }
        self.slot = None;
    }

    /// The hedge will not start in its slot: the slot goes back.
    #[inline]
    pub(super) fn unused(&mut self) {
        if self.pending() {
            self.give_back();
        }
    }

    /// (At the slot's own time: once passed, a timer that woke late, the
    /// slot nearest now could be the next call's.)
    #[cold]
    #[inline(never)]
    fn give_back(&mut self) {
        if let Some((cooldown, at)) = self.slot.take() {
            cooldown.give_back_at(at);
        }
    }
}

impl Drop for PacedHedge {
    #[inline]
    fn drop(&mut self) {
        self.unused();
    }
}

/// An attempt's outcome (an error of `kind` for a failure), told to the
/// breaker (with the attempt's leave), as it judges it, and the throttle.
pub(super) fn record<W, G>(
    policy: &Policy<W, G>,
    permit: Option<Permit>,
    outcome: Outcome,
    kind: Option<ErrorKind>,
) {
    if let Some(breaker) = policy.circuit {
        if let Some(permit) = permit.or_else(|| breaker.acquire_quietly()) {
            let outcome = breaker.judged(&permit, outcome, kind);
            breaker.record(permit, outcome);
        }
    }
    if let Some(throttle) = policy.throttle {
        throttle.record(outcome != Outcome::Failure);
    }
}
