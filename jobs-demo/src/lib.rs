//! Background jobs persisted in a database, SQLite (embedded, the default)
//! or PostgreSQL, retried on a schedule computed by the runtime's pure
//! decision API: [`retry_runtime::presets::JOB`]`.decide(retry_count, &error)`.
//!
//! One code path serves both databases (sqlx's `Any` driver); the SQL
//! differs in two places only: the table's id column, and the claim, which
//! adds `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent workers skip
//! each other's rows instead of waiting for them (SQLite has one writer at a
//! time, so its claim needs no lock clause).
//!
//! The table:
//!
//! | column | meaning |
//! |---|---|
//! | `id` | the job's id |
//! | `payload` | what to do (text) |
//! | `status` | `PENDING` (waiting until `next_retry_at`), `RUNNING` (claimed by a worker until `claimed_until`), `DONE`, `FAILED` (for good) |
//! | `retry_count` | retries scheduled so far: 0 for a new job, 3 after three failures |
//! | `next_retry_at` | when the job is due, in milliseconds on the queue's clock |
//! | `claimed_by` | the worker running it (or that ran it last) |
//! | `claimed_until` | the end of the claim's lease: a `RUNNING` job whose lease has expired has that run counted as a failed attempt |
//! | `claims` | how many times it was claimed: the claim's token, so a worker whose lease expired cannot record an outcome |
//! | `last_error` | the last failure, with its kind |
//! | `finished_at` | when it became `DONE` or `FAILED` |
//!
//! After a failed run, [`JobQueue::fail`] asks the policy: a retry after a
//! wait (30s, 120s, 480s, each plus up to 25%, for `JOB`) sets the job back
//! to `PENDING` with `retry_count + 1` and `next_retry_at = now + wait`; giving
//! up (a permanent error, or the 4th failure) sets it to `FAILED`. Nothing
//! but the database holds a job's state: a worker that dies mid-job leaves it
//! `RUNNING` until its lease ([`JobQueue::with_lease`], 5 minutes by default)
//! expires; then the next [`JobQueue::claim_due`] counts the lost run as a
//! failed attempt ([`LeaseExpired`], a timeout) and the policy schedules it
//! like any failure, so a job that always kills its worker ends `FAILED`
//! once the policy's attempts are spent. A [`Worker`] runs each job under a
//! time limit that ends with its lease: a run that would outlive it is
//! stopped and counts as a failed attempt, so no job runs on two workers at
//! once. A handler that panics fails its attempt too ([`HandlerPanicked`],
//! the panic's message in `last_error`), and the worker goes on.
//!
//! The queue's own statements (the claim, the record of a run's outcome,
//! [`JobQueue::next_due_at`]) are retried on a database error a second
//! policy retries, [`presets::DB`] unless [`JobQueue::with_db_policy`] says
//! otherwise: a pool timeout, a broken or refused connection, a server
//! restarting or overloaded, a deadlock, `SQLITE_BUSY`. So a success is not
//! lost to a dropped connection, to run again after its lease. Recording
//! an outcome again is safe: the statement is guarded by the claim's token,
//! and finding its own row already written (the server wrote it, its answer
//! was lost) is success, not [`QueueError::NotClaimed`]. (A worker's own
//! record of its run takes that only on a retry of its statement: its
//! first try takes a `RUNNING` row only, so that the row another worker
//! wrote for a run that outlived its lease, which can be the very same, is
//! that worker's to log.) An error of those
//! kinds that outlasts the retries (an outage) does not stop a worker's
//! [`run`](Worker::run): it logs it, pauses and goes on
//! ([`Worker::pause_after`]); a run whose outcome it could not record
//! fails with [`QueueError::NotRecorded`], which says what the run did, and
//! the job counts as a failed attempt when its lease ends.
//!
//! A row whose `status` is none of the four (written by another version of
//! the program, or by hand) is never claimed, changed or deleted:
//! [`JobQueue::unknown_statuses`] lists them, [`Worker::start`] logs each as
//! an error, and [`JobQueue::all`] fails with [`QueueError::UnknownStatus`].
//! A row the queue cannot read as a [`Job`] (a `payload` that is not UTF-8,
//! text or BLOB, written by another program; a `retry_count` of -1, edited
//! by hand; on SQLite, a `next_retry_at` or `claimed_until` that is not an
//! integer) is set aside when a claim takes it or when its lease ends:
//! `FAILED` for good at `finished_at`, with `last_error` saying which
//! column and why, before the error it held, logged as an error; its
//! `payload`, `retry_count` and `next_retry_at` are kept as they were (a
//! claim that took it has already written its `claimed_by`,
//! `claimed_until` and `claims`); the other jobs run on. `claimed_by` and
//! `last_error` are informational: text in them that is not UTF-8 is read
//! lossily, never a reason to set a job aside.
//! [`JobQueue::get`] and [`JobQueue::all`] fail on it with
//! [`QueueError::Unreadable`].
//!
//! Times are `Duration`s since the clock's epoch: `UNIX_EPOCH` for a real
//! deployment, the start of the simulation for a [`ScaledClock`].
//!
//! **The workers' clocks must agree.** Each time is read from the clock of
//! the worker that writes or compares it, never from the database's: a
//! lease ends at the claiming worker's `now + lease`, that worker stops its
//! run then by its own clock, and another worker counts the run as lost
//! once its own clock passes that time. A worker whose clock runs δ ahead
//! of another's therefore takes the other's run for lost, and may start the
//! job again, up to δ before that run is stopped (two runs at once for up
//! to δ), and runs retries up to δ early. Keep the machines' clocks in step
//! (NTP keeps them within milliseconds, far inside a lease of minutes); a
//! [`ScaledClock`] multiplies any difference between them by its scale.
//! Judging leases by the database's `now()` would take the question away,
//! but the queue runs on a simulated clock the database does not know, so
//! each call is given its time.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::time::Duration;
//! use retry_jobs_demo::{JobOutcome, JobQueue, JobStatus};
//!
//! let queue = JobQueue::open_in_memory().await.unwrap();
//! let t0 = Duration::ZERO;
//! let id = queue.enqueue("send report", t0).await.unwrap();
//!
//! let job = queue.claim_due(t0).await.unwrap().unwrap();
//! assert_eq!((job.id, job.status), (id, JobStatus::Running));
//!
//! let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
//! let JobOutcome::Retry { retry_count, next_retry_at, .. } = queue.fail(&job, &refused, t0).await.unwrap() else { panic!() };
//! assert_eq!(retry_count, 1);
//! assert!(next_retry_at >= Duration::from_secs(30) && next_retry_at <= Duration::from_millis(37_500));
//! assert!(queue.claim_due(Duration::from_secs(29)).await.unwrap().is_none()); // not due yet
//!
//! let job = queue.claim_due(next_retry_at).await.unwrap().unwrap();
//! queue.complete(&job, next_retry_at).await.unwrap();
//! assert_eq!(queue.get(id).await.unwrap().unwrap().status, JobStatus::Done);
//! # }
//! ```

use core::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt as _;
use retry_runtime::{Attempt, Classify, Decision, ErrorKind, Policy, RetryOn, StopReason, presets};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Connection, Row};

/// The table and its index on SQLite; [`JobQueue::connect`] creates them if missing.
pub const SCHEMA_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS jobs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        payload       TEXT    NOT NULL,
        status        TEXT    NOT NULL DEFAULT 'PENDING',
        retry_count   INTEGER NOT NULL DEFAULT 0,
        next_retry_at INTEGER NOT NULL,
        claimed_by    TEXT,
        claimed_until INTEGER,
        claims        INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        finished_at   INTEGER
    )",
    "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, next_retry_at)",
];

/// The table and its index on PostgreSQL; [`JobQueue::connect`] creates them
/// if missing (under an advisory lock, so workers starting together do not race).
pub const SCHEMA_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS jobs (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        payload       TEXT   NOT NULL,
        status        TEXT   NOT NULL DEFAULT 'PENDING',
        retry_count   BIGINT NOT NULL DEFAULT 0,
        next_retry_at BIGINT NOT NULL,
        claimed_by    TEXT,
        claimed_until BIGINT,
        claims        BIGINT NOT NULL DEFAULT 0,
        last_error    TEXT,
        finished_at   BIGINT
    )",
    "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, next_retry_at)",
];

/// Which database a queue is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: a file, or memory (`sqlite:jobs.db`, `sqlite::memory:`).
    Sqlite,
    /// PostgreSQL (`postgres://user@host:port/db`).
    Postgres,
}

