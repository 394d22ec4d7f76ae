//! docs/where-retries-go.md's "A token shared by many tasks": the recipe's
//! client (a copy in `recipe`, checked against the chapter's by
//! `the_recipe_is_the_chapters`) against a fake partner (axum on
//! 127.0.0.1:0) with an OAuth2 token endpoint, under tokio's paused clock:
//! a revoked token under 50 callers is one refresh, the token endpoint's
//! 503s are its own retries, `invalid_client` fails every caller at once,
//! a 401 after a fresh token is returned, only the partner's 503s open
//! its breaker, a refresh whose task ends without its outcome fails its
//! waiters (not a wait for ever), and the token endpoint's 429 is waited
//! out by one refresh that the callers join.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use retry_runtime::circuit::CircuitState;
use retry_runtime::cooldown::Cooldown;
use retry_runtime::{testing, CircuitBreaker, Classify, ErrorKind};
use tokio::time::Instant;
use tracing::Level;

use crate::recipe_copy;

mod recipe {
    use std::sync::Arc;
    use std::time::Duration;

    use reqwest::header::CONTENT_TYPE;
    use reqwest::StatusCode;
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::reqwest::{error_for_status, HttpError};
    use retry_runtime::{
        kinds, presets, Causes, CircuitBreaker, CircuitOpen, Classify, Policy, RetryOn, WithCircuit,
    };
    use tokio::sync::watch;

