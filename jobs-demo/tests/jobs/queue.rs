//! The background-job queue: the table's state after each step, with the
//! schedule computed by `presets::JOB.decide(retry_count, &error)`.
//!
//! Queue-level tests pass explicit times, so their schedules are checked to
//! the millisecond. Worker-level tests run on a scaled real clock (one
//! simulated minute in 40 ms): tokio's paused clock would jump past sqlx's
//! pool timeout while SQLite works on its own thread.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use retry_jobs_demo::{Job, JobOutcome, JobQueue, JobStatus, QueueError, Ran, ScaledClock, Worker};
use retry_runtime::{StopReason, presets};
use sqlx::Connection as _;

/// One simulated minute in the worker-level tests: 40 real milliseconds.
const MINUTE: Duration = Duration::from_millis(40);
/// One simulated minute in the test that times the worker's schedule: three
/// times [`MINUTE`], so that [`SLACK`] is 30 real milliseconds.
const TIMED_MINUTE: Duration = Duration::from_millis(120);
/// How late a worker may run a job on [`TIMED_MINUTE`]'s clock (timer
/// ticks, queries, a loaded CI machine): 15 simulated seconds, 30 real
/// milliseconds (10 on [`MINUTE`]'s clock were not always enough).
const SLACK: Duration = Duration::from_secs(15);

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn refused() -> io::Error {
    io::Error::from(io::ErrorKind::ConnectionRefused)
}

fn invalid() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "unsupported format")
}

async fn job(q: &JobQueue, id: i64) -> Job {
    q.get(id).await.unwrap().unwrap()
}

/// `fail`'s answer for a job that failed for good.
fn failed(reason: StopReason, attempts: u32) -> JobOutcome {
    JobOutcome::Failed { reason, attempts }
}

/// Job `id` is FAILED, finished at `at` after `retries` retries; its last error.
async fn assert_failed_for_good(q: &JobQueue, id: i64, retries: u32, at: Duration) -> String {
    let j = job(q, id).await;
    assert_eq!(
        (j.status, j.retry_count, j.finished_at),
        (JobStatus::Failed, retries, Some(at))
    );
    j.last_error.unwrap()
}

/// `base..=base * 1.25`: the JOB preset's wait after `base`, with up to 25% jitter.
fn assert_job_wait(wait: Duration, base: u64) {
    assert!(
        wait >= s(base) && wait <= s(base) * 5 / 4,
        "{wait:?} not in {base}s..={}s",
        base as f64 * 1.25
    );
}

#[tokio::test]
async fn a_new_job_is_pending_and_due_at_once() {
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("resize 7", s(10)).await.unwrap();
    let j = job(&q, id).await;
    assert_eq!(
        (
            j.status,
            j.retry_count,
            j.next_retry_at,
            j.last_error,
            j.finished_at
        ),
        (JobStatus::Pending, 0, s(10), None, None)
    );
    assert_eq!(q.next_due_at().await.unwrap(), Some(s(10)));
}

#[tokio::test]
async fn due_job_selection() {
    let q = JobQueue::open_in_memory().await.unwrap();
    let later = q.enqueue("later", s(100)).await.unwrap();
    let first = q.enqueue("first", s(5)).await.unwrap();
    let tie_a = q.enqueue("tie a", s(50)).await.unwrap();
    let tie_b = q.enqueue("tie b", s(50)).await.unwrap();

    // nothing is due before its time
    assert!(q.claim_due(s(4)).await.unwrap().is_none());
    // the one due the longest comes first, ties by id
    let mut order: Vec<i64> = Vec::new();
    while let Some(j) = q.claim_due(s(60)).await.unwrap() {
        order.push(j.id);
    }
    assert_eq!(order, [first, tie_a, tie_b]);
    // claimed (RUNNING) jobs are not due again; the future one waits
    assert_eq!(q.count(JobStatus::Running).await.unwrap(), 3);
    assert_eq!(q.next_due_at().await.unwrap(), Some(s(100)));
    let j = q.claim_due(s(100)).await.unwrap().unwrap();
    assert_eq!((j.id, j.status), (later, JobStatus::Running));

    q.complete(&j, s(100)).await.unwrap();

    // a RUNNING job whose lease (5 minutes) has expired had its run cut
    // short: that run counts as a failed attempt (a timeout) at the lease's
    // end, and the policy schedules the job again like any failure
    assert!(q.claim_due(s(359)).await.unwrap().is_none());
    assert!(q.claim_due(s(360)).await.unwrap().is_none());
    for id in [first, tie_a, tie_b] {
        let lost = job(&q, id).await;
        assert_eq!(
            (lost.status, lost.retry_count, lost.claims),
            (JobStatus::Pending, 1, 1)
        );
        assert_job_wait(lost.next_retry_at - s(360), 30);
        assert!(lost.last_error.unwrap().contains("lease"));
    }
    let mut again = Vec::new();
    while let Some(j) = q.claim_due(s(400)).await.unwrap() {
        assert_eq!(
            (j.retry_count, j.claims, j.claimed_until),
            (1, 2, Some(s(700)))
        );
        again.push(j);
    }
    assert_eq!(again.len(), 3);

    // DONE and FAILED jobs are never due
    q.fail(&again[0], &invalid(), s(400)).await.unwrap();
    q.complete(&again[1], s(400)).await.unwrap();
    q.complete(&again[2], s(400)).await.unwrap();
    assert!(q.claim_due(s(10_000)).await.unwrap().is_none());
}

