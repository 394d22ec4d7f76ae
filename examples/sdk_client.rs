//! A payments SDK (a client library other teams embed) that retries its
//! own HTTP calls with `RetryMiddleware` (feature `reqwest-middleware`),
//! with a retry policy its users may replace, chosen at run time.
//!
//! `paysdk` below is the library; `demo()` is an application using it,
//! against a local payments API (an axum server started here) that:
//! 1. answers a charge's POST with 429 (`Retry-After: 1`), then 409 (the
//!    same idempotency key's first request still in flight), then 201:
//!    the SDK waits the second asked, retries the 409, and every attempt
//!    carries the same `Idempotency-Key`;
//! 2. answers 402 (card declined): sent once, the SDK's error says why;
//! 3. is down (503 to every request) for a client whose policy the
//!    application chose from its configuration (`"guarded"`: its own
//!    breaker): the breaker opens and the next call is not sent at all,
//!    the SDK's error saying when to come back.
//!
//! The SDK logs its retries at DEBUG and its give-ups at INFO: the demo's
//! INFO subscriber shows the give-ups, not each retry.
//!
//! Run it with `cargo run --example sdk_client` (about 1.5 seconds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use testkit::demo::{about, ensure};

// the application names retry-runtime through the SDK: the version it was built with
use paysdk::retry::{presets, Backoff, CircuitBreaker, Jitter};

/// The library: what an SDK crate would hold in its `lib.rs`.
pub mod paysdk {
    use std::sync::Arc;
    use std::time::Duration;

    use reqwest::Response;
    use reqwest_middleware::{ClientWithMiddleware, Middleware};
    use retry_runtime::log::Level;
    use retry_runtime::reqwest_middleware::{AttemptFailure, OperationName, RetryMiddleware};
    use retry_runtime::response::{Idempotent, ResponseFailure, RetryReport};
    use retry_runtime::{
        presets, Admission, CircuitOpen, ErrorKind, Levels, Policy, RetryOn, When,
    };

    /// Re-exported, so that users name the version the SDK was built with
    /// (`paysdk::retry::presets::STANDARD`, `paysdk::retry::CircuitBreaker`).
    pub use retry_runtime as retry;

    /// The SDK's default: the `api` preset (3 attempts, Retry-After
    /// honoured), quiet: the caller gets the error, so a retry is a DEBUG
    /// line and a give-up an INFO one, not WARN and ERROR.
    pub const DEFAULT_RETRY: Policy<RetryOn> = quiet(presets::API);

    /// The SDK's levels on any policy, for the lines whose level its user
    /// did not set: retries, non-retriable errors and successes after
    /// retries at DEBUG, give-ups at INFO.
    pub const fn quiet<G: Copy>(policy: Policy<RetryOn, G>) -> Policy<RetryOn, G> {
        policy.with_default_levels(Levels {
            give_up: Level::INFO,
            ..Levels::QUIET
        })
    }

    /// A 409 from this API is an idempotency conflict: the same key's first
    /// request is still in flight. Read as Unavailable, whatever the
    /// user's policy retries by kind retries it (its `Retry-After`
    /// honoured, as a 503's is); every other response as its status says.
    fn busy_on_conflict(
        r: &Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match by_status {
            Some(f) if r.status().as_u16() == 409 => Some(
                ResponseFailure::new(ErrorKind::Unavailable, 409).with_retry_after(f.retry_after),
            ),
            f => f,
        }
    }

    /// What the SDK's calls fail with.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum Error {
        /// The API answered with an error status (after the retries).
        #[error("payments API answered {status}: {body}")]
        Api { status: u16, body: String },
        /// The client's circuit breaker is open: not sent; come back later.
        #[error("payments API unavailable (circuit open), retry in {retry_after:?}")]
        Unavailable { retry_after: Option<Duration> },
        /// No answer: refused, timed out, ...
        #[error("payments API unreachable: {0}")]
        Transport(#[source] reqwest_middleware::Error),
    }

    /// A charge, and how many requests it took.
    #[derive(Debug)]
    pub struct Charge {
        pub id: String,
        pub attempts: u32,
    }

    /// A client of the payments API.
    #[derive(Clone, Debug)]
    pub struct Client {
        http: ClientWithMiddleware,
        base: String,
    }

