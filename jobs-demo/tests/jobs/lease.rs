//! Leases: a run never outlives its claim's lease, a lost run counts as a
//! failed attempt, and a lease of any length is safe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use retry_jobs_demo::{JobQueue, JobStatus, ScaledClock, Worker, fmt_time};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Counts the runs of each job going on now, and the most seen at once.
#[derive(Default)]
struct Running {
    now: Mutex<HashMap<i64, usize>>,
    most: AtomicUsize,
}

/// One run of a job: leaves `Running` when dropped, also when the worker
/// stops the run at the end of its lease.
struct InRun(Arc<Running>, i64);

impl InRun {
    fn enter(running: &Arc<Running>, id: i64) -> InRun {
        let mut now = running.now.lock().unwrap();
        let n = now.entry(id).or_default();
        *n += 1;
        running.most.fetch_max(*n, Ordering::SeqCst);
        InRun(running.clone(), id)
    }
}

impl Drop for InRun {
    fn drop(&mut self) {
        *self.0.now.lock().unwrap().get_mut(&self.1).unwrap() -= 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_outlives_its_lease_is_stopped_and_never_runs_twice_at_once() {
    // one simulated minute in 40 ms; a lease of 60 simulated seconds (40 ms)
    let clock = ScaledClock::minute_every(Duration::from_millis(40));
    let dir = tempfile::tempdir().unwrap();
    let q = JobQueue::open(dir.path().join("jobs.db"))
        .await
        .unwrap()
        .with_lease(s(60));
    let stuck = q.enqueue("always stuck", clock.now()).await.unwrap();
    let once = q.enqueue("stuck once", clock.now()).await.unwrap();
    let running = Arc::new(Running::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = |running: Arc<Running>, runs: Arc<AtomicUsize>| {
        move |job: retry_jobs_demo::Job| {
            let (running, runs) = (running.clone(), runs.clone());
            async move {
                let _in = InRun::enter(&running, job.id);
                runs.fetch_add(1, Ordering::SeqCst);
                if job.payload == "always stuck" || job.retry_count == 0 {
                    // 10 simulated minutes: far past the lease
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
                Ok::<(), std::io::Error>(())
            }
        }
    };
    let mut w1 = Worker::start("w1", q.clone(), clock).await.unwrap();
    let mut w2 = Worker::start("w2", q.clone(), clock).await.unwrap();
    // a third worker is free when a lease ends, to claim the job again
    let mut w3 = Worker::start("w3", q.clone(), clock).await.unwrap();
    let all = async {
        tokio::join!(
            w1.run(None, handler(running.clone(), runs.clone())),
            w2.run(None, handler(running.clone(), runs.clone())),
            w3.run(None, handler(running.clone(), runs.clone())),
        )
    };
    // presets::JOB: 4 attempts, waits of 30s + 120s + 480s (+25%): ~0.6 s real
    let finished = tokio::time::timeout(Duration::from_secs(20), all).await;
    assert_eq!(
        running.most.load(Ordering::SeqCst),
        1,
        "a job ran twice at once"
    );
    let (r1, r2, r3) = finished.expect("the workers never finished: the job loops forever");
    r1.unwrap();
    r2.unwrap();
    r3.unwrap();
    let stuck = q.get(stuck).await.unwrap().unwrap();
    assert_eq!((stuck.status, stuck.retry_count), (JobStatus::Failed, 3));
    assert!(
        stuck.last_error.as_deref().unwrap().contains("lease"),
        "{:?}",
        stuck.last_error
    );
    let once = q.get(once).await.unwrap().unwrap();
    assert_eq!((once.status, once.retry_count), (JobStatus::Done, 1));
    assert_eq!(runs.load(Ordering::SeqCst), 4 + 2);
}

#[tokio::test]
async fn a_job_whose_lease_keeps_expiring_ends_failed_after_the_policys_attempts() {
    let q = JobQueue::open_in_memory().await.unwrap().with_lease(s(60));
    let id = q.enqueue("kills its worker", s(0)).await.unwrap();
    let mut now = s(0);
    let mut claims = 0;
    let mut lost_at = Vec::new();
    // each claim's worker dies: nobody completes or fails the job
    while let Some(at) = q.next_due_at().await.unwrap() {
        assert!(claims < 100, "the job is claimed forever");
        now = now.max(at);
        if let Some(job) = q.claim_due(now).await.unwrap() {
            assert_eq!((job.id, job.retry_count), (id, claims));
            claims += 1;
            lost_at.push(job.claimed_until.unwrap());
        }
    }
    let job = q.get(id).await.unwrap().unwrap();
    // presets::JOB: 4 attempts, so 3 retries, then FAILED at the 4th lease's end
    assert_eq!(
        (job.status, job.retry_count, job.claims, job.finished_at),
        (JobStatus::Failed, 3, 4, lost_at.last().copied())
    );
    assert!(job.last_error.unwrap().contains("lease"));
}

/// A run lost to an expired lease fails its attempt as a run that returned
/// an error does, and is logged as `Worker::run_one` logs one: the INFO
/// line of the job's context, then the policy's reported line, WARN with
/// the retry, ERROR when the job fails for good.
#[tokio::test]
async fn a_run_lost_to_an_expired_lease_is_logged_as_a_failed_attempt() {
    let logs = testkit::capture::capture();
    let q = JobQueue::open_in_memory().await.unwrap().with_lease(s(60));
    let id = q.enqueue("kills its worker", s(0)).await.unwrap();
    let lost = "the run outlived its claim's lease";
    let mut expected = Vec::new();
    let mut reported = Vec::new();
    let mut due = s(0);
    for attempt in 1..=4 {
        // claimed by a worker that dies with it
        let until = q
            .claim_due(due)
            .await
            .unwrap()
            .unwrap()
            .claimed_until
            .unwrap();
        // the next claim, at the lease's end, counts the lost run
        assert!(q.claim_due(until).await.unwrap().is_none());
        let job = q.get(id).await.unwrap().unwrap();
        let t = fmt_time(until);
        expected.push(match job.status {
            JobStatus::Pending => {
                due = job.next_retry_at;
                let wait = due - until;
                // (as the line shows it: a whole number of minutes in minutes)
                let shown = match wait.as_secs() {
                    secs if wait.subsec_nanos() == 0 && secs >= 60 && secs % 60 == 0 => {
                        format!("{}m", secs / 60)
                    }
                    _ => format!("{wait:?}"),
                };
                reported.push((
                    format!(
                        "WARN retrying job after attempt {attempt}/4 failed; next attempt in {shown}"
                    ),
                    Some(wait.as_millis().to_string()),
                ));
                format!(
                    "INFO [{t}] job {id} \"kills its worker\": attempt {attempt}/4 failed (Timeout); retry {attempt} in {}s, at {}",
                    wait.as_secs(),
                    fmt_time(due)
                )
            }
            status => {
                assert_eq!((status, attempt), (JobStatus::Failed, 4));
                reported.push(("ERROR job failed after 4 attempts".to_owned(), None));
                format!(
                    "INFO [{t}] job {id} \"kills its worker\": attempt 4/4 failed (Timeout); FAILED for good (attempts exhausted)"
                )
            }
        });
        let context: Vec<String> = logs
            .at(tracing::Level::INFO)
            .into_iter()
            .filter(|l| l.contains(": attempt "))
            .collect();
        assert_eq!(context, expected);
        let failures = failure_lines(&logs);
        assert_eq!(failures.len(), reported.len(), "{failures:#?}");
        for (line, (message, wait_ms)) in failures.iter().zip(&reported) {
            assert!(line.starts_with(&format!("{message} | ")), "{line}");
            let field = |key| testkit::capture::field(line, key);
            assert_eq!(field("error"), Some(lost), "{line}");
            assert_eq!(field("error_kind"), Some("Timeout"), "{line}");
            assert_eq!(field("wait_ms"), wait_ms.as_deref(), "{line}");
        }
    }
}

/// The WARN and ERROR lines logged so far.
fn failure_lines(logs: &testkit::capture::Captured) -> Vec<String> {
    logs.lines()
        .into_iter()
        .filter(|l| l.starts_with("WARN ") || l.starts_with("ERROR "))
        .collect()
}

/// A run that overruns its lease on its last attempt, while another
/// worker's claim finds the lease expired first: both would write the same
/// FAILED row (the lease's end, the same error), but the run is logged
/// once, by the worker that recorded it; the run's own worker says another
/// worker recorded it.
#[tokio::test]
async fn a_run_that_outlives_its_lease_on_its_last_attempt_is_logged_once() {
    let logs = testkit::capture::capture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let a = JobQueue::open(&path)
        .await
        .unwrap()
        .with_lease(s(60))
        .with_worker("a");
    let b = JobQueue::open(&path)
        .await
        .unwrap()
        .with_lease(s(60))
        .with_worker("b");
    let clock = ScaledClock::minute_every(Duration::from_millis(40));
    let id = a.enqueue("stuck", clock.now()).await.unwrap();
    // its last attempt
    sqlx::query("UPDATE jobs SET retry_count = 3")
        .execute(a.pool())
        .await
        .unwrap();
    let mut worker = Worker::start("a", a, clock).await.unwrap();
    let mut handler = |job: retry_jobs_demo::Job| {
        let b = b.clone();
        async move {
            // another worker, whose clock has passed the lease's end
            assert!(
                b.claim_due(job.claimed_until.unwrap())
                    .await
                    .unwrap()
                    .is_none()
            );
            std::future::pending::<()>().await;
            Ok::<(), std::io::Error>(())
        }
    };
    worker.run_one(&mut handler).await.unwrap().unwrap();
    let job = worker.queue().get(id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    let lines = failure_lines(&logs);
    let errors = lines.iter().filter(|l| l.starts_with("ERROR ")).count();
    assert_eq!(errors, 1, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("another worker recorded that")),
        "{lines:#?}"
    );
}

/// Two workers' claims find the same expired leases at once (each job on
/// its last attempt): each lost run is logged once, by whichever recorded
/// it.
#[tokio::test]
async fn two_claims_finding_the_same_expired_leases_log_each_lost_run_once() {
    let logs = testkit::capture::capture();
    let url = testkit::pg::fresh_database("jobs_two_expire").await;
    let a = JobQueue::connect(&url)
        .await
        .unwrap()
        .with_lease(s(60))
        .with_worker("a");
    let b = JobQueue::connect(&url)
        .await
        .unwrap()
        .with_lease(s(60))
        .with_worker("b");
    for i in 0..20 {
        a.enqueue(&format!("j{i}"), s(0)).await.unwrap();
    }
    sqlx::query(
        "UPDATE jobs SET retry_count = 3, status = 'RUNNING', claimed_by = 'dead',
            claimed_until = 1000, claims = 1",
    )
    .execute(a.pool())
    .await
    .unwrap();
    let (ra, rb) = tokio::join!(a.claim_due(s(100)), b.claim_due(s(100)));
    assert!(ra.unwrap().is_none() && rb.unwrap().is_none());
    assert_eq!(a.count(JobStatus::Failed).await.unwrap(), 20);
    let lines = failure_lines(&logs);
    assert_eq!(lines.len(), 20, "{lines:#?}");
}

#[tokio::test]
async fn a_lease_of_any_length_claims_without_overflow() {
    let q = JobQueue::open_in_memory()
        .await
        .unwrap()
        .with_lease(Duration::MAX);
    assert!(q.claim_due(s(1)).await.unwrap().is_none());
    q.enqueue("a", s(0)).await.unwrap();
    let job = q.claim_due(s(1)).await.unwrap().unwrap();
    assert_eq!(
        job.claimed_until,
        Some(Duration::from_millis(i64::MAX as u64))
    );
    assert!(q.claim_due(s(1_000_000_000)).await.unwrap().is_none());
}
