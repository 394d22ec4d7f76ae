//! A fleet of worker processes (`src/bin/jobs-worker.rs`) on one PostgreSQL
//! queue (`testkit::pg`: `DATABASE_URL`, or a throwaway cluster started for
//! this test).
//!
//! 4 workers, 500 jobs with scripted transient and permanent failures, one
//! worker killed with SIGKILL in the middle of a job and started again:
//! every job ends as its script says, no job runs on two workers at once,
//! the retries follow `presets::JOB` (30s, 120s, 480s, each plus 0..25%) on a
//! clock 3000 times faster than real time, and no job is lost. Then the
//! throughput with 1, 2 and 4 workers: every job done once, each worker
//! doing some (the jobs/s are printed, not judged). And a worker given a bad
//! `DATABASE_URL` says so in one line and exits with code 1.
//!
//! Each worker's log (its stderr) goes to a file of its own, read once the
//! fleet is done: every failed run of the first test has its line there.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use retry_jobs_demo::{JobQueue, JobStatus, fmt_time};
use sqlx::Row;

const WORKER: &str = env!("CARGO_BIN_EXE_jobs-worker");
/// The simulated clock runs 3000 times faster: 30s take 10 ms, 480s 160 ms.
const SCALE: u32 = 3000;
/// A claim's lease: 40 simulated minutes (800 ms), far above any run here.
const LEASE_SECS: u64 = 2400;
/// How long a `slow:` job takes, in real milliseconds (600 simulated seconds).
const SLOW_MS: u64 = 200;

/// The runs the workers record (jobs-worker writes it when the table exists).
const RUNS: &str = "CREATE TABLE runs (
    job_id        BIGINT NOT NULL,
    claims        BIGINT NOT NULL,
    attempt       BIGINT NOT NULL,
    worker        TEXT   NOT NULL,
    pid           BIGINT NOT NULL,
    started_at    BIGINT NOT NULL,
    lease_until   BIGINT,
    ended_at      BIGINT,
    outcome       TEXT,
    wait_ms       BIGINT,
    next_retry_at BIGINT,
    PRIMARY KEY (job_id, claims)
)";

/// Job `i`'s script, and the (status, retry_count) it must end with.
fn script(i: usize) -> (String, JobStatus, u32) {
    let (script, status, retries) = match i % 10 {
        0..=3 => ("ok", JobStatus::Done, 0),
        4 | 5 => ("transient:1", JobStatus::Done, 1),
        6 => ("transient:2", JobStatus::Done, 2),
        7 => ("transient:3", JobStatus::Done, 3),
        8 => ("permanent", JobStatus::Failed, 0),
        _ => ("down", JobStatus::Failed, 3),
    };
    // every 25th job runs for a while: the kill happens in one of those
    let script = match i % 25 {
        0 => format!("slow:{SLOW_MS}/{script}"),
        _ => script.to_owned(),
    };
    (script, status, retries)
}

struct Fleet {
    url: String,
    epoch_ms: u64,
    /// The workers' logs: `NAME.log`, appended to by a restarted worker.
    logs: tempfile::TempDir,
}

impl Fleet {
    fn new(url: String) -> Fleet {
        Fleet {
            url,
            epoch_ms: now_ms(),
            logs: tempfile::tempdir().unwrap(),
        }
    }

    fn spawn(&self, name: &str) -> Child {
        // a file, not a pipe: nobody reads the log while the worker runs,
        // and a full pipe would stop it
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.path().join(format!("{name}.log")))
            .unwrap();
        Command::new(WORKER)
            .arg(name)
            .env("DATABASE_URL", &self.url)
            .env("JOBS_EPOCH_MS", self.epoch_ms.to_string())
            .env("JOBS_SCALE", SCALE.to_string())
            .env("JOBS_LEASE_SECS", LEASE_SECS.to_string())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {WORKER}: {e}"))
    }

    /// The lines every worker logged so far.
    fn log_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for entry in std::fs::read_dir(self.logs.path()).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            lines.extend(text.lines().map(str::to_owned));
        }
        lines
    }
}

/// Worker processes, each with its name, killed and reaped when dropped: a
/// failed assertion or a worker that fails leaves none running.
#[derive(Default)]
struct Workers(Vec<(String, Child)>);

