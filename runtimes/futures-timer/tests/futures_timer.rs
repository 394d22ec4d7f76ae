//! retry-runtime with futures-timer's Delay as the DefaultSleeper, on the
//! plainest executor there is (`futures_executor::block_on`): no tokio in
//! this crate's tree (tests/runtimes/ checks `cargo tree`).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
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
    let started = Instant::now();
    assert_eq!(block_on(annotated()), Ok(3));
    // the waits were slept
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "{:?}",
        started.elapsed()
    );
}

#[retry(attempts = 100, backoff = "exp(1s,4s)", max_elapsed = "10s")]
async fn always_busy() -> Result<u32, Busy> {
    CALLS.with(|c| c.set(c.get() + 1));
    Err(Busy)
}

/// Polls `fut` once: its output if it is ready then.
fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

#[test]
fn under_pause_the_waits_are_virtual_and_move_the_runs_clock() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    // a wait slept on futures-timer's Delay would leave the run pending
    assert_eq!(poll_once(always_busy()), Some(Err(Busy)));
    let s = Duration::from_secs;
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    // the virtual 7s count towards `max_elapsed`: the next wait, 4s, would
    // end past 10s, so the run stops after 4 attempts, not 100
    assert_eq!(CALLS.with(Cell::get), 4);
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
    // also under `testing::pause`: only the waits between attempts are
    // virtual, a timeout is not
    let _paused = testing::pause();
    let started = Instant::now();
    assert_eq!(block_on(too_slow()), Err(Busy));
    let took = started.elapsed();
    assert_eq!(CALLS.with(Cell::get), 2);
    // each attempt had its 30ms, and neither its 5s
    assert!(took >= Duration::from_millis(60), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
