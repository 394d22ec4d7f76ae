//! `RetryError`: its `Display`, its `source()` (the last error, whole), and
//! that it travels through `?` into `Box<dyn Error + Send + Sync>`.

use std::error::Error as _;
use std::time::Duration;

use retry_runtime::{testing, Backoff, Classify, ErrorKind, Policy, RetryError, StopReason};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum UploadError {
    #[error("connection reset (call {0})")]
    Reset(u32),
    #[error("bucket not found")]
    NoBucket,
}

impl Classify for UploadError {
    fn kind(&self) -> ErrorKind {
        match self {
            UploadError::Reset(_) => ErrorKind::Connect,
            UploadError::NoBucket => ErrorKind::Permanent,
        }
    }
}

fn upload_policy() -> Policy<retry_runtime::RetryOn> {
    Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(2)))
        .with_name("upload")
        .retry_on(ErrorKind::Connect | ErrorKind::Timeout)
}

fn exhausted() -> RetryError<UploadError> {
    let _paused = testing::pause();
    let mut calls = 0;
    upload_policy()
        .retry(|| {
            calls += 1;
            Err::<(), _>(UploadError::Reset(calls))
        })
        .detailed()
        .call()
        .unwrap_err()
}

#[test]
fn display_names_operation_attempts_reason_and_last_error() {
    assert_eq!(
        exhausted().to_string(),
        "upload failed after 3 attempts (attempts exhausted): connection reset (call 3)"
    );
    let _paused = testing::pause();
    let permanent = upload_policy()
        .retry(|| Err::<(), _>(UploadError::NoBucket))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(
        permanent.to_string(),
        "upload failed after 1 attempt (not retriable): bucket not found"
    );
    let deadline = upload_policy()
        .with_max_elapsed(Duration::from_secs(3))
        .retry(|| Err::<(), _>(UploadError::Reset(1)))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(
        deadline.to_string(),
        "upload failed after 2 attempts (deadline reached): connection reset (call 1)"
    );
}

#[test]
fn source_is_the_last_error() {
    let e = exhausted();
    let source = e.source().expect("a RetryError has a source");
    assert_eq!(source.to_string(), "connection reset (call 3)");
    assert_eq!(
        source.downcast_ref::<UploadError>(),
        Some(&UploadError::Reset(3))
    );
    assert_eq!(e.last_error, UploadError::Reset(3));
    assert_eq!(
        (e.operation, e.attempts, e.reason),
        ("upload", 3, StopReason::Attempts)
    );
    // the waits were virtual, but they count: 2s + 2s
    assert!(e.elapsed >= Duration::from_secs(4), "{:?}", e.elapsed);
    assert_eq!(e.into_inner(), UploadError::Reset(3));
}

/// An error with a cause of its own.
#[derive(Debug, thiserror::Error)]
#[error("upload step failed")]
struct StepError(#[source] UploadError);

#[test]
fn the_source_chain_continues_below_the_last_error() {
    let _paused = testing::pause();
    let e = Policy::new()
        .with_max_attempts(2)
        .retry(|| Err::<(), _>(StepError(UploadError::Reset(9))))
        .detailed()
        .call()
        .unwrap_err();
    let step = e.source().unwrap();
    assert_eq!(step.to_string(), "upload step failed");
    assert!(step.is::<StepError>());
    let below = step.source().unwrap();
    assert_eq!(
        below.downcast_ref::<UploadError>(),
        Some(&UploadError::Reset(9))
    );
    assert!(below.source().is_none());
}

#[test]
fn converts_with_question_mark_into_a_boxed_error() {
    fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let _paused = testing::pause();
        upload_policy()
            .retry(|| Err::<(), _>(UploadError::NoBucket))
            .detailed()
            .call()?;
        Ok(())
    }
    let e = run().unwrap_err();
    let retry = e.downcast_ref::<RetryError<UploadError>>().unwrap();
    assert_eq!(retry.reason, StopReason::Permanent);
    assert_eq!(e.source().unwrap().to_string(), "bucket not found");
}

/// Boxed, a `RetryError` is classified by its last error (its source), and
/// an `io::Error` from an inner breaker's rejection keeps the breaker's
/// wait: an outer run or a middleware over the box retries it as it would
/// the last error.
#[test]
fn a_boxed_retry_error_is_classified_by_its_last_error() {
    use retry_runtime::CircuitBreaker;
    use std::io;
    let _paused = testing::pause();
    let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
    let err = Policy::new()
        .retry(|| Err::<(), _>(refused()))
        .detailed()
        .call()
        .unwrap_err();
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert_eq!(boxed.kind(), ErrorKind::Connect);

    static BREAKER: CircuitBreaker = CircuitBreaker::new("boxed-retry-error")
        .with_failures(1)
        .with_recovery(Duration::from_secs(7));
    let p = BREAKER.try_acquire().unwrap();
    BREAKER.record(p, retry_runtime::circuit::Outcome::Failure);
    let open = BREAKER.try_acquire().unwrap_err();
    let err = Policy::new()
        .with_max_attempts(1)
        .retry(|| Err::<(), _>(io::Error::from(open)))
        .detailed()
        .call()
        .unwrap_err();
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    // (the breaker's wait is rounded up to the next millisecond: never short)
    let wait = boxed.retry_after();
    assert!(
        wait.is_some_and(|w| w >= Duration::from_secs(7) && w <= Duration::from_millis(7001)),
        "{wait:?}"
    );
}

