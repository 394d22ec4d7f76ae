//! A worker: claims, runs and records jobs, one at a time.

use core::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt as _;
use retry_runtime::{Classify, ErrorKind};

use crate::{
    HandlerPanicked, Job, JobOutcome, JobQueue, JobStatus, LeaseExpired, QueueError, ScaledClock,
    fmt_time,
};

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
    /// the handler does not block the thread and the worker's process is
    /// not paused past the lease: such a run cannot be stopped, and another
    /// worker may start the job beside it once the lease ends. Keep the
    /// lease well above a run's longest time, and the handler idempotent.
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
        let max = self.queue.policy().stop().max_attempts();
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
                // both errors escaped with `str::escape_debug` (`\n` as
                // `\\n`; quotes and backslashes too, which the runtime's
                // lines leave as they are): a handler's or a server's message
                // with a line break in it cannot forge a log line of its own
                let did = match &result {
                    Ok(()) => "succeeded".to_owned(),
                    Err(e) => format!("failed ({}: {})", e.kind(), e.to_string().escape_debug()),
                };
                tracing::error!(
                    "[{t}] worker {name}: job {id} {payload:?} {did}, but that could not be recorded ({}); it stays RUNNING until its lease ends at {}, then counts as a failed attempt",
                    error.to_string().escape_debug(),
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
