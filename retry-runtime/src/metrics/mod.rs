//! Metrics on the [`metrics`](https://docs.rs/metrics) facade (feature
//! `metrics`), so any exporter (Prometheus, StatsD, OpenTelemetry...)
//! shows them: install its recorder, call
#![cfg_attr(feature = "metrics", doc = "[`enable`]")]
#![cfg_attr(not(feature = "metrics"), doc = "`enable`")]
//! once, and every run of
//! every policy, sync or async, through [`Policy::retry`](crate::Policy::retry),
//! [`Run`](crate::Run) or `#[retry]`, records the metrics below, once per call.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `retry_calls_total` | counter | `operation`, `outcome` | calls that ended, by outcome (below); every outcome's series (and `retry_retries_total`) is registered at 0 when the operation's first call in the process ends (a call dropped before it ends, cancelled, records nothing; or its first decision or success given to [`Policy::report`](crate::Policy::report) or [`Policy::report_success`](crate::Policy::report_success)), so `rate()` sees the first give-up |
//! | `retry_attempts` | histogram | `operation` | attempts made per call (0 when a breaker or a throttle rejected the first: the calls of the outcomes `not_attempted_circuit_open` and `not_attempted_throttled`; a tower layer's call whose service failed its readiness check before the first, `permanent_error` (`deferred` inside a retried call that retries its error); and those of a hand loop whose `Run::progressed` restarted the count before a guard turned its next attempt away; a hedged call's hedges included) |
//! | `retry_retries_total` | counter | `operation` | retries made (attempts after the first, hedges included), counted when the call ends (a hand loop's [`Run::progressed`](crate::Run::progressed) counts those before it then) |
//! | `retry_hedges_total` | counter | `operation` | of those, the attempts a [hedged](crate::hedge) call started on its hedge delay beside others still in flight (a failed attempt's retry is not one, even beside others), counted when the call ends; registered at the operation's first hedged call |
//! | `retry_wait_seconds` | histogram | `operation` | each wait before a retry, in seconds, recorded as it starts (its sum: the time the calls set out to wait; a wait a [cooldown](crate::cooldown) lengthened, whole; a wait after which the run made no retry, a breaker having opened meanwhile, too); a first attempt's wait for a cooldown is in `retry_cooldown_wait_seconds` only |
//! | `retry_retried_failures_total` | counter | `operation`, `error_kind` | failed attempts the runs retried, by the error's kind (as the log lines' `error_kind`: `Timeout`, `Connect`, `RateLimited`, `Unavailable`, `Interrupted`, `Permanent`, `Unknown`, or `unclassified` for an `Ok` that `retry_if_ok` rejected or a condition that names no kind), counted as each retry's wait starts: which errors the retries go to (a rate of `Permanent` or `Unknown` ones is retries a narrower condition would save) |
//! | `retry_cooldown_wait_seconds` | histogram | `cooldown`, `cause` | each wait a [cooldown](crate::cooldown) imposes, in seconds, recorded as it starts: a first attempt's whole wait for it, the part of a retry's wait beyond the policy's own (its backoff, or the server's `Retry-After`), a hedged run's hedge held by a hold begun after it was armed (the hold's time left) or waiting for its pace's slot, and `Cooldown::ready`'s waits; `cause` is `hold` (a server's wait holding every call) or `pace` (the pace's next free slot); a wait that is both is recorded as two parts, the hold's (up to its end) and the pace's (after it); a first attempt's wait cut short by the call's stop signal (or its drop) counts whole, as every wait here: the sum is the time the calls set out to wait, and a hold shows as it starts (recorded at its end, an hour's hold would show an hour late, and a wait a drop cut not at all) |
//! | `retry_cooldown_holds_total` | counter | `cooldown` | times a cooldown started holding, or held longer (a server's wait; `hold_for`); registered at 0 at the cooldown's first record |
//! | `retry_circuit_state` | gauge | `circuit`, `state` | 1 for the breaker's current state (`closed`, `half_open`, `open`), 0 for the others; set at each transition, from the state the breaker is in then (so moves on several threads at once leave it on the last) |
//! | `retry_circuit_transitions_total` | counter | `circuit`, `from`, `to` | state changes of a breaker; its five moves (closed to open, open to half-open, half-open to closed and to open, open to closed by a reset) are registered at 0 at its first transition, which is its opening: that first opening's own series starts at 1 |
//! | `retry_budget_tokens` | gauge | `budget` | tokens in a retry budget's bucket, set when it changes |
//! | `retry_budget_capacity` | gauge | `budget` | the most tokens a retry budget holds (its `with_max_tokens`), set at its first record: its floor for alerts, `retry_budget_tokens <= retry_budget_capacity / 2` |
//! | `retry_budget_refusals_total` | counter | `budget` | retries a budget refused; registered at 0 at the budget's first record (its first retry, granted: a budget starts full) |
//! | `retry_throttle_probability` | gauge | `throttle` | an adaptive throttle's rejection probability, 0 to 1: set at each call that computes it above 0, and to 0 once when it is back to 0 (or at a `reset()`); registered at 0 at the throttle's first call |
//! | `retry_throttle_rejections_total` | counter | `throttle` | calls a throttle rejected locally, without sending them, first attempts, retries and a [hedged](crate::hedge) call's hedges alike (by operation, `retry_calls_total` counts the calls that ended so: `not_attempted_throttled` a call rejected before its first attempt, `throttled` one whose retry was rejected; a hedge refused does not end its call, which waits on for its attempts in flight); registered at 0 at the throttle's first call |
//! | `retry_shared_holds_total` | counter | `channel`, `event` | what became of the holds a [`SharedHolds`](crate::shared_holds) shares on its channel (feature `shared-holds`), by `event`, the field of its `Counts`: `handed_on`, `dropped`, `published`, `coalesced`, `expired`, `failed` (this replica's runs' holds), `received`, `own`, `refused`, `unknown`, `caught_up` (the notifications and the table's rows it read); every event's series registered at 0 as its `start` begins, before anything can fail |
//! | `retry_shared_holds_reconnects_total` | counter | `channel` | times a [`SharedHolds`](crate::shared_holds)' listener lost its connection, saw it fail or got no answer to a check, and reconnected (feature `shared-holds`) |
//! | `retry_shared_holds_listening` | gauge | `channel` | 1 while a [`SharedHolds`](crate::shared_holds)' listener is connected and listening, 0 while it reconnects and once it stopped for good (its pool closed, its tokio runtime shut down; feature `shared-holds`); registered at 0 as its `start` begins (a start that failed leaves it at 0), set at each change |
//!
//! `operation` is the policy's [name](crate::Policy::with_name) (a
//! `#[retry]` function's name unless its policy has one), the same as in the
//! log lines; `circuit`, `budget` and `throttle` are the names the breaker,
//! the budget and the throttle were made with. Breakers, budgets, or
//! throttles, with the same name share
//! their series (two breakers named `payments` add up their transitions,
//! and the state gauge shows whichever moved last): give each breaker, each
//! budget and each throttle a process-unique name. `outcome` is one of [`Outcome`]'s labels:
//! `succeeded_first_try`, `succeeded_after_retries`, `attempts_exhausted`,
//! `permanent_error`, `deadline_reached`, `budget_refused`, `circuit_open`
//! (the breaker was open when a retry was decided or due: the call made
//! attempts first), `throttled` (a [`Throttle`](crate::Throttle) rejected
//! a retry), `deferred` (an error left to a retried call around this one),
//! `sent_once` (a request the tower layer or the reqwest middleware could
//! not send again failed in a way the policy would have retried),
//! `stopped` (the call's stop signal fired before a retry:
//! [`Retry::stop_on`](crate::Retry::stop_on) or the attribute's key, a
//! shutdown), `not_attempted_circuit_open` and `not_attempted_throttled`
//! (the breaker, or the throttle, turned the call away before its first
//! attempt: nothing was sent, 0 attempts; a cooldown or a pace makes a
//! call wait, and never turns one away). The rate of calls not attempted
//! is `sum by (operation) (rate(retry_calls_total{outcome=~"not_attempted_.*"}[5m]))`,
//! and of every call a breaker ended, attempted or not,
//! `outcome=~".*circuit_open"`.
//! A call whose future is dropped before it ends records no outcome,
//! attempts or retries; a wait is recorded as it starts, so one the drop cut
//! short counts whole. (An exporter may render the histograms as summaries:
//! Prometheus's does unless given buckets, see docs/metrics.md.)
//!
//! A [hedged](crate::hedge) call's success is labelled by the attempt that
//! won: `succeeded_first_try` when attempt 1 answered first, even with
//! hedges in flight beside it, `succeeded_after_retries` when a later
//! attempt did. Its attempts and retries count every attempt it started,
//! hedges included (each was sent, and spent the retry budget as a retry):
//! a first attempt that won beside one hedge records 2 attempts, 1 retry,
//! and 1 in `retry_hedges_total`, which counts the attempts started on the
//! hedge delay apart from the retries of failed attempts.
//!
//! Until `enable` is called, a call records, formats and allocates
//! nothing (it reads one flag). After it, with or without a recorder,
//! nothing is formatted or allocated either: each operation's keys are built once, at its first call, in a
//! static table (no allocation; names are `&'static str`, so their number is
//! bounded by the program, unless it leaks names made at run time, a breaker
//! per endpoint say; past 128 operation names, or 32 breaker, budget or
//! throttle names, the keys of the others are built, and allocated, at each use).
//!
//! # Queries (PromQL)
//! - Retry rate per operation (retries per second):
//!   `sum by (operation) (rate(retry_retries_total[5m]))`
//! - Share of calls that succeeded only after a retry:
//!   `sum by (operation) (rate(retry_calls_total{outcome="succeeded_after_retries"}[5m])) / sum by (operation) (rate(retry_calls_total[5m]))`
//! - Share of calls that failed (every outcome but the two successes):
//!   `sum by (operation) (rate(retry_calls_total{outcome!~"succeeded_.*"}[5m])) / sum by (operation) (rate(retry_calls_total[5m]))`
//! - The same, not counting the errors no retry could fix (`permanent_error`):
//!   `sum by (operation) (rate(retry_calls_total{outcome!~"succeeded_.*|permanent_error"}[5m])) / sum by (operation) (rate(retry_calls_total[5m]))`
//! - Attempts per call (the retries' amplification of the load):
//!   `sum by (operation) (rate(retry_attempts_sum[5m])) / sum by (operation) (rate(retry_attempts_count[5m]))`
//! - Calls that exhausted their attempts, per minute:
//!   `sum by (operation) (rate(retry_calls_total{outcome="attempts_exhausted"}[5m])) * 60`
//! - Time a breaker was open in the last hour, in seconds (the gauge read
//!   every 15 s; not `avg_over_time(..[1h]) * 3600`, which in the series'
//!   first hour is the share of the time since the breaker's first opening,
//!   where the series starts, not of the hour: 3600 while that opening
//!   lasts): `sum_over_time(retry_circuit_state{state="open"}[1h:15s]) * 15`
//! - Budgets refusing retries: `rate(retry_budget_refusals_total[5m]) > 0`
//! - Throttles rejecting calls now: `retry_throttle_probability > 0`
//! - Attempts a throttle did not send (first attempts, retries and
//!   hedges), per second: `rate(retry_throttle_rejections_total[5m])`; the
//!   calls that ended so:
//!   `rate(retry_calls_total{outcome=~"throttled|not_attempted_throttled"}[5m])`
//!
//! The guide's "Operating it: dashboards and alerts" (docs/operating.md) has a dashboard, alert
//! rules, what a dependency down for two minutes looks like in the metrics
//! and the log, and how to tune a budget from them.
//!
//! # Example
//! ```
//! # #[cfg(feature = "metrics")] {
//! use metrics_util::debugging::{DebugValue, DebuggingRecorder};
//! use retry_runtime::Policy;
//!
//! let _paused = retry_runtime::testing::pause();
//! let recorder = DebuggingRecorder::new();
//! let snapshotter = recorder.snapshotter();
//! retry_runtime::metrics::enable();
//! metrics::with_local_recorder(&recorder, || {
//!     let mut calls = 0;
//!     let policy = Policy::new().with_max_attempts(3).with_name("fetch");
//!     let _ = policy.retry(|| { calls += 1; if calls < 2 { Err("busy") } else { Ok(()) } }).call();
//! });
//! let outcomes: Vec<_> = snapshotter
//!     .snapshot()
//!     .into_vec()
//!     .into_iter()
//!     .filter(|(key, ..)| key.key().name() == retry_runtime::metrics::CALLS)
//!     // (every outcome's series is there from the operation's first call, at 0)
//!     .filter(|(.., value)| *value != DebugValue::Counter(0))
//!     .map(|(key, _, _, value)| {
//!         let labels: Vec<_> = key.key().labels().map(|l| l.value().to_owned()).collect();
//!         (labels, value)
//!     })
//!     .collect();
//! assert_eq!(
//!     outcomes,
//!     [(vec!["fetch".to_owned(), "succeeded_after_retries".to_owned()], DebugValue::Counter(1))]
//! );
//! # }
//! ```

