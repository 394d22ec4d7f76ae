//! The reqwest-middleware middleware against the flaky server: the
//! issue's story (503, 503, 200; a 429 asking for 2s; 404 and 401 sent
//! once; POST not retried unless asked; a refused connection retried),
//! and reqwest-retry beside it on the same 429.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use retry_runtime::reqwest_middleware::{AttemptFailure, RetryMiddleware};
use retry_runtime::response::{Failure, Idempotent};
use retry_runtime::{
    presets, Backoff, Classify, ErrorKind, Jitter, Policy, RetryBudget, RetryOn, StopReason,
};
use testkit::capture::capture;
use testkit::flaky::{refused_url, FlakyServer, Reply};
use tracing::Level;

use crate::{far_below, ms, waited, NoWait};

/// The `api` preset with fixed 50ms waits.
const API: Policy<RetryOn> = presets::API
    .with_backoff(Backoff::fixed(Duration::from_millis(50)))
    .with_jitter(Jitter::None)
    .with_name("api");

fn client(middleware: impl reqwest_middleware::Middleware) -> ClientWithMiddleware {
    let inner = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    ClientBuilder::new(inner).with(middleware).build()
}

#[tokio::test]
async fn three_calls_for_503_503_200() {
    let server = FlakyServer::start().await;
    server.route(
        "/clip",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::ok_body("clip"),
        ],
    );
    let resp = client(RetryMiddleware::new(&API))
        .get(server.url("/clip"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "clip");
    assert_eq!(server.hits("/clip"), 3);
    assert!(server.gaps("/clip").iter().all(|g| waited(*g, ms(50))));
}

/// An AI provider's 529 "overloaded" and Cloudflare's 522 (the origin
/// timed out) are the server's trouble, not the request's: retried with
/// the `ai_provider` preset, as a 503 is, where 501 is sent once.
#[tokio::test]
async fn an_overloaded_529_and_a_cloudflare_522_are_retried_a_501_is_not() {
    let server = FlakyServer::start().await;
    server.route(
        "/complete",
        [
            Reply::status(529),
            Reply::status(522),
            Reply::ok_body("done"),
        ],
    );
    server.route("/unimplemented", [501]);
    const AI: Policy<RetryOn> = presets::AI_PROVIDER
        .with_backoff(Backoff::fixed(Duration::from_millis(50)))
        .with_name("ai_provider");
    let client = client(RetryMiddleware::new(&AI));
    let resp = client.get(server.url("/complete")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.hits("/complete"), 3);
    let resp = client
        .get(server.url("/unimplemented"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (resp.status().as_u16(), server.hits("/unimplemented")),
        (501, 1)
    );
}

/// A call through the middleware inside a retried call that retries the
/// same kinds: a failed response comes back as `Ok`, which the outer run
/// takes for a success, so the middleware keeps its own retries for it.
#[tokio::test]
async fn inside_a_retried_call_failed_responses_are_still_retried() {
    let server = FlakyServer::start().await;
    server.route(
        "/clip",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::ok_body("clip"),
        ],
    );
    let client = client(RetryMiddleware::new(&API));
    let resp = API
        .retry(|| client.get(server.url("/clip")).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.hits("/clip"), 3);
}

