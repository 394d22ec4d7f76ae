//! The decision after a failure that every form shares ([`Policy::next`]):
//! the backoff's wait or the server's (a Retry-After the policy honours,
//! floored, capped, at least the backoff's if it says so), no shorter
//! than a shared cooldown's time left (which the server's wait holds) nor
//! than its pace's next slot, and the limits, the deadline judged by the
//! wait the server asked for.

use std::time::Duration;

#[cfg(doc)]
use super::RetryAfter;
use super::{Basis, Decision, Policy, Verdict};
use crate::cooldown::Imposed;
use crate::hooks::WaitSource;
use crate::jitter::Rng;
use crate::stop::StopReason;

impl<W, G> Policy<W, G> {
    /// Is `wait`, decided after this verdict, the server's (a Retry-After
    /// hint the policy honours for the error's kind)? Not when the policy
    /// waits at least the backoff's wait and that was longer.
    #[inline]
    pub(crate) fn waits_as_told(&self, verdict: Verdict, wait: Duration) -> bool {
        self.told_wait(verdict)
            .is_some_and(|told| !self.retry_after.at_least_backoff || told >= wait)
    }

    /// What chose `wait`, decided after this verdict (`imposed`: what the
    /// policy's cooldown made of it, if it has one): the cooldown when it
    /// made the wait longer than the policy's own, else the server's or
    /// the backoff's ([`waits_as_told`](Self::waits_as_told)).
    #[inline]
    pub(crate) fn wait_source(
        &self,
        verdict: Verdict,
        wait: Duration,
        imposed: Option<Imposed>,
    ) -> WaitSource {
        if imposed.is_some_and(|imposed| imposed.lengthened(wait)) {
            WaitSource::Cooldown
        } else if self.waits_as_told(verdict, wait) {
            WaitSource::RetryAfter
        } else {
            WaitSource::Backoff
        }
    }

    /// The server's wait, when it chose this retry's wait (`source`) but
    /// the policy cut it to its cap or raised it to its floor
    /// ([`RetryEvent::asked`](crate::RetryEvent)).
    #[inline]
    pub(crate) fn asked_of(&self, verdict: Verdict, source: WaitSource) -> Option<Duration> {
        match (source, verdict.retry_after) {
            (WaitSource::RetryAfter, Some(hint)) => {
                let limits = &self.retry_after;
                (hint > limits.cap || hint < limits.floor).then_some(hint)
            }
            _ => None,
        }
    }

    /// What chose a decision's `wait` reported with
    /// [`Policy::report`] (made by [`Policy::decide`] after
    /// `retries_done` retries and this verdict) when the decision has no
    /// [`Basis`] (rebuilt from a job's row): nothing kept what the
    /// cooldown made of it, so the cooldown's when it is longer than any
    /// wait the policy would choose itself there
    /// ([`longest_own_wait`](Self::longest_own_wait)); otherwise as
    /// [`wait_source`](Self::wait_source) says without a cooldown (a wait
    /// the cooldown lengthened within the jitter's range is one the backoff
    /// might have given: `Backoff`).
    pub(crate) fn reported_wait_source(
        &self,
        retries_done: u32,
        verdict: Verdict,
        wait: Duration,
    ) -> WaitSource {
        if self.cooldown.is_some() && wait > self.longest_own_wait(retries_done, verdict) {
            WaitSource::Cooldown
        } else {
            self.wait_source(verdict, wait, None)
        }
    }

    /// The longest wait [`Policy::decide`] chooses after `retries_done`
    /// retries and this verdict without a cooldown: the backoff's with the
    /// jitter's most (the previous wait taken to be the backoff's, as
    /// `decide` takes it), or the server's as the policy honours it (at
    /// least the backoff's under [`RetryAfter::with_at_least_backoff`]).
    fn longest_own_wait(&self, retries_done: u32, verdict: Verdict) -> Duration {
        let previous = match retries_done {
            0 => Duration::ZERO,
            n => self.backoff.delay(n - 1),
        };
        let base = self.backoff.delay(retries_done);
        let (_, backoff) = self.jitter.bounds(base, previous, &self.backoff);
        match self.told_wait(verdict) {
            Some(told) if self.retry_after.at_least_backoff => told.max(backoff),
            Some(told) => told,
            None => backoff,
        }
    }

    /// The server's wait after this verdict, if the policy honours it for
    /// the error's kind: the hint, at least the policy's
    /// [`RetryAfter::floor`] and at most its [`RetryAfter::cap`].
    #[inline]
    pub(crate) fn told_wait(&self, verdict: Verdict) -> Option<Duration> {
        self.asked_wait(verdict)
            .map(|asked| asked.min(self.retry_after.cap))
    }

