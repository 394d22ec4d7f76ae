//! With the metrics enabled (`retry_runtime::metrics::enable()`) and no
//! recorder installed, the metrics allocate nothing either: not at an
//! operation's first call (its keys go in a static table), nor after.
//! Enabling is process-wide, so the other tests of this binary may run
//! with it too: both ways allocate nothing.

use std::sync::atomic::{AtomicU32, Ordering};

use retry_runtime::{retry, Backoff, Policy};
use testkit::alloc::allocations_in;

#[retry(attempts = 3, backoff = "none")]
fn first_seen_here() -> Result<u32, &'static str> {
    Ok(7)
}

static ASYNC_CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(attempts = 3, backoff = "none")]
async fn first_seen_here_async(fail: bool) -> Result<u32, &'static str> {
    ASYNC_CALLS.fetch_add(1, Ordering::Relaxed);
    if fail {
        Err("down")
    } else {
        Ok(7)
    }
}

#[test]
fn enabled_metrics_without_a_recorder_allocate_nothing() {
    retry_runtime::metrics::enable();
    let (n, out) = allocations_in(first_seen_here);
    assert_eq!((n, out), (0, Ok(7)), "#[retry], an operation's first call");
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_name("metrics_alloc_functional");
    let mut calls = 0;
    let (n, out) = allocations_in(|| {
        policy
            .retry(|| {
                calls += 1;
                if calls < 2 {
                    Err("busy")
                } else {
                    Ok(calls)
                }
            })
            .call()
    });
    assert_eq!(
        (n, out),
        (0, Ok(2)),
        "Policy::retry, a retry then a success"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(first_seen_here_async(true)).ok(); // warms the runtime
    for (fail, expected, calls) in [(false, Ok(7), 1), (true, Err("down"), 3)] {
        ASYNC_CALLS.store(0, Ordering::Relaxed);
        let (n, out) = allocations_in(|| rt.block_on(first_seen_here_async(fail)));
        assert_eq!(n, 0, "async #[retry], failing: {fail}: {out:?}");
        assert_eq!(out, expected, "failing: {fail}");
        assert_eq!(
            ASYNC_CALLS.load(Ordering::Relaxed),
            calls,
            "failing: {fail}"
        );
    }
}
