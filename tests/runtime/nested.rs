//! Retries at one layer (`retry_runtime::nested`): a retried call inside
//! another defers to it for the errors it retries, so 3 layers of 3
//! attempts make 3 calls to the bottom, not 27; it keeps its own retries for
//! errors the outer does not retry, and always with `nested = "retry"`;
//! unrelated calls (another thread, another task on the same thread) are
//! never affected, but for the documented exception: a task a runtime polls
//! inside the attempt (a sync attempt's `block_on`).

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use retry_runtime::{retry, testing, Backoff, Classify, KindSet, Nested, Policy, StopReason};
use testkit::capture::capture;
use tracing::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Classify)]
enum Fail {
    #[error("timed out")]
    #[classify(Timeout)]
    Timeout,
    #[error("serialization conflict")]
    #[classify(Interrupted)]
    Conflict,
}

thread_local! {
    static BOTTOM: Cell<u32> = const { Cell::new(0) };
    static FAILURES: Cell<u32> = const { Cell::new(u32::MAX) };
    static ERROR: Cell<Fail> = const { Cell::new(Fail::Timeout) };
}

/// The bottom dependency: fails `FAILURES` times with `ERROR`, then answers.
fn bottom() -> Result<u32, Fail> {
    let n = BOTTOM.with(|b| {
        b.set(b.get() + 1);
        b.get()
    });
    if n <= FAILURES.with(Cell::get) {
        Err(ERROR.with(Cell::get))
    } else {
        Ok(n)
    }
}

fn script(failures: u32, error: Fail) {
    BOTTOM.with(|b| b.set(0));
    FAILURES.with(|f| f.set(failures));
    ERROR.with(|e| e.set(error));
}

fn bottom_calls() -> u32 {
    BOTTOM.with(Cell::get)
}

// --- sync, #[retry] ---

#[retry(attempts = 3, backoff = "none")]
fn layer3() -> Result<u32, Fail> {
    bottom()
}

#[retry(attempts = 3, backoff = "none")]
fn layer2() -> Result<u32, Fail> {
    layer3()
}

#[retry(attempts = 3, backoff = "none")]
fn layer1() -> Result<u32, Fail> {
    layer2()
}

#[test]
fn three_sync_layers_make_three_calls_not_27() {
    script(u32::MAX, Fail::Timeout);
    let logs = capture();
    assert_eq!(layer1(), Err(Fail::Timeout));
    assert_eq!(bottom_calls(), 3);
    // each inner run said it left the retry to the outer one, at DEBUG
    let deferred = logs.matching(Level::DEBUG, "leaving the retry to the outer retried call");
    assert_eq!(deferred.len(), 6, "{deferred:?}"); // layer2 and layer3, 3 times each
                                                   // and only the outer run gave up, once
    assert_eq!(logs.matching(Level::ERROR, "failed after").len(), 1);
    // a success on the way is seen at once by every layer
    script(4, Fail::Timeout);
    assert_eq!(layer1(), Err(Fail::Timeout), "3 outer attempts, 3 calls");
    script(2, Fail::Timeout);
    assert_eq!(layer1(), Ok(3));
    assert_eq!(bottom_calls(), 3);
}

#[retry(attempts = 3, backoff = "none", nested = "retry")]
fn own_retries() -> Result<u32, Fail> {
    bottom()
}

#[retry(attempts = 3, backoff = "none")]
fn around_own_retries() -> Result<u32, Fail> {
    own_retries()
}

#[test]
fn nested_retry_keeps_the_inner_retries() {
    script(u32::MAX, Fail::Timeout);
    assert_eq!(around_own_retries(), Err(Fail::Timeout));
    assert_eq!(bottom_calls(), 9);
}

thread_local! {
    /// The keys and attempt numbers `charge` was called with.
    static SENT: std::cell::RefCell<Vec<(u32, u32)>> = const { std::cell::RefCell::new(Vec::new()) };
    static NEXT_KEY: Cell<u32> = const { Cell::new(0) };
}

fn new_key() -> u32 {
    NEXT_KEY.with(|k| {
        k.set(k.get() + 1);
        k.get()
    })
}

