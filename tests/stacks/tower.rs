//! The tower layer: a hyper-util client under `RetryLayer` in a
//! `tower::ServiceBuilder`, an axum handler that calls a flaky downstream,
//! and in-process services for what a server cannot show (a body that
//! cannot be copied, a service that is not ready).

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use retry_runtime::response::{Idempotent, ResponseFailure};
use retry_runtime::tower::{
    AttemptLimit, BoxErrorsLayer, ClassifyHook, Error, NoTimeout, PolicyFn, ReplayBody, RetryLayer,
    SendOnce,
};
use retry_runtime::{
    circuit::CircuitState, kinds, Backoff, CircuitBreaker, Classify, DefaultSleeper, ErrorKind,
    Guards, KindSet, NoCircuit, Policy, RetryAfter, RetryBudget, RetryOn,
};
use testkit::capture::{capture, field};
use testkit::flaky::{refused_url, FlakyServer, Reply};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tracing::Level;

use crate::{far_below, gone, ms, waited, Gone, NoWait};

/// 4 attempts, fixed 50ms, the transient kinds; Retry-After honoured for
/// 429 and 503 up to 5s.
const FAST: Policy<RetryOn> = Policy::new()
    .with_max_attempts(4)
    .with_backoff(Backoff::fixed(Duration::from_millis(50)))
    .with_retry_after(
        RetryAfter::DEFAULT
            .with_kinds(kinds![RateLimited | Unavailable])
            .with_cap(Duration::from_secs(5)),
    )
    .with_name("clips")
    .retry_on(KindSet::TRANSIENT);

type Body = Full<Bytes>;

fn hyper_client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build_http::<Body>()
}

fn get(url: &str) -> Request<Body> {
    Request::get(url).body(Body::default()).unwrap()
}

fn post(url: &str) -> Request<Body> {
    Request::post(url)
        .body(Full::new(Bytes::from_static(b"{\"order\":1042}")))
        .unwrap()
}

/// A reqwest client (its default redirect policy) as a tower service of
/// `http::Request<String>`.
fn reqwest_service() -> impl Service<
    Request<String>,
    Response = Response<reqwest::Body>,
    Error = reqwest::Error,
    Future = impl Future<Output = Result<Response<reqwest::Body>, reqwest::Error>> + Send,
> + Clone {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    tower::service_fn(move |request: Request<String>| {
        let client = client.clone();
        async move {
            let request = reqwest::Request::try_from(request)?;
            let response = client.execute(request).await?;
            Ok::<_, reqwest::Error>(Response::<reqwest::Body>::from(response))
        }
    })
}

/// `request` through `FAST` (adjusted by `layer`, with or without a
/// per-attempt timeout) over a hyper-util client.
async fn send<T: AttemptLimit>(
    layer: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, T>,
    request: Request<Body>,
) -> Result<Response<hyper::body::Incoming>, T::CallError<hyper_util::client::legacy::Error>> {
    let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
    svc.oneshot(request).await
}

#[tokio::test]
async fn a_hyper_client_in_a_service_builder_retries_503s() {
    let server = FlakyServer::start().await;
    server.route(
        "/clip",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::ok_body("clip"),
        ],
    );
    let resp = send(FAST.layer(), get(&server.url("/clip"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"clip");
    assert_eq!(server.hits("/clip"), 3);
    let gaps = server.gaps("/clip");
    assert!(gaps.iter().all(|g| waited(*g, ms(50))), "{gaps:?}");
}

/// `with_report()`: each response the layer gives back carries what its
/// run did (the attempts, the time, why a failed response came back), with
/// a timeout and the attempt extension too; without it, nothing.
#[tokio::test]
async fn each_response_carries_its_report_when_asked() {
    use retry_runtime::response::RetryReport;
    use retry_runtime::StopReason;
    let server = FlakyServer::start().await;
    server.route("/clip", [503, 503, 200]);
    server.route("/down", [503, 503, 503, 503]);
    server.route("/gone", [404]);
    server.route("/orders", [503]);
    server.route("/plain", [200]);
    let report = |r: &Response<hyper::body::Incoming>| r.extensions().get::<RetryReport>().copied();

    let ok = send(FAST.layer().with_report(), get(&server.url("/clip")))
        .await
        .unwrap();
    let r = report(&ok).expect("a success's report");
    assert_eq!(
        (ok.status().as_u16(), r.attempts, r.gave_up),
        (200, 3, None)
    );
    assert!(r.elapsed >= ms(100), "two 50ms waits: {:?}", r.elapsed);

    let layer = FAST
        .layer()
        .with_timeout(Duration::from_secs(5))
        .with_report()
        .with_attempt_extension();
    let down = send(layer, get(&server.url("/down"))).await.unwrap();
    let r = report(&down).expect("a given-up response's report");
    assert_eq!(
        (down.status().as_u16(), r.attempts, r.gave_up),
        (503, 4, Some(StopReason::Attempts))
    );

    let gone = send(FAST.layer().with_report(), get(&server.url("/gone")))
        .await
        .unwrap();
    assert_eq!(
        report(&gone).map(|r| (r.attempts, r.gave_up)),
        Some((1, Some(StopReason::Permanent)))
    );

    let post = send(FAST.layer().with_report(), post(&server.url("/orders")))
        .await
        .unwrap();
    assert_eq!(
        report(&post).map(|r| (r.attempts, r.gave_up)),
        Some((1, Some(StopReason::SentOnce)))
    );

    let plain = send(FAST.layer(), get(&server.url("/plain")))
        .await
        .unwrap();
    assert_eq!(report(&plain), None);
}

/// A service below the layer that fails each call with `kind`, counting
/// its calls.
fn failing(
    kind: std::io::ErrorKind,
) -> (
    impl Service<Request<Body>, Response = Response<Body>, Error = std::io::Error> + Clone,
    Arc<AtomicUsize>,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let svc = tower::service_fn(move |_: Request<Body>| {
        counted.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Err::<Response<Body>, _>(std::io::Error::from(kind)))
    });
    (svc, calls)
}

/// `with_report()`: an error the layer gives back carries its run's report
/// too ([`Reported`](retry_runtime::tower::Reported)): the attempts, the
/// time, why the run stopped; its message and kind are the error's, boxed
/// too, and it derefs to the `Error` to match on.
#[tokio::test(start_paused = true)]
async fn an_error_carries_its_report_when_asked() {
    use retry_runtime::tower::Reported;
    use retry_runtime::StopReason;
    use std::io::ErrorKind::{ConnectionReset, TimedOut};
    let three = &const { FAST.with_max_attempts(3) };
    let (reset, calls) = failing(ConnectionReset);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(three).with_report())
        .service(reset);
    let err: Reported<Error<std::io::Error>> =
        svc.oneshot(get("http://clips.test/7")).await.unwrap_err();
    let report = *err.report();
    assert_eq!(
        (
            report.attempts,
            report.gave_up,
            calls.load(Ordering::SeqCst)
        ),
        (3, Some(StopReason::Attempts), 3),
        "{err:?}"
    );
    assert!(
        report.elapsed >= ms(100),
        "two 50ms waits: {:?}",
        report.elapsed
    );
    assert!(
        matches!(*err, Error::Inner(ref e) if e.kind() == ConnectionReset),
        "{err:?}"
    );
    assert_eq!(
        (err.to_string(), err.kind()),
        ("connection reset".to_string(), ErrorKind::Connect)
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert_eq!(boxed.kind(), ErrorKind::Connect);

    // a timeout given up on, with the other settings, in another order
    let hung = tower::service_fn(|_: Request<Body>| {
        std::future::pending::<Result<Response<Body>, std::io::Error>>()
    });
    let layer = RetryLayer::new(three)
        .with_report()
        .with_attempt_extension()
        .with_timeout(ms(200));
    let err = layer
        .layer(hung)
        .oneshot(get("http://clips.test/7"))
        .await
        .unwrap_err();
    assert!(
        matches!(*err, Error::Timeout(ref t) if t.after == ms(200)),
        "{err:?}"
    );
    assert_eq!(
        (err.report().attempts, err.report().gave_up),
        (3, Some(StopReason::Attempts))
    );
    assert_eq!(err.report().elapsed, ms(700), "3 timeouts, 2 waits");

    // an error the policy does not retry: once, and why
    let (timed_out, _) = failing(TimedOut);
    let not_retried = &const {
        FAST.with_max_attempts(3)
            .retry_on(retry_runtime::kinds![Unavailable])
    };
    let err = RetryLayer::new(not_retried)
        .with_report()
        .layer(timed_out)
        .oneshot(get("http://clips.test/7"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.report().attempts, err.report().gave_up),
        (1, Some(StopReason::Permanent))
    );
}

/// Without `with_report()`, the layer's error is `Error<E>`, as it always
/// was, whatever the layer's other settings and wherever its policy comes
/// from; with it, `Reported<Error<E>>` (the types are checked where the
/// calls' results are handed to `plain` and `reported`).
#[tokio::test(start_paused = true)]
async fn the_error_is_reported_only_under_with_report() {
    use retry_runtime::tower::Reported;
    use std::io::ErrorKind::ConnectionRefused;
    type E = std::io::Error;
    fn plain<R>(result: Result<R, Error<E>>) -> Error<E> {
        result.err().expect("refused")
    }
    fn reported<R>(result: Result<R, Reported<Error<E>>>) -> Reported<Error<E>> {
        result.err().expect("refused")
    }
    let once = &const { FAST.with_max_attempts(1) };
    let refused = || failing(ConnectionRefused).0;
    let url = "http://clips.test/7";
    let e = plain(
        RetryLayer::new(once)
            .layer(refused())
            .oneshot(get(url))
            .await,
    );
    assert!(matches!(e, Error::Inner(_)), "{e:?}");
    let timed = RetryLayer::new(once)
        .with_timeout(ms(100))
        .with_attempt_extension()
        .with_any_method(true);
    plain(timed.layer(refused()).oneshot(get(url)).await);
    let chosen = RetryLayer::from_fn(move || once).sleep_with(NoWait);
    plain(chosen.layer(refused()).oneshot(get(url)).await);
    let owned = RetryLayer::from_policy(*once).with_timeout(ms(100));
    plain(owned.layer(refused()).oneshot(get(url)).await);

    let e = reported(
        RetryLayer::new(once)
            .with_report()
            .layer(refused())
            .oneshot(get(url))
            .await,
    );
    assert_eq!(e.report().attempts, 1);
    let chosen = RetryLayer::from_fn(move || once)
        .with_attempt_extension()
        .with_report();
    reported(chosen.layer(refused()).oneshot(get(url)).await);
    let owned = RetryLayer::from_policy(*once)
        .with_report()
        .with_timeout(ms(100));
    let e = reported(owned.layer(refused()).oneshot(get(url)).await);
    assert!(matches!(e.into_inner(), Error::Inner(_)));
}

/// A call the breaker refuses, under `with_report()`, reports no attempt:
/// it was not made. The run that opened it reports its attempts, stopped
/// by the breaker.
#[tokio::test(start_paused = true)]
async fn a_call_the_breaker_refuses_reports_no_attempt() {
    use retry_runtime::StopReason;
    static BREAKER: CircuitBreaker = CircuitBreaker::new("reported-refusal").with_failures(2);
    let guarded = &const { FAST.with_circuit(&BREAKER) };
    let (reset, calls) = failing(std::io::ErrorKind::ConnectionReset);
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(guarded).with_report())
        .service(reset);
    let opened = svc
        .clone()
        .oneshot(get("http://clips.test/7"))
        .await
        .unwrap_err();
    assert!(matches!(*opened, Error::Inner(_)), "{opened:?}");
    assert_eq!(
        (opened.report().attempts, opened.report().gave_up),
        (2, Some(StopReason::CircuitOpen))
    );
    let refused = svc.oneshot(get("http://clips.test/7")).await.unwrap_err();
    assert!(
        matches!(*refused, Error::CircuitOpen(ref open) if open.circuit == "reported-refusal"),
        "{refused:?}"
    );
    assert_eq!(
        (
            refused.report().attempts,
            refused.report().gave_up,
            refused.report().elapsed
        ),
        (0, Some(StopReason::CircuitOpen), Duration::ZERO)
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "a refused call is not made"
    );
}

#[tokio::test]
async fn a_404_and_a_401_are_sent_once_and_handed_back() {
    let server = FlakyServer::start().await;
    server.route("/missing", [404]);
    server.route("/secret", [401]);
    for (path, status) in [("/missing", 404), ("/secret", 401)] {
        let resp = send(FAST.layer(), get(&server.url(path))).await.unwrap();
        assert_eq!(resp.status(), status);
        assert_eq!(server.hits(path), 1, "{path}");
    }
}

/// GitHub's secondary rate limit: a 403 with `Retry-After` is RateLimited
/// and waited; a 403 without one is handed back at once.
#[tokio::test]
async fn a_403_that_names_a_wait_is_rate_limited() {
    let server = FlakyServer::start().await;
    server.route(
        "/limited",
        [
            Reply::status(403).with_header("retry-after", "1"),
            Reply::ok_body("ok"),
        ],
    );
    server.route("/forbidden", [403]);
    let resp = send(FAST.layer(), get(&server.url("/limited")))
        .await
        .unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/limited")), (200, 2));
    let gaps = server.gaps("/limited");
    assert!(waited(gaps[0], ms(1000)), "{gaps:?}");
    let resp = send(FAST.layer(), get(&server.url("/forbidden")))
        .await
        .unwrap();
    assert_eq!(
        (resp.status().as_u16(), server.hits("/forbidden")),
        (403, 1)
    );
}

