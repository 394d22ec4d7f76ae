//! `testing::capture_logs()` called first inside a scope of the test's
//! own (`with_default`) whose subscriber has `testing::capture_layer()`,
//! in a test binary with no global subscriber (a binary of its own: it
//! must start without one). The lines go to the scope's subscriber, whose
//! layer captures them: the capture works, as it does in the same scope
//! once a global subscriber is set, and as it does outside the scope.

use retry_runtime::testing;
use tracing_subscriber::prelude::*;

/// One test: the order (the first capture inside the scope) is the point.
#[test]
fn a_first_capture_in_a_scope_with_the_capture_s_layer_captures() {
    let scoped = tracing_subscriber::registry().with(testing::capture_layer());
    tracing::subscriber::with_default(scoped, || {
        let logs = testing::capture_logs().unwrap();
        tracing::warn!(target: "t", "in the scope");
        tracing::debug!(target: "t", "detail");
        assert_eq!(logs.lines(), ["WARN t: in the scope", "DEBUG t: detail"]);
    });
    // and outside it, with the binary's global subscriber
    let logs = testing::capture_logs().unwrap();
    tracing::warn!(target: "t", "outside");
    assert_eq!(logs.lines(), ["WARN t: outside"]);
}
