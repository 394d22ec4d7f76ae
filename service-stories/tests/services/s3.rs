//! Story 003 with the real SDK: `aws-sdk-s3` calls retried with the `s3`
//! preset, their errors classified by retry-runtime's `aws` feature. moto's
//! S3 server answers as S3 does for a put, a get, a missing key and a
//! missing bucket; the flaky server answers S3's XML errors (`SlowDown`,
//! `AccessDenied`), hangs, and counts the calls.
//!
//! Waits: runs through the functional API are given a timer that returns at
//! once, and the waits are read from their `.notify` hook (the policy's
//! real waits, jitter included); the attribute's runs call moto, where
//! nothing is retried.

use std::cell::RefCell;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::SdkBody;
use retry_runtime::circuit::CircuitState;
use retry_runtime::sleep::SleepFn;
use retry_runtime::{
    CircuitBreaker, Classify, ErrorKind, RetryError, RetryEvent, StopReason, Succeeded, presets,
};
use testkit::capture;
use testkit::flaky::{FlakyServer, Reply, refused_url};
use testkit::s3::S3Server;
use tracing::Level;

use crate::s3_example::{PipelineError, client, create_bucket, download, get_once, upload};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A timer that returns at once.
type NoSleep = SleepFn<fn(Duration) -> std::future::Ready<()>>;
const NO_SLEEP: NoSleep = SleepFn(|_| std::future::ready(()));

/// moto's S3 server, on a blocking thread (its start may install it).
async fn moto() -> S3Server {
    tokio::task::spawn_blocking(S3Server::start)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("moto's S3 server is needed for this test: {e}"))
}

/// `get_once` retried with `policy`, without sleeping: the result and the waits.
async fn get_retried<G>(
    policy: &retry_runtime::Policy<retry_runtime::RetryOn, G>,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> (
    Result<Succeeded<Vec<u8>>, RetryError<PipelineError>>,
    Vec<Duration>,
)
where
    G: retry_runtime::Admission<PipelineError>,
{
    let waits = RefCell::new(Vec::new());
    let result = policy
        .retry(|| get_once(s3, bucket, key))
        .notify(|ev: &RetryEvent<'_>| waits.borrow_mut().push(ev.wait))
        .sleep_with(NO_SLEEP)
        .detailed()
        .await;
    (result, waits.into_inner())
}

/// A normal put and get through `#[retry(preset = "s3")]` functions, on moto.
#[tokio::test]
async fn put_then_get_on_moto() {
    let server = moto().await;
    let s3 = client(server.endpoint(), s(5));
    create_bucket(&s3, "pipeline").await.unwrap();
    upload(&s3, "pipeline", "report.csv", b"a,b\n1,2\n")
        .await
        .unwrap();
    assert_eq!(
        download(&s3, "pipeline", "report.csv").await.unwrap(),
        b"a,b\n1,2\n"
    );
}

/// T013: `NoSuchKey` fails after one call.
#[tokio::test]
async fn no_such_key_fails_after_one_call() {
    let server = moto().await;
    let s3 = client(server.endpoint(), s(5));
    create_bucket(&s3, "keys").await.unwrap();
    let logs = capture::capture();

    let (result, waits) = get_retried(&presets::S3, &s3, "keys", "missing.csv").await;

    let e = result.unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::Permanent));
    assert!(waits.is_empty());
    let PipelineError::Get(sdk) = &e.last_error else {
        panic!("{:?}", e.last_error)
    };
    assert!(
        sdk.as_service_error().is_some_and(|g| g.is_no_such_key()),
        "{sdk:?}"
    );
    assert_eq!(sdk.kind(), ErrorKind::Permanent);
    logs.assert_logged(
        Level::WARN,
        "failed with a non-retriable error on attempt 1",
    );
}

/// T013: `NoSuchBucket` fails after one call (through the attribute).
#[tokio::test]
async fn no_such_bucket_fails_after_one_call() {
    let server = moto().await;
    let s3 = client(server.endpoint(), s(5));
    let logs = capture::capture();

    let e = download(&s3, "no-such-bucket", "x.csv").await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Permanent);
    assert!(e.to_string().contains("NoSuchBucket"), "{e}");
    let line = logs.assert_logged(
        Level::WARN,
        "download failed with a non-retriable error on attempt 1",
    );
    assert_eq!(capture::field(&line, "error_kind"), Some("Permanent"));
    // (the SDK's own TRACE lines mention retries too: only ours count)
    assert!(
        logs.matching(Level::WARN, "retrying").is_empty(),
        "{:#?}",
        logs.at(Level::WARN)
    );
}

