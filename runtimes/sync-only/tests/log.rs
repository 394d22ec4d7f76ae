//! A sync program that logs with env_logger and installs no `tracing`
//! subscriber: with the feature `log`, the runtime's lines reach it as
//! `log` records, under the target `retry_runtime`, the message first and
//! the fields after it.

use std::sync::OnceLock;
use std::time::Duration;

use retry_runtime::{CircuitBreaker, CircuitOpen, Classify, Policy, presets, retry, testing};

mod written;
use written::Written;

#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error, Classify)]
enum Fail {
    #[error("upstream answered 503")]
    #[classify(Unavailable)]
    Busy,
    #[error("no such clip")]
    #[classify(Permanent)]
    Missing,
    #[error("circuit open")]
    #[classify(Permanent)]
    Open,
}

impl From<CircuitOpen> for Fail {
    fn from(_: CircuitOpen) -> Self {
        Fail::Open
    }
}

/// env_logger at INFO, as a program would install it (`RUST_LOG=info`),
/// writing into a buffer; once per test binary (a logger is global).
fn logged() -> &'static Written {
    static WRITTEN: OnceLock<Written> = OnceLock::new();
    WRITTEN.get_or_init(|| {
        let written = Written::default();
        env_logger::Builder::new()
            .parse_filters("info")
            .format_timestamp(None)
            .target(env_logger::Target::Pipe(Box::new(written.clone())))
            .init();
        written
    })
}

/// The lines written so far that name `operation` (the tests run side by
/// side and share the logger).
fn lines_of(operation: &str) -> Vec<String> {
    logged()
        .text()
        .lines()
        .filter(|l| l.contains(&format!("operation=\"{operation}\"")))
        .map(str::to_owned)
        .collect()
}

#[retry(attempts = 3, backoff = "exp(1s, 4s)", retry_on = Unavailable)]
fn download_clip(answers: &mut Vec<Result<u32, Fail>>) -> Result<u32, Fail> {
    answers.remove(0)
}

#[test]
fn each_retry_is_a_warn_record_and_the_success_after_it_an_info_one() {
    logged();
    let _paused = testing::pause();
    let mut answers = vec![Err(Fail::Busy), Err(Fail::Busy), Ok(7)];
    assert_eq!(download_clip(&mut answers), Ok(7));
    let lines = lines_of("download_clip");
    // the call's number, the same on its three lines (another test's
    // calls may have taken the first ones)
    let call = lines[0]
        .split_once(" call=")
        .and_then(|(_, rest)| rest.split(' ').next())
        .expect("a call field");
    assert!(call.parse::<u64>().is_ok(), "{lines:#?}");
    assert_eq!(
        lines,
        [
            format!(
                "[WARN  retry_runtime] retrying download_clip after attempt 1/3 failed; next attempt in 1s \
                 operation=\"download_clip\" call={call} attempt=1 max_attempts=3 wait_ms=1000 \
                 error=upstream answered 503 error_kind=\"Unavailable\" wait_source=\"backoff\""
            ),
            format!(
                "[WARN  retry_runtime] retrying download_clip after attempt 2/3 failed; next attempt in 2s \
                 operation=\"download_clip\" call={call} attempt=2 max_attempts=3 wait_ms=2000 \
                 error=upstream answered 503 error_kind=\"Unavailable\" wait_source=\"backoff\""
            ),
            format!(
                "[INFO  retry_runtime] download_clip succeeded on attempt 3 \
                 operation=\"download_clip\" call={call} attempt=3 max_attempts=3 outcome=\"succeeded_after_retries\""
            ),
        ]
    );
}

#[retry(preset = "quick")]
fn fetch_clip(answer: Fail) -> Result<u32, Fail> {
    Err(answer)
}

#[test]
fn a_give_up_is_an_error_record_and_a_non_retriable_error_a_warn_one() {
    logged();
    let _paused = testing::pause();
    assert_eq!(fetch_clip(Fail::Missing), Err(Fail::Missing));
    let missing = lines_of("fetch_clip");
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert!(
        missing[0].starts_with(
            "[WARN  retry_runtime] fetch_clip failed with a non-retriable error on attempt 1 "
        ),
        "{missing:#?}"
    );
    assert!(missing[0].contains("error=no such clip error_kind=\"Permanent\""));

    assert_eq!(fetch_clip(Fail::Busy), Err(Fail::Busy));
    let lines = lines_of("fetch_clip");
    let max = presets::QUICK.max_attempts();
    let gave_up = lines.last().unwrap();
    assert!(
        gave_up.starts_with(&format!(
            "[ERROR retry_runtime] fetch_clip failed after {max} attempts "
        )),
        "{lines:#?}"
    );
    assert!(gave_up.contains("reason=attempts exhausted"), "{gave_up}");
    // the WARN line of each retry between the two
    assert_eq!(lines.len(), 1 + max as usize, "{lines:#?}");
}

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("clips-upstream")
    .with_failures(2)
    .with_recovery(Duration::from_secs(30));

#[test]
fn a_breaker_that_opens_says_so_in_a_warn_record() {
    logged();
    let _paused = testing::pause();
    let policy = Policy::new()
        .with_name("list_clips")
        .with_max_attempts(2)
        .with_backoff(retry_runtime::Backoff::None)
        .with_circuit(&UPSTREAM);
    let result: Result<u32, Fail> = policy.retry(|| Err(Fail::Busy)).call();
    assert_eq!(result, Err(Fail::Busy));
    let written = logged().text();
    let opened = written
        .lines()
        .find(|l| l.contains("circuit `clips-upstream` opened"))
        .unwrap_or_else(|| panic!("no line of the breaker opening:\n{written}"));
    assert!(
        opened.starts_with(
            "[WARN  retry_runtime] circuit `clips-upstream` opened after 2 consecutive failures; \
             rejecting calls for 30s circuit=\"clips-upstream\" state=\"open\""
        ),
        "{opened}"
    );
}

#[test]
fn attempt_spans_write_no_record_of_their_own() {
    logged();
    let _paused = testing::pause();
    let policy = Policy::new()
        .with_name("spanned_fetch")
        .with_max_attempts(3)
        .with_backoff(retry_runtime::Backoff::None)
        .with_attempt_spans(true);
    let first: Result<u32, Fail> = policy.retry(|| Ok(1)).call();
    assert_eq!(first, Ok(1));
    // (log has no spans: tracing would write one as a record of its own)
    assert_eq!(lines_of("spanned_fetch"), Vec::<String>::new());
    let mut answers = vec![Err(Fail::Busy), Ok(2)];
    let second = policy.retry(|| answers.remove(0)).call();
    assert_eq!(second, Ok(2));
    let lines = lines_of("spanned_fetch");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].starts_with("[WARN  retry_runtime] retrying spanned_fetch"));
    assert!(lines[1].starts_with("[INFO  retry_runtime] spanned_fetch succeeded on attempt 2"));
}