/// The issue's 429 with `Retry-After: 2`: one real wait of 2 seconds.
#[tokio::test]
async fn a_429_asking_for_two_seconds_waits_two_seconds() {
    let server = FlakyServer::start().await;
    server.route(
        "/throttled",
        [Reply::retry_after_secs(2), Reply::ok_body("ok")],
    );
    let started = Instant::now();
    let resp = client(RetryMiddleware::new(&API))
        .get(server.url("/throttled"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/throttled");
    assert!(gaps.len() == 1 && waited(gaps[0], ms(2000)), "{gaps:?}");
    assert!(started.elapsed() >= ms(2000));
}

/// OpenAI's 429 sends its wait in milliseconds too (`retry-after-ms`,
/// beside a whole-second `Retry-After`): the milliseconds are the wait.
#[tokio::test]
async fn a_429_with_retry_after_ms_waits_those_milliseconds() {
    let server = FlakyServer::start().await;
    server.route(
        "/chat",
        [
            Reply::retry_after_secs(2).with_header("retry-after-ms", "300"),
            Reply::ok_body("ok"),
        ],
    );
    let resp = client(RetryMiddleware::new(&API))
        .get(server.url("/chat"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/chat");
    assert!(gaps.len() == 1 && waited(gaps[0], ms(300)), "{gaps:?}");
    assert!(gaps[0] < ms(2000), "{gaps:?}");
}

/// `Retry-After: 0` asks for a retry at once; a floor keeps a wait.
#[tokio::test]
async fn a_zero_retry_after_waits_the_policys_floor() {
    const FLOORED: Policy<RetryOn> =
        API.with_retry_after(API.retry_after().with_floor(Duration::from_millis(300)));
    let server = FlakyServer::start().await;
    server.route("/now", [Reply::retry_after_secs(0), Reply::ok_body("ok")]);
    let resp = client(RetryMiddleware::new(&FLOORED))
        .get(server.url("/now"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/now");
    assert!(gaps.len() == 1 && waited(gaps[0], ms(300)), "{gaps:?}");
}

/// Azure's services send theirs as `x-ms-retry-after-ms`: read the same
/// way, after `retry-after-ms` and before `Retry-After`.
#[tokio::test]
async fn a_429_with_azures_x_ms_retry_after_ms_waits_those_milliseconds() {
    let server = FlakyServer::start().await;
    server.route(
        "/deployments",
        [
            Reply::retry_after_secs(2).with_header("x-ms-retry-after-ms", "300"),
            Reply::ok_body("ok"),
        ],
    );
    let resp = client(RetryMiddleware::new(&API))
        .get(server.url("/deployments"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/deployments");
    assert!(gaps.len() == 1 && waited(gaps[0], ms(300)), "{gaps:?}");
    assert!(gaps[0] < ms(2000), "{gaps:?}");
}

#[tokio::test]
async fn a_404_and_a_401_are_sent_once() {
    let server = FlakyServer::start().await;
    server.route("/missing", [404]);
    server.route("/secret", [401]);
    let client = client(RetryMiddleware::new(&API));
    for (path, status) in [("/missing", 404), ("/secret", 401)] {
        let resp = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(
            (resp.status().as_u16(), server.hits(path)),
            (status, 1),
            "{path}"
        );
    }
}

/// GitHub's secondary rate limit answers 403 with `Retry-After`:
/// RateLimited, waited. Its primary one (a 429 here) names no wait but a
/// spent window, `x-ratelimit-remaining: 0` and when it starts again
/// (epoch seconds): waited until then. A 403 with a spent window alone is
/// Discord's "missing permissions" on a route's last request: sent once,
/// as a 403 that names nothing is.
#[tokio::test]
async fn githubs_rate_limits_are_waited_and_a_403_of_its_own_is_sent_once() {
    let server = FlakyServer::start().await;
    server.route(
        "/secondary",
        [
            Reply::status(403).with_header("retry-after", "1"),
            Reply::ok_body("ok"),
        ],
    );
    server.route("/forbidden", [403]);
    let client = client(RetryMiddleware::new(&API));
    let resp = client.get(server.url("/secondary")).send().await.unwrap();
    assert_eq!(
        (resp.status().as_u16(), server.hits("/secondary")),
        (200, 2)
    );
    let gaps = server.gaps("/secondary");
    assert!(waited(gaps[0], ms(1000)), "{gaps:?}");
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2; // (1s to 2s from now)
    let spent = |status| {
        Reply::status(status)
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", &reset.to_string())
    };
    server.route("/primary", [spent(429), Reply::ok_body("ok")]);
    server.route("/channel", [spent(403), Reply::ok_body("ok")]);
    let resp = client.get(server.url("/primary")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/primary")), (200, 2));
    // until the reset second: between 1s and 2s from the 429
    let gaps = server.gaps("/primary");
    assert!(gaps[0] >= ms(1000) && gaps[0] <= ms(2500), "{gaps:?}");
    let resp = client.get(server.url("/channel")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/channel")), (403, 1));
    let resp = client.get(server.url("/forbidden")).send().await.unwrap();
    assert_eq!(
        (resp.status().as_u16(), server.hits("/forbidden")),
        (403, 1)
    );
}

/// GitHub's primary rate limit answered as a 403 (`x-ratelimit-remaining:
/// 0`, `x-ratelimit-reset`): Permanent by the status's reading; a
/// `with_classify_response` of the user's reads it as RateLimited with
/// the window's wait (`retry_after::window_hint`), and a permission 403
/// (its window not spent) stays Permanent, sent once.
#[tokio::test]
async fn githubs_primary_limit_as_a_403_is_read_by_the_users_function() {
    use retry_runtime::response::ResponseFailure;
    use retry_runtime::retry_after::window_hint;
    fn github(
        r: &reqwest::Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match (r.status().as_u16(), window_hint(r.headers())) {
            (403, Some(wait)) => {
                Some(ResponseFailure::new(ErrorKind::RateLimited, 403).with_retry_after(Some(wait)))
            }
            _ => by_status,
        }
    }
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 30;
    let server = FlakyServer::start().await;
    server.route(
        "/limited",
        [
            Reply::status(403)
                .with_header("x-ratelimit-remaining", "0")
                .with_header("x-ratelimit-reset", &reset.to_string()),
            Reply::ok_body("issues"),
        ],
    );
    server.route(
        "/private",
        [Reply::status(403)
            .with_header("x-ratelimit-remaining", "4999")
            .with_header("x-ratelimit-reset", &reset.to_string())],
    );
    let paused = retry_runtime::testing::pause();
    let client = client(
        RetryMiddleware::new(&API)
            .with_classify_response(github)
            .sleep_with(NoWait),
    );
    let limited = client.get(server.url("/limited")).send().await.unwrap();
    assert_eq!(
        (limited.status().as_u16(), server.hits("/limited")),
        (200, 2)
    );
    let waits = paused.waits();
    assert!(
        waits.len() == 1
            && waits[0] > Duration::from_secs(28)
            && waits[0] <= Duration::from_secs(30),
        "{waits:?}"
    );
    let private = client.get(server.url("/private")).send().await.unwrap();
    assert_eq!(
        (private.status().as_u16(), server.hits("/private")),
        (403, 1)
    );
}

/// OpenAI's 429 without a Retry-After: the reset of its spent window
/// (`x-ratelimit-remaining-requests: 0`, `x-ratelimit-reset-requests`, a
/// Go duration) is the wait, not the backoff's 50ms; a window with tokens
/// left (its `6m0s` reset) is not.
#[tokio::test]
async fn openais_spent_window_is_a_429s_wait() {
    let server = FlakyServer::start().await;
    let spent = Reply::status(429)
        .with_header("x-ratelimit-remaining-requests", "0")
        .with_header("x-ratelimit-reset-requests", "400ms")
        .with_header("x-ratelimit-remaining-tokens", "149000")
        .with_header("x-ratelimit-reset-tokens", "6m0s");
    server.route("/v1/chat/completions", [spent, Reply::ok_body("ok")]);
    let client = client(RetryMiddleware::new(&API));
    let url = server.url("/v1/chat/completions");
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(
        (resp.status().as_u16(), server.hits("/v1/chat/completions")),
        (200, 2)
    );
    let gaps = server.gaps("/v1/chat/completions");
    assert!(waited(gaps[0], ms(400)), "{gaps:?}");
    assert!(far_below(gaps[0], Duration::from_secs(5)), "{gaps:?}");
}

/// An AI provider's `x-should-retry` says whether to retry over the
/// status, both ways, through a condition of the user's own
/// (`Policy::with_when`): a 400 with `true` is retried, a 503 with `false`
/// is not, and a 429's Retry-After is still the wait.
#[tokio::test]
async fn the_servers_x_should_retry_overrides_the_status_both_ways() {
    use retry_runtime::{RetriedKinds, Verdict, When};
    #[derive(Clone, Copy, Debug)]
    struct ServerSays(RetryOn);
    impl RetriedKinds for ServerSays {}
    impl When<AttemptFailure> for ServerSays {
        fn check(&self, f: &AttemptFailure) -> Verdict {
            let verdict = self.0.check(f);
            let said = match f {
                Failure::Response { response, .. } => response.headers().get("x-should-retry"),
                _ => None,
            };
            match said.map(|v| v.as_bytes()) {
                Some(b"true") => Verdict {
                    retry: true,
                    ..verdict
                },
                Some(b"false") => Verdict {
                    retry: false,
                    ..verdict
                },
                _ => verdict,
            }
        }
    }
    const CHAT: Policy<ServerSays> = API.with_when(ServerSays(*API.when()));
    let server = FlakyServer::start().await;
    server.route(
        "/yes",
        [
            Reply::status(400).with_header("x-should-retry", "true"),
            Reply::retry_after_secs(1),
            Reply::ok_body("ok"),
        ],
    );
    server.route(
        "/no",
        [Reply::status(503).with_header("x-should-retry", "false")],
    );
    let paused = retry_runtime::testing::pause();
    let client = client(RetryMiddleware::new(&CHAT).sleep_with(NoWait));
    let resp = client.get(server.url("/yes")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/yes")), (200, 3));
    assert_eq!(paused.waits(), [ms(50), Duration::from_secs(1)]);
    let resp = client.get(server.url("/no")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/no")), (503, 1));
}

/// One more status for one upstream: a 409 retried beside the `api`
/// preset's kinds (`or_retry_if`), while a 429 still waits the second its
/// `Retry-After` asks (a `retry_if` predicate alone would read no hint),
/// and a 404 is still sent once.
#[tokio::test]
async fn a_409_retried_for_one_upstream_keeps_the_429s_retry_after() {
    fn conflict(f: &AttemptFailure) -> bool {
        matches!(f, Failure::Response { failure, .. } if failure.code == 409)
    }
    type Pick = fn(&AttemptFailure) -> bool;
    const INVENTORY: Policy<retry_runtime::RetryOnOrIf<Pick>> = API
        .with_max_attempts(4)
        .with_name("inventory")
        .or_retry_if(conflict);
    let server = FlakyServer::start().await;
    server.route(
        "/stock/7",
        [
            Reply::status(409),
            Reply::retry_after_secs(1),
            Reply::ok_body("7 left"),
        ],
    );
    server.route("/stock/8", [404]);
    let logs = capture();
    let paused = retry_runtime::testing::pause();
    let client = client(RetryMiddleware::new(&INVENTORY).sleep_with(NoWait));
    let resp = client.get(server.url("/stock/7")).send().await.unwrap();
    assert_eq!(
        (resp.status(), server.hits("/stock/7")),
        (StatusCode::OK, 3)
    );
    assert_eq!(paused.waits(), [ms(50), Duration::from_secs(1)]);
    let first = logs.assert_logged(Level::WARN, "retrying inventory after attempt 1/4");
    testkit::capture::assert_fields(&first, &[("error_kind", "Permanent")]);
    logs.assert_logged(Level::WARN, "next attempt in 1s (Retry-After)");
    let resp = client.get(server.url("/stock/8")).send().await.unwrap();
    assert_eq!(
        (resp.status(), server.hits("/stock/8")),
        (StatusCode::NOT_FOUND, 1)
    );
}

/// The port a server comes up on after a first attempt was refused
/// there (`come_up`, a `before_sleep` hook), the status it answers, and
/// the requests it got.
static LATE_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
static LATE_STATUS: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
static LATE_HITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Before the wait after the refused first attempt: a server listens on
/// `LATE_PORT` now, answering each request `LATE_STATUS`.
fn come_up(_: &retry_runtime::RetryEvent<'_>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = LATE_PORT.swap(0, Ordering::SeqCst);
    if port == 0 {
        return; // up already
    }
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            // the head, then as many bytes as its content-length says
            let mut read = Vec::new();
            let mut buf = [0; 1024];
            let head_end = loop {
                let n = conn.read(&mut buf).await.unwrap();
                read.extend_from_slice(&buf[..n]);
                if let Some(i) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&read[..head_end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while read.len() < head_end + length {
                let n = conn.read(&mut buf).await.unwrap();
                read.extend_from_slice(&buf[..n]);
            }
            LATE_HITS.fetch_add(1, Ordering::SeqCst);
            let status = LATE_STATUS.load(Ordering::SeqCst);
            let answer =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            conn.write_all(answer.as_bytes()).await.unwrap();
        }
    });
}

/// `RetryMiddleware` with `with_retry_refused(true)` on a client that
/// follows no redirects.
fn retrying_refused(policy: &'static Policy<RetryOn>) -> ClientWithMiddleware {
    let inner = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    ClientBuilder::new(inner)
        .with(RetryMiddleware::new(policy).with_retry_refused(true))
        .build()
}

/// With `with_retry_refused(true)`, a POST whose connection is refused
/// never reached the server: it is retried whatever its method, and the
/// attempt that reaches the server is the last (a 503 handed back, sent
/// once; a 201 the answer). A POST refused on every attempt runs out of
/// attempts, and no line says it was sent once. By default, it is sent
/// once.
#[tokio::test]
async fn a_refused_post_is_retried_with_retry_refused() {
    const LATE: Policy<RetryOn> = API.with_name("late").with_before_sleep(come_up);
    for status in [503, 201] {
        let logs = capture();
        let port = testkit::flaky::free_port();
        LATE_HITS.store(0, Ordering::SeqCst);
        LATE_STATUS.store(status, Ordering::SeqCst);
        LATE_PORT.store(port, Ordering::SeqCst);
        let resp = retrying_refused(&LATE)
            .post(format!("http://127.0.0.1:{port}/orders"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status);
        assert_eq!(LATE_HITS.load(Ordering::SeqCst), 1, "{status}");
        crate::assert_refused_then_reached(&logs, "late", 3, status);
    }

    let logs = capture();
    let err = retrying_refused(&API)
        .post(refused_url("/orders"))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(logs.matching(Level::WARN, "retrying api").len(), 2);
    logs.assert_logged(Level::ERROR, "api failed after 3 attempts");
    logs.assert_not_logged("sent once");

    // by default: sent once
    let logs = capture();
    let err = client(RetryMiddleware::new(&API))
        .post(refused_url("/orders"))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    let line = logs.assert_logged(Level::WARN, "api not retried");
    assert!(line.contains("its method is not idempotent"), "{line}");
    assert!(logs.matching(Level::WARN, "retrying api").is_empty());
}

/// A POST the server applied and answered `303 See Other`, which reqwest
/// follows (its default) to a host that refuses the connection: reqwest's
/// error `is_connect()`, with the POST's URL. The POST reached the
/// server: by default, sent once. (A review found it sent 3 times when
/// every refused POST was retried.)
#[tokio::test]
async fn a_post_answered_303_and_redirected_to_a_refused_host_is_sent_once() {
    let server = crate::redirecting_to_a_refused_host().await;
    let logs = capture();
    let err = client(RetryMiddleware::new(&API))
        .post(server.url("/orders"))
        .body("{\"order\":1042}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(server.hits("/orders"), 1);
    let line = logs.assert_logged(Level::WARN, "api not retried");
    assert!(line.contains("its method is not idempotent"), "{line}");
}

/// A middleware after ours that records the `Attempt` it finds in the
/// extensions and sends its number along as OpenAI's SDK does.
#[derive(Clone)]
struct RetryCount(std::sync::Arc<Mutex<Vec<Option<retry_runtime::Attempt>>>>);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for RetryCount {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let attempt = extensions.get::<retry_runtime::Attempt>().copied();
        self.0.lock().unwrap().push(attempt);
        if let Some(attempt) = attempt {
            let retries = (attempt.number - 1).to_string();
            req.headers_mut()
                .insert("x-stainless-retry-count", retries.parse().unwrap());
        }
        next.run(req, extensions).await
    }
}

/// `with_attempt_extension(true)`: each attempt's `Attempt` in the
/// extensions for the middleware after ours (number, limit, previous
/// kind); off by default, nothing there.
#[tokio::test]
async fn each_attempt_is_in_the_extensions_when_asked() {
    use retry_runtime::Attempt;
    let server = FlakyServer::start().await;
    server.route(
        "/chat",
        [Reply::status(503), Reply::status(429), Reply::ok_body("ok")],
    );
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = ClientBuilder::new(inner)
        .with(RetryMiddleware::new(&API).with_attempt_extension(true))
        .with(RetryCount(seen.clone()))
        .build();
    let resp = client.get(server.url("/chat")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/chat")), (200, 3));
    let seen: Vec<(u32, u32, Option<ErrorKind>)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|a: &Option<Attempt>| {
            let a = a.expect("an attempt in the extensions");
            (a.number, a.max, a.previous_kind)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, 3, None),
            (2, 3, Some(ErrorKind::Unavailable)),
            (3, 3, Some(ErrorKind::RateLimited)),
        ]
    );

    // off (the default): nothing put there
    server.route("/off", [Reply::status(503), Reply::ok_body("ok")]);
    let none = std::sync::Arc::new(Mutex::new(Vec::new()));
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = ClientBuilder::new(inner)
        .with(RetryMiddleware::new(&API))
        .with(RetryCount(none.clone()))
        .build();
    client.get(server.url("/off")).send().await.unwrap();
    assert_eq!(*none.lock().unwrap(), [None, None]);
}

/// A middleware after ours that sends the request (the server applies
/// it), then makes a call of its own whose connection is refused.
struct AuditAfterSend;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for AuditAfterSend {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let _sent = next.run(req, extensions).await?;
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        Err(reqwest_middleware::Error::Middleware(
            anyhow::Error::new(refused).context("writing the audit record"),
        ))
    }
}

/// A middleware after ours that sends the request, then posts an audit
/// record with reqwest to a host that refuses it, with `?`: its error is
/// reqwest's, `Error::Reqwest`, for the audit's URL.
struct AuditByReqwest;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for AuditByReqwest {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let sent = next.run(req, extensions).await?;
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(refused_url("/audit"))
            .send()
            .await?;
        Ok(sent)
    }
}

/// A cooldown shared by the requests of one client: one request's 429
/// (`Retry-After: 1`) holds the other's first attempt until the second is
/// over, where without it the other request would have been sent at once
/// and answered 429 too.
#[tokio::test]
async fn a_429_holds_every_request_sharing_the_cooldown() {
    use retry_runtime::cooldown::Cooldown;
    static PARTNER: Cooldown = Cooldown::new("partner");
    static SHARED: Policy<RetryOn> = API.with_name("partner").with_cooldown(&PARTNER);
    let server = FlakyServer::start().await;
    server.route(
        "/page",
        [
            Reply::retry_after_secs(1),
            Reply::ok_body("a"),
            Reply::ok_body("b"),
        ],
    );
    let client = client(RetryMiddleware::new(&SHARED));
    let first = client.get(server.url("/page")).send().await.unwrap();
    assert_eq!(first.status(), 200, "retried after its 429");
    // the 429 held the cooldown for a second: it is over now, and a
    // request sent while it held waited it out before its first attempt
    server.route("/other", [Reply::retry_after_secs(1), Reply::ok_body("x")]);
    server.route("/held", [Reply::ok_body("y")]);
    let ((held, took), other) = tokio::join!(
        async {
            // sent once `/other`'s 429 is in
            tokio::time::sleep(ms(300)).await;
            let sent = Instant::now();
            let held = client.get(server.url("/held")).send().await.unwrap();
            (held, sent.elapsed())
        },
        client.get(server.url("/other")).send(),
    );
    assert_eq!(
        (held.status(), other.unwrap().status()),
        (StatusCode::OK, StatusCode::OK)
    );
    // (the rest of the second the 429 asked for, less some slack)
    assert!(
        took >= ms(500),
        "the held request was sent at once: {took:?}"
    );
    assert_eq!(server.hits("/held"), 1);
    assert_eq!(PARTNER.remaining(), None);
}

/// With a spread, the middleware holds each request's first attempt for
/// the hold's time left and its own point in the spread after it, drawn
/// in turn from the seeded generator: three requests held by one hold are
/// sent at three points, not at its end together (the sleeper records
/// the waits and sleeps none, so the hold's time left is near 5s for
/// each).
#[tokio::test]
async fn a_held_request_waits_its_point_in_the_spread() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::jitter::Rng;
    use std::sync::Mutex;
    static SPREAD: Cooldown =
        Cooldown::new("middleware-spread").with_spread(Duration::from_secs(2));
    static SPREAD_API: Policy<RetryOn> = API.with_name("spread").with_cooldown(&SPREAD);
    static WAITS: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    fn record(wait: Duration) -> std::future::Ready<()> {
        WAITS.lock().unwrap().push(wait);
        std::future::ready(())
    }
    let server = FlakyServer::start().await;
    server.route(
        "/held",
        [
            Reply::ok_body("a"),
            Reply::ok_body("b"),
            Reply::ok_body("c"),
        ],
    );
    let client = client(RetryMiddleware::new(&SPREAD_API).sleep_with(record));
    retry_runtime::testing::seed(61);
    SPREAD.hold_for(Duration::from_secs(5));
    for _ in 0..3 {
        let sent = client.get(server.url("/held")).send().await.unwrap();
        assert_eq!(sent.status(), StatusCode::OK);
    }
    let waits = WAITS.lock().unwrap().clone();
    let mut rng = Rng::with_seed(61);
    assert_eq!(waits.len(), 3, "{waits:?}");
    let points: Vec<Duration> = (0..3)
        .map(|_| Duration::from_nanos(rng.below_inclusive(2_000_000_000) as u64))
        .collect();
    // (each wait the hold's time left, less than the real time since it
    // was set, plus its point: a wait without it would be short by it)
    assert!(points.iter().any(|p| *p > ms(500)), "{points:?}");
    for (wait, point) in waits.iter().zip(&points) {
        let left = wait.checked_sub(*point).expect("its point is in its wait");
        assert!(
            left > ms(4500) && left <= Duration::from_secs(5),
            "{waits:?}"
        );
    }
    assert!(waits[0] != waits[1] && waits[1] != waits[2], "{waits:?}");
    assert_eq!(server.hits("/held"), 3);
}

/// The many-tasks recipe against GitHub's primary limit: a 429 whose
/// spent window resets in 30 minutes. With the preset's cap (60s) the
/// retry goes after a minute, long before the reset (an issue syncer's
/// walk-through sent 29 such requests, one a minute, and gave up); with
/// the cap raised to an hour, as docs/breaker-and-budget.md's recipe now
/// has it, the retry waits to the reset and the cooldown holds every task
/// as long (the sleeper records the waits and sleeps none).
#[tokio::test]
async fn a_spent_windows_hold_lasts_to_its_reset_with_the_cap_raised() {
    use retry_runtime::cooldown::Cooldown;
    static WAITS: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    fn record(wait: Duration) -> std::future::Ready<()> {
        WAITS.lock().unwrap().push(wait);
        std::future::ready(())
    }
    static CAPPED: Cooldown = Cooldown::new("github-capped");
    static SYNC_CAPPED: Policy<RetryOn> = presets::API
        .with_name("sync")
        .with_max_attempts(30)
        .with_cooldown(&CAPPED);
    static GITHUB: Cooldown = Cooldown::new("github");
    static SYNC: Policy<RetryOn> = presets::API
        .with_name("sync")
        .with_max_attempts(30)
        .with_retry_after(
            presets::API
                .retry_after()
                .with_cap(Duration::from_secs(3600)),
        )
        .with_cooldown(&GITHUB);
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1800;
    let spent = || {
        Reply::status(429)
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", &reset.to_string())
    };
    let server = FlakyServer::start().await;
    server.route("/capped", [spent(), Reply::ok_body("a")]);
    server.route("/issues", [spent(), Reply::ok_body("b")]);
    let half_hour =
        |wait: Duration| wait > Duration::from_secs(1790) && wait <= Duration::from_secs(1800);

    let capped = client(RetryMiddleware::new(&SYNC_CAPPED).sleep_with(record));
    let resp = capped.get(server.url("/capped")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        *WAITS.lock().unwrap(),
        [Duration::from_secs(60)],
        "the preset's cap"
    );
    assert!(CAPPED
        .remaining()
        .is_some_and(|left| left <= Duration::from_secs(60)));

    WAITS.lock().unwrap().clear();
    let raised = client(RetryMiddleware::new(&SYNC).sleep_with(record));
    let resp = raised.get(server.url("/issues")).send().await.unwrap();
    assert_eq!((resp.status(), server.hits("/issues")), (StatusCode::OK, 2));
    let waits = WAITS.lock().unwrap().clone();
    assert!(waits.len() == 1 && half_hour(waits[0]), "{waits:?}");
    // every task sharing the cooldown is held to the reset too
    assert!(
        GITHUB.remaining().is_some_and(half_hour),
        "{:?}",
        GITHUB.remaining()
    );
}

/// A retry's wait is lengthened to the cooldown when it is decided, within
/// `max_elapsed`: another request's 429 that holds the cooldown longer
/// during that wait does not start the retry past the deadline (a review
/// found `/a`'s retry sent at 3.1s under a 1s `max_elapsed`).
#[tokio::test]
async fn a_hold_made_longer_during_a_retrys_wait_does_not_start_it_past_the_deadline() {
    use retry_runtime::cooldown::Cooldown;
    static HELD: Cooldown = Cooldown::new("held-later");
    static POLICY: Policy<RetryOn> = presets::API
        .with_name("held-later")
        .with_backoff(Backoff::fixed(Duration::from_millis(300)))
        .with_jitter(Jitter::None)
        .with_max_elapsed(Duration::from_secs(1))
        .with_cooldown(&HELD);
    let server = FlakyServer::start().await;
    server.route("/a", [503, 200]);
    server.route("/b", [Reply::retry_after_secs(3), Reply::ok_body("b")]);
    let client = client(RetryMiddleware::new(&POLICY));
    let start = Instant::now();
    let (a, _) = tokio::join!(
        async {
            let status = client.get(server.url("/a")).send().await.unwrap().status();
            (status, start.elapsed())
        },
        async {
            tokio::time::sleep(ms(100)).await;
            client.get(server.url("/b")).send().await.unwrap()
        }
    );
    assert_eq!(a.0, StatusCode::OK);
    assert!(
        a.1 < Duration::from_secs(1),
        "/a took {:?} under a 1s max_elapsed",
        a.1
    );
}

/// A request's own limits, in its extensions: `MaxAttempts(1)` sends it
/// once, `MaxElapsed` gives up on a wait past its deadline; a request
/// without them keeps the policy's.
#[tokio::test]
async fn a_requests_own_limits_in_its_extensions_override_the_policys() {
    use retry_runtime::reqwest_middleware::{MaxAttempts, MaxElapsed};
    let server = FlakyServer::start().await;
    server.route("/once", [503, 503, 200]);
    server.route("/more", [503, 503, 503, 503, 200]);
    server.route(
        "/late",
        [Reply::retry_after_secs(2), Reply::ok_body("late")],
    );
    server.route("/plain", [503, 503, 200]);
    let client = client(RetryMiddleware::new(&API)); // 4 attempts

    let once = client
        .get(server.url("/once"))
        .with_extension(MaxAttempts(1))
        .send()
        .await
        .unwrap();
    assert_eq!((once.status().as_u16(), server.hits("/once")), (503, 1));

    let more = client
        .get(server.url("/more"))
        .with_extension(MaxAttempts(6))
        .send()
        .await
        .unwrap();
    assert_eq!((more.status().as_u16(), server.hits("/more")), (200, 5));

    let started = Instant::now();
    let late = client
        .get(server.url("/late"))
        .with_extension(MaxElapsed(ms(500)))
        .send()
        .await
        .unwrap();
    assert_eq!((late.status().as_u16(), server.hits("/late")), (429, 1));
    assert!(started.elapsed() < ms(1000), "{:?}", started.elapsed());

    let plain = client.get(server.url("/plain")).send().await.unwrap();
    assert_eq!((plain.status().as_u16(), server.hits("/plain")), (200, 3));
}

/// `from_policy`: a policy made at run time (an SDK's copy of its user's,
/// from configuration), kept by the middleware, nothing leaked: it runs
/// as `new`'s does (503, 503, 200 in three calls, its name on the lines),
/// a request's own limits apply over it, and a clone of the client shares
/// it.
#[tokio::test]
async fn a_policy_made_at_run_time_is_kept_by_the_middleware() {
    use retry_runtime::reqwest_middleware::MaxAttempts;
    let server = FlakyServer::start().await;
    server.route("/clip", [503, 503, 200]);
    server.route("/once", [503, 200]);
    server.route("/again", [503, 200]);
    let configured: u32 = "3".parse().unwrap(); // from the user's configuration
    let theirs = API.with_name("api").with_max_attempts(configured);
    let middleware = RetryMiddleware::from_policy(theirs.with_default_name("sdk"));
    assert_eq!(middleware.policy().max_attempts(), 3);
    let log = capture();
    let client = client(middleware);

    let resp = client.get(server.url("/clip")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/clip")), (200, 3));
    // (named by its user: the SDK's default name does not replace it)
    assert_eq!(
        log.matching(Level::WARN, "retrying api after attempt")
            .len(),
        2
    );

    let once = client
        .get(server.url("/once"))
        .with_extension(MaxAttempts(1))
        .send()
        .await
        .unwrap();
    assert_eq!((once.status().as_u16(), server.hits("/once")), (503, 1));

    let shared = client.clone();
    drop(client);
    let again = shared.get(server.url("/again")).send().await.unwrap();
    assert_eq!((again.status().as_u16(), server.hits("/again")), (200, 2));
}

/// `OperationName` in a request's extensions: its lines carry that name
/// (retry, success, give-up), over the policy's, which the requests
/// without one keep; its limits from the other extensions still apply.
#[tokio::test]
async fn a_requests_operation_name_in_its_extensions_names_its_lines() {
    use retry_runtime::reqwest_middleware::{MaxAttempts, OperationName};
    let server = FlakyServer::start().await;
    server.route("/charge", [503, 200]);
    server.route("/refund", [503, 503]);
    server.route("/plain", [503, 200]);
    let logs = capture();
    let client = client(RetryMiddleware::from_policy(API.with_name("paysdk")));
    let charge = client
        .get(server.url("/charge"))
        .with_extension(OperationName("paysdk.charge"))
        .send()
        .await
        .unwrap();
    assert_eq!(charge.status().as_u16(), 200);
    let refund = client
        .get(server.url("/refund"))
        .with_extension(OperationName("paysdk.refund"))
        .with_extension(MaxAttempts(2))
        .send()
        .await
        .unwrap();
    assert_eq!((refund.status().as_u16(), server.hits("/refund")), (503, 2));
    let plain = client.get(server.url("/plain")).send().await.unwrap();
    assert_eq!(plain.status().as_u16(), 200);

    let retried = logs.assert_logged(Level::WARN, "retrying paysdk.charge after attempt 1/3");
    testkit::capture::assert_fields(&retried, &[("operation", "paysdk.charge")]);
    logs.assert_logged(Level::INFO, "paysdk.charge succeeded on attempt 2");
    logs.assert_logged(Level::ERROR, "paysdk.refund failed after 2 attempts");
    logs.assert_logged(Level::WARN, "retrying paysdk after attempt 1/3");
    logs.assert_logged(Level::INFO, "paysdk succeeded on attempt 2");
}

/// `with_classify_response`: a 409 read as Unavailable is retried by the
/// `api` preset with its `Retry-After` honoured and its lines' kind
/// Unavailable; a DELETE's 404 read as a success is given back at once,
/// with no give-up line; a 200 with an upstream's error header read as a
/// failure is retried; other responses keep the status's reading.
#[tokio::test]
async fn responses_read_by_the_users_function_are_judged_as_it_says() {
    use retry_runtime::response::ResponseFailure;
    fn payments(
        r: &reqwest::Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match (r.status().as_u16(), by_status) {
            (409, Some(f)) => Some(
                ResponseFailure::new(ErrorKind::Unavailable, 409).with_retry_after(f.retry_after),
            ),
            (404, _) if r.url().path().starts_with("/tokens/") => None,
            (200, _) if r.headers().contains_key("x-upstream-error") => {
                Some(ResponseFailure::new(ErrorKind::Unavailable, 200))
            }
            (_, f) => f,
        }
    }
    let server = FlakyServer::start().await;
    server.route(
        "/charges/7",
        [
            Reply::status(409).with_header("retry-after", "1"),
            Reply::ok_body("charged"),
        ],
    );
    server.route("/tokens/9", [404]);
    server.route(
        "/quote",
        [
            Reply::ok_body("stale").with_header("x-upstream-error", "timeout"),
            Reply::ok_body("fresh"),
        ],
    );
    server.route("/missing", [404]);
    let logs = capture();
    let paused = retry_runtime::testing::pause();
    let client = client(
        RetryMiddleware::new(&API)
            .with_classify_response(payments)
            .sleep_with(NoWait),
    );

    let charged = client.get(server.url("/charges/7")).send().await.unwrap();
    assert_eq!(
        (charged.status().as_u16(), server.hits("/charges/7")),
        (200, 2)
    );
    let line = logs.assert_logged(Level::WARN, "next attempt in 1s (Retry-After)");
    testkit::capture::assert_fields(&line, &[("error_kind", "Unavailable")]);

    let gone = client.delete(server.url("/tokens/9")).send().await.unwrap();
    assert_eq!((gone.status().as_u16(), server.hits("/tokens/9")), (404, 1));

    let quote = client.get(server.url("/quote")).send().await.unwrap();
    assert_eq!(quote.text().await.unwrap(), "fresh");
    assert_eq!(server.hits("/quote"), 2);
    assert_eq!(paused.waits(), [Duration::from_secs(1), ms(50)]);

    let missing = client.get(server.url("/missing")).send().await.unwrap();
    assert_eq!(
        (missing.status().as_u16(), server.hits("/missing")),
        (404, 1)
    );
    logs.assert_logged(
        Level::WARN,
        "api failed with a non-retriable error on attempt 1",
    );
    assert!(logs.matching(Level::WARN, "/tokens/9").is_empty());
    assert!(logs.matching(Level::ERROR, "/tokens/9").is_empty());
}

/// `with_classify_sent`: a reading told the method of each response's
/// request. A DELETE's 404 is a success, given back at once with no
/// give-up line, the third attempt's too (the one that sends the request
/// itself); a GET's is the failure its status says, given up at once by
/// the `api` preset (Permanent) and retried to the last attempt by a
/// policy retrying every failure, under which a DELETE's still succeeds;
/// a POST's 409 read as busy is retried with its `Retry-After` when the
/// POST is marked `Idempotent`, and sent once when not; a POST's 404
/// stays a failure.
#[tokio::test]
async fn responses_read_with_their_requests_method_are_judged_as_it_says() {
    use reqwest::Method;
    use retry_runtime::response::{ResponseFailure, RetryReport};
    fn clips(
        method: &Method,
        r: &reqwest::Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match (method, r.status().as_u16(), by_status) {
            (&Method::DELETE, 404, _) => None, // deleted already
            // this idempotency key's first POST still in flight
            (&Method::POST, 409, Some(f)) => Some(
                ResponseFailure::new(ErrorKind::Unavailable, 409).with_retry_after(f.retry_after),
            ),
            (_, _, f) => f,
        }
    }
    const EVERY_FAILURE: Policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_millis(50)))
        .with_jitter(Jitter::None)
        .with_name("every_failure");
    let server = FlakyServer::start().await;
    server.route("/clips/7", [404]);
    server.route("/clips/8", [503, 503, 404]);
    server.route(
        "/clips",
        [
            Reply::status(409).with_header("retry-after", "1"),
            Reply::status(201),
        ],
    );
    server.route("/uploads", [409]);
    server.route("/uploads/9/parts", [404]);
    server.route("/clips/9", [404]);
    let logs = capture();
    let paused = retry_runtime::testing::pause();
    let api = client(
        RetryMiddleware::new(&API)
            .with_classify_sent(clips)
            .with_report(true)
            .sleep_with(NoWait),
    );
    let report = |r: &reqwest::Response| {
        let report = r.extensions().get::<RetryReport>().expect("a report");
        (r.status().as_u16(), report.attempts, report.gave_up)
    };

    let deleted = api.delete(server.url("/clips/7")).send().await.unwrap();
    assert_eq!(report(&deleted), (404, 1, None));
    let got = api.get(server.url("/clips/7")).send().await.unwrap();
    assert_eq!(report(&got), (404, 1, Some(StopReason::Permanent)));
    assert_eq!(server.hits("/clips/7"), 2);
    // the GET's line only
    let lines = logs.matching(Level::WARN, "/clips/7");
    assert_eq!(lines.len(), 1, "{lines:?}");
    logs.assert_logged(
        Level::WARN,
        "api failed with a non-retriable error on attempt 1",
    );

    // the third attempt sends the request itself, moved below: its 404 is
    // still read as a DELETE's
    let late = api.delete(server.url("/clips/8")).send().await.unwrap();
    assert_eq!(report(&late), (404, 3, None));
    assert_eq!(server.hits("/clips/8"), 3);
    assert_eq!(logs.matching(Level::WARN, "/clips/8").len(), 2);

    let created = api
        .post(server.url("/clips"))
        .with_extension(Idempotent)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(report(&created), (201, 2, None));
    let line = logs.assert_logged(Level::WARN, "next attempt in 1s (Retry-After)");
    testkit::capture::assert_fields(&line, &[("error_kind", "Unavailable")]);
    let unmarked = api
        .post(server.url("/uploads"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(report(&unmarked), (409, 1, Some(StopReason::SentOnce)));
    let missing = api
        .post(server.url("/uploads/9/parts"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(report(&missing).0, 404);
    assert_ne!(report(&missing).2, None, "a POST's 404 is a failure");
    assert_eq!(
        (server.hits("/uploads"), server.hits("/uploads/9/parts")),
        (1, 1)
    );

    // a policy retrying every failure: a GET's 404 to the last attempt,
    // a DELETE's at once a success
    let every = client(
        RetryMiddleware::new(&EVERY_FAILURE)
            .with_classify_sent(clips)
            .with_report(true)
            .sleep_with(NoWait),
    );
    let got = every.get(server.url("/clips/9")).send().await.unwrap();
    assert_eq!(report(&got), (404, 3, Some(StopReason::Attempts)));
    let deleted = every.delete(server.url("/clips/9")).send().await.unwrap();
    assert_eq!(report(&deleted), (404, 1, None));
    assert_eq!(server.hits("/clips/9"), 4);
    // the GET's give-up line only
    let lines = logs.matching(Level::ERROR, "/clips/9");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("every_failure failed after 3 attempts"),
        "{lines:?}"
    );
    assert_eq!(
        paused.waits(),
        [ms(50), ms(50), Duration::from_secs(1), ms(50), ms(50)]
    );
}

/// A response that `with_classify_sent` reads as a success is one to the
/// run, whatever its status: the caller gets it as `Ok`, the run's
/// outcome is a success (`succeeded_first_try`, or
/// `succeeded_after_retries` with its INFO line after 503s), with no
/// give-up line, under the request's own name (`OperationName`); and so
/// for a request sent once, by its `MaxAttempts(1)` or its streamed body,
/// whose request goes below at once (its method read before). A GET's 404
/// stays a permanent error, and a DELETE's streamed 503 is sent once.
#[test]
fn a_response_read_as_a_success_is_counted_and_logged_as_one() {
    use futures_util::stream;
    use reqwest::Method;
    use retry_runtime::reqwest_middleware::{MaxAttempts, OperationName};
    use retry_runtime::response::ResponseFailure;
    fn gone_is_done(
        method: &Method,
        r: &reqwest::Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match (method, r.status().as_u16()) {
            (&Method::DELETE, 404) => None,
            _ => by_status,
        }
    }
    fn streamed() -> reqwest::Body {
        reqwest::Body::wrap_stream(stream::iter([Ok::<_, std::io::Error>("chunk")]))
    }
    const SENT: Policy<RetryOn> = API.with_name("api_read_sent");
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let server = FlakyServer::start().await;
        server.route("/clips/1", [404]);
        server.route("/clips/2", [503, 503, 404]);
        server.route("/clips/3", [404]);
        server.route("/clips/4", [404]);
        server.route("/clips/5", [404]);
        server.route("/clips/6", [503, 404]);
        let api = client(
            RetryMiddleware::new(&SENT)
                .with_classify_sent(gone_is_done)
                .sleep_with(NoWait),
        );
        let send = |method: Method, path: &str, name: &'static str| {
            api.request(method, server.url(path))
                .with_extension(OperationName(name))
        };
        let status = |r: reqwest::Response| r.status().as_u16();
        let at_once = send(Method::DELETE, "/clips/1", "clips.delete_at_once");
        assert_eq!(status(at_once.send().await.unwrap()), 404);
        let late = send(Method::DELETE, "/clips/2", "clips.delete_late");
        assert_eq!(status(late.send().await.unwrap()), 404);
        let got = send(Method::GET, "/clips/3", "clips.get");
        assert_eq!(status(got.send().await.unwrap()), 404);
        let once = send(Method::DELETE, "/clips/4", "clips.delete_once");
        let once = once.with_extension(MaxAttempts(1)).send().await.unwrap();
        assert_eq!(status(once), 404);
        let stream = send(Method::DELETE, "/clips/5", "clips.delete_stream");
        assert_eq!(status(stream.body(streamed()).send().await.unwrap()), 404);
        let busy = send(Method::DELETE, "/clips/6", "clips.delete_busy");
        assert_eq!(status(busy.body(streamed()).send().await.unwrap()), 503);
        assert_eq!(
            ["/clips/1", "/clips/2", "/clips/3", "/clips/4", "/clips/5", "/clips/6"]
                .map(|path| server.hits(path)),
            [1, 3, 1, 1, 1, 1]
        );
    });
    for (name, outcome) in [
        ("clips.delete_at_once", "succeeded_first_try"),
        ("clips.delete_late", "succeeded_after_retries"),
        ("clips.get", "permanent_error"),
        ("clips.delete_once", "succeeded_first_try"),
        ("clips.delete_stream", "succeeded_first_try"),
        ("clips.delete_busy", "sent_once"),
    ] {
        assert_eq!(crate::outcome(&recorded, name), [outcome], "{name}");
    }
    assert_eq!(crate::outcome(&recorded, "api_read_sent"), [""; 0]);
    let errors = logs.at(Level::ERROR);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        logs.matching(Level::WARN, "retrying clips.delete_late")
            .len(),
        2
    );
    logs.assert_logged(Level::INFO, "clips.delete_late succeeded on attempt 3");
    logs.assert_logged(Level::WARN, "clips.get failed with a non-retriable error");
    let once = logs.assert_logged(Level::WARN, "clips.delete_busy not retried");
    assert!(once.contains("its body is a stream"), "{once}");
    for quiet in [
        "clips.delete_at_once",
        "clips.delete_once",
        "clips.delete_stream",
    ] {
        logs.assert_not_logged(quiet);
    }
}

/// `with_notify`: the middleware's own hook hears of each retry with the
/// failed attempt (a response's code, a refused connection's error) and
/// its event, beside the policy's `before_sleep`, which it does not
/// replace; a run with no retry tells it nothing.
#[tokio::test]
async fn the_middlewares_hook_hears_each_retry_beside_the_policys() {
    static HEARD: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static BEFORE_SLEEP: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    fn hook(failure: &AttemptFailure, ev: &retry_runtime::RetryEvent<'_>) {
        let what = match failure {
            Failure::Response { failure, .. } => failure.code.to_string(),
            Failure::Error { kind, .. } => format!("{kind:?}"),
            _ => "other".into(),
        };
        HEARD
            .lock()
            .unwrap()
            .push(format!("{} {} {what}", ev.operation, ev.attempt));
    }
    fn counted(_: &retry_runtime::RetryEvent<'_>) {
        BEFORE_SLEEP.fetch_add(1, Ordering::SeqCst);
    }
    const HOOKED: Policy<RetryOn> = API.with_name("hooked").with_before_sleep(counted);
    let server = FlakyServer::start().await;
    server.route(
        "/page",
        [Reply::status(429), Reply::status(503), Reply::ok_body("ok")],
    );
    server.route("/first", [200]);
    let client = client(
        RetryMiddleware::new(&HOOKED)
            .with_notify(hook)
            .sleep_with(NoWait),
    );
    let page = client.get(server.url("/page")).send().await.unwrap();
    assert_eq!((page.status().as_u16(), server.hits("/page")), (200, 3));
    let first = client.get(server.url("/first")).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let refused = client.get(refused_url("/down")).send().await;
    assert!(refused.is_err());
    assert_eq!(
        *HEARD.lock().unwrap(),
        [
            "hooked 1 429",
            "hooked 2 503",
            "hooked 1 Connect",
            "hooked 2 Connect"
        ]
    );
    assert_eq!(BEFORE_SLEEP.load(Ordering::SeqCst), 4);
}

/// The middleware's `with_notify` hook is told the time since the run
/// started (`RetryEvent::elapsed`), as a per-call hook is in every other
/// form: over a policy with no deadline and no callbacks the run read no
/// clock at its start, and every event said 0, after a 100ms answer too.
#[tokio::test]
async fn the_middlewares_hook_is_told_the_time_since_the_run_started() {
    static HEARD: Mutex<Vec<(u32, Duration)>> = Mutex::new(Vec::new());
    fn hook(_: &AttemptFailure, ev: &retry_runtime::RetryEvent<'_>) {
        HEARD.lock().unwrap().push((ev.attempt, ev.elapsed));
    }
    let server = FlakyServer::start().await;
    server.route(
        "/slow",
        [Reply::status(503).delayed(ms(100)), Reply::ok_body("ok")],
    );
    let client = client(RetryMiddleware::new(&API).with_notify(hook));
    let page = client.get(server.url("/slow")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let heard = HEARD.lock().unwrap().clone();
    assert_eq!(heard.len(), 1, "{heard:?}");
    // (at least the answer's 100ms; no upper bound on a loaded machine)
    assert!(heard[0].1 >= ms(100), "{heard:?}");
}

/// A policy widened to the widest guard type (`Policy::widen`, for an
/// SDK's one field type), with no breaker or throttle of its own, runs as
/// its own through the middleware: the same hits and the same lines, for
/// 503 503 200, and for a POST sent once.
#[tokio::test]
async fn a_widened_policy_runs_as_its_own() {
    use retry_runtime::WithCircuitAndThrottle;
    static WIDE: Policy<RetryOn, WithCircuitAndThrottle> = API.widen();
    let server = FlakyServer::start().await;
    let mut seen = Vec::new();
    for (n, wide) in [(0, false), (1, true)] {
        let (clip, post) = (format!("/clip{n}"), format!("/post{n}"));
        server.route(&clip, [503, 503, 200]);
        server.route(&post, [503, 200]);
        let log = capture();
        let client = match wide {
            false => client(RetryMiddleware::from_policy(API)),
            true => client(RetryMiddleware::from_policy(WIDE)),
        };
        let got = client.get(server.url(&clip)).send().await.unwrap();
        let posted = client
            .post(server.url(&post))
            .body("{}")
            .send()
            .await
            .unwrap();
        let lines: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| l.contains("api"))
            .map(|l| l.replace(&clip, "/clip").replace(&post, "/post"))
            // (each call has its own number)
            .map(|l| testkit::capture::without(&l, "call"))
            .collect();
        seen.push((
            got.status().as_u16(),
            server.hits(&clip),
            posted.status().as_u16(),
            server.hits(&post),
            lines,
        ));
    }
    let (status, hits, posted, post_hits, _) = &seen[0];
    assert_eq!((*status, *hits, *posted, *post_hits), (200, 3, 503, 1));
    // two retries, the success and the POST's line
    assert_eq!(seen[0].4.len(), 4, "{:?}", seen[0].4);
    assert_eq!(seen[1], seen[0]);
}

/// The requests sent at once through the middleware each log under a
/// `call` of their own: two GETs answered 503, 503, 200 interleave their
/// retries' lines, and a POST sent once has its line's own number.
#[tokio::test]
async fn the_lines_of_requests_sent_at_once_group_by_call() {
    let server = FlakyServer::start().await;
    for path in ["/a", "/b"] {
        server.route(path, [503, 503, 200]);
    }
    server.route("/post", [503, 200]);
    let log = capture();
    let client = client(RetryMiddleware::new(&API));
    let (a, b) = tokio::join!(
        client.get(server.url("/a")).send(),
        client.get(server.url("/b")).send()
    );
    let statuses = (a.unwrap().status().as_u16(), b.unwrap().status().as_u16());
    assert_eq!(statuses, (200, 200));
    let posted = client.post(server.url("/post")).body("{}").send().await;
    assert_eq!(posted.unwrap().status(), 503);
    let lines = log.lines();
    let call = |l: &String| testkit::capture::field(l, "call").map(str::to_owned);
    let mut calls: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines.iter().filter(|l| l.contains("operation=api")) {
        let call = call(line).unwrap_or_else(|| panic!("no call: {line}"));
        // a call's lines name one path (its retries' errors, its URL)
        let path = ["/a", "/b", "/post"]
            .into_iter()
            .find(|p| line.contains(&format!("{p} ")) || line.ends_with(p))
            .map(str::to_owned);
        match calls.iter_mut().find(|(c, _)| *c == call) {
            Some((_, paths)) => paths.extend(path),
            None => calls.push((call, path.into_iter().collect())),
        }
    }
    assert_eq!(calls.len(), 3, "{lines:#?}");
    for (call, paths) in &calls {
        assert!(
            !paths.is_empty() && paths.iter().all(|p| *p == paths[0]),
            "call {call}: {paths:?}\n{lines:#?}"
        );
    }
    // the GETs' lines interleave: the second line is the other call's
    let ours: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("operation=api"))
        .collect();
    assert_ne!(call(ours[0]), call(ours[1]), "{lines:#?}");
}

/// `from_policy` takes a policy whose retry condition owns its state (the
/// statuses a user's configuration retries, in a `Vec`: a condition that
/// is not `Copy`, which `with_when` says a library may hold): the client
/// is built, retries by it, and a request's own `MaxAttempts` applies
/// over it. (The middleware required a `Copy` condition, for the copy a
/// request's own limits change: `ClientBuilder::with` refused it, "the
/// trait `Middleware` is not implemented".)
#[tokio::test]
async fn a_policy_whose_condition_owns_its_state_is_kept_by_the_middleware() {
    use retry_runtime::reqwest_middleware::MaxAttempts;
    use retry_runtime::RetryIf;
    let server = FlakyServer::start().await;
    server.route("/conflict", [409, 409, 200]);
    server.route("/once", [409, 200]);
    let retried: Vec<u16> = "409,503"
        .split(',')
        .map(|code| code.parse().unwrap())
        .collect(); // from the user's configuration
    let policy = API
        .with_name("configured")
        .with_when(RetryIf(move |f: &AttemptFailure| {
            matches!(f, Failure::Response { failure, .. } if retried.contains(&failure.code))
        }));
    let client = client(RetryMiddleware::from_policy(policy));
    let resp = client.get(server.url("/conflict")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/conflict")), (200, 3));
    let once = client
        .get(server.url("/once"))
        .with_extension(MaxAttempts(1))
        .send()
        .await
        .unwrap();
    assert_eq!((once.status().as_u16(), server.hits("/once")), (409, 1));
}

/// `with_report(true)`: each response given back carries what its run
/// did, a success's attempts and a failed response's reason; without it,
/// nothing is added.
#[tokio::test]
async fn each_response_carries_its_report_when_asked() {
    use retry_runtime::response::RetryReport;
    let server = FlakyServer::start().await;
    server.route(
        "/clip",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::ok_body("clip"),
        ],
    );
    server.route("/down", [503, 503, 503]);
    server.route("/gone", [404]);
    server.route("/orders", [503]);
    server.route("/plain", [200]);
    let reporting = client(RetryMiddleware::new(&API).with_report(true));
    let report = |r: &reqwest::Response| r.extensions().get::<RetryReport>().copied();

    let ok = reporting.get(server.url("/clip")).send().await.unwrap();
    let r = report(&ok).expect("a success's report");
    assert_eq!(
        (ok.status(), r.attempts, r.gave_up),
        (StatusCode::OK, 3, None)
    );
    assert!(r.elapsed >= ms(100), "two 50ms waits: {:?}", r.elapsed);

    let down = reporting.get(server.url("/down")).send().await.unwrap();
    let r = report(&down).expect("a given-up response's report");
    assert_eq!(down.status(), 503);
    assert_eq!((r.attempts, r.gave_up), (3, Some(StopReason::Attempts)));

    let gone = reporting.get(server.url("/gone")).send().await.unwrap();
    let r = report(&gone).unwrap();
    assert_eq!((r.attempts, r.gave_up), (1, Some(StopReason::Permanent)));

    let post = reporting.post(server.url("/orders")).send().await.unwrap();
    let r = report(&post).unwrap();
    assert_eq!((r.attempts, r.gave_up), (1, Some(StopReason::SentOnce)));

    // without it: no report
    let plain = client(RetryMiddleware::new(&API))
        .get(server.url("/plain"))
        .send()
        .await
        .unwrap();
    assert_eq!(report(&plain), None);
}

/// Another middleware's error is never taken for a refused connection of
/// this request, even with `with_retry_refused(true)`: it may come after
/// the request was sent (an audit call refused after the server applied
/// the POST, reported inside `Error::Middleware` or as reqwest's own error
/// for the audit's URL), or before (a token fetch): either way the POST is
/// sent once. (Reviews found the first two sent 3 times.)
#[tokio::test]
async fn a_post_is_sent_once_when_another_middleware_reports_a_refused_connection() {
    let server = FlakyServer::start().await;
    server.route("/orders", [Reply::status(201)]);
    let audited = ClientBuilder::new(reqwest::Client::builder().no_proxy().build().unwrap())
        .with(RetryMiddleware::new(&API).with_retry_refused(true))
        .with(AuditAfterSend)
        .build();
    let err = audited
        .post(server.url("/orders"))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("audit record"), "{err:#}");
    assert_eq!(server.hits("/orders"), 1);

    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let audited = ClientBuilder::new(no_redirects)
        .with(RetryMiddleware::new(&API).with_retry_refused(true))
        .with(AuditByReqwest)
        .build();
    let err = audited
        .post(server.url("/orders"))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, reqwest_middleware::Error::Reqwest(e) if e.is_connect()),
        "{err:?}"
    );
    assert_eq!(server.hits("/orders"), 2);

    let calls = std::sync::Arc::default();
    let tokenless = ClientBuilder::new(reqwest::Client::builder().no_proxy().build().unwrap())
        .with(RetryMiddleware::new(&API).with_retry_refused(true))
        .with(FailsTwice {
            calls: std::sync::Arc::clone(&calls),
            make: Box::new(|| {
                anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
                    .context("fetching a token")
            }),
            fails: 1,
        })
        .build();
    let err = tokenless
        .post(server.url("/orders"))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("fetching a token"), "{err:#}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// With `with_retry_refused(true)`, a refused POST with a streamed body is
/// sent once because of its body (no copy of it exists), and the line
/// says so, not "its method". (A review found the method's reason, and
/// its advice to mark the request `Idempotent`, which would not help.)
#[tokio::test]
async fn a_refused_streamed_post_says_its_body_is_why() {
    let logs = capture();
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("chunk")]);
    let _ = retrying_refused(&API)
        .post(refused_url("/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap_err();
    let line = logs.assert_logged(Level::WARN, "api not retried");
    assert!(line.contains("its body is a stream"), "{line}");
}

#[tokio::test]
async fn post_is_not_retried_unless_asked() {
    let server = FlakyServer::start().await;
    for path in ["/plain", "/marked", "/any", "/undone"] {
        server.route(path, [Reply::status(503), Reply::status(201)]);
    }
    let logs = capture();
    let plain = client(RetryMiddleware::new(&API));
    let resp = plain
        .post(server.url("/plain"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/plain")),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
    let line = logs.assert_logged(Level::WARN, "not retried");
    assert!(line.contains("its method is not idempotent"), "{line}");
    // a plain policy's run reads no clock: no time to show
    assert_eq!(testkit::capture::field(&line, "elapsed_ms"), None, "{line}");

    let resp = plain
        .post(server.url("/marked"))
        .with_extension(Idempotent)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/marked")),
        (StatusCode::CREATED, 2)
    );

    let any = client(RetryMiddleware::new(&API).with_any_method(true));
    let resp = any
        .post(server.url("/any"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/any")),
        (StatusCode::CREATED, 2)
    );

    // the flag turned off again: sent once, as by default
    let undone = client(
        RetryMiddleware::new(&API)
            .with_any_method(true)
            .with_any_method(false),
    );
    let resp = undone
        .post(server.url("/undone"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/undone")),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
}

/// A quiet policy (`Levels::QUIET`, an SDK's over its user's:
/// docs/in-a-library.md) keeps its sent-once line at its give-up level when that is
/// quieter than WARN, as a budget's refusal and a shutdown's are: a POST
/// the policy would retry is the run's give-up, not a line of its own at
/// WARN in the user's logs. The default stays WARN.
#[tokio::test]
async fn a_quiet_policys_sent_once_line_takes_its_give_up_level() {
    const QUIET: Policy<RetryOn> = API
        .with_name("api_quiet_post")
        .with_default_levels(retry_runtime::Levels::QUIET);
    let server = FlakyServer::start().await;
    server.route("/orders", [Reply::status(503), Reply::status(201)]);
    server.route("/loud", [Reply::status(503), Reply::status(201)]);
    let logs = capture();
    let resp = client(RetryMiddleware::from_policy(QUIET))
        .post(server.url("/orders"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let line = logs.assert_logged(Level::DEBUG, "api_quiet_post not retried");
    assert!(line.contains("its method is not idempotent"), "{line}");
    for level in [Level::INFO, Level::WARN, Level::ERROR] {
        assert!(
            logs.matching(level, "api_quiet_post").is_empty(),
            "{level}: {:?}",
            logs.at(level)
        );
    }
    // a give-up level louder than WARN: the line stays WARN
    let loud = API.with_name("api_loud_post");
    let _ = client(RetryMiddleware::from_policy(loud))
        .post(server.url("/loud"))
        .body("{}")
        .send()
        .await
        .unwrap();
    logs.assert_logged(Level::WARN, "api_loud_post not retried");
}

/// A POST the policy would retry (a 503, attempts left) is sent once: the
/// run gives up because the request cannot be sent again, not because the
/// attempts ran out. The hook and the metrics say so, with the policy's
/// limit, and the one line is the WARN that says why: no ERROR line.
#[test]
fn a_post_sent_once_is_not_reported_as_attempts_exhausted() {
    const POST: Policy<RetryOn> = API
        .with_name("api_post_sent_once")
        .with_on_give_up(crate::note_give_up);
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let server = FlakyServer::start().await;
        server.route("/orders", [Reply::status(503), Reply::status(201)]);
        let resp = client(RetryMiddleware::new(&POST))
            .post(server.url("/orders"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(
            (resp.status(), server.hits("/orders")),
            (StatusCode::SERVICE_UNAVAILABLE, 1)
        );
    });
    assert_eq!(
        crate::give_ups("api_post_sent_once"),
        [(StopReason::SentOnce, 1, 3)]
    );
    assert_eq!(
        crate::outcome(&recorded, "api_post_sent_once"),
        ["sent_once"]
    );
    let errors = logs.at(Level::ERROR);
    assert!(errors.is_empty(), "{errors:#?}");
    let line = logs.assert_logged(Level::WARN, "api_post_sent_once not retried");
    assert!(line.contains("its method is not idempotent"), "{line}");
    testkit::capture::assert_fields(&line, &[("attempt", "1"), ("max_attempts", "3")]);
    // a run with a callback reads the clock at its start: the line says
    // how long the call took
    let elapsed = testkit::capture::field(&line, "elapsed_ms");
    assert!(
        elapsed.is_some_and(|ms| ms.parse::<u64>().is_ok()),
        "{line}"
    );
}

/// A GET answered 503 every time ends when the policy's attempts run out:
/// that is still `Attempts`, with its ERROR line and outcome.
#[test]
fn the_policys_own_last_attempt_still_exhausts_the_attempts() {
    const GET: Policy<RetryOn> = API
        .with_name("api_get_exhausted")
        .with_on_give_up(crate::note_give_up);
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let server = FlakyServer::start().await;
        server.route("/clip", vec![Reply::status(503); 3]);
        let resp = client(RetryMiddleware::new(&GET))
            .get(server.url("/clip"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (resp.status(), server.hits("/clip")),
            (StatusCode::SERVICE_UNAVAILABLE, 3)
        );
    });
    assert_eq!(
        crate::give_ups("api_get_exhausted"),
        [(StopReason::Attempts, 3, 3)]
    );
    assert_eq!(
        crate::outcome(&recorded, "api_get_exhausted"),
        ["attempts_exhausted"]
    );
    let line = logs.assert_logged(Level::ERROR, "api_get_exhausted failed after 3 attempts");
    testkit::capture::assert_fields(
        &line,
        &[("max_attempts", "3"), ("reason", "attempts exhausted")],
    );
    logs.assert_not_logged("sent once");
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let logs = capture();
    let err = client(RetryMiddleware::new(&API))
        .get(refused_url("/clip"))
        .send()
        .await
        .unwrap_err();
    match &err {
        reqwest_middleware::Error::Reqwest(e) => assert_eq!(e.kind(), ErrorKind::Connect, "{e:?}"),
        other => panic!("expected reqwest's error, got {other:?}"),
    }
    assert_eq!(logs.matching(Level::WARN, "retrying api").len(), 2);
    let line = logs.assert_logged(Level::ERROR, "api failed after 3 attempts");
    // reqwest's own message is "error sending request for url (..)": the
    // line shows the causes, which say why
    let error = testkit::capture::field(&line, "error")
        .unwrap_or_default()
        .to_lowercase();
    assert!(error.starts_with("error sending request"), "{line}");
    assert!(error.contains("connection refused"), "{line}");
}

#[tokio::test]
async fn a_slow_attempt_times_out_and_is_retried() {
    let server = FlakyServer::start().await;
    server.route(
        "/slow",
        [Reply::delay(Duration::from_secs(2)), Reply::ok_body("fast")],
    );
    let client = client(RetryMiddleware::new(&API).with_timeout(ms(150)));
    let resp = client.get(server.url("/slow")).send().await.unwrap();
    assert_eq!((resp.status(), server.hits("/slow")), (StatusCode::OK, 2));
}

/// `with_timeout` is shortened to the time left before the run's
/// deadline (a request's own `MaxElapsed`, its caller's): a retry started
/// 50ms into a 400ms deadline has what is left of it, not the 5s limit,
/// and the run ends at the deadline, its error the limit the attempt had.
/// Without a deadline, the whole limit.
#[tokio::test]
async fn an_attempts_timeout_is_cut_to_the_time_left_before_the_deadline() {
    use retry_runtime::reqwest_middleware::MaxElapsed;
    use retry_runtime::AttemptTimeout;
    let server = FlakyServer::start().await;
    server.route(
        "/late",
        [Reply::status(503), Reply::delay(Duration::from_secs(3))],
    );
    server.route("/whole", [Reply::ok_body("slow").delayed(ms(600))]);
    let logs = capture();
    let client = client(RetryMiddleware::new(&API).with_timeout(Duration::from_secs(5)));
    let started = Instant::now();
    let err = client
        .get(server.url("/late"))
        .with_extension(MaxElapsed(ms(400)))
        .send()
        .await
        .unwrap_err();
    let timed_out = match &err {
        reqwest_middleware::Error::Middleware(e) => e.downcast_ref::<AttemptTimeout>().copied(),
        reqwest_middleware::Error::Reqwest(_) => None,
    };
    let after = timed_out.expect("the attempt's timeout").after;
    assert!(after > ms(0) && after <= ms(350), "{after:?}");
    assert_eq!(server.hits("/late"), 2);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    logs.assert_logged(
        Level::ERROR,
        "api failed after 2 attempts (deadline reached)",
    );
    // no deadline: the whole limit
    let whole = client.get(server.url("/whole")).send().await.unwrap();
    assert_eq!(whole.text().await.unwrap(), "slow");
}

/// A retry whose wait ended past the deadline (a busy runtime woke it
/// late; its wait was decided to end before it) has no time left: it is
/// not made (its breaker not asked, its budget token back), and the run
/// ends on the deadline after the one attempt it made, where it was sent
/// with the whole 5s limit and its 3s answer given back long past the
/// caller's 200ms (and then, judged as a second attempt timed out after
/// 0, counted as one: as the tower layer's twin).
#[tokio::test]
async fn a_retry_woken_past_the_deadline_is_not_sent_with_the_whole_limit() {
    use retry_runtime::reqwest_middleware::MaxElapsed;
    use retry_runtime::AttemptTimeout;
    /// Wakes 300ms late from the 50ms backoff (a loaded runtime); times
    /// the per-attempt limit as asked.
    #[derive(Clone, Copy, Debug)]
    struct WakesLate;
    impl retry_runtime::Sleeper for WakesLate {
        type Sleep = tokio::time::Sleep;
        fn sleep(&self, wait: Duration) -> tokio::time::Sleep {
            tokio::time::sleep(if wait == ms(50) { ms(350) } else { wait })
        }
    }
    const LATE: Policy<RetryOn> = API.with_name("woken_late");
    let server = FlakyServer::start().await;
    server.route(
        "/late",
        [Reply::status(503), Reply::delay(Duration::from_secs(3))],
    );
    let logs = capture();
    let client = client(
        RetryMiddleware::new(&LATE)
            .with_timeout(Duration::from_secs(5))
            .sleep_with(WakesLate),
    );
    let started = Instant::now();
    let answer = client
        .get(server.url("/late"))
        .with_extension(MaxElapsed(ms(200)))
        .send()
        .await;
    assert!(
        far_below(started.elapsed(), Duration::from_secs(3)),
        "{:?}: {:?}",
        started.elapsed(),
        answer.as_ref().map(reqwest::Response::status)
    );
    let timed_out = match &answer {
        Err(reqwest_middleware::Error::Middleware(e)) => {
            e.downcast_ref::<AttemptTimeout>().copied()
        }
        _ => None,
    };
    assert_eq!(timed_out, Some(AttemptTimeout::new(Duration::ZERO)));
    assert_eq!(server.hits("/late"), 1, "the late retry was sent");
    logs.assert_logged(
        Level::ERROR,
        "woken_late failed after 1 attempt (deadline reached)",
    );
}

/// An attempt the caller's deadline cut (`with_timeout` shortened to a
/// request's `MaxElapsed`) is the caller's, not the upstream's failure: a
/// healthy upstream that answers in 300ms, called twice by callers with
/// 100ms left, must not open the breaker every other caller shares (it
/// did: each cut was recorded as a `Timeout` failure, and the third call,
/// with no deadline, was turned away with `CircuitOpen`).
#[tokio::test]
async fn an_attempt_the_deadline_cut_does_not_open_the_breaker() {
    use retry_runtime::reqwest_middleware::MaxElapsed;
    use retry_runtime::{CircuitBreaker, WithCircuit};
    static UPSTREAM: CircuitBreaker = CircuitBreaker::new("deadline_cut").with_failures(2);
    static GUARDED: Policy<RetryOn, WithCircuit> =
        API.with_name("deadline_cut").with_circuit(&UPSTREAM);
    let server = FlakyServer::start().await;
    server.route("/slow", [Reply::ok_body("slow").delayed(ms(300))]);
    let client = client(RetryMiddleware::new(&GUARDED).with_timeout(Duration::from_secs(5)));
    for _ in 0..2 {
        let hurried = client
            .get(server.url("/slow"))
            .with_extension(MaxElapsed(ms(100)))
            .send()
            .await;
        assert!(hurried.is_err(), "cut at the caller's deadline");
    }
    let patient = client.get(server.url("/slow")).send().await;
    assert_eq!(
        patient
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string()),
        Ok(200),
        "{:?}",
        UPSTREAM.stats()
    );
    assert_eq!(UPSTREAM.stats().failures, 0);
}

/// The attempt the deadline cut ends the run on the deadline, as
/// `with_timeout`'s rustdoc says of every policy: under one that retries
/// `Unavailable` only too (the cut `Timeout` was judged by its kind, a
/// "non-retriable error" WARN with `outcome=permanent_error`, no ERROR
/// give-up line).
#[tokio::test]
async fn an_attempt_the_deadline_cut_ends_the_run_on_the_deadline_whatever_the_policy_retries() {
    use retry_runtime::reqwest_middleware::MaxElapsed;
    const BUSY_ONLY: Policy<RetryOn> = API
        .retry_on(retry_runtime::kinds![Unavailable])
        .with_name("busy_only");
    let server = FlakyServer::start().await;
    server.route(
        "/late",
        [Reply::status(503), Reply::delay(Duration::from_secs(3))],
    );
    let logs = capture();
    let client = client(RetryMiddleware::new(&BUSY_ONLY).with_timeout(Duration::from_secs(5)));
    let cut = client
        .get(server.url("/late"))
        .with_extension(MaxElapsed(ms(400)))
        .send()
        .await;
    assert!(cut.is_err());
    logs.assert_logged(
        Level::ERROR,
        "busy_only failed after 2 attempts (deadline reached)",
    );
}

/// `sleep_with`'s sleeper also times `with_timeout`: one that does not
/// wait (a test's) ends every attempt at once, before its request is sent,
/// as docs/testing.md and the rustdoc of `sleep_with` say.
/// Without `with_timeout`, the same middleware retries, its waits
/// recorded by `testing::pause()`.
#[tokio::test]
async fn a_sleeper_that_does_not_wait_times_every_attempt_out_at_once() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::status(503), Reply::ok_body("clip")]);
    let paused = retry_runtime::testing::pause();
    let timed = RetryMiddleware::new(&API)
        .with_timeout(Duration::from_secs(2))
        .sleep_with(NoWait);
    let err = client(timed)
        .get(server.url("/clip"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "attempt timed out after 2s");
    assert_eq!(server.hits("/clip"), 0);
    assert_eq!(paused.waits(), [ms(50), ms(50)]); // 3 attempts, all timed out

    let paused = retry_runtime::testing::pause();
    let resp = client(RetryMiddleware::new(&API).sleep_with(NoWait))
        .get(server.url("/clip"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(server.hits("/clip"), 2);
    assert_eq!(paused.waits(), [ms(50)]);
}

/// A streamed body cannot be sent again: the request is sent once, the
/// log says why, and the caller gets the 503.
#[tokio::test]
async fn a_streamed_body_is_sent_once() {
    let server = FlakyServer::start().await;
    server.route("/upload", [Reply::status(503), Reply::status(204)]);
    let logs = capture();
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("chunk")]);
    let resp = client(RetryMiddleware::new(&API))
        .put(server.url("/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/upload")),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
    let line = logs.assert_logged(Level::WARN, "not retried");
    assert!(line.contains("its body is a stream"), "{line}");
    testkit::capture::assert_fields(&line, &[("attempt", "1"), ("error_kind", "Unavailable")]);
}

/// The same 429 through reqwest-retry: it retries after its own backoff,
/// not after the second the server asked for.
#[tokio::test]
async fn reqwest_retry_ignores_retry_after_where_ours_honours_it() {
    use reqwest_retry::policies::ExponentialBackoff;
    use reqwest_retry::RetryTransientMiddleware;
    let server = FlakyServer::start().await;
    server.route("/ours", [Reply::retry_after_secs(1), Reply::ok_body("ok")]);
    server.route(
        "/theirs",
        [Reply::retry_after_secs(1), Reply::ok_body("ok")],
    );
    let resp = client(RetryMiddleware::new(&API))
        .get(server.url("/ours"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ours = server.gaps("/ours");
    assert!(ours.len() == 1 && waited(ours[0], ms(1000)), "{ours:?}");

    let policy = ExponentialBackoff::builder()
        .retry_bounds(ms(20), ms(50))
        .build_with_max_retries(2);
    let theirs = ClientBuilder::new(reqwest::Client::builder().no_proxy().build().unwrap())
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .build();
    let resp = theirs.get(server.url("/theirs")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/theirs");
    assert!(gaps.len() == 1 && gaps[0] < ms(500), "{gaps:?}");
}

/// A half-open breaker's probe sent through the middleware and cut off in
/// flight (a timeout around the call) is told to the breaker as made with
/// no outcome: the next request probes at once, where it was turned away
/// for another recovery timeout.
#[tokio::test]
async fn a_probe_cut_off_in_flight_gives_its_slot_back() {
    use retry_runtime::circuit::{CircuitBreaker, CircuitState};
    use retry_runtime::clock::ManualClock;
    static CLOCK: ManualClock = ManualClock::new();
    static BREAKER: CircuitBreaker = CircuitBreaker::new("mw-cut-off")
        .with_failures(1)
        .with_recovery(Duration::from_secs(30))
        .with_clock(&CLOCK);
    let server = FlakyServer::start().await;
    server.route(
        "/probe",
        [
            Reply::status(503),
            Reply::ok_body("late").delayed(Duration::from_secs(30)),
            Reply::ok_body("ok"),
        ],
    );
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    let guarded = const { &API.with_max_attempts(1).with_circuit(&BREAKER) };
    let client = ClientBuilder::new(inner)
        .with(RetryMiddleware::new(guarded))
        .build();
    let resp = client.get(server.url("/probe")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(BREAKER.state(), CircuitState::Open);

    CLOCK.advance(Duration::from_secs(30));
    let cut_off = tokio::time::timeout(ms(200), client.get(server.url("/probe")).send());
    assert!(cut_off.await.is_err());
    assert_eq!(BREAKER.state(), CircuitState::HalfOpen);
    // the cut-off probe reached the server (its late reply is spent)
    assert_eq!(server.hits("/probe"), 2);
    let resp = client.get(server.url("/probe")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "ok");
    assert_eq!(BREAKER.state(), CircuitState::Closed);
}

/// reqwest's error writes its URL whole (`error sending request for url
/// (...)`); an API key in the query was in every WARN and the ERROR line.
/// The lines show the query's values masked.
#[tokio::test]
async fn a_secret_in_the_query_is_not_logged() {
    let logs = capture();
    let url = refused_url("/clip?api_key=SECRET&page=2");
    let err = client(RetryMiddleware::new(const { &API.with_name("keyed") }))
        .get(&url)
        .send()
        .await
        .unwrap_err();
    // the error handed back is reqwest's, whole: the test would see a leak
    assert!(err.to_string().contains("api_key=SECRET"), "{err}");
    assert_eq!(logs.matching(Level::WARN, "retrying keyed").len(), 2);
    let line = logs.assert_logged(Level::ERROR, "keyed failed after 3 attempts");
    let error = testkit::capture::field(&line, "error").unwrap_or_default();
    assert!(error.contains("/clip?api_key=***&page=***): "), "{line}");
    logs.assert_not_logged("SECRET");
}

/// The SRE's switch, as `from_fn` runs it: `API` while retries are on,
/// `API` with one attempt while they are off (the same name: the same
/// operation), its give-ups noted. Each test has its own switch (they run
/// in parallel).
macro_rules! switched {
    ($name:literal) => {{
        static RETRIES_OFF: AtomicBool = AtomicBool::new(false);
        fn current() -> &'static Policy<RetryOn> {
            const ON: Policy<RetryOn> = API.with_name($name).with_on_give_up(crate::note_give_up);
            if RETRIES_OFF.load(Ordering::Relaxed) {
                const { &ON.with_max_attempts(1) }
            } else {
                &ON
            }
        }
        (&RETRIES_OFF, RetryMiddleware::from_fn(current))
    }};
}

/// The switch flipped between two requests changes the second only; a
/// request under way when it flips keeps the policy it started with.
#[tokio::test]
async fn a_switch_flipped_between_requests_changes_the_later_ones_only() {
    let (off, middleware) = switched!("api_switch_flipped");
    let server = FlakyServer::start().await;
    for path in ["/first", "/under-way", "/second"] {
        server.route(path, vec![Reply::status(503); 3]);
    }
    let client = client(middleware);
    let resp = client.get(server.url("/first")).send().await.unwrap();
    assert_eq!(
        (resp.status(), server.hits("/first")),
        (StatusCode::SERVICE_UNAVAILABLE, 3)
    );

    // flipped while this request waits to retry its first 503
    let under_way = tokio::spawn(client.get(server.url("/under-way")).send());
    while server.hits("/under-way") == 0 {
        tokio::time::sleep(ms(5)).await;
    }
    // (one thread: nothing runs between the count and the flip; the run's
    // two waits of 50ms are still ahead of it)
    assert!(server.hits("/under-way") < 3);
    off.store(true, Ordering::Relaxed);
    let resp = under_way.await.unwrap().unwrap();
    assert_eq!(
        (resp.status(), server.hits("/under-way")),
        (StatusCode::SERVICE_UNAVAILABLE, 3)
    );

    let resp = client.get(server.url("/second")).send().await.unwrap();
    assert_eq!(
        (resp.status(), server.hits("/second")),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
}

/// Retries on through the switch: a 429's Retry-After is waited for as the
/// server asks, and the line says why and what failed (a `retry_if`
/// predicate reading the switch waited the backoff's 50ms, logged
/// `wait_source="backoff"` and `error_kind="unclassified"`).
#[tokio::test]
async fn with_the_switch_on_a_429s_retry_after_is_honoured() {
    let (_, middleware) = switched!("api_switch_on");
    let server = FlakyServer::start().await;
    server.route(
        "/slow-down",
        [Reply::retry_after_secs(1), Reply::ok_body("ok")],
    );
    let logs = capture();
    let resp = client(middleware)
        .get(server.url("/slow-down"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/slow-down");
    assert!(gaps.len() == 1 && waited(gaps[0], ms(1000)), "{gaps:?}");
    let line = logs.assert_logged(Level::WARN, "(Retry-After)");
    testkit::capture::assert_fields(
        &line,
        &[
            ("wait_source", "retry_after"),
            ("error_kind", "RateLimited"),
        ],
    );
}

/// Retries off through the switch: a 503 is sent once and the run ends as
/// a one-attempt policy's does, its attempts exhausted (a `retry_if`
/// predicate reading the switch made it a `permanent_error`, logged as a
/// non-retriable error).
#[test]
fn with_the_switch_off_a_503_is_sent_once_and_its_attempts_exhausted() {
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let (off, middleware) = switched!("api_switch_off");
        off.store(true, Ordering::Relaxed);
        let server = FlakyServer::start().await;
        server.route("/clip", [Reply::status(503), Reply::ok_body("clip")]);
        let resp = client(middleware)
            .get(server.url("/clip"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (resp.status(), server.hits("/clip")),
            (StatusCode::SERVICE_UNAVAILABLE, 1)
        );
    });
    assert_eq!(
        crate::give_ups("api_switch_off"),
        [(StopReason::Attempts, 1, 1)]
    );
    assert_eq!(
        crate::outcome(&recorded, "api_switch_off"),
        ["attempts_exhausted"]
    );
    let line = logs.assert_logged(Level::ERROR, "api_switch_off failed after 1 attempt");
    testkit::capture::assert_fields(&line, &[("error_kind", "Unavailable")]);
    logs.assert_not_logged("non-retriable");
}

/// A failed response's lines say which server answered: with an unnamed
/// policy (operation `api` for every dependency), "HTTP 503 Service
/// Unavailable" alone did not. The response's URL, with its query's
/// values masked as an `HttpError`'s, follows the status.
#[tokio::test]
async fn a_failed_responses_lines_say_where_it_came_from() {
    let server = FlakyServer::start().await;
    server.route("/users", [Reply::status(503), Reply::status(503)]);
    let logs = capture();
    let url = format!("{}?token=SECRET&page=2", server.url("/users"));
    let resp = client(RetryMiddleware::new(const { &API.with_max_attempts(2) }))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let shown = format!(
        "HTTP 503 Service Unavailable from {}?token=***&page=***",
        server.url("/users")
    );
    for line in [
        logs.assert_logged(Level::WARN, "retrying api"),
        logs.assert_logged(Level::ERROR, "api failed after 2 attempts"),
    ] {
        assert_eq!(
            testkit::capture::field(&line, "error"),
            Some(&*shown),
            "{line}"
        );
    }
    logs.assert_not_logged("SECRET");
}

/// Panics if a WARN or ERROR line (the run's: the flaky server logs each
/// request's path at INFO) contains `needle`.
fn assert_not_warned(logs: &testkit::capture::Captured, needle: &str) {
    let warned = [logs.at(Level::WARN), logs.at(Level::ERROR)].concat();
    assert!(!warned.is_empty());
    assert!(
        !warned.iter().any(|l| l.contains(needle)),
        "expected no WARN or ERROR line containing {needle:?}:\n{}",
        warned.join("\n")
    );
}

/// A bot's token in the path (Telegram's `/bot<token>/sendMessage`,
/// Discord's `/api/webhooks/<id>/<token>`): the lines showed it, as they
/// show any path. With `with_hide_url_path(true)` they show the origin only; the
/// caller's response has its URL whole.
#[tokio::test]
async fn with_hide_url_path_a_failed_responses_lines_show_its_origin_only() {
    let server = FlakyServer::start().await;
    server.route("/bot123:SECRET/send", [503]);
    let logs = capture();
    let url = format!("{}?chat_id=7", server.url("/bot123:SECRET/send"));
    let middleware = RetryMiddleware::new(const { &API.with_max_attempts(2).with_name("bot") })
        .with_hide_url_path(true);
    let resp = client(middleware).get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.url().as_str(), url);
    assert_eq!(server.hits("/bot123:SECRET/send"), 2);
    let shown = format!(
        "HTTP 503 Service Unavailable from http://{}/",
        server.addr()
    );
    for line in [
        logs.assert_logged(Level::WARN, "retrying bot"),
        logs.assert_logged(Level::ERROR, "bot failed after 2 attempts"),
    ] {
        assert_eq!(
            testkit::capture::field(&line, "error"),
            Some(&*shown),
            "{line}"
        );
    }
    assert_not_warned(&logs, "SECRET");
}

/// The same for an error whose message writes its URL (a refused
/// connection's): its origin in the lines, the URL whole in the error the
/// caller gets.
#[tokio::test]
async fn with_hide_url_path_an_errors_lines_show_its_origin_only() {
    let logs = capture();
    let url = refused_url("/api/webhooks/1/SECRET");
    let port = reqwest::Url::parse(&url).unwrap().port().unwrap();
    let middleware =
        RetryMiddleware::new(const { &API.with_name("hook") }).with_hide_url_path(true);
    let err = client(middleware).get(&url).send().await.unwrap_err();
    assert_eq!(err.url().map(reqwest::Url::as_str), Some(&*url));
    assert_eq!(logs.matching(Level::WARN, "retrying hook").len(), 2);
    let line = logs.assert_logged(Level::ERROR, "hook failed after 3 attempts");
    let error = testkit::capture::field(&line, "error").unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "error sending request for url (http://127.0.0.1:{port}/): "
        )),
        "{line}"
    );
    assert_not_warned(&logs, "SECRET");
}

/// A middleware added after ours that returns reqwest's error inside its
/// `anyhow::Error` (`reqwest_middleware::Error::Middleware`), whose
/// `url()` is `None`.
struct Wraps;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for Wraps {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        next.run(req, extensions).await.map_err(|e| match e {
            reqwest_middleware::Error::Reqwest(e) => {
                reqwest_middleware::Error::Middleware(e.into())
            }
            other => other,
        })
    }
}

/// Such an error's URL was logged whole: `url()` said there was none. Its
/// query's values are masked, and with `with_hide_url_path(true)` the lines show its
/// origin (the error handed back has its URL whole).
#[tokio::test]
async fn a_reqwest_error_inside_another_middlewares_error_is_masked() {
    let url = refused_url("/hooks/SECRET?key=SECRET");
    let port = reqwest::Url::parse(&url).unwrap().port().unwrap();
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    for (hide, shown) in [
        (
            false,
            format!("http://127.0.0.1:{port}/hooks/SECRET?key=***"),
        ),
        (true, format!("http://127.0.0.1:{port}/")),
    ] {
        let logs = capture();
        let middleware =
            RetryMiddleware::new(const { &API.with_max_attempts(2).with_name("wrapped") })
                .with_hide_url_path(hide);
        let client = ClientBuilder::new(inner.clone())
            .with(middleware)
            .with(Wraps)
            .build();
        let err = client.get(&url).send().await.unwrap_err();
        let reqwest_middleware::Error::Middleware(wrapped) = &err else {
            panic!("expected the wrapped error, got {err:?}");
        };
        let wrapped = wrapped.downcast_ref::<reqwest::Error>().unwrap();
        assert_eq!(wrapped.url().map(reqwest::Url::as_str), Some(&*url));
        let line = logs.assert_logged(Level::ERROR, "wrapped failed after 2 attempts");
        let error = testkit::capture::field(&line, "error").unwrap_or_default();
        assert!(
            error.starts_with(&format!("error sending request for url ({shown}): ")),
            "hide_url_path {hide}: {line}"
        );
        if hide {
            assert_not_warned(&logs, "SECRET");
        } else {
            assert_not_warned(&logs, "key=SECRET");
        }
    }
}

/// What `noted` saw of each failure: its `Display`, its `Debug`, and the
/// URL the response or the error held.
static NOTED: Mutex<Vec<(String, String, Option<String>)>> = Mutex::new(Vec::new());

/// A `retry_if` predicate that logs the failure as a user's would
/// (`tracing::debug!(?failure)`), and retries it.
fn noted(failure: &AttemptFailure) -> bool {
    let url = match failure {
        Failure::Response { response, .. } => Some(response.url().to_string()),
        Failure::Error { error, .. } => error.url().map(ToString::to_string),
        _ => None,
    };
    NOTED
        .lock()
        .unwrap()
        .push((failure.to_string(), format!("{failure:?}"), url));
    true
}

/// A predicate's `Debug` of the failure was derived: the response's
/// headers (a `Set-Cookie`) and its URL whole. It shows what the lines
/// show; with `with_hide_url_path(true)`, the origin. The predicate still reads the
/// response's URL whole; an error's as the lines show it.
#[tokio::test]
async fn a_predicates_view_of_a_failure_shows_what_the_lines_show() {
    let server = FlakyServer::start().await;
    server.route(
        "/bot123:SECRET/send",
        [Reply::status(503).with_header("set-cookie", "session=COOKIE")],
    );
    let policy = const {
        &Policy::new()
            .with_max_attempts(2)
            .with_backoff(Backoff::fixed(Duration::from_millis(50)))
            .with_name("noted")
            .retry_if(noted)
    };
    let url = format!("{}?key=SECRET", server.url("/bot123:SECRET/send"));
    let origin = format!("http://{}/", server.addr());
    let masked = format!("{}?key=***", server.url("/bot123:SECRET/send"));
    for hide in [false, true] {
        NOTED.lock().unwrap().clear();
        let middleware = RetryMiddleware::new(policy).with_hide_url_path(hide);
        let resp = client(middleware).get(&url).send().await.unwrap();
        assert_eq!(resp.url().as_str(), url);
        let noted = NOTED.lock().unwrap().clone();
        assert_eq!(noted.len(), 2, "{noted:?}");
        let shown = if hide { &origin } else { &masked };
        for (display, debug, seen) in noted {
            assert_eq!(
                display,
                format!("HTTP 503 Service Unavailable from {shown}")
            );
            assert!(
                debug.contains(&format!("url: Some(\"{shown}\")")),
                "{debug}"
            );
            assert!(!debug.contains("SECRET") || !hide, "{debug}");
            assert!(!debug.contains("key=SECRET"), "{debug}");
            assert!(!debug.contains("COOKIE"), "{debug}");
            assert_eq!(seen.as_deref(), Some(&*url));
        }
    }
    // an error: its URL is cut for as long as the run holds it
    let refused = refused_url("/bot123:SECRET/send?key=SECRET");
    let port = reqwest::Url::parse(&refused).unwrap().port().unwrap();
    NOTED.lock().unwrap().clear();
    let err = client(RetryMiddleware::new(policy).with_hide_url_path(true))
        .get(&refused)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.url().map(reqwest::Url::as_str), Some(&*refused));
    let noted = NOTED.lock().unwrap().clone();
    assert_eq!(noted.len(), 2, "{noted:?}");
    for (display, debug, seen) in noted {
        assert!(!display.contains("SECRET"), "{display}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert_eq!(seen, Some(format!("http://127.0.0.1:{port}/")));
    }
}

/// An error type of the user's, with the wait it asks for.
#[derive(Debug, thiserror::Error)]
#[error("busy, retry in {0:?}")]
struct Busy(Duration);

impl Classify for Busy {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
    fn retry_after(&self) -> Option<Duration> {
        Some(self.0)
    }
}

/// `Busy`, wrapped the way a client library wraps its causes.
#[derive(Debug, thiserror::Error)]
#[error("token refresh failed")]
struct RefreshFailed(#[source] Busy);

fn busy<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Classify> {
    e.downcast_ref::<Busy>().map(|b| b as &dyn Classify)
}

/// A middleware added after the retry middleware whose first calls fail
/// with the error `make` makes (`RefreshFailed(Busy(wait))`: an auth
/// middleware whose token service is busy), counting its calls.
struct FailsTwice {
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    make: Box<dyn Fn() -> anyhow::Error + Send + Sync>,
    // (how many first calls fail: 2, or all of them)
    fails: usize,
}

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for FailsTwice {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.fails {
            return Err(reqwest_middleware::Error::Middleware((self.make)()));
        }
        next.run(req, extensions).await
    }
}

/// `RetryMiddleware` and `FailsTwice` after it, on a plain client.
fn failing_twice(
    retry: RetryMiddleware<RetryOn>,
    wait: Duration,
) -> (
    ClientWithMiddleware,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    failing_first(retry, wait, 2)
}

/// `RetryMiddleware` and a `FailsTwice` whose first `fails` calls fail.
fn failing_first(
    retry: RetryMiddleware<RetryOn>,
    wait: Duration,
    fails: usize,
) -> (
    ClientWithMiddleware,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let calls = std::sync::Arc::default();
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = ClientBuilder::new(inner)
        .with(retry)
        .with(FailsTwice {
            calls: std::sync::Arc::clone(&calls),
            make: Box::new(move || RefreshFailed(Busy(wait)).into()),
            fails,
        })
        .build();
    (client, calls)
}

/// An error of another middleware of a type of the user's, found in its
/// chain of causes by `with_classify` (as the tower layer's finds it): its
/// kind decides, and its wait is honoured. Without it, the error is
/// `Unknown`, which `API` does not retry.
#[tokio::test]
async fn with_classify_finds_an_error_type_of_yours_in_another_middlewares_error() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::ok_body("clip")]);
    let (client, calls) = failing_twice(RetryMiddleware::new(&API).with_classify(busy), ms(300));
    let t0 = Instant::now();
    let resp = client.get(server.url("/clip")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "clip");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // the error's 300ms, not the backoff's 50ms
    assert!(waited(t0.elapsed(), ms(600)), "{:?}", t0.elapsed());

    let (client, calls) = failing_twice(RetryMiddleware::new(&API), ms(300));
    let err = client.get(server.url("/clip")).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unknown);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// Why the error of another middleware, of a type `with_classify` finds,
/// is permanent: on the middleware's give-up line (its message and its
/// `reason`), found as its kind is (the line said `Permanent` and not why).
#[tokio::test]
async fn with_classify_says_why_an_error_of_yours_is_permanent() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::ok_body("clip")]);
    let calls = std::sync::Arc::default();
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = ClientBuilder::new(inner)
        .with(RetryMiddleware::new(&API).with_classify(crate::gone))
        .with(FailsTwice {
            calls: std::sync::Arc::clone(&calls),
            make: Box::new(|| anyhow::Error::new(crate::Gone).context("token refresh failed")),
            fails: usize::MAX,
        })
        .build();
    let logs = capture();
    assert!(client.get(server.url("/clip")).send().await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let line = logs.assert_logged(
        Level::WARN,
        "failed with a non-retriable error on attempt 1 (the clip does not exist)",
    );
    assert_eq!(
        testkit::capture::field(&line, "reason"),
        Some("the clip does not exist")
    );
}

