//! No heap allocation on the success path or per retry, with no tracing
//! subscriber installed: through `#[retry]` and the functional API, sync and
//! async. The binary's counting
//! allocator measures it.
//! (The waits are zero here; a real wait's tokio timer does not allocate either,
//! but the runtime itself does on first use, so the async checks run warm.)

use std::cell::Cell;
use std::future::IntoFuture;

use retry_runtime::{presets, retry, Attempt, Backoff, Classify, Policy, RetryEvent};
use testkit::alloc::allocations_in;

#[derive(Debug, thiserror::Error, Classify)]
#[error("flaky")]
#[classify(Unavailable)]
struct Flaky;

thread_local!(static LEFT: Cell<u32> = const { Cell::new(0) });

fn fail_times(n: u32) {
    LEFT.with(|l| l.set(n));
}

fn step() -> Result<u32, Flaky> {
    LEFT.with(|l| match l.get() {
        0 => Ok(7),
        n => {
            l.set(n - 1);
            Err(Flaky)
        }
    })
}

#[retry(attempts = 5, backoff = "none", retry_on = Unavailable)]
fn annotated() -> Result<u32, Flaky> {
    step()
}

#[retry(attempts = 5, backoff = "none", jitter = "full", retry_on = Unavailable)]
async fn annotated_async() -> Result<u32, Flaky> {
    step()
}

const ZERO_WAIT: Policy = Policy::new().with_attempts(5).with_backoff(Backoff::None);

#[test]
fn sync_success_and_retries_allocate_nothing() {
    for fails in [0, 1, 4] {
        fail_times(fails);
        let (n, out) = allocations_in(annotated);
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "#[retry] with {fails} failures"
        );
        fail_times(fails);
        let (n, out) = allocations_in(|| ZERO_WAIT.retry(step).call());
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "Policy::retry with {fails} failures"
        );
    }
    // giving up (Permanent and exhausted), with the detailed error
    fail_times(10);
    let (n, out) = allocations_in(|| {
        presets::QUICK
            .with_backoff(Backoff::None)
            .retry(step)
            .detailed()
            .call()
    });
    assert_eq!((n, out.map_err(|e| e.attempts).err()), (0, Some(2)));
}

#[test]
fn async_success_and_retries_allocate_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    // warm the runtime (its first use of the timer and the thread-locals)
    rt.block_on(async {
        fail_times(1);
        annotated_async().await.ok();
    });
    for fails in [0, 1, 4] {
        fail_times(fails);
        let (n, out) = allocations_in(|| rt.block_on(annotated_async()));
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "async #[retry] with {fails} failures"
        );
        fail_times(fails);
        let (n, out) =
            allocations_in(|| rt.block_on(ZERO_WAIT.retry(|| async { step() }).into_future()));
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "Policy::retry_async with {fails} failures"
        );
    }
}

/// A per-call notify hook and the context form allocate nothing either,
/// sync and async.
#[test]
fn notify_hooks_and_the_context_form_allocate_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        fail_times(1);
        ZERO_WAIT.retry(|| async { step() }).await.ok();
    });
    for fails in [0, 1, 4] {
        let mut retries = 0;
        fail_times(fails);
        let (n, out) = allocations_in(|| {
            ZERO_WAIT
                .retry(step)
                .notify(|_: &RetryEvent<'_>| retries += 1)
                .call()
        });
        assert_eq!(
            (n, out.ok(), retries),
            (0, Some(7), fails),
            "notify, {fails} failures"
        );
        fail_times(fails);
        let mut last = 0;
        let (n, out) = allocations_in(|| {
            ZERO_WAIT
                .retry(|a: Attempt| {
                    last = a.number;
                    step()
                })
                .context()
                .call()
        });
        assert_eq!(
            (n, out.ok(), last),
            (0, Some(7), fails + 1),
            "context, {fails} failures"
        );
        fail_times(fails);
        let (n, out) = allocations_in(|| {
            rt.block_on(
                ZERO_WAIT
                    .retry(|a: Attempt| async move { step().map(|v| v + a.number - a.number) })
                    .context()
                    .into_future(),
            )
        });
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "async context, {fails} failures"
        );
    }
}

#[test]
fn the_counter_sees_allocations() {
    // the measurement itself can fail: an allocation is counted
    let (n, v) = allocations_in(|| vec![1u8; 16]);
    assert_eq!((n, v.len()), (1, 16));
}
