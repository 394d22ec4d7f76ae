//! The worked example: one partner's holds shared by every replica of a
//! service, through PostgreSQL. Copy it into a service (it needs
//! `retry-runtime` with its `sqlx` feature, `sqlx` with `postgres` and
//! `runtime-tokio`, `tokio` with `sync`, `tracing`). Without that feature
//! the publisher's retry, whose errors are `sqlx::Error`s, has no
//! `Classify` for them, and rustc says only that its `Retry<..>` "is not a
//! future" at the `.await`.
//!
//! - Each replica's cooldowns tell their runs' holds to a hook
//!   ([`Cooldown::with_on_hold`]), which hands each to this replica's
//!   publisher ([`SharedHolds::hand_on`]: `try_send` into a bounded
//!   channel; a hold it cannot hand on is counted and logged, never dropped
//!   silently; the run is never blocked).
//! - The publisher sends each as one statement: the hold kept in the
//!   `cooldown_holds` table on the database's clock (`now() + wait`, a row
//!   per channel and cooldown) and
//!   `pg_notify('cooldown_holds', '<replica> <cooldown> <wait_ms>')`, in
//!   one transaction (the channel: [`CHANNEL`], or one of the service's
//!   own, [`SharedHolds::with_channel`]). It sends the time left when it sends (a wait, not
//!   an end: the replicas' clocks need not agree; at most [`MAX_WAIT`],
//!   the most a replica takes), nothing for a hold
//!   already over, and one statement per cooldown for the holds queued
//!   together (the latest end). A statement that fails is retried
//!   (`presets::DB`), then counted and logged.
//! - Each replica LISTENs (sqlx's `PgListener`, on a connection of its
//!   own) and applies each other replica's hold with
//!   [`Cooldown::hold_for`], which tells no hook: a received hold is never
//!   published again, so holds do not echo between replicas. Its own are
//!   skipped (the payload names the sender). A payload it cannot read, or
//!   that names a cooldown it does not have, is counted and logged.
//! - A listener whose connection was lost (a restart, a failover, an idle
//!   connection killed) reconnects (sqlx's, or, when that fails, a new
//!   listener, tried again and again, each wait longer), LISTENs again,
//!   then reads the holds still running from the table, so a hold published
//!   while it was away is applied all the same; a replica that starts reads
//!   them too. The listener keeps one connection of the pool it is given
//!   for itself: give the pool one more.
//! - A listener that has heard nothing for 30 s checks its connection
//!   (`SELECT 1`); one that gets no answer in 30 s more is made again, as
//!   above. A connection whose server vanished without closing it (a
//!   failover that moves the address, a network partition) would otherwise
//!   be waited on forever, every hold lost: sqlx sets no TCP keepalive.
//!   The connection given up stays taken from the pool until the system
//!   gives up on it too (the `UNLISTEN` sqlx sends as it drops a listener
//!   waits for an answer: about 15 minutes of TCP retries on Linux):
//!   give the pool room for one more after such an outage.
//!   A pool the service closes stops the listener (logged at INFO).
//!
//! A received hold ends the transport's latency later than the sender's
//! (a few milliseconds on one network); calls the other replicas send
//! meanwhile may hear 429s of their own.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use retry_runtime::cooldown::{Cooldown, HoldEvent};
use retry_runtime::{Backoff, Policy, RetryOn, presets};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::mpsc::{self, error::TrySendError};

/// The channel the replicas `NOTIFY` and `LISTEN` on by default: one per
/// group of replicas that share their cooldowns. A second service on the
/// same database takes another ([`SharedHolds::with_channel`]), or each
/// would apply the other's holds to its cooldowns of the same name (and
/// log the others as unknown); the table keeps each channel's holds apart.
pub const CHANNEL: &str = "cooldown_holds";

/// The longest wait a payload may ask: past it, it is refused (a payload
/// someone else sent on the channel must not hold the service for days).
/// A longer hold of a run here (a policy whose `RetryAfter` cap allows a
/// day) is sent as this, as a hold read from the table is applied.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The holds a replica keeps on the database's clock, for a listener that
/// (re)connects: one row per channel and cooldown, its latest end. Run it
/// with your migrations (two replicas starting together could both try to
/// create it).
pub const TABLE: &str = "CREATE TABLE IF NOT EXISTS cooldown_holds (
    channel  TEXT        NOT NULL,
    cooldown TEXT        NOT NULL,
    until    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, cooldown)
)";