/// Inside a retried call that retries the same kinds, an error only the
/// middleware's `with_classify` knows is retried by the middleware: the
/// outer run classifies the `reqwest_middleware::Error` without it
/// (`Unknown`), so leaving the error to that run lost the retries.
#[tokio::test]
async fn inside_a_retried_call_the_middleware_retries_what_only_its_classifier_knows() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::ok_body("clip")]);
    let (client, calls) = failing_twice(RetryMiddleware::new(&API).with_classify(busy), ms(10));
    let resp = API
        .retry(|| client.get(server.url("/clip")).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// The same inside a retried call that retries every error: the outer run
/// sees the error (as Unknown) and retries it, so the middleware leaves it
/// to that run: 3 outer attempts of one middleware attempt each, not 3 x 3.
#[tokio::test]
async fn inside_a_run_retrying_every_error_the_middleware_leaves_its_classifiers_errors_to_it() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::ok_body("clip")]);
    let (client, calls) = failing_first(
        RetryMiddleware::new(&API).with_classify(busy),
        ms(1),
        usize::MAX,
    );
    let every = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    let r = every.retry(|| client.get(server.url("/clip")).send()).await;
    assert!(r.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(server.hits("/clip"), 0);
}

/// A request dropped (its caller's timeout) while the middleware waits for
/// a retry the budget granted gives the token back: the retry was not
/// made. One that ran its retries spent theirs.
#[tokio::test]
async fn a_request_dropped_in_its_wait_gives_the_budgets_token_back() {
    static BUDGET: RetryBudget = RetryBudget::new("mw-dropped");
    const DROPPED: Policy<RetryOn> = API
        .with_name("api_dropped_in_wait")
        .with_backoff(Backoff::fixed(Duration::from_millis(400)))
        .with_budget(&BUDGET);
    let server = FlakyServer::start().await;
    server.route("/busy", vec![Reply::status(503); 3]);
    let client = client(RetryMiddleware::new(&DROPPED));
    let cut = tokio::time::timeout(ms(150), client.get(server.url("/busy")).send()).await;
    assert!(cut.is_err(), "{cut:?}");
    assert_eq!(server.hits("/busy"), 1);
    let st = BUDGET.stats();
    assert_eq!((st.tokens, st.first_attempts, st.retries), (10.0, 1, 0));
    // the same request, let run: its two retries are made, their tokens spent
    server.route("/busy", vec![Reply::status(503); 3]);
    let resp = client.get(server.url("/busy")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let st = BUDGET.stats();
    assert_eq!((st.first_attempts, st.retries), (2, 2));
    assert_eq!(st.tokens, 8.0);
}

/// One middleware per upstream, each made with `from_fn` and a closure
/// (its switch and policies `&'static`, made once at start-up): flipping
/// one upstream's switch sends only its requests once.
#[tokio::test]
async fn a_closure_chooses_each_upstreams_policy_with_its_own_switch() {
    let server = FlakyServer::start().await;
    let mut clients = Vec::new();
    for name in ["users_mw_closure", "clips_mw_closure"] {
        let on: &'static Policy<RetryOn> = Box::leak(Box::new(API.with_name(name)));
        let off: &'static Policy<RetryOn> = Box::leak(Box::new(on.with_max_attempts(1)));
        let retries_off: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let middleware = RetryMiddleware::from_fn(move || {
            if retries_off.load(Ordering::Relaxed) {
                off
            } else {
                on
            }
        });
        assert_eq!(middleware.policy().name(), name);
        clients.push((client(middleware), retries_off));
    }
    for path in ["/users", "/clips"] {
        server.route(path, vec![Reply::status(503); 3]);
    }
    clients[0].1.store(true, Ordering::Relaxed);
    for ((client, _), path, hits) in [(&clients[0], "/users", 1), (&clients[1], "/clips", 3)] {
        let resp = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(
            (resp.status(), server.hits(path)),
            (StatusCode::SERVICE_UNAVAILABLE, hits),
            "{path}"
        );
    }
}

/// One client, a policy per upstream chosen from each request
/// (`from_request_fn`): each upstream's requests are retried, named and
/// logged by its own policy (a crawler's hosts, here two servers told
/// apart by their port).
#[tokio::test]
async fn a_policy_chosen_from_each_request() {
    let (slow, fast) = (FlakyServer::start().await, FlakyServer::start().await);
    static PATIENT: Policy<RetryOn> = API.with_name("patient_host").with_max_attempts(3);
    static HASTY: Policy<RetryOn> = API.with_name("hasty_host").with_max_attempts(1);
    let slow_port = slow.addr().port();
    let middleware = RetryMiddleware::from_request_fn(move |req: &reqwest::Request| {
        if req.url().port() == Some(slow_port) {
            &PATIENT
        } else {
            &HASTY
        }
    })
    .sleep_with(NoWait);
    let shown = format!("{middleware:?}");
    assert!(
        shown.starts_with("RetryMiddleware { policy: RequestPolicyFn(..),"),
        "{shown}"
    );
    let client = client(middleware);
    for server in [&slow, &fast] {
        server.route(
            "/page",
            vec![Reply::status(503), Reply::status(503), Reply::status(200)],
        );
    }
    let logs = capture();
    let slow_answer = client.get(slow.url("/page")).send().await.unwrap();
    let fast_answer = client.get(fast.url("/page")).send().await.unwrap();
    assert_eq!(
        (slow_answer.status(), slow.hits("/page")),
        (StatusCode::OK, 3)
    );
    assert_eq!(
        (fast_answer.status(), fast.hits("/page")),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
    assert_eq!(
        logs.matching(Level::WARN, "retrying patient_host after")
            .len(),
        2
    );
    assert_eq!(
        logs.matching(Level::ERROR, "hasty_host failed after 1 attempt")
            .len(),
        1
    );
}

/// The tower layer and the middleware take their policy in the same
/// forms: a `&'static Policy` (`new`), or one function that chooses it at
/// each request (`from_fn`), the same function for both.
#[test]
fn the_layer_and_the_middleware_take_the_same_policy_forms() {
    use retry_runtime::tower::RetryLayer;
    static SHARED: Policy<RetryOn> = API.with_name("shared");
    fn choose() -> &'static Policy<RetryOn> {
        &SHARED
    }
    let layer = RetryLayer::new(&SHARED);
    let middleware = RetryMiddleware::new(&SHARED);
    assert!(std::ptr::eq(layer.policy(), middleware.policy()));
    let layer = RetryLayer::from_fn(choose);
    let middleware = RetryMiddleware::from_fn(choose);
    assert!(std::ptr::eq(layer.policy(), middleware.policy()));
    assert_eq!(middleware.policy().name(), "shared");
}

static FETCHES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An `anyhow::Result` function around a call through the middleware, as
/// an application writes it: `?` takes the middleware's error into anyhow.
#[retry_runtime::retry(policy = API)]
async fn fetch_clip(client: &ClientWithMiddleware, url: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    FETCHES.fetch_add(1, Ordering::SeqCst);
    let resp = client.get(url).send().await.context("fetching the clip")?;
    Ok(resp.text().await?)
}

/// Inside an `anyhow::Result` function retried with the same policy, the
/// middleware leaves a refused connection and its own attempt's timeout to
/// that run, which sees them as the middleware does through `?` and
/// anyhow's context: one layer retries, none is lost. (The middleware's
/// error is transparent, its chain past the error it holds: it classified
/// `Unknown` there, so the call was sent once and failed.)
#[tokio::test]
async fn inside_an_anyhow_function_the_middlewares_errors_are_retried_by_the_run() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::ok_body("clip")]);
    let calls = std::sync::Arc::default();
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = ClientBuilder::new(inner)
        .with(RetryMiddleware::new(&API))
        .with(FailsTwice {
            calls: std::sync::Arc::clone(&calls),
            // a refused connection in its `anyhow::Error` (a token fetch)
            make: Box::new(|| {
                anyhow::anyhow!(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
            }),
            fails: 2,
        })
        .build();
    FETCHES.store(0, Ordering::SeqCst);
    let clip = fetch_clip(&client, &server.url("/clip")).await.unwrap();
    assert_eq!(clip, "clip");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        FETCHES.load(Ordering::SeqCst),
        3,
        "the run retries, the middleware defers"
    );

    server.route(
        "/slow",
        [Reply::delay(Duration::from_secs(2)), Reply::ok_body("fast")],
    );
    let client = self::client(RetryMiddleware::new(&API).with_timeout(ms(150)));
    FETCHES.store(0, Ordering::SeqCst);
    let clip = fetch_clip(&client, &server.url("/slow")).await.unwrap();
    assert_eq!((clip.as_str(), server.hits("/slow")), ("fast", 2));
    assert_eq!(FETCHES.load(Ordering::SeqCst), 2);
}

