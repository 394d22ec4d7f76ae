//! The lines as values (`CapturedLogs::records`, `retries`, `records_at`):
//! the runtime's lines with the fields docs/logging.md lists, each by name
//! and unquoted whatever the text does with it, the spans they were logged
//! in, the test's own lines beside them, on a sync run and on an async one.

use std::future::IntoFuture as _;

use retry_runtime::{retry, testing, Classify};
use tracing::{Instrument as _, Level};

/// The webhook's three retries, field by field, in the order the text
/// writes them, and its give-up; the `call` number one and the same on
/// every line; each record the line `lines()` shows at its place.
#[test]
fn each_retry_s_fields_by_name() {
    let logs = testing::capture_logs().unwrap();
    crate::webhook::webhook_fails("records.post");
    let retries = logs.retries();
    assert_eq!(retries.len(), 3, "{logs}");
    let call = retries[0].field("call").expect("a call field");
    assert!(call.parse::<u64>().is_ok(), "{logs}");
    for (n, (record, wait_ms)) in retries.iter().zip(["1000", "2000", "4000"]).enumerate() {
        let attempt = (n + 1).to_string();
        let fields: Vec<_> = record.fields().collect();
        assert_eq!(
            fields,
            [
                ("operation", "records.post"),
                ("call", call),
                ("attempt", attempt.as_str()),
                ("max_attempts", "4"),
                ("wait_ms", wait_ms),
                ("error", "connection refused"),
                ("error_kind", "Connect"),
                ("wait_source", "backoff"),
            ],
            "{record}"
        );
        assert_eq!(record.level(), Level::WARN);
        assert_eq!(record.target(), retry_runtime::log::TARGET);
    }
    assert_eq!(
        retries[1].message(),
        "retrying records.post after attempt 2/4 failed; next attempt in 2s"
    );
    assert_eq!(retries[2].field_as("wait_ms"), Some(4000_u64));
    assert_eq!(retries[2].field("elapsed_ms"), None, "an untimed call");

    let give_up = logs.records_at(Level::ERROR);
    assert_eq!(give_up.len(), 1, "{logs}");
    assert_eq!(give_up[0].message(), "records.post failed after 4 attempts");
    assert_eq!(give_up[0].field("reason"), Some("attempts exhausted"));
    assert_eq!(give_up[0].field("outcome"), Some("attempts_exhausted"));
    assert_eq!(give_up[0].field("call"), Some(call));
    assert_eq!(give_up[0].field_as("attempt"), Some(4_u32));

    let records = logs.records();
    let shown: Vec<_> = records.iter().map(ToString::to_string).collect();
    assert_eq!(shown, logs.lines());
    assert_eq!(records[..3], retries[..]);
}

#[derive(Debug, thiserror::Error, Classify)]
enum ClipError {
    #[error("clip {0} not found")]
    #[classify(Permanent, why = "the clip does not exist")]
    NotFound(u64),
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout | Connect)]
fn fetch_clip(id: u64) -> Result<(), ClipError> {
    Err(ClipError::NotFound(id))
}

/// One field name, two spellings in the text (docs/logging.md): a
/// non-retriable error's `reason` quoted (a string), a give-up's after
/// retries unquoted (its `Display`); one value each as a record holds it.
#[test]
fn a_reason_is_its_text_whether_the_line_quotes_it_or_not() {
    let logs = testing::capture_logs().unwrap();
    assert!(fetch_clip(7).is_err());
    crate::webhook::webhook_fails("records.reason");
    assert!(
        logs.contains("reason=\"the clip does not exist\""),
        "{logs}"
    );
    assert!(logs.contains("reason=attempts exhausted"), "{logs}");
    let reasons: Vec<_> = logs
        .records()
        .iter()
        .filter_map(|r| {
            Some((
                r.field("reason")?.to_owned(),
                r.field("outcome")?.to_owned(),
            ))
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("the clip does not exist".into(), "permanent_error".into()),
            ("attempts exhausted".into(), "attempts_exhausted".into()),
        ]
    );
    let permanent = &logs.records()[0];
    assert_eq!(permanent.level(), Level::WARN);
    assert_eq!(permanent.field("error"), Some("clip 7 not found"));
    assert_eq!(permanent.field("error_kind"), Some("Permanent"));
}

/// A value is its event's, whole, where the text cannot tell it apart:
/// an error whose message looks like another field (docs/logging.md's
/// warning about reading the text), a message with a line break in it.
#[test]
fn a_value_that_looks_like_a_field_is_one_value() {
    let logs = testing::capture_logs().unwrap();
    let error = "busy error_kind=\"Permanent\"";
    tracing::warn!(target: "db", error = %error, error_kind = "Unavailable", "two\nparts");
    assert_eq!(
        logs.lines(),
        ["WARN db: two\nparts error=busy error_kind=\"Permanent\" error_kind=\"Unavailable\""]
    );
    let record = &logs.records()[0];
    assert_eq!(record.field("error"), Some("busy error_kind=\"Permanent\""));
    assert_eq!(record.field("error_kind"), Some("Unavailable"));
    assert_eq!(record.message(), "two\nparts");
}

