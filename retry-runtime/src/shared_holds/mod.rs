//! One partner's holds shared by every replica of a service, through
//! PostgreSQL (feature `shared-holds`): a `Retry-After` one replica hears
//! holds the others' [`Cooldown`]s of that name too.
//!
//! ```no_run
//! use retry_runtime::cooldown::Cooldown;
//! use retry_runtime::shared_holds::{self, SharedHolds};
//! use retry_runtime::{presets, Policy, RetryOn};
//!
//! static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
//! static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
//! static IMPORT: Policy<RetryOn> = presets::API.with_name("import").with_cooldown(&PARTNER);
//!
//! # async fn service() -> Result<(), Box<dyn std::error::Error>> {
//! // at start-up, in the tokio runtime:
//! let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
//! sqlx::query(shared_holds::TABLE).execute(&pool).await?; // (with your migrations)
//! HOLDS.start(pool.clone(), std::env::var("HOSTNAME")?).await?;
//! # let _ = &IMPORT;
//! // ... and at shutdown, before the runtime ends (the listener then
//! // stops with an INFO line, not a WARN):
//! pool.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! What it does, and guarantees:
//! - Each replica's cooldowns tell their runs' holds to a hook
//!   ([`Cooldown::with_on_hold`]), which hands each to this replica's
//!   publisher ([`SharedHolds::hand_on`]: `try_send` into a bounded
//!   channel; a hold it cannot hand on is counted and logged, never dropped
//!   silently; the run is never blocked). A hold of a cooldown whose hook
//!   calls it but which is not in [`SharedHolds::new`]'s list is not
//!   handed on (the other replicas would not find it): counted
//!   `dropped`, its WARN line naming the cooldown and the fix.
//! - The publisher sends each as one statement: the hold kept in the
//!   `cooldown_holds` table ([`TABLE`]) on the database's clock (`now() +
//!   wait`, a row per channel and cooldown) and `pg_notify(channel,
//!   '<replica> <cooldown> <wait_ms>')`, in one transaction (the channel:
//!   [`CHANNEL`], or one of the service's own,
//!   [`SharedHolds::with_channel`]). It sends the time left when it sends
//!   (a wait, not an end: the replicas' clocks need not agree; at most
//!   [`MAX_WAIT`], the most a replica takes), nothing for a hold already
//!   over, and one statement per cooldown for the holds queued together
//!   (the latest end, or the cooldown's own when it holds longer: a later
//!   hold the hook could not hand on, its queue full, goes out with the
//!   next one queued). A statement that fails is retried (`presets::DB`:
//!   4 attempts, 1s, 2s and 4s between them; the operation
//!   `shared_holds.publish` in the metrics and the WARN retry lines),
//!   then counted (`failed`) and logged. While the database is away each
//!   attempt waits for a connection up to the pool's acquire timeout
//!   (sqlx's `acquire_timeout`, 30 s by default): a statement gives up
//!   after about 2 minutes. The holds queued meanwhile go out with it
//!   (each retry sends its cooldown's latest end) and are counted
//!   `coalesced` as the next statement takes them; a statement that
//!   fails loses those coalesced into it too.
//! - Each replica LISTENs (sqlx's `PgListener`, on a connection of its
//!   own) and applies each other replica's hold with
//!   [`Cooldown::hold_for`], which tells no hook: a received hold is never
//!   published again, so holds do not echo between replicas. Its own are
//!   skipped (the payload names the sender). A payload it cannot read
//!   ([`Notice::parse`]), or that names a cooldown it does not have, is
//!   counted and logged.
//! - What it counts it logs at WARN, but a storm of one kind of line (a
//!   hold dropped, a payload refused, ...) is cut to one line each 10 s
//!   naming how many it left unsaid ([`SharedHolds::with_log_every`]);
//!   the counts ([`SharedHolds::counts`]) have every one.
//! - A listener whose connection was lost (a restart, a failover, an idle
//!   connection killed) reconnects (sqlx's, or, when that fails, a new
//!   listener, tried again and again, each wait longer), LISTENs again,
//!   then reads the holds still running from the table, so a hold published
//!   while it was away is applied all the same (but for its own, which it
//!   holds already); a replica that starts reads them too (its own among
//!   them at its process's first start: a replica restarted under its
//!   name takes back its holds). The
//!   listener keeps one connection of the pool it is given for itself:
//!   give the pool one more.
//! - A listener that has heard nothing for 30 s checks its connection
//!   (`SELECT 1`), then that it hears (a `NOTIFY` on a channel of its own,
//!   sent through the pool, from another connection); one that gets no
//!   answer, or does not hear its `NOTIFY`, in 30 s more is made again, as
//!   above ([`SharedHolds::with_check_every`]), and a new one that does
//!   not hear either is refused and tried again, each time said at WARN.
//!   Once it listens again it says so at INFO ("the listener is listening
//!   again", with how long it was away, `away_ms`). A connection whose server
//!   vanished without closing it (a failover that moves the address, a
//!   network partition) would otherwise be waited on forever, every hold
//!   lost: sqlx sets no TCP keepalive. The connection given up stays taken
//!   from the pool until the system gives up on it too (the `UNLISTEN`
//!   sqlx sends as it drops a listener waits for an answer: about 15
//!   minutes of TCP retries on Linux): give the pool room for one more
//!   after such an outage. A pool the service closes stops the listener
//!   (logged at INFO); [`start`](SharedHolds::start) with a new pool
//!   shares the holds again.
//! - Where the listener is, the service can ask and alert on:
//!   [`SharedHolds::listener`] is [`ListenerState::Listening`],
//!   `Reconnecting`, or `Stopped` for good (its pool closed, or its tokio
//!   runtime shut down, the publisher with it: logged at WARN, and the
//!   hook's holds are dropped from then on, counted; until `start` is
//!   called again, in a runtime that runs, with an open pool). With the feature
//!   `metrics`, the gauge `retry_shared_holds_listening`, the counters
//!   `retry_shared_holds_total` (by `event`, [`Counts`]' fields) and
//!   `retry_shared_holds_reconnects_total`, each by `channel` (see
//!   [`metrics`](crate::metrics)), each registered at 0 as `start` begins
//!   (a start that failed shows the listener at 0). Close the pool at
//!   shutdown (`pool.close().await`, before the runtime ends): the
//!   listener then stops with an INFO line, where a runtime that ends
//!   under it gives the WARN "the listener stopped with its tokio
//!   runtime".
//! - Sharing off (local development, one replica): without `start`, the
//!   hook's holds are counted `dropped`, a WARN line at most each
//!   [`with_log_every`](SharedHolds::with_log_every); nothing is held up.
//!   To say "off", let the hook call [`hand_on`](SharedHolds::hand_on)
//!   only when sharing is on (an `AtomicBool` set before `start`:
//!   docs/breaker-and-budget.md, "Many replicas against one
//!   rate-limited API").
//!
//! A received hold ends the transport's latency later than the sender's
//! (a few milliseconds on one network); calls the other replicas send
//! meanwhile may hear 429s of their own.
//!
//! # Behind PgBouncer
//!
//! `LISTEN` needs a session of its own, which a pooler in transaction (or
//! statement) mode does not keep: PgBouncer runs the `LISTEN` on a server
//! connection that goes back to its pool, and another replica's `NOTIFY`
//! reaches whichever client holds that connection then (whose statement
//! fails on it), or none. So [`start`](SharedHolds::start) checks that its
//! listener hears a `NOTIFY` sent from another connection, and refuses
//! when it does not (after [`with_check_every`](SharedHolds::with_check_every),
//! 30 s), its error naming the cause and the fix: a listener's
//! connection straight to PostgreSQL (or through a pool in session mode),
//! given with [`start_with_listener`](SharedHolds::start_with_listener);
//! the publisher's statements and the checks may go through PgBouncer.
//! Its statements are not prepared by name and each runs in a transaction
//! of its own, so they run through PgBouncer 1.20 and older too, also
//! under other clients' traffic (outside a transaction, PgBouncer may
//! parse a statement on one server connection and bind it on another:
//! your own statements through it meet the same outside a transaction,
//! `statement_cache_capacity(0)` or not).
//!
//! ```no_run
//! # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
//! # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
//! # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
//! use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
//!
//! # async fn service() -> Result<(), Box<dyn std::error::Error>> {
//! // DATABASE_URL: PgBouncer, in transaction pooling
//! let bouncer: PgConnectOptions = std::env::var("DATABASE_URL")?.parse()?;
//! let pool = PgPoolOptions::new().connect_with(bouncer.statement_cache_capacity(0)).await?;
//! // DIRECT_DATABASE_URL: PostgreSQL itself, for the listener's connection
//! // (and one for a new listener after an outage)
//! let listener = PgPoolOptions::new()
//!     .max_connections(2)
//!     .connect(&std::env::var("DIRECT_DATABASE_URL")?)
//!     .await?;
//! HOLDS.start_with_listener(pool, listener, std::env::var("HOSTNAME")?).await?;
//! # Ok(())
//! # }
//! ```
//!
//! The feature adds sqlx with its `postgres` driver and `runtime-tokio`,
//! and tokio with `rt`, `sync` and `time`; the log lines' target is
//! `retry_runtime::shared_holds`. docs/breaker-and-budget.md's "Many
//! replicas against one rate-limited API" measures it.