use std::time::Duration;

use crate::classify::ErrorKind;
use crate::stop::StopReason;

/// `retry_calls_total`: calls that ended, by `operation` and `outcome`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::CALLS, "retry_calls_total");
/// ```
pub const CALLS: &str = "retry_calls_total";
/// `retry_attempts`: a histogram of the attempts made per call, by `operation`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::ATTEMPTS, "retry_attempts");
/// ```
pub const ATTEMPTS: &str = "retry_attempts";
/// `retry_retries_total`: retries made, by `operation`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::RETRIES, "retry_retries_total");
/// ```
pub const RETRIES: &str = "retry_retries_total";
/// `retry_hedges_total`: attempts a hedged call started on its hedge
/// delay beside others still in flight, by `operation` (a failed
/// attempt's retry is not one, even when it starts beside others).
///
/// ```
/// assert_eq!(retry_runtime::metrics::HEDGES, "retry_hedges_total");
/// ```
pub const HEDGES: &str = "retry_hedges_total";
/// `retry_wait_seconds`: a histogram of the waits before retries, in
/// seconds, by `operation`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::WAIT, "retry_wait_seconds");
/// ```
pub const WAIT: &str = "retry_wait_seconds";
/// `retry_retried_failures_total`: failed attempts the runs retried, by
/// `operation` and `error_kind`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::RETRIED_FAILURES, "retry_retried_failures_total");
/// ```
pub const RETRIED_FAILURES: &str = "retry_retried_failures_total";
/// `retry_cooldown_wait_seconds`: a histogram of the waits a cooldown
/// imposes (a first attempt's whole wait, a retry's beyond its own, a
/// hedge held by a hold begun after it was armed, or paced), in
/// seconds, by `cooldown` and `cause` (`hold` or `pace`).
///
/// ```
/// assert_eq!(retry_runtime::metrics::COOLDOWN_WAIT, "retry_cooldown_wait_seconds");
/// ```
pub const COOLDOWN_WAIT: &str = "retry_cooldown_wait_seconds";
/// `retry_cooldown_holds_total`: times a cooldown started holding or held
/// longer, by `cooldown`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::COOLDOWN_HOLDS, "retry_cooldown_holds_total");
/// ```
pub const COOLDOWN_HOLDS: &str = "retry_cooldown_holds_total";
/// `retry_circuit_state`: 1 for a breaker's current state, 0 for the
/// others, by `circuit` and `state`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::CIRCUIT_STATE, "retry_circuit_state");
/// ```
pub const CIRCUIT_STATE: &str = "retry_circuit_state";
/// `retry_circuit_transitions_total`: a breaker's state changes, by
/// `circuit`, `from` and `to`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::CIRCUIT_TRANSITIONS, "retry_circuit_transitions_total");
/// ```
pub const CIRCUIT_TRANSITIONS: &str = "retry_circuit_transitions_total";
/// `retry_budget_tokens`: the tokens in a retry budget, by `budget`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::BUDGET_TOKENS, "retry_budget_tokens");
/// ```
pub const BUDGET_TOKENS: &str = "retry_budget_tokens";
/// `retry_budget_capacity`: the most tokens a retry budget holds, by
/// `budget`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::BUDGET_CAPACITY, "retry_budget_capacity");
/// ```
pub const BUDGET_CAPACITY: &str = "retry_budget_capacity";
/// `retry_budget_refusals_total`: retries a budget refused, by `budget`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::BUDGET_REFUSALS, "retry_budget_refusals_total");
/// ```
pub const BUDGET_REFUSALS: &str = "retry_budget_refusals_total";
/// `retry_throttle_probability`: an adaptive throttle's rejection
/// probability (0 to 1), by `throttle`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::THROTTLE_PROBABILITY, "retry_throttle_probability");
/// ```
pub const THROTTLE_PROBABILITY: &str = "retry_throttle_probability";
/// `retry_throttle_rejections_total`: calls an adaptive throttle rejected
/// locally, without sending them (first attempts, retries and a hedged
/// call's hedges alike), by `throttle`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::THROTTLE_REJECTIONS, "retry_throttle_rejections_total");
/// ```
pub const THROTTLE_REJECTIONS: &str = "retry_throttle_rejections_total";
/// `retry_shared_holds_total`: what became of the holds a
/// `SharedHolds` shares (feature `shared-holds`), by `channel` and `event`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::SHARED_HOLDS, "retry_shared_holds_total");
/// ```
pub const SHARED_HOLDS: &str = "retry_shared_holds_total";
/// `retry_shared_holds_reconnects_total`: times a `SharedHolds`' listener
/// reconnected, by `channel`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::SHARED_HOLDS_RECONNECTS, "retry_shared_holds_reconnects_total");
/// ```
pub const SHARED_HOLDS_RECONNECTS: &str = "retry_shared_holds_reconnects_total";
/// `retry_shared_holds_listening`: 1 while a `SharedHolds`' listener is
/// listening, 0 otherwise, by `channel`.
///
/// ```
/// assert_eq!(retry_runtime::metrics::SHARED_HOLDS_LISTENING, "retry_shared_holds_listening");
/// ```
pub const SHARED_HOLDS_LISTENING: &str = "retry_shared_holds_listening";

