//! The queue: a `jobs` table, the policies that judge its failures and
//! retry its statements, a lease and a worker's name.

use core::fmt;
use std::time::Duration;

use retry_runtime::{Policy, RetryOn};
use sqlx::AnyPool;

use crate::Backend;

// `impl JobQueue` blocks, by what they do, declared in the order rustdoc
// lists their methods in: connecting, and the queue's settings;
mod connect;
// adding and claiming jobs (and counting the runs lost to expired leases);
mod claim;
// a run's outcome;
mod record;
// the table as it is.
mod read;

pub use record::JobOutcome;

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
///
/// [`presets::JOB`]: retry_runtime::presets::JOB
/// [`presets::DB`]: retry_runtime::presets::DB
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
