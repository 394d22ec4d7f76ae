//! The listener's check that it hears: a `NOTIFY` on a channel of its own
//! (its probe), sent through the publisher's pool, so from another
//! connection, while the listener waits. At start, after each new
//! listener, and at each check of a silent one.
//!
//! Why this and not `pg_listening_channels()` on the listener's
//! connection, or a `NOTIFY` the listener sends itself: behind PgBouncer
//! in transaction pooling, a `LISTEN` stays on the server connection it
//! ran on, which goes back to PgBouncer's pool at the end of the
//! statement. The listener's next statement often gets that same server
//! connection back (always, with one server connection per pool), so
//! both of those checks pass: the server connection listens, and a
//! notification a client sends itself is delivered to it at its commit.
//! But a `NOTIFY` from another replica is delivered while the listener
//! waits, holding no server connection: to whichever client has the
//! listening one then (whose next statement fails, sqlx seeing a message
//! it did not ask for), or, to an idle one, dropped with it ("got packet
//! 'A' from server when not linked"). Only a notification sent from
//! elsewhere while the listener waits is heard as another replica's
//! would be.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::SharedHolds;

/// The statement that sends the probe (unprepared: see `PUBLISH`).
const SEND: &str = "SELECT pg_notify($1, '')";

/// A probe's channel: `retry_probe_` and 16 hex digits drawn at random (no
/// other listener's), well under PostgreSQL's 63 bytes.
pub(super) fn channel() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("retry_probe_{:016x}", hasher.finish())
}

/// What a check found.
#[derive(Debug)]
pub(super) enum Heard {
    /// The probe came back: the listener hears.
    Yes,
    /// It did not come back in time: the listener is deaf. With the
    /// error of its `NOTIFY`, when that failed (behind PgBouncer, a
    /// sender whose server connection listens gets the notification and
    /// fails on it: the statement ran all the same).
    No(Option<sqlx::Error>),
    /// It could not be sent: no connection of the pool free in time (the
    /// check says nothing of the listener).
    Unsent(sqlx::Error),
    /// The listener's connection was lost while it waited.
    Lost,
}

impl SharedHolds {
    /// Send the probe on `probe` through `pool`, then wait for it on
    /// `listener` (each [`with_check_every`](Self::with_check_every)),
    /// applying the other replicas' holds heard meanwhile (when
    /// `replica`, this one's name, is given: once the listener listens on
    /// the channel).
    pub(super) async fn hears(
        &self,
        pool: &PgPool,
        listener: &mut PgListener,
        probe: &str,
        replica: Option<&str>,
    ) -> Result<Heard, sqlx::Error> {
        let send = alone(pool, sqlx::query(SEND).bind(probe));
        let failed = match tokio::time::timeout(self.check_every, send).await {
            Ok(Ok(_)) => None,
            Ok(Err(sqlx::Error::PoolClosed)) => return Err(sqlx::Error::PoolClosed),
            Ok(Err(error @ sqlx::Error::PoolTimedOut)) => return Ok(Heard::Unsent(error)),
            Err(_) => return Ok(Heard::Unsent(timed_out(self.check_every))),
            Ok(Err(error)) => Some(error),
        };
        let deadline = tokio::time::Instant::now() + self.check_every;
        loop {
            match tokio::time::timeout_at(deadline, listener.try_recv()).await {
                Err(_) => return Ok(Heard::No(failed)),
                Ok(Ok(Some(notification))) if notification.channel() == probe => {
                    return Ok(Heard::Yes);
                }
                Ok(Ok(Some(notification))) => {
                    if let Some(replica) = replica {
                        self.receive(notification.payload(), replica);
                    }
                }
                Ok(Ok(None)) => return Ok(Heard::Lost),
                Ok(Err(error)) => return Err(error),
            }
        }
    }

    /// The error of a listener that did not hear its probe: what it means,
    /// the likely cause, and the fix.
    pub(super) fn deaf(&self, failed: Option<sqlx::Error>) -> sqlx::Error {
        let failed = match failed {
            Some(error) => format!(" (its NOTIFY failed: {error})"),
            None => String::new(),
        };
        sqlx::Error::Configuration(
            format!(
                "the listener did not hear a NOTIFY sent from another connection in {:?}{failed}, \
                 so it would hear no other replica's hold: LISTEN needs a session of its own, \
                 which a pooler in transaction or statement mode (PgBouncer's `pool_mode = \
                 transaction`) does not keep; give the listener a direct connection to \
                 PostgreSQL or a pool in session mode: \
                 `HOLDS.start_with_listener(pool, listener_pool, replica)`",
                self.check_every
            )
            .into(),
        )
    }
}

/// Runs `query` unprepared, in a transaction of its own: behind a pooler
/// in transaction mode (PgBouncer) a statement outside one is parsed on
/// one server connection (handed back at its Sync) and may be bound on
/// another, to another client's statement ("bind message supplies 1
/// parameters, but prepared statement \"\" requires 2"); inside one, the
/// pooler keeps the connection until COMMIT. The publisher's statement
/// and the probe's `NOTIFY` go this way.
pub(super) async fn alone(
    pool: &PgPool,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    query.persistent(false).execute(&mut *tx).await?;
    tx.commit().await
}

/// A send of the probe that did not end in `after`.
fn timed_out(after: Duration) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no answer to the listener's check in {after:?}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A probe's channel is a PostgreSQL identifier of its own: under 63
    /// bytes, lower-case (`LISTEN` folds an unquoted name), and another
    /// each time.
    #[test]
    fn a_probe_channel_is_a_short_identifier_drawn_each_time() {
        let (a, b) = (channel(), channel());
        assert_ne!(a, b);
        assert_eq!(a.len(), "retry_probe_".len() + 16);
        assert!(
            a.bytes()
                .all(|c| c == b'_' || c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }
}
