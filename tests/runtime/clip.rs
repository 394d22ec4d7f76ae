//! The clip-download scenario, end to end
//! through the functional API, sync and async, with the captured log lines.
//!
//! Policy: 4 attempts, exponential 1s..4s, retry on Timeout | Connect.

use testkit::capture as support;

use std::path::PathBuf;
use std::time::Duration;

use retry_runtime::{testing, Backoff, Classify, ErrorKind, Policy, RetryOn};
use support::{assert_fields, Captured};
use tracing::Level;

/// The error of one download call; carries the call number so a test can
/// tell which attempt's error came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum ClipError {
    #[error("timed out fetching the clip (call {0})")]
    Timeout(u32),
    #[error("connection refused (call {0})")]
    Connect(u32),
    #[error("clip not found (call {0})")]
    NotFound(u32),
}

impl Classify for ClipError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClipError::Timeout(_) => ErrorKind::Timeout,
            ClipError::Connect(_) => ErrorKind::Connect,
            ClipError::NotFound(_) => ErrorKind::Permanent,
        }
    }
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn clip_policy() -> Policy<RetryOn> {
    // `|` on kinds is fine at runtime; a `const` would write kinds![Timeout | Connect].
    Policy::new()
        .attempts(4)
        .backoff(Backoff::exponential(s(1), s(4)))
        .named("download_clip")
        .retry_on(ErrorKind::Timeout | ErrorKind::Connect)
}

fn clip_path() -> PathBuf {
    PathBuf::from("/clips/42.mp4")
}

/// The answer of call number `n` (from 1) of each scenario.
fn timeout_twice_then_ok(n: u32) -> Result<PathBuf, ClipError> {
    if n <= 2 {
        Err(ClipError::Timeout(n))
    } else {
        Ok(clip_path())
    }
}

fn always_connect(n: u32) -> Result<PathBuf, ClipError> {
    Err(ClipError::Connect(n))
}

fn not_found(n: u32) -> Result<PathBuf, ClipError> {
    Err(ClipError::NotFound(n))
}

fn check_success_logs(logs: &Captured) {
    let retrying = logs.matching(Level::WARN, "retrying download_clip");
    assert_eq!(retrying.len(), 2, "{:#?}", logs.lines());
    for (line, (attempt, wait_ms)) in retrying.iter().zip([("1", "1000"), ("2", "2000")]) {
        assert_fields(
            line,
            &[
                ("operation", "download_clip"),
                ("attempt", attempt),
                ("max_attempts", "4"),
                ("wait_ms", wait_ms),
                ("error_kind", "Timeout"),
            ],
        );
    }
    assert_fields(
        &retrying[0],
        &[("error", "timed out fetching the clip (call 1)")],
    );
    assert!(
        retrying[0].contains("after attempt 1/4 failed")
            && retrying[0].contains("next attempt in 1s"),
        "{}",
        retrying[0]
    );
    let ok = logs.assert_logged(Level::INFO, "download_clip succeeded on attempt 3");
    assert_fields(&ok, &[("attempt", "3"), ("max_attempts", "4")]);
    assert!(logs.at(Level::ERROR).is_empty(), "{:#?}", logs.lines());
    logs.assert_not_logged("non-retriable");
    assert_eq!(logs.lines().len(), 3, "{:#?}", logs.lines());
}

fn check_exhausted_logs(logs: &Captured) {
    let retrying = logs.matching(Level::WARN, "retrying download_clip");
    assert_eq!(retrying.len(), 3, "{:#?}", logs.lines());
    let expected = [("1", "1000"), ("2", "2000"), ("3", "4000")];
    for (line, (attempt, wait_ms)) in retrying.iter().zip(expected) {
        assert_fields(
            line,
            &[
                ("attempt", attempt),
                ("max_attempts", "4"),
                ("wait_ms", wait_ms),
                ("error_kind", "Connect"),
            ],
        );
    }
    let failed = logs.assert_logged(Level::ERROR, "download_clip failed after 4 attempts");
    assert_fields(
        &failed,
        &[
            ("operation", "download_clip"),
            ("attempt", "4"),
            ("max_attempts", "4"),
            ("error", "connection refused (call 4)"),
            ("error_kind", "Connect"),
            ("reason", "attempts exhausted"),
        ],
    );
    assert!(logs.at(Level::INFO).is_empty(), "{:#?}", logs.lines());
}