    impl Client {
        /// A client with the SDK's default retry policy.
        pub fn new(base: impl Into<String>) -> Client {
            Client::with_retry(base, DEFAULT_RETRY)
        }

        /// A client retrying with `policy`: any policy (a preset, one of
        /// yours, with a breaker, a budget or a cooldown of yours), as it
        /// is (its condition and levels; its name if you gave it one, else
        /// `paysdk`, which each endpoint's requests replace with their own
        /// `OperationName` in their lines and metrics); the SDK adds only
        /// its reading of this API's 409, in the middleware. The
        /// middleware erases the policy's type, so `Client` has no type
        /// parameters, and an application can choose among policies of
        /// different types at run time.
        ///
        /// The middleware keeps the SDK's copy of the policy: nothing
        /// leaked, however many clients are built.
        pub fn with_retry<W, G>(base: impl Into<String>, policy: Policy<W, G>) -> Client
        where
            W: When<AttemptFailure> + Clone + Send + Sync + 'static,
            G: Admission<AttemptFailure> + Send + Sync + 'static,
        {
            let policy = policy.with_default_name("paysdk");
            let retry: Arc<dyn Middleware> = Arc::new(
                RetryMiddleware::from_policy(policy)
                    .with_classify_response(busy_on_conflict)
                    .with_timeout(Duration::from_secs(10))
                    .with_report(true),
            );
            let http = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("a reqwest client");
            Client {
                http: reqwest_middleware::ClientBuilder::new(http)
                    .with_arc(retry)
                    .build(),
                base: base.into(),
            }
        }