mod counts;
mod listener;
mod notice;
mod probe;
mod publisher;
mod quiet;
mod state;

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::mpsc::{self, error::TrySendError};

use counts::Counters;
pub use counts::Counts;
pub(crate) use counts::Event;
use listener::Pools;
pub use notice::{Notice, Refused};
use publisher::Held;
use quiet::{Line, Quiet};
pub use state::ListenerState;
use state::State;

use crate::cooldown::{Cooldown, HoldEvent};
use crate::{Policy, RetryOn, presets};

/// The channel the replicas `NOTIFY` and `LISTEN` on by default: one per
/// group of replicas that share their cooldowns. A second service on the
/// same database takes another ([`SharedHolds::with_channel`]), or each
/// would apply the other's holds to its cooldowns of the same name (and
/// log the others as unknown); the table keeps each channel's holds apart.
///
/// ```
/// assert_eq!(retry_runtime::shared_holds::CHANNEL, "cooldown_holds");
/// ```
pub const CHANNEL: &str = "cooldown_holds";

/// The longest wait a payload may ask: past it, it is refused (a payload
/// someone else sent on the channel must not hold the service for days).
/// A longer hold of a run here (a policy whose `RetryAfter` cap allows a
/// day) is sent as this, as a hold read from the table is applied.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(retry_runtime::shared_holds::MAX_WAIT, Duration::from_secs(3600));
/// ```
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The holds a replica keeps on the database's clock, for a listener that
/// (re)connects: one row per channel and cooldown, its latest end, and the
/// replica that published it (its own listener skips it when it reads the
/// table again). Run it with your migrations (two replicas starting
/// together could both try to create it).
///
/// A table made from the worked example this module was made from (no
/// `sender`) takes the column with `ALTER TABLE cooldown_holds ADD COLUMN
/// IF NOT EXISTS sender TEXT NOT NULL DEFAULT ''` (its rows then name no
/// replica, and every replica applies them; replicas still running the
/// example go on writing theirs so); until then
/// [`start`](SharedHolds::start) refuses it, its error giving that
/// statement.
///
/// ```no_run
/// # async fn migrate(pool: sqlx::PgPool) -> Result<(), sqlx::Error> {
/// sqlx::query(retry_runtime::shared_holds::TABLE).execute(&pool).await?;
/// # Ok(())
/// # }
/// ```
pub const TABLE: &str = "CREATE TABLE IF NOT EXISTS cooldown_holds (
    channel  TEXT        NOT NULL,
    cooldown TEXT        NOT NULL,
    until    TIMESTAMPTZ NOT NULL,
    sender   TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (channel, cooldown)
)";