#[tokio::test]
async fn transient_failures_walk_the_job_schedule_then_fail_for_good() {
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("call partner api", s(0)).await.unwrap();
    let mut now = s(0);

    for (retry, base) in [(1, 30), (2, 120), (3, 480)] {
        let running = q.claim_due(now).await.unwrap().unwrap();
        assert_eq!(running.retry_count, retry - 1);
        let out = q.fail(&running, &refused(), now).await.unwrap();
        let JobOutcome::Retry {
            retry_count,
            wait,
            next_retry_at,
        } = out
        else {
            panic!("{out:?}")
        };
        assert_eq!(retry_count, retry);
        assert_job_wait(wait, base);
        assert_eq!(next_retry_at, now + wait);

        let j = job(&q, id).await;
        assert_eq!((j.status, j.retry_count), (JobStatus::Pending, retry));
        assert_eq!(j.next_retry_at, now + wait);
        assert!(
            j.last_error.as_deref().unwrap().starts_with("Connect: "),
            "{j:?}"
        );
        // not due a moment before its time
        assert!(
            q.claim_due(next_retry_at - Duration::from_millis(1))
                .await
                .unwrap()
                .is_none()
        );
        now = next_retry_at;
    }

    // the 4th failure exhausts the preset's 4 attempts
    let running = q.claim_due(now).await.unwrap().unwrap();
    let out = q.fail(&running, &refused(), now).await.unwrap();
    assert_eq!(out, failed(StopReason::Attempts, 4));
    let last = assert_failed_for_good(&q, id, 3, now).await;
    assert!(last.contains("gave up after 4 attempts"), "{last}");
    assert_eq!(q.next_due_at().await.unwrap(), None);
}

#[tokio::test]
async fn a_permanent_error_fails_at_once() {
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("import bad.csv", s(0)).await.unwrap();
    let running = q.claim_due(s(1)).await.unwrap().unwrap();

    let out = q.fail(&running, &invalid(), s(2)).await.unwrap();

    assert_eq!(out, failed(StopReason::Permanent, 1));
    let last = assert_failed_for_good(&q, id, 0, s(2)).await;
    assert!(last.starts_with("Permanent: unsupported format"), "{last}");
}

#[tokio::test]
async fn a_permanent_error_after_retries_fails_at_once_too() {
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("x", s(0)).await.unwrap();
    let running = q.claim_due(s(0)).await.unwrap().unwrap();
    let JobOutcome::Retry { next_retry_at, .. } = q.fail(&running, &refused(), s(0)).await.unwrap()
    else {
        panic!()
    };
    let running = q.claim_due(next_retry_at).await.unwrap().unwrap();
    let out = q.fail(&running, &invalid(), next_retry_at).await.unwrap();
    assert_eq!(
        out,
        JobOutcome::Failed {
            reason: StopReason::Permanent,
            attempts: 2
        }
    );
    assert_eq!(job(&q, id).await.retry_count, 1);
}

#[tokio::test]
async fn the_job_preset_retries_unknown_errors() {
    let q = JobQueue::open_in_memory().await.unwrap();
    q.enqueue("x", s(0)).await.unwrap();
    let running = q.claim_due(s(0)).await.unwrap().unwrap();
    let odd = io::Error::other("something odd");
    assert!(matches!(
        q.fail(&running, &odd, s(0)).await.unwrap(),
        JobOutcome::Retry { .. }
    ));
}

/// A job whose own database work finds the database locked (a real
/// `SQLITE_BUSY`, as a deadlock or a serialization failure on PostgreSQL,
/// all `Interrupted`) is scheduled again: another run is what that error
/// asks for, not `FAILED` on the first attempt.
#[tokio::test]
async fn a_job_whose_transaction_found_the_database_locked_is_retried() {
    use retry_runtime::{Classify, ErrorKind};
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;

    // the job's own database, beside the queue's: another connection holds
    // its write lock, and the job's connection does not wait for it
    let dir = tempfile::tempdir().unwrap();
    let app = SqliteConnectOptions::new()
        .filename(dir.path().join("app.db"))
        .create_if_missing(true);
    let mut holder = app.connect().await.unwrap();
    sqlx::query("CREATE TABLE reports (id INTEGER PRIMARY KEY)")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let mut job_conn = app
        .clone()
        .busy_timeout(Duration::ZERO)
        .connect()
        .await
        .unwrap();
    let busy = sqlx::query("INSERT INTO reports VALUES (1)")
        .execute(&mut job_conn)
        .await
        .unwrap_err();
    assert_eq!(busy.kind(), ErrorKind::Interrupted, "{busy:?}");

    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("write report", s(0)).await.unwrap();
    let running = q.claim_due(s(0)).await.unwrap().unwrap();
    let JobOutcome::Retry {
        retry_count, wait, ..
    } = q.fail(&running, &busy, s(0)).await.unwrap()
    else {
        panic!("a locked database failed the job for good")
    };
    assert_eq!(retry_count, 1);
    assert_job_wait(wait, 30);
    let j = job(&q, id).await;
    assert_eq!((j.status, j.retry_count), (JobStatus::Pending, 1));
    assert!(
        j.last_error
            .as_deref()
            .unwrap()
            .starts_with("Interrupted: "),
        "{:?}",
        j.last_error
    );
}

#[tokio::test]
async fn another_policy_can_be_used() {
    let q = JobQueue::open_in_memory()
        .await
        .unwrap()
        .with_policy(presets::WEBHOOK);
    q.enqueue("x", s(0)).await.unwrap();
    let running = q.claim_due(s(0)).await.unwrap().unwrap();
    let out = q.fail(&running, &refused(), s(0)).await.unwrap();
    assert_eq!(
        out,
        JobOutcome::Retry {
            retry_count: 1,
            wait: s(1),
            next_retry_at: s(1)
        }
    );
}

