//! A call's stop signal (`Retry::stop_on`), as a service's shutdown uses
//! it: once the signal fires, no retry is made and no wait slept out; the
//! call ends as a run ends (its reason, `StopReason::Stopped`, its WARN
//! line, its hook, its attempts) and with its last attempt's error, whether
//! the signal fired during that attempt or during the wait after it.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use retry_runtime::cooldown::Cooldown;
use retry_runtime::{Backoff, Classify, GiveUpEvent, Policy, RetryBudget, RetryEvent, StopReason};
use testkit::capture as support;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::Level;

#[derive(Debug, PartialEq, thiserror::Error, Classify)]
enum JobError {
    #[error("upstream answered 503")]
    #[classify(Unavailable)]
    Down,
    #[error("upstream timed out")]
    #[classify(Timeout)]
    Slow,
    #[error("no such job")]
    #[classify(Permanent)]
    Missing,
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// 5 attempts, 10s between them, transient kinds retried.
fn policy(name: &'static str) -> Policy<retry_runtime::RetryOn> {
    Policy::new()
        .with_name(name)
        .with_max_attempts(5)
        .with_backoff(Backoff::fixed(s(10)))
        .retry_on(retry_runtime::KindSet::TRANSIENT)
}

/// A signal that fires `after` from now (on tokio's clock).
fn fires_after(after: Duration) -> impl std::future::Future<Output = ()> {
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let _ = tx.send(());
    });
    async move {
        let _ = rx.await;
    }
}

#[tokio::test(start_paused = true)]
async fn fired_in_a_wait_the_call_ends_at_once_with_the_last_error() {
    let logs = support::capture();
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let e = policy("job.wait")
        .retry(|| {
            // the first attempt times out, the second answers 503
            let n = calls.fetch_add(1, SeqCst);
            async move {
                Err::<(), _>(if n == 0 {
                    JobError::Slow
                } else {
                    JobError::Down
                })
            }
        })
        .stop_on(fires_after(s(15)))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!(
        started.elapsed(),
        s(15),
        "the second wait was cut, not slept"
    );
    assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
    assert_eq!(e.last_error, JobError::Down, "the last attempt's error");
    tokio::time::sleep(s(3600)).await;
    assert_eq!(calls.load(SeqCst), 2, "no attempt after the signal");

    let line = logs.assert_logged(Level::WARN, "job.wait failed after 2 attempts");
    assert!(line.contains("(stopped: its stop signal fired)"), "{line}");
    support::assert_fields(
        &line,
        &[
            ("reason", "stopped: its stop signal fired"),
            ("outcome", "stopped"),
            ("error", "upstream answered 503"),
            ("error_kind", "Unavailable"),
        ],
    );
    assert!(logs.at(Level::ERROR).is_empty(), "{:?}", logs.lines());
}

#[tokio::test(start_paused = true)]
async fn fired_in_an_attempt_the_attempt_ends_and_its_error_is_the_call_s() {
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let e = policy("job.attempt")
        .retry(|| {
            calls.fetch_add(1, SeqCst);
            async {
                // a slow attempt, the signal fires 2s into it
                tokio::time::sleep(s(5)).await;
                Err::<(), _>(JobError::Down)
            }
        })
        .stop_on(fires_after(s(2)))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!(
        started.elapsed(),
        s(5),
        "the attempt ran to its end, no wait after"
    );
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    assert_eq!(e.last_error, JobError::Down);
    assert_eq!(calls.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn fired_in_a_spanned_attempt_the_attempt_s_error_is_the_call_s_too() {
    let e = policy("job.spans")
        .with_attempt_spans(true)
        .retry(|| async {
            tokio::time::sleep(s(5)).await;
            Err::<(), _>(JobError::Down)
        })
        .stop_on(fires_after(s(2)))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    assert_eq!(e.last_error, JobError::Down);
}

#[tokio::test(start_paused = true)]
async fn a_success_or_a_non_retriable_error_is_the_call_s_as_without_a_signal() {
    let fired = async {};
    let ok = policy("job.ok")
        .retry(|| async { Ok::<_, JobError>(7) })
        .stop_on(fired)
        .await;
    assert_eq!(ok, Ok(7));

    let e = policy("job.missing")
        .retry(|| async { Err::<(), _>(JobError::Missing) })
        .stop_on(async {})
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::Permanent));
    assert_eq!(e.last_error, JobError::Missing);
}

