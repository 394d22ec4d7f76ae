//! `testing::capture_layer()` in a test binary whose global subscriber is
//! its own (a binary of its own: there is one global subscriber per
//! process): the user's `fmt` layer, in colour and filtered to INFO for
//! itself (a per-layer `EnvFilter`), and the capture's layer beside it,
//! set once by a helper every test calls first. The captures find the
//! layer and install nothing; they hold the lines the capture's own
//! subscriber would (tests/log_capture's), DEBUG included, without the
//! user's colours; the user's layer still gets every thread's lines at its
//! level; threads side by side each capture their own, on a tokio
//! current-thread runtime its spawned tasks' too; a callsite reached first
//! by threads without a capture still reaches one.

use std::sync::{Barrier, OnceLock};
use std::thread;

use retry_runtime::testing::{self, CaptureError};
use retry_runtime::{Backoff, Policy};
use testkit::written::Written;
use tracing::Level;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// The binary's subscriber, set by the first test that asks: the user's
/// layer (what it writes: returned) and the capture's.
fn init() -> &'static Written {
    static WRITTEN: OnceLock<Written> = OnceLock::new();
    WRITTEN.get_or_init(|| {
        let written = Written::default();
        let writer = written.clone();
        let theirs = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(true)
            .without_time()
            .with_filter(EnvFilter::new("info"));
        tracing_subscriber::registry()
            .with(theirs)
            .with(testing::capture_layer())
            .init();
        written
    })
}

#[path = "../log_capture/webhook.rs"]
mod webhook;
use webhook::webhook_fails;

/// The lines, whole, as tests/log_capture/lines.rs reads them from the
/// capture's own subscriber; a span without the colours the user's layer
/// writes it in; the test's DEBUG line, which the user's layer filters out
/// for itself.
#[test]
fn the_lines_are_those_of_the_capture_s_own_subscriber() {
    let written = init();
    let logs = testing::capture_logs().unwrap();
    webhook_fails("layer.lines");
    tracing::info_span!("job", id = 7).in_scope(|| tracing::error!(target: "t", "down"));
    tracing::debug!(target: "t", "layer.detail");
    let lines = logs.lines();
    assert_eq!(lines.len(), 6, "{logs}");
    webhook::assert_webhook_lines(&lines, "layer.lines", &logs);
    assert_eq!(lines[4], "ERROR job{id=7}: t: down");
    assert_eq!(lines[5], "DEBUG t: layer.detail");
    assert_eq!(logs.count(Level::WARN), 3, "{logs}");
    // the user's layer, at INFO for itself, in colour
    let text = written.text();
    assert!(
        text.contains("retrying layer.lines after attempt 3/4 failed"),
        "{text}"
    );
    assert!(text.contains("\u{1b}["), "{text}");
    assert!(!text.contains("layer.detail"), "{text}");
}

/// The lines as values through the layer, as through the capture's own
/// subscriber: the retries' fields by name, unquoted, the span's fields
/// (which the user's layer writes in colour), the test's DEBUG line the
/// user's layer filters out for itself.
#[test]
fn the_records_are_those_of_the_capture_s_own_subscriber() {
    init();
    let logs = testing::capture_logs().unwrap();
    tracing::info_span!("job", id = 7).in_scope(|| webhook_fails("layer.records"));
    tracing::debug!(target: "t", n = 2, "layer.detail");
    let retries = logs.retries();
    let seen: Vec<_> = retries
        .iter()
        .map(|r| {
            (
                r.field("operation"),
                r.field_as::<u64>("wait_ms"),
                r.field("error_kind"),
            )
        })
        .collect();
    let retry = |wait_ms| (Some("layer.records"), Some(wait_ms), Some("Connect"));
    assert_eq!(seen, [retry(1000), retry(2000), retry(4000)], "{logs}");
    let records = logs.records();
    assert_eq!(records.len(), 5, "{logs}");
    assert_eq!(records[3].field("reason"), Some("attempts exhausted"));
    let job = &records[3].spans()[0];
    assert_eq!((job.name(), job.field("id")), ("job", Some("7")));
    assert_eq!(records[4].level(), Level::DEBUG);
    assert_eq!(records[4].field_as("n"), Some(2_u8));
    assert_eq!(records[4].to_string(), "DEBUG t: layer.detail n=2");
}

/// A span the capture did not record, which the user's layer did (made
/// on a thread without a capture, or on this one before the capture
/// began), is left out of the captured lines, as the capture's own
/// subscriber leaves it out; not written by its name alone, as though it
/// had no fields. A span made since, on this thread, is written whole.
#[test]
fn spans_the_capture_did_not_record_are_left_out() {
    init();
    let elsewhere = thread::spawn(|| tracing::info_span!("elsewhere", id = 1))
        .join()
        .unwrap();
    // (its parent: `elsewhere`, entered here)
    let before = elsewhere.in_scope(|| tracing::info_span!("before", id = 2));
    let logs = testing::capture_logs().unwrap();
    before.in_scope(|| {
        tracing::info_span!("job", id = 3).in_scope(|| tracing::warn!(target: "t", "down"));
        tracing::warn!(target: "t", "in before alone");
    });
    assert_eq!(
        logs.lines(),
        ["WARN job{id=3}: t: down", "WARN t: in before alone"]
    );
}

