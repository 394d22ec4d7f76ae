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
//! | `recorded_by` | the worker that recorded the last outcome (`DONE`, a failed or lost run, a row set aside): a worker takes a row already written for its own only if it names that worker |
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
//! was lost) is success, not [`QueueError::NotClaimed`]. Its own: the same
//! outcome, with `recorded_by` naming this worker (so each worker needs a
//! name of its own). For a run that outlived its lease, another worker's
//! claim can write the very same row (the lease's end, the same error),
//! also while the run's own record waits for its retry; that row is the
//! other worker's, which logs the run, and the run's own worker says
//! another worker recorded it, so the run is logged once. (A worker's own
//! record of its run takes a row already written only on a retry of its
//! statement: its first try takes a `RUNNING` row only.) An error of those
//! kinds that outlasts the retries (an outage) does not stop a worker's
//! [`run`](Worker::run): it logs it, pauses and goes on
//! ([`Worker::pause_after`]); a run whose outcome it could not record
//! fails with [`QueueError::NotRecorded`], which says what the run did, and
//! the job counts as a failed attempt when its lease ends.
//!
//! [`presets::DB`]: retry_runtime::presets::DB
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
//! `claimed_until` and `claims`); the other jobs run on. `claimed_by`,
//! `last_error` and `recorded_by` are read as information only: text in
//! them that is not UTF-8 is read lossily, never a reason to set a job
//! aside.
//! [`JobQueue::get`] and [`JobQueue::all`] fail on it with
//! [`QueueError::Unreadable`]. A `RUNNING` row without a lease
//! (`claimed_until` NULL, set by hand: no lease of it ever ends, so no
//! claim would ever take it) is set aside the same way by the next claim,
//! on either backend.
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

mod clock;
mod error;
mod job;
mod queue;
mod redact;
mod schema;
mod worker;

pub use clock::{ScaledClock, fmt_time};
pub use error::{HandlerPanicked, LeaseExpired, QueueError};
pub use job::{Job, JobStatus};
pub use queue::{CONNECT_TIMEOUT, DEFAULT_LEASE, JobOutcome, JobQueue};
pub use redact::redact_url;
pub use schema::{Backend, SCHEMA_POSTGRES, SCHEMA_SQLITE};
pub use worker::{LeaseLost, Ran, Worker};
