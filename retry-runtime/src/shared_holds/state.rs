//! Where a [`SharedHolds`]' listener is ([`ListenerState`]): kept in an
//! atomic for [`SharedHolds::listener`], and on the `metrics` facade
//! (`retry_shared_holds_listening`) when the `metrics` feature is on. A
//! listener that stopped (its pool closed, its task ended with its tokio
//! runtime) says so there, not only in a log line.

use std::sync::atomic::{AtomicU8, Ordering};

use super::{SharedHolds, TARGET};

/// Where a [`SharedHolds`]' listener is: what a health check or an alert
/// asks ([`SharedHolds::listener`]; with the `metrics` feature, the gauge
/// `retry_shared_holds_listening` is 1 while it is
/// [`Listening`](Self::Listening), 0 otherwise).
///
/// ```
/// use retry_runtime::cooldown::Cooldown;
/// use retry_runtime::shared_holds::{ListenerState, SharedHolds};
///
/// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
/// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
///
/// assert_eq!(HOLDS.listener(), ListenerState::NotStarted);
/// assert!(!HOLDS.listener().is_listening());
/// ```
///
/// It is `#[non_exhaustive]`: a `match` on it has a `_` arm (or ask
/// [`is_listening`](Self::is_listening)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListenerState {
    /// [`start`](SharedHolds::start) was not called, or has not connected
    /// (or failed: it returned the error).
    NotStarted,
    /// Connected and `LISTEN`ing: the other replicas' holds are applied.
    Listening,
    /// Its connection was lost, failed, or did not answer a check: it
    /// reconnects (the holds published meanwhile are read from the table
    /// once it is back). Nothing is applied meanwhile.
    Reconnecting,
    /// Stopped for good: its pool was closed, or its task ended with the
    /// tokio runtime it was started in (shut down, or dropped: a runtime
    /// of a test, or of a `block_on` at start-up, not the service's).
    /// No other replica's hold is applied here from now on; its publisher
    /// has stopped with the runtime too, and the hook's holds are dropped
    /// ([`Counts::dropped`](super::Counts::dropped)). Until
    /// [`start`](SharedHolds::start) is called again (in a runtime that
    /// runs, with a pool that is open).
    Stopped,
}

impl ListenerState {
    /// Is it [`Listening`](Self::Listening)?
    ///
    /// ```
    /// use retry_runtime::shared_holds::ListenerState;
    /// assert!(ListenerState::Listening.is_listening());
    /// assert!(!ListenerState::Reconnecting.is_listening());
    /// ```
    pub const fn is_listening(self) -> bool {
        matches!(self, ListenerState::Listening)
    }

    const fn from_u8(value: u8) -> ListenerState {
        match value {
            1 => ListenerState::Listening,
            2 => ListenerState::Reconnecting,
            3 => ListenerState::Stopped,
            _ => ListenerState::NotStarted,
        }
    }
}

/// A [`ListenerState`] in an atomic.
#[derive(Debug)]
pub(super) struct State(AtomicU8);

impl State {
    pub(super) const fn new() -> State {
        State(AtomicU8::new(ListenerState::NotStarted as u8))
    }

    pub(super) fn get(&self) -> ListenerState {
        ListenerState::from_u8(self.0.load(Ordering::Relaxed))
    }
}

impl SharedHolds {
    /// The listener is `now` (its gauge set on the `metrics` facade).
    pub(super) fn set_listener(&self, now: ListenerState) {
        self.state.0.store(now as u8, Ordering::Relaxed);
        crate::metrics::shared_holds_listening(self.channel, now.is_listening());
    }
}

/// Held by the listener's task: when the task ends, however it ends (it
/// returns, its pool closed; or its future is dropped, its runtime shut
/// down), the listener is [`ListenerState::Stopped`], and the holds may be
/// shared again by another [`start`](SharedHolds::start).
pub(super) struct Stops {
    pub(super) holds: &'static SharedHolds,
    /// Its pool was closed (said at INFO by the listener), rather than
    /// its runtime shut down.
    pub(super) pool_closed: bool,
}

impl Drop for Stops {
    fn drop(&mut self) {
        let holds = self.holds;
        if !self.pool_closed {
            tracing::warn!(
                target: TARGET,
                channel = holds.channel,
                "the listener stopped with its tokio runtime: no other replica's hold is applied here from now on"
            );
        }
        // stopped, then free to start again: a start after it sets its
        // own state after this one
        holds.set_listener(ListenerState::Stopped);
        holds.starting.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_as_stored() {
        for state in [
            ListenerState::NotStarted,
            ListenerState::Listening,
            ListenerState::Reconnecting,
            ListenerState::Stopped,
        ] {
            let atomic = State::new();
            atomic.0.store(state as u8, Ordering::Relaxed);
            assert_eq!(atomic.get(), state);
        }
    }

    /// A listener's task that ends, however it ends, leaves the listener
    /// `Stopped` and the holds free to be shared by another `start`; one
    /// that ends with its tokio runtime says so at WARN, one whose pool
    /// was closed does not (the listener said so at INFO).
    #[test]
    fn a_listener_stopped_says_so_and_lets_another_start() {
        static HOLDS: SharedHolds = SharedHolds::new(&[]).with_channel("stops");
        for pool_closed in [false, true] {
            HOLDS.set_listener(ListenerState::Listening);
            HOLDS.starting.store(true, Ordering::Release);
            assert!(HOLDS.listener().is_listening());
            let stops = Stops {
                holds: &HOLDS,
                pool_closed,
            };
            let lines = crate::log::captured(|| drop(stops));
            assert_eq!(HOLDS.listener(), ListenerState::Stopped);
            assert!(!HOLDS.starting.load(Ordering::Acquire), "free to start");
            if pool_closed {
                assert_eq!(lines, "");
            } else {
                assert_eq!(
                    lines,
                    " WARN retry_runtime::shared_holds: the listener stopped with its tokio \
                     runtime: no other replica's hold is applied here from now on \
                     channel=\"stops\"\n"
                );
            }
        }
    }
}
