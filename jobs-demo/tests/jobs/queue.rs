//! The background-job queue: the table's state after each step, with the
//! schedule computed by `presets::JOB.decide(retry_count, &error)`.
//!
//! Queue-level tests pass explicit times; worker-level tests run on tokio's
//! paused clock (no sockets involved), so minutes of schedule take no time.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use retry_jobs_demo::{Job, JobOutcome, JobQueue, JobStatus, ScaledClock, Worker};
use retry_runtime::{StopReason, presets};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn refused() -> io::Error {
    io::Error::from(io::ErrorKind::ConnectionRefused)
}

fn invalid() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "unsupported format")
}

fn job(q: &JobQueue, id: i64) -> Job {
    q.get(id).unwrap().unwrap()
}

/// `fail`'s answer for a job that failed for good.
fn failed(reason: StopReason, attempts: u32) -> JobOutcome {
    JobOutcome::Failed { reason, attempts }
}

/// Job `id` is FAILED, finished at `at` after `retries` retries; its last error.
fn assert_failed_for_good(q: &JobQueue, id: i64, retries: u32, at: Duration) -> String {
    let j = job(q, id);
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

#[test]
fn a_new_job_is_pending_and_due_at_once() {
    let q = JobQueue::open_in_memory().unwrap();
    let id = q.enqueue("resize 7", s(10)).unwrap();
    let j = job(&q, id);
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
    assert_eq!(q.next_due_at().unwrap(), Some(s(10)));
}

#[test]
fn due_job_selection() {
    let q = JobQueue::open_in_memory().unwrap();
    let later = q.enqueue("later", s(100)).unwrap();
    let first = q.enqueue("first", s(5)).unwrap();
    let tie_a = q.enqueue("tie a", s(50)).unwrap();
    let tie_b = q.enqueue("tie b", s(50)).unwrap();

    // nothing is due before its time
    assert!(q.claim_due(s(4)).unwrap().is_none());
    // the one due the longest comes first, ties by id
    let order: Vec<i64> =
        std::iter::from_fn(|| q.claim_due(s(60)).unwrap().map(|j| j.id)).collect();
    assert_eq!(order, [first, tie_a, tie_b]);
    // claimed (RUNNING) jobs are not due again; the future one waits
    assert_eq!(q.count(JobStatus::Running).unwrap(), 3);
    assert_eq!(q.next_due_at().unwrap(), Some(s(100)));
    let j = q.claim_due(s(100)).unwrap().unwrap();
    assert_eq!((j.id, j.status), (later, JobStatus::Running));

    // DONE and FAILED jobs are never due
    q.complete(&j, s(100)).unwrap();
    let running = job(&q, first);
    q.fail(&running, &invalid(), s(100)).unwrap();
    assert!(q.claim_due(s(10_000)).unwrap().is_none());
}

#[test]
fn transient_failures_walk_the_job_schedule_then_fail_for_good() {
    let q = JobQueue::open_in_memory().unwrap();
    let id = q.enqueue("call partner api", s(0)).unwrap();
    let mut now = s(0);

    for (retry, base) in [(1, 30), (2, 120), (3, 480)] {
        let running = q.claim_due(now).unwrap().unwrap();
        assert_eq!(running.retry_count, retry - 1);
        let out = q.fail(&running, &refused(), now).unwrap();
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

        let j = job(&q, id);
        assert_eq!((j.status, j.retry_count), (JobStatus::Pending, retry));
        assert_eq!(j.next_retry_at, now + wait);
        assert!(
            j.last_error.as_deref().unwrap().starts_with("Connect: "),
            "{j:?}"
        );
        // not due a moment before its time
        assert!(
            q.claim_due(next_retry_at - Duration::from_millis(1))
                .unwrap()
                .is_none()
        );
        now = next_retry_at;
    }

    // the 4th failure exhausts the preset's 4 attempts
    let running = q.claim_due(now).unwrap().unwrap();
    let out = q.fail(&running, &refused(), now).unwrap();
    assert_eq!(out, failed(StopReason::Attempts, 4));
    let last = assert_failed_for_good(&q, id, 3, now);
    assert!(last.contains("gave up after 4 attempts"), "{last}");
    assert_eq!(q.next_due_at().unwrap(), None);
}

#[test]
fn a_permanent_error_fails_at_once() {
    let q = JobQueue::open_in_memory().unwrap();
    let id = q.enqueue("import bad.csv", s(0)).unwrap();
    let running = q.claim_due(s(1)).unwrap().unwrap();

    let out = q.fail(&running, &invalid(), s(2)).unwrap();

    assert_eq!(out, failed(StopReason::Permanent, 1));
    let last = assert_failed_for_good(&q, id, 0, s(2));
    assert!(last.starts_with("Permanent: unsupported format"), "{last}");
}

#[test]
fn a_permanent_error_after_retries_fails_at_once_too() {
    let q = JobQueue::open_in_memory().unwrap();
    let id = q.enqueue("x", s(0)).unwrap();
    let running = q.claim_due(s(0)).unwrap().unwrap();
    let JobOutcome::Retry { next_retry_at, .. } = q.fail(&running, &refused(), s(0)).unwrap()
    else {
        panic!()
    };
    let running = q.claim_due(next_retry_at).unwrap().unwrap();
    let out = q.fail(&running, &invalid(), next_retry_at).unwrap();
    assert_eq!(
        out,
        JobOutcome::Failed {
            reason: StopReason::Permanent,
            attempts: 2
        }
    );
    assert_eq!(job(&q, id).retry_count, 1);
}

#[test]
fn the_job_preset_retries_unknown_errors() {
    let q = JobQueue::open_in_memory().unwrap();
    q.enqueue("x", s(0)).unwrap();
    let running = q.claim_due(s(0)).unwrap().unwrap();
    let odd = io::Error::other("something odd");
    assert!(matches!(
        q.fail(&running, &odd, s(0)).unwrap(),
        JobOutcome::Retry { .. }
    ));
}

#[test]
fn another_policy_can_be_used() {
    let q = JobQueue::open_in_memory()
        .unwrap()
        .with_policy(presets::WEBHOOK);
    q.enqueue("x", s(0)).unwrap();
    let running = q.claim_due(s(0)).unwrap().unwrap();
    let out = q.fail(&running, &refused(), s(0)).unwrap();
    assert_eq!(
        out,
        JobOutcome::Retry {
            retry_count: 1,
            wait: s(1),
            next_retry_at: s(1)
        }
    );
}

#[test]
fn only_a_running_job_can_complete_or_fail() {
    let q = JobQueue::open_in_memory().unwrap();
    let id = q.enqueue("x", s(0)).unwrap();
    let pending = job(&q, id);
    assert!(matches!(
        q.complete(&pending, s(0)),
        Err(rusqlite::Error::QueryReturnedNoRows)
    ));
    assert!(matches!(
        q.fail(&pending, &refused(), s(0)),
        Err(rusqlite::Error::QueryReturnedNoRows)
    ));
    assert_eq!(job(&q, id), pending);

    let running = q.claim_due(s(0)).unwrap().unwrap();
    q.complete(&running, s(1)).unwrap();
    // a second completion (or a late failure) of the same run changes nothing
    assert!(q.complete(&running, s(2)).is_err());
    assert!(q.fail(&running, &refused(), s(2)).is_err());
    let j = job(&q, id);
    assert_eq!((j.status, j.finished_at), (JobStatus::Done, Some(s(1))));
}

#[test]
fn a_restart_resumes_from_the_file_without_losing_or_duplicating_a_job() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");

    let q = JobQueue::open(&path).unwrap();
    let done = q.enqueue("done before", s(0)).unwrap();
    let retrying = q.enqueue("retrying", s(0)).unwrap();
    let crashed = q.enqueue("cut short", s(0)).unwrap();
    let waiting = q.enqueue("not yet due", s(600)).unwrap();
    let j = q.claim_due(s(1)).unwrap().unwrap();
    q.complete(&j, s(1)).unwrap();
    let j = q.claim_due(s(1)).unwrap().unwrap();
    q.fail(&j, &refused(), s(1)).unwrap();
    let before_retrying = job(&q, retrying);
    let j = q.claim_due(s(2)).unwrap().unwrap();
    assert_eq!(j.id, crashed);
    drop(q); // the worker dies with `crashed` RUNNING

    let q = JobQueue::open(&path).unwrap();
    assert_eq!(q.all().unwrap().len(), 4);
    assert_eq!(job(&q, crashed).status, JobStatus::Running);
    assert_eq!(q.recover(s(5)).unwrap(), 1);

    let after = q.all().unwrap();
    let ids: Vec<i64> = after.iter().map(|j| j.id).collect();
    assert_eq!(ids, [done, retrying, crashed, waiting]);
    assert_eq!(job(&q, done).status, JobStatus::Done);
    assert_eq!(job(&q, retrying), before_retrying); // its schedule survived as it was
    let c = job(&q, crashed);
    assert_eq!(
        (c.status, c.retry_count, c.next_retry_at),
        (JobStatus::Pending, 0, s(5))
    );
    assert_eq!(job(&q, waiting).next_retry_at, s(600));

    // run everything to the end: each job runs to DONE exactly once
    let mut done_runs: HashMap<i64, usize> = HashMap::new();
    let mut now = s(5);
    while let Some(at) = q.next_due_at().unwrap() {
        now = now.max(at);
        while let Some(j) = q.claim_due(now).unwrap() {
            q.complete(&j, now).unwrap();
            *done_runs.entry(j.id).or_default() += 1;
        }
    }
    assert_eq!(
        done_runs,
        HashMap::from([(retrying, 1), (crashed, 1), (waiting, 1)])
    );
    assert_eq!(q.count(JobStatus::Done).unwrap(), 4);
}

