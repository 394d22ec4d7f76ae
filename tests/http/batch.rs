//! docs/where-retries-go.md's "A batch API that answers per item": a push sender
//! that sends chunks of device tokens to a local fake provider (axum on
//! 127.0.0.1:0), whose 200 lists a result per token. Every token is
//! accounted for exactly once (delivered, invalid, not delivered, or sent
//! with its answer lost), none is delivered twice, a per-item failure
//! neither opens the provider's breaker nor holds its shared cooldown, and
//! a whole-request 429 does hold it.
//!
//! The recipe's guards are statics; here each test has its own, leaked
//! (`Provider::leaked`), so tests do not share a hold, a budget or a breaker.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::post;
use retry_runtime::circuit::CircuitState;
use retry_runtime::classify::never_sent;
use retry_runtime::clock::{Clock, SystemClock};
use retry_runtime::cooldown::Cooldown;
use retry_runtime::policy::WithCircuit;
use retry_runtime::reqwest::{error_for_status, HttpError};
use retry_runtime::retry_after::retry_after_hint;
use retry_runtime::{
    kinds, presets, retry, testing, Causes, CircuitBreaker, CircuitOpen, Classify, ErrorKind,
    KindSet, Nested, Policy, RetryBudget, RetryError, RetryOn, RetryOnOrIf,
};
use serde::{Deserialize, Serialize};

// ---- the sender, as the recipe writes it ----

const CHUNK: usize = 100;
/// The longest one request may take (the deadline keeps it free).
const ATTEMPT: Duration = Duration::from_secs(5);
/// The longest one device's wait holds its chunk (and the chunks after it).
const ITEM_WAIT: Duration = Duration::from_secs(5);
/// Jobs sending at once, one request in flight each: the budget's size.
const JOBS: u32 = 20;

