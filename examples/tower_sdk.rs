//! A video-clips SDK (a client library other teams embed) built on a
//! hyper-util client in a `tower::ServiceBuilder` under `RetryLayer`
//! (feature `tower`), with a retry policy its users hand it: a `Policy`,
//! of which the layer keeps a copy (`RetryLayer::from_policy`, named
//! `clipsdk` unless they named it), or a function choosing a
//! `&'static Policy` per request.
//!
//! `clipsdk` below is the library; `demo()` is an application using it,
//! against a local clips API (an axum server started here) that:
//! 1. answers a clip's POST, sent with an idempotency key, with 409 and
//!    `Retry-After: 1` (the same key's first request still in flight),
//!    then 200: the SDK reads that 409 as Unavailable, waits the second,
//!    and both attempts carry the key;
//! 2. answers a DELETE with 404: the clip is gone already, a success, sent
//!    once (a GET's 404 stays a failure: the SDK's reading of responses is
//!    told the request's method, `with_classify_sent`);
//! 3. answers two POSTs with 503, then 201: the one without a key is sent
//!    once, the one with a key is retried;
//! 4. answers a GET after 2 seconds, for a caller whose deadline is 300ms
//!    (the request's `MaxElapsed`): the attempt's 500ms timeout is cut to
//!    the deadline, and the call ends there;
//! 5. answers a GET with 503 to every request: the SDK gives up after the
//!    policy's 3 attempts and tells its caller so, from the layer's report;
//! 6. is not there at all (a closed port: each connection refused): the
//!    SDK gives up after 3 attempts and tells its caller so too, from the
//!    report the layer gives with its error.
//!
//! The SDK counts each client's retries by status with its own hook (a
//! struct of its own, one per client, implementing `RetryHook`) and logs
//! them under its own `tracing` target, `clipsdk`, naming the client.
//!
//! Run it with `cargo run --example tower_sdk` (about 1.5 seconds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use testkit::demo::{about, ensure};

// the application names retry-runtime through the SDK: the version it was built with
use clipsdk::retry::{presets, Backoff, Jitter, Policy, RetryOn};

/// The library: what an SDK crate would hold in its `lib.rs`.
pub mod clipsdk {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use bytes::Bytes;
    use futures_util::future::{MapErr, TryFutureExt};
    use http::{Method, Request, Response, StatusCode};
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use retry_runtime::request::MaxElapsed;
    use retry_runtime::response::{Failure, Idempotent, ResponseFailure, RetryReport};
    use retry_runtime::tower::{
        ClassifySentFn, ClassifySentWith, Hooks, OwnedPolicy, PolicyFn, Reported, RetryHook,
        RetryLayer, RetryService, WithReport, WithTimeout,
    };
    use retry_runtime::{
        Classify, DefaultSleeper, ErrorKind, NoCircuit, Policy, RetryEvent, StopReason,
    };
    use tower::{Service, ServiceBuilder, ServiceExt};

    /// Re-exported, so that users name the version the SDK was built with
    /// (`clipsdk::retry::presets::API`).
    pub use retry_runtime as retry;