#[tokio::test]
async fn only_a_running_job_can_complete_or_fail() {
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("x", s(0)).await.unwrap();
    let pending = job(&q, id).await;
    assert!(matches!(
        q.complete(&pending, s(0)).await,
        Err(QueueError::NotClaimed { .. })
    ));
    assert!(matches!(
        q.fail(&pending, &refused(), s(0)).await,
        Err(QueueError::NotClaimed { .. })
    ));
    assert_eq!(job(&q, id).await, pending);

    let running = q.claim_due(s(0)).await.unwrap().unwrap();
    q.complete(&running, s(1)).await.unwrap();
    // a second completion (or a late failure) of the same run changes nothing
    assert!(q.complete(&running, s(2)).await.is_err());
    assert!(q.fail(&running, &refused(), s(2)).await.is_err());
    let j = job(&q, id).await;
    assert_eq!((j.status, j.finished_at), (JobStatus::Done, Some(s(1))));
}

#[tokio::test]
async fn a_restart_resumes_from_the_file_without_losing_or_duplicating_a_job() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");

    let q = JobQueue::open(&path).await.unwrap();
    let done = q.enqueue("done before", s(0)).await.unwrap();
    let retrying = q.enqueue("retrying", s(0)).await.unwrap();
    let crashed = q.enqueue("cut short", s(0)).await.unwrap();
    let waiting = q.enqueue("not yet due", s(600)).await.unwrap();
    let j = q.claim_due(s(1)).await.unwrap().unwrap();
    q.complete(&j, s(1)).await.unwrap();
    let j = q.claim_due(s(1)).await.unwrap().unwrap();
    q.fail(&j, &refused(), s(1)).await.unwrap();
    let before_retrying = job(&q, retrying).await;
    let j = q.claim_due(s(2)).await.unwrap().unwrap();
    assert_eq!(j.id, crashed);
    drop(q); // the worker dies with `crashed` RUNNING

    let q = JobQueue::open(&path).await.unwrap();
    let after = q.all().await.unwrap();
    let ids: Vec<i64> = after.iter().map(|j| j.id).collect();
    assert_eq!(ids, [done, retrying, crashed, waiting]);
    assert_eq!(job(&q, done).await.status, JobStatus::Done);
    assert_eq!(job(&q, retrying).await, before_retrying); // its schedule survived as it was
    // the dead worker's claim holds until its lease (5 minutes) expires
    let c = job(&q, crashed).await;
    assert_eq!(
        (c.status, c.retry_count, c.claimed_until, c.claims),
        (JobStatus::Running, 0, Some(s(302)), 1)
    );
    assert_eq!(job(&q, waiting).await.next_retry_at, s(600));

    // run everything to the end: each job runs to DONE exactly once
    let mut done_runs: HashMap<i64, usize> = HashMap::new();
    let mut now = s(5);
    while let Some(at) = q.next_due_at().await.unwrap() {
        now = now.max(at);
        while let Some(j) = q.claim_due(now).await.unwrap() {
            if j.id == crashed {
                // the run cut short counted as a failed attempt at the
                // lease's end (T+302s); retried by the JOB schedule
                assert_eq!((j.retry_count, j.claims), (1, 2));
                assert_job_wait(now - s(302), 30);
            }
            q.complete(&j, now).await.unwrap();
            *done_runs.entry(j.id).or_default() += 1;
        }
    }
    assert_eq!(
        done_runs,
        HashMap::from([(retrying, 1), (crashed, 1), (waiting, 1)])
    );
    assert_eq!(q.count(JobStatus::Done).await.unwrap(), 4);
}

/// Runs of each job, with the simulated time each started.
type Log = Arc<Mutex<HashMap<String, Vec<Duration>>>>;

/// A worker `w1` on a scaled clock, run with the recording handler until
/// nothing is left to do: the worker (for its queue) and its runs.
async fn run_until_idle(q: JobQueue) -> (Worker, Vec<Ran>) {
    let clock = ScaledClock::minute_every(MINUTE);
    let mut worker = Worker::start("w1", q, clock).await.unwrap();
    let runs = worker
        .run(None, handler(clock, Log::default()))
        .await
        .unwrap();
    (worker, runs)
}

/// A handler: `ok...` succeeds, `flaky:N` fails N times (Connect) then succeeds,
/// `down` always times out, `bad` is a permanent error.
fn handler(clock: ScaledClock, log: Log) -> impl FnMut(Job) -> std::future::Ready<io::Result<()>> {
    move |job: Job| {
        log.lock()
            .unwrap()
            .entry(job.payload.clone())
            .or_default()
            .push(clock.now());
        let result = match job.payload.as_str() {
            ok if ok.starts_with("ok") => Ok(()),
            "down" => Err(io::Error::from(io::ErrorKind::TimedOut)),
            "bad" => Err(invalid()),
            flaky => {
                let n: u32 = flaky.trim_start_matches("flaky:").parse().unwrap();
                if job.retry_count < n {
                    Err(refused())
                } else {
                    Ok(())
                }
            }
        };
        std::future::ready(result)
    }
}

/// A failed run is logged through the policy's `report`, after its row is
/// written: WARN with the retry (ERROR once the job fails for good) in a
/// `job` span naming the job, the error's text escaped onto one line, so a
/// handler's error cannot forge a line; the demo's own INFO line has the
/// job's context and not the error's text. (The demo wrote the error
/// unescaped into a WARN line of its own.)
#[tokio::test]
async fn a_failed_run_is_reported_by_the_policy_with_its_error_on_one_line() {
    let logs = testkit::capture::capture();
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("send", s(0)).await.unwrap();
    let forged = "refused\nERROR [00:00:00] job 99: FAILED for good";
    let mut worker = Worker::start("w1", q, ScaledClock::new(1)).await.unwrap();
    let mut handler =
        |_| async { Err::<(), _>(io::Error::new(io::ErrorKind::ConnectionRefused, forged)) };
    let ran = worker.run_one(&mut handler).await.unwrap().unwrap();
    assert!(matches!(ran.outcome, Ok(Some(JobOutcome::Retry { .. }))));

    let lines = logs.lines();
    assert!(lines.iter().all(|l| !l.contains('\n')), "{lines:#?}");
    let retry = "retrying job after attempt 1/4 failed; next attempt in ";
    let warn = logs.assert_logged(tracing::Level::WARN, retry);
    assert_eq!(
        testkit::capture::field(&warn, "error"),
        Some(r"refused\nERROR [00:00:00] job 99: FAILED for good"),
        "{warn}"
    );
    assert_eq!(logs.span_of(retry), Some(format!("job | id={id}")));
    let context = logs.assert_logged(
        tracing::Level::INFO,
        &format!("job {id} \"send\": attempt 1/4 failed (Connect); retry 1 in "),
    );
    assert!(!context.contains("refused"), "{context}");
    assert_eq!(logs.at(tracing::Level::ERROR), Vec::<String>::new());
}

