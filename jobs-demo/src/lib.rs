//! Background jobs persisted in SQLite, retried on a schedule computed by the
//! runtime's pure decision API: [`retry_runtime::presets::JOB`]`.decide(retry_count, &error)`.
//!
//! The table:
//!
//! | column | meaning |
//! |---|---|
//! | `id` | the job's id |
//! | `payload` | what to do (text) |
//! | `status` | `PENDING` (waiting until `next_retry_at`), `RUNNING` (claimed by the worker), `DONE`, `FAILED` (for good) |
//! | `retry_count` | retries scheduled so far: 0 for a new job, 3 after three failures |
//! | `next_retry_at` | when the job is due, in milliseconds on the queue's clock |
//! | `last_error` | the last failure, with its kind |
//! | `finished_at` | when it became `DONE` or `FAILED` |
//!
//! After a failed run, [`JobQueue::fail`] asks the policy: a retry after a
//! wait (30s, 120s, 480s, each plus up to 25%, for `JOB`) sets the job back
//! to `PENDING` with `retry_count + 1` and `next_retry_at = now + wait`; giving
//! up (a permanent error, or the 4th failure) sets it to `FAILED`. Nothing
//! but the database holds a job's state, so a worker that restarts picks up
//! where the last one stopped ([`JobQueue::recover`] handles a job that was
//! `RUNNING` when its worker died).
//!
//! Times are `Duration`s since the clock's epoch: `UNIX_EPOCH` for a real
//! deployment, the start of the simulation for a [`ScaledClock`].
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::ErrorKind;
//! use retry_jobs_demo::{JobOutcome, JobQueue, JobStatus};
//!
//! let queue = JobQueue::open_in_memory().unwrap();
//! let t0 = Duration::ZERO;
//! let id = queue.enqueue("send report", t0).unwrap();
//!
//! let job = queue.claim_due(t0).unwrap().unwrap();
//! assert_eq!((job.id, job.status), (id, JobStatus::Running));
//!
//! let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
//! let JobOutcome::Retry { retry_count, next_retry_at, .. } = queue.fail(&job, &refused, t0).unwrap() else { panic!() };
//! assert_eq!(retry_count, 1);
//! assert!(next_retry_at >= Duration::from_secs(30) && next_retry_at <= Duration::from_millis(37_500));
//! assert!(queue.claim_due(Duration::from_secs(29)).unwrap().is_none()); // not due yet
//!
//! let job = queue.claim_due(next_retry_at).unwrap().unwrap();
//! queue.complete(&job, next_retry_at).unwrap();
//! assert_eq!(queue.get(id).unwrap().unwrap().status, JobStatus::Done);
//! ```

use core::fmt;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use retry_runtime::{Classify, Decision, Policy, RetryOn, StopReason, presets};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};

/// The table and its index; [`JobQueue::open`] creates them if missing.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'PENDING'
                  CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')),
    retry_count   INTEGER NOT NULL DEFAULT 0,
    next_retry_at INTEGER NOT NULL,
    last_error    TEXT,
    finished_at   INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, next_retry_at);
";

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting to run at `next_retry_at`.
    Pending,
    /// Claimed by a worker, running.
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
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl ToSql for JobStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for JobStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "PENDING" => Ok(JobStatus::Pending),
            "RUNNING" => Ok(JobStatus::Running),
            "DONE" => Ok(JobStatus::Done),
            "FAILED" => Ok(JobStatus::Failed),
            _ => Err(FromSqlError::InvalidType),
        }
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
    /// The last failure.
    pub last_error: Option<String>,
    /// When it became `DONE` or `FAILED`.
    pub finished_at: Option<Duration>,
}

const COLUMNS: &str = "id, payload, status, retry_count, next_retry_at, last_error, finished_at";

impl Job {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
        Ok(Job {
            id: row.get(0)?,
            payload: row.get(1)?,
            status: row.get(2)?,
            retry_count: row.get(3)?,
            next_retry_at: from_ms(row.get(4)?),
            last_error: row.get(5)?,
            finished_at: row.get::<_, Option<i64>>(6)?.map(from_ms),
        })
    }
}

