//! `Run::progressed`: an attempt that made progress (a download that wrote
//! bytes before its connection broke, a session that stayed up) restarts
//! the run's count: its failure is attempt 1's, with the backoff's first
//! wait and the attempt limit counted from it, while the call's deadline
//! and elapsed time run on; a failure that made none counts as before.

use std::time::Duration;

use retry_runtime::{
    sleep::sleep_sync, testing, Backoff, Decision, Policy, RetryBudget, Run, StopReason,
};
use testkit::capture::capture;
use tracing::Level;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A download of `size` bytes whose connection drops after `chunks[i]`
/// more bytes at attempt `i` (0: it makes no progress); the attempts made
/// and the run's end.
fn download(policy: &Policy, chunks: &[u64], size: u64) -> (u32, Result<u64, StopReason>) {
    let mut run = Run::new(policy);
    let mut written = 0;
    let mut calls = 0;
    let end = loop {
        let step = chunks.get(calls).copied().unwrap_or(0);
        calls += 1;
        let before = written;
        written = (written + step).min(size);
        if written == size {
            run.succeeded();
            break Ok(written);
        }
        if written > before {
            run.progressed();
        }
        match run.failed(&"connection reset") {
            Decision::Retry { wait, .. } => sleep_sync(wait),
            Decision::GiveUp { reason, .. } => break Err(reason),
        }
    };
    (calls as u32, end)
}

#[test]
fn each_attempt_that_moves_forward_starts_the_schedule_again() {
    let logs = capture();
    let paused = testing::pause();
    let policy = Policy::new()
        .with_name("dl")
        .with_max_attempts(3)
        .with_backoff(Backoff::exponential(s(1), s(60)));
    // 5 attempts under a limit of 3, each wait the first
    let (calls, end) = download(&policy, &[10, 10, 10, 10, 10], 50);
    assert_eq!((calls, end), (5, Ok(50)));
    assert_eq!(paused.waits(), [s(1); 4]);
    assert_eq!(
        logs.matching(Level::WARN, "retrying dl after attempt 1/3 failed")
            .len(),
        4
    );
    logs.assert_not_logged("attempt 2/3");
}

#[test]
fn failures_without_progress_count_from_the_last_that_made_some() {
    let paused = testing::pause();
    let policy = Policy::new()
        .with_name("dl")
        .with_max_attempts(3)
        .with_backoff(Backoff::exponential(s(1), s(60)));
    // progress, none, progress, none, none: the limit of 3 reached at the
    // third attempt since the last progress
    let (calls, end) = download(&policy, &[10, 0, 10, 0, 0, 10], 100);
    assert_eq!((calls, end), (5, Err(StopReason::Attempts)));
    assert_eq!(paused.waits(), [s(1), s(2), s(1), s(2)]);
}

#[test]
fn the_deadline_stays_the_calls() {
    let paused = testing::pause();
    let policy = Policy::new()
        .with_name("dl")
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(s(4)))
        .with_max_elapsed(s(10));
    // progress at each attempt, 4s waits: the third wait would end at 12s
    let (calls, end) = download(&policy, &[1; 10], 100);
    assert_eq!((calls, end), (3, Err(StopReason::Deadline)));
    assert_eq!(paused.waits(), [s(4), s(4)]);
}

#[test]
fn a_restart_is_a_calls_first_attempt_to_a_budget() {
    static BUDGET: RetryBudget = RetryBudget::new("dl").with_max_tokens(2);
    let _paused = testing::pause();
    let policy = Policy::new()
        .with_name("dl")
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_budget(&BUDGET);
    let before = BUDGET.stats();
    let (calls, end) = download(&policy, &[10, 10, 10], 30);
    assert_eq!((calls, end), (3, Ok(30)));
    let after = BUDGET.stats();
    // attempts 1 and 2 made progress: each is a call's first attempt to
    // the budget (a deposit; attempt 1 was anyway); the two retries withdrew
    assert_eq!(after.first_attempts - before.first_attempts, 2);
    assert_eq!(after.retries - before.retries, 2);
}
