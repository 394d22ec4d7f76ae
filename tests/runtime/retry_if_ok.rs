//! `Retry::retry_if_ok`: an `Ok` the check rejects is retried as a
//! failure (after the backoff's wait, within the limits), the last one
//! returned when the attempts run out; an `Err` is retried as the policy
//! says; the check is asked once per `Ok`, the hook and the log lines hear
//! of each rejected value, a breaker takes it for neither outcome; a stop
//! signal ends a poll with its last value, and `.detailed()` says why a
//! poll gave up (`Succeeded::gave_up`). Sync (`.call()`) and async
//! (`.await`, with attempt spans too).

use std::cell::Cell;
use std::io;
use std::time::Duration;

use retry_runtime::circuit::CircuitState;
use retry_runtime::{
    testing, Attempt, Backoff, CircuitBreaker, KindSet, Policy, RetryEvent, RetryOn, StopReason,
};
use tracing::Level;

const S: Duration = Duration::from_secs(1);

const POLL: Policy<RetryOn> = Policy::new()
    .with_name("poll")
    .with_max_attempts(4)
    .with_backoff(Backoff::fixed(S))
    .retry_on(KindSet::TRANSIENT);

/// Answers these, in order, then `Ok(99)`.
fn answers(script: &[io::Result<u32>]) -> impl FnMut() -> io::Result<u32> + '_ {
    let mut next = script.iter();
    move || match next.next() {
        Some(Ok(n)) => Ok(*n),
        Some(Err(e)) => Err(io::Error::from(e.kind())),
        None => Ok(99),
    }
}

fn pending(n: &u32) -> bool {
    *n == 0
}

#[test]
fn a_rejected_ok_is_retried_after_the_backoff_and_the_accepted_one_returned() {
    let logs = testkit::capture::capture();
    let paused = testing::pause();
    let asked = Cell::new(0);
    let out = POLL
        .retry(answers(&[Ok(0), Ok(0)]))
        .retry_if_ok(|n: &u32| {
            asked.set(asked.get() + 1);
            pending(n)
        })
        .call();
    assert_eq!(out.unwrap(), 99);
    assert_eq!(paused.waits(), [S, S]);
    assert_eq!(asked.get(), 3, "asked once per Ok");
    let lines = logs.matching(Level::WARN, "rejected by retry_if_ok");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].contains("retrying poll after attempt 1/4"),
        "{lines:#?}"
    );
    logs.assert_logged(Level::INFO, "poll succeeded on attempt 3");
}

#[test]
fn the_last_ok_is_returned_when_the_attempts_run_out() {
    let _paused = testing::pause();
    let logs = testkit::capture::capture();
    let out = POLL
        .retry(answers(&[Ok(0), Ok(0), Ok(0), Ok(0)]))
        .retry_if_ok(pending)
        .detailed()
        .call()
        .unwrap();
    assert_eq!((out.value, out.attempts), (0, 4));
    assert_eq!(out.gave_up, Some(StopReason::Attempts));
    // (three virtual seconds, and the test's own real time)
    assert!((3 * S..4 * S).contains(&out.elapsed), "{:?}", out.elapsed);
    logs.assert_logged(Level::ERROR, "rejected by retry_if_ok");
}

#[test]
fn an_error_is_retried_as_the_policy_says_and_a_permanent_one_ends_the_call() {
    let _paused = testing::pause();
    let timed_out = || Err(io::Error::from(io::ErrorKind::TimedOut));
    let script = [Ok(0), timed_out(), Ok(0)];
    let out = POLL
        .retry(answers(&script))
        .retry_if_ok(pending)
        .detailed()
        .call();
    assert_eq!(
        out.map(|s| (s.value, s.attempts, s.gave_up)).unwrap(),
        (99, 4, None),
        "a value accepted: no give-up"
    );

    let refused = [Ok(0), Err(io::Error::from(io::ErrorKind::NotFound))];
    let e = POLL
        .retry(answers(&refused))
        .retry_if_ok(pending)
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (2, StopReason::Permanent));
}