/// A gRPC pushback that asks not to retry, in another middleware's error
/// taken into anyhow: a run judging it (its kind, then its wait) logs its
/// line once, as for the status alone.
#[test]
fn a_pushback_in_a_middlewares_error_in_anyhow_is_logged_once() {
    let mut status = tonic::Status::unavailable("draining");
    status
        .metadata_mut()
        .insert("grpc-retry-pushback-ms", "-1".parse().unwrap());
    let error = anyhow::Error::from(reqwest_middleware::Error::Middleware(status.into()))
        .context("calling the ledger");
    let logs = capture();
    assert_eq!(
        API.decide(0, &error),
        retry_runtime::Decision::give_up(StopReason::Permanent)
    );
    let lines = logs.lines();
    let stops = lines
        .iter()
        .filter(|l| l.contains("asks not to retry"))
        .count();
    assert_eq!(stops, 1, "{lines:#?}");
}

/// `classify::never_sent` sees a connect error through the
/// `reqwest_middleware::Error` that holds it (whose `source()` skips it),
/// as `error_kind` does: a refused connection, held as reqwest's error or
/// inside another middleware's `anyhow::Error`; a reset is not one.
#[tokio::test]
async fn never_sent_sees_through_the_middlewares_error() {
    use retry_runtime::classify::{error_kind, never_sent};
    let refused = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(refused_url("/x"))
        .send()
        .await
        .unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");
    let held = reqwest_middleware::Error::Reqwest(refused);
    assert_eq!(error_kind(&held), ErrorKind::Connect);
    assert!(never_sent(&held));
    let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let other = reqwest_middleware::Error::Middleware(anyhow::Error::new(io).context("audit"));
    assert!(never_sent(&other));
    let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    assert!(!never_sent(&reqwest_middleware::Error::Middleware(
        reset.into()
    )));
}