#[derive(Serialize, Deserialize)]
struct SendRequest {
    message: String,
    tokens: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ItemResult {
    token: String,
    /// ok | invalid_token | unavailable | rate_limited
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct SendResponse {
    results: Vec<ItemResult>,
}

/// Why one request failed as a whole.
#[derive(Debug, thiserror::Error, Classify)]
enum Cause {
    #[error("{}", Causes(.0))]
    #[classify(transparent)]
    Http(reqwest::Error),
    #[error(transparent)]
    #[classify(transparent)]
    Status(HttpError),
    /// a 200 whose body is not the list: the provider may have acted
    #[error("unreadable answer: {0}")]
    #[classify(Unknown)]
    Answer(serde_json::Error),
}

/// One request's failure, with how many tokens it carried: its retry line
/// says "request for 40 tokens failed: ...".
#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("request for {pending} tokens failed: {cause}")]
    Failed { pending: usize, cause: Cause },
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

impl Classify for SendError {
    fn kind(&self) -> ErrorKind {
        match self {
            // not retried: a 5xx other than 503 may follow the provider's work
            SendError::Failed {
                cause: Cause::Status(e),
                ..
            } if maybe_applied(e) => ErrorKind::Unknown,
            SendError::Failed { cause, .. } => cause.kind(),
            SendError::Open(open) => open.kind(),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Failed { cause, .. } => cause.retry_after(),
            SendError::Open(open) => open.retry_after(),
        }
    }
}

/// A 429 or a 503 says nothing was applied; any other 5xx (a gateway's
/// 504 after the provider delivered) does not.
fn maybe_applied(e: &HttpError) -> bool {
    e.status().is_server_error() && e.status() != StatusCode::SERVICE_UNAVAILABLE
}

impl SendError {
    /// Did the request reach the provider, which may have acted on it? A
    /// 429, 503 or 4xx did not; a request never sent did not.
    fn maybe_applied(&self) -> bool {
        match self {
            SendError::Failed {
                cause: Cause::Http(e),
                ..
            } => !never_sent(e),
            SendError::Failed {
                cause: Cause::Answer(_),
                ..
            } => true,
            SendError::Failed {
                cause: Cause::Status(e),
                ..
            } => maybe_applied(e),
            SendError::Open(_) => false,
        }
    }
}

fn unsent(e: &SendError) -> bool {
    matches!(e, SendError::Failed { cause: Cause::Http(e), .. } if never_sent(e))
}

/// One chunk's attempt failed: some tokens are left, or its request gave up.
#[derive(Debug, thiserror::Error, Classify)]
enum ChunkError {
    #[error("{left} of the {sent} tokens sent not delivered yet ({unavailable} unavailable, {limited} rate limited)")]
    #[classify(Unavailable, retry_after = wait)]
    ItemsUnavailable {
        left: usize,
        sent: usize,
        unavailable: usize,
        limited: usize,
        wait: Option<Duration>,
    },
    #[error("{left} of the {sent} tokens sent not delivered yet ({unavailable} unavailable, {limited} rate limited)")]
    #[classify(RateLimited, retry_after = wait)]
    ItemsLimited {
        left: usize,
        sent: usize,
        unavailable: usize,
        limited: usize,
        wait: Option<Duration>,
    },
    #[error(transparent)]
    #[classify(Permanent, why = "its request gave up; the chunk is not sent again")]
    Request(RetryError<SendError>),
    #[error("{left} tokens not sent: no time left before the job's deadline")]
    #[classify(Timeout)]
    NoTime { left: usize },
}

type RequestPolicy = Policy<RetryOnOrIf<fn(&SendError) -> bool>, WithCircuit>;

/// What one provider shares between every job: its cooldown (a 429 holds
/// them all), a retry budget sized for `JOBS` at once, a breaker that a
/// 429 does not open.
#[derive(Clone, Copy)]
struct Provider {
    cooldown: &'static Cooldown,
    budget: &'static RetryBudget,
    breaker: &'static CircuitBreaker,
}

impl Provider {
    fn leaked(name: &'static str) -> Provider {
        Provider {
            cooldown: Box::leak(Box::new(Cooldown::new(name))),
            budget: Box::leak(Box::new(RetryBudget::new(name).with_max_tokens(2 * JOBS))),
            breaker: Box::leak(Box::new(
                CircuitBreaker::new(name)
                    .with_neutral_kinds(kinds![RateLimited])
                    .with_failures(2 * JOBS)
                    .with_failure_kinds(KindSet::TRANSIENT),
            )),
        }
    }

    /// Whole requests: only what was never applied is sent again (a 429, a
    /// 503, a refused connection), through the shared guards.
    fn request(&self) -> RequestPolicy {
        presets::API
            .with_name("push.request")
            .retry_on(kinds![RateLimited | Unavailable])
            .or_retry_if(unsent as fn(&SendError) -> bool)
            .with_nested(Nested::Retry)
            .with_budget(self.budget)
            .with_cooldown(self.cooldown)
            .with_circuit(self.breaker)
    }

    /// The tokens left after a 200: no cooldown (one device's wait is this
    /// run's), no breaker (one device says nothing of the provider), no
    /// budget (one layer per guard: the request's); a device's wait capped.
    fn items(&self) -> Policy<RetryOn> {
        presets::API
            .with_name("push.items")
            .retry_on(kinds![RateLimited | Unavailable])
            .with_retry_after(presets::API.retry_after().with_cap(ITEM_WAIT))
    }
}

#[derive(Debug, Default)]
struct Chunk {
    pending: Vec<String>,
    delivered: Vec<String>,
    invalid: Vec<String>,
    failed: Vec<(String, String)>,
    unknown: Vec<(String, String)>,
}

async fn post_once(
    client: &reqwest::Client,
    url: &str,
    message: &str,
    tokens: &[String],
) -> Result<(SendResponse, Option<Duration>), SendError> {
    let failed = |cause| SendError::Failed {
        pending: tokens.len(),
        cause,
    };
    let body = SendRequest {
        message: message.into(),
        tokens: tokens.to_vec(),
    };
    let resp = client
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .send()
        .await
        .map_err(|e| failed(Cause::Http(e)))?;
    let resp = error_for_status(resp)
        .await
        .map_err(|e| failed(Cause::Status(e)))?;
    let wait = retry_after_hint(resp.headers()); // a 200's own, before the body
    let bytes = resp.bytes().await.map_err(|e| failed(Cause::Http(e)))?;
    let parsed: SendResponse =
        serde_json::from_slice(&bytes).map_err(|e| failed(Cause::Answer(e)))?;
    Ok((parsed, wait))
}

#[retry(policy = items)]
async fn send_chunk(
    client: &reqwest::Client,
    url: &str,
    message: &str,
    provider: Provider,
    end: Duration,
    chunk: &mut Chunk,
    items: Policy<RetryOn>,
) -> Result<(), ChunkError> {
    let left = end.saturating_sub(SystemClock.now());
    // the request's first attempt waits out the cooldown's hold (another
    // job's 429), which no max_elapsed bounds: not past the deadline
    if provider.cooldown.first_wait().unwrap_or_default() + ATTEMPT > left {
        return Err(ChunkError::NoTime {
            left: chunk.pending.len(),
        });
    }
    let request = provider
        .request()
        .with_max_elapsed(left.saturating_sub(ATTEMPT));
    let pending = &chunk.pending;
    let (answer, header_wait) = request
        .retry(|| post_once(client, url, message, pending))
        .detailed()
        .await
        .map_err(ChunkError::Request)?
        .value;
    let sent = chunk.pending.len();
    let (mut unavailable, mut limited, mut wait) = (0, 0, header_wait);
    let mut answered: HashMap<String, ItemResult> = answer
        .results
        .into_iter()
        .map(|r| (r.token.clone(), r))
        .collect();
    for token in std::mem::take(&mut chunk.pending) {
        let Some(r) = answered.remove(&token) else {
            chunk.unknown.push((token, "sent, no result for it".into()));
            continue;
        };
        match r.status.as_str() {
            "ok" => chunk.delivered.push(token),
            "invalid_token" => chunk.invalid.push(token),
            "unavailable" => {
                unavailable += 1;
                chunk.pending.push(token);
            }
            "rate_limited" => match r.retry_after_ms.map(Duration::from_millis) {
                Some(asked) if asked > ITEM_WAIT => chunk
                    .failed
                    .push((token, format!("rate limited for {asked:?}, past ITEM_WAIT"))),
                asked => {
                    limited += 1;
                    wait = wait.max(asked);
                    chunk.pending.push(token);
                }
            },
            // a result this code does not know (`queued`?): not sent again
            other => chunk
                .unknown
                .push((token, format!("sent, result `{other}`"))),
        }
    }
    let left = chunk.pending.len();
    match (left, limited) {
        (0, _) => Ok(()),
        (_, 0) => Err(ChunkError::ItemsUnavailable {
            left,
            sent,
            unavailable,
            limited,
            wait,
        }),
        _ => Err(ChunkError::ItemsLimited {
            left,
            sent,
            unavailable,
            limited,
            wait,
        }),
    }
}

#[derive(Debug, Default)]
struct Report {
    delivered: Vec<String>,
    invalid: Vec<String>,
    /// not delivered (never applied), and why
    failed: Vec<(String, String)>,
    /// sent, the answer lost: not sent again, to be checked
    unknown: Vec<(String, String)>,
}

async fn send_job(
    client: &reqwest::Client,
    url: &str,
    provider: Provider,
    deadline: Duration,
    message: &str,
    tokens: &[String],
) -> Report {
    let end = SystemClock.now() + deadline;
    let mut report = Report::default();
    // a token listed twice would be sent twice: each once
    let mut seen = HashSet::new();
    let tokens: Vec<String> = tokens.iter().filter(|t| seen.insert(*t)).cloned().collect();
    for chunk_tokens in tokens.chunks(CHUNK) {
        let mut chunk = Chunk {
            pending: chunk_tokens.to_vec(),
            ..Chunk::default()
        };
        let left = end.saturating_sub(SystemClock.now());
        let items = provider
            .items()
            .with_max_elapsed(left.saturating_sub(ATTEMPT));
        let result = send_chunk(client, url, message, provider, end, &mut chunk, items).await;
        report.delivered.append(&mut chunk.delivered);
        report.invalid.append(&mut chunk.invalid);
        report.failed.append(&mut chunk.failed);
        report.unknown.append(&mut chunk.unknown);
        let gave_up = match result {
            Ok(()) => continue,
            Err(e) => e,
        };
        let why = gave_up.to_string();
        let unknown = matches!(&gave_up, ChunkError::Request(e) if e.last_error.maybe_applied());
        let into = if unknown {
            &mut report.unknown
        } else {
            &mut report.failed
        };
        into.extend(chunk.pending.into_iter().map(|t| (t, why.clone())));
    }
    report
}

// ---- the fake provider ----

#[derive(Debug, Clone)]
enum Fault {
    /// 429 with `Retry-After: secs`, nothing processed
    TooMany(u64),
    /// 503, nothing processed
    Busy,
    /// a normal answer (a place in the queue)
    Answer,
    /// every token processed (delivered), then the 200's body cut midway
    CutAfterProcessing,
    /// a normal answer, an hour late
    Hang,
    /// every token processed (delivered), then this status (a gateway's 504)
    ProcessThen(u16),
}

#[derive(Default)]
struct Inner {
    faults: VecDeque<Fault>,
    /// per token, the outcomes of its next sends ("unavailable",
    /// "rate_limited:4000"); then "ok"
    script: HashMap<String, VecDeque<String>>,
    delivered: HashMap<String, u32>,
    requests: Vec<(tokio::time::Instant, usize)>,
    /// how long every answer takes
    slow: Duration,
    /// every request hangs
    hang_all: bool,
    /// requests a second it takes; beyond, a 429 with `Retry-After: 1`
    rate: Option<usize>,
    too_many: usize,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<Inner>>);

impl Fake {
    fn fault(&self, f: Fault) -> &Self {
        self.0.lock().unwrap().faults.push_back(f);
        self
    }
    fn script(&self, token: &str, outcomes: &[&str]) -> &Self {
        let queue = outcomes.iter().map(|s| s.to_string()).collect();
        self.0.lock().unwrap().script.insert(token.into(), queue);
        self
    }
    fn slow(&self, each: Duration) -> &Self {
        self.0.lock().unwrap().slow = each;
        self
    }
    fn request_sizes(&self) -> Vec<usize> {
        self.0
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|r| r.1)
            .collect()
    }
    fn request_times(&self) -> Vec<tokio::time::Instant> {
        self.0
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|r| r.0)
            .collect()
    }
    fn delivered(&self, token: &str) -> u32 {
        *self.0.lock().unwrap().delivered.get(token).unwrap_or(&0)
    }
    fn duplicates(&self) -> Vec<String> {
        let inner = self.0.lock().unwrap();
        let mut twice: Vec<String> = inner
            .delivered
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(t, _)| t.clone())
            .collect();
        twice.sort();
        twice
    }

    async fn start(&self) -> String {
        let app = axum::Router::new()
            .route("/v1/send", post(answer))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/v1/send")
    }
}