/// How long a listener waits for a notification before it checks its
/// connection, and for the check's answer.
const CHECK_EVERY: Duration = Duration::from_secs(30);

/// The least time between two WARN lines of one kind, by default.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The `tracing` target of the lines of this module.
const TARGET: &str = "retry_runtime::shared_holds";

/// The statement that gives a table made for the worked example this
/// module was made from the column it lacks ([`TABLE`]'s docs).
const ADD_SENDER: &str =
    "ALTER TABLE cooldown_holds ADD COLUMN IF NOT EXISTS sender TEXT NOT NULL DEFAULT ''";

/// `error`, or, when it is the table missing (SQLSTATE 42P01,
/// `undefined_table`) or a column it lacks (42703, `undefined_column`: a
/// table made for the worked example, without `sender`), an error that
/// gives the statement making it right.
fn not_migrated(error: sqlx::Error) -> sqlx::Error {
    let code = error.as_database_error().and_then(|e| e.code());
    match code.as_deref() {
        Some("42P01") => sqlx::Error::Configuration(
            format!(
                "the table cooldown_holds does not exist ({error}): create it with \
                 `retry_runtime::shared_holds::TABLE` (with your migrations)"
            )
            .into(),
        ),
        Some("42703") => lacks_a_column(error),
        _ => error,
    }
}

/// [`not_migrated`]'s error for a column the table lacks.
fn lacks_a_column(error: sqlx::Error) -> sqlx::Error {
    sqlx::Error::Configuration(
        format!(
            "the table cooldown_holds lacks a column ({error}): a table made for the worked \
             example takes `sender` with `{ADD_SENDER}`"
        )
        .into(),
    )
}