fn check_permanent_logs(logs: &Captured) {
    let line = logs.assert_logged(Level::WARN, "non-retriable");
    assert!(
        line.contains("download_clip failed with a non-retriable error on attempt 1"),
        "{line}"
    );
    assert_fields(
        &line,
        &[
            ("attempt", "1"),
            ("max_attempts", "4"),
            ("error", "clip not found (call 1)"),
            ("error_kind", "Permanent"),
        ],
    );
    logs.assert_not_logged("retrying");
    assert!(logs.at(Level::ERROR).is_empty(), "{:#?}", logs.lines());
    assert_eq!(logs.lines().len(), 1, "{:#?}", logs.lines());
}

// ---- sync: Policy::retry under testing::pause() ----

#[test]
fn sync_timeout_twice_then_success_is_called_3_times_waits_1s_2s() {
    let logs = support::capture();
    let paused = testing::pause();
    let mut calls = 0;
    let out = clip_policy().retry(|| {
        calls += 1;
        timeout_twice_then_ok(calls)
    });
    assert_eq!(out, Ok(clip_path()));
    assert_eq!(calls, 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
    check_success_logs(&logs);
}

#[test]
fn sync_connect_four_times_returns_the_4th_error_after_waits_1s_2s_4s() {
    let logs = support::capture();
    let paused = testing::pause();
    let mut calls = 0;
    let out = clip_policy().retry(|| {
        calls += 1;
        always_connect(calls)
    });
    assert_eq!(out, Err(ClipError::Connect(4)));
    assert_eq!(calls, 4);
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    check_exhausted_logs(&logs);
}

#[test]
fn sync_permanent_error_is_called_once_and_never_sleeps() {
    let logs = support::capture();
    let paused = testing::pause();
    let mut calls = 0;
    let out = clip_policy().retry(|| {
        calls += 1;
        not_found(calls)
    });
    assert_eq!(out, Err(ClipError::NotFound(1)));
    assert_eq!(calls, 1);
    assert!(paused.waits().is_empty(), "{:?}", paused.waits());
    check_permanent_logs(&logs);
}

// ---- async: Policy::retry_async on tokio's paused clock ----

#[tokio::test(start_paused = true)]
async fn async_timeout_twice_then_success_is_called_3_times_waits_1s_2s() {
    let logs = support::capture();
    let paused = testing::pause();
    let start = tokio::time::Instant::now();
    let mut calls = 0;
    let out = clip_policy()
        .retry_async(|| {
            calls += 1;
            let n = calls;
            async move { timeout_twice_then_ok(n) }
        })
        .await;
    assert_eq!(out, Ok(clip_path()));
    assert_eq!(calls, 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
    // the waits were slept on tokio's (paused, auto-advancing) clock
    assert_eq!(start.elapsed(), s(3));
    check_success_logs(&logs);
}

#[tokio::test(start_paused = true)]
async fn async_connect_four_times_returns_the_4th_error_after_waits_1s_2s_4s() {
    let logs = support::capture();
    let paused = testing::pause();
    let start = tokio::time::Instant::now();
    let mut calls = 0;
    let out = clip_policy()
        .retry_async(|| {
            calls += 1;
            let n = calls;
            async move { always_connect(n) }
        })
        .await;
    assert_eq!(out, Err(ClipError::Connect(4)));
    assert_eq!(calls, 4);
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    assert_eq!(start.elapsed(), s(7));
    check_exhausted_logs(&logs);
}

#[tokio::test(start_paused = true)]
async fn async_permanent_error_is_called_once_and_never_sleeps() {
    let logs = support::capture();
    let paused = testing::pause();
    let start = tokio::time::Instant::now();
    let mut calls = 0;
    let out = clip_policy()
        .retry_async(|| {
            calls += 1;
            let n = calls;
            async move { not_found(n) }
        })
        .await;
    assert_eq!(out, Err(ClipError::NotFound(1)));
    assert_eq!(calls, 1);
    assert!(paused.waits().is_empty(), "{:?}", paused.waits());
    assert_eq!(start.elapsed(), Duration::ZERO);
    check_permanent_logs(&logs);
}
