//! A test binary that installs a global `tracing` subscriber of its own
//! before any capture (a binary of its own: there is one global
//! subscriber per process, and tests/log_capture's is the capture's):
//! `testing::capture_logs()` returns an error that says what to do (add
//! `testing::capture_layer()` to it: tests/log_capture_layer), every
//! time, panics nowhere, and leaves the user's subscriber its lines.

use retry_runtime::testing::{self, CaptureError};
use testkit::written::Written;

/// One test: the order (the user's subscriber first) is the point.
#[test]
fn a_global_subscriber_of_the_user_s_own_makes_capture_logs_an_error() {
    let written = Written::default();
    let writer = written.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .init();

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