/// One hold published: kept in the table and notified, in one transaction
/// (the notification is delivered at its commit, the row visible then).
const PUBLISH: &str = "
WITH held AS (
    INSERT INTO cooldown_holds (channel, cooldown, until)
    VALUES ($3, $1, now() + $2::float8 * interval '1 millisecond')
    ON CONFLICT (channel, cooldown) DO UPDATE SET until = GREATEST(cooldown_holds.until, EXCLUDED.until)
)
SELECT pg_notify($3, $4)";

/// The holds still running on a channel, each with its time left in
/// milliseconds (on the database's clock alone).
const RUNNING: &str = "
SELECT cooldown, ceil(EXTRACT(EPOCH FROM until - now()) * 1000)::int8
FROM cooldown_holds WHERE channel = $1 AND until > now()";

/// The waits between a listener's attempts to reconnect.
const RECONNECT: Backoff =
    Backoff::exponential(Duration::from_millis(100), Duration::from_secs(10));

/// How long a listener waits for a notification before it checks its
/// connection, and for the check's answer.
const CHECK_EVERY: Duration = Duration::from_secs(30);

/// The `tracing` target of the lines below.
const TARGET: &str = "shared_holds";

/// The holds of this replica's cooldowns, sent to the other replicas, and
/// theirs applied here: a `static` beside the cooldowns it shares, whose
/// hook calls [`hand_on`](Self::hand_on).
///
/// ```text
/// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(forward);
/// static SHARED: SharedHolds = SharedHolds::new(&[&PARTNER]);
/// fn forward(event: &HoldEvent) {
///     SHARED.hand_on(event)
/// }
/// // at start-up, in the runtime:
/// SHARED.start(pool, std::env::var("HOSTNAME")?).await?;
/// ```
pub struct SharedHolds {
    cooldowns: &'static [&'static Cooldown],
    capacity: usize,
    channel: &'static str,
    check_every: Duration,
    publish: Policy<RetryOn>,
    outbox: OnceLock<mpsc::Sender<Held>>,
    /// The listener's backend (`pg_backend_pid()`), 0 before it connects.
    listener_pid: AtomicI32,
    counts: Counters,
}

/// A hold handed to the publisher: the cooldown's name and when it ends
/// (on this replica's clock: the publisher sends the time left).
#[derive(Debug)]
struct Held {
    cooldown: &'static str,
    end: Instant,
}