    /// The longest one attempt may take (cut to the caller's deadline, by
    /// the layer: the request's `MaxElapsed`).
    pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);

    type Hyper = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

    /// One failed attempt, as the SDK's hooks see it: the response of the
    /// service under the layer, or its error.
    pub type Attempted = Failure<Response<Incoming>, TransportError>;

    /// How the SDK reads a response, told the method of the request it
    /// answers: [`read_response`] as a `fn` pointer (a `fn` item's type
    /// has no name), the layer keeping each request's `Method` for it.
    type ReadResponse = ClassifySentWith<ClassifySentFn<Method, Response<Incoming>>, Method>;

    /// The retrying stack, its type written out once: the hyper client in
    /// [`PerAttempt`], under a `RetryLayer` with the SDK's settings
    /// (per-attempt timeout, a report in each response and with each
    /// error) and hooks (its client's [`OnRetry`], and [`ReadResponse`]),
    /// its policy `P` as the user gave it.
    pub type Stack<W, G, P> = RetryService<
        PerAttempt<Hyper>,
        W,
        G,
        DefaultSleeper,
        WithReport<WithTimeout>,
        P,
        Hooks<OnRetry, ReadResponse>,
    >;

    /// What an attempt failed with, below the layer.
    #[derive(Debug, thiserror::Error)]
    pub enum TransportError {
        /// The hyper client's error (a refused connection, a reset).
        #[error("{0}")]
        Http(#[source] hyper_util::client::legacy::Error),
    }

    /// The hyper client's errors as the runtime reads them.
    impl Classify for TransportError {
        fn kind(&self) -> ErrorKind {
            match self {
                TransportError::Http(e) => retry_runtime::classify::error_kind(e),
            }
        }
    }

    fn transport<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn Classify + 'a)> {
        e.downcast_ref::<TransportError>()
            .map(|e| e as &dyn Classify)
    }

    /// The service under the layer: one attempt, sent by the hyper client,
    /// its error the SDK's (which the layer classifies with `transport`).
    #[derive(Clone, Debug)]
    pub struct PerAttempt<S> {
        inner: S,
    }

    /// The hyper client's error as the SDK's, for [`PerAttempt`]'s future
    /// (a `fn` pointer: its type is named there).
    type Transport = fn(hyper_util::client::legacy::Error) -> TransportError;

    impl<S> Service<Request<Full<Bytes>>> for PerAttempt<S>
    where
        S: Service<
            Request<Full<Bytes>>,
            Response = Response<Incoming>,
            Error = hyper_util::client::legacy::Error,
        >,
    {
        type Response = Response<Incoming>;
        type Error = TransportError;
        type Future = MapErr<S::Future, Transport>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
            self.inner.poll_ready(cx).map_err(TransportError::Http)
        }

        fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
            self.inner
                .call(request)
                .map_err(TransportError::Http as Transport)
        }
    }

    /// This API's responses, where the status alone misleads, told the
    /// method of the request each answers (the layer keeps it, from
    /// `with_classify_sent`): a 409 with `Retry-After` (the same
    /// idempotency key's request still in flight) is Unavailable, its wait
    /// honoured; a DELETE's 404 is a success (gone already), a GET's a
    /// failure; the rest as their status says.
    fn read_response(
        method: &Method,
        response: &Response<Incoming>,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match (response.status(), by_status) {
            (StatusCode::CONFLICT, Some(f)) if f.retry_after.is_some() => Some(
                ResponseFailure::new(ErrorKind::Unavailable, 409).with_retry_after(f.retry_after),
            ),
            (StatusCode::NOT_FOUND, _) if method == Method::DELETE => None,
            (_, f) => f,
        }
    }

    /// A client's retries, by what the failed attempt got.
    #[derive(Debug, Default)]
    pub struct RetryCounts {
        pub conflict: AtomicU32,
        pub unavailable: AtomicU32,
        pub other: AtomicU32,
    }

    /// The SDK's hook, one per client, told of each of its retries:
    /// counted in that client's [`RetryCounts`] by status, and a line
    /// under the SDK's own target naming the client. A struct of the
    /// SDK's, named in [`Stack`] (a closure capturing the counts has a
    /// type no field can name), given with `with_retry_hook`; cloned
    /// into each call's future: one `Arc`, one atomic increment per call.
    #[derive(Clone, Debug)]
    pub struct OnRetry(Arc<Retries>);

    /// What a client's [`OnRetry`] keeps.
    #[derive(Debug)]
    struct Retries {
        client: String,
        counts: RetryCounts,
    }

    impl RetryHook<Attempted> for OnRetry {
        fn on_retry(&self, failed: &Attempted, ev: &RetryEvent<'_>) {
            let status = match failed {
                Failure::Response { failure, .. } => Some(failure.code),
                _ => None,
            };
            let counts = &self.0.counts;
            let counter = match status {
                Some(409) => &counts.conflict,
                Some(503) => &counts.unavailable,
                _ => &counts.other,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                target: "clipsdk",
                client = %self.0.client,
                attempt = ev.attempt,
                status,
                "clipsdk: retrying in {:?} after {}",
                ev.wait,
                ev.error,
            );
        }
    }

    /// What the SDK's calls fail with.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum Error {
        /// The API answered with an error status, after `attempts`.
        #[error("clips API answered {status} after {attempts} attempt(s) ({why:?})")]
        Api {
            status: u16,
            attempts: u32,
            why: Option<StopReason>,
        },
        /// The caller's deadline came before an answer: the attempt under
        /// way then was cut at it, after `after`.
        #[error("clips API: no answer before the deadline (the last attempt cut after {after:?})")]
        Deadline { after: Duration },
        /// The answer's body broke off.
        #[error("clips API: the answer broke off: {0}")]
        Body(#[source] hyper::Error),
        /// No answer after `attempts` (refused, reset, every attempt
        /// timed out; 0: not tried, the policy's breaker is open).
        #[error(
            "clips API unreachable after {attempts} attempt(s) in {elapsed:?} ({why:?}): {source}"
        )]
        Transport {
            attempts: u32,
            elapsed: Duration,
            why: Option<StopReason>,
            source: retry_runtime::tower::Error<TransportError>,
        },
    }

    /// A call's answer, and how many attempts it took.
    #[derive(Debug)]
    pub struct Answer {
        pub status: u16,
        pub body: Bytes,
        pub attempts: u32,
    }

    /// A client of the clips API; `P` says where its policy comes from
    /// (the client's own copy: [`Client::new`], or a function:
    /// [`Client::from_fn`]).
    pub struct Client<W: 'static, G: 'static = NoCircuit, P = OwnedPolicy<W, G>> {
        http: Stack<W, G, P>,
        base: String,
        retries: Arc<Retries>,
    }

    impl<W: 'static, G: 'static, P: Copy> Clone for Client<W, G, P> {
        /// A client sharing this one's connections and retry counts.
        fn clone(&self) -> Self {
            Client {
                http: self.http.clone(),
                base: self.base.clone(),
                retries: Arc::clone(&self.retries),
            }
        }
    }

    impl<W: 'static, G: 'static, P> Client<W, G, P> {
        /// This client's retries (and its clones'), by status.
        pub fn retries(&self) -> &RetryCounts {
            &self.retries.counts
        }
    }

    /// The SDK's settings and hooks, on the user's layer.
    fn stack<W, G, P: Copy>(
        base: String,
        layer: RetryLayer<W, G, DefaultSleeper, retry_runtime::tower::NoTimeout, P>,
    ) -> Client<W, G, P> {
        let retries = Arc::new(Retries {
            client: base.clone(),
            counts: RetryCounts::default(),
        });
        let layer = layer
            .with_timeout(ATTEMPT_TIMEOUT)
            .with_report()
            .with_classify(transport)
            .with_retry_hook(OnRetry(Arc::clone(&retries)))
            .with_classify_sent(read_response as ClassifySentFn<Method, Response<Incoming>>);
        let hyper = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build_http::<Full<Bytes>>();
        Client {
            http: ServiceBuilder::new()
                .layer(layer)
                .service(PerAttempt { inner: hyper }),
            base,
            retries,
        }
    }

    impl<W: Copy + 'static, G: Copy + 'static> Client<W, G> {
        /// A client retrying with `policy` (a preset, or one of yours, made
        /// at run time too: the client keeps a copy, named `clipsdk` unless
        /// you named it); a call's deadline is its policy's `max_elapsed`,
        /// or, for [`get_clip`](Self::get_clip), the one its caller gives.
        pub fn new(base: impl Into<String>, policy: Policy<W, G>) -> Self {
            stack(
                base.into(),
                RetryLayer::from_policy(policy.with_default_name("clipsdk")),
            )
        }
    }

    impl<W: 'static, G: 'static> Client<W, G, PolicyFn<W, G>> {
        /// A client asking `choose` for the policy of each request (a
        /// switch that turns retries down at run time). Its calls'
        /// deadlines are the chosen policy's `max_elapsed`: the layer
        /// reads a request's own (`MaxElapsed`) only over a policy of its
        /// own ([`Client::new`]).
        pub fn from_fn(
            base: impl Into<String>,
            choose: impl Fn() -> &'static Policy<W, G> + Send + Sync + 'static,
        ) -> Self {
            stack(base.into(), RetryLayer::from_fn(choose))
        }
    }

    impl<W: 'static, G: 'static, P: Copy> Client<W, G, P>
    where
        Stack<W, G, P>: Service<
            Request<Full<Bytes>>,
            Response = Response<Incoming>,
            Error = Reported<retry_runtime::tower::Error<TransportError>>,
        >,
    {
        /// `GET /v1/clips/{id}` within `deadline`.
        pub async fn get_clip(&self, id: u32, deadline: Duration) -> Result<Answer, Error> {
            let request = self.request(Method::GET, &format!("/v1/clips/{id}"), None, Bytes::new());
            self.send(request, Some(deadline)).await
        }

        /// `POST /v1/clips`: retried only with an `idempotency_key`, which
        /// every attempt sends.
        pub async fn create_clip(
            &self,
            title: &str,
            idempotency_key: Option<&str>,
        ) -> Result<Answer, Error> {
            let body = Bytes::from(format!(r#"{{"title":"{title}"}}"#));
            let request = self.request(Method::POST, "/v1/clips", idempotency_key, body);
            self.send(request, None).await
        }

        /// `DELETE /v1/clips/{id}`: a clip gone already is deleted.
        pub async fn delete_clip(&self, id: u32) -> Result<Answer, Error> {
            let request = self.request(
                Method::DELETE,
                &format!("/v1/clips/{id}"),
                None,
                Bytes::new(),
            );
            self.send(request, None).await
        }

        fn request(
            &self,
            method: Method,
            path: &str,
            idempotency_key: Option<&str>,
            body: Bytes,
        ) -> Request<Full<Bytes>> {
            let mut request = Request::builder()
                .method(method)
                .uri(format!("{}{path}", self.base));
            if let Some(key) = idempotency_key {
                // safe to send again: the key says so
                request = request.header("idempotency-key", key).extension(Idempotent);
            }
            request.body(Full::new(body)).expect("a valid request")
        }

        /// Send `request`; with a `deadline`, the caller's, in its policy's
        /// `max_elapsed` stead (a request's `MaxElapsed` replaces it, longer
        /// or shorter); without one, the policy's.
        async fn send(
            &self,
            mut request: Request<Full<Bytes>>,
            deadline: Option<Duration>,
        ) -> Result<Answer, Error> {
            // (the caller's deadline, the run's: each attempt's timeout cut
            // to the time left, no retry past it)
            if let Some(deadline) = deadline {
                request.extensions_mut().insert(MaxElapsed(deadline));
            }
            let response = match self.http.clone().oneshot(request).await {
                Ok(response) => response,
                // (the layer's `with_report`: its error, beside what the run did)
                Err(failed) => {
                    let (error, report) = failed.into_parts();
                    return Err(match error {
                        // (an attempt cut short of its whole timeout: by the deadline)
                        retry_runtime::tower::Error::Timeout(cut)
                            if cut.after < ATTEMPT_TIMEOUT =>
                        {
                            Error::Deadline { after: cut.after }
                        }
                        source => Error::Transport {
                            attempts: report.attempts,
                            elapsed: report.elapsed,
                            why: report.gave_up,
                            source,
                        },
                    });
                }
            };
            // (the layer's `with_report`: a response the run judged a
            // success, a DELETE's 404 among them, gave up on nothing)
            let report = response.extensions().get::<RetryReport>().copied();
            let (attempts, why) = report.map_or((1, None), |r| (r.attempts, r.gave_up));
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(Error::Body)?
                .to_bytes();
            if why.is_some() {
                return Err(Error::Api {
                    status: status.as_u16(),
                    attempts,
                    why,
                });
            }
            Ok(Answer {
                status: status.as_u16(),
                body,
                attempts,
            })
        }
    }
}

/// One scripted reply: a status, its `Retry-After` in seconds, a delay.
type Reply = (u16, Option<u64>, Duration);

/// One request the API saw: its method, path and `Idempotency-Key`, when.
type Seen = (Method, String, Option<String>, Instant);

/// The clips API: each path's replies in order (the last one repeats), and
/// each request it saw.
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

    /// The requests to `path`: their keys, and the gaps between them.
    fn requests(&self, path: &str) -> (Vec<Option<String>>, Vec<Duration>) {
        let seen = self.seen.lock().unwrap();
        let mine: Vec<_> = seen.iter().filter(|(_, p, ..)| p == path).collect();
        let keys = mine.iter().map(|(_, _, key, _)| key.clone()).collect();
        let gaps = mine.windows(2).map(|w| w[1].3 - w[0].3).collect();
        (keys, gaps)
    }

    /// Forget the requests seen so far.
    fn forget(&self) {
        self.seen.lock().unwrap().clear();
    }
}