/// A job that succeeds after a failed run is reported by the policy too:
/// the run's INFO line `job succeeded on attempt 2`, in the job's span,
/// once its row is `DONE`. (Only failures were reported: a job's lines
/// ended with its last WARN, and the metrics counted only the jobs that
/// gave up.) A first-try success writes no line, as a run's.
#[tokio::test]
async fn a_success_after_a_failed_run_is_reported_by_the_policy() {
    let logs = testkit::capture::capture();
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("sync", s(0)).await.unwrap();
    let job = q.claim_due(s(0)).await.unwrap().unwrap();
    let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
    let out = q.fail(&job, &refused, s(0)).await.unwrap();
    assert!(matches!(out, JobOutcome::Retry { .. }), "{out:?}");
    let job = q.claim_due(s(3_600)).await.unwrap().unwrap();
    assert_eq!(job.retry_count, 1);
    q.complete(&job, s(3_600)).await.unwrap();
    let success = "job succeeded on attempt 2";
    let line = logs.assert_logged(tracing::Level::INFO, success);
    assert_eq!(
        testkit::capture::field(&line, "outcome"),
        Some("succeeded_after_retries")
    );
    assert_eq!(logs.span_of(success), Some(format!("job | id={id}")));

    let first = q.enqueue("ping", s(3_600)).await.unwrap();
    let job = q.claim_due(s(3_600)).await.unwrap().unwrap();
    assert_eq!(job.id, first);
    q.complete(&job, s(3_600)).await.unwrap();
    assert_eq!(logs.matching(tracing::Level::INFO, "succeeded").len(), 1);
}

#[tokio::test]
async fn the_worker_plays_the_whole_schedule_on_a_scaled_clock() {
    let clock = ScaledClock::minute_every(TIMED_MINUTE);
    let q = JobQueue::open_in_memory().await.unwrap();
    for payload in ["ok", "flaky:2", "down", "bad"] {
        q.enqueue(payload, clock.now()).await.unwrap();
    }
    let log = Log::default();
    let mut worker = Worker::start("w1", q, clock).await.unwrap();

    let runs = worker.run(None, handler(clock, log.clone())).await.unwrap();

    let log = log.lock().unwrap().clone();
    let runs_of = |p: &str| log[p].len();
    assert_eq!(
        (
            runs_of("ok"),
            runs_of("flaky:2"),
            runs_of("down"),
            runs_of("bad")
        ),
        (1, 3, 4, 1)
    );
    assert_eq!(runs.len(), 9);
    // the waits between the runs of `down` follow the JOB preset (simulated time)
    let down = &log["down"];
    for (pair, base) in down.windows(2).zip([30, 120, 480]) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= s(base) && gap <= s(base) * 5 / 4 + SLACK,
            "{gap:?} after {base}s"
        );
    }
    let q = worker.queue();
    let by_payload: HashMap<String, (JobStatus, u32)> = q
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.payload, (j.status, j.retry_count)))
        .collect();
    assert_eq!(by_payload["ok"], (JobStatus::Done, 0));
    assert_eq!(by_payload["flaky:2"], (JobStatus::Done, 2));
    assert_eq!(by_payload["down"], (JobStatus::Failed, 3));
    assert_eq!(by_payload["bad"], (JobStatus::Failed, 0));
    assert_eq!(q.next_due_at().await.unwrap(), None);
    // 30s + 120s + 480s of simulated waits, at most 25% more, and each of
    // the three waits and the last run may be SLACK late (the bound the
    // gaps above are held to; 800 s failed a loaded CI run at 800.67 s)
    assert!(
        clock.now() >= s(630) && clock.now() <= s(630) * 5 / 4 + SLACK * 4,
        "{:?}",
        clock.now()
    );
}