#[retry(attempts = 3, backoff = "none")]
fn charge(key: u32, #[attempt] a: retry_runtime::Attempt) -> Result<u32, Fail> {
    SENT.with(|s| s.borrow_mut().push((key, a.number)));
    bottom()
}

/// "once per call, before the run": the key is made before `charge`'s run
fn charge_once(key: Option<u32>) -> Result<u32, Fail> {
    charge(key.unwrap_or_else(new_key))
}

#[retry(attempts = 3, backoff = "none")]
fn checkout() -> Result<u32, Fail> {
    charge_once(None)
}

#[retry(attempts = 3, backoff = "none")]
fn checkout_with(key: u32) -> Result<u32, Fail> {
    charge_once(Some(key))
}

fn sent() -> Vec<(u32, u32)> {
    SENT.with(|s| s.take())
}

/// docs/attribute.md, "Retries at one layer": the outer run retries by running its
/// attempt again, so a key made per call of the inner function is a new
/// one for each retry, and the deferring call says attempt 1 each time;
/// a key made before the outermost run is sent alike.
#[test]
fn a_deferring_call_is_made_again_whole_by_the_outer_run() {
    script(2, Fail::Timeout);
    assert_eq!(charge_once(None), Ok(3));
    assert_eq!(
        sent(),
        [(1, 1), (1, 2), (1, 3)],
        "alone: one key, attempts 1, 2, 3"
    );

    script(2, Fail::Timeout);
    assert_eq!(checkout(), Ok(3));
    assert_eq!(
        sent(),
        [(2, 1), (3, 1), (4, 1)],
        "nested: a key and attempt 1 each time"
    );

    script(2, Fail::Timeout);
    assert_eq!(checkout_with(7), Ok(3));
    assert_eq!(
        sent(),
        [(7, 1), (7, 1), (7, 1)],
        "a key made before the outer run"
    );
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout | Interrupted)]
fn inner_retries_conflicts() -> Result<u32, Fail> {
    bottom()
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn outer_retries_timeouts() -> Result<u32, Fail> {
    inner_retries_conflicts()
}

#[test]
fn an_error_the_outer_does_not_retry_keeps_the_inner_retries() {
    // a conflict: the outer would not retry it, so the inner does
    script(2, Fail::Conflict);
    assert_eq!(outer_retries_timeouts(), Ok(3));
    assert_eq!(bottom_calls(), 3);
    // a timeout: left to the outer, one inner attempt per outer attempt
    script(2, Fail::Timeout);
    assert_eq!(outer_retries_timeouts(), Ok(3));
    assert_eq!(bottom_calls(), 3);
    // nothing is lost: conflicts all the way, the inner's 3 attempts
    script(u32::MAX, Fail::Conflict);
    assert_eq!(outer_retries_timeouts(), Err(Fail::Conflict));
    assert_eq!(bottom_calls(), 3);
}

/// The error of a handler around a retried call, by how it classifies the
/// call's error: as its own kind (`Lost`), or as the error it holds.
#[derive(Debug, PartialEq, thiserror::Error, Classify)]
enum Handler {
    #[error("db: {0}")]
    #[classify(Permanent)]
    Lost(Fail),
    #[error(transparent)]
    #[classify(transparent)]
    Kept(Fail),
}

#[retry(attempts = 3, backoff = "none", retry_on = Interrupted)]
fn inner_conflicts_only() -> Result<u32, Fail> {
    bottom()
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn outer_of_an_inner_that_does_not_retry_timeouts() -> Result<u32, Fail> {
    inner_conflicts_only()
}

/// An error the inner run would not retry itself, but the outer one does
/// (a quick retry of conflicts inside a job rescheduled on timeouts): the
/// inner leaves it to the outer with its DEBUG line and `deferred`, not a
/// "non-retriable" WARN (and `permanent_error`) for a failure retried.
#[test]
fn an_error_only_the_outer_retries_is_left_to_it_not_called_non_retriable() {
    script(2, Fail::Timeout);
    let logs = capture();
    assert_eq!(outer_of_an_inner_that_does_not_retry_timeouts(), Ok(3));
    assert_eq!(bottom_calls(), 3);
    let deferred = logs.matching(Level::DEBUG, "leaving the retry to the outer retried call");
    assert_eq!(deferred.len(), 2, "{deferred:?}");
    assert!(logs.matching(Level::WARN, "non-retriable").is_empty());
    // alone, the inner run gives up on it at once, as before
    script(2, Fail::Timeout);
    let logs = capture();
    assert_eq!(inner_conflicts_only(), Err(Fail::Timeout));
    assert_eq!(bottom_calls(), 1);
    assert_eq!(logs.matching(Level::WARN, "non-retriable").len(), 1);
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn inner_timeouts() -> Result<u32, Fail> {
    bottom()
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout, nested = "retry")]
fn inner_timeouts_always() -> Result<u32, Fail> {
    bottom()
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn handler_reclassifying() -> Result<u32, Handler> {
    inner_timeouts().map_err(Handler::Lost)
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn handler_transparent() -> Result<u32, Handler> {
    inner_timeouts().map_err(Handler::Kept)
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn handler_reclassifying_an_inner_that_keeps_its_retries() -> Result<u32, Handler> {
    inner_timeouts_always().map_err(Handler::Lost)
}

/// The limit docs/attribute.md's "Retries at one layer" states: the inner run judges by
/// its own error's kind, so an outer run that turns that error into a kind it
/// does not retry makes the inner's retries, left to it, lost; a transparent
/// variant, or `nested = "retry"` on the inner, keeps them.
#[test]
fn an_outer_run_that_reclassifies_the_error_gets_no_retry_unless_told() {
    // the documented limit: one call in all (3 without the outer run)
    script(2, Fail::Timeout);
    assert_eq!(handler_reclassifying(), Err(Handler::Lost(Fail::Timeout)));
    assert_eq!(bottom_calls(), 1);
    // the variant classifies as the error it holds: the outer retries it
    script(2, Fail::Timeout);
    assert_eq!(handler_transparent(), Ok(3));
    assert_eq!(bottom_calls(), 3);
    // the inner keeps its own retries whatever the outer does
    script(2, Fail::Timeout);
    assert_eq!(
        handler_reclassifying_an_inner_that_keeps_its_retries(),
        Ok(3)
    );
    assert_eq!(bottom_calls(), 3);
}

/// A value `retry_if_ok` rejects: the bottom's answer 1 and 2 are "not yet".
fn not_ready(n: &u32) -> bool {
    *n < 3
}

#[retry(attempts = 3, backoff = "none", retry_if_ok = not_ready)]
fn inner_polls_until_ready() -> Result<u32, Fail> {
    bottom()
}

#[retry(attempts = 3, backoff = "none")]
fn outer_retries_every_error() -> Result<u32, Fail> {
    inner_polls_until_ready()
}

#[test]
fn a_rejected_ok_is_retried_by_the_inner_run_not_handed_out_as_a_success() {
    // the outer run sees an `Ok`, a success to it: the inner run must not
    // leave its own retry of a rejected value to the outer one
    script(0, Fail::Timeout);
    assert_eq!(outer_retries_every_error(), Ok(3));
    assert_eq!(bottom_calls(), 3);
}

// --- sync, the functional API ---

#[test]
fn the_functional_api_defers_too_and_says_why() {
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    let _paused = testing::pause();
    script(u32::MAX, Fail::Timeout);
    let mut reasons = Vec::new();
    let outer = policy
        .retry(|| {
            let inner = policy.retry(bottom).detailed().call();
            let e = inner.unwrap_err();
            reasons.push((e.attempts, e.reason));
            Err::<u32, _>(e.last_error)
        })
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(bottom_calls(), 3);
    assert_eq!(reasons, [(1, StopReason::Deferred); 3]);
    assert_eq!((outer.attempts, outer.reason), (3, StopReason::Attempts));
}

#[test]
fn an_outer_policy_with_a_predicate_or_one_attempt_publishes_nothing() {
    fn any(_: &Fail) -> bool {
        true
    }
    let inner = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    let _paused = testing::pause();
    let predicate = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_if(any as fn(&Fail) -> bool);
    script(u32::MAX, Fail::Timeout);
    let _ = predicate.retry(|| inner.retry(bottom).call()).call();
    assert_eq!(bottom_calls(), 6, "the inner keeps its 3 attempts, twice");
    let single = Policy::new().with_max_attempts(1);
    script(u32::MAX, Fail::Timeout);
    let _ = single.retry(|| inner.retry(bottom).call()).call();
    assert_eq!(bottom_calls(), 3);
    // an outer retry_on that leaves out the kind: the inner retries
    let timeouts_only = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::EMPTY.with(retry_runtime::ErrorKind::Timeout));
    script(u32::MAX, Fail::Conflict);
    let _ = timeouts_only.retry(|| inner.retry(bottom).call()).call();
    assert_eq!(bottom_calls(), 3);
    let own = inner.with_nested(Nested::Retry);
    script(u32::MAX, Fail::Timeout);
    let _ = inner.retry(|| own.retry(bottom).call()).call();
    assert_eq!(bottom_calls(), 9);
}

#[test]
fn another_thread_is_not_affected() {
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    let _paused = testing::pause();
    let r: Result<u32, Fail> = policy
        .retry(|| {
            // a thread started inside an attempt keeps its own retries
            let calls = std::thread::spawn(move || {
                script(u32::MAX, Fail::Timeout);
                let _paused = testing::pause();
                let _ = policy.retry(bottom).call();
                bottom_calls()
            })
            .join()
            .unwrap();
            assert_eq!(calls, 3);
            Ok(calls)
        })
        .call();
    assert_eq!(r, Ok(3));
}

// --- async ---

/// The async bottom dependency: counts its calls in `calls` (each test has
/// a counter of its own: they run in parallel), always times out.
async fn async_bottom(calls: &'static AtomicU32) -> Result<u32, Fail> {
    calls.fetch_add(1, Ordering::SeqCst);
    // really suspend, so each layer's future is polled more than once
    tokio::task::yield_now().await;
    Err(Fail::Timeout)
}

#[retry(attempts = 3, backoff = "exp(10ms, 40ms)")]
async fn async_layer3(calls: &'static AtomicU32) -> Result<u32, Fail> {
    async_bottom(calls).await
}

#[retry(attempts = 3, backoff = "exp(10ms, 40ms)")]
async fn async_layer2(calls: &'static AtomicU32) -> Result<u32, Fail> {
    async_layer3(calls).await
}

#[retry(attempts = 3, backoff = "exp(10ms, 40ms)")]
async fn async_layer1(calls: &'static AtomicU32) -> Result<u32, Fail> {
    async_layer2(calls).await
}

/// Three layers over a bottom counting in `calls`: the bottom's calls.
async fn three_async_layers(calls: &'static AtomicU32) -> u32 {
    calls.store(0, Ordering::SeqCst);
    assert_eq!(async_layer1(calls).await, Err(Fail::Timeout));
    calls.load(Ordering::SeqCst)
}

#[tokio::test(start_paused = true)]
async fn three_async_layers_on_a_current_thread_runtime() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    assert_eq!(three_async_layers(&CALLS).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_async_layers_on_a_multi_thread_runtime() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    // spawned, so the task may move between the workers across its awaits
    let calls = tokio::spawn(three_async_layers(&CALLS)).await.unwrap();
    assert_eq!(calls, 3);
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout | Interrupted)]
async fn async_inner_retries_conflicts() -> Result<u32, Fail> {
    tokio::task::yield_now().await;
    bottom()
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
async fn async_outer_retries_timeouts() -> Result<u32, Fail> {
    async_inner_retries_conflicts().await
}

// (current-thread: the scripted bottom counts on this thread)
#[tokio::test(flavor = "current_thread")]
async fn an_async_outer_publishes_the_kinds_its_constant_policy_retries() {
    // conflicts: the outer would not retry them, so the inner keeps its
    // 3 attempts (1 call if the outer claimed every kind)
    script(u32::MAX, Fail::Conflict);
    assert_eq!(async_outer_retries_timeouts().await, Err(Fail::Conflict));
    assert_eq!(bottom_calls(), 3);
    // timeouts: left to the outer, one inner attempt per outer attempt
    // (9 calls if the outer claimed none)
    script(u32::MAX, Fail::Timeout);
    assert_eq!(async_outer_retries_timeouts().await, Err(Fail::Timeout));
    assert_eq!(bottom_calls(), 3);
}

/// A future made after a retried call of its own, as an API that builds
/// its request before its future does: the sync retry runs while the
/// future is made, not while it is polled.
fn made_after_a_retried_call() -> impl std::future::Future<Output = Result<u32, Fail>> {
    let made = layer3();
    async move { made }
}

// The body is one awaited expression: the loop makes its future itself
// (no `async` block around it), with the kinds published.
#[retry(attempts = 3, backoff = "none")]
async fn async_outer_of_a_made_future() -> Result<u32, Fail> {
    made_after_a_retried_call().await
}

#[tokio::test(flavor = "current_thread")]
async fn an_async_outer_publishes_while_its_attempt_future_is_made() {
    // left to the outer: one inner attempt per outer attempt (9 calls if
    // the future were made with nothing published)
    script(u32::MAX, Fail::Timeout);
    assert_eq!(async_outer_of_a_made_future().await, Err(Fail::Timeout));
    assert_eq!(bottom_calls(), 3);
    // and nothing stays published once the call is over
    script(u32::MAX, Fail::Timeout);
    assert_eq!(layer3(), Err(Fail::Timeout));
    assert_eq!(bottom_calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_async_functional_api_defers_too() {
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_millis(5)));
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let r: Result<u32, Fail> = policy
        .retry(|| async { policy.retry(|| async_bottom(&CALLS)).await })
        .await;
    assert_eq!(r, Err(Fail::Timeout));
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
}

/// A sync retried call that the async operation makes before its future
/// (as the sync form and `#[retry]` make theirs, with the kinds published):
/// it defers to the outer run, for the first attempt and for a retry with
/// no wait. (It retried on its own: 3 x 3 calls.)
#[tokio::test(start_paused = true)]
async fn a_run_the_async_operation_makes_before_its_future_defers_too() {
    let inner = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    // the outer run with no wait between its attempts, then with one
    let waiting = inner.with_backoff(Backoff::fixed(Duration::from_millis(5)));
    for outer in [inner, waiting] {
        script(u32::MAX, Fail::Timeout);
        let r: Result<u32, Fail> = outer
            .retry(|| {
                let made = inner.retry(bottom).call();
                async move { made }
            })
            .await;
        assert_eq!(r, Err(Fail::Timeout));
        assert_eq!(bottom_calls(), 3);
    }
}

#[tokio::test(start_paused = true)]
async fn another_task_on_the_same_thread_is_not_affected() {
    static OTHER: AtomicU32 = AtomicU32::new(0);
    async fn other_bottom() -> Result<u32, Fail> {
        OTHER.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Err(Fail::Timeout)
    }
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_millis(5)));
    // The outer run's attempt waits on a task that runs, on this same
    // thread, a retried call of its own: it is polled by the runtime, not
    // inside the outer attempt's poll, so it keeps its 3 attempts.
    let r: Result<u32, Fail> = policy
        .retry(|| async {
            let other = tokio::spawn(async move { policy.retry(other_bottom).await });
            let _ = other.await;
            Ok(OTHER.load(Ordering::SeqCst))
        })
        .await;
    assert_eq!(r, Ok(3));
}

/// A background task's retried call: counts its calls, yields once, fails
/// with a timeout. `nested = "defer"` (the default) or `"retry"`.
static BACKGROUND_CALLS: AtomicU32 = AtomicU32::new(0);

async fn background_attempt() -> Result<u32, Fail> {
    BACKGROUND_CALLS.fetch_add(1, Ordering::Relaxed);
    tokio::task::yield_now().await;
    Err(Fail::Timeout)
}

#[retry(attempts = 3, backoff = "none")]
async fn background_defers() -> Result<u32, Fail> {
    background_attempt().await
}

#[retry(attempts = 3, backoff = "none", nested = "retry")]
async fn background_keeps_its_retries() -> Result<u32, Fail> {
    background_attempt().await
}

/// A sync retried call whose attempt drives the shared runtime.
#[retry(attempts = 2, backoff = "none")]
fn sync_call_driving(rt: &tokio::runtime::Runtime) -> Result<u32, Fail> {
    rt.block_on(tokio::task::yield_now());
    rt.block_on(tokio::task::yield_now());
    Ok(1)
}

/// The documented exception (docs/attribute.md, "Retries at one layer"): a task that a
/// sync attempt's `block_on` polls is taken for a call inside the attempt
/// and leaves its retries to it; `nested = "retry"` keeps them.
#[test]
fn a_task_polled_inside_a_sync_attempt_defers_unless_nested_retry() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (keeps, expected_calls) in [(false, 1), (true, 3)] {
        BACKGROUND_CALLS.store(0, Ordering::Relaxed);
        let task = if keeps {
            rt.spawn(background_keeps_its_retries())
        } else {
            rt.spawn(background_defers())
        };
        assert_eq!(sync_call_driving(&rt), Ok(1));
        assert_eq!(rt.block_on(task).unwrap(), Err(Fail::Timeout));
        assert_eq!(
            BACKGROUND_CALLS.load(Ordering::Relaxed),
            expected_calls,
            "nested = {}",
            if keeps { "retry" } else { "defer" }
        );
    }
}

// --- carried across threads and tasks: `nested::Outer` ---

/// An async `#[retry]` handler whose attempt runs a sync retried call in
/// `spawn_blocking`, as docs/attribute.md's "Retries at one layer" advises:
/// the blocking thread is not inside the attempt, so without `Outer` the
/// attempts multiply (2 x 3); `Outer::run` carries the outer run across.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_blocking_keeps_its_own_retries_unless_the_outer_run_is_carried() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let outer = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None);
    let inner = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    for (carried, expected) in [(false, 6), (true, 2)] {
        CALLS.store(0, Ordering::SeqCst);
        let r: Result<u32, Fail> = outer
            .retry(|| async move {
                let here = retry_runtime::nested::Outer::current();
                assert_eq!(here.kinds(), KindSet::ALL, "inside the attempt");
                let blocking = move || {
                    inner
                        .retry(|| {
                            CALLS.fetch_add(1, Ordering::SeqCst);
                            Err(Fail::Timeout)
                        })
                        .call()
                };
                tokio::task::spawn_blocking(move || {
                    if carried {
                        here.run(blocking)
                    } else {
                        blocking()
                    }
                })
                .await
                .unwrap()
            })
            .await;
        assert_eq!(r, Err(Fail::Timeout));
        assert_eq!(CALLS.load(Ordering::SeqCst), expected, "carried: {carried}");
    }
    // and nothing stays published on the blocking threads afterwards
    let after = tokio::task::spawn_blocking(retry_runtime::nested::Outer::current);
    assert_eq!(after.await.unwrap().kinds(), KindSet::EMPTY);
}

