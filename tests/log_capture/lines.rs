//! What a capture holds: the runtime's lines as the text format writes
//! them (level, target, message, fields), the test's own `tracing` lines
//! among them in order, from DEBUG up, from the capture's start, read as
//! often as needed.

use retry_runtime::{testing, Backoff, Policy};
use tracing::Level;

/// docs/testing.md's example, with each line whole: level, target,
/// message, then the fields, `error` unquoted (its Display), the other
/// text fields quoted (docs/logging.md).
#[test]
fn each_retry_is_a_warn_line_and_the_give_up_an_error_line() {
    let logs = testing::capture_logs().unwrap();
    crate::webhook::webhook_fails("hooks.post");
    assert_eq!(logs.count(Level::WARN), 3, "{logs}");
    assert_eq!(logs.count(Level::ERROR), 1, "{logs}");
    crate::webhook::assert_webhook_lines(&logs.lines(), "hooks.post", &logs);
}

/// The test's own lines are captured with the runtime's, in the order
/// they were logged; DEBUG is, TRACE is not.
#[test]
fn the_test_s_own_lines_are_captured_in_order_from_debug_up() {
    let logs = testing::capture_logs().unwrap();
    tracing::info!(target: "clips", clip = 7, "downloading");
    crate::webhook::webhook_fails("clips.get");
    tracing::debug!(target: "clips", "given up");
    tracing::trace!(target: "clips", "left out");
    let lines = logs.lines();
    assert_eq!(lines.len(), 6, "{logs}");
    assert_eq!(lines[0], "INFO clips: downloading clip=7");
    assert!(
        lines[1].starts_with("WARN retry_runtime: retrying clips.get"),
        "{logs}"
    );
    assert!(
        lines[4].starts_with("ERROR retry_runtime: clips.get failed"),
        "{logs}"
    );
    assert_eq!(lines[5], "DEBUG clips: given up");
    assert_eq!(logs.lines_at(Level::DEBUG), ["DEBUG clips: given up"]);
    assert!(!logs.contains("left out"), "{logs}");
}

/// A policy's own levels: its retries at DEBUG are captured as DEBUG.
#[test]
fn a_retry_at_debug_is_captured_at_debug() {
    let logs = testing::capture_logs().unwrap();
    let _paused = testing::pause();
    let mut calls = 0;
    let polled = Policy::new()
        .with_name("poll")
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(std::time::Duration::from_secs(2)))
        .with_retry_level(Level::DEBUG)
        .retry(|| {
            calls += 1;
            if calls < 3 {
                Err("not ready")
            } else {
                Ok(calls)
            }
        })
        .call();
    assert_eq!(polled, Ok(3));
    assert_eq!(logs.count(Level::DEBUG), 2, "{logs}");
    assert_eq!(logs.count(Level::WARN), 0, "{logs}");
    assert!(
        logs.contains("INFO retry_runtime: poll succeeded on attempt 3"),
        "{logs}"
    );
}

/// The fmt layer writes a line's spans between its level and its target.
#[test]
fn a_line_in_a_span_has_the_span_before_its_target() {
    let logs = testing::capture_logs().unwrap();
    tracing::info_span!("job", id = 7).in_scope(|| crate::webhook::webhook_fails("jobs.run"));
    assert!(
        logs.contains("ERROR job{id=7}: retry_runtime: jobs.run failed after 4 attempts"),
        "{logs}"
    );
}

/// Lines logged before the capture began, or after the last capture of
/// the thread was dropped, are not in a capture; reading consumes nothing.
#[test]
fn a_capture_holds_the_lines_since_it_began_and_reading_keeps_them() {
    let before = testing::capture_logs().unwrap();
    tracing::warn!(target: "clips", "before");
    drop(before);
    tracing::warn!(target: "clips", "between");
    let logs = testing::capture_logs().unwrap();
    tracing::warn!(target: "clips", "during");
    assert_eq!(logs.lines(), ["WARN clips: during"]);
    assert_eq!(logs.lines(), ["WARN clips: during"]);
    assert_eq!(logs.to_string(), "WARN clips: during");
}

/// Captures nest: a helper's capture does not take the lines from the
/// test's.
#[test]
fn a_capture_inside_another_leaves_it_its_lines() {
    let outer = testing::capture_logs().unwrap();
    let in_helper = || {
        let inner = testing::capture_logs().unwrap();
        crate::webhook::webhook_fails("nested");
        inner.count(Level::WARN)
    };
    assert_eq!(in_helper(), 3);
    assert_eq!(outer.count(Level::WARN), 3, "{outer}");
    assert_eq!(outer.count(Level::ERROR), 1, "{outer}");
}

/// A span made before the capture began was not recorded (the thread was
/// not capturing): its lines show only the spans made since.
#[test]
fn a_span_made_before_the_capture_is_not_shown() {
    let early = tracing::info_span!("early");
    let logs = testing::capture_logs().unwrap();
    early.in_scope(|| {
        tracing::info_span!("late").in_scope(|| tracing::warn!(target: "clips", "inside"))
    });
    assert_eq!(logs.lines(), ["WARN late: clips: inside"]);
}

/// A writer that logs as it writes (a `fmt::Write` adapter over a
/// traced sink, say).
struct LoggingWriter(String);

impl core::fmt::Write for LoggingWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        tracing::debug!(target: "sink", bytes = s.len(), "written");
        self.0.push_str(s);
        Ok(())
    }
}

/// The lines shown (`{logs}`) into a writer that logs as it writes: the
/// writer's lines are captured after them, and nothing panics (the
/// capture's buffer was borrowed while it was shown, and the writer's
/// line, written to it, panicked with "RefCell already borrowed").
#[test]
fn showing_the_lines_into_a_writer_that_logs_does_not_panic() {
    use core::fmt::Write as _;
    let logs = testing::capture_logs().unwrap();
    tracing::info!(target: "clips", "one");
    let mut shown = LoggingWriter(String::new());
    write!(shown, "{logs}").unwrap();
    assert_eq!(shown.0, "INFO clips: one");
    assert_eq!(logs.lines()[0], "INFO clips: one");
    assert!(logs.lines()[1].starts_with("DEBUG sink: written"), "{logs}");
}

/// An event whose field (or message) has a line break in it (a
/// validation error listing its problems, say) is one line of the
/// capture, with the break in it: counted once at its level, and found
/// whole. It was two: the second, without a level in its text, counted
/// at the event's level too, and stripped of its indentation.
#[test]
fn an_event_with_a_line_break_is_one_line() {
    let logs = testing::capture_logs().unwrap();
    let error = "invalid config:\n  `timeout` is missing";
    tracing::warn!(target: "cfg", error = %error, "rejected");
    tracing::info!(target: "cfg", "two\nparts");
    assert_eq!(logs.count(Level::WARN), 1, "{logs}");
    assert_eq!(
        logs.lines_at(Level::WARN),
        ["WARN cfg: rejected error=invalid config:\n  `timeout` is missing"]
    );
    assert_eq!(logs.lines_at(Level::INFO), ["INFO cfg: two\nparts"]);
    assert!(logs.contains("config:\n  `timeout`"), "{logs}");
}