/// How a call ended: the `outcome` label of [`CALLS`].
///
/// ```
/// use retry_runtime::{metrics::Outcome, StopReason};
/// assert_eq!(Outcome::from(StopReason::Budget).label(), "budget_refused");
/// assert_eq!(Outcome::SucceededFirstTry.label(), "succeeded_first_try");
/// ```
///
/// It is `#[non_exhaustive]`: a new way for a run to end is a new outcome,
/// so a `match` on it has a `_` arm.
///
/// ```compile_fail,E0004
/// use retry_runtime::metrics::Outcome;
/// fn succeeded(o: Outcome) -> bool {
///     match o {
///         Outcome::SucceededFirstTry | Outcome::SucceededAfterRetries => true,
///         Outcome::AttemptsExhausted
///         | Outcome::PermanentError
///         | Outcome::DeadlineReached
///         | Outcome::BudgetRefused
///         | Outcome::CircuitOpen
///         | Outcome::Throttled
///         | Outcome::Deferred
///         | Outcome::SentOnce => false,
///     } // error[E0004]: `_` not covered
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The first attempt succeeded. In a hedged call: attempt 1 answered
    /// first, even if hedges had started beside it (they still count in
    /// [`ATTEMPTS`] and [`RETRIES`]).
    SucceededFirstTry,
    /// An attempt after the first succeeded: a retry, or in a hedged call
    /// a hedge.
    SucceededAfterRetries,
    /// Every allowed attempt failed ([`StopReason::Attempts`]).
    AttemptsExhausted,
    /// An error was not retriable ([`StopReason::Permanent`]); also a call
    /// through the tower layer whose service failed its readiness check
    /// (`poll_ready`: the service is broken), before a retry or before its
    /// first attempt (then with 0 attempts: nothing was sent).
    PermanentError,
    /// The deadline (`max_elapsed`) was reached ([`StopReason::Deadline`]).
    DeadlineReached,
    /// The retry budget refused a retry ([`StopReason::Budget`]).
    BudgetRefused,
    /// The circuit breaker was open when a retry was decided or due
    /// ([`StopReason::CircuitOpen`]): the call made its attempts, then the
    /// breaker stopped it (a call it turned away before its first attempt
    /// is [`NotAttemptedCircuitOpen`](Self::NotAttemptedCircuitOpen)).
    CircuitOpen,
    /// The adaptive throttle rejected a retry ([`StopReason::Throttled`]):
    /// the call made its attempts first (one it rejected before its first
    /// attempt is [`NotAttemptedThrottled`](Self::NotAttemptedThrottled)).
    Throttled,
    /// The call left its retries to a retried call around it
    /// ([`StopReason::Deferred`]; see [`nested`](crate::nested)).
    Deferred,
    /// The request could not be sent again, where the policy would have
    /// retried its failure ([`StopReason::SentOnce`]; the tower layer, the
    /// reqwest middleware): not `AttemptsExhausted`, the policy's attempts
    /// did not run out.
    SentOnce,
    /// The call's stop signal fired before a retry it would have made
    /// ([`StopReason::Stopped`]; `Retry::stop_on`, a shutdown).
    Stopped,
    /// The circuit breaker turned the call away before its first attempt:
    /// nothing was sent, 0 attempts (its `RetryError`'s reason is
    /// [`StopReason::CircuitOpen`], with 0 attempts).
    NotAttemptedCircuitOpen,
    /// The adaptive throttle rejected the call before its first attempt:
    /// nothing was sent, 0 attempts (its `RetryError`'s reason is
    /// [`StopReason::Throttled`], with 0 attempts).
    NotAttemptedThrottled,
}

