//! Every log line of the runtime, on `tracing`, under one target:
//! [`TARGET`], `retry_runtime`. Filter on `retry_runtime` (e.g.
//! `RUST_LOG=info,retry_runtime=warn`: with `EnvFilter`, a filter that
//! names `retry_runtime` alone turns the caller's spans off, and the lines
//! lose their fields); the target does not follow the module that emits a
//! line, so a filter keeps matching when code moves.
//!
//! | when | level | message | fields |
//! |---|---|---|---|
//! | before each sleep (at `Policy::with_retry_level`'s level instead, if set: DEBUG where the retries are expected, a poll) | WARN | `retrying {operation} after attempt {n}/{max} failed; next attempt in {wait}` (plus ` (Retry-After)` when the server chose the wait, ` (Retry-After: 2m, capped)` when it asked for longer than the policy's cap (`(Retry-After: 0ns, floored)`, shorter than its floor), ` (cooldown)` when the policy's cooldown made it longer; `{n}` alone under no attempt limit, `u32::MAX`, here and in every line with `{n}/{max}`) | `operation`, `call`, `attempt`, `max_attempts`, `wait_ms`, `elapsed_ms` (if timed), `wait_source`, `error`, `error_kind` |
//! | an `Ok` that `retry_if_ok` rejected, before its retry's sleep: `error` is `the result was rejected by retry_if_ok`, `error_kind` is `unclassified` (when the attempts run out, the ERROR line of attempts exhausted says the same, and the call returns that `Ok`; both at the policy's levels, if set: `with_rejected_ok_level` for this line alone, a poll's "not ready" at DEBUG beside its real failures' WARN) | WARN | `retrying {operation} after attempt {n}/{max} failed; next attempt in {wait}` | `operation`, `call`, `attempt`, `max_attempts`, `wait_ms`, `elapsed_ms` (if timed), `wait_source`, `error`, `error_kind` |
//! | success after a retry (also a job's, reported with `Policy::report_success`, without `call`; and a hand loop's `Run` at attempt 1 of the count its `progressed()` restarted after attempts); a hedged call's attempt 1 winning after another attempt's failure was logged (`outcome` is then `succeeded_first_try`); at `Policy::with_success_level`'s level instead, if set (DEBUG for a library's calls) | INFO | `{operation} succeeded on attempt {n}` | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `outcome` |
//! | attempts exhausted: the policy's attempts all made (at `Policy::with_give_up_level`'s level instead, if set: WARN for a poll whose caller handles a result not ready) | ERROR | `{operation} failed after {n} attempt{s}` | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `error`, `error_kind`, `reason`, `outcome` |
//! | deadline reached, or another stop (a breaker open when a retry is decided or due, a throttle, ...; not a request sent once, below; at the give-up level instead, if set) | ERROR | `{operation} failed after {n} attempt{s} ({reason})` | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `error`, `error_kind`, `reason`, `outcome` |
//! | a call's stop signal fired (`Retry::stop_on`, `#[retry(stop_on = ..)]`: a shutdown) before a retry it would have made; `reason` is `stopped: its stop signal fired` (at the give-up level instead when that is quieter) | WARN | `{operation} failed after {n} attempt{s} ({reason})` | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `error`, `error_kind`, `reason`, `outcome` |
//! | a non-retriable error (at `Policy::with_non_retriable_level`'s level instead, if set: DEBUG where such errors are expected) | WARN | `{operation} failed with a non-retriable error on attempt {n}` (plus ` ({why})` when the error says why it is permanent, below) | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `error`, `error_kind`, `reason` (if the error says why), `outcome` |
//! | a retry refused by a budget (at the policy's give-up level instead when that is quieter) | WARN | `retry budget exhausted: {operation} gives up after attempt {n}/{max}` | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `budget`, `error`, `error_kind`, `outcome` |
//! | an error left to an outer retried call that retries its kind (whether or not this run would) | DEBUG | `{operation} failed on attempt {n}; leaving the retry to the outer retried call` | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `error`, `error_kind`, `outcome` |
//! | a call a breaker rejected before its first attempt (whatever the policy's levels; the caller's error has `attempts == 0` and `StopReason::CircuitOpen`) | DEBUG | `{operation} not attempted: {rejection}` | `operation`, `call`, `attempt`, `circuit`, `outcome` |
//! | a call a throttle rejected (as above; `StopReason::Throttled`) | DEBUG | `{operation} not attempted: {rejection}` | `operation`, `call`, `attempt`, `throttle`, `probability`, `outcome` |
//! | a cooldown starts holding, or its time left at least doubles (a server's wait under `Policy::with_cooldown`, or `Cooldown::hold_for`: one line for a storm of 429s that ask the same wait, in this process or received from other replicas) | INFO | `cooldown {name}: calls through it hold for {wait}` | `cooldown`, `wait_ms` |
//! | a cooldown holds a little longer (less than doubles its time left: the storm's later 429s, each a moment after the first, or such holds received from other replicas) | DEBUG | `cooldown {name}: calls through it hold for {wait}` | `cooldown`, `wait_ms` |
//! | a call's first attempt waits through its policy's cooldown, in every form: one line per cause, `cause` being `hold` (the spread included) or `pace`, as `retry_cooldown_wait_seconds` records the parts (a call held 25 s, then paced 1 s, writes two; a call that does not wait, neither held nor paced, writes none; a retry's wait is in its own line, `wait_source="cooldown"`) | DEBUG | `{operation}: first attempt waits {wait} for cooldown {name} ({cause})` | `operation`, `cooldown`, `wait_ms`, `cause` |
//! | a call of the user's waits in `Cooldown::ready`, `ready_on` or `ready_sync` (a hand loop's first attempt), as above | DEBUG | `cooldown {name}: a call waits {wait} ({cause})` | `cooldown`, `wait_ms`, `cause` |
//! | a hedge starts beside others (an attempt started on the hedge delay, no failed attempt's retry) | DEBUG | `hedging {operation}: attempt {n} starts beside {k} in flight` | `operation`, `call`, `attempt`, `max_attempts`, `in_flight` |
//! | a hedged call's retry of a failed attempt starts while others are in flight (after that retry's WARN line) | DEBUG | `retrying {operation}: attempt {n} starts beside {k} in flight` | `operation`, `call`, `attempt`, `max_attempts`, `in_flight` |
//! | a hedge the budget, an open breaker or the throttle refused (no attempt starts; the call waits on for those in flight) | DEBUG | `hedging {operation}: attempt {n} not started ({reason})` | `operation`, `call`, `attempt`, `max_attempts`, `reason` |
//! | a hedged attempt failed with no retry of its own (attempts all started or granted, a refusal, the deadline, an error left to an outer retried call) while the run goes on, beside the success that wins or the non-retriable error that ends the call, or after an error left to an outer retried call that the call returns (at the policy's retry level instead, if set, or, for an error it does not retry, its non-retriable level) | WARN | `hedging {operation}: attempt {n}/{max} failed; not retried ({reason})` | `operation`, `call`, `attempt`, `max_attempts`, `error`, `error_kind`, `reason` |
//! | a middleware's request that cannot be sent again failed in a way the policy would retry, with attempts left (features `tower`, `reqwest-middleware`): the run gives up, `StopReason::SentOnce`, and this is its only line (no ERROR; at the policy's give-up level instead when that is quieter) | WARN | `{operation} not retried: the request was sent once because {why}` | `operation`, `call`, `attempt`, `max_attempts`, `elapsed_ms` (if timed), `error`, `error_kind`, `reason`, `outcome` |
//! | a circuit breaker opens on consecutive failures | WARN | ``circuit `{name}` opened after {n} consecutive failure{s}; rejecting calls for {recovery}`` | `circuit`, `state`, `failures`, `recovery_ms` |
//! | a circuit breaker opens on its failure rate | WARN | ``circuit `{name}` opened: {n} of the last {m} calls failed; rejecting calls for {recovery}`` | `circuit`, `state`, `failures`, `window`, `recovery_ms` |
//! | a probe call fails: the breaker re-opens | WARN | ``circuit `{name}` re-opened: a probe call failed; rejecting calls for {recovery}`` | `circuit`, `state`, `failures`, `recovery_ms` |
//! | a circuit breaker half-opens | INFO | ``circuit `{name}` is half-open: letting {n} probe call(s) through`` | `circuit`, `state`, `probes` |
//! | a half-open breaker's probes did not report within a recovery timeout | INFO | ``circuit `{name}` is still half-open: its probes did not report; letting {n} new probe call(s) through`` | `circuit`, `state`, `probes` |
//! | every probe succeeded: the breaker closes | INFO | ``circuit `{name}` closed: {n} probe call(s) succeeded`` | `circuit`, `state`, `probes` |
//! | an open or half-open circuit breaker is reset | INFO | ``circuit `{name}` closed by a reset (it was {state})`` | `circuit`, `state` |
//! | a circuit breaker is forced open (`force_open`) | WARN | ``circuit `{name}` forced open (it was {state}); rejecting calls until a reset`` | `circuit`, `state` |
//! | a throttle starts rejecting calls: its first rejection since it last rejected none (one line per episode, not one per rejection) | WARN | ``throttle `{name}` is rejecting calls locally: {p}% of calls (the dependency accepted {accepts} of the last {requests} requests)`` | `throttle`, `probability`, `requests`, `accepts` |
//! | a rejecting throttle stops: its first call that sees the probability back to 0 (the failures slid out of its window) a window or more after its WARN, or its `reset()` | INFO | ``throttle `{name}` stopped rejecting calls`` | `throttle` |
//! | a `Retry-After` (or the AWS SDK's `x-amz-retry-after`, feature `aws`) that is unreadable, negative or absurd | DEBUG | `ignoring Retry-After {value:?}: {why}` (`ignoring x-amz-retry-after ...`, `ignoring retry-after-ms ...`, `ignoring x-ms-retry-after-ms ...`, `ignoring x-ratelimit-reset ...`, `ignoring x-ratelimit-reset-requests ...` and `ignoring x-ratelimit-reset-tokens ...` for those headers) | `value`, `reason` |
//! | a gRPC pushback that asks not to retry (negative, unreadable, too large for an integer, several values; feature `tonic`) | DEBUG | `grpc-retry-pushback-ms {values:?} asks not to retry ({why})` | `values`, `reason` |
//!
//! `elapsed_ms` (if timed) is on a line only when the call reads the clock:
//! a policy with `max_elapsed`, `before_sleep` or `on_give_up`, a call with
//! a `.notify(..)` hook, `.detailed()`, and the others listed below. A plain
//! `#[retry]` or `policy.retry(op).call()` reads no clock, and its lines
//! have no `elapsed_ms`.
//!
//! `{s}` is the plural's `s`, left out for a count of one: `fetch failed after 1 attempt`,
//! ``circuit `api` opened after 1 consecutive failure``.
//!
//! A non-retriable error's line ends with ` ({why})` when the error says
//! why it is `Permanent` where its kind alone would not
//! ([`Classify::why_permanent`](crate::Classify::why_permanent), asked only
//! for a line that is written): a gRPC status whose server's pushback asks
//! not to retry (feature `tonic`), `clip failed with a non-retriable error
//! on attempt 1 (the server's grpc-retry-pushback-ms asks not to retry:
//! negative)`, its `error_kind` `Permanent` (the DEBUG line of the
//! pushback shows its values), and a derived error's variant marked
//! `#[classify(Permanent, why = "the clip does not exist")]`,
//! `fetch_clip failed with a non-retriable error on attempt 1 (the clip
//! does not exist)`; an `on_give_up` hook reads the same words with
//! [`GiveUpEvent::why_permanent`](crate::GiveUpEvent::why_permanent).
//! The line's `reason` field holds the same words, as they are, for a log
//! pipeline that filters on fields (`reason="the clip does not exist"`),
//! and is left out when the error gives none; the error is asked once for
//! both, and not at all for a line that is not written.
//!
//! The fields, by name: `operation` is the policy's
//! [name](crate::Policy::with_name); `call` a number that is the same on
//! every line of one call and differs between the calls of the process,
//! so that the lines of calls that run at once (100 downloads, each
//! retrying `download_clip`) can be told apart: one `#[retry]` function's
//! call, one `policy.retry(op)` (sync, async or hedged), one [`Run`](crate::Run),
//! one request through the tower layer or the reqwest middleware. It is
//! taken from a counter of the process at the call's first line that is
//! written (the first call to log is 1), not at its start: a call that logs
//! nothing (a success at once; lines nobody listens to) takes none and
//! touches no atomic. What the number costs is one store, the empty number
//! written with the run's state: a call that fails pays it once (its state
//! is made at its first failure), and so does one whose run has a state
//! from its start (a [`Run`](crate::Run), a hedged call; a policy with a
//! deadline, a callback, a breaker, budget or throttle, or a cooldown); a
//! `#[retry]` or `policy.retry(op)` call of any other policy that succeeds
//! at once costs nothing more. So the numbers follow the order in which
//! calls first log, not the order they started in, and start again at 1 in
//! each process. [`Policy::report`](crate::Policy::report)'s lines (and
//! `report_success`'s, `report_at`'s) have none: a job's runs log one line
//! each, maybe each in another process, and the job's own id, on a span
//! around the report, is what groups them. `attempt` the attempt the line is
//! about (the one that failed, succeeded, starts, or was not made; a
//! give-up line's is the one whose error it ends with, in a hedged call not
//! always the last started, where `failed after {n} attempts` counts those
//! started), from 1;
//! `max_attempts` the policy's limit; `error` the error's `Display` as
//! `{:#}` writes it (the same as `{}` for most types, an `anyhow::Error`'s
//! whole chain, a `Display` that hands its formatter to `Debug` the pretty
//! `Debug` on one line; a field, not part of the message, so a line shows it once) and
//! `error_kind` its kind (`unclassified` when the policy does not classify
//! errors); `wait_ms` the wait before the next attempt, in whole
//! milliseconds rounded down (the message's `{wait}` rounds it to the
//! nearest millisecond, `2.872s`; under a millisecond as it is, `400µs`;
//! a whole number of minutes or hours in that unit, `5m`, `10h`; a
//! breaker's `{recovery}` is shown the same way), and `wait_source`
//! what chose it ([`WaitSource`](crate::WaitSource): `backoff`, `retry_after`, or `cooldown`
//! for a wait a [cooldown](crate::cooldown) lengthened to its hold's end
//! or its pace's slot, `wait_ms` then being the longer wait); `elapsed_ms` the time since
//! the run started, waits included, in whole milliseconds rounded down, on
//! the retry line and on each line that ends a run after an attempt, for a
//! run that read the clock at its start (a policy with `max_elapsed`,
//! `before_sleep` or `on_give_up`, a call with a `.notify(..)` hook or an
//! attempt context, `.detailed()`, a hedged call, [`Run::timed`](crate::Run::timed);
//! [`Policy::report_at`](crate::Policy::report_at)'s lines, with the
//! `elapsed` it is given):
//! a plain run reads no clock, one read per call being more than the rest
//! of a call that succeeds at once costs, and its lines have no
//! `elapsed_ms` (nor has a call a breaker or a throttle turned away before
//! its first attempt: it ended where it started); `reason` why the run
//! stopped (a give-up; on a non-retriable error's line, the error's own
//! reason, when it gives one), why a hedged attempt's failure was not retried,
//! why the request was not sent again (sent once) or why a server's wait
//! was not believed. A breaker's lines carry its
//! `name` and its new `state` rather than an `operation` (a breaker is
//! shared by the operations it guards); a rejection names the breaker
//! (`circuit`) or the throttle (`throttle`, with its rejection
//! `probability`) that made it. A throttle's own lines carry its name as
//! `throttle`, and its WARN the `probability` it rejects calls with and the
//! window's `requests` and `accepts` (a rejected call counts as a request
//! not accepted).
//!
//! A name in a message (`{operation}`, a breaker's or a throttle's `{name}`, a breaker's or
//! a throttle's in a `{rejection}`) is written as the `error` field is, its
//! control and format characters escaped (`\n`, `\u{1b}`): a name made at
//! run time from a tenant's id cannot split the line. The fields hold a
//! name as it is (a `&str`, which the subscriber quotes: tracing-subscriber's
//! text format writes it with `Debug`).
//!
//! With [`Policy::with_attempt_spans`](crate::Policy::with_attempt_spans)
//! (or `#[retry(attempt_spans = true)]`), each attempt runs in an INFO span
//! `retry.attempt` with the fields `operation` and `attempt`, a child of the
//! caller's span, and the lines about that attempt are recorded in it
//! (a hedged run's attempts in flight side by side each in its own). A
//! span is an attempt's, not a call's: the spans of one call's attempts
//! are siblings under the caller's span, and say nothing of which call
//! they belong to unless that span does. Use the spans for what spans
//! give (each attempt's duration and error status in an exported trace,
//! through tracing-opentelemetry) and the caller's span for what the call
//! is about (`#[tracing::instrument(fields(clip = %id))]` on the function
//! that makes the call: its fields on every line); `call` groups a call's
//! lines where there is no such span, in a text log or through the
//! feature `log`, at no cost to a call that logs nothing. When
//! the attempt fails (a retry follows, the run gives up or leaves the
//! error to an outer retried call, a hedge fails with no retry of its
//! own), its span records, after that line, `error_kind` (as the line's),
//! `otel.status_code` `"ERROR"` and `otel.status_description` (the error,
//! as the line's `error`): tracing-opentelemetry makes the exported span's
//! status an error with that text. A successful attempt's span records
//! none of them, nor does one whose `Ok` `retry_if_ok` rejected; an
//! attempt dropped while it ran (a hedge another attempt beat, an async
//! call dropped mid-attempt by a timeout around it) records `cancelled`
//! `true` instead. Only the run that made the
//! span marks it: a run without spans of its own inside the attempt (a
//! retried call, the tower layer, the reqwest middleware,
//! `Policy::report`) does not, whatever its policy's `attempt_spans`.
//! (tracing-opentelemetry also makes a span holding an ERROR event an
//! error, with no description: a give-up's line, in the span the run
//! gives up in, does.)
//!
//! With no subscriber interested, nothing is formatted and nothing is
//! allocated. With the `metrics` feature, the breaker's lines also move
//! its [`metrics`].
//!
//! With the feature `log` (`tracing`'s own `log` feature), a program that
//! installs no `tracing` subscriber gets each line as a `log` record
//! (env_logger, simplelog): at its level, under [`TARGET`], the message
//! followed by the fields (`... next attempt in 1s operation="fetch"
//! attempt=1 ...`). Below the level `log` lets through, nothing is
//! formatted either.
//!
//! ```
//! // e.g. with tracing-subscriber's `EnvFilter`: RUST_LOG=info,retry_runtime=warn
//! assert_eq!(retry_runtime::log::TARGET, "retry_runtime");
//! ```

