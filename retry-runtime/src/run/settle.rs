//! How an executor's attempt settles the run: [`LazyRun::settle_keeping`]
//! (an error or a value), [`LazyRun::settle_rejected`] (an `Ok` that
//! `retry_if_ok` rejected), [`LazyRun::settle_checked`] (either, as one
//! [`Settled`]), and a stop that came in the wait of a rejected value.
//! A child of `lazy` (it reads the run's state).

use core::fmt::Display;
use core::ops::ControlFlow;
use std::time::Duration;

use super::super::gate::Notify;
use super::super::state::REJECTED_OK;
use super::LazyRun;
use crate::error::RetryError;
use crate::policy::{Decision, Policy, When};
use crate::stop::StopReason;

impl LazyRun {
    /// The executors' shared step: record an attempt's outcome, and either
    /// finish (`Break`: the value, or the error wrapped) or go on after a
    /// wait (`Continue`). The error of an attempt the run waits to retry is
    /// handed to `keep` (a call's stop keeps it, to return it if the stop
    /// comes in the wait; `drop` otherwise), so the caller holds nothing of
    /// it while it sleeps. (Its own `Result`, not [`Settled`]: the async
    /// loop's zero-wait retry takes two instructions more on a three-way
    /// enum; an `Ok` that `retry_if_ok` rejected goes to
    /// [`settle_rejected`](Self::settle_rejected) instead.)
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn settle_keeping<W, G, T, E: Display, N: Notify<E>>(
        &mut self,
        policy: &Policy<W, G>,
        outcome: Result<T, E>,
        notify: &mut N,
        marks: bool,
        keep: impl FnOnce(E),
    ) -> ControlFlow<Result<T, RetryError<E>>, Duration>
    where
        W: When<E>,
    {
        match outcome {
            Ok(value) => {
                self.succeeded(policy);
                ControlFlow::Break(Ok(value))
            }
            Err(error) => match self
                .state_marking(policy, marks)
                .failed_notify(policy, &error, notify)
            {
                Decision::Retry { wait, .. } => {
                    keep(error);
                    ControlFlow::Continue(wait)
                }
                Decision::GiveUp { reason, .. } => {
                    let state = self.0.take();
                    let e = LazyRun(state).into_error(policy, error, reason);
                    ControlFlow::Break(Err(e))
                }
            },
        }
    }

    /// An `Ok` that `retry_if_ok` rejected: retried (the value handed to
    /// `keep_ok`, which a call's stop keeps for its wait), or returned
    /// with the reason the run gave up (`Break`).
    #[inline]
    pub(crate) fn settle_rejected<W, G, T, E: ?Sized, N: Notify<E>>(
        &mut self,
        policy: &Policy<W, G>,
        value: T,
        notify: &mut N,
        keep_ok: impl FnOnce(T),
    ) -> ControlFlow<(T, StopReason), Duration> {
        match self
            .state(policy)
            .rejected_notify::<W, G, E, N>(policy, notify)
        {
            Decision::Retry { wait, .. } => {
                keep_ok(value);
                ControlFlow::Continue(wait)
            }
            Decision::GiveUp { reason, .. } => ControlFlow::Break((value, reason)),
        }
    }

    /// [`settle_keeping`](Self::settle_keeping), or, for a `rejected`
    /// outcome (a constant `false` without `retry_if_ok`),
    /// [`settle_rejected`](Self::settle_rejected): how the run ended, if it
    /// did, as one [`Settled`] (the sync loop's and the attempt spans').
    #[allow(clippy::too_many_arguments)] // (the executors' fields, borrowed apart)
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn settle_checked<W, G, T, E: Display, N: Notify<E>>(
        &mut self,
        policy: &Policy<W, G>,
        outcome: Result<T, E>,
        rejected: bool,
        notify: &mut N,
        marks: bool,
        keep: impl FnOnce(E),
        keep_ok: impl FnOnce(T),
    ) -> ControlFlow<Settled<T, E>, Duration>
    where
        W: When<E>,
    {
        let flow = match outcome {
            Ok(value) if rejected => {
                return match self.settle_rejected::<W, G, T, E, N>(policy, value, notify, keep_ok) {
                    ControlFlow::Break((value, reason)) => {
                        ControlFlow::Break(Settled::Rejected(value, reason))
                    }
                    ControlFlow::Continue(wait) => ControlFlow::Continue(wait),
                };
            }
            outcome => self.settle_keeping(policy, outcome, notify, marks, keep),
        };
        match flow {
            ControlFlow::Break(Ok(value)) => ControlFlow::Break(Settled::Ok(value)),
            ControlFlow::Break(Err(e)) => ControlFlow::Break(Settled::Err(e)),
            ControlFlow::Continue(wait) => ControlFlow::Continue(wait),
        }
    }

    /// The call's stop signal fired while it waited to retry an `Ok` that
    /// `retry_if_ok` rejected: the run ends here ([`StopReason::Stopped`],
    /// its line and metric); its attempts and time, for the value's report.
    #[cold]
    pub(crate) fn stopped_in_wait_ok<W, G>(&mut self, policy: &Policy<W, G>) -> (u32, Duration) {
        let mut state = self.tell_stopped_in_wait(policy, &REJECTED_OK);
        (state.attempts, state.elapsed())
    }
}

/// How a run ended, when it did ([`LazyRun::settle_checked`]).
pub(crate) enum Settled<T, E> {
    /// A value (accepted, or not asked).
    Ok(T),
    /// The run gave up on this error.
    Err(RetryError<E>),
    /// The run gave up, for this reason, on an `Ok` that `retry_if_ok`
    /// rejected: the value returned.
    Rejected(T, StopReason),
}
