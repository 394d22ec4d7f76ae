//! The functional API (`policy.retry(..)`, awaited or `.call()`ed, presets) with
//! `reqwest` against the flaky server, over real loopback sockets: exact
//! request counts, the waits seen by the server, Retry-After honoured and
//! capped, timeouts, refused and dropped connections, permanent errors.
//!
//! Waits are real but short (50ms..2s): the paused clock and real sockets do
//! not mix (see `testkit::flaky`).

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::reqwest::error_for_status;
use retry_runtime::{
    kinds, presets, Backoff, Classify, ErrorKind, KindSet, Policy, RetryAfter, RetryError, RetryOn,
    StopReason,
};
use testkit::flaky::{refused_url, FlakyServer, Reply};

use crate::fetch_error::FetchError;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Transient kinds retried, 4 attempts, fixed 50ms backoff.
const FAST: Policy<RetryOn> = Policy::new()
    .with_max_attempts(4)
    .with_backoff(Backoff::fixed(Duration::from_millis(50)))
    .with_name("clip")
    .retry_on(KindSet::TRANSIENT);

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn client_with_timeout(limit: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(limit)
        .build()
        .unwrap()
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, FetchError> {
    let resp = client.get(url).send().await?;
    let resp = error_for_status(resp).await?;
    Ok(resp.bytes().await?.to_vec())
}

/// `/clip` answers `first`, then `ok`: fetched with `client` through `FAST`,
/// the body is `ok` after 2 requests. Returns what `note` made of the first
/// error.
async fn first_error_then_ok<R>(
    client: reqwest::Client,
    first: Reply,
    ok: &'static str,
    note: impl Fn(&FetchError) -> Option<R>,
) -> Option<R> {
    let server = FlakyServer::start().await;
    server.route("/clip", [first, Reply::ok_body(ok)]);
    let url = server.url("/clip");
    let noted = std::sync::Mutex::new(None);
    let body = FAST
        .retry(|| async {
            let r = fetch(&client, &url).await;
            if let Err(e) = &r {
                let mut noted = noted.lock().unwrap();
                if noted.is_none() {
                    *noted = note(e);
                }
            }
            r
        })
        .await
        .unwrap();
    assert_eq!(body, ok.as_bytes());
    assert_eq!(server.hits("/clip"), 2);
    noted.into_inner().unwrap()
}

/// [`first_error_then_ok`] with the body "ok", noting `flag` and the kind
/// of the first error, a reqwest one.
async fn first_reqwest_error(
    client: reqwest::Client,
    first: Reply,
    flag: fn(&reqwest::Error) -> bool,
) -> Option<(bool, ErrorKind)> {
    first_error_then_ok(client, first, "ok", |e| match e {
        FetchError::Http(e) => Some((flag(e), e.kind())),
        _ => None,
    })
    .await
}

/// `policy` against a port that refuses connections: the calls it made, and
/// how it gave up.
async fn against_a_refused_port(policy: &Policy<RetryOn>) -> (u32, RetryError<FetchError>) {
    let (client, url) = (client(), refused_url("/clip/7"));
    let calls = Cell::new(0);
    let err = policy
        .retry(|| {
            calls.set(calls.get() + 1);
            fetch(&client, &url)
        })
        .detailed()
        .await
        .unwrap_err();
    (calls.get(), err)
}

/// A flaky server answering `path` with `replies`; a client, and the URL.
async fn serving<R: Into<Reply>>(
    path: &str,
    replies: impl IntoIterator<Item = R>,
) -> (FlakyServer, reqwest::Client, String) {
    let server = FlakyServer::start().await;
    server.route(path, replies);
    let url = server.url(path);
    (server, client(), url)
}

fn assert_between(d: Duration, low: Duration, high: Duration) {
    assert!(d >= low && d <= high, "{d:?} not in {low:?}..={high:?}");
}

#[tokio::test]
async fn unavailable_twice_then_ok_succeeds_on_the_third_call() {
    let unavailable = || Reply::status(503);
    let script = [unavailable(), unavailable(), Reply::ok_body("clip")];
    let (body, gaps) = fetch_script(&FAST, script).await;

    assert_eq!(body, b"clip");
    for gap in gaps {
        assert_between(gap, ms(50), ms(500));
    }
}

#[tokio::test]
async fn unavailable_forever_gives_up_after_the_last_attempt() {
    let (server, client, url) = serving("/down", [Reply::body(503, "maintenance")]).await;

    let err = FAST
        .retry(|| fetch(&client, &url))
        .detailed()
        .await
        .unwrap_err();

    assert_eq!((err.attempts, err.reason), (4, StopReason::Attempts));
    assert_eq!(err.last_error.kind(), ErrorKind::Unavailable);
    assert!(
        err.last_error.to_string().contains("503"),
        "{}",
        err.last_error
    );
    assert!(
        err.last_error.to_string().contains("maintenance"),
        "{}",
        err.last_error
    );
    assert_eq!(server.hits("/down"), 4);
}

/// `/clip` answers `script`, whose last reply is a success: fetched through
/// `policy`, it takes one request per reply. Returns the body and the waits
/// the server saw between the requests.
async fn fetch_script<const N: usize>(
    policy: &Policy<RetryOn>,
    script: [Reply; N],
) -> (Vec<u8>, Vec<Duration>) {
    let (server, client, url) = serving("/clip", script).await;
    let body = policy.retry(|| fetch(&client, &url)).await.unwrap();
    assert_eq!(server.hits("/clip"), N);
    assert_eq!(server.total_hits(), N);
    (body, server.gaps("/clip"))
}

/// `/clip` answers `first`, then "ok": fetched through `policy`, the body is
/// "ok" after 2 requests. Returns the wait the server saw between them.
async fn ok_after(first: Reply, policy: &Policy<RetryOn>) -> Duration {
    let (body, gaps) = fetch_script(policy, [first, Reply::ok_body("ok")]).await;
    assert_eq!(body, b"ok");
    gaps[0]
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited() {
    let wait = ok_after(Reply::retry_after_secs(1), &FAST).await;
    // the server asked for 1s; the backoff alone would have waited 50ms
    assert_between(wait, ms(1000), ms(1500));
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited() {
    let wait = ok_after(Reply::retry_after_date(Duration::from_secs(1)), &FAST).await;
    // an HTTP-date has a resolution of one second: the server rounds to the
    // nearest one, so the wait is 1s +- 0.5s
    assert_between(wait, ms(450), ms(1700));
}

#[tokio::test]
async fn retry_after_is_capped_by_the_policy() {
    let capped = FAST.with_retry_after(
        RetryAfter::DEFAULT
            .with_kinds(kinds![RateLimited])
            .with_cap(ms(200)),
    );
    let wait = ok_after(Reply::retry_after_secs(5), &capped).await;
    // at least the cap, and far below the 5s asked for
    assert_between(wait, ms(200), ms(2500));
}

#[tokio::test]
async fn retry_after_is_honoured_only_for_the_listed_kinds() {
    // a 503 with Retry-After: 5; the default RetryAfter honours RateLimited only
    let wait = ok_after(Reply::retry_after_secs(5).with_status(503), &FAST).await;
    assert_between(wait, ms(50), ms(500));
}

#[tokio::test]
async fn a_hanging_route_times_out_per_attempt_and_is_retried() {
    let (server, client, url) = serving(
        "/slow",
        [Reply::delay(Duration::from_secs(5)), Reply::ok_body("ok")],
    )
    .await;
    let kinds_seen = std::sync::Mutex::new(Vec::new());

    let body = FAST
        .retry(|| async {
            let r = retry_runtime::timeout(ms(150), fetch(&client, &url)).await;
            if let Err(e) = &r {
                kinds_seen.lock().unwrap().push(e.kind());
            }
            r
        })
        .await
        .unwrap();

    assert_eq!(body, b"ok");
    assert_eq!(*kinds_seen.lock().unwrap(), [ErrorKind::Timeout]);
    assert_eq!(server.hits("/slow"), 2);
    assert_between(server.gaps("/slow")[0], ms(200), ms(700)); // 150ms limit + 50ms wait
}

#[tokio::test]
async fn the_client_timeout_is_classified_timeout_and_retried() {
    let slow = Reply::delay(Duration::from_secs(5));
    let first = first_reqwest_error(
        client_with_timeout(ms(150)),
        slow,
        reqwest::Error::is_timeout,
    );
    assert_eq!(first.await, Some((true, ErrorKind::Timeout)));
}

#[tokio::test]
async fn a_refused_connection_is_connect_and_retried() {
    let (calls, err) = against_a_refused_port(&FAST).await;

    assert_eq!(calls, 4);
    assert_eq!((err.attempts, err.reason), (4, StopReason::Attempts));
    let FetchError::Http(e) = &err.last_error else {
        panic!("{:?}", err.last_error)
    };
    assert!(e.is_connect(), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Connect);
}

#[tokio::test]
async fn a_refused_connection_is_not_retried_when_connect_is_not_listed() {
    let only_timeouts = FAST.retry_on(kinds![Timeout]);
    let (calls, err) = against_a_refused_port(&only_timeouts).await;
    assert_eq!((calls, err.reason), (1, StopReason::Permanent));
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_connect_and_retried() {
    let first = first_error_then_ok(client(), Reply::close_mid_body(), "whole clip", |e| {
        Some(format!("{:?} {e:?}", e.kind()))
    })
    .await;
    let first = first.unwrap();
    // headers arrived (200), then the body broke off
    assert!(first.starts_with("Connect "), "{first}");
    assert!(
        first.contains("Decode") || first.contains("Body"),
        "{first}"
    );
}

#[tokio::test]
async fn a_connection_closed_before_the_response_is_connect_and_retried() {
    let closed = Reply::close_before_response();
    let first = first_reqwest_error(client(), closed, reqwest::Error::is_request);
    assert_eq!(first.await, Some((true, ErrorKind::Connect)));
}

#[tokio::test]
async fn unauthorized_and_not_found_are_never_retried() {
    let server = FlakyServer::start().await;
    server.route("/secret", [401, 200]);
    server.route(
        "/gone",
        [Reply::body(404, "no such clip"), Reply::ok_body("x")],
    );
    let client = client();

    for (path, code) in [("/secret", 401), ("/gone", 404)] {
        let url = server.url(path);
        let err = FAST
            .retry(|| fetch(&client, &url))
            .detailed()
            .await
            .unwrap_err();
        assert_eq!(
            (err.attempts, err.reason),
            (1, StopReason::Permanent),
            "{path}"
        );
        let FetchError::Status(e) = &err.last_error else {
            panic!("{:?}", err.last_error)
        };
        assert_eq!(e.status().as_u16(), code);
        assert_eq!(e.kind(), ErrorKind::Permanent);
        assert_eq!(server.hits(path), 1, "{path}");
    }
    assert_eq!(server.total_hits(), 2);
}

#[tokio::test]
async fn reqwests_own_status_errors_are_classified_by_status() {
    let server = FlakyServer::start().await;
    server.route("/api", [503, 200]);
    server.route("/missing", [404]);
    let client = client();
    let get = |url: String| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
        }
    };

    let ok = FAST.retry(|| get(server.url("/api"))).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(server.hits("/api"), 2);

    let err = FAST
        .retry(|| get(server.url("/missing")))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status().map(|s| s.as_u16()), err.kind()),
        (Some(404), ErrorKind::Permanent)
    );
    assert_eq!(server.hits("/missing"), 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_permanent() {
    let server = FlakyServer::start().await;
    server.route("/count", [Reply::json(200, "{not json")]);
    let client = client();

    let err = FAST
        .retry(|| async {
            client
                .get(server.url("/count"))
                .send()
                .await?
                .json::<u32>()
                .await
        })
        .detailed()
        .await
        .unwrap_err();

    assert!(err.last_error.is_decode(), "{:?}", err.last_error);
    assert_eq!(err.last_error.kind(), ErrorKind::Permanent);
    assert_eq!((err.attempts, server.hits("/count")), (1, 1));
}

#[tokio::test]
async fn a_preset_adjusted_for_the_test_runs_against_the_server() {
    let ok = Reply::json(200, r#"{"ok":true}"#);
    let script = [Reply::status(502), Reply::retry_after_secs(0), ok];
    // the webhook preset (4 attempts, retries the transient kinds) with
    // waits of 2s: long, so that the wait Retry-After: 0 asks for is told
    // from the backoff by a margin of a second either way
    let webhook = presets::WEBHOOK.with_backoff(Backoff::fixed(Duration::from_secs(2)));

    let (body, gaps) = fetch_script(&webhook, script).await;

    assert_eq!(body, br#"{"ok":true}"#);
    assert!(gaps[0] >= Duration::from_secs(2), "{gaps:?}"); // backoff after the 502
    assert!(gaps[1] < Duration::from_secs(1), "{gaps:?}"); // Retry-After: 0 after the 429
}