#[test]
fn the_hook_hears_of_each_rejected_value_and_the_context_counts_the_attempts() {
    let _paused = testing::pause();
    let mut heard = Vec::new();
    let mut numbers = Vec::new();
    let out = POLL
        .retry(|a: Attempt| {
            numbers.push(a.number);
            Ok::<_, io::Error>(u32::from(a.number == 3))
        })
        .context()
        .notify(|ev: &RetryEvent<'_>| heard.push((ev.attempt, ev.rejected_ok, ev.wait)))
        .retry_if_ok(pending)
        .call();
    assert_eq!(out.unwrap(), 1);
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(heard, [(1, true, S), (2, true, S)]);
}

#[test]
fn max_elapsed_ends_a_poll_with_its_last_value() {
    let paused = testing::pause();
    let out = POLL
        .with_max_attempts(100)
        .with_max_elapsed(Duration::from_millis(2500))
        .retry(|| Ok::<u32, io::Error>(0))
        .retry_if_ok(pending)
        .detailed()
        .call()
        .unwrap();
    // attempts at 0s, 1s, 2s; a third wait would end at 3s, past 2.5s
    assert_eq!((out.value, out.attempts), (0, 3));
    assert_eq!(out.gave_up, Some(StopReason::Deadline));
    assert_eq!(paused.waits(), [S, S]);
}

#[test]
fn a_breaker_takes_a_rejected_value_for_neither_a_failure_nor_a_success() {
    static POLLED: CircuitBreaker = CircuitBreaker::new("polled").with_failures(1);
    let _paused = testing::pause();
    let guarded = POLL.with_circuit(&POLLED);
    let out = guarded
        .retry(answers(&[Ok(0), Ok(0)]))
        .retry_if_ok(pending)
        .call();
    assert_eq!(out.unwrap(), 99);
    assert_eq!(POLLED.state(), CircuitState::Closed);
    let stats = POLLED.stats();
    assert_eq!(
        (stats.failures, stats.neutral, stats.successes),
        (0, 2, 1),
        "{stats:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn awaited_the_same_with_and_without_attempt_spans() {
    for spans in [false, true] {
        let logs = testkit::capture::capture();
        let start = tokio::time::Instant::now();
        let asked = Cell::new(0);
        let mut n = 0;
        let policy = POLL.with_attempt_spans(spans);
        let done = policy
            .retry(|| {
                n += 1;
                let now = n;
                async move { Ok::<u32, io::Error>(u32::from(now == 3)) }
            })
            .retry_if_ok(|v: &u32| {
                asked.set(asked.get() + 1);
                pending(v)
            })
            .detailed()
            .await
            .unwrap();
        assert_eq!((done.value, done.attempts), (1, 3), "spans: {spans}");
        assert_eq!(asked.get(), 3, "spans: {spans}");
        assert_eq!(start.elapsed(), 2 * S, "spans: {spans}");
        let lines = logs.matching(Level::WARN, "rejected by retry_if_ok");
        assert_eq!(lines.len(), 2, "spans: {spans}: {lines:#?}");

        // exhausted: the last Ok
        let last = POLL
            .with_attempt_spans(spans)
            .with_max_attempts(2)
            .retry(|| async { Ok::<u32, io::Error>(0) })
            .retry_if_ok(pending)
            .await;
        assert_eq!(last.unwrap(), 0, "spans: {spans}");
    }
}

#[test]
fn a_stop_during_the_wait_returns_the_last_value_with_its_reason_sync() {
    let _paused = testing::pause();
    let logs = testkit::capture::capture();
    let stop = Cell::new(false);
    let calls = Cell::new(0);
    let out = POLL
        .with_max_attempts(10)
        .retry(|| {
            calls.set(calls.get() + 1);
            Ok::<u32, io::Error>(0)
        })
        .retry_if_ok(pending)
        // the shutdown comes in the second wait (a sleeper that wakes on it)
        .sleep_with(|_: Duration| stop.set(calls.get() == 2))
        .stop_when(|| stop.get())
        .detailed()
        .call()
        .unwrap();
    assert_eq!((out.value, out.attempts), (0, 2));
    assert_eq!(out.gave_up, Some(StopReason::Stopped));
    assert_eq!(calls.get(), 2, "no attempt after the stop");
    let line = logs.assert_logged(Level::WARN, "poll failed after 2 attempts");
    assert!(line.contains("outcome=stopped"), "{line}");
    assert!(line.contains("rejected by retry_if_ok"), "{line}");

    // set during an attempt: that attempt's rejected value ends the call
    let stop = Cell::new(false);
    let out = POLL
        .retry(|| {
            stop.set(true);
            Ok::<u32, io::Error>(0)
        })
        .retry_if_ok(pending)
        .stop_when(|| stop.get())
        .detailed()
        .call()
        .unwrap();
    assert_eq!((out.attempts, out.gave_up), (1, Some(StopReason::Stopped)));
}

#[tokio::test(start_paused = true)]
async fn a_stop_signal_cuts_the_wait_and_returns_the_last_value_async() {
    for spans in [false, true] {
        let logs = testkit::capture::capture();
        let start = tokio::time::Instant::now();
        let calls = Cell::new(0);
        let out = POLL
            .with_attempt_spans(spans)
            .with_max_attempts(10)
            .with_backoff(Backoff::fixed(10 * S))
            .retry(|| {
                calls.set(calls.get() + 1);
                async { Ok::<u32, io::Error>(0) }
            })
            .retry_if_ok(pending)
            .stop_on(tokio::time::sleep(Duration::from_millis(700)))
            .detailed()
            .await
            .unwrap();
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(700),
            "spans: {spans}"
        );
        assert_eq!((out.value, out.attempts), (0, 1), "spans: {spans}");
        assert_eq!(out.gave_up, Some(StopReason::Stopped), "spans: {spans}");
        tokio::time::sleep(60 * S).await;
        assert_eq!(calls.get(), 1, "spans: {spans}: no attempt after the stop");
        let line = logs.assert_logged(Level::WARN, "poll failed after 1 attempt");
        assert!(line.contains("outcome=stopped"), "{line}");

        // a value accepted after a wait the stop did not cut: no give-up
        let mut n = 0;
        let out = POLL
            .with_attempt_spans(spans)
            .retry(|| {
                n += 1;
                let now = n;
                async move { Ok::<u32, io::Error>(u32::from(now == 2)) }
            })
            .retry_if_ok(pending)
            .stop_on(tokio::time::sleep(60 * S))
            .detailed()
            .await
            .unwrap();
        assert_eq!(
            (out.value, out.attempts, out.gave_up),
            (1, 2, None),
            "spans: {spans}"
        );
    }
}