impl SharedHolds {
    /// Sharing the holds of `cooldowns` (each found by its name in the
    /// other replicas' payloads), up to 256 holds queued for the
    /// publisher.
    pub const fn new(cooldowns: &'static [&'static Cooldown]) -> SharedHolds {
        SharedHolds {
            cooldowns,
            capacity: 256,
            channel: CHANNEL,
            check_every: CHECK_EVERY,
            // a dropped connection retried after 1s, 2s, 4s, each time
            // sending the time then left
            publish: presets::DB.with_name("shared_holds.publish"),
            outbox: OnceLock::new(),
            listener_pid: AtomicI32::new(0),
            counts: Counters::new(),
        }
    }

    /// At most `holds` (at least 1) queued for the publisher: past them
    /// (the database slow or away long enough for that many 429s), a hold
    /// is not forwarded, counted ([`Counts::dropped`]) and logged.
    pub const fn with_capacity(mut self, holds: usize) -> SharedHolds {
        self.capacity = if holds == 0 { 1 } else { holds };
        self
    }

    /// `NOTIFY` and `LISTEN` on `channel` ([`CHANNEL`] by default): each
    /// group of replicas that share their cooldowns (each service) on one
    /// database takes its own. 1 to 63 bytes (PostgreSQL's identifiers):
    /// [`start`](Self::start) refuses another.
    pub const fn with_channel(mut self, channel: &'static str) -> SharedHolds {
        self.channel = channel;
        self
    }

    /// Check the listener's connection after `every` (30 s by default, at
    /// least 100 ms) without a notification, waiting as long for its
    /// answer: a connection that does not answer is given up for a new one.
    pub const fn with_check_every(mut self, every: Duration) -> SharedHolds {
        self.check_every = if every.as_millis() < 100 {
            Duration::from_millis(100)
        } else {
            every
        };
        self
    }

    /// What it did so far.
    pub fn counts(&self) -> Counts {
        self.counts.read()
    }

    /// The backend process of its listener's connection (0 before it
    /// connected): what `pg_terminate_backend` would cut.
    pub fn listener_pid(&self) -> i32 {
        self.listener_pid.load(Ordering::Relaxed)
    }

    /// For the cooldowns' hook: hand the hold a run made to the publisher,
    /// at once (a `try_send`: the run is not held up). When it cannot (the
    /// publisher not started, or stopped, or `with_capacity` holds queued
    /// already), the hold is counted as dropped and logged at WARN.
    pub fn hand_on(&self, event: &HoldEvent) {
        let cooldown = event.cooldown().name();
        let now = Instant::now();
        let end = now.checked_add(event.wait()).unwrap_or(now + MAX_WAIT);
        let why = match self.outbox.get() {
            None => "its publisher is not started",
            Some(outbox) => match outbox.try_send(Held { cooldown, end }) {
                Ok(()) => {
                    Counters::add(&self.counts.handed_on);
                    return;
                }
                Err(TrySendError::Full(_)) => "the publisher's queue is full",
                Err(TrySendError::Closed(_)) => "its publisher has stopped",
            },
        };
        Counters::add(&self.counts.dropped);
        tracing::warn!(
            target: TARGET,
            cooldown,
            wait_ms = event.wait().as_millis() as u64,
            "hold not forwarded to the other replicas: {why}"
        );
    }

    /// Connect its listener (`LISTEN`, then the holds still running read
    /// from the table and applied), then run the publisher and the listener
    /// as tasks of this runtime. `replica` names this replica in its
    /// payloads (the pod's name; no whitespace), so that its listener
    /// skips its own holds. The listener keeps one of `pool`'s
    /// connections for itself; the publisher takes one per statement. An
    /// error: the listener could not connect, it was started already, the
    /// replica's or the channel's name cannot be used, or a cooldown has
    /// no hook or another's name.
    pub async fn start(&'static self, pool: PgPool, replica: String) -> Result<(), sqlx::Error> {
        if replica.is_empty() || replica.contains(char::is_whitespace) {
            return Err(sqlx::Error::Configuration(
                format!("a replica's name has no whitespace and is not empty: {replica:?}").into(),
            ));
        }
        // PostgreSQL's identifiers are at most 63 bytes: `LISTEN` would
        // truncate a longer channel, and `pg_notify` refuses it
        if self.channel.is_empty() || self.channel.len() > 63 {
            return Err(sqlx::Error::Configuration(
                format!(
                    "a channel's name is 1 to 63 bytes: {:?} is {}",
                    self.channel,
                    self.channel.len()
                )
                .into(),
            ));
        }
        self.check_cooldowns()?;
        if self.outbox.get().is_some() {
            return Err(sqlx::Error::Configuration(
                "these holds are shared already".into(),
            ));
        }
        let listener = self.listen(&pool).await?;
        let (outbox, queued) = mpsc::channel(self.capacity);
        if self.outbox.set(outbox).is_err() {
            return Err(sqlx::Error::Configuration(
                "these holds are shared already".into(),
            ));
        }
        tokio::spawn(self.publisher(pool.clone(), queued, replica.clone()));
        tokio::spawn(self.listener(pool, listener, replica));
        Ok(())
    }

    /// Each cooldown has a hook (without one, its runs' holds never reach
    /// [`hand_on`](Self::hand_on)), and a name of its own (the other
    /// replicas find a cooldown by its name).
    fn check_cooldowns(&self) -> Result<(), sqlx::Error> {
        for (i, cooldown) in self.cooldowns.iter().enumerate() {
            let name = cooldown.name();
            if cooldown.on_hold().is_none() {
                return Err(sqlx::Error::Configuration(
                    format!(
                        "cooldown {name:?} has no hook: its runs' holds would never be \
                         shared; build it with `.with_on_hold(|event| SHARED.hand_on(event))`"
                    )
                    .into(),
                ));
            }
            if self.cooldowns[..i].iter().any(|c| c.name() == name) {
                return Err(sqlx::Error::Configuration(
                    format!(
                        "two cooldowns are named {name:?}: the other replicas find a \
                         cooldown by its name"
                    )
                    .into(),
                ));
            }
        }
        Ok(())
    }

    /// The publisher: each batch of holds queued together, one statement
    /// per cooldown.
    async fn publisher(
        &'static self,
        pool: PgPool,
        mut queued: mpsc::Receiver<Held>,
        replica: String,
    ) {
        let mut batch = Vec::with_capacity(64);
        while queued.recv_many(&mut batch, 64).await > 0 {
            let mut latest: Vec<Held> = Vec::with_capacity(batch.len());
            for held in batch.drain(..) {
                match latest.iter_mut().find(|h| h.cooldown == held.cooldown) {
                    Some(kept) => {
                        kept.end = kept.end.max(held.end);
                        Counters::add(&self.counts.coalesced);
                    }
                    None => latest.push(held),
                }
            }
            for held in latest {
                self.publish(&pool, &replica, held).await;
            }
        }
    }

    /// Publish one hold: its time left now, retried as the policy says;
    /// counted and logged when it cannot be.
    async fn publish(&self, pool: &PgPool, replica: &str, held: Held) {
        let sent = self
            .publish
            .retry(|| async {
                // the time left at each attempt: a retry sends less; at
                // most MAX_WAIT, the most the others take (they refuse a
                // longer payload)
                let left = held
                    .end
                    .saturating_duration_since(Instant::now())
                    .min(MAX_WAIT);
                if left.is_zero() {
                    return Ok::<_, sqlx::Error>(None);
                }
                let ms = left.as_nanos().div_ceil(1_000_000) as u64;
                let payload = format!("{replica} {} {ms}", held.cooldown);
                sqlx::query(PUBLISH)
                    .bind(held.cooldown)
                    .bind(ms as f64)
                    .bind(self.channel)
                    .bind(&payload)
                    .execute(pool)
                    .await?;
                Ok(Some(ms))
            })
            .await;
        match sent {
            Ok(Some(wait_ms)) => {
                Counters::add(&self.counts.published);
                tracing::debug!(target: TARGET, cooldown = held.cooldown, wait_ms, "hold published");
            }
            Ok(None) => {
                Counters::add(&self.counts.expired);
                tracing::warn!(
                    target: TARGET,
                    cooldown = held.cooldown,
                    "hold not published: it was over before it could be sent"
                );
            }
            Err(error) => {
                Counters::add(&self.counts.failed);
                tracing::warn!(
                    target: TARGET,
                    cooldown = held.cooldown,
                    %error,
                    "hold not published: the other replicas will not hold"
                );
            }
        }
    }

    /// The listener: each notification applied. After a lost connection
    /// (`Ok(None)`) the table is read again, on a connection sqlx makes
    /// and LISTENs on first. After an error (a reconnect that failed; a
    /// connection sqlx does not see as lost, which it would keep failing
    /// on) or a check of a silent connection that got no answer, a new
    /// listener from the pool, as [`start`](Self::start) makes one,
    /// waiting longer after each one that fails.
    async fn listener(&'static self, pool: PgPool, mut listener: PgListener, replica: String) {
        loop {
            let heard = tokio::time::timeout(self.check_every, listener.try_recv()).await;
            let lost = match heard {
                Ok(Ok(Some(notification))) => {
                    self.receive(notification.payload(), &replica);
                    continue;
                }
                Ok(Ok(None)) => {
                    Counters::add(&self.counts.reconnects);
                    tracing::warn!(
                        target: TARGET,
                        "the listener's connection was lost: reconnecting, then reading the holds published meanwhile"
                    );
                    match self.catch_up(&mut listener).await {
                        Ok(()) => continue,
                        Err(error) => error,
                    }
                }
                Ok(Err(error)) => {
                    Counters::add(&self.counts.reconnects);
                    error
                }
                // nothing heard for a while: is the connection still there?
                Err(_) => {
                    let check = sqlx::query("SELECT 1").execute(&mut listener);
                    match tokio::time::timeout(self.check_every, check).await {
                        Ok(Ok(_)) => continue,
                        Ok(Err(error)) => {
                            Counters::add(&self.counts.reconnects);
                            error
                        }
                        Err(_) => {
                            Counters::add(&self.counts.reconnects);
                            let silent = format!(
                                "no answer to a check of the connection in {:?}",
                                self.check_every
                            );
                            sqlx::Error::Io(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                silent,
                            ))
                        }
                    }
                }
            };
            if self.pool_closed(&lost) {
                return;
            }
            tracing::warn!(
                target: TARGET,
                error = %lost,
                "the listener's connection failed: the holds published meanwhile are read once it is back"
            );
            let mut failures = 0;
            listener = loop {
                tokio::time::sleep(RECONNECT.delay(failures)).await;
                match self.listen(&pool).await {
                    Ok(listener) => break listener,
                    Err(error) if self.pool_closed(&error) => return,
                    Err(error) => {
                        tracing::warn!(target: TARGET, %error, "the listener cannot reconnect; trying again");
                        failures = failures.saturating_add(1);
                    }
                }
            };
        }
    }

    /// Is `error` the pool's being closed (by the service: at shutdown, or
    /// to make another)? Then the listener stops, saying so: a closed pool
    /// never opens again.
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

    /// A listener from `pool`, LISTENing, the holds still running read.
    async fn listen(&self, pool: &PgPool) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        // a lost connection is made again by the next statement on it (the
        // table's read), not inside `try_recv`: a `try_recv` cut short by
        // the check's timeout is then never cut in its reconnect, which
        // would have reconnected without the read
        listener.eager_reconnect(false);
        listener.listen(self.channel).await?;
        self.catch_up(&mut listener).await?;
        Ok(listener)
    }

    /// Read the holds still running from the table and apply them, on the
    /// listener's connection (so after its `LISTEN`: a hold committed
    /// since is notified, one before is in the table).
    async fn catch_up(&self, listener: &mut PgListener) -> Result<(), sqlx::Error> {
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *listener)
            .await?;
        self.listener_pid.store(pid, Ordering::Relaxed);
        let running: Vec<(String, i64)> = sqlx::query_as(RUNNING)
            .bind(self.channel)
            .fetch_all(&mut *listener)
            .await?;
        for (name, ms) in running {
            let wait = Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(MAX_WAIT);
            match self.find(&name) {
                Some(cooldown) => {
                    cooldown.hold_for(wait);
                    Counters::add(&self.counts.caught_up);
                    tracing::info!(target: TARGET, cooldown = cooldown.name(), wait_ms = ms, "hold read from the table");
                }
                None => self.unknown(&name),
            }
        }
        Ok(())
    }

    /// Apply one notification's hold, unless it is this replica's own or
    /// cannot be read.
    fn receive(&self, payload: &str, replica: &str) {
        match Notice::parse(payload) {
            Err(why) => {
                Counters::add(&self.counts.refused);
                tracing::warn!(target: TARGET, payload = %Shown(payload), "hold refused: {why}");
            }
            Ok(notice) if notice.replica == replica => Counters::add(&self.counts.own),
            Ok(notice) => match self.find(notice.cooldown) {
                Some(cooldown) => {
                    cooldown.hold_for(notice.wait);
                    Counters::add(&self.counts.received);
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
        Counters::add(&self.counts.unknown);
        tracing::warn!(target: TARGET, cooldown = %Shown(name), "hold refused: no cooldown of that name here");
    }

    fn find(&self, name: &str) -> Option<&'static Cooldown> {
        self.cooldowns.iter().copied().find(|c| c.name() == name)
    }
}

/// One payload read: `<replica> <cooldown> <wait_ms>` (the cooldown's name
/// may hold spaces; the replica's may not).
#[derive(Debug, PartialEq)]
pub struct Notice<'a> {
    pub replica: &'a str,
    pub cooldown: &'a str,
    pub wait: Duration,
}