impl Outcome {
    /// Every outcome, in the order of the enum.
    ///
    /// A slice, not an array: the enum is `#[non_exhaustive]`, and a new
    /// outcome must not change the type of this constant.
    ///
    /// ```
    /// use retry_runtime::metrics::Outcome;
    /// let labels: Vec<&str> = Outcome::ALL.iter().map(|o| o.label()).collect();
    /// assert_eq!(labels[..2], ["succeeded_first_try", "succeeded_after_retries"]);
    /// assert!(Outcome::ALL.contains(&Outcome::Deferred));
    /// ```
    pub const ALL: &'static [Outcome] = &Self::EVERY;

    /// [`ALL`](Self::ALL) as an array, for the tables of metric keys (one
    /// per outcome, indexed by `outcome as usize`).
    const EVERY: [Outcome; 13] = [
        Outcome::SucceededFirstTry,
        Outcome::SucceededAfterRetries,
        Outcome::AttemptsExhausted,
        Outcome::PermanentError,
        Outcome::DeadlineReached,
        Outcome::BudgetRefused,
        Outcome::CircuitOpen,
        Outcome::Throttled,
        Outcome::Deferred,
        Outcome::SentOnce,
        Outcome::Stopped,
        Outcome::NotAttemptedCircuitOpen,
        Outcome::NotAttemptedThrottled,
    ];

