//! Stop conditions through the executors: `max_elapsed` alone and together
//! with `attempts`, sync (on the virtual clock of `testing::pause()`, which
//! the sync executor reads) and async (on tokio's paused clock); and the
//! reason, attempts, elapsed time and last error that `.detailed()` reports.

use std::time::Duration;

use retry_runtime::{testing, Admission, Backoff, Policy, RetryError, Stop, StopReason, When};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Waits 1s, 2s, 4s, 8s, 16s, ... and only a time limit: no attempt limit.
fn deadline_only(limit: Duration) -> Policy {
    Policy::new()
        .with_stop(Stop::after_attempts(u32::MAX).with_max_elapsed(limit))
        .with_backoff(Backoff::exponential(s(1), s(60)))
        .with_name("sync_feed")
}

/// Waits `wait` each time, and only a time limit: no attempt limit.
fn fixed_waits_until(limit: Duration, wait: Duration) -> Policy {
    Policy::new()
        .with_stop(Stop::after_attempts(u32::MAX).with_max_elapsed(limit))
        .with_backoff(Backoff::fixed(wait))
}

/// An op that always fails with the number of its call.
fn failing(calls: &mut u32) -> Result<(), u32> {
    *calls += 1;
    Err(*calls)
}

/// Retries [`failing`] under `policy` (sync) until it gives up: the error,
/// and the number of calls made.
fn sync_give_up<W: When<u32>, G: Admission<u32>>(policy: &Policy<W, G>) -> (RetryError<u32>, u32) {
    let mut calls = 0;
    let e = policy
        .retry(|| failing(&mut calls))
        .detailed()
        .call()
        .unwrap_err();
    (e, calls)
}

/// [`sync_give_up`] through the async executor, the op a ready future.
async fn async_give_up<W: When<u32>, G: Admission<u32>>(
    policy: &Policy<W, G>,
) -> (RetryError<u32>, u32) {
    let mut calls = 0;
    let e = policy
        .retry(|| std::future::ready(failing(&mut calls)))
        .detailed()
        .await
        .unwrap_err();
    (e, calls)
}

fn assert_gave_up(e: &RetryError<u32>, reason: StopReason, attempts: u32) {
    assert_eq!((e.reason, e.attempts), (reason, attempts), "{e}");
    assert_eq!(e.last_error, attempts, "the last error is the last call's");
}

// ---- max_elapsed alone ----

#[test]
fn sync_deadline_gives_up_instead_of_starting_a_sleep_that_would_cross_it() {
    let paused = testing::pause();
    let (e, calls) = sync_give_up(&deadline_only(s(10)));
    // at ~0s, 1s, 3s and 7s; the next wait (8s) would end at 15s > 10s: not started
    assert_gave_up(&e, StopReason::Deadline, 4);
    assert_eq!(calls, 4);
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    assert!(e.elapsed >= s(7) && e.elapsed < s(8), "{:?}", e.elapsed);
    assert_eq!(
        e.to_string(),
        "sync_feed failed after 4 attempts (deadline reached): 4"
    );
}

#[tokio::test(start_paused = true)]
async fn async_deadline_gives_up_instead_of_starting_a_sleep_that_would_cross_it() {
    let paused = testing::pause();
    let start = tokio::time::Instant::now();
    let (e, _) = async_give_up(&deadline_only(s(10))).await;
    assert_gave_up(&e, StopReason::Deadline, 4);
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
    assert_eq!(start.elapsed(), s(7));
    assert_eq!(e.elapsed, s(7));
}