impl Backend {
    /// The backend a URL names by its scheme.
    ///
    /// ```
    /// use retry_jobs_demo::Backend;
    /// assert_eq!(Backend::of_url("postgres://u@127.0.0.1/db"), Some(Backend::Postgres));
    /// assert_eq!(Backend::of_url("sqlite:jobs.db"), Some(Backend::Sqlite));
    /// assert_eq!(Backend::of_url("mysql://x"), None);
    /// ```
    pub fn of_url(url: &str) -> Option<Backend> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// What a queue operation fails with.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The database said no, or could not be reached.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A URL that names neither SQLite nor PostgreSQL.
    #[error(
        "unsupported database URL {0:?}: expected sqlite:PATH, sqlite::memory: or postgres://..."
    )]
    UnsupportedUrl(String),
    /// A row whose status is none of `PENDING`, `RUNNING`, `DONE`, `FAILED`.
    #[error("job {id} has an unknown status {status:?}; it is left as it is")]
    UnknownStatus {
        /// The job.
        id: i64,
        /// Its status as stored.
        status: String,
    },
    /// A row that cannot be read as a [`Job`]: a column whose value is not
    /// of its type (a `payload` that is not UTF-8, text or BLOB; on SQLite,
    /// a time that is not an integer), or a count (`retry_count`, `claims`)
    /// out of `u32`'s range. A claim that
    /// takes such a row, or finds its lease expired, sets it aside:
    /// `FAILED`, with this in `last_error`.
    #[error("job {id} cannot be read ({reason})")]
    Unreadable {
        /// The job.
        id: i64,
        /// The column at fault and why.
        reason: String,
    },
    /// The job is not `RUNNING` under this claim: it finished already, or its
    /// lease expired and another worker claimed it.
    #[error(
        "job {id} is not RUNNING under this claim (finished already, or its lease expired and another worker took it)"
    )]
    NotClaimed {
        /// The job.
        id: i64,
    },
    /// A run's outcome could not be recorded, even after the queue's
    /// [db policy](JobQueue::with_db_policy) retried: the job stays
    /// `RUNNING` until its lease ends, then counts as a failed attempt.
    #[error("job {id} {outcome}, but that could not be recorded: {error}")]
    NotRecorded {
        /// The job.
        id: i64,
        /// What the run did: `succeeded`, or `failed (Kind: error)`.
        outcome: String,
        /// Why it could not be recorded (the database's error).
        error: Box<QueueError>,
    },
}

/// A database error by [`Classify for sqlx::Error`](retry_runtime::sqlx),
/// an outcome not recorded by its database error; the others are permanent.
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// use retry_jobs_demo::QueueError;
/// assert_eq!(QueueError::Db(sqlx::Error::PoolTimedOut).kind(), ErrorKind::Timeout);
/// assert_eq!(QueueError::NotClaimed { id: 1 }.kind(), ErrorKind::Permanent);
/// let lost = QueueError::NotRecorded {
///     id: 1,
///     outcome: "succeeded".into(),
///     error: Box::new(QueueError::Db(sqlx::Error::PoolTimedOut)),
/// };
/// assert_eq!(lost.kind(), ErrorKind::Timeout);
/// ```
impl Classify for QueueError {
    fn kind(&self) -> ErrorKind {
        match self {
            QueueError::Db(e) => e.kind(),
            QueueError::NotRecorded { error, .. } => error.kind(),
            _ => ErrorKind::Permanent,
        }
    }
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting to run at `next_retry_at`.
    Pending,
    /// Claimed by a worker, running (until its lease expires).
    Running,
    /// Succeeded.
    Done,
    /// Failed for good: a permanent error, or out of retries.
    Failed,
}

impl JobStatus {
    /// As stored: `PENDING`, `RUNNING`, `DONE`, `FAILED`.
    ///
    /// ```
    /// assert_eq!(retry_jobs_demo::JobStatus::Failed.as_str(), "FAILED");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "PENDING",
            JobStatus::Running => "RUNNING",
            JobStatus::Done => "DONE",
            JobStatus::Failed => "FAILED",
        }
    }

    /// The status stored as `s`; `None` for anything else.
    ///
    /// ```
    /// use retry_jobs_demo::JobStatus;
    /// assert_eq!(JobStatus::parse("DONE"), Some(JobStatus::Done));
    /// assert_eq!(JobStatus::parse("PAUSED"), None);
    /// ```
    pub fn parse(s: &str) -> Option<JobStatus> {
        match s {
            "PENDING" => Some(JobStatus::Pending),
            "RUNNING" => Some(JobStatus::Running),
            "DONE" => Some(JobStatus::Done),
            "FAILED" => Some(JobStatus::Failed),
            _ => None,
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One row of the `jobs` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// What to do.
    pub payload: String,
    /// Where it is in its life.
    pub status: JobStatus,
    /// Retries scheduled so far (the attempt that runs now is `retry_count + 1`).
    pub retry_count: u32,
    /// When it is (or was) due.
    pub next_retry_at: Duration,
    /// The worker that claimed it last.
    pub claimed_by: Option<String>,
    /// When the last claim's lease ends (or ended).
    pub claimed_until: Option<Duration>,
    /// How many times it was claimed (the last claim's token), modulo
    /// 2^32: the claim after `u32::MAX` is 0, so a row at `u32::MAX` is
    /// still claimed, and two claims in a row never share a token.
    pub claims: u32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it became `DONE` or `FAILED`.
    pub finished_at: Option<Duration>,
}

/// The columns of a [`Job`], in the order [`Job::from_row`] reads them; as
/// PostgreSQL's statements select them (its text is always valid UTF-8).
const COLUMNS: &str = "id, payload, status, retry_count, next_retry_at, claimed_by, claimed_until, claims, last_error, finished_at";

/// [`COLUMNS`] as SQLite's statements select them: no value as text. The
/// `Any` driver converts a whole row before any column is read, and fails
/// on one text value that is not UTF-8 (another program wrote it), so that
/// row could not even be named. Text columns are read as bytes, and a text
/// value where a number belongs as bytes too, so that such a row is read,
/// and [`Job::from_row`] tells which column is wrong.
const COLUMNS_SQLITE: &str = "id, CAST(payload AS BLOB), CAST(status AS BLOB),
    CASE WHEN typeof(retry_count) = 'text' THEN CAST(retry_count AS BLOB) ELSE retry_count END,
    CASE WHEN typeof(next_retry_at) = 'text' THEN CAST(next_retry_at AS BLOB) ELSE next_retry_at END,
    CAST(claimed_by AS BLOB),
    CASE WHEN typeof(claimed_until) = 'text' THEN CAST(claimed_until AS BLOB) ELSE claimed_until END,
    CASE WHEN typeof(claims) = 'text' THEN CAST(claims AS BLOB) ELSE claims END,
    CAST(last_error AS BLOB),
    CASE WHEN typeof(finished_at) = 'text' THEN CAST(finished_at AS BLOB) ELSE finished_at END";

impl Job {
    /// The job in `row` (selected as [`JobQueue::columns`] says).
    ///
    /// # Errors
    /// [`QueueError::UnknownStatus`] for a status none of the four;
    /// [`QueueError::Unreadable`] for a column whose value is not of its
    /// type; [`QueueError::Db`] only when the id itself cannot be read.
    fn from_row(row: &AnyRow) -> Result<Job, QueueError> {
        let id: i64 = row.try_get(0)?;
        let status = required(row, id, 2)?;
        let Some(parsed) = JobStatus::parse(&status) else {
            return Err(QueueError::UnknownStatus { id, status });
        };
        Ok(Job {
            id,
            payload: required(row, id, 1)?,
            status: parsed,
            retry_count: count(row, id, 3)?,
            next_retry_at: from_ms(column(row, id, 4)?),
            claimed_by: lossy(row, 5),
            claimed_until: column::<Option<i64>>(row, id, 6)?.map(from_ms),
            claims: count(row, id, 7)?,
            last_error: lossy(row, 8),
            finished_at: column::<Option<i64>>(row, id, 9)?.map(from_ms),
        })
    }
}

/// [`QueueError::Unreadable`]: column `index` of job `id`'s row, and why.
fn unreadable(id: i64, index: usize, why: impl fmt::Display) -> QueueError {
    let name = COLUMNS.split(", ").nth(index).unwrap_or("?");
    QueueError::Unreadable {
        id,
        reason: format!("{name}: {why}"),
    }
}

/// Column `index` of job `id`'s row; [`QueueError::Unreadable`], naming the
/// column, when its value is not a `T`.
fn column<'r, T>(row: &'r AnyRow, id: i64, index: usize) -> Result<T, QueueError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(index).map_err(|e| match e {
        sqlx::Error::ColumnDecode { source, .. } => unreadable(id, index, source),
        e => unreadable(id, index, e),
    })
}

/// Text column `index` of job `id`'s row: bytes that must be UTF-8 on
/// SQLite ([`COLUMNS_SQLITE`]), text on PostgreSQL.
fn text(row: &AnyRow, id: i64, index: usize) -> Result<Option<String>, QueueError> {
    match row.try_get::<Option<Vec<u8>>, _>(index) {
        Ok(bytes) => bytes
            .map(|b| String::from_utf8(b).map_err(|e| unreadable(id, index, e)))
            .transpose(),
        Err(_) => column(row, id, index),
    }
}

/// Informational text column `index` (`claimed_by`, `last_error`): never
/// a reason to set a job aside, so bytes that are not UTF-8 are read
/// lossily, and a value that is not text at all as `None`.
fn lossy(row: &AnyRow, index: usize) -> Option<String> {
    match row.try_get::<Option<Vec<u8>>, _>(index) {
        Ok(bytes) => bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
        Err(_) => row.try_get(index).ok().flatten(),
    }
}

