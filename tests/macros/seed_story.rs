//! The clip-download story our users come from (tenacity's
//! `stop_after_attempt`, `wait_exponential(min=1, max=4)`, a before_sleep log
//! line, a 404 failing at once), written with the attribute.

use testkit::capture as support;

use std::cell::{Cell, RefCell};
use std::time::Duration;

use retry_runtime::{retry, Classify};
use tracing::Level;

#[derive(Debug, thiserror::Error, Classify)]
enum ClipError {
    #[error("timed out fetching clip {0}")]
    #[classify(Timeout)]
    Timeout(u32),
    #[error("connection refused on call {0}")]
    #[classify(Connect)]
    Refused(u32),
    #[error("clip not found (404)")]
    #[classify(Permanent)]
    NotFound,
}

/// Builds the error of a failing call from its call number.
type MakeError = fn(u32) -> ClipError;

thread_local! {
    static SCRIPT: RefCell<Vec<MakeError>> = const { RefCell::new(Vec::new()) };
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

fn script(errors: Vec<MakeError>) {
    CALLS.with(|c| c.set(0));
    SCRIPT.with(|s| *s.borrow_mut() = errors);
}

fn calls() -> u32 {
    CALLS.with(Cell::get)
}

#[retry(attempts = 4, backoff = "exp(1s,4s)", retry_on = Timeout | Connect)]
async fn download_clip(id: &str) -> Result<String, ClipError> {
    let n = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if let Some(fail) = SCRIPT.with(|s| s.borrow().get(n as usize - 1).copied()) {
        return Err(fail(n));
    }
    Ok(format!("/tmp/clips/{id}.mp4"))
}

/// The caller degrades gracefully: no clip, no crash.
async fn clip_or_none(id: &str) -> Option<String> {
    download_clip(id).await.ok()
}

#[tokio::test(start_paused = true)]
async fn timeout_twice_then_success_waits_1s_2s() {
    let logs = support::capture();
    let paused = retry_runtime::testing::pause();
    script(vec![ClipError::Timeout, ClipError::Timeout]);
    let start = tokio::time::Instant::now();

    assert_eq!(download_clip("7").await.unwrap(), "/tmp/clips/7.mp4");

    assert_eq!(calls(), 3);
    assert_eq!(
        paused.waits(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    let first = logs.assert_logged(
        Level::WARN,
        "retrying download_clip after attempt 1/4 failed",
    );
    support::assert_fields(
        &first,
        &[
            ("operation", "download_clip"),
            ("attempt", "1"),
            ("max_attempts", "4"),
            ("wait_ms", "1000"),
            ("error", "timed out fetching clip 1"),
            ("error_kind", "Timeout"),
        ],
    );
    let second = logs.assert_logged(Level::WARN, "after attempt 2/4 failed");
    support::assert_fields(&second, &[("wait_ms", "2000")]);
    logs.assert_logged(Level::INFO, "download_clip succeeded on attempt 3");
}

#[tokio::test(start_paused = true)]
async fn connect_four_times_returns_the_last_error_after_1s_2s_4s() {
    let logs = support::capture();
    let paused = retry_runtime::testing::pause();
    script(vec![ClipError::Refused; 4]);

    let err = download_clip("7").await.unwrap_err();

    assert!(matches!(err, ClipError::Refused(4)), "{err:?}");
    assert_eq!(calls(), 4);
    let s = Duration::from_secs;
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    logs.assert_logged(Level::ERROR, "download_clip failed after 4 attempts");
    script(vec![ClipError::Refused; 4]);
    assert_eq!(clip_or_none("8").await, None);
    assert_eq!(calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn not_found_fails_at_once_without_sleeping() {
    let logs = support::capture();
    let paused = retry_runtime::testing::pause();
    script(vec![|_| ClipError::NotFound]);
    let start = tokio::time::Instant::now();

    assert!(matches!(
        download_clip("404").await,
        Err(ClipError::NotFound)
    ));

    assert_eq!(calls(), 1);
    assert!(paused.waits().is_empty());
    assert_eq!(start.elapsed(), Duration::ZERO);
    let line = logs.assert_logged(
        Level::WARN,
        "download_clip failed with a non-retriable error on attempt 1",
    );
    support::assert_fields(&line, &[("error_kind", "Permanent")]);
    logs.assert_not_logged("retrying");
}

// A `Send + !Sync` argument (here a `Cell`) taken by value: each attempt
// borrows it, so the annotated future is not `Send` (documented in the README;
// a `&mut` or by-value `Send + Sync` argument is fine). On a current-thread
// runtime such a function works as usual:
#[retry(attempts = 3, backoff = "none")]
async fn count_in_cell(counter: Cell<u32>) -> Result<u32, ClipError> {
    counter.set(counter.get() + 1);
    if counter.get() < 3 {
        return Err(ClipError::Timeout(counter.get()));
    }
    Ok(counter.get())
}

#[tokio::test(start_paused = true)]
async fn a_send_but_not_sync_argument_is_shared_by_the_attempts() {
    assert_eq!(count_in_cell(Cell::new(0)).await.unwrap(), 3);
}
