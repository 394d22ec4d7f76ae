//! The queue's own database errors: the record of a run's outcome and the
//! claim are retried by the queue's db policy (a repeated record is
//! recognised, not refused), and a worker outlives an error its retries do
//! not get past. Against a real PostgreSQL (`testkit::pg`): another session
//! holds a lock the worker's statement waits for, and
//! `pg_terminate_backend` ends the worker's connection while it waits.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use retry_jobs_demo::{
    Job, JobOutcome, JobQueue, JobStatus, LeaseLost, QueueError, ScaledClock, Worker,
};
use retry_runtime::{Backoff, Policy, RetryOn, presets};
use sqlx::{Connection, Executor, PgConnection};
use tokio::task::JoinHandle;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The `db` preset's retries, with waits of 20 ms rather than 1s, 2s, 4s.
const FAST_DB: Policy<RetryOn> =
    presets::DB.with_backoff(Backoff::fixed(Duration::from_millis(20)));

/// A queue in a fresh PostgreSQL database; its URL too.
async fn pg_queue(db_policy: Policy<RetryOn>) -> (JobQueue, String) {
    let url = testkit::pg::fresh_database("jobs_db_errors").await;
    let queue = JobQueue::connect(&url)
        .await
        .unwrap()
        .with_db_policy(db_policy);
    (queue, url)
}

/// Once a statement of another session waits for a lock held by `holder`,
/// terminate that session's backend (as an administrator, a failover or a
/// dropped connection would end it), then commit `holder`'s transaction.
/// Returns the pid terminated.
fn terminate_the_waiter(url: String, mut holder: PgConnection) -> JoinHandle<i32> {
    tokio::spawn(async move {
        let mut admin = PgConnection::connect(&url).await.unwrap();
        let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut holder)
            .await
            .unwrap();
        let started = Instant::now();
        let pid = loop {
            let waiting: Option<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'
                   AND pid <> pg_backend_pid() AND pid <> $1
                 LIMIT 1",
            )
            .bind(holder_pid)
            .fetch_optional(&mut admin)
            .await
            .unwrap();
            if let Some(pid) = waiting {
                break pid;
            }
            assert!(
                started.elapsed() < s(20),
                "no statement waited for the lock"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        terminate(&mut admin, pid).await;
        holder.execute("COMMIT").await.unwrap();
        pid
    })
}

/// A session that locks the whole table (no statement of another session
/// gets past it) until one waits on it, then ends that session's
/// connection ([`terminate_the_waiter`]).
async fn lock_the_table_and_terminate_its_waiter(url: String) -> JoinHandle<i32> {
    let mut holder = PgConnection::connect(&url).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    terminate_the_waiter(url, holder)
}

/// A session that holds job `id`'s row (`SELECT ... FOR UPDATE`) until the
/// worker's statement on it waits, then ends the worker's connection.
async fn hold_the_row_and_terminate_its_waiter(url: &str, id: i64) -> JoinHandle<i32> {
    let mut holder = PgConnection::connect(url).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut holder)
        .await
        .unwrap();
    terminate_the_waiter(url.to_owned(), holder)
}

/// The handler of the PostgreSQL tests: its first run (`retry_count` 0)
/// makes another session hold the job's row, so that the worker's record
/// of that run waits and has its connection ended, and ends with `first`;
/// later runs succeed. Each run's `retry_count` goes into `runs`.
fn hold_the_row_on_the_first_run(
    url: String,
    first: fn() -> io::Result<()>,
    runs: Arc<Mutex<Vec<u32>>>,
    terminator: Arc<Mutex<Option<JoinHandle<i32>>>>,
) -> impl FnMut(Job) -> std::pin::Pin<Box<dyn Future<Output = io::Result<()>> + Send>> {
    move |job: Job| {
        let (url, runs, terminator) = (url.clone(), runs.clone(), terminator.clone());
        Box::pin(async move {
            runs.lock().unwrap().push(job.retry_count);
            if job.retry_count > 0 {
                return Ok(());
            }
            let handle = hold_the_row_and_terminate_its_waiter(&url, job.id).await;
            *terminator.lock().unwrap() = Some(handle);
            first()
        })
    }
}

async fn terminated(terminator: &Mutex<Option<JoinHandle<i32>>>) -> i32 {
    let handle = terminator
        .lock()
        .unwrap()
        .take()
        .expect("the row was never held");
    handle.await.unwrap()
}