fn process(inner: &mut Inner, tokens: &[String]) -> Vec<ItemResult> {
    let mut results = Vec::new();
    for token in tokens {
        let outcome = if token.starts_with("bad-") {
            "invalid_token".to_string()
        } else {
            inner
                .script
                .get_mut(token)
                .and_then(|q| q.pop_front())
                .unwrap_or_else(|| "ok".into())
        };
        let (status, retry_after_ms) = match outcome.split_once(':') {
            Some((s, ms)) => (s.to_string(), Some(ms.parse().unwrap())),
            None => (outcome, None),
        };
        if status == "ok" {
            *inner.delivered.entry(token.clone()).or_default() += 1;
        }
        results.push(ItemResult {
            token: token.clone(),
            status,
            retry_after_ms,
        });
    }
    results
}

async fn answer(State(fake): State<Fake>, headers: axum::http::HeaderMap, body: Bytes) -> Response {
    if headers
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v != "application/json")
    {
        return Response::builder()
            .status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .body(Body::from("application/json only"))
            .unwrap();
    }
    let req: SendRequest = serde_json::from_slice(&body).unwrap();
    let (fault, slow) = {
        let mut inner = fake.0.lock().unwrap();
        let now = tokio::time::Instant::now();
        inner.requests.push((now, req.tokens.len()));
        let second = s(1);
        let in_last_second = inner.requests.iter().filter(|r| now - r.0 < second).count();
        let fault = if inner.hang_all {
            Some(Fault::Hang)
        } else if inner.rate.is_some_and(|rate| in_last_second > rate) {
            inner.too_many += 1;
            Some(Fault::TooMany(1))
        } else {
            inner.faults.pop_front()
        };
        (fault, inner.slow)
    };
    tokio::time::sleep(slow).await;
    if let Some(Fault::Hang) = fault {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let mut inner = fake.0.lock().unwrap();
    let reply = Response::builder();
    match fault {
        Some(Fault::TooMany(secs)) => reply
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, secs.to_string())
            .body(Body::from("slow down")),
        Some(Fault::Busy) => reply
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(Body::from("busy")),
        Some(Fault::ProcessThen(code)) => {
            process(&mut inner, &req.tokens);
            reply.status(code).body(Body::from("gateway"))
        }
        Some(Fault::CutAfterProcessing) => {
            let results = process(&mut inner, &req.tokens);
            let json = serde_json::to_vec(&SendResponse { results }).unwrap();
            let half = Bytes::copy_from_slice(&json[..json.len() / 2]);
            let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut");
            let parts: Vec<Result<Bytes, std::io::Error>> = vec![Ok(half), Err(cut)];
            reply
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures_util::stream::iter(parts)))
        }
        Some(Fault::Answer | Fault::Hang) | None => {
            let results = process(&mut inner, &req.tokens);
            let json = serde_json::to_vec(&SendResponse { results }).unwrap();
            reply
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json))
        }
    }
    .unwrap()
}

