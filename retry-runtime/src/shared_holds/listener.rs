//! The listener: a task that `LISTEN`s on the channel and applies each
//! other replica's hold; reads the holds still running from the table when
//! it (re)connects; checks a connection that stays silent, and that it
//! hears ([`probe`](super::probe)); makes a new one when sqlx's cannot
//! reconnect, or it does not hear.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::counts::Event;
use super::notice::{Notice, Shown};
use super::probe::Heard;
use super::quiet::Line;
use super::state::{ListenerState, Stops};
use super::{MAX_WAIT, SharedHolds, TARGET};
use crate::Backoff;

/// The holds still running on a channel, each with its time left in
/// milliseconds (on the database's clock alone), at most `$2` (MAX_WAIT's:
/// a row held past any wait, `'infinity'` or years out, written by hand,
/// would otherwise fail the subtraction or the cast, and with it every
/// read of the table), and the replica that published it.
const RUNNING: &str = "
SELECT cooldown,
       ceil(EXTRACT(EPOCH FROM
           LEAST(until, now() + $2::float8 * interval '1 millisecond') - now()) * 1000)::int8,
       sender
FROM cooldown_holds WHERE channel = $1 AND until > now()";

/// The waits between a listener's attempts to reconnect.
const RECONNECT: Backoff =
    Backoff::exponential(Duration::from_millis(100), Duration::from_secs(10));

