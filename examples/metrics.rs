//! Retry metrics for Prometheus: `/metrics` served on 127.0.0.1 while a
//! flaky dependency is retried, and its scrape printed at the end.
//!
//! ```text
//! cargo run --example metrics        # about 1 second
//! ```
//!
//! A quote service (a local flaky server) answers 503 now and then.
//! `fetch_quote` retries it (`#[retry]`, 3 attempts, 50 ms apart) behind a
//! circuit breaker that opens after 4 consecutive failures and lets a probe
//! through after 300 ms. Six calls: one succeeds after two retries, one at
//! once, one runs out of attempts, one opens the breaker, one is rejected
//! while it is open, and the last is the probe that closes it again. The
//! program serves `/metrics` the whole time (a few lines of tokio here; the
//! exporter's own listener is its `http-listener` feature), scrapes it
//! itself at the end, prints the retry lines and checks them, and exits.
//!
//! What a service does instead of the test-friendly set-up below:
//!
//! ```ignore
//! let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
//! retry_runtime::metrics::enable();
//! // ... serve prometheus.render() on /metrics
//! ```

use std::time::Duration;

use retry_runtime::reqwest::{error_for_status, HttpError};
use retry_runtime::{retry, Causes, CircuitBreaker, CircuitOpen, Classify};
use testkit::demo::{ensure, Outcome};
use testkit::flaky::{FlakyServer, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The quote service's breaker: open after 4 consecutive failures, a probe
/// after 300 ms.
static QUOTES: CircuitBreaker = CircuitBreaker::new("quotes")
    .with_failures(4)
    .with_recovery(Duration::from_millis(300));

#[derive(Debug, thiserror::Error, Classify)]
enum QuoteError {
    /// Refused, timed out, connection dropped. (`Causes` shows why, its
    /// URL's query masked; the message holds the chain, so the field is
    /// not the source: the `From` impl below.)
    #[error("{}", Causes(.0))]
    #[classify(transparent)]
    Http(reqwest::Error),
    #[error(transparent)]
    #[classify(transparent)]
    Status(#[from] HttpError),
    /// The breaker is open: the call was not made.
    #[error(transparent)]
    #[classify(transparent)]
    Open(#[from] CircuitOpen),
}

impl From<reqwest::Error> for QuoteError {
    fn from(e: reqwest::Error) -> Self {
        QuoteError::Http(e)
    }
}

#[retry(attempts = 3, backoff = "fixed(50ms)", retry_on = Unavailable, circuit = QUOTES)]
async fn fetch_quote(client: &reqwest::Client, url: &str) -> Result<String, QuoteError> {
    let resp = client.get(url).send().await?;
    Ok(error_for_status(resp).await?.text().await?)
}

/// Serves `GET /metrics` (any path, in fact) with `render()`'s text, until
/// the task is aborted.
async fn serve_metrics(
    listener: TcpListener,
    render: impl Fn() -> String + Send + 'static,
) -> std::io::Result<()> {
    loop {
        let (mut conn, _) = listener.accept().await?;
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let body = render();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await?;
        conn.write_all(body.as_bytes()).await?;
        conn.shutdown().await?;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Outcome {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Outcome {
    let story = |happened: bool, expected: &str| ensure("metrics", happened, expected);
    // The recorder for this thread (the tests run the demos side by side),
    // then `enable()`: from now on every retry records its metrics.
    let recorder = testkit::metrics::prometheus_recorder();
    let prometheus = recorder.handle();
    let _recording = metrics::set_default_local_recorder(&recorder);
    retry_runtime::metrics::enable();

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let metrics_url = format!("http://{}/metrics", listener.local_addr()?);
    let server_task = tokio::spawn(serve_metrics(listener, move || prometheus.render()));
    println!("serving {metrics_url}");

    let quotes = FlakyServer::start().await;
    let (down, quote) = (Reply::status(503), Reply::ok_body("EUR/USD 1.0842"));
    quotes.route(
        "/quote",
        [
            &down, &down, &quote, &quote, &down, &down, &down, &down, &quote,
        ]
        .map(Reply::clone),
    );
    let client = reqwest::Client::builder().no_proxy().build()?;
    let url = quotes.url("/quote");
    QUOTES.reset();
    for call in 1..=6 {
        if call == 6 {
            tokio::time::sleep(Duration::from_millis(350)).await; // the breaker's recovery
        }
        match fetch_quote(&client, &url).await {
            Ok(quote) => println!("call {call}: {quote:?}"),
            Err(e) => println!("call {call}: {e}"),
        }
    }
    story(
        quotes.hits("/quote") == 9,
        "9 requests: call 5 is rejected without one",
    )?;

    let scrape = client.get(&metrics_url).send().await?.text().await?;
    server_task.abort();
    println!("\n== GET {metrics_url} (retry lines, buckets left out) ==");
    for line in testkit::metrics::retry_lines(&scrape) {
        println!("{line}");
    }
    for expected in [
        r#"retry_calls_total{operation="fetch_quote",outcome="succeeded_after_retries"} 1"#,
        r#"retry_calls_total{operation="fetch_quote",outcome="succeeded_first_try"} 2"#,
        r#"retry_calls_total{operation="fetch_quote",outcome="attempts_exhausted"} 1"#,
        // call 4 opened the breaker and was stopped before its retry;
        // call 5 was turned away with nothing sent
        r#"retry_calls_total{operation="fetch_quote",outcome="circuit_open"} 1"#,
        r#"retry_calls_total{operation="fetch_quote",outcome="not_attempted_circuit_open"} 1"#,
        r#"retry_retries_total{operation="fetch_quote"} 4"#,
        r#"retry_circuit_transitions_total{circuit="quotes",from="closed",to="open"} 1"#,
        r#"retry_circuit_transitions_total{circuit="quotes",from="open",to="half_open"} 1"#,
        r#"retry_circuit_transitions_total{circuit="quotes",from="half_open",to="closed"} 1"#,
        r#"retry_circuit_state{circuit="quotes",state="closed"} 1"#,
        r#"retry_circuit_state{circuit="quotes",state="open"} 0"#,
    ] {
        story(
            scrape.contains(expected),
            &format!("the scrape shows {expected}"),
        )?;
    }
    println!("\nthe scrape shows every call, retry and breaker transition");
    Ok(())
}
