//! How a hedged run ends without a success: the failures of the attempts
//! still held beside the last one, the give-up line, and the
//! [`RetryError`] returned.

use core::fmt::Display;
use std::time::Duration;

use super::in_flight::InFlight;
use crate::classify::ErrorKind;
use crate::error::RetryError;
use crate::hooks::GiveUpEvent;
use crate::log;
use crate::metrics;
use crate::policy::{Policy, When};
use crate::stop::StopReason;

/// A failed attempt: its error, its kind, its number, and whether it is
/// left to a retried call around this one ([`Nested::Defer`](crate::nested::Nested::Defer)).
pub(super) struct Failure<E> {
    pub(super) error: E,
    pub(super) kind: Option<ErrorKind>,
    pub(super) attempt: u32,
    pub(super) deferred: bool,
}

/// The failures ready in the same poll as the one that ends the call (a
/// success that wins, or a non-retriable error), each told to the guards
/// already (when it was polled): each holds the policy's cooldown for its
/// server's wait, if any, and is logged as not retried (`why`) in its
/// attempt's span, which it marks failed (the span is taken, so the
/// attempt's drop does not take it for cancelled). Whether there was one.
pub(super) fn failures_beside<W, G, Fut, E>(
    policy: &Policy<W, G>,
    in_flight: &mut [InFlight<Fut, E>],
    max: u32,
    why: &'static str,
    call: &mut log::CallId,
) -> bool
where
    W: When<E>,
    E: Display,
{
    let mut beside = false;
    for other in in_flight {
        if let Some((error, verdict)) = other.take_failure() {
            beside = true;
            // (told to the guards when it was polled; a server's wait
            // holds every call sharing the cooldown, and is told to its
            // hook, as the run's other failures' do)
            policy.hold_cooldown(verdict);
            let span = other.span.take();
            let _in_span = span.as_ref().map(tracing::Span::enter);
            let level = policy.not_retried_level(verdict.retry);
            log::not_retried(
                policy.name,
                other.number,
                max,
                &error,
                verdict.kind,
                why,
                level,
                call,
            );
            if let Some(span) = &span {
                crate::span::attempt_failed(span, &error, verdict.kind);
            }
        }
    }
    beside
}

/// The run gives up with `last` after `attempts` started: the line about
/// `last`'s attempt (which need not be the last started: one started
/// earlier may fail last), the outcome's metrics with the attempts started
/// and, of those, the `hedges` started beside others,
/// and the policy's `on_give_up` (not for a deferred error), as a run's
/// `announce_give_up` does (`run::state`); `last`'s span, if it has one,
/// is marked failed.
pub(super) fn give_up<W: When<E>, G, E: Display>(
    policy: &Policy<W, G>,
    (last, span): (Failure<E>, Option<&tracing::Span>),
    (attempts, hedges): (u32, u32),
    reason: StopReason,
    elapsed: Duration,
    call: &mut log::CallId,
) -> RetryError<E> {
    // (bound here: Rust 1.85 does not extend a temporary closure's life in
    // a struct's field)
    let why = || policy.when.why_permanent(&last.error);
    let ev = GiveUpEvent {
        operation: policy.name,
        attempts,
        max_attempts: policy.stop.max_attempts(),
        reason,
        error: &last.error,
        kind: last.kind,
        elapsed,
        why_permanent: Some(&why),
    };
    let shown = log::Elapsed::Measured(elapsed);
    match (reason, policy.budget) {
        (StopReason::Deferred, _) => log::deferred_on(&ev, last.attempt, shown, Some(call)),
        (StopReason::Budget, Some(budget)) => {
            let levels = policy.give_up_levels();
            log::budget_exhausted_on(&ev, last.attempt, budget, shown, levels, Some(call));
        }
        _ => log::give_up_on(
            &ev,
            last.attempt,
            shown,
            policy.give_up_levels(),
            Some(call),
        ),
    }
    if let Some(span) = span {
        crate::span::attempt_failed(span, &last.error, last.kind);
    }
    metrics::call_ended(policy.name, reason.into(), attempts);
    metrics::hedges(policy.name, hedges);
    if reason != StopReason::Deferred {
        if let Some(hook) = policy.on_give_up {
            hook(&ev);
        }
    }
    retry_error(policy, last.error, attempts, reason, elapsed)
}

pub(super) fn retry_error<W, G, E>(
    policy: &Policy<W, G>,
    last_error: E,
    attempts: u32,
    reason: StopReason,
    elapsed: Duration,
) -> RetryError<E> {
    RetryError {
        operation: policy.name,
        attempts,
        elapsed,
        reason,
        last_error,
    }
}
