//! Story 001, "Migrate Services to Backoff Utility": the central utility's
//! manual retry loops become policies. Here the AI service (AC2, AC6), the
//! webhook (AC3), the snapshot fetch (AC4) and the log lines (AC7), all on
//! tokio's paused clock. The event store's sync write on SQLite (AC1) runs
//! against a real locked database in `service-stories/tests/services/event_store.rs`.
//!
//! The AI service's providers answer a result that may carry a 429, 500 or
//! 503 *inside* it (not as an error): `retry_if_ok` retries such an `Ok`,
//! with each provider's own policy (`policy = self.policy`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::Duration;

use reqwest::StatusCode;
use retry_runtime::{
    presets, retry, testing, AttemptTimeout, Backoff, Classify, KindSet, Policy, RetryOn,
};
use testkit::capture::{self, assert_fields, Captured};
use tokio::time::Instant;
use tracing::Level;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ---------------------------------------------------------------- AI service

/// What a provider answers: a description, or an error status inside the result.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AiResult {
    description: Option<String>,
    status: u16,
}

impl AiResult {
    /// 429, 500 and 503 are worth another attempt (the story's list).
    fn is_retryable(&self) -> bool {
        matches!(self.status, 429 | 500 | 503)
    }
}

/// The provider could not be reached at all.
#[derive(Debug, thiserror::Error, Classify)]
#[error("provider unreachable")]
#[classify(Connect)]
struct Unreachable;

/// Grok's own policy: 2 attempts, 0.5s apart (story P2-5.1 AC6).
const GROK: Policy<RetryOn> = Policy::new()
    .with_max_attempts(2)
    .with_backoff(Backoff::fixed(Duration::from_millis(500)))
    .with_name("grok")
    .retry_on(KindSet::TRANSIENT)
    .checked();

/// One provider: its policy, and the statuses it answers, one per call.
struct Provider {
    policy: Policy<RetryOn>,
    statuses: RefCell<VecDeque<u16>>,
    calls: Cell<u32>,
}

impl Provider {
    /// The provider configured under `name`, answering `statuses` in turn.
    fn configured(name: &str, statuses: &[u16]) -> Provider {
        let policy = match name {
            "grok" => GROK,
            // every other provider: 2s, 4s, 8s
            "claude" => presets::AI_PROVIDER.with_name("claude"),
            other => panic!("no provider {other}"),
        };
        Provider {
            policy,
            statuses: RefCell::new(statuses.iter().copied().collect()),
            calls: Cell::new(0),
        }
    }

    /// `_try_with_backoff`: one request; a 429/500/503 inside the result is retried.
    #[retry(policy = self.policy, retry_if_ok = AiResult::is_retryable)]
    async fn describe(&self, image: &str) -> Result<AiResult, Unreachable> {
        self.calls.set(self.calls.get() + 1);
        let status = self.statuses.borrow_mut().pop_front().ok_or(Unreachable)?;
        Ok(AiResult {
            description: (status == 200).then(|| format!("a person at the door in {image}")),
            status,
        })
    }

    /// `_try_multi_image_with_backoff`: the same policy and condition.
    #[retry(policy = self.policy, retry_if_ok = AiResult::is_retryable)]
    async fn describe_all(&self, images: &[&str]) -> Result<AiResult, Unreachable> {
        self.describe_once(&images.join(", "))
    }

    fn describe_once(&self, images: &str) -> Result<AiResult, Unreachable> {
        self.calls.set(self.calls.get() + 1);
        let status = self.statuses.borrow_mut().pop_front().ok_or(Unreachable)?;
        Ok(AiResult {
            description: (status == 200).then(|| format!("people in {images}")),
            status,
        })
    }
}

/// Ask grok, then claude: the first description wins.
async fn describe_with_fallback(providers: &[Provider], image: &str) -> Option<String> {
    for provider in providers {
        if let Ok(AiResult {
            description: Some(text),
            ..
        }) = provider.describe(image).await
        {
            return Some(text);
        }
    }
    None
}

/// Checks that each WARN line about `operation` carries the operation and
/// the attempt details (AC7), with these waits.
fn assert_retry_lines(logs: &Captured, operation: &str, max_attempts: &str, waits_ms: &[&str]) {
    let lines = logs.matching(Level::WARN, &format!("retrying {operation} after"));
    assert_eq!(lines.len(), waits_ms.len(), "{:#?}", logs.lines());
    for (n, (line, wait_ms)) in lines.iter().zip(waits_ms).enumerate() {
        let attempt = (n + 1).to_string();
        assert_fields(
            line,
            &[
                ("operation", operation),
                ("attempt", attempt.as_str()),
                ("max_attempts", max_attempts),
                ("wait_ms", wait_ms),
                ("wait_source", "backoff"),
            ],
        );
        assert!(capture::field(line, "error").is_some(), "{line}");
    }
}