    /// The value of the `outcome` label.
    ///
    /// ```
    /// assert_eq!(retry_runtime::metrics::Outcome::CircuitOpen.label(), "circuit_open");
    /// ```
    pub const fn label(self) -> &'static str {
        match self {
            Outcome::SucceededFirstTry => "succeeded_first_try",
            Outcome::SucceededAfterRetries => "succeeded_after_retries",
            Outcome::AttemptsExhausted => "attempts_exhausted",
            Outcome::PermanentError => "permanent_error",
            Outcome::DeadlineReached => "deadline_reached",
            Outcome::BudgetRefused => "budget_refused",
            Outcome::CircuitOpen => "circuit_open",
            Outcome::Throttled => "throttled",
            Outcome::Deferred => "deferred",
            Outcome::SentOnce => "sent_once",
            Outcome::Stopped => "stopped",
            Outcome::NotAttemptedCircuitOpen => "not_attempted_circuit_open",
            Outcome::NotAttemptedThrottled => "not_attempted_throttled",
        }
    }

    /// The outcome of a call a guard ended before its first attempt, for
    /// `reason`: the breaker's and the throttle's refusals have outcomes of
    /// their own, apart from those of a call that made attempts first.
    ///
    /// ```
    /// use retry_runtime::{metrics::Outcome, StopReason};
    /// let refused = Outcome::not_attempted(StopReason::CircuitOpen);
    /// assert_eq!(refused.label(), "not_attempted_circuit_open");
    /// assert_eq!(Outcome::from(StopReason::CircuitOpen).label(), "circuit_open");
    /// ```
    pub const fn not_attempted(reason: StopReason) -> Outcome {
        match reason {
            StopReason::CircuitOpen => Outcome::NotAttemptedCircuitOpen,
            StopReason::Throttled => Outcome::NotAttemptedThrottled,
            // (no other guard turns a call away before its first attempt)
            StopReason::Attempts => Outcome::AttemptsExhausted,
            StopReason::Permanent => Outcome::PermanentError,
            StopReason::Deadline => Outcome::DeadlineReached,
            StopReason::Budget => Outcome::BudgetRefused,
            StopReason::Deferred => Outcome::Deferred,
            StopReason::SentOnce => Outcome::SentOnce,
            StopReason::Stopped => Outcome::Stopped,
        }
    }
}

impl From<StopReason> for Outcome {
    fn from(reason: StopReason) -> Outcome {
        match reason {
            StopReason::Attempts => Outcome::AttemptsExhausted,
            StopReason::Permanent => Outcome::PermanentError,
            StopReason::Deadline => Outcome::DeadlineReached,
            StopReason::Budget => Outcome::BudgetRefused,
            StopReason::CircuitOpen => Outcome::CircuitOpen,
            StopReason::Throttled => Outcome::Throttled,
            StopReason::Deferred => Outcome::Deferred,
            StopReason::SentOnce => Outcome::SentOnce,
            StopReason::Stopped => Outcome::Stopped,
        }
    }
}