/// A first attempt held by the cooldown is not bounded by `max_elapsed`,
/// but its wait counts toward it (the cooldown's rustdoc): a request held
/// past its policy's 500ms is sent once, and its 503 not retried.
#[tokio::test]
async fn a_first_attempt_held_past_max_elapsed_is_sent_once() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::response::RetryReport;
    static HELD: Cooldown = Cooldown::new("held-first");
    static POLICY: Policy<RetryOn> = presets::API
        .with_name("held-first")
        .with_backoff(Backoff::fixed(Duration::from_millis(50)))
        .with_jitter(Jitter::None)
        .with_max_elapsed(Duration::from_millis(500))
        .with_cooldown(&HELD);
    let server = FlakyServer::start().await;
    server.route("/a", [503, 200]);
    let client = client(RetryMiddleware::new(&POLICY).with_report(true));
    HELD.hold_for(Duration::from_millis(800));
    let start = Instant::now();
    let response = client.get(server.url("/a")).send().await.unwrap();
    assert!(
        start.elapsed() >= ms(700),
        "not held: {:?}",
        start.elapsed()
    );
    assert_eq!(
        (response.status(), server.hits("/a")),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
    let report = response.extensions().get::<RetryReport>().copied().unwrap();
    assert_eq!(
        (report.attempts, report.gave_up),
        (1, Some(StopReason::Deadline))
    );
}

