//! `testing::capture_layer()` (boxed, `Layer::boxed`) in a test binary
//! whose own global subscriber has a filter of the whole subscriber, an
//! `EnvFilter` at INFO beside the layers (a binary of its own: one global
//! subscriber per process). That filter decides for every layer, the
//! capture's too: the captures hold INFO and up, and no DEBUG line, the
//! runtime's or the test's own (docs/testing.md says so; with the filter
//! on the user's layer alone, tests/log_capture_layer, they hold DEBUG).

use std::sync::Once;

use retry_runtime::{testing, Backoff, KindSet, Policy};
use tracing::Level;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// The binary's subscriber, set by the first test that asks.
fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        tracing_subscriber::registry()
            .with(EnvFilter::new("info"))
            .with(tracing_subscriber::fmt::layer().with_test_writer())
            .with(testing::capture_layer().boxed())
            .init();
    });
}

#[test]
fn a_global_filter_at_info_hides_debug_lines_from_the_capture() {
    init();
    let logs = testing::capture_logs().unwrap();
    tracing::debug!(target: "t", "hidden");
    tracing::info!(target: "t", "shown");
    // a retry (WARN), then an error the policy expects, its line at DEBUG
    let _paused = testing::pause();
    let mut calls = 0;
    let out = Policy::new()
        .with_name("filtered")
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_non_retriable_level(Level::DEBUG)
        .retry_on(KindSet::TRANSIENT)
        .retry(|| {
            calls += 1;
            let kind = match calls {
                1 => std::io::ErrorKind::TimedOut,
                _ => std::io::ErrorKind::PermissionDenied,
            };
            Err::<(), _>(std::io::Error::from(kind))
        })
        .call();
    assert!(out.is_err());
    let lines = logs.lines();
    assert_eq!(lines.len(), 2, "{logs}");
    assert_eq!(lines[0], "INFO t: shown");
    assert!(
        lines[1].starts_with(
            "WARN retry_runtime: retrying filtered after attempt 1/3 failed; next attempt in 0ns "
        ),
        "{logs}"
    );
    assert_eq!(logs.count(Level::DEBUG), 0, "{logs}");
}

#[test]
fn the_lines_printed_end_with_a_note_naming_the_level_the_filter_lets_through() {
    init();
    let logs = testing::capture_logs().unwrap();
    tracing::info!(target: "t", "shown");
    let printed = logs.to_string();
    let (first, note) = printed.split_once('\n').unwrap();
    assert_eq!(first, "INFO t: shown");
    assert!(
        note.starts_with(
            "(note: this test binary's tracing filter lets INFO and above only through, to the capture too"
        ),
        "{printed}"
    );
    assert!(note.contains(".with_filter(..)"), "{printed}");
    // the lines themselves carry no note
    assert_eq!(logs.lines(), ["INFO t: shown"]);
}
