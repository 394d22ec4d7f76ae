//! Background jobs that survive failures and restarts.
//!
//! Each job downloads a clip from a local flaky HTTP server. Jobs live in an
//! SQLite database (a file in a temp dir), or in PostgreSQL when
//! `DATABASE_URL` is set (`postgres://user@host:port/db`, whose `jobs` table
//! must be empty or missing). When a run fails, its
//! `retry_count`, `next_retry_at` and status come from the runtime's pure
//! decision API, `retry_runtime::presets::JOB.decide(retry_count, &error)`:
//! retries after 30s, 120s and 480s (each plus up to 25% jitter), then FAILED
//! for good; a permanent error (a 404) fails at once.
//!
//! The schedule plays on a simulated clock (1 simulated minute = 100 real ms)
//! so the ~13 simulated minutes take a couple of seconds. Half-way, the
//! worker dies while holding a job; a new worker opens the database again,
//! counts that job's lost run as a failed attempt once its 2-minute lease has
//! expired, runs it again after the policy's wait, and finishes the work: no
//! job is lost, none runs twice.
//!
//! Run it with `cargo run --example jobs` (SQLite), or
//! `DATABASE_URL=postgres://... cargo run --example jobs` (PostgreSQL). A
//! malformed or unreachable `DATABASE_URL` ends it with one error line and
//! exit code 1.

use std::process::ExitCode;
use std::time::Duration;

use retry_jobs_demo::{
    Job, JobQueue, JobStatus, QueueError, ScaledClock, Worker, fmt_time, redact_url,
};
use retry_runtime::reqwest::{HttpError, error_for_status};
use retry_runtime::{Causes, Classify, ErrorKind};
use testkit::flaky::{FlakyServer, Reply};

/// How long one simulated minute takes: 30s of schedule take 50ms.
const MINUTE: Duration = Duration::from_millis(100);
/// The client's timeout: 30 simulated seconds.
const SIM_CLIENT_TIMEOUT: Duration = Duration::from_millis(50);
/// A claim's lease: 2 simulated minutes, well above the client's timeout.
const LEASE: Duration = Duration::from_secs(120);

/// What downloading a clip fails with.
#[derive(Debug, thiserror::Error)]
enum ClipError {
    /// No usable answer: refused, timed out, connection dropped. `Causes`
    /// shows why, with the URL's query masked (reqwest's own message writes
    /// the URL whole); no `#[from]`, the `From` impl below converts for `?`.
    #[error("{}", Causes(.0))]
    Http(reqwest::Error),
    /// The server answered 4xx or 5xx.
    #[error(transparent)]
    Status(#[from] HttpError),
}

impl From<reqwest::Error> for ClipError {
    fn from(e: reqwest::Error) -> Self {
        ClipError::Http(e)
    }
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Into::into)
        .and_then(|rt| rt.block_on(demo(url.as_deref())));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Open the queue at `url`, with one line of context on failure.
async fn open(url: &str) -> Result<JobQueue, Box<dyn std::error::Error>> {
    let queue = JobQueue::connect(url).await.map_err(|e: QueueError| {
        format!("cannot open the job queue at {}: {e}", redact_url(url))
    })?;
    Ok(queue.with_lease(LEASE))
}

/// The whole story, on SQLite (a temp file) or on the database at `url`;
/// `tests/jobs/demo_run.rs` runs it too, so CI runs the example.
pub async fn demo(url: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
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
    // a 429 asking for 45s: the JOB preset honours a RateLimited or
    // Unavailable hint up to an hour, so the retry comes 45s later
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
    let url = match url {
        Some(url) => url.to_owned(),
        None => format!("sqlite:{}", dir.path().join("jobs.db").display()),
    };
    tracing::info!("database: {}", redact_url(&url));

    // --- worker 1 -----------------------------------------------------------
    let queue = open(&url).await?;
    let existing = queue.all().await?.len();
    if existing > 0 {
        return Err(format!(
            "the jobs table at {} already holds {existing} job(s); the demo needs an empty database",
            redact_url(&url)
        )
        .into());
    }
    let clock = ScaledClock::minute_every(MINUTE); // simulated time starts now
    for n in 1..=7 {
        queue.enqueue(&format!("/clip/{n}"), clock.now()).await?;
    }
    let mut worker = Worker::start("w1", queue, clock).await?;
    worker.run(Some(Duration::from_secs(300)), handler).await?;

    // a new job arrives; worker 1 claims it, then dies before running it
    worker.queue().enqueue("/clip/8", clock.now()).await?;
    let claimed = worker
        .queue()
        .claim_due(clock.now())
        .await?
        .ok_or("the new job is due at once")?;
    tracing::warn!(
        "[{}] worker w1 dies while job {} is RUNNING; the table as it left it:\n{}",
        fmt_time(clock.now()),
        claimed.id,
        worker.queue().table().await?
    );
    worker.queue().pool().close().await;
    drop(worker);

    // --- worker 2: opens the database again and resumes -----------------------
    let mut worker = Worker::start("w2", open(&url).await?, clock).await?;
    worker.run(None, handler).await?;

    // --- the result ------------------------------------------------------------
    let queue = worker.queue();
    let jobs = queue.all().await?;
    println!(
        "\nfinal table at {}:\n{}",
        fmt_time(clock.now()),
        queue.table().await?
    );
    let mut ok = jobs.len() == 8;
    for job in &jobs {
        // every run of a job is one request to its route: nothing ran twice
        // (the run lost with worker 1 made none)
        let lost = usize::from(job.id == claimed.id);
        let runs = job.retry_count as usize + 1 - lost;
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
        queue.count(JobStatus::Done).await?,
        queue.count(JobStatus::Failed).await?,
        server.total_hits(),
        if ok { "yes" } else { "NO" }
    );
    if !ok {
        return Err("the job table does not match the requests made".into());
    }
    Ok(())
}
