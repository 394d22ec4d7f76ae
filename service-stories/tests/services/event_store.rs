//! Story 001, AC1: the event processor's `_store_event_with_retry()`, a
//! sync write to the event store, retried with the `db` preset (4 attempts,
//! 1s, 2s, 4s) while the database is locked. The lock is real: a second
//! connection holds a write transaction, so the insert gets `SQLITE_BUSY`.
//! Waits are virtual (`testing::pause()`). `rusqlite::Error` is classified
//! by the library (feature `rusqlite`), by SQLite's result code, never by
//! message text: a busy or locked database is `Interrupted`, worth running
//! the write again, which `db` retries and a network preset does not; a
//! constraint says the event is bad.

use std::path::Path;
use std::time::Duration;

use retry_runtime::{Classify, ErrorKind, RetryEvent, StopReason, presets, retry, testing};
use rusqlite::{Connection, ErrorCode};
use testkit::capture;
use tracing::Level;

/// The event store: one table of events.
struct EventStore {
    conn: Connection,
}

impl EventStore {
    fn open(path: &Path) -> rusqlite::Result<EventStore> {
        let conn = Connection::open(path)?;
        // No waiting inside SQLite: a locked database answers BUSY at once,
        // and the policy decides when to try again.
        conn.busy_timeout(Duration::ZERO)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 id TEXT PRIMARY KEY,
                 camera TEXT NOT NULL,
                 description TEXT NOT NULL
             )",
        )?;
        Ok(EventStore { conn })
    }

    /// One attempt at storing an event.
    fn insert(&self, id: &str, camera: &str, description: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO events (id, camera, description) VALUES (?1, ?2, ?3)",
            (id, camera, description),
        )?;
        Ok(())
    }

    /// `_store_event_with_retry()`: the `db` preset around the sync write.
    #[retry(preset = "db")]
    fn store_event(&self, id: &str, camera: &str, description: &str) -> rusqlite::Result<()> {
        self.insert(id, camera, description)
    }

    fn count(&self) -> rusqlite::Result<u32> {
        self.conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
    }
}

/// A second connection holding the write lock until it commits.
fn hold_write_lock(path: &Path) -> Connection {
    let holder = Connection::open(path).unwrap();
    holder
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO events VALUES ('held', 'door', 'held');")
        .unwrap();
    holder
}

/// A store in a new directory, and a second connection that holds its
/// write lock (the directory lives as long as the first value).
fn locked_store() -> (tempfile::TempDir, EventStore, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let store = EventStore::open(&path).unwrap();
    let holder = hold_write_lock(&path);
    (dir, store, holder)
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// AC1: the sync write is retried on `SQLITE_BUSY` with the `db` preset:
/// two attempts find the database locked, the lock is released, the third
/// attempt stores the event.
#[test]
fn ac1_event_store_write_is_retried_while_the_database_is_locked() {
    let (_dir, store, holder) = locked_store();
    let logs = capture::capture();
    let paused = testing::pause();

    let mut holder = Some(holder);
    let mut attempts = 0;
    presets::DB
        .with_name("store_event")
        .retry(|| {
            attempts += 1;
            store.insert("evt-1", "porch", "a parcel was delivered")
        })
        .notify(|ev: &RetryEvent<'_>| {
            // the other writer commits while we wait after the 2nd attempt
            if ev.attempt == 2 {
                holder.take().unwrap().execute_batch("COMMIT").unwrap();
            }
        })
        .call()
        .unwrap();

    assert_eq!(attempts, 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
    assert_eq!(store.count().unwrap(), 2); // the holder's row and ours
    let first = logs.assert_logged(Level::WARN, "retrying store_event after attempt 1/4 failed");
    assert_eq!(capture::field(&first, "error_kind"), Some("Interrupted"));
    assert!(
        capture::field(&first, "error").unwrap().contains("locked"),
        "{first}"
    );
    logs.assert_logged(Level::INFO, "store_event succeeded on attempt 3");
}

/// AC1, the attribute form: a lock that is never released gives up after
/// the preset's 4 attempts (waits 1s, 2s, 4s) with the BUSY error.
#[test]
fn ac1_event_store_gives_up_after_4_attempts_on_a_held_lock() {
    let (_dir, store, _holder) = locked_store();
    let logs = capture::capture();
    let paused = testing::pause();

    let e = store
        .store_event("evt-2", "porch", "nobody there")
        .unwrap_err();

    assert_eq!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy));
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    logs.assert_logged(Level::ERROR, "store_event failed after 4 attempts");
}

/// AC1: a bad event (a duplicate id) is not retried.
#[test]
fn ac1_event_store_does_not_retry_a_constraint_violation() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(&dir.path().join("events.db")).unwrap();
    store.store_event("evt-3", "yard", "a fox").unwrap();
    let paused = testing::pause();

    let e = presets::DB
        .retry(|| store.insert("evt-3", "yard", "a fox again"))
        .detailed()
        .call()
        .unwrap_err();

    assert_eq!((e.attempts, e.reason), (1, StopReason::Permanent));
    assert!(paused.waits().is_empty());
}

/// AC1 asks for the database preset: a locked database is a database's
/// error (`Interrupted`), which `db` retries and a network preset such as
/// `webhook` (4 attempts, 1s, 2s, 4s too) does not.
#[test]
fn ac1_a_locked_database_is_retried_by_db_not_by_a_network_preset() {
    let (_dir, store, _holder) = locked_store();
    let _paused = testing::pause();

    let busy = store.insert("evt-4", "gate", "a car").unwrap_err();
    assert_eq!(busy.kind(), ErrorKind::Interrupted);
    let webhook = presets::WEBHOOK
        .retry(|| store.insert("evt-4", "gate", "a car"))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(
        (webhook.attempts, webhook.reason),
        (1, StopReason::Permanent)
    );
    let db = presets::DB
        .retry(|| store.insert("evt-4", "gate", "a car"))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((db.attempts, db.reason), (4, StopReason::Attempts));
}