/// Runs of each job, with the simulated time each started.
type Log = Arc<Mutex<HashMap<String, Vec<Duration>>>>;

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

#[tokio::test(start_paused = true)]
async fn the_worker_plays_the_whole_schedule_on_a_scaled_clock() {
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let q = JobQueue::open_in_memory().unwrap();
    for payload in ["ok", "flaky:2", "down", "bad"] {
        q.enqueue(payload, clock.now()).unwrap();
    }
    let log = Log::default();
    let mut worker = Worker::start("w1", q, clock).unwrap();

    let runs = worker.run(None, handler(clock, log.clone())).await.unwrap();

    let log = log.lock().unwrap();
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
            gap >= s(base) && gap <= s(base) * 5 / 4 + s(1),
            "{gap:?} after {base}s"
        );
    }
    let q = worker.queue();
    let by_payload: HashMap<String, (JobStatus, u32)> = q
        .all()
        .unwrap()
        .into_iter()
        .map(|j| (j.payload, (j.status, j.retry_count)))
        .collect();
    assert_eq!(by_payload["ok"], (JobStatus::Done, 0));
    assert_eq!(by_payload["flaky:2"], (JobStatus::Done, 2));
    assert_eq!(by_payload["down"], (JobStatus::Failed, 3));
    assert_eq!(by_payload["bad"], (JobStatus::Failed, 0));
    assert_eq!(q.next_due_at().unwrap(), None);
    // 30s + 120s + 480s of simulated waits, at most 25% more
    assert!(
        clock.now() >= s(630) && clock.now() <= s(800),
        "{:?}",
        clock.now()
    );
}