/// [`text`] in a column that must not be NULL.
fn required(row: &AnyRow, id: i64, index: usize) -> Result<String, QueueError> {
    text(row, id, index)?.ok_or_else(|| unreadable(id, index, "NULL"))
}

fn ms(t: Duration) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Count column `index` of job `id`'s row (`retry_count`, `claims`);
/// [`QueueError::Unreadable`] when it is out of `u32`'s range (a row edited
/// by hand): a count made up in its place would schedule the job on a
/// history it does not have.
fn count(row: &AnyRow, id: i64, index: usize) -> Result<u32, QueueError> {
    let n: i64 = column(row, id, index)?;
    u32::try_from(n)
        .map_err(|_| unreadable(id, index, format!("{n} is out of range 0..={}", u32::MAX)))
}

/// How a row is set aside: the new `last_error` (parameter `param`)
/// followed by the one before it, the job's failure history.
fn keep_last_error(param: &str) -> String {
    format!("last_error = {param} || COALESCE('; before: ' || last_error, '')")
}

/// The `last_error` of a row set aside because it cannot be read (`reason`).
fn set_aside_error(reason: &str) -> String {
    format!(
        "{}: the row cannot be read ({reason}); set aside",
        ErrorKind::Permanent
    )
}

/// `T+mm:ss` (or `T+h:mm:ss`): a time on the simulation's clock, for logs.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(retry_jobs_demo::fmt_time(Duration::from_secs(150)), "T+02:30");
/// assert_eq!(retry_jobs_demo::fmt_time(Duration::from_secs(3725)), "T+1:02:05");
/// ```
pub fn fmt_time(t: Duration) -> String {
    let s = t.as_secs();
    match s / 3600 {
        0 => format!("T+{:02}:{:02}", s / 60, s % 60),
        h => format!("T+{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

/// What [`JobQueue::fail`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Back to `PENDING`, due again at `next_retry_at`.
    Retry {
        /// The new `retry_count`.
        retry_count: u32,
        /// The policy's wait (in whole milliseconds).
        wait: Duration,
        /// `now + wait` (in whole milliseconds, as stored).
        next_retry_at: Duration,
    },
    /// `FAILED` for good.
    Failed {
        /// Why: [`StopReason::Permanent`] or [`StopReason::Attempts`].
        reason: StopReason,
        /// Runs made, the failed one included.
        attempts: u32,
    },
}

/// A run that outlived its claim's lease: its worker died, or the run took
/// longer than the lease and was stopped. It counts as a failed attempt, of
/// kind [`ErrorKind::Timeout`].
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// assert_eq!(retry_jobs_demo::LeaseExpired.kind(), ErrorKind::Timeout);
/// assert_eq!(retry_jobs_demo::LeaseExpired.to_string(), "the run outlived its claim's lease");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the run outlived its claim's lease")]
pub struct LeaseExpired;

impl Classify for LeaseExpired {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Timeout
    }
}

/// A run whose handler panicked: a bug in the handler, which
/// [`Worker::run_one`] catches so that the worker goes on. It counts as a
/// failed attempt, of kind [`ErrorKind::Unknown`]: a panic is a bug, but
/// often one a later run gets past (an `unwrap` of a network call's
/// result), so [`presets::JOB`] retries it up to its attempts, as it does a
/// run whose worker died, and then gives up with the message in
/// `last_error`. A policy that does not retry `Unknown` fails it at once.
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// use retry_jobs_demo::HandlerPanicked;
/// let p = HandlerPanicked { message: "boom".into() };
/// assert_eq!(p.kind(), ErrorKind::Unknown);
/// assert_eq!(p.to_string(), "the handler panicked: boom");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the handler panicked: {message}")]
pub struct HandlerPanicked {
    /// The panic's message (`panic!("...")`'s text), or a note that it had none.
    pub message: String,
}

impl HandlerPanicked {
    /// From the payload [`std::panic::catch_unwind`] returns.
    fn from_payload(payload: &(dyn std::any::Any + Send)) -> HandlerPanicked {
        let message = match payload.downcast_ref::<&str>() {
            Some(s) => (*s).to_owned(),
            None => match payload.downcast_ref::<String>() {
                Some(s) => s.clone(),
                None => "(a panic whose payload is not a string)".to_owned(),
            },
        };
        HandlerPanicked { message }
    }
}

impl Classify for HandlerPanicked {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unknown
    }
}

/// How long [`JobQueue::connect`] waits for the database to answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default lease of a claim: 5 minutes.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// The `jobs` table of one database (SQLite or PostgreSQL), the retry
/// policy its failures are judged by ([`presets::JOB`] unless
/// [`with_policy`](JobQueue::with_policy) says otherwise), the policy its
/// own statements are retried by on a database error ([`presets::DB`]
/// unless [`with_db_policy`](JobQueue::with_db_policy) says otherwise), the
/// lease of a claim, and the worker this handle claims for.
#[derive(Clone)]
pub struct JobQueue {
    pool: AnyPool,
    backend: Backend,
    policy: Policy<RetryOn>,
    db_policy: Policy<RetryOn>,
    lease: Duration,
    worker: String,
}

impl fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobQueue")
            .field("backend", &self.backend)
            .field("policy", &self.policy)
            .field("db_policy", &self.db_policy)
            .field("lease", &self.lease)
            .field("worker", &self.worker)
            .finish()
    }
}