use core::fmt::Display;
use std::time::Duration;

use crate::budget::RetryBudget;
use crate::circuit::CircuitOpen;
use crate::classify::ErrorKind;
use crate::clock::Stamp;
use crate::hooks::{GiveUpEvent, RetryEvent};
use crate::metrics;
use crate::stop::StopReason;

mod call;
mod guards;
mod shown;

pub(crate) use self::call::CallId;
pub(crate) use self::guards::{
    Trip, circuit_closed, circuit_forced_open, circuit_half_open, circuit_open, circuit_reset,
    throttle_rejecting, throttle_stopped, throttled,
};
use self::shown::{Because, ChosenBy, OfMax, Why, WhyAsked};
pub(crate) use self::shown::{Count, Escaped, OneLine, ShownLimit, ShownWait, WholeSeconds};

/// The `tracing` target of every log line of the runtime: filter on
/// `retry_runtime`, e.g. `RUST_LOG=info,retry_runtime=warn` (the other
/// targets at INFO: the caller's spans, which the lines are logged in, stay
/// on). It stays the same whichever module emits a line.
///
/// ```
/// use tracing::Level;
/// use tracing_subscriber::{filter::Targets, prelude::*};
/// use retry_runtime::log::TARGET;
/// assert_eq!(TARGET, "retry_runtime");
/// // the runtime's WARN and ERROR lines, and nothing else
/// let filter = Targets::new().with_target(TARGET, Level::WARN);
/// assert!(filter.would_enable(TARGET, &Level::WARN));
/// assert!(!filter.would_enable(TARGET, &Level::INFO));
/// let _subscriber = tracing_subscriber::registry().with(tracing_subscriber::fmt::layer()).with(filter).set_default();
/// ```
pub const TARGET: &str = "retry_runtime";

