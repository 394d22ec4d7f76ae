//! retry-runtime on smol's executor, with async-io's timer as the
//! DefaultSleeper: no tokio in this crate's tree (tests/runtimes/ checks
//! `cargo tree`), so nothing here could lean on a tokio runtime.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use retry_runtime::sleep::{SleepFn, SmolSleeper};
use retry_runtime::{AttemptTimeout, Classify, Policy, Sleeper, retry, testing};

#[derive(Debug, PartialEq, thiserror::Error, Classify)]
enum Fail {
    #[error("Busy")]
    #[classify(Unavailable)]
    Busy,
    #[error("TimedOut")]
    #[classify(Timeout)]
    TimedOut,
}

impl From<AttemptTimeout> for Fail {
    fn from(_: AttemptTimeout) -> Self {
        Fail::TimedOut
    }
}

thread_local!(static CALLS: Cell<u32> = const { Cell::new(0) });

fn calls() -> u32 {
    CALLS.with(Cell::get)
}

/// Busy twice, then the answer.
async fn flaky() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    smol::future::yield_now().await;
    if calls() < 3 {
        Err(Fail::Busy)
    } else {
        Ok(calls())
    }
}

/// Runs `fut` on smol's executor from zero calls: its output, and how long
/// it took (the waits were real).
fn block_on_timed<F: std::future::Future>(fut: F) -> (F::Output, Duration) {
    CALLS.with(|c| c.set(0));
    let started = Instant::now();
    let out = smol::block_on(fut);
    (out, started.elapsed())
}

#[retry(attempts = 3, backoff = "fixed(20ms)")]
async fn annotated() -> Result<u32, Fail> {
    flaky().await
}

#[test]
fn an_annotated_async_fn_sleeps_on_async_io_under_smol() {
    let paused = testing::pause();
    let (out, took) = block_on_timed(annotated());
    assert_eq!(out, Ok(3));
    // two real waits of 20ms on async-io's timer, recorded as well
    assert!(took >= Duration::from_millis(40), "{took:?}");
    assert_eq!(paused.waits(), [Duration::from_millis(20); 2]);
}

#[test]
fn the_functional_api_awaits_under_smol_with_the_default_and_an_explicit_sleeper() {
    let policy = Policy::new()
        .with_attempts(3)
        .with_backoff(retry_runtime::Backoff::fixed(Duration::from_millis(10)));
    CALLS.with(|c| c.set(0));
    let out = smol::block_on(async { policy.retry(flaky).await });
    assert_eq!(out, Ok(3));
    // the explicit sleeper is async-io's timer, and says what it was asked
    // (a run that ignored `.sleep_with()` would leave `slept` empty)
    let slept = RefCell::new(Vec::new());
    let retry = policy.retry(flaky).sleep_with(SleepFn(|wait: Duration| {
        slept.borrow_mut().push(wait);
        SmolSleeper.sleep(wait)
    }));
    let (out, took) = block_on_timed(retry.into_future());
    assert_eq!(out, Ok(3));
    assert_eq!(*slept.borrow(), [Duration::from_millis(10); 2]);
    assert!(took >= Duration::from_millis(20), "{took:?}");
}

#[retry(attempts = 2, backoff = "none", timeout = "30ms")]
async fn too_slow() -> Result<u32, Fail> {
    CALLS.with(|c| c.set(c.get() + 1));
    smol::Timer::after(Duration::from_secs(5)).await;
    Ok(1)
}

#[test]
fn a_per_attempt_timeout_races_async_io_s_timer() {
    let (out, took) = block_on_timed(too_slow());
    assert_eq!(out, Err(Fail::TimedOut));
    assert_eq!(calls(), 2, "each attempt timed out, and was retried");
    // each attempt had its 30ms (a timeout firing at once would be quicker)
    assert!(took >= Duration::from_millis(60), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