#[tokio::test(start_paused = true)]
async fn a_call_made_after_the_signal_fired_makes_its_first_attempt_only() {
    let calls = AtomicU32::new(0);
    let e = policy("job.late")
        .retry(|| {
            calls.fetch_add(1, SeqCst);
            async { Err::<(), _>(JobError::Down) }
        })
        .stop_on(async {})
        .await
        .unwrap_err();
    assert_eq!(e, JobError::Down);
    assert_eq!(calls.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_signal_that_never_fires_changes_nothing() {
    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let r = policy("job.never")
        .retry(|| {
            let n = calls.fetch_add(1, SeqCst);
            async move {
                if n < 2 {
                    Err(JobError::Down)
                } else {
                    Ok(n)
                }
            }
        })
        .stop_on(std::future::pending::<()>())
        .await;
    assert_eq!(r, Ok(2));
    assert_eq!(started.elapsed(), s(20));
}

/// A signal that the returned hook fires, the first time it is called:
/// a `notify` that fires the stop itself (a hook that sees the service
/// going down, or one that counts the retries it allows).
fn fired_by_the_hook() -> (
    impl std::future::Future<Output = ()>,
    impl FnMut(&RetryEvent<'_>),
) {
    let (tx, rx) = oneshot::channel::<()>();
    let mut tx = Some(tx);
    let signal = async move {
        let _ = rx.await;
    };
    let hook = move |_: &RetryEvent<'_>| {
        if let Some(tx) = tx.take() {
            let _ = tx.send(());
        }
    };
    (signal, hook)
}

#[tokio::test(start_paused = true)]
async fn fired_by_the_hook_before_a_retry_with_no_wait_the_retry_is_not_made() {
    for spans in [false, true] {
        let calls = AtomicU32::new(0);
        let (signal, hook) = fired_by_the_hook();
        let e = policy("job.no_wait")
            .with_backoff(Backoff::fixed(Duration::ZERO))
            .with_attempt_spans(spans)
            .retry(|| {
                calls.fetch_add(1, SeqCst);
                async { Err::<(), _>(JobError::Down) }
            })
            .notify(hook)
            .stop_on(signal)
            .detailed()
            .await
            .unwrap_err();
        assert_eq!(
            (e.attempts, e.reason, calls.load(SeqCst)),
            (1, StopReason::Stopped, 1),
            "attempt spans: {spans}"
        );
        assert_eq!(e.last_error, JobError::Down);
    }
}

#[tokio::test(start_paused = true)]
async fn fired_by_the_hook_before_a_poll_with_no_wait_the_rejected_value_is_returned() {
    let calls = AtomicU32::new(0);
    let (signal, hook) = fired_by_the_hook();
    let out = policy("job.poll_no_wait")
        .with_backoff(Backoff::fixed(Duration::ZERO))
        .retry(|| {
            let n = calls.fetch_add(1, SeqCst);
            async move { Ok::<_, JobError>(n) }
        })
        .retry_if_ok(|_: &u32| true)
        .notify(hook)
        .stop_on(signal)
        .detailed()
        .await
        .unwrap();
    assert_eq!(
        (out.value, out.attempts, out.gave_up, calls.load(SeqCst)),
        (0, 1, Some(StopReason::Stopped), 1)
    );
}

static TOKENS: RetryBudget = RetryBudget::new("shutdown-tokens");
static STOPPED_RUNS: AtomicU32 = AtomicU32::new(0);

fn count_stopped(ev: &GiveUpEvent<'_>) {
    if ev.reason == StopReason::Stopped {
        STOPPED_RUNS.fetch_add(1, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn the_wait_s_budget_token_goes_back_and_on_give_up_is_told() {
    let guarded = policy("job.budget")
        .with_budget(&TOKENS)
        .with_on_give_up(count_stopped);
    let before = TOKENS.stats();
    let e = guarded
        .retry(|| async { Err::<(), _>(JobError::Down) })
        .stop_on(fires_after(s(5)))
        .await
        .unwrap_err();
    assert_eq!(e, JobError::Down);
    let after = TOKENS.stats();
    // the first attempt deposited, the retry granted in the wait gave its
    // token back and is not counted
    assert_eq!(after.retries, before.retries);
    assert!(after.tokens >= before.tokens, "{before:?} -> {after:?}");
    assert_eq!(STOPPED_RUNS.load(SeqCst), 1);
}

static ERRORS_ALIVE: AtomicU32 = AtomicU32::new(0);

/// An error that holds a resource (a pooled connection, a permit): counted
/// while it is alive.
#[derive(Debug, thiserror::Error, Classify)]
#[error("the pool's connection broke")]
#[classify(Unavailable)]
struct Holding(());

impl Holding {
    fn new() -> Self {
        ERRORS_ALIVE.fetch_add(1, SeqCst);
        Holding(())
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        ERRORS_ALIVE.fetch_sub(1, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn the_kept_error_is_dropped_when_its_wait_ends_not_held_through_the_next_attempt() {
    for backoff in [Backoff::fixed(s(1)), Backoff::None] {
        let mut alive_at_start = Vec::new();
        let r = Policy::new()
            .with_max_attempts(3)
            .with_backoff(backoff)
            .retry_on(retry_runtime::KindSet::TRANSIENT)
            .retry(|| {
                alive_at_start.push(ERRORS_ALIVE.load(SeqCst));
                async { Err::<(), _>(Holding::new()) }
            })
            .stop_on(std::future::pending::<()>())
            .await;
        assert!(r.is_err());
        drop(r);
        assert_eq!(alive_at_start, [0, 0, 0], "{backoff:?}");
        assert_eq!(ERRORS_ALIVE.load(SeqCst), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_signal_fired_in_the_attempt_ends_the_call_at_its_failure_with_or_without_spans() {
    let _logs = support::capture();
    for spans in [false, true] {
        // the attempt itself starts the shutdown (a fatal error), then fails
        let (tx, rx) = oneshot::channel::<()>();
        let tx = std::cell::Cell::new(Some(tx));
        let calls = AtomicU32::new(0);
        let e = policy("job.fatal")
            .with_backoff(Backoff::None)
            .with_attempt_spans(spans)
            .retry(|| {
                calls.fetch_add(1, SeqCst);
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
                async { Err::<(), _>(JobError::Down) }
            })
            .stop_on(async move {
                let _ = rx.await;
            })
            .detailed()
            .await
            .unwrap_err();
        assert_eq!(
            (e.attempts, e.reason),
            (1, StopReason::Stopped),
            "spans: {spans}"
        );
        assert_eq!(calls.load(SeqCst), 1, "spans: {spans}");
    }
}

static CLASSIFIED: AtomicU32 = AtomicU32::new(0);

/// An error that counts each time it is classified (this test's only).
#[derive(Debug, thiserror::Error)]
#[error("upstream answered 503")]
struct Counted;

impl Classify for Counted {
    fn kind(&self) -> retry_runtime::ErrorKind {
        CLASSIFIED.fetch_add(1, SeqCst);
        retry_runtime::ErrorKind::Unavailable
    }
}

#[tokio::test(start_paused = true)]
async fn the_error_a_wait_ends_with_is_classified_once_not_again_for_its_line() {
    let logs = support::capture();
    let e = policy("job.classified")
        .retry(|| async { Err::<(), _>(Counted) })
        .stop_on(fires_after(s(15)))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
    assert_eq!(CLASSIFIED.load(SeqCst), 2, "once per failure");
    let line = logs.assert_logged(Level::WARN, "job.classified failed after 2 attempts");
    support::assert_fields(&line, &[("error_kind", "Unavailable")]);
}

#[tokio::test(start_paused = true)]
async fn any_future_is_a_signal_what_it_returns_dropped() {
    // a oneshot receiver as it is (its `Result` dropped): it fires when
    // the value comes, or when its sender is dropped
    let (tx, rx) = oneshot::channel::<u32>();
    tokio::spawn(async move {
        tokio::time::sleep(s(15)).await;
        drop(tx);
    });
    let started = Instant::now();
    let e = policy("job.receiver")
        .retry(|| async { Err::<(), _>(JobError::Down) })
        .stop_on(rx)
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
    assert_eq!(started.elapsed(), s(15));
}

static RUN_TOKENS: RetryBudget = RetryBudget::new("shutdown-run-tokens");

#[test]
fn a_hand_driven_run_stopped_in_its_wait_ends_as_stop_on_does() {
    let logs = support::capture();
    let policy = policy("supervisor").with_budget(&RUN_TOKENS);
    // a run that retried, so the bucket is below its top
    let mut warm = retry_runtime::Run::new(&policy);
    for _ in 0..3 {
        assert!(matches!(
            warm.failed(&JobError::Down),
            retry_runtime::Decision::Retry { .. }
        ));
    }
    warm.succeeded();
    let before = RUN_TOKENS.stats();
    let mut run = retry_runtime::Run::new(&policy);
    let retry_runtime::Decision::Retry { .. } = run.failed(&JobError::Slow) else {
        panic!("a retry")
    };
    // the wait, raced with the shutdown: the shutdown won
    let e = run.stopped(JobError::Slow);
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    let after = RUN_TOKENS.stats();
    // a tenth of a token deposited; the retry's token back, once
    assert!(
        (after.tokens - before.tokens - 0.1).abs() < 1e-9,
        "{before:?} -> {after:?}"
    );
    let line = logs.assert_logged(Level::WARN, "supervisor failed after 1 attempt");
    support::assert_fields(&line, &[("outcome", "stopped"), ("error_kind", "Timeout")]);
}

/// `.stop_when(..)`: a sync call's stop, a flag a Ctrl-C handler sets, with
/// a sleeper that wakes on it (the Condvar of BlockingSleeper's "Ctrl-C").
mod sync_stop {
    use super::*;
    use std::sync::{Arc, Condvar, Mutex};

    #[derive(Clone, Default)]
    struct Flag(Arc<(Mutex<bool>, Condvar)>);

    impl Flag {
        fn set(&self) {
            *self.0 .0.lock().unwrap() = true;
            self.0 .1.notify_all();
        }
        fn is_set(&self) -> bool {
            *self.0 .0.lock().unwrap()
        }
        /// Sleeps `wait`, or until the flag is set: `true` if woken by it.
        fn sleep(&self, wait: Duration) -> bool {
            let set = self.0 .0.lock().unwrap();
            let (set, waited) = self
                .0
                 .1
                .wait_timeout_while(set, wait, |set| !*set)
                .unwrap();
            drop(set);
            !waited.timed_out()
        }
    }

    #[test]
    fn set_during_a_wait_the_wait_ends_and_the_call_returns_the_last_error() {
        let logs = support::capture();
        let flag = Flag::default();
        let setter = flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            setter.set(); // Ctrl-C in the first wait (of 10s)
        });
        let calls = AtomicU32::new(0);
        let woken = std::cell::Cell::new(false);
        let e = policy("sync.wait")
            .retry(|| {
                calls.fetch_add(1, SeqCst);
                Err::<(), _>(JobError::Down)
            })
            .sleep_with(|wait| woken.set(flag.sleep(wait)))
            .stop_when(|| flag.is_set())
            .detailed()
            .call()
            .unwrap_err();
        assert!(woken.get(), "the wait was cut by the flag");
        assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
        assert_eq!(e.last_error, JobError::Down);
        assert_eq!(calls.load(SeqCst), 1);
        let line = logs.assert_logged(Level::WARN, "sync.wait failed after 1 attempt");
        support::assert_fields(
            &line,
            &[("outcome", "stopped"), ("error_kind", "Unavailable")],
        );
    }

    #[test]
    fn set_during_an_attempt_its_failure_ends_the_call_and_a_success_is_one() {
        let _paused = retry_runtime::testing::pause();
        let flag = Flag::default();
        let calls = AtomicU32::new(0);
        let e = policy("sync.attempt")
            .retry(|| {
                if calls.fetch_add(1, SeqCst) == 1 {
                    flag.set(); // during the second attempt
                }
                Err::<(), _>(JobError::Slow)
            })
            .stop_when(|| flag.is_set())
            .detailed()
            .call()
            .unwrap_err();
        assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
        // set already: a success is returned, a non-retriable error is its own
        let ok = policy("sync.ok")
            .retry(|| Ok::<_, JobError>(7))
            .stop_when(|| flag.is_set())
            .call();
        assert_eq!(ok, Ok(7));
        let e = policy("sync.missing")
            .retry(|| Err::<(), _>(JobError::Missing))
            .stop_when(|| flag.is_set())
            .detailed()
            .call()
            .unwrap_err();
        assert_eq!(e.reason, StopReason::Permanent);
    }

    static SYNC_TOKENS: RetryBudget = RetryBudget::new("shutdown-sync-tokens");

    #[test]
    fn the_wait_s_budget_token_goes_back_once() {
        let _paused = retry_runtime::testing::pause();
        let guarded = policy("sync.budget").with_budget(&SYNC_TOKENS);
        // a run that retried, so the bucket is below its top
        let _ = guarded
            .with_max_attempts(4)
            .retry(|| Err::<(), _>(JobError::Down))
            .call();
        let before = SYNC_TOKENS.stats();
        let waits = std::cell::Cell::new(0);
        let e = guarded
            .retry(|| Err::<(), _>(JobError::Down))
            .sleep_with(|_| waits.set(waits.get() + 1))
            .stop_when(|| waits.get() > 0) // set in the first wait
            .call()
            .unwrap_err();
        assert_eq!(e, JobError::Down);
        let after = SYNC_TOKENS.stats();
        assert!(
            (after.tokens - before.tokens - 0.1).abs() < 1e-9,
            "{before:?} -> {after:?}"
        );
        assert_eq!(after.retries, before.retries);
    }
}

static GAVE_UP_TOKENS: RetryBudget = RetryBudget::new("shutdown-gave-up-tokens");

#[test]
fn a_run_stopped_after_it_gave_up_is_only_wrapped() {
    let logs = support::capture();
    let policy = policy("gave.up")
        .with_max_attempts(1)
        .with_budget(&GAVE_UP_TOKENS);
    // a run that retried, so the bucket is below its top
    let mut warm = retry_runtime::Run::new(&policy);
    let warmer = policy.with_max_attempts(4);
    let mut warm2 = retry_runtime::Run::new(&warmer);
    for _ in 0..3 {
        let _ = warm2.failed(&JobError::Down);
    }
    warm2.succeeded();
    warm.succeeded();
    let before = GAVE_UP_TOKENS.stats();
    assert!(
        before.tokens < f64::from(before.max_tokens) - 2.0,
        "{before:?}"
    );
    let mut run = retry_runtime::Run::new(&policy);
    assert!(matches!(
        run.failed(&JobError::Down),
        retry_runtime::Decision::GiveUp {
            reason: StopReason::Attempts,
            ..
        }
    ));
    let e = run.stopped(JobError::Down);
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    let after = GAVE_UP_TOKENS.stats();
    // the first attempt's deposit, and no token handed back that was never granted
    assert!(
        (after.tokens - before.tokens - 0.1).abs() < 1e-9,
        "{before:?} -> {after:?}"
    );
    assert!(
        logs.lines()
            .iter()
            .all(|l| !l.contains("stopped: its stop signal fired")),
        "{:?}",
        logs.lines()
    );
}

static MADE_TOKENS: RetryBudget = RetryBudget::new("shutdown-made-tokens");

#[test]
fn a_run_stopped_during_the_retried_attempt_keeps_its_token_spent() {
    let logs = support::capture();
    let policy = policy("made")
        .with_backoff(Backoff::None)
        .with_budget(&MADE_TOKENS);
    let mut run = retry_runtime::Run::new(&policy);
    run.before_attempt::<JobError>().unwrap();
    let retry_runtime::Decision::Retry { .. } = run.failed(&JobError::Down) else {
        panic!("a retry")
    };
    assert_eq!(MADE_TOKENS.stats().retries, 1);
    // the wait is over, the retry is made; the shutdown comes during it
    run.before_attempt::<JobError>().unwrap();
    let e = run.stopped(JobError::Down);
    // the attempt cut short was made: it counts, and the end is told
    assert_eq!((e.attempts, e.reason), (2, StopReason::Stopped));
    assert_eq!(
        MADE_TOKENS.stats().retries,
        1,
        "the retry was made: its token stays spent"
    );
    let line = logs.assert_logged(
        Level::WARN,
        "made failed after 2 attempts (stopped: its stop signal fired)",
    );
    support::assert_fields(&line, &[("outcome", "stopped")]);
}

/// A hand loop that races each attempt with its shutdown (a download's
/// Ctrl-C, dropping the transfer) and calls `stopped` during the first
/// one: the attempt was made, so the error counts it and the end is told
/// (the line, `on_give_up`); a breaker's leave goes back as neutral. (It
/// read `not attempted`, 0 attempts, and told nobody: a walk-through's
/// downloader, 3,000 bytes written by then.)
#[test]
fn a_run_stopped_during_its_first_attempt_counts_it_and_tells_its_end() {
    static ENDS: AtomicU32 = AtomicU32::new(0);
    static PROBED: retry_runtime::CircuitBreaker =
        retry_runtime::CircuitBreaker::new("shutdown-in-attempt").with_failures(1);
    fn ended(ev: &GiveUpEvent<'_>) {
        assert_eq!(
            (ev.attempts, ev.reason, ev.kind),
            (1, StopReason::Stopped, None)
        );
        ENDS.fetch_add(1, SeqCst);
    }
    let logs = support::capture();
    let policy = policy("download")
        .with_circuit(&PROBED)
        .with_on_give_up(ended);
    let mut run = retry_runtime::Run::new(&policy);
    run.before_attempt::<retry_runtime::CircuitOpen>().unwrap();
    // Ctrl-C during the transfer: the attempt is dropped
    let e = run.stopped("interrupted");
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    assert_eq!(
        e.to_string(),
        "download failed after 1 attempt (stopped: its stop signal fired): interrupted"
    );
    assert_eq!(ENDS.load(SeqCst), 1);
    logs.assert_logged(Level::WARN, "download failed after 1 attempt (stopped");
    let stats = PROBED.stats();
    assert_eq!(
        (stats.failures, stats.successes, stats.neutral),
        (0, 0, 1),
        "{stats:?}"
    );
    assert!(
        PROBED.try_acquire().is_ok(),
        "a cut attempt says nothing of the dependency"
    );

    // without `before_attempt`, a stop cannot be told from one before the
    // first attempt: nothing counted, nothing told
    let plain = policy_without_guard();
    let run = retry_runtime::Run::new(&plain);
    let e = run.stopped("interrupted");
    assert_eq!(e.attempts, 0);
    assert_eq!(ENDS.load(SeqCst), 1);
}

fn policy_without_guard() -> Policy<retry_runtime::RetryOn> {
    policy("download-unguarded")
}

// A first attempt's wait for a shared cooldown (a 429's hold, a pace's
// slot, a hold made longer meanwhile) ends when the signal fires: the
// attempt is made at once, and is the call's only one (a failure the policy
// would retry ends the run, `Stopped`). A worker shutting down does not sit
// out a 60s hold (longer than Kubernetes' 30s grace) before its attempt.

/// `policy(name)` sharing `cooldown`.
fn held(name: &'static str, cooldown: &'static Cooldown) -> Policy<retry_runtime::RetryOn> {
    policy(name).with_cooldown(cooldown)
}

/// An operation that answers `answer` and tells the time of each call on
/// tokio's clock (from `start`).
fn timed<'a>(
    at: &'a std::sync::Mutex<Vec<Duration>>,
    start: Instant,
    answer: Result<u32, JobError>,
) -> impl FnMut() -> std::future::Ready<Result<u32, JobError>> + 'a {
    move || {
        at.lock().unwrap().push(start.elapsed());
        std::future::ready(match &answer {
            Ok(v) => Ok(*v),
            Err(_) => Err(JobError::Down),
        })
    }
}

#[tokio::test(start_paused = true)]
async fn fired_in_a_first_attempt_s_hold_the_attempt_is_made_at_once_and_is_the_only_one() {
    static HELD_60S: Cooldown = Cooldown::new("shutdown-held-60s");
    let logs = support::capture();
    for (answer, spans) in [
        (Err(JobError::Down), false),
        (Err(JobError::Down), true),
        (Ok(7), false),
    ] {
        let at = std::sync::Mutex::new(Vec::new());
        let start = Instant::now();
        HELD_60S.hold_for(s(60)); // what a run does on a 429 asking for 60s
        let r = held("job.held", &HELD_60S)
            .with_attempt_spans(spans)
            .retry(timed(&at, start, answer))
            .stop_on(fires_after(s(5)))
            .detailed()
            .await;
        assert_eq!(*at.lock().unwrap(), [s(5)], "spans: {spans}: not at 60s");
        match r {
            Ok(out) => assert_eq!((out.value, out.attempts, out.elapsed), (7, 1, s(5))),
            Err(e) => {
                assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
                assert_eq!((e.last_error, e.elapsed), (JobError::Down, s(5)));
            }
        }
        // (the next case's hold starts from a fresh 60s)
        tokio::time::sleep(s(60)).await;
    }
    // the two failures, with and without spans
    let lines = logs.matching(Level::WARN, "job.held failed after 1 attempt");
    assert_eq!(lines.len(), 2, "{:?}", logs.lines());
    assert!(
        lines
            .iter()
            .all(|l| l.contains("stopped: its stop signal fired")),
        "{lines:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn fired_before_the_call_the_first_attempt_s_hold_is_not_waited() {
    static HELD_BEFORE: Cooldown = Cooldown::new("shutdown-held-before");
    let at = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    HELD_BEFORE.hold_for(s(60));
    let e = held("job.held_before", &HELD_BEFORE)
        .retry(timed(&at, start, Err(JobError::Down)))
        .stop_on(async {})
        .detailed()
        .await
        .unwrap_err();
    assert_eq!(*at.lock().unwrap(), [s(0)]);
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    // a success is the call's
    let ok = held("job.held_before_ok", &HELD_BEFORE)
        .retry(timed(&at, start, Ok(3)))
        .stop_on(async {})
        .await;
    assert_eq!(ok, Ok(3));
    assert_eq!(*at.lock().unwrap(), [s(0), s(0)]);
}

#[tokio::test(start_paused = true)]
async fn fired_in_a_wait_for_a_hold_made_longer_the_attempt_is_made_at_once() {
    static LONGER: Cooldown = Cooldown::new("shutdown-held-longer");
    let at = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    LONGER.hold_for(s(2));
    let policy = held("job.held_longer", &LONGER);
    let call = policy
        .retry(timed(&at, start, Err(JobError::Down)))
        .stop_on(fires_after(s(10)))
        .detailed();
    let (r, ()) = tokio::join!(call.into_future(), async {
        tokio::time::sleep(s(1)).await;
        LONGER.hold_for(s(60)); // another call's 429 meanwhile: until 61s
    });
    let e = r.unwrap_err();
    assert_eq!(*at.lock().unwrap(), [s(10)]);
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
}

/// An attempt made before its pace's slot (the signal cut its wait)
/// still counts against the pace: its slot stays taken, so the calls
/// after it keep to the rate. (Given back, the slot would let one call
/// more than the pace allows through, next to the one just made.)
#[tokio::test(start_paused = true)]
async fn fired_in_a_wait_for_a_pace_slot_the_attempt_goes_at_once_and_keeps_its_slot() {
    static PACED: Cooldown = Cooldown::new("shutdown-paced").with_pace(1, Duration::from_secs(10));
    let at = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    let paced = held("job.paced", &PACED);
    // the slot at 0s
    assert_eq!(paced.retry(timed(&at, start, Ok(1))).await, Ok(1));
    // the slot at 10s, its wait cut at 2s
    let e = paced
        .retry(timed(&at, start, Err(JobError::Down)))
        .stop_on(fires_after(s(2)))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    // fired before the call: at once, the slot at 20s taken
    assert_eq!(
        paced
            .retry(timed(&at, start, Ok(2)))
            .stop_on(async {})
            .await,
        Ok(2)
    );
    // a call without a signal: the slot at 30s
    assert_eq!(paced.retry(timed(&at, start, Ok(3))).await, Ok(3));
    assert_eq!(*at.lock().unwrap(), [s(0), s(2), s(2), s(30)]);
}

/// `retry_if_ok`: a first attempt whose hold the signal cut returns its
/// value even when the check rejects it (no retry after the signal).
#[tokio::test(start_paused = true)]
async fn fired_in_a_first_attempt_s_hold_a_rejected_ok_is_returned() {
    static HELD_POLL: Cooldown = Cooldown::new("shutdown-held-poll");
    let at = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    HELD_POLL.hold_for(s(60));
    let out = held("job.held_poll", &HELD_POLL)
        .retry(timed(&at, start, Ok(0)))
        .retry_if_ok(|_: &u32| true)
        .stop_on(fires_after(s(5)))
        .detailed()
        .await
        .unwrap();
    assert_eq!(
        (out.value, out.attempts, out.gave_up),
        (0, 1, Some(StopReason::Stopped))
    );
    assert_eq!(*at.lock().unwrap(), [s(5)]);
}