impl SharedHolds {
    /// The listener: each notification applied. After a lost connection
    /// (`Ok(None)`) the table is read again, on a connection sqlx makes
    /// and LISTENs on first. After an error (a reconnect that failed; a
    /// connection sqlx does not see as lost, which it would keep failing
    /// on), a check of a silent connection that got no answer, or a probe
    /// it did not hear, a new listener from `pools.listener`, as
    /// [`start`](Self::start) makes one, waiting longer after each one
    /// that fails. Its probes are sent through `pools.publisher`.
    ///
    /// The listener is [`Stopped`](ListenerState::Stopped) once the task
    /// ends, however it ends: it returns, or is dropped with its runtime,
    /// even before its first poll (the guard is taken here, outside the
    /// `async` body, whose locals exist only once it runs).
    pub(super) fn listening(
        &'static self,
        pools: Pools,
        listener: PgListener,
        replica: String,
    ) -> impl Future<Output = ()> + Send + 'static {
        let stops = Stops {
            holds: self,
            pool_closed: false,
        };
        async move {
            let mut stops = stops;
            // (it returns only when the pool is closed)
            self.listen_loop(pools, listener, replica).await;
            stops.pool_closed = true;
        }
    }

    async fn listen_loop(&'static self, pools: Pools, mut listener: PgListener, replica: String) {
        loop {
            let heard = tokio::time::timeout(self.check_every, listener.try_recv()).await;
            // the tail of a storm of WARN lines, told once due
            self.say_unsaid();
            // (the error, and whether it was counted as a reconnect: a
            // pool the service closed is none, counted only once known not
            // to be that)
            let (lost, counted) = match heard {
                Ok(Ok(Some(notification))) => {
                    self.receive(notification.payload(), &replica);
                    continue;
                }
                Ok(Ok(None)) => {
                    let away = Instant::now();
                    self.set_listener(ListenerState::Reconnecting);
                    self.count(Event::Reconnect);
                    tracing::warn!(
                        target: TARGET,
                        "the listener's connection was lost: reconnecting, then reading the holds published meanwhile"
                    );
                    match self.catch_up(&mut listener, Some(&replica)).await {
                        Ok(()) => {
                            self.listening_again(away);
                            continue;
                        }
                        Err(error) => (error, true),
                    }
                }
                Ok(Err(error)) => (error, false),
                // nothing heard for a while: is the connection still
                // there, and does it hear?
                Err(_) => {
                    let check = sqlx::query("SELECT 1")
                        .persistent(false)
                        .execute(&mut listener);
                    match tokio::time::timeout(self.check_every, check).await {
                        Ok(Ok(_)) => {
                            match self.check_hearing(&pools, &mut listener, &replica).await {
                                Ok(()) => continue,
                                Err(error) => (error, false),
                            }
                        }
                        Ok(Err(error)) => (error, false),
                        Err(_) => {
                            let silent = format!(
                                "no answer to a check of the connection in {:?}",
                                self.check_every
                            );
                            let error = sqlx::Error::Io(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                silent,
                            ));
                            (error, false)
                        }
                    }
                }
            };
            if self.pool_closed(&lost) {
                return;
            }
            let away = Instant::now();
            if !counted {
                self.count(Event::Reconnect);
            }
            self.set_listener(ListenerState::Reconnecting);
            tracing::warn!(
                target: TARGET,
                error = %lost,
                "the listener's connection failed: the holds published meanwhile are read once it is back"
            );
            let mut failures = 0;
            listener = loop {
                tokio::time::sleep(RECONNECT.delay(failures)).await;
                // the tail of a storm told while it is away too (the
                // database away is when storms come)
                self.say_unsaid();
                // bounded: an idle connection the pool hands it may be as
                // silent as the one given up (its connect and LISTEN, the
                // probe's send and its wait, the table's read)
                let made = tokio::time::timeout(
                    self.check_every.saturating_mul(4),
                    self.listen(&pools, Some(&replica)),
                );
                match made.await.unwrap_or_else(|_| {
                    Err(sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "no new listener in {:?}",
                            self.check_every.saturating_mul(4)
                        ),
                    )))
                }) {
                    Ok(listener) => {
                        self.listening_again(away);
                        break listener;
                    }
                    Err(error) if self.pool_closed(&error) => return,
                    Err(error) => {
                        tracing::warn!(target: TARGET, %error, "the listener cannot reconnect; trying again");
                        failures = failures.saturating_add(1);
                    }
                }
            };
        }
    }

    /// The listener listens again, the holds published meanwhile read:
    /// said at INFO (the end of its WARN lines), with how long it was
    /// away since its connection was seen lost.
    fn listening_again(&self, away: Instant) {
        self.set_listener(ListenerState::Listening);
        tracing::info!(
            target: TARGET,
            away_ms = away.elapsed().as_millis() as u64,
            "the listener is listening again: the holds published meanwhile were read from the table"
        );
    }

    /// Is `error` the pool's being closed (by the service: at shutdown, or
    /// to make another)? Then the listener stops (its task's [`Stops`]
    /// says so in its state), saying so: a closed pool never opens again.
    fn pool_closed(&self, error: &sqlx::Error) -> bool {
        let closed = matches!(error, sqlx::Error::PoolClosed);
        if closed {
            tracing::info!(
                target: TARGET,
                "the pool is closed: the listener stops (no other replica's hold is applied here from now on)"
            );
        }
        closed
    }

    /// A listener from `pools.listener`, found to hear (its probe, sent
    /// through `pools.publisher`, came back: else the error says why and
    /// what to do), LISTENing, the holds still running read (but for
    /// those of `own`, the replica's name after its first read).
    pub(super) async fn listen(
        &self,
        pools: &Pools,
        own: Option<&str>,
    ) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&pools.listener).await?;
        // a lost connection is made again by the next statement on it (the
        // table's read), not inside `try_recv`: a `try_recv` cut short by
        // the check's timeout is then never cut in its reconnect, which
        // would have reconnected without the read
        listener.eager_reconnect(false);
        // its probe's channel first: a listener that does not hear is
        // found before it LISTENs on the replicas' channel (behind a
        // pooler, a server connection left listening there would take
        // the replicas' notifications to other clients)
        listener.listen(&pools.probe).await?;
        let deaf = match self
            .hears(&pools.publisher, &mut listener, &pools.probe, None)
            .await?
        {
            Heard::Yes => None,
            Heard::No(failed) => Some(self.deaf(failed)),
            Heard::Unsent(error) => Some(sqlx::Error::Configuration(
                format!(
                    "the listener's check could not be sent ({error}): the publisher's pool \
                     had no connection free for it (with one pool for both, give it one \
                     more beside the listener's)"
                )
                .into(),
            )),
            Heard::Lost => Some(lost()),
        };
        if let Some(error) = deaf {
            // (best effort: behind a pooler, it may run elsewhere)
            let _ = listener.unlisten_all().await;
            return Err(error);
        }
        listener.listen(self.channel).await?;
        self.catch_up(&mut listener, own).await?;
        Ok(listener)
    }

    /// The check of a silent listener that answered: does it hear? `Ok`
    /// when it does, or when the probe could not be sent (a pool busy:
    /// that says nothing of the listener).
    async fn check_hearing(
        &self,
        pools: &Pools,
        listener: &mut PgListener,
        replica: &str,
    ) -> Result<(), sqlx::Error> {
        match self
            .hears(&pools.publisher, listener, &pools.probe, Some(replica))
            .await?
        {
            Heard::Yes => Ok(()),
            Heard::Unsent(error) => {
                tracing::debug!(target: TARGET, %error, "the listener's check could not be sent");
                Ok(())
            }
            Heard::No(failed) => Err(self.deaf(failed)),
            Heard::Lost => Err(lost()),
        }
    }

    /// Read the holds still running from the table and apply them, on the
    /// listener's connection (so after its `LISTEN`: a hold committed
    /// since is notified, one before is in the table). Those `own` sent
    /// are skipped (counted as its own): after its first read a replica
    /// holds its own already, and applying one again would count and log
    /// it again. Its process's first read (`None`) applies them: a replica
    /// restarted under its name takes back the holds it published before.
    async fn catch_up(
        &self,
        listener: &mut PgListener,
        own: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .persistent(false)
            .fetch_one(&mut *listener)
            .await?;
        self.listener_pid.store(pid, Ordering::Relaxed);
        let running: Vec<(String, i64, String)> = sqlx::query_as(RUNNING)
            .bind(self.channel)
            .bind(MAX_WAIT.as_millis() as f64)
            .persistent(false)
            .fetch_all(&mut *listener)
            .await?;
        for (name, ms, sender) in running {
            if own == Some(sender.as_str()) {
                self.count(Event::Own);
                continue;
            }
            let wait = Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(MAX_WAIT);
            match self.find(&name) {
                Some(cooldown) => {
                    cooldown.hold_for(wait);
                    self.count(Event::CaughtUp);
                    tracing::info!(target: TARGET, cooldown = cooldown.name(), wait_ms = ms, "hold read from the table");
                }
                None => self.unknown(&name),
            }
        }
        Ok(())
    }

    /// Apply one notification's hold, unless it is this replica's own or
    /// cannot be read.
    pub(super) fn receive(&self, payload: &str, replica: &str) {
        match Notice::parse(payload) {
            Err(why) => {
                self.count(Event::Refused);
                if let Some(unsaid) = self.say(Line::Refused) {
                    tracing::warn!(target: TARGET, payload = %Shown(payload), unsaid, "hold refused: {why}");
                }
            }
            Ok(notice) if notice.replica == replica => self.count(Event::Own),
            Ok(notice) => match self.find(notice.cooldown) {
                Some(cooldown) => {
                    cooldown.hold_for(notice.wait);
                    self.count(Event::Received);
                    tracing::debug!(
                        target: TARGET,
                        cooldown = cooldown.name(),
                        from = notice.replica,
                        wait_ms = notice.wait.as_millis() as u64,
                        "hold received"
                    );
                }
                None => self.unknown(notice.cooldown),
            },
        }
    }

    fn unknown(&self, name: &str) {
        self.count(Event::Unknown);
        if let Some(unsaid) = self.say(Line::Unknown) {
            tracing::warn!(target: TARGET, cooldown = %Shown(name), unsaid, "hold refused: no cooldown of that name here");
        }
    }
}

/// The pools of a listener: its own connection's, and the one its probes
/// (the publisher's statements) go through; its probe's channel.
#[derive(Clone, Debug)]
pub(super) struct Pools {
    pub(super) publisher: PgPool,
    pub(super) listener: PgPool,
    pub(super) probe: String,
}

/// A listener's connection lost during its check.
fn lost() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "the listener's connection was lost during its check",
    ))
}