#[tokio::test]
async fn the_last_failed_response_is_handed_back() {
    let server = FlakyServer::start().await;
    server.route("/down", [503]);
    let resp = send(FAST.layer(), get(&server.url("/down"))).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(server.hits("/down"), 4);
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_a_date_is_honoured() {
    let server = FlakyServer::start().await;
    server.route("/secs", [Reply::retry_after_secs(1), Reply::ok_body("ok")]);
    server.route(
        "/date",
        [
            Reply::retry_after_date(Duration::from_secs(1)),
            Reply::ok_body("ok"),
        ],
    );
    let logs = capture();
    let resp = send(FAST.layer(), get(&server.url("/secs"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/secs");
    assert!(gaps.len() == 1 && waited(gaps[0], ms(1000)), "{gaps:?}");
    let line = logs.assert_logged(Level::WARN, "(Retry-After)");
    assert_eq!(field(&line, "wait_source"), Some("retry_after"));

    let resp = send(FAST.layer(), get(&server.url("/date"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/date");
    // an HTTP-date has whole seconds: within half a second of 1s
    assert!(
        gaps.len() == 1 && gaps[0] >= ms(450) && gaps[0] < ms(1900),
        "{gaps:?}"
    );
}

#[tokio::test]
async fn retry_after_is_capped_by_the_policy() {
    let server = FlakyServer::start().await;
    server.route(
        "/slow-down",
        [Reply::retry_after_secs(30), Reply::ok_body("ok")],
    );
    // (a layer's policy is `'static`: a constant one is, as it is)
    let capped = &const {
        FAST.with_retry_after(
            RetryAfter::DEFAULT
                .with_kinds(kinds![RateLimited])
                .with_cap(Duration::from_millis(200)),
        )
    };
    let resp = send(capped.layer(), get(&server.url("/slow-down")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/slow-down");
    // the cap's 200ms: not the 30s asked for, nor FAST's own cap of 5s
    assert!(
        gaps.len() == 1 && waited(gaps[0], ms(200)) && far_below(gaps[0], ms(5000)),
        "{gaps:?}"
    );
}

/// A layer whose policy retries every failure (`Policy::new()`'s,
/// `.retry_all()`) reads nothing of it, so a 429's `Retry-After` is not
/// waited: the backoff's 50ms is, where `FAST`, which classifies, waits
/// the 5s asked (its cap). The tower module's docs say so.
#[tokio::test]
async fn a_layer_that_retries_every_failure_waits_no_retry_after() {
    let server = FlakyServer::start().await;
    server.route(
        "/slow-down",
        [Reply::retry_after_secs(5), Reply::ok_body("ok")],
    );
    let every = &const { FAST.retry_all() };
    let svc = ServiceBuilder::new()
        .layer(every.layer())
        .service(hyper_client());
    let resp = svc.oneshot(get(&server.url("/slow-down"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    let gaps = server.gaps("/slow-down");
    assert!(
        gaps.len() == 1 && waited(gaps[0], ms(50)) && far_below(gaps[0], ms(5000)),
        "{gaps:?}"
    );
}

/// Negative, unreadable and absurd (a year) values are ignored: the
/// backoff's 50ms applies, and a DEBUG line says why.
#[tokio::test]
async fn bad_retry_after_values_fall_back_to_the_backoff() {
    let server = FlakyServer::start().await;
    let bad = ["-5", "soon", "31536000"];
    for (i, value) in bad.iter().enumerate() {
        let path = format!("/bad/{i}");
        server.route(
            &path,
            [
                Reply::status(429).with_header("retry-after", value),
                Reply::ok_body("ok"),
            ],
        );
    }
    let logs = capture();
    for (i, value) in bad.iter().enumerate() {
        let path = format!("/bad/{i}");
        let resp = send(FAST.layer(), get(&server.url(&path))).await.unwrap();
        assert_eq!(resp.status(), 200, "{value}");
        let gaps = server.gaps(&path);
        // the backoff's 50ms: a year is ignored, not capped to FAST's 5s
        assert!(
            gaps.len() == 1 && waited(gaps[0], ms(50)) && far_below(gaps[0], ms(5000)),
            "{value}: {gaps:?}"
        );
        logs.assert_logged(Level::DEBUG, &format!("ignoring Retry-After \"{value}\""));
    }
    assert!(logs.matching(Level::WARN, "(Retry-After)").is_empty());
}

/// OpenAI's spent window is a 429's wait only: on a 503 (whose hint FAST
/// would honour) it is not read; a reset that is not a Go duration (a bare
/// `20`, another API's seconds) is ignored with a DEBUG line naming its
/// header, and the backoff's 50ms applies.
#[tokio::test]
async fn openais_window_is_read_on_a_429_only_and_a_bad_reset_is_logged() {
    let server = FlakyServer::start().await;
    let spent = |code, reset| {
        Reply::status(code)
            .with_header("x-ratelimit-remaining-requests", "0")
            .with_header("x-ratelimit-reset-requests", reset)
    };
    server.route("/503", [spent(503, "2s"), Reply::ok_body("ok")]);
    server.route("/seconds", [spent(429, "20"), Reply::ok_body("ok")]);
    let logs = capture();
    for path in ["/503", "/seconds"] {
        let resp = send(FAST.layer(), get(&server.url(path))).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let gaps = server.gaps(path);
        assert!(
            gaps.len() == 1 && waited(gaps[0], ms(50)) && far_below(gaps[0], ms(1500)),
            "{path}: {gaps:?}"
        );
    }
    logs.assert_logged(
        Level::DEBUG,
        "ignoring x-ratelimit-reset-requests \"20\": it is not a duration",
    );
    logs.assert_not_logged("ignoring x-ratelimit-reset-requests \"2s\"");
    assert!(logs.matching(Level::WARN, "(Retry-After)").is_empty());
}

#[tokio::test]
async fn post_is_sent_once_unless_marked_idempotent_or_any_method() {
    let server = FlakyServer::start().await;
    for path in ["/plain", "/marked", "/any", "/undone"] {
        server.route(path, [Reply::status(503), Reply::status(201)]);
    }
    let logs = capture();
    let resp = send(FAST.layer(), post(&server.url("/plain")))
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

    let mut marked = post(&server.url("/marked"));
    marked.extensions_mut().insert(Idempotent);
    let resp = send(FAST.layer(), marked).await.unwrap();
    assert_eq!(
        (resp.status(), server.hits("/marked")),
        (StatusCode::CREATED, 2)
    );

    let resp = send(
        FAST.layer().with_any_method(true),
        post(&server.url("/any")),
    )
    .await
    .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/any")),
        (StatusCode::CREATED, 2)
    );
    // the flag turned off again: sent once, as by default
    let undone = FAST.layer().with_any_method(true).with_any_method(false);
    let resp = send(undone, post(&server.url("/undone"))).await.unwrap();
    assert_eq!(
        (resp.status(), server.hits("/undone")),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
    // PUT and DELETE are idempotent
    server.route("/put", [Reply::status(503), Reply::status(204)]);
    let put = Request::put(server.url("/put"))
        .body(Body::default())
        .unwrap();
    let resp = send(FAST.layer(), put).await.unwrap();
    assert_eq!(
        (resp.status(), server.hits("/put")),
        (StatusCode::NO_CONTENT, 2)
    );
}

/// A POST whose connection is refused is sent once by default (the layer
/// cannot tell whose connection was refused: below it, a client may have
/// followed a redirect after the server applied the POST); with
/// `with_retry_refused(true)` it is retried, and no line says it was sent
/// once.
#[tokio::test]
async fn a_refused_post_is_retried_only_with_retry_refused() {
    let logs = capture();
    let err = send(FAST.layer(), post(&refused_url("/orders")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    let line = logs.assert_logged(Level::WARN, "clips not retried");
    assert!(line.contains("its method is not idempotent"), "{line}");
    assert!(logs.matching(Level::WARN, "retrying clips").is_empty());

    let logs = capture();
    let err = send(
        FAST.layer().with_retry_refused(true),
        post(&refused_url("/orders")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(logs.matching(Level::WARN, "retrying clips").len(), 3);
    logs.assert_logged(Level::ERROR, "clips failed after 4 attempts");
    logs.assert_not_logged("sent once");
}

/// With `with_retry_refused(true)`, a POST refused once, then answered:
/// the refused attempt is retried, and the attempt that reached the
/// server is the last, whatever it got (a 503 is handed back, sent once;
/// a 201 is the answer). hyper-util's client sends the first attempt to a
/// port nothing listens on, the next ones to the server.
#[tokio::test]
async fn a_post_refused_then_answered_is_sent_to_the_server_once() {
    let server = FlakyServer::start().await;
    server.route("/down", [Reply::status(503), Reply::status(201)]);
    server.route("/up", [Reply::status(201)]);
    for (path, status) in [("/down", 503), ("/up", 201)] {
        let logs = capture();
        let calls = Arc::new(AtomicUsize::new(0));
        let client = hyper_client();
        let target = server.url(path);
        let first_refused = tower::service_fn(move |mut request: Request<Body>| {
            let url = if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                refused_url(path)
            } else {
                target.clone()
            };
            *request.uri_mut() = url.parse().unwrap();
            client.request(request)
        });
        let svc = ServiceBuilder::new()
            .layer(FAST.layer().with_retry_refused(true))
            .service(first_refused);
        let resp = svc.oneshot(post("http://placeholder/")).await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
        assert_eq!(server.hits(path), 1, "{path}");
        crate::assert_refused_then_reached(&logs, "clips", 4, status);
    }
}

/// A POST the server applied and answered `303 See Other`, followed by a
/// reqwest client below the layer to a host that refuses the connection:
/// the error is a connect error, but the POST reached the server. By
/// default the layer sends it once. (A review found it sent 4 times when
/// every refused POST was retried.)
#[tokio::test]
async fn a_post_answered_303_and_redirected_to_a_refused_host_is_sent_once() {
    let server = crate::redirecting_to_a_refused_host().await;
    let reqwest_client = reqwest_service();
    let err = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(reqwest_client)
        .oneshot(
            Request::post(server.url("/orders"))
                .body("{\"order\":1042}".to_owned())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(server.hits("/orders"), 1);
}

/// A body that cannot be copied.
struct Uncopied;

impl ReplayBody for Uncopied {
    fn try_clone(&self) -> Option<Self> {
        None
    }
}

/// With `with_retry_refused(true)`, a refused POST whose body cannot be
/// copied is sent once because of its body, and the line says so, not
/// "its method" (whose advice, `Idempotent`, would not help).
#[tokio::test]
async fn a_refused_post_whose_body_cannot_be_copied_says_its_body_is_why() {
    let svc = tower::service_fn(|_: Request<Uncopied>| async {
        Err::<Response<()>, _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    });
    let logs = capture();
    let _ = ServiceBuilder::new()
        .layer(FAST.layer().with_retry_refused(true))
        .service(svc)
        .oneshot(Request::post("/upload").body(Uncopied).unwrap())
        .await
        .unwrap_err();
    let line = logs.assert_logged(Level::WARN, "clips not retried");
    assert!(line.contains("its body cannot be copied"), "{line}");
}

/// `FAST` named `name`, its give-ups noted.
macro_rules! noted {
    ($name:literal) => {
        const { FAST.with_name($name).with_on_give_up(crate::note_give_up) }
    };
}

/// A run the layer cuts short because its request cannot be sent again,
/// where the policy would retry (a 503, attempts left): the hook and the
/// metrics give the reason, `SentOnce`, with the policy's limit; the one
/// line is the WARN that says why, and no ERROR line says the attempts ran
/// out.
fn assert_sent_once(
    operation: &str,
    why: &str,
    logs: &testkit::capture::Captured,
    recorded: &testkit::metrics::Recorded,
) {
    use retry_runtime::StopReason;
    assert_eq!(
        crate::give_ups(operation),
        [(StopReason::SentOnce, 1, 4)],
        "{operation}"
    );
    assert_eq!(crate::outcome(recorded, operation), ["sent_once"]);
    let errors = logs.at(Level::ERROR);
    assert!(errors.is_empty(), "{errors:#?}");
    let line = logs.assert_logged(Level::WARN, &format!("{operation} not retried"));
    assert!(line.contains(why), "{line}");
    testkit::capture::assert_fields(&line, &[("attempt", "1"), ("max_attempts", "4")]);
    // a run with a callback reads the clock at its start: the line says
    // how long the call took
    let elapsed = testkit::capture::field(&line, "elapsed_ms");
    assert!(
        elapsed.is_some_and(|ms| ms.parse::<u64>().is_ok()),
        "{line}"
    );
}

/// A quiet policy's sent-once line is at its give-up level when that is
/// quieter than WARN (as a budget's refusal and a shutdown's are): the
/// run's only give-up line, which `Levels::QUIET` lowers with the others.
/// The default stays WARN.
#[tokio::test]
async fn a_quiet_policys_sent_once_line_takes_its_give_up_level() {
    static QUIET: Policy<RetryOn> = FAST
        .with_name("clips_quiet_post")
        .with_levels(retry_runtime::Levels::QUIET);
    let server = FlakyServer::start().await;
    server.route("/orders", [Reply::status(503), Reply::status(201)]);
    let logs = capture();
    let resp = send(QUIET.layer(), post(&server.url("/orders")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let line = logs.assert_logged(Level::DEBUG, "clips_quiet_post not retried");
    assert!(line.contains("its method is not idempotent"), "{line}");
    for level in [Level::INFO, Level::WARN, Level::ERROR] {
        assert!(
            logs.matching(level, "clips_quiet_post").is_empty(),
            "{level}: {:?}",
            logs.at(level)
        );
    }
}

/// A POST to a server answering 503 is sent once, and reported as such.
#[test]
fn a_post_sent_once_is_not_reported_as_attempts_exhausted() {
    const POST: Policy<RetryOn> = noted!("clips_post_sent_once");
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let server = FlakyServer::start().await;
        server.route("/orders", [Reply::status(503), Reply::status(201)]);
        let resp = send(POST.layer(), post(&server.url("/orders")))
            .await
            .unwrap();
        assert_eq!(
            (resp.status(), server.hits("/orders")),
            (StatusCode::SERVICE_UNAVAILABLE, 1)
        );
    });
    assert_sent_once(
        "clips_post_sent_once",
        "its method is not idempotent",
        &logs,
        &recorded,
    );
}

/// A PUT whose body is in `SendOnce` is sent once, and reported as such.
#[test]
fn a_send_once_body_is_not_reported_as_attempts_exhausted() {
    const PUT: Policy<RetryOn> = noted!("clips_put_sent_once");
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let server = FlakyServer::start().await;
        server.route("/upload", [Reply::status(503), Reply::status(204)]);
        let client = Client::builder(TokioExecutor::new()).build_http::<SendOnce<Body>>();
        let req = Request::put(server.url("/upload"))
            .body(SendOnce::new(Body::from("clip")))
            .unwrap();
        let resp = ServiceBuilder::new()
            .layer(PUT.layer())
            .service(client)
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(
            (resp.status(), server.hits("/upload")),
            (StatusCode::SERVICE_UNAVAILABLE, 1)
        );
    });
    assert_sent_once(
        "clips_put_sent_once",
        "its body cannot be copied",
        &logs,
        &recorded,
    );
}

/// A GET answered 503 every time ends when the policy's attempts run out
/// (the last attempt sends the request itself, no copy): still `Attempts`,
/// with its ERROR line and outcome.
#[test]
fn the_policys_own_last_attempt_still_exhausts_the_attempts() {
    use retry_runtime::StopReason;
    const GET: Policy<RetryOn> = noted!("clips_get_exhausted");
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let server = FlakyServer::start().await;
        server.route("/clip", vec![Reply::status(503); 4]);
        let resp = send(GET.layer(), get(&server.url("/clip"))).await.unwrap();
        assert_eq!(
            (resp.status(), server.hits("/clip")),
            (StatusCode::SERVICE_UNAVAILABLE, 4)
        );
    });
    assert_eq!(
        crate::give_ups("clips_get_exhausted"),
        [(StopReason::Attempts, 4, 4)]
    );
    assert_eq!(
        crate::outcome(&recorded, "clips_get_exhausted"),
        ["attempts_exhausted"]
    );
    let line = logs.assert_logged(Level::ERROR, "clips_get_exhausted failed after 4 attempts");
    testkit::capture::assert_fields(
        &line,
        &[("max_attempts", "4"), ("reason", "attempts exhausted")],
    );
    logs.assert_not_logged("sent once");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_handed_back() {
    let logs = capture();
    let err = send(FAST.layer(), get(&refused_url("/clip")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Inner(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(logs.matching(Level::WARN, "retrying clips").len(), 3);
    let line = logs.assert_logged(Level::ERROR, "clips failed after 4 attempts");
    // hyper-util's own message is "client error (Connect)": the line shows
    // the causes, which say why
    let error = field(&line, "error").unwrap_or_default().to_lowercase();
    assert!(error.starts_with("client error (connect): "), "{line}");
    assert!(error.contains("connection refused"), "{line}");
}

/// A reqwest client under the layer: its error writes the URL whole
/// (`error sending request for url (...)`), and an API key in the query was
/// in every WARN and the ERROR line. The lines show the query's values
/// masked.
#[tokio::test]
async fn a_secret_in_the_query_of_a_reqwest_error_is_not_logged() {
    let logs = capture();
    let reqwest_client = reqwest_service();
    const KEYED: Policy<RetryOn> = FAST.with_name("keyed");
    let url = refused_url("/clip?api_key=SECRET&page=2");
    let err = ServiceBuilder::new()
        .layer(KEYED.layer())
        .service(reqwest_client)
        .oneshot(Request::get(&url).body(String::new()).unwrap())
        .await
        .unwrap_err();
    // the error handed back is reqwest's, whole: the test would see a leak
    assert!(err.to_string().contains("api_key=SECRET"), "{err}");
    assert_eq!(logs.matching(Level::WARN, "retrying keyed").len(), 3);
    let line = logs.assert_logged(Level::ERROR, "keyed failed after 4 attempts");
    let error = field(&line, "error").unwrap_or_default();
    assert!(error.contains("/clip?api_key=***&page=***): "), "{line}");
    logs.assert_not_logged("SECRET");
}

// Without `with_timeout`, a call's future holds no timer: the option
// costs nothing to a layer that does not use it. (A service whose own
// future is at least as large as the timer, so that the timer does not fit
// in the room the step keeps for the wait between attempts.)
#[test]
fn a_layer_without_a_timeout_holds_no_timer_in_its_future() {
    use std::convert::Infallible;
    use std::future::{ready, Ready};
    use tower::Layer;

    #[derive(Clone)]
    struct Answer;
    impl Service<Request<String>> for Answer {
        type Response = Response<String>;
        type Error = Infallible;
        type Future = Ready<Result<Response<String>, Infallible>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: Request<String>) -> Self::Future {
            ready(Ok(Response::new(String::new())))
        }
    }
    let request = || Request::get("/clip").body(String::new()).unwrap();
    let mut plain = FAST.layer().layer(Answer);
    let mut timed = FAST.layer().with_timeout(ms(100)).layer(Answer);
    let (plain, timed) = (
        std::mem::size_of_val(&plain.call(request())),
        std::mem::size_of_val(&timed.call(request())),
    );
    let timer = std::mem::size_of::<tokio::time::Sleep>();
    assert!(timer <= std::mem::size_of::<<Answer as Service<Request<String>>>::Future>());
    assert!(
        plain + timer <= timed,
        "{plain} B + a {timer} B timer > {timed} B"
    );
    assert!(format!("{:?}", FAST.layer()).contains("timeout: None"));
    assert!(format!("{:?}", FAST.layer().with_timeout(ms(100))).contains("timeout: Some(100ms)"));
}

#[tokio::test]
async fn a_slow_attempt_times_out_and_is_retried() {
    let server = FlakyServer::start().await;
    server.route(
        "/slow",
        [Reply::delay(Duration::from_secs(2)), Reply::ok_body("fast")],
    );
    let layer = FAST.layer().with_timeout(ms(150));
    let resp = send(layer, get(&server.url("/slow"))).await.unwrap();
    assert_eq!((resp.status(), server.hits("/slow")), (StatusCode::OK, 2));

    server.route("/always-slow", [Reply::delay(Duration::from_secs(2))]);
    let err = send(
        const { FAST.with_max_attempts(2) }
            .layer()
            .with_timeout(ms(100)),
        get(&server.url("/always-slow")),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Timeout(t) if t.after == ms(100)),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

/// `with_timeout` is shortened to the time left before the policy's
/// `max_elapsed`: a retry started 50ms into a 400ms deadline has what is
/// left of it, not the 5s limit, and the call ends at the deadline with
/// the limit the attempt had in its error; without a deadline, an attempt
/// has the whole limit.
#[tokio::test]
async fn an_attempts_timeout_is_cut_to_the_time_left_before_the_deadline() {
    let server = FlakyServer::start().await;
    server.route(
        "/late",
        [Reply::status(503), Reply::delay(Duration::from_secs(3))],
    );
    server.route("/whole", [Reply::ok_body("slow").delayed(ms(600))]);
    let logs = capture();
    let started = std::time::Instant::now();
    let err = send(
        const { FAST.with_max_elapsed(Duration::from_millis(400)) }
            .layer()
            .with_timeout(Duration::from_secs(5)),
        get(&server.url("/late")),
    )
    .await
    .unwrap_err();
    let after = match err {
        Error::Timeout(t) => t.after,
        other => panic!("expected the attempt's timeout, got {other:?}"),
    };
    assert!(after > ms(0) && after <= ms(350), "{after:?}");
    assert_eq!(server.hits("/late"), 2);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    logs.assert_logged(
        Level::ERROR,
        "clips failed after 2 attempts (deadline reached)",
    );
    let whole = send(
        FAST.layer().with_timeout(Duration::from_secs(5)),
        get(&server.url("/whole")),
    )
    .await
    .unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
}

/// An attempt the deadline cut is the deadline's, not the service's: a
/// healthy upstream answering in 300ms, called by two calls with 100ms
/// left, leaves the breaker they share closed, and a call with no
/// deadline gets its answer.
#[tokio::test]
async fn an_attempt_the_deadline_cut_does_not_open_the_breaker() {
    static UPSTREAM: CircuitBreaker = CircuitBreaker::new("tower-deadline-cut").with_failures(2);
    static HURRIED: Policy<RetryOn, retry_runtime::WithCircuit> = FAST
        .with_max_elapsed(Duration::from_millis(100))
        .with_circuit(&UPSTREAM);
    static PATIENT: Policy<RetryOn, retry_runtime::WithCircuit> = FAST.with_circuit(&UPSTREAM);
    let server = FlakyServer::start().await;
    server.route("/slow", [Reply::ok_body("slow").delayed(ms(300))]);
    for _ in 0..2 {
        let svc = ServiceBuilder::new()
            .layer(HURRIED.layer().with_timeout(Duration::from_secs(5)))
            .service(hyper_client());
        let err = svc.oneshot(get(&server.url("/slow"))).await.unwrap_err();
        assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    }
    assert_eq!(UPSTREAM.stats().failures, 0, "{:?}", UPSTREAM.stats());
    let svc = ServiceBuilder::new()
        .layer(PATIENT.layer().with_timeout(Duration::from_secs(5)))
        .service(hyper_client());
    let resp = svc.oneshot(get(&server.url("/slow"))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// `sleep_with`'s sleeper also times `with_timeout`: one that does not
/// wait (a test's) ends every attempt at once, before its request is sent,
/// as docs/testing.md and the rustdoc of `sleep_with` say.
/// Without `with_timeout`, the same layer retries, its waits recorded by
/// `testing::pause()`.
#[tokio::test]
async fn a_sleeper_that_does_not_wait_times_every_attempt_out_at_once() {
    let server = FlakyServer::start().await;
    server.route("/clip", [Reply::status(503), Reply::ok_body("clip")]);
    let paused = retry_runtime::testing::pause();
    let timed = FAST
        .layer()
        .with_timeout(Duration::from_secs(2))
        .sleep_with(NoWait);
    let svc = ServiceBuilder::new().layer(timed).service(hyper_client());
    let err = svc.oneshot(get(&server.url("/clip"))).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(t) if t.after == Duration::from_secs(2)),
        "{err:?}"
    );
    assert_eq!(server.hits("/clip"), 0);
    assert_eq!(paused.waits(), [ms(50), ms(50), ms(50)]); // 4 attempts, all timed out

    let paused = retry_runtime::testing::pause();
    let layer = FAST.layer().sleep_with(NoWait);
    let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
    let resp = svc.oneshot(get(&server.url("/clip"))).await.unwrap();
    assert_eq!((resp.status(), server.hits("/clip")), (StatusCode::OK, 2));
    assert_eq!(paused.waits(), [ms(50)]);
}

/// The breaker and the budget act on the layer's runs as on `#[retry]`'s:
/// the breaker opens and the next call is not made; the budget refuses
/// retries once spent.
#[tokio::test]
async fn the_breaker_and_the_budget_guard_the_layer() {
    static BREAKER: CircuitBreaker = CircuitBreaker::new("clips-upstream").with_failures(2);
    let server = FlakyServer::start().await;
    server.route("/down", [503]);
    let logs = capture();
    let guarded = &const { FAST.with_circuit(&BREAKER) };
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(guarded))
        .service(hyper_client());
    let resp = svc
        .clone()
        .oneshot(get(&server.url("/down")))
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/down")),
        (StatusCode::SERVICE_UNAVAILABLE, 2)
    );
    logs.assert_logged(Level::WARN, "circuit `clips-upstream` opened");
    let err = svc.oneshot(get(&server.url("/down"))).await.unwrap_err();
    assert!(
        matches!(err, Error::CircuitOpen(ref open) if open.circuit == "clips-upstream"),
        "{err:?}"
    );
    assert_eq!(server.hits("/down"), 2, "a rejected call is not made");
    // boxed (tower's Buffer above the layer boxes it), the rejection is
    // still found in the chain: the same kind and the breaker's wait
    let (kind, wait) = (err.kind(), err.retry_after());
    assert!(wait.is_some_and(|w| w > Duration::ZERO), "{wait:?}");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert_eq!((boxed.kind(), boxed.retry_after()), (kind, wait));

    static RETRIES: RetryBudget = RetryBudget::new("clips-budget");
    server.route("/spent", [503]);
    let budgeted = &const { FAST.with_budget(&RETRIES) };
    for _ in 0..2 {
        send(RetryLayer::new(budgeted), get(&server.url("/spent")))
            .await
            .unwrap();
    }
    assert_eq!(server.hits("/spent"), 8);
    let resp = send(RetryLayer::new(budgeted), get(&server.url("/spent")))
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/spent")),
        (StatusCode::SERVICE_UNAVAILABLE, 9)
    );
    logs.assert_logged(
        Level::WARN,
        "retry budget exhausted: clips gives up after attempt 1/4",
    );
}

/// A half-open breaker's probe sent through the layer and cut off in
/// flight (a timeout around the layer, a client gone) is told to the
/// breaker as made with no outcome: the next request probes at once, where
/// it was turned away for another recovery timeout.
#[tokio::test(start_paused = true)]
async fn a_probe_cut_off_in_flight_gives_its_slot_back() {
    static CLOCK: retry_runtime::clock::ManualClock = retry_runtime::clock::ManualClock::new();
    static BREAKER: CircuitBreaker = CircuitBreaker::new("cut-off")
        .with_failures(1)
        .with_recovery(Duration::from_secs(30))
        .with_clock(&CLOCK);
    // 0: 503 at once; 1: answers after a minute; 2: 200 at once
    let mode = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&mode);
    let svc = tower::service_fn(move |_req: Request<()>| {
        let mode = seen.load(Ordering::SeqCst);
        async move {
            if mode == 1 {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            let status = if mode == 0 { 503 } else { 200 };
            Ok::<_, Infallible>(Response::builder().status(status).body(()).unwrap())
        }
    });
    let guarded = &const { FAST.with_max_attempts(1).with_circuit(&BREAKER) };
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(guarded))
        .service(svc);
    let request = || Request::get("/").body(()).unwrap();
    let resp = svc.clone().oneshot(request()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(BREAKER.state(), CircuitState::Open);

    CLOCK.advance(Duration::from_secs(30));
    mode.store(1, Ordering::SeqCst);
    let cut_off = tokio::time::timeout(Duration::from_secs(1), svc.clone().oneshot(request()));
    assert!(cut_off.await.is_err());
    assert_eq!(BREAKER.state(), CircuitState::HalfOpen);
    mode.store(2, Ordering::SeqCst);
    let resp = svc.oneshot(request()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(BREAKER.state(), CircuitState::Closed);
}

/// The layer's log lines are `#[retry]`'s: the same messages, in order, for
/// the same story (the error's text differs: the attribute's error here is
/// reqwest's `HttpError`, with the URL).
#[tokio::test]
async fn the_log_lines_are_those_of_the_attribute() {
    #[retry_runtime::retry(policy = FAST)]
    async fn clips(client: &reqwest::Client, url: &str) -> Result<u16, retry_runtime::HttpError> {
        let resp = client.get(url).send().await.map_err(|_| {
            retry_runtime::HttpError::from_head(
                reqwest::StatusCode::BAD_GATEWAY,
                &Default::default(),
            )
        })?;
        Ok(retry_runtime::reqwest::error_for_status(resp)
            .await?
            .status()
            .as_u16())
    }
    let server = FlakyServer::start().await;
    server.route(
        "/layer",
        [
            Reply::status(503),
            Reply::retry_after_secs(0),
            Reply::ok_body("ok"),
        ],
    );
    server.route(
        "/attr",
        [
            Reply::status(503),
            Reply::retry_after_secs(0),
            Reply::ok_body("ok"),
        ],
    );
    let messages = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            // the runtime's lines: INFO and above, not the flaky server's
            .filter(|l| {
                ["WARN ", "INFO ", "ERROR "]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .filter(|l| !l.contains("server:"))
            .map(|l| l.split(" | ").next().unwrap_or_default().to_owned())
            .collect()
    };
    let layer_logs = capture();
    send(FAST.layer(), get(&server.url("/layer")))
        .await
        .unwrap();
    let from_layer = messages(layer_logs.lines());
    drop(layer_logs);
    let attr_logs = capture();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(clips(&client, &server.url("/attr")).await.unwrap(), 200);
    let from_attr = messages(attr_logs.lines());
    assert_eq!(from_layer, from_attr);
    assert_eq!(
        from_layer,
        [
            "WARN retrying clips after attempt 1/4 failed; next attempt in 50ms",
            "WARN retrying clips after attempt 2/4 failed; next attempt in 0ns (Retry-After)",
            "INFO clips succeeded on attempt 3",
        ]
    );
}

/// A body copied only by `try_clone` (not `Clone`): its requests are
/// copied by `ReplayBody::replay_request`'s default, part by part.
struct CopiedOnly(Bytes);

impl ReplayBody for CopiedOnly {
    fn try_clone(&self) -> Option<Self> {
        Some(CopiedOnly(self.0.clone()))
    }
}

/// What one attempt received: method, URI, version, a header, the marker
/// extension, and the body.
type Seen = (http::Method, http::Uri, http::Version, String, bool, Bytes);

fn seen<B>(req: &Request<B>, body: &Bytes) -> Seen {
    (
        req.method().clone(),
        req.uri().clone(),
        req.version(),
        req.headers()["x-request-id"].to_str().unwrap().to_owned(),
        req.extensions().get::<Idempotent>().is_some(),
        body.clone(),
    )
}

/// Three attempts (503, 503, 200) through a service that records each.
async fn attempts_seen<B: ReplayBody + Send + 'static>(
    body: B,
    bytes: fn(&B) -> Bytes,
) -> Vec<Seen> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&log);
    let svc = tower::service_fn(move |req: Request<B>| {
        let mut attempts = record.lock().unwrap();
        attempts.push(seen(&req, &bytes(req.body())));
        let status = if attempts.len() < 3 { 503 } else { 200 };
        async move { Ok::<_, Infallible>(Response::builder().status(status).body(()).unwrap()) }
    });
    let mut req = Request::post("http://downstream.test/orders?id=7")
        .version(http::Version::HTTP_2)
        .header("x-request-id", "req-7")
        .body(body)
        .unwrap();
    req.extensions_mut().insert(Idempotent);
    let resp = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(svc)
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    Arc::try_unwrap(log).unwrap().into_inner().unwrap()
}

/// Every attempt gets the whole request, whichever way it is copied: a
/// `Clone` body's request cloned at once, another's part by part.
#[tokio::test(start_paused = true)]
async fn every_attempt_gets_the_whole_request() {
    let expected = (
        http::Method::POST,
        http::Uri::from_static("http://downstream.test/orders?id=7"),
        http::Version::HTTP_2,
        "req-7".to_owned(),
        true,
        Bytes::from_static(b"{\"order\":7}"),
    );
    let cloned = attempts_seen(String::from("{\"order\":7}"), |b| Bytes::from(b.clone())).await;
    let copied = attempts_seen(CopiedOnly(Bytes::from_static(b"{\"order\":7}")), |b| {
        b.0.clone()
    })
    .await;
    for attempts in [cloned, copied] {
        assert_eq!(attempts, vec![expected.clone(); 3]);
    }
}

/// A service that answers every request 503, counts them, and checks that
/// each came with the body `expected`.
#[allow(clippy::type_complexity)]
fn always_503<B>(
    expected: &'static [u8],
    bytes: fn(&B) -> &Bytes,
) -> (
    Arc<AtomicUsize>,
    tower::util::ServiceFn<
        impl FnMut(Request<B>) -> std::future::Ready<Result<Response<()>, Infallible>> + Clone + Send,
    >,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let svc = tower::service_fn(move |req: Request<B>| {
        seen.fetch_add(1, Ordering::SeqCst);
        assert_eq!(&bytes(req.body())[..], expected);
        std::future::ready(Ok(Response::builder().status(503).body(()).unwrap()))
    });
    (calls, svc)
}

/// A body that counts the copies made of it.
struct Counted(Bytes, Arc<AtomicUsize>);

impl ReplayBody for Counted {
    fn try_clone(&self) -> Option<Self> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Some(Counted(self.0.clone(), Arc::clone(&self.1)))
    }
}

/// No copy is made for the policy's last attempt: no retry can follow it,
/// so the request itself goes.
#[tokio::test(start_paused = true)]
async fn the_last_attempt_sends_the_request_itself() {
    let (calls, svc) = always_503(b"{}", |body: &Counted| &body.0);
    let copies = Arc::new(AtomicUsize::new(0));
    let req = Request::put("/x")
        .body(Counted(Bytes::from_static(b"{}"), Arc::clone(&copies)))
        .unwrap();
    let logs = capture();
    let resp = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(svc)
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    // four attempts, three copies: the fourth sent the request itself
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(copies.load(Ordering::SeqCst), 3);
    // and no "sent once" line for it
    let lines = logs.lines();
    assert!(!lines.iter().any(|l| l.contains("sent once")), "{lines:#?}");
}

/// A policy of one attempt makes no copy at all: its first attempt is
/// its last.
#[tokio::test(start_paused = true)]
async fn a_policy_of_one_attempt_copies_nothing() {
    const ONCE: Policy<RetryOn> = FAST.with_max_attempts(1);
    let (calls, svc) = always_503(b"{}", |body: &Counted| &body.0);
    let copies = Arc::new(AtomicUsize::new(0));
    let req = Request::put("/x")
        .body(Counted(Bytes::from_static(b"{}"), Arc::clone(&copies)))
        .unwrap();
    let resp = ServiceBuilder::new()
        .layer(ONCE.layer())
        .service(svc)
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        (calls.load(Ordering::SeqCst), copies.load(Ordering::SeqCst)),
        (1, 0)
    );
}

/// A request body that cannot be copied (a stream, say).
struct OneShot(Bytes);

impl ReplayBody for OneShot {
    fn try_clone(&self) -> Option<Self> {
        None
    }
}

/// A body that cannot be copied is sent once, and the log says why.
#[tokio::test]
async fn a_body_that_cannot_be_copied_is_sent_once() {
    let (calls, svc) = always_503(b"stream", |body: &OneShot| &body.0);
    let logs = capture();
    let svc = ServiceBuilder::new().layer(FAST.layer()).service(svc);
    let req = Request::put("/upload")
        .body(OneShot(Bytes::from_static(b"stream")))
        .unwrap();
    let resp = svc.oneshot(req).await.unwrap();
    assert_eq!(
        (resp.status(), calls.load(Ordering::SeqCst)),
        (StatusCode::SERVICE_UNAVAILABLE, 1)
    );
    let line = logs.assert_logged(Level::WARN, "not retried");
    assert!(line.contains("its body cannot be copied"), "{line}");
    // the fields every line of a run carries
    testkit::capture::assert_fields(&line, &[("attempt", "1"), ("error_kind", "Unavailable")]);
}

/// A request with `body` through the layer, to a service that answers 503
/// and counts its calls: sent once (a PUT, which the policy would retry),
/// and the WARN line says why.
async fn sent_once_with<B: ReplayBody + Send + 'static>(body: B) {
    sent_once_as(http::Method::PUT, body).await;
}

/// [`sent_once_with`] for a request of `method`.
async fn sent_once_as<B: ReplayBody + Send + 'static>(method: http::Method, body: B) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let svc = tower::service_fn(move |_: Request<B>| {
        seen.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok::<_, Infallible>(
            Response::builder().status(503).body(()).unwrap(),
        ))
    });
    let logs = capture();
    let req = Request::builder()
        .method(method)
        .uri("/upload")
        .body(body)
        .unwrap();
    let resp = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(svc)
        .oneshot(req)
        .await
        .unwrap();
    let body = std::any::type_name::<B>();
    assert_eq!(
        (resp.status(), calls.load(Ordering::SeqCst)),
        (StatusCode::SERVICE_UNAVAILABLE, 1),
        "{body}"
    );
    let line = logs.assert_logged(Level::WARN, "not retried");
    assert!(line.contains("its body cannot be copied"), "{body}: {line}");
}

/// The streamed bodies of the crates the layer builds on (http-body-util's
/// boxed bodies, tonic's), and any body in `SendOnce` (axum's here), go
/// through the layer: each request is sent once, and the log says why.
/// (None of them compiled: no `ReplayBody` for a foreign body type, and the
/// orphan rule kept users from writing one.) A client built for
/// `SendOnce<_>` retries nothing: not even a GET with an empty body.
#[tokio::test]
async fn streamed_bodies_are_sent_once() {
    let full = || Full::new(Bytes::from_static(b"clip"));
    sent_once_with(full().boxed()).await;
    sent_once_with(full().boxed_unsync()).await;
    sent_once_with(tonic::body::Body::new(full())).await;
    sent_once_with(SendOnce::new(axum::body::Body::from("clip"))).await;
    sent_once_as(http::Method::GET, SendOnce::new(axum::body::Body::empty())).await;
}

/// A proxy forwards the requests it receives, bodies and all (hyper's
/// `Incoming`, a stream), through the layer and a hyper-util client to a
/// flaky upstream: each is sent once, and the log says why.
#[tokio::test]
async fn a_proxy_forwarding_incoming_bodies_sends_each_once() {
    use hyper::body::Incoming;
    use hyper_util::rt::TokioIo;

    let upstream = FlakyServer::start().await;
    upstream.route("/clips/7", [Reply::status(503), Reply::ok_body("stored")]);
    let client = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(Client::builder(TokioExecutor::new()).build_http::<Incoming>());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = upstream.url("");
    let proxy = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let forward = hyper::service::service_fn(move |req: Request<Incoming>| {
            let (mut parts, body) = req.into_parts();
            parts.uri = format!("{base}{}", parts.uri.path()).parse().unwrap();
            client.clone().oneshot(Request::from_parts(parts, body))
        });
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), forward)
            .await
    });

    let logs = capture();
    let user = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = user
        .put(format!("http://{addr}/clips/7"))
        .body("clip bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(upstream.hits("/clips/7"), 1);
    let line = logs.assert_logged(Level::WARN, "not retried");
    assert!(line.contains("its body cannot be copied"), "{line}");
    proxy.abort();
}

/// What a handler answers for the downstream's answer: its status and
/// body, or 502 with the error.
async fn relayed<B, E>(called: Result<Response<B>, E>) -> (StatusCode, String)
where
    B: hyper::body::Body,
    B::Error: std::fmt::Debug,
    E: std::fmt::Display,
{
    match called {
        Ok(resp) => {
            let status = resp.status();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

/// Serves `app` on 127.0.0.1, on a port of its own: its address, and the
/// server's task (abort it at the end).
async fn serve(
    app: axum::Router,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (
        addr,
        tokio::spawn(async move { axum::serve(listener, app).await }),
    )
}

/// A downstream whose clip 7's metadata answers 503, 503, then "cat".
async fn cat_downstream() -> FlakyServer {
    let downstream = FlakyServer::start().await;
    downstream.route(
        "/meta/7",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::ok_body("cat"),
        ],
    );
    downstream
}

/// The user asks the handler at `addr` for clip 7: it answers "cat", after
/// three calls downstream (503, 503, 200).
async fn assert_gets_the_cat(
    user: &reqwest::Client,
    addr: std::net::SocketAddr,
    downstream: &FlakyServer,
) {
    let resp = user
        .get(format!("http://{addr}/clips/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "cat");
    assert_eq!(downstream.hits("/meta/7"), 3);
}

/// A service that is not ready until a timer opens it: the layer's retries
/// wait for `poll_ready` (the waker is registered, no busy loop) before
/// each call, as tower requires.
#[derive(Clone)]
struct Gate {
    open: Arc<AtomicBool>,
    waiting: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
    readied: bool,
    /// How long the gate stays closed after each call.
    reopen: Duration,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            open: Arc::new(AtomicBool::new(false)),
            waiting: Arc::new(Mutex::new(None)),
            polls: Arc::new(AtomicUsize::new(0)),
            calls: Arc::new(AtomicUsize::new(0)),
            readied: false,
            reopen: ms(30),
        }
    }

    /// A gate that stays closed for `reopen` after each call.
    fn reopening_after(reopen: Duration) -> Gate {
        Gate {
            reopen,
            ..Gate::new()
        }
    }

    /// Close the gate now, open it in `after`.
    fn close_for(&self, after: Duration) {
        self.open.store(false, Ordering::SeqCst);
        let (open, waiting) = (Arc::clone(&self.open), Arc::clone(&self.waiting));
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            open.store(true, Ordering::SeqCst);
            if let Some(w) = waiting.lock().unwrap().take() {
                w.wake();
            }
        });
    }
}

impl Service<Request<()>> for Gate {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.open.load(Ordering::SeqCst) {
            self.readied = true;
            return Poll::Ready(Ok(()));
        }
        *self.waiting.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        assert!(self.readied, "called before poll_ready said ready");
        self.readied = false;
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        // close the gate for the retry: it must wait for it
        self.close_for(self.reopen);
        let status = if n == 0 { 503 } else { 200 };
        std::future::ready(Ok(Response::builder().status(status).body(()).unwrap()))
    }
}

#[tokio::test]
async fn a_service_that_is_not_ready_is_polled_as_tower_requires() {
    let gate = Gate::new();
    gate.close_for(ms(30));
    let policy = &const { FAST.with_backoff(Backoff::None) };
    let svc = ServiceBuilder::new()
        .layer(policy.layer())
        .service(gate.clone());
    let resp = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
    // each wait for readiness: one Pending poll, then one Ready poll after
    // the wake (a busy loop would poll thousands of times in 30ms)
    let polls = gate.polls.load(Ordering::SeqCst);
    assert!((3..=6).contains(&polls), "{polls} polls");
}

/// A retry waits for the service's readiness until the policy's
/// `max_elapsed`, not past it: a gate that stays closed for an hour after
/// the first call's 503 ends the call at 5s with `Error::NotReady`, the
/// give-up line says the deadline was reached, and the budget's token for
/// the retry not made goes back. (The wait was unbounded: after an hour of
/// paused time the call was still waiting.) A gate that opens before the
/// deadline is waited for, as without one.
#[tokio::test(start_paused = true)]
async fn a_retry_waits_for_the_service_only_until_max_elapsed() {
    use retry_runtime::tower::NotReady;
    static RETRIES: RetryBudget = RetryBudget::new("gate");
    static POLICY: Policy<RetryOn> = FAST
        .with_backoff(Backoff::None)
        .with_max_elapsed(Duration::from_secs(5))
        .with_name("gated")
        .with_budget(&RETRIES);
    let logs = capture();
    let gate = Gate::reopening_after(Duration::from_secs(3600));
    gate.open.store(true, Ordering::SeqCst);
    let svc = ServiceBuilder::new()
        .layer(POLICY.layer())
        .service(gate.clone());
    let start = tokio::time::Instant::now();
    let err = svc.oneshot(Request::new(())).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert!(
        matches!(err, Error::NotReady(NotReady { max_elapsed }) if max_elapsed == Duration::from_secs(5)),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
    let line = logs.assert_logged(
        Level::ERROR,
        "gated failed after 1 attempt (deadline reached)",
    );
    assert_eq!(
        field(&line, "error"),
        Some("the service was not ready for a retry within max_elapsed (5s)")
    );
    assert_eq!(RETRIES.stats().retries, 0, "the retry's token went back");

    // a sleeper that does not wait (docs/testing.md's `NoWait`) arms no deadline
    // that ends the wait early: its timer is ready at once, but the run's
    // clock decides, and the retry waits for the gate (it gave up at once,
    // on a 30ms gate, before the deadline was read by the clock)
    let gate = Gate::reopening_after(ms(30));
    gate.open.store(true, Ordering::SeqCst);
    let svc = ServiceBuilder::new()
        .layer(POLICY.layer().sleep_with(NoWait))
        .service(gate.clone());
    let resp = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(gate.calls.load(Ordering::SeqCst), 2);

    // opened before the deadline: the retry is made
    let gate = Gate::reopening_after(Duration::from_secs(2));
    gate.open.store(true, Ordering::SeqCst);
    let svc = ServiceBuilder::new()
        .layer(POLICY.layer())
        .service(gate.clone());
    let start = tokio::time::Instant::now();
    let resp = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
}

/// An axum handler calls a flaky downstream through the layer: the user's
/// one request gets the answer, the downstream sees three; a permanent
/// failure downstream is passed on at once.
#[tokio::test]
async fn inside_an_axum_handler_calling_a_flaky_downstream() {
    use axum::extract::{Path, State};
    use axum::routing::get as route_get;

    type Retrying = retry_runtime::tower::RetryService<Client<HttpConnector, Body>, RetryOn>;
    async fn handler(
        State((client, base)): State<(Retrying, String)>,
        Path(id): Path<String>,
    ) -> (StatusCode, String) {
        relayed(client.oneshot(get(&format!("{base}/meta/{id}"))).await).await
    }

    let downstream = cat_downstream().await;
    downstream.route("/meta/8", [404]);
    let client = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(hyper_client());
    let app = axum::Router::new()
        .route("/clips/{id}", route_get(handler))
        .with_state((client, downstream.url("")));
    let (addr, server) = serve(app).await;

    let user = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_gets_the_cat(&user, addr, &downstream).await;
    let resp = user
        .get(format!("http://{addr}/clips/8"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(downstream.hits("/meta/8"), 1);
    server.abort();
}

/// The user disconnects while the handler's run waits for a retry: hyper
/// drops the handler's future, and the run with it. No further attempt is
/// made; the run's last line is the WARN that announced the retry (no
/// give-up line, no `on_give_up`), the metrics record no outcome, and the
/// retry budget gets back the token it granted for the retry not made.
#[test]
fn a_user_gone_during_a_wait_ends_the_handlers_run() {
    use axum::extract::State;
    use axum::routing::get as route_get;
    use tokio::io::AsyncWriteExt;

    static BUDGET: RetryBudget = RetryBudget::new("gone-budget");
    const GONE: Policy<RetryOn> = FAST
        .with_name("clips_user_gone")
        .with_on_give_up(crate::note_give_up)
        // long enough that hyper sees the user leave before the wait ends,
        // on a loaded CI machine too
        .with_backoff(Backoff::fixed(Duration::from_secs(3)))
        .with_budget(&BUDGET);

    /// Sets its flag when dropped before the handler answered.
    struct Unanswered(Arc<AtomicBool>, bool);
    impl Drop for Unanswered {
        fn drop(&mut self) {
            if !self.1 {
                self.0.store(true, Ordering::SeqCst);
            }
        }
    }
    type Retrying = retry_runtime::tower::RetryService<Client<HttpConnector, Body>, RetryOn>;
    async fn handler(
        State((client, url, gone)): State<(Retrying, String, Arc<AtomicBool>)>,
    ) -> StatusCode {
        let mut guard = Unanswered(gone, false);
        let status = match client.oneshot(get(&url)).await {
            Ok(resp) => resp.status(),
            Err(_) => StatusCode::BAD_GATEWAY,
        };
        guard.1 = true;
        status
    }

    let logs = capture();
    let gone = Arc::new(AtomicBool::new(false));
    let recorded = crate::with_metrics(async {
        let downstream = FlakyServer::start().await;
        downstream.route("/meta/7", [503]);
        let client = ServiceBuilder::new()
            .layer(GONE.layer())
            .service(hyper_client());
        let app = axum::Router::new()
            .route("/clips/7", route_get(handler))
            .with_state((client, downstream.url("/meta/7"), Arc::clone(&gone)));
        let (addr, server) = serve(app).await;

        let mut user = tokio::net::TcpStream::connect(addr).await.unwrap();
        user.write_all(b"GET /clips/7 HTTP/1.1\r\nhost: clips\r\n\r\n")
            .await
            .unwrap();
        // the first attempt fails (503): the run waits 3s for the second
        while logs
            .matching(Level::WARN, "retrying clips_user_gone")
            .is_empty()
        {
            tokio::time::sleep(ms(5)).await;
        }
        let warned = tokio::time::Instant::now();
        drop(user);
        let dropped = async {
            while !gone.load(Ordering::SeqCst) {
                tokio::time::sleep(ms(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), dropped)
            .await
            .expect("hyper drops the handler's future when the user leaves");
        // past the end of the wait the second attempt would have followed
        tokio::time::sleep_until(warned + ms(3500)).await;
        assert_eq!(
            downstream.hits("/meta/7"),
            1,
            "no attempt after the user left"
        );
        server.abort();
    });
    let lines: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|line| line.contains("clips_user_gone"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("WARN retrying clips_user_gone after attempt 1/4 failed"),
        "{lines:#?}"
    );
    assert!(crate::give_ups("clips_user_gone").is_empty());
    assert!(crate::outcome(&recorded, "clips_user_gone").is_empty());
    let budget = BUDGET.stats();
    assert_eq!(
        (budget.tokens, budget.retries),
        (10.0, 0),
        "the granted retry's token goes back: the retry was not made"
    );
}

/// Retries at one layer through the tower layer: a service whose handler
/// makes a retried call of its own (3 attempts) behind the layer (4
/// attempts) reaches its dependency 4 times for a dependency that keeps
/// timing out, not 12: the inner call leaves the timeouts to the layer.
#[tokio::test(start_paused = true)]
async fn a_retried_call_inside_the_service_leaves_its_retries_to_the_layer() {
    #[derive(Debug, thiserror::Error, Classify)]
    #[error("timed out")]
    #[classify(Timeout)]
    struct TimedOut;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let svc = tower::service_fn(move |_req: Request<()>| {
        let seen = Arc::clone(&seen);
        async move {
            let inner = Policy::new()
                .with_max_attempts(3)
                .with_backoff(Backoff::None)
                .retry_on(KindSet::TRANSIENT);
            let answer: Result<(), TimedOut> = inner
                .retry(|| {
                    seen.fetch_add(1, Ordering::SeqCst);
                    async { Err(TimedOut) }
                })
                .await;
            // the handler answers 504 when its dependency timed out
            let status = if answer.is_ok() { 200 } else { 504 };
            Ok::<_, Infallible>(Response::builder().status(status).body(()).unwrap())
        }
    });
    let svc = ServiceBuilder::new().layer(FAST.layer()).service(svc);
    let resp = svc
        .oneshot(Request::get("/").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "one inner attempt per layer attempt"
    );
}

/// A service answering `statuses` in turn (then 200), counting its calls.
fn answering(
    calls: Arc<AtomicUsize>,
    statuses: &'static [u16],
) -> impl Service<
    Request<()>,
    Response = Response<()>,
    Error = Infallible,
    Future = std::future::Ready<Result<Response<()>, Infallible>>,
> + Clone {
    tower::service_fn(move |_: Request<()>| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let status = statuses.get(n).copied().unwrap_or(200);
        std::future::ready(Ok(Response::builder().status(status).body(()).unwrap()))
    })
}

/// A layered call made inside a retried call that retries the same kinds:
/// a failed response comes back as `Ok`, which the outer run takes for a
/// success, so the layer keeps its own retries for it (leaving it to the
/// outer run lost them: one 503, handed back).
#[tokio::test(start_paused = true)]
async fn inside_a_retried_call_the_layer_still_retries_failed_responses() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(answering(calls.clone(), &[503, 503]));
    let resp = FAST
        .retry(|| svc.clone().oneshot(Request::new(())))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// The same for an error that only the layer's `with_classify` knows: the
/// outer run classifies `Error::Inner` without it (Unknown here), so it
/// would not retry it; the layer does.
#[tokio::test(start_paused = true)]
async fn inside_a_retried_call_the_layer_retries_what_only_its_classifier_knows() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(FAST.layer().with_classify(busy))
        .service(failing_twice(calls.clone(), |_| Upstream(Busy(ms(10)))));
    let resp = FAST
        .retry(|| svc.clone().oneshot(Request::new(())))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// An error only the layer's `with_classify` knows, inside a retried call
/// that retries every error: the outer run sees it (as Unknown) and
/// retries it, so the layer leaves it to that run: 3 outer attempts of one
/// layer attempt each, not 3 x 4.
#[tokio::test(start_paused = true)]
async fn inside_a_run_retrying_every_error_the_layer_leaves_its_classifiers_errors_to_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let svc = ServiceBuilder::new()
        .layer(FAST.layer().with_classify(busy))
        .service(tower::service_fn(move |_: Request<()>| {
            seen.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Err::<Response<()>, _>(Upstream(Busy(ms(10)))))
        }));
    let every = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    let r = every.retry(|| svc.clone().oneshot(Request::new(()))).await;
    assert!(r.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// An error the outer run sees as the layer does is still left to it:
/// 4 outer attempts of one layer attempt each, not 16.
#[tokio::test(start_paused = true)]
async fn inside_a_retried_call_an_error_both_see_is_left_to_the_outer_run() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(tower::service_fn(move |_: Request<()>| {
            seen.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Err::<Response<()>, _>(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            )))
        }));
    let e = FAST
        .retry(|| svc.clone().oneshot(Request::new(())))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

/// A service whose errors carry their own wait: the first two calls fail
/// with `error(n)`, the third answers 200.
fn failing_twice<E: Send + 'static>(
    calls: Arc<AtomicUsize>,
    error: fn(usize) -> E,
) -> impl Service<
    Request<()>,
    Response = Response<()>,
    Error = E,
    Future = std::future::Ready<Result<Response<()>, E>>,
> + Clone {
    tower::service_fn(move |_: Request<()>| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(if n < 2 {
            Err(error(n))
        } else {
            Ok(Response::new(()))
        })
    })
}

/// A tower service whose error is a `tonic::Status` (a `service_fn` around
/// a gRPC client, say): the server's `grpc-retry-pushback-ms` is the wait,
/// as with `#[retry]` on the client call, not the policy's backoff.
#[tokio::test(start_paused = true)]
async fn a_grpc_status_error_waits_its_pushback() {
    fn unavailable(_: usize) -> tonic::Status {
        let mut status = tonic::Status::unavailable("draining");
        status
            .metadata_mut()
            .insert("grpc-retry-pushback-ms", "300".parse().unwrap());
        status
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(failing_twice(calls.clone(), unavailable));
    let t0 = tokio::time::Instant::now();
    let resp = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // two pushbacks of 300ms (the backoff would be 2 x 50ms)
    assert_eq!(t0.elapsed(), ms(600));
    // and the layer's own error type reports the hint to an outer run
    let e: Error<tonic::Status> = Error::Inner(unavailable(0));
    assert_eq!(
        (e.kind(), e.retry_after()),
        (ErrorKind::Unavailable, Some(ms(300)))
    );
}

/// An UNAVAILABLE whose pushback says not to retry (-1), for `failing_twice`.
fn draining(_: usize) -> tonic::Status {
    let mut status = tonic::Status::unavailable("draining");
    status
        .metadata_mut()
        .insert("grpc-retry-pushback-ms", "-1".parse().unwrap());
    status
}

/// A status whose pushback says not to retry (-1), through the layer inside
/// a retried call: one DEBUG line for each run that judges it (the layer,
/// then the outer run), not four (the layer classified it a second time to
/// ask whether the outer run sees it as it does, and the outer run once
/// for its kind and once more for its wait). A boxed status too.
#[tokio::test(start_paused = true)]
async fn a_pushback_that_stops_is_logged_once_per_run() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(failing_twice(calls.clone(), draining));
    let logs = capture();
    let answer = FAST.retry(|| svc.clone().oneshot(Request::new(()))).await;
    let lines = logs.lines();
    assert!(matches!(answer, Err(Error::Inner(_))));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let stops = lines
        .iter()
        .filter(|l| l.starts_with("DEBUG") && l.contains("asks not to retry"))
        .count();
    assert_eq!(stops, 2, "{lines:#?}");

    // a boxed one, judged once: one line (its kind and its wait were two)
    let logs = capture();
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(draining(0));
    assert_eq!(
        FAST.decide(0, &boxed),
        retry_runtime::Decision::give_up(retry_runtime::StopReason::Permanent)
    );
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("asks not to retry"), "{lines:#?}");
}

