//! Story 004, "Retry Logic and Monitoring" of background extraction jobs:
//! a failed job is retried on a persisted schedule (`retry_count`,
//! `next_retry_at`) of 30s, 120s, 480s plus up to 25% jitter, 3 retries at
//! most, and the error's type decides whether it is retried at all. The
//! schedule comes from the pure decision API, `presets::JOB.decide`, which
//! the SQLite queue of `jobs-demo/` stores (its tests run the whole queue,
//! a worker restart included); here the story's own error list.

use std::time::Duration;

use retry_runtime::{presets, Classify, Decision, StopReason};

/// The story's error names, each with the kind it is classified as.
#[derive(Debug, Clone, Copy, thiserror::Error, Classify)]
enum ExtractionError {
    #[error("ConnectionError")]
    #[classify(Connect)]
    Connection,
    #[error("TimeoutError")]
    #[classify(Timeout)]
    Timeout,
    #[error("ServiceUnavailable")]
    #[classify(Unavailable)]
    ServiceUnavailable,
    #[error("RateLimitExceeded")]
    #[classify(RateLimited)]
    RateLimitExceeded,
    #[error("TemporaryFailure")]
    #[classify(Unavailable)]
    TemporaryFailure,
    #[error("S3ConnectionError")]
    #[classify(Connect)]
    S3Connection,
    #[error("Werk24Timeout")]
    #[classify(Timeout)]
    Werk24Timeout,
    #[error("UnsupportedFormat")]
    #[classify(Permanent)]
    UnsupportedFormat,
    #[error("CorruptedFile")]
    #[classify(Permanent)]
    CorruptedFile,
    #[error("InvalidFileType")]
    #[classify(Permanent)]
    InvalidFileType,
    #[error("AuthenticationFailed")]
    #[classify(Permanent)]
    AuthenticationFailed,
    #[error("PermissionDenied")]
    #[classify(Permanent)]
    PermissionDenied,
    #[error("FileTooLarge")]
    #[classify(Permanent)]
    FileTooLarge,
    /// Anything the service did not expect: the story retries it.
    #[error("something unexpected")]
    #[classify(Unknown)]
    Unexpected,
}

use ExtractionError::*;

const RETRYABLE: [ExtractionError; 7] = [
    Connection,
    Timeout,
    ServiceUnavailable,
    RateLimitExceeded,
    TemporaryFailure,
    S3Connection,
    Werk24Timeout,
];

const PERMANENT: [ExtractionError; 6] = [
    UnsupportedFormat,
    CorruptedFile,
    InvalidFileType,
    AuthenticationFailed,
    PermissionDenied,
    FileTooLarge,
];

fn wait_of(decision: Decision) -> Duration {
    match decision {
        Decision::Retry { wait, .. } => wait,
        Decision::GiveUp { reason, .. } => panic!("expected a retry, gave up: {reason:?}"),
    }
}

/// "Failed jobs auto-retry with exponential backoff": 30s, 120s, 480s, each
/// plus 0..25% (checked over many draws, so the jitter is seen to vary).
#[test]
fn failed_jobs_retry_after_30s_120s_480s_plus_up_to_25_percent() {
    for (retry_count, base) in [(0, 30), (1, 120), (2, 480)] {
        let base = Duration::from_secs(base);
        let waits: Vec<_> = (0..200)
            .map(|_| wait_of(presets::JOB.decide(retry_count, &Connection)))
            .collect();
        for &wait in &waits {
            assert!(wait >= base && wait <= base + base / 4, "{wait:?}");
        }
        let spread = waits
            .iter()
            .max()
            .unwrap()
            .saturating_sub(*waits.iter().min().unwrap());
        assert!(spread > base / 20, "no jitter seen: {waits:?}");
    }
}

/// "Max 3 retries, then permanent failure".
#[test]
fn after_3_retries_a_job_fails_for_good() {
    for error in RETRYABLE {
        assert!(matches!(
            presets::JOB.decide(2, &error),
            Decision::Retry { .. }
        ));
        assert_eq!(
            presets::JOB.decide(3, &error),
            Decision::give_up(StopReason::Attempts),
            "{error}"
        );
    }
}

/// "Retryable vs permanent errors classified correctly": the story's
/// retryable names are retried, its permanent names fail at once (even on
/// the first failure), and an unknown error is retried.
#[test]
fn retryable_and_permanent_errors_are_told_apart() {
    for error in RETRYABLE.into_iter().chain([Unexpected]) {
        assert!(
            matches!(presets::JOB.decide(0, &error), Decision::Retry { .. }),
            "{error} should be retried"
        );
    }
    for error in PERMANENT {
        assert_eq!(
            presets::JOB.decide(0, &error),
            Decision::give_up(StopReason::Permanent),
            "{error} should fail at once"
        );
    }
}

/// A job's own database work that lost a deadlock or a serialization
/// conflict (40P01, 40001, SQLite's `BUSY`: all `Interrupted`) succeeds when
/// it runs again, so the job is retried on the same schedule rather than
/// failed for good on its first attempt.
#[test]
fn a_job_interrupted_by_a_deadlock_is_retried() {
    #[derive(Debug, thiserror::Error, Classify)]
    #[error("deadlock detected")]
    #[classify(Interrupted)]
    struct Deadlock;

    for (retry_count, base) in [(0, 30), (1, 120), (2, 480)] {
        let wait = wait_of(presets::JOB.decide(retry_count, &Deadlock));
        let base = Duration::from_secs(base);
        assert!(wait >= base && wait <= base + base / 4, "{wait:?}");
    }
    assert_eq!(
        presets::JOB.decide(3, &Deadlock),
        Decision::give_up(StopReason::Attempts)
    );
}