/// A breaker's state as a label value of [`CIRCUIT_STATE`] and
/// [`CIRCUIT_TRANSITIONS`].
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Circuit {
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

impl From<crate::circuit::CircuitState> for Circuit {
    fn from(state: crate::circuit::CircuitState) -> Circuit {
        use crate::circuit::CircuitState;
        match state {
            CircuitState::Closed => Circuit::Closed,
            CircuitState::HalfOpen => Circuit::HalfOpen,
            CircuitState::Open => Circuit::Open,
        }
    }
}

/// The state labels, by [`Circuit`] discriminant.
#[cfg(feature = "metrics")]
const STATES: [&str; 3] = ["closed", "half_open", "open"];

/// Every move between two states, by index in the keys: `from * 3 + to`.
/// All of them, not only the moves the breaker's own rules make: a
/// [`reset`](crate::CircuitBreaker::reset) closes an open breaker too, and
/// a move missing here would go uncounted and leave the state gauge behind.
/// (The three that stay put are never recorded: their keys are built with
/// the others, once per breaker, and never registered.)
#[cfg(feature = "metrics")]
const TRANSITIONS: [(Circuit, Circuit); 9] = {
    use Circuit::{Closed, HalfOpen, Open};
    [
        (Closed, Closed),
        (Closed, HalfOpen),
        (Closed, Open),
        (HalfOpen, Closed),
        (HalfOpen, HalfOpen),
        (HalfOpen, Open),
        (Open, Closed),
        (Open, HalfOpen),
        (Open, Open),
    ]
};

/// The moves a breaker makes, by index in [`TRANSITIONS`]: closed to open,
/// half-open to closed and to open, open to half-open, and open to closed
/// (a reset; a half-open breaker's reset is half-open to closed). Their
/// counters are registered at 0 at the breaker's first move, so that
/// `increase()` sees each one's first count but that first move's own.
#[cfg(feature = "metrics")]
const MOVES: [usize; 5] = [2, 3, 5, 6, 7];

/// Record the metrics from now on, in the whole process, and describe them
/// (their HELP lines and units) to the recorder installed now. Call it once,
/// after installing the recorder. Until then a call records nothing: the
/// `metrics` facade cannot tell whether a recorder is installed without
/// asking it for each series, about 15 ns per call even with none, so the
/// runtime asks only once told to, and a call costs one load of a flag
/// otherwise (the guide's Metrics section, docs/metrics.md, has the measurements).
///
/// ```
/// # #[cfg(feature = "metrics")] {
/// // e.g. metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
/// retry_runtime::metrics::enable();
/// assert!(retry_runtime::metrics::enabled());
/// # }
/// ```
#[cfg(feature = "metrics")]
pub fn enable() {
    recorder::ENABLED.store(true, core::sync::atomic::Ordering::Relaxed);
    recorder::describe();
}

/// Whether [`enable`] was called.
///
/// ```
/// # #[cfg(feature = "metrics")]
/// let _on: bool = retry_runtime::metrics::enabled();
/// ```
#[cfg(feature = "metrics")]
pub fn enabled() -> bool {
    recorder::ENABLED.load(core::sync::atomic::Ordering::Relaxed)
}

/// The metrics are on: the feature, and [`enable`] called.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn on() -> bool {
    #[cfg(feature = "metrics")]
    return recorder::ENABLED.load(core::sync::atomic::Ordering::Relaxed);
    #[cfg(not(feature = "metrics"))]
    false
}

/// A call of `operation` ended with `outcome` after `attempts` attempts.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn call_ended(operation: &'static str, outcome: Outcome, attempts: u32) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::call_ended(operation, outcome, attempts);
    }
}

/// A hedged call of `operation` ended: `hedges` of its attempts were
/// started beside others in flight (`retry_hedges_total`).
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn hedges(operation: &'static str, hedges: u32) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::hedges(operation, hedges);
    }
}

/// Register `operation`'s `retry_calls_total` series (every outcome) and
/// its `retry_retries_total` at 0, once in the process, as its first call
/// to end does: for a decision reported before any call of it ended (a
/// persisted schedule's first retry), so that `rate()` and `increase()`
/// see the give-up that comes later.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn register_operation(operation: &'static str) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::register_operation(operation);
    }
}

/// A call of `operation` that has not ended made `retries` retries
/// ([`Run::progressed`](crate::Run::progressed): counted then, as the
/// run's attempts are counted afresh).
#[cold]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn retries_made(operation: &'static str, retries: u32) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::retries_made(operation, retries);
    }
}

/// The first attempt of a call of `operation` succeeded (the hot path).
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub(crate) fn succeeded_first_try(operation: &'static str) {
    call_ended(operation, Outcome::SucceededFirstTry, 1);
}

/// A call of `operation` waits `wait` before its next attempt, retrying
/// a failure of `kind`.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn waits(operation: &'static str, wait: Duration, kind: Option<ErrorKind>) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::waits(operation, wait, kind);
    }
}

/// What made a cooldown's wait: its hold (a server's wait) or its pace
/// (the `cause` label of [`COOLDOWN_WAIT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CooldownCause {
    Hold = 0,
    Pace = 1,
}

impl CooldownCause {
    /// Both, in the order of their values.
    #[cfg(feature = "metrics")]
    pub(crate) const BOTH: [CooldownCause; 2] = [CooldownCause::Hold, CooldownCause::Pace];

    /// The label's value (and the `cause` of a first attempt's DEBUG
    /// line of its wait).
    pub(crate) const fn label(self) -> &'static str {
        match self {
            CooldownCause::Hold => "hold",
            CooldownCause::Pace => "pace",
        }
    }
}

/// Cooldown `name` imposes `wait` (a first attempt's, or a retry's part
/// beyond its own), for `cause`.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn cooldown_waits(name: &'static str, cause: CooldownCause, wait: Duration) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::cooldown_waits(name, cause, wait);
    }
}

/// Cooldown `name` started holding, or holds longer.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn cooldown_held(name: &'static str) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::cooldown_held(name);
    }
}

/// Breaker `name` moved from `from` to `to`: its transition's counter.
/// (Its state gauge: [`circuit_state`], once the move is logged.)
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn circuit_moved(name: &'static str, from: Circuit, to: Circuit) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::circuit_moved(name, from, to);
    }
}

/// A breaker's lock for its state gauge (nothing without the feature):
/// see [`circuit_state`].
pub(crate) struct GaugeLock {
    #[cfg(feature = "metrics")]
    lock: std::sync::Mutex<()>,
}

