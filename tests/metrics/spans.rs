//! Per-attempt spans (`Policy::with_attempt_spans`, `#[retry(attempt_spans =
//! true)]`): one `retry.attempt` span per attempt, with `operation` and
//! `attempt`, a child of the caller's span, holding that attempt's log
//! lines; through every form. Off by default.

use std::io::{self, ErrorKind::TimedOut};

use retry_runtime::{retry, testing, Backoff, CircuitBreaker, KindSet, Nested, Policy, RetryOn};
use testkit::capture::{capture, Captured};

use crate::script::{block_on, fail, step, step_async, S};

const TRACED: Policy<RetryOn> = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::fixed(S))
    .retry_on(KindSet::TRANSIENT)
    .with_attempt_spans(true);

static SPANNED: CircuitBreaker = CircuitBreaker::new("spanned");

/// The kind of the attempts' error (a `TimedOut`), for policies that
/// classify (`retry_on`).
const KIND: &str = "Timeout";

#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Timeout, attempt_spans = true)]
fn annotated() -> io::Result<u32> {
    step()
}

// a breaker keeps the loop in the function
#[retry(
    attempts = 3,
    backoff = "fixed(1s)",
    retry_on = Timeout,
    circuit = SPANNED,
    attempt_spans = true
)]
fn annotated_guarded() -> io::Result<u32> {
    step()
}

#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Timeout, attempt_spans = true)]
async fn annotated_async() -> io::Result<u32> {
    step_async().await
}

#[retry(attempts = 3, backoff = "fixed(1s)")]
fn annotated_without() -> io::Result<u32> {
    step()
}

/// Runs `run` inside a `caller` span, with two failures scripted: what was traced.
fn traced(run: &dyn Fn()) -> Captured {
    let _paused = testing::pause();
    fail(2, TimedOut);
    let logs = capture();
    tracing::info_span!("caller", id = 1).in_scope(run);
    logs
}

/// Three attempt spans of `operation` under the caller's, each holding its
/// attempt's line.
fn assert_three_attempt_spans(logs: &Captured, operation: &str, form: &str) {
    let span = |n: u32| format!("retry.attempt | operation={operation} | attempt={n}");
    let caller = Some("caller | id=1".to_string());
    let expected: Vec<_> = [
        ("caller | id=1".to_string(), None),
        (span(1), caller.clone()),
        (span(2), caller.clone()),
        (span(3), caller),
    ]
    .into();
    assert_eq!(logs.spans(), expected, "{form}");
    // Every attempt's span is closed, in order, and the caller's last:
    // none is left open by the call. The two that failed are marked so,
    // with the fields an OpenTelemetry exporter makes the span's status
    // of; the one that succeeded has none of them.
    let failed = |n: u32| {
        format!(
            "{} | error_kind={KIND} | otel.status_code=ERROR | otel.status_description=timed out",
            span(n)
        )
    };
    assert_eq!(
        logs.closed_spans(),
        [failed(1), failed(2), span(3), "caller | id=1".to_string()],
        "{form}: closed"
    );
    for (n, line) in [
        (1, format!("retrying {operation} after attempt 1/3")),
        (2, format!("retrying {operation} after attempt 2/3")),
        (3, format!("{operation} succeeded on attempt 3")),
    ] {
        assert_eq!(logs.span_of(&line), Some(span(n)), "{form}: {line}");
    }
}

#[test]
fn each_attempt_runs_in_its_span_in_every_form() {
    let functional = TRACED.with_name("functional");
    let forms: [(&str, &str, &dyn Fn()); 6] = [
        ("call", "functional", &|| {
            drop(functional.retry(step).call())
        }),
        ("detailed", "functional", &|| {
            drop(functional.retry(step).detailed().call())
        }),
        ("await", "functional", &|| {
            drop(block_on(async { functional.retry(step_async).await }))
        }),
        ("#[retry]", "annotated", &|| drop(annotated())),
        ("#[retry] guarded", "annotated_guarded", &|| {
            drop(annotated_guarded())
        }),
        ("#[retry] async", "annotated_async", &|| {
            drop(block_on(annotated_async()))
        }),
    ];
    for (form, operation, run) in forms {
        let logs = traced(run);
        assert_three_attempt_spans(&logs, operation, form);
    }
}

