//! A wait of zero performs no sleep at all: no timer registration, no yield.
//! (tokio rounds even `sleep(ZERO)` up to its next 1 ms tick, so a zero
//! sleep would return `Pending` first.) Proved by polling the retry future
//! once by hand: it completes in that single poll, with several failed
//! attempts, and tokio's paused clock has not moved.

use std::cell::Cell;
use std::future::Future;
use std::future::IntoFuture;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use retry_runtime::{testing, Backoff, Jitter, Policy, StopReason};

/// A waker that does nothing (`Waker::noop` is newer than our MSRV, 1.85).
struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Poll `fut` exactly once.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    pin!(fut).poll(&mut cx)
}

fn no_wait_policies() -> [Policy; 3] {
    [
        Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::None),
        Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::fixed(Duration::ZERO)),
        // full jitter of a zero wait is zero too
        Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::exponential(Duration::ZERO, Duration::ZERO))
            .with_jitter(Jitter::Full),
    ]
}

/// Move tokio's paused clock off its 1 ms grid, where a zero sleep would
/// have to wait for the next tick.
async fn off_the_tick() {
    tokio::time::advance(Duration::from_micros(500)).await;
}

/// The check is meaningful: off the tick, a tokio zero sleep is not ready on
/// its first poll.
#[tokio::test(start_paused = true)]
async fn control_tokio_sleep_zero_is_pending_on_first_poll() {
    off_the_tick().await;
    assert!(poll_once(tokio::time::sleep(Duration::ZERO)).is_pending());
}

#[tokio::test(start_paused = true)]
async fn zero_waits_complete_in_a_single_poll_without_moving_the_clock() {
    off_the_tick().await;
    for policy in no_wait_policies() {
        let paused = testing::pause();
        let before = tokio::time::Instant::now();
        let mut calls = 0;
        let polled = poll_once(
            policy
                .retry(|| {
                    calls += 1;
                    let n = calls;
                    async move { Err::<(), _>(n) }
                })
                .detailed()
                .into_future(),
        );
        let Poll::Ready(Err(e)) = polled else {
            panic!("{policy:?}: not ready after one poll: a zero wait slept or yielded");
        };
        assert_eq!(
            (e.reason, e.attempts, e.last_error),
            (StopReason::Attempts, 5, 5)
        );
        assert_eq!(calls, 5);
        assert_eq!(paused.waits(), [Duration::ZERO; 4]);
        assert_eq!(tokio::time::Instant::now(), before, "{policy:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn zero_waits_then_success_in_a_single_poll() {
    off_the_tick().await;
    let before = tokio::time::Instant::now();
    let mut calls = 0;
    let polled = poll_once(
        Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::None)
            .retry(|| {
                calls += 1;
                let n = calls;
                async move {
                    if n < 4 {
                        Err("busy")
                    } else {
                        Ok(n)
                    }
                }
            })
            .into_future(),
    );
    assert_eq!(polled, Poll::Ready(Ok(4)));
    assert_eq!(tokio::time::Instant::now(), before);
}

#[test]
fn sync_zero_waits_do_not_sleep() {
    let policy = Policy::new()
        .with_max_attempts(1000)
        .with_backoff(Backoff::None);
    // the default sleeper: every wait of the run is zero
    let paused = testing::pause();
    let mut calls = 0;
    let out = policy
        .retry(|| {
            calls += 1;
            Err::<(), _>(calls)
        })
        .call();
    assert_eq!(out, Err(1000));
    assert_eq!(paused.waits(), [Duration::ZERO; 999]);
    drop(paused);
    // a sleeper of the user's: never asked to sleep
    let slept = Cell::new(0u32);
    let mut calls = 0;
    let out = policy
        .retry(|| {
            calls += 1;
            Err::<(), _>(calls)
        })
        .sleep_with(|_: Duration| slept.set(slept.get() + 1))
        .call();
    assert_eq!(out, Err(1000));
    assert_eq!(slept.get(), 0, "a zero wait called the sleeper");
}