#[tokio::test]
async fn a_worker_restarted_mid_schedule_resumes_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let clock = ScaledClock::minute_every(MINUTE * 5 / 2); // 100 ms: a margin for the mid-way state
    let log = Log::default();

    let q = JobQueue::open(&path).await.unwrap();
    for payload in ["ok", "flaky:1", "flaky:2", "down", "bad"] {
        q.enqueue(payload, clock.now()).await.unwrap();
    }
    let mut first = Worker::start("w1", q, clock).await.unwrap();
    // (stopped at T+360s: flaky:2 is done by T+187.5s at the latest, and
    // down's 4th run is due 480s after its 3rd, past T+630s; 240s left a
    // loaded CI run 87 real ms, and flaky:2 was still pending)
    first
        .run(Some(s(360)), handler(clock, log.clone()))
        .await
        .unwrap();
    assert!(clock.now() >= s(360));
    // a late job arrives; the worker claims it and dies before running it
    let late = first.queue().enqueue("ok late", clock.now()).await.unwrap();
    assert_eq!(
        first
            .queue()
            .claim_due(clock.now())
            .await
            .unwrap()
            .unwrap()
            .id,
        late
    );
    let mid_way = first.queue().all().await.unwrap();
    drop(first);

    // at T+360s: ok and flaky:1 done, flaky:2 done (after 30s, then 120s, each
    // plus up to 25%: by T+187.5s), and down has run 3 times (at 0, ~30s,
    // ~150s), its 4th run ~480s later
    let state = |jobs: &[Job], p: &str| {
        let j = jobs.iter().find(|j| j.payload == p).unwrap();
        (j.status, j.retry_count)
    };
    assert_eq!(state(&mid_way, "ok"), (JobStatus::Done, 0));
    assert_eq!(state(&mid_way, "flaky:1"), (JobStatus::Done, 1));
    assert_eq!(state(&mid_way, "flaky:2"), (JobStatus::Done, 2));
    assert_eq!(state(&mid_way, "down"), (JobStatus::Pending, 3));
    assert_eq!(state(&mid_way, "bad"), (JobStatus::Failed, 0));
    assert_eq!(state(&mid_way, "ok late"), (JobStatus::Running, 0));

    let mut second = Worker::start("w2", JobQueue::open(&path).await.unwrap(), clock)
        .await
        .unwrap();
    second.run(None, handler(clock, log.clone())).await.unwrap();

    let log = log.lock().unwrap().clone();
    let runs: HashMap<&str, usize> = log.iter().map(|(p, r)| (p.as_str(), r.len())).collect();
    assert_eq!(
        runs,
        HashMap::from([
            ("ok", 1),
            ("flaky:1", 2),
            ("flaky:2", 3),
            ("down", 4),
            ("bad", 1),
            ("ok late", 1)
        ])
    );
    let jobs = second.queue().all().await.unwrap();
    assert_eq!(jobs.len(), 6);
    assert_eq!(state(&jobs, "down"), (JobStatus::Failed, 3));
    // the claim its dead worker held counted as a failed attempt
    assert_eq!(state(&jobs, "ok late"), (JobStatus::Done, 1));
    assert_eq!(second.queue().count(JobStatus::Pending).await.unwrap(), 0);
    assert_eq!(second.queue().count(JobStatus::Running).await.unwrap(), 0);
}

