//! A program on smol whose dependencies also turn on retry-runtime's `tokio`
//! feature (it is a default one): async `#[retry]`, its waits and its
//! per-attempt timeout run on smol's executor with no tokio runtime
//! anywhere. (tokio's timer, which the default sleeper used whenever the
//! feature was on, panics there: "there is no reactor running".)

use std::cell::Cell;
use std::time::{Duration, Instant};

use retry_runtime::{retry, testing, ErrorKind};

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("busy")]
struct Busy;

impl retry_runtime::Classify for Busy {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
}

/// Busy twice, then 7; waits 10ms then 20ms.
#[retry(attempts = 3, backoff = "exp(10ms, 20ms)")]
async fn busy_twice() -> Result<u32, Busy> {
    let n = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if n < 3 {
        Err(Busy)
    } else {
        Ok(7)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("attempt timed out")]
struct TimedOut(#[from] retry_runtime::AttemptTimeout);

impl retry_runtime::Classify for TimedOut {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Timeout
    }
}

/// Each attempt hangs for an hour; the timeout ends it after 30ms.
#[retry(attempts = 2, backoff = "fixed(5ms)", timeout = "30ms")]
async fn hangs() -> Result<u32, TimedOut> {
    async_io::Timer::after(Duration::from_secs(3600)).await;
    Ok(1)
}

#[test]
fn retry_waits_on_smol_without_a_tokio_runtime() {
    assert!(tokio::runtime::Handle::try_current().is_err());
    CALLS.with(|c| c.set(0));
    let start = Instant::now();
    assert_eq!(async_io::block_on(busy_twice()), Ok(7));
    assert_eq!(CALLS.with(Cell::get), 3);
    // the waits were slept on smol's timer (real time)
    assert!(start.elapsed() >= Duration::from_millis(30));
}

/// Busy every time, at once; waits of an hour.
#[retry(attempts = 3, backoff = "fixed(3600s)")]
async fn always_busy() -> Result<u32, Busy> {
    CALLS.with(|c| c.set(c.get() + 1));
    Err(Busy)
}

/// Busy every time, at once; hedged after 10ms; waits of an hour.
#[retry(attempts = 3, backoff = "fixed(3600s)", hedge = "10ms")]
async fn always_busy_hedged() -> Result<u32, Busy> {
    CALLS.with(|c| c.set(c.get() + 1));
    Err(Busy)
}

/// Polls `fut` once (with a waker that does nothing): its output if ready.
fn poll_once<F: std::future::Future>(fut: F) -> Option<F::Output> {
    use std::task::{Context, Poll, Waker};
    match std::pin::pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// Polls `fut` with a waker that does nothing until it is ready: its
/// output, and how many times it was pending (a wait slept for real would
/// keep it pending for an hour).
fn poll_to_end<F: std::future::Future>(fut: F) -> (F::Output, u32) {
    let mut fut = std::pin::pin!(fut);
    for pending in 0..1000 {
        if let Some(out) = poll_once(fut.as_mut()) {
            return (out, pending);
        }
    }
    panic!("still pending after 1000 polls: a wait was slept on the real timer");
}

#[test]
fn under_pause_the_waits_are_virtual_outside_tokio_and_on_tokios_paused_clock_inside() {
    let paused = testing::pause();
    let hour = Duration::from_secs(3600);
    // outside a tokio runtime the timer would be smol's: the waits are
    // virtual instead, each a yield (the run is pending once per wait)
    CALLS.with(|c| c.set(0));
    assert_eq!(poll_to_end(always_busy()), (Err(Busy), 2));
    assert_eq!(CALLS.with(Cell::get), 3);
    assert_eq!(paused.waits(), [hour, hour]);
    // a hedged run's are recorded but slept for real (its attempts race
    // them in real time): each failure waits until the next start, the
    // next hedge, due 10ms after the attempt (not the hour)
    CALLS.with(|c| c.set(0));
    let hedged = testing::pause(); // (its waits go with it)
    let start = Instant::now();
    assert_eq!(async_io::block_on(always_busy_hedged()), Err(Busy));
    assert_eq!(CALLS.with(Cell::get), 3);
    let waits = hedged.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(10)),
        "{waits:?}"
    );
    let slept: Duration = waits.iter().sum();
    assert!(start.elapsed() >= slept, "{:?} {slept:?}", start.elapsed());
    drop(hedged);
    // inside one, tokio's timer on its paused clock, as before: slept (the
    // first poll is left pending on it), and tokio's clock moves
    CALLS.with(|c| c.set(0));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let (first_poll, took) = rt.block_on(async {
        let start = tokio::time::Instant::now();
        let mut fut = std::pin::pin!(always_busy());
        let first_poll = poll_once(fut.as_mut());
        assert_eq!(fut.await, Err(Busy));
        (first_poll.is_some(), start.elapsed())
    });
    assert!(!first_poll);
    assert_eq!(took, 2 * hour);
    assert_eq!(paused.waits(), [hour; 4]);
}

#[test]
fn the_attempt_timeout_fires_on_smol_without_a_tokio_runtime() {
    let start = Instant::now();
    let err = async_io::block_on(hangs()).unwrap_err();
    assert_eq!(retry_runtime::Classify::kind(&err), ErrorKind::Timeout);
    let took = start.elapsed();
    // two attempts of 30ms and a 5ms wait; far from the hour
    assert!(took >= Duration::from_millis(60), "{took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}
