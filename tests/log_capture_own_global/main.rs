//! A test binary that installs a global `tracing` subscriber of its own
//! before any capture (a binary of its own: there is one global
//! subscriber per process, and tests/log_capture's is the capture's):
//! `testing::capture_logs()` returns an error that says what to do (add
//! `testing::capture_layer()` to it: tests/log_capture_layer), every
//! time, panics nowhere, and leaves the user's subscriber its lines; a
//! scope of the test's own with the capture's layer in it captures.

use std::sync::OnceLock;

use retry_runtime::testing::{self, CaptureError};
use testkit::written::Written;

/// The user's global subscriber, set by the first test that asks, before
/// it captures (the order is the point); what it writes.
fn theirs() -> &'static Written {
    static WRITTEN: OnceLock<Written> = OnceLock::new();
    WRITTEN.get_or_init(|| {
        let written = Written::default();
        let writer = written.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .init();
        written
    })
}

#[test]
fn a_global_subscriber_of_the_user_s_own_makes_capture_logs_an_error() {
    let written = theirs();

    for _ in 0..2 {
        let e = testing::capture_logs().unwrap_err();
        assert_eq!(e, CaptureError::OtherGlobalSubscriber);
        let message = e.to_string();
        assert!(
            message.contains("already has a global tracing subscriber"),
            "{message}"
        );
        assert!(
            message.contains("remove yours from this test binary"),
            "{message}"
        );
        // the way to keep it: the capture's layer in it
        assert!(
            message.contains("add `.with(retry_runtime::testing::capture_layer())` to yours"),
            "{message}"
        );
        assert!(format!("{e:?}").contains(&message), "{e:?}");
    }

    // the lines still go to the user's subscriber
    written.assert_gets_a_retry_of("still.theirs");
}

/// A subscriber in scope (`with_default`) that has the capture's layer
/// gets this thread's lines, whatever the global one is: the capture works
/// there, and does not say that the lines would go elsewhere.
#[test]
fn a_scope_with_the_capture_s_layer_captures_beside_the_user_s_global() {
    use tracing_subscriber::prelude::*;

    theirs();
    let scoped = tracing_subscriber::registry().with(testing::capture_layer());
    tracing::subscriber::with_default(scoped, || {
        let logs = testing::capture_logs().unwrap();
        tracing::warn!(target: "t", "in the scope");
        assert_eq!(logs.lines(), ["WARN t: in the scope"]);
    });
}