/// Waiting pids in this database, other than `admin`'s and `holder`'s.
async fn lock_waiters(admin: &mut PgConnection, holder: i32) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND pid <> pg_backend_pid() AND pid <> $1
         ORDER BY pid",
    )
    .bind(holder)
    .fetch_all(admin)
    .await
    .unwrap()
}

/// Wait until a statement of a session other than `known` waits for a
/// lock: its pid.
async fn next_lock_waiter(admin: &mut PgConnection, holder: i32, known: &[i32]) -> i32 {
    let started = Instant::now();
    loop {
        let waiting = lock_waiters(admin, holder).await;
        if let Some(pid) = waiting.into_iter().find(|p| !known.contains(p)) {
            return pid;
        }
        assert!(
            started.elapsed() < s(20),
            "no statement waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// While `holder` holds a job's row: once the worker's record of that
/// job's run waits for it, start `other`'s claim at `until` (the lease's
/// end), which finds the lease expired and waits for the row too; then end
/// the worker's connection and commit `holder`'s transaction. So the
/// record's first try is lost without being applied, `other` records the
/// lost run (and logs it), and the record's retry comes after, behind it.
fn another_worker_records_while_the_first_try_is_lost(
    url: String,
    mut holder: PgConnection,
    other: JobQueue,
    until: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut admin = PgConnection::connect(&url).await.unwrap();
        let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut holder)
            .await
            .unwrap();
        let record = next_lock_waiter(&mut admin, holder_pid, &[]).await;
        let claim = tokio::spawn(async move { other.claim_due(until).await });
        next_lock_waiter(&mut admin, holder_pid, &[record]).await;
        terminate(&mut admin, record).await;
        holder.execute("COMMIT").await.unwrap();
        assert!(claim.await.unwrap().unwrap().is_none());
    })
}

/// A run that outlives its lease on its last attempt; its worker's record
/// of it loses its connection without being applied, and before the
/// record's retry another worker's claim finds the lease expired and
/// records the very same FAILED row (the lease's end, the same error). The
/// run is logged once, by the worker that recorded it: the retry finds the
/// row recorded by the other worker, not taken for its own, and its
/// worker says another worker recorded it. (The retry took it for its own,
/// and the run was logged twice.)
#[tokio::test]
async fn a_lost_run_recorded_by_another_worker_during_the_records_retry_is_logged_once() {
    let logs = testkit::capture::capture();
    let (a, url) = pg_queue(FAST_DB).await;
    // one simulated minute in 100 ms: a lease of 10 minutes ends after 1 s
    let a = a.with_lease(s(600));
    let b = JobQueue::connect(&url)
        .await
        .unwrap()
        .with_lease(s(600))
        .with_worker("b");
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let id = a.enqueue("stuck", clock.now()).await.unwrap();
    // its last attempt: both workers write the same FAILED row
    sqlx::query("UPDATE jobs SET retry_count = 3")
        .execute(a.pool())
        .await
        .unwrap();
    let other = Arc::new(Mutex::new(None));
    let mut handler = |job: Job| {
        let (url, b, other) = (url.clone(), b.clone(), other.clone());
        async move {
            let mut holder = PgConnection::connect(&url).await.unwrap();
            holder.execute("BEGIN").await.unwrap();
            sqlx::query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE")
                .bind(job.id)
                .execute(&mut holder)
                .await
                .unwrap();
            let until = job.claimed_until.unwrap();
            let handle = another_worker_records_while_the_first_try_is_lost(url, holder, b, until);
            *other.lock().unwrap() = Some(handle);
            // runs until the worker stops it at its lease's end
            std::future::pending::<io::Result<()>>().await
        }
    };

    let mut worker = Worker::start("a", a, clock).await.unwrap();
    let ran = worker.run_one(&mut handler).await.unwrap().unwrap();
    let handle = other
        .lock()
        .unwrap()
        .take()
        .expect("the row was never held");
    handle.await.unwrap();

    let lines: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("WARN ") || l.starts_with("ERROR "))
        .collect();
    let errors = lines.iter().filter(|l| l.starts_with("ERROR ")).count();
    assert_eq!(errors, 1, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("worker a: job") && l.contains("another worker recorded that")),
        "{lines:#?}"
    );
    assert_eq!(ran.outcome, Err(LeaseLost));
    let job = worker.queue().get(id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.recorded_by.as_deref()),
        (JobStatus::Failed, Some("b"))
    );
}