/// A future spawned from an attempt: `Outer::scope` makes its retried
/// calls leave the outer run's kinds to it, on whichever worker polls it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_task_defers_when_scoped_in_the_outer_run() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let outer = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None);
    for (carried, expected) in [(false, 6), (true, 2)] {
        CALLS.store(0, Ordering::SeqCst);
        let r: Result<u32, Fail> = outer
            .retry(|| async move {
                let here = retry_runtime::nested::Outer::current();
                let task = async_layer3(&CALLS);
                let handle = if carried {
                    tokio::spawn(here.scope(task))
                } else {
                    tokio::spawn(task)
                };
                handle.await.unwrap()
            })
            .await;
        assert_eq!(r, Err(Fail::Timeout));
        assert_eq!(CALLS.load(Ordering::SeqCst), expected, "carried: {carried}");
    }
}

/// A requeue of your own (`Policy::decide`, a controller's `error_policy`)
/// is no run: under `Outer::of(&policy)` the calls an attempt makes leave
/// the kinds it retries to it, sync and async.
mod requeue {
    use super::*;
    use retry_runtime::nested::Outer;

    static REQUEUE: Policy<retry_runtime::RetryOn> = Policy::new()
        .with_max_attempts(8)
        .retry_on(KindSet::TRANSIENT);

