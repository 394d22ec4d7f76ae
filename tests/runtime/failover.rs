//! docs/policies.md's deadline and failover claims: a first attempt's wait
//! for a pace slot taken by other calls after a `first_wait()` check runs
//! past the deadline, outside the attempt's `timeout`; what bounds it
//! (`tokio::time::timeout` around the call, or `stop_on` before the
//! deadline less one attempt); and a provider given up logged at WARN,
//! not ERROR, with `with_give_up_level`. (A user's walk-through of a
//! gateway failing over between providers: a 10s deadline ran 20s.)

use std::future::IntoFuture;
use std::time::Duration;

use retry_runtime::clock::{Clock, SystemClock};
use retry_runtime::cooldown::Cooldown;
use retry_runtime::{presets, testing, timeout, AttemptTimeout, Policy, RetryOn, StopReason};
use tokio::time::Instant;
use tracing::Level;

const S: Duration = Duration::from_secs(1);
const ATTEMPT: Duration = Duration::from_secs(2);

/// A policy paced at one call a second, checked with `first_wait()` at the
/// start (no wait: in time for a 10s deadline), whose next 20 slots other
/// calls then take before it calls: the docs' `answer` with one `.await`
/// between its check and its call. The deadline, on the library's clock.
async fn raced(pace: &'static Cooldown) -> (Policy<RetryOn>, Duration) {
    let chat = presets::API.with_name("llm.chat").with_cooldown(pace);
    let end = SystemClock.now() + 10 * S;
    assert_eq!(pace.first_wait(), None);
    for _ in 0..20 {
        let other = chat;
        tokio::spawn(async move { other.retry(|| async { Ok::<_, AttemptTimeout>(()) }).await });
    }
    tokio::task::yield_now().await;
    (chat, end)
}

/// The attempt's bound does not bound its wait: the call ends at 20s.
#[tokio::test(start_paused = true)]
async fn a_slot_taken_after_the_check_runs_past_the_deadline() {
    static PACE: Cooldown = Cooldown::new("failover-race").with_pace(1, S);
    let (chat, end) = raced(&PACE).await;
    let start = Instant::now();
    let left = end.saturating_sub(SystemClock.now());
    let r = chat
        .with_max_elapsed(left - ATTEMPT)
        .retry(|| timeout(ATTEMPT, async { Ok::<_, AttemptTimeout>("answer") }))
        .await;
    assert_eq!(r, Ok("answer"));
    assert_eq!(start.elapsed(), 20 * S);
}

/// `tokio::time::timeout(left, ..)` ends the call at the deadline, in its wait.
#[tokio::test(start_paused = true)]
async fn tokio_timeout_around_the_call_ends_it_at_the_deadline() {
    static PACE: Cooldown = Cooldown::new("failover-tokio-timeout").with_pace(1, S);
    let (chat, end) = raced(&PACE).await;
    let start = Instant::now();
    let left = end.saturating_sub(SystemClock.now());
    let policy = chat.with_max_elapsed(left - ATTEMPT);
    let call = policy.retry(|| timeout(ATTEMPT, async { Ok::<_, AttemptTimeout>("answer") }));
    assert!(tokio::time::timeout(left, call.into_future())
        .await
        .is_err());
    assert_eq!(start.elapsed(), 10 * S);
}

/// `stop_on` at the deadline less one attempt ends the wait there, then
/// makes the attempt at once, within its timeout: by the deadline.
#[tokio::test(start_paused = true)]
async fn stop_on_ends_the_wait_then_makes_the_attempt() {
    static PACE: Cooldown = Cooldown::new("failover-stop-on").with_pace(1, S);
    let (chat, end) = raced(&PACE).await;
    let start = Instant::now();
    let left = end.saturating_sub(SystemClock.now());
    let sent = std::sync::Mutex::new(Vec::new());
    let slow = || async {
        sent.lock().unwrap().push(start.elapsed());
        tokio::time::sleep(5 * S).await;
        Ok::<_, AttemptTimeout>("answer")
    };
    let e = chat
        .with_max_elapsed(left - ATTEMPT)
        .retry(|| timeout(ATTEMPT, slow()))
        .stop_on(tokio::time::sleep(left - ATTEMPT))
        .detailed()
        .await
        .unwrap_err();
    // made at once when stopped, failed at 10s, past `max_elapsed`: no retry
    assert_eq!(*sent.lock().unwrap(), [8 * S]);
    assert_eq!((e.reason, e.attempts), (StopReason::Deadline, 1));
    assert_eq!(e.last_error.after, ATTEMPT); // the attempt's timeout
    assert_eq!(start.elapsed(), 10 * S);
}

/// A provider given up logs its give-up at ERROR, or at WARN when the
/// failover's policy says so.
#[tokio::test(start_paused = true)]
async fn a_provider_given_up_logs_at_the_give_up_level() {
    let down = || async { Err::<(), _>(std::io::Error::from(std::io::ErrorKind::TimedOut)) };
    let logs = testing::capture_logs().unwrap();
    let provider = presets::API.with_name("provider_a");
    assert!(provider.retry(down).await.is_err());
    assert_eq!(logs.count(Level::ERROR), 1, "{logs}");
    let provider = provider.with_give_up_level(Level::WARN);
    assert!(provider.retry(down).await.is_err());
    assert_eq!(logs.count(Level::ERROR), 1, "{logs}");
    let last = logs.records_at(Level::WARN);
    assert!(
        last.last()
            .unwrap()
            .message()
            .starts_with("provider_a failed after 3 attempts"),
        "{logs}"
    );
}

/// A last, fast provider called with less than one attempt's time left:
/// `max_elapsed` zero makes one attempt, bounded by the time left.
#[tokio::test(start_paused = true)]
async fn a_last_provider_with_less_than_an_attempt_left_makes_one_attempt() {
    let end = SystemClock.now() + S;
    let left = end.saturating_sub(SystemClock.now());
    let last = presets::API
        .with_name("local_c")
        .with_max_elapsed(left.saturating_sub(ATTEMPT));
    let fast = || async { Ok::<_, AttemptTimeout>("answer") };
    let limit = || end.saturating_sub(SystemClock.now());
    assert_eq!(last.retry(|| timeout(limit(), fast())).await, Ok("answer"));

    let start = Instant::now();
    let slow = || async {
        tokio::time::sleep(5 * S).await;
        Ok::<_, AttemptTimeout>("answer")
    };
    let e = last
        .retry(|| timeout(limit(), slow()))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.reason, e.attempts), (StopReason::Deadline, 1));
    assert_eq!(start.elapsed(), S);
}
