//! A runner of your own on PostgreSQL, its schedule on the database's clock:
//! extraction jobs retried after 30s, 2m and 8m, then `FAILED`; a job's
//! status, the jobs of a status, cancelling a pending job, retrying a
//! failed one by hand. The policy decides (`decide`), one `UPDATE` stores
//! the decision as `now() + wait`, then the policy logs it (`report`).
//!
//! Every time is PostgreSQL's `now()`: workers on several machines need no
//! clock in step. The tests move `next_retry_at` or `claimed_until` into
//! the past instead of waiting. The races (a claim and a cancel, a late
//! record and the next claim) end as written under READ COMMITTED,
//! PostgreSQL's default; under REPEATABLE READ the loser's statement fails
//! with a serialization failure (40001) instead.
//!
//! Nothing is lost: a run whose worker died, or whose outcome could not be
//! written (the connection dropped), stays `RUNNING` until its lease ends,
//! and the next worker's turn records it as a failed run. Left out, as
//! `jobs-demo`'s `JobQueue` has them: its own statements retried on a
//! dropped connection (`presets::DB`), rows it cannot read set aside. And
//! what no queue can do: a handler that blocks its thread is not stopped
//! by `run_one`'s timeout, and may then run beside the next claim's run
//! once its lease ends; make handlers idempotent.

use std::time::Duration;

use retry_runtime::{Backoff, Classify, Decision, KindSet, Policy, RetryOn, StopReason};
use sqlx::{PgExecutor, PgPool};