    static INNER_CALLS: AtomicU32 = AtomicU32::new(0);

    #[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
    async fn get_object() -> Result<(), std::io::Error> {
        INNER_CALLS.fetch_add(1, Ordering::SeqCst);
        Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
    }

    #[tokio::test]
    async fn an_async_reconcile_s_retried_call_defers_to_the_requeue() {
        let logs = capture();
        // without it, the inner call makes its three attempts and says it gave up
        assert!(get_object().await.is_err());
        assert_eq!(INNER_CALLS.swap(0, Ordering::SeqCst), 3);
        let r = Outer::of(&REQUEUE).scope(get_object()).await;
        let e = r.unwrap_err();
        assert_eq!(INNER_CALLS.load(Ordering::SeqCst), 1, "left to the requeue");
        assert!(matches!(
            REQUEUE.decide(0, &e),
            retry_runtime::Decision::Retry { .. }
        ));
        assert_eq!(
            logs.lines()
                .iter()
                .filter(|l| l.contains("get_object failed after"))
                .count(),
            1,
            "one give-up line, the first call's: {:?}",
            logs.lines()
        );
        // a policy that does not retry leaves nothing to defer
        let once = Policy::new().with_max_attempts(1);
        assert_eq!(Outer::of(&once).kinds(), KindSet::EMPTY);
    }
}