/// The test's own lines are records too, with their typed values, beside
/// the runtime's; selected by target or message with a filter.
#[test]
fn the_test_s_own_lines_are_records_too() {
    let logs = testing::capture_logs().unwrap();
    tracing::info!(target: "clips", clip = 7, size_mb = 1.5, hd = true, name = "a b", "downloading");
    crate::webhook::webhook_fails("records.own");
    tracing::debug!(target: "clips", clip = 7, "given up");
    let records = logs.records();
    assert_eq!(records.len(), 6, "{logs}");
    let clips: Vec<_> = records.iter().filter(|r| r.target() == "clips").collect();
    assert_eq!(clips.len(), 2, "{logs}");
    assert_eq!(clips[0].message(), "downloading");
    assert_eq!(clips[0].field_as("clip"), Some(7_u32));
    assert_eq!(clips[0].field_as("size_mb"), Some(1.5_f64));
    assert_eq!(clips[0].field_as("hd"), Some(true));
    assert_eq!(clips[0].field("name"), Some("a b"));
    assert_eq!(clips[1].level(), Level::DEBUG);
    assert_eq!(logs.retries().len(), 3, "{logs}");
    let given_up = records
        .iter()
        .filter(|r| r.message().contains("failed after"));
    assert_eq!(given_up.count(), 1, "{logs}");
}

/// An async run on tokio's paused clock: its retries' waits, and the
/// caller's span on each of its lines (the request's id, as
/// docs/logging.md's `instrument` recipe puts it there).
#[tokio::test(start_paused = true)]
async fn an_async_run_s_records_carry_the_caller_s_span() {
    let logs = testing::capture_logs().unwrap();
    let span = tracing::info_span!("clip", event_id = "evt-8");
    let r: Result<(), _> = retry_runtime::presets::WEBHOOK
        .with_name("records.async")
        .retry(|| async { Err(crate::webhook::refused()) })
        .into_future()
        .instrument(span)
        .await;
    assert!(r.is_err());
    let retries = logs.retries();
    let waits: Vec<_> = retries
        .iter()
        .map(|r| r.field_as::<u64>("wait_ms"))
        .collect();
    assert_eq!(waits, [Some(1000), Some(2000), Some(4000)], "{logs}");
    for record in logs.records() {
        let spans: Vec<_> = record
            .spans()
            .iter()
            .map(|s| (s.name(), s.field("event_id")))
            .collect();
        assert_eq!(spans, [("clip", Some("evt-8"))], "{record}");
    }
    assert_eq!(logs.records().len(), 4, "{logs}");
}

/// A value whose `Display` logs (a type that traces what it formats):
/// under the global subscriber `capture_logs` installs, `tracing` hands
/// that inner event to the capture from inside the outer one's handling.
/// Each line keeps its own event's values: the outer line its target,
/// message and field, whatever lines the inner event adds before it.
#[test]
fn a_value_that_logs_as_it_is_shown_keeps_its_line_s_record() {
    struct Traced;
    impl std::fmt::Display for Traced {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            tracing::info!(target: "inner", depth = 2, "shown");
            f.write_str("outer value")
        }
    }
    let logs = testing::capture_logs().unwrap();
    tracing::warn!(target: "outer", v = %Traced, "logged");
    let records = logs.records();
    assert_eq!(records.len(), logs.lines().len());
    for record in &records {
        let target = record.to_string().split(' ').nth(1).map(str::to_owned);
        assert_eq!(Some(format!("{}:", record.target())), target, "{record}");
    }
    let outer = records.last().expect("the outer line");
    assert_eq!(
        outer.to_string(),
        "WARN outer: logged v=outer value",
        "{logs}"
    );
    assert_eq!(outer.message(), "logged");
    assert_eq!(outer.field("v"), Some("outer value"));
}

/// A `log` record bridged to `tracing` (tracing-log's `LogTracer`, which
/// a subscriber's `.init()` installs): its record's target is the one its
/// line shows, and it keeps the bridge's fields where the line does,
/// whether or not tracing-subscriber has its `tracing-log` feature (the
/// text writes the record under its own target, without them, when it
/// has; under `log`, with a `log.target` field, when not: a
/// `--workspace --all-features` build turns it on, this package's own
/// does not). (An event of the user's made to look like one, named `log
/// event`, is not the bridge's: the text format keeps its target `log`.)
#[test]
fn a_log_record_s_target_is_the_one_its_line_shows() {
    use tracing_log::log::{self, Log as _};
    let logs = testing::capture_logs().unwrap();
    tracing_log::LogTracer::new().log(
        &log::Record::builder()
            .level(log::Level::Warn)
            .target("db::pool")
            .args(format_args!("slow"))
            .build(),
    );
    let line = &logs.lines()[0];
    let records = logs.records();
    let record = &records[0];
    assert!(
        line.starts_with(&format!("WARN {}: slow", record.target())),
        "{line} {record:?}"
    );
    assert_eq!(
        record.field("log.target").is_some(),
        line.contains("log.target="),
        "{line} {record:?}"
    );
}
