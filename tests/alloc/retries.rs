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

/// Sets up `fails` failures, then runs `run` under the counting allocator:
/// no allocation, and 7 once the failures have been retried.
fn assert_allocates_nothing<E>(fails: u32, what: &str, run: impl FnOnce() -> Result<u32, E>) {
    fail_times(fails);
    let (n, out) = allocations_in(run);
    assert_eq!((n, out.ok()), (0, Some(7)), "{what} with {fails} failures");
}

const ZERO_WAIT: Policy = Policy::new()
    .with_max_attempts(5)
    .with_backoff(Backoff::None);

#[test]
fn sync_success_and_retries_allocate_nothing() {
    for fails in [0, 1, 4] {
        assert_allocates_nothing(fails, "#[retry]", annotated);
        assert_allocates_nothing(fails, "Policy::retry", || ZERO_WAIT.retry(step).call());
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

/// A current-thread runtime, warmed by a retried run through `#[retry]` and
/// one through the functional API: its first use of the timer and the
/// thread-locals allocates, and is not what is measured.
fn warm_runtime() -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        fail_times(1);
        annotated_async().await.ok();
        fail_times(1);
        ZERO_WAIT.retry(|| async { step() }).await.ok();
    });
    rt
}

#[test]
fn async_success_and_retries_allocate_nothing() {
    let rt = warm_runtime();
    for fails in [0, 1, 4] {
        assert_allocates_nothing(fails, "async #[retry]", || rt.block_on(annotated_async()));
        assert_allocates_nothing(fails, "policy.retry(..).await", || {
            rt.block_on(ZERO_WAIT.retry(|| async { step() }).into_future())
        });
    }
}

/// A per-call notify hook (`notify`, `notify_error`) and the context form
/// allocate nothing either, sync and async.
#[test]
fn notify_hooks_and_the_context_form_allocate_nothing() {
    let rt = warm_runtime();
    for fails in [0, 1, 4] {
        let mut retries = 0;
        assert_allocates_nothing(fails, "notify", || {
            ZERO_WAIT
                .retry(step)
                .notify(|_: &RetryEvent<'_>| retries += 1)
                .call()
        });
        assert_eq!(
            retries, fails,
            "notify with {fails} failures: the hook's count"
        );
        let mut told = 0;
        assert_allocates_nothing(fails, "notify_error", || {
            ZERO_WAIT
                .retry(step)
                .notify_error(|_: &Flaky, _| told += 1)
                .call()
        });
        assert_eq!(told, fails, "notify_error with {fails} failures");
        let mut last = 0;
        assert_allocates_nothing(fails, "context", || {
            ZERO_WAIT
                .retry(|a: Attempt| {
                    last = a.number;
                    step()
                })
                .context()
                .call()
        });
        assert_eq!(
            last,
            fails + 1,
            "context with {fails} failures: the last attempt"
        );
        assert_allocates_nothing(fails, "async context", || {
            rt.block_on(
                ZERO_WAIT
                    .retry(|a: Attempt| async move { step().map(|v| v + a.number - a.number) })
                    .context()
                    .into_future(),
            )
        });
    }
}

/// `retry_if_ok`: rejected values retried, sync and async, allocate
/// nothing either (its first `rejects` values of 0, then the 7).
#[test]
fn a_rejected_ok_allocates_nothing() {
    let rt = warm_runtime();
    for rejected in [0, 1, 4] {
        let mut seen = 0;
        let mut poll = || {
            seen += 1;
            Ok::<u32, Flaky>(if seen > rejected { 7 } else { 0 })
        };
        assert_allocates_nothing(0, "retry_if_ok", || {
            ZERO_WAIT
                .retry(&mut poll)
                .retry_if_ok(|v: &u32| *v == 0)
                .call()
        });
        assert_eq!(seen, rejected + 1, "retry_if_ok with {rejected} rejected");
        let seen = Cell::new(0);
        assert_allocates_nothing(0, "async retry_if_ok", || {
            rt.block_on(
                ZERO_WAIT
                    .retry(|| {
                        seen.set(seen.get() + 1);
                        let v = if seen.get() > rejected { 7 } else { 0 };
                        async move { Ok::<u32, Flaky>(v) }
                    })
                    .retry_if_ok(|v: &u32| *v == 0)
                    .into_future(),
            )
        });
        assert_eq!(
            seen.get(),
            rejected + 1,
            "async retry_if_ok with {rejected} rejected"
        );
    }
}

/// A `Permanent` error that says why (`#[classify(Permanent, why = ..)]`):
/// its give-up, whose line would carry the reason in its message and its
/// `reason` field, allocates nothing, sync and async, through `#[retry]`
/// and the functional form (with no subscriber the line is not made, and
/// the reason not asked).
#[test]
fn a_non_retriable_error_with_a_reason_allocates_nothing() {
    #[derive(Debug, thiserror::Error, Classify)]
    #[error("gone")]
    #[classify(Permanent, why = "the clip does not exist")]
    struct Gone;

    #[retry(attempts = 3, backoff = "none", retry_on = Unavailable)]
    fn gone() -> Result<u32, Gone> {
        Err(Gone)
    }

    #[retry(attempts = 3, backoff = "none", retry_on = Unavailable)]
    async fn gone_async() -> Result<u32, Gone> {
        Err(Gone)
    }

    let rt = warm_runtime();
    let policy = ZERO_WAIT.retry_on(retry_runtime::KindSet::TRANSIENT);
    let assert_none = |what: &str, run: &dyn Fn() -> Result<u32, Gone>| {
        let (n, out) = allocations_in(run);
        assert!(out.is_err(), "{what}");
        assert_eq!(n, 0, "{what}: a permanent error with a reason");
    };
    assert_none("#[retry]", &gone);
    assert_none("async #[retry]", &|| rt.block_on(gone_async()));
    assert_none("Policy::retry", &|| policy.retry(|| Err(Gone)).call());
    assert_none("policy.retry(..).await", &|| {
        rt.block_on(policy.retry(|| async { Err(Gone) }).into_future())
    });
}

#[test]
fn the_counter_sees_allocations() {
    // the measurement itself can fail: an allocation is counted
    let (n, v) = allocations_in(|| vec![1u8; 16]);
    assert_eq!((n, v.len()), (1, 16));
}

/// A hedged call allocates what holding its attempts needs and nothing
/// more: the list of attempts in flight, and one box per attempt started.
#[test]
fn a_hedged_call_allocates_one_box_per_attempt_and_the_list() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_hedge(std::time::Duration::from_millis(50));
    // warm the timer and the thread-locals
    rt.block_on(async {
        fail_times(1);
        policy.retry(|| async { step() }).hedged().await.ok();
    });
    for (fails, attempts) in [(0, 1), (1, 2), (2, 3)] {
        fail_times(fails);
        let (n, out) = allocations_in(|| rt.block_on(policy.retry(|| async { step() }).hedged()));
        assert_eq!(out.ok(), Some(7));
        assert_eq!(n, 1 + attempts, "{fails} failure(s): {n} allocations");
    }
    // a slow first attempt and a hedge beside it
    let slow = || async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        Ok::<_, Flaky>(1)
    };
    let (n, out) = allocations_in(|| rt.block_on(policy.retry(slow).hedged()));
    assert_eq!(out.ok(), Some(1));
    // the list, and 3 attempts (hedges at 50ms and 100ms); their tokio
    // timers are entries in the runtime's wheel, which may grow
    assert!((4..=6).contains(&n), "{n} allocations");
}

