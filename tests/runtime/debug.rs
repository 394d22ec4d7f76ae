//! `Debug` for the run types a user keeps in a struct of their own
//! (`#[derive(Debug)]`): `Retry`, the awaited `RetryFuture` and `Run`,
//! whatever the operation (a closure, which is not `Debug`), showing the
//! policy and where the run is; the futures of `timeout` and of the
//! tower layer's calls, whatever the attempt or the service; and what wraps
//! a closure (`SleepFn`, `RetryIf`, the reqwest middleware).

use std::fmt;
use std::future::{pending, Future, IntoFuture};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use retry_runtime::{Backoff, CircuitBreaker, Policy, RetryAll, Run};

/// What a user's job record looks like: the pending call beside its id.
#[derive(Debug)]
struct Job<R> {
    id: u32,
    call: R,
}

fn policy() -> Policy<RetryAll> {
    Policy::new()
        .with_name("upload")
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
}

/// Asserts that `value` shows as `start`, then whatever (the policy's own
/// `Debug`), then `end`.
#[track_caller]
fn assert_shows(value: &impl fmt::Debug, start: &str, end: &str) {
    let shown = format!("{value:?}");
    assert!(shown.starts_with(start), "{shown}");
    assert!(shown.ends_with(end), "{shown}");
}

/// Polls `fut` once: is it still pending?
async fn pending_after_a_poll<F: Future>(mut fut: Pin<&mut F>) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
}

#[test]
fn a_retry_of_a_closure_in_a_derived_struct() {
    let policy = policy();
    let job = Job {
        id: 7,
        call: policy.retry(|| Err::<(), _>("busy")),
    };
    assert_shows(
        &job,
        r#"Job { id: 7, call: Retry { policy: Policy { name: "upload", attempts: 3,"#,
        "form: Plain, .. } }",
    );

    // each option keeps it `Debug`: a hook, a sleeper, the context form
    let mut seen = 0;
    let retry = policy
        .retry(|_: retry_runtime::Attempt| Err::<(), _>("busy"))
        .context()
        .notify(|_| seen += 1)
        .sleep_with(|_: Duration| {})
        .detailed();
    assert_shows(&retry, "Retry { policy: ", "form: Detailed, .. }");
    assert_eq!(retry.call().unwrap_err().attempts, 3);
    assert_eq!(seen, 2);
}

/// The future says how many attempts it made and which step it is in, at
/// each step: before its first poll, with an attempt in flight, asleep
/// between two attempts; and it shows a guarded policy's breaker.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_retry_future_shows_its_attempts_and_step() {
    static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream-debug");
    let policy = policy();

    // asleep after a failure
    let fut = policy
        .retry(|| async { Err::<(), _>(std::io::Error::other("down")) })
        .detailed()
        .into_future();
    let job = Job { id: 1, call: fut };
    assert_shows(
        &job,
        r#"Job { id: 1, call: RetryFuture { policy: Policy { name: "upload", attempts: 3,"#,
        "form: Detailed, attempts: 0, step: Start, .. } }",
    );
    assert_eq!(job.id, 1);
    let mut fut = pin!(job.call);
    assert!(pending_after_a_poll(fut.as_mut()).await);
    assert_shows(&fut, "RetryFuture { ", "attempts: 1, step: Sleep, .. }");
    assert_eq!(fut.await.unwrap_err().attempts, 3);

    // an attempt in flight: the first (none made yet), on the plain form
    // that keeps no state until a failure
    let fut = policy.retry(pending::<Result<(), &str>>).into_future();
    let mut fut = pin!(fut);
    assert!(pending_after_a_poll(fut.as_mut()).await);
    assert_shows(
        &fut,
        "RetryFuture { ",
        "form: Plain, attempts: 0, step: Attempt, .. }",
    );

    // a guarded policy: its breaker named in the policy's part
    let guarded = policy.with_circuit(&UPSTREAM);
    let fut = guarded
        .retry(|| async { Ok::<_, retry_runtime::CircuitOpen>(()) })
        .into_future();
    assert!(
        format!("{fut:?}").contains(r#"circuit: "upstream-debug""#),
        "{fut:?}"
    );
    fut.await.unwrap();
}

#[test]
fn a_run_in_a_derived_struct() {
    #[derive(Debug)]
    struct Custom<'p> {
        run: Run<'p, RetryAll>,
    }
    let policy = policy();
    let mut custom = Custom {
        run: Run::new(&policy),
    };
    let start = r#"Custom { run: Run { policy: Policy { name: "upload", attempts: 3,"#;
    assert_shows(&custom, start, "attempts: 0, .. } }");
    let _ = custom.run.failed(&"busy");
    assert_shows(&custom, start, "attempts: 1, .. } }");
}

/// `timeout`'s future, whatever the attempt and the sleep: its limit.
#[test]
fn a_timeout_in_a_derived_struct() {
    let sleeper = retry_runtime::sleep::SleepFn(|_: Duration| pending::<()>());
    let attempt = async { Ok::<_, std::io::Error>(7) };
    let job = Job {
        id: 2,
        call: retry_runtime::timeout_with(&sleeper, Duration::from_millis(1500), attempt),
    };
    assert_eq!(
        format!("{job:?}"),
        "Job { id: 2, call: Timeout { limit: 1.5s, .. } }"
    );
}

