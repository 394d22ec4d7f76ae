//! What queue operations fail with, and the two failures a worker makes of
//! a run itself: [`LeaseExpired`] and [`HandlerPanicked`].

use retry_runtime::{Classify, ErrorKind};

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
    ///
    /// [`Job`]: crate::Job
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
    /// [db policy](crate::JobQueue::with_db_policy) retried: the job stays
    /// `RUNNING` until its lease ends, then counts as a failed attempt.
    #[error("job {id} {outcome}, but that could not be recorded: {error}")]
    NotRecorded {
        /// The job.
        id: i64,
        /// What the run did: `succeeded`, or `failed (Kind: error)` with the
        /// error escaped with `str::escape_debug` (`\n` as `\\n`, a quote as
        /// `\\"`).
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
/// [`presets::JOB`]: retry_runtime::presets::JOB
/// [`Worker::run_one`]: crate::Worker::run_one
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
    pub(crate) fn from_payload(payload: &(dyn std::any::Any + Send)) -> HandlerPanicked {
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
