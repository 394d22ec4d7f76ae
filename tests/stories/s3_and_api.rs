//! Story 003, "Retry Logic with Exponential Backoff" for an S3 pipeline and
//! its API calls, with a circuit breaker. Here what needs no AWS SDK: the
//! `s3` and `api` presets' waits, the API decorator's rules (5xx retried,
//! 4xx other than 429 not, Retry-After honoured) and the breaker's state
//! machine. The S3 calls themselves (aws-sdk-s3 against moto's S3 server
//! and the flaky server's S3 XML errors) are in
//! `service-stories/tests/services/s3.rs`.

use std::io;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;
use retry_runtime::circuit::{CircuitState, ManualClock};
use retry_runtime::{presets, testing, CircuitBreaker, HttpError, StopReason};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn http_error(status: u16, retry_after: Option<&str>) -> HttpError {
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
    }
    HttpError::from_head(StatusCode::from_u16(status).unwrap(), &headers)
}

/// An API call through the `api` preset that answers `status` twice, then
/// succeeds: what it returned (the call's number) and the waits it made.
fn api_call_failing_twice_with(status: u16) -> (Result<u32, HttpError>, Vec<Duration>) {
    let paused = testing::pause();
    let mut calls = 0;
    let r = presets::API
        .retry(|| {
            calls += 1;
            if calls < 3 {
                Err(http_error(status, None))
            } else {
                Ok(calls)
            }
        })
        .call();
    (r, paused.waits())
}

/// US2 (T012): the S3 preset makes 5 attempts, waiting 1s, 2s, 4s, 8s, each
/// plus up to 1s of jitter (US1, T010: the waits grow exponentially).
#[test]
fn us2_s3_preset_waits_1s_2s_4s_8s_plus_up_to_1s() {
    let paused = testing::pause();
    let mut calls = 0;
    let slow_down = || io::Error::new(io::ErrorKind::ResourceBusy, "SlowDown");
    let r: Result<(), _> = presets::S3
        .retry(|| {
            calls += 1;
            Err(slow_down())
        })
        .call();
    assert!(r.is_err());
    assert_eq!(calls, 5);
    let waits = paused.waits();
    assert_eq!(waits.len(), 4);
    for (wait, base) in waits.iter().zip([1, 2, 4, 8]) {
        assert!(*wait >= s(base) && *wait <= s(base + 1), "{waits:?}");
    }
}

/// US3 (T015, T016): an API call is retried on 503 with the `api` preset:
/// 3 attempts, 0.5s then 1s, each plus up to 0.5s.
#[test]
fn us3_api_call_retries_503_with_the_api_preset() {
    let (r, waits) = api_call_failing_twice_with(503);
    assert_eq!(r.unwrap(), 3);
    assert_eq!(waits.len(), 2);
    assert!(waits[0] >= ms(500) && waits[0] <= ms(1000), "{waits:?}");
    assert!(waits[1] >= ms(1000) && waits[1] <= ms(1500), "{waits:?}");
}

/// US3 (T017): a 4xx other than 429 is not retried (408 aside, below).
#[test]
fn us3_api_4xx_other_than_429_is_not_retried() {
    let _paused = testing::pause();
    for status in [400, 401, 403, 404, 405, 409, 410, 413, 422, 451] {
        let mut calls = 0;
        let e = presets::API
            .retry(|| {
                calls += 1;
                Err::<(), _>(http_error(status, None))
            })
            .detailed()
            .call()
            .unwrap_err();
        assert_eq!((calls, e.reason), (1, StopReason::Permanent), "{status}");
    }
}

/// US3 (T017), the one 4xx besides 429 that is retried: 408 Request
/// Timeout, the server's "send it again" (RFC 9110 §15.5.9: a client may
/// repeat the request), classified as a timeout.
#[test]
fn us3_api_408_request_timeout_is_retried_as_a_timeout() {
    let (r, waits) = api_call_failing_twice_with(408);
    assert_eq!(r.unwrap(), 3);
    assert_eq!(waits.len(), 2);
}

/// US3 (T018): a 429's Retry-After is the wait (instead of the backoff).
#[test]
fn us3_api_429_waits_what_retry_after_says() {
    let paused = testing::pause();
    let mut calls = 0;
    let r = presets::API
        .retry(|| {
            calls += 1;
            if calls == 1 {
                Err(http_error(429, Some("3")))
            } else {
                Ok(calls)
            }
        })
        .call();
    assert_eq!(r.unwrap(), 2);
    assert_eq!(paused.waits(), [s(3)]);
}

static BUCKET_CLOCK: ManualClock = ManualClock::new();
/// One bucket's breaker: opens after 3 consecutive failures, probes after 30s.
static BUCKET: CircuitBreaker = CircuitBreaker::new("bucket")
    .with_failures(3)
    .with_recovery(Duration::from_secs(30))
    .with_clock(&BUCKET_CLOCK);

/// US4 (T019-T023): the breaker starts closed, opens after consecutive
/// failures (the run stops retrying), rejects calls without making them,
/// lets a probe through after the recovery time, and closes on its success.
#[test]
fn us4_breaker_opens_rejects_then_recovers() {
    let _paused = testing::pause();
    let policy = presets::S3.with_circuit(&BUCKET);
    assert_eq!(BUCKET.state(), CircuitState::Closed);

    let mut calls = 0;
    let e = policy
        .retry(|| {
            calls += 1;
            Err::<(), _>(io::Error::from(io::ErrorKind::TimedOut))
        })
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(calls, 3, "the run stops once the breaker opens");
    assert_eq!(e.reason, StopReason::CircuitOpen);
    assert_eq!(BUCKET.state(), CircuitState::Open);

    let mut calls = 0;
    let rejected = policy
        .retry(|| {
            calls += 1;
            Ok::<(), io::Error>(())
        })
        .call()
        .unwrap_err();
    assert_eq!(calls, 0, "an open breaker makes no call");
    assert!(
        rejected.to_string().contains("circuit `bucket` is open"),
        "{rejected}"
    );

    BUCKET_CLOCK.advance(Duration::from_secs(30));
    let probe = policy.retry(|| Ok::<_, io::Error>("listed")).call();
    assert_eq!(probe.unwrap(), "listed");
    assert_eq!(BUCKET.state(), CircuitState::Closed);
}
