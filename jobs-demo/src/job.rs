//! A job as a row: its status, its columns as each backend selects them,
//! and how a row is read.

use core::fmt;
use std::time::Duration;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::QueueError;

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
    /// The worker that recorded its last outcome: `DONE`, a failed run
    /// (its own, or a run lost to an expired lease), or the row set aside
    /// as unreadable.
    pub recorded_by: Option<String>,
}

/// The columns of a [`Job`], in the order [`Job::from_row`] reads them; as
/// PostgreSQL's statements select them (its text is always valid UTF-8).
pub(crate) const COLUMNS: &str = "id, payload, status, retry_count, next_retry_at, claimed_by, claimed_until, claims, last_error, finished_at, recorded_by";

/// [`COLUMNS`] as SQLite's statements select them: no value as text. The
/// `Any` driver converts a whole row before any column is read, and fails
/// on one text value that is not UTF-8 (another program wrote it), so that
/// row could not even be named. Text columns are read as bytes, and a text
/// value where a number belongs as bytes too, so that such a row is read,
/// and [`Job::from_row`] tells which column is wrong.
pub(crate) const COLUMNS_SQLITE: &str = "id, CAST(payload AS BLOB), CAST(status AS BLOB),
    CASE WHEN typeof(retry_count) = 'text' THEN CAST(retry_count AS BLOB) ELSE retry_count END,
    CASE WHEN typeof(next_retry_at) = 'text' THEN CAST(next_retry_at AS BLOB) ELSE next_retry_at END,
    CAST(claimed_by AS BLOB),
    CASE WHEN typeof(claimed_until) = 'text' THEN CAST(claimed_until AS BLOB) ELSE claimed_until END,
    CASE WHEN typeof(claims) = 'text' THEN CAST(claims AS BLOB) ELSE claims END,
    CAST(last_error AS BLOB),
    CASE WHEN typeof(finished_at) = 'text' THEN CAST(finished_at AS BLOB) ELSE finished_at END,
    CAST(recorded_by AS BLOB)";

impl Job {
    /// The job in `row` (selected as [`JobQueue::columns`] says).
    ///
    /// [`JobQueue::columns`]: crate::JobQueue::columns
    ///
    /// # Errors
    /// [`QueueError::UnknownStatus`] for a status none of the four;
    /// [`QueueError::Unreadable`] for a column whose value is not of its
    /// type; [`QueueError::Db`] only when the id itself cannot be read.
    pub(crate) fn from_row(row: &AnyRow) -> Result<Job, QueueError> {
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
            recorded_by: lossy(row, 10),
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

/// Informational text column `index` (`claimed_by`, `last_error`,
/// `recorded_by`): never a reason to set a job aside, so bytes that are not
/// UTF-8 are read lossily, and a value that is not text at all as `None`.
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

pub(crate) fn ms(t: Duration) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn from_ms(ms: i64) -> Duration {
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