/// The layer's own give-up line on a status whose pushback says not to
/// retry says why, as `#[retry]`'s on the client call does and as the run
/// around the layer does (its line said only "non-retriable": the layer
/// judges the attempt's `Failure`, which said nothing of its error).
#[tokio::test(start_paused = true)]
async fn the_layers_give_up_line_on_a_stopping_pushback_says_why() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(failing_twice(calls.clone(), draining));
    let logs = capture();
    let e = svc.oneshot(Request::new(())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permanent);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    logs.assert_logged(
        Level::WARN,
        "clips failed with a non-retriable error on attempt 1 \
         (the server's grpc-retry-pushback-ms asks not to retry: negative) | ",
    );
}

#[derive(Debug, thiserror::Error)]
#[error("busy for {0:?}")]
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
#[error("upstream call failed")]
struct Upstream(#[source] Busy);

fn busy<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Classify> {
    e.downcast_ref::<Busy>().map(|b| b as &dyn Classify)
}

/// An error type of the user's, found anywhere in the error's chain of
/// causes by `with_classify`: its kind decides, and its wait is honoured.
#[tokio::test(start_paused = true)]
async fn with_classify_finds_an_error_type_of_yours_in_the_chain() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(FAST.layer().with_classify(busy))
        .service(failing_twice(calls.clone(), |n| {
            Upstream(Busy(ms(100 * (n as u64 + 1))))
        }));
    let t0 = tokio::time::Instant::now();
    let resp = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(t0.elapsed(), ms(100 + 200));

    // without it, the error is Unknown: FAST does not retry it
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .service(failing_twice(calls.clone(), |_| Upstream(Busy(ms(100)))));
    let e = svc.oneshot(Request::new(())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unknown);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// Why the error found by `with_classify` is permanent, as the layer's
/// give-up line and `on_give_up` hook tell it: the words, found by the
/// same finder as its kind (the layer's line said `Permanent` and not why).
#[tokio::test(start_paused = true)]
async fn with_classify_says_why_an_error_of_yours_is_permanent() {
    static TOLD: Mutex<Vec<Option<&'static str>>> = Mutex::new(Vec::new());
    fn told(ev: &retry_runtime::GiveUpEvent<'_>) {
        TOLD.lock().unwrap().push(ev.why_permanent());
    }
    const GONE: Policy<RetryOn> = FAST.with_name("gone").with_on_give_up(told);
    let logs = capture();
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(GONE.layer().with_classify(gone))
        .service(failing_twice(calls.clone(), |_| Upstream2(Gone)));
    assert!(svc.oneshot(Request::new(())).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let line = logs.assert_logged(
        Level::WARN,
        "gone failed with a non-retriable error on attempt 1 (the clip does not exist)",
    );
    assert_eq!(field(&line, "reason"), Some("the clip does not exist"));
    assert_eq!(*TOLD.lock().unwrap(), [Some("the clip does not exist")]);
}

/// `Gone`, wrapped as a client library wraps its causes.
#[derive(Debug, thiserror::Error)]
#[error("upstream call failed")]
struct Upstream2(#[source] Gone);

/// A service whose readiness check fails with `Gone` (wrapped) once it has
/// been called `break_after` times; its calls answer 503.
#[derive(Clone)]
struct GoneWhenReadied {
    calls: Arc<AtomicUsize>,
    break_after: usize,
}

impl Service<Request<()>> for GoneWhenReadied {
    type Response = Response<()>;
    type Error = Upstream2;
    type Future = std::future::Ready<Result<Response<()>, Upstream2>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(
            match self.calls.load(Ordering::SeqCst) >= self.break_after {
                true => Err(Upstream2(Gone)),
                false => Ok(()),
            },
        )
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(Response::builder().status(503).body(()).unwrap()))
    }
}

/// A readiness failure of a permanent error of the user's that says why,
/// before the first attempt and before a retry: the give-up line and the
/// hook say why, as for the same error from a call (they said
/// `Permanent` only: the readiness paths passed no reason).
#[tokio::test(start_paused = true)]
async fn a_readiness_failure_says_why_its_error_is_permanent() {
    static TOLD: Mutex<Vec<Option<&'static str>>> = Mutex::new(Vec::new());
    fn told(ev: &retry_runtime::GiveUpEvent<'_>) {
        TOLD.lock().unwrap().push(ev.why_permanent());
    }
    const GONE: Policy<RetryOn> = FAST
        .with_name("gone.ready")
        .with_backoff(Backoff::None)
        .with_on_give_up(told);
    for (break_after, attempt) in [(0, 0), (1, 1)] {
        TOLD.lock().unwrap().clear();
        let logs = capture();
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = ServiceBuilder::new()
            .layer(GONE.layer().with_classify(gone))
            .service(GoneWhenReadied {
                calls: calls.clone(),
                break_after,
            });
        assert!(svc.oneshot(Request::new(())).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), break_after);
        let line = logs.assert_logged(
            Level::WARN,
            &format!(
                "gone.ready failed with a non-retriable error on attempt {attempt} (the clip does not exist)"
            ),
        );
        assert_eq!(field(&line, "reason"), Some("the clip does not exist"));
        assert_eq!(*TOLD.lock().unwrap(), [Some("the clip does not exist")]);
    }
}