    /// The server's wait after this verdict as it asked for it, if the
    /// policy honours it for the error's kind (or the verdict names no
    /// kind: a condition of the user's that gives a hint means it): the
    /// hint, at least the policy's [`RetryAfter::floor`], not capped. The
    /// deadline is judged by it: a retry the server will refuse until past
    /// the `max_elapsed` limit is not made, though the policy would wait
    /// less.
    #[inline]
    pub(crate) fn asked_wait(&self, verdict: Verdict) -> Option<Duration> {
        match (verdict.kind, verdict.retry_after) {
            (Some(kind), Some(_)) if !self.retry_after.kinds.contains(kind) => None,
            (_, Some(hint)) => Some(hint.max(self.retry_after.floor)),
            _ => None,
        }
    }

    /// Hold the shared cooldown for the server's wait after this verdict,
    /// if the policy honours it: for every failure, whether its run
    /// retries it, gives up on it, or leaves it to a retried call around
    /// it (which may share no cooldown). Asked by each caller of
    /// [`next`](Self::next) before its own checks, which skip `next` for a
    /// failure deferred to the outer run (a run's, a hedged run's) or with
    /// no attempt left (a hedged run's). A hold that makes the
    /// cooldown's longer is told to its hook
    /// ([`Cooldown::with_on_hold`](crate::cooldown::Cooldown::with_on_hold)).
    #[inline]
    pub(crate) fn hold_cooldown(&self, verdict: Verdict) {
        if let (Some(cooldown), Some(told)) = (self.cooldown, self.told_wait(verdict)) {
            cooldown.hold_heard(told, self.name, verdict.kind);
        }
    }

    /// The shared decision: `attempts_made` calls so far, `previous` wait
    /// (the cooldown held first: [`hold_cooldown`](Self::hold_cooldown)).
    /// What a cooldown added to a retry's wait is recorded now (a
    /// decision given to its caller: [`Policy::decide`]), and the decision
    /// carries its [`Basis`]: the verdict's kind and what chose the wait,
    /// as a run's line says it ([`wait_source`](Self::wait_source)), for
    /// [`Policy::report`].
    pub(crate) fn next(
        &self,
        attempts_made: u32,
        previous: Duration,
        elapsed: Duration,
        verdict: Verdict,
        rng: &mut Rng,
    ) -> Decision {
        let (decision, imposed) = self.next_imposed(attempts_made, previous, elapsed, verdict, rng);
        match decision {
            Decision::Retry { wait, .. } => {
                if let Some(imposed) = imposed {
                    imposed.record(wait);
                }
                let source = self.wait_source(verdict, wait, imposed);
                Decision::Retry {
                    wait,
                    basis: Basis::new(verdict.kind, Some(source)),
                }
            }
            Decision::GiveUp { reason, .. } => Decision::GiveUp {
                reason,
                basis: Basis::new(verdict.kind, None),
            },
        }
    }

    /// [`next`](Self::next), what a cooldown added to a retry's wait left
    /// to the caller to record once its guards let the retry through.
    pub(crate) fn next_imposed(
        &self,
        attempts_made: u32,
        previous: Duration,
        elapsed: Duration,
        verdict: Verdict,
        rng: &mut Rng,
    ) -> (Decision, Option<Imposed>) {
        if !verdict.retry {
            return (Decision::give_up(StopReason::Permanent), None);
        }
        if attempts_made >= self.stop.max_attempts() {
            return (Decision::give_up(StopReason::Attempts), None);
        }
        // the deadline is judged by the server's wait as asked (a retry it
        // refuses until past the limit is not worth making), the wait is
        // at most the policy's cap
        let backoff = |rng: &mut Rng| {
            let base = self.backoff.delay(attempts_made - 1);
            self.jitter.apply(base, previous, &self.backoff, rng)
        };
        let (wait, asked) = match self.asked_wait(verdict) {
            Some(asked) if self.retry_after.at_least_backoff => {
                let own = backoff(rng);
                (asked.min(self.retry_after.cap).max(own), asked.max(own))
            }
            Some(asked) => (asked.min(self.retry_after.cap), asked),
            None => {
                let wait = backoff(rng);
                (wait, wait)
            }
        };
        // no retry before a shared cooldown ends (another call's 429), nor
        // before its pace's next slot
        if let Some(cooldown) = self.cooldown {
            let (decision, imposed) = cooldown.decide(wait, asked, rng, |asked| {
                self.stop.check(attempts_made, elapsed, asked)
            });
            return (decision, Some(imposed));
        }
        let decision = match self.stop.check(attempts_made, elapsed, asked) {
            Some(reason) => Decision::give_up(reason),
            None => Decision::retry(wait),
        };
        (decision, None)
    }
}
