//! One worker process of a fleet: runs the jobs of the queue at
//! `DATABASE_URL` until none is pending or running, on a simulated clock
//! shared with the other processes. `jobs-demo/tests/fleet/` starts four of
//! these against PostgreSQL, kills one with SIGKILL mid-job and starts it
//! again.
//!
//! ```text
//! DATABASE_URL=postgres://... jobs-worker NAME
//! ```
//!
//! NAME is the worker's name in the table (`claimed_by`, `recorded_by`),
//! which must differ between workers: a worker tells the row it recorded
//! from another's by it. Without one, `worker-HOST-PID` (the machine's
//! name from `HOSTNAME` or `/etc/hostname`: containers often share a PID).
//!
//! Environment: `JOBS_EPOCH_MS` (the simulated clock's zero, in
//! milliseconds since the Unix epoch; default: now), `JOBS_SCALE` (how much
//! faster than real time the clock runs; default 600: a minute in 100 ms),
//! `JOBS_LEASE_SECS` (a claim's lease in simulated seconds, at least 1;
//! default 300). A run still going when its lease ends is stopped and counts
//! as a failed attempt. Leases are judged on each worker's own clock, so
//! workers on several machines need their wall clocks in step (a difference
//! of δ is δ × `JOBS_SCALE` simulated).
//!
//! Each payload is a script: `ok`; `transient:N` (fails N times with a
//! refused connection, then succeeds); `permanent` (invalid data: fails at
//! once); `down` (times out every time: fails after the preset's 4
//! attempts); any of them after `slow:MS/` runs MS real milliseconds first.
//! When the database has a `runs` table (the fleet test makes one), each run
//! is recorded there: `(job_id, claims)` is its primary key, so no claim runs
//! twice.
//!
//! A malformed or unreachable `DATABASE_URL`, or a setting out of range, ends
//! it with one error line and exit code 1. Once running, a database error
//! that the queue's retries do not get past (the server restarting, the
//! network down) pauses it and it goes on ([`Worker::pause_after`]); an
//! error retrying cannot help (a missing table, bad SQL) ends it.
//!
//! It logs to stderr, as the `jobs` example does (INFO and above, times on
//! the simulated clock): each run's end (for a failure, an INFO line with
//! the job's context, then the policy's line from `Policy::report` in a
//! `job{id=..}` span: WARN with its retry or for a permanent error, ERROR
//! once the attempts are spent; ERROR for an outcome that could not be
//! recorded), each pause. Stdout gets one line at the end: `worker NAME: N
//! runs in Ss`.

use std::io::{self, IsTerminal as _};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use retry_jobs_demo::{Job, JobOutcome, JobQueue, QueueError, ScaledClock, Worker, redact_url};

fn main() -> ExitCode {
    // the log goes to stderr, so that stdout holds only the closing line;
    // colours only on a terminal, not in a file the log is sent to
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(work()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn env_u64(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a number")),
        Err(_) => Ok(None),
    }
}

/// The lease of `secs` simulated seconds: at least one second, and no more
/// than the queue stores (milliseconds in a signed 64-bit column).
fn lease(secs: u64) -> Result<Duration, String> {
    const MAX: u64 = i64::MAX as u64 / 1000;
    match secs {
        1..=MAX => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "JOBS_LEASE_SECS={secs} is out of range: expected 1..={MAX} seconds"
        )),
    }
}

/// The simulated clock's zero, `ms` milliseconds after the Unix epoch
/// (`JOBS_EPOCH_MS`). `UNIX_EPOCH + duration` panics past the latest time a
/// `SystemTime` holds, which depends on the platform (Windows counts 100 ns
/// ticks since 1601 in 64 bits: about 1.8e15 ms past the epoch), so this is
/// an error there instead.
fn epoch(ms: u64) -> Result<SystemTime, String> {
    UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .ok_or_else(|| {
            format!(
                "JOBS_EPOCH_MS={ms} is out of range: past the latest time this platform's clock holds"
            )
        })
}

/// The machine's name (a container's is its id), for a worker's default
/// name: `HOSTNAME`, else `/etc/hostname`, else `unknown-host`.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

async fn work() -> Result<(), String> {
    let name = std::env::args()
        .nth(1)
        // unique without being asked: the machine's name and the process
        .unwrap_or_else(|| format!("worker-{}-{}", host_name(), std::process::id()));
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .ok_or("DATABASE_URL is not set")?;
    let epoch = match env_u64("JOBS_EPOCH_MS")? {
        Some(ms) => epoch(ms)?,
        None => SystemTime::now(),
    };
    let scale = u32::try_from(env_u64("JOBS_SCALE")?.unwrap_or(600)).map_err(|e| e.to_string())?;
    let lease = lease(env_u64("JOBS_LEASE_SECS")?.unwrap_or(300))?;
    let clock = ScaledClock::since(epoch, scale);

    let queue = JobQueue::connect(&url)
        .await
        .map_err(|e| format!("cannot open the job queue at {}: {e}", redact_url(&url)))?
        .with_lease(lease);
    let db = |e: QueueError| format!("worker {name}: {e}");
    let log = RunLog::detect(&queue).await.map_err(db)?;
    let mut worker = Worker::start(&name, queue, clock).await.map_err(db)?;
    let started = std::time::Instant::now();
    let mut runs = 0u32;
    let mut handler = |job: Job| {
        let log = log.clone();
        let name = name.clone();
        async move {
            log.started(&job, &name, clock.now()).await?;
            run_script(&job).await
        }
    };
    // a database error that outlasts the queue's own retries (an outage, a
    // restart) pauses the worker; only an error retrying cannot help ends it
    loop {
        match worker.run_one(&mut handler).await {
            Ok(Some(ran)) => {
                runs += 1;
                // the time the outcome was recorded with, not a later one
                log.ended(&ran.job, &ran.outcome, ran.ended_at)
                    .await
                    .map_err(db)?;
            }
            Ok(None) => match worker.wait(None).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if worker.pause_after(&e).await => {}
                Err(e) => return Err(db(e)),
            },
            Err(e) if worker.pause_after(&e).await => {}
            Err(e) => return Err(db(e)),
        }
    }
    println!(
        "worker {name}: {runs} runs in {:.3}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What a scripted run fails with.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Db(#[from] QueueError),
}