/// A service whose first call answers 503 and which then fails its
/// readiness check (tower: a service whose `poll_ready` errs is broken).
#[derive(Clone)]
struct BreaksAfterOneCall {
    calls: Arc<AtomicUsize>,
}

impl Service<Request<()>> for BreaksAfterOneCall {
    type Response = Response<()>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Response<()>, std::io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(match self.calls.load(Ordering::SeqCst) {
            0 => Ok(()),
            _ => Err(std::io::Error::other("connection pool closed")),
        })
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(Response::builder().status(503).body(()).unwrap()))
    }
}

/// The retry the budget granted before the service broke is not made: its
/// token goes back, and the budget counts no retry.
#[tokio::test]
async fn a_service_that_breaks_before_a_retry_gives_the_budget_its_token_back() {
    static BUDGET: RetryBudget = RetryBudget::new("broken");
    let policy = &const { FAST.with_backoff(Backoff::None).with_budget(&BUDGET) };
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(policy.layer())
        .service(BreaksAfterOneCall {
            calls: calls.clone(),
        });
    svc.oneshot(Request::new(())).await.unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let stats = BUDGET.stats();
    // a full bucket: the first attempt's deposit changed nothing
    assert_eq!((stats.tokens, stats.retries), (10.0, 0), "{stats:?}");
    assert_eq!(stats.first_attempts, 1);
}

/// A service that breaks before a retry ends the run as any give-up does:
/// the give-up line (a non-retriable error), the policy's `on_give_up`,
/// and its error to the caller.
#[tokio::test]
async fn a_service_that_breaks_before_a_retry_ends_the_run_with_a_give_up() {
    static GAVE_UP: AtomicUsize = AtomicUsize::new(0);
    fn count(ev: &retry_runtime::GiveUpEvent<'_>) {
        assert_eq!(ev.reason, retry_runtime::StopReason::Permanent);
        assert_eq!(ev.attempts, 1);
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
    let policy = &const { FAST.with_backoff(Backoff::None).with_on_give_up(count) };
    let logs = capture();
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(policy.layer())
        .service(BreaksAfterOneCall {
            calls: calls.clone(),
        });
    let e = svc.oneshot(Request::new(())).await.unwrap_err();
    assert!(
        matches!(&e, Error::Inner(io) if io.to_string() == "connection pool closed"),
        "{e:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 1);
    let lines = logs.lines();
    assert!(
        lines.iter().any(|l| l
            .starts_with("WARN clips failed with a non-retriable error on attempt 1")
            && l.contains("error=connection pool closed")),
        "{lines:#?}"
    );
}

/// A service whose readiness check fails with a refused connection while
/// `refusals` are left, once it has been called `refuse_after` times
/// (tower's `Reconnect`, whose `poll_ready` connects); its first call
/// answers `first`, the next ones 200.
#[derive(Clone)]
struct RefusesToConnect {
    refusals: Arc<AtomicUsize>,
    refuse_after: usize,
    calls: Arc<AtomicUsize>,
    first: u16,
}

impl Service<Request<()>> for RefusesToConnect {
    type Response = Response<()>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Response<()>, std::io::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let refuse = self.calls.load(Ordering::SeqCst) >= self.refuse_after
            && self
                .refusals
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        Poll::Ready(if refuse {
            Err(std::io::ErrorKind::ConnectionRefused.into())
        } else {
            Ok(())
        })
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        let status = match self.calls.fetch_add(1, Ordering::SeqCst) {
            0 => self.first,
            _ => 200,
        };
        std::future::ready(Ok(Response::builder().status(status).body(()).unwrap()))
    }
}

/// Inside a retried call that retries a refused connection (`Connect`), a
/// service whose readiness check fails with one, before the layer's first
/// attempt or before its retry, leaves the failure to the outer run, as
/// the layer leaves any failure that run retries: no WARN give-up line of
/// a "non-retriable" error, no `on_give_up`, no `permanent_error`; the
/// outer run retries it and succeeds. (Each was announced as the inner
/// run's give-up, for a failure the outer run went on to retry.)
#[tokio::test(start_paused = true)]
async fn a_readiness_failure_inside_a_retried_call_that_retries_it_is_left_to_the_outer_run() {
    static GAVE_UP: AtomicUsize = AtomicUsize::new(0);
    fn count(_: &retry_runtime::GiveUpEvent<'_>) {
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
    static INNER: Policy<RetryOn> = FAST
        .with_name("inner")
        .with_backoff(Backoff::None)
        .with_on_give_up(count);
    let outer = FAST.with_name("outer").with_backoff(Backoff::None);
    // before the first attempt (0 calls), then before a retry (after a 503)
    for (refuse_after, first, calls) in [(0, 200, 1), (1, 503, 2)] {
        let logs = capture();
        let service = RefusesToConnect {
            refusals: Arc::new(AtomicUsize::new(1)),
            refuse_after,
            calls: Arc::new(AtomicUsize::new(0)),
            first,
        };
        let svc = ServiceBuilder::new()
            .layer(INNER.layer())
            .service(service.clone());
        let ok = outer
            .retry(|| svc.clone().oneshot(Request::new(())))
            .detailed()
            .await
            .unwrap();
        assert_eq!(ok.value.status(), 200);
        assert_eq!(ok.attempts, 2, "the outer run retried the refusal");
        assert_eq!(service.calls.load(Ordering::SeqCst), calls);
        assert_eq!(GAVE_UP.load(Ordering::SeqCst), 0, "{refuse_after}");
        logs.assert_not_logged("non-retriable");
        let line = logs.assert_logged(Level::WARN, "retrying outer after attempt 1/4 failed");
        logs.assert_logged(Level::DEBUG, "leaving the retry to the outer retried call");
        assert_eq!(field(&line, "error_kind"), Some("Connect"), "{line}");
    }
}

/// Inside a retried call that retries a timeout, a retry whose service
/// stays not ready past the layer's `max_elapsed` leaves its
/// `Error::NotReady` (kind `Timeout`) to the outer run, as a retry woken
/// past the deadline does: no ERROR "deadline reached" line and no
/// `on_give_up` of the inner run; the outer run retries, and the gate,
/// open again by then, answers. (It was announced as the inner run's
/// give-up, for a failure the outer run went on to retry.)
#[tokio::test(start_paused = true)]
async fn a_readiness_wait_past_the_deadline_inside_a_retried_call_is_left_to_the_outer_run() {
    static GAVE_UP: AtomicUsize = AtomicUsize::new(0);
    fn count(_: &retry_runtime::GiveUpEvent<'_>) {
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
    static INNER: Policy<RetryOn> = FAST
        .with_name("inner")
        .with_backoff(Backoff::None)
        .with_max_elapsed(Duration::from_secs(5))
        .with_on_give_up(count);
    let outer = FAST.with_name("outer").with_backoff(Backoff::None);
    let logs = capture();
    // each call closes the gate for 10s: the inner retry after the first
    // call's 503 waits for it until its deadline, at 5s
    let gate = Gate::reopening_after(Duration::from_secs(10));
    gate.open.store(true, Ordering::SeqCst);
    let svc = ServiceBuilder::new()
        .layer(INNER.layer())
        .service(gate.clone());
    let ok = outer
        .retry(|| svc.clone().oneshot(Request::new(())))
        .detailed()
        .await
        .unwrap();
    assert_eq!(ok.value.status(), 200);
    assert_eq!(ok.attempts, 2, "the outer run retried the inner deadline");
    assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 0);
    logs.assert_not_logged("deadline reached");
    logs.assert_logged(Level::DEBUG, "leaving the retry to the outer retried call");
    let line = logs.assert_logged(Level::WARN, "retrying outer after attempt 1/4 failed");
    assert_eq!(field(&line, "error_kind"), Some("Timeout"), "{line}");
}

/// A policy with an adaptive throttle drops into the layer too: a call the
/// throttle rejects is not made and comes back as `Error::Throttled`.
#[tokio::test(start_paused = true)]
async fn a_policy_with_a_throttle_guards_the_layer() {
    let clock: &'static retry_runtime::clock::ManualClock =
        Box::leak(Box::new(retry_runtime::clock::ManualClock::new()));
    let throttle: &'static retry_runtime::Throttle = Box::leak(Box::new(
        retry_runtime::Throttle::new("clips").with_clock(clock),
    ));
    // 100,000 requests and no accept: it rejects nearly every call
    for _ in 0..100_000 {
        throttle.record(false);
    }
    let policy: &'static Policy<RetryOn, retry_runtime::WithThrottle> =
        Box::leak(Box::new(FAST.with_throttle(throttle)));
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(policy.layer())
        .service(answering(calls.clone(), &[]));
    let mut rejected = 0;
    for _ in 0..20 {
        match svc.clone().oneshot(Request::new(())).await {
            Err(Error::Throttled(t)) => {
                assert_eq!(t.throttle, "clips");
                assert_eq!(
                    Error::<Infallible>::Throttled(t).kind(),
                    ErrorKind::Unavailable
                );
                rejected += 1;
            }
            other => assert_eq!(other.unwrap().status(), 200),
        }
    }
    assert!(rejected >= 19, "{rejected} of 20 rejected");
    assert_eq!(calls.load(Ordering::SeqCst), 20 - rejected);
}

/// A call through the layer cut short (a timeout above it, a client gone
/// away) counts nothing with the policy's throttle: it showed nothing
/// about the dependency. (Its request was counted with no outcome ever: a
/// healthy dependency behind a layer whose calls were mostly cut short got
/// throttled.)
#[tokio::test(start_paused = true)]
async fn a_call_cut_short_above_the_layer_counts_nothing_with_the_throttle() {
    let clock: &'static retry_runtime::clock::ManualClock =
        Box::leak(Box::new(retry_runtime::clock::ManualClock::new()));
    let throttle: &'static retry_runtime::Throttle = Box::leak(Box::new(
        retry_runtime::Throttle::new("clips").with_clock(clock),
    ));
    let policy: &'static Policy<RetryOn, retry_runtime::WithThrottle> =
        Box::leak(Box::new(FAST.with_throttle(throttle)));
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let hanging = tower::service_fn(move |_: Request<()>| {
        counted.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<_, Infallible>(Response::new(()))
        }
    });
    let svc = ServiceBuilder::new().layer(policy.layer()).service(hanging);
    for _ in 0..50 {
        let call = svc.clone().oneshot(Request::new(()));
        let cut = tokio::time::timeout(ms(10), call).await;
        assert!(cut.is_err(), "cut short");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 50, "none throttled");
    let st = throttle.stats();
    assert_eq!(
        (st.requests, st.rejected, st.probability),
        (0, 0, 0.0),
        "{st:?}"
    );
}

/// tower's own middleware answers `BoxError`s (`Buffer`, `Timeout`), which
/// are not `std::error::Error`s: made `BoxedError`s below the layer
/// (`BoxErrorsLayer`), a buffered hyper-util client is retried as any
/// other, and an error in the box is classified as it would be unboxed.
#[tokio::test]
async fn a_buffered_stack_with_boxed_errors_is_retried() {
    use retry_runtime::response::BoxedError;
    let server = FlakyServer::start().await;
    server.route("/clip", [503, 503, 200]);
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .layer(BoxErrorsLayer::new())
        .buffer(8)
        .service(hyper_client());
    let resp = svc
        .clone()
        .oneshot(get(&server.url("/clip")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.hits("/clip"), 3);

    // a refused connection, boxed by the buffer: Connect, retried
    let e = svc.oneshot(get(&refused_url("/"))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect);
    assert!(matches!(e, Error::Inner(BoxedError(_))));
}

/// The buffered stack, awaited in a spawned task on a multi-thread runtime:
/// it compiles (with `.map_err(BoxedError::from)` in place of
/// `BoxErrorsLayer` it does not: "implementation of `FnOnce` is not general
/// enough", a limit of the compiler with tower's `MapErr` over a `Buffer`),
/// and each spawned call is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffered_stack_with_boxed_errors_is_retried_in_spawned_tasks() {
    let server = FlakyServer::start().await;
    server.route("/clip/1", [503, 200]);
    server.route("/clip/2", [503, 503, 200]);
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .layer(BoxErrorsLayer::new())
        .buffer(8)
        .service(hyper_client());
    let tasks = ["/clip/1", "/clip/2"].map(|path| {
        let (svc, url) = (svc.clone(), server.url(path));
        tokio::spawn(async move { svc.oneshot(get(&url)).await })
    });
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!((server.hits("/clip/1"), server.hits("/clip/2")), (2, 3));

    // a refused connection, boxed by the buffer: Connect, retried, in a task too
    let url = refused_url("/");
    let e = tokio::spawn(async move { svc.oneshot(get(&url)).await })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect);
}