/// The tower layer's reading told the request's method
/// (`with_classify_sent`) allocates nothing more than one of the response
/// alone: the method is kept by a clone, which a standard method makes
/// without the heap, on a success, on retries, and for a request sent
/// itself (a POST). (The layer's own copy of an `http::Request` for an
/// attempt may allocate, its URI's shared bytes, the same with either.)
#[test]
fn a_tower_reading_told_the_method_allocates_nothing_more() {
    use http::{Method, Request, Response, StatusCode};
    use retry_runtime::response::ResponseFailure;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::{Layer, ServiceExt};

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static FAILS: AtomicUsize = AtomicUsize::new(0);
    fn gone_is_done(
        method: &Method,
        r: &Response<()>,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        if method == Method::DELETE && r.status() == StatusCode::NOT_FOUND {
            None
        } else {
            by_status
        }
    }
    // 503 while failures are left, then 404
    let answer = tower::service_fn(|_: Request<()>| {
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        let status = if n < FAILS.load(Ordering::Relaxed) {
            503
        } else {
            404
        };
        std::future::ready(Ok::<_, std::convert::Infallible>(
            Response::builder().status(status).body(()).unwrap(),
        ))
    });
    // the same reading of a 404 without the method (the policy retries
    // every failure: a 404 read as one would be sent again)
    let plain = ZERO_WAIT
        .layer()
        .with_classify_response(|r: &Response<()>, by_status| {
            by_status.filter(|_| r.status() != StatusCode::NOT_FOUND)
        })
        .layer(answer);
    let told = ZERO_WAIT
        .layer()
        .with_classify_sent(gone_is_done)
        .layer(answer);
    let rt = warm_runtime();
    for (method, fails) in [(Method::DELETE, 0), (Method::DELETE, 2), (Method::POST, 0)] {
        let count = |svc: &dyn Fn(Request<()>) -> u16| {
            CALLS.store(0, Ordering::Relaxed);
            FAILS.store(fails, Ordering::Relaxed);
            // (the request made outside: its URI is parsed into the heap)
            let request = Request::builder()
                .method(method.clone())
                .uri("/clips/9")
                .body(())
                .unwrap();
            let (n, status) = allocations_in(|| svc(request));
            (n, status, CALLS.load(Ordering::Relaxed))
        };
        let plain = count(&|r| {
            rt.block_on(plain.clone().oneshot(r))
                .unwrap()
                .status()
                .as_u16()
        });
        let told = count(&|r| {
            rt.block_on(told.clone().oneshot(r))
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(
            (told.0, told.2),
            (plain.0, plain.2),
            "{method} after {fails} failure(s): (allocations, status, calls) {told:?} against {plain:?}"
        );
        assert_eq!((plain.1, told.1), (404, 404));
        assert_eq!(told.2, fails + 1);
    }
}