/// The level a policy sets its lines at (`Policy::with_retry_level`,
/// `with_rejected_ok_level`, `with_give_up_level`,
/// `with_non_retriable_level`): `tracing`'s, here for a program that logs
/// through the feature `log` and does not name `tracing` itself.
///
/// ```
/// use retry_runtime::{log::Level, Policy};
/// let quiet = Policy::new().with_retry_level(Level::DEBUG);
/// assert_eq!(quiet.retry_level(), Level::DEBUG);
/// ```
pub use tracing::Level;

pub(crate) fn kind_name(kind: Option<ErrorKind>) -> &'static str {
    kind.map_or("unclassified", ErrorKind::name)
}

/// The call a line is about, for its `call` field: its run's [`CallId`],
/// numbered at the first line written; `None` for a line about no run's
/// call (`Policy::report`'s), which has no such field.
pub(crate) type Call<'a> = Option<&'a mut CallId>;

/// The time a run has taken so far, for the `elapsed_ms` field of its
/// retry line and of the line that ends it: measured already, or measured
/// from the run's start when a line is written (the field's expression is
/// evaluated only for a line a subscriber wants), or not known at all: a
/// plain run reads no clock at its start (one read per call would be most
/// of a success's cost), so its lines have no `elapsed_ms`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Elapsed {
    /// Measured for the event already (for the deadline, a callback, the
    /// run's error).
    Measured(Duration),
    /// The run's start on the [`SystemClock`](crate::clock::SystemClock).
    Since(Duration),
    /// The run read no clock at its start.
    Unknown,
}

