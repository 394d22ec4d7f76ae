//! retry-runtime with futures-timer's Delay as the DefaultSleeper, on the
//! plainest executor there is (`futures_executor::block_on`): no tokio in
//! this crate's tree (tests/runtimes/ checks `cargo tree`).

use std::cell::Cell;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use retry_runtime::{AttemptTimeout, Policy, retry, testing};

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("busy")]
struct Busy;

impl From<AttemptTimeout> for Busy {
    fn from(_: AttemptTimeout) -> Self {
        Busy
    }
}

thread_local!(static CALLS: Cell<u32> = const { Cell::new(0) });

async fn flaky() -> Result<u32, Busy> {
    let n = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if n < 3 { Err(Busy) } else { Ok(n) }
}

#[retry(attempts = 3, backoff = "fixed(20ms)")]
async fn annotated() -> Result<u32, Busy> {
    flaky().await
}

#[test]
fn an_annotated_async_fn_sleeps_on_futures_timer() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    let started = Instant::now();
    assert_eq!(block_on(annotated()), Ok(3));
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "{:?}",
        started.elapsed()
    );
    // the waits were slept (above) and recorded
    assert_eq!(paused.waits(), [Duration::from_millis(20); 2]);
}

#[test]
fn the_functional_api_awaits_on_futures_timer() {
    CALLS.with(|c| c.set(0));
    let policy = Policy::new()
        .with_attempts(3)
        .with_backoff(retry_runtime::Backoff::fixed(Duration::from_millis(10)));
    let detailed = block_on(async { policy.retry(flaky).detailed().await }).unwrap();
    assert_eq!((detailed.value, detailed.attempts), (3, 3));
    assert!(detailed.elapsed >= Duration::from_millis(20));
}

/// Each attempt would take 5s (a broken timeout then fails the bound below
/// instead of hanging the suite, as a `pending()` attempt would).
#[retry(attempts = 2, backoff = "none", timeout = "30ms")]
async fn too_slow() -> Result<u32, Busy> {
    CALLS.with(|c| c.set(c.get() + 1));
    futures_timer::Delay::new(Duration::from_secs(5)).await;
    Ok(1)
}

#[test]
fn a_per_attempt_timeout_races_futures_timer() {
    CALLS.with(|c| c.set(0));
    let started = Instant::now();
    assert_eq!(block_on(too_slow()), Err(Busy));
    let took = started.elapsed();
    assert_eq!(CALLS.with(Cell::get), 2);
    // each attempt had its 30ms, and neither its 5s
    assert!(took >= Duration::from_millis(60), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