// ---- the tests ----

fn tokens(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

/// The recipe's client: `ATTEMPT` bounds each request.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(ATTEMPT)
        .build()
        .unwrap()
}

const DEADLINE: Duration = Duration::from_secs(30);

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Every token of `input` once in the report; none delivered twice; what
/// the report says was delivered was, once; what it says failed was not.
fn assert_exactly_once(fake: &Fake, report: &Report, input: &[String]) {
    let mut all: Vec<&String> = report
        .delivered
        .iter()
        .chain(&report.invalid)
        .chain(report.failed.iter().map(|f| &f.0))
        .chain(report.unknown.iter().map(|f| &f.0))
        .collect();
    all.sort();
    let mut want: Vec<&String> = input.iter().collect();
    want.sort();
    assert_eq!(all, want, "every token exactly once in the report");
    assert!(
        fake.duplicates().is_empty(),
        "delivered twice: {:?}",
        fake.duplicates()
    );
    for t in &report.delivered {
        assert_eq!(fake.delivered(t), 1, "{t}");
    }
    for (t, _) in &report.failed {
        assert_eq!(fake.delivered(t), 0, "{t} reported failed but delivered");
    }
}

/// One device's `unavailable` in each of five chunks: only that token is
/// sent again, and the provider's breaker stays closed (its 200s were
/// answers; walk-through s55a: one policy's breaker opened here).
#[tokio::test(start_paused = true)]
async fn per_item_unavailable_resends_the_pending_tokens_and_leaves_the_breaker_closed() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-unavailable");
    let input = tokens("tok", 500);
    for i in 0..5 {
        fake.script(&format!("tok{:03}", i * 100 + 7), &["unavailable"]);
    }
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(report.delivered.len(), 500, "{:?}", report.failed.first());
    assert_eq!(
        fake.request_sizes(),
        [100, 1, 100, 1, 100, 1, 100, 1, 100, 1]
    );
    assert_eq!(provider.breaker.state(), CircuitState::Closed);
    assert_eq!(provider.breaker.stats().opened, 0);
}

/// One device's `rate_limited` with a wait in the 200's body: this run
/// waits it; another job through the same provider is not held.
#[tokio::test(start_paused = true)]
async fn per_item_rate_limit_waits_for_this_run_only() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-limited");
    fake.script("a003", &["rate_limited:4000"]);
    let (a, b) = (tokens("a", 10), tokens("b", 10));
    let c = client();
    let start = tokio::time::Instant::now();
    let (ra, rb) = tokio::join!(send_job(&c, &url, provider, DEADLINE, "hi", &a), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(provider.cooldown.first_wait(), None, "no shared hold");
        send_job(&c, &url, provider, DEADLINE, "hi", &b).await
    });
    assert_exactly_once(&fake, &ra, &a);
    assert_exactly_once(&fake, &rb, &b);
    assert_eq!((ra.delivered.len(), rb.delivered.len()), (10, 10));
    let at: Vec<Duration> = fake.request_times().iter().map(|t| *t - start).collect();
    // A at 0, B at 100ms (not held), A's one token again after its 4s
    assert_eq!(at, [s(0), Duration::from_millis(100), s(4)], "{at:?}");
    assert_eq!(fake.request_sizes(), [10, 10, 1]);
}