/// Every route: the path's next scripted reply.
async fn reply(
    State(api): State<Api>,
    method: Method,
    path: String,
    headers: HeaderMap,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    api.seen
        .lock()
        .unwrap()
        .push((method, path.clone(), key, Instant::now()));
    let (status, retry_after, delay) = {
        let mut scripts = api.scripts.lock().unwrap();
        let replies = scripts.get_mut(&path).expect("a scripted path");
        if replies.len() > 1 {
            replies.remove(0)
        } else {
            replies[0]
        }
    };
    tokio::time::sleep(delay).await;
    let status = StatusCode::from_u16(status).unwrap();
    let mut response = (status, if status.is_success() { "clip" } else { "no" }).into_response();
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
        .route(
            "/v1/clips",
            post(|s, m, h| reply(s, m, "/v1/clips".into(), h)),
        )
        .route(
            "/v1/clips/{id}",
            get(|s, m, Path(id): Path<u32>, h| reply(s, m, format!("/v1/clips/{id}"), h))
                .delete(|s, m, Path(id): Path<u32>, h| reply(s, m, format!("/v1/clips/{id}"), h)),
        )
        .with_state(api);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// The application's policy: the `api` preset (3 attempts, Retry-After
/// honoured), with short fixed waits for the demo.
static CLIPS: Policy<RetryOn> = presets::API
    .with_backoff(Backoff::fixed(Duration::from_millis(50)))
    .with_jitter(Jitter::None)
    .with_name("clips");

/// A reply with no delay.
const NOW: Duration = Duration::ZERO;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::atomic::Ordering::Relaxed;
    let api = Api::default();
    let base = start(api.clone()).await?;
    let client = clipsdk::Client::new(&base, CLIPS);
    let counts = |retries: &clipsdk::RetryCounts| {
        (
            retries.conflict.load(Relaxed),
            retries.unavailable.load(Relaxed),
            retries.other.load(Relaxed),
        )
    };

    println!("\n1. POST a clip with an idempotency key, answered 409 (Retry-After: 1), then 200");
    api.script("/v1/clips", &[(409, Some(1), NOW), (200, None, NOW)]);
    let created = client.create_clip("cat", Some("clip-42")).await?;
    let (keys, gaps) = api.requests("/v1/clips");
    println!("   {created:?}; keys {keys:?}; waited {gaps:?}");
    ensure(
        "tower_sdk",
        created.status == 200
            && created.attempts == 2
            && keys.iter().all(|k| k.as_deref() == Some("clip-42"))
            && keys.len() == 2
            && about(gaps[0], Duration::from_secs(1), Duration::from_millis(500)),
        format!(
            "200 after 2 attempts keyed clip-42, 1s apart, got {created:?}, {keys:?}, {gaps:?}"
        ),
    )?;

    println!("\n2. DELETE a clip that is gone already (404), then GET it (404)");
    api.script("/v1/clips/9", &[(404, None, NOW)]);
    let deleted = client.delete_clip(9).await?;
    let missing = client
        .get_clip(9, Duration::from_secs(5))
        .await
        .unwrap_err();
    let (sent, _) = api.requests("/v1/clips/9");
    println!("   deleted: {deleted:?}; get: {missing}");
    ensure(
        "tower_sdk",
        deleted.status == 404
            && deleted.attempts == 1
            && matches!(
                missing,
                clipsdk::Error::Api {
                    status: 404,
                    attempts: 1,
                    ..
                }
            )
            && sent.len() == 2,
        format!(
            "a DELETE's 404 a success, a GET's a failure, once each, got {deleted:?}, {missing:?}"
        ),
    )?;

    println!("\n3. POST a clip without a key, then with one, answered 503 then 201");
    api.forget();
    api.script(
        "/v1/clips",
        &[(503, None, NOW), (503, None, NOW), (201, None, NOW)],
    );
    let unkeyed = client.create_clip("dog", None).await.unwrap_err();
    let sent_unkeyed = api.requests("/v1/clips").0.len();
    let keyed = client.create_clip("dog", Some("clip-43")).await?;
    let sent_keyed = api.requests("/v1/clips").0.len() - sent_unkeyed;
    println!(
        "   without: {unkeyed} ({sent_unkeyed} request); with: {keyed:?} ({sent_keyed} requests)"
    );
    ensure(
        "tower_sdk",
        matches!(
            unkeyed,
            clipsdk::Error::Api {
                status: 503,
                attempts: 1,
                why: Some(clipsdk::retry::StopReason::SentOnce)
            }
        ) && sent_unkeyed == 1
            && keyed.status == 201
            && keyed.attempts == 2
            && sent_keyed == 2,
        format!("the unkeyed POST sent once, the keyed one retried, got {unkeyed:?}, {keyed:?}"),
    )?;

    println!("\n4. GET a clip answered after 2s, for a caller whose deadline is 300ms");
    api.script("/v1/clips/10", &[(200, None, Duration::from_secs(2))]);
    let started = Instant::now();
    let late = client
        .get_clip(10, Duration::from_millis(300))
        .await
        .unwrap_err();
    let took = started.elapsed();
    println!("   {late} after {took:?}");
    ensure(
        "tower_sdk",
        matches!(late, clipsdk::Error::Deadline { after } if after > Duration::from_millis(200) && after <= Duration::from_millis(300))
            && about(took, Duration::from_millis(300), Duration::from_millis(150))
            && api.requests("/v1/clips/10").0.len() == 1,
        format!("cut at the 300ms deadline on attempt 1, got {late:?} after {took:?}"),
    )?;

    println!("\n5. GET a clip from an API answering 503 to every request (a client whose policy a function picks)");
    api.script("/v1/clips/11", &[(503, None, NOW)]);
    let switched = clipsdk::Client::from_fn(&base, || &CLIPS);
    let storm = switched
        .get_clip(11, Duration::from_secs(5))
        .await
        .unwrap_err();
    println!("   {storm}");
    ensure(
        "tower_sdk",
        matches!(
            storm,
            clipsdk::Error::Api {
                status: 503,
                attempts: 3,
                why: Some(clipsdk::retry::StopReason::Attempts)
            }
        ) && api.requests("/v1/clips/11").0.len() == 3,
        format!("503 after 3 attempts, attempts exhausted, got {storm:?}"),
    )?;

    println!("\n6. GET a clip from an API that is not there (a closed port: connections refused)");
    let gone = clipsdk::Client::new(testkit::flaky::refused_url(""), CLIPS);
    let refused = gone.get_clip(12, Duration::from_secs(5)).await.unwrap_err();
    println!("   {refused}");
    ensure(
        "tower_sdk",
        matches!(
            refused,
            clipsdk::Error::Transport {
                attempts: 3,
                why: Some(clipsdk::retry::StopReason::Attempts),
                elapsed,
                ..
            } if elapsed >= Duration::from_millis(100)
        ),
        format!(
            "unreachable after 3 attempts, 2 waits of 50ms, attempts exhausted, got {refused:?}"
        ),
    )?;

    let counted = [
        counts(client.retries()),
        counts(switched.retries()),
        counts(gone.retries()),
    ];
    println!("\neach client's retries (409, 503, other): {counted:?}");
    ensure(
        "tower_sdk",
        counted == [(1, 1, 0), (0, 2, 0), (0, 0, 2)],
        format!(
            "the first client 1 retry after a 409 and 1 after a 503, the switched one 2 after 503s, \
             the one with no API 2 after refused connections, got {counted:?}"
        ),
    )?;
    Ok(())
}
