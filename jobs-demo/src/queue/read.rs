//! Reading the queue: when the next job is due, the rows as they are.

use std::time::Duration;

use sqlx::Row;

use crate::job::from_ms;
use crate::{Backend, Job, JobQueue, JobStatus, QueueError, fmt_time};

impl JobQueue {
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
