//! Sync code retries the same way: `Policy::retry` with `reqwest::blocking`
//! against the flaky server on its own thread.

use std::time::Duration;

use retry_runtime::reqwest::HttpError;
use retry_runtime::{Backoff, Classify, ErrorKind, KindSet, Policy, RetryOn, StopReason};
use testkit::flaky::{refused_url, FlakyServer, Reply};

use crate::fetch_error::FetchError;

const FAST: Policy<RetryOn> = Policy::new()
    .with_max_attempts(4)
    .with_backoff(Backoff::fixed(Duration::from_millis(50)))
    .with_name("sensor")
    .retry_on(KindSet::TRANSIENT);

fn client(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .unwrap()
}

/// The blocking version of `error_for_status`: `HttpError::from_head`.
fn read(client: &reqwest::blocking::Client, url: &str) -> Result<String, FetchError> {
    let resp = client.get(url).send()?;
    if resp.status().is_client_error() || resp.status().is_server_error() {
        let err = HttpError::from_head(resp.status(), resp.headers()).with_url(resp.url().clone());
        return Err(err.with_body(resp.text().unwrap_or_default()).into());
    }
    Ok(resp.text()?)
}

#[test]
fn a_blocking_client_is_retried_through_503s_and_a_429() {
    let server = FlakyServer::start_blocking();
    server.route(
        "/temp",
        [
            Reply::status(503),
            Reply::retry_after_secs(1),
            Reply::ok_body("21.5"),
        ],
    );
    let client = client(Duration::from_secs(2));
    let url = server.url("/temp");

    let reading = FAST.retry(|| read(&client, &url)).call().unwrap();

    assert_eq!(reading, "21.5");
    assert_eq!(server.hits("/temp"), 3);
    let gaps = server.gaps("/temp");
    assert!(
        gaps[0] >= Duration::from_millis(50) && gaps[0] < Duration::from_millis(500),
        "{gaps:?}"
    );
    // Retry-After: 1 honoured (the backoff alone waits 50ms)
    assert!(gaps[1] >= Duration::from_secs(1), "{gaps:?}");
}

#[test]
fn a_blocking_timeout_is_retried_and_a_404_is_not() {
    let server = FlakyServer::start_blocking();
    server.route(
        "/slow",
        [Reply::delay(Duration::from_secs(5)), Reply::ok_body("ok")],
    );
    server.route("/gone", [404]);
    let client = client(Duration::from_millis(150));

    assert_eq!(
        FAST.retry(|| read(&client, &server.url("/slow")))
            .call()
            .unwrap(),
        "ok"
    );
    assert_eq!(server.hits("/slow"), 2);

    let err = FAST
        .retry(|| read(&client, &server.url("/gone")))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((err.attempts, err.reason), (1, StopReason::Permanent));
    assert_eq!(server.hits("/gone"), 1);
}

#[test]
fn a_blocking_refused_connection_is_connect() {
    let client = client(Duration::from_secs(1));
    let url = refused_url("/temp");
    let err = FAST
        .retry(|| read(&client, &url))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((err.attempts, err.reason), (4, StopReason::Attempts));
    assert_eq!(err.last_error.kind(), ErrorKind::Connect);
}

/// A download read with `std::io::Read` (`io::copy` to a file): a
/// connection that breaks mid-body gives an `io::Error` of kind `Other`
/// holding reqwest's error, which classifies as the error it holds
/// (Connect), so a policy retrying Connect retries it.
#[test]
fn a_body_that_breaks_mid_read_through_io_copy_is_connect_and_retried() {
    let server = FlakyServer::start_blocking();
    server.route(
        "/clip",
        [Reply::close_mid_body(), Reply::ok_body("the whole clip")],
    );
    let client = client(Duration::from_secs(5));
    let mut calls = 0;
    let mut kinds = Vec::new();
    let _paused = retry_runtime::testing::pause();
    let body = FAST
        .retry(|| -> Result<Vec<u8>, std::io::Error> {
            calls += 1;
            let mut resp = client
                .get(server.url("/clip"))
                .send()
                .map_err(std::io::Error::other)?;
            let mut file = Vec::new();
            let copied = std::io::copy(&mut resp, &mut file).map(|_| file);
            if let Err(e) = &copied {
                kinds.push((e.kind(), Classify::kind(e)));
            }
            copied
        })
        .call()
        .unwrap();
    assert_eq!(body, b"the whole clip");
    assert_eq!(calls, 2);
    assert_eq!(kinds, [(std::io::ErrorKind::Other, ErrorKind::Connect)]);
}