/// Why a payload was refused.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// Not three fields.
    Shape,
    /// The wait is not a number of milliseconds.
    NotMillis,
    /// The wait is longer than [`MAX_WAIT`].
    TooLong,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::Shape => "not `<replica> <cooldown> <wait_ms>`",
            Refused::NotMillis => "its wait is not a number of milliseconds",
            Refused::TooLong => "its wait is longer than an hour",
        })
    }
}

impl<'a> Notice<'a> {
    /// Read a payload, refusing what is not one of ours.
    pub fn parse(payload: &'a str) -> Result<Notice<'a>, Refused> {
        let (replica, rest) = payload.split_once(' ').ok_or(Refused::Shape)?;
        let (cooldown, ms) = rest.rsplit_once(' ').ok_or(Refused::Shape)?;
        if replica.is_empty() || cooldown.is_empty() {
            return Err(Refused::Shape);
        }
        if ms.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refused::NotMillis);
        }
        // all digits: only too many of them fail
        let ms: u64 = ms.parse().map_err(|_| Refused::TooLong)?;
        let wait = Duration::from_millis(ms);
        if wait > MAX_WAIT {
            return Err(Refused::TooLong);
        }
        Ok(Notice {
            replica,
            cooldown,
            wait,
        })
    }
}

/// A payload in a log line: escaped, its first 100 characters.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut: String = self.0.chars().take(100).collect();
        write!(f, "{:?}", cut)?;
        if self.0.chars().nth(100).is_some() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// What a [`SharedHolds`] did: every hold a run made is handed on or
/// dropped; every hold handed on is published, coalesced into another,
/// expired or failed; every notification is received, its own, refused
/// or unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
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
    /// This replica's own notifications, skipped.
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

struct Counters {
    handed_on: AtomicU64,
    dropped: AtomicU64,
    published: AtomicU64,
    coalesced: AtomicU64,
    expired: AtomicU64,
    failed: AtomicU64,
    received: AtomicU64,
    own: AtomicU64,
    refused: AtomicU64,
    unknown: AtomicU64,
    reconnects: AtomicU64,
    caught_up: AtomicU64,
}

impl Counters {
    const fn new() -> Counters {
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

    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> Counts {
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
