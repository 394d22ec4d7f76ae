//! Adding and claiming jobs: the claim counts the runs lost to expired
//! leases first, and sets aside the rows it cannot read.

use std::time::Duration;

use retry_runtime::ErrorKind;

use crate::job::ms;
use crate::{Backend, Job, JobQueue, LeaseExpired, QueueError, fmt_time};

impl JobQueue {
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
    /// [`Worker::run_one`]: crate::Worker::run_one
    ///
    /// A row either step finds that cannot be read as a [`Job`] (see
    /// [`QueueError::Unreadable`]) is set aside: `FAILED` for good, why in
    /// `last_error`, logged as an error; the claim goes on to the next job.
    /// So is a `RUNNING` row without a lease (`claimed_until` NULL, set by
    /// hand), whose run no lease's end would ever count.
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
        match self.backend {
            Backend::Sqlite => self.set_aside_bad_times(now).await?,
            Backend::Postgres => self.set_aside_without_lease(now).await?,
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
                "UPDATE jobs SET status = 'FAILED', finished_at = $2, recorded_by = $4, {}
                 WHERE id = $1 AND {BAD}",
                keep_last_error("$3")
            ))
            .bind(id)
            .bind(ms(now))
            .bind(set_aside_error(&reason))
            .bind(&self.worker)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if n > 0 {
                self.log_set_aside(id, &reason, now);
            }
        }
        Ok(())
    }

    /// On PostgreSQL, whose `claimed_until` is an integer or NULL: set
    /// aside each `RUNNING` row without a lease (NULL: written by hand or
    /// by another program; a claim always writes one). No lease ends, so
    /// no claim would ever count its run as lost, and [`next_due_at`]
    /// skips it: the job would stay `RUNNING`, never run nor logged, while
    /// the worker says nothing is pending or running. (On SQLite,
    /// [`set_aside_bad_times`](Self::set_aside_bad_times) takes it: NULL is
    /// not an integer.)
    ///
    /// [`next_due_at`]: JobQueue::next_due_at
    async fn set_aside_without_lease(&self, now: Duration) -> Result<(), QueueError> {
        const REASON: &str = "claimed_until: NULL on a RUNNING row, no lease";
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE status = 'RUNNING' AND claimed_until IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        for id in ids {
            let n = sqlx::query(&format!(
                "UPDATE jobs SET status = 'FAILED', finished_at = $2, recorded_by = $4, {}
                 WHERE id = $1 AND status = 'RUNNING' AND claimed_until IS NULL",
                keep_last_error("$3")
            ))
            .bind(id)
            .bind(ms(now))
            .bind(set_aside_error(REASON))
            .bind(&self.worker)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if n > 0 {
                self.log_set_aside(id, REASON, now);
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
            "UPDATE jobs SET status = 'FAILED', finished_at = $3, recorded_by = $5, {}
             WHERE id = $1 AND status = 'RUNNING' AND claimed_until <= $2",
            keep_last_error("$4")
        ))
        .bind(id)
        .bind(ms(until))
        .bind(ms(now))
        .bind(set_aside_error(reason))
        .bind(&self.worker)
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