/// The holds of this replica's cooldowns, sent to the other replicas, and
/// theirs applied here: a `static` beside the cooldowns it shares, whose
/// hook calls [`hand_on`](Self::hand_on), started once in the service's
/// tokio runtime ([`start`](Self::start)).
///
/// ```no_run
/// use retry_runtime::cooldown::Cooldown;
/// use retry_runtime::shared_holds::SharedHolds;
///
/// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
/// static SEARCH: Cooldown = Cooldown::new("search").with_on_hold(|event| HOLDS.hand_on(event));
/// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER, &SEARCH]).with_channel("billing_holds");
///
/// # async fn start(pool: sqlx::PgPool) -> Result<(), sqlx::Error> {
/// HOLDS.start(pool, "billing-7f9c".to_string()).await?;
/// # Ok(())
/// # }
/// ```
pub struct SharedHolds {
    cooldowns: &'static [&'static Cooldown],
    capacity: usize,
    channel: &'static str,
    check_every: Duration,
    publish: Policy<RetryOn>,
    /// The publisher's queue, once started (replaced by a start after
    /// the listener stopped: the old publisher ends with its sender).
    outbox: RwLock<Option<mpsc::Sender<Held>>>,
    /// A `start` is under way or done, its listener not stopped: a second
    /// is refused before it connects (its listener would read the table
    /// again, counting and logging each hold twice, and leave its
    /// backend's pid behind). Cleared when the listener stops for good.
    starting: AtomicBool,
    /// A start read the table: a start after it (its listener stopped)
    /// skips this replica's own rows, which its cooldowns hold already.
    read_once: AtomicBool,
    /// The listener's backend (`pg_backend_pid()`), 0 before it connects.
    listener_pid: AtomicI32,
    state: State,
    counts: Counters,
    log_every: Duration,
    /// The WARN lines of a storm, cut: one per [`Line`].
    quiet: [Quiet; Line::ALL.len()],
}