impl GaugeLock {
    pub(crate) const fn new() -> GaugeLock {
        GaugeLock {
            #[cfg(feature = "metrics")]
            lock: std::sync::Mutex::new(()),
        }
    }
}

/// Breaker `name` changed state: set its state gauge, under its `lock`,
/// to the state `now` reads from its word then, not to the state the move
/// went to. A move's thread can be held up between its compare-and-swap
/// and this, while another thread moves the breaker on and sets the gauge
/// (setting the state of the move left it on a closed breaker's gauge
/// while the breaker was open). Every move's thread gets here after its
/// swap, and the last to take the lock comes after all of them: it reads
/// the word's latest state, and sets it, whatever order the threads come
/// in. The lock is taken only with the metrics on, after a transition.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn circuit_state(name: &'static str, lock: &GaugeLock, now: impl FnOnce() -> Circuit) {
    if on() {
        #[cfg(feature = "metrics")]
        {
            // (a recorder that panicked while holding it left nothing to repair)
            let _one_at_a_time = lock
                .lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            recorder::circuit_state(name, now());
        }
    }
}

/// Budget `name`'s bucket changed, or it refused a retry (`refused`): set
/// its tokens gauge, under its `lock`, to what `now` reads from the bucket
/// then, not to the balance the change left: as with [`circuit_state`], a
/// thread held up between its compare-and-swap and this could otherwise set
/// an older balance after a newer one, and a full bucket (whose deposits
/// write nothing) would keep it. The lock is taken only with the metrics
/// on.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn budget(
    name: &'static str,
    lock: &GaugeLock,
    now: impl FnOnce() -> f64,
    refused: bool,
    capacity: u32,
) {
    if on() {
        #[cfg(feature = "metrics")]
        {
            let _one_at_a_time = lock
                .lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            recorder::budget(name, now(), refused, f64::from(capacity));
        }
    }
}

/// Throttle `name` computed the rejection `probability` (0: it is back to
/// 0, was reset, or is called for the first time); `rejected`: it rejected
/// a call.
#[inline]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn throttle(name: &'static str, probability: f64, rejected: bool) {
    if on() {
        #[cfg(feature = "metrics")]
        recorder::throttle(name, probability, rejected);
    }
}

/// A [`SharedHolds`](crate::shared_holds::SharedHolds) on `channel`
/// counted one `event` of its holds ([`SHARED_HOLDS`]).
#[cfg(feature = "shared-holds")]
#[cold]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn shared_holds(channel: &'static str, event: &'static str) {
    if on() {
        #[cfg(feature = "metrics")]
        shared_holds::counted(channel, event, 1);
    }
}

/// A [`SharedHolds`](crate::shared_holds::SharedHolds) on `channel`
/// starts: each of its series registered, at 0 (a running listener's
/// gauge left as it is).
#[cfg(feature = "shared-holds")]
#[cold]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn shared_holds_registered(channel: &'static str) {
    if on() {
        #[cfg(feature = "metrics")]
        shared_holds::registered(channel);
    }
}

/// A [`SharedHolds`](crate::shared_holds::SharedHolds)' listener on
/// `channel` reconnects ([`SHARED_HOLDS_RECONNECTS`]).
#[cfg(feature = "shared-holds")]
#[cold]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn shared_holds_reconnected(channel: &'static str) {
    if on() {
        #[cfg(feature = "metrics")]
        shared_holds::reconnected(channel);
    }
}

/// A [`SharedHolds`](crate::shared_holds::SharedHolds)' listener on
/// `channel` is `listening`, or not ([`SHARED_HOLDS_LISTENING`]).
#[cfg(feature = "shared-holds")]
#[cold]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn shared_holds_listening(channel: &'static str, listening: bool) {
    if on() {
        #[cfg(feature = "metrics")]
        shared_holds::listening(channel, listening);
    }
}

#[cfg(feature = "metrics")]
mod recorder;
#[cfg(all(feature = "metrics", feature = "shared-holds"))]
mod shared_holds;

#[cfg(test)]
mod tests {
    use super::Outcome;

    /// `circuit_moved` finds a move's keys at `from * 3 + to`, without a
    /// search that could miss one (an open breaker's reset was uncounted).
    #[cfg(feature = "metrics")]
    #[test]
    fn every_move_is_at_its_index() {
        for (i, (from, to)) in super::TRANSITIONS.into_iter().enumerate() {
            assert_eq!((from as usize, to as usize), (i / 3, i % 3));
        }
    }

    /// The moves registered at 0 are the five a breaker makes (closed to
    /// half-open is never made: a closed breaker opens first).
    #[cfg(feature = "metrics")]
    #[test]
    fn the_zeroed_moves_are_those_a_breaker_makes() {
        use super::{Circuit::*, MOVES, TRANSITIONS};
        let moves: Vec<_> = MOVES
            .iter()
            .map(|&i| {
                let (from, to) = TRANSITIONS[i];
                (from as usize, to as usize)
            })
            .collect();
        let made = [
            (Closed, Open),
            (HalfOpen, Closed),
            (HalfOpen, Open),
            (Open, Closed),
            (Open, HalfOpen),
        ];
        let made: Vec<_> = made
            .iter()
            .map(|&(f, t)| (f as usize, t as usize))
            .collect();
        assert_eq!(moves, made);
    }