impl Drop for Workers {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            // it may have exited already: then there is nothing to kill
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wait for each worker to exit by itself (60s at most); their output.
fn wait_all(mut workers: Workers) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut outputs = Vec::new();
    for (_, child) in &mut workers.0 {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
                assert!(status.success(), "a worker failed ({status}): {out}");
                outputs.push(out.trim().to_owned());
                break;
            }
            assert!(
                Instant::now() <= deadline,
                "a worker did not finish within 60s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    outputs
}

/// A time on the fleet's clock, from the milliseconds the tables hold.
fn ms(t: i64) -> Duration {
    Duration::from_millis(u64::try_from(t).unwrap())
}

/// The start of the policy's line for a retry after attempt `attempt`.
fn retrying(attempt: i64) -> String {
    format!("retrying job after attempt {attempt}/4 failed; next attempt in ")
}

/// Panics unless `log` holds exactly one line at `level` in job `id`'s
/// span whose message starts with `message`: the policy's report of a
/// failed run, which has the error.
fn assert_reported(log: &[String], level: &str, id: i64, message: &str) {
    assert_logged(log, level, &format!("job{{id={id}}}: {message}"), " error=");
}

/// Panics unless `log` holds exactly one line at `level` whose message
/// starts with `start` and contains `then` after that.
fn assert_logged(log: &[String], level: &str, start: &str, then: &str) {
    let found = log
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix(level)?.strip_prefix(' '))
        .filter(|m| {
            m.strip_prefix(start)
                .is_some_and(|rest| rest.contains(then))
        })
        .count();
    assert_eq!(
        found,
        1,
        "expected one {level} line \"{start}...{then}...\" in the workers' logs ({} lines{})",
        log.len(),
        match log.len() {
            0..=40 => format!(":\n{}", log.join("\n")),
            _ => String::new(),
        }
    );
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A fresh database with its queue and `jobs` (scripts) enqueued, due at once.
async fn queue_with(scripts: impl Iterator<Item = String>) -> (JobQueue, String) {
    let url = testkit::pg::fresh_database("fleet").await;
    let queue = JobQueue::connect(&url).await.unwrap();
    sqlx::query(RUNS).execute(queue.pool()).await.unwrap();
    for s in scripts {
        queue.enqueue(&s, Duration::ZERO).await.unwrap();
    }
    (queue, url)
}

#[derive(Debug)]
struct Run {
    claims: i64,
    attempt: i64,
    worker: String,
    started_at: i64,
    lease_until: i64,
    ended_at: Option<i64>,
    outcome: Option<String>,
    wait_ms: Option<i64>,
    next_retry_at: Option<i64>,
}

async fn runs(queue: &JobQueue) -> HashMap<i64, Vec<Run>> {
    let rows = sqlx::query(
        "SELECT job_id, claims, attempt, worker, started_at, lease_until, ended_at, outcome, wait_ms, next_retry_at
         FROM runs ORDER BY job_id, started_at, claims",
    )
    .fetch_all(queue.pool())
    .await
    .unwrap();
    let mut by_job: HashMap<i64, Vec<Run>> = HashMap::new();
    for r in rows {
        by_job.entry(r.get(0)).or_default().push(Run {
            claims: r.get(1),
            attempt: r.get(2),
            worker: r.get(3),
            started_at: r.get(4),
            lease_until: r.get(5),
            ended_at: r.get(6),
            outcome: r.get(7),
            wait_ms: r.get(8),
            next_retry_at: r.get(9),
        });
    }
    by_job
}

/// The two tests run one after the other: the throughput is measured alone.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_one_killed_mid_job_every_job_ends_as_scripted() {
    let _alone = ALONE.lock().await;
    const JOBS: usize = 500;
    let (queue, url) = queue_with((0..JOBS).map(|i| script(i).0)).await;
    let fleet = Fleet::new(url);
    let started = Instant::now();
    let mut workers = Workers::default();
    for n in 1..=4 {
        let name = format!("w{n}");
        let child = fleet.spawn(&name);
        workers.0.push((name, child));
    }