        /// Charge `amount` cents. `idempotency_key` is the charge's, made
        /// once by the caller and stored with the order: every attempt, and
        /// every call the caller makes again for the same order, sends it.
        pub async fn create_charge(
            &self,
            amount: u64,
            idempotency_key: &str,
        ) -> Result<Charge, Error> {
            let response = self
                .http
                .post(format!("{}/v1/charges", self.base))
                .header("Idempotency-Key", idempotency_key)
                .with_extension(Idempotent) // safe to send again: the key says so
                .with_extension(OperationName("paysdk.create_charge")) // its lines' name
                .body(format!(r#"{{"amount":{amount}}}"#))
                .send()
                .await
                .map_err(Error::from)?;
            let attempts = response
                .extensions()
                .get::<RetryReport>()
                .map_or(1, |report| report.attempts);
            let status = response.status();
            let body = response
                .text()
                .await
                .map_err(|e| Error::Transport(e.into()))?;
            if !status.is_success() {
                return Err(Error::Api {
                    status: status.as_u16(),
                    body,
                });
            }
            Ok(Charge { id: body, attempts })
        }
    }

    impl From<reqwest_middleware::Error> for Error {
        fn from(e: reqwest_middleware::Error) -> Error {
            match &e {
                reqwest_middleware::Error::Middleware(inner) => {
                    match inner.downcast_ref::<CircuitOpen>() {
                        Some(open) => Error::Unavailable {
                            retry_after: (!open.forced).then_some(open.retry_after),
                        },
                        None => Error::Transport(e),
                    }
                }
                reqwest_middleware::Error::Reqwest(_) => Error::Transport(e),
            }
        }
    }
}

/// One scripted reply: a status and its `Retry-After` in seconds.
type Reply = (u16, Option<u64>);

/// One request the API saw: its path, its `Idempotency-Key`, when.
type Seen = (String, Option<String>, Instant);

/// The payments API: each path's replies in order (the last one repeats),
/// and each request's `Idempotency-Key`.
#[derive(Clone, Default)]
struct Api {
    scripts: Arc<Mutex<HashMap<String, Vec<Reply>>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Api {
    fn script(&self, path: &str, replies: &[Reply]) {
        self.scripts
            .lock()
            .unwrap()
            .insert(path.into(), replies.to_vec());
    }

    /// The keys the requests to `path` carried, and the gaps between them.
    fn requests(&self, path: &str) -> (Vec<Option<String>>, Vec<Duration>) {
        let seen = self.seen.lock().unwrap();
        let mine: Vec<_> = seen.iter().filter(|(p, ..)| p == path).collect();
        let keys = mine.iter().map(|(_, key, _)| key.clone()).collect();
        let gaps = mine.windows(2).map(|w| w[1].2 - w[0].2).collect();
        (keys, gaps)
    }
}

/// The API's one endpoint, `POST /v1/charges`: its next scripted reply.
async fn charges(State(api): State<Api>, headers: HeaderMap) -> Response {
    let path = "/v1/charges".to_owned();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    api.seen
        .lock()
        .unwrap()
        .push((path.clone(), key, Instant::now()));
    let (status, retry_after) = {
        let mut scripts = api.scripts.lock().unwrap();
        let replies = scripts.get_mut(&path).expect("a scripted path");
        if replies.len() > 1 {
            replies.remove(0)
        } else {
            replies[0]
        }
    };
    let status = StatusCode::from_u16(status).unwrap();
    let mut response = (status, if status.is_success() { "ch_1" } else { "no" }).into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}

async fn start(api: Api) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/v1/charges", post(charges))
        .with_state(api);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// The application's breaker for the payments API (configuration `"guarded"`).
static PAYMENTS: CircuitBreaker = CircuitBreaker::new("payments")
    .with_failures(2)
    .with_recovery(Duration::from_secs(30));

/// The application's client, its retries chosen by its configuration.
fn client_from_config(base: &str, retries: &str) -> paysdk::Client {
    // short waits for the demo
    let fast = paysdk::quiet(presets::API)
        .with_backoff(Backoff::fixed(Duration::from_millis(50)))
        .with_jitter(Jitter::None);
    match retries {
        "guarded" => paysdk::Client::with_retry(base, fast.with_circuit(&PAYMENTS)),
        "off" => paysdk::Client::with_retry(base, fast.with_max_attempts(1)),
        _ => paysdk::Client::with_retry(base, fast),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let api = Api::default();
    let base = start(api.clone()).await?;

    println!("\n1. a charge answered 429 (Retry-After: 1), 409, then 201");
    api.script("/v1/charges", &[(429, Some(1)), (409, None), (201, None)]);
    let client = client_from_config(&base, "default");
    let charge = client.create_charge(2000, "order-1042").await?;
    let (keys, gaps) = api.requests("/v1/charges");
    println!("   {charge:?}; keys {keys:?}; waited {gaps:?}");
    ensure(
        "sdk_client",
        charge.attempts == 3
            && keys.len() == 3
            && keys.iter().all(|k| k.as_deref() == Some("order-1042")),
        format!("3 attempts with the key order-1042, got {charge:?} and {keys:?}"),
    )?;
    ensure(
        "sdk_client",
        about(gaps[0], Duration::from_secs(1), Duration::from_millis(500))
            && gaps[1] < Duration::from_millis(500),
        format!("the Retry-After's 1s, then the backoff's 50ms, got {gaps:?}"),
    )?;

    println!("\n2. a declined card (402): sent once");
    api.script("/v1/charges", &[(402, None)]);
    let declined = client.create_charge(2000, "order-1043").await.unwrap_err();
    let (keys, _) = api.requests("/v1/charges");
    println!("   {declined}; {} requests in all", keys.len());
    ensure(
        "sdk_client",
        matches!(declined, paysdk::Error::Api { status: 402, .. }) && keys.len() == 4,
        format!(
            "one request answered 402, got {declined:?} and {} requests",
            keys.len()
        ),
    )?;

    println!("\n3. the API is down, for a client configured \"guarded\" (a breaker of 2 failures)");
    api.script("/v1/charges", &[(503, None)]);
    let guarded = client_from_config(&base, "guarded");
    let first = guarded.create_charge(500, "order-1044").await.unwrap_err();
    let sent = api.requests("/v1/charges").0.len() - 4;
    let second = guarded.create_charge(500, "order-1044").await.unwrap_err();
    let not_sent = api.requests("/v1/charges").0.len() - 4 == sent;
    println!("   first call: {first} ({sent} requests); second: {second}");
    ensure(
        "sdk_client",
        matches!(first, paysdk::Error::Api { status: 503, .. } | paysdk::Error::Unavailable { .. })
            && matches!(second, paysdk::Error::Unavailable { retry_after: Some(_) })
            && not_sent,
        format!("a 503 or an open breaker, then an open breaker and no request, got {first:?}, {second:?}"),
    )?;
    Ok(())
}