/// The user's layer gets the lines of every thread, those that capture
/// and those that do not, at its own level; a capture, its thread's alone.
#[test]
fn the_user_s_layer_still_gets_every_thread_s_lines() {
    let written = init();
    let logs = testing::capture_logs().unwrap();
    thread::spawn(|| {
        tracing::info!(target: "t", "elsewhere.info");
        tracing::debug!(target: "t", "elsewhere.debug");
    })
    .join()
    .unwrap();
    tracing::info!(target: "t", "here.info");
    assert_eq!(logs.lines(), ["INFO t: here.info"]);
    let text = written.text();
    assert!(text.contains("elsewhere.info"), "{text}");
    assert!(text.contains("here.info"), "{text}");
    assert!(!text.contains("elsewhere.debug"), "{text}");
}

/// Threads that capture, and as many that do not, in each round.
const THREADS: usize = 4;
const ROUNDS: usize = 10;

/// Each capturing thread's lines, and no other thread's, while threads
/// without a capture make the same calls beside them.
#[test]
fn threads_side_by_side_each_capture_their_own_lines() {
    init();
    for round in 0..ROUNDS {
        let start = Barrier::new(THREADS * 2);
        thread::scope(|s| {
            for t in 0..THREADS {
                let start = &start;
                s.spawn(move || {
                    let name: &'static str = format!("layer.capturing.{round}.{t}").leak();
                    let logs = testing::capture_logs().unwrap();
                    start.wait();
                    tracing::debug!(target: "mine", name, "before the call");
                    webhook_fails(name);
                    let lines = logs.lines();
                    assert_eq!(lines.len(), 5, "{logs}");
                    assert_eq!(
                        lines[0],
                        format!("DEBUG mine: before the call name=\"{name}\"")
                    );
                    let own = format!("operation=\"{name}\" ");
                    assert!(lines[1..].iter().all(|l| l.contains(&own)), "{logs}");
                });
                s.spawn(move || {
                    let name: &'static str = format!("layer.quiet.{round}.{t}").leak();
                    start.wait();
                    tracing::debug!(target: "mine", name, "before the call");
                    webhook_fails(name);
                });
            }
        });
    }
}

/// One DEBUG callsite per number, which nothing else reaches: the user's
/// layer, at INFO, wants none of them; the capture's layer, "sometimes"
/// each.
macro_rules! callsites {
    ($($n:literal)*) => {
        fn log_through(n: usize, tag: &str) {
            match n {
                $($n => tracing::debug!(target: "fresh", tag, "callsite {}", $n),)*
                _ => unreachable!("no callsite {n}"),
            }
        }
        const CALLSITES: usize = [$($n),*].len();
    };
}

callsites!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19);

/// A DEBUG callsite reached first by threads without a capture (all at
/// once), which the user's layer filters out, is not cached as "never":
/// the capture that reaches it next sees its line.
#[test]
fn a_callsite_reached_first_by_threads_without_a_capture_still_reaches_one() {
    init();
    for n in 0..CALLSITES {
        let reached = Barrier::new(THREADS + 1);
        let quiet_first = Barrier::new(THREADS + 1);
        thread::scope(|s| {
            for _ in 0..THREADS {
                let (reached, quiet_first) = (&reached, &quiet_first);
                s.spawn(move || {
                    reached.wait();
                    log_through(n, "quiet");
                    quiet_first.wait();
                });
            }
            let logs = testing::capture_logs().unwrap();
            reached.wait();
            quiet_first.wait();
            log_through(n, "captured");
            assert_eq!(
                logs.lines(),
                [format!("DEBUG fresh: callsite {n} tag=\"captured\"")],
                "callsite {n}"
            );
        });
    }
}

/// On a current-thread runtime, a spawned task's lines are the test's
/// thread's: captured.
#[tokio::test(start_paused = true)]
async fn a_spawned_task_on_a_current_thread_runtime_is_captured() {
    init();
    let logs = testing::capture_logs().unwrap();
    let failing = async {
        Policy::new()
            .with_name("layer.spawned")
            .with_max_attempts(3)
            .with_backoff(Backoff::None)
            .retry(|| async { Err::<(), _>("down") })
            .await
    };
    assert!(tokio::spawn(failing).await.unwrap().is_err());
    assert_eq!(logs.count(Level::WARN), 2, "{logs}");
    assert!(
        logs.contains("ERROR retry_runtime: layer.spawned failed after 3 attempts"),
        "{logs}"
    );
}

/// A subscriber in scope on the thread is still an error (the lines
/// would go to it), and the capture works again outside it.
#[test]
fn a_scoped_subscriber_is_still_an_error() {
    init();
    let scoped = tracing::subscriber::NoSubscriber::new();
    let e = tracing::subscriber::with_default(scoped, || testing::capture_logs().unwrap_err());
    assert_eq!(e, CaptureError::ScopedSubscriber);
    let logs = testing::capture_logs().unwrap();
    tracing::warn!(target: "t", "after the scope");
    assert_eq!(logs.lines(), ["WARN t: after the scope"]);
}