/// The buffered stack kept in an axum router's state, called by a handler
/// (axum's handler futures must be `Send`: with `.map_err(BoxedError::from)`
/// this did not compile, "implementation of `FnOnce` is not general
/// enough"): the user's one request gets the answer, the downstream sees
/// three.
#[tokio::test]
async fn a_buffered_stack_with_boxed_errors_in_an_axum_handlers_state() {
    use axum::extract::State;
    use axum::routing::get as route_get;
    use retry_runtime::tower::{BoxErrors, RetryService};
    use tower::buffer::Buffer;

    type Downstream = Buffer<Request<Body>, hyper_util::client::legacy::ResponseFuture>;
    type Retrying = RetryService<BoxErrors<Downstream>, RetryOn>;
    async fn handler(State((client, url)): State<(Retrying, String)>) -> (StatusCode, String) {
        relayed(client.oneshot(get(&url)).await).await
    }

    let downstream = cat_downstream().await;
    let client: Retrying = ServiceBuilder::new()
        .layer(FAST.layer())
        .layer(BoxErrorsLayer::new())
        .buffer(8)
        .service(hyper_client());
    let app = axum::Router::new()
        .route("/clips/7", route_get(handler))
        .with_state((client, downstream.url("/meta/7")));
    let (addr, server) = serve(app).await;

    let user = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_gets_the_cat(&user, addr, &downstream).await;
    server.abort();
}

/// tower's `Timeout` under the layer: its `Elapsed`, boxed, is found in the
/// chain by `with_classify` (the layer's own `with_timeout` needs none).
#[tokio::test(start_paused = true)]
async fn a_boxed_tower_timeout_is_classified_with_with_classify() {
    fn elapsed<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Classify> {
        static TIMEOUT: AttemptTimeoutKind = AttemptTimeoutKind;
        e.is::<tower::timeout::error::Elapsed>()
            .then_some(&TIMEOUT as &dyn Classify)
    }
    struct AttemptTimeoutKind;
    impl Classify for AttemptTimeoutKind {
        fn kind(&self) -> ErrorKind {
            ErrorKind::Timeout
        }
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let slow_once = tower::service_fn(move |_: Request<()>| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Ok::<_, Infallible>(Response::new(()))
        }
    });
    let svc = ServiceBuilder::new()
        .layer(FAST.layer().with_classify(elapsed))
        .layer(BoxErrorsLayer::new())
        .timeout(Duration::from_secs(1))
        .service(slow_once);
    let resp = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A server that reads the request and closes without answering (the
/// keep-alive race of a pooled connection): hyper's "connection closed
/// before message completed" is `Connect` and retried, as reqwest
/// classifies the same server (it was `Unknown`, sent once).
#[tokio::test]
async fn a_connection_closed_before_the_response_is_retried() {
    let server = FlakyServer::start().await;
    server.route(
        "/closes",
        [Reply::close_before_response(), Reply::ok_body("ok")],
    );
    let resp = send(FAST.layer(), get(&server.url("/closes")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(server.hits("/closes"), 2);
}

/// The layer's error keeps the inner service's error in its source chain,
/// so a box of it (tower's `Buffer` above the layer) is classified by it:
/// a refused connection stays `Connect`, not `Unknown`.
#[test]
fn a_boxed_layer_error_is_classified_by_the_error_it_holds() {
    use std::error::Error as _;
    let err: Error<std::io::Error> = Error::Inner(std::io::ErrorKind::ConnectionRefused.into());
    assert!(err.source().is_some_and(|s| s.is::<std::io::Error>()));
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert_eq!(boxed.kind(), ErrorKind::Connect);
}

/// The SRE's switch, as `from_fn` runs it: `FAST` while retries are on,
/// `FAST` with one attempt while they are off (the same name: the same
/// operation). Each test has its own switch (they run in parallel).
macro_rules! switched {
    ($name:literal) => {{
        static RETRIES_OFF: AtomicBool = AtomicBool::new(false);
        fn current() -> &'static Policy<RetryOn> {
            static ON: Policy<RetryOn> = noted!($name);
            static OFF: Policy<RetryOn> = noted!($name).with_max_attempts(1);
            if RETRIES_OFF.load(Ordering::Relaxed) {
                &OFF
            } else {
                &ON
            }
        }
        (&RETRIES_OFF, RetryLayer::from_fn(current))
    }};
}

/// The switch flipped between two requests changes the second only; a
/// request under way when it flips keeps the policy it started with.
#[tokio::test]
async fn a_switch_flipped_between_requests_changes_the_later_ones_only() {
    let (off, layer) = switched!("clips_switch_flipped");
    let server = FlakyServer::start().await;
    for path in ["/first", "/under-way", "/second"] {
        server.route(path, vec![Reply::status(503); 4]);
    }
    let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
    let resp = svc
        .clone()
        .oneshot(get(&server.url("/first")))
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/first")),
        (StatusCode::SERVICE_UNAVAILABLE, 4)
    );

    // flipped while this request waits to retry its first 503
    let under_way = tokio::spawn(svc.clone().oneshot(get(&server.url("/under-way"))));
    while server.hits("/under-way") == 0 {
        tokio::time::sleep(ms(5)).await;
    }
    // (one thread: nothing runs between the count and the flip; the run's
    // three waits of 50ms are still ahead of it)
    assert!(server.hits("/under-way") < 4);
    off.store(true, Ordering::Relaxed);
    let resp = under_way.await.unwrap().unwrap();
    assert_eq!(
        (resp.status(), server.hits("/under-way")),
        (StatusCode::SERVICE_UNAVAILABLE, 4)
    );

    let resp = svc.oneshot(get(&server.url("/second"))).await.unwrap();
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
    let (_, layer) = switched!("clips_switch_on");
    let server = FlakyServer::start().await;
    server.route(
        "/slow-down",
        [Reply::retry_after_secs(1), Reply::ok_body("ok")],
    );
    let logs = capture();
    let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
    let resp = svc.oneshot(get(&server.url("/slow-down"))).await.unwrap();
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
    use retry_runtime::StopReason;
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let (off, layer) = switched!("clips_switch_off");
        off.store(true, Ordering::Relaxed);
        let server = FlakyServer::start().await;
        server.route("/clip", [Reply::status(503), Reply::ok_body("clip")]);
        let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
        let resp = svc.oneshot(get(&server.url("/clip"))).await.unwrap();
        assert_eq!(
            (resp.status(), server.hits("/clip")),
            (StatusCode::SERVICE_UNAVAILABLE, 1)
        );
    });
    assert_eq!(
        crate::give_ups("clips_switch_off"),
        [(StopReason::Attempts, 1, 1)]
    );
    assert_eq!(
        crate::outcome(&recorded, "clips_switch_off"),
        ["attempts_exhausted"]
    );
    let line = logs.assert_logged(Level::ERROR, "clips_switch_off failed after 1 attempt");
    testkit::capture::assert_fields(&line, &[("error_kind", "Unavailable")]);
    logs.assert_not_logged("non-retriable");
}

/// An upstream's policy `on` and the same with one attempt, and its
/// switch, made `'static` once (as a gateway makes them at start-up from
/// its configuration), and a layer made with `from_fn` and a closure that
/// picks between the two by the switch.
#[allow(clippy::type_complexity)]
fn upstream_switch<G: Guards + Send + Sync + 'static>(
    on: Policy<RetryOn, G>,
) -> (
    RetryLayer<RetryOn, G, DefaultSleeper, NoTimeout, PolicyFn<RetryOn, G>>,
    &'static AtomicBool,
    (&'static Policy<RetryOn, G>, &'static Policy<RetryOn, G>),
) {
    let on: &'static Policy<RetryOn, G> = Box::leak(Box::new(on));
    let off: &'static Policy<RetryOn, G> = Box::leak(Box::new(on.with_max_attempts(1)));
    let retries_off: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let layer = RetryLayer::from_fn(move || {
        if retries_off.load(Ordering::Relaxed) {
            off
        } else {
            on
        }
    });
    (layer, retries_off, (on, off))
}

/// A gateway's upstreams from a configuration list, each with a layer of
/// its own made with `from_fn` and a closure (its captures `&'static`,
/// made once at start-up): its own switch, its own breaker. Flipping one
/// upstream's switch sends its requests once; the other still retries;
/// one upstream's failures open its breaker only.
#[tokio::test]
async fn closures_choose_each_upstreams_policy_with_its_own_switch_and_breaker() {
    let server = FlakyServer::start().await;
    let mut upstreams = Vec::new();
    for name in ["users_closure", "clips_closure"] {
        let breaker: &'static CircuitBreaker =
            Box::leak(Box::new(CircuitBreaker::new(name).with_failures(6)));
        let (layer, retries_off, _) = upstream_switch(FAST.with_name(name).with_circuit(breaker));
        let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
        upstreams.push((name, svc, retries_off, breaker));
    }
    for path in ["/users/1", "/users/2", "/clips/1", "/clips/2"] {
        server.route(path, vec![Reply::status(503); 4]);
    }
    let [(_, users, users_off, users_breaker), (_, clips, _, clips_breaker)] = &upstreams[..]
    else {
        unreachable!()
    };
    users_off.store(true, Ordering::Relaxed);
    for (svc, path, hits) in [
        (users, "/users/1", 1),
        (clips, "/clips/1", 4),
        (users, "/users/2", 1),
    ] {
        let resp = svc.clone().oneshot(get(&server.url(path))).await.unwrap();
        assert_eq!(
            (resp.status(), server.hits(path)),
            (StatusCode::SERVICE_UNAVAILABLE, hits),
            "{path}"
        );
    }
    // clips' 4 failures and users' 2 counted apart: neither breaker open yet
    assert_eq!(
        (
            users_breaker.stats().failures,
            clips_breaker.stats().failures
        ),
        (2, 4)
    );
    // two more failures open clips' breaker; its next call is turned away
    let _ = clips.clone().oneshot(get(&server.url("/clips/2"))).await;
    assert_eq!(server.hits("/clips/2"), 2);
    assert_eq!(clips_breaker.state(), CircuitState::Open);
    let turned_away = clips
        .clone()
        .oneshot(get(&server.url("/clips/2")))
        .await
        .unwrap_err();
    assert!(
        matches!(turned_away, Error::CircuitOpen(_)),
        "{turned_away:?}"
    );
    assert_eq!(server.hits("/clips/2"), 2);
    // users' breaker, closed, still lets its requests through
    assert_eq!(users_breaker.state(), CircuitState::Closed);
    let resp = users
        .clone()
        .oneshot(get(&server.url("/users/2")))
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/users/2")),
        (StatusCode::SERVICE_UNAVAILABLE, 2)
    );
}

/// A gateway passing its upstream's 404s through: with the policy's
/// non-retriable level at DEBUG, each 404 (sent once, as before) is a DEBUG
/// line, not a WARN one, while a retry still logs its WARN line.
#[tokio::test]
async fn a_pass_through_404_logs_at_the_policys_non_retriable_level() {
    const QUIET: Policy<RetryOn> = FAST
        .with_name("clips_quiet_404")
        .with_non_retriable_level(Level::DEBUG);
    let server = FlakyServer::start().await;
    server.route("/missing", [Reply::status(404)]);
    server.route("/busy", [Reply::status(503), Reply::ok_body("ok")]);
    let logs = capture();
    let svc = ServiceBuilder::new()
        .layer(QUIET.layer())
        .service(hyper_client());
    let resp = svc
        .clone()
        .oneshot(get(&server.url("/missing")))
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), server.hits("/missing")),
        (StatusCode::NOT_FOUND, 1)
    );
    let line = logs.assert_logged(
        Level::DEBUG,
        "clips_quiet_404 failed with a non-retriable error",
    );
    testkit::capture::assert_fields(
        &line,
        &[("error_kind", "Permanent"), ("outcome", "permanent_error")],
    );
    assert!(logs.matching(Level::WARN, "non-retriable").is_empty());
    let resp = svc.oneshot(get(&server.url("/busy"))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    logs.assert_logged(
        Level::WARN,
        "retrying clips_quiet_404 after attempt 1/4 failed",
    );
}

/// A call through a layer made with `from_fn` and a closure can be
/// spawned and made inside an axum handler (a review found a closure's
/// type among the service's parameters kept it from both: "one type is
/// more general than the other"), and layers made from two functions, or
/// two closures, have one type.
#[tokio::test]
async fn a_closure_made_layers_calls_are_spawned_and_its_layers_share_a_type() {
    use axum::routing::get as route_get;
    let server = FlakyServer::start().await;
    server.route("/users", [Reply::status(503), Reply::ok_body("users")]);
    let (layer, _, (on, off)) = upstream_switch(FAST.with_name("users_spawned"));
    let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
    let url = server.url("/users");
    let spawned = tokio::spawn({
        let (svc, url) = (svc.clone(), url.clone());
        async move { svc.oneshot(get(&url)).await.map(|r| r.status()) }
    });
    assert_eq!(spawned.await.unwrap().unwrap(), StatusCode::OK);
    assert_eq!(server.hits("/users"), 2);
    // inside an axum handler, served
    let app = axum::Router::new().route(
        "/proxy",
        route_get(move || {
            let (svc, url) = (svc.clone(), url.clone());
            async move {
                match svc.oneshot(get(&url)).await {
                    Ok(resp) => resp.status(),
                    Err(_) => StatusCode::BAD_GATEWAY,
                }
            }
        }),
    );
    let (addr, front) = serve(app).await;
    server.route("/users", [Reply::status(503), Reply::ok_body("users")]);
    let resp = hyper_client()
        .request(get(&format!("http://{addr}/proxy")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(server.hits("/users"), 4);
    front.abort();
    // one type, whatever the function
    fn users() -> &'static Policy<RetryOn> {
        &FAST
    }
    // a feature-flag client behind a trait object (not unwind-safe itself)
    let flags: Arc<dyn Fn(&str) -> bool + Send + Sync> = Arc::new(|flag| flag == "users.off");
    let chosen = [
        RetryLayer::from_fn(users),
        RetryLayer::from_fn(move || on),
        RetryLayer::from_fn(|| &FAST),
        RetryLayer::from_fn(move || if flags("users.off") { off } else { on }),
    ];
    assert_eq!(chosen[1].policy().name(), "users_spawned");
    assert_eq!(chosen[3].policy().max_attempts(), 1);
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>(_: &T) {}
    unwind_safe(&chosen);
}

/// A layer made with `from_fn` is one word larger than one made with
/// `new`, and a call's future is the same size: the policy chosen takes
/// the fixed one's place.
#[test]
fn a_layer_from_a_function_is_the_size_of_one_from_a_policy() {
    use std::mem::size_of_val;
    use tower::Layer;
    fn current() -> &'static Policy<RetryOn> {
        &FAST
    }
    let answer = |_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) };
    let request = || Request::get("/clip").body(String::new()).unwrap();
    let fixed = FAST.layer();
    let chosen: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, NoTimeout, PolicyFn<RetryOn>> =
        RetryLayer::from_fn(current);
    // (the function is a trait object: two words where the policy is one)
    assert_eq!(size_of_val(&fixed) + 8, size_of_val(&chosen));
    let (mut fixed, mut chosen) = (
        fixed.layer(tower::service_fn(answer)),
        chosen.layer(tower::service_fn(answer)),
    );
    assert_eq!(
        size_of_val(&fixed.call(request())),
        size_of_val(&chosen.call(request()))
    );
    assert_eq!(
        format!("{:?}", FAST.layer()),
        format!("{:?}", RetryLayer::from_fn(current))
    );
}

/// `with_attempt_extension(true)`: each attempt's `Attempt` in the request
/// a layer below ours gets (here one that records it and sends it on as
/// `x-retry-count`, as an SDK does), over a hyper-util client against a
/// real server; off by default, nothing there.
#[tokio::test]
async fn each_attempt_is_in_the_request_below_the_layer_when_asked() {
    use retry_runtime::Attempt;
    let server = FlakyServer::start().await;
    let script = [Reply::status(503), Reply::status(429), Reply::ok_body("ok")];
    server.route("/chat", script.clone());
    server.route("/off", [Reply::status(503), Reply::ok_body("ok")]);
    let seen: Arc<Mutex<Vec<Option<Attempt>>>> = Arc::default();
    let count = |seen: Arc<Mutex<Vec<Option<Attempt>>>>| {
        move |mut request: Request<Body>| {
            let attempt = request.extensions().get::<Attempt>().copied();
            if let Some(a) = attempt {
                let retries = http::HeaderValue::from(a.number - 1);
                request.headers_mut().insert("x-retry-count", retries);
            }
            seen.lock().unwrap().push(attempt);
            request
        }
    };
    let svc = ServiceBuilder::new()
        .layer(FAST.layer().with_attempt_extension())
        .map_request(count(seen.clone()))
        .service(hyper_client());
    let resp = svc.oneshot(get(&server.url("/chat"))).await.unwrap();
    assert_eq!((resp.status().as_u16(), server.hits("/chat")), (200, 3));
    let seen: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a.expect("an attempt in the request");
            (a.number, a.max, a.previous_kind)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, 4, None),
            (2, 4, Some(ErrorKind::Unavailable)),
            (3, 4, Some(ErrorKind::RateLimited)),
        ]
    );

    // the last attempt sends the request itself (no copy is made for it)
    server.route(
        "/last",
        [503, 503, 503]
            .map(Reply::status)
            .into_iter()
            .chain([Reply::ok_body("ok")]),
    );
    let last: Arc<Mutex<Vec<Option<Attempt>>>> = Arc::default();
    let layer = FAST.layer().with_attempt_extension();
    assert!(format!("{layer:?}").contains("attempt_extension: true"));
    let svc = ServiceBuilder::new()
        .layer(layer)
        .map_request(count(last.clone()))
        .service(hyper_client());
    assert_eq!(
        svc.oneshot(get(&server.url("/last")))
            .await
            .unwrap()
            .status(),
        200
    );
    let numbers: Vec<_> = last
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.map(|a| a.number))
        .collect();
    assert_eq!(numbers, [Some(1), Some(2), Some(3), Some(4)]);

    let none: Arc<Mutex<Vec<Option<Attempt>>>> = Arc::default();
    let svc = ServiceBuilder::new()
        .layer(FAST.layer())
        .map_request(count(none.clone()))
        .service(hyper_client());
    assert_eq!(
        svc.oneshot(get(&server.url("/off")))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(*none.lock().unwrap(), [None, None]);
}

/// A cooldown shared through the layer holds first attempts and paces
/// them (a retry's wait is lengthened when decided, as in every form): a
/// 429 asking for 2s holds the calls made meanwhile, and a pace of 10 a
/// second spaces every attempt of every call 100ms apart.
#[tokio::test(start_paused = true)]
async fn the_layer_holds_and_paces_first_attempts_through_a_cooldown() {
    use retry_runtime::cooldown::Cooldown;
    static PARTNER: Cooldown = Cooldown::new("tower-partner").with_pace(10, Duration::from_secs(1));
    static POLICY: Policy<RetryOn> = FAST.with_name("tower-partner").with_cooldown(&PARTNER);
    let start = tokio::time::Instant::now();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    // the first call's first attempt answers 429 (Retry-After: 2), every
    // other attempt 200
    let svc = tower::service_fn(move |req: Request<String>| {
        let mut log = log.lock().unwrap();
        let first = log.is_empty();
        log.push((req.uri().path().to_owned(), start.elapsed()));
        let resp = if first {
            Response::builder()
                .status(429)
                .header("retry-after", "2")
                .body(())
                .unwrap()
        } else {
            Response::builder().status(200).body(()).unwrap()
        };
        std::future::ready(Ok::<_, Infallible>(resp))
    });
    let svc = ServiceBuilder::new().layer(POLICY.layer()).service(svc);
    let call = |path: &'static str, after: u64| {
        let svc = svc.clone();
        async move {
            tokio::time::sleep(ms(after)).await;
            svc.oneshot(Request::get(path).body(String::new()).unwrap())
                .await
                .unwrap()
                .status()
        }
    };
    let statuses = tokio::join!(
        call("/a", 0),
        call("/b", 50),
        call("/c", 60),
        call("/d", 70)
    );
    assert_eq!(
        statuses,
        (
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK
        )
    );
    let seen = seen.lock().unwrap().clone();
    let at = |path: &str| -> Vec<Duration> {
        seen.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    };
    // /a at once, its retry after the 2s asked; /b, /c and /d held by the
    // 429 (sent at 50-70ms, it held until 2s), then one slot each
    assert_eq!(at("/a")[0], Duration::ZERO);
    let mut rest: Vec<Duration> = ["/b", "/c", "/d"].iter().map(|p| at(p)[0]).collect();
    rest.push(at("/a")[1]);
    rest.sort();
    let slots: Vec<Duration> = (0..4)
        .map(|n| Duration::from_secs(2) + n * ms(100))
        .collect();
    assert_eq!(rest, slots, "{seen:?}");
}

/// The layer holds a first attempt until a shared cooldown's hold ends,
/// a hold made longer while it waits included, as the reqwest
/// middleware and `Cooldown::ready` do (it slept the hold's time left at
/// the start, once, and sent the request inside the longer hold).
#[tokio::test(start_paused = true)]
async fn the_layer_holds_a_first_attempt_through_a_hold_made_longer_meanwhile() {
    use retry_runtime::cooldown::Cooldown;
    static HELD: Cooldown = Cooldown::new("tower-held-longer");
    static POLICY: Policy<RetryOn> = FAST.with_name("tower-held-longer").with_cooldown(&HELD);
    let start = tokio::time::Instant::now();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    let svc = tower::service_fn(move |_: Request<String>| {
        log.lock().unwrap().push(start.elapsed());
        std::future::ready(Ok::<_, Infallible>(
            Response::builder().status(200).body(()).unwrap(),
        ))
    });
    let svc = ServiceBuilder::new().layer(POLICY.layer()).service(svc);
    HELD.hold_for(Duration::from_secs(1));
    // another request's 429 at 500ms asks for 2s more
    let longer = async {
        tokio::time::sleep(ms(500)).await;
        HELD.hold_for(Duration::from_secs(2));
    };
    let (status, ()) = tokio::join!(
        async {
            svc.oneshot(Request::get("/a").body(String::new()).unwrap())
                .await
                .unwrap()
                .status()
        },
        longer
    );
    assert_eq!(status, StatusCode::OK);
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent, [ms(2500)], "sent inside the hold");
}

