//! Sync code retries the same way: `#[retry]` on a plain `fn` using the
//! blocking `reqwest` client, no async runtime in sight.
//!
//! A greenhouse controller reads the temperature from a sensor gateway (a
//! local flaky server on its own thread). The gateway answers 503, then hangs
//! past the client's 300ms timeout, then answers "21.5". The function retries
//! Timeout, Connect and Unavailable errors up to 4 attempts, waiting 200ms,
//! then 400ms (`std::thread::sleep` between attempts), and the third attempt
//! reads the value. Then a sensor that is offline (the connection is
//! refused) is tried 4 times, waiting 200ms, 400ms, 800ms, and given up on.
//! Last, a sensor the gateway does not know: a 404 with a 10 kB error page,
//! not retried; the error keeps the page's first 512 bytes.
//!
//! Run it with `cargo run --example sync_sensor` (about 2.5 seconds).

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use retry_runtime::reqwest::{HttpError, BODY_SNIPPET_LIMIT};
use retry_runtime::{retry, Causes, Classify, ErrorKind};
use testkit::demo::{about, ensure, ensure_hits, fmt_gaps};
use testkit::flaky::{refused_url, FlakyServer, Reply};

/// How much later than asked a retry may reach the server: the request's
/// own time and scheduling.
const SLACK: Duration = Duration::from_millis(500);

/// The client gives up on a request after this long.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(300);

/// What reading a sensor fails with.
#[derive(Debug, thiserror::Error, Classify)]
enum SensorError {
    /// No usable answer: refused, timed out, connection dropped. (The
    /// message holds the chain, so the field is not the source: no
    /// `#[from]`, the `From` impl below converts for `?`.)
    #[error("{}", Causes(.0))]
    #[classify(transparent)]
    Http(reqwest::Error),
    /// The gateway answered with a 4xx or 5xx.
    #[error(transparent)]
    #[classify(transparent)]
    Status(#[from] HttpError),
    /// The gateway answered, but not with a number: asking again won't help.
    #[error("not a temperature: {0:?}")]
    #[classify(Permanent)]
    Garbled(String),
}

impl From<reqwest::Error> for SensorError {
    fn from(e: reqwest::Error) -> Self {
        SensorError::Http(e)
    }
}

/// Read one temperature, in °C.
#[retry(attempts = 4, backoff = "exp(200ms, 1s)", retry_on = Timeout | Connect | Unavailable)]
fn read_temperature(client: &Client, url: &str) -> Result<f64, SensorError> {
    let resp = client.get(url).send()?;
    let status = resp.status();
    if status.is_client_error() || status.is_server_error() {
        // the blocking counterpart of `retry_runtime::reqwest::error_for_status`
        let err = HttpError::from_head(status, resp.headers()).with_url(resp.url().clone());
        // The start of the body only, as `error_for_status` keeps: the
        // error's message is logged on each retry, and an error page can
        // be megabytes long.
        let mut body = Vec::new();
        let _ = resp.take(BODY_SNIPPET_LIMIT as u64).read_to_end(&mut body);
        return Err(err.with_body(String::from_utf8_lossy(&body)).into());
    }
    let text = resp.text()?;
    text.trim()
        .parse()
        .map_err(|_| SensorError::Garbled(text.clone()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo()
}

/// The whole story; `tests/examples/main.rs` runs it too, so CI runs the
/// example. Blocking all the way: do not call it inside an async runtime.
pub fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let server = FlakyServer::start_blocking();
    server.route(
        "/sensors/greenhouse",
        [
            Reply::body(503, "gateway warming up"),
            Reply::delay(Duration::from_secs(3)), // outlasts CLIENT_TIMEOUT
            Reply::ok_body("21.5"),
        ],
    );
    let client = Client::builder()
        .no_proxy()
        .timeout(CLIENT_TIMEOUT)
        .build()?;

    // --- 1. a flaky gateway --------------------------------------------------------
    println!("\n1. read the greenhouse sensor: the gateway answers 503, then hangs, then 21.5");
    let started = Instant::now();
    let celsius = read_temperature(&client, &server.url("/sensors/greenhouse"))?;
    let gaps = server.gaps("/sensors/greenhouse");
    println!(
        "   greenhouse: {celsius} °C, on request {} after {:.1?}; time between requests: {} \
         (waits of 200ms and 400ms; the second gap also holds the {CLIENT_TIMEOUT:?} timeout)",
        server.hits("/sensors/greenhouse"),
        started.elapsed(),
        fmt_gaps(&gaps)
    );
    ensure(
        "sync_sensor",
        celsius == 21.5,
        format!("21.5 °C, got {celsius}"),
    )?;
    ensure_hits("sync_sensor", &server, "/sensors/greenhouse", 3)?;
    let ms = Duration::from_millis;
    // The gaps are measured where the requests arrive. The client's 300ms
    // timeout starts when it sends the hanging request, a little before
    // the server sees it: the second gap can be that transit short of
    // 300ms + 400ms (it measured 699.8ms once), so its floor allows 20ms.
    let transit = ms(20);
    ensure(
        "sync_sensor",
        gaps.len() == 2
            && about(gaps[0], ms(200), SLACK)
            && about(gaps[1] + transit, CLIENT_TIMEOUT + ms(400), SLACK),
        format!("gaps of about 200ms, then 300ms + 400ms, got {gaps:?}"),
    )?;

    // --- 2. an offline sensor ------------------------------------------------------------
    println!("\n2. read the shed sensor: it is offline (connection refused)");
    let started = Instant::now();
    let err = match read_temperature(&client, &refused_url("/sensors/shed")) {
        Ok(celsius) => return Err(format!("an offline sensor read {celsius} °C").into()),
        Err(e) => e,
    };
    let took = started.elapsed();
    println!(
        "   shed: no reading after {took:.1?} (kind {}): {err}",
        err.kind()
    );
    ensure(
        "sync_sensor",
        err.kind() == ErrorKind::Connect,
        format!("a refused connection is Connect, got {}", err.kind()),
    )?;
    // 4 attempts: 200ms + 400ms + 800ms of waits between them
    ensure(
        "sync_sensor",
        took >= ms(1400) && took < ms(3000),
        format!("about 1.4s of waits, took {took:?}"),
    )?;

    // --- 3. a sensor the gateway does not know -----------------------------------------
    println!("\n3. read the cellar sensor: the gateway answers 404 with a 10 kB error page");
    let page = format!("<html>{}</html>", "no such sensor. ".repeat(640));
    let page_len = page.len();
    server.route("/sensors/cellar", [Reply::body(404, page)]);
    let err = match read_temperature(&client, &server.url("/sensors/cellar")) {
        Ok(celsius) => return Err(format!("an unknown sensor read {celsius} °C").into()),
        Err(e) => e,
    };
    let SensorError::Status(status) = &err else {
        return Err(format!("a 404 is an HttpError, got {err:?}").into());
    };
    println!(
        "   cellar: {} (kind {}), not retried; the error keeps {} of the page's {} bytes",
        status.status(),
        err.kind(),
        status.body().len(),
        page_len
    );
    ensure_hits("sync_sensor", &server, "/sensors/cellar", 1)?;
    ensure(
        "sync_sensor",
        status.body().len() == BODY_SNIPPET_LIMIT,
        format!(
            "the first {BODY_SNIPPET_LIMIT} bytes of the page, got {}",
            status.body().len()
        ),
    )?;
    Ok(())
}