    /// What a token request fails with.
    #[derive(Debug, thiserror::Error, Classify)]
    pub enum TokenError {
        #[error("the token endpoint refused our client credentials (invalid_client)")]
        #[classify(
            Permanent,
            why = "invalid_client: the client secret was rotated or revoked; no retry makes it valid"
        )]
        InvalidClient,
        #[error(transparent)]
        #[classify(transparent)]
        Status(HttpError),
        #[error("{}", Causes(.0))]
        #[classify(transparent)]
        Http(#[from] reqwest::Error),
        #[error("the token endpoint's answer has no access_token: {0}")]
        #[classify(Permanent)]
        Unreadable(serde_json::Error),
        /// The refresh's task ended without its outcome: it panicked, or its
        /// runtime shut down; the next caller refreshes again.
        #[error("the token refresh was abandoned (its task panicked or its runtime shut down)")]
        #[classify(Unavailable)]
        Abandoned,
    }

    /// What a partner call fails with.
    #[derive(Debug, thiserror::Error, Classify)]
    pub enum PartnerError {
        /// A 429 or a 5xx (retried), a 401 with a fresh token, a 404 ...
        #[error(transparent)]
        #[classify(transparent)]
        Status(#[from] HttpError),
        #[error("{}", Causes(.0))]
        #[classify(transparent)]
        Http(#[from] reqwest::Error),
        /// The refresh's error, shared by every caller that waited for it.
        #[error("getting a partner token: {0}")]
        #[classify(transparent)]
        Token(Arc<TokenError>),
        #[error(transparent)]
        #[classify(transparent)]
        Open(#[from] CircuitOpen),
    }

    /// The longest a request (to the token endpoint or the partner) may
    /// take, and its connection: reqwest has no timeout of its own.
    const ATTEMPT: Duration = Duration::from_secs(10);
    const CONNECT: Duration = Duration::from_secs(2);

    /// The token endpoint's own retries (its 5xx, timeouts, refused
    /// connections: 1s, 2s, 4s; its 429s after their Retry-After), in the
    /// refresh's own task.
    const TOKEN: Policy<RetryOn> = Policy::new()
        .with_name("partner.token")
        .with_max_attempts(4)
        .retry_on(kinds![Unavailable | Timeout | Connect | RateLimited]);

    /// A refresh under way: dropped without its outcome (its task panicked
    /// or was dropped with its runtime, or `tokio::spawn` panicked), it ends
    /// the refresh with `Abandoned`, else every later caller would wait for
    /// a refresh that never ends.
    struct Refresh(Option<Arc<Tokens>>);

    impl Refresh {
        fn end(mut self, fetched: Result<String, TokenError>) {
            if let Some(tokens) = self.0.take() {
                tokens.ended(fetched);
            }
        }
    }

    impl Drop for Refresh {
        fn drop(&mut self) {
            if let Some(tokens) = self.0.take() {
                tokens.ended(Err(TokenError::Abandoned));
            }
        }
    }

    #[derive(serde::Deserialize)]
    struct Granted {
        access_token: String,
    }

    /// The token every task sends, refreshed by one task at a time.
    pub struct Tokens {
        http: reqwest::Client,
        url: String,
        id: String,
        secret: String,
        /// The token endpoint's 429: a refresh that starts while it holds
        /// waits it out before asking.
        hold: &'static Cooldown,
        /// Behind the channel's lock; a refresh that ends sends it to the
        /// tasks waiting for it.
        state: watch::Sender<State>,
    }

    #[derive(Default)]
    struct State {
        /// The last token fetched and its generation, until a 401 refuses it.
        token: Option<(String, u64)>,
        /// Refreshes ended, failed or not.
        generation: u64,
        /// The last refresh's error, if it failed.
        failed: Option<Arc<TokenError>>,
        /// A refresh is under way.
        refreshing: bool,
    }

    impl Tokens {
        /// The token to send, and its generation.
        pub async fn token(self: &Arc<Self>) -> Result<(String, u64), Arc<TokenError>> {
            self.after(None).await
        }

        /// A token newer than generation `refused` (the one a 401 refused).
        pub async fn refresh(
            self: &Arc<Self>,
            refused: u64,
        ) -> Result<(String, u64), Arc<TokenError>> {
            self.after(Some(refused)).await
        }

        /// A new token ahead of the expiry (a timer of yours): the current
        /// one is sent until it comes, and kept if the refresh fails.
        pub async fn renew(self: &Arc<Self>) -> Result<(), Arc<TokenError>> {
            let (mut seen, mut start) = (0, false);
            self.state.send_if_modified(|state| {
                seen = state.generation;
                start = !std::mem::replace(&mut state.refreshing, true);
                false
            });
            if start {
                self.spawn_refresh();
            }
            let _ = (self.state.subscribe())
                .wait_for(|state| state.generation > seen)
                .await;
            let failed = self.state.borrow().failed.clone();
            failed.map_or(Ok(()), Err)
        }

        /// A token not refused, at once; with none (none yet, or refused),
        /// the outcome of the refresh under way, or of one it starts.
        async fn after(
            self: &Arc<Self>,
            refused: Option<u64>,
        ) -> Result<(String, u64), Arc<TokenError>> {
            let mut seen = refused;
            loop {
                let (mut ready, mut start) = (None, false);
                self.state.send_if_modified(|state| {
                    if let Some((token, generation)) = &state.token {
                        if refused != Some(*generation) {
                            ready = Some(Ok((token.clone(), *generation)));
                            return false;
                        }
                        state.token = None; // refused: sent no more
                    } else if let (Some(seen), Some(error)) = (seen, &state.failed) {
                        // a refresh ended since this caller's token (or its
                        // wait) began, and failed: its error
                        if state.generation > seen && !state.refreshing {
                            ready = Some(Err(error.clone()));
                            return false;
                        }
                    }
                    seen = Some(state.generation);
                    start = !std::mem::replace(&mut state.refreshing, true);
                    false
                });
                if let Some(outcome) = ready {
                    return outcome;
                }
                if start {
                    self.spawn_refresh();
                }
                let _ = (self.state.subscribe())
                    .wait_for(|state| Some(state.generation) > seen)
                    .await;
            }
        }

        /// The refresh, in a task of its own: a caller dropped while it
        /// waits (a timeout around its call) cancels nothing.
        fn spawn_refresh(self: &Arc<Self>) {
            // made before the spawn: a spawn that panics drops it too
            let refresh = Refresh(Some(self.clone()));
            let tokens = self.clone();
            tokio::spawn(async move {
                let fetched = TOKEN
                    .with_cooldown(tokens.hold)
                    .retry(|| tokens.fetch())
                    .await;
                refresh.end(fetched);
            });
        }

        /// The refresh's outcome, to every task waiting for it.
        fn ended(&self, fetched: Result<String, TokenError>) {
            self.state.send_modify(|state| {
                state.generation += 1;
                state.refreshing = false;
                match fetched {
                    Ok(token) => {
                        state.token = Some((token, state.generation));
                        state.failed = None;
                    }
                    // the token, if not refused, kept
                    Err(error) => state.failed = Some(Arc::new(error)),
                }
            });
        }

        async fn fetch(&self) -> Result<String, TokenError> {
            let answer = (self.http.post(&self.url))
                .basic_auth(&self.id, Some(&self.secret))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await?;
            let answer = error_for_status(answer).await.map_err(|e| {
                if e.body().contains("\"invalid_client\"") {
                    TokenError::InvalidClient
                } else {
                    TokenError::Status(e)
                }
            })?;
            let granted: Granted =
                serde_json::from_slice(&answer.bytes().await?).map_err(TokenError::Unreadable)?;
            Ok(granted.access_token)
        }
    }

    /// The partner's API: one client (and one token) for every task.
    pub struct Partner {
        http: reqwest::Client,
        base: String,
        /// Also for a timer of yours that renews it ahead of its expiry.
        pub tokens: Arc<Tokens>,
        policy: Policy<RetryOn, WithCircuit>,
    }

    impl Partner {
        /// `token_hold`: a `static` of its own (as the breaker), for the
        /// token endpoint's 429s.
        pub fn new(
            base: &str,
            id: &str,
            secret: &str,
            breaker: &'static CircuitBreaker,
            token_hold: &'static Cooldown,
        ) -> reqwest::Result<Self> {
            let http = (reqwest::Client::builder().connect_timeout(CONNECT))
                .timeout(ATTEMPT)
                .build()?;
            let (url, id, secret) = (format!("{base}/oauth/token"), id.into(), secret.into());
            let state = watch::Sender::new(State::default());
            let tokens = Arc::new(Tokens {
                http: http.clone(),
                url,
                id,
                secret,
                hold: token_hold,
                state,
            });
            let policy = presets::API.with_name("partner").with_circuit(breaker);
            Ok(Partner {
                http,
                base: base.to_owned(),
                tokens,
                policy,
            })
        }

        pub async fn get(&self, path: &str) -> Result<String, PartnerError> {
            self.policy.retry(|| self.attempt(path)).await
        }

        /// One attempt: the call and, after a 401, one refresh and the
        /// call again at once.
        async fn attempt(&self, path: &str) -> Result<String, PartnerError> {
            let (token, seen) = self.tokens.token().await.map_err(PartnerError::Token)?;
            let mut answer = self.send(path, &token).await?;
            if answer.status() == StatusCode::UNAUTHORIZED {
                let (token, _) = self
                    .tokens
                    .refresh(seen)
                    .await
                    .map_err(PartnerError::Token)?;
                tracing::warn!(
                    target: "partner",
                    path,
                    "partner call {path}: 401; sending it again at once with a new token"
                );
                metrics::counter!("partner_resent_after_refresh_total").increment(1);
                answer = self.send(path, &token).await?; // a 401 again is returned
            }
            Ok(error_for_status(answer).await?.text().await?)
        }

        async fn send(&self, path: &str, token: &str) -> Result<reqwest::Response, PartnerError> {
            let url = format!("{}{path}", self.base);
            Ok(self.http.get(url).bearer_auth(token).send().await?)
        }
    }
}

use recipe::{Partner, PartnerError, TokenError};

/// `recipe` is the chapter's code, up to its hidden `main`.
#[test]
fn the_recipe_is_the_chapters() {
    let shown = recipe_copy::chapter_recipe(
        include_str!("../../docs/where-retries-go.md"),
        "A token shared by many tasks",
        "# #[tokio::main",
    );
    let copy = recipe_copy::recipe_module(include_str!("token.rs"));
    recipe_copy::assert_same_code(&shown, copy, &[]);
}

// ---- the fake partner ----

/// A status and a body.
type Reply = (u16, &'static str);

const INVALID_CLIENT: Reply = (401, r#"{"error":"invalid_client"}"#);

/// The partner: its token endpoint mints `tok-1`, `tok-2` ... (after the
/// replies scripted for it), and its API accepts the last one minted.
#[derive(Default)]
struct Fake {
    minted: AtomicU32,
    token_requests: AtomicU32,
    api_requests: AtomicU32,
    token_script: Mutex<VecDeque<Reply>>,
    token_always: Mutex<Option<Reply>>,
    api_always: Mutex<Option<Reply>>,
    api_script: Mutex<VecDeque<Reply>>,
    revoked: Mutex<bool>,
    /// How long the token endpoint takes to answer (a slow identity
    /// provider; a day: one that never does).
    token_delay: Mutex<Duration>,
    /// Until when the token endpoint answers 429, and the Retry-After
    /// it asks for (in seconds).
    rate_limited: Mutex<Option<(Instant, u64)>>,
}

impl Fake {
    fn tokens(&self) -> u32 {
        self.token_requests.load(Ordering::SeqCst)
    }
    fn calls(&self) -> u32 {
        self.api_requests.load(Ordering::SeqCst)
    }
    fn revoke(&self) {
        *self.revoked.lock().unwrap() = true;
    }
    fn token_script(&self, replies: &[Reply]) {
        self.token_script.lock().unwrap().extend(replies);
    }
    fn token_always(&self, reply: Reply) {
        *self.token_always.lock().unwrap() = Some(reply);
    }
    fn api_script(&self, replies: &[Reply]) {
        self.api_script.lock().unwrap().extend(replies);
    }
    fn api_always(&self, reply: Reply) {
        *self.api_always.lock().unwrap() = Some(reply);
    }
    fn token_delay(&self, delay: Duration) {
        *self.token_delay.lock().unwrap() = delay;
    }
    /// The token endpoint answers 429 for `span` from now, asking for
    /// `asked` seconds (Retry-After).
    fn rate_limit(&self, span: Duration, asked: u64) {
        *self.rate_limited.lock().unwrap() = Some((Instant::now() + span, asked));
    }
}

fn reply((status, body): Reply) -> Response {
    (StatusCode::from_u16(status).unwrap(), body).into_response()
}

async fn token(State(fake): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    fake.token_requests.fetch_add(1, Ordering::SeqCst);
    // the recipe's client id and secret, as HTTP Basic ("svc:s3cret")
    assert_eq!(headers["authorization"], "Basic c3ZjOnMzY3JldA==");
    let delay = *fake.token_delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let limited = *fake.rate_limited.lock().unwrap();
    if let Some((_, asked)) = limited.filter(|(until, _)| Instant::now() < *until) {
        let asked = asked.to_string();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", asked)],
            "slow down",
        )
            .into_response();
    }
    let scripted = fake.token_script.lock().unwrap().pop_front();
    let always = *fake.token_always.lock().unwrap();
    if let Some(r) = always.or(scripted) {
        return reply(r);
    }
    let n = fake.minted.fetch_add(1, Ordering::SeqCst) + 1;
    *fake.revoked.lock().unwrap() = false;
    let body = format!(r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":3600}}"#);
    (StatusCode::OK, body).into_response()
}

async fn api(State(fake): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    fake.api_requests.fetch_add(1, Ordering::SeqCst);
    let scripted = fake.api_script.lock().unwrap().pop_front();
    let always = *fake.api_always.lock().unwrap();
    if let Some(r) = always.or(scripted) {
        return reply(r);
    }
    let valid = format!("Bearer tok-{}", fake.minted.load(Ordering::SeqCst));
    if *fake.revoked.lock().unwrap() || headers["authorization"] != valid.as_str() {
        return reply((401, r#"{"error":"invalid_token"}"#));
    }
    reply((200, "ok"))
}

/// The fake partner, on a task of the test's runtime, and a client of it
/// with a breaker of its own (5 failures in a row open it).
async fn partner() -> (Arc<Fake>, Arc<Partner>, &'static CircuitBreaker) {
    let fake = Arc::new(Fake::default());
    let app = axum::Router::new()
        .route("/oauth/token", post(token))
        .route("/v1/{*rest}", get(api))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let breaker = Box::leak(Box::new(CircuitBreaker::new("partner")));
    let hold = Box::leak(Box::new(Cooldown::new("partner.token")));
    let client = Arc::new(Partner::new(&base, "svc", "s3cret", breaker, hold).unwrap());
    (fake, client, breaker)
}

/// 50 tasks, each a call of its own, at once.
async fn fifty(client: &Arc<Partner>) -> Vec<Result<String, PartnerError>> {
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get(&format!("/v1/orders/{i}")).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// How many calls failed, and the first one's error.
fn failed(results: &[Result<String, PartnerError>]) -> Option<(usize, String)> {
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    (errors.first()).map(|first| (errors.len(), first.to_string()))
}

/// The client's own lines (target `partner`) that announce a resend.
fn resends(logs: &testing::CapturedLogs) -> usize {
    (logs.records_at(Level::WARN).iter())
        .filter(|r| r.target() == "partner" && r.message().contains("sending it again at once"))
        .count()
}

// ---- the tests ----

#[tokio::test(start_paused = true)]
async fn a_revoked_token_under_50_callers_is_one_refresh() {
    let (fake, client, breaker) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.revoke();
    let logs = testing::capture_logs().unwrap();
    let paused = testing::pause();
    let start = Instant::now();
    let results = fifty(&client).await;
    assert_eq!(failed(&results), None, "{logs}");
    assert_eq!(fake.tokens(), 2, "the warmup's, and one refresh\n{logs}");
    assert_eq!(fake.calls(), 1 + 50 + 50, "each call, then again");
    // no wait: a resend is no retry of the library's, and no line of it
    assert_eq!(paused.waits(), [] as [Duration; 0]);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(logs.retries().len(), 0, "{logs}");
    assert_eq!(resends(&logs), 50, "{logs}");
    // a refresh that succeeds logs nothing of the library's
    let refresh_lines = (logs.records().iter())
        .filter(|r| r.field("operation") == Some("partner.token"))
        .count();
    assert_eq!(refresh_lines, 0, "{logs}");
    assert_eq!(breaker.stats().failures, 0);
}

/// The token endpoint's 503s are retried by the refresh's own policy, with
/// its waits (1s, 2s), inside the partner call's attempt: one partner
/// request. (Without `Nested::Retry`, the refresh would leave its 503 to
/// the partner call's run after one attempt, the API preset's waits.)
#[tokio::test(start_paused = true)]
async fn the_token_endpoints_503s_are_its_own_retries() {
    let (fake, client, _) = partner().await;
    fake.token_script(&[(503, "busy"), (503, "busy")]);
    let logs = testing::capture_logs().unwrap();
    let paused = testing::pause();
    assert_eq!(client.get("/v1/orders/1").await.unwrap(), "ok", "{logs}");
    assert_eq!((fake.tokens(), fake.calls()), (3, 1));
    let s = Duration::from_secs;
    assert_eq!(paused.waits(), [s(1), s(2)], "{logs}");
    let retries = logs.retries();
    assert_eq!(retries.len(), 2, "{logs}");
    assert!(
        retries
            .iter()
            .all(|r| r.field("operation") == Some("partner.token")),
        "{logs}"
    );
}

/// The walk-through's outage: one 503 from the token endpoint while 50
/// callers refresh a revoked token. The refresh retries it; nobody sees
/// it, and the partner's breaker counts nothing.
#[tokio::test(start_paused = true)]
async fn one_token_503_during_a_revoke_reaches_no_caller() {
    let (fake, client, breaker) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.revoke();
    fake.token_script(&[(503, "busy")]);
    let logs = testing::capture_logs().unwrap();
    let results = fifty(&client).await;
    assert_eq!(failed(&results), None, "{logs}");
    assert_eq!(fake.tokens(), 1 + 2);
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.stats().failures, 0);
}

/// `invalid_client`: one token request, and every caller that waited for
/// it fails at once with it (no wait, no second refresh).
#[tokio::test(start_paused = true)]
async fn invalid_client_fails_every_caller_at_once() {
    let (fake, client, breaker) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.revoke();
    fake.token_always(INVALID_CLIENT);
    let logs = testing::capture_logs().unwrap();
    let paused = testing::pause();
    let start = Instant::now();
    let results = fifty(&client).await;
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert!(
            matches!(e, PartnerError::Token(t) if matches!(**t, TokenError::InvalidClient)),
            "{e:?}"
        );
        assert_eq!(e.kind(), ErrorKind::Permanent);
        assert_eq!(
            e.why_permanent(),
            Some(
                "invalid_client: the client secret was rotated or revoked; no retry makes it valid"
            )
        );
    }
    assert_eq!(fake.tokens(), 1 + 1, "one refresh attempt\n{logs}");
    assert_eq!(fake.calls(), 1 + 50, "no call sent again");
    assert_eq!(paused.waits(), [] as [Duration; 0]);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(resends(&logs), 0, "{logs}");
    assert_eq!(
        breaker.stats().failures,
        0,
        "a Permanent error counts no failure"
    );
    // the `why` in the give-up lines: the refresh's, and each call's
    let why = "invalid_client: the client secret was rotated or revoked; no retry makes it valid";
    let gave_up = |operation| {
        (logs.records_at(Level::WARN).iter())
            .filter(|r| r.field("reason") == Some(why) && r.field("operation") == Some(operation))
            .count()
    };
    assert_eq!(
        (gave_up("partner.token"), gave_up("partner")),
        (1, 50),
        "{logs}"
    );
    let e = results[0].as_ref().unwrap_err();
    assert_eq!(
        e.to_string(),
        "getting a partner token: the token endpoint refused our client credentials (invalid_client)"
    );
}

/// A cold start with a rotated secret: one token request for 50 callers.
#[tokio::test(start_paused = true)]
async fn invalid_client_on_a_cold_start_is_one_request() {
    let (fake, client, _) = partner().await;
    fake.token_always(INVALID_CLIENT);
    let results = fifty(&client).await;
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(PartnerError::Token(_)))));
    assert_eq!((fake.tokens(), fake.calls()), (1, 0));
}

/// A 401 with a token just fetched is returned (no second refresh, no loop).
#[tokio::test(start_paused = true)]
async fn a_401_after_a_fresh_token_is_returned() {
    let (fake, client, _) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.api_always((401, r#"{"error":"invalid_token"}"#));
    let logs = testing::capture_logs().unwrap();
    let paused = testing::pause();
    let e = client.get("/v1/admin").await.unwrap_err();
    assert!(
        matches!(&e, PartnerError::Status(s) if s.status() == 401),
        "{e:?}"
    );
    assert_eq!((fake.tokens(), fake.calls()), (1 + 1, 1 + 2));
    assert_eq!(paused.waits(), [] as [Duration; 0]);
    assert_eq!(resends(&logs), 1, "{logs}");
    assert_eq!(logs.retries().len(), 0, "{logs}");
}

/// 401s say nothing of the partner's health: 20 of them leave its breaker
/// closed (each neutral); its 503s open it (the API preset's 3 attempts a
/// call: the second call's), and the next call is turned away unsent.
#[tokio::test(start_paused = true)]
async fn a_401_storm_leaves_the_breaker_closed_a_503_storm_opens_it() {
    let (fake, client, breaker) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.api_always((401, r#"{"error":"invalid_token"}"#));
    for _ in 0..20 {
        assert!(matches!(
            client.get("/v1/x").await,
            Err(PartnerError::Status(_))
        ));
    }
    assert_eq!(breaker.state(), CircuitState::Closed);
    let stats = breaker.stats();
    assert_eq!((stats.failures, stats.neutral), (0, 20), "{stats:?}");
    fake.api_always((503, "down"));
    for _ in 0..2 {
        assert!(matches!(
            client.get("/v1/x").await,
            Err(PartnerError::Status(_))
        ));
    }
    assert_eq!(breaker.state(), CircuitState::Open, "{:?}", breaker.stats());
    let sent = fake.calls();
    let e = client.get("/v1/x").await.unwrap_err();
    assert!(matches!(e, PartnerError::Open(_)), "{e:?}");
    assert_eq!(fake.calls(), sent, "turned away unsent");
}

/// A token endpoint that takes the request and never answers: each token
/// request ends at the client's timeout (a `Timeout`, which `TOKEN`
/// retries), and the call gets that `Timeout` after the refresh's 4
/// attempts in each of its own 3, not a hang.
#[tokio::test(start_paused = true)]
async fn a_token_endpoint_that_never_answers_is_a_timeout_not_a_hang() {
    let (fake, client, _) = partner().await;
    fake.token_delay(Duration::from_secs(86_400));
    let paused = testing::pause();
    let call = tokio::time::timeout(Duration::from_secs(3600), client.get("/v1/orders/1"));
    let e = call.await.expect("the call hangs").unwrap_err();
    assert!(
        matches!(&e, PartnerError::Token(t) if t.kind() == ErrorKind::Timeout),
        "{e:?}"
    );
    assert_eq!((fake.tokens(), fake.calls()), (3 * 4, 0));
    let s = Duration::from_secs;
    assert_eq!(paused.waits()[..3], [s(1), s(2), s(4)]);
}

/// The timer's call ahead of the token's expiry.
async fn renew(client: &Partner) -> Result<(), Arc<TokenError>> {
    client.tokens.renew().await
}

/// A renew (a timer of yours, ahead of the expiry) while the token
/// endpoint takes 2s: a call made meanwhile sends the token it has, at
/// once, without waiting for the new one.
#[tokio::test(start_paused = true)]
async fn a_valid_token_is_sent_at_once_during_a_renew() {
    let (fake, client, _) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.token_delay(Duration::from_secs(2));
    let renewing = tokio::spawn({
        let client = client.clone();
        async move { renew(&client).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.tokens(), 2, "the renew is under way");
    let start = Instant::now();
    assert_eq!(client.get("/v1/orders/1").await.unwrap(), "ok");
    assert_eq!(start.elapsed(), Duration::ZERO);
    renewing.await.unwrap().unwrap();
    assert_eq!((fake.tokens(), fake.calls()), (2, 2));
}

/// A renew that fails (the token endpoint's 503s outlast `TOKEN`'s 4
/// attempts) keeps the token it was to replace: calls made during it and
/// after it send that token at once, and none refreshes; the error is the
/// renew's alone.
#[tokio::test(start_paused = true)]
async fn a_failed_renew_keeps_the_valid_token() {
    let (fake, client, _) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.token_script(&[(503, "busy"); 4]);
    let renewing = tokio::spawn({
        let client = client.clone();
        async move { renew(&client).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    assert_eq!(client.get("/v1/orders/1").await.unwrap(), "ok", "during");
    assert_eq!(start.elapsed(), Duration::ZERO);
    let e = renewing.await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let start = Instant::now();
    assert_eq!(client.get("/v1/orders/2").await.unwrap(), "ok", "after");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!((fake.tokens(), fake.calls()), (1 + 4, 1 + 2));
}

/// A 401 after a failed renew: the renew's error was its own, not the
/// refused token's; the call refreshes at once (one more token request)
/// and sends the new token, in its first attempt.
#[tokio::test(start_paused = true)]
async fn a_401_after_a_failed_renew_refreshes() {
    let (fake, client, _) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.token_script(&[(503, "busy"); 4]);
    renew(&client).await.unwrap_err();
    fake.revoke();
    let logs = testing::capture_logs().unwrap();
    let start = Instant::now();
    assert_eq!(client.get("/v1/orders/1").await.unwrap(), "ok");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(logs.retries().len(), 0, "{logs}");
    assert_eq!((fake.tokens(), fake.calls()), (1 + 4 + 1, 1 + 2));
}

/// Callers on deadlines shorter than the token endpoint's answer (2s),
/// one every 300ms: the refresh runs in a task of its own, so a caller
/// dropped at its deadline cancels nothing, and those whose deadline
/// falls after the answer get the token of one token request.
#[tokio::test(start_paused = true)]
async fn callers_on_deadlines_shorter_than_the_refresh_get_its_token() {
    let (fake, client, _) = partner().await;
    fake.token_delay(Duration::from_secs(2));
    let tasks: Vec<_> = (0..10u64)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300 * i)).await;
                tokio::time::timeout(Duration::from_secs(1), client.get("/v1/orders/1")).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(match task.await.unwrap() {
            Ok(Ok(_)) => "ok",
            Ok(Err(_)) => "failed",
            Err(_) => "timed out",
        });
    }
    // started at 0, 0.3, 0.6 and 0.9s: their deadlines fall before the answer
    assert_eq!(outcomes, [&["timed out"; 4][..], &["ok"; 6]].concat());
    assert_eq!((fake.tokens(), fake.calls()), (1, 6));
}

/// A partner that refuses every token (a scope withdrawn): each call's
/// 401 refreshes, and the 401 with the new token is returned; so each
/// call costs the token endpoint a request (the chapter says so).
#[tokio::test(start_paused = true)]
async fn a_partner_refusing_every_token_is_a_token_request_per_call() {
    let (fake, client, breaker) = partner().await;
    client.get("/v1/warmup").await.unwrap();
    fake.api_always((401, r#"{"error":"invalid_token"}"#));
    for _ in 0..100 {
        client.get("/v1/orders/1").await.unwrap_err();
    }
    assert_eq!((fake.tokens(), fake.calls()), (1 + 100, 1 + 200));
    assert_eq!(breaker.stats().failures, 0);
}

/// The metrics: a 503 then a revoked token in one call is one retry of
/// the library's (`retry_retries_total`) and one resend of the recipe's
/// own counter, which the library does not count.
#[test]
fn a_resend_is_counted_by_its_own_counter_not_as_a_retry() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    retry_runtime::metrics::enable();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let (fake, client, _) = partner().await;
            client.get("/v1/warmup").await.unwrap();
            fake.api_script(&[(503, "down")]);
            fake.revoke();
            assert_eq!(client.get("/v1/orders/1").await.unwrap(), "ok");
            assert_eq!((fake.tokens(), fake.calls()), (2, 1 + 3));
        })
    });
    let snapshot = snapshotter.snapshot().into_vec();
    // summed over the other labels (`retry_calls_total`'s outcomes)
    let counter = |name: &str, operation: Option<&str>| {
        let found = snapshot.iter().filter(|(key, _, _, _)| {
            let key = key.key();
            let label = key.labels().find(|l| l.key() == "operation");
            key.name() == name && label.map(|l| l.value()) == operation
        });
        (found.map(|(_, _, _, value)| match value {
            DebugValue::Counter(n) => *n,
            _ => 0,
        }))
        .sum::<u64>()
    };
    assert_eq!(counter("retry_retries_total", Some("partner")), 1);
    assert_eq!(counter("partner_resent_after_refresh_total", None), 1);
    // the refreshes (the warmup's and the revoke's), which log nothing
    assert_eq!(counter("retry_calls_total", Some("partner.token")), 2);
}

/// A refresh whose task ends without its outcome (its runtime shut down
/// while the token endpoint takes its time): the tasks waiting for it get
/// `Abandoned` (`Unavailable`), not a wait for ever, and the next call
/// refreshes again. Two runtimes, on real time (a few milliseconds).
#[test]
fn a_refresh_lost_with_its_runtime_fails_its_waiters_and_the_next_call_refreshes() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (fake, client, _) = server.block_on(partner());
    fake.token_delay(Duration::from_secs(86_400));
    let doomed = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut waiter = Box::pin({
        let client = client.clone();
        async move { client.tokens.token().await }
    });
    doomed.block_on(async {
        let caller = client.clone();
        tokio::spawn(async move { caller.get("/v1/orders/1").await });
        while fake.tokens() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // polled once: it finds the refresh under way, and waits for it
        let first = tokio::time::timeout(Duration::ZERO, &mut waiter).await;
        assert!(first.is_err(), "{first:?}");
    });
    fake.token_delay(Duration::ZERO);
    drop(doomed); // and the refresh's task with it
    let waited =
        server.block_on(async { tokio::time::timeout(Duration::from_secs(5), waiter).await });
    let e = waited.expect("the waiter waits for ever").unwrap_err();
    assert!(matches!(*e, TokenError::Abandoned), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let next = server.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), client.get("/v1/orders/1")).await
    });
    let next = next.expect("the next call waits for ever");
    assert_eq!(next.unwrap(), "ok");
    assert_eq!((fake.tokens(), fake.calls()), (2, 1));
}

/// A `tokio::spawn` that panics in the caller (polled with no runtime)
/// after the refresh was marked under way: the next call refreshes, it
/// does not wait for ever.
#[test]
fn a_spawn_that_panics_in_the_caller_leaves_no_refresh_under_way() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let (fake, client, _) = runtime.block_on(partner());
    let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut token = std::pin::pin!(client.tokens.token());
        let _ = (token.as_mut()).poll(&mut Context::from_waker(Waker::noop()));
    }));
    assert!(spawned.is_err(), "tokio::spawn with no runtime panics");
    let next = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(3600), client.get("/v1/orders/1")).await
    });
    assert_eq!(next.expect("the next call waits for ever").unwrap(), "ok");
    assert_eq!((fake.tokens(), fake.calls()), (1, 1));
}