/// A whole-request 429 with `Retry-After: 7`: waited, the chunk sent again
/// whole (nothing of it was applied), and every job through the provider
/// held until then; its retry line says how many tokens it carries.
#[tokio::test(start_paused = true)]
async fn whole_request_429_is_waited_and_holds_every_job() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-429");
    fake.fault(Fault::TooMany(7));
    let logs = testing::capture_logs().unwrap();
    let (a, b) = (tokens("a", 40), tokens("b", 10));
    let c = client();
    let start = tokio::time::Instant::now();
    let (ra, rb) = tokio::join!(send_job(&c, &url, provider, DEADLINE, "hi", &a), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        send_job(&c, &url, provider, DEADLINE, "hi", &b).await
    });
    assert_exactly_once(&fake, &ra, &a);
    assert_exactly_once(&fake, &rb, &b);
    assert_eq!((ra.delivered.len(), rb.delivered.len()), (40, 10));
    let at: Vec<Duration> = fake.request_times().iter().map(|t| *t - start).collect();
    assert_eq!(at, [s(0), s(7), s(7)], "B held by A's 429: {at:?}");
    let retries = logs.retries();
    assert_eq!(retries.len(), 1, "{logs}");
    assert_eq!(
        retries[0].field("operation"),
        Some("push.request"),
        "{logs}"
    );
    assert!(
        retries[0]
            .field("error")
            .unwrap()
            .starts_with("request for 40 tokens failed: "),
        "{logs}"
    );
    assert_eq!(
        retries[0].field("wait_source"),
        Some("retry_after"),
        "{logs}"
    );
}

/// A 200 whose body is cut after the provider delivered the chunk: the
/// request is not sent again (Connect, but not "never sent"), and its
/// tokens are reported as sent with the answer lost, not as failed.
#[tokio::test(start_paused = true)]
async fn cut_200_body_is_not_sent_again() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-cut");
    fake.fault(Fault::CutAfterProcessing);
    let input = tokens("tok", 50);
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(fake.request_sizes(), [50]);
    assert_eq!(report.unknown.len(), 50);
    assert!(
        report.unknown[0].1.contains("request for 50 tokens failed"),
        "{:?}",
        report.unknown[0]
    );
    assert!(report.failed.is_empty());
}

/// A cooldown held past the job's deadline: no chunk waits for it, none
/// is sent, every token is reported failed at once.
#[tokio::test(start_paused = true)]
async fn a_hold_past_the_deadline_fails_the_job_at_once() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-held");
    provider.cooldown.hold_for(s(55)); // another job's 429
    let input = tokens("tok", 150);
    let start = tokio::time::Instant::now();
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_eq!(start.elapsed(), s(0));
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(report.failed.len(), 150);
    assert!(fake.request_sizes().is_empty());
}

/// Everything at once, across three chunks: invalid tokens, per-item
/// unavailable and rate_limited, a whole-request 429, a 503 and a cut 200
/// body. Every token accounted for exactly once; none delivered twice.
#[tokio::test(start_paused = true)]
async fn mixed_faults_accounted_exactly_once() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-mixed");
    let mut input = tokens("tok", 247);
    input.extend([
        "bad-1".to_string(),
        "bad-2".to_string(),
        "bad-3".to_string(),
    ]);
    fake.script("tok005", &["unavailable", "unavailable"])
        .script("tok050", &["rate_limited:1500"])
        .script("tok150", &["unavailable"]);
    // chunk 1: 429, 200 (2 left), 503, 200 (1 left), 200;
    // chunk 2: 200 (1 left), its retry's body cut after delivery;
    // chunk 3: 200
    for f in [
        Fault::TooMany(2),
        Fault::Answer,
        Fault::Busy,
        Fault::Answer,
        Fault::Answer,
    ] {
        fake.fault(f);
    }
    fake.fault(Fault::Answer).fault(Fault::CutAfterProcessing);
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(fake.request_sizes(), [100, 100, 2, 2, 1, 100, 1, 50]);
    assert_eq!(report.invalid, ["bad-1", "bad-2", "bad-3"]);
    assert_eq!(report.delivered.len(), 246);
    assert_eq!(report.failed, []);
    // sent, delivered, its answer lost: reported as such, not sent again
    assert_eq!(report.unknown.len(), 1);
    assert_eq!(report.unknown[0].0, "tok150");
    assert_eq!(fake.delivered("tok150"), 1);
    assert_eq!(provider.breaker.state(), CircuitState::Closed);
}