#[test]
fn no_attempt_spans_by_default() {
    let plain = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(S));
    let forms: [&dyn Fn(); 2] = [&|| drop(plain.retry(step).call()), &|| {
        drop(annotated_without())
    }];
    for run in forms {
        let logs = traced(run);
        assert_eq!(logs.spans(), [("caller | id=1".to_string(), None)]);
        assert_eq!(
            logs.span_of("succeeded on attempt 3").as_deref(),
            Some("caller | id=1")
        );
    }
}

/// The span is entered only between awaits: the future stays `Send`.
#[test]
fn an_async_function_with_attempt_spans_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let fut = annotated_async();
    assert_send(&fut);
    let functional = TRACED.with_name("functional");
    assert_send(&std::future::IntoFuture::into_future(
        functional.retry(step_async),
    ));
}

/// A run without attempt spans inside an attempt's span leaves that span
/// alone: its own failure, retried to a success, is not the attempt's.
#[test]
fn an_inner_run_without_spans_does_not_mark_the_outer_attempt() {
    let inner = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(S))
        .with_name("inner")
        .with_nested(Nested::Retry);
    let outer = TRACED.with_name("outer");
    let logs = traced(&|| {
        fail(1, TimedOut);
        drop(outer.retry(|| inner.retry(step).call()).call())
    });
    assert_eq!(
        logs.span_of("retrying inner after attempt 1/3"),
        Some("retry.attempt | operation=outer | attempt=1".to_string())
    );
    assert_eq!(
        logs.closed_spans(),
        [
            "retry.attempt | operation=outer | attempt=1".to_string(),
            "caller | id=1".to_string()
        ]
    );
}

/// The runs that make no span of their own do not mark the attempt they
/// run in, even when their policy has attempt spans on: the tower layer
/// retrying a 503 to a 200, `Policy::report` of a job's retry, and a run
/// whose breaker turns its retry away after the wait (its give-up comes
/// before any span of its next attempt). Each ran inside an outer attempt
/// that succeeded: that attempt's span stays unmarked. (Each marked it
/// failed, its status an error, when the mark followed the policy alone.)
#[test]
fn runs_without_a_span_of_their_own_do_not_mark_the_attempt_they_run_in() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use tower::{Layer, ServiceExt};

    static ANSWERS: AtomicU32 = AtomicU32::new(0);
    static REFUSING: CircuitBreaker = CircuitBreaker::new("spans_refusing");
    fn trip(_: &retry_runtime::RetryEvent<'_>) {
        REFUSING.force_open();
    }
    let outer = TRACED.with_name("outer");
    let spanned = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT)
        .with_nested(Nested::Retry)
        .with_attempt_spans(true);
    let unmarked = [
        "retry.attempt | operation=outer | attempt=1".to_string(),
        "caller | id=1".to_string(),
    ];
    let forms: [(&str, &dyn Fn()); 3] = [
        ("the tower layer", &|| {
            let layered: &'static Policy<RetryOn> =
                Box::leak(Box::new(spanned.with_name("layered")));
            ANSWERS.store(0, Ordering::SeqCst);
            let out = outer.retry(|| {
                let svc = tower::service_fn(|_: http::Request<String>| async {
                    let status = if ANSWERS.fetch_add(1, Ordering::SeqCst) == 0 {
                        503
                    } else {
                        200
                    };
                    Ok::<_, io::Error>(http::Response::builder().status(status).body(()).unwrap())
                });
                let layer = retry_runtime::tower::RetryLayer::new(layered);
                let get = http::Request::get("/feed").body(String::new()).unwrap();
                let response = block_on(layer.layer(svc).oneshot(get))
                    .map_err(|_| io::Error::from(TimedOut))?;
                Ok::<_, io::Error>(response.status().as_u16())
            });
            assert_eq!(out.call().unwrap(), 200);
        }),
        ("Policy::report", &|| {
            let job = spanned.with_name("job");
            let out = outer.retry(|| {
                let error = io::Error::from(TimedOut);
                job.report(0, &error, job.decide(0, &error));
                Ok::<_, io::Error>(1)
            });
            assert_eq!(out.call().unwrap(), 1);
        }),
        ("a retry the breaker turns away after the wait", &|| {
            REFUSING.reset();
            let guarded = spanned
                .with_name("guarded")
                .with_circuit(&REFUSING)
                .with_before_sleep(trip);
            let out = outer.retry(|| {
                let inner = guarded
                    .retry(|| Err::<u32, _>(io::Error::from(TimedOut)))
                    .call();
                assert!(inner.is_err());
                Ok::<_, io::Error>(0)
            });
            assert_eq!(out.call().unwrap(), 0);
        }),
    ];
    // (every form checked before the verdict: each says what it marked)
    let mut marked = Vec::new();
    for (form, run) in forms {
        let logs = traced(run);
        let outer_spans: Vec<String> = logs
            .closed_spans()
            .into_iter()
            .filter(|s| s.contains("operation=outer") || s.starts_with("caller"))
            .collect();
        if outer_spans != unmarked {
            marked.push((form, outer_spans));
        }
    }
    assert!(marked.is_empty(), "{marked:#?}");
}

static POLLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn not_yet(v: &Option<u32>) -> bool {
    v.is_none()
}

/// Polls until a value: a timeout, then an empty answer, then one.
#[retry(
    attempts = 3,
    backoff = "fixed(1s)",
    retry_on = Timeout,
    retry_if_ok = not_yet,
    attempt_spans = true
)]
fn poll_ready() -> io::Result<Option<u32>> {
    match POLLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
        0 => Err(io::Error::from(TimedOut)),
        1 => Ok(None),
        _ => Ok(Some(7)),
    }
}

/// A result `retry_if_ok` rejected is no error: its attempt's span is not
/// marked failed (a poll-until-ready loop would put every poll into a
/// trace backend's error rate); the timeout before it is.
#[test]
fn an_ok_rejected_by_retry_if_ok_does_not_mark_its_span() {
    POLLS.store(0, std::sync::atomic::Ordering::SeqCst);
    let logs = traced(&|| assert_eq!(poll_ready().unwrap(), Some(7)));
    let span = |n: u32| format!("retry.attempt | operation=poll_ready | attempt={n}");
    assert_eq!(
        logs.closed_spans(),
        [
            format!(
                "{} | error_kind={KIND} | otel.status_code=ERROR | otel.status_description=timed out",
                span(1)
            ),
            span(2),
            span(3),
            "caller | id=1".to_string()
        ]
    );
}

/// Hangs past any timeout put around it.
#[retry(attempts = 3, backoff = "fixed(1s)", attempt_spans = true)]
async fn hangs() -> io::Result<u32> {
    tokio::time::sleep(std::time::Duration::from_secs(3_600)).await;
    Ok(1)
}

/// A call dropped while its attempt runs (a timeout around it, a client
/// gone) records `cancelled = true` on that attempt's span, its status
/// unset, in `#[retry]` and in the functional form, as a hedged call's
/// losers do; a panic unwinding through a sync attempt is no cancel.
#[tokio::test(start_paused = true)]
async fn an_attempt_dropped_with_its_call_says_it_was_cancelled() {
    use std::time::Duration;
    let cancelled =
        |op: &str| format!("retry.attempt | operation={op} | attempt=1 | cancelled=true");

    let logs = testkit::capture::capture();
    assert!(tokio::time::timeout(Duration::from_millis(50), hangs())
        .await
        .is_err());
    assert_eq!(logs.closed_spans(), [cancelled("hangs")], "#[retry]");

    let logs = testkit::capture::capture();
    let functional = TRACED.with_name("functional");
    let call = functional.retry(|| async {
        tokio::time::sleep(Duration::from_secs(3_600)).await;
        Ok::<_, io::Error>(1)
    });
    assert!(tokio::time::timeout(Duration::from_millis(50), call)
        .await
        .is_err());
    assert_eq!(logs.closed_spans(), [cancelled("functional")], ".await");

    let logs = testkit::capture::capture();
    let panicked = std::panic::catch_unwind(|| {
        let _ = annotated_panics();
    });
    assert!(panicked.is_err());
    assert_eq!(
        logs.closed_spans(),
        ["retry.attempt | operation=annotated_panics | attempt=1"],
        "a panic"
    );
}

#[retry(attempts = 3, backoff = "fixed(1s)", attempt_spans = true)]
fn annotated_panics() -> io::Result<u32> {
    panic!("a bug in the attempt")
}