impl Elapsed {
    /// From the run's start, if it read one.
    #[inline]
    pub(crate) fn since(start: Option<Duration>) -> Elapsed {
        start.map_or(Elapsed::Unknown, Elapsed::Since)
    }

    /// In whole milliseconds, rounded down as `wait_ms` is; `None` (no
    /// field) when not known.
    fn ms(self) -> Option<i64> {
        use crate::clock::{Clock, SystemClock};
        let elapsed = match self {
            Elapsed::Measured(elapsed) => elapsed,
            Elapsed::Since(start) => SystemClock.now().saturating_sub(start),
            Elapsed::Unknown => return None,
        };
        Some(int(elapsed.as_millis()))
    }
}

/// Could a WARN event reach anyone: a `tracing` subscriber that wants WARN,
/// or the `log` crate through `tracing`'s `log` feature? One relaxed atomic
/// load when nothing listens. When this is `false`, [`retry`] would
/// do nothing, so a run may skip building its event. The check is by level
/// only, so it holds for [`TARGET`] as for any target.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn warn_may_log() -> bool {
    may_log(tracing::Level::WARN)
}

/// [`warn_may_log`] for any level (a constant one folds to the same load).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn may_log(level: tracing::Level) -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    let to_tracing = level <= STATIC_MAX_LEVEL && level <= LevelFilter::current();
    to_tracing || to_log(level)
}

/// Could an event at `level` become a `log` record: tracing's `log`
/// feature on, no subscriber ever set, and `log`'s level letting it through
/// (with our feature `log`; tracing's checks are its static level and the
/// subscriber only, so without the feature, tracing's `log` turned on by
/// another crate, any level may).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn to_log(level: tracing::Level) -> bool {
    #[cfg(feature = "log")]
    {
        tracing::if_log_enabled!(level, { as_log(level) <= ::log::max_level() } else { false })
    }
    #[cfg(not(feature = "log"))]
    {
        // (without tracing's `log` feature the macro reads no level)
        let _ = level;
        tracing::if_log_enabled!(level, { true } else { false })
    }
}

/// `level` as `log`'s.
#[cfg(feature = "log")]
fn as_log(level: tracing::Level) -> ::log::Level {
    match level {
        tracing::Level::ERROR => ::log::Level::Error,
        tracing::Level::WARN => ::log::Level::Warn,
        tracing::Level::INFO => ::log::Level::Info,
        tracing::Level::DEBUG => ::log::Level::Debug,
        _ => ::log::Level::Trace,
    }
}

