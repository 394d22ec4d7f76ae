//! `testing::pause` records every wait of a run, sync and async, whichever
//! sleeper waits: the default one (virtually, sync) or one of the user's
//! (still called).

use std::cell::RefCell;
use std::time::Duration;

use retry_runtime::sleep::SleepFn;
use retry_runtime::{testing, Backoff, Policy};

const THREE: Policy = Policy::new()
    .with_attempts(3)
    .with_backoff(Backoff::fixed(Duration::from_secs(7)));

/// A sync run's own sleeper is called, and its waits are recorded too (they
/// were not: only the default sleeper's `sleep_sync` recorded).
#[test]
fn a_sync_sleeper_of_the_users_is_called_and_recorded() {
    let paused = testing::pause();
    let slept = RefCell::new(Vec::new());
    let r: Result<(), &str> = THREE
        .retry(|| Err("down"))
        .sleep_with(|wait: Duration| slept.borrow_mut().push(wait))
        .call();
    assert!(r.is_err());
    let s7 = Duration::from_secs(7);
    assert_eq!(*slept.borrow(), [s7, s7]);
    assert_eq!(paused.waits(), [s7, s7]);
}

/// The default sleeper's waits are recorded once each, not twice.
#[test]
fn the_default_sync_sleeper_is_recorded_once() {
    let paused = testing::pause();
    let r: Result<(), &str> = THREE.retry(|| Err("down")).call();
    assert!(r.is_err());
    assert_eq!(paused.waits(), [Duration::from_secs(7); 2]);
}

/// The async twin, for comparison: the user's sleeper, recorded.
#[tokio::test(start_paused = true)]
async fn an_async_sleeper_of_the_users_is_recorded() {
    let paused = testing::pause();
    let r: Result<(), &str> = THREE
        .retry(|| async { Err("down") })
        .sleep_with(SleepFn(tokio::time::sleep))
        .await;
    assert!(r.is_err());
    assert_eq!(paused.waits(), [Duration::from_secs(7); 2]);
}
