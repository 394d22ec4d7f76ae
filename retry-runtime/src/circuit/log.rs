//! The breaker's log lines on `tracing`: WARN when it opens, INFO when it
//! turns half-open or closes.
//!
//! They keep the target of the single-file `circuit` module they came from,
//! so filters such as `retry_runtime::circuit=warn` keep matching.

use core::fmt;

use super::CircuitBreaker;

/// The `tracing` target of every line.
const TARGET: &str = "retry_runtime::circuit";

/// Why the breaker opened.
#[derive(Clone, Copy)]
pub(super) enum Trip {
    /// This many consecutive failures.
    Consecutive(u32),
    /// This many failures in the failure-rate window.
    Rate(u32),
    /// A probe failed.
    Probe,
}

impl CircuitBreaker {
    pub(super) fn log_open(&self, why: Trip) {
        match why {
            Trip::Consecutive(n) => tracing::warn!(
                target: TARGET,
                name = self.name,
                state = "open",
                failures = n,
                recovery_ms = self.recovery_ms,
                "circuit `{}` opened after {} consecutive failures; rejecting calls for {:?}",
                self.name,
                n,
                self.recovery,
            ),
            Trip::Rate(n) => tracing::warn!(
                target: TARGET,
                name = self.name,
                state = "open",
                failures = n,
                window = self.window,
                recovery_ms = self.recovery_ms,
                "circuit `{}` opened: {} of the last {} calls failed; rejecting calls for {:?}",
                self.name,
                n,
                self.window,
                self.recovery,
            ),
            Trip::Probe => tracing::warn!(
                target: TARGET,
                name = self.name,
                state = "open",
                failures = 1u32,
                recovery_ms = self.recovery_ms,
                "circuit `{}` re-opened: a probe call failed; rejecting calls for {:?}",
                self.name,
                self.recovery,
            ),
        }
    }

    pub(super) fn log_half_open(&self, again: bool) {
        if again {
            self.log_probes(
                "half-open",
                format_args!(
                    "circuit `{}` is still half-open: its probes did not report; letting {} new probe call(s) through",
                    self.name, self.probes
                ),
            );
        } else {
            self.log_probes(
                "half-open",
                format_args!(
                    "circuit `{}` is half-open: letting {} probe call(s) through",
                    self.name, self.probes
                ),
            );
        }
    }

    pub(super) fn log_closed(&self) {
        self.log_probes(
            "closed",
            format_args!(
                "circuit `{}` closed: {} probe call(s) succeeded",
                self.name, self.probes
            ),
        );
    }

    /// The INFO line of a move to `state` that concerns the probes.
    fn log_probes(&self, state: &'static str, message: fmt::Arguments<'_>) {
        tracing::info!(target: TARGET, name = self.name, state, probes = self.probes, "{}", message);
    }
}