/// AC2: the AI call retries a 429, then a 500, inside an `Ok` result, with
/// the provider's policy (2s, then 4s), and returns the description.
#[tokio::test(start_paused = true)]
async fn ac2_ai_call_retries_statuses_inside_the_result_with_its_policy() {
    let logs = capture::capture();
    let paused = testing::pause();
    let claude = Provider::configured("claude", &[429, 500, 200]);

    let answer = claude.describe("front.jpg").await.unwrap();

    assert_eq!(answer.status, 200);
    assert_eq!(claude.calls.get(), 3);
    assert_eq!(paused.waits(), [s(2), s(4)]);
    assert_retry_lines(&logs, "claude", "4", &["2000", "4000"]);
    logs.assert_logged(Level::INFO, "claude succeeded on attempt 3");

    // the multi-image call too; out of attempts, the last result comes back
    let claude = Provider::configured("claude", &[503; 4]);
    let paused = testing::pause();
    let last = claude.describe_all(&["a.jpg", "b.jpg"]).await.unwrap();
    assert_eq!((last.status, last.description), (503, None));
    assert_eq!(claude.calls.get(), 4);
    assert_eq!(paused.waits(), [s(2), s(4), s(8)]);
}

/// AC6: Grok keeps its own behaviour, 2 attempts 0.5s apart, then the
/// service falls back to the next provider (2s, 4s, 8s).
#[tokio::test(start_paused = true)]
async fn ac6_grok_keeps_2_attempts_half_a_second_apart() {
    let logs = capture::capture();
    let paused = testing::pause();
    let start = Instant::now();
    let providers = [
        Provider::configured("grok", &[503, 503]),
        Provider::configured("claude", &[429, 200]),
    ];

    let text = describe_with_fallback(&providers, "porch.jpg").await;

    assert_eq!(text.as_deref(), Some("a person at the door in porch.jpg"));
    assert_eq!(providers[0].calls.get(), 2);
    assert_eq!(providers[1].calls.get(), 2);
    assert_eq!(paused.waits(), [ms(500), s(2)]);
    assert_eq!(start.elapsed(), ms(2500));
    assert_retry_lines(&logs, "grok", "2", &["500"]);
    logs.assert_logged(Level::ERROR, "grok failed after 2 attempts");
}

// ------------------------------------------------------------------- webhook

/// A webhook answered with an error status.
#[derive(Debug, thiserror::Error, Classify)]
#[error("webhook answered {0}")]
#[classify(transparent)]
struct WebhookError(StatusCode);

thread_local! {
    static WEBHOOK_ANSWERS: RefCell<VecDeque<u16>> = const { RefCell::new(VecDeque::new()) };
    static WEBHOOK_CALLS: Cell<u32> = const { Cell::new(0) };
}

/// `_send_with_retries`: the `webhook` preset (4 attempts, 1s, 2s, 4s).
#[retry(preset = "webhook")]
async fn send_webhook(_payload: &str) -> Result<u16, WebhookError> {
    WEBHOOK_CALLS.with(|c| c.set(c.get() + 1));
    let code = WEBHOOK_ANSWERS
        .with(|a| a.borrow_mut().pop_front())
        .unwrap_or(200);
    let status = StatusCode::from_u16(code).unwrap();
    if status.is_success() {
        Ok(code)
    } else {
        Err(WebhookError(status))
    }
}