impl JobQueue {
    /// Connect to the database at `url` (`sqlite:PATH`, `sqlite::memory:`,
    /// `postgres://...`), creating the table if missing. Gives up after
    /// [`CONNECT_TIMEOUT`] when the server does not answer.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_jobs_demo::{Backend, JobQueue, QueueError};
    /// let dir = tempfile::tempdir().unwrap();
    /// let url = format!("sqlite:{}", dir.path().join("jobs.db").display());
    /// let q = JobQueue::connect(&url).await.unwrap();
    /// assert_eq!(q.backend(), Backend::Sqlite);
    /// assert!(matches!(JobQueue::connect("mysql://x").await, Err(QueueError::UnsupportedUrl(_))));
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<JobQueue, QueueError> {
        let backend =
            Backend::of_url(url).ok_or_else(|| QueueError::UnsupportedUrl(url.to_owned()))?;
        sqlx::any::install_default_drivers();
        let memory = backend == Backend::Sqlite && url.contains(":memory:");
        let mut options = AnyPoolOptions::new().acquire_timeout(CONNECT_TIMEOUT);
        if memory {
            // each connection to `:memory:` is a database of its own: keep one
            options = options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            options = options.max_connections(4);
        }
        if backend == Backend::Sqlite {
            // a commit survives a crash of the process (what a worker
            // restart is) without an fsync per commit: WAL mode (set below)
            // with synchronous=NORMAL, a per-connection setting
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(conn)
                        .await
                        .map(drop)
                })
            });
        }
        let url = match backend {
            // create the file if missing
            Backend::Sqlite if !memory && !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        // one connection first, so that an unreachable server reports why
        // (refused, unknown host, bad password) rather than a pool timeout
        let first = tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect(&url))
            .await
            .map_err(|_| {
                sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
                ))
            })??;
        first.close().await?;
        let pool = options.connect(&url).await?;
        let queue = JobQueue {
            pool,
            backend,
            policy: presets::JOB,
            db_policy: presets::DB,
            lease: DEFAULT_LEASE,
            worker: "worker".to_owned(),
        };
        queue.create_schema(memory).await?;
        Ok(queue)
    }

    /// Open (or create) the SQLite database file at `path`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let q = retry_jobs_demo::JobQueue::open(dir.path().join("jobs.db")).await.unwrap();
    /// assert!(q.all().await.unwrap().is_empty());
    /// # }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> Result<JobQueue, QueueError> {
        JobQueue::connect(&format!("sqlite:{}", path.as_ref().display())).await
    }

    /// A SQLite database in memory (gone when dropped), for tests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// assert_eq!(q.policy().name(), "job");
    /// # }
    /// ```
    pub async fn open_in_memory() -> Result<JobQueue, QueueError> {
        JobQueue::connect("sqlite::memory:").await
    }

    async fn create_schema(&self, memory: bool) -> Result<(), QueueError> {
        if self.backend == Backend::Sqlite && !memory {
            // WAL: readers do not block the writer. It stays set in the
            // file; it cannot change inside a transaction.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&self.pool)
                .await?;
        }
        let mut tx = self.pool.begin().await?;
        match self.backend {
            Backend::Sqlite => {
                for sql in SCHEMA_SQLITE {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
            }
            Backend::Postgres => {
                // concurrent CREATE TABLE IF NOT EXISTS can fail with 23505: serialize
                sqlx::query("SELECT pg_advisory_xact_lock(7245001)")
                    .execute(&mut *tx)
                    .await?;
                for sql in SCHEMA_POSTGRES {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Judge failures with `policy` instead of [`presets::JOB`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_runtime::presets;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap().with_policy(presets::WEBHOOK);
    /// assert_eq!(q.policy().name(), "webhook");
    /// # }
    /// ```
    pub fn with_policy(mut self, policy: Policy<RetryOn>) -> JobQueue {
        self.policy = policy;
        self
    }

    /// Retry the queue's statements ([`claim_due`](JobQueue::claim_due),
    /// [`complete`](JobQueue::complete), [`fail`](JobQueue::fail),
    /// [`next_due_at`](JobQueue::next_due_at)) with `policy` instead of
    /// [`presets::DB`] (4 attempts, waits of 1s, 2s, 4s, on a timeout, a
    /// broken or refused connection, a server restarting or overloaded, a
    /// deadlock, a serialization failure or `SQLITE_BUSY`). Its waits are
    /// real time, not the simulated clock's. `presets::DB.with_attempts(1)`
    /// turns the retries off; its kinds still tell
    /// [`Worker::pause_after`] which errors a worker goes on after.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_runtime::presets;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// assert_eq!(q.db_policy().name(), "db");
    /// let q = q.with_db_policy(presets::DB.with_attempts(8));
    /// assert_eq!(q.db_policy().stop().max_attempts, 8);
    /// # }
    /// ```
    pub fn with_db_policy(mut self, policy: Policy<RetryOn>) -> JobQueue {
        self.db_policy = policy;
        self
    }

    /// Claims last `lease` (on the queue's clock) instead of [`DEFAULT_LEASE`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap().with_lease(Duration::from_secs(60));
    /// assert_eq!(q.lease(), Duration::from_secs(60));
    /// # }
    /// ```
    pub fn with_lease(mut self, lease: Duration) -> JobQueue {
        self.lease = lease;
        self
    }

    /// Claim for the worker named `worker` (`claimed_by`; default `worker`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap().with_worker("w7");
    /// assert_eq!(q.worker(), "w7");
    /// # }
    /// ```
    pub fn with_worker(mut self, worker: &str) -> JobQueue {
        worker.clone_into(&mut self.worker);
        self
    }

    /// The policy failures are judged by.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// assert_eq!(q.policy().stop().max_attempts, 4);
    /// # }
    /// ```
    pub fn policy(&self) -> &Policy<RetryOn> {
        &self.policy
    }

    /// The policy the queue's statements are retried by.
    pub fn db_policy(&self) -> &Policy<RetryOn> {
        &self.db_policy
    }

    /// How long a claim lasts.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The worker this handle claims for.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Which database it is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A [`Job`]'s columns as this backend's statements select them.
    fn columns(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => COLUMNS_SQLITE,
            Backend::Postgres => COLUMNS,
        }
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Add a `PENDING` job, due at `now`; returns its id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// let id = q.enqueue("resize image 7", Duration::ZERO).await.unwrap();
    /// assert_eq!(q.get(id).await.unwrap().unwrap().payload, "resize image 7");
    /// # }
    /// ```
    pub async fn enqueue(&self, payload: &str, now: Duration) -> Result<i64, QueueError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (payload, status, retry_count, next_retry_at) VALUES ($1, 'PENDING', 0, $2) RETURNING id",
        )
        .bind(payload)
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Claim the job that has been due the longest and mark it `RUNNING`
    /// for this worker until `now + lease` (saturating), in one statement: a
    /// `PENDING` job with `next_retry_at <= now`; ties by id. Two workers
    /// never claim the same job: on PostgreSQL the row is locked `FOR UPDATE
    /// SKIP LOCKED`, SQLite has one writer at a time. `None` when no job is
    /// due.
    ///
    /// First, each `RUNNING` job whose lease has expired by `now` (its
    /// worker died, or overran) has that run counted as a failed attempt:
    /// [`fail`](JobQueue::fail) with [`LeaseExpired`] at the lease's end, so
    /// the policy schedules it again or gives up, logged as
    /// [`Worker::run_one`] logs a failed run: a WARN line with the retry, an
    /// ERROR line when the job fails for good.
    ///
    /// A row either step finds that cannot be read as a [`Job`] (see
    /// [`QueueError::Unreadable`]) is set aside: `FAILED` for good, why in
    /// `last_error`, logged as an error; the claim goes on to the next job.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// q.enqueue("later", Duration::from_secs(60)).await.unwrap();
    /// assert!(q.claim_due(Duration::from_secs(59)).await.unwrap().is_none());
    /// let job = q.claim_due(Duration::from_secs(60)).await.unwrap().unwrap();
    /// assert_eq!(job.claimed_until, Some(Duration::from_secs(360))); // the 5-minute lease
    /// assert!(q.claim_due(Duration::from_secs(60)).await.unwrap().is_none()); // claimed already
    ///
    /// // its worker died: at the lease's end the run counts as a failed attempt
    /// assert!(q.claim_due(Duration::from_secs(360)).await.unwrap().is_none());
    /// let lost = q.get(job.id).await.unwrap().unwrap();
    /// assert_eq!((lost.status, lost.retry_count), (retry_jobs_demo::JobStatus::Pending, 1));
    /// assert!(lost.next_retry_at >= Duration::from_secs(390)); // 30s+ later (presets::JOB)
    /// # }
    /// ```
    ///
    /// A database error the [db policy](JobQueue::with_db_policy) retries
    /// runs both steps again, with the same `now`. When the server ran the
    /// claim but its answer was lost (the connection broke just then), that
    /// job stays `RUNNING` for this worker until its lease ends and then
    /// counts as a failed attempt, as if this worker had died: it is not
    /// lost, and it does not run twice at once, but an attempt is spent.
    pub async fn claim_due(&self, now: Duration) -> Result<Option<Job>, QueueError> {
        self.db_policy.retry(|| self.claim_due_once(now)).await
    }

    async fn claim_due_once(&self, now: Duration) -> Result<Option<Job>, QueueError> {
        if self.backend == Backend::Sqlite {
            self.set_aside_bad_times(now).await?;
        }
        self.expire_leases(now).await?;
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let until = now.saturating_add(self.lease);
        // each turn takes one PENDING row: ends when a readable one is
        // claimed or none is due. `claims` wraps: the token only has to
        // differ from the last claim's, and `claims + 1` at u32::MAX would
        // make a good row unreadable (out of range), then set aside
        loop {
            let row = sqlx::query(&format!(
                "UPDATE jobs SET status = 'RUNNING', claimed_by = $2, claimed_until = $3,
                    claims = CASE WHEN claims >= 4294967295 THEN 0 ELSE claims + 1 END
                 WHERE id = (SELECT id FROM jobs
                             WHERE status = 'PENDING' AND next_retry_at <= $1
                             ORDER BY next_retry_at, id LIMIT 1 {lock})
                 RETURNING {columns}",
                columns = self.columns()
            ))
            .bind(ms(now))
            .bind(&self.worker)
            .bind(ms(until))
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            match Job::from_row(&row) {
                Err(QueueError::Unreadable { id, reason }) => {
                    self.set_aside(id, &reason, until, now).await?;
                }
                job => return job.map(Some),
            }
        }
    }

    /// Count the run of each `RUNNING` job whose lease has expired by `now`
    /// as a failed attempt ([`LeaseExpired`], at the lease's end), and log
    /// it as any failed run. Each update is guarded by the claim's token and
    /// takes a `RUNNING` row only, so when two workers find the same expired
    /// lease (or the run's own worker records it too) only one of them
    /// records it, and logs it. (When the server applied the update but its
    /// answer was lost, the claim's retry finds the row no longer `RUNNING`:
    /// that lost run is recorded, not logged.)
    async fn expire_leases(&self, now: Duration) -> Result<(), QueueError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE status = 'RUNNING' AND claimed_until <= $1 ORDER BY id",
            self.columns()
        ))
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let job = match Job::from_row(row) {
                Ok(job) => job,
                Err(QueueError::Unreadable { id, reason }) => {
                    self.set_aside(id, &reason, now, now).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let until = job.claimed_until.unwrap_or(now);
            let failure = self.judge(&job, &LeaseExpired, until);
            // not `fail`: the claim's retry covers this statement, and
            // runs the select again
            match self.record(&job, &failure, false).await {
                Ok(()) => self.log_failure(&job, &LeaseExpired, &failure.outcome, until),
                // another worker recorded it first, and logged it
                Err(QueueError::NotClaimed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// On SQLite, whose columns take any value: set aside each `PENDING` row
    /// whose `next_retry_at`, and each `RUNNING` row whose `claimed_until`,
    /// is not an integer (a REAL or text, written by hand or by another
    /// program). Text never compares `<=` to a number, so neither the claim
    /// nor a lease's end would ever take such a row, and [`next_due_at`]
    /// could not read it; a REAL could not be read as a [`Job`] either.
    ///
    /// [`next_due_at`]: JobQueue::next_due_at
    async fn set_aside_bad_times(&self, now: Duration) -> Result<(), QueueError> {
        const BAD: &str = "(status = 'PENDING' AND typeof(next_retry_at) <> 'integer'
             OR status = 'RUNNING' AND typeof(claimed_until) <> 'integer')";
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(&format!(
            "SELECT id, CAST(CASE WHEN status = 'PENDING'
                    THEN 'next_retry_at: ' || quote(next_retry_at) || ' is ' || typeof(next_retry_at)
                    ELSE 'claimed_until: ' || quote(claimed_until) || ' is ' || typeof(claimed_until)
                END || ', not an integer' AS BLOB)
             FROM jobs WHERE {BAD} ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        for (id, reason) in rows {
            let reason = String::from_utf8_lossy(&reason);
            let n = sqlx::query(&format!(
                "UPDATE jobs SET status = 'FAILED', finished_at = $2, {}
                 WHERE id = $1 AND {BAD}",
                keep_last_error("$3")
            ))
            .bind(id)
            .bind(ms(now))
            .bind(set_aside_error(&reason))
            .execute(&self.pool)
            .await?
            .rows_affected();
            if n > 0 {
                self.log_set_aside(id, &reason, now);
            }
        }
        Ok(())
    }

    /// Set aside the row of job `id`, which cannot be read as a [`Job`]
    /// (`reason`), if it is still `RUNNING` under a lease that ends by
    /// `until` (the claim that just took it, or an expired one): `FAILED`
    /// for good at `now`, `reason` in `last_error` before the error it
    /// held, logged as an error. Its `payload`, `retry_count` and
    /// `next_retry_at` are kept, for whoever repairs it (a claim that took it
    /// has written `claimed_by`, `claimed_until` and `claims`). Another
    /// worker that set it aside first is not an error.
    async fn set_aside(
        &self,
        id: i64,
        reason: &str,
        until: Duration,
        now: Duration,
    ) -> Result<(), QueueError> {
        let n = sqlx::query(&format!(
            "UPDATE jobs SET status = 'FAILED', finished_at = $3, {}
             WHERE id = $1 AND status = 'RUNNING' AND claimed_until <= $2",
            keep_last_error("$4")
        ))
        .bind(id)
        .bind(ms(until))
        .bind(ms(now))
        .bind(set_aside_error(reason))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n > 0 {
            self.log_set_aside(id, reason, now);
        }
        Ok(())
    }

    fn log_set_aside(&self, id: i64, reason: &str, now: Duration) {
        tracing::error!(
            "[{}] worker {}: job {id} cannot be read ({reason}); set aside as FAILED, its payload, retry_count and next_retry_at kept",
            fmt_time(now),
            self.worker
        );
    }

    /// The claimed job succeeded: `DONE`.
    ///
    /// A database error the [db policy](JobQueue::with_db_policy) retries
    /// runs the statement again. Recording the same outcome twice is not an
    /// error: when the server recorded it but its answer was lost, the
    /// retry finds the job `DONE` at `now` under this claim, and succeeds.
    ///
    /// # Errors
    /// [`QueueError::NotClaimed`] if the job is not `RUNNING` under this
    /// claim (nor `DONE` at `now` by it).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, JobStatus};
    /// let q = JobQueue::open_in_memory().await.unwrap();
    /// q.enqueue("x", Duration::ZERO).await.unwrap();
    /// let job = q.claim_due(Duration::ZERO).await.unwrap().unwrap();
    /// q.complete(&job, Duration::from_secs(1)).await.unwrap();
    /// assert_eq!(q.get(job.id).await.unwrap().unwrap().status, JobStatus::Done);
    /// q.complete(&job, Duration::from_secs(1)).await.unwrap(); // the same outcome again
    /// assert!(q.complete(&job, Duration::from_secs(2)).await.is_err()); // not RUNNING any more
    /// # }
    /// ```
    pub async fn complete(&self, job: &Job, now: Duration) -> Result<(), QueueError> {
        self.db_policy.retry(|| self.complete_once(job, now)).await
    }

    async fn complete_once(&self, job: &Job, now: Duration) -> Result<(), QueueError> {
        let n = sqlx::query(
            "UPDATE jobs SET status = 'DONE', finished_at = $2
             WHERE id = $1 AND claims = $3
               AND (status = 'RUNNING' OR (status = 'DONE' AND finished_at = $2))",
        )
        .bind(job.id)
        .bind(ms(now))
        .bind(i64::from(job.claims))
        .execute(&self.pool)
        .await?
        .rows_affected();
        claimed(job, n)
    }

    /// The claimed job failed with `error`: the policy decides, from the
    /// job's `retry_count` and the error's kind, between a retry (back to
    /// `PENDING`, `retry_count + 1`, due at `now + wait`) and giving up
    /// (`FAILED`). `last_error` records the error and its kind.
    ///
    /// The policy decides once; a database error the [db
    /// policy](JobQueue::with_db_policy) retries runs the statement again,
    /// writing the same row. Finding that row already written under this
    /// claim (the server wrote it, its answer was lost) is not an error.
    ///
    /// # Errors
    /// [`QueueError::NotClaimed`] if the job is not `RUNNING` under this claim.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_runtime::StopReason;
    /// use retry_jobs_demo::{JobOutcome, JobQueue, JobStatus};
    /// let q = JobQueue::open_in_memory().await.unwrap();
    /// q.enqueue("import bad.csv", Duration::ZERO).await.unwrap();
    /// let job = q.claim_due(Duration::ZERO).await.unwrap().unwrap();
    /// let invalid = std::io::Error::from(std::io::ErrorKind::InvalidData); // Permanent
    /// let out = q.fail(&job, &invalid, Duration::ZERO).await.unwrap();
    /// assert_eq!(out, JobOutcome::Failed { reason: StopReason::Permanent, attempts: 1 });
    /// assert_eq!(q.get(job.id).await.unwrap().unwrap().status, JobStatus::Failed);
    /// # }
    /// ```
    pub async fn fail<E>(
        &self,
        job: &Job,
        error: &E,
        now: Duration,
    ) -> Result<JobOutcome, QueueError>
    where
        E: Classify + fmt::Display,
    {
        self.record_failure(job, error, now, false).await
    }

    /// [`fail`](Self::fail) for a worker's own run, which it logs when this
    /// returns `Ok`: the first try of the statement takes a `RUNNING` row
    /// only (`own_run`), and a retry (its first try's answer may have been
    /// lost) also the row that try wrote. `fail` takes that row at the
    /// first try too (calling it again is success), but for a run that
    /// outlived its lease, the worker that found the lease expired can have
    /// written the very same row, and logged it.
    async fn record_failure<E>(
        &self,
        job: &Job,
        error: &E,
        now: Duration,
        own_run: bool,
    ) -> Result<JobOutcome, QueueError>
    where
        E: Classify + fmt::Display,
    {
        let failure = self.judge(job, error, now);
        self.db_policy
            .retry(|attempt: Attempt| {
                let again = !own_run || attempt.number > 1;
                self.record(job, &failure, again)
            })
            .context()
            .await?;
        Ok(failure.outcome)
    }

    /// What a failed run makes of its job's row, by the policy.
    fn judge<E>(&self, job: &Job, error: &E, now: Duration) -> Failure
    where
        E: Classify + fmt::Display,
    {
        let kind = error.kind();
        // saturating: a `Job` built by hand may hold any count
        let attempts = job.retry_count.saturating_add(1);
        match self.policy.decide(job.retry_count, error) {
            Decision::Retry(wait) => {
                // stored in whole milliseconds
                let wait = from_ms(ms(wait));
                Failure {
                    outcome: JobOutcome::Retry {
                        retry_count: attempts,
                        wait,
                        next_retry_at: from_ms(ms(now.saturating_add(wait))),
                    },
                    last_error: format!("{kind}: {error}"),
                    now,
                }
            }
            Decision::GiveUp(reason) => Failure {
                outcome: JobOutcome::Failed { reason, attempts },
                last_error: format!(
                    "{kind}: {error} (gave up after {attempts} attempt{}: {reason})",
                    if attempts == 1 { "" } else { "s" }
                ),
                now,
            },
        }
    }

    /// Log a failed run of `job` whose outcome was recorded at `now`: WARN
    /// with the retry, or ERROR when the job failed for good. The one place
    /// these lines are written, for [`Worker::run_one`] and for a run lost to
    /// an expired lease.
    fn log_failure<E>(&self, job: &Job, error: &E, outcome: &JobOutcome, now: Duration)
    where
        E: Classify + fmt::Display,
    {
        let (id, payload, t) = (job.id, &job.payload, fmt_time(now));
        let attempt = job.retry_count.saturating_add(1);
        let max = self.policy.stop().max_attempts;
        let kind = error.kind();
        match *outcome {
            JobOutcome::Retry {
                retry_count,
                wait,
                next_retry_at,
            } => tracing::warn!(
                "[{t}] job {id} {payload:?}: attempt {attempt}/{max} failed ({kind}: {error}); retry {retry_count} in {}s, at {}",
                wait.as_secs(),
                fmt_time(next_retry_at)
            ),
            JobOutcome::Failed { reason, .. } => tracing::error!(
                "[{t}] job {id} {payload:?}: attempt {attempt}/{max} failed ({kind}: {error}); FAILED for good ({reason})"
            ),
        }
    }

    /// Write a failed run's row, if the job is still `RUNNING` under its
    /// claim, or (`again`: a retry of this statement) already holds that very
    /// row, written by an earlier try whose answer was lost. Only then: the
    /// same row written by another worker (a run that outlived its lease,
    /// recorded by the worker that found the lease expired) is not this
    /// call's, and [`QueueError::NotClaimed`].
    async fn record(&self, job: &Job, failure: &Failure, again: bool) -> Result<(), QueueError> {
        let n = match failure.outcome {
            JobOutcome::Retry {
                retry_count,
                next_retry_at,
                ..
            } => sqlx::query(
                "UPDATE jobs SET status = 'PENDING', retry_count = $3, next_retry_at = $4, last_error = $5
                 WHERE id = $1 AND claims = $2
                   AND (status = 'RUNNING' OR ($6 = 1 AND status = 'PENDING' AND retry_count = $3
                        AND next_retry_at = $4 AND last_error = $5))",
            )
            .bind(job.id)
            .bind(i64::from(job.claims))
            .bind(i64::from(retry_count))
            .bind(ms(next_retry_at))
            .bind(&failure.last_error)
            .bind(i64::from(again)),
            JobOutcome::Failed { .. } => sqlx::query(
                "UPDATE jobs SET status = 'FAILED', finished_at = $3, last_error = $4
                 WHERE id = $1 AND claims = $2
                   AND (status = 'RUNNING' OR ($5 = 1 AND status = 'FAILED' AND finished_at = $3
                        AND last_error = $4))",
            )
            .bind(job.id)
            .bind(i64::from(job.claims))
            .bind(ms(failure.now))
            .bind(&failure.last_error)
            .bind(i64::from(again)),
        }
        .execute(&self.pool)
        .await?
        .rows_affected();
        claimed(job, n)
    }

    /// When the next job is due: the earliest `next_retry_at` of the
    /// `PENDING` jobs and `claimed_until` of the `RUNNING` ones (a lease that
    /// may expire); `None` when no job is pending or running.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// assert_eq!(q.next_due_at().await.unwrap(), None);
    /// q.enqueue("a", Duration::from_secs(9)).await.unwrap();
    /// q.enqueue("b", Duration::from_secs(3)).await.unwrap();
    /// assert_eq!(q.next_due_at().await.unwrap(), Some(Duration::from_secs(3)));
    /// # }
    /// ```
    pub async fn next_due_at(&self) -> Result<Option<Duration>, QueueError> {
        self.db_policy.retry(|| self.next_due_at_once()).await
    }

    async fn next_due_at_once(&self) -> Result<Option<Duration>, QueueError> {
        const DUE: &str = "CASE WHEN status = 'PENDING' THEN next_retry_at ELSE claimed_until END";
        // SQLite: a time that is not an integer (the claim sets its row
        // aside) would be returned as a REAL or text that is no i64
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "SELECT MIN({DUE}) FROM jobs
                 WHERE status IN ('PENDING', 'RUNNING') AND typeof({DUE}) = 'integer'"
            ),
            Backend::Postgres => {
                format!("SELECT MIN({DUE}) FROM jobs WHERE status IN ('PENDING', 'RUNNING')")
            }
        };
        let at: Option<i64> = sqlx::query_scalar(&sql).fetch_one(&self.pool).await?;
        Ok(at.map(from_ms))
    }

    /// One job by id.
    ///
    /// # Errors
    /// [`QueueError::UnknownStatus`] or [`QueueError::Unreadable`] for a row
    /// the queue cannot read as a [`Job`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// assert!(q.get(42).await.unwrap().is_none());
    /// # }
    /// ```
    pub async fn get(&self, id: i64) -> Result<Option<Job>, QueueError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE id = $1",
            self.columns()
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Job::from_row).transpose()
    }

    /// Every job, by id.
    ///
    /// # Errors
    /// [`QueueError::UnknownStatus`] for the first row whose status is none
    /// of the four, [`QueueError::Unreadable`] for the first that cannot be
    /// read: such a row is reported, never skipped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// q.enqueue("a", Duration::ZERO).await.unwrap();
    /// assert_eq!(q.all().await.unwrap().len(), 1);
    /// # }
    /// ```
    pub async fn all(&self) -> Result<Vec<Job>, QueueError> {
        let rows = sqlx::query(&format!("SELECT {} FROM jobs ORDER BY id", self.columns()))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Job::from_row).collect()
    }

    /// The rows whose status is none of `PENDING`, `RUNNING`, `DONE`,
    /// `FAILED`, as `(id, status)`: never claimed, changed or deleted. A
    /// status that is not UTF-8 (SQLite) is listed with U+FFFD for its bad
    /// bytes.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, QueueError};
    /// let q = JobQueue::open_in_memory().await.unwrap();
    /// let id = q.enqueue("a", Duration::ZERO).await.unwrap();
    /// sqlx::query("UPDATE jobs SET status = 'PAUSED'").execute(q.pool()).await.unwrap();
    /// assert_eq!(q.unknown_statuses().await.unwrap(), [(id, "PAUSED".to_owned())]);
    /// assert!(matches!(q.all().await, Err(QueueError::UnknownStatus { .. })));
    /// assert!(q.claim_due(Duration::from_secs(1)).await.unwrap().is_none());
    /// # }
    /// ```
    pub async fn unknown_statuses(&self) -> Result<Vec<(i64, String)>, QueueError> {
        let status = match self.backend {
            Backend::Sqlite => "CAST(status AS BLOB)",
            Backend::Postgres => "status",
        };
        let rows = sqlx::query(&format!(
            "SELECT id, {status} FROM jobs
             WHERE status NOT IN ('PENDING', 'RUNNING', 'DONE', 'FAILED') ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                // a status that is not UTF-8 is listed too, its bad bytes as U+FFFD
                let status = match r.try_get::<Vec<u8>, _>(1) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(_) => r.try_get(1)?,
                };
                Ok((r.try_get(0)?, status))
            })
            .collect()
    }

    /// How many jobs have `status`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, JobStatus};
    /// let q = JobQueue::open_in_memory().await.unwrap();
    /// q.enqueue("a", Duration::ZERO).await.unwrap();
    /// assert_eq!(q.count(JobStatus::Pending).await.unwrap(), 1);
    /// # }
    /// ```
    pub async fn count(&self, status: JobStatus) -> Result<usize, QueueError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = $1")
            .bind(status.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The table as aligned text, one line per job, for logs and demos.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// q.enqueue("a", Duration::ZERO).await.unwrap();
    /// assert!(q.table().await.unwrap().contains("PENDING"));
    /// # }
    /// ```
    pub async fn table(&self) -> Result<String, QueueError> {
        let mut out = format!(
            "{:>3}  {:<22} {:<8} {:>5}  {:<13} {}\n",
            "id", "payload", "status", "retry", "next_retry_at", "last_error"
        );
        for job in self.all().await? {
            let next = match job.status {
                JobStatus::Pending => fmt_time(job.next_retry_at),
                JobStatus::Running => format!(
                    "{} until {}",
                    job.claimed_by.as_deref().unwrap_or("?"),
                    fmt_time(job.claimed_until.unwrap_or_default())
                ),
                JobStatus::Done | JobStatus::Failed => "-".to_owned(),
            };
            out.push_str(&format!(
                "{:>3}  {:<22} {:<8} {:>5}  {:<13} {}\n",
                job.id,
                job.payload,
                job.status,
                job.retry_count,
                next,
                job.last_error.as_deref().unwrap_or("-")
            ));
        }
        Ok(out)
    }
}

/// A failed run's row, as the policy decided it (once, so that every
/// attempt of its statement writes the same row).
struct Failure {
    outcome: JobOutcome,
    last_error: String,
    /// When the run ended: `finished_at` of a job that failed for good.
    now: Duration,
}

fn claimed(job: &Job, rows: u64) -> Result<(), QueueError> {
    match rows {
        0 => Err(QueueError::NotClaimed { id: job.id }),
        _ => Ok(()),
    }
}

/// A simulated clock that runs `scale` times faster than the real one, so a
/// schedule of minutes plays in milliseconds. Its time is a `Duration`
/// since it was made. It reads tokio's clock, so under `tokio::time::pause()`
/// it advances only as tokio's does.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use retry_jobs_demo::ScaledClock;
/// let clock = ScaledClock::minute_every(Duration::from_millis(100)); // 1 simulated minute = 100ms
/// assert_eq!(clock.real(Duration::from_secs(30)), Duration::from_millis(50));
/// clock.sleep_until(Duration::from_secs(120)).await;
/// assert!(clock.now() >= Duration::from_secs(120));
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ScaledClock {
    start: tokio::time::Instant,
    scale: u32,
}

impl ScaledClock {
    /// A clock at zero now, running `scale` times faster than real time
    /// (`scale` 0 is taken as 1).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let c = retry_jobs_demo::ScaledClock::new(600);
    /// assert!(c.now() < std::time::Duration::from_secs(60));
    /// # }
    /// ```
    pub fn new(scale: u32) -> ScaledClock {
        ScaledClock {
            start: tokio::time::Instant::now(),
            scale: scale.max(1),
        }
    }

    /// A clock whose zero is `epoch` (a wall-clock time), so that several
    /// processes started with the same `epoch` and `scale` share one
    /// simulated time, as far as their machines' wall clocks agree: a
    /// difference between them is multiplied by `scale` (see the crate's
    /// docs on why the workers' clocks must agree). An `epoch` in the future
    /// is taken as now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::{Duration, SystemTime};
    /// let epoch = SystemTime::now() - Duration::from_secs(2);
    /// let c = retry_jobs_demo::ScaledClock::since(epoch, 60);
    /// assert!(c.now() >= Duration::from_secs(120));
    /// # }
    /// ```
    pub fn since(epoch: SystemTime, scale: u32) -> ScaledClock {
        let ago = SystemTime::now().duration_since(epoch).unwrap_or_default();
        let now = tokio::time::Instant::now();
        ScaledClock {
            start: now.checked_sub(ago).unwrap_or(now),
            scale: scale.max(1),
        }
    }

    /// How many times faster than real time it runs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// assert_eq!(retry_jobs_demo::ScaledClock::new(600).scale(), 600);
    /// # }
    /// ```
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// A clock on which one simulated minute takes `real`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let c = retry_jobs_demo::ScaledClock::minute_every(Duration::from_millis(10));
    /// assert_eq!(c.real(Duration::from_secs(60)), Duration::from_millis(10));
    /// # }
    /// ```
    pub fn minute_every(real: Duration) -> ScaledClock {
        let real_ms = real.as_millis().max(1);
        ScaledClock::new(u32::try_from(60_000 / real_ms).unwrap_or(u32::MAX))
    }

    /// Simulated time since the clock was made.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// let c = retry_jobs_demo::ScaledClock::new(60);
    /// tokio::time::sleep(Duration::from_secs(1)).await;
    /// assert_eq!(c.now(), Duration::from_secs(60));
    /// # }
    /// ```
    pub fn now(&self) -> Duration {
        self.start.elapsed().saturating_mul(self.scale)
    }

    /// How long `simulated` takes in real time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// assert_eq!(retry_jobs_demo::ScaledClock::new(10).real(Duration::from_secs(1)), Duration::from_millis(100));
    /// # }
    /// ```
    pub fn real(&self, simulated: Duration) -> Duration {
        simulated / self.scale
    }

    /// Sleep (on tokio's timer) until the simulated time `at`. tokio's timer
    /// has a resolution of one real millisecond, so this wakes up to `scale`
    /// simulated milliseconds late.
    pub async fn sleep_until(&self, at: Duration) {
        match self.deadline(at) {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            // beyond what an `Instant` holds: never
            None => std::future::pending().await,
        }
    }

    /// The tokio instant at which the simulated time reaches `at`; `None`
    /// when that is beyond what an `Instant` holds.
    fn deadline(&self, at: Duration) -> Option<tokio::time::Instant> {
        let real = self
            .real(at)
            .saturating_add(Duration::from_nanos(u64::from(self.scale)));
        self.start.checked_add(real)
    }
}

/// A worker: claims due jobs from its [`JobQueue`] one at a time, runs them,
/// and records each outcome, logging each step through `tracing`. Several
/// workers, in one process or many, share one queue.
#[derive(Debug)]
pub struct Worker {
    queue: JobQueue,
    clock: ScaledClock,
    name: String,
}

/// What [`Worker::run_one`] did with one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    /// The job as claimed (`RUNNING`).
    pub job: Job,
    /// `Ok(None)` when it succeeded, `Ok(Some(..))` when it failed (what
    /// [`JobQueue::fail`] decided; a run stopped at the end of its lease
    /// failed with [`LeaseExpired`], one whose handler panicked with
    /// [`HandlerPanicked`]), and `Err(LeaseLost)` when its lease had
    /// expired and another worker had recorded that, so this run's outcome
    /// was not recorded.
    pub outcome: Result<Option<JobOutcome>, LeaseLost>,
    /// When the run ended: the time given to [`JobQueue::complete`] or
    /// [`JobQueue::fail`].
    pub ended_at: Duration,
}