/// T011, T012: S3's XML `SlowDown` (503) is retried with the `s3` preset's
/// waits: 1s, 2s, 4s, 8s, each plus up to 1s; the 5th attempt is the last.
#[tokio::test]
async fn slow_down_is_retried_with_the_s3_preset_waits() {
    let flaky = FlakyServer::start().await;
    let slow_down = Reply::s3_error(503, "SlowDown", "Please reduce your request rate.");
    flaky.route(
        "/busy/a.csv",
        [slow_down.clone(), slow_down.clone(), Reply::ok_body("a")],
    );
    flaky.route("/busy/b.csv", [slow_down]);
    let s3 = client(&flaky.url(""), s(5));

    let (ok, waits) = get_retried(&presets::S3, &s3, "busy", "a.csv").await;
    let ok = ok.unwrap();
    assert_eq!((ok.value.as_slice(), ok.attempts), (&b"a"[..], 3));
    assert_eq!(flaky.hits("/busy/a.csv"), 3);
    assert_eq!(waits.len(), 2);

    let (e, waits) = get_retried(&presets::S3, &s3, "busy", "b.csv").await;
    let e = e.unwrap_err();
    assert_eq!((e.attempts, e.reason), (5, StopReason::Attempts));
    assert_eq!(e.last_error.kind(), ErrorKind::RateLimited);
    assert!(
        e.last_error.to_string().contains("SlowDown"),
        "{}",
        e.last_error
    );
    assert_eq!(flaky.hits("/busy/b.csv"), 5);
    assert_eq!(waits.len(), 4);
    for (wait, base) in waits.iter().zip([1, 2, 4, 8]) {
        assert!(*wait >= s(base) && *wait <= s(base + 1), "{waits:?}");
    }
}

/// Other throttling codes, and S3's `InternalError`, are retried too, by
/// their code: each comes with a 400, which the status alone would give up on.
#[tokio::test]
async fn throttling_codes_are_retried() {
    let flaky = FlakyServer::start().await;
    let s3 = client(&flaky.url(""), s(5));
    for code in [
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "InternalError",
    ] {
        let path = format!("/throttled/{code}");
        flaky.route(
            &path,
            [
                Reply::s3_error(400, code, "slow down"),
                Reply::ok_body("ok"),
            ],
        );
        let (ok, waits) = get_retried(&presets::S3, &s3, "throttled", code).await;
        assert_eq!(ok.unwrap().attempts, 2, "{code}");
        assert_eq!(waits.len(), 1, "{code}");
        assert_eq!(flaky.hits(&path), 2, "{code}");
    }
}

/// Compiles only when `E` is classified.
fn assert_classify<E: Classify>(error: &E) -> ErrorKind {
    error.kind()
}

/// The service crate's catch-all error, as the SDK's docs show it: several
/// operations' errors turned into one `aws_sdk_s3::Error` with
/// `map_service_error(Into::into)`. That `SdkError` is classified by its
/// code, as the operation's own error is.
#[test]
fn the_service_catch_all_error_is_classified() {
    type CatchAll = SdkError<aws_sdk_s3::Error, HttpResponse>;
    let error = |code: &str, status: u16| -> CatchAll {
        let meta = ErrorMetadata::builder().code(code).build();
        let status = status.try_into().unwrap();
        SdkError::service_error(
            GetObjectError::generic(meta),
            HttpResponse::new(status, SdkBody::empty()),
        )
        .map_service_error(Into::into)
    };
    assert_eq!(
        assert_classify(&error("ThrottlingException", 400)),
        ErrorKind::RateLimited
    );
    assert_eq!(
        assert_classify(&error("SlowDown", 503)),
        ErrorKind::RateLimited
    );
    assert_eq!(
        assert_classify(&error("NoSuchKey", 404)),
        ErrorKind::Permanent
    );
}

