//! A hyper-util client in a `tower::ServiceBuilder`, retried by
//! `RetryLayer` (feature `tower`).
//!
//! Against a local flaky server:
//! 1. GET answered 503, 503, then 200: retried after the backoff's 100ms
//!    waits; the third attempt gets the clip;
//! 2. GET answered 429 with `Retry-After: 1`: the retry waits the second the
//!    server asked for;
//! 3. POST answered 503: not retried, POST is not idempotent (the log says
//!    so); the caller gets the 503;
//! 4. a GET to a port nothing listens on: retried (Connect), then the
//!    connection error comes back.
//!
//! Run it with `cargo run --example tower_client` (about 1.5 seconds).

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use retry_runtime::tower::{RetryLayer, RetryService, WithTimeout};
use retry_runtime::{
    presets, Backoff, Classify, DefaultSleeper, ErrorKind, NoCircuit, Policy, RetryOn,
};
use testkit::demo::{about, ensure, ensure_hits};
use testkit::flaky::{refused_url, FlakyServer, Reply};
use tower::{ServiceBuilder, ServiceExt};

/// The `api` preset (Retry-After honoured for 429 and 503) with short,
/// fixed waits for the demo.
pub const CLIPS: Policy<RetryOn> = presets::API
    .with_backoff(Backoff::fixed(Duration::from_millis(100)))
    .with_jitter(retry_runtime::Jitter::None)
    .with_name("clips");

/// The client the demo (and the axum demo) retries through: `CLIPS`, the
/// default sleeper, and a per-attempt timeout (`with_timeout`, in the type).
pub type RetryingClient = RetryService<
    Client<HttpConnector, Full<Bytes>>,
    RetryOn,
    NoCircuit,
    DefaultSleeper,
    WithTimeout,
>;

/// A hyper-util HTTP/1 client under a `RetryLayer` of `CLIPS`.
pub fn client() -> RetryingClient {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    ServiceBuilder::new()
        .layer(RetryLayer::new(&CLIPS).with_timeout(Duration::from_secs(2)))
        .service(client)
}

/// The status and body of `request`, sent through `client`.
pub async fn send(
    client: &RetryingClient,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), Box<dyn std::error::Error>> {
    let response = client.clone().oneshot(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

fn get(url: &str) -> Request<Full<Bytes>> {
    Request::get(url)
        .body(Full::default())
        .expect("a valid request")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let server = FlakyServer::start().await;
    server.route(
        "/clips/7",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::ok_body("clip 7"),
        ],
    );
    server.route(
        "/clips/8",
        [Reply::retry_after_secs(1), Reply::ok_body("clip 8")],
    );
    server.route("/orders", [Reply::status(503), Reply::status(201)]);
    let client = client();

    println!("\n1. GET a clip from a server answering 503, 503, then 200");
    let (status, body) = send(&client, get(&server.url("/clips/7"))).await?;
    println!(
        "   {status} {body:?} after {} requests",
        server.hits("/clips/7")
    );
    ensure_hits("tower", &server, "/clips/7", 3)?;
    ensure(
        "tower",
        status == StatusCode::OK,
        format!("200, got {status}"),
    )?;

    println!("\n2. GET a clip from a server answering 429 with Retry-After: 1");
    let (status, _) = send(&client, get(&server.url("/clips/8"))).await?;
    let gaps = server.gaps("/clips/8");
    println!("   {status} after a wait of {gaps:?}");
    ensure(
        "tower",
        status == StatusCode::OK
            && gaps.len() == 1
            && about(gaps[0], Duration::from_secs(1), Duration::from_millis(500)),
        format!("200 after one wait of about 1s, got {status} and {gaps:?}"),
    )?;

    println!("\n3. POST an order to a server answering 503");
    let post = Request::post(server.url("/orders"))
        .body(Full::new(Bytes::from_static(b"{\"clip\":7}")))?;
    let (status, _) = send(&client, post).await?;
    println!("   {status}: sent once, POST is not idempotent");
    ensure_hits("tower", &server, "/orders", 1)?;
    ensure(
        "tower",
        status == StatusCode::SERVICE_UNAVAILABLE,
        format!("the 503 back, got {status}"),
    )?;

    println!("\n4. GET from a port nothing listens on");
    let err = match client.clone().oneshot(get(&refused_url("/clips/9"))).await {
        Ok(response) => {
            return Err(format!("a refused connection must fail, got {}", response.status()).into())
        }
        Err(e) => e,
    };
    println!("   gave up: {err} ({})", err.kind());
    ensure(
        "tower",
        err.kind() == ErrorKind::Connect,
        format!("Connect, got {}", err.kind()),
    )?;
    Ok(())
}