/// With a spread, the layer's first attempt goes at its point in the
/// spread after the hold's end, and after the end of a hold made longer
/// while it waited, at a point drawn again (from the seeded generator):
/// held 1s, then at 500ms 2s more, it is sent 2.5s + its second point in.
#[tokio::test(start_paused = true)]
async fn the_layer_sends_a_held_first_attempt_at_its_point_in_the_spread() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::jitter::Rng;
    static SPREAD: Cooldown = Cooldown::new("tower-spread").with_spread(Duration::from_millis(400));
    static POLICY: Policy<RetryOn> = FAST.with_name("tower-spread").with_cooldown(&SPREAD);
    retry_runtime::testing::seed(3);
    let mut rng = Rng::with_seed(3);
    let mut point = || Duration::from_nanos(rng.below_inclusive(400_000_000) as u64);
    let (first, second) = (point(), point());
    let paused = retry_runtime::testing::pause();
    let start = tokio::time::Instant::now();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    let svc = tower::service_fn(move |_: Request<String>| {
        log.lock().unwrap().push(start.elapsed());
        std::future::ready(Ok::<_, Infallible>(
            Response::builder().status(200).body(()).unwrap(),
        ))
    });
    let svc = ServiceBuilder::new().layer(POLICY.layer()).service(svc);
    SPREAD.hold_for(Duration::from_secs(1));
    let longer = async {
        tokio::time::sleep(ms(500)).await;
        SPREAD.hold_for(Duration::from_secs(2));
    };
    let (status, ()) = tokio::join!(
        async {
            svc.oneshot(Request::get("/a").body(String::new()).unwrap())
                .await
                .unwrap()
                .status()
        },
        longer
    );
    assert_eq!(status, StatusCode::OK);
    // (tokio's timer wakes to the millisecond after a wait)
    let woke = tokio::time::Instant::now();
    let waits = paused.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert_eq!(waits[0], Duration::from_secs(1) + first);
    // the longer hold's time left when the timer woke (at most 1ms late)
    let left = ms(2500).saturating_sub(waits[0]);
    assert!(
        waits[1] + ms(1) >= left + second && waits[1] <= left + second,
        "{waits:?}"
    );
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent, [woke - start]);
    let due = ms(2500) + second;
    assert!(
        sent[0] >= due && sent[0] <= due + ms(2),
        "{sent:?}, due {due:?}"
    );
}

/// A call's future waiting before its first attempt for a shared
/// cooldown shows `step: Sleep` with 0 attempts (its `Debug` says so).
#[tokio::test(start_paused = true)]
async fn a_call_held_by_a_cooldown_shows_a_sleep_before_its_first_attempt() {
    use retry_runtime::cooldown::Cooldown;
    use std::pin::pin;
    static SHOWN: Cooldown = Cooldown::new("tower-shown");
    static POLICY: Policy<RetryOn> = FAST.with_name("tower-shown").with_cooldown(&SHOWN);
    let answer = |_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) };
    let mut svc = ServiceBuilder::new()
        .layer(POLICY.layer())
        .service(tower::service_fn(answer));
    SHOWN.hold_for(Duration::from_secs(1));
    let call = svc.ready().await.unwrap();
    let mut fut = pin!(call.call(Request::get("/a").body(String::new()).unwrap()));
    let polled = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
    assert!(polled.is_pending());
    let shown = format!("{fut:?}");
    assert!(shown.ends_with("attempts: 0, step: Sleep, .. }"), "{shown}");
    assert_eq!(fut.await.unwrap().status(), StatusCode::OK);
}

/// A first attempt the layer holds for a shared cooldown writes the
/// DEBUG line of its wait (operation, cooldown, `wait_ms`, `cause`), as
/// every form does; one not held writes none.
#[tokio::test(start_paused = true)]
async fn a_held_first_attempt_through_the_layer_logs_its_wait() {
    use retry_runtime::cooldown::Cooldown;
    static LOGGED: Cooldown = Cooldown::new("tower-logged");
    static POLICY: Policy<RetryOn> = FAST.with_name("tower-logged").with_cooldown(&LOGGED);
    let logs = retry_runtime::testing::capture_logs().unwrap();
    let answer = |_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) };
    let svc = ServiceBuilder::new()
        .layer(POLICY.layer())
        .service(tower::service_fn(answer));
    let send = || {
        let svc = svc.clone();
        async move {
            let request = Request::get("/a").body(String::new()).unwrap();
            svc.oneshot(request).await.unwrap().status()
        }
    };
    let waits = || {
        let records = logs.records().into_iter();
        records
            .filter(|r| r.field("cause").is_some())
            .collect::<Vec<_>>()
    };
    assert_eq!(send().await, StatusCode::OK);
    assert!(waits().is_empty(), "{logs}");
    LOGGED.hold_for(Duration::from_secs(2));
    assert_eq!(send().await, StatusCode::OK);
    let lines = waits();
    assert_eq!(lines.len(), 1, "{logs}");
    assert_eq!(lines[0].level(), Level::DEBUG);
    assert_eq!(lines[0].field("operation"), Some("tower-logged"));
    assert_eq!(lines[0].field("cooldown"), Some("tower-logged"));
    assert_eq!(lines[0].field_as::<u64>("wait_ms"), Some(2_000));
    assert_eq!(lines[0].field("cause"), Some("hold"));
}

/// A service answering after 300ms (a healthy upstream, slower than the
/// callers' deadlines), counting its calls.
fn answering_late(
    calls: Arc<AtomicUsize>,
) -> impl Service<
    Request<()>,
    Response = Response<()>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<()>, Infallible>> + Send,
> + Clone {
    tower::service_fn(move |_: Request<()>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(Response::new(()))
        }
    })
}

/// An attempt the deadline cut is "neither failure nor success" to the
/// throttle too, as `with_timeout`'s rustdoc says: it counted as a request
/// the upstream accepted (`Throttle::record(outcome != Failure)`), so
/// hurried callers against a slow, overloaded upstream lowered the
/// throttle's rejection rate, as successes would.
#[tokio::test(start_paused = true)]
async fn an_attempt_the_deadline_cut_is_no_accept_to_the_throttle() {
    static THROTTLE: retry_runtime::Throttle = retry_runtime::Throttle::new("tower-deadline-cut");
    static HURRIED: Policy<RetryOn, retry_runtime::WithThrottle> = FAST
        .with_name("hurried")
        .with_max_elapsed(Duration::from_millis(100))
        .with_throttle(&THROTTLE);
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(HURRIED.layer().with_timeout(Duration::from_secs(5)))
        .service(answering_late(calls.clone()));
    for _ in 0..2 {
        let err = svc.clone().oneshot(Request::new(())).await.unwrap_err();
        assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let stats = THROTTLE.stats();
    assert_eq!((stats.requests, stats.accepts), (0, 0), "{stats:?}");
}

/// Inside a retried call that retries `Timeout`, an attempt the layer's
/// deadline cut is left to the outer run, as any failure that run retries
/// (and as the same timeout past the deadline without the cut is): the
/// cut turned the layer's `Deferred` into `Deadline`, so each of the outer
/// run's attempts wrote an ERROR give-up line, and counted a give-up, for
/// a failure the outer run went on to retry.
#[tokio::test(start_paused = true)]
async fn an_attempt_the_deadline_cut_inside_a_retried_call_is_left_to_the_outer_run() {
    static INNER: Policy<RetryOn> = FAST
        .with_name("inner")
        .with_max_elapsed(Duration::from_millis(100));
    let logs = capture();
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = ServiceBuilder::new()
        .layer(INNER.layer().with_timeout(Duration::from_secs(5)))
        .service(answering_late(calls.clone()));
    let e = FAST
        .retry(|| svc.clone().oneshot(Request::new(())))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let given_up = logs.matching(Level::ERROR, "inner failed");
    assert!(given_up.is_empty(), "{given_up:#?}");
}

/// A service answering 503 at once, counting its calls in `calls`.
fn answering_busy(
    calls: Arc<AtomicUsize>,
) -> impl Service<
    Request<()>,
    Response = Response<()>,
    Error = Infallible,
    Future = std::future::Ready<Result<Response<()>, Infallible>>,
> + Clone {
    tower::service_fn(move |_: Request<()>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let mut busy = Response::new(());
        *busy.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        std::future::ready(Ok::<_, Infallible>(busy))
    })
}

/// A retry whose wait ended past the deadline (its timer woken late: a
/// sleeper that wakes 3x late, as on a loaded runtime) is not sent, as
/// under the middleware since 0671466: the layer called the service and
/// polled its future before the zero limit's timer fired, so the request
/// went out, with its answer thrown away or taken past the deadline.
#[tokio::test(start_paused = true)]
async fn a_retry_woken_past_the_deadline_is_not_sent() {
    static LATE: Policy<RetryOn> = FAST
        .with_name("late")
        .with_max_elapsed(Duration::from_millis(100));
    let calls = Arc::new(AtomicUsize::new(0));
    let late = retry_runtime::sleep::SleepFn(|wait: Duration| tokio::time::sleep(wait * 3));
    let svc = ServiceBuilder::new()
        .layer(
            LATE.layer()
                .with_timeout(Duration::from_secs(5))
                .sleep_with(late),
        )
        .service(answering_busy(calls.clone()));
    let _ = svc.oneshot(Request::new(())).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the late retry was sent");
}

/// A retry woken past the deadline and not sent (`too_late`) is a retry not
/// made, as one whose service was not ready by the deadline is
/// (`not_ready`): its budget token goes back, the breaker counts no call
/// let through (its permit is not taken, or handed back), and the give-up
/// (its line, `on_give_up`, `retry_attempts`) counts the attempts made, 1
/// here. It was judged as a second attempt timed out after 0: a token
/// spent and a breaker call counted for a request never sent, and
/// `failed after 2 attempts` for one call of the service.
#[tokio::test(start_paused = true)]
async fn a_retry_woken_past_the_deadline_is_a_retry_not_made() {
    static BUDGET: RetryBudget = RetryBudget::new("late-not-made");
    static BREAKER: CircuitBreaker = CircuitBreaker::new("late-not-made").with_failures(10);
    static LATE: Policy<RetryOn, retry_runtime::WithCircuit> = FAST
        .with_name("late_not_made")
        .with_on_give_up(crate::note_give_up)
        .with_max_elapsed(Duration::from_millis(100))
        .with_circuit(&BREAKER)
        .with_budget(&BUDGET);
    let logs = capture();
    let calls = Arc::new(AtomicUsize::new(0));
    let late = retry_runtime::sleep::SleepFn(|wait: Duration| tokio::time::sleep(wait * 3));
    let svc = ServiceBuilder::new()
        .layer(
            LATE.layer()
                .with_timeout(Duration::from_secs(5))
                .sleep_with(late),
        )
        .service(answering_busy(calls.clone()));
    let err = svc.oneshot(Request::new(())).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(ref t) if t.after.is_zero()),
        "{err:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the late retry was sent");
    let budget = BUDGET.stats();
    assert_eq!(budget.retries, 0, "a token spent on no retry: {budget:?}");
    let breaker = BREAKER.stats();
    assert_eq!(
        (breaker.permitted, breaker.failures, breaker.neutral),
        (1, 1, 0),
        "{breaker:?}"
    );
    assert_eq!(
        crate::give_ups("late_not_made"),
        [(retry_runtime::StopReason::Deadline, 1, 4)]
    );
    logs.assert_logged(
        Level::ERROR,
        "late_not_made failed after 1 attempt (deadline reached)",
    );
}

/// A failed attempt under the layer over a hyper-util client.
type HyperFailure = retry_runtime::response::Failure<
    Response<hyper::body::Incoming>,
    hyper_util::client::legacy::Error,
>;

/// `with_notify`: the layer's own hook hears of each retry with the failed
/// attempt (its response's code) and the retry's event, after the
/// policy's `before_sleep`, which it does not replace; not of a success,
/// nor of the failure the run gives up on (a 404 at once, the last 503).
#[tokio::test]
async fn the_layers_hook_hears_each_retry_after_the_policys() {
    static HEARD: Mutex<Vec<String>> = Mutex::new(Vec::new());
    fn hook(failure: &HyperFailure, ev: &retry_runtime::RetryEvent<'_>) {
        let what = match failure {
            retry_runtime::response::Failure::Response { failure, .. } => failure.code.to_string(),
            other => format!("{:?}", other.kind()),
        };
        HEARD
            .lock()
            .unwrap()
            .push(format!("hook {} {} {what}", ev.operation, ev.attempt));
    }
    fn before_sleep(ev: &retry_runtime::RetryEvent<'_>) {
        HEARD
            .lock()
            .unwrap()
            .push(format!("before_sleep {}", ev.attempt));
    }
    static HOOKED: Policy<RetryOn> = FAST.with_name("hooked").with_before_sleep(before_sleep);
    let server = FlakyServer::start().await;
    server.route("/clip", [503, 200]);
    server.route("/plain", [200]);
    server.route("/gone", [404]);
    server.route("/down", [503, 503, 503, 503]);
    let layer = RetryLayer::new(&HOOKED).with_notify(hook);
    let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
    let heard = |path: &str| {
        let svc = svc.clone();
        let url = server.url(path);
        async move {
            let response = svc.oneshot(get(&url)).await.unwrap();
            (
                response.status().as_u16(),
                std::mem::take(&mut *HEARD.lock().unwrap()),
            )
        }
    };

    assert_eq!(
        heard("/clip").await,
        (
            200,
            vec!["before_sleep 1".into(), "hook hooked 1 503".into()]
        )
    );
    assert_eq!(heard("/plain").await, (200, vec![]));
    assert_eq!(heard("/gone").await, (404, vec![]));
    let (status, down) = heard("/down").await;
    assert_eq!(status, 503);
    assert_eq!(
        down,
        [1, 2, 3]
            .iter()
            .flat_map(|n| [format!("before_sleep {n}"), format!("hook hooked {n} 503")])
            .collect::<Vec<_>>(),
        "told of the 3 retries, not of the 4th attempt's give-up"
    );
    assert_eq!(server.hits("/down"), 4);
}

/// `with_notify`'s events tell the time since the run started, as a
/// per-call hook's do in every other form (`Retry::notify`): the run reads
/// the clock at its start when a hook listens. The layer read it only for
/// the policy's own needs (a deadline, its callbacks) or a report, so over
/// a plain policy every event said `elapsed: 0`, an SDK's "retrying after
/// 2.3s" line and latency counts with it.
#[tokio::test(start_paused = true)]
async fn the_layers_hook_is_told_the_time_since_the_run_started() {
    use retry_runtime::response::Failure;
    use retry_runtime::RetryEvent;
    type Failed = Failure<Response<String>, Infallible>;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    // each answer takes 100ms: 503, 503, then 200
    let slow = tower::service_fn(move |_: Request<String>| {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(ms(100)).await;
            let mut response = Response::new(String::new());
            if n < 2 {
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            }
            Ok::<_, Infallible>(response)
        }
    });
    let heard = Arc::new(Mutex::new(Vec::new()));
    let told = Arc::clone(&heard);
    let layer = FAST
        .layer()
        .with_notify(move |_: &Failed, ev: &RetryEvent<'_>| {
            told.lock().unwrap().push((ev.attempt, ev.elapsed));
        });
    let response = ServiceBuilder::new()
        .layer(layer)
        .service(slow)
        .oneshot(Request::get("/clips/7").body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // 100ms, a 50ms wait, 100ms
    assert_eq!(*heard.lock().unwrap(), [(1, ms(100)), (2, ms(250))]);
}

/// A `with_classify_response` function under the layer: what a payments
/// API's 409 ("the same key's request is still in flight") and a DELETE's
/// 404 ("already gone") mean.
fn payments(
    r: &Response<()>,
    by_status: Option<retry_runtime::response::ResponseFailure>,
) -> Option<retry_runtime::response::ResponseFailure> {
    use retry_runtime::response::ResponseFailure;
    match (r.status().as_u16(), by_status) {
        (409, Some(f)) => {
            Some(ResponseFailure::new(ErrorKind::Unavailable, 409).with_retry_after(f.retry_after))
        }
        (404, _) if r.headers().contains_key("x-deleted") => None,
        (_, f) => f,
    }
}

/// A payments API: a charge answered 409 (with `Retry-After: 1`) then 200,
/// a DELETE of a token answered 404 (gone already), any other path 404.
fn payments_api(
    calls: Arc<Mutex<Vec<String>>>,
) -> impl Service<
    Request<()>,
    Response = Response<()>,
    Error = Infallible,
    Future = std::future::Ready<Result<Response<()>, Infallible>>,
> + Clone {
    tower::service_fn(move |request: Request<()>| {
        let path = request.uri().path().to_owned();
        let mut calls = calls.lock().unwrap();
        let before = calls.iter().filter(|p| **p == path).count();
        calls.push(path.clone());
        let response = match (path.as_str(), before) {
            ("/charges/7", 0) => Response::builder().status(409).header("retry-after", "1"),
            ("/charges/7", _) => Response::builder().status(200),
            ("/tokens/9", _) => Response::builder().status(404).header("x-deleted", "1"),
            _ => Response::builder().status(404),
        };
        std::future::ready(Ok(response.body(()).unwrap()))
    })
}

/// `with_classify_response`: a 409 read as Unavailable is retried by a
/// policy retrying that kind, after the 1s its `Retry-After` asks (the
/// paused clock moves by exactly that) and with its lines' kind
/// Unavailable; a DELETE's 404 read as a success is given back at once,
/// with no give-up; other responses keep the status's reading (a 404
/// without the header is Permanent, sent once).
#[tokio::test(start_paused = true)]
async fn responses_read_by_the_layers_function_are_judged_as_it_says() {
    use retry_runtime::response::RetryReport;
    use retry_runtime::StopReason;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let logs = capture();
    let layer = FAST.layer().with_classify_response(payments).with_report();
    let svc = ServiceBuilder::new()
        .layer(layer)
        .service(payments_api(Arc::clone(&calls)));
    let send = |request: Request<()>| {
        let svc = svc.clone();
        async move {
            let start = tokio::time::Instant::now();
            let response = svc.oneshot(request).await.unwrap();
            let report = *response.extensions().get::<RetryReport>().unwrap();
            (
                response.status().as_u16(),
                report.attempts,
                report.gave_up,
                start.elapsed(),
            )
        }
    };

    assert_eq!(
        send(Request::get("/charges/7").body(()).unwrap()).await,
        (200, 2, None, Duration::from_secs(1)),
        "the 409's Retry-After waited, then the 200"
    );
    let line = logs.assert_logged(Level::WARN, "next attempt in 1s (Retry-After)");
    testkit::capture::assert_fields(&line, &[("error_kind", "Unavailable")]);

    let deleted = send(Request::delete("/tokens/9").body(()).unwrap()).await;
    assert_eq!(deleted, (404, 1, None, Duration::ZERO), "a success");
    let missing = send(Request::get("/missing").body(()).unwrap()).await;
    assert_eq!(
        missing,
        (404, 1, Some(StopReason::Permanent), Duration::ZERO)
    );
    assert_eq!(
        *calls.lock().unwrap(),
        ["/charges/7", "/charges/7", "/tokens/9", "/missing"]
    );
    assert!(logs.matching(Level::WARN, "non-retriable").len() == 1);
}

/// The hooks with every other option, on a layer made with `new` and one
/// made with `from_fn`: closures (one capturing an `Arc`) and `fn`s, a
/// timeout, a report, the attempt extension, another sleeper; the layer
/// cloned, its call spawned. And `fn` hooks take no room in a call's
/// future: it is the size of a call without them.
#[tokio::test(start_paused = true)]
async fn the_hooks_go_with_every_other_option() {
    use retry_runtime::response::{Failure, ResponseFailure, RetryReport};
    use retry_runtime::RetryEvent;
    use tower::Layer;
    type Failed = Failure<Response<()>, Infallible>;
    fn current() -> &'static Policy<RetryOn> {
        &FAST
    }
    let heard = Arc::new(Mutex::new(Vec::new()));
    let told = Arc::clone(&heard);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let layer = RetryLayer::from_fn(current)
        .with_timeout(Duration::from_secs(5))
        .with_notify(move |failure: &Failed, ev: &RetryEvent<'_>| {
            told.lock().unwrap().push((ev.attempt, failure.kind()));
        })
        .with_report()
        .with_attempt_extension()
        .with_classify_response(|r: &Response<()>, read: Option<ResponseFailure>| payments(r, read))
        .sleep_with(tokio::time::sleep);
    let svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(payments_api(Arc::clone(&calls)));
    let request = Request::put("/charges/7").body(()).unwrap();
    let response = tokio::spawn(svc.oneshot(request)).await.unwrap().unwrap();
    assert_eq!(
        response.extensions().get::<RetryReport>().unwrap().attempts,
        2
    );
    assert_eq!(*heard.lock().unwrap(), [(1, ErrorKind::Unavailable)]);

    fn noted(_: &Failed, _: &RetryEvent<'_>) {}
    let plain = FAST.layer().with_timeout(ms(100)).with_report();
    let hooked = FAST
        .layer()
        .with_classify_response(payments)
        .with_notify(noted)
        .with_timeout(ms(100))
        .with_report();
    let mut plain = plain.layer(payments_api(Arc::clone(&calls)));
    let mut hooked = hooked.clone().layer(payments_api(Arc::clone(&calls)));
    let request = || Request::delete("/tokens/9").body(()).unwrap();
    assert_eq!(
        std::mem::size_of_val(&hooked.call(request())),
        std::mem::size_of_val(&plain.call(request()))
    );
    let deleted = hooked.call(request()).await.unwrap();
    assert_eq!(
        deleted.extensions().get::<RetryReport>().unwrap().gave_up,
        None
    );
    assert!(format!("{:?}", FAST.layer().with_notify(noted)).starts_with("RetryLayer {"));
}