#[tokio::test]
async fn a_row_with_an_unknown_status_is_reported_never_skipped_or_deleted() {
    let logs = testkit::capture::capture();
    let dir = tempfile::tempdir().unwrap();
    let q = JobQueue::open(dir.path().join("jobs.db")).await.unwrap();
    let ok = q.enqueue("ok", s(0)).await.unwrap();
    let odd = q.enqueue("ok too", s(0)).await.unwrap();
    // written by another version of the program
    sqlx::query("UPDATE jobs SET status = 'PAUSED' WHERE id = $1")
        .bind(odd)
        .execute(q.pool())
        .await
        .unwrap();

    let clock = ScaledClock::minute_every(MINUTE);
    let mut worker = Worker::start("w1", q, clock).await.unwrap();
    let line = logs.assert_logged(tracing::Level::ERROR, "unknown status");
    assert!(
        line.contains(&format!("job {odd} has an unknown status \"PAUSED\"")),
        "{line}"
    );
    let runs = worker
        .run(None, handler(clock, Log::default()))
        .await
        .unwrap();
    // the worker ran the other job and left this one alone
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].job.id, ok);
    let q = worker.queue();
    assert_eq!(
        q.unknown_statuses().await.unwrap(),
        [(odd, "PAUSED".to_owned())]
    );
    match q.all().await {
        Err(QueueError::UnknownStatus { id, status }) => {
            assert_eq!((id, status.as_str()), (odd, "PAUSED"))
        }
        other => panic!("{other:?}"),
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(q.pool())
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_row_that_cannot_be_read_is_set_aside_and_the_other_jobs_run() {
    let logs = testkit::capture::capture();
    let dir = tempfile::tempdir().unwrap();
    let q = JobQueue::open(dir.path().join("jobs.db")).await.unwrap();
    let insert = |sql: &'static str| {
        let pool = q.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // written by another program: payloads that are a BLOB, and text that
    // is not UTF-8. Two are due; one was claimed by a worker that died, and
    // its lease has expired.
    let blob =
        insert("INSERT INTO jobs (payload, next_retry_at) VALUES (X'C328', 0) RETURNING id").await;
    let not_utf8 = insert(
        "INSERT INTO jobs (payload, next_retry_at) VALUES (CAST(X'C328' AS TEXT), 0) RETURNING id",
    )
    .await;
    let expired = insert(
        "INSERT INTO jobs (payload, status, next_retry_at, claimed_by, claimed_until, claims, last_error)
         VALUES (X'C328', 'RUNNING', 0, 'gone', 0, 1, 'Timeout: earlier') RETURNING id",
    )
    .await;
    // informational columns that are not UTF-8: read lossily, the job runs
    let odd_info = insert(
        "INSERT INTO jobs (payload, next_retry_at, claimed_by, last_error)
         VALUES ('ok', 0, CAST(X'C328' AS TEXT), CAST(X'C328' AS TEXT)) RETURNING id",
    )
    .await;
    // and a status that is not UTF-8: an unknown one, left alone
    let odd_status = insert(
        "INSERT INTO jobs (payload, status, next_retry_at)
         VALUES ('ok', CAST(X'C328' AS TEXT), 0) RETURNING id",
    )
    .await;
    let ok = q.enqueue("ok", s(0)).await.unwrap();

    let clock = ScaledClock::minute_every(MINUTE);
    let mut worker = Worker::start("w1", q, clock).await.unwrap();
    logs.assert_logged(
        tracing::Level::ERROR,
        &format!("job {odd_status} has an unknown status \"\u{fffd}(\""),
    );
    let runs = worker
        .run(None, handler(clock, Log::default()))
        .await
        .unwrap();

    // the worker went on and ran the good jobs
    let ran: Vec<i64> = runs.iter().map(|r| r.job.id).collect();
    assert_eq!(ran, [odd_info, ok]);
    let q = worker.queue();
    assert_eq!(job(q, ok).await.status, JobStatus::Done);
    assert_eq!(job(q, odd_info).await.status, JobStatus::Done);
    for bad in [blob, not_utf8, expired] {
        // set aside for good, with why, and logged; its payload kept as it was
        let (status, last_error, kept): (String, String, i64) = sqlx::query_as(
            "SELECT status, last_error, CAST(payload AS BLOB) = X'C328' FROM jobs WHERE id = $1",
        )
        .bind(bad)
        .fetch_one(q.pool())
        .await
        .unwrap();
        assert_eq!((status.as_str(), kept), ("FAILED", 1), "{last_error}");
        assert!(
            last_error.contains("cannot be read") && last_error.contains("payload"),
            "{last_error}"
        );
        let line = logs.assert_logged(tracing::Level::ERROR, &format!("job {bad} cannot be read"));
        assert!(line.contains("set aside"), "{line}");
    }
    // the failure history is kept after the reason it was set aside
    let last_error = job_last_error(q, expired).await;
    assert!(
        last_error.ends_with("set aside; before: Timeout: earlier"),
        "{last_error}"
    );
    assert_eq!(
        q.unknown_statuses().await.unwrap(),
        [(odd_status, "\u{fffd}(".to_owned())]
    );
    // reported, never skipped: reading every job names the first such row
    match q.all().await {
        Err(QueueError::Unreadable { id, reason }) => {
            assert_eq!(id, blob);
            assert!(reason.starts_with("payload: "), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(q.next_due_at().await.unwrap(), None);
}

async fn job_last_error(q: &JobQueue, id: i64) -> String {
    sqlx::query_scalar("SELECT last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(q.pool())
        .await
        .unwrap()
}

/// Rows whose `retry_count` is out of range (edited by hand): one `RUNNING`
/// whose lease expires, two `PENDING`, beside an `ok` job. No panic, the
/// `ok` job runs, each such row is set aside with its count as it was.
async fn counts_out_of_range_are_set_aside(q: JobQueue) {
    let logs = testkit::capture::capture();
    let expired = q.enqueue("ok, its worker died", s(0)).await.unwrap();
    assert_eq!(q.claim_due(s(0)).await.unwrap().unwrap().id, expired);
    let pending = q.enqueue("ok, due", s(0)).await.unwrap();
    let too_big = q.enqueue("ok, due too", s(0)).await.unwrap();
    let ok = q.enqueue("ok", s(0)).await.unwrap();
    let bad = [
        (expired, -1),
        (pending, -1),
        (too_big, i64::from(u32::MAX) + 1),
    ];
    for (id, n) in bad {
        sqlx::query("UPDATE jobs SET retry_count = $2 WHERE id = $1")
            .bind(id)
            .bind(n)
            .execute(q.pool())
            .await
            .unwrap();
    }

    // the run goes past the expired lease (5 simulated minutes)
    let (worker, runs) = run_until_idle(q).await;

    let ran: Vec<i64> = runs.iter().map(|r| r.job.id).collect();
    assert_eq!(ran, [ok]);
    let q = worker.queue();
    assert_eq!(job(q, ok).await.status, JobStatus::Done);
    for (id, n) in bad {
        let (status, last_error, count): (String, String, i64) =
            sqlx::query_as("SELECT status, last_error, retry_count FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(q.pool())
                .await
                .unwrap();
        assert_eq!((status.as_str(), count), ("FAILED", n), "{last_error}");
        assert!(
            last_error.contains(&format!("retry_count: {n} is out of range")),
            "{last_error}"
        );
        logs.assert_logged(tracing::Level::ERROR, &format!("job {id} cannot be read"));
    }
    assert_eq!(q.next_due_at().await.unwrap(), None);
}

#[tokio::test]
async fn a_retry_count_out_of_range_is_set_aside_and_the_other_jobs_run_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    counts_out_of_range_are_set_aside(JobQueue::open(dir.path().join("jobs.db")).await.unwrap())
        .await;
}

#[tokio::test]
async fn a_retry_count_out_of_range_is_set_aside_and_the_other_jobs_run_on_postgres() {
    let url = testkit::pg::fresh_database("jobs_count_range").await;
    counts_out_of_range_are_set_aside(JobQueue::connect(&url).await.unwrap()).await;
}

/// A `RUNNING` row without a lease (`claimed_until` NULL: set by hand, an
/// operator's `UPDATE jobs SET status = 'RUNNING'`, or another program):
/// no worker holds it and none ever will, so it is set aside (FAILED,
/// `claimed_until` named in `last_error`, an ERROR line) on both backends
/// while the `ok` job runs. On PostgreSQL it was never claimed, never
/// expired, never logged, and the worker said "no job pending or running"
/// beside it: a job lost (SQLite's claim set it aside, as not an integer).
async fn a_running_row_without_a_lease_is_set_aside(q: JobQueue) {
    let logs = testkit::capture::capture();
    let bad: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (payload, status, next_retry_at, claims) VALUES ('ok', 'RUNNING', 0, 1) RETURNING id",
    )
    .fetch_one(q.pool())
    .await
    .unwrap();
    let ok = q.enqueue("ok", s(0)).await.unwrap();

    let (worker, runs) = run_until_idle(q).await;

    let ran: Vec<i64> = runs.iter().map(|r| r.job.id).collect();
    assert_eq!(ran, [ok]);
    let q = worker.queue();
    assert_eq!(job(q, ok).await.status, JobStatus::Done);
    let (status, last_error): (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM jobs WHERE id = $1")
            .bind(bad)
            .fetch_one(q.pool())
            .await
            .unwrap();
    let last_error = last_error.unwrap_or_default();
    assert_eq!(status, "FAILED", "{last_error}");
    assert!(
        last_error.contains("cannot be read") && last_error.contains("claimed_until"),
        "{last_error}"
    );
    logs.assert_logged(tracing::Level::ERROR, &format!("job {bad} cannot be read"));
    assert_eq!(q.next_due_at().await.unwrap(), None);
}

#[tokio::test]
async fn a_running_row_without_a_lease_is_set_aside_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_running_row_without_a_lease_is_set_aside(
        JobQueue::open(dir.path().join("jobs.db")).await.unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_running_row_without_a_lease_is_set_aside_on_postgres() {
    let url = testkit::pg::fresh_database("jobs_no_lease").await;
    a_running_row_without_a_lease_is_set_aside(JobQueue::connect(&url).await.unwrap()).await;
}

/// On SQLite, a time column holding a REAL or text (written by hand): the
/// worker goes on, the `ok` job runs, and the row is set aside, FAILED with
/// the column named in `last_error`.
#[tokio::test]
async fn a_time_that_is_not_an_integer_is_set_aside_and_the_worker_goes_on() {
    for (column, insert) in [
        // due later (5 simulated seconds), as a REAL
        (
            "next_retry_at",
            "INSERT INTO jobs (payload, next_retry_at) VALUES ('ok', 5000.5) RETURNING id",
        ),
        // text: never <= a number, the last row waiting
        (
            "next_retry_at",
            "INSERT INTO jobs (payload, next_retry_at) VALUES ('ok', 'soon') RETURNING id",
        ),
        (
            "claimed_until",
            "INSERT INTO jobs (payload, status, next_retry_at, claimed_by, claimed_until, claims)
             VALUES ('ok', 'RUNNING', 0, 'gone', 'later', 1) RETURNING id",
        ),
    ] {
        let logs = testkit::capture::capture();
        let dir = tempfile::tempdir().unwrap();
        let q = JobQueue::open(dir.path().join("jobs.db")).await.unwrap();
        let bad: i64 = sqlx::query_scalar(insert)
            .fetch_one(q.pool())
            .await
            .unwrap();
        let ok = q.enqueue("ok", s(0)).await.unwrap();

        let (worker, runs) = run_until_idle(q).await;

        let ran: Vec<i64> = runs.iter().map(|r| r.job.id).collect();
        assert_eq!(ran, [ok], "{insert}");
        let q = worker.queue();
        assert_eq!(job(q, ok).await.status, JobStatus::Done);
        let (status, last_error): (String, String) =
            sqlx::query_as("SELECT status, last_error FROM jobs WHERE id = $1")
                .bind(bad)
                .fetch_one(q.pool())
                .await
                .unwrap();
        assert_eq!(status, "FAILED", "{last_error}");
        assert!(
            last_error.contains("cannot be read") && last_error.contains(column),
            "{last_error}"
        );
        logs.assert_logged(tracing::Level::ERROR, &format!("job {bad} cannot be read"));
        assert_eq!(q.next_due_at().await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_job_claimed_u32_max_times_is_claimed_again_not_set_aside() {
    let q = JobQueue::open_in_memory().await.unwrap();
    let id = q.enqueue("x", s(0)).await.unwrap();
    sqlx::query("UPDATE jobs SET claims = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::from(u32::MAX))
        .execute(q.pool())
        .await
        .unwrap();
    let running = q.claim_due(s(0)).await.unwrap().unwrap();
    assert_eq!((running.id, running.claims), (id, 0));
    q.complete(&running, s(1)).await.unwrap();
    assert_eq!(job(&q, id).await.status, JobStatus::Done);
}

#[tokio::test]
async fn failing_a_job_at_the_largest_retry_count_does_not_overflow() {
    let q = JobQueue::open_in_memory().await.unwrap();
    q.enqueue("x", s(0)).await.unwrap();
    let mut running = q.claim_due(s(0)).await.unwrap().unwrap();
    running.retry_count = u32::MAX; // a Job built by hand
    let out = q.fail(&running, &refused(), s(1)).await.unwrap();
    assert_eq!(out, failed(StopReason::Attempts, u32::MAX));
}

#[tokio::test]
async fn a_handler_that_panics_fails_its_attempt_and_the_worker_goes_on() {
    let clock = ScaledClock::minute_every(MINUTE);
    let q = JobQueue::open_in_memory().await.unwrap();
    let boom = q.enqueue("boom", clock.now()).await.unwrap();
    let at_once = q.enqueue("boom at once", clock.now()).await.unwrap();
    let ok = q.enqueue("ok", clock.now()).await.unwrap();
    let mut worker = Worker::start("w1", q, clock).await.unwrap();
    let runs = worker
        .run(None, |job: Job| {
            // a panic in the call itself, and one in the future it returns
            if job.payload == "boom at once" {
                panic!("boom at once");
            }
            async move {
                if job.payload == "boom" {
                    panic!("boom");
                }
                Ok::<(), io::Error>(())
            }
        })
        .await
        .unwrap();

    let q = worker.queue();
    assert_eq!(job(q, ok).await.status, JobStatus::Done);
    for (id, message) in [(boom, "boom"), (at_once, "boom at once")] {
        // a bug, but maybe one that a retry gets past (an unwrap on a
        // network error): Unknown, which presets::JOB retries up to its
        // 4 attempts
        let last_error =
            assert_failed_for_good(q, id, 3, job(q, id).await.finished_at.unwrap()).await;
        assert!(
            last_error.starts_with(&format!(
                "Unknown: the handler panicked: {message} (gave up after 4 attempts"
            )),
            "{last_error}"
        );
        assert_eq!(runs.iter().filter(|r| r.job.id == id).count(), 4);
    }
    assert_eq!(runs.len(), 4 + 4 + 1);
}

/// `recorded_by` names the worker that recorded each outcome: a success, a
/// failed run (retried, or failed for good), a run lost to an expired lease
/// and rows set aside (the worker whose claim found them).
#[tokio::test]
async fn recorded_by_names_the_worker_that_recorded_each_outcome() {
    let w1 = JobQueue::open_in_memory()
        .await
        .unwrap()
        .with_lease(s(10))
        .with_worker("w1");
    let w2 = w1.clone().with_worker("w2");
    let mut ids = Vec::new();
    for payload in ["done", "retried", "failed", "lost"] {
        ids.push(w1.enqueue(payload, s(0)).await.unwrap());
    }
    let [done, retried, failed, lost] = ids[..] else {
        unreachable!()
    };
    let j = w1.claim_due(s(0)).await.unwrap().unwrap();
    w1.complete(&j, s(1)).await.unwrap();
    let j = w1.claim_due(s(0)).await.unwrap().unwrap();
    w1.fail(&j, &refused(), s(1)).await.unwrap();
    let j = w1.claim_due(s(0)).await.unwrap().unwrap();
    w1.fail(&j, &invalid(), s(1)).await.unwrap();
    assert_eq!(w1.claim_due(s(0)).await.unwrap().unwrap().id, lost);
    // rows that cannot be read: a count out of range, a time that is a REAL
    let bad_count = w1.enqueue("bad count", s(0)).await.unwrap();
    let bad_time = w1.enqueue("bad time", s(0)).await.unwrap();
    sqlx::query("UPDATE jobs SET retry_count = -1 WHERE id = $1")
        .bind(bad_count)
        .execute(w1.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET next_retry_at = 1.5 WHERE id = $1")
        .bind(bad_time)
        .execute(w1.pool())
        .await
        .unwrap();
    // w2, at the lease's end (before the retry is due): counts the lost
    // run, sets both rows aside
    assert!(w2.claim_due(s(10)).await.unwrap().is_none());

    for (id, by) in [
        (done, "w1"),
        (retried, "w1"),
        (failed, "w1"),
        (lost, "w2"),
        (bad_count, "w2"),
        (bad_time, "w2"),
    ] {
        let (status, recorded_by): (String, Option<String>) =
            sqlx::query_as("SELECT status, recorded_by FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(w1.pool())
                .await
                .unwrap();
        assert_eq!(recorded_by.as_deref(), Some(by), "job {id}, {status}");
    }
    assert_eq!(job(&w1, done).await.recorded_by.as_deref(), Some("w1"));
}

/// A table made before `recorded_by` existed (its columns as they were
/// then), with a job in it: connecting adds the column, the job reads with
/// no `recorded_by`, and its outcome names its worker. Connecting again
/// changes nothing.
/// A `jobs` table as it was before `recorded_by`, with one job, at `old_url`.
async fn make_table_without_recorded_by(old_url: &str, id_column: &str) {
    sqlx::any::install_default_drivers();
    let mut old = sqlx::AnyConnection::connect(old_url).await.unwrap();
    sqlx::query(&format!(
        "CREATE TABLE jobs (
            id            {id_column},
            payload       TEXT   NOT NULL,
            status        TEXT   NOT NULL DEFAULT 'PENDING',
            retry_count   BIGINT NOT NULL DEFAULT 0,
            next_retry_at BIGINT NOT NULL,
            claimed_by    TEXT,
            claimed_until BIGINT,
            claims        BIGINT NOT NULL DEFAULT 0,
            last_error    TEXT,
            finished_at   BIGINT
        )"
    ))
    .execute(&mut old)
    .await
    .unwrap();
    sqlx::query("INSERT INTO jobs (payload, next_retry_at) VALUES ('made before', 0)")
        .execute(&mut old)
        .await
        .unwrap();
    old.close().await.unwrap();
}

async fn a_table_without_recorded_by_gets_the_column(url: &str, old_url: &str, id_column: &str) {
    make_table_without_recorded_by(old_url, id_column).await;
    let q = JobQueue::connect(url).await.unwrap().with_worker("w");
    let j = q.claim_due(s(0)).await.unwrap().unwrap();
    assert_eq!(
        (j.payload.as_str(), j.recorded_by.as_deref()),
        ("made before", None)
    );
    q.complete(&j, s(1)).await.unwrap();
    let q = JobQueue::connect(url).await.unwrap();
    assert_eq!(job(&q, j.id).await.recorded_by.as_deref(), Some("w"));
}

#[tokio::test]
async fn a_table_without_recorded_by_gets_the_column_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("jobs.db").display());
    let old_url = format!("{url}?mode=rwc");
    a_table_without_recorded_by_gets_the_column(
        &url,
        &old_url,
        "INTEGER PRIMARY KEY AUTOINCREMENT",
    )
    .await;
}

/// Workers that start together against a table made before `recorded_by`
/// all connect: on SQLite (WAL), the ones whose transaction read the table
/// before another added the column failed their own `ALTER TABLE` with
/// "database is locked" (a snapshot that cannot become a writer), and a
/// worker that cannot connect exits. Each round, four at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_connecting_at_once_to_a_table_without_recorded_by_all_connect() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("jobs.db").display());
        make_table_without_recorded_by(
            &format!("{url}?mode=rwc"),
            "INTEGER PRIMARY KEY AUTOINCREMENT",
        )
        .await;
        let mut wal = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut wal)
            .await
            .unwrap();
        wal.close().await.unwrap();
        let connects: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { JobQueue::connect(&url).await })
            })
            .collect();
        for connect in connects {
            let q = connect
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(q.all().await.unwrap().len(), 1, "round {round}");
        }
    }
}

#[tokio::test]
async fn a_table_without_recorded_by_gets_the_column_on_postgres() {
    let url = testkit::pg::fresh_database("jobs_recorded_by").await;
    let id_column = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
    a_table_without_recorded_by_gets_the_column(&url, &url, id_column).await;
}