fn ms(t: Duration) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
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

/// The `jobs` table of one SQLite database, and the retry policy its
/// failures are judged by ([`presets::JOB`] unless
/// [`with_policy`](JobQueue::with_policy) says otherwise).
pub struct JobQueue {
    conn: Connection,
    policy: Policy<RetryOn>,
}

impl fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobQueue")
            .field("db", &self.conn.path())
            .field("policy", &self.policy)
            .finish()
    }
}

impl JobQueue {
    /// Open (or create) the database file at `path`, creating the table if missing.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let q = retry_jobs_demo::JobQueue::open(dir.path().join("jobs.db")).unwrap();
    /// assert!(q.all().unwrap().is_empty());
    /// ```
    pub fn open(path: impl AsRef<Path>) -> rusqlite::Result<JobQueue> {
        JobQueue::with_connection(Connection::open(path)?)
    }

    /// A database in memory (gone when dropped), for tests.
    ///
    /// ```
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// assert_eq!(q.policy().name(), "job");
    /// ```
    pub fn open_in_memory() -> rusqlite::Result<JobQueue> {
        JobQueue::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(conn: Connection) -> rusqlite::Result<JobQueue> {
        // WAL with synchronous=NORMAL: a commit survives a crash of the
        // process (what a worker restart is) without an fsync per statement.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(JobQueue {
            conn,
            policy: presets::JOB,
        })
    }

    /// Judge failures with `policy` instead of [`presets::JOB`].
    ///
    /// ```
    /// use retry_runtime::presets;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap().with_policy(presets::WEBHOOK);
    /// assert_eq!(q.policy().name(), "webhook");
    /// ```
    pub fn with_policy(mut self, policy: Policy<RetryOn>) -> JobQueue {
        self.policy = policy;
        self
    }

    /// The policy failures are judged by.
    ///
    /// ```
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// assert_eq!(q.policy().stop().max_attempts, 4);
    /// ```
    pub fn policy(&self) -> &Policy<RetryOn> {
        &self.policy
    }

    /// Add a `PENDING` job, due at `now`; returns its id.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// let id = q.enqueue("resize image 7", Duration::ZERO).unwrap();
    /// assert_eq!(q.get(id).unwrap().unwrap().payload, "resize image 7");
    /// ```
    pub fn enqueue(&self, payload: &str, now: Duration) -> rusqlite::Result<i64> {
        self.conn.execute(
            "INSERT INTO jobs (payload, status, retry_count, next_retry_at) VALUES (?1, ?2, 0, ?3)",
            params![payload, JobStatus::Pending, ms(now)],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Claim the job that has been due the longest (`PENDING` with
    /// `next_retry_at <= now`; ties by id) and mark it `RUNNING`, in one
    /// statement, so two workers never claim the same job. `None` when no job
    /// is due.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// q.enqueue("later", Duration::from_secs(60)).unwrap();
    /// assert!(q.claim_due(Duration::from_secs(59)).unwrap().is_none());
    /// assert_eq!(q.claim_due(Duration::from_secs(60)).unwrap().unwrap().payload, "later");
    /// assert!(q.claim_due(Duration::from_secs(60)).unwrap().is_none()); // claimed already
    /// ```
    pub fn claim_due(&self, now: Duration) -> rusqlite::Result<Option<Job>> {
        self.conn
            .query_row(
                &format!(
                    "UPDATE jobs SET status = 'RUNNING'
                     WHERE id = (SELECT id FROM jobs
                                 WHERE status = 'PENDING' AND next_retry_at <= ?1
                                 ORDER BY next_retry_at, id LIMIT 1)
                     RETURNING {COLUMNS}"
                ),
                params![ms(now)],
                Job::from_row,
            )
            .optional()
    }

    /// The claimed job succeeded: `DONE`.
    ///
    /// # Errors
    /// [`rusqlite::Error::QueryReturnedNoRows`] if the job is not `RUNNING`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, JobStatus};
    /// let q = JobQueue::open_in_memory().unwrap();
    /// q.enqueue("x", Duration::ZERO).unwrap();
    /// let job = q.claim_due(Duration::ZERO).unwrap().unwrap();
    /// q.complete(&job, Duration::from_secs(1)).unwrap();
    /// assert_eq!(q.get(job.id).unwrap().unwrap().status, JobStatus::Done);
    /// assert!(q.complete(&job, Duration::from_secs(1)).is_err()); // not RUNNING any more
    /// ```
    pub fn complete(&self, job: &Job, now: Duration) -> rusqlite::Result<()> {
        let n = self.conn.execute(
            "UPDATE jobs SET status = 'DONE', finished_at = ?2 WHERE id = ?1 AND status = 'RUNNING'",
            params![job.id, ms(now)],
        )?;
        one_row(n)
    }

    /// The claimed job failed with `error`: the policy decides, from the
    /// job's `retry_count` and the error's kind, between a retry (back to
    /// `PENDING`, `retry_count + 1`, due at `now + wait`) and giving up
    /// (`FAILED`). `last_error` records the error and its kind.
    ///
    /// # Errors
    /// [`rusqlite::Error::QueryReturnedNoRows`] if the job is not `RUNNING`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::StopReason;
    /// use retry_jobs_demo::{JobOutcome, JobQueue, JobStatus};
    /// let q = JobQueue::open_in_memory().unwrap();
    /// q.enqueue("import bad.csv", Duration::ZERO).unwrap();
    /// let job = q.claim_due(Duration::ZERO).unwrap().unwrap();
    /// let invalid = std::io::Error::from(std::io::ErrorKind::InvalidData); // Permanent
    /// let out = q.fail(&job, &invalid, Duration::ZERO).unwrap();
    /// assert_eq!(out, JobOutcome::Failed { reason: StopReason::Permanent, attempts: 1 });
    /// assert_eq!(q.get(job.id).unwrap().unwrap().status, JobStatus::Failed);
    /// ```
    pub fn fail<E>(&self, job: &Job, error: &E, now: Duration) -> rusqlite::Result<JobOutcome>
    where
        E: Classify + fmt::Display,
    {
        let kind = error.kind();
        let attempts = job.retry_count + 1;
        let (n, outcome) = match self.policy.decide(job.retry_count, error) {
            Decision::Retry(wait) => {
                // stored in whole milliseconds
                let wait = from_ms(ms(wait));
                let next_retry_at = from_ms(ms(now + wait));
                let n = self.conn.execute(
                    "UPDATE jobs SET status = 'PENDING', retry_count = ?2, next_retry_at = ?3, last_error = ?4
                     WHERE id = ?1 AND status = 'RUNNING'",
                    params![job.id, attempts, ms(next_retry_at), format!("{kind}: {error}")],
                )?;
                let outcome = JobOutcome::Retry {
                    retry_count: attempts,
                    wait,
                    next_retry_at,
                };
                (n, outcome)
            }
            Decision::GiveUp(reason) => {
                let n = self.conn.execute(
                    "UPDATE jobs SET status = 'FAILED', finished_at = ?2, last_error = ?3
                     WHERE id = ?1 AND status = 'RUNNING'",
                    params![
                        job.id,
                        ms(now),
                        format!(
                            "{kind}: {error} (gave up after {attempts} attempt{}: {reason})",
                            if attempts == 1 { "" } else { "s" }
                        )
                    ],
                )?;
                (n, JobOutcome::Failed { reason, attempts })
            }
        };
        one_row(n)?;
        Ok(outcome)
    }

    /// Put the jobs left `RUNNING` by a worker that died back to `PENDING`,
    /// due at `now`, without counting a retry (the run did not fail, it was
    /// cut short). Returns how many. Call it when a worker starts; it assumes
    /// one worker per database (with several, a claim would need a lease).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, JobStatus};
    /// let q = JobQueue::open_in_memory().unwrap();
    /// q.enqueue("x", Duration::ZERO).unwrap();
    /// let job = q.claim_due(Duration::ZERO).unwrap().unwrap(); // ... and the worker dies
    /// assert_eq!(q.recover(Duration::from_secs(5)).unwrap(), 1);
    /// let again = q.get(job.id).unwrap().unwrap();
    /// assert_eq!((again.status, again.retry_count), (JobStatus::Pending, 0));
    /// ```
    pub fn recover(&self, now: Duration) -> rusqlite::Result<usize> {
        self.conn.execute(
            "UPDATE jobs SET status = 'PENDING', next_retry_at = ?1 WHERE status = 'RUNNING'",
            params![ms(now)],
        )
    }

    /// When the next `PENDING` job is due; `None` when none is pending.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// assert_eq!(q.next_due_at().unwrap(), None);
    /// q.enqueue("a", Duration::from_secs(9)).unwrap();
    /// q.enqueue("b", Duration::from_secs(3)).unwrap();
    /// assert_eq!(q.next_due_at().unwrap(), Some(Duration::from_secs(3)));
    /// ```
    pub fn next_due_at(&self) -> rusqlite::Result<Option<Duration>> {
        let at: Option<i64> = self.conn.query_row(
            "SELECT MIN(next_retry_at) FROM jobs WHERE status = 'PENDING'",
            [],
            |row| row.get(0),
        )?;
        Ok(at.map(from_ms))
    }

    /// One job by id.
    ///
    /// ```
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// assert!(q.get(42).unwrap().is_none());
    /// ```
    pub fn get(&self, id: i64) -> rusqlite::Result<Option<Job>> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
                params![id],
                Job::from_row,
            )
            .optional()
    }

    /// Every job, by id.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// q.enqueue("a", Duration::ZERO).unwrap();
    /// assert_eq!(q.all().unwrap().len(), 1);
    /// ```
    pub fn all(&self) -> rusqlite::Result<Vec<Job>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM jobs ORDER BY id"))?;
        let rows = stmt.query_map([], Job::from_row)?;
        rows.collect()
    }

    /// How many jobs have `status`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, JobStatus};
    /// let q = JobQueue::open_in_memory().unwrap();
    /// q.enqueue("a", Duration::ZERO).unwrap();
    /// assert_eq!(q.count(JobStatus::Pending).unwrap(), 1);
    /// ```
    pub fn count(&self, status: JobStatus) -> rusqlite::Result<usize> {
        self.conn.query_row(
            "SELECT COUNT(*) FROM jobs WHERE status = ?1",
            params![status],
            |row| row.get(0),
        )
    }

    /// The table as aligned text, one line per job, for logs and demos.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().unwrap();
    /// q.enqueue("a", Duration::ZERO).unwrap();
    /// assert!(q.table().unwrap().contains("PENDING"));
    /// ```
    pub fn table(&self) -> rusqlite::Result<String> {
        let mut out = format!(
            "{:>3}  {:<22} {:<8} {:>5}  {:<13} {}\n",
            "id", "payload", "status", "retry", "next_retry_at", "last_error"
        );
        for job in self.all()? {
            let next = match job.status {
                JobStatus::Pending | JobStatus::Running => fmt_time(job.next_retry_at),
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

fn one_row(n: usize) -> rusqlite::Result<()> {
    match n {
        0 => Err(rusqlite::Error::QueryReturnedNoRows),
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
        let real = self.real(at) + Duration::from_nanos(u64::from(self.scale));
        tokio::time::sleep_until(self.start + real).await;
    }
}

/// A worker: claims due jobs from its [`JobQueue`] one at a time, runs them,
/// and records each outcome, logging each step through `tracing`.
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
    /// `None` when it succeeded.
    pub outcome: Option<JobOutcome>,
}

impl Worker {
    /// A worker on `queue`; first puts back jobs a previous worker left
    /// `RUNNING` ([`JobQueue::recover`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_jobs_demo::{JobQueue, ScaledClock, Worker};
    /// let w = Worker::start("w1", JobQueue::open_in_memory().unwrap(), ScaledClock::new(600)).unwrap();
    /// assert_eq!(w.queue().all().unwrap().len(), 0);
    /// # }
    /// ```
    pub fn start(name: &str, queue: JobQueue, clock: ScaledClock) -> rusqlite::Result<Worker> {
        let now = clock.now();
        let recovered = queue.recover(now)?;
        let pending = queue.count(JobStatus::Pending)?;
        tracing::info!(
            "[{}] worker {name} started: {pending} pending job(s), {recovered} recovered from a dead worker",
            fmt_time(now)
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
    /// `None` when no job is due.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, ScaledClock, Worker};
    /// let queue = JobQueue::open_in_memory().unwrap();
    /// queue.enqueue("noop", Duration::ZERO).unwrap();
    /// let mut worker = Worker::start("w", queue, ScaledClock::new(1)).unwrap();
    /// let mut ok = |_job| async { Ok::<(), std::io::Error>(()) };
    /// let ran = worker.run_one(&mut ok).await.unwrap().unwrap();
    /// assert_eq!((ran.job.payload.as_str(), ran.outcome), ("noop", None));
    /// assert!(worker.run_one(&mut ok).await.unwrap().is_none());
    /// # }
    /// ```
    pub async fn run_one<E, F, Fut>(&mut self, handler: &mut F) -> rusqlite::Result<Option<Ran>>
    where
        F: FnMut(Job) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Classify + fmt::Display,
    {
        let claimed_at = self.clock.now();
        let Some(job) = self.queue.claim_due(claimed_at)? else {
            return Ok(None);
        };
        let attempt = job.retry_count + 1;
        let max = self.queue.policy().stop().max_attempts;
        let result = handler(job.clone()).await;
        let now = self.clock.now();
        let (id, payload, t) = (job.id, &job.payload, fmt_time(now));
        let outcome = match result {
            Ok(()) => {
                self.queue.complete(&job, now)?;
                tracing::info!("[{t}] job {id} {payload:?}: DONE on attempt {attempt}/{max}");
                None
            }
            Err(error) => {
                let outcome = self.queue.fail(&job, &error, now)?;
                let kind = error.kind();
                match outcome {
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
                Some(outcome)
            }
        };
        Ok(Some(Ran { job, outcome }))
    }

    /// Run due jobs, sleeping until the next one is due, until no job is
    /// `PENDING` or the simulated time reaches `until` (if given). Returns
    /// the runs made.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use retry_jobs_demo::{JobQueue, JobStatus, ScaledClock, Worker};
    /// let queue = JobQueue::open_in_memory().unwrap();
    /// let id = queue.enqueue("flaky once", Duration::ZERO).unwrap();
    /// let mut worker = Worker::start("w", queue, ScaledClock::new(600)).unwrap();
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
    /// let job = worker.queue().get(id).unwrap().unwrap();
    /// assert_eq!((job.status, job.retry_count), (JobStatus::Done, 1));
    /// assert!(worker.clock().now() >= Duration::from_secs(30)); // waited 30s+ (simulated)
    /// # }
    /// ```
    pub async fn run<E, F, Fut>(
        &mut self,
        until: Option<Duration>,
        mut handler: F,
    ) -> rusqlite::Result<Vec<Ran>>
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
            if let Some(ran) = self.run_one(&mut handler).await? {
                runs.push(ran);
                continue;
            }
            let Some(next) = self.queue.next_due_at()? else {
                tracing::info!(
                    "[{}] worker {}: no job pending",
                    fmt_time(self.clock.now()),
                    self.name
                );
                break;
            };
            let wake = until.map_or(next, |until| next.min(until));
            self.clock.sleep_until(wake).await;
        }
        Ok(runs)
    }
}