/// docs/breaker-and-budget.md: one policy for both (the breaker on the
/// run that retries the items too) counts one device's `unavailable` as
/// a failure: `2 * JOBS` chunks sent at once, each with one such item,
/// open the provider's breaker.
#[tokio::test(start_paused = true)]
async fn one_policy_for_both_lets_per_item_failures_open_the_breaker() {
    #[derive(Debug, thiserror::Error, Classify)]
    enum OneError {
        #[error("1 of 100 tokens not delivered yet (1 unavailable)")]
        #[classify(Unavailable)]
        Items,
        #[error(transparent)]
        #[classify(transparent)]
        Open(#[from] CircuitOpen),
    }
    let provider = Provider::leaked("batch-one-policy");
    let both = provider.items().with_circuit(provider.breaker);
    let chunk = |_: u32| {
        let mut first = true;
        both.retry(move || {
            let failed = std::mem::replace(&mut first, false);
            async move {
                match failed {
                    true => Err(OneError::Items),
                    false => Ok(()),
                }
            }
        })
    };
    let results =
        futures_util::future::join_all((0..2 * JOBS).map(|i| async move { chunk(i).await })).await;
    assert_eq!(provider.breaker.stats().opened, 1);
    let refused = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(refused, 2 * JOBS as usize, "every chunk's retry refused");
}

/// docs/breaker-and-budget.md: a wait one item asked holds the cooldown
/// of a policy that has one (no setting keeps it to the run), and the
/// items' policy of the recipe, which has none, holds nothing.
#[test]
fn an_items_wait_holds_the_cooldown_of_a_policy_that_has_one() {
    let _paused = testing::pause();
    let provider = Provider::leaked("batch-item-wait");
    let limited = ChunkError::ItemsLimited {
        left: 1,
        sent: 10,
        unavailable: 0,
        limited: 1,
        wait: Some(s(8)),
    };
    // the 8 s asked, capped at ITEM_WAIT
    assert_eq!(provider.items().decide(0, &limited).wait(), Some(s(5)));
    assert_eq!(provider.cooldown.first_wait(), None);
    let held = provider.items().with_cooldown(provider.cooldown);
    assert_eq!(held.decide(0, &limited).wait(), Some(s(5)));
    let held_for = provider.cooldown.first_wait().unwrap(); // 5s (the cap), less the real time since
    assert!(held_for > s(4) && held_for <= s(5), "{held_for:?}");
}

/// docs/policies.md: `max_elapsed` does not bound a first attempt's wait
/// for a cooldown's hold: a call made during a 55 s hold with a 25 s
/// limit runs 55 s (what `first_wait` is asked for).
#[tokio::test(start_paused = true)]
async fn a_held_first_attempt_runs_past_max_elapsed() {
    let provider = Provider::leaked("batch-unchecked");
    provider.cooldown.hold_for(s(55));
    let start = tokio::time::Instant::now();
    let done = provider
        .items()
        .with_cooldown(provider.cooldown)
        .with_max_elapsed(s(25))
        .retry(|| async { Ok::<_, ChunkError>(()) })
        .await;
    assert!(done.is_ok());
    assert_eq!(start.elapsed(), s(55));
}

/// A hold that starts while a chunk waits for its items' retry (another
/// job's 429 asking 45 s): the retry does not wait for it past the job's
/// 30 s deadline; the chunk's pending token is reported failed at once.
#[tokio::test(start_paused = true)]
async fn a_hold_that_starts_mid_run_does_not_carry_a_retry_past_the_deadline() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-mid-hold");
    fake.script("tok001", &["unavailable"]);
    let input = tokens("tok", 5);
    let c = client();
    let start = tokio::time::Instant::now();
    let (report, ()) = tokio::join!(
        send_job(&c, &url, provider, DEADLINE, "hi", &input),
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            provider.cooldown.hold_for(s(45));
        }
    );
    assert!(start.elapsed() < s(1), "{:?}", start.elapsed());
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(report.delivered.len(), 4);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(
        report.failed[0].1,
        "1 tokens not sent: no time left before the job's deadline"
    );
    assert_eq!(fake.request_sizes(), [5]);
}

/// 20 jobs at once (`JOBS`), 500 tokens each, whose first requests all get
/// a 429 with `Retry-After: 2`, and one device per chunk `unavailable`
/// once: every token is delivered. The 429s open no breaker (neutral
/// kinds; walk-through s55c: a default breaker opened and failed every
/// token), the budget, on the request alone and sized for 20, grants the
/// 20 retries, and the 100 device retries are not the budget's (s55c: 8
/// of 20 devices never retried, from a budget both layers drew on).
#[tokio::test(start_paused = true)]
async fn twenty_jobs_whose_first_requests_get_429_all_deliver() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-twenty");
    for _ in 0..JOBS {
        fake.fault(Fault::TooMany(2));
    }
    let jobs: Vec<Vec<String>> = (0..JOBS)
        .map(|j| tokens(&format!("j{j:02}-"), 500))
        .collect();
    for t in &jobs {
        for k in 0..5 {
            fake.script(&t[k * 100 + 7], &["unavailable"]);
        }
    }
    let c = client();
    let sends = jobs
        .iter()
        .map(|t| send_job(&c, &url, provider, DEADLINE, "hi", t));
    let reports = futures_util::future::join_all(sends).await;
    for (report, input) in reports.iter().zip(&jobs) {
        assert_exactly_once(&fake, report, input);
        assert_eq!(report.delivered.len(), 500, "{:?}", report.failed.first());
    }
    // 20 refused with a 429, 100 chunks, 100 devices sent again
    assert_eq!(fake.request_sizes().len(), 220);
    assert_eq!(provider.breaker.stats().opened, 0);
    let budget = provider.budget.stats();
    assert_eq!((budget.retries, budget.refused), (20, 0), "{budget:?}");
}

/// breaker-and-budget.md's cooldown, as it is: job A's 503 at 0 s, its
/// retry in its backoff (0.5 s to 1 s) when job B's 429 at 0.1 s holds the
/// provider 3 s. A's retry goes when its line said, into the hold; the
/// 429 it draws (asking 1 s) holds it: its next retry, decided during the
/// hold, waits for the hold's end (3.1 s), as B's does.
#[tokio::test(start_paused = true)]
async fn a_retry_waiting_when_a_hold_starts_goes_and_one_decided_in_it_waits() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-hold-retry");
    fake.fault(Fault::Busy)
        .fault(Fault::TooMany(3))
        .fault(Fault::TooMany(1));
    let (a, b) = (tokens("a", 10), tokens("b", 10));
    let c = client();
    let start = tokio::time::Instant::now();
    let (ra, rb) = tokio::join!(send_job(&c, &url, provider, DEADLINE, "hi", &a), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        send_job(&c, &url, provider, DEADLINE, "hi", &b).await
    });
    assert_eq!((ra.delivered.len(), rb.delivered.len()), (10, 10));
    let at: Vec<Duration> = fake.request_times().iter().map(|t| *t - start).collect();
    assert_eq!(at.len(), 5, "{at:?}");
    assert_eq!(at[..2], [s(0), Duration::from_millis(100)], "{at:?}");
    assert!(
        at[2] >= Duration::from_millis(500) && at[2] <= s(1),
        "not held: {at:?}"
    );
    let hold_end = Duration::from_millis(3100);
    assert_eq!(at[3..], [hold_end, hold_end], "both held: {at:?}");
}