/// The worker's connection is ended while it records a success: the record
/// is retried on a new connection and the job is `DONE` after one run. (It
/// was not retried: the worker stopped with the database's error, and the
/// job, which had succeeded, stayed `RUNNING` until its lease expired, was
/// counted as a failed attempt and ran again.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_whose_record_loses_its_connection_is_recorded_on_a_new_one() {
    let (queue, url) = pg_queue(FAST_DB).await;
    // one simulated minute in 100 ms; a lease of an hour (6 s) outlasts it all
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let queue = queue.with_lease(s(3600));
    let id = queue.enqueue("send report", clock.now()).await.unwrap();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let terminator = Arc::new(Mutex::new(None));

    let mut worker = Worker::start("w1", queue, clock).await.unwrap();
    let ran = worker
        .run(
            None,
            hold_the_row_on_the_first_run(url, || Ok(()), runs.clone(), terminator.clone()),
        )
        .await
        .expect("the worker stopped on a database error");

    terminated(&terminator).await;
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].outcome, Ok(None));
    assert_eq!(*runs.lock().unwrap(), [0]);
    let job = worker.queue().get(id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.retry_count, job.claims, job.last_error),
        (JobStatus::Done, 0, 1, None)
    );
}

/// The worker's connection is ended while it claims (another session holds
/// the table): the claim is retried, and this one `run_one` runs the job.
/// (It was not: the worker stopped with the database's 57P01.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_loses_its_connection_is_made_again() {
    let (queue, url) = pg_queue(FAST_DB).await;
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let id = queue.enqueue("send report", clock.now()).await.unwrap();
    let mut worker = Worker::start("w1", queue, clock).await.unwrap();

    let terminator = lock_the_table_and_terminate_its_waiter(url).await;
    let mut ok = |_job| async { Ok::<(), io::Error>(()) };
    let ran = worker
        .run_one(&mut ok)
        .await
        .expect("the claim failed on a database error");

    terminator.await.unwrap();
    assert_eq!(ran.map(|r| (r.job.id, r.outcome)), Some((id, Ok(None))));
    let job = worker.queue().get(id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.retry_count, job.claims),
        (JobStatus::Done, 0, 1)
    );
}

/// A worker started while the table is locked, whose startup read then
/// loses its connection (a failover as the worker starts): the read is
/// retried and the worker starts. (It did not: `start` failed with the
/// database's 57P01.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_startup_read_loses_its_connection_starts() {
    let (queue, url) = pg_queue(FAST_DB).await;
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let id = queue.enqueue("send report", clock.now()).await.unwrap();
    let terminator = lock_the_table_and_terminate_its_waiter(url).await;
    let worker = Worker::start("w1", queue, clock)
        .await
        .expect("the startup read failed on a database error");
    terminator.await.unwrap();
    let job = worker.queue().get(id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Pending);
}

/// The queue's statements without retries: `db_policy` with one attempt,
/// and its kinds.
fn no_retries() -> Policy<RetryOn> {
    presets::DB
        .with_max_attempts(1)
        .with_backoff(Backoff::fixed(Duration::from_millis(20)))
}

/// With no retries of the queue's statements, the record of a success
/// fails; `run` goes on rather than stopping with the database's error:
/// the job's lease expires, that run counts as a failed attempt, and the
/// job runs again and ends `DONE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_goes_on_after_an_error_its_retries_do_not_get_past() {
    let (queue, url) = pg_queue(no_retries()).await;
    // one simulated minute in 100 ms; a lease of 10 minutes (1 s), which the
    // first run ends well within, however busy the machine
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let queue = queue.with_lease(s(600));
    let id = queue.enqueue("send report", clock.now()).await.unwrap();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let terminator = Arc::new(Mutex::new(None));
    let handler = hold_the_row_on_the_first_run(url, || Ok(()), runs.clone(), terminator.clone());

    let mut worker = Worker::start("w1", queue, clock).await.unwrap();
    let ran = worker
        .run(None, handler)
        .await
        .expect("the worker stopped on a database error");

    terminated(&terminator).await;
    assert_eq!(*runs.lock().unwrap(), [0, 1]);
    // the first run's outcome was not recorded: only the second is returned
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].outcome, Ok(None));
    let job = worker.queue().get(id).await.unwrap().unwrap();
    assert_eq!((job.status, job.retry_count), (JobStatus::Done, 1));
    assert_eq!(
        job.last_error.as_deref(),
        Some("Timeout: the run outlived its claim's lease")
    );
}