/// A request the middleware holds for a shared cooldown writes the DEBUG
/// line of its wait before its first attempt (operation, cooldown,
/// `wait_ms`, `cause`), as every form does; one not held writes none.
#[tokio::test]
async fn a_held_first_attempt_through_the_middleware_logs_its_wait() {
    use retry_runtime::cooldown::Cooldown;
    static LOGGED: Cooldown = Cooldown::new("mw-logged");
    static POLICY: Policy<RetryOn> = presets::API.with_name("mw-logged").with_cooldown(&LOGGED);
    let logs = retry_runtime::testing::capture_logs().unwrap();
    let server = FlakyServer::start().await;
    server.route("/a", [200, 200]);
    let client = client(RetryMiddleware::new(&POLICY));
    let waits = || {
        let records = logs.records().into_iter();
        records
            .filter(|r| r.field("cause").is_some())
            .collect::<Vec<_>>()
    };
    let sent = client.get(server.url("/a")).send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(waits().is_empty(), "{logs}");
    LOGGED.hold_for(Duration::from_millis(300));
    let sent = client.get(server.url("/a")).send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let lines = waits();
    assert_eq!(lines.len(), 1, "{logs}");
    assert_eq!(lines[0].level(), Level::DEBUG);
    assert_eq!(lines[0].field("operation"), Some("mw-logged"));
    assert_eq!(lines[0].field("cooldown"), Some("mw-logged"));
    assert_eq!(lines[0].field("cause"), Some("hold"));
    // 300ms, less the real time since the hold
    let ms = lines[0].field_as::<u64>("wait_ms").unwrap();
    assert!((100..=300).contains(&ms), "{ms}");
}

