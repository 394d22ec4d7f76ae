//! `testing::capture_logs()` refused inside a `Dispatch::none()` scope (a
//! section of a test silenced with `dispatcher::with_default(&Dispatch::none(), ..)`),
//! in a test binary of its own: there the capture's subscriber is the only
//! dispatcher tracing has registered, and tracing then asks the calling
//! thread's default, not the registered ones, for each callsite's interest
//! when the cache is rebuilt.

use retry_runtime::testing::{self, CaptureError};
use tracing::Dispatch;

/// One callsite, reached before and after the refused call.
fn hit(tag: &str) {
    tracing::warn!(target: "clips", tag, "hit");
}

/// The refused call rebuilt the interest cache from inside the scope,
/// whose no-op dispatcher answered "never" for every callsite, for every
/// thread: the live capture lost each line logged after it (until another
/// capture began outside a scope).
#[test]
fn a_capture_refused_in_a_none_scope_costs_a_live_capture_no_line() {
    let logs = testing::capture_logs().unwrap();
    hit("before");
    let refused =
        tracing::dispatcher::with_default(&Dispatch::none(), || testing::capture_logs().map(drop));
    assert_eq!(refused, Err(CaptureError::ScopedSubscriber));
    hit("after");
    assert_eq!(
        logs.lines(),
        [
            "WARN clips: hit tag=\"before\"",
            "WARN clips: hit tag=\"after\""
        ]
    );
}