/// A count or a time in milliseconds as a field's value: an `i64`
/// (`i64::MAX` past it), which every layer records as a number, where
/// tracing-opentelemetry writes an unsigned one as text.
#[inline]
pub(crate) fn int<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// An event at a level chosen at run time: a level is part of a line's
/// static callsite, so there is one callsite per level, `$first` asked
/// first (the usual level of the line).
macro_rules! event_at {
    ($level:expr, $first:ident; $($event:tt)+) => {{
        let level: Level = $level;
        if level == Level::$first {
            tracing::event!(target: TARGET, Level::$first, $($event)+)
        } else if level == Level::ERROR {
            tracing::event!(target: TARGET, Level::ERROR, $($event)+)
        } else if level == Level::WARN {
            tracing::event!(target: TARGET, Level::WARN, $($event)+)
        } else if level == Level::INFO {
            tracing::event!(target: TARGET, Level::INFO, $($event)+)
        } else if level == Level::DEBUG {
            tracing::event!(target: TARGET, Level::DEBUG, $($event)+)
        } else {
            tracing::event!(target: TARGET, Level::TRACE, $($event)+)
        }
    }};
}

/// The line before a sleep, at `level` (the policy's, WARN by default).
pub(crate) fn retry(ev: &RetryEvent<'_>, elapsed: Elapsed, level: Level, mut call: Call<'_>) {
    event_at!(level, WARN;
        operation = ev.operation,
        call = call::field(&mut call),
        attempt = int(ev.attempt),
        max_attempts = int(ev.max_attempts),
        wait_ms = int(ev.wait.as_millis()),
        elapsed_ms = elapsed.ms(),
        error = %OneLine(ev.error),
        error_kind = kind_name(ev.kind),
        wait_source = ev.wait_source.as_str(),
        "retrying {} after attempt {} failed; next attempt in {}{}",
        Escaped(ev.operation),
        OfMax(ev.attempt, ev.max_attempts),
        ShownWait(ev.wait),
        ChosenBy(ev.wait, ev.wait_source, ev.asked),
    );
}

/// The levels of a give-up's line: a non-retriable error's, any other
/// stop's (the policy's, WARN and ERROR by default).
#[derive(Clone, Copy)]
pub(crate) struct GiveUpLevels {
    pub(crate) non_retriable: Level,
    pub(crate) give_up: Level,
}

/// The line of a run that gave up: for a non-retriable error at its
/// level, for any other stop at the give-up level (a shutdown's at WARN,
/// or that level if quieter).
pub(crate) fn give_up(
    ev: &GiveUpEvent<'_>,
    elapsed: Elapsed,
    levels: GiveUpLevels,
    call: Call<'_>,
) {
    give_up_on(ev, ev.attempts, elapsed, levels, call);
}

/// [`give_up`] of a run whose last error is attempt `attempt`'s (the one
/// the line is about: its field `attempt`, and its number in the message of
/// a non-retriable error), where the message's count is the attempts made.
/// Only a hedged run's differ: an attempt started earlier may fail last.
pub(crate) fn give_up_on(
    ev: &GiveUpEvent<'_>,
    attempt: u32,
    elapsed: Elapsed,
    levels: GiveUpLevels,
    mut call: Call<'_>,
) {
    if ev.reason == StopReason::Permanent {
        // the error's reason, if it gives one: the `reason` field (none
        // for `None`) and the message's ` ({why})`, asked once between them
        // and only for a line that is written
        let why = WhyAsked::new(ev.why_permanent);
        event_at!(levels.non_retriable, WARN;
            operation = ev.operation,
            call = call::field(&mut call),
            attempt = int(attempt),
            max_attempts = int(ev.max_attempts),
            elapsed_ms = elapsed.ms(),
            error = %OneLine(ev.error),
            error_kind = kind_name(ev.kind),
            reason = why.get(),
            outcome = metrics::Outcome::from(ev.reason).label(),
            "{} failed with a non-retriable error on attempt {}{}",
            Escaped(ev.operation),
            attempt,
            Because(&why),
        );
    } else {
        let level = match ev.reason {
            // a shutdown is no failure of the dependency: WARN, not ERROR
            // (a quieter level kept: in tracing's order, more verbose is greater)
            StopReason::Stopped => levels.give_up.max(Level::WARN),
            _ => levels.give_up,
        };
        event_at!(level, ERROR;
            operation = ev.operation,
            call = call::field(&mut call),
            attempt = int(attempt),
            max_attempts = int(ev.max_attempts),
            elapsed_ms = elapsed.ms(),
            error = %OneLine(ev.error),
            error_kind = kind_name(ev.kind),
            reason = %ev.reason,
            outcome = metrics::Outcome::from(ev.reason).label(),
            "{} failed after {}{}",
            Escaped(ev.operation),
            Count(ev.attempts, "attempt"),
            Why(ev.reason),
        );
    }
}

/// The INFO line of a success after a retry (at the policy's success
/// level). The level check is inline, so a run that ends in a success pays
/// one atomic load when nobody listens.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
/// `start` is the run's start, if it read one, by reference: its address
/// is made in the branch that writes the line, where a `Stamp` by value
/// was loaded before the level check, an instruction on every success
/// after retries (bench/callgrind.sh, the sync rows); `call` its number
/// for the line, taken if the line is written and the call has none yet.
pub(crate) fn success(
    operation: &'static str,
    attempt: u32,
    max_attempts: u32,
    start: &Stamp,
    level: Level,
    call: &mut CallId,
) {
    if may_log(level) {
        success_line(
            operation,
            attempt,
            max_attempts,
            start,
            metrics::Outcome::SucceededAfterRetries,
            level,
            call,
        );
    }
}

/// The INFO line of a hedged call whose first attempt won after another
/// attempt failed (and was logged): the same message as [`success`], so
/// the call's last line says it ended, with the outcome it is counted
/// under, `succeeded_first_try`.
pub(crate) fn hedged_first_success(
    operation: &'static str,
    max_attempts: u32,
    start: &Stamp,
    level: Level,
    call: &mut CallId,
) {
    if may_log(level) {
        success_line(
            operation,
            1,
            max_attempts,
            start,
            metrics::Outcome::SucceededFirstTry,
            level,
            call,
        );
    }
}

#[cold]
#[inline(never)]
fn success_line(
    operation: &'static str,
    attempt: u32,
    max_attempts: u32,
    start: &Stamp,
    outcome: metrics::Outcome,
    level: Level,
    call: &mut CallId,
) {
    success_line_at(
        operation,
        attempt,
        max_attempts,
        Elapsed::since(start.get()),
        outcome,
        level,
        Some(call),
    );
}

