//! What a run tells when it retries, gives up, or is turned away before
//! an attempt: its log line, its metrics, the policy's callbacks and the
//! call's own hook (the run's, the hedged run's, the tower layer's).

use core::fmt::Display;
use std::time::Duration;

#[cfg(doc)]
use super::gate::Notify;
use crate::classify::ErrorKind;
use crate::hooks::{GiveUpEvent, RetryEvent};
use crate::log;
use crate::metrics;
use crate::policy::Policy;
use crate::stop::StopReason;

/// A retry about to sleep: its WARN line, its wait's metric, the policy's
/// `before_sleep` and the call's hook (the run's and the hedged run's);
/// `call`, the call's number for its line (none for `Policy::report`'s).
pub(crate) fn announce_retry<W, G>(
    policy: &Policy<W, G>,
    ev: &RetryEvent<'_>,
    elapsed: log::Elapsed,
    notify: Option<&mut dyn OnRetry>,
    mark: bool,
    call: log::Call<'_>,
) {
    let level = if ev.rejected_ok {
        policy.rejected_ok_level()
    } else {
        policy.levels.retry
    };
    log::retry(ev, elapsed, level, call);
    if mark {
        crate::span::attempt_failed(&tracing::Span::current(), ev.error, ev.kind);
    }
    metrics::waits(policy.name, ev.wait, ev.kind);
    if let Some(hook) = policy.before_sleep {
        hook(ev);
    }
    if let Some(notify) = notify {
        notify.on_retry(ev);
    }
}

/// A run that ended without a success: its line, its outcome's metrics and
/// the policy's `on_give_up` (not for a deferred error, which the outer run
/// retries: a DEBUG line and the metric only). A request sent once
/// ([`StopReason::SentOnce`]) gets its line from the layer or the
/// middleware that sent it, which knows why (`log::sent_once`). `call`:
/// the call's number for its line (none for `Policy::report`'s).
pub(crate) fn announce_give_up<W, G>(
    policy: &Policy<W, G>,
    ev: &GiveUpEvent<'_>,
    elapsed: log::Elapsed,
    mark: bool,
    call: log::Call<'_>,
) {
    match (ev.reason, policy.budget) {
        (StopReason::Deferred, _) => log::deferred(ev, elapsed, call),
        (StopReason::SentOnce, _) => {}
        (StopReason::Budget, Some(budget)) => {
            log::budget_exhausted(ev, budget, elapsed, policy.give_up_levels(), call)
        }
        _ => log::give_up(ev, elapsed, policy.give_up_levels(), call),
    }
    if mark {
        crate::span::attempt_failed(&tracing::Span::current(), ev.error, ev.kind);
    }
    // (counted up to the policy's limit: `Policy::report` is given its
    // attempt, which may exceed it, `u32::MAX` at worst, as the line says)
    let counted = ev.attempts.min(ev.max_attempts);
    metrics::call_ended(policy.name, ev.reason.into(), counted);
    if ev.reason == StopReason::Deferred {
        return;
    }
    if let Some(hook) = policy.on_give_up {
        hook(ev);
    }
}

/// A run a guard (breaker, throttle) ended before an attempt: its
/// `outcome`'s metric (`not_attempted_*`: nothing was sent; a hand loop's
/// run whose count `Run::progressed` restarted made attempts, and has the
/// outcome of a call the guard stopped after attempts) and the policy's
/// `on_give_up` (the caller logs it; the run's and the hedged run's).
pub(crate) fn announce_not_attempted<W, G>(
    policy: &Policy<W, G>,
    outcome: metrics::Outcome,
    reason: StopReason,
    error: &dyn Display,
    attempts: u32,
    elapsed: Duration,
) {
    metrics::call_ended(policy.name, outcome, attempts);
    if let Some(hook) = policy.on_give_up {
        hook(&GiveUpEvent {
            operation: policy.name,
            attempts,
            max_attempts: policy.stop.max_attempts(),
            reason,
            error,
            kind: Some(ErrorKind::Unavailable),
            elapsed,
            why_permanent: None,
        });
    }
}