/// A request whose breaker is forced open is refused at once: its
/// cooldown's hold (another request's 429, 2s) is not waited out first,
/// and no slot of its pace is taken (as in every form since cfe8ec3; the
/// middleware waited the hold, then refused).
#[tokio::test]
async fn a_request_its_breaker_refuses_does_not_wait_for_the_cooldown() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::CircuitBreaker;
    static OPEN: CircuitBreaker = CircuitBreaker::new("mw-open-held");
    static HELD: Cooldown = Cooldown::new("mw-open-held").with_pace(10, Duration::from_secs(1));
    static POLICY: Policy<RetryOn, retry_runtime::policy::WithCircuit> = presets::API
        .with_name("mw-open-held")
        .with_circuit(&OPEN)
        .with_cooldown(&HELD);
    let server = FlakyServer::start().await;
    server.route("/a", [200]);
    let client = client(RetryMiddleware::new(&POLICY));
    OPEN.force_open();
    HELD.hold_for(Duration::from_secs(2));
    let start = Instant::now();
    let refused = client.get(server.url("/a")).send().await;
    assert!(refused.is_err(), "the open breaker refuses the request");
    assert!(
        start.elapsed() < ms(500),
        "refused after {:?}: it waited for the cooldown",
        start.elapsed()
    );
    assert_eq!(server.hits("/a"), 0);
}

