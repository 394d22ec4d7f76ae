//! The per-attempt spans: made, entered for the attempt and the decision
//! after it, and marked with how the attempt ended (what they record is
//! told to users in [`log`](crate::log)'s docs).

use core::fmt::Display;

use crate::classify::ErrorKind;
use crate::log::{OneLine, TARGET, int, kind_name};

/// The span of attempt `attempt` of `operation`, a child of the current
/// span (see `Policy::with_attempt_spans`); disabled when no subscriber wants it.
#[cold]
#[inline(never)]
pub(crate) fn attempt_span(operation: &'static str, attempt: u32) -> tracing::Span {
    // With tracing's `log` feature (ours, `log`) and no subscriber at all, a
    // span is written as a `log` record when it is made: one INFO line per
    // attempt that is none of the runtime's lines. No subscriber, no span.
    if !tracing::dispatcher::has_been_set() {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        ATTEMPT_SPAN,
        operation,
        attempt = int(attempt),
        error_kind = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
        cancelled = tracing::field::Empty,
    )
}

/// Marks an attempt's span cancelled: the attempt was dropped while it
/// ran (a hedge another attempt beat, or the call dropped mid-attempt: a
/// timeout around it, a client gone). Its status stays unset: it did not
/// fail. Not while a panic unwinds through it (a panic is no cancel).
#[cold]
#[inline(never)]
pub(crate) fn attempt_dropped(span: &tracing::Span) {
    if !std::thread::panicking() {
        span.record("cancelled", true);
    }
}

/// The name of an attempt's span.
const ATTEMPT_SPAN: &str = "retry.attempt";

/// Marks `span` failed, when it is an attempt's ([`attempt_span`]): its
/// `error_kind`, and `otel.status_code` `ERROR` with the error as
/// `otel.status_description` (the fields tracing-opentelemetry makes the
/// exported span's status of). Called by the code that made that span,
/// after the failed attempt's line (so the line does not repeat the error
/// in its span's fields): a run whose state was told its failure marks
/// the span (`State::mark_next_failure`: the current span, entered for the
/// decision), or a hedged run (the attempt's own). Any other span is left
/// alone.
#[cold]
#[inline(never)]
pub(crate) fn attempt_failed(span: &tracing::Span, error: &dyn Display, kind: Option<ErrorKind>) {
    let ours = span
        .metadata()
        .is_some_and(|m| m.name() == ATTEMPT_SPAN && m.target() == TARGET);
    if ours {
        span.record("error_kind", kind_name(kind));
        // the code first: tracing-opentelemetry sets the status from each,
        // and the description's is an error with the text
        span.record("otel.status_code", "ERROR");
        span.record(
            "otel.status_description",
            tracing::field::display(OneLine(error)),
        );
    }
}

/// Does a failure decided in `span`, an attempt's span the run made (if
/// it made one), mark it: is it one the subscriber enabled?
#[inline]
pub(crate) fn marks(span: Option<&tracing::Span>) -> bool {
    span.is_some_and(|span| !span.is_disabled())
}

/// The span of the next attempt of a run that has made `made`, if `policy`
/// asks for spans.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn next_attempt_span<W, G>(
    policy: &crate::Policy<W, G>,
    made: u32,
) -> Option<tracing::Span> {
    if policy.attempt_spans {
        Some(attempt_span(policy.name, made.saturating_add(1)))
    } else {
        None
    }
}

/// `f(in_its_span)`, inside `span` if there is one (out of line: without
/// a span, the caller's code is what it would be without this, `f(false)`
/// inlined with its constant); `in_its_span` is whether the subscriber
/// enabled it.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn in_span<R>(span: Option<&tracing::Span>, f: impl FnOnce(bool) -> R) -> R {
    match span {
        None => f(false),
        Some(span) => in_span_cold(span, f),
    }
}

#[cold]
#[inline(never)]
fn in_span_cold<R>(span: &tracing::Span, f: impl FnOnce(bool) -> R) -> R {
    // (`f` is told whether the span is one the subscriber enabled)
    span.in_scope(|| f(!span.is_disabled()))
}