/// The tower layer's future, whatever the service (a closure here), says
/// its policy, its timeout, why a request is sent once, its attempts and
/// its step, at each step.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_tower_response_future_shows_its_attempts_and_step() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use tower::{Layer, Service};

    static POLICY: Policy = Policy::new()
        .with_name("upload")
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)));
    static CALLS: AtomicU32 = AtomicU32::new(0);
    // 503, then an answer that never comes
    let flaky = tower::service_fn(|_: http::Request<String>| {
        let first = CALLS.fetch_add(1, Ordering::Relaxed) == 0;
        async move {
            if !first {
                pending::<()>().await;
            }
            Ok::<_, std::io::Error>(
                http::Response::builder()
                    .status(503)
                    .body(String::new())
                    .unwrap(),
            )
        }
    });
    let mut svc = POLICY
        .layer()
        .with_timeout(Duration::from_secs(2))
        .layer(flaky);

    let get = http::Request::get("/clip/7").body(String::new()).unwrap();
    let job = Job {
        id: 3,
        call: svc.call(get),
    };
    assert_shows(
        &job,
        r#"Job { id: 3, call: ResponseFuture { policy: Policy { name: "upload", attempts: 3,"#,
        "timeout: Some(2s), sent_once: None, attempts: 0, step: Start, .. } }",
    );

    // asleep after the 503
    let mut fut = pin!(job.call);
    assert!(pending_after_a_poll(fut.as_mut()).await);
    assert_shows(&fut, "ResponseFuture { ", "attempts: 1, step: Sleep, .. }");
    // the second attempt in flight
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(pending_after_a_poll(fut.as_mut()).await);
    assert_shows(
        &fut,
        "ResponseFuture { ",
        "attempts: 1, step: Attempt, .. }",
    );

    // a POST, sent once: the future says why
    let post = http::Request::post("/clips").body(String::new()).unwrap();
    let fut = svc.call(post);
    assert!(
        format!("{fut:?}")
            .contains(r#"sent_once: Some("its method is not idempotent (RFC 9110 §9.2.2)"#),
        "{fut:?}"
    );
}

/// What wraps a closure of the user's (a sleeper, a predicate) is `Debug`
/// all the same, and so is the reqwest middleware made with them, as the
/// tower layer is.
#[test]
fn closure_wrappers_and_the_middleware_in_a_derived_struct() {
    use retry_runtime::reqwest_middleware::{AttemptFailure, RetryMiddleware};
    use retry_runtime::sleep::SleepFn;
    use retry_runtime::RetryIf;

    let sleeper = SleepFn(|wait: Duration| tokio::time::sleep(wait));
    let job = Job {
        id: 4,
        call: (sleeper, RetryIf(|e: &&str| e.is_empty())),
    };
    assert_eq!(
        format!("{job:?}"),
        "Job { id: 4, call: (SleepFn(..), RetryIf(..)) }"
    );

    // (a policy built at run time, made `'static` once)
    let policy = Box::leak(Box::new(policy().retry_if(|_: &AttemptFailure| true)));
    let middleware = RetryMiddleware::new(policy)
        .with_timeout(Duration::from_secs(5))
        .with_any_method(true)
        .sleep_with(sleeper);
    let job = Job {
        id: 5,
        call: middleware,
    };
    assert_shows(
        &job,
        r#"Job { id: 5, call: RetryMiddleware { policy: Policy { name: "upload", attempts: 3,"#,
        "timeout: Some(5s), any_method: true, retry_refused: false, hide_url_path: false, attempt_extension: false, report: false, .. } }",
    );
}

/// A policy shows what it retries: every error, a set of kinds (a
/// preset's too), or a predicate (which is not `Debug`, and shows as
/// `RetryIf(..)`).
#[test]
fn a_policy_shows_what_it_retries() {
    use retry_runtime::{kinds, presets};

    let when = |shown: String| {
        let at = shown.find("when: ").expect(&shown) + "when: ".len();
        let rest = &shown[at..];
        rest[..rest.find(", retry_after").expect(&shown)].to_owned()
    };
    assert_eq!(when(format!("{:?}", policy())), "RetryAll");
    let on = policy().retry_on(kinds![Timeout | Connect]);
    assert_eq!(when(format!("{on:?}")), "RetryOn(Timeout | Connect)");
    let by = policy().retry_if(|e: &&str| e.is_empty());
    assert_eq!(when(format!("{by:?}")), "RetryIf(..)");
    assert_eq!(
        when(format!("{:?}", presets::API)),
        "RetryOn(Timeout | Connect | RateLimited | Unavailable)"
    );
    // and so does what holds the policy
    let retry = on.retry(|| Err::<(), _>("busy"));
    assert!(
        format!("{retry:?}").contains("when: RetryOn(Timeout | Connect)"),
        "{retry:?}"
    );
}
