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

/// Polls `fut` with a waker that does nothing until it is ready: its
/// output, and how many times it was pending. A run whose waits are
/// virtual is pending once per wait (each yields once); one that slept on
/// futures-timer's Delay would stay pending for seconds.
fn poll_to_end<F: Future>(fut: F) -> (F::Output, u32) {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for pending in 0..1000 {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return (out, pending);
        }
    }
    panic!("still pending after 1000 polls: a wait was slept on the real timer");
}

#[test]
fn under_pause_the_waits_are_virtual_and_move_the_runs_clock() {
    CALLS.with(|c| c.set(0));
    let paused = testing::pause();
    // each wait yields once, and is not slept
    assert_eq!(poll_to_end(always_busy()), (Err(Busy), 3));
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
        .with_max_attempts(3)
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

#[retry(attempts = 100, backoff = "fixed(1s)", max_elapsed = "10s")]
async fn down_for(calls: &Cell<u32>) -> Result<u32, Busy> {
    calls.set(calls.get() + 1);
    Err(Busy)
}

/// Two runs at once on one thread (polled in turn, as `join!` does) wait
/// side by side on futures-timer's virtual timer: 1s waits against a 10s
/// deadline make 10 attempts each, as one run alone does (6 each when
/// every wait moved the thread's clock at once).
#[test]
fn under_pause_two_runs_at_once_each_make_the_attempts_of_one_alone() {
    let paused = testing::pause();
    let (a, b) = (Cell::new(0), Cell::new(0));
    let (mut run_a, mut run_b) = (pin!(down_for(&a)), pin!(down_for(&b)));
    let (mut a_done, mut b_done) = (false, false);
    let joined = std::future::poll_fn(|cx| {
        a_done = a_done || run_a.as_mut().poll(cx).is_ready();
        b_done = b_done || run_b.as_mut().poll(cx).is_ready();
        if a_done && b_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    });
    poll_to_end(joined);
    assert_eq!((a.get(), b.get()), (10, 10));
    assert_eq!(paused.waits(), [Duration::from_secs(1); 18]);
}

/// The timer's future goes with a run's future across threads, its
/// virtual wait under `testing::pause` too.
#[test]
fn the_timers_future_is_send_and_sync() {
    fn send_sync<T: Send + Sync + Unpin>() {}
    send_sync::<retry_runtime::sleep::FuturesTimerSleep>();
}
