//! `before_sleep` and `on_give_up` callbacks: called with the right events,
//! `before_sleep` once per wait (before it), `on_give_up` exactly once when
//! the run gives up, neither on a first-try success, `on_give_up` never on
//! a success.

use std::cell::RefCell;
use std::time::Duration;

use retry_runtime::{
    kinds, testing, Backoff, Classify, ErrorKind, GiveUpEvent, Policy, RetryEvent, RetryOn,
};

const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

thread_local! {
    /// What the callbacks saw on this thread (tests run on separate threads).
    static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// tokio's clock when `before_sleep` ran (async tests).
    static AT: RefCell<Vec<tokio::time::Instant>> = const { RefCell::new(Vec::new()) };
}

fn take_seen() -> Vec<String> {
    SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

fn record_sleep(ev: &RetryEvent<'_>) {
    let line = format!(
        "sleep {} attempt {}/{} wait {:?} kind {:?}: {}",
        ev.operation, ev.attempt, ev.max_attempts, ev.wait, ev.kind, ev.error
    );
    SEEN.with(|s| s.borrow_mut().push(line));
}

fn record_sleep_time(ev: &RetryEvent<'_>) {
    record_sleep(ev);
    AT.with(|a| a.borrow_mut().push(tokio::time::Instant::now()));
}

fn record_give_up(ev: &GiveUpEvent<'_>) {
    let line = format!(
        "give up {} after {}/{} ({:?}) kind {:?}: {}",
        ev.operation, ev.attempts, ev.max_attempts, ev.reason, ev.kind, ev.error
    );
    SEEN.with(|s| s.borrow_mut().push(line));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum FeedError {
    #[error("feed timed out")]
    Timeout,
    #[error("feed is gone")]
    Gone,
}

impl Classify for FeedError {
    fn kind(&self) -> ErrorKind {
        match self {
            FeedError::Timeout => ErrorKind::Timeout,
            FeedError::Gone => ErrorKind::Permanent,
        }
    }
}

/// What the hooks see of a run whose 4 attempts all time out.
const FOUR_TIMEOUTS_SEEN: [&str; 4] = [
    "sleep feed attempt 1/4 wait 1s kind Some(Timeout): feed timed out",
    "sleep feed attempt 2/4 wait 2s kind Some(Timeout): feed timed out",
    "sleep feed attempt 3/4 wait 4s kind Some(Timeout): feed timed out",
    "give up feed after 4/4 (Attempts) kind Some(Timeout): feed timed out",
];

/// Hooks are plain `fn`s, so a policy with hooks is still a `const`.
const FEED: Policy<RetryOn> = Policy::new()
    .with_max_attempts(4)
    .with_backoff(Backoff::exponential(s(1), s(4)))
    .with_name("feed")
    .with_before_sleep(record_sleep)
    .with_on_give_up(record_give_up)
    .retry_on(kinds![Timeout | Connect])
    .checked();

/// Fails with `errors` in turn, then succeeds.
fn script(errors: &[FeedError]) -> impl FnMut() -> Result<&'static str, FeedError> + '_ {
    let mut calls = 0;
    move || {
        calls += 1;
        match errors.get(calls - 1) {
            Some(e) => Err(*e),
            None => Ok("items"),
        }
    }
}

/// Runs `FEED` over a script of `errors` (then "items") with the waits
/// recorded, not slept: its result and the lines its hooks wrote.
fn run_feed(errors: &[FeedError]) -> (Result<&'static str, FeedError>, Vec<String>) {
    let _paused = testing::pause();
    take_seen();
    let out = FEED.retry(script(errors)).call();
    (out, take_seen())
}

#[test]
fn success_after_retries_calls_before_sleep_per_wait_and_never_on_give_up() {
    let (out, seen) = run_feed(&[FeedError::Timeout, FeedError::Timeout]);
    assert_eq!(out, Ok("items"));
    assert_eq!(
        seen,
        [
            "sleep feed attempt 1/4 wait 1s kind Some(Timeout): feed timed out",
            "sleep feed attempt 2/4 wait 2s kind Some(Timeout): feed timed out",
        ]
    );
}

#[test]
fn first_try_success_calls_no_hook() {
    let (out, seen) = run_feed(&[]);
    assert_eq!(out, Ok("items"));
    assert!(seen.is_empty());
}

#[test]
fn exhaustion_calls_on_give_up_exactly_once() {
    let (out, seen) = run_feed(&[FeedError::Timeout; 10]);
    assert_eq!(out, Err(FeedError::Timeout));
    assert_eq!(seen, FOUR_TIMEOUTS_SEEN);
}

#[test]
fn a_permanent_error_calls_on_give_up_once_and_before_sleep_never() {
    let (out, seen) = run_feed(&[FeedError::Timeout, FeedError::Gone]);
    assert_eq!(out, Err(FeedError::Gone));
    assert_eq!(
        seen,
        [
            "sleep feed attempt 1/4 wait 1s kind Some(Timeout): feed timed out",
            "give up feed after 2/4 (Permanent) kind Some(Permanent): feed is gone",
        ]
    );
}

#[test]
fn a_deadline_calls_on_give_up_once() {
    let _paused = testing::pause();
    take_seen();
    let out = FEED
        .with_max_elapsed(s(2))
        .retry(script(&[FeedError::Timeout; 10]))
        .call();
    assert_eq!(out, Err(FeedError::Timeout));
    // at ~0s + 1s < 2s: retry; at ~1s + 2s >= 2s: give up
    assert_eq!(
        take_seen(),
        [
            "sleep feed attempt 1/4 wait 1s kind Some(Timeout): feed timed out",
            "give up feed after 2/4 (Deadline) kind Some(Timeout): feed timed out",
        ]
    );
}

#[test]
fn unclassified_policies_report_no_kind() {
    let _paused = testing::pause();
    take_seen();
    let policy = Policy::new()
        .with_max_attempts(2)
        .with_name("plain")
        .with_before_sleep(record_sleep)
        .with_on_give_up(record_give_up);
    let out = policy.retry(|| Err::<(), _>("down")).call();
    assert_eq!(out, Err("down"));
    assert_eq!(
        take_seen(),
        [
            "sleep plain attempt 1/2 wait 1s kind None: down",
            "give up plain after 2/2 (Attempts) kind None: down",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn async_hooks_run_before_each_sleep_and_once_on_give_up() {
    take_seen();
    AT.with(|a| a.borrow_mut().clear());
    let start = tokio::time::Instant::now();
    let policy = FEED.with_before_sleep(record_sleep_time);
    let mut next = script(&[FeedError::Timeout; 10]);
    let out = policy.retry(|| std::future::ready(next())).await;
    assert_eq!(out, Err(FeedError::Timeout));
    assert_eq!(take_seen(), FOUR_TIMEOUTS_SEEN);
    // each before_sleep ran before its sleep: at 0s, 1s, 3s
    let at: Vec<Duration> = AT.with(|a| a.borrow().iter().map(|t| *t - start).collect());
    assert_eq!(at, [s(0), s(1), s(3)]);
    assert_eq!(start.elapsed(), s(7));
}

#[tokio::test(start_paused = true)]
async fn async_success_never_calls_on_give_up() {
    take_seen();
    let mut next = script(&[FeedError::Timeout]);
    let out = FEED.retry(|| std::future::ready(next())).await;
    assert_eq!(out, Ok("items"));
    assert_eq!(
        take_seen(),
        ["sleep feed attempt 1/4 wait 1s kind Some(Timeout): feed timed out"]
    );
}

thread_local! {
    /// The `elapsed` of each event the callbacks saw.
    static ELAPSED: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
}

fn record_elapsed(ev: &RetryEvent<'_>) {
    ELAPSED.with(|e| e.borrow_mut().push(ev.elapsed));
}

fn record_give_up_elapsed(ev: &GiveUpEvent<'_>) {
    ELAPSED.with(|e| e.borrow_mut().push(ev.elapsed));
}

/// `seen` is `expected`, give or take the real time the test took (the
/// virtual clock of `testing::pause` adds to the real one).
fn about(seen: &[Duration], expected: [Duration; 2]) {
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (seen, expected) in seen.iter().zip(expected) {
        assert!(
            *seen >= expected && *seen < expected + Duration::from_millis(500),
            "{seen:?} against {expected:?}"
        );
    }
}

/// Each attempt takes 5s (virtually); the run waits 1s between attempts.
fn slow_failure() -> Result<(), &'static str> {
    retry_runtime::sleep::sleep_sync(s(5));
    Err("down")
}

/// The events' `elapsed` is the time since the run started, the first
/// attempt included: the clock is read at the start of a run with a
/// callback (it was read at the first failure, so the first event said 0).
#[test]
fn the_callbacks_elapsed_counts_from_the_start_of_the_run() {
    let _paused = testing::pause();
    ELAPSED.with(|e| e.borrow_mut().clear());
    let policy = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(s(1)))
        .with_before_sleep(record_elapsed)
        .with_on_give_up(record_give_up_elapsed);
    assert_eq!(policy.retry(slow_failure).call(), Err("down"));
    // before the first wait: 5s; at the give-up: 5 + 1 + 5
    about(&ELAPSED.with(|e| e.borrow().clone()), [s(5), s(11)]);
}

/// The same for a per-call hook, sync and async.
#[test]
fn a_per_call_hooks_elapsed_counts_from_the_start_of_the_run() {
    let _paused = testing::pause();
    let mut seen = Vec::new();
    let out = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(s(1)))
        .retry(slow_failure)
        .notify(|ev: &RetryEvent<'_>| seen.push(ev.elapsed))
        .call();
    assert_eq!(out, Err("down"));
    about(&seen, [s(5), s(11)]);
}

#[tokio::test(start_paused = true)]
async fn an_async_per_call_hooks_elapsed_counts_from_the_start_of_the_run() {
    let mut seen = Vec::new();
    let out = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(s(1)))
        .retry(|| async {
            tokio::time::sleep(s(5)).await;
            Err::<(), _>("down")
        })
        .notify(|ev: &RetryEvent<'_>| seen.push(ev.elapsed))
        .await;
    assert_eq!(out, Err("down"));
    assert_eq!(seen, [s(5), s(11)]);
}

/// `Classify::why_permanent` is asked only by a give-up line that is
/// written or by an `on_give_up` hook that asks (as the trait's docs and
/// the derive's "Why it is permanent" say): a run that gives up on a
/// `Permanent` error with no line written and a hook that does not ask
/// never calls it.
#[test]
fn why_permanent_is_asked_only_by_a_written_line_or_a_hook_that_asks() {
    use std::cell::Cell;

    thread_local! {
        static ASKED: Cell<u32> = const { Cell::new(0) };
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the clip is gone")]
    struct Gone;

    impl Classify for Gone {
        fn kind(&self) -> ErrorKind {
            ErrorKind::Permanent
        }
        fn why_permanent(&self) -> Option<&'static str> {
            ASKED.with(|asked| asked.set(asked.get() + 1));
            Some("the clip does not exist")
        }
    }

    fn asked() -> u32 {
        ASKED.with(|asked| asked.replace(0))
    }

    const CLIP: Policy<RetryOn> = Policy::new()
        .with_name("clip")
        .retry_on(kinds![Timeout])
        .checked();
    let silent = tracing::subscriber::NoSubscriber::default();

    // no line written, no hook
    asked();
    tracing::subscriber::with_default(silent, || {
        assert!(CLIP.retry(|| Err::<(), _>(Gone)).call().is_err());
    });
    assert_eq!(asked(), 0, "asked with no line and no hook");

    // a hook that does not ask
    let told_nothing = CLIP.with_on_give_up(|_| {});
    tracing::subscriber::with_default(silent, || {
        assert!(told_nothing.retry(|| Err::<(), _>(Gone)).call().is_err());
    });
    assert_eq!(asked(), 0, "asked for a hook that does not ask");

    // a hook that asks
    let told_why = CLIP.with_on_give_up(|ev| {
        assert_eq!(ev.why_permanent(), Some("the clip does not exist"));
    });
    tracing::subscriber::with_default(silent, || {
        assert!(told_why.retry(|| Err::<(), _>(Gone)).call().is_err());
    });
    assert_eq!(asked(), 1);

    // the line, written
    let logs = testkit::capture::capture();
    assert!(CLIP.retry(|| Err::<(), _>(Gone)).call().is_err());
    let line = logs.assert_logged(tracing::Level::WARN, "non-retriable");
    assert!(line.contains("(the clip does not exist)"), "{line}");
    assert_eq!(asked(), 1);
}