/// The table. `claims` counts the claims: a run's token, so a worker whose
/// lease was taken from it cannot record an outcome. Each worker's turn
/// reads the due jobs and the ended leases through their partial indexes,
/// never the whole table with its finished jobs.
const SCHEMA: &str = "
CREATE TABLE extraction_jobs (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filename      TEXT        NOT NULL,
    status        TEXT        NOT NULL DEFAULT 'PENDING' CHECK (status IN
                  ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    retry_count   INTEGER     NOT NULL DEFAULT 0,
    next_retry_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_until TIMESTAMPTZ,
    claims        INTEGER     NOT NULL DEFAULT 0,
    error_message TEXT,
    completed_at  TIMESTAMPTZ
);
CREATE INDEX extraction_jobs_due ON extraction_jobs (next_retry_at) WHERE status = 'PENDING';
CREATE INDEX extraction_jobs_leases ON extraction_jobs (claimed_until) WHERE status = 'RUNNING';";

const MAX_RETRIES: u32 = 3;

/// The story's schedule: 3 retries after 30s, 2m, 8m (30s x 4^retry_count),
/// then FAILED. No jitter, so the tests see the waits exactly: add
/// `.with_jitter(Jitter::Proportional(25))` for the story's 0-25% (or take
/// `presets::JOB`: this with the jitter, `Interrupted` and `Unknown`
/// retried too, and a server's Retry-After honoured).
const EXTRACTION: Policy<RetryOn> = Policy::new()
    .with_name("extraction")
    .with_max_attempts(MAX_RETRIES + 1) // the first run and its retries
    .with_backoff(Backoff::exponential(secs(30), secs(480)).with_factor(4.0))
    .retry_on(KindSet::TRANSIENT) // Timeout | Connect | RateLimited | Unavailable
    .checked();

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// How long a claim is a worker's: a run is stopped before its end, and a
/// run still `RUNNING` after it (its worker died) is counted as failed.
const LEASE: Duration = secs(600);

/// How long a run may take: stopped at an `.await` 10s before its lease
/// ends (the lease began at the claim, a little before the run). A lease
/// that leaves no such margin does not compile.
const RUN_LIMIT: Duration = LEASE.saturating_sub(secs(10));
const _: () = assert!(
    LEASE.as_secs() > 10,
    "LEASE must be longer than the 10s margin"
);

/// The story's errors by name, each with its kind: retried or permanent.
#[derive(Debug, thiserror::Error, Classify)]
enum ExtractionError {
    #[error("ConnectionError: {0}")]
    #[classify(Connect)]
    ConnectionError(&'static str),
    #[error("TimeoutError: {0}")]
    #[classify(Timeout)]
    TimeoutError(&'static str),
    #[error("ServiceUnavailable")]
    #[classify(Unavailable)]
    ServiceUnavailable,
    #[error("RateLimitExceeded")]
    #[classify(RateLimited)]
    RateLimitExceeded,
    #[error("TemporaryFailure: {0}")]
    #[classify(Unavailable)]
    TemporaryFailure(&'static str),
    #[error("S3ConnectionError: {0}")]
    #[classify(Connect)]
    S3ConnectionError(&'static str),
    #[error("Werk24Timeout")]
    #[classify(Timeout)]
    Werk24Timeout,
    #[error("UnsupportedFormat: {0}")]
    #[classify(Permanent)]
    UnsupportedFormat(&'static str),
    #[error("CorruptedFile: {0}")]
    #[classify(Permanent)]
    CorruptedFile(&'static str),
    #[error("InvalidFileType")]
    #[classify(Permanent)]
    InvalidFileType,
    #[error("AuthenticationFailed")]
    #[classify(Permanent)]
    AuthenticationFailed,
    #[error("PermissionDenied")]
    #[classify(Permanent)]
    PermissionDenied,
    #[error("FileTooLarge")]
    #[classify(Permanent)]
    FileTooLarge,
    /// The run outlived its lease, or its worker died: retried as a timeout.
    #[error("LeaseExpired: the run did not end within its lease")]
    #[classify(Timeout)]
    LeaseExpired,
}

/// A claimed job: what its run needs, and the claim's token.
#[derive(Debug)]
struct Claimed {
    id: i64,
    filename: String,
    retry_count: i32,
    claims: i32,
}

async fn enqueue(db: impl PgExecutor<'_>, filename: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO extraction_jobs (filename) VALUES ($1) RETURNING id")
        .bind(filename)
        .fetch_one(db)
        .await
}

/// The worker's claim, one statement: the pending job due the longest,
/// skipping rows another transaction holds (a claim, a cancel), marked
/// `RUNNING` for a lease, on the database's clock.
async fn claim(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Claimed>> {
    let row: Option<(i64, String, i32, i32)> = sqlx::query_as(
        "UPDATE extraction_jobs
            SET status = 'RUNNING', claims = claims + 1,
                claimed_until = now() + $1 * interval '1 millisecond'
          WHERE id = (SELECT id FROM extraction_jobs
                       WHERE status = 'PENDING' AND next_retry_at <= now()
                       ORDER BY next_retry_at LIMIT 1
                       FOR UPDATE SKIP LOCKED)
      RETURNING id, filename, retry_count, claims",
    )
    .bind(millis(LEASE))
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, filename, retry_count, claims)| Claimed {
        id,
        filename,
        retry_count,
        claims,
    }))
}

/// A failed run: the policy decides, one UPDATE stores it (`PENDING` at
/// `now() + wait`, or `FAILED` with the reason), then the policy logs it.
/// `None` when the claim is no longer this run's (its lease was taken).
async fn fail(
    db: impl PgExecutor<'_>,
    job: &Claimed,
    error: &ExtractionError,
) -> sqlx::Result<Option<Decision>> {
    let retries_done = u32::try_from(job.retry_count).unwrap_or(u32::MAX);
    let decision = EXTRACTION.decide(retries_done, error);
    let (wait, message) = match decision {
        Decision::Retry { wait, .. } => (
            Some(millis(wait)),
            format!("Retry {}/{MAX_RETRIES}: {error}", retries_done + 1),
        ),
        Decision::GiveUp {
            reason: StopReason::Permanent,
            ..
        } => (None, format!("Permanent error: {error}")),
        Decision::GiveUp {
            reason: StopReason::Attempts,
            ..
        } => (
            None,
            format!("Max retries ({MAX_RETRIES}) exceeded. Last error: {error}"),
        ),
        Decision::GiveUp { reason, .. } => (None, format!("{reason}: {error}")),
    };
    let updated = sqlx::query(
        "UPDATE extraction_jobs
            SET status        = CASE WHEN $3::bigint IS NULL THEN 'FAILED' ELSE 'PENDING' END,
                retry_count   = retry_count + CASE WHEN $3::bigint IS NULL THEN 0 ELSE 1 END,
                next_retry_at = COALESCE(now() + $3::bigint * interval '1 millisecond', next_retry_at),
                completed_at  = CASE WHEN $3::bigint IS NULL THEN now() END,
                error_message = $4, claimed_until = NULL
          WHERE id = $1 AND claims = $2 AND status = 'RUNNING'",
    )
    .bind(job.id)
    .bind(job.claims)
    .bind(wait)
    .bind(message)
    .execute(db)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    EXTRACTION.report(retries_done, error, decision); // once the row says so
    Ok(Some(decision))
}

/// A run that succeeded; `false` when the claim is no longer this run's.
async fn complete(db: impl PgExecutor<'_>, job: &Claimed) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE extraction_jobs SET status = 'COMPLETED', completed_at = now(), claimed_until = NULL
          WHERE id = $1 AND claims = $2 AND status = 'RUNNING'",
    )
    .bind(job.id)
    .bind(job.claims)
    .execute(db)
    .await?;
    if updated.rows_affected() == 1 {
        EXTRACTION.report_success(u32::try_from(job.retry_count).unwrap_or(u32::MAX));
    }
    Ok(updated.rows_affected() == 1)
}

const LOST_RUNS: &str = "SELECT id, filename, retry_count, claims FROM extraction_jobs
  WHERE status = 'RUNNING' AND claimed_until < now()";

/// The runs whose lease ended while `RUNNING` (their worker died), each
/// recorded as a failed run: retried like a timeout, `FAILED` once the
/// retries are spent. Called before each claim.
async fn expire_leases(db: &PgPool) -> sqlx::Result<()> {
    let lost: Vec<(i64, String, i32, i32)> = sqlx::query_as(LOST_RUNS).fetch_all(db).await?;
    for (id, filename, retry_count, claims) in lost {
        let job = Claimed {
            id,
            filename,
            retry_count,
            claims,
        };
        fail(db, &job, &ExtractionError::LeaseExpired).await?; // guarded by the token
    }
    Ok(())
}

/// One turn of a worker: the lost runs, a claim, the run under its lease,
/// its outcome. `None` when no job is due.
async fn run_one(
    db: &PgPool,
    extract: impl AsyncFnOnce(&Claimed) -> Result<(), ExtractionError>,
) -> sqlx::Result<Option<i64>> {
    expire_leases(db).await?;
    let Some(job) = claim(db).await? else {
        return Ok(None);
    };
    let recorded = match tokio::time::timeout(RUN_LIMIT, extract(&job)).await {
        Ok(Ok(())) => complete(db, &job).await?,
        Ok(Err(error)) => fail(db, &job, &error).await?.is_some(),
        Err(_) => fail(db, &job, &ExtractionError::LeaseExpired)
            .await?
            .is_some(),
    };
    if !recorded {
        tracing::warn!(
            job = job.id,
            "the run outlived its lease; another worker recorded it"
        );
    }
    Ok(Some(job.id))
}

/// Cancel a job, only while `PENDING`; `false` otherwise (`status` then
/// tells a job in another status, a 400, from no such job, a 404). A claim
/// holding the row makes this wait for the claim's commit, then find it
/// `RUNNING`.
async fn cancel(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE extraction_jobs SET status = 'CANCELLED', completed_at = now()
          WHERE id = $1 AND status = 'PENDING'",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Retry a `FAILED` job by hand, due now with its retries back to 0;
/// `false` for a job in any other status.
async fn retry_by_hand(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE extraction_jobs
            SET status = 'PENDING', retry_count = 0, next_retry_at = now(),
                error_message = NULL, completed_at = NULL
          WHERE id = $1 AND status = 'FAILED'",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// A job's status, as the monitoring shows it.
#[derive(Debug)]
struct Status {
    status: String,
    retry_count: i32,
    /// Seconds until `next_retry_at` by the database's clock.
    due_in: f64,
    error_message: Option<String>,
}

async fn status(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Status>> {
    let row: Option<(String, i32, f64, Option<String>)> = sqlx::query_as(
        "SELECT status, retry_count, EXTRACT(EPOCH FROM next_retry_at - now())::float8, error_message
           FROM extraction_jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(status, retry_count, due_in, error_message)| Status {
            status,
            retry_count,
            due_in,
            error_message,
        }),
    )
}

/// The ids of the jobs in a status, a page at a time.
async fn list(
    db: impl PgExecutor<'_>,
    status: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM extraction_jobs WHERE status = $1 ORDER BY id LIMIT $2 OFFSET $3",
    )
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

// ---- the tests: a fresh database each, on testkit::pg's server ----

async fn database() -> PgPool {
    let url = testkit::pg::fresh_database("jobs_extraction").await;
    let db = PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(SCHEMA).execute(&db).await.unwrap();
    db
}

/// As if the job's wait had passed.
async fn make_due(db: &PgPool, id: i64) {
    sqlx::query("UPDATE extraction_jobs SET next_retry_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .unwrap();
}

async fn status_of(db: &PgPool, id: i64) -> Status {
    status(db, id).await.unwrap().expect("the job's row")
}

/// Makes the job due and runs it, failing with `error`.
async fn run_failing(db: &PgPool, id: i64, error: ExtractionError) {
    make_due(db, id).await;
    assert_eq!(
        run_one(db, async move |_| Err(error)).await.unwrap(),
        Some(id)
    );
}

#[tokio::test]
async fn retries_after_30s_2m_8m_on_the_database_clock_then_fails() {
    let db = database().await;
    let id = enqueue(&db, "drawing.pdf").await.unwrap();
    for (retry_count, wait) in [(1, 30.0), (2, 120.0), (3, 480.0)] {
        run_failing(&db, id, ExtractionError::ConnectionError("refused")).await;
        let job = status_of(&db, id).await;
        assert_eq!(
            (job.status.as_str(), job.retry_count),
            ("PENDING", retry_count),
            "{job:?}"
        );
        // now() + wait, read on the same clock a moment later
        assert!(job.due_in > wait - 5.0 && job.due_in <= wait, "{job:?}");
        let message = format!("Retry {retry_count}/3: ConnectionError: refused");
        assert_eq!(job.error_message, Some(message));
        // not due yet: no worker runs it
        assert_eq!(
            run_one(&db, async |_| panic!("ran before its time"))
                .await
                .unwrap(),
            None
        );
    }
    run_failing(&db, id, ExtractionError::TimeoutError("no answer in 60s")).await;
    let job = status_of(&db, id).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("FAILED", 3));
    let reason = "Max retries (3) exceeded. Last error: TimeoutError: no answer in 60s";
    assert_eq!(job.error_message.as_deref(), Some(reason));
    make_due(&db, id).await;
    assert_eq!(
        run_one(&db, async |_| panic!("a FAILED job ran"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_permanent_error_fails_at_once() {
    use ExtractionError::*;
    for error in [
        ConnectionError("x"),
        TimeoutError("x"),
        ServiceUnavailable,
        RateLimitExceeded,
        TemporaryFailure("x"),
        S3ConnectionError("x"),
        Werk24Timeout,
        LeaseExpired,
    ] {
        assert_eq!(
            EXTRACTION.decide(0, &error).wait(),
            Some(secs(30)),
            "{error:?} is retried"
        );
    }
    for error in [
        UnsupportedFormat("x"),
        CorruptedFile("x"),
        InvalidFileType,
        AuthenticationFailed,
        PermissionDenied,
        FileTooLarge,
    ] {
        assert_eq!(
            EXTRACTION.decide(0, &error).reason(),
            Some(StopReason::Permanent),
            "{error:?} is not"
        );
    }

    let db = database().await;
    let id = enqueue(&db, "scan.tiff").await.unwrap();
    run_failing(&db, id, CorruptedFile("bad xref table")).await;
    let job = status_of(&db, id).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("FAILED", 0));
    assert_eq!(
        job.error_message.as_deref(),
        Some("Permanent error: CorruptedFile: bad xref table")
    );
    assert_eq!(list(&db, "FAILED", 20, 0).await.unwrap(), [id]);
    assert_eq!(
        list(&db, "PENDING", 20, 0).await.unwrap(),
        Vec::<i64>::new()
    );
}

/// How many sessions of this database wait for a lock, awaited until `n`
/// (polled: the wait is the server's, not a time).
async fn lock_waiters(db: &PgPool, n: i64) {
    for _ in 0..1000 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(db)
        .await
        .unwrap();
        if waiting == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no session waited for the row's lock within 10s");
}

#[tokio::test]
async fn a_cancel_racing_a_claim_is_decided_by_the_row_lock() {
    let db = database().await;
    // the claim first: the cancel waits for its commit, then finds the job RUNNING
    let claimed = enqueue(&db, "a.pdf").await.unwrap();
    let mut worker = db.begin().await.unwrap();
    assert_eq!(
        claim(&mut *worker).await.unwrap().map(|job| job.id),
        Some(claimed)
    );
    let cancelling = tokio::spawn({
        let db = db.clone();
        async move { cancel(&db, claimed).await }
    });
    lock_waiters(&db, 1).await;
    worker.commit().await.unwrap();
    assert!(
        !cancelling.await.unwrap().unwrap(),
        "a claimed job cancelled"
    );
    assert_eq!(status_of(&db, claimed).await.status, "RUNNING");

    // the cancel first: the claim skips the row it holds (no wait), and after
    // its commit no claim takes the job
    let cancelled = enqueue(&db, "b.pdf").await.unwrap();
    let mut operator = db.begin().await.unwrap();
    assert!(cancel(&mut *operator, cancelled).await.unwrap());
    let skipped = tokio::time::timeout(secs(10), claim(&db))
        .await
        .expect("the claim waited");
    assert!(skipped.unwrap().is_none());
    operator.commit().await.unwrap();
    make_due(&db, cancelled).await;
    assert_eq!(
        run_one(&db, async |_| panic!("a cancelled job ran"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(status_of(&db, cancelled).await.status, "CANCELLED");
    assert!(
        !cancel(&db, cancelled).await.unwrap() && !retry_by_hand(&db, cancelled).await.unwrap()
    );

    // both at once, on two connections: exactly one wins each job
    let (mut worker, mut operator) = (db.acquire().await.unwrap(), db.acquire().await.unwrap());
    for n in 0..20 {
        let id = enqueue(&db, &format!("race{n}.pdf")).await.unwrap();
        let (claimed, cancelled) = if n % 2 == 0 {
            tokio::join!(claim(&mut *worker), cancel(&mut *operator, id))
        } else {
            let (cancelled, claimed) =
                tokio::join!(cancel(&mut *operator, id), claim(&mut *worker));
            (claimed, cancelled)
        };
        let claimed = claimed.unwrap().is_some_and(|job| job.id == id);
        assert!(
            claimed != cancelled.unwrap(),
            "job {id}: claimed {claimed}, cancelled too or neither"
        );
        let expected = if claimed { "RUNNING" } else { "CANCELLED" };
        assert_eq!(status_of(&db, id).await.status, expected);
    }
    assert_eq!(claim(&db).await.unwrap().map(|job| job.id), None);
    let (running, cancelled) = (
        list(&db, "RUNNING", 100, 0).await.unwrap(),
        list(&db, "CANCELLED", 100, 0).await.unwrap(),
    );
    assert_eq!(running.len() + cancelled.len(), 22);
    let second = list(&db, "CANCELLED", 1, 1).await.unwrap(); // a page of one
    assert_eq!(second, cancelled.get(1..2).unwrap_or_default());
}

#[tokio::test]
async fn a_failed_job_retried_by_hand_runs_again_from_retry_count_0() {
    let db = database().await;
    let id = enqueue(&db, "report.xlsx").await.unwrap();
    assert!(
        !retry_by_hand(&db, id).await.unwrap(),
        "a PENDING job retried by hand"
    );
    for _ in 0..4 {
        run_failing(&db, id, ExtractionError::RateLimitExceeded).await;
    }
    assert_eq!(status_of(&db, id).await.status, "FAILED");

    assert!(retry_by_hand(&db, id).await.unwrap());
    let job = status_of(&db, id).await;
    assert_eq!(
        (
            job.status.as_str(),
            job.retry_count,
            job.error_message.as_deref()
        ),
        ("PENDING", 0, None)
    );
    assert!(job.due_in <= 0.0, "due now: {job:?}");
    assert!(
        !retry_by_hand(&db, id).await.unwrap(),
        "retried by hand twice"
    );

    // the schedule starts again: 30s after this failure, not FAILED
    assert_eq!(
        run_one(&db, async |_| Err(ExtractionError::Werk24Timeout))
            .await
            .unwrap(),
        Some(id)
    );
    let job = status_of(&db, id).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("PENDING", 1));
    assert!(job.due_in > 25.0 && job.due_in <= 30.0, "{job:?}");
    make_due(&db, id).await;
    let mut ran = None;
    assert_eq!(
        run_one(&db, async |job| {
            ran = Some(job.filename.clone());
            Ok(())
        })
        .await
        .unwrap(),
        Some(id)
    );
    assert_eq!(ran.as_deref(), Some("report.xlsx"));
    assert_eq!(status_of(&db, id).await.status, "COMPLETED");
    assert_eq!(list(&db, "COMPLETED", 20, 0).await.unwrap(), [id]);
}

#[tokio::test]
async fn a_run_whose_worker_died_is_retried_once_its_lease_ends() {
    let db = database().await;
    let id = enqueue(&db, "model.step").await.unwrap();
    let lost = claim(&db).await.unwrap().unwrap(); // ... and its worker dies
    let lease: f64 = sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM claimed_until - now())::float8 FROM extraction_jobs",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(lease > 595.0 && lease <= 600.0, "{lease}");
    assert_eq!(
        run_one(&db, async |_| panic!("ran under another's lease"))
            .await
            .unwrap(),
        None
    );

    sqlx::query("UPDATE extraction_jobs SET claimed_until = now() - interval '1 second'")
        .execute(&db)
        .await
        .unwrap();
    // the next worker's turn records the lost run (not due yet, so no claim)
    assert_eq!(
        run_one(&db, async |_| panic!("ran before its time"))
            .await
            .unwrap(),
        None
    );
    let job = status_of(&db, id).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("PENDING", 1));
    assert!(job.due_in > 25.0 && job.due_in <= 30.0, "{job:?}");
    assert!(
        job.error_message
            .unwrap()
            .starts_with("Retry 1/3: LeaseExpired")
    );
    // the dead worker's late record is refused: the claim is no longer its
    assert!(!complete(&db, &lost).await.unwrap());
    assert_eq!(
        fail(&db, &lost, &ExtractionError::InvalidFileType)
            .await
            .unwrap()
            .map(|d| d.wait()),
        None
    );

    make_due(&db, id).await;
    assert_eq!(run_one(&db, async |_| Ok(())).await.unwrap(), Some(id));
    assert_eq!(status_of(&db, id).await.status, "COMPLETED");

    // a run that outlives its lease: another worker records it as lost
    // first, and the run's own record is refused, with a line saying so
    let logs = retry_runtime::testing::capture_logs().unwrap();
    let late = enqueue(&db, "late.step").await.unwrap();
    let ran = run_one(&db, async |_| {
        sqlx::query(
            "UPDATE extraction_jobs SET claimed_until = now() - interval '1 second' WHERE id = $1",
        )
        .bind(late)
        .execute(&db)
        .await
        .unwrap();
        expire_leases(&db).await.unwrap(); // another worker's turn
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(ran, Some(late));
    let job = status_of(&db, late).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("PENDING", 1));
    assert!(
        logs.contains("the run outlived its lease; another worker recorded it"),
        "{logs}"
    );
}

#[tokio::test]
async fn report_logs_each_decision_once_its_row_is_written() {
    let logs = retry_runtime::testing::capture_logs().unwrap();
    let db = database().await;
    let retried = enqueue(&db, "a.pdf").await.unwrap();
    run_failing(&db, retried, ExtractionError::ServiceUnavailable).await;
    run_failing(&db, retried, ExtractionError::S3ConnectionError("reset")).await;
    make_due(&db, retried).await;
    assert_eq!(run_one(&db, async |_| Ok(())).await.unwrap(), Some(retried));
    let permanent = enqueue(&db, "b.pdf").await.unwrap();
    run_failing(&db, permanent, ExtractionError::PermissionDenied).await;
    let spent = enqueue(&db, "c.pdf").await.unwrap();
    sqlx::query("UPDATE extraction_jobs SET retry_count = 3 WHERE id = $1")
        .bind(spent)
        .execute(&db)
        .await
        .unwrap();
    run_failing(&db, spent, ExtractionError::TemporaryFailure("disk full")).await;
    // a record refused (the claim is not this run's) logs nothing
    let stale = Claimed {
        id: spent,
        filename: "c.pdf".into(),
        retry_count: 0,
        claims: 1,
    };
    assert_eq!(
        fail(&db, &stale, &ExtractionError::ServiceUnavailable)
            .await
            .unwrap()
            .map(|d| d.wait()),
        None
    );

    let ours = runtime_lines_start_with(
        &logs,
        &[
            "WARN retry_runtime: retrying extraction after attempt 1/4 failed; next attempt in 30s",
            "WARN retry_runtime: retrying extraction after attempt 2/4 failed; next attempt in 2m",
            "INFO retry_runtime: extraction succeeded on attempt 3",
            "WARN retry_runtime: extraction failed with a non-retriable error on attempt 1",
            "ERROR retry_runtime: extraction failed after 4 attempts",
        ],
    );
    assert!(
        ours[1].contains("error=S3ConnectionError: reset")
            && ours[1].contains(r#"error_kind="Connect""#),
        "{}",
        ours[1]
    );
    assert!(
        ours[4].contains("error=TemporaryFailure: disk full"),
        "{}",
        ours[4]
    );
}

/// Ends the job's lease, as if its worker had died or run too long.
async fn end_lease(db: &PgPool, id: i64) {
    sqlx::query(
        "UPDATE extraction_jobs SET claimed_until = now() - interval '1 second' WHERE id = $1",
    )
    .bind(id)
    .execute(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn an_old_claims_late_record_is_refused_while_a_new_claim_runs() {
    let logs = retry_runtime::testing::capture_logs().unwrap();
    let db = database().await;

    // the lease ends, two workers' turns find the run: one records it, the
    // other's record (its SELECT was before the first's UPDATE) is refused
    let id = enqueue(&db, "slow.pdf").await.unwrap();
    let old = claim(&db).await.unwrap().unwrap();
    end_lease(&db, id).await;
    let (first, second) = tokio::join!(expire_leases(&db), expire_leases(&db));
    first.unwrap();
    second.unwrap();
    // (the row the second worker read is the old claim's: id, count, token)
    let twice = fail(&db, &old, &ExtractionError::LeaseExpired).await;
    assert_eq!(twice.unwrap().map(|d| d.wait()), None, "recorded twice");
    let job = status_of(&db, id).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("PENDING", 1));

    // the next claim runs it; the old run's late records change nothing
    make_due(&db, id).await;
    let new = claim(&db).await.unwrap().unwrap();
    assert!(
        !complete(&db, &old).await.unwrap(),
        "an old claim completed"
    );
    let refused = fail(&db, &old, &ExtractionError::InvalidFileType).await;
    assert_eq!(refused.unwrap().map(|d| d.wait()), None);
    let job = status_of(&db, id).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("RUNNING", 1));
    assert!(complete(&db, &new).await.unwrap());

    // retried by hand after its retries were spent by lost runs: the lost
    // run's late record is refused, before and during the next claim
    let spent = enqueue(&db, "spent.pdf").await.unwrap();
    sqlx::query("UPDATE extraction_jobs SET retry_count = 3 WHERE id = $1")
        .bind(spent)
        .execute(&db)
        .await
        .unwrap();
    let old = claim(&db).await.unwrap().unwrap();
    end_lease(&db, spent).await;
    expire_leases(&db).await.unwrap();
    assert_eq!(status_of(&db, spent).await.status, "FAILED");
    assert!(retry_by_hand(&db, spent).await.unwrap());
    assert!(!complete(&db, &old).await.unwrap());
    let new = claim(&db).await.unwrap().unwrap();
    assert!(
        !complete(&db, &old).await.unwrap(),
        "an old claim completed"
    );
    let job = status_of(&db, spent).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("RUNNING", 0));
    let recorded = fail(&db, &new, &ExtractionError::Werk24Timeout).await;
    assert_eq!(recorded.unwrap().map(|d| d.wait()), Some(Some(secs(30))));

    // one line per recorded decision: the lease ended once, not twice
    runtime_lines_start_with(
        &logs,
        &[
            "WARN retry_runtime: retrying extraction after attempt 1/4 failed",
            "INFO retry_runtime: extraction succeeded on attempt 2",
            "ERROR retry_runtime: extraction failed after 4 attempts",
            "WARN retry_runtime: retrying extraction after attempt 1/4 failed",
        ],
    );
}

/// The runtime's lines in `logs` (not sqlx's, not the test's), one per
/// entry of `starts`, each starting with its entry; they are returned.
fn runtime_lines_start_with(
    logs: &retry_runtime::testing::CapturedLogs,
    starts: &[&str],
) -> Vec<String> {
    let ours: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|line| line.contains(" retry_runtime: "))
        .collect();
    assert_eq!(ours.len(), starts.len(), "{logs}");
    for (line, start) in ours.iter().zip(starts) {
        assert!(
            line.starts_with(start),
            "{line:?} is not {start:?}...\n{logs}"
        );
    }
    ours
}

#[tokio::test]
async fn a_failure_whose_record_is_lost_is_reported_once_its_lease_ends() {
    let logs = retry_runtime::testing::capture_logs().unwrap();
    let db = database().await;
    let id = enqueue(&db, "lost.pdf").await.unwrap();
    let job = claim(&db).await.unwrap().unwrap();
    // decided, but the UPDATE fails (here: its pool is closed): no line
    let gone = PgPool::connect_lazy_with(db.connect_options().as_ref().clone());
    gone.close().await;
    let error = ExtractionError::CorruptedFile("bad xref table");
    assert!(fail(&gone, &job, &error).await.is_err());
    assert_eq!(status_of(&db, id).await.status, "RUNNING");
    assert!(!logs.contains("extraction failed"), "{logs}");

    // the lease ends: the run counts as failed (a timeout, so retried)
    end_lease(&db, id).await;
    expire_leases(&db).await.unwrap();
    let job = status_of(&db, id).await;
    assert_eq!((job.status.as_str(), job.retry_count), ("PENDING", 1));
    assert!(
        job.error_message
            .unwrap()
            .starts_with("Retry 1/3: LeaseExpired")
    );
    let ours = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains(" retry_runtime: "));
    assert_eq!(ours.count(), 1, "{logs}");
}

#[tokio::test]
async fn a_workers_turn_reads_only_the_running_and_due_rows() {
    let db = database().await;
    let mut session = db.acquire().await.unwrap();
    // as on a table too large to read whole: a plan that can avoid it does
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *session)
        .await
        .unwrap();
    for statement in [
        LOST_RUNS,
        "SELECT id FROM extraction_jobs WHERE status = 'PENDING' AND next_retry_at <= now() ORDER BY next_retry_at LIMIT 1",
    ] {
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {statement}"))
            .fetch_all(&mut *session)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(!plan.contains("Seq Scan"), "{statement}\n{plan}");
    }
}

#[tokio::test]
async fn under_repeatable_read_a_lost_race_is_a_serialization_failure() {
    let db = database().await;
    let id = enqueue(&db, "a.pdf").await.unwrap();
    let mut worker = db.begin().await.unwrap();
    assert_eq!(
        claim(&mut *worker).await.unwrap().map(|job| job.id),
        Some(id)
    );
    let mut operator = db.acquire().await.unwrap();
    sqlx::query("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *operator)
        .await
        .unwrap();
    let cancelling = tokio::spawn(async move { cancel(&mut *operator, id).await });
    lock_waiters(&db, 1).await;
    worker.commit().await.unwrap();
    // READ COMMITTED's answer would be Ok(false), the job found RUNNING
    let error = cancelling.await.unwrap().unwrap_err();
    let code = error.as_database_error().and_then(|e| e.code());
    assert_eq!(code.as_deref(), Some("40001"), "{error}");
    assert_eq!(status_of(&db, id).await.status, "RUNNING");
}