/// [`success_line`] with the time known (a run's start as a [`Stamp`] keeps
/// the hot callers' signature); also the line of a job's success reported
/// by [`Policy::report_success`](crate::Policy::report_success), with the
/// time reported or none, and no `call` (a cold path: the macro's own
/// level check is enough there).
#[cold]
pub(crate) fn success_line_at(
    operation: &'static str,
    attempt: u32,
    max_attempts: u32,
    elapsed: Elapsed,
    outcome: metrics::Outcome,
    level: Level,
    mut call: Call<'_>,
) {
    event_at!(level, INFO;
        operation,
        call = call::field(&mut call),
        attempt = int(attempt),
        max_attempts = int(max_attempts),
        elapsed_ms = elapsed.ms(),
        outcome = outcome.label(),
        "{} succeeded on attempt {}",
        Escaped(operation),
        attempt
    );
}

/// The DEBUG line of a hedged run that starts attempt `attempt` beside
/// `in_flight` others still running: a hedge, or (`retry`) a failed
/// attempt's retry, whose WARN line came first.
pub(crate) fn starts_beside(
    operation: &'static str,
    attempt: u32,
    max_attempts: u32,
    in_flight: usize,
    retry: bool,
    call: &mut CallId,
) {
    tracing::debug!(
        target: TARGET,
        operation,
        call = int(call.number()),
        attempt = int(attempt),
        max_attempts = int(max_attempts),
        in_flight = int(in_flight),
        "{} {}: attempt {} starts beside {} in flight",
        if retry { "retrying" } else { "hedging" },
        Escaped(operation),
        attempt,
        in_flight,
    );
}

/// The DEBUG line of a hedge the guards refused (`reason`: the budget, an
/// open breaker, the throttle): no attempt starts, and the call waits on
/// for those in flight.
#[cold]
pub(crate) fn hedge_not_started(
    operation: &'static str,
    attempt: u32,
    max_attempts: u32,
    reason: StopReason,
    call: &mut CallId,
) {
    tracing::debug!(
        target: TARGET,
        operation,
        call = int(call.number()),
        attempt = int(attempt),
        max_attempts = int(max_attempts),
        reason = %reason,
        "hedging {}: attempt {} not started ({})",
        Escaped(operation),
        attempt,
        reason,
    );
}

/// The WARN line of a hedged run's failed attempt that has no retry of its
/// own (`reason`: why) while the run goes on (others are in flight, or a
/// retry granted to an earlier failure is still to start), or that was
/// ready beside the success that won, or that came after a failure left to
/// the outer run which the call ends with. The failure a run gives up
/// with has the give-up line instead. At `level`, the policy's
/// (`Policy::not_retried_level`): its retry level, or its
/// non-retriable level for an error it does not retry.
#[allow(clippy::too_many_arguments)] // (the line's fields, as its callers hold them)
pub(crate) fn not_retried(
    operation: &'static str,
    attempt: u32,
    max_attempts: u32,
    error: &dyn Display,
    kind: Option<ErrorKind>,
    reason: impl Display,
    level: Level,
    call: &mut CallId,
) {
    event_at!(level, WARN;
        operation,
        call = int(call.number()),
        attempt = int(attempt),
        max_attempts = int(max_attempts),
        error = %OneLine(error),
        error_kind = kind_name(kind),
        reason = %reason,
        "hedging {}: attempt {} failed; not retried ({})",
        Escaped(operation),
        OfMax(attempt, max_attempts),
        reason,
    );
}

/// The WARN line of a run that gave up because the budget refused a retry
/// (at the policy's give-up level instead when that is quieter); it
/// replaces the give-up line. As in the other lines, the error is a
/// field, not part of the message.
pub(crate) fn budget_exhausted(
    ev: &GiveUpEvent<'_>,
    budget: &RetryBudget,
    elapsed: Elapsed,
    levels: GiveUpLevels,
    call: Call<'_>,
) {
    budget_exhausted_on(ev, ev.attempts, budget, elapsed, levels, call);
}

/// [`budget_exhausted`] after attempt `attempt`'s error (see [`give_up_on`]).
pub(crate) fn budget_exhausted_on(
    ev: &GiveUpEvent<'_>,
    attempt: u32,
    budget: &RetryBudget,
    elapsed: Elapsed,
    levels: GiveUpLevels,
    mut call: Call<'_>,
) {
    // (a quieter level kept: in tracing's order, more verbose is greater)
    event_at!(levels.give_up.max(Level::WARN), WARN;
        operation = ev.operation,
        call = call::field(&mut call),
        attempt = int(attempt),
        max_attempts = int(ev.max_attempts),
        elapsed_ms = elapsed.ms(),
        budget = budget.name(),
        error = %OneLine(ev.error),
        error_kind = kind_name(ev.kind),
        outcome = metrics::Outcome::from(ev.reason).label(),
        "retry budget exhausted: {} gives up after attempt {}",
        Escaped(ev.operation),
        OfMax(attempt, ev.max_attempts),
    );
}

/// The DEBUG line of a call the breaker rejected before its first attempt
/// (`attempt`, 1, is the one not made; a retry it turns away ends the run
/// with the ERROR line of [`give_up`]); `outcome` the call's, as its
/// metric counts it. Inline, so that the level check stays in the caller.
#[inline]
pub(crate) fn not_attempted(
    operation: &'static str,
    attempt: u32,
    open: &CircuitOpen,
    outcome: metrics::Outcome,
    call: &mut CallId,
) {
    tracing::debug!(
        target: TARGET,
        operation,
        call = int(call.number()),
        attempt = int(attempt),
        circuit = open.circuit,
        outcome = outcome.label(),
        "{} not attempted: {}",
        Escaped(operation),
        open,
    );
}

/// The line of a cooldown that starts holding, or holds longer: every
/// call through it waits `wait` from now. INFO when it is `news` (the
/// hold starts, or its time left at least doubles), else DEBUG (one storm
/// of 429s asking one wait is one INFO line, not one a 429).
#[cold]
pub(crate) fn cooldown_held(name: &'static str, wait: Duration, news: bool) {
    macro_rules! held {
        ($level:ident) => {
            tracing::$level!(
                target: TARGET,
                cooldown = name,
                wait_ms = int(wait.as_millis()),
                "cooldown {}: calls through it hold for {}",
                Escaped(name),
                ShownWait(wait),
            )
        };
    }
    if news {
        held!(info);
    } else {
        held!(debug);
    }
}