/// The run's outcome was not recorded: the job's lease expired during the
/// run and another worker recorded that first (as a failed attempt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseLost;

impl Worker {
    /// A worker named `name` on `queue` (which then claims as `name`). Logs
    /// what it finds: pending jobs, running ones (leases of dead workers
    /// included), and every row with an unknown status, as an error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_jobs_demo::{JobQueue, ScaledClock, Worker};
    /// let w = Worker::start("w1", JobQueue::open_in_memory().await.unwrap(), ScaledClock::new(600)).await.unwrap();
    /// assert_eq!(w.queue().worker(), "w1");
    /// # }
    /// ```
    pub async fn start(
        name: &str,
        queue: JobQueue,
        clock: ScaledClock,
    ) -> Result<Worker, QueueError> {
        let queue = queue.with_worker(name);
        let now = fmt_time(clock.now());
        // read with the db policy's retries, as every statement of a
        // worker: a worker started during a failover starts once it is over
        let db = queue.db_policy();
        for (id, status) in db.retry(|| queue.unknown_statuses()).await? {
            tracing::error!(
                "[{now}] worker {name}: job {id} has an unknown status {status:?}; leaving it as it is"
            );
        }
        let pending = db.retry(|| queue.count(JobStatus::Pending)).await?;
        let running = db.retry(|| queue.count(JobStatus::Running)).await?;
        tracing::info!(
            "[{now}] worker {name} started: {pending} pending job(s), {running} running (a failed attempt each when its lease expires)"
        );
        Ok(Worker {
            queue,
            clock,
            name: name.to_owned(),
        })
    }

