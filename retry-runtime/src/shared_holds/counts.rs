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

/// The counters behind [`Counts`].
#[derive(Debug)]
pub(super) struct Counters {
    pub(super) handed_on: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) published: AtomicU64,
    pub(super) coalesced: AtomicU64,
    pub(super) expired: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) received: AtomicU64,
    pub(super) own: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) unknown: AtomicU64,
    pub(super) reconnects: AtomicU64,
    pub(super) caught_up: AtomicU64,
}

impl Counters {
    pub(super) const fn new() -> Counters {
        Counters {
            handed_on: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            published: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            received: AtomicU64::new(0),
            own: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            unknown: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            caught_up: AtomicU64::new(0),
        }
    }

    pub(super) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn read(&self) -> Counts {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counts {
            handed_on: get(&self.handed_on),
            dropped: get(&self.dropped),
            published: get(&self.published),
            coalesced: get(&self.coalesced),
            expired: get(&self.expired),
            failed: get(&self.failed),
            received: get(&self.received),
            own: get(&self.own),
            refused: get(&self.refused),
            unknown: get(&self.unknown),
            reconnects: get(&self.reconnects),
            caught_up: get(&self.caught_up),
        }
    }
}
