//! A run's outcome: `DONE`, or a failure the policy judges; written once
//! under the claim's token, also when its statement is retried.

use core::fmt;
use std::time::Duration;

use retry_runtime::{Attempt, Classify, Decision, StopReason};

use crate::job::{from_ms, ms};
use crate::{Job, JobQueue, QueueError, fmt_time};

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

impl JobQueue {
    /// The claimed job succeeded: `DONE`.
    ///
    /// A database error the [db policy](JobQueue::with_db_policy) retries
    /// runs the statement again. Recording the same outcome twice is not an
    /// error: when the server recorded it but its answer was lost, the
    /// retry finds the job `DONE` at `now` under this claim, and succeeds.
    /// Once the row is written, the policy reports the success
    /// ([`Policy::report_success`](retry_runtime::Policy::report_success),
    /// in a `job` span naming the job): after retries, its INFO line
    /// `job succeeded on attempt {n}`; in the metrics, every success's
    /// outcome. (A caller that records the same outcome twice reports it
    /// twice.)
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
        self.db_policy
            .retry(|| self.complete_once(job, now))
            .await?;
        // once the row says so: a success after retries has the policy's
        // INFO line, and every success its outcome in the metrics
        tracing::info_span!("job", id = job.id)
            .in_scope(|| self.policy.report_success(job.retry_count));
        Ok(())
    }

    async fn complete_once(&self, job: &Job, now: Duration) -> Result<(), QueueError> {
        let n = sqlx::query(
            "UPDATE jobs SET status = 'DONE', finished_at = $2, recorded_by = $4
             WHERE id = $1 AND claims = $3
               AND (status = 'RUNNING' OR (status = 'DONE' AND finished_at = $2))",
        )
        .bind(job.id)
        .bind(ms(now))
        .bind(i64::from(job.claims))
        .bind(&self.worker)
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
    /// claim, with `recorded_by` naming this worker (the server wrote it,
    /// its answer was lost), is not an error.
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
    /// written the very same row, and logged it: that row names the other
    /// worker in `recorded_by`, so no try takes it.
    pub(crate) async fn record_failure<E>(
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
    pub(super) fn judge<E>(&self, job: &Job, error: &E, now: Duration) -> Failure
    where
        E: Classify + fmt::Display,
    {
        let kind = error.kind();
        // saturating: a `Job` built by hand may hold any count
        let attempts = job.retry_count.saturating_add(1);
        match self.policy.decide(job.retry_count, error) {
            Decision::Retry { wait, .. } => {
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
            Decision::GiveUp { reason, .. } => Failure {
                outcome: JobOutcome::Failed { reason, attempts },
                last_error: format!(
                    "{kind}: {error} (gave up after {attempts} attempt{}: {reason})",
                    if attempts == 1 { "" } else { "s" }
                ),
                now,
            },
        }
    }

    /// Log a failed run of `job` whose outcome was recorded at `now`, once
    /// its row is written (a decision is reported once, after it is stored):
    /// an INFO line with the job's context on the queue's clock (its id,
    /// payload, attempt, error kind and next run; not the error's text),
    /// then the policy's own line for the decision, through
    /// [`Policy::report`](retry_runtime::Policy::report), in a `job` span
    /// with the job's id: WARN with the retry or for an error the policy
    /// does not retry, ERROR once the attempts are spent, the error's text
    /// escaped onto one line (a handler's error
    /// cannot forge a line), and the policy's metrics when they are on. The
    /// one place these lines are written, for [`Worker::run_one`] and for a
    /// run lost to an expired lease.
    ///
    /// [`Worker::run_one`]: crate::Worker::run_one
    pub(crate) fn log_failure<E>(&self, job: &Job, error: &E, outcome: &JobOutcome, now: Duration)
    where
        E: Classify + fmt::Display,
    {
        let (id, payload, t) = (job.id, &job.payload, fmt_time(now));
        let attempt = job.retry_count.saturating_add(1);
        let max = self.policy.stop().max_attempts();
        let kind = error.kind();
        let decision = match *outcome {
            JobOutcome::Retry {
                retry_count,
                wait,
                next_retry_at,
            } => {
                tracing::info!(
                    "[{t}] job {id} {payload:?}: attempt {attempt}/{max} failed ({kind}); retry {retry_count} in {}s, at {}",
                    wait.as_secs(),
                    fmt_time(next_retry_at)
                );
                // the wait as stored, in whole milliseconds: a decision
                // rebuilt from the row (this runs for a run lost to an
                // expired lease too), so `report` asks the policy's
                // classifier (`Classify::kind`, pure) for its kind again
                Decision::retry(wait)
            }
            JobOutcome::Failed { reason, .. } => {
                tracing::info!(
                    "[{t}] job {id} {payload:?}: attempt {attempt}/{max} failed ({kind}); FAILED for good ({reason})"
                );
                Decision::give_up(reason)
            }
        };
        tracing::info_span!("job", id)
            .in_scope(|| self.policy.report(job.retry_count, error, decision));
    }

    /// Write a failed run's row, with `recorded_by` naming this worker, if
    /// the job is still `RUNNING` under its claim, or (`again`: a retry of
    /// this statement) already holds that very row, written by an earlier
    /// try whose answer was lost. Only then: the same row written by another
    /// worker (a run that outlived its lease, recorded by the worker that
    /// found the lease expired) names that worker in `recorded_by`, is not
    /// this call's, and [`QueueError::NotClaimed`].
    pub(super) async fn record(
        &self,
        job: &Job,
        failure: &Failure,
        again: bool,
    ) -> Result<(), QueueError> {
        let n = match failure.outcome {
            JobOutcome::Retry {
                retry_count,
                next_retry_at,
                ..
            } => sqlx::query(
                "UPDATE jobs SET status = 'PENDING', retry_count = $3, next_retry_at = $4, last_error = $5,
                    recorded_by = $7
                 WHERE id = $1 AND claims = $2
                   AND (status = 'RUNNING' OR ($6 = 1 AND status = 'PENDING' AND retry_count = $3
                        AND next_retry_at = $4 AND last_error = $5 AND recorded_by = $7))",
            )
            .bind(job.id)
            .bind(i64::from(job.claims))
            .bind(i64::from(retry_count))
            .bind(ms(next_retry_at))
            .bind(&failure.last_error)
            .bind(i64::from(again))
            .bind(&self.worker),
            JobOutcome::Failed { .. } => sqlx::query(
                "UPDATE jobs SET status = 'FAILED', finished_at = $3, last_error = $4, recorded_by = $6
                 WHERE id = $1 AND claims = $2
                   AND (status = 'RUNNING' OR ($5 = 1 AND status = 'FAILED' AND finished_at = $3
                        AND last_error = $4 AND recorded_by = $6))",
            )
            .bind(job.id)
            .bind(i64::from(job.claims))
            .bind(ms(failure.now))
            .bind(&failure.last_error)
            .bind(i64::from(again))
            .bind(&self.worker),
        }
        .execute(&self.pool)
        .await?
        .rows_affected();
        claimed(job, n)
    }
}

/// A failed run's row, as the policy decided it (once, so that every
/// attempt of its statement writes the same row).
pub(super) struct Failure {
    pub(super) outcome: JobOutcome,
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

#[cfg(test)]
mod tests {
    use retry_runtime::presets;

    use crate::LeaseExpired;

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

    /// The same row written by another worker is not this worker's, not
    /// even on a retry of its statement: the retry of a record whose first
    /// try was lost unapplied, while another worker found the lease expired
    /// and recorded the very same row (the lease's end, the same error), so
    /// that the run is logged once, by that worker. Its own retry takes it.
    #[tokio::test]
    async fn a_row_another_worker_wrote_is_not_this_calls_even_on_a_retry() {
        let a = JobQueue::open_in_memory()
            .await
            .unwrap()
            .with_policy(presets::WEBHOOK)
            .with_worker("a");
        let b = a.clone().with_worker("b");
        // a retry (webhook: no jitter, so both decide the same row)
        let retry = written_by_b_then_retried_by_a(&a, &b, &LeaseExpired).await;
        assert!(matches!(retry, JobOutcome::Retry { .. }));
        // FAILED for good
        let invalid = std::io::Error::from(std::io::ErrorKind::InvalidData);
        let failed = written_by_b_then_retried_by_a(&a, &b, &invalid).await;
        assert!(matches!(failed, JobOutcome::Failed { .. }));
    }

    /// A new job claimed by `a`, whose run failed with `error` at its
    /// lease's end: `b` records that, then `a`'s retry of the same row is
    /// `NotClaimed` and `b`'s own retry succeeds. Returns the outcome.
    async fn written_by_b_then_retried_by_a<E>(a: &JobQueue, b: &JobQueue, error: &E) -> JobOutcome
    where
        E: Classify + fmt::Display,
    {
        a.enqueue("a", Duration::ZERO).await.unwrap();
        let job = a.claim_due(Duration::ZERO).await.unwrap().unwrap();
        let until = job.claimed_until.unwrap();
        let failure = a.judge(&job, error, until);
        b.record(&job, &b.judge(&job, error, until), false)
            .await
            .unwrap();
        assert!(matches!(
            a.record(&job, &failure, true).await,
            Err(QueueError::NotClaimed { .. })
        ));
        b.record(&job, &failure, true).await.unwrap();
        failure.outcome
    }
}