/// A 429 with the server's wait.
#[derive(Debug, thiserror::Error)]
#[error("slow down")]
struct SlowDown(Duration);

impl Classify for SlowDown {
    fn kind(&self) -> ErrorKind {
        ErrorKind::RateLimited
    }
    fn retry_after(&self) -> Option<Duration> {
        Some(self.0)
    }
}

/// An outer `retry_on` over a call that returns a `RetryError` (an SDK's
/// method with retries of its own) judges it by its last error: a reset
/// given up on is retried, a missing bucket is not, and a server's wait is
/// the outer run's wait.
#[test]
fn an_outer_retry_on_classifies_a_retry_error_by_its_last_error() {
    let paused = testing::pause();
    let outer = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::from_secs(5)))
        .retry_on(ErrorKind::Connect | ErrorKind::RateLimited);
    let mut calls = 0;
    let e = outer
        .retry(|| {
            calls += 1;
            Err::<(), _>(exhausted())
        })
        .call()
        .unwrap_err();
    assert_eq!((calls, e.kind()), (2, ErrorKind::Connect));
    assert!(paused.waits().contains(&Duration::from_secs(5)));

    let mut calls = 0;
    let permanent = || {
        upload_policy()
            .retry(|| Err::<(), _>(UploadError::NoBucket))
            .detailed()
            .call()
    };
    let e = outer
        .retry(|| {
            calls += 1;
            permanent()
        })
        .call()
        .unwrap_err();
    assert_eq!((calls, e.kind()), (1, ErrorKind::Permanent));

    let limited = Policy::new()
        .with_max_attempts(1)
        .retry(|| Err::<(), _>(SlowDown(Duration::from_millis(1500))))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(limited.retry_after(), Some(Duration::from_millis(1500)));
    drop(paused);
    let paused = testing::pause();
    let _ = outer
        .retry(|| {
            Policy::new()
                .with_max_attempts(1)
                .retry(|| Err::<(), _>(SlowDown(Duration::from_millis(1500))))
                .detailed()
                .call()
        })
        .call();
    assert_eq!(paused.waits(), [Duration::from_millis(1500)]);
}

/// A library hands its users its own error type: the run's facts stay.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("upload failed")]
struct SdkError(#[source] UploadError);

#[test]
fn map_last_error_and_map_keep_the_runs_facts() {
    let e = exhausted();
    let (attempts, elapsed, reason) = (e.attempts, e.elapsed, e.reason);
    let mapped: RetryError<SdkError> = e.map_last_error(SdkError);
    assert_eq!(mapped.last_error, SdkError(UploadError::Reset(3)));
    assert_eq!(
        (
            mapped.operation,
            mapped.attempts,
            mapped.elapsed,
            mapped.reason
        ),
        ("upload", attempts, elapsed, reason)
    );
    assert_eq!(
        mapped.to_string(),
        "upload failed after 3 attempts (attempts exhausted): upload failed"
    );

    let paused = testing::pause();
    let mut calls = 0;
    let ok = upload_policy()
        .retry(|| {
            calls += 1;
            if calls < 2 {
                Err(UploadError::Reset(calls))
            } else {
                Ok(calls)
            }
        })
        .detailed()
        .call()
        .unwrap();
    let (attempts, elapsed) = (ok.attempts, ok.elapsed);
    let shown = ok.map(|n| format!("call {n}"));
    assert_eq!(shown.value, "call 2");
    assert_eq!((shown.attempts, shown.elapsed), (attempts, elapsed));
    assert_eq!(shown.attempts, 2);
    assert_eq!(paused.waits(), [Duration::from_secs(2)]);
}

#[test]
fn debug_shows_the_fields() {
    let dbg = format!("{:?}", exhausted());
    for part in [
        "RetryError",
        "upload",
        "attempts: 3",
        "Attempts",
        "Reset(3)",
    ] {
        assert!(dbg.contains(part), "{part} missing from {dbg}");
    }
}

/// An AWS error code read from a plain HTTP answer (DynamoDB's JSON
/// `__type`, S3's XML `<Code>`) is classified without the `aws` feature,
/// which this binary does not enable: a table of strings needs none of the
/// SDK's crates.
#[test]
fn an_aws_error_code_is_classified_without_the_aws_feature() {
    use retry_runtime::classify::classify_aws_code;
    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"m"}"#;
    let type_ = body
        .split(r#""__type":""#)
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap();
    let code = type_.rsplit('#').next().unwrap();
    assert_eq!(classify_aws_code(code), Some(ErrorKind::RateLimited));
    assert_eq!(
        classify_aws_code("ValidationException"),
        Some(ErrorKind::Permanent)
    );
    assert_eq!(classify_aws_code("SlowDown"), Some(ErrorKind::RateLimited));
    assert_eq!(classify_aws_code("SomethingNew"), None);
}