/// What a hook costs in each call's future, as `Hooks` and `with_notify`
/// say: a `fn` item, or a closure naming a `static` (not captured),
/// nothing; a closure capturing a `&'static` value, a pointer (the docs
/// said such a closure took no room: it took 8 bytes per call).
#[test]
fn a_hook_costs_its_captures_in_each_calls_future() {
    use retry_runtime::response::Failure;
    use retry_runtime::RetryEvent;
    use tower::Layer;
    type Failed = Failure<Response<()>, Infallible>;
    static TOLD: AtomicUsize = AtomicUsize::new(0);
    fn counted(_: &Failed, _: &RetryEvent<'_>) {
        TOLD.fetch_add(1, Ordering::Relaxed);
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let service = || answering_busy(Arc::clone(&calls));
    let request = || Request::new(());
    let plain = std::mem::size_of_val(&FAST.layer().layer(service()).call(request()));
    let mut svc = FAST.layer().with_notify(counted).layer(service());
    let fn_item = std::mem::size_of_val(&svc.call(request()));
    let naming_a_static = |_: &Failed, _: &RetryEvent<'_>| {
        TOLD.fetch_add(1, Ordering::Relaxed);
    };
    let mut svc = FAST.layer().with_notify(naming_a_static).layer(service());
    let naming_a_static = std::mem::size_of_val(&svc.call(request()));
    let told: &'static AtomicUsize = &TOLD;
    let capturing = move |_: &Failed, _: &RetryEvent<'_>| {
        told.fetch_add(1, Ordering::Relaxed);
    };
    let mut svc = FAST.layer().with_notify(capturing).layer(service());
    let capturing_a_static_ref = std::mem::size_of_val(&svc.call(request()));
    assert_eq!((fn_item, naming_a_static), (plain, plain));
    assert_eq!(
        capturing_a_static_ref,
        plain + std::mem::size_of::<&AtomicUsize>()
    );
}

/// A client library keeps its layer in a struct field, its type written
/// out: the settings are one type whatever order they were asked for in
/// (`WithReport<WithAttemptExtension<WithTimeout>>`; the two orders made
/// two types, and a builder in the other order did not compile), its hooks
/// `fn` pointers (`NotifyFn`, `ClassifyResponseFn`) in the setters'
/// wrappers (`NotifyWith`, `ClassifyWith`). Either way, each
/// request carries its attempt, each response its report, the hooks run.
#[tokio::test(start_paused = true)]
async fn a_client_library_names_its_layer_whatever_order_it_built_it_in() {
    use retry_runtime::response::{Failure, RetryReport};
    use retry_runtime::tower::{
        ClassifyResponseFn, ClassifyWith, FixedPolicy, Hooks, NotifyFn, NotifyWith,
        WithAttemptExtension, WithReport, WithTimeout,
    };
    use retry_runtime::{Attempt, RetryEvent};
    type Failed = Failure<Response<()>, Infallible>;
    type SdkHooks =
        Hooks<NotifyWith<NotifyFn<Failed>>, ClassifyWith<ClassifyResponseFn<Response<()>>>>;
    type Sdk = RetryLayer<
        RetryOn,
        NoCircuit,
        DefaultSleeper,
        WithReport<WithAttemptExtension<WithTimeout>>,
        FixedPolicy<RetryOn>,
        SdkHooks,
    >;
    static TOLD: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    fn told(_: &Failed, _: &RetryEvent<'_>) {
        TOLD.fetch_add(1, Ordering::Relaxed);
    }
    struct Client {
        retry: Sdk,
    }
    fn hooked<T>(
        layer: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, T>,
    ) -> RetryLayer<RetryOn, NoCircuit, DefaultSleeper, T, FixedPolicy<RetryOn>, SdkHooks> {
        layer
            .with_notify(told as NotifyFn<Failed>)
            .with_classify_response(payments as ClassifyResponseFn<Response<()>>)
    }
    let clients = [
        Client {
            retry: hooked(FAST.layer().with_report().with_attempt_extension())
                .with_timeout(Duration::from_secs(5)),
        },
        Client {
            retry: hooked(FAST.layer().with_timeout(Duration::from_secs(5)))
                .with_attempt_extension()
                .with_report(),
        },
    ];
    for client in clients {
        TOLD.store(0, Ordering::Relaxed);
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&attempts);
        let calls = Arc::new(Mutex::new(Vec::new()));
        let svc = ServiceBuilder::new()
            .layer(client.retry.clone())
            .map_request(move |request: Request<()>| {
                let attempt = request.extensions().get::<Attempt>().map(|a| a.number);
                seen.lock().unwrap().push(attempt);
                request
            })
            .service(payments_api(Arc::clone(&calls)));
        let charged = svc
            .oneshot(Request::put("/charges/7").body(()).unwrap())
            .await
            .unwrap();
        let report = charged.extensions().get::<RetryReport>().unwrap();
        assert_eq!((charged.status().as_u16(), report.attempts), (200, 2));
        assert_eq!(*attempts.lock().unwrap(), [Some(1), Some(2)]);
        assert_eq!(TOLD.load(Ordering::Relaxed), 1);
        let shown = format!("{:?}", client.retry);
        assert!(
            shown.contains("timeout: Some(5s)")
                && shown.contains("attempt_extension: true, report: true"),
            "{shown}"
        );
    }
}

/// An SDK's client's reading of the status its API answers when it is
/// busy (a 409 for one, a 423 for another): Unavailable, retried.
#[derive(Clone)]
struct BusyStatus(u16);

impl ClassifyHook<Response<()>> for BusyStatus {
    type Sent = ();

    fn classify(
        &self,
        _: &(),
        r: &Response<()>,
        read: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match read {
            Some(_) if r.status().as_u16() == self.0 => {
                Some(ResponseFailure::new(ErrorKind::Unavailable, self.0))
            }
            read => read,
        }
    }
}

