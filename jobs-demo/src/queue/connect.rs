//! Connecting to a database, and the queue's settings.

use std::path::Path;
use std::time::Duration;

use retry_runtime::{Backoff, Jitter, Policy, RetryOn, kinds, presets};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Connection};

use super::{CONNECT_TIMEOUT, DEFAULT_LEASE};
use crate::job::{COLUMNS, COLUMNS_SQLITE};
use crate::{Backend, JobQueue, QueueError, SCHEMA_POSTGRES, SCHEMA_SQLITE};

/// The retries of the schema's creation at connect: a locked database only
/// (workers starting together contend for a moment), with short waits; a
/// server that stops answering is `connect`'s error at once, as its docs
/// say, not retried here.
const SCHEMA: Policy<RetryOn> = presets::DB
    .retry_on(kinds![Interrupted])
    .with_name("jobs_schema")
    .with_max_attempts(6)
    .with_backoff(Backoff::exponential(
        Duration::from_millis(20),
        Duration::from_millis(500),
    ))
    .with_jitter(Jitter::Full)
    .checked();

impl JobQueue {
    /// Connect to the database at `url` (`sqlite:PATH`, `sqlite::memory:`,
    /// `postgres://...`), creating the table if missing, and adding the
    /// `recorded_by` column to a table made before it existed. Gives up
    /// after [`CONNECT_TIMEOUT`] when the server does not answer.
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
        // Workers that start together against an older table race to add
        // its new column: on SQLite (WAL) the ones whose transaction read
        // the table before another's `ALTER TABLE` committed fail with
        // "database is locked" (code 5, Interrupted), which SCHEMA retries:
        // the next try sees the column.
        SCHEMA.retry(|| queue.create_schema(memory)).await?;
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
        // a table made before `recorded_by` was added has no such column:
        // add it (its rows' outcomes keep NULL, no worker's)
        let has_recorded_by: i64 = sqlx::query_scalar(match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'recorded_by'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'jobs'
                   AND column_name = 'recorded_by'"
            }
        })
        .fetch_one(&mut *tx)
        .await?;
        if has_recorded_by == 0 {
            // (PostgreSQL: `IF NOT EXISTS` too, for a session whose
            // transactions are repeatable read, whose check read a snapshot
            // from before another worker's column; SQLite has no such clause)
            sqlx::query(match self.backend {
                Backend::Sqlite => "ALTER TABLE jobs ADD COLUMN recorded_by TEXT",
                Backend::Postgres => "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS recorded_by TEXT",
            })
            .execute(&mut *tx)
            .await?;
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
    /// real time, not the simulated clock's. `presets::DB.with_max_attempts(1)`
    /// turns the retries off; its kinds still tell
    /// [`Worker::pause_after`] which errors a worker goes on after.
    ///
    /// [`Worker::pause_after`]: crate::Worker::pause_after
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_runtime::presets;
    /// let q = retry_jobs_demo::JobQueue::open_in_memory().await.unwrap();
    /// assert_eq!(q.db_policy().name(), "db");
    /// let q = q.with_db_policy(presets::DB.with_max_attempts(8));
    /// assert_eq!(q.db_policy().stop().max_attempts(), 8);
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

    /// Claim for the worker named `worker` (`claimed_by`, and
    /// `recorded_by` on the outcomes it writes; default `worker`). Two
    /// workers on one queue must have different names: a retried record
    /// takes a row already written as its own only when `recorded_by` names
    /// this worker, so two of one name can each take the other's for its
    /// own (and log a run twice).
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
    /// assert_eq!(q.policy().stop().max_attempts(), 4);
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
    ///
    /// [`Job`]: crate::Job
    pub(super) fn columns(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => COLUMNS_SQLITE,
            Backend::Postgres => COLUMNS,
        }
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}
