//! The lines of the guards: a circuit breaker's changes of state and the
//! calls it turns away, a throttle's rejections (the table of every line
//! is in [`log`](super)).

use core::fmt;
use std::time::Duration;

use super::shown::{Count, Escaped, Percent, ShownWait};
use super::{CallId, TARGET, int, may_log};
use crate::metrics::{self, Circuit};
use crate::throttle::Throttled;

/// The DEBUG line of a call a throttle rejected before its attempt;
/// `outcome` the call's, as its metric counts it.
pub(crate) fn throttled(
    operation: &'static str,
    attempt: u32,
    rejection: &Throttled,
    outcome: metrics::Outcome,
    call: &mut CallId,
) {
    tracing::debug!(
        target: TARGET,
        operation,
        call = int(call.number()),
        attempt = int(attempt),
        throttle = rejection.throttle,
        probability = rejection.probability,
        outcome = outcome.label(),
        "{} not attempted: {}",
        Escaped(operation),
        rejection,
    );
}

/// The WARN line of throttle `name` that starts rejecting calls locally
/// (at its first rejection since it last rejected none): `probability`,
/// over a window of `requests` requests, `accepts` of them accepted. The
/// level check is inline, so that with nobody listening it costs one load.
#[inline]
pub(crate) fn throttle_rejecting(
    name: &'static str,
    probability: f64,
    requests: u64,
    accepts: u64,
) {
    if may_log(tracing::Level::WARN) {
        throttle_rejecting_line(name, probability, requests, accepts);
    }
}

#[cold]
#[inline(never)]
fn throttle_rejecting_line(name: &'static str, probability: f64, requests: u64, accepts: u64) {
    tracing::warn!(
        target: TARGET,
        throttle = name,
        probability,
        requests = int(requests),
        accepts = int(accepts),
        "throttle `{}` is rejecting calls locally: {} of calls (the dependency accepted {} of the last {} requests)",
        Escaped(name),
        Percent(probability),
        accepts,
        requests,
    );
}

/// The INFO line of throttle `name` that rejected calls and rejects none
/// now (its probability is back to 0, or it was reset).
#[inline]
pub(crate) fn throttle_stopped(name: &'static str) {
    if may_log(tracing::Level::INFO) {
        throttle_stopped_line(name);
    }
}

#[cold]
#[inline(never)]
fn throttle_stopped_line(name: &'static str) {
    tracing::info!(
        target: TARGET,
        throttle = name,
        "throttle `{}` stopped rejecting calls",
        Escaped(name),
    );
}

/// Why a breaker opened.
#[derive(Clone, Copy)]
pub(crate) enum Trip {
    /// This many consecutive failures.
    Consecutive(u32),
    /// This many failures in the failure-rate window.
    Rate(u32),
    /// A probe failed.
    Probe,
}

/// The WARN line of breaker `name` that opens for `recovery` (in
/// milliseconds, `recovery_ms`); `window` is its failure-rate window.
pub(crate) fn circuit_open(
    name: &'static str,
    window: u32,
    recovery: Duration,
    recovery_ms: u64,
    why: Trip,
) {
    let from = match why {
        Trip::Probe => Circuit::HalfOpen,
        Trip::Consecutive(_) | Trip::Rate(_) => Circuit::Closed,
    };
    metrics::circuit_moved(name, from, Circuit::Open);
    match why {
        Trip::Consecutive(n) => tracing::warn!(
            target: TARGET,
            circuit = name,
            state = "open",
            failures = int(n),
            recovery_ms = int(recovery_ms),
            "circuit `{}` opened after {}; rejecting calls for {}",
            Escaped(name),
            Count(n, "consecutive failure"),
            ShownWait(recovery),
        ),
        Trip::Rate(n) => tracing::warn!(
            target: TARGET,
            circuit = name,
            state = "open",
            failures = int(n),
            window = int(window),
            recovery_ms = int(recovery_ms),
            "circuit `{}` opened: {} of the last {} calls failed; rejecting calls for {}",
            Escaped(name),
            n,
            window,
            ShownWait(recovery),
        ),
        Trip::Probe => tracing::warn!(
            target: TARGET,
            circuit = name,
            state = "open",
            failures = int(1u32),
            recovery_ms = int(recovery_ms),
            "circuit `{}` re-opened: a probe call failed; rejecting calls for {}",
            Escaped(name),
            ShownWait(recovery),
        ),
    }
}

/// The INFO line of breaker `name` that turns half-open, letting `probes`
/// calls through (`again`: it was half-open already and its probes did not
/// report).
pub(crate) fn circuit_half_open(name: &'static str, probes: u32, again: bool) {
    if !again {
        metrics::circuit_moved(name, Circuit::Open, Circuit::HalfOpen);
    }
    if again {
        circuit_probes(
            name,
            probes,
            "half_open",
            format_args!(
                "circuit `{}` is still half-open: its probes did not report; letting {} new probe call(s) through",
                Escaped(name),
                probes
            ),
        );
    } else {
        circuit_probes(
            name,
            probes,
            "half_open",
            format_args!(
                "circuit `{}` is half-open: letting {} probe call(s) through",
                Escaped(name),
                probes
            ),
        );
    }
}

/// The INFO line of breaker `name` that closes after `probes` successful
/// probe calls.
pub(crate) fn circuit_closed(name: &'static str, probes: u32) {
    metrics::circuit_moved(name, Circuit::HalfOpen, Circuit::Closed);
    circuit_probes(
        name,
        probes,
        "closed",
        format_args!(
            "circuit `{}` closed: {} probe call(s) succeeded",
            Escaped(name),
            probes
        ),
    );
}

/// The INFO line of an open or half-open breaker closed by
/// [`CircuitBreaker::reset`](crate::CircuitBreaker::reset).
pub(crate) fn circuit_reset(name: &'static str, from: crate::circuit::CircuitState) {
    metrics::circuit_moved(name, from.into(), Circuit::Closed);
    tracing::info!(
        target: TARGET,
        circuit = name,
        state = "closed",
        "circuit `{}` closed by a reset (it was {})",
        Escaped(name),
        from
    );
}

/// The WARN line of breaker `name` opened by hand
/// ([`CircuitBreaker::force_open`](crate::CircuitBreaker::force_open)),
/// `from` the state it was in.
pub(crate) fn circuit_forced_open(name: &'static str, from: crate::circuit::CircuitState) {
    if from != crate::circuit::CircuitState::Open {
        metrics::circuit_moved(name, from.into(), Circuit::Open);
    }
    tracing::warn!(
        target: TARGET,
        circuit = name,
        state = "open",
        "circuit `{}` forced open (it was {}); rejecting calls until a reset",
        Escaped(name),
        from
    );
}

/// The INFO line of a move to `state` that concerns the probes.
fn circuit_probes(
    name: &'static str,
    probes: u32,
    state: &'static str,
    message: fmt::Arguments<'_>,
) {
    tracing::info!(target: TARGET, circuit = name, state, probes = int(probes), "{}", message);
}