/// AC3: the webhook uses the `webhook` preset: 503s retried after 1s and 2s,
/// a 401 not retried.
#[tokio::test(start_paused = true)]
async fn ac3_webhook_uses_the_webhook_preset() {
    let logs = capture::capture();
    let paused = testing::pause();
    WEBHOOK_ANSWERS.with(|a| *a.borrow_mut() = [503, 503, 200].into());
    WEBHOOK_CALLS.with(|c| c.set(0));

    assert_eq!(send_webhook("{}").await.unwrap(), 200);
    assert_eq!(WEBHOOK_CALLS.with(Cell::get), 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
    assert_retry_lines(&logs, "send_webhook", "4", &["1000", "2000"]);

    WEBHOOK_ANSWERS.with(|a| *a.borrow_mut() = [401].into());
    WEBHOOK_CALLS.with(|c| c.set(0));
    let err = send_webhook("{}").await.unwrap_err();
    assert_eq!(err.0, StatusCode::UNAUTHORIZED);
    assert_eq!(WEBHOOK_CALLS.with(Cell::get), 1);
}

// ------------------------------------------------------------------ snapshot

/// Why one snapshot fetch failed.
#[derive(Debug, thiserror::Error, Classify)]
enum SnapshotError {
    /// The attempt outlasted its timeout (`asyncio.wait_for` in the story).
    #[error(transparent)]
    #[classify(transparent)]
    Timeout(#[from] AttemptTimeout),
    /// The camera answered nothing: the story treats it as a failure.
    #[error("empty snapshot")]
    #[classify(Unavailable)]
    Empty,
}

/// A camera: how long each call takes and what it answers.
struct Camera {
    answers: RefCell<VecDeque<(Duration, &'static [u8])>>,
    calls: Cell<u32>,
}

impl Camera {
    fn new(answers: &[(Duration, &'static [u8])]) -> Camera {
        Camera {
            answers: RefCell::new(answers.iter().copied().collect()),
            calls: Cell::new(0),
        }
    }

    /// The snapshot fetch: the `quick` preset (2 attempts, 500ms) and 2s per attempt.
    #[retry(preset = "quick", timeout = "2s")]
    async fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        self.calls.set(self.calls.get() + 1);
        let (delay, bytes) = self
            .answers
            .borrow_mut()
            .pop_front()
            .unwrap_or((ms(0), b""));
        tokio::time::sleep(delay).await;
        if bytes.is_empty() {
            return Err(SnapshotError::Empty);
        }
        Ok(bytes.to_vec())
    }
}

/// AC4: the snapshot fetch uses `quick` (2 attempts, 500ms) with a
/// per-attempt timeout: a camera that hangs is cut off after 2s and asked
/// again; an empty answer is a failure too; two failures give up.
#[tokio::test(start_paused = true)]
async fn ac4_snapshot_fetch_uses_quick_with_a_per_attempt_timeout() {
    let logs = capture::capture();
    let paused = testing::pause();
    let start = Instant::now();
    let hangs_then_answers = Camera::new(&[(s(30), b"late"), (ms(100), b"jpeg")]);

    assert_eq!(hangs_then_answers.snapshot().await.unwrap(), b"jpeg");
    assert_eq!(hangs_then_answers.calls.get(), 2);
    assert_eq!(paused.waits(), [ms(500)]);
    assert_eq!(start.elapsed(), s(2) + ms(500) + ms(100));
    let line = logs.assert_logged(Level::WARN, "retrying snapshot after attempt 1/2");
    assert_fields(&line, &[("error_kind", "Timeout")]);

    let empty_twice = Camera::new(&[(ms(10), b""), (ms(10), b"")]);
    assert!(matches!(
        empty_twice.snapshot().await,
        Err(SnapshotError::Empty)
    ));
    assert_eq!(empty_twice.calls.get(), 2);
    logs.assert_logged(Level::ERROR, "snapshot failed after 2 attempts");
}

/// AC7: every retry line of every migrated service names its operation and
/// carries the attempt details as fields (`operation`, `attempt`,
/// `max_attempts`, `wait_ms`, `wait_source`, `error`, `error_kind`); the
/// final line says why it stopped.
#[tokio::test(start_paused = true)]
async fn ac7_every_retry_line_names_the_operation_and_the_attempt() {
    let logs = capture::capture();
    let _paused = testing::pause();
    let grok = Provider::configured("grok", &[503, 503]);
    let _ = grok.describe("x.jpg").await;
    let camera = Camera::new(&[(ms(10), b""), (ms(10), b"jpeg")]);
    let _ = camera.snapshot().await;

    let retries = logs.matching(Level::WARN, "retrying");
    assert_eq!(retries.len(), 2, "{:#?}", logs.lines());
    for line in &retries {
        for key in [
            "operation",
            "attempt",
            "max_attempts",
            "wait_ms",
            "wait_source",
            "error",
            "error_kind",
        ] {
            assert!(capture::field(line, key).is_some(), "{key} missing: {line}");
        }
    }
    assert_fields(&retries[0], &[("operation", "grok"), ("attempt", "1")]);
    assert_fields(
        &retries[1],
        &[("operation", "snapshot"), ("error_kind", "Unavailable")],
    );
    let gave_up = logs.assert_logged(Level::ERROR, "grok failed after 2 attempts");
    assert_fields(
        &gave_up,
        &[("operation", "grok"), ("reason", "attempts exhausted")],
    );
}