    /// The queue.
    pub fn queue(&self) -> &JobQueue {
        &self.queue
    }

    /// The clock.
    pub fn clock(&self) -> &ScaledClock {
        &self.clock
    }

    /// Claim one due job, run `handler` on it, and record the outcome;
    /// `None` when no job is due. The handler runs until the claim's lease
    /// ends at most: a run still going then is dropped (stopped at its next
    /// `.await`) and fails with [`LeaseExpired`], which the policy judges
    /// like any failure. So no job runs on two workers at once, as long as
    /// the handler does not block the thread.
    ///
    /// A handler that panics (when called, or in the future it returns)
    /// fails its attempt with [`HandlerPanicked`], the panic's message in
    /// `last_error`, which the policy judges like any failure, and the
    /// worker goes on: the handler is called again for the next job, so
    /// state of its own that a panic can leave half-changed is its own to
    /// check. The panic hook still runs (by default it prints the panic to
    /// stderr). A build with `panic = "abort"` cannot catch it: the process
    /// ends, and the job counts as a failed attempt when its lease ends.
    ///
    /// The claim and the record of the outcome are retried by the queue's
    /// [db policy](JobQueue::with_db_policy); when the outcome still cannot
    /// be recorded, the error is [`QueueError::NotRecorded`] (what the run
    /// did, and the database's error), and the job counts as a failed
    /// attempt once its lease ends.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, ScaledClock, Worker};
    /// let queue = JobQueue::open_in_memory().await.unwrap();
    /// queue.enqueue("noop", Duration::ZERO).await.unwrap();
    /// let mut worker = Worker::start("w", queue, ScaledClock::new(1)).await.unwrap();
    /// let mut ok = |_job| async { Ok::<(), std::io::Error>(()) };
    /// let ran = worker.run_one(&mut ok).await.unwrap().unwrap();
    /// assert_eq!((ran.job.payload.as_str(), ran.outcome), ("noop", Ok(None)));
    /// assert!(worker.run_one(&mut ok).await.unwrap().is_none());
    /// # }
    /// ```
    pub async fn run_one<E, F, Fut>(&mut self, handler: &mut F) -> Result<Option<Ran>, QueueError>
    where
        F: FnMut(Job) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Classify + fmt::Display,
    {
        let claimed_at = self.clock.now();
        let Some(job) = self.queue.claim_due(claimed_at).await? else {
            return Ok(None);
        };
        let attempt = job.retry_count.saturating_add(1);
        let max = self.queue.policy().stop().max_attempts;
        // the handler is called inside the future, so that a panic in the
        // call itself is caught too
        let run = AssertUnwindSafe(async { handler(job.clone()).await }).catch_unwind();
        let deadline = job
            .claimed_until
            .and_then(|until| self.clock.deadline(until));
        let ran = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, run)
                .await
                .map_err(|_| LeaseExpired),
            None => Ok(run.await),
        };
        let result = match ran {
            Ok(Ok(result)) => result.map_err(RunFailure::Handler),
            Ok(Err(panic)) => Err(RunFailure::Panic(HandlerPanicked::from_payload(&*panic))),
            Err(expired) => Err(RunFailure::Lease(expired)),
        };
        // stopped at the lease's end: recorded at that time, when the lease
        // is still this worker's
        let now = match (&result, job.claimed_until) {
            (Err(RunFailure::Lease(_)), Some(until)) => until.min(self.clock.now()),
            _ => self.clock.now(),
        };
        let (id, payload, t, name) = (job.id, &job.payload, fmt_time(now), &self.name);
        let recorded = match &result {
            Ok(()) => self.queue.complete(&job, now).await.map(|()| None),
            Err(error) => {
                let recorded = self.queue.record_failure(&job, error, now, true).await;
                recorded.map(Some)
            }
        };
        let outcome = match recorded {
            Err(QueueError::NotClaimed { .. }) => {
                tracing::warn!(
                    "[{t}] worker {name}: job {id} {payload:?} outlived its lease; another worker recorded that, this run's outcome is not"
                );
                return Ok(Some(Ran {
                    job,
                    outcome: Err(LeaseLost),
                    ended_at: now,
                }));
            }
            Err(error) => {
                // the queue's db policy retried already: the database is out
                // of reach for now. The job stays RUNNING until its lease
                // ends, then counts as a failed attempt; say what the run did.
                let did = match &result {
                    Ok(()) => "succeeded".to_owned(),
                    Err(e) => format!("failed ({}: {e})", e.kind()),
                };
                tracing::error!(
                    "[{t}] worker {name}: job {id} {payload:?} {did}, but that could not be recorded ({error}); it stays RUNNING until its lease ends at {}, then counts as a failed attempt",
                    fmt_time(job.claimed_until.unwrap_or(now))
                );
                return Err(QueueError::NotRecorded {
                    id,
                    outcome: did,
                    error: Box::new(error),
                });
            }
            Ok(outcome) => outcome,
        };
        match (&result, &outcome) {
            (Err(error), Some(outcome)) => self.queue.log_failure(&job, error, outcome, now),
            _ => tracing::info!("[{t}] job {id} {payload:?}: DONE on attempt {attempt}/{max}"),
        }
        Ok(Some(Ran {
            job,
            outcome: Ok(outcome),
            ended_at: now,
        }))
    }

    /// Run due jobs, sleeping until the next one is due (or a running job's
    /// lease expires), until no job is `PENDING` or `RUNNING`, or the
    /// simulated time reaches `until` (if given). Returns the runs made.
    /// A database error of a kind the queue's db policy retries does not
    /// stop it: it pauses ([`pause_after`](Worker::pause_after)) and goes on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, JobStatus, ScaledClock, Worker};
    /// let queue = JobQueue::open_in_memory().await.unwrap();
    /// let id = queue.enqueue("flaky once", Duration::ZERO).await.unwrap();
    /// // 6000 times faster than real time: the 30s wait takes 5 ms
    /// let mut worker = Worker::start("w", queue, ScaledClock::new(6000)).await.unwrap();
    /// let runs = worker
    ///     .run(None, |job| async move {
    ///         match job.retry_count {
    ///             0 => Err(std::io::Error::from(std::io::ErrorKind::TimedOut)),
    ///             _ => Ok(()),
    ///         }
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(runs.len(), 2);
    /// let job = worker.queue().get(id).await.unwrap().unwrap();
    /// assert_eq!((job.status, job.retry_count), (JobStatus::Done, 1));
    /// assert!(worker.clock().now() >= Duration::from_secs(30)); // waited 30s+ (simulated)
    /// # }
    /// ```
    pub async fn run<E, F, Fut>(
        &mut self,
        until: Option<Duration>,
        mut handler: F,
    ) -> Result<Vec<Ran>, QueueError>
    where
        F: FnMut(Job) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Classify + fmt::Display,
    {
        let mut runs = Vec::new();
        loop {
            if until.is_some_and(|until| self.clock.now() >= until) {
                break;
            }
            match self.run_one(&mut handler).await {
                Ok(Some(ran)) => {
                    runs.push(ran);
                    continue;
                }
                Ok(None) => {}
                Err(e) if self.pause_after(&e).await => continue,
                Err(e) => return Err(e),
            }
            match self.wait(until).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if self.pause_after(&e).await => {}
                Err(e) => return Err(e),
            }
        }
        Ok(runs)
    }

    /// After [`run_one`](Worker::run_one) or [`wait`](Worker::wait) failed
    /// with `error`: when it is of a kind the queue's [db
    /// policy](JobQueue::with_db_policy) retries (the database out of reach,
    /// restarting, overloaded, or busy, past that policy's own retries), log
    /// it, sleep the policy's longest wait and return `true`, so the caller
    /// goes on, as [`run`](Worker::run) does: a worker outlives an outage of
    /// its database. `false` at once for any other error (a missing table,
    /// bad SQL, a refused password), which the caller should return.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_jobs_demo::{JobQueue, QueueError, ScaledClock, Worker};
    /// let worker = Worker::start("w", JobQueue::open_in_memory().await.unwrap(), ScaledClock::new(1)).await.unwrap();
    /// assert!(!worker.pause_after(&QueueError::NotClaimed { id: 1 }).await);
    /// # }
    /// ```
    pub async fn pause_after(&self, error: &QueueError) -> bool {
        let policy = self.queue.db_policy();
        let kind = error.kind();
        if !policy.when().0.contains(kind) {
            return false;
        }
        let pause = policy.backoff().cap();
        tracing::warn!(
            "[{}] worker {}: {error} ({kind}); going on in {}ms",
            fmt_time(self.clock.now()),
            self.name,
            pause.as_millis()
        );
        tokio::time::sleep(pause).await;
        true
    }

    /// With no job due now: sleep until the next one is due, a running
    /// job's lease expires, or `until`, whichever comes first, and return
    /// `true`; return `false` at once when no job is `PENDING` or `RUNNING`.
    /// [`run`](Worker::run) is `run_one` and `wait` in a loop; a loop of
    /// your own can do more between runs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, ScaledClock, Worker};
    /// let queue = JobQueue::open_in_memory().await.unwrap();
    /// let worker = Worker::start("w", queue, ScaledClock::new(6000)).await.unwrap();
    /// assert!(!worker.wait(None).await.unwrap()); // nothing to do
    /// worker.queue().enqueue("later", Duration::from_secs(90)).await.unwrap();
    /// assert!(worker.wait(None).await.unwrap());
    /// assert!(worker.clock().now() >= Duration::from_secs(90));
    /// # }
    /// ```
    pub async fn wait(&self, until: Option<Duration>) -> Result<bool, QueueError> {
        let Some(next) = self.queue.next_due_at().await? else {
            tracing::info!(
                "[{}] worker {}: no job pending or running",
                fmt_time(self.clock.now()),
                self.name
            );
            return Ok(false);
        };
        let wake = until.map_or(next, |until| next.min(until));
        if wake <= self.clock.now() {
            // due now, but another worker holds it (SKIP LOCKED): look again shortly
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            self.clock.sleep_until(wake).await;
        }
        Ok(true)
    }
}