#[tokio::test(start_paused = true)]
async fn a_worker_restarted_mid_schedule_resumes_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let clock = ScaledClock::minute_every(Duration::from_millis(100));
    let log = Log::default();

    let q = JobQueue::open(&path).unwrap();
    for payload in ["ok", "flaky:1", "flaky:2", "down", "bad"] {
        q.enqueue(payload, clock.now()).unwrap();
    }
    let mut first = Worker::start("w1", q, clock).unwrap();
    first
        .run(Some(s(200)), handler(clock, log.clone()))
        .await
        .unwrap();
    assert!(clock.now() >= s(200));
    // a late job arrives; the worker claims it and dies before running it
    let late = first.queue().enqueue("ok late", clock.now()).unwrap();
    assert_eq!(
        first.queue().claim_due(clock.now()).unwrap().unwrap().id,
        late
    );
    let mid_way = first.queue().all().unwrap();
    drop(first);

    // at T+200s: ok and flaky:1 done, flaky:2 done (after 30s, then 120s), and
    // down has run 3 times (at 0, ~30s, ~150s), its 4th run ~480s later
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

    let mut second = Worker::start("w2", JobQueue::open(&path).unwrap(), clock).unwrap();
    second.run(None, handler(clock, log.clone())).await.unwrap();

    let log = log.lock().unwrap();
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
    let jobs = second.queue().all().unwrap();
    assert_eq!(jobs.len(), 6);
    assert_eq!(state(&jobs, "down"), (JobStatus::Failed, 3));
    assert_eq!(state(&jobs, "ok late"), (JobStatus::Done, 0));
    assert_eq!(second.queue().count(JobStatus::Pending).unwrap(), 0);
    assert_eq!(second.queue().count(JobStatus::Running).unwrap(), 0);
}
