//! Delivering a webhook with `#[retry(preset = "webhook")]`.
//!
//! A shop tells a partner's receiver that an order was paid: it POSTs a JSON
//! event. The receiver (a local flaky server) is down for a moment: it
//! answers 503, 503, then 200. The `webhook` preset (4 attempts, exponential
//! 1s..4s, retries Timeout, Connect, RateLimited and Unavailable) waits 1s,
//! then 2s, and the third attempt gets through. Then a receiver that rejects
//! our credentials (401) fails at once: retrying would not fix it.
//!
//! Run it with `cargo run --example webhook` (about 3 seconds).

use std::time::{Duration, Instant};

use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use retry_runtime::reqwest::{error_for_status, HttpError};
use retry_runtime::{retry, Causes, Classify, ErrorKind};
use testkit::demo::{about, ensure, ensure_hits, fmt_gaps};
use testkit::flaky::{FlakyServer, Reply};

/// How much later than asked a retry may reach the server: the request's
/// own time and scheduling.
const SLACK: Duration = Duration::from_millis(700);

/// What delivering an event fails with. Both variants take their kind (and
/// a 429's Retry-After) from the error they wrap.
///
/// A webhook's URL is its secret (`/hooks/T0/B0/<token>`), and the message
/// is logged at WARN on every retry: `deliver` drops the URL from both
/// errors (`without_url`), and `Causes` shows why a request failed (reqwest's
/// own message is "error sending request"). The message holds the chain,
/// so the field is not the source: no `#[from]`, the `From` impl below
/// converts for `?`.
#[derive(Debug, thiserror::Error, Classify)]
enum WebhookError {
    /// No usable answer: refused, timed out, connection dropped.
    #[error("{}", Causes(.0))]
    #[classify(transparent)]
    Http(reqwest::Error),
    /// The receiver answered with a 4xx or 5xx.
    #[error(transparent)]
    #[classify(transparent)]
    Status(#[from] HttpError),
}

impl From<reqwest::Error> for WebhookError {
    fn from(e: reqwest::Error) -> Self {
        WebhookError::Http(e)
    }
}

/// POST one JSON event; the receiver's status on success.
///
/// The event carries its own id (and an `Idempotency-Key` header), so a
/// receiver that got a request whose answer was lost can drop the repeat.
#[retry(preset = "webhook")]
async fn deliver(
    client: &reqwest::Client,
    url: &str,
    event_id: &str,
    json: &str,
) -> Result<StatusCode, WebhookError> {
    let resp = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("idempotency-key", event_id)
        .body(json.to_owned())
        .send()
        .await
        .map_err(reqwest::Error::without_url)?;
    let resp = error_for_status(resp)
        .await
        .map_err(HttpError::without_url)?;
    Ok(resp.status())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too, so CI runs the example.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let server = FlakyServer::start().await;
    server.route(
        "/hooks/orders",
        [
            Reply::body(503, "receiver restarting"),
            Reply::body(503, "receiver restarting"),
            Reply::json(200, r#"{"received":true}"#),
        ],
    );
    server.route("/hooks/revoked", [Reply::body(401, "unknown signing key")]);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()?;

    // --- 1. a receiver that is down for a moment --------------------------------
    let event_id = "evt_1042";
    let json =
        format!(r#"{{"id":"{event_id}","type":"order.paid","order":1042,"amount_cents":2599}}"#);
    println!("\n1. POST {json}\n   to a receiver that answers 503, 503, then 200");
    let started = Instant::now();
    let status = deliver(&client, &server.url("/hooks/orders"), event_id, &json).await?;
    let took = started.elapsed();
    let gaps = server.gaps("/hooks/orders");
    println!(
        "   delivered: {status} on request {} after {took:.1?}; waits seen by the server: {}",
        server.hits("/hooks/orders"),
        fmt_gaps(&gaps)
    );
    ensure_hits("webhook", &server, "/hooks/orders", 3)?;
    ensure(
        "webhook",
        gaps.len() == 2
            && about(gaps[0], Duration::from_secs(1), SLACK)
            && about(gaps[1], Duration::from_secs(2), SLACK),
        format!("waits of about 1s then 2s, got {gaps:?}"),
    )?;

    // --- 2. a receiver that rejects us -----------------------------------------
    println!("\n2. POST the same event to a receiver that rejects our signing key (401)");
    let started = Instant::now();
    let err = match deliver(&client, &server.url("/hooks/revoked"), event_id, &json).await {
        Ok(status) => return Err(format!("a 401 must fail, got {status}").into()),
        Err(e) => e,
    };
    println!(
        "   gave up at once after {:.1?}, {} request, kind {}: {err}",
        started.elapsed(),
        server.hits("/hooks/revoked"),
        err.kind()
    );
    ensure_hits("webhook", &server, "/hooks/revoked", 1)?;
    ensure(
        "webhook",
        err.kind() == ErrorKind::Permanent,
        format!("a 401 is Permanent, got {}", err.kind()),
    )?;
    println!(
        "\nwebhook: {} requests in all, as expected",
        server.total_hits()
    );
    Ok(())
}