/// Fails with an error `retry_on` does not retry.
#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Timeout, attempt_spans = true)]
fn not_found() -> io::Result<u32> {
    Err(io::Error::from(io::ErrorKind::NotFound))
}

/// An error the policy does not retry marks its attempt's span as one it
/// retries does: a 404 that ends the call at once is an error in a trace,
/// in `#[retry]` and the functional form, as in a hedged call. (Only the
/// hedged call marked it: the sequential runs took the breaker's neutral
/// outcome for "no error".)
#[test]
fn a_non_retriable_error_marks_its_span() {
    let marked = |op: &str| {
        format!(
            "retry.attempt | operation={op} | attempt=1 | error_kind=Permanent \
             | otel.status_code=ERROR | otel.status_description=entity not found"
        )
    };
    let logs = traced(&|| assert!(not_found().is_err()));
    assert_eq!(
        logs.closed_spans(),
        [marked("not_found"), "caller | id=1".to_string()],
        "#[retry]"
    );
    let functional = TRACED.with_name("functional");
    let logs = traced(&|| {
        let out = functional
            .retry(|| Err::<u32, _>(io::Error::from(io::ErrorKind::NotFound)))
            .call();
        assert!(out.is_err());
    });
    assert_eq!(
        logs.closed_spans(),
        [marked("functional"), "caller | id=1".to_string()],
        ".call()"
    );
}

/// A sync attempt's span closes before the backoff's sleep, as an async
/// one's does: its time is the attempt's and the decision's. (The sync
/// forms kept it open through the sleep: a failed attempt's span lasted
/// its backoff too, seconds of it in a trace.) A sleeper of the call's
/// looks at the spans closed when it is called; `#[retry]`'s sync loop
/// drops the span before its sleep too (its expansion snapshot).
#[test]
fn a_sync_attempt_span_closes_before_the_sleep() {
    use std::cell::RefCell;
    let functional = TRACED.with_name("functional");
    let first = "retry.attempt | operation=functional | attempt=1 | error_kind=Timeout \
                 | otel.status_code=ERROR | otel.status_description=timed out";
    for detailed in [false, true] {
        let _paused = testing::pause();
        fail(1, TimedOut);
        let logs = capture();
        let closed_when_sleeping = RefCell::new(Vec::new());
        let sleeper = |_: std::time::Duration| {
            closed_when_sleeping.borrow_mut().push(logs.closed_spans());
        };
        tracing::info_span!("caller", id = 1).in_scope(|| {
            let retry = functional.retry(step).sleep_with(sleeper);
            if detailed {
                drop(retry.detailed().call());
            } else {
                drop(retry.call());
            }
        });
        assert_eq!(
            closed_when_sleeping.into_inner(),
            [[first]],
            "detailed: {detailed}"
        );
    }
}

/// A run whose own attempt span the subscriber turned off marks nothing:
/// not the span around it, another run's attempt, which a failure it then
/// retried to a success is not. Here a filter keeps one attempt span per
/// call (none inside another attempt's), the inner run sync, hedged, or an
/// async `#[retry]` loop's. (The outer attempt was marked failed with the
/// inner run's error.)
#[test]
fn a_run_whose_span_is_turned_off_marks_none() {
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
    use tracing_subscriber::registry::LookupSpan;

    /// The names of the fields recorded on spans after they were made.
    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<Vec<String>>>);
    struct Names<'a>(&'a mut Vec<String>);
    impl Visit for Names<'_> {
        fn record_debug(&mut self, field: &Field, _: &dyn std::fmt::Debug) {
            self.0.push(field.name().to_string());
        }
    }
    impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorded {
        fn on_record(
            &self,
            _: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            _: Context<'_, S>,
        ) {
            values.record(&mut Names(&mut self.0.lock().unwrap()));
        }
    }

    drop(capture()); // (the quiet global subscriber: callsites stay `sometimes`)
    let outer = TRACED.with_name("outer");
    // (its own retries: not left to the outer run)
    let inner = TRACED.with_name("inner").with_nested(Nested::Retry);
    let runs: [(&str, &dyn Fn() -> io::Result<u32>); 3] = [
        ("sync", &|| inner.retry(step).call()),
        ("hedged", &|| {
            block_on(inner.retry(|| async { step() }).hedged())
        }),
        ("#[retry]", &|| block_on(annotated_inner())),
    ];
    for (form, run) in runs {
        let recorded = Recorded::default();
        let one_attempt_span_per_call =
            tracing_subscriber::filter::dynamic_filter_fn(|meta, cx| {
                !(meta.name() == "retry.attempt"
                    && cx
                        .lookup_current()
                        .is_some_and(|s| s.name() == "retry.attempt"))
            });
        let subscriber = tracing_subscriber::registry()
            .with(one_attempt_span_per_call)
            .with(recorded.clone());
        let _paused = testing::pause();
        tracing::subscriber::with_default(subscriber, || {
            let out = outer
                .retry(|| {
                    fail(1, TimedOut);
                    run()
                })
                .call();
            assert_eq!(out.unwrap(), 7, "{form}");
        });
        assert_eq!(*recorded.0.lock().unwrap(), Vec::<String>::new(), "{form}");
    }
}