    /// Every `outcome` label the code emits is in the module's docs and in
    /// docs/metrics.md's table, so a dashboard built from them misses none.
    /// `ALL` is a slice (a new outcome, the enum being `#[non_exhaustive]`,
    /// does not change its type), in the order of the enum, which the key
    /// tables' `outcome as usize` indexing needs.
    #[test]
    fn all_outcomes_are_a_slice_in_enum_order() {
        const ALL: &[Outcome] = Outcome::ALL;
        for (i, &outcome) in ALL.iter().enumerate() {
            assert_eq!(outcome as usize, i, "{outcome:?}");
        }
        assert_eq!(ALL.last(), Some(&Outcome::NotAttemptedThrottled));
    }

    /// The guide's Metrics chapter (docs/metrics.md), and this module's docs
    /// (the text before its first `use`).
    fn docs() -> (&'static str, &'static str) {
        let docs = include_str!("mod.rs");
        let docs = &docs[..docs.find("\nuse ").unwrap_or(docs.len())];
        (include_str!("../../../docs/metrics.md"), docs)
    }

    /// The rows of the metrics table in `text` (lines, `//! ` taken off):
    /// each row's metric, type and labels, in order.
    fn table(text: &'static str) -> Vec<(&'static str, &'static str, &'static str)> {
        let mut lines = text
            .lines()
            .map(|l| l.strip_prefix("//! ").unwrap_or(l))
            .skip_while(|l| *l != "| metric | type | labels | what |");
        assert!(lines.next().is_some(), "no metrics table");
        lines
            .skip(1) // |---|
            .take_while(|l| l.starts_with("| "))
            .map(|l| {
                let cells: Vec<&str> = l.split(" | ").collect();
                let name = cells[0].strip_prefix("| `").unwrap().strip_suffix('`');
                (name.unwrap(), cells[1], cells[2])
            })
            .collect()
    }

    /// The words in backquotes, lower case and `_` only (a label), in
    /// `text`, in order.
    fn labels_in(text: &str) -> Vec<&str> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .collect()
    }

    /// The values of this module's public `&str` constants, as the source
    /// declares them: a new one is in the list below, or this fails.
    fn name_constants() -> Vec<&'static str> {
        let source = include_str!("mod.rs");
        let source = &source[..source.find("\n#[cfg(test)]\nmod tests").unwrap()];
        source
            .lines()
            .filter(|l| l.starts_with("pub const ") && l.contains(": &str = \""))
            .map(|l| l.split('"').nth(1).unwrap())
            .collect()
    }

    /// Every metric has its row in the module's table and in docs/metrics.md's,
    /// with its type; the tables list the metrics of the name constants,
    /// no other, in the same order, with the same types and labels.
    #[test]
    fn every_metric_is_in_both_tables() {
        use super::*;
        let metrics = [
            (CALLS, "counter"),
            (ATTEMPTS, "histogram"),
            (RETRIES, "counter"),
            (HEDGES, "counter"),
            (WAIT, "histogram"),
            (RETRIED_FAILURES, "counter"),
            (COOLDOWN_WAIT, "histogram"),
            (COOLDOWN_HOLDS, "counter"),
            (CIRCUIT_STATE, "gauge"),
            (CIRCUIT_TRANSITIONS, "counter"),
            (BUDGET_TOKENS, "gauge"),
            (BUDGET_CAPACITY, "gauge"),
            (BUDGET_REFUSALS, "counter"),
            (THROTTLE_PROBABILITY, "gauge"),
            (THROTTLE_REJECTIONS, "counter"),
            (SHARED_HOLDS, "counter"),
            (SHARED_HOLDS_RECONNECTS, "counter"),
            (SHARED_HOLDS_LISTENING, "gauge"),
        ];
        let names: Vec<&str> = metrics.iter().map(|&(name, _)| name).collect();
        assert_eq!(
            names,
            name_constants(),
            "the metrics here, and the name constants the module declares"
        );
        let (readme, docs) = docs();
        let (readme, docs) = (table(readme), table(docs));
        for (which, table) in [("docs/metrics.md's", &readme), ("the module docs'", &docs)] {
            let rows: Vec<(&str, &str)> = table.iter().map(|&(n, t, _)| (n, t)).collect();
            assert_eq!(rows, metrics, "{which} table: its metrics and their types");
        }
        assert_eq!(readme, docs, "the two tables' metrics, types and labels");
    }

    /// docs/metrics.md's and the module docs' lists of `outcome` labels are
    /// `Outcome::ALL`'s, in its order: a dashboard built from them misses
    /// none, and shows no label that is never emitted.
    #[test]
    fn every_outcome_label_is_documented() {
        let expected: Vec<&str> = Outcome::ALL.iter().map(|o| o.label()).collect();
        let (readme, docs) = docs();
        // the last cell of docs/metrics.md's row of `retry_calls_total`
        let row = readme
            .lines()
            .find(|l| l.starts_with("| `retry_calls_total`"))
            .expect("docs/metrics.md's metric table");
        let what = row.split(" | ").nth(3).unwrap();
        assert_eq!(labels_in(what), expected, "docs/metrics.md's outcomes");
        // the module docs' paragraph that lists them
        let list = docs
            .split("`outcome` is one of [`Outcome`]'s labels:")
            .nth(1)
            .expect("the module docs' list of outcomes");
        let list = &list[..list.find("\n//!\n").unwrap()];
        let list = &list[..list.find("A call whose future").unwrap_or(list.len())];
        assert_eq!(labels_in(list), expected, "the module docs' outcomes");
    }
}