/// An outcome that could not be recorded is an error that says what the
/// run did (the handler's own error, with its kind, escaped onto one
/// line) and why it was not
/// recorded; it is of the database error's kind, so `pause_after` takes it
/// for one to go on after, and the job stays `RUNNING` for its lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_not_recorded_keeps_the_runs_error_and_the_databases() {
    let (queue, url) = pg_queue(no_retries()).await;
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let queue = queue.with_lease(s(3600));
    let id = queue.enqueue("send report", clock.now()).await.unwrap();
    let terminator = Arc::new(Mutex::new(None));
    let mut handler = hold_the_row_on_the_first_run(
        url,
        || {
            Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "mail server refused\nERROR forged line",
            ))
        },
        Arc::default(),
        terminator.clone(),
    );

    let mut worker = Worker::start("w1", queue, clock).await.unwrap();
    let err = worker.run_one(&mut handler).await.unwrap_err();
    terminated(&terminator).await;

    let QueueError::NotRecorded {
        id: lost,
        outcome,
        error,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*lost, outcome.as_str()),
        (
            id,
            "failed (Connect: mail server refused\\nERROR forged line)"
        )
    );
    let QueueError::Db(db) = &**error else {
        panic!("{error:?}")
    };
    assert!(
        err.to_string().starts_with(&format!(
            "job {id} failed (Connect: mail server refused\\nERROR forged line), but that could not be recorded: {db}"
        )),
        "{err}"
    );
    assert!(worker.pause_after(&err).await);
    let job = worker.queue().get(id).await.unwrap().unwrap();
    assert_eq!((job.status, job.last_error), (JobStatus::Running, None));
}

/// The record of an outcome is repeated when its answer was lost (the
/// server wrote it, then the connection broke): finding that very row
/// written under the same claim is success, not `NotClaimed`. Any other
/// outcome for the same claim is still refused.
#[tokio::test]
async fn recording_the_same_outcome_again_is_not_an_error() {
    // webhook: no jitter, so a second decision writes the same row
    let q = JobQueue::open_in_memory()
        .await
        .unwrap()
        .with_policy(presets::WEBHOOK);
    let id = q.enqueue("a", s(0)).await.unwrap();
    let running = q.claim_due(s(0)).await.unwrap().unwrap();
    q.complete(&running, s(5)).await.unwrap();
    q.complete(&running, s(5)).await.unwrap();
    assert!(matches!(
        q.complete(&running, s(6)).await,
        Err(QueueError::NotClaimed { .. })
    ));
    let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
    assert!(matches!(
        q.fail(&running, &refused, s(5)).await,
        Err(QueueError::NotClaimed { .. })
    ));
    let j = q.get(id).await.unwrap().unwrap();
    assert_eq!((j.status, j.finished_at), (JobStatus::Done, Some(s(5))));

    let id = q.enqueue("b", s(10)).await.unwrap();
    let running = q.claim_due(s(10)).await.unwrap().unwrap();
    let first = q.fail(&running, &refused, s(10)).await.unwrap();
    let again = q.fail(&running, &refused, s(10)).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        first,
        JobOutcome::Retry {
            retry_count: 1,
            wait: s(1),
            next_retry_at: s(11)
        }
    );
    let timed_out = io::Error::from(io::ErrorKind::TimedOut);
    assert!(matches!(
        q.fail(&running, &timed_out, s(10)).await,
        Err(QueueError::NotClaimed { .. })
    ));
    assert!(q.complete(&running, s(10)).await.is_err());
    let j = q.get(id).await.unwrap().unwrap();
    assert_eq!((j.status, j.retry_count), (JobStatus::Pending, 1));

    // given up for good: the same FAILED row again is recognised too
    let invalid = io::Error::from(io::ErrorKind::InvalidData);
    let running = q.claim_due(s(11)).await.unwrap().unwrap();
    let first = q.fail(&running, &invalid, s(12)).await.unwrap();
    assert_eq!(q.fail(&running, &invalid, s(12)).await.unwrap(), first);
    assert!(q.fail(&running, &invalid, s(13)).await.is_err());
}

/// Ends the backend `pid`'s connection, and returns once it has exited
/// (the 5000 ms: what it was doing is lost before the caller goes on, not
/// maybe after).
async fn terminate(admin: &mut PgConnection, pid: i32) {
    let done: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(pid)
        .fetch_one(admin)
        .await
        .unwrap();
    assert!(done, "pg_terminate_backend({pid})");
}
