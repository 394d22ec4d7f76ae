//! docs/policies.md's "Failing over to another provider" over HTTP: the
//! recipe's `ask` (a copy, checked against the chapter's by
//! `ask_is_the_chapters`) with providers that POST to local fakes (axum on
//! 127.0.0.1:0) and read the status and `Retry-After` of the answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use retry_runtime::circuit::CircuitState;
use retry_runtime::clock::{Clock, SystemClock};
use retry_runtime::cooldown::Cooldown;
use retry_runtime::{presets, testing, timeout, AttemptTimeout, CircuitBreaker, CircuitOpen};
use retry_runtime::{Classify, ErrorKind, Policy, RetryError, RetryOn, StopReason, WithCircuit};
use tokio::time::Instant;
use tracing::Level;

const ATTEMPT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error(transparent)]
    Timeout(#[from] AttemptTimeout),
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error("no time left before the deadline")]
    NoTime,
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
}
impl Classify for ApiError {
    fn kind(&self) -> ErrorKind {
        match self {
            ApiError::Status { status: 429, .. } => ErrorKind::RateLimited,
            ApiError::Status { status: 500.., .. } => ErrorKind::Unavailable,
            ApiError::Status { .. } | ApiError::NoTime => ErrorKind::Permanent,
            ApiError::Timeout(_) => ErrorKind::Timeout,
            ApiError::Open(e) => e.kind(),
            ApiError::Transport(e) => e.kind(),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

struct Provider {
    name: &'static str,
    breaker: &'static CircuitBreaker,
    cooldown: &'static Cooldown,
    policy: Policy<RetryOn, WithCircuit>,
    url: String,
    client: reqwest::Client,
}
impl Provider {
    fn new(name: &'static str, url: String) -> Provider {
        let breaker = Box::leak(Box::new(CircuitBreaker::new(name)));
        let cooldown = Box::leak(Box::new(Cooldown::new(name)));
        let policy = presets::API
            .with_name(name)
            .with_give_up_level(tracing::Level::WARN)
            .with_cooldown(cooldown)
            .with_circuit(breaker);
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        Provider {
            name,
            breaker,
            cooldown,
            policy,
            url,
            client,
        }
    }
    async fn send(&self, prompt: &str) -> Result<String, ApiError> {
        let answer = self
            .client
            .post(&self.url)
            .body(prompt.to_owned())
            .send()
            .await?;
        let status = answer.status().as_u16();
        if status != 200 {
            let retry_after = (answer.headers().get("retry-after"))
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .map(Duration::from_secs);
            return Err(ApiError::Status {
                status,
                retry_after,
            });
        }
        Ok(answer.text().await?)
    }
}

// ---- the chapter's `ask` ----

/// The answer and the provider that served it, by `end` (on the library's clock).
async fn ask(
    providers: &[Provider],
    prompt: &str,
    end: Duration,
) -> Result<(&'static str, String), RetryError<ApiError>> {
    let mut last = RetryError::new("gateway", StopReason::Deadline, ApiError::NoTime);
    for p in providers {
        let left = end.saturating_sub(SystemClock.now());
        if p.cooldown.first_wait().unwrap_or_default() + ATTEMPT > left {
            // held past the deadline, or no time left: the deadline's error
            last = RetryError::new(p.name, StopReason::Deadline, ApiError::NoTime);
            continue;
        }
        let policy = p.policy.with_max_elapsed(left - ATTEMPT);
        let e = match policy
            .retry(|| timeout(ATTEMPT, p.send(prompt)))
            .detailed()
            .await
        {
            Ok(done) => return Ok((p.name, done.value)),
            Err(e) => e,
        };
        match (e.reason, &e.last_error) {
            (
                StopReason::Permanent,
                ApiError::Status {
                    status: 401 | 403, ..
                },
            ) => p.breaker.force_open(),
            (StopReason::Permanent, _) => return Err(e),
            _ => {} // Attempts, CircuitOpen, Deadline, Budget: the next provider
        }
        last = e;
    }
    tracing::error!(reason = ?last.reason, "gateway: no provider served: {last}");
    Err(last)
}

// ---- the fakes ----

/// A provider's answers to come (status, Retry-After), then 200s; the
/// requests it was sent.
#[derive(Default)]
struct Fake {
    name: &'static str,
    script: Mutex<VecDeque<(u16, Option<&'static str>)>>,
    hits: Mutex<u32>,
}
impl Fake {
    fn hits(&self) -> u32 {
        *self.hits.lock().unwrap()
    }
}

async fn answer(State(fake): State<Arc<Fake>>, prompt: String) -> Response {
    *fake.hits.lock().unwrap() += 1;
    let (status, after) = fake
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, None));
    let answer = (
        StatusCode::from_u16(status).unwrap(),
        format!("{}: {prompt}", fake.name),
    );
    let mut answer = answer.into_response();
    if let Some(after) = after {
        answer
            .headers_mut()
            .insert("retry-after", after.parse().unwrap());
    }
    answer
}

/// Providers A, B and C in turn, each with its fake and its script.
async fn gateway(scripts: [&[(u16, Option<&'static str>)]; 3]) -> (Vec<Provider>, [Arc<Fake>; 3]) {
    let names = ["provider_a", "provider_b", "local_c"];
    let mut fakes = Vec::new();
    let mut providers = Vec::new();
    for (name, script) in names.into_iter().zip(scripts) {
        let fake = Arc::new(Fake {
            name,
            script: Mutex::new(script.iter().copied().collect()),
            ..Fake::default()
        });
        let app = axum::Router::new()
            .route("/v1/chat", post(answer))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/chat", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        providers.push(Provider::new(name, url));
        fakes.push(fake);
    }
    (providers, fakes.try_into().ok().unwrap())
}

fn deadline() -> Duration {
    SystemClock.now() + Duration::from_secs(10)
}

#[tokio::test(start_paused = true)]
async fn a_provider_down_fails_over_with_no_error_line() {
    let (providers, [a, b, _]) = gateway([&[(503, None); 3], &[], &[]]).await;
    let logs = testing::capture_logs().unwrap();
    let served = ask(&providers, "hi", deadline()).await.unwrap();
    assert_eq!(served, ("provider_b", "provider_b: hi".to_owned()));
    assert_eq!((a.hits(), b.hits()), (3, 1));
    assert_eq!(logs.count(Level::ERROR), 0, "{logs}");
    assert_eq!(logs.records_at(Level::WARN).len(), 3, "{logs}"); // two retries, a give-up
}

#[tokio::test(start_paused = true)]
async fn a_400_is_returned_at_once() {
    let (providers, [a, b, _]) = gateway([&[(400, None)], &[], &[]]).await;
    let e = ask(&providers, "bad", deadline()).await.unwrap_err();
    assert_eq!(
        (e.operation, e.reason, e.attempts),
        ("provider_a", StopReason::Permanent, 1)
    );
    assert_eq!((a.hits(), b.hits()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_401_switches_its_provider_off() {
    let (providers, [a, b, _]) = gateway([&[(401, None)], &[], &[]]).await;
    assert_eq!(
        ask(&providers, "hi", deadline()).await.unwrap().0,
        "provider_b"
    );
    assert_eq!(providers[0].breaker.state(), CircuitState::Open);
    assert_eq!(
        ask(&providers, "hi", deadline()).await.unwrap().0,
        "provider_b"
    );
    assert_eq!((a.hits(), b.hits()), (1, 2)); // open: A not called again
}

#[tokio::test(start_paused = true)]
async fn a_429_asking_past_the_deadline_fails_over_at_once() {
    let (providers, [a, b, _]) = gateway([&[(429, Some("30"))], &[], &[]]).await;
    let start = Instant::now();
    assert_eq!(
        ask(&providers, "hi", deadline()).await.unwrap().0,
        "provider_b"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        ask(&providers, "hi", deadline()).await.unwrap().0,
        "provider_b"
    );
    assert_eq!((a.hits(), b.hits()), (1, 2)); // held: A skipped
}

/// The copy of `ask` above is the chapter's (whitespace aside).
#[test]
fn ask_is_the_chapters() {
    let chapter = include_str!("../../docs/policies.md");
    let section = chapter
        .split("\n## Failing over to another provider\n")
        .nth(1)
        .unwrap();
    let from = |text: &'static str| {
        let start = text.find("/// The answer and the provider").unwrap();
        let body = &text[start..];
        &body[..body.find("\n}\n").unwrap()]
    };
    crate::recipe_copy::assert_same_code(
        from(section),
        from(include_str!("failover.rs")),
        &[("{p.breaker.force_open()}", "p.breaker.force_open(),")],
    );
}

/// Every provider down: the gateway's own ERROR line, once a request
/// (the providers' give-ups are WARN); a provider skipped for the time
/// left (held by its 429) is told as the deadline (it gave the provider
/// before's `Attempts`, a review's).
#[tokio::test(start_paused = true)]
async fn every_provider_down_is_one_error_line_and_a_skip_is_the_deadline() {
    let down = [(503, None); 6];
    let (providers, [_, _, c]) = gateway([&down, &down, &[(429, Some("30"))]]).await;
    let logs = testing::capture_logs().unwrap();
    let e = ask(&providers, "hi", deadline()).await.unwrap_err();
    assert_eq!((e.operation, e.reason), ("local_c", StopReason::Deadline));
    assert_eq!(logs.count(Level::ERROR), 1, "{logs}");
    assert!(
        logs.lines_at(Level::ERROR)[0].contains("gateway: no provider served"),
        "{logs}"
    );
    // C is held 30 s: skipped, not called, told as the deadline
    let e = ask(&providers, "hi", deadline()).await.unwrap_err();
    assert_eq!(
        (e.operation, e.reason, e.attempts, c.hits()),
        ("local_c", StopReason::Deadline, 0, 1)
    );
    assert_eq!(logs.count(Level::ERROR), 2, "{logs}");
}