#[retry(
    attempts = 3,
    backoff = "fixed(1s)",
    retry_on = Timeout,
    attempt_spans = true,
    nested = "retry"
)]
async fn annotated_inner() -> io::Result<u32> {
    step_async().await
}

/// A policy with attempt spans on, run by hand inside another run's
/// decision (a `Run` in a `retry_if_ok` or `retry_if` predicate), makes no
/// span and marks none: only the run that made the attempt's span marks it.
const INNER_BY_HAND: Policy<RetryOn> = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::None)
    .retry_on(KindSet::TRANSIENT)
    .with_name("by_hand")
    .with_attempt_spans(true);

/// A predicate that asks something through a `Run` whose first try fails.
fn consulted(kind: io::ErrorKind) {
    let mut run = retry_runtime::Run::new(&INNER_BY_HAND);
    let _ = run.failed(&io::Error::from(kind));
    run.succeeded();
}

fn zero_after_asking(v: &u32) -> bool {
    consulted(io::ErrorKind::ConnectionReset);
    *v == 0
}

#[retry(attempts = 2, backoff = "none", retry_if_ok = zero_after_asking, attempt_spans = true)]
fn asks_while_deciding() -> io::Result<u32> {
    Ok(7)
}

fn timed_out_after_asking(e: &io::Error) -> bool {
    consulted(io::ErrorKind::ConnectionReset);
    e.kind() == TimedOut
}

/// The runs inside the outer run's decision (its predicates') marked the
/// outer attempt: an accepted `Ok` red with the inner error, a timeout
/// shown as the inner `connection reset`.
#[test]
fn a_run_inside_the_decision_does_not_mark_the_attempt() {
    let logs = traced(&|| assert_eq!(asks_while_deciding().unwrap(), 7));
    assert_eq!(
        logs.closed_spans(),
        [
            "retry.attempt | operation=asks_while_deciding | attempt=1".to_string(),
            "caller | id=1".to_string()
        ],
        "retry_if_ok"
    );
    let classified = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_if(timed_out_after_asking)
        .with_attempt_spans(true)
        .with_name("classified");
    let logs = traced(&|| {
        fail(1, TimedOut);
        assert_eq!(classified.retry(step).call().unwrap(), 7);
    });
    assert_eq!(
        logs.closed_spans(),
        [
            "retry.attempt | operation=classified | attempt=1 | error_kind=unclassified \
             | otel.status_code=ERROR | otel.status_description=timed out"
                .to_string(),
            "retry.attempt | operation=classified | attempt=2".to_string(),
            "caller | id=1".to_string()
        ],
        "retry_if"
    );
}

/// What an async attempt logs itself, as its future is polled, is in the
/// attempt's span too (`.await`), not only the lines about the attempt.
#[test]
fn an_async_attempts_own_lines_are_in_its_span() {
    let polled = TRACED.with_name("polled");
    let calls = std::sync::atomic::AtomicU32::new(0);
    let logs = traced(&|| {
        let attempt = || async {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            tracing::info!("attempt {n} polled");
            step_async().await
        };
        drop(block_on(async { polled.retry(attempt).await }))
    });
    for n in 1..=3 {
        assert_eq!(
            logs.span_of(&format!("attempt {n} polled")),
            Some(format!("retry.attempt | operation=polled | attempt={n}")),
        );
    }
}