    // wait until some worker is in the middle of a slow job, and kill it
    let deadline = Instant::now() + Duration::from_secs(20);
    let (victim, job_id, claims) = loop {
        let row = sqlx::query(
            "SELECT r.worker, r.job_id, r.claims FROM runs r JOIN jobs j ON j.id = r.job_id
             WHERE r.ended_at IS NULL AND j.payload LIKE 'slow:%' ORDER BY r.started_at LIMIT 1",
        )
        .fetch_optional(queue.pool())
        .await
        .unwrap();
        if let Some(row) = row {
            break (
                row.get::<String, _>(0),
                row.get::<i64, _>(1),
                row.get::<i64, _>(2),
            );
        }
        assert!(Instant::now() < deadline, "no worker ever ran a slow job");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let i = workers.0.iter().position(|(n, _)| *n == victim).unwrap();
    let (_, mut child) = workers.0.swap_remove(i);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed = queue.get(job_id).await.unwrap().unwrap();
    assert_eq!(
        (killed.status, killed.claims, killed.claimed_by.as_deref()),
        (
            JobStatus::Running,
            u32::try_from(claims).unwrap(),
            Some(victim.as_str())
        ),
        "the worker was killed mid-job"
    );
    println!(
        "killed {victim} (SIGKILL) while it ran job {job_id} ({:?})",
        killed.payload
    );
    workers.0.push((victim.clone(), fleet.spawn(&victim)));

    let outputs = wait_all(workers);
    let elapsed = started.elapsed();
    for out in &outputs {
        println!("{out}");
    }

    // every job ends as its script says; none is lost or left behind
    let log = fleet.log_lines();
    let jobs = queue.all().await.unwrap();
    assert_eq!(jobs.len(), JOBS);
    let runs = runs(&queue).await;
    let mut total_runs = 0;
    for (i, job) in jobs.iter().enumerate() {
        let (script, status, retries) = script(i);
        assert_eq!(job.payload, script);
        let runs = &runs[&job.id];
        // the killed run counts as a failed attempt: the script then goes on
        // from the next attempt
        let retries = match runs.iter().find(|r| r.outcome.is_none()) {
            Some(killed) => retries.max(u32::try_from(killed.attempt).unwrap()),
            None => retries,
        };
        assert_eq!(
            (job.status, job.retry_count),
            (status, retries),
            "job {} ({script})",
            job.id
        );
        total_runs += runs.len();
        assert_eq!(runs.len(), retries as usize + 1, "runs of job {}", job.id);

        let mut attempt = 1;
        for (k, run) in runs.iter().enumerate() {
            assert_eq!(run.attempt, attempt, "job {}: {run:?}", job.id);
            assert_eq!(
                run.claims,
                k as i64 + 1,
                "job {}: one claim per run",
                job.id
            );
            if let Some(next) = runs.get(k + 1) {
                // never on two workers at once: the next run starts after this
                // one ended, or after its lease expired if its worker died
                let free_at = run.ended_at.unwrap_or(run.lease_until);
                assert!(
                    next.started_at >= free_at,
                    "job {} ran twice at once: {run:?} {next:?}",
                    job.id
                );
                if let Some(due) = run.next_retry_at {
                    assert!(
                        next.started_at >= due,
                        "job {}: ran before its next_retry_at",
                        job.id
                    );
                }
            }
            match run.outcome.as_deref() {
                // the killed run: recorded as started, never ended; once its
                // lease expired it counted as a failed attempt
                None => {
                    assert_eq!((job.id, run.claims, &run.worker), (job_id, claims, &victim));
                    // logged by the worker whose claim found the lease expired
                    let line = format!(
                        "[{}] job {} {:?}: attempt {attempt}/4 failed (Timeout); ",
                        fmt_time(ms(run.lease_until)),
                        job.id,
                        job.payload
                    );
                    assert_logged(&log, "INFO", &line, "");
                    match attempt {
                        4 => assert_reported(&log, "ERROR", job.id, "job failed after 4 attempts"),
                        _ => assert_reported(&log, "WARN", job.id, &retrying(attempt)),
                    }
                    attempt += 1;
                }
                Some("RETRY") => {
                    // presets::JOB: 30s, 120s, 480s, plus 0..25%
                    let base = [30_000, 120_000, 480_000][attempt as usize - 1];
                    let wait = run.wait_ms.unwrap();
                    assert!(
                        (base..=base * 5 / 4).contains(&wait),
                        "job {}: wait {wait} ms after attempt {attempt}",
                        job.id
                    );
                    // scheduled from the moment the run failed, which is
                    // the run's recorded end
                    let failed_at = run.next_retry_at.unwrap() - wait;
                    assert_eq!(Some(failed_at), run.ended_at, "job {}: {run:?}", job.id);
                    assert!(run.started_at <= failed_at, "job {}: {run:?}", job.id);
                    // and its worker said so
                    let line = format!(
                        "[{}] job {} {:?}: attempt {attempt}/4 failed (",
                        fmt_time(ms(failed_at)),
                        job.id,
                        job.payload
                    );
                    let retry = format!(
                        "; retry {attempt} in {}s, at {}",
                        wait / 1000,
                        fmt_time(ms(failed_at + wait))
                    );
                    assert_logged(&log, "INFO", &line, &retry);
                    assert_reported(&log, "WARN", job.id, &retrying(attempt));
                    attempt += 1;
                }
                Some("FAILED") => {
                    assert_eq!(k + 1, runs.len());
                    let line = format!(
                        "[{}] job {} {:?}: attempt {attempt}/4 failed (",
                        fmt_time(ms(run.ended_at.unwrap())),
                        job.id,
                        job.payload
                    );
                    assert_logged(&log, "INFO", &line, "; FAILED for good (");
                    // the attempts spent: ERROR; a permanent error earlier: WARN
                    match attempt {
                        4 => assert_reported(&log, "ERROR", job.id, "job failed after 4 attempts"),
                        n => assert_reported(
                            &log,
                            "WARN",
                            job.id,
                            &format!("job failed with a non-retriable error on attempt {n}"),
                        ),
                    }
                }
                Some("DONE") => assert_eq!(k + 1, runs.len()),
                Some(other) => panic!("job {}: outcome {other}", job.id),
            }
        }
    }
    println!(
        "fleet: {JOBS} jobs, {total_runs} runs by 4 workers (one killed and restarted) in {:.2}s",
        elapsed.as_secs_f64()
    );
}

/// The jobs of the throughput test fall due this long (real time) after
/// the workers start, so that all of them are usually up and waiting when
/// the work begins.
const START_LINE: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_with_1_2_and_4_workers() {
    let _alone = ALONE.lock().await;
    // each job waits 10 ms, as a call to another service would
    const JOBS: usize = 200;
    let mut lines = Vec::new();
    for workers in [1, 2, 4] {
        let (queue, url) = queue_with((0..JOBS).map(|_| "slow:10/ok".to_owned())).await;
        let epoch = Instant::now();
        let fleet = Fleet::new(url);
        // due at the start line, on the fleet's clock (simulated milliseconds)
        let due = START_LINE.saturating_mul(SCALE);
        sqlx::query("UPDATE jobs SET next_retry_at = $1")
            .bind(i64::try_from(due.as_millis()).unwrap())
            .execute(queue.pool())
            .await
            .unwrap();
        let started = epoch + START_LINE;
        let mut children = Workers::default();
        let names: Vec<String> = (1..=workers).map(|n| format!("w{n}")).collect();
        for name in &names {
            let child = fleet.spawn(name);
            children.0.push((name.clone(), child));
        }
        let outputs = wait_all(children);
        let secs = started.elapsed().as_secs_f64();

        // every job done, once, and none lost
        assert_eq!(queue.count(JobStatus::Done).await.unwrap(), JOBS);
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
            .fetch_one(queue.pool())
            .await
            .unwrap();
        assert_eq!(rows, JOBS as i64, "{workers} worker(s): jobs in the table");
        let (runs, jobs_run, done): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(DISTINCT job_id), COUNT(*) FILTER (WHERE outcome = 'DONE') FROM runs",
        )
        .fetch_one(queue.pool())
        .await
        .unwrap();
        assert_eq!(
            (runs, jobs_run, done),
            (JOBS as i64, JOBS as i64, JOBS as i64),
            "{workers} worker(s): one run per job, each done"
        );
        // each worker says how much of the work it did, as recorded (not
        // that each did some: a worker slow to start on a loaded machine
        // may find the work gone, which is no fault)
        let per_worker: HashMap<String, i64> =
            sqlx::query_as("SELECT worker, COUNT(*) FROM runs GROUP BY worker")
                .fetch_all(queue.pool())
                .await
                .unwrap()
                .into_iter()
                .collect();
        for (name, out) in names.iter().zip(&outputs) {
            let ran = per_worker.get(name).copied().unwrap_or(0);
            assert!(
                out.starts_with(&format!("worker {name}: {ran} runs ")),
                "{name}: {out:?}, runs recorded: {ran}"
            );
        }
        assert!(per_worker.len() <= workers, "{per_worker:?}");

        lines.push(format!(
            "{workers} worker(s): {JOBS} jobs in {secs:.2}s, {:.0} jobs/s",
            JOBS as f64 / secs
        ));
    }
    // (how fast is for a benchmark to judge; none measures the fleet, so
    // the numbers are only reported)
    println!("throughput (jobs of 10 ms each, PostgreSQL on this machine):");
    for l in lines {
        println!("  {l}");
    }
}

#[test]
fn a_worker_with_a_bad_database_url_prints_one_error_line_and_exits_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("postgres://app:s3cret@127.0.0.1:{port}/jobs");
    for (url, says) in [
        ("postgres://app:s3cret@[::1", "invalid IPv6 address"),
        (unreachable.as_str(), "Connection refused"),
        ("redis://x", "unsupported database URL"),
    ] {
        let started = Instant::now();
        let out = Command::new(WORKER)
            .arg("w1")
            .env("DATABASE_URL", url)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{url}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(says), "{url}: {stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(5), "{url}");
    }
}

#[test]
fn a_worker_with_a_lease_out_of_range_prints_one_error_line_and_exits_1() {
    for lease in ["0", &u64::MAX.to_string()] {
        let out = Command::new(WORKER)
            .arg("w1")
            .env("DATABASE_URL", "sqlite::memory:")
            .env("JOBS_LEASE_SECS", lease)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{lease}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{lease}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: JOBS_LEASE_SECS={lease} is out of range")),
            "{stderr}"
        );
    }
}