/// A provider that does not answer: the client's timeout (`ATTEMPT`) ends
/// the request at 5 s (without it, an hour), a `Timeout` the request does
/// not retry, as the provider may have acted: its tokens `unknown`. The
/// next chunk is sent then.
#[tokio::test(start_paused = true)]
async fn a_hung_provider_ends_the_request_at_attempt() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-hung");
    fake.fault(Fault::Hang);
    let input = tokens("tok", 200);
    let start = tokio::time::Instant::now();
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_eq!(start.elapsed(), ATTEMPT);
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(report.delivered.len(), 100);
    assert_eq!(report.unknown.len(), 100, "{:?}", report.failed.first());
    assert!(
        report.unknown[0]
            .1
            .contains("request for 100 tokens failed"),
        "{:?}",
        report.unknown[0]
    );
    assert_eq!(fake.request_sizes(), [100, 100]);
}

/// Chunks go one after another: one device asking 20 s in chunk 1 (each
/// answer taking 2 s) is `failed` at once, its wait past `ITEM_WAIT`, so
/// chunks 2-5 are not held (walk-through s55c, uncapped: 300 tokens unsent
/// at the deadline; s55e, capped: sent again at 5 s and 10 s, throttled
/// each time, the job held 10 s).
#[tokio::test(start_paused = true)]
async fn one_devices_wait_past_item_wait_fails_it_and_later_chunks_are_sent() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-capped");
    fake.slow(s(2)).script("tok000", &["rate_limited:20000"]);
    let input = tokens("tok", 500);
    let start = tokio::time::Instant::now();
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(report.delivered.len(), 499, "{:?}", report.failed.first());
    let why = "rate limited for 20s, past ITEM_WAIT".to_string();
    assert_eq!(report.failed, [("tok000".to_string(), why)]);
    let at: Vec<Duration> = fake.request_times().iter().map(|t| *t - start).collect();
    assert_eq!(at, [s(0), s(2), s(4), s(6), s(8)]);
}

/// A token listed twice in a job is sent once and reported once
/// (walk-through s55c: delivered three times).
#[tokio::test(start_paused = true)]
async fn a_token_listed_twice_is_sent_once() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-twice");
    let mut input = tokens("tok", 99);
    input.push("tok005".into());
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_eq!(fake.request_sizes(), [99]);
    assert_eq!(fake.delivered("tok005"), 1);
    assert_eq!(report.delivered, tokens("tok", 99));
    assert!(report.failed.is_empty() && report.unknown.is_empty());
}

/// A result the code does not know (`queued`, say, meaning accepted) is
/// not sent again: the token is reported `unknown`, with the result.
#[tokio::test(start_paused = true)]
async fn an_unknown_result_is_reported_unknown_not_sent_again() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-queued");
    fake.script("tok000", &["queued", "queued", "queued"]);
    let input = tokens("tok", 10);
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(fake.request_sizes(), [10]);
    assert_eq!(report.delivered.len(), 9);
    assert_eq!(
        report.unknown,
        [("tok000".to_string(), "sent, result `queued`".to_string())]
    );
}

/// The items' retry lines: both counts, of the tokens that request sent;
/// a device's wait is labelled `wait_source="retry_after"`.
#[tokio::test(start_paused = true)]
async fn the_items_retry_lines_name_both_counts_of_the_request() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-lines");
    fake.script("tok001", &["unavailable"])
        .script("tok002", &["rate_limited:3000", "rate_limited:3000"]);
    let logs = testing::capture_logs().unwrap();
    let input = tokens("tok", 10);
    let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
    assert_eq!(report.delivered.len(), 10);
    let retries = logs.retries();
    let lines: Vec<(Option<&str>, Option<&str>, Option<&str>)> = retries
        .iter()
        .map(|r| {
            (
                r.field("operation"),
                r.field("error"),
                r.field("wait_source"),
            )
        })
        .collect();
    let line = |error| (Some("push.items"), Some(error), Some("retry_after"));
    assert_eq!(
        lines,
        [
            line("2 of the 10 tokens sent not delivered yet (1 unavailable, 1 rate limited)"),
            line("1 of the 2 tokens sent not delivered yet (0 unavailable, 1 rate limited)"),
        ],
        "{logs}"
    );
    assert_eq!(fake.request_sizes(), [10, 2, 1]);
}

/// 20 jobs of 500 tokens at once, on one provider; their reports.
async fn twenty_jobs(fake: &Fake, url: &str, provider: Provider) -> Vec<Report> {
    let jobs: Vec<Vec<String>> = (0..JOBS)
        .map(|j| tokens(&format!("j{j:02}-"), 500))
        .collect();
    let c = client();
    let sends = jobs
        .iter()
        .map(|t| send_job(&c, url, provider, DEADLINE, "hi", t));
    let reports = futures_util::future::join_all(sends).await;
    for (report, input) in reports.iter().zip(&jobs) {
        assert_exactly_once(fake, report, input);
    }
    reports
}