impl SharedHolds {
    /// Sharing the holds of `cooldowns` (each found by its name in the
    /// other replicas' payloads), up to 256 holds queued for the
    /// publisher.
    ///
    /// # Default
    /// 256 holds queued, the channel [`CHANNEL`], a check of a silent
    /// listener after 30 s, a failed statement retried as `presets::DB`
    /// (4 attempts, 1s, 2s, 4s between them, each attempt waiting up to
    /// the pool's acquire timeout for a connection: about 2 minutes while
    /// the database is away, with sqlx's 30 s), at most one WARN line of
    /// a kind each 10 s in a storm.
    ///
    /// ```
    /// use retry_runtime::cooldown::Cooldown;
    /// use retry_runtime::shared_holds::SharedHolds;
    ///
    /// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// assert_eq!(HOLDS.channel(), "cooldown_holds");
    /// ```
    pub const fn new(cooldowns: &'static [&'static Cooldown]) -> SharedHolds {
        SharedHolds {
            cooldowns,
            capacity: 256,
            channel: CHANNEL,
            check_every: CHECK_EVERY,
            // a dropped connection retried after 1s, 2s, 4s, each time
            // sending the time then left
            publish: presets::DB.with_name("shared_holds.publish"),
            outbox: RwLock::new(None),
            starting: AtomicBool::new(false),
            read_once: AtomicBool::new(false),
            listener_pid: AtomicI32::new(0),
            state: State::new(),
            counts: Counters::new(),
            log_every: LOG_EVERY,
            quiet: [const { Quiet::new() }; Line::ALL.len()],
        }
    }

    /// At most `holds` (at least 1) queued for the publisher: past them
    /// (the database slow or away long enough for that many 429s), a hold
    /// is not forwarded, counted ([`Counts::dropped`]) and logged (its end
    /// goes out with the next hold of its cooldown published: the
    /// publisher sends a cooldown's own end when it is later).
    ///
    /// ```
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]).with_capacity(1024);
    /// ```
    pub const fn with_capacity(mut self, holds: usize) -> SharedHolds {
        self.capacity = if holds == 0 { 1 } else { holds };
        self
    }

    /// `NOTIFY` and `LISTEN` on `channel` ([`CHANNEL`] by default): each
    /// group of replicas that share their cooldowns (each service) on one
    /// database takes its own. 1 to 63 bytes (PostgreSQL's identifiers):
    /// [`start`](Self::start) refuses another.
    ///
    /// ```
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]).with_channel("billing_holds");
    /// assert_eq!(HOLDS.channel(), "billing_holds");
    /// ```
    pub const fn with_channel(mut self, channel: &'static str) -> SharedHolds {
        self.channel = channel;
        self
    }

    /// Check the listener's connection after `every` (30 s by default, at
    /// least 100 ms) without a notification, waiting as long for its
    /// answer, then that it hears (a `NOTIFY` on a channel of its own, sent
    /// through the pool, must come back in `every`): a connection that does
    /// not answer, or a listener that does not hear, is given up for a
    /// new one. The same wait bounds [`start`](Self::start)'s check that
    /// the listener hears.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]).with_check_every(Duration::from_secs(10));
    /// ```
    pub const fn with_check_every(mut self, every: Duration) -> SharedHolds {
        self.check_every = if every.as_millis() < 100 {
            Duration::from_millis(100)
        } else {
            every
        };
        self
    }

    /// At most one WARN line of each kind (a hold not forwarded, a
    /// payload refused, a hold for a cooldown not here, a hold over before
    /// it was sent, a hold whose statement failed) each `every` (10 s by
    /// default): the first is written at once; the next, once `every` has
    /// passed since, says how many like it were left unsaid meanwhile (its
    /// `unsaid` field), and the tail of a storm is told by a summary line
    /// within `every` or the listener's next check
    /// ([`with_check_every`](Self::with_check_every), or, while it
    /// reconnects, its next attempt), whichever is later (by a listener
    /// that runs: one not started or stopped tells no tail). Nothing is
    /// lost from [`counts`](Self::counts)
    /// (or the metrics). `Duration::ZERO` writes every line.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]).with_log_every(Duration::from_secs(60));
    /// ```
    pub const fn with_log_every(mut self, every: Duration) -> SharedHolds {
        self.log_every = every;
        self
    }

    /// The channel it notifies and listens on ([`with_channel`](Self::with_channel)).
    ///
    /// ```
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// assert_eq!(HOLDS.channel(), retry_runtime::shared_holds::CHANNEL);
    /// ```
    pub const fn channel(&self) -> &'static str {
        self.channel
    }

    /// What it did so far.
    ///
    /// ```
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// let counts = HOLDS.counts();
    /// assert_eq!(counts.dropped + counts.failed + counts.refused, 0);
    /// ```
    pub fn counts(&self) -> Counts {
        self.counts.read()
    }

    /// Where its listener is: not started, listening, reconnecting, or
    /// stopped for good (its pool closed, its tokio runtime shut down;
    /// [`start`](Self::start) may start it again).
    /// What a health check or an alert asks: a replica whose listener is
    /// not [`Listening`](ListenerState::Listening) hears no other
    /// replica's hold. With the `metrics` feature, the gauge
    /// `retry_shared_holds_listening` says the same.
    ///
    /// ```
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::{ListenerState, SharedHolds}};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// // e.g. in a readiness probe, once started
    /// let ready = HOLDS.listener().is_listening();
    /// assert_eq!(HOLDS.listener(), ListenerState::NotStarted);
    /// # assert!(!ready);
    /// ```
    pub fn listener(&self) -> ListenerState {
        self.state.get()
    }

    /// The backend process of its listener's connection (0 before it
    /// connected): what `pg_terminate_backend` would cut.
    ///
    /// ```
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// assert_eq!(HOLDS.listener_pid(), 0); // not started
    /// ```
    pub fn listener_pid(&self) -> i32 {
        self.listener_pid.load(Ordering::Relaxed)
    }

    /// For the cooldowns' hook: hand the hold a run made to the publisher,
    /// at once (a `try_send`: the run is not held up). When it cannot (the
    /// publisher not started, or stopped, or `with_capacity` holds queued
    /// already), the hold is counted as dropped and logged at WARN (at
    /// most a line each [`with_log_every`](Self::with_log_every)). So is
    /// a hold of a cooldown not in [`new`](Self::new)'s list (its hook
    /// calls this, but the other replicas would not find it by its
    /// name): its WARN line names it, and the fix.
    ///
    /// ```
    /// use retry_runtime::cooldown::Cooldown;
    /// use retry_runtime::shared_holds::SharedHolds;
    ///
    /// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// ```
    pub fn hand_on(&self, event: &HoldEvent) {
        let cooldown = event.cooldown();
        if !self.cooldowns.iter().any(|c| core::ptr::eq(*c, cooldown)) {
            self.count(Event::Dropped);
            if let Some(unsaid) = self.say(Line::NotListed) {
                tracing::warn!(
                    target: TARGET,
                    cooldown = cooldown.name(),
                    unsaid,
                    "hold not forwarded to the other replicas: its cooldown is not in this \
                     SharedHolds' list; add it to `SharedHolds::new(&[..])` (or give it no hook)"
                );
            }
            return;
        }
        let now = Instant::now();
        let end = now.checked_add(event.wait()).unwrap_or(now + MAX_WAIT);
        let outbox = self.outbox.read().unwrap_or_else(PoisonError::into_inner);
        let why = match outbox.as_ref() {
            None => "its publisher is not started",
            Some(outbox) => match outbox.try_send(Held { cooldown, end }) {
                Ok(()) => {
                    self.count(Event::HandedOn);
                    return;
                }
                Err(TrySendError::Full(_)) => "the publisher's queue is full",
                Err(TrySendError::Closed(_)) => "its publisher has stopped",
            },
        };
        drop(outbox);
        self.count(Event::Dropped);
        if let Some(unsaid) = self.say(Line::Dropped) {
            tracing::warn!(
                target: TARGET,
                cooldown = cooldown.name(),
                wait_ms = event.wait().as_millis() as u64,
                unsaid,
                "hold not forwarded to the other replicas: {why}"
            );
        }
    }

    /// Connect its listener (`LISTEN`, then the holds still running read
    /// from the table and applied), then run the publisher and the listener
    /// as tasks of this tokio runtime. Before its `LISTEN` on the channel,
    /// the listener checks that it hears: a `NOTIFY` on a channel of its
    /// own, sent through another connection of `pool`, must come back
    /// within [`with_check_every`](Self::with_check_every) (30 s), which
    /// it never does through a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`): then `start` refuses, and
    /// [`start_with_listener`](Self::start_with_listener) gives the
    /// listener a connection of its own. `replica` names this replica in its
    /// payloads (the pod's name; no whitespace), so that its listener
    /// skips its own holds. The listener keeps one of `pool`'s
    /// connections for itself; the publisher takes one per statement.
    ///
    /// # Errors
    /// The listener could not connect, it was started already (and its
    /// listener has not stopped: [`ListenerState::Stopped`]), it is not
    /// awaited in a tokio runtime, the replica's or the channel's name
    /// cannot be used, a cooldown has no hook, no name or another's name,
    /// or the table does not exist (the error names [`TABLE`]) or lacks
    /// its `sender` column (a table made for the worked example: the
    /// error gives the `ALTER TABLE`), or the listener does not hear a
    /// `NOTIFY` from another connection (through a pooler in transaction
    /// or statement mode: the error names the fix) or `pool` has no
    /// connection free for that check beside the listener's
    /// (`sqlx::Error::Configuration`, saying which).
    ///
    /// With the `metrics` feature, its series are registered as it
    /// begins, before anything can fail: `retry_shared_holds_listening` at
    /// 0 and each event's `retry_shared_holds_total` at 0, so that a
    /// service that runs on after a failed start fires the alerts on them.
    ///
    /// ```no_run
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
    /// // the listener's connection, one for the publisher, one to spare
    /// let pool = sqlx::postgres::PgPoolOptions::new()
    ///     .max_connections(3)
    ///     .connect(&std::env::var("DATABASE_URL")?)
    ///     .await?;
    /// HOLDS.start(pool, std::env::var("HOSTNAME")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(&'static self, pool: PgPool, replica: String) -> Result<(), sqlx::Error> {
        self.start_with_listener(pool.clone(), pool, replica).await
    }

    /// [`start`](Self::start), the listener's connection taken from
    /// `listener` (a pool of direct connections to PostgreSQL, or through
    /// a pooler in session mode: two connections, one for a new listener
    /// while a connection given up after an outage is still taken), the
    /// publisher's statements and the listener's checks sent through
    /// `pool` (which may go through a pooler in transaction mode: PgBouncer
    /// in front of PostgreSQL, the service's `DATABASE_URL`).
    ///
    /// `LISTEN` needs a session of its own: through a pooler in transaction
    /// (or statement) mode the listener would hear nothing, so `start`
    /// checks that it hears (a `NOTIFY` sent through `pool` comes back)
    /// and refuses, naming this method, when it does not.
    ///
    /// # Errors
    /// As [`start`](Self::start)'s.
    ///
    /// ```no_run
    /// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
    /// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
    /// # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
    /// use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    ///
    /// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
    /// // the service's pool, through PgBouncer in transaction pooling:
    /// // statements not prepared by name (PgBouncer 1.20 and older)
    /// let through_bouncer: PgConnectOptions = std::env::var("DATABASE_URL")?.parse()?;
    /// let pool = PgPoolOptions::new()
    ///     .max_connections(2)
    ///     .connect_with(through_bouncer.statement_cache_capacity(0))
    ///     .await?;
    /// // the listener's: straight to PostgreSQL
    /// let listener = PgPoolOptions::new()
    ///     .max_connections(2)
    ///     .connect(&std::env::var("DIRECT_DATABASE_URL")?)
    ///     .await?;
    /// HOLDS.start_with_listener(pool, listener, std::env::var("HOSTNAME")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_with_listener(
        &'static self,
        pool: PgPool,
        listener: PgPool,
        replica: String,
    ) -> Result<(), sqlx::Error> {
        // its series there before anything can fail: a service that runs
        // on after a failed start shows its listener at 0 and its events'
        // zeros, so that alerts on them fire (a running listener's gauge
        // is left as it is)
        crate::metrics::shared_holds_registered(self.channel);
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
        // sqlx's connection and the tasks need one: without it, they panic
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(sqlx::Error::Configuration(
                "the holds are shared from a tokio runtime: await `start` in one (its \
                 listener and publisher are its tasks)"
                    .into(),
            ));
        }
        // claimed before it connects, given back if it fails (or its
        // future is dropped: a timeout around `start`)
        let claim = Claim::take(&self.starting)
            .ok_or_else(|| sqlx::Error::Configuration("these holds are shared already".into()))?;
        // a process's first start takes its own holds back (a replica
        // restarted under its name); a start after it holds them already
        let own = self
            .read_once
            .load(Ordering::Acquire)
            .then_some(replica.as_str());
        let pools = Pools {
            publisher: pool,
            listener,
            probe: probe::channel(),
        };
        let listener = self.listen(&pools, own).await.map_err(not_migrated)?;
        self.read_once.store(true, Ordering::Release);
        let (outbox, queued) = mpsc::channel(self.capacity);
        // (a publisher of a start before, whose listener stopped with its
        // pool, ends with the sender replaced here)
        *self.outbox.write().unwrap_or_else(PoisonError::into_inner) = Some(outbox);
        claim.keep();
        self.set_listener(ListenerState::Listening);
        tokio::spawn(self.publisher(pools.publisher.clone(), queued, replica.clone()));
        tokio::spawn(self.listening(pools, listener, replica));
        Ok(())
    }

    /// Each cooldown has a hook (without one, its runs' holds never reach
    /// [`hand_on`](Self::hand_on)), and a name of its own, not empty (the
    /// other replicas find a cooldown by its name; [`Notice::parse`]
    /// refuses an empty one).
    fn check_cooldowns(&self) -> Result<(), sqlx::Error> {
        for (i, cooldown) in self.cooldowns.iter().enumerate() {
            let name = cooldown.name();
            if cooldown.on_hold().is_none() {
                return Err(sqlx::Error::Configuration(
                    format!(
                        "cooldown {name:?} has no hook: its runs' holds would never be \
                         shared; build it with `.with_on_hold(|event| HOLDS.hand_on(event))`"
                    )
                    .into(),
                ));
            }
            if name.is_empty() {
                return Err(sqlx::Error::Configuration(
                    "a cooldown named \"\" cannot be shared: the other replicas find a \
                     cooldown by its name, and refuse a payload without one"
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

    /// Count one `event` (on the `metrics` facade too, when it is on).
    fn count(&self, event: Event) {
        self.counts.add(self.channel, event);
    }

    fn find(&self, name: &str) -> Option<&'static Cooldown> {
        self.cooldowns.iter().copied().find(|c| c.name() == name)
    }
}

/// A `start` under way: the flag it set, cleared when it is dropped
/// before [`keep`](Claim::keep).
struct Claim<'a>(Option<&'a AtomicBool>);

impl<'a> Claim<'a> {
    /// The flag set, if it was not. (Built only then: a `Claim` made and
    /// dropped for a refused start would clear the running one's flag.)
    fn take(flag: &'a AtomicBool) -> Option<Claim<'a>> {
        (!flag.swap(true, Ordering::AcqRel)).then(|| Claim(Some(flag)))
    }

    /// The start succeeded: the flag stays set.
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(flag) = self.0 {
            flag.store(false, Ordering::Release);
        }
    }
}

/// Shows the channel, the cooldowns' names, the listener's backend and the
/// counts.
///
/// ```
/// # use retry_runtime::{cooldown::Cooldown, shared_holds::SharedHolds};
/// # static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
/// # static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]);
/// assert!(format!("{HOLDS:?}").starts_with(r#"SharedHolds { channel: "cooldown_holds", cooldowns: ["partner"]"#));
/// ```
impl core::fmt::Debug for SharedHolds {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names: Vec<&str> = self.cooldowns.iter().map(|c| c.name()).collect();
        f.debug_struct("SharedHolds")
            .field("channel", &self.channel)
            .field("cooldowns", &names)
            .field("listener", &self.listener())
            .field("listener_pid", &self.listener_pid())
            .field("counts", &self.counts())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A start refused (the holds shared already) leaves the running
    /// one's claim alone: a third start is refused too.
    #[test]
    fn a_refused_claim_leaves_the_flag_set() {
        let flag = AtomicBool::new(false);
        let claim = Claim::take(&flag).expect("the first claim");
        claim.keep();
        for _ in 0..3 {
            assert!(Claim::take(&flag).is_none());
            assert!(flag.load(Ordering::Acquire), "the running one's claim kept");
        }
    }

    /// A start that fails (here: its pool closed) leaves its series
    /// there, the listener's gauge at 0 and each event's count at 0: the
    /// alerts on them fire for a service that runs on without sharing.
    #[cfg(feature = "metrics")]
    #[test]
    fn a_failed_start_registers_its_series_at_0() {
        use metrics_util::debugging::{DebugValue, DebuggingRecorder};
        static PARTNER: Cooldown =
            Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
        static HOLDS: SharedHolds = SharedHolds::new(&[&PARTNER]).with_channel("failed_start");
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        ::metrics::with_local_recorder(&recorder, || {
            crate::metrics::enable();
            runtime.block_on(async {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .connect_lazy("postgres://127.0.0.1:1/none")
                    .unwrap();
                pool.close().await;
                let failed = HOLDS.start(pool, "a".into()).await;
                assert!(failed.is_err(), "{failed:?}");
            });
        });
        let mut listening = None;
        let mut events = Vec::new();
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            if !key.labels().any(|l| l.value() == "failed_start") {
                continue;
            }
            match key.name() {
                crate::metrics::SHARED_HOLDS_LISTENING => listening = Some(value),
                crate::metrics::SHARED_HOLDS => {
                    assert_eq!(value, DebugValue::Counter(0), "{key:?}");
                    events.extend(
                        key.labels()
                            .filter(|l| l.key() == "event")
                            .map(|l| l.value().to_owned()),
                    );
                }
                _ => {}
            }
        }
        assert_eq!(listening, Some(DebugValue::Gauge(0.0.into())));
        events.sort();
        let mut all: Vec<String> = Event::HOLDS.iter().map(|e| e.label().to_owned()).collect();
        all.sort();
        assert_eq!(events, all);
        assert_eq!(HOLDS.listener(), ListenerState::NotStarted);
    }

    /// A hold of a cooldown whose hook calls `hand_on` but which is not
    /// in `new`'s list is not forwarded (the other replicas would refuse
    /// it, "no cooldown of that name here"): counted as dropped, and not
    /// queued; a listed one's is.
    #[test]
    fn a_hold_of_a_cooldown_not_in_the_list_is_not_forwarded() {
        static LISTED: Cooldown =
            Cooldown::new("partner").with_on_hold(|event| HOLDS.hand_on(event));
        static LEFT_OUT: Cooldown =
            Cooldown::new("search").with_on_hold(|event| HOLDS.hand_on(event));
        static HOLDS: SharedHolds = SharedHolds::new(&[&LISTED]);
        let (outbox, mut queued) = mpsc::channel(4);
        *HOLDS.outbox.write().unwrap() = Some(outbox);

        LEFT_OUT.hold_heard(Duration::from_secs(30), "import", None);
        assert!(queued.try_recv().is_err(), "not queued");
        assert_eq!(
            HOLDS.counts(),
            Counts {
                dropped: 1,
                ..Counts::default()
            }
        );
        LISTED.hold_heard(Duration::from_secs(30), "import", None);
        let held = queued.try_recv().expect("the listed one's queued");
        assert!(core::ptr::eq(held.cooldown, &LISTED));
        assert_eq!(HOLDS.counts().handed_on, 1);
    }

    /// A claim dropped before it is kept (a start that failed) frees the
    /// flag for the next.
    #[test]
    fn a_claim_dropped_unkept_frees_the_flag() {
        let flag = AtomicBool::new(false);
        drop(Claim::take(&flag).expect("the first claim"));
        assert!(!flag.load(Ordering::Acquire));
        assert!(Claim::take(&flag).is_some());
    }
}
