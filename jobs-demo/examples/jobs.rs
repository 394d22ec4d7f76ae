//! Background jobs that survive failures and restarts.
//!
//! Each job downloads a clip from a local flaky HTTP server. Jobs live in an
//! SQLite database (a file in a temp dir). When a run fails, its
//! `retry_count`, `next_retry_at` and status come from the runtime's pure
//! decision API, `retry_runtime::presets::JOB.decide(retry_count, &error)`:
//! retries after 30s, 120s and 480s (each plus up to 25% jitter), then FAILED
//! for good; a permanent error (a 404) fails at once.
//!
//! The schedule plays on a simulated clock (1 simulated minute = 100 real ms)
//! so the ~13 simulated minutes take a couple of seconds. Half-way, the
//! worker dies while holding a job; a new worker opens the database file
//! again and finishes the work: no job is lost, none runs twice.
//!
//! Run it with `cargo run --example jobs`.

use std::time::Duration;

use retry_jobs_demo::{Job, JobQueue, JobStatus, ScaledClock, Worker, fmt_time};
use retry_runtime::reqwest::{HttpError, error_for_status};
use retry_runtime::{Classify, ErrorKind};
use testkit::flaky::{FlakyServer, Reply};

/// How long one simulated minute takes: 30s of schedule take 50ms.
const MINUTE: Duration = Duration::from_millis(100);
/// The client's timeout: 30 simulated seconds.
const SIM_CLIENT_TIMEOUT: Duration = Duration::from_millis(50);

/// What downloading a clip fails with.
#[derive(Debug, thiserror::Error)]
enum ClipError {
    /// No usable answer: refused, timed out, connection dropped.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// The server answered 4xx or 5xx.
    #[error(transparent)]
    Status(#[from] HttpError),
}

impl Classify for ClipError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClipError::Http(e) => e.kind(),
            ClipError::Status(e) => e.kind(),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ClipError::Status(e) => e.retry_after(),
            ClipError::Http(_) => None,
        }
    }
}

/// One run of a job: GET the clip named by the payload.
async fn download(client: reqwest::Client, base: String, job: Job) -> Result<(), ClipError> {
    let resp = client.get(format!("{base}{}", job.payload)).send().await?;
    let bytes = error_for_status(resp).await?.bytes().await?;
    tracing::debug!("job {} downloaded {} bytes", job.id, bytes.len());
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    demo().await
}

/// The whole story; `tests/jobs/demo_run.rs` runs it too, so CI runs the example.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let server = FlakyServer::start().await;
    server.route("/clip/1", [Reply::ok_body("clip one")]);
    server.route(
        "/clip/2",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::ok_body("clip two"),
        ],
    );
    server.route("/clip/3", [Reply::status(404)]);
    server.route("/clip/4", [Reply::body(503, "disk full")]);
    // asks for 45s (the JOB preset honours a RateLimited hint, up to 60s)
    server.route(
        "/clip/5",
        [Reply::retry_after_secs(45), Reply::ok_body("clip five")],
    );
    // hangs past the client's timeout (30 simulated seconds), then answers
    server.route(
        "/clip/6",
        [
            Reply::delay(Duration::from_secs(5)),
            Reply::ok_body("clip six"),
        ],
    );
    server.route(
        "/clip/7",
        [Reply::close_mid_body(), Reply::ok_body("clip seven")],
    );
    server.route("/clip/8", [Reply::ok_body("clip eight")]);
    let base = server.url("");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(SIM_CLIENT_TIMEOUT)
        .build()?;
    let handler = |job: Job| download(client.clone(), base.clone(), job);

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("jobs.db");
    tracing::info!("database: {}", db.display());

    // --- worker 1 -----------------------------------------------------------
    let queue = JobQueue::open(&db)?;
    let clock = ScaledClock::minute_every(MINUTE); // simulated time starts now
    for n in 1..=7 {
        queue.enqueue(&format!("/clip/{n}"), clock.now())?;
    }
    let mut worker = Worker::start("w1", queue, clock)?;
    worker.run(Some(Duration::from_secs(300)), handler).await?;

    // a new job arrives; worker 1 claims it, then dies before running it
    worker.queue().enqueue("/clip/8", clock.now())?;
    let claimed = worker
        .queue()
        .claim_due(clock.now())?
        .ok_or("the new job is due at once")?;
    tracing::warn!(
        "[{}] worker w1 dies while job {} is RUNNING; the table as it left it:\n{}",
        fmt_time(clock.now()),
        claimed.id,
        worker.queue().table()?
    );
    drop(worker); // closes the database connection

    // --- worker 2: opens the file again and resumes ---------------------------
    let mut worker = Worker::start("w2", JobQueue::open(&db)?, clock)?;
    worker.run(None, handler).await?;

    // --- the result ------------------------------------------------------------
    let queue = worker.queue();
    let jobs = queue.all()?;
    println!(
        "\nfinal table at {}:\n{}",
        fmt_time(clock.now()),
        queue.table()?
    );
    let mut ok = jobs.len() == 8;
    for job in &jobs {
        // every run of a job is one request to its route: nothing ran twice
        let runs = job.retry_count as usize + 1;
        let hits = server.hits(&job.payload);
        let finished = matches!(job.status, JobStatus::Done | JobStatus::Failed);
        if hits != runs || !finished {
            ok = false;
            println!(
                "job {}: {hits} requests for {runs} runs, {}",
                job.id, job.status
            );
        }
    }
    println!(
        "{} jobs, {} DONE, {} FAILED, {} requests to the server; no job lost or run twice: {}",
        jobs.len(),
        queue.count(JobStatus::Done)?,
        queue.count(JobStatus::Failed)?,
        server.total_hits(),
        if ok { "yes" } else { "NO" }
    );
    if !ok {
        return Err("the job table does not match the requests made".into());
    }
    Ok(())
}