#[tokio::test(start_paused = true)]
async fn a_retry_that_would_start_exactly_at_the_deadline_is_not_made() {
    let policy = fixed_waits_until(s(10), s(5));
    let (e, _) = async_give_up(&policy).await;
    // 0s + 5s < 10s: retry; 5s + 5s = 10s: the retry would start at the limit
    assert_gave_up(&e, StopReason::Deadline, 2);
    assert_eq!(e.elapsed, s(5));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_counts_the_attempts_own_time_too() {
    let policy = fixed_waits_until(s(10), s(1));
    let start = tokio::time::Instant::now();
    let mut calls = 0;
    let e = policy
        .retry(|| {
            calls += 1;
            let n = calls;
            async move {
                tokio::time::sleep(s(3)).await; // a slow attempt
                Err::<(), _>(n)
            }
        })
        .detailed()
        .await
        .unwrap_err();
    // attempts end at 3s, 7s, 11s; 11s + 1s >= 10s: give up
    assert_gave_up(&e, StopReason::Deadline, 3);
    assert_eq!(start.elapsed(), s(11));
    assert_eq!(e.elapsed, s(11));
}

#[test]
fn sync_success_before_the_deadline_is_returned() {
    let paused = testing::pause();
    let mut calls = 0;
    let out = deadline_only(s(10))
        .retry(|| {
            calls += 1;
            if calls < 4 {
                Err(calls)
            } else {
                Ok("done")
            }
        })
        .call();
    assert_eq!(out, Ok("done"));
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
}

/// The virtual clock of `testing::pause()` is what the sync executor reads:
/// an hour-long wait passes at once but counts against `max_elapsed`.
#[test]
fn sync_virtual_waits_count_against_the_deadline() {
    let paused = testing::pause();
    let policy = fixed_waits_until(s(7200), s(3600));
    let (e, _) = sync_give_up(&policy);
    // ~0s + 1h < 2h: retry; ~1h + 1h >= 2h: give up
    assert_gave_up(&e, StopReason::Deadline, 2);
    assert_eq!(paused.waits(), [s(3600)]);
    // the run's clock is the virtual one: the hour it waited is in it
    // (had the thread slept for real, this test would take an hour)
    assert!(
        e.elapsed >= s(3600) && e.elapsed < s(3601),
        "{:?}",
        e.elapsed
    );
}

// ---- max_elapsed together with attempts: whichever comes first ----

/// `deadline_only(deadline).with_max_attempts(attempts)`, every call failing, under
/// `testing::pause()`: gives up for `reason` after 3 attempts, having waited
/// 1s and 2s.
fn sync_gives_up_after_3(deadline: Duration, attempts: u32, reason: StopReason) {
    let paused = testing::pause();
    let policy = deadline_only(deadline).with_max_attempts(attempts);
    let (e, _) = sync_give_up(&policy);
    assert_gave_up(&e, reason, 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
}

/// [`sync_gives_up_after_3`] through `retry_async_detailed`, the waits slept
/// on tokio's paused clock.
async fn async_gives_up_after_3(deadline: Duration, attempts: u32, reason: StopReason) {
    let paused = testing::pause();
    let policy = deadline_only(deadline).with_max_attempts(attempts);
    let (e, _) = async_give_up(&policy).await;
    assert_gave_up(&e, reason, 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
    assert_eq!(e.elapsed, s(3));
}

#[test]
fn sync_attempts_before_deadline() {
    sync_gives_up_after_3(s(60), 3, StopReason::Attempts);
}

#[test]
fn sync_deadline_before_attempts() {
    // at ~0s and 1s; at 3s the 4s wait would end at 7s > 5s
    sync_gives_up_after_3(s(5), 10, StopReason::Deadline);
}

#[tokio::test(start_paused = true)]
async fn async_attempts_before_deadline() {
    async_gives_up_after_3(s(60), 3, StopReason::Attempts).await;
}

#[tokio::test(start_paused = true)]
async fn async_deadline_before_attempts() {
    async_gives_up_after_3(s(5), 10, StopReason::Deadline).await;
}

// ---- attempts alone, and permanent errors ----

#[test]
fn attempts_count_calls_like_tenacity_stop_after_attempt() {
    let paused = testing::pause();
    for n in 1..=5 {
        let (e, calls) = sync_give_up(&Policy::new().with_max_attempts(n));
        assert_gave_up(&e, StopReason::Attempts, n);
        assert_eq!(calls, n);
    }
    drop(paused);
}

#[test]
fn the_detailed_form_reports_a_permanent_error_after_one_attempt() {
    let paused = testing::pause();
    let policy = deadline_only(s(60))
        .with_max_attempts(5)
        .retry_if(|e: &u32| *e != 2);
    let (e, _) = sync_give_up(&policy);
    // call 1 is retried, call 2's error is not retriable
    assert_gave_up(&e, StopReason::Permanent, 2);
    assert_eq!(paused.waits(), [s(1)]);
    assert_eq!(
        e.to_string(),
        "sync_feed failed after 2 attempts (not retriable): 2"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_async_detailed_reports_a_permanent_error_after_one_attempt() {
    let e = Policy::new()
        .retry_if(|e: &&str| *e != "not found")
        .retry(|| async { Err::<(), _>("not found") })
        .detailed()
        .await
        .unwrap_err();
    assert_eq!(
        (e.reason, e.attempts, e.last_error),
        (StopReason::Permanent, 1, "not found")
    );
    assert_eq!(e.elapsed, Duration::ZERO);
}

/// Huge virtual waits (a cap of `Duration::MAX`, many attempts) saturate the
/// virtual clock instead of overflowing it.
#[test]
fn sync_huge_virtual_waits_never_panic() {
    let paused = testing::pause();
    let policy = Policy::new()
        .with_max_attempts(100)
        .with_backoff(Backoff::exponential(s(1), Duration::MAX));
    let (e, _) = sync_give_up(&policy);
    assert_gave_up(&e, StopReason::Attempts, 100);
    assert_eq!(paused.waits().len(), 99);
    assert_eq!(paused.waits()[98], Duration::MAX);
    // The clock saturates at its maximum reading; the run started a little
    // after the clock's origin, so its elapsed time is just below that.
    assert!(e.elapsed > Duration::MAX / 2, "{:?}", e.elapsed);

    let (e, calls) = sync_give_up(&policy.with_max_elapsed(Duration::MAX));
    assert_gave_up(&e, StopReason::Deadline, calls);
}