/// Why a run failed: its handler's error, the end of its lease, or a panic.
enum RunFailure<E> {
    Handler(E),
    Lease(LeaseExpired),
    Panic(HandlerPanicked),
}

impl<E: fmt::Display> fmt::Display for RunFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Handler(e) => e.fmt(f),
            RunFailure::Lease(e) => e.fmt(f),
            RunFailure::Panic(e) => e.fmt(f),
        }
    }
}

impl<E: Classify> Classify for RunFailure<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            RunFailure::Handler(e) => e.kind(),
            RunFailure::Lease(e) => e.kind(),
            RunFailure::Panic(e) => e.kind(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            RunFailure::Handler(e) => e.retry_after(),
            RunFailure::Lease(_) | RunFailure::Panic(_) => None,
        }
    }
}

/// `url` with its passwords replaced by `***`, for messages and logs: the
/// one in the user info, and a `password` query parameter (sqlx reads both).
///
/// ```
/// use retry_jobs_demo::redact_url;
/// assert_eq!(redact_url("postgres://app:s3cret@db:5432/jobs"), "postgres://app:***@db:5432/jobs");
/// assert_eq!(redact_url("postgres://app@db/jobs?password=s3cret"), "postgres://app@db/jobs?password=***");
/// assert_eq!(redact_url("postgres://app@db/jobs"), "postgres://app@db/jobs");
/// assert_eq!(redact_url("sqlite:jobs.db"), "sqlite:jobs.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = redact_user_info(base);
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                    out.push_str(key);
                    out.push_str("=***");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

/// `url` (without its query) with the password of its user info replaced by `***`.
fn redact_user_info(url: &str) -> String {
    let (Some(scheme_end), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return url.to_owned();
    };
    let user_start = scheme_end + 3;
    if at < user_start {
        return url.to_owned();
    }
    match url[user_start..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..user_start], &url[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed run's row found already written: success on a retry of the
    /// statement (its first try's answer was lost), `NotClaimed` on a first
    /// try (another worker wrote it: the same row for a run that outlived
    /// its lease), which is how a lost run is logged once.
    #[tokio::test]
    async fn a_row_already_written_is_this_calls_only_on_a_retry() {
        let q = JobQueue::open_in_memory()
            .await
            .unwrap()
            .with_policy(presets::WEBHOOK);
        q.enqueue("a", Duration::ZERO).await.unwrap();
        let job = q.claim_due(Duration::ZERO).await.unwrap().unwrap();
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let failure = q.judge(&job, &refused, Duration::from_secs(1));
        q.record(&job, &failure, false).await.unwrap();
        assert!(matches!(
            q.record(&job, &failure, false).await,
            Err(QueueError::NotClaimed { .. })
        ));
        q.record(&job, &failure, true).await.unwrap();
    }
}