/// A deferring call whose result many callers share (a token refresh
/// behind a lock, five tasks waiting for it): its one error reaches every
/// caller's run, each counts it on its breaker, and a breaker of 5 opens
/// (docs/attribute.md, "Retries at one layer"). With `Nested::Retry` the
/// shared call retries it itself, and no caller sees it.
#[tokio::test(start_paused = true)]
async fn a_deferred_error_many_callers_share_counts_once_per_caller() {
    use retry_runtime::circuit::CircuitState;
    use retry_runtime::{kinds, CircuitBreaker, CircuitOpen};
    use std::sync::Arc;

    #[derive(Debug, Clone, thiserror::Error, Classify)]
    enum Shared {
        #[error("timed out")]
        #[classify(Timeout)]
        Timeout,
        #[error(transparent)]
        #[classify(transparent)]
        Open(#[from] CircuitOpen),
    }
    /// One refresh at a time; the callers queued behind it take its outcome.
    #[derive(Default)]
    struct Refresh {
        generation: AtomicU32,
        last: tokio::sync::Mutex<Option<Result<u32, Shared>>>,
        calls: AtomicU32,
    }
    impl Refresh {
        async fn get(&self, policy: Policy<retry_runtime::RetryOn>) -> Result<u32, Shared> {
            let seen = self.generation.load(Ordering::SeqCst);
            let mut last = self.last.lock().await;
            if let Some(outcome) = &*last {
                if self.generation.load(Ordering::SeqCst) != seen {
                    return outcome.clone();
                }
            }
            let outcome = policy
                .retry(|| async {
                    tokio::task::yield_now().await; // the others queue meanwhile
                    match self.calls.fetch_add(1, Ordering::SeqCst) {
                        0 => Err(Shared::Timeout), // one blip
                        n => Ok(n),
                    }
                })
                .await;
            *last = Some(outcome.clone());
            self.generation.fetch_add(1, Ordering::SeqCst);
            outcome
        }
    }

    // (deferred: the blip is never retried, the breaker open before any retry)
    for (nested, failures, calls) in [(Nested::Defer, 5, 1), (Nested::Retry, 0, 2)] {
        let breaker: &'static CircuitBreaker = Box::leak(Box::new(CircuitBreaker::new("shared")));
        let outer = Policy::new()
            .retry_on(kinds![Timeout])
            .with_circuit(breaker);
        let inner = Policy::new().retry_on(kinds![Timeout]).with_nested(nested);
        let refresh = Arc::new(Refresh::default());
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let refresh = refresh.clone();
                tokio::spawn(async move { outer.retry(|| refresh.get(inner)).await })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        assert_eq!(
            breaker.stats().failures,
            failures,
            "{nested:?}: {results:?}"
        );
        if nested == Nested::Defer {
            assert_eq!(breaker.state(), CircuitState::Open, "{results:?}");
            assert!(results.iter().all(Result::is_err), "{results:?}");
        } else {
            assert_eq!(breaker.state(), CircuitState::Closed);
            assert!(
                results.iter().all(|r| r.as_ref().ok() == Some(&1)),
                "{results:?}"
            );
        }
        assert_eq!(refresh.calls.load(Ordering::SeqCst), calls, "{nested:?}");
    }
}