/// The DEBUG line of a call's wait through cooldown `name` before its
/// first attempt, the part of it `cause` made (one line per cause, as
/// `retry_cooldown_wait_seconds` records the parts): a run of
/// `operation`'s, or (`None`) a call of the user's through `ready` (a
/// hand loop's). Only a call that waits writes it.
#[cold]
#[inline(never)]
pub(crate) fn cooldown_waits(
    operation: Option<&'static str>,
    name: &'static str,
    cause: metrics::CooldownCause,
    wait: Duration,
) {
    let cause = cause.label();
    match operation {
        Some(operation) => tracing::debug!(
            target: TARGET,
            operation,
            cooldown = name,
            wait_ms = int(wait.as_millis()),
            cause,
            "{}: first attempt waits {} for cooldown {} ({})",
            Escaped(operation),
            ShownWait(wait),
            Escaped(name),
            cause,
        ),
        None => tracing::debug!(
            target: TARGET,
            cooldown = name,
            wait_ms = int(wait.as_millis()),
            cause,
            "cooldown {}: a call waits {} ({})",
            Escaped(name),
            ShownWait(wait),
            cause,
        ),
    }
}

/// The DEBUG line of a run that returns a retriable error after one
/// attempt, because a retried call around it retries such errors.
pub(crate) fn deferred(ev: &GiveUpEvent<'_>, elapsed: Elapsed, call: Call<'_>) {
    deferred_on(ev, ev.attempts, elapsed, call);
}

/// [`deferred`] with attempt `attempt`'s error (see [`give_up_on`]): a
/// hedged run defers when its attempts in flight have all failed, with the
/// last error left to the outer run, not always the last started nor the
/// last to fail.
pub(crate) fn deferred_on(
    ev: &GiveUpEvent<'_>,
    attempt: u32,
    elapsed: Elapsed,
    mut call: Call<'_>,
) {
    tracing::debug!(
        target: TARGET,
        operation = ev.operation,
        call = call::field(&mut call),
        attempt = int(attempt),
        max_attempts = int(ev.max_attempts),
        elapsed_ms = elapsed.ms(),
        error = %OneLine(ev.error),
        error_kind = kind_name(ev.kind),
        outcome = metrics::Outcome::from(ev.reason).label(),
        "{} failed on attempt {}; leaving the retry to the outer retried call",
        Escaped(ev.operation),
        attempt,
    );
}

/// The WARN line of a middleware's run that gave up as
/// [`StopReason::SentOnce`]: attempt `attempt` failed with an error the
/// policy would retry, but its request cannot be sent again (`why`). The
/// run's only give-up line (`announce_give_up` logs none for this reason):
/// no ERROR, since the policy's attempts did not run out; at the policy's
/// give-up level instead when that is quieter, as a budget's refusal.
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)] // (the line's fields, as its callers hold them)
pub(crate) fn sent_once(
    operation: &'static str,
    attempt: u32,
    max_attempts: u32,
    error: &dyn Display,
    kind: ErrorKind,
    why: &'static str,
    elapsed: Elapsed,
    levels: GiveUpLevels,
    mut call: Call<'_>,
) {
    // (a quieter level kept: in tracing's order, more verbose is greater)
    event_at!(levels.give_up.max(Level::WARN), WARN;
        operation,
        call = call::field(&mut call),
        attempt = int(attempt),
        max_attempts = int(max_attempts),
        elapsed_ms = elapsed.ms(),
        error = %OneLine(error),
        error_kind = kind_name(Some(kind)),
        reason = why,
        outcome = metrics::Outcome::SentOnce.label(),
        "{} not retried: the request was sent once because {}",
        Escaped(operation),
        why,
    );
}

/// The DEBUG line of a server's requested wait that is not believed (a
/// `Retry-After`, or the AWS SDK's `x-amz-retry-after`: `header`): the
/// policy's backoff applies instead.
#[cfg(any(feature = "http", feature = "aws"))]
pub(crate) fn retry_after_ignored(
    header: &'static str,
    value: &dyn core::fmt::Debug,
    why: &'static str,
) {
    tracing::debug!(
        target: TARGET,
        value = ?value,
        reason = why,
        "ignoring {} {:?}: {}",
        header,
        value,
        why,
    );
}

/// The DEBUG line of a gRPC pushback that asks the client not to retry
/// (negative, unreadable, too large, or several values: `why`).
#[cfg(feature = "tonic")]
pub(crate) fn pushback_stops(values: &dyn core::fmt::Debug, why: &'static str) {
    tracing::debug!(
        target: TARGET,
        values = ?values,
        reason = why,
        "grpc-retry-pushback-ms {:?} asks not to retry ({})",
        values,
        why,
    );
}

/// The lines `f` logs on this thread, at DEBUG and above, as text (a
/// unit test's view of a line's words: the hint readers' DEBUG lines, the
/// shared holds' WARN lines).
#[cfg(all(test, any(feature = "http", feature = "aws", feature = "shared-holds")))]
pub(crate) fn captured(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    // tracing asks the calling thread's own subscriber for a line's
    // interest while one dispatcher only is alive: another test's thread,
    // with none, that reaches a line first while this capture's is the only
    // one then caches "never" for the process (CI saw it: aws's
    // a_number_too_large_to_hold_is_logged_as_absurd got no line). A second
    // dispatcher kept alive, never anyone's default, has every line asked of
    // every live dispatcher instead.
    static ALSO_ALIVE: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    ALSO_ALIVE.get_or_init(|| {
        tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(std::io::sink)
                .finish(),
        )
    });
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // (what was cached before this capture's subscriber was in scope,
        // asked again)
        tracing::callsite::rebuild_interest_cache();
        f()
    });
    let bytes = lines.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[cfg(all(test, feature = "log"))]
mod to_the_log_crate {
    use tracing::Level;

    /// Below `log`'s level no line is made (a retry keeps its quick path),
    /// and at it, one may be (when no tracing subscriber was ever set).
    #[test]
    fn only_the_levels_log_lets_through_may_log() {
        ::log::set_max_level(::log::LevelFilter::Off);
        assert!(!super::to_log(Level::ERROR));
        ::log::set_max_level(::log::LevelFilter::Warn);
        assert!(!super::to_log(Level::INFO));
        if !tracing::dispatcher::has_been_set() {
            assert!(super::to_log(Level::WARN));
        }
        ::log::set_max_level(::log::LevelFilter::Off);
    }
}