/// An SDK whose hooks hold state of each client (its retries counted per
/// client, its id in its lines, a status each client reads its own way):
/// structs of its own implementing `RetryHook` and `ClassifyHook`, named
/// in its client's field (a capturing closure's type has no name), given
/// with `with_retry_hook` and `with_classify_hook`. Each client counts its
/// own retries; an `Arc` of a hook is a hook too.
#[tokio::test(start_paused = true)]
async fn an_sdks_hooks_are_structs_with_state_of_each_client() {
    use retry_runtime::response::Failure;
    use retry_runtime::tower::{FixedPolicy, Hooks, RetryHook};
    use retry_runtime::RetryEvent;
    type Failed = Failure<Response<()>, Infallible>;

    /// Counts its client's retries, and says which client in its lines.
    #[derive(Clone)]
    struct Counter {
        client: &'static str,
        retries: Arc<AtomicUsize>,
    }
    impl RetryHook<Failed> for Counter {
        fn on_retry(&self, failure: &Failed, ev: &RetryEvent<'_>) {
            self.retries.fetch_add(1, Ordering::Relaxed);
            tracing::info!(target: "clipsdk", client = self.client, attempt = ev.attempt, kind = ?failure.kind(), "retrying");
        }
    }
    type Layered = RetryLayer<
        RetryOn,
        NoCircuit,
        DefaultSleeper,
        NoTimeout,
        FixedPolicy<RetryOn>,
        Hooks<Counter, BusyStatus>,
    >;
    struct Client {
        retry: Layered,
        retries: Arc<AtomicUsize>,
    }
    impl Client {
        fn new(id: &'static str, busy: u16) -> Client {
            let retries = Arc::new(AtomicUsize::new(0));
            let counter = Counter {
                client: id,
                retries: Arc::clone(&retries),
            };
            Client {
                retry: FAST
                    .layer()
                    .with_retry_hook(counter)
                    .with_classify_hook(BusyStatus(busy)),
                retries,
            }
        }
    }
    // each API answers its busy status twice, then 200
    let (a, b) = (Client::new("a", 409), Client::new("b", 423));
    let (calls_a, calls_b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let svc_a = a
        .retry
        .layer(answering(Arc::clone(&calls_a), &[409, 409, 200]));
    let svc_b = b.retry.layer(answering(Arc::clone(&calls_b), &[423, 200]));
    assert_eq!(svc_a.oneshot(Request::new(())).await.unwrap().status(), 200);
    assert_eq!(svc_b.oneshot(Request::new(())).await.unwrap().status(), 200);
    assert_eq!(
        (
            a.retries.load(Ordering::Relaxed),
            b.retries.load(Ordering::Relaxed)
        ),
        (2, 1)
    );
    assert_eq!(
        (
            calls_a.load(Ordering::SeqCst),
            calls_b.load(Ordering::SeqCst)
        ),
        (3, 2)
    );

    // a hook that is not `Clone` (its state inline), shared by its `Arc`
    struct Inline(AtomicUsize);
    impl RetryHook<Failed> for Inline {
        fn on_retry(&self, _: &Failed, _: &RetryEvent<'_>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let inline = Arc::new(Inline(AtomicUsize::new(0)));
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = FAST
        .layer()
        .with_retry_hook(Arc::clone(&inline))
        .layer(answering(calls, &[503, 200]));
    assert_eq!(svc.oneshot(Request::new(())).await.unwrap().status(), 200);
    assert_eq!(inline.0.load(Ordering::Relaxed), 1);

    // closures given to `with_notify` and `with_classify_response` still
    // leave their arguments' types out
    let told = Arc::new(AtomicUsize::new(0));
    let heard = Arc::clone(&told);
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = FAST
        .layer()
        .with_notify(move |_, ev| {
            heard.fetch_add(ev.attempt as usize, Ordering::Relaxed);
        })
        .with_classify_response(|_, read| read)
        .layer(answering(calls, &[503, 200]));
    assert_eq!(svc.oneshot(Request::new(())).await.unwrap().status(), 200);
    assert_eq!(told.load(Ordering::Relaxed), 1);
}

/// An SDK that lets its own users plug in a hook without a type
/// parameter on its client: the layer's hooks as trait objects,
/// `Arc<dyn RetryHook<..> + Send + Sync>` and `Arc<dyn ClassifyHook<..> +
/// Send + Sync>`, named in the client's field, the service spawned on a
/// multi-thread runtime. Each is told as the struct behind it would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdks_hooks_may_be_trait_objects_behind_an_arc() {
    use retry_runtime::response::Failure;
    use retry_runtime::tower::{FixedPolicy, Hooks, RetryHook};
    use retry_runtime::RetryEvent;
    type Failed = Failure<Response<()>, Infallible>;
    type OnRetry = Arc<dyn RetryHook<Failed> + Send + Sync>;
    type Reading = Arc<dyn ClassifyHook<Response<()>, Sent = ()> + Send + Sync>;

    /// What the SDK's user gave it: counts the retries.
    struct Counter(AtomicUsize);
    impl RetryHook<Failed> for Counter {
        fn on_retry(&self, _: &Failed, _: &RetryEvent<'_>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    struct Client {
        retry: RetryLayer<
            RetryOn,
            NoCircuit,
            DefaultSleeper,
            NoTimeout,
            FixedPolicy<RetryOn>,
            Hooks<OnRetry, Reading>,
        >,
    }
    const QUICK: Policy<RetryOn> = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(Duration::from_millis(1)))
        .retry_on(KindSet::TRANSIENT);
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    let client = Client {
        retry: QUICK
            .layer()
            .with_retry_hook(Arc::clone(&counter) as OnRetry)
            .with_classify_hook(Arc::new(BusyStatus(409)) as Reading),
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = client
        .retry
        .layer(answering(Arc::clone(&calls), &[409, 503, 200]));
    let response = tokio::spawn(svc.oneshot(Request::new(())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        (
            counter.0.load(Ordering::Relaxed),
            calls.load(Ordering::SeqCst)
        ),
        (2, 3)
    );
}

/// The SDK rule a response alone cannot tell: a DELETE's 404 is a success
/// (the clip is gone already), a GET's a failure. A `with_classify_sent`
/// function, told the request's method.
fn gone_is_done(
    method: &http::Method,
    r: &Response<()>,
    by_status: Option<ResponseFailure>,
) -> Option<ResponseFailure> {
    if method == http::Method::DELETE && r.status() == StatusCode::NOT_FOUND {
        None
    } else {
        by_status
    }
}

/// A service answering `statuses` in turn (then 404), each request's
/// method in `seen`.
fn answering_methods<B>(
    seen: &Arc<Mutex<Vec<http::Method>>>,
    statuses: &'static [u16],
) -> impl Service<
    Request<B>,
    Response = Response<()>,
    Error = Infallible,
    Future = std::future::Ready<Result<Response<()>, Infallible>>,
> + Clone {
    let seen = Arc::clone(seen);
    tower::service_fn(move |request: Request<B>| {
        let mut seen = seen.lock().unwrap();
        let status = statuses.get(seen.len()).copied().unwrap_or(404);
        seen.push(request.method().clone());
        std::future::ready(Ok(Response::builder().status(status).body(()).unwrap()))
    })
}

/// What a call of `svc` with `request` came to: the status given back,
/// and the report's attempts and reason to give up.
async fn outcome<S, B>(svc: S, request: Request<B>) -> (u16, u32, Option<retry_runtime::StopReason>)
where
    S: Service<Request<B>, Response = Response<()>>,
    S::Error: std::fmt::Debug,
{
    use retry_runtime::response::RetryReport;
    let response = svc.oneshot(request).await.unwrap();
    let report = response.extensions().get::<RetryReport>().unwrap();
    (response.status().as_u16(), report.attempts, report.gave_up)
}

/// `with_classify_sent`: the reading is told the request's method, so a
/// DELETE's 404 is a success and a GET's is a failure, sent once, whatever
/// attempt it answers: the last one, which sends the request itself (not a
/// copy: the layer has moved it into the service by then), a request
/// sent once for its body or its method. Other statuses keep their
/// reading (a DELETE's 503 is retried). On a layer made with `new`,
/// `from_fn` and `from_policy`, each its own `call`.
#[tokio::test(start_paused = true)]
async fn a_reading_told_the_method_reads_a_deletes_404_apart_from_a_gets() {
    use http::Method;
    use retry_runtime::StopReason;
    fn current() -> &'static Policy<RetryOn> {
        &FAST
    }
    let logs = capture();
    let seen = Arc::new(Mutex::new(Vec::<Method>::new()));
    let methods = |expected: usize| {
        let sent = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(sent.len(), expected, "{sent:?}");
        sent[0].clone()
    };
    let layer = FAST.layer().with_classify_sent(gone_is_done).with_report();
    let delete = || Request::delete("/clips/9").body(()).unwrap();
    let get = || Request::get("/clips/9").body(()).unwrap();

    let svc = layer.layer(answering_methods(&seen, &[]));
    assert_eq!(outcome(svc.clone(), delete()).await, (404, 1, None));
    assert_eq!(methods(1), Method::DELETE);
    assert_eq!(
        outcome(svc, get()).await,
        (404, 1, Some(StopReason::Permanent))
    );
    assert_eq!(methods(1), Method::GET);
    assert_eq!(logs.matching(Level::WARN, "non-retriable").len(), 1);

    // the 404 answers the last attempt (FAST: 4), the request itself
    let busy_then_gone = &[503, 503, 503];
    let from_fn = RetryLayer::from_fn(current)
        .with_classify_sent(gone_is_done)
        .with_report();
    let owned = RetryLayer::from_policy(FAST)
        .with_classify_sent(gone_is_done)
        .with_report();
    let by_new = outcome(
        layer.layer(answering_methods(&seen, busy_then_gone)),
        delete(),
    );
    assert_eq!(by_new.await, (404, 4, None));
    assert_eq!(methods(4), Method::DELETE);
    let by_fn = outcome(
        from_fn.layer(answering_methods(&seen, busy_then_gone)),
        delete(),
    );
    assert_eq!(by_fn.await, (404, 4, None));
    assert_eq!(methods(4), Method::DELETE);
    let by_owned = outcome(
        owned.layer(answering_methods(&seen, busy_then_gone)),
        delete(),
    );
    assert_eq!(by_owned.await, (404, 4, None));
    assert_eq!(methods(4), Method::DELETE);
    let get_after_busy = outcome(layer.layer(answering_methods(&seen, &[503])), get());
    assert_eq!(get_after_busy.await, (404, 2, Some(StopReason::Permanent)));
    assert_eq!(methods(2), Method::GET);

    // a body that cannot be copied: the request itself, sent once
    let streamed = || Request::delete("/clips/9").body(SendOnce::new(())).unwrap();
    let once = layer.layer(answering_methods::<SendOnce<()>>(&seen, &[]));
    assert_eq!(outcome(once, streamed()).await, (404, 1, None));
    assert_eq!(methods(1), Method::DELETE);
    let once = layer.layer(answering_methods::<SendOnce<()>>(&seen, &[503]));
    assert_eq!(
        outcome(once, streamed()).await,
        (503, 1, Some(StopReason::SentOnce))
    );
    assert_eq!(methods(1), Method::DELETE);
    // a POST, sent once for its method: its 404 is no DELETE's
    let post = Request::post("/clips/9").body(()).unwrap();
    let posted = outcome(layer.layer(answering_methods(&seen, &[])), post);
    assert_eq!(posted.await, (404, 1, Some(StopReason::Permanent)));
    assert_eq!(methods(1), Method::POST);
}

/// A layer has one reading: `with_classify_sent`, `with_classify_response`
/// and `with_classify_hook` each replace the one set before, whichever
/// order they come in (an SDK that sets its rule and hands the layer on
/// loses it to a later setter: documented on each).
#[tokio::test(start_paused = true)]
async fn the_last_reading_set_is_the_one_the_layer_uses() {
    use retry_runtime::StopReason;
    fn as_read(_: &Response<()>, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
        by_status
    }
    let seen = Arc::new(Mutex::new(Vec::<http::Method>::new()));
    let delete = || Request::delete("/clips/9").body(()).unwrap();

    // told the method last: the DELETE's 404 is a success
    let sent_last = FAST
        .layer()
        .with_classify_response(as_read)
        .with_classify_sent(gone_is_done)
        .with_report();
    let svc = sent_last.layer(answering_methods(&seen, &[]));
    assert_eq!(outcome(svc, delete()).await, (404, 1, None));

    // the response alone last: the 404 is read by its status again
    let response_last = FAST
        .layer()
        .with_classify_sent(gone_is_done)
        .with_classify_response(as_read)
        .with_report();
    let svc = response_last.layer(answering_methods(&seen, &[]));
    assert_eq!(
        outcome(svc, delete()).await,
        (404, 1, Some(StopReason::Permanent))
    );
    let hook_last = FAST
        .layer()
        .with_classify_sent(gone_is_done)
        .with_classify_hook(retry_runtime::tower::AsClassified)
        .with_report();
    let svc = hook_last.layer(answering_methods(&seen, &[]));
    assert_eq!(
        outcome(svc, delete()).await,
        (404, 1, Some(StopReason::Permanent))
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

/// A reading of an SDK's own type told what was sent (its `Sent`: here the
/// method and the URI, a pair), given with `with_classify_hook` as a
/// reading of the response alone is: a 409 on a charge is its key's
/// request still in flight, busy; a DELETE's 404 a success. Named in a
/// client's field, as a struct, behind an `Arc<dyn ClassifyHook<..,
/// Sent = ..>>`, and as a `fn` pointer (`ClassifySentFn` in
/// `ClassifySentWith`); each keeps the part its type says.
#[tokio::test(start_paused = true)]
async fn an_sdks_reading_of_its_own_type_is_told_what_was_sent() {
    use http::{Method, Uri};
    use retry_runtime::tower::{ClassifySentFn, ClassifySentWith, FixedPolicy, Hooks};
    use retry_runtime::{NoNotify, StopReason};

    /// The payments API's rules, for the client's API version.
    #[derive(Clone)]
    struct Payments {
        charges: &'static str,
    }
    impl ClassifyHook<Response<()>> for Payments {
        type Sent = (Method, Uri);
        fn classify(
            &self,
            (method, uri): &(Method, Uri),
            r: &Response<()>,
            read: Option<ResponseFailure>,
        ) -> Option<ResponseFailure> {
            match r.status() {
                StatusCode::CONFLICT if uri.path().starts_with(self.charges) => {
                    Some(ResponseFailure::new(ErrorKind::Unavailable, 409))
                }
                StatusCode::NOT_FOUND if method == Method::DELETE => None,
                _ => read,
            }
        }
    }
    type Layered<C> = RetryLayer<
        RetryOn,
        NoCircuit,
        DefaultSleeper,
        NoTimeout,
        FixedPolicy<RetryOn>,
        Hooks<NoNotify, C>,
    >;
    type Shared = Arc<dyn ClassifyHook<Response<()>, Sent = (Method, Uri)> + Send + Sync>;
    type ByMethod = ClassifySentWith<ClassifySentFn<Method, Response<()>>, Method>;
    struct Client {
        own: Layered<Payments>,
        shared: Layered<Shared>,
        by_method: Layered<ByMethod>,
    }
    let client = Client {
        own: FAST.layer().with_classify_hook(Payments {
            charges: "/v2/charges/",
        }),
        shared: FAST.layer().with_classify_hook(Arc::new(Payments {
            charges: "/v2/charges/",
        }) as Shared),
        by_method: FAST
            .layer()
            .with_classify_sent(gone_is_done as ClassifySentFn<Method, Response<()>>),
    };
    // (each service answers its own script: a fresh list of what it saw)
    let run = |request: Request<()>| async {
        let own = outcome(
            client
                .own
                .clone()
                .with_report()
                .layer(answering_methods(&Default::default(), &[409])),
            request.clone(),
        );
        let own = own.await;
        let shared = outcome(
            client
                .shared
                .clone()
                .with_report()
                .layer(answering_methods(&Default::default(), &[409])),
            request,
        );
        (own, shared.await)
    };
    let charge = Request::put("/v2/charges/7").body(()).unwrap();
    let busy = (404, 2, Some(StopReason::Permanent)); // the 409 retried, then a 404
    assert_eq!(run(charge).await, (busy, busy));
    let token = Request::put("/v2/tokens/7").body(()).unwrap();
    let conflict = (409, 1, Some(StopReason::Permanent));
    assert_eq!(run(token).await, (conflict, conflict));
    let gone = Request::delete("/v2/tokens/7").body(()).unwrap();
    let (own, shared) = run(gone.clone()).await;
    assert_eq!((own, shared), (conflict, conflict), "a 409 is no 404");
    let gone_at_once = outcome(
        client
            .own
            .clone()
            .with_report()
            .layer(answering_methods(&Default::default(), &[])),
        gone.clone(),
    );
    assert_eq!(gone_at_once.await, (404, 1, None));
    let by_method = outcome(
        client
            .by_method
            .with_report()
            .layer(answering_methods(&Default::default(), &[])),
        gone,
    );
    assert_eq!(by_method.await, (404, 1, None));
}

/// A `reqwest::Client` under the layer, its own `Service<reqwest::Request>`
/// (no `http::Request` in between): the reading is told the method
/// (`Method` of a `reqwest::Request`), so a DELETE's 404 is a success and a
/// GET's a failure, here on the second attempt (after a 503: the request
/// itself, moved into the client by then); and `with_report` puts each
/// run's report in the `reqwest::Response`'s extensions, as in an
/// `http::Response`'s.
#[tokio::test]
async fn a_reqwest_client_under_the_layer_tells_its_reading_the_method() {
    use http::Method;
    use retry_runtime::StopReason;
    fn gone_is_done(
        method: &Method,
        r: &reqwest::Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        if method == Method::DELETE && r.status() == StatusCode::NOT_FOUND {
            None
        } else {
            by_status
        }
    }
    let server = FlakyServer::start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let svc = FAST
        .layer()
        .with_classify_sent(gone_is_done)
        .with_report()
        .layer(client);
    let url: reqwest::Url = server.url("/clips/9").parse().unwrap();
    let send = |method: Method| {
        let (svc, url) = (svc.clone(), url.clone());
        async move {
            let response = svc
                .oneshot(reqwest::Request::new(method, url))
                .await
                .unwrap();
            status_and_report(&response)
        }
    };
    server.route("/clips/9", [503, 404]);
    assert_eq!(send(Method::DELETE).await, (404, Some((2, None))));
    server.route("/clips/9", [503, 404]);
    assert_eq!(
        send(Method::GET).await,
        (404, Some((2, Some(StopReason::Permanent))))
    );
    assert_eq!(server.hits("/clips/9"), 4);
}

/// A reqwest response through the layer `with_report`: its status, and
/// its report's attempts and why the run gave up.
fn status_and_report(
    response: &reqwest::Response,
) -> (u16, Option<(u32, Option<retry_runtime::StopReason>)>) {
    let report = response
        .extensions()
        .get::<retry_runtime::response::RetryReport>()
        .copied();
    (
        response.status().as_u16(),
        report.map(|r| (r.attempts, r.gave_up)),
    )
}

/// A `reqwest::Client` under the layer, its reading told the URL
/// (`reqwest::Url` of a `reqwest::Request`, feature `reqwest`): a 404 on a
/// lock says the clip is not locked, a success, where a 404 on the clip
/// itself is a failure; read on the second attempt too, after a 503 (the
/// request itself moved into the client by then: the URL was kept at the
/// call's start). A pair, `(Method, Url)`, is told both.
#[tokio::test]
async fn a_reqwest_client_under_the_layer_tells_its_reading_the_url() {
    use http::Method;
    use retry_runtime::response::RetryReport;
    use retry_runtime::StopReason;
    fn unlocked(
        url: &reqwest::Url,
        r: &reqwest::Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        if url.path().ends_with("/lock") && r.status() == StatusCode::NOT_FOUND {
            None
        } else {
            by_status
        }
    }
    let server = FlakyServer::start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let svc = FAST
        .layer()
        .with_classify_sent(unlocked)
        .with_report()
        .layer(client.clone());
    let send = |path: &str| {
        let svc = svc.clone();
        let url: reqwest::Url = server.url(path).parse().unwrap();
        async move {
            let response = svc
                .oneshot(reqwest::Request::new(Method::GET, url))
                .await
                .unwrap();
            status_and_report(&response)
        }
    };
    server.route("/clips/9/lock", [503, 404]);
    assert_eq!(send("/clips/9/lock").await, (404, Some((2, None))));
    server.route("/clips/9", [503, 404]);
    assert_eq!(
        send("/clips/9").await,
        (404, Some((2, Some(StopReason::Permanent))))
    );
    assert_eq!(server.hits("/clips/9/lock") + server.hits("/clips/9"), 4);

    // both parts: a DELETE of a lock that is gone already is done
    fn lock_released(
        (method, url): &(Method, reqwest::Url),
        r: &reqwest::Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        let gone = method == Method::DELETE && url.path().ends_with("/lock");
        if gone && r.status() == StatusCode::NOT_FOUND {
            None
        } else {
            by_status
        }
    }
    let svc = FAST
        .layer()
        .with_classify_sent(lock_released)
        .with_report()
        .layer(client);
    server.route("/clips/8/lock", [404]);
    let url: reqwest::Url = server.url("/clips/8/lock").parse().unwrap();
    let response = svc
        .oneshot(reqwest::Request::new(Method::DELETE, url))
        .await
        .unwrap();
    let report = response.extensions().get::<RetryReport>().copied().unwrap();
    assert_eq!(
        (response.status(), report.gave_up),
        (StatusCode::NOT_FOUND, None)
    );
}

/// What a reading told of the request costs in each call's future: the
/// part it keeps (an `http::Method`), nothing more; a reading of the
/// response alone, a `fn` or a struct with `Sent = ()`, nothing at all.
#[test]
fn a_reading_told_the_method_costs_the_method_in_each_calls_future() {
    let calls = Arc::new(AtomicUsize::new(0));
    let service = || answering(Arc::clone(&calls), &[]);
    let request = || Request::delete("/clips/9").body(()).unwrap();
    let plain = std::mem::size_of_val(&FAST.layer().layer(service()).call(request()));
    let mut svc = FAST
        .layer()
        .with_classify_response(payments)
        .layer(service());
    let by_response = std::mem::size_of_val(&svc.call(request()));
    let mut svc = FAST
        .layer()
        .with_classify_hook(BusyStatus(409))
        .layer(service());
    let by_struct = std::mem::size_of_val(&svc.call(request()));
    let mut svc = FAST
        .layer()
        .with_classify_sent(gone_is_done)
        .layer(service());
    let by_method = std::mem::size_of_val(&svc.call(request()));
    assert_eq!((by_response, by_struct), (plain, plain));
    assert_eq!(by_method, plain + std::mem::size_of::<http::Method>());
}

/// A request type of the user's own (a `Replay` of theirs, not an
/// `http::Request`) with a response of theirs: a reading of the response
/// alone works as it does for any request, and one told what was sent
/// is told the part the user says it keeps (`RequestPart` for a type of
/// theirs): a missing row of the cache table is a success, of any other
/// table a failure.
#[tokio::test(start_paused = true)]
async fn a_request_type_of_yours_tells_the_reading_the_part_you_say() {
    use retry_runtime::response::ClassifyResponse;
    use retry_runtime::tower::{Replay, RequestPart};

    #[derive(Clone)]
    struct Lookup {
        table: &'static str,
    }
    impl Replay for Lookup {
        fn replay(&self) -> Option<Self> {
            Some(self.clone())
        }
    }
    /// A reply: the row, if found (every lookup answered busy first).
    struct Reply {
        busy: bool,
        found: bool,
    }
    impl ClassifyResponse for Reply {
        fn failure(&self) -> Option<ResponseFailure> {
            if self.busy {
                Some(ResponseFailure::new(ErrorKind::Unavailable, 1))
            } else if !self.found {
                Some(ResponseFailure::new(ErrorKind::Permanent, 2))
            } else {
                None
            }
        }
    }
    /// The table a lookup read: what the reading is told.
    struct Table(&'static str);
    impl RequestPart<Lookup> for Table {
        fn from_request(lookup: &Lookup) -> Table {
            Table(lookup.table)
        }
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let store = {
        let calls = Arc::clone(&calls);
        tower::service_fn(move |_: Lookup| {
            let busy = calls.fetch_add(1, Ordering::SeqCst) % 2 == 0;
            std::future::ready(Ok::<_, Infallible>(Reply { busy, found: false }))
        })
    };
    let as_read = FAST
        .layer()
        .with_classify_response(|_: &Reply, read| read)
        .layer(store.clone());
    let reply = as_read.oneshot(Lookup { table: "clips" }).await.unwrap();
    assert_eq!(
        (
            reply.failure().map(|f| f.code),
            calls.swap(0, Ordering::SeqCst)
        ),
        (Some(2), 2)
    );

    let cache_misses_are_fine = |table: &Table, _: &Reply, read: Option<ResponseFailure>| {
        read.filter(|f| !(table.0 == "cache" && f.code == 2))
    };
    let layer = FAST.layer().with_classify_sent(cache_misses_are_fine);
    let told = Arc::new(AtomicUsize::new(0));
    let heard = Arc::clone(&told);
    let svc = layer
        .with_notify(move |_, _| {
            heard.fetch_add(1, Ordering::SeqCst);
        })
        .layer(store);
    let missed = svc
        .clone()
        .oneshot(Lookup { table: "cache" })
        .await
        .unwrap();
    assert!(!missed.found);
    assert_eq!(
        (
            calls.swap(0, Ordering::SeqCst),
            told.swap(0, Ordering::SeqCst)
        ),
        (2, 1)
    );
    // a miss elsewhere: the same reply, a failure given back at once
    svc.oneshot(Lookup { table: "clips" }).await.unwrap();
    assert_eq!(
        (calls.load(Ordering::SeqCst), told.load(Ordering::SeqCst)),
        (2, 1)
    );
}

/// A service answering 503 to each request, counting them.
fn busy_503(
    calls: &Arc<AtomicUsize>,
) -> impl Service<
    Request<String>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<String>, Infallible>>,
> + Clone {
    let calls = Arc::clone(calls);
    tower::service_fn(move |_: Request<String>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async {
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            Ok::<_, Infallible>(response)
        }
    })
}

/// An SDK's layer from its user's policy (`from_policy`): named and
/// quieted with the SDK's defaults where the user left them, the user's
/// own name kept; the user's policy as it was.
#[tokio::test(start_paused = true)]
async fn an_sdk_keeps_its_own_copy_of_its_users_policy() {
    use retry_runtime::tower::OwnedPolicy;
    use retry_runtime::Levels;
    use tower::Layer;
    type SdkLayer = RetryLayer<RetryOn, NoCircuit, DefaultSleeper, NoTimeout, OwnedPolicy<RetryOn>>;
    fn sdk_layer(theirs: Policy<RetryOn>) -> SdkLayer {
        RetryLayer::from_policy(
            theirs
                .with_default_name("clipsdk")
                .with_default_levels(Levels::QUIET),
        )
    }
    // the user's policy, made at run time: unnamed, its levels the defaults
    let attempts: u32 = "3".parse().unwrap();
    let theirs = Policy::new()
        .with_max_attempts(attempts)
        .with_backoff(Backoff::fixed(ms(50)))
        .retry_on(KindSet::TRANSIENT);
    let layer = sdk_layer(theirs);
    assert_eq!(
        (layer.policy().name(), layer.policy().levels()),
        ("clipsdk", Levels::QUIET)
    );
    assert_eq!(
        (theirs.name(), theirs.levels(), theirs.max_attempts()),
        (Policy::new().name(), Policy::new().levels(), 3)
    );

    let logs = capture();
    let calls = Arc::new(AtomicUsize::new(0));
    let answered = layer
        .clone()
        .layer(busy_503(&calls))
        .oneshot(Request::get("/clips/7").body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        (answered.status(), calls.load(Ordering::SeqCst)),
        (StatusCode::SERVICE_UNAVAILABLE, 3)
    );
    logs.assert_logged(Level::DEBUG, "retrying clipsdk after attempt 1/3");
    logs.assert_logged(Level::DEBUG, "clipsdk failed after 3 attempts");
    for level in [Level::INFO, Level::WARN, Level::ERROR] {
        assert!(
            logs.matching(level, "clipsdk").is_empty(),
            "{level}: {:?}",
            logs.at(level)
        );
    }

    // a user who named their policy keeps the name
    let named = sdk_layer(theirs.with_name("uploads"));
    assert_eq!(named.policy().name(), "uploads");
    assert!(format!("{named:?}").starts_with(r#"RetryLayer { policy: Policy { name: "uploads","#));
}

/// A call's future holds its own copy of a `from_policy` layer's policy:
/// larger by the policy less the pointer a `new` layer's holds, and
/// `Send` + `'static` (it can be spawned); a `new` layer's is as it was.
#[tokio::test]
async fn a_from_policy_future_holds_a_copy_of_the_policy() {
    use std::mem::{size_of, size_of_val};
    use tower::Layer;
    let answer = |_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) };
    let request = || Request::get("/clip").body(String::new()).unwrap();
    let mut fixed = FAST.layer().layer(tower::service_fn(answer));
    let mut owned = RetryLayer::from_policy(FAST).layer(tower::service_fn(answer));
    let (fixed_size, owned_size) = (
        size_of_val(&fixed.call(request())),
        size_of_val(&owned.call(request())),
    );
    println!("a call's future: new {fixed_size} B, from_policy {owned_size} B");
    assert_eq!(
        fixed_size - size_of::<&Policy<RetryOn>>() + size_of::<Policy<RetryOn>>(),
        owned_size
    );
    let response = tokio::spawn(owned.call(request())).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// `MaxAttempts` in a request's extensions, under a `from_policy` layer:
/// `MaxAttempts(1)` sends a 503'd request once, `MaxAttempts(6)` six
/// times; a request without it keeps the policy's 4, and the layer's
/// policy is as it was. A layer made with `new` reads none.
#[tokio::test(start_paused = true)]
async fn a_requests_own_attempt_limit_applies_under_from_policy() {
    use retry_runtime::request::MaxAttempts;
    use tower::Layer;
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = RetryLayer::from_policy(FAST);
    let svc = layer.layer(busy_503(&calls));
    let sent = |attempts: Option<u32>| {
        let svc = svc.clone();
        let calls = Arc::clone(&calls);
        async move {
            calls.store(0, Ordering::SeqCst);
            let mut request = Request::get("/clips/7").body(String::new()).unwrap();
            if let Some(n) = attempts {
                request.extensions_mut().insert(MaxAttempts(n));
            }
            let response = svc.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            calls.load(Ordering::SeqCst)
        }
    };
    assert_eq!(sent(Some(1)).await, 1);
    assert_eq!(sent(None).await, 4);
    assert_eq!(sent(Some(6)).await, 6);
    assert_eq!(layer.policy().max_attempts(), 4);

    // (not read by a layer made with `new`)
    calls.store(0, Ordering::SeqCst);
    let request = Request::get("/clips/7")
        .extension(MaxAttempts(1))
        .body(String::new())
        .unwrap();
    FAST.layer()
        .layer(busy_503(&calls))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

/// `MaxElapsed` in a request's extensions, under a `from_policy` layer
/// with a per-attempt timeout: an attempt under way is cut at the
/// caller's deadline (not the 5s timeout), a retry that would start past
/// it is not made, and each run ends on the deadline, so its line says.
#[tokio::test(start_paused = true)]
async fn a_requests_own_deadline_cuts_its_attempts_under_from_policy() {
    use retry_runtime::request::MaxElapsed;
    use tokio::time::Instant;
    use tower::Layer;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    // a 503 in 100ms, then an answer that takes a minute
    let slow = tower::service_fn(move |_: Request<String>| {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            let (status, delay) = match n {
                0 => (StatusCode::SERVICE_UNAVAILABLE, ms(100)),
                _ => (StatusCode::OK, Duration::from_secs(60)),
            };
            tokio::time::sleep(delay).await;
            let mut response = Response::new(String::new());
            *response.status_mut() = status;
            Ok::<_, Infallible>(response)
        }
    });
    let layer = RetryLayer::from_policy(FAST.with_name("clips_deadline"))
        .with_timeout(Duration::from_secs(5));
    let logs = capture();
    let started = Instant::now();
    let request = Request::get("/clips/7")
        .extension(MaxElapsed(ms(300)))
        .body(String::new())
        .unwrap();
    let err = layer.layer(slow).oneshot(request).await.unwrap_err();
    // 100ms, a 50ms wait, then the second attempt cut at the 300ms deadline
    let after = match err {
        Error::Timeout(t) => t.after,
        other => panic!("expected the attempt's timeout, got {other:?}"),
    };
    assert_eq!(
        (after, started.elapsed(), calls.load(Ordering::SeqCst)),
        (ms(150), ms(300), 2)
    );
    logs.assert_logged(
        Level::ERROR,
        "clips_deadline failed after 2 attempts (deadline reached)",
    );

    // a 429 asking for 1s, for a caller with 500ms: no retry past it
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let limited = tower::service_fn(move |_: Request<String>| {
        counted.fetch_add(1, Ordering::SeqCst);
        async {
            let response = Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("retry-after", "1")
                .body(String::new())
                .unwrap();
            Ok::<_, Infallible>(response)
        }
    });
    let layer = RetryLayer::from_policy(FAST.with_name("clips_deadline_429"))
        .with_timeout(Duration::from_secs(5));
    let started = Instant::now();
    let request = Request::get("/clips/8")
        .extension(MaxElapsed(ms(500)))
        .body(String::new())
        .unwrap();
    let response = layer.layer(limited).oneshot(request).await.unwrap();
    assert_eq!(
        (
            response.status(),
            started.elapsed(),
            calls.load(Ordering::SeqCst)
        ),
        (StatusCode::TOO_MANY_REQUESTS, ms(0), 1)
    );
    logs.assert_logged(Level::ERROR, "clips_deadline_429 failed after 1 attempt");
    let line = logs.assert_logged(Level::ERROR, "clips_deadline_429");
    assert!(line.contains("deadline reached"), "{line}");
}

/// `OperationName` in a request's extensions, under a `from_policy`
/// layer: its lines and its `retry_calls_total{operation}` name it; a
/// request without one keeps the policy's name.
#[test]
fn a_requests_operation_name_names_its_lines_and_metrics_under_from_policy() {
    use retry_runtime::request::{MaxAttempts, OperationName};
    use tower::Layer;
    let logs = capture();
    let recorded = crate::with_metrics(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = RetryLayer::from_policy(FAST.with_name("clipsdk_named")).layer(busy_503(&calls));
        let request = Request::get("/clips/7")
            .extension(OperationName("clipsdk_named.upload"))
            .extension(MaxAttempts(2))
            .body(String::new())
            .unwrap();
        svc.clone().oneshot(request).await.unwrap();
        let request = Request::get("/clips/7")
            .extension(MaxAttempts(1))
            .body(String::new())
            .unwrap();
        svc.oneshot(request).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    });
    let retried = logs.assert_logged(
        Level::WARN,
        "retrying clipsdk_named.upload after attempt 1/2",
    );
    testkit::capture::assert_fields(&retried, &[("operation", "clipsdk_named.upload")]);
    logs.assert_logged(Level::ERROR, "clipsdk_named.upload failed after 2 attempts");
    logs.assert_logged(Level::ERROR, "clipsdk_named failed after 1 attempt");
    assert_eq!(
        crate::outcome(&recorded, "clipsdk_named.upload"),
        ["attempts_exhausted"]
    );
    assert_eq!(
        crate::outcome(&recorded, "clipsdk_named"),
        ["attempts_exhausted"]
    );
}

/// `testing::NoWait` under `testing::pause()`: the layer's waits are
/// virtual, so `max_elapsed` ends its run where the waits add up to it, as
/// in production (NoWait's docs), over a real server and without a wait.
#[tokio::test]
async fn no_wait_under_pause_keeps_the_layer_s_max_elapsed() {
    let server = FlakyServer::start().await;
    server.route("/down", [503]);
    let s = Duration::from_secs;
    let policy = Policy::new()
        .with_max_attempts(100)
        .with_backoff(Backoff::exponential(s(1), s(4)))
        .with_max_elapsed(s(10))
        .with_name("clips.deadline")
        .retry_on(KindSet::TRANSIENT);
    let paused = retry_runtime::testing::pause();
    let layer = RetryLayer::from_policy(policy).sleep_with(NoWait);
    let svc = ServiceBuilder::new().layer(layer).service(hyper_client());
    let _ = svc.oneshot(get(&server.url("/down"))).await;
    // a fourth wait (4s) would end past 10s
    assert_eq!(server.hits("/down"), 4);
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
}

/// The layer's runs tell a cooldown's hook (`with_on_hold`) of the holds
/// they make, with their policy's name, the wait and the kind: the layer's
/// run holds the cooldown through the one path that tells it.
#[tokio::test(start_paused = true)]
async fn the_layer_tells_a_cooldowns_hook_of_a_429s_hold() {
    use retry_runtime::cooldown::{Cooldown, HoldEvent};
    type Told = (&'static str, Duration, Option<ErrorKind>);
    static TOLD: Mutex<Vec<Told>> = Mutex::new(Vec::new());
    fn told(event: &HoldEvent) {
        let seen = (event.policy(), event.wait(), event.kind());
        TOLD.lock().unwrap().push(seen);
    }
    static PARTNER: Cooldown = Cooldown::new("tower-told").with_on_hold(told);
    static POLICY: Policy<RetryOn> = FAST
        .with_name("tower-told")
        .with_max_attempts(1)
        .with_cooldown(&PARTNER);
    let svc = tower::service_fn(|_: Request<String>| {
        let resp = Response::builder()
            .status(429)
            .header("retry-after", "2")
            .body(())
            .unwrap();
        std::future::ready(Ok::<_, Infallible>(resp))
    });
    let svc = ServiceBuilder::new().layer(POLICY.layer()).service(svc);
    let _ = svc
        .oneshot(Request::get("/a").body(String::new()).unwrap())
        .await;
    assert_eq!(
        *TOLD.lock().unwrap(),
        [(
            "tower-told",
            Duration::from_secs(2),
            Some(ErrorKind::RateLimited)
        )]
    );
    assert!(PARTNER.remaining().is_some());
}
