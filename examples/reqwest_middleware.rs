//! `reqwest-middleware` with `RetryMiddleware` (feature
//! `reqwest-middleware`), and `reqwest-retry` beside it on the same 429.
//!
//! Against a local flaky server:
//! 1. 503, 503, then 200: the third request succeeds;
//! 2. 429 with `Retry-After: 1`: ours waits the second the server asked for;
//!    `reqwest-retry` (its `ExponentialBackoff`, here 20..50ms) retries
//!    after its own backoff, before the server said it would be ready, and
//!    gets a second 429;
//! 3. 404 and 401: sent once;
//! 4. POST answered 503: not retried unless asked (the `Idempotent`
//!    extension); asked, it is.
//!
//! Run it with `cargo run --example reqwest_middleware` (about 1.5 seconds).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_retry::policies::ExponentialBackoff;
use reqwest_retry::RetryTransientMiddleware;
use retry_runtime::reqwest_middleware::RetryMiddleware;
use retry_runtime::response::Idempotent;
use retry_runtime::{presets, Backoff, Jitter, Policy, RetryOn};
use testkit::demo::{about, ensure, ensure_hits};
use testkit::flaky::{FlakyServer, Reply};

/// The `api` preset with short fixed waits for the demo.
const API: Policy<RetryOn> = presets::API
    .with_backoff(Backoff::fixed(Duration::from_millis(50)))
    .with_jitter(Jitter::None)
    .with_name("api");

fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client")
}

/// A client retried by our middleware.
pub fn ours() -> ClientWithMiddleware {
    ClientBuilder::new(reqwest_client())
        .with(RetryMiddleware::new(&API))
        .build()
}

/// A client retried by `reqwest-retry`: 3 attempts, waits of 20..50ms.
pub fn theirs() -> ClientWithMiddleware {
    let policy = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_millis(20), Duration::from_millis(50))
        .build_with_max_retries(2);
    ClientBuilder::new(reqwest_client())
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .build()
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
        "/ours/429",
        [Reply::retry_after_secs(1), Reply::ok_body("ready")],
    );
    server.route(
        "/theirs/429",
        [
            Reply::retry_after_secs(1),
            Reply::retry_after_secs(1),
            Reply::ok_body("ready"),
        ],
    );
    server.route("/missing", [404]);
    server.route("/secret", [401]);
    server.route("/orders", [Reply::status(503), Reply::status(201)]);
    server.route("/orders/keyed", [Reply::status(503), Reply::status(201)]);
    let client = ours();

    println!("\n1. GET from a server answering 503, 503, then 200");
    let status = client.get(server.url("/clips/7")).send().await?.status();
    println!("   {status} on request {}", server.hits("/clips/7"));
    ensure_hits("reqwest-middleware", &server, "/clips/7", 3)?;

    println!("\n2. a 429 with Retry-After: 1, through ours and through reqwest-retry");
    let status = client.get(server.url("/ours/429")).send().await?.status();
    let ours_gaps = server.gaps("/ours/429");
    println!("   ours:         {status}, waited {ours_gaps:?}");
    let status_theirs = theirs()
        .get(server.url("/theirs/429"))
        .send()
        .await?
        .status();
    let theirs_gaps = server.gaps("/theirs/429");
    println!("   reqwest-retry: {status_theirs}, waited {theirs_gaps:?} (Retry-After ignored)");
    ensure(
        "reqwest-middleware",
        status == StatusCode::OK
            && ours_gaps.len() == 1
            && about(
                ours_gaps[0],
                Duration::from_secs(1),
                Duration::from_millis(500),
            ),
        format!("ours: 200 after one wait of about 1s, got {status} and {ours_gaps:?}"),
    )?;
    // reqwest-retry did retry both 429s (an empty list of waits would pass
    // the check on their length too), each after its own short backoff
    ensure(
        "reqwest-middleware",
        status_theirs == StatusCode::OK
            && theirs_gaps.len() == 2
            && theirs_gaps
                .iter()
                .all(|gap| *gap < Duration::from_millis(500)),
        format!(
            "reqwest-retry: 200 after two waits of its own backoff, got {status_theirs} and {theirs_gaps:?}"
        ),
    )?;

    println!("\n3. 404 and 401: sent once");
    for path in ["/missing", "/secret"] {
        let status = client.get(server.url(path)).send().await?.status();
        println!("   {path}: {status} after {} request", server.hits(path));
        ensure_hits("reqwest-middleware", &server, path, 1)?;
    }

    println!("\n4. POST answered 503: once, unless the request is marked Idempotent");
    let status = client
        .post(server.url("/orders"))
        .body("{}")
        .send()
        .await?
        .status();
    println!(
        "   plain POST: {status} after {} request",
        server.hits("/orders")
    );
    ensure_hits("reqwest-middleware", &server, "/orders", 1)?;
    let status = client
        .post(server.url("/orders/keyed"))
        .header("idempotency-key", "order-1042")
        .with_extension(Idempotent)
        .body("{}")
        .send()
        .await?
        .status();
    println!(
        "   marked POST: {status} after {} requests",
        server.hits("/orders/keyed")
    );
    ensure_hits("reqwest-middleware", &server, "/orders/keyed", 2)?;
    Ok(())
}