/// `testing::NoWait` under `testing::pause()`: the middleware's waits are
/// virtual, so `max_elapsed` ends its run where the waits add up to it, as
/// in production (NoWait's docs), over a real server and without a wait.
#[tokio::test]
async fn no_wait_under_pause_keeps_the_middleware_s_max_elapsed() {
    static DEADLINE: Policy<RetryOn> = Policy::new()
        .with_max_attempts(100)
        .with_backoff(Backoff::exponential(
            Duration::from_secs(1),
            Duration::from_secs(4),
        ))
        .with_max_elapsed(Duration::from_secs(10))
        .with_name("chat.deadline")
        .retry_on(retry_runtime::KindSet::TRANSIENT);
    let server = FlakyServer::start().await;
    server.route("/down", [503]);
    let paused = retry_runtime::testing::pause();
    let client = client(RetryMiddleware::new(&DEADLINE).sleep_with(NoWait));
    let resp = client.get(server.url("/down")).send().await.unwrap();
    // a fourth wait (4s) would end past 10s
    assert_eq!((resp.status().as_u16(), server.hits("/down")), (503, 4));
    let s = Duration::from_secs;
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
}

/// The middleware's runs tell a cooldown's hook (`with_on_hold`) of the
/// holds they make, with their policy's name, the wait and the kind: the
/// middleware's run holds the cooldown through the one path that tells it.
#[tokio::test]
async fn the_middleware_tells_a_cooldowns_hook_of_a_429s_hold() {
    use retry_runtime::cooldown::{Cooldown, HoldEvent};
    type Told = (&'static str, Duration, Option<ErrorKind>);
    static TOLD: Mutex<Vec<Told>> = Mutex::new(Vec::new());
    fn told(event: &HoldEvent) {
        let seen = (event.policy(), event.wait(), event.kind());
        TOLD.lock().unwrap().push(seen);
    }
    static PARTNER: Cooldown = Cooldown::new("middleware-told").with_on_hold(told);
    static POLICY: Policy<RetryOn> = API
        .with_name("middleware-told")
        .with_max_attempts(1)
        .with_cooldown(&PARTNER);
    let server = FlakyServer::start().await;
    server.route("/page", [Reply::retry_after_secs(2)]);
    let client = client(RetryMiddleware::new(&POLICY));
    let resp = client.get(server.url("/page")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        *TOLD.lock().unwrap(),
        [(
            "middleware-told",
            Duration::from_secs(2),
            Some(ErrorKind::RateLimited)
        )]
    );
    assert!(PARTNER.remaining().is_some());
}