impl retry_runtime::Classify for RunError {
    fn kind(&self) -> retry_runtime::ErrorKind {
        match self {
            RunError::Io(e) => retry_runtime::Classify::kind(e),
            RunError::Db(e) => e.kind(),
        }
    }
}

async fn run_script(job: &Job) -> Result<(), RunError> {
    let mut script = job.payload.as_str();
    if let Some(rest) = script.strip_prefix("slow:") {
        let (ms, rest) = rest.split_once('/').unwrap_or((rest, "ok"));
        let ms: u64 = ms.parse().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        script = rest;
    }
    let fail = |kind: io::ErrorKind| Err(RunError::Io(io::Error::new(kind, script.to_owned())));
    match script {
        "ok" => Ok(()),
        "permanent" => fail(io::ErrorKind::InvalidData),
        "down" => fail(io::ErrorKind::TimedOut),
        _ => match script.strip_prefix("transient:").map(str::parse::<u32>) {
            Some(Ok(n)) if job.retry_count < n => fail(io::ErrorKind::ConnectionRefused),
            Some(Ok(_)) => Ok(()),
            _ => fail(io::ErrorKind::Unsupported),
        },
    }
}

/// The `runs` table, when the database has one.
#[derive(Clone)]
struct RunLog(Option<JobQueue>);

impl RunLog {
    async fn detect(queue: &JobQueue) -> Result<RunLog, QueueError> {
        let has: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM information_schema.tables WHERE table_name = 'runs'")
                .fetch_optional(queue.pool())
                .await
                .or_else(|_| Ok::<_, sqlx::Error>(None))?;
        Ok(RunLog(has.map(|_| queue.clone())))
    }

    async fn started(&self, job: &Job, worker: &str, now: Duration) -> Result<(), QueueError> {
        let Some(q) = &self.0 else { return Ok(()) };
        sqlx::query(
            "INSERT INTO runs (job_id, claims, attempt, worker, pid, started_at, lease_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(job.id)
        .bind(i64::from(job.claims))
        .bind(i64::from(job.retry_count) + 1)
        .bind(worker)
        .bind(i64::from(std::process::id()))
        .bind(ms(now))
        .bind(job.claimed_until.map(ms))
        .execute(q.pool())
        .await?;
        Ok(())
    }

    async fn ended(
        &self,
        job: &Job,
        outcome: &Result<Option<JobOutcome>, retry_jobs_demo::LeaseLost>,
        now: Duration,
    ) -> Result<(), QueueError> {
        let Some(q) = &self.0 else { return Ok(()) };
        let (what, wait, next) = match outcome {
            Ok(None) => ("DONE", None, None),
            Ok(Some(JobOutcome::Retry {
                wait,
                next_retry_at,
                ..
            })) => ("RETRY", Some(ms(*wait)), Some(ms(*next_retry_at))),
            Ok(Some(JobOutcome::Failed { .. })) => ("FAILED", None, None),
            Err(_) => ("LEASE_LOST", None, None),
        };
        sqlx::query(
            "UPDATE runs SET ended_at = $3, outcome = $4, wait_ms = $5, next_retry_at = $6
             WHERE job_id = $1 AND claims = $2",
        )
        .bind(job.id)
        .bind(i64::from(job.claims))
        .bind(ms(now))
        .bind(what)
        .bind(wait)
        .bind(next)
        .execute(q.pool())
        .await?;
        Ok(())
    }
}

fn ms(t: Duration) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_epoch_ms_is_a_time_or_a_clear_error_never_a_panic() {
        assert_eq!(
            epoch(1_700_000_000_123),
            Ok(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123))
        );
        assert_eq!(epoch(0), Ok(UNIX_EPOCH));
        // past what Windows' SystemTime holds; Linux's holds them all
        for ms in [2_000_000_000_000_000, i64::MAX as u64, u64::MAX] {
            match epoch(ms) {
                Ok(t) => assert_eq!(
                    t.duration_since(UNIX_EPOCH).ok(),
                    Some(Duration::from_millis(ms))
                ),
                Err(e) => assert_eq!(
                    e,
                    format!(
                        "JOBS_EPOCH_MS={ms} is out of range: past the latest time this platform's clock holds"
                    )
                ),
            }
        }
    }
}
