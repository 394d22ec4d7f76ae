//! `testing::capture_logs()` called first inside a subscriber's scope
//! (`with_default`, `set_default`), in a test binary of its own (there is
//! one global subscriber per process, and this binary must start without
//! one): the call is refused before it installs anything, so the test's
//! own `set_global_default` still succeeds afterwards, and its subscriber
//! gets the lines.

use retry_runtime::testing::{self, CaptureError};
use testkit::written::Written;

/// One test: the order (refused captures first, the global subscriber
/// after them) is the point.
#[test]
fn a_refused_capture_leaves_the_global_subscriber_free() {
    // tracing's own NoSubscriber, in scope: still a scope of the test's
    let e = tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::new(), || {
        testing::capture_logs().unwrap_err()
    });
    assert_eq!(e, CaptureError::ScopedSubscriber);
    assert!(e.to_string().contains("capture outside its scope"), "{e}");

    // a subscriber of the test's own, by `set_default`
    let written_in_scope = Written::default();
    let writer = written_in_scope.clone();
    let scoped = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    {
        let _scope = tracing::subscriber::set_default(scoped);
        assert_eq!(
            testing::capture_logs().unwrap_err(),
            CaptureError::ScopedSubscriber
        );
        tracing::warn!("in the scope");
    }
    let text = written_in_scope.text();
    assert!(text.contains("in the scope"), "{text}");

    // nothing was installed: the test's own global subscriber is set
    let written = Written::default();
    let writer = written.clone();
    let global = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    tracing::subscriber::set_global_default(global)
        .expect("a refused capture_logs() installed a global subscriber");

    // and from then on the binary's global subscriber is the test's
    assert_eq!(
        testing::capture_logs().unwrap_err(),
        CaptureError::OtherGlobalSubscriber
    );
    written.assert_gets_a_retry_of("theirs");
}
