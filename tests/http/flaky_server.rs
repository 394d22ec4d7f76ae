//! The flaky server itself: scripts, counts, arrival times, and each failure
//! reply as a client sees it on the wire.

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use retry_runtime::reqwest::parse_retry_after;
use testkit::flaky::{refused_port, refused_url, FlakyServer, Reply};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn status_of(client: &reqwest::Client, url: &str) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_script_plays_in_order_then_repeats_its_last_entry() {
    let server = FlakyServer::start().await;
    server.route("/a", [503, 429, 200]);
    let (client, url) = (client(), server.url("/a"));

    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(status_of(&client, &url).await);
    }

    assert_eq!(codes, [503, 429, 200, 200, 200]);
    assert_eq!(server.hits("/a"), 5);
    assert_eq!(server.arrivals("/a").len(), 5);
    assert_eq!(server.gaps("/a").len(), 4);
}

#[tokio::test]
async fn routes_count_separately_and_unknown_paths_answer_404() {
    let server = FlakyServer::start().await;
    server.route("/a", [200]);
    server.route("/b", [201]);
    let client = client();

    assert_eq!(status_of(&client, &server.url("/a")).await, 200);
    assert_eq!(status_of(&client, &server.url("/b?x=1")).await, 201); // the query is ignored
    assert_eq!(status_of(&client, &server.url("/b")).await, 201);
    assert_eq!(status_of(&client, &server.url("/nope")).await, 404);

    assert_eq!(
        (server.hits("/a"), server.hits("/b"), server.hits("/nope")),
        (1, 2, 1)
    );
    assert_eq!(server.total_hits(), 4);
}

#[tokio::test]
async fn replacing_a_script_restarts_it_and_keeps_the_counts() {
    let server = FlakyServer::start().await;
    server.route("/a", [503, 200]);
    let (client, url) = (client(), server.url("/a"));
    assert_eq!(status_of(&client, &url).await, 503);

    server.route("/a", [401]);
    assert_eq!(status_of(&client, &url).await, 401);
    server.route("/a", Vec::<Reply>::new()); // empty: 404
    assert_eq!(status_of(&client, &url).await, 404);
    assert_eq!(server.hits("/a"), 3);
}

#[tokio::test]
async fn bodies_json_and_extra_headers() {
    let server = FlakyServer::start().await;
    server.route("/bytes", [Reply::ok_body(vec![0u8, 1, 2, 255])]);
    server.route(
        "/json",
        [Reply::json(201, r#"{"id":7}"#).with_header("x-trace", "abc")],
    );
    let client = client();

    let bytes = client
        .get(server.url("/bytes"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], [0, 1, 2, 255]);

    let resp = client.get(server.url("/json")).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["x-trace"], "abc");
    assert_eq!(resp.text().await.unwrap(), r#"{"id":7}"#);
}

#[tokio::test]
async fn retry_after_headers_in_both_forms() {
    let server = FlakyServer::start().await;
    server.route("/secs", [Reply::retry_after_secs(3)]);
    server.route("/date", [Reply::retry_after_date(Duration::from_secs(3))]);
    let client = client();

    let resp = client.get(server.url("/secs")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");

    let resp = client.get(server.url("/date")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let value = resp.headers()["retry-after"].to_str().unwrap().to_owned();
    assert!(
        value.ends_with(" GMT") && value.len() == 29,
        "an IMF-fixdate: {value}"
    );
    let wait = parse_retry_after(&value, SystemTime::now()).unwrap();
    assert!(wait >= ms(2400) && wait <= ms(3500), "{value}: {wait:?}");
}

#[tokio::test]
async fn a_delayed_reply_arrives_late_and_its_arrival_is_recorded_at_once() {
    let server = FlakyServer::start().await;
    server.route("/slow", [Reply::status(503).delayed(ms(200))]);
    let client = client();

    let started = tokio::time::Instant::now();
    assert_eq!(status_of(&client, &server.url("/slow")).await, 503);
    let answered = tokio::time::Instant::now();
    assert!(answered.duration_since(started) >= ms(200));
    // recorded as it arrived: the whole delay lies between it and the answer
    // (recorded as the reply went out, it would be just before the answer)
    let arrived = server.arrivals("/slow")[0];
    assert!(arrived >= started);
    assert!(answered.duration_since(arrived) >= ms(200), "{arrived:?}");
}

#[tokio::test]
async fn a_delay_outlasts_a_client_timeout() {
    let server = FlakyServer::start().await;
    server.route("/hang", [Reply::delay(Duration::from_secs(5))]);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(ms(100))
        .build()
        .unwrap();

    let err = client.get(server.url("/hang")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.hits("/hang"), 1);
}

#[tokio::test]
async fn close_mid_body_sends_the_headers_then_breaks_the_body() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::close_mid_body()]);

    let resp = client().get(server.url("/clip")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(1024));
    let err = resp.bytes().await.unwrap_err();
    assert!(err.is_decode() || err.is_body(), "{err:?}");
}

#[tokio::test]
async fn close_before_response_sends_nothing() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::close_before_response()]);

    let err = client().get(server.url("/clip")).send().await.unwrap_err();
    assert!(err.is_request() && !err.is_connect(), "{err:?}");
    assert_eq!(server.hits("/clip"), 1);
}

#[tokio::test]
async fn a_refused_port_refuses() {
    let err = client().get(refused_url("/x")).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let err = tokio::net::TcpStream::connect(("127.0.0.1", refused_port()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn dropping_the_server_closes_its_port() {
    let server = FlakyServer::start().await;
    let addr = server.addr();
    drop(server);
    tokio::task::yield_now().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn the_server_on_its_own_thread_serves_a_plain_std_client() {
    let server = FlakyServer::start_blocking();
    server.route("/ping", [Reply::status(503), Reply::ok_body("pong")]);

    let get = || {
        let mut conn = std::net::TcpStream::connect(server.addr()).unwrap();
        conn.write_all(b"GET /ping HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        answer
    };
    assert!(get().starts_with("HTTP/1.1 503"));
    let second = get();
    assert!(
        second.starts_with("HTTP/1.1 200") && second.ends_with("pong"),
        "{second}"
    );
    assert_eq!(server.hits("/ping"), 2);

    let addr = server.addr();
    drop(server); // stops and joins the thread
    assert!(std::net::TcpStream::connect(addr).is_err());
}

/// A status no HTTP response can carry is a bug in the test's script: it
/// fails where the script is set, not as a quiet 500 to the client.
#[tokio::test]
#[should_panic(
    expected = "route /bad, reply 1 of the script: status 1000 is not an HTTP status code"
)]
async fn a_scripted_status_above_999_panics_where_it_is_scripted() {
    let server = FlakyServer::start().await;
    server.route("/bad", [503, 1000]);
}

#[tokio::test]
#[should_panic(
    expected = "route /bad, reply 0 of the script: status 42 is not an HTTP status code"
)]
async fn a_scripted_status_below_100_panics_where_it_is_scripted() {
    let server = FlakyServer::start().await;
    server.route("/bad", [Reply::ok_body("ok").with_status(42)]);
}