/// A gateway's 500, 502 or 504 after the provider delivered the chunk: the
/// library calls them `Unavailable`, which would send the chunk again and
/// deliver it twice (walk-through s55e). Only a 429 and a 503 say nothing
/// was applied: the chunk is `unknown`, not sent again.
#[tokio::test(start_paused = true)]
async fn a_5xx_other_than_503_is_unknown_not_sent_again() {
    for code in [500, 502, 504] {
        let fake = Fake::default();
        let url = fake.start().await;
        let provider = Provider::leaked("batch-5xx");
        fake.fault(Fault::ProcessThen(code));
        let input = tokens("tok", 100);
        let report = send_job(&client(), &url, provider, DEADLINE, "hi", &input).await;
        assert_exactly_once(&fake, &report, &input);
        assert_eq!(fake.request_sizes(), [100], "{code}");
        assert_eq!(
            report.unknown.len(),
            100,
            "{code}: {:?}",
            report.failed.first()
        );
    }
}

/// A one-second 503 blip: each of the 20 jobs' first requests draws a 503.
/// A default breaker (5 failures in a row) opened and delivered 0 of
/// 10,000 (s55e); one sized for the jobs (`2 * JOBS`) stays closed.
#[tokio::test(start_paused = true)]
async fn a_503_blip_across_twenty_jobs_leaves_the_breaker_closed() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-blip");
    for _ in 0..JOBS {
        fake.fault(Fault::Busy);
    }
    let reports = twenty_jobs(&fake, &url, provider).await;
    let delivered: usize = reports.iter().map(|r| r.delivered.len()).sum();
    assert_eq!(delivered, 10_000, "{:?}", reports[0].failed.first());
    assert_eq!(provider.breaker.stats().opened, 0);
}

/// A provider that hangs: the timeouts, not retried, count to the breaker
/// (`with_failure_kinds`), which opens and refuses the jobs' later chunks
/// fast, `failed` (never sent), instead of sending all 100 into the hang
/// (s55e: the breaker never opened, every token `unknown`).
#[tokio::test(start_paused = true)]
async fn a_hung_provider_opens_the_breaker() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-hung-all");
    fake.0.lock().unwrap().hang_all = true;
    let reports = twenty_jobs(&fake, &url, provider).await;
    let unknown: usize = reports.iter().map(|r| r.unknown.len()).sum();
    let failed: Vec<&(String, String)> = reports.iter().flat_map(|r| &r.failed).collect();
    let stats = provider.breaker.stats();
    assert!(stats.opened >= 1, "{stats:?}");
    // two rounds of timeouts open it (the 40th failure), and the chunks
    // sent before it did: the rest refused, at 10 s
    assert_eq!(unknown, 5_900, "{stats:?}");
    assert_eq!(unknown + failed.len(), 10_000);
    assert!(
        failed[0].1.contains("circuit `batch-hung-all` is open"),
        "{:?}",
        failed[0]
    );
}

/// A provider that takes 10 requests a second, beyond which it answers 429:
/// 20 jobs' 100 requests fail part of their tokens, the budget spent
/// (s55e: half in 5 s). A cooldown paced at its rate sends them 100 ms
/// apart: all delivered in 9.9 s, no 429.
#[tokio::test(start_paused = true)]
async fn a_paced_cooldown_keeps_to_a_published_rate() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-unpaced");
    fake.0.lock().unwrap().rate = Some(10);
    let reports = twenty_jobs(&fake, &url, provider).await;
    let failed: Vec<&(String, String)> = reports.iter().flat_map(|r| &r.failed).collect();
    assert!(failed.len() >= 1_000, "{}", failed.len());
    assert!(
        failed[0].1.contains("retry budget exhausted"),
        "{:?}",
        failed[0]
    );

    let fake = Fake::default();
    let url = fake.start().await;
    let mut provider = Provider::leaked("batch-paced");
    provider.cooldown = Box::leak(Box::new(Cooldown::new("batch-paced").with_pace(10, s(1))));
    fake.0.lock().unwrap().rate = Some(10);
    let start = tokio::time::Instant::now();
    let reports = twenty_jobs(&fake, &url, provider).await;
    let delivered: usize = reports.iter().map(|r| r.delivered.len()).sum();
    assert_eq!(delivered, 10_000, "{:?}", reports[0].failed.first());
    assert_eq!(fake.0.lock().unwrap().too_many, 0);
    assert_eq!(start.elapsed(), Duration::from_millis(9_900));
}

/// The limit the recipe states: the `first_wait` check passes (a 20 s
/// hold, 30 s left), then while the first attempt waits it out another
/// job's 429 makes it 55 s from the start: waited out too, past the
/// deadline (walk-through s55e).
#[tokio::test(start_paused = true)]
async fn a_hold_made_longer_during_the_first_wait_passes_the_deadline() {
    let fake = Fake::default();
    let url = fake.start().await;
    let provider = Provider::leaked("batch-longer-hold");
    provider.cooldown.hold_for(s(20));
    let input = tokens("tok", 100);
    let c = client();
    let start = tokio::time::Instant::now();
    let (report, ()) = tokio::join!(
        send_job(&c, &url, provider, DEADLINE, "hi", &input),
        async {
            tokio::time::sleep(s(10)).await;
            provider.cooldown.hold_for(s(45));
        }
    );
    assert_exactly_once(&fake, &report, &input);
    assert_eq!(report.delivered.len(), 100);
    assert_eq!(fake.request_times(), [start + s(55)]);
}