/// The token endpoint rate-limits (429, Retry-After: 30) for 30s while
/// 100 callers arrive, one every 100ms: the refresh waits it out (`TOKEN`
/// retries `RateLimited`) and every caller joins it, rather than each
/// asking the token endpoint again: 2 token requests (the 429 and the one
/// after its wait), every call ok, the partner's breaker untouched.
#[tokio::test(start_paused = true)]
async fn a_token_429_is_waited_out_by_one_refresh_that_the_callers_join() {
    let (fake, client, breaker) = partner().await;
    fake.rate_limit(Duration::from_secs(30), 30);
    let start = Instant::now();
    let tasks: Vec<_> = (0..100u64)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100 * i)).await;
                client.get(&format!("/v1/orders/{i}")).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "ok");
    }
    assert_eq!((fake.tokens(), fake.calls()), (2, 100));
    assert!(start.elapsed() >= Duration::from_secs(30));
    assert_eq!(breaker.stats().failures, 0);
}

/// A rotated secret: `invalid_client` is not kept, so each call with no
/// token asks the token endpoint again (the chapter states the cost).
#[tokio::test(start_paused = true)]
async fn invalid_client_is_asked_again_by_each_call() {
    let (fake, client, breaker) = partner().await;
    fake.token_always(INVALID_CLIENT);
    for _ in 0..100 {
        let e = client.get("/v1/orders/1").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Permanent);
    }
    assert_eq!((fake.tokens(), fake.calls()), (100, 0));
    assert_eq!(breaker.stats().failures, 0);
}

/// A refresh that ends on the token endpoint's 429 (asking 10s, for 40s:
/// `TOKEN`'s 4 attempts, at 0, 10, 20 and 30s, all refused) leaves its
/// hold: the next refresh, at once, waits it out and asks once, at 40s,
/// rather than at once and again after another 429.
#[tokio::test(start_paused = true)]
async fn a_refresh_after_one_that_ended_on_a_429_waits_out_its_hold() {
    let (fake, client, _) = partner().await;
    fake.rate_limit(Duration::from_secs(40), 10);
    let e = renew(&client).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(fake.tokens(), 4);
    let start = Instant::now();
    assert_eq!(client.get("/v1/orders/1").await.unwrap(), "ok");
    assert_eq!(fake.tokens(), 4 + 1, "one request, after the hold");
    assert!(
        start.elapsed() >= Duration::from_secs(9),
        "{:?}",
        start.elapsed()
    );
}
