//! "Did it retry, and for how long?": the detailed form reports the
//! attempts and the time spent, waits included, on success as on failure,
//! sync and async.

use std::io::ErrorKind::TimedOut;
use std::time::Duration;

use retry_runtime::{testing, Backoff, Policy, StopReason};

use crate::script::{block_on, fail, step, step_async, S};

const POLICY: Policy = Policy::new()
    .with_max_attempts(4)
    .with_backoff(Backoff::exponential(S, Duration::from_secs(8)));

#[test]
fn the_detailed_form_reports_attempts_and_time_waits_included() {
    let _paused = testing::pause(); // sync waits advance a virtual clock
                                    // the virtual waits, plus the (real) time the attempts took: under a second
    let waited = |elapsed: Duration, waits: Duration| elapsed >= waits && elapsed < waits + S;
    fail(2, TimedOut);
    let ok = POLICY.retry(step).detailed().call().unwrap();
    assert_eq!((ok.value, ok.attempts), (7, 3));
    assert!(
        waited(ok.elapsed, 3 * S),
        "1s + 2s of waits: {:?}",
        ok.elapsed
    );
    fail(9, TimedOut);
    let e = POLICY.retry(step).detailed().call().unwrap_err();
    assert_eq!((e.attempts, e.reason), (4, StopReason::Attempts));
    assert!(waited(e.elapsed, 7 * S), "1s + 2s + 4s: {:?}", e.elapsed);
    fail(0, TimedOut);
    let first = POLICY.retry(step).detailed().call().unwrap();
    assert_eq!(first.attempts, 1);
    assert!(waited(first.elapsed, Duration::ZERO), "{:?}", first.elapsed);
}

#[test]
fn the_detailed_form_reports_them_async_too() {
    let ok = block_on(async {
        fail(1, TimedOut);
        POLICY.retry(step_async).detailed().await
    })
    .unwrap();
    assert_eq!(
        (ok.attempts, ok.elapsed),
        (2, S),
        "tokio's paused clock: the 1s wait"
    );
    let e = block_on(async {
        fail(9, TimedOut);
        POLICY.retry(step_async).detailed().await
    })
    .unwrap_err();
    assert_eq!((e.attempts, e.elapsed), (4, 7 * S));
}