/// A [`Notify`] hook with its error bound in (a closure made where the
/// error is), so the slow path can take it as a `dyn`.
pub(crate) trait OnRetry {
    fn on_retry(&mut self, event: &RetryEvent<'_>);
}

impl<F: FnMut(&RetryEvent<'_>)> OnRetry for F {
    fn on_retry(&mut self, event: &RetryEvent<'_>) {
        self(event);
    }
}

/// The run ends before the attempt it was about to make (the tower
/// layer's, the reqwest middleware's), on `error` (of `kind`) for
/// `reason`: announced as any give-up (`why_permanent`: why the error is
/// `Permanent`, asked for the line), and the token of the retry the
/// budget granted goes back (it is not made).
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub(crate) fn ended_before_retry<W, G>(
    run: &mut super::LazyRun,
    policy: &Policy<W, G>,
    reason: StopReason,
    error: &dyn Display,
    kind: ErrorKind,
    why_permanent: crate::hooks::WhyPermanent<'_>,
) {
    let (attempts, elapsed, shown) = run.progress_shown();
    if run.attempts_made() > 0 {
        policy.retry_not_made();
    }
    announce_give_up(
        policy,
        &GiveUpEvent {
            operation: policy.name,
            attempts,
            max_attempts: policy.stop.max_attempts(),
            reason,
            error,
            kind: Some(kind),
            elapsed,
            why_permanent,
        },
        shown,
        // (the layer and the middleware make no attempt spans)
        false,
        Some(run.call(policy)),
    );
}

/// A call through the tower layer whose service failed its readiness
/// check (`poll_ready`) before the first attempt: no run started, nothing
/// was sent. Announced as any give-up for `reason` (`Permanent`: on a
/// non-retriable error, its line, "on attempt 0", the policy's
/// `on_give_up`; `Deferred`: left to a retried call around it), with 0
/// attempts, counted as the call's report says (`permanent_error`, 0
/// attempts) and as the same failure before a retry is (`why_permanent`:
/// why the error is `Permanent`); the breaker and the budget, never asked,
/// record nothing.
#[cfg(feature = "tower")]
#[cold]
#[inline(never)]
pub(crate) fn not_ready_to_call<W, G>(
    policy: &Policy<W, G>,
    error: &dyn Display,
    kind: ErrorKind,
    reason: StopReason,
    why_permanent: crate::hooks::WhyPermanent<'_>,
) {
    let mut call = log::CallId::NEW;
    announce_give_up(
        policy,
        &GiveUpEvent {
            operation: policy.name,
            attempts: 0,
            max_attempts: policy.stop.max_attempts(),
            reason,
            error,
            kind: Some(kind),
            elapsed: Duration::ZERO,
            why_permanent,
        },
        // (it ended where it started)
        log::Elapsed::Unknown,
        false,
        Some(&mut call),
    );
}

/// A retry under a per-attempt timeout (the tower layer's, the reqwest
/// middleware's) whose wait ended at or past the run's deadline (its
/// timer woken late, on a loaded runtime): not made, as one whose service
/// was not ready by then. It times out at once (`AttemptTimeout` of 0)
/// before the breaker is asked, and the run ends on its deadline (or
/// leaves it to an outer run that retries timeouts) after the attempts it
/// made, its budget token given back. `None`: time is left.
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
#[cold]
#[inline(never)]
pub(crate) fn too_late<W, G>(
    run: &mut super::LazyRun,
    policy: &Policy<W, G>,
) -> Option<crate::timeout::AttemptTimeout> {
    use crate::classify::Classify;
    policy.stop.max_elapsed?;
    if run.next_attempt(policy).remaining != Some(Duration::ZERO) {
        return None;
    }
    let timeout = crate::timeout::AttemptTimeout::new(Duration::ZERO);
    let kind = timeout.kind();
    ended_before_retry(
        run,
        policy,
        deadline_or_deferred(policy, kind),
        &timeout,
        kind,
        // (a timeout, never permanent)
        None,
    );
    Some(timeout)
}

/// Why a run that reached its deadline before a retry (`kind`: its
/// error's, a timeout) ended: left to an outer retried call that retries
/// the kind ([`StopReason::Deferred`], as a failure the run would not retry
/// is), or on its deadline.
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub(crate) fn deadline_or_deferred<W, G>(policy: &Policy<W, G>, kind: ErrorKind) -> StopReason {
    use crate::nested;
    if policy.nested == nested::Nested::Defer && nested::outer_retries(Some(kind)) {
        StopReason::Deferred
    } else {
        StopReason::Deadline
    }
}
