//! What a [`SharedHolds`](super::SharedHolds) did: a counter per event,
//! read as one [`Counts`].

use std::sync::atomic::{AtomicU64, Ordering};

/// What a [`SharedHolds`](super::SharedHolds) did: every hold a run made
/// is handed on or dropped; every hold handed on is published, coalesced
/// into another, expired or failed; every notification is received, its
/// own, refused or unknown.
///
/// ```
/// use retry_runtime::cooldown::Cooldown;
/// use retry_runtime::shared_holds::{Counts, SharedHolds};
///
/// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
/// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
///
/// let counts: Counts = HOLDS.counts();
/// assert_eq!(counts, Counts::default()); // nothing yet
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Holds the hook handed to the publisher.
    pub handed_on: u64,
    /// Holds the hook could not hand on (logged).
    pub dropped: u64,
    /// Holds published (`NOTIFY`).
    pub published: u64,
    /// Holds sent in one statement with a later one of the same cooldown.
    pub coalesced: u64,
    /// Holds over before they could be sent (logged).
    pub expired: u64,
    /// Holds whose statement failed, retries included (logged).
    pub failed: u64,
    /// Other replicas' holds applied.
    pub received: u64,
    /// This replica's own holds, skipped: its notifications, and its rows
    /// in the table when its listener reads it again after a reconnect.
    pub own: u64,
    /// Payloads that could not be read (logged).
    pub refused: u64,
    /// Holds of a cooldown this replica does not have (logged).
    pub unknown: u64,
    /// Times the listener's connection was lost, failed or did not answer
    /// a check (logged).
    pub reconnects: u64,
    /// Holds applied from the table, at start and after a reconnect.
    pub caught_up: u64,
}

/// What a count is of: a field of [`Counts`], and the `event` label of
/// `retry_shared_holds_total` (but `Reconnect`, which has a counter of its
/// own, `retry_shared_holds_reconnects_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    HandedOn,
    Dropped,
    Published,
    Coalesced,
    Expired,
    Failed,
    Received,
    Own,
    Refused,
    Unknown,
    CaughtUp,
    Reconnect,
}

impl Event {
    /// The holds' events, in the order of [`Counts`]' fields: the
    /// `event` labels, each registered at 0 as `start` begins (by the
    /// `metrics` feature's recorder: nothing else lists them).
    #[cfg(any(feature = "metrics", test))]
    pub(crate) const HOLDS: [Event; 11] = [
        Event::HandedOn,
        Event::Dropped,
        Event::Published,
        Event::Coalesced,
        Event::Expired,
        Event::Failed,
        Event::Received,
        Event::Own,
        Event::Refused,
        Event::Unknown,
        Event::CaughtUp,
    ];

    /// The `event` label: the name of its field in [`Counts`].
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Event::HandedOn => "handed_on",
            Event::Dropped => "dropped",
            Event::Published => "published",
            Event::Coalesced => "coalesced",
            Event::Expired => "expired",
            Event::Failed => "failed",
            Event::Received => "received",
            Event::Own => "own",
            Event::Refused => "refused",
            Event::Unknown => "unknown",
            Event::CaughtUp => "caught_up",
            Event::Reconnect => "reconnects",
        }
    }
}

/// The counters behind [`Counts`], one per [`Event`].
#[derive(Debug)]
pub(super) struct Counters {
    counts: [AtomicU64; 12],
}

impl Counters {
    pub(super) const fn new() -> Counters {
        Counters {
            counts: [const { AtomicU64::new(0) }; 12],
        }
    }

    /// Count one `event` of the holds shared on `channel` (on the
    /// `metrics` facade too, when it is on).
    pub(super) fn add(&self, channel: &'static str, event: Event) {
        self.counts[event as usize].fetch_add(1, Ordering::Relaxed);
        match event {
            Event::Reconnect => crate::metrics::shared_holds_reconnected(channel),
            event => crate::metrics::shared_holds(channel, event.label()),
        }
    }

    pub(super) fn read(&self) -> Counts {
        let get = |event: Event| self.counts[event as usize].load(Ordering::Relaxed);
        Counts {
            handed_on: get(Event::HandedOn),
            dropped: get(Event::Dropped),
            published: get(Event::Published),
            coalesced: get(Event::Coalesced),
            expired: get(Event::Expired),
            failed: get(Event::Failed),
            received: get(Event::Received),
            own: get(Event::Own),
            refused: get(Event::Refused),
            unknown: get(Event::Unknown),
            reconnects: get(Event::Reconnect),
            caught_up: get(Event::CaughtUp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event is counted in its own field, named as its label.
    #[test]
    fn each_event_is_counted_in_the_field_of_its_label() {
        let mut all = Event::HOLDS.to_vec();
        all.push(Event::Reconnect);
        for event in all {
            let counters = Counters::new();
            counters.add("cooldown_holds", event);
            let shown = format!("{:?}", counters.read());
            let ones: Vec<&str> = shown
                .split(", ")
                .filter(|field| field.ends_with(": 1") || field.ends_with(": 1 }"))
                .collect();
            assert_eq!(ones.len(), 1, "{event:?}: {shown}");
            let field = ones[0]
                .trim_start_matches("Counts { ")
                .trim_end_matches(" }");
            assert_eq!(field, format!("{}: 1", event.label()), "{event:?}: {shown}");
        }
    }
}
