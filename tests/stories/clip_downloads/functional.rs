//! The clip-download story (000) through the functional API, sync and async:
//! AC1 (waits 1s, 2s, 4s; each retry logged), AC3 (success after retries,
//! logged), AC4 (a 404 at once), with every captured log line checked.
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
        .with_max_attempts(4)
        .with_backoff(Backoff::exponential(s(1), s(4)))
        .with_name("download_clip")
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

/// One scenario: the answer of each call, and what the run comes to.
struct Scenario {
    answer: fn(u32) -> Result<PathBuf, ClipError>,
    out: Result<PathBuf, ClipError>,
    calls: u32,
    waits: Vec<Duration>,
    check_logs: fn(&Captured),
}

impl Scenario {
    /// `calls` calls, with `waits` (seconds) between them.
    fn new(
        answer: fn(u32) -> Result<PathBuf, ClipError>,
        out: Result<PathBuf, ClipError>,
        calls: u32,
        waits: &[u64],
        check_logs: fn(&Captured),
    ) -> Scenario {
        let waits = waits.iter().map(|&n| s(n)).collect();
        Scenario {
            answer,
            out,
            calls,
            waits,
            check_logs,
        }
    }
}

fn timeout_twice_then_success() -> Scenario {
    Scenario::new(
        timeout_twice_then_ok,
        Ok(clip_path()),
        3,
        &[1, 2],
        check_success_logs,
    )
}

fn connect_four_times() -> Scenario {
    Scenario::new(
        always_connect,
        Err(ClipError::Connect(4)),
        4,
        &[1, 2, 4],
        check_exhausted_logs,
    )
}

fn permanent_error() -> Scenario {
    Scenario::new(
        not_found,
        Err(ClipError::NotFound(1)),
        1,
        &[],
        check_permanent_logs,
    )
}

/// `Policy::retry` under `testing::pause()`.
fn run_sync(scenario: Scenario) {
    let logs = support::capture();
    let paused = testing::pause();
    let mut calls = 0;
    let out = clip_policy()
        .retry(|| {
            calls += 1;
            (scenario.answer)(calls)
        })
        .call();
    assert_eq!(out, scenario.out);
    assert_eq!(calls, scenario.calls);
    assert_eq!(paused.waits(), scenario.waits);
    (scenario.check_logs)(&logs);
}

/// `policy.retry(..).await` on tokio's paused clock.
async fn run_async(scenario: Scenario) {
    let logs = support::capture();
    let paused = testing::pause();
    let start = tokio::time::Instant::now();
    let mut calls = 0;
    let out = clip_policy()
        .retry(|| {
            calls += 1;
            let n = calls;
            async move { (scenario.answer)(n) }
        })
        .await;
    assert_eq!(out, scenario.out);
    assert_eq!(calls, scenario.calls);
    assert_eq!(paused.waits(), scenario.waits);
    // the waits were slept on tokio's (paused, auto-advancing) clock
    assert_eq!(start.elapsed(), scenario.waits.iter().sum::<Duration>());
    (scenario.check_logs)(&logs);
}

// ---- sync: Policy::retry under testing::pause() ----

#[test]
fn sync_timeout_twice_then_success_is_called_3_times_waits_1s_2s() {
    run_sync(timeout_twice_then_success());
}

#[test]
fn sync_connect_four_times_returns_the_4th_error_after_waits_1s_2s_4s() {
    run_sync(connect_four_times());
}

#[test]
fn sync_permanent_error_is_called_once_and_never_sleeps() {
    run_sync(permanent_error());
}

// ---- async: policy.retry(..).await on tokio's paused clock ----

#[tokio::test(start_paused = true)]
async fn async_timeout_twice_then_success_is_called_3_times_waits_1s_2s() {
    run_async(timeout_twice_then_success()).await;
}

#[tokio::test(start_paused = true)]
async fn async_connect_four_times_returns_the_4th_error_after_waits_1s_2s_4s() {
    run_async(connect_four_times()).await;
}

#[tokio::test(start_paused = true)]
async fn async_permanent_error_is_called_once_and_never_sleeps() {
    run_async(permanent_error()).await;
}