/// The catch-all error from a real call is retried as the operation's own
/// error is: a `ThrottlingException` with a 400, then the object.
#[tokio::test]
async fn a_call_mapped_into_the_catch_all_error_is_retried() {
    let flaky = FlakyServer::start().await;
    flaky.route(
        "/mapped/x.csv",
        [
            Reply::s3_error(400, "ThrottlingException", "slow down"),
            Reply::ok_body("x"),
        ],
    );
    let s3 = client(&flaky.url(""), s(5));
    let get = || async {
        let object = s3
            .get_object()
            .bucket("mapped")
            .key("x.csv")
            .send()
            .await
            .map_err(|e| e.map_service_error(aws_sdk_s3::Error::from))?;
        Ok::<_, SdkError<aws_sdk_s3::Error, HttpResponse>>(object.e_tag)
    };
    let ok = presets::S3
        .retry(get)
        .sleep_with(NO_SLEEP)
        .detailed()
        .await
        .unwrap();
    assert_eq!(ok.attempts, 2);
    assert_eq!(flaky.hits("/mapped/x.csv"), 2);
}

/// T013: `AccessDenied` (403) fails after one call.
#[tokio::test]
async fn access_denied_fails_after_one_call() {
    let flaky = FlakyServer::start().await;
    flaky.route(
        "/private/x.csv",
        [Reply::s3_error(403, "AccessDenied", "Access Denied")],
    );
    let s3 = client(&flaky.url(""), s(5));

    let (e, waits) = get_retried(&presets::S3, &s3, "private", "x.csv").await;

    let e = e.unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::Permanent));
    assert_eq!(e.last_error.kind(), ErrorKind::Permanent);
    assert!(waits.is_empty());
    assert_eq!(flaky.hits("/private/x.csv"), 1);
}

/// A timed-out attempt (the SDK's attempt timeout) and a refused connection
/// are retried (US2: network issues).
#[tokio::test]
async fn timeouts_and_refused_connections_are_retried() {
    let flaky = FlakyServer::start().await;
    flaky.route("/slow/x.csv", [Reply::delay(s(5)), Reply::ok_body("x")]);
    // an attempt timeout well below the 5s delay, and well above what the
    // second attempt (the answer, on 127.0.0.1) takes on a loaded machine
    let s3 = client(&flaky.url(""), s(2));
    let (ok, _) = get_retried(&presets::S3, &s3, "slow", "x.csv").await;
    assert_eq!(ok.unwrap().attempts, 2);

    let refused = client(&refused_url(""), s(5));
    let (e, waits) = get_retried(&presets::S3, &refused, "any", "x.csv").await;
    let e = e.unwrap_err();
    assert_eq!(e.last_error.kind(), ErrorKind::Connect);
    assert_eq!((e.attempts, waits.len()), (5, 4));
}

/// One bucket's breaker: opens after 3 consecutive failures.
static FAILING_BUCKET: CircuitBreaker = CircuitBreaker::new("failing-bucket")
    .with_failures(3)
    .with_recovery(Duration::from_secs(30));

/// US4: after consecutive failures the breaker opens, the run stops, and
/// later calls to that bucket fail at once without a request, while the
/// pipeline goes on with a healthy bucket.
#[tokio::test]
async fn breaker_opens_after_consecutive_failures() {
    let flaky = FlakyServer::start().await;
    flaky.route(
        "/failing/x.csv",
        [Reply::s3_error(503, "SlowDown", "slow down")],
    );
    flaky.route("/healthy/x.csv", [Reply::ok_body("x")]);
    let s3 = client(&flaky.url(""), s(5));
    let guarded = presets::S3.with_circuit(&FAILING_BUCKET);

    let (e, _) = get_retried(&guarded, &s3, "failing", "x.csv").await;
    let e = e.unwrap_err();
    assert_eq!((e.attempts, e.reason), (3, StopReason::CircuitOpen));
    assert_eq!(FAILING_BUCKET.state(), CircuitState::Open);
    assert_eq!(flaky.hits("/failing/x.csv"), 3);

    let (rejected, _) = get_retried(&guarded, &s3, "failing", "x.csv").await;
    let rejected = rejected.unwrap_err();
    assert!(
        matches!(rejected.last_error, PipelineError::Open(_)),
        "{:?}",
        rejected.last_error
    );
    assert_eq!(flaky.hits("/failing/x.csv"), 3, "no request while open");

    let (ok, _) = get_retried(&presets::S3, &s3, "healthy", "x.csv").await;
    assert_eq!(ok.unwrap().value, b"x");
}