#[cfg(test)]
mod tests {
    use super::shown::Percent;
    use super::*;
    use core::fmt;

    #[test]
    fn percentages_never_round_to_none_or_all() {
        let shown = |p: f64| Percent(p).to_string();
        assert_eq!(shown(1.0 / 9.0), "11.1%");
        assert_eq!(shown(0.6), "60.0%");
        assert_eq!(shown(1.0), "100.0%");
        assert_eq!(shown(0.0), "0.0%");
        assert_eq!(shown(0.0004), "<0.1%");
        assert_eq!(shown(0.0006), "0.1%");
        // 0.05% exactly is shown as it rounds, not as below 0.1%
        assert_eq!(shown(0.0005), "0.1%");
        assert_eq!(shown(0.9996), ">99.9%");
        assert_eq!(shown(0.9994), "99.9%");
    }

    /// A wait to the millisecond; a whole number of minutes or hours in
    /// that unit, as a schedule is written (`next attempt in 10h`).
    #[test]
    fn waits_are_shown_in_the_unit_that_holds_them_whole() {
        let shown = |d: Duration| ShownWait(d).to_string();
        let s = Duration::from_secs;
        assert_eq!(shown(s(36_000)), "10h");
        assert_eq!(shown(s(1800)), "30m");
        assert_eq!(shown(s(60)), "1m");
        assert_eq!(shown(s(90)), "90s");
        assert_eq!(shown(s(3660)), "61m");
        assert_eq!(shown(s(5)), "5s");
        assert_eq!(shown(Duration::from_millis(60_500)), "60.5s");
        assert_eq!(shown(Duration::from_nanos(2_871_323_474)), "2.871s");
        // rounded to the millisecond first: 59.9996s is a minute
        assert_eq!(shown(Duration::from_nanos(59_999_600_000)), "1m");
        assert_eq!(shown(Duration::from_micros(400)), "400µs");
        assert_eq!(shown(Duration::MAX), "18446744073709551615s");
        assert_eq!(WholeSeconds(u64::MAX).to_string(), "18446744073709551615s");
        assert_eq!(WholeSeconds(0).to_string(), "0s");
        // a limit in minutes or hours, or as configured
        let limit = |d: Duration| ShownLimit(d).to_string();
        assert_eq!(limit(s(600)), "10m");
        assert_eq!(limit(s(90)), "90s");
        assert_eq!(limit(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(limit(Duration::ZERO), "0ns");
        // a limit computed from the time left: to the millisecond from a
        // second up, to the microsecond below (a partner's walk-through
        // read "attempt timed out after 2.199042249s")
        assert_eq!(limit(Duration::from_nanos(2_199_042_249)), "2.199s");
        assert_eq!(limit(Duration::from_nanos(599_999_700_000)), "10m");
        assert_eq!(limit(Duration::from_nanos(250_000_400)), "250ms");
        assert_eq!(limit(Duration::from_nanos(999_999_900)), "1s");
        assert_eq!(limit(Duration::from_nanos(1_500_400)), "1.5ms");
        assert_eq!(limit(Duration::from_nanos(700)), "700ns");
    }

    /// Unicode's format characters (general category Cf, Unicode 16.0):
    /// each is escaped. The soft hyphen, the Arabic letter mark (a bidi
    /// mark), the word joiner and invisible operators, the deprecated
    /// format controls, the Mongolian vowel separator, the interlinear
    /// annotation marks and the tag characters ("ASCII smuggling": an
    /// invisible copy of ASCII text) passed through as they were.
    #[test]
    fn every_format_character_is_escaped() {
        let cf = [
            (0xad, 0xad),
            (0x600, 0x605),
            (0x61c, 0x61c),
            (0x6dd, 0x6dd),
            (0x70f, 0x70f),
            (0x890, 0x891),
            (0x8e2, 0x8e2),
            (0x180e, 0x180e),
            (0x200b, 0x200f),
            (0x202a, 0x202e),
            (0x2060, 0x2064),
            (0x2066, 0x206f),
            (0xfeff, 0xfeff),
            (0xfff9, 0xfffb),
            (0x110bd, 0x110bd),
            (0x110cd, 0x110cd),
            (0x13430, 0x1343f),
            (0x1bca0, 0x1bca3),
            (0x1d173, 0x1d17a),
            (0xe0001, 0xe0001),
            (0xe0020, 0xe007f),
        ];
        for (first, last) in cf {
            for c in (first..=last).filter_map(char::from_u32) {
                let text = format!("a{c}b");
                let shown = Escaped(&text).to_string();
                assert_eq!(
                    shown,
                    format!("a\\u{{{:x}}}b", u32::from(c)),
                    "U+{:04X}",
                    u32::from(c)
                );
            }
        }
        // "hi" followed by tag characters that spell "ignore": visible as escapes
        let smuggled: String = "hi"
            .chars()
            .chain(
                "ignore"
                    .chars()
                    .map(|c| char::from_u32(0xe0000 + u32::from(c)).unwrap()),
            )
            .collect();
        assert_eq!(
            Escaped(&smuggled).to_string(),
            r"hi\u{e0069}\u{e0067}\u{e006e}\u{e006f}\u{e0072}\u{e0065}"
        );
        // their neighbours, and text that only looks unusual, as they are
        for text in [
            "\u{ac}\u{ae}",
            "\u{606}",
            "\u{2070}",
            "\u{fffc}",
            "é 中文 ❤\u{fe0f} \\ \"",
        ] {
            assert_eq!(Escaped(text).to_string(), text);
        }
    }

    /// The `error` field is the message's alternate form, escaped: what a
    /// type writes under `{:#}` (anyhow's chain), on one line.
    #[test]
    fn the_error_field_is_the_alternate_form_on_one_line() {
        struct Chain;
        impl fmt::Display for Chain {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match f.alternate() {
                    true => f.write_str("loading the profile: connection refused\n(os error 111)"),
                    false => f.write_str("loading the profile"),
                }
            }
        }
        assert_eq!(
            OneLine(&Chain).to_string(),
            "loading the profile: connection refused\\n(os error 111)"
        );
        // `{:#}` is `{}` for text and most errors
        assert_eq!(OneLine("a\tb").to_string(), "a\\tb");
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(OneLine(&refused).to_string(), refused.to_string());
    }
}
