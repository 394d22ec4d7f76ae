//! The main demo: downloading camera clips with `#[retry]`, against a real
//! HTTP server on 127.0.0.1 that this example starts itself.
//!
//! ```text
//! cargo run --example clip_download
//! ```
//!
//! 1. The camera is still booting: the first attempt is refused (Connect);
//!    once up, it answers too slowly (Timeout); the third attempt succeeds
//!    after waits of 1s and 2s, and the clip is written to a temp dir.
//! 2. A clip that does not exist: 404 is Permanent, so it fails at once.
//! 3. A clip that never arrives: "failed after 4 attempts", and the caller
//!    carries on without it (`None`): graceful degradation.
//!
//! It ends with the metrics these calls produced (feature `metrics`), as
//! the Prometheus exporter's text: calls by outcome, attempts, retries and
//! seconds waited for `download_clip`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use retry_runtime::reqwest::error_for_status;
use retry_runtime::{retry, Causes, Classify, HttpError};
use testkit::demo::ensure;
use testkit::flaky::{refused_url, FlakyServer, Reply};
use tracing::Instrument;

/// How long the client waits for an answer before calling it a timeout.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(300);

/// What downloading a clip can fail with; `Classify` comes from the inner errors.
///
/// Each error shows its cause in its message or returns it as its
/// `source()`, never both (a reporter of the chain would print it twice).
#[derive(Debug, thiserror::Error, Classify)]
enum ClipError {
    /// No usable answer: refused, timed out, connection dropped. (`Causes`
    /// shows why: reqwest's own message is "error sending request".) The
    /// message holds the chain, so the field is not the source: no
    /// `#[from]`, the `From` impl below converts for `?`.
    #[error("{}", Causes(.0))]
    #[classify(transparent)]
    Http(reqwest::Error),
    /// The camera answered 4xx or 5xx (404 is Permanent).
    #[error(transparent)]
    #[classify(transparent)]
    Status(#[from] HttpError),
    /// Writing the clip to disk failed. No `#[from]`: `?` would make every
    /// `io::Error` of an attempt a Permanent "could not save" (a future read
    /// of the camera's stream too); the write says so with `map_err`.
    #[error("could not save the clip: {0}")]
    #[classify(Permanent)]
    Save(std::io::Error),
}

impl From<reqwest::Error> for ClipError {
    fn from(e: reqwest::Error) -> Self {
        ClipError::Http(e)
    }
}

/// Where the camera answers right now (it moves while it boots).
static CAMERA: Mutex<String> = Mutex::new(String::new());

fn camera_url(path: &str) -> String {
    let base = CAMERA.lock().map(|b| b.clone()).unwrap_or_default();
    format!("{base}{path}")
}

/// One download: GET the clip, save it under `dir`. A clip is small: each
/// attempt reads it whole. A large file resumes from the bytes on disk
/// instead: docs/where-retries-go.md, "Resuming a download".
#[retry(attempts = 4, backoff = "exp(1s,4s)", retry_on = Timeout | Connect)]
async fn download_clip(
    client: &reqwest::Client,
    id: &str,
    dir: &std::path::Path,
) -> Result<PathBuf, ClipError> {
    let resp = client
        .get(camera_url(&format!("/clips/{id}")))
        .send()
        .await?;
    let bytes = error_for_status(resp).await?.bytes().await?;
    let path = dir.join(format!("{id}.mp4"));
    std::fs::write(&path, &bytes).map_err(ClipError::Save)?;
    Ok(path)
}

/// What the rest of the app calls: a clip, or `None` and a log line. The
/// event's id goes on a span around the call, so every retry's line and
/// the give-up's carry it (story 000's AC2; the demo's compact format
/// prints `clip:` before the message and `event_id="9"` at the end).
async fn fetch_clip(client: &reqwest::Client, id: &str, dir: &std::path::Path) -> Option<PathBuf> {
    let span = tracing::info_span!("clip", event_id = id);
    match download_clip(client, id, dir).instrument(span).await {
        Ok(path) => Some(path),
        Err(e) => {
            tracing::warn!("no clip for event {id} ({e}); the event is kept without a clip");
            None
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let story = |happened: bool, expected: &str| ensure("clip_download", happened, expected);
    // Metrics to Prometheus: a recorder (for this thread, so that the tests
    // can run the demos side by side; a service installs it globally with
    // `PrometheusBuilder::install_recorder`), then `enable()`.
    let recorder = testkit::metrics::prometheus_recorder();
    let prometheus = recorder.handle();
    let _recording = metrics::set_default_local_recorder(&recorder);
    retry_runtime::metrics::enable();
    let dir = tempfile::tempdir()?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(CLIENT_TIMEOUT)
        .build()?;
    let server = FlakyServer::start().await;
    server.route(
        "/clips/7",
        [
            Reply::ok_body("clip seven").delayed(Duration::from_secs(2)),
            Reply::ok_body("clip seven"),
        ],
    );
    server.route("/clips/404", [Reply::status(404)]);
    server.route("/clips/9", [Reply::delay(Duration::from_secs(5))]);

    println!(
        "\n== 1. camera booting: refused, then too slow for our {}ms timeout, then the clip ==",
        CLIENT_TIMEOUT.as_millis()
    );
    *CAMERA.lock().map_err(|_| "lock")? = refused_url("");
    let base = server.url("");
    let boot = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        tracing::info!("camera is up, now at {base}");
        if let Ok(mut camera) = CAMERA.lock() {
            *camera = base; // the camera is up
        }
    });
    let start = Instant::now();
    let path = fetch_clip(&client, "7", dir.path())
        .await
        .ok_or("clip 7 should arrive")?;
    boot.await?;
    println!(
        "clip 7 saved to {} ({} bytes) after {:.1}s",
        path.display(),
        std::fs::metadata(&path)?.len(),
        start.elapsed().as_secs_f64()
    );
    story(
        server.hits("/clips/7") == 2,
        "clip 7: one timed-out and one good request reach the camera",
    )?;

    // two clips that do not come: None, after the requests the policy allows
    for (heading, id, requests) in [
        ("2. a clip that does not exist: 404 fails at once", "404", 1),
        (
            "3. a clip that never arrives: 4 attempts, then None",
            "9",
            4,
        ),
    ] {
        println!("\n== {heading} ==");
        let start = Instant::now();
        let clip = fetch_clip(&client, id, dir.path()).await;
        let took = start.elapsed().as_secs_f64();
        println!("clip {id}: {clip:?} after {took:.1}s");
        let hits = server.hits(&format!("/clips/{id}"));
        story(
            clip.is_none() && hits == requests,
            &format!("clip {id}: no clip after exactly {requests} request(s), got {hits}"),
        )?;
    }
    println!("\n== the metrics these calls produced (Prometheus text, buckets left out) ==");
    let scrape = prometheus.render();
    for line in testkit::metrics::retry_lines(&scrape) {
        println!("{line}");
    }
    for (outcome, calls) in [
        ("succeeded_after_retries", 1),
        ("permanent_error", 1),
        ("attempts_exhausted", 1),
    ] {
        let line = format!(
            "retry_calls_total{{operation=\"download_clip\",outcome=\"{outcome}\"}} {calls}"
        );
        story(scrape.contains(&line), &format!("the scrape shows {line}"))?;
    }
    let retries = r#"retry_retries_total{operation="download_clip"} 5"#;
    story(scrape.contains(retries), retries)?;
    println!("\nall three stories went as expected");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reporter of the chain prints (anyhow's `{:#}`): each cause once.
    #[test]
    fn a_report_of_the_chain_shows_each_cause_once() {
        let full = ClipError::Save(std::io::Error::other("disk full"));
        assert_eq!(
            Causes(&full).to_string(),
            "could not save the clip: disk full"
        );
        let bad_url = reqwest::Client::new().get("no url").build().unwrap_err();
        let report = Causes(&ClipError::Http(bad_url)).to_string();
        assert_eq!(
            report.matches("relative URL without a base").count(),
            1,
            "{report}"
        );
    }
}
