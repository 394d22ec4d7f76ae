//! The publisher: a task that sends each hold the hook handed on as one
//! statement, the hold kept in the table and notified in one transaction.

use std::time::Instant;

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::counts::Event;
use super::quiet::Line;
use super::{MAX_WAIT, SharedHolds, TARGET};
use crate::cooldown::Cooldown;

/// One hold published: kept in the table and notified, in one transaction
/// (the notification is delivered at its commit, the row visible then).
/// The row names the replica whose hold ends last (its listener skips it
/// when it reads the table again).
///
/// It and the listener's statements are sent unprepared
/// (`persistent(false)`): a statement sqlx prepares by name (`sqlx_s_1`,
/// ...) breaks behind PgBouncer in transaction pooling (1.20 and older;
/// 1.21+ keeps them with `max_prepared_statements`), the next transaction
/// running on a server connection that has not prepared it, or where
/// another client prepared one of that name ("prepared statement
/// \"sqlx_s_1\" already exists"). One parse a hold costs nothing beside
/// its round trip. It runs in a transaction of its own
/// ([`probe::alone`](super::probe::alone); BEGIN and COMMIT: two round
/// trips more a hold), so that such a pooler keeps one server connection
/// for its parse and its bind.
const PUBLISH: &str = "
WITH held AS (
    INSERT INTO cooldown_holds (channel, cooldown, until, sender)
    VALUES ($3, $1, now() + $2::float8 * interval '1 millisecond', $5)
    ON CONFLICT (channel, cooldown) DO UPDATE SET
        sender = CASE WHEN EXCLUDED.until > cooldown_holds.until
                      THEN EXCLUDED.sender ELSE cooldown_holds.sender END,
        until = GREATEST(cooldown_holds.until, EXCLUDED.until)
)
SELECT pg_notify($3, $4)";

/// A hold handed to the publisher: the cooldown and when the hold ends
/// (on this replica's clock: the publisher sends the time left).
#[derive(Debug)]
pub(super) struct Held {
    pub(super) cooldown: &'static Cooldown,
    pub(super) end: Instant,
}

impl SharedHolds {
    /// The publisher: each batch of holds queued together, one statement
    /// per cooldown.
    pub(super) async fn publisher(
        &'static self,
        pool: PgPool,
        mut queued: mpsc::Receiver<Held>,
        replica: String,
    ) {
        let mut batch = Vec::with_capacity(64);
        while queued.recv_many(&mut batch, 64).await > 0 {
            let mut latest: Vec<Held> = Vec::with_capacity(batch.len());
            for held in batch.drain(..) {
                match latest
                    .iter_mut()
                    .find(|h| core::ptr::eq(h.cooldown, held.cooldown))
                {
                    Some(kept) => {
                        kept.end = kept.end.max(held.end);
                        self.count(Event::Coalesced);
                    }
                    None => latest.push(held),
                }
            }
            for held in latest {
                self.publish(&pool, &replica, held).await;
            }
            self.say_unsaid();
        }
    }

    /// Publish one hold: its time left now, retried as the policy says;
    /// counted and logged when it cannot be. The time left is the
    /// cooldown's own when it holds longer: a later hold the hook could not
    /// hand on (the queue full: the holds queued end sooner) goes out with
    /// this one.
    async fn publish(&self, pool: &PgPool, replica: &str, held: Held) {
        let name = held.cooldown.name();
        let sent = self
            .publish
            .retry(|| async {
                // the time left at each attempt: a retry sends less; at
                // most MAX_WAIT, the most the others take (they refuse a
                // longer payload)
                let left = held
                    .end
                    .saturating_duration_since(Instant::now())
                    .max(held.cooldown.remaining().unwrap_or_default())
                    .min(MAX_WAIT);
                if left.is_zero() {
                    return Ok::<_, sqlx::Error>(None);
                }
                let ms = left.as_nanos().div_ceil(1_000_000) as u64;
                let payload = format!("{replica} {name} {ms}");
                super::probe::alone(
                    pool,
                    sqlx::query(PUBLISH)
                        .bind(name)
                        .bind(ms as f64)
                        .bind(self.channel)
                        .bind(&payload)
                        .bind(replica),
                )
                .await?;
                Ok(Some(ms))
            })
            .await;
        match sent {
            Ok(Some(wait_ms)) => {
                self.count(Event::Published);
                tracing::debug!(target: TARGET, cooldown = name, wait_ms, "hold published");
            }
            Ok(None) => {
                self.count(Event::Expired);
                if let Some(unsaid) = self.say(Line::Expired) {
                    tracing::warn!(
                        target: TARGET,
                        cooldown = name,
                        unsaid,
                        "hold not published: it was over before it could be sent"
                    );
                }
            }
            Err(error) => {
                self.count(Event::Failed);
                if let Some(unsaid) = self.say(Line::Failed) {
                    tracing::warn!(
                        target: TARGET,
                        cooldown = name,
                        %error,
                        unsaid,
                        "hold not published: the other replicas will not hold"
                    );
                }
            }
        }
    }
}
