//! A subscriber of the test's own beside the capture: one in scope on
//! the thread (`set_default`, `with_default`) is an error that says so,
//! and the capture works again outside it; testkit's capture (a scoped
//! subscriber of this repository's tests) keeps working in the same
//! binary, and a capture made after it ends sees the lines again. A test
//! whose `try_init()` helper runs after a capture has begun finds the
//! capture's global subscriber: its `try_init()` fails (the capture's docs
//! say so).

use retry_runtime::testing::{self, CaptureError};
use tracing::Level;

#[test]
fn a_scoped_subscriber_on_the_thread_is_an_error_that_says_what_to_do() {
    let subscriber = tracing::subscriber::NoSubscriber::new();
    let e = tracing::subscriber::with_default(subscriber, || testing::capture_logs().unwrap_err());
    assert_eq!(e, CaptureError::ScopedSubscriber);
    assert!(e.to_string().contains("capture outside its scope"), "{e}");
    // and `unwrap()` on it shows that message
    assert!(
        format!("{e:?}").contains("capture outside its scope"),
        "{e:?}"
    );

    let logs = testing::capture_logs().unwrap();
    crate::webhook::webhook_fails("after.scope");
    assert_eq!(logs.count(Level::WARN), 3, "{logs}");
}

#[test]
fn testkit_s_capture_and_the_library_s_share_the_binary() {
    {
        let recorded = testkit::capture::capture();
        crate::webhook::webhook_fails("testkit.first");
        recorded.assert_logged(Level::ERROR, "testkit.first failed after 4 attempts");
    }
    let logs = testing::capture_logs().unwrap();
    crate::webhook::webhook_fails("library.after");
    assert_eq!(logs.count(Level::ERROR), 1, "{logs}");
}

#[test]
fn a_try_init_helper_after_a_capture_fails() {
    let logs = testing::capture_logs().unwrap();
    let helper = tracing_subscriber::fmt().with_test_writer().try_init();
    assert!(helper.is_err(), "the capture's subscriber was replaced");
    tracing::warn!(target: "helper", "still captured");
    assert_eq!(logs.lines(), ["WARN helper: still captured"]);
}
