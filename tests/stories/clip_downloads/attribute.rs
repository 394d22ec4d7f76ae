//! The clip-download story (000) with the attribute, one test per acceptance
//! criterion: tenacity's `stop_after_attempt`, `wait_exponential(min=1, max=4)`,
//! a before_sleep log line and a 404 failing at once become
//! `#[retry(attempts = 4, backoff = "exp(1s,4s)", retry_on = Timeout | Connect)]`
//! ("retries up to 3 times": 4 calls in all).

use testkit::capture as support;

use std::cell::{Cell, RefCell};
use std::time::Duration;

use retry_runtime::{retry, Classify};
use tracing::{Instrument, Level};

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

/// The caller degrades gracefully: no clip, no crash. The call runs in a
/// span that carries the event, so the runtime's own lines (each retry's
/// WARN, the ERROR that says how many attempts were made) are logged with
/// the event they belong to; the caller's line says what it does instead.
async fn clip_or_none(event_id: &str) -> Option<String> {
    let span = tracing::info_span!("clip", event_id);
    match download_clip(event_id).instrument(span).await {
        Ok(path) => Some(path),
        Err(e) => {
            tracing::error!(event_id, error = %e, "Clip download failed, no clip for this event");
            None
        }
    }
}

/// AC1: a failing download is retried up to 3 times, waiting 1s, 2s, 4s,
/// and each retry is logged with its attempt number.
#[tokio::test(start_paused = true)]
async fn ac1_retries_3_times_waiting_1s_2s_4s_and_logs_each_attempt() {
    let logs = support::capture();
    let paused = retry_runtime::testing::pause();
    script(vec![ClipError::Refused; 4]);

    let err = download_clip("7").await.unwrap_err();

    assert!(matches!(err, ClipError::Refused(4)), "{err:?}");
    assert_eq!(calls(), 4);
    let s = Duration::from_secs;
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    let retries = logs.matching(Level::WARN, "retrying download_clip");
    assert_eq!(retries.len(), 3, "{:#?}", logs.lines());
    for (n, line) in retries.iter().enumerate() {
        let attempt = (n + 1).to_string();
        let wait_ms = (1000u64 << n).to_string();
        support::assert_fields(
            line,
            &[
                ("operation", "download_clip"),
                ("attempt", attempt.as_str()),
                ("max_attempts", "4"),
                ("wait_ms", wait_ms.as_str()),
                ("error_kind", "Connect"),
            ],
        );
    }
}

/// AC2: when every attempt fails the caller gets `None`, and the failure is
/// logged with the number of attempts and the event id.
#[tokio::test(start_paused = true)]
async fn ac2_all_attempts_failing_returns_none_and_logs_the_event_id() {
    let logs = support::capture();
    let _paused = retry_runtime::testing::pause();
    script(vec![ClipError::Timeout; 4]);

    assert_eq!(clip_or_none("evt-8").await, None);

    assert_eq!(calls(), 4);
    let failed = logs.assert_logged(Level::ERROR, "download_clip failed after 4 attempts");
    support::assert_fields(
        &failed,
        &[("attempt", "4"), ("reason", "attempts exhausted")],
    );
    // the runtime's ERROR line itself carries the event, through its span
    assert_eq!(
        logs.span_of("download_clip failed after 4 attempts")
            .as_deref(),
        Some("clip | event_id=evt-8")
    );
    let caller = logs.assert_logged(Level::ERROR, "Clip download failed");
    support::assert_fields(&caller, &[("event_id", "evt-8")]);
}

/// AC3: when the second attempt succeeds, the path is returned and the
/// success is logged with its attempt number.
#[tokio::test(start_paused = true)]
async fn ac3_success_on_attempt_2_returns_the_path_and_logs_the_attempt() {
    let logs = support::capture();
    let paused = retry_runtime::testing::pause();
    script(vec![ClipError::Timeout]);

    assert_eq!(clip_or_none("9").await.as_deref(), Some("/tmp/clips/9.mp4"));

    assert_eq!(calls(), 2);
    assert_eq!(paused.waits(), [Duration::from_secs(1)]);
    let ok = logs.assert_logged(Level::INFO, "download_clip succeeded on attempt 2");
    support::assert_fields(&ok, &[("attempt", "2"), ("max_attempts", "4")]);
}

/// AC4: a non-retriable error (404) is not retried: one call, no sleep.
#[tokio::test(start_paused = true)]
async fn ac4_not_found_fails_at_once_without_sleeping() {
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
// borrows it, so the annotated future is not `Send` (documented in docs/attribute.md;
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
