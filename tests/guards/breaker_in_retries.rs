//! A circuit breaker attached to a policy: what the run records, when it
//! stops retrying, what the guarded executors return when the breaker is open
//! (without calling), what the plain executors do, the callbacks and log
//! lines, and the default clock under tokio's paused clock and `testing::pause`.

use testkit::capture as support;

use std::cell::RefCell;
use std::time::Duration;

use retry_runtime::circuit::{CircuitBreaker, CircuitOpen, CircuitState};
use retry_runtime::{
    kinds, testing, Backoff, Decision, GiveUpEvent, KindSet, Policy, RetryError, RetryOn, Run,
    StopReason, WithCircuit,
};
use testkit::calls::ok_on_call;
use tracing::Level;

use crate::upstream::{breaker, timing_out, CallError};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn policy(b: &'static CircuitBreaker) -> Policy<RetryOn, WithCircuit> {
    Policy::new()
        .with_max_attempts(10)
        .with_backoff(Backoff::fixed(s(1)))
        .retry_on(KindSet::TRANSIENT)
        .with_name("fetch_clip")
        .with_circuit(b)
}

/// Runs [`timing_out`] under `p` (detailed, sync) until it gives up: the
/// error, and the number of calls made.
fn gives_up(p: &Policy<RetryOn, WithCircuit>) -> (RetryError<CallError>, u32) {
    let mut calls = 0;
    let e = p
        .retry(timing_out(&mut calls))
        .detailed()
        .call()
        .unwrap_err();
    (e, calls)
}

thread_local! {
    static GAVE_UP: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn record_give_up(ev: &GiveUpEvent<'_>) {
    let line = format!(
        "{} after {} ({:?}, {:?}): {}",
        ev.operation, ev.attempts, ev.reason, ev.kind, ev.error
    );
    GAVE_UP.with(|g| g.borrow_mut().push(line));
}

#[test]
fn only_retriable_errors_count_as_failures() {
    let (b, _) = breaker(|b| b.with_failures(2));
    let p = policy(b);
    let _paused = testing::pause();
    for _ in 0..20 {
        let r: Result<(), _> = p.retry(|| Err(CallError::NotFound)).call();
        assert_eq!(r, Err(CallError::NotFound));
    }
    assert_stats!(b; state: CircuitState::Closed, neutral: 20, failures: 0);

    let mut calls = 0;
    let r: Result<(), _> = p.retry(timing_out(&mut calls)).call();
    assert_eq!((r, calls), (Err(CallError::Timeout), 2));
    assert_eq!(b.state(), CircuitState::Open);
}

#[test]
fn a_run_stops_retrying_when_its_breaker_opens_and_returns_the_last_error() {
    let (b, _) = breaker(|b| b.with_failures(3));
    let paused = testing::pause();
    let (e, calls) = gives_up(&policy(b));
    assert_eq!(calls, 3); // of 10 allowed
    assert_eq!((e.attempts, e.reason), (3, StopReason::CircuitOpen));
    assert_eq!(e.last_error, CallError::Timeout); // the real error, not the rejection
    assert_eq!(paused.waits(), [s(1), s(1)]); // no sleep before giving up
}

#[test]
fn an_open_breaker_rejects_without_calling() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_recovery(s(30)));
    let p = policy(b).with_on_give_up(record_give_up);
    let _paused = testing::pause();
    let _ = p.retry(|| Err::<(), _>(CallError::Timeout)).call();
    GAVE_UP.with(|g| g.borrow_mut().clear());

    clock.advance(s(10));
    let mut calls = 0;
    let e = p
        .retry(|| {
            calls += 1;
            Ok::<_, CallError>(())
        })
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(calls, 0);
    assert_eq!((e.attempts, e.reason), (0, StopReason::CircuitOpen));
    assert_eq!(
        e.last_error,
        CallError::Open(CircuitOpen::new("upstream", s(20)))
    );
    assert_eq!(
        e.last_error.to_string(),
        "circuit `upstream` is open; retry after 20s"
    );
    assert_eq!(
        e.to_string(),
        "fetch_clip not attempted (circuit open): circuit `upstream` is open; retry after 20s"
    );
    assert_eq!(
        GAVE_UP.with(|g| g.take()),
        ["fetch_clip after 0 (CircuitOpen, Some(Unavailable)): circuit `upstream` is open; retry after 20s"]
    );
    assert_eq!(b.stats().rejected, 1);
}

#[test]
fn after_the_recovery_timeout_a_probe_call_closes_it() {
    let (b, clock) = breaker(|b| b.with_failures(1));
    let p = policy(b);
    let _paused = testing::pause();
    let _ = p.retry(|| Err::<(), _>(CallError::Timeout)).call();
    clock.advance(s(30));
    let r = p.retry(|| Ok::<_, CallError>("clip")).call();
    assert_eq!(r, Ok("clip"));
    assert_eq!(b.state(), CircuitState::Closed);
    // a failed probe ends the run at once: no retry against an open breaker
    let _ = p.retry(|| Err::<(), _>(CallError::Timeout)).call();
    clock.advance(s(30));
    let (e, calls) = gives_up(&p);
    assert_eq!(
        (calls, e.reason, e.last_error),
        (1, StopReason::CircuitOpen, CallError::Timeout)
    );
    assert_eq!(b.state(), CircuitState::Open);
}

/// One behaviour whatever the form: the plain and detailed forms, sync and
/// async, all ask the breaker before the first attempt too (there used to be
/// plain executors that only recorded, and so called an open dependency).
#[tokio::test(start_paused = true)]
async fn every_form_asks_the_breaker_before_the_first_attempt() {
    let (b, clock) = breaker(|b| b.with_failures(2));
    let p = policy(b);
    let _paused = testing::pause();
    let (e, calls) = gives_up(&p);
    assert_eq!((calls, e.reason), (2, StopReason::CircuitOpen));
    assert_eq!(b.state(), CircuitState::Open);

    // open: no form makes the call
    let mut calls = 0;
    let plain = p.retry(timing_out(&mut calls)).call();
    assert!(matches!(plain, Err(CallError::Open(_))), "{plain:?}");
    let e = p
        .retry(timing_out(&mut calls))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (0, StopReason::CircuitOpen));
    let r = p.retry(|| async { Ok::<_, CallError>(1) }).await;
    assert!(matches!(r, Err(CallError::Open(_))), "{r:?}");
    assert_eq!(calls, 0);
    let st = b.stats();
    assert_eq!((st.rejected, st.failures, st.permitted), (3, 2, 2));

    // after the recovery timeout the next call is the probe
    clock.advance(s(30));
    assert_eq!(p.retry(|| Ok::<_, CallError>(1)).call(), Ok(1));
    assert_eq!(b.state(), CircuitState::Closed);
}

#[test]
fn a_rejected_ok_value_is_neutral() {
    let (b, _) = breaker(|b| b.with_failures(1));
    let p = policy(b).with_max_attempts(3);
    let mut run = Run::new(&p);
    run.before_attempt::<CircuitOpen>().unwrap();
    assert!(matches!(run.rejected(), Decision::Retry { .. }));
    run.before_attempt::<CircuitOpen>().unwrap();
    run.succeeded();
    assert_stats!(b; state: CircuitState::Closed, neutral: 1, successes: 1);
}

/// A hand-driven run dropped between `before_attempt` and the outcome (the
/// loop's `?` returned early, or the call panicked) tells the breaker of an
/// attempt made with no outcome: a half-open breaker's probe slot is free
/// for the next run at once, not after another recovery timeout.
#[test]
fn a_run_dropped_holding_a_probe_gives_its_slot_back() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_recovery(s(30)));
    let p = policy(b).with_max_attempts(1);
    assert!(p.retry(|| Err::<(), _>(CallError::Timeout)).call().is_err());
    assert_eq!(b.state(), CircuitState::Open);
    clock.advance(s(30));
    let mut run = Run::new(&p);
    run.before_attempt::<CircuitOpen>().unwrap();
    drop(run);
    assert_stats!(b; state: CircuitState::HalfOpen, probes_let_through: 0, neutral: 1);
    let mut next = Run::new(&p);
    next.before_attempt::<CircuitOpen>()
        .expect("the dropped run's probe slot is free");
    next.succeeded();
    assert_eq!(b.state(), CircuitState::Closed);
}

#[test]
fn a_run_without_before_attempt_still_records() {
    // what a hand-written loop (or generated code without `circuit = ...`) does
    let (b, _) = breaker(|b| b.with_failures(2));
    let p = policy(b);
    let mut run = Run::new(&p);
    assert!(matches!(
        run.failed(&CallError::Timeout),
        Decision::Retry { .. }
    ));
    assert_eq!(
        run.failed(&CallError::Timeout),
        Decision::give_up(StopReason::CircuitOpen)
    );
    assert_eq!(b.stats().failures, 2);
}

#[test]
fn giving_up_on_an_open_circuit_is_logged_rejections_only_at_debug() {
    let logs = support::capture();
    let (b, _) = breaker(|b| b.with_failures(2));
    let p = policy(b);
    let _paused = testing::pause();
    let _ = p.retry(|| Err::<(), _>(CallError::Timeout)).call();
    logs.assert_logged(Level::WARN, "retrying fetch_clip after attempt 1/10 failed");
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` opened after 2 consecutive failures",
    );
    let line = logs.assert_logged(
        Level::ERROR,
        "fetch_clip failed after 2 attempts (circuit open)",
    );
    support::assert_fields(
        &line,
        &[
            ("reason", "circuit open"),
            ("error", "upstream timed out"),
            ("error_kind", "Timeout"),
        ],
    );

    let _ = p.retry(|| Ok::<_, CallError>(())).call();
    let line = logs.assert_logged(
        Level::DEBUG,
        "fetch_clip not attempted: circuit `upstream` is open",
    );
    support::assert_fields(
        &line,
        &[("operation", "fetch_clip"), ("circuit", "upstream")],
    );
    assert_eq!(logs.at(Level::ERROR).len(), 1);
}

/// `on_give_up` for [`a_retry_refused_after_the_wait_gives_up_at_error`]:
/// a line of its own, to show that it ran after the give-up line.
fn log_give_up(ev: &GiveUpEvent<'_>) {
    tracing::info!("on_give_up: {} after {}", ev.reason, ev.attempts);
}

/// A breaker that opens during the wait turns the retry away when it is
/// due: the run gives up as when it opened before the wait, with the ERROR
/// line `failed after 1 attempt (circuit open)` and then `on_give_up`,
/// sync and async (it said only `not attempted`, at DEBUG, so a WARN
/// filter saw a retry announced and nothing after it).
#[test]
fn a_retry_refused_after_the_wait_gives_up_at_error() {
    /// Another caller's failure, during the wait, opens `b` (2 failures).
    fn opener(b: &'static CircuitBreaker) -> impl FnMut(&retry_runtime::RetryEvent<'_>) {
        move |_| {
            let permit = b.try_acquire().unwrap();
            b.record(permit, retry_runtime::circuit::Outcome::Failure);
        }
    }
    fn check(logs: &support::Captured, e: RetryError<CallError>, calls: u32) {
        assert_eq!(calls, 1);
        assert_eq!((e.attempts, e.reason), (1, StopReason::CircuitOpen));
        assert!(matches!(e.last_error, CallError::Open(_)), "{e:?}");
        let line = logs.assert_logged(
            Level::ERROR,
            "fetch_clip failed after 1 attempt (circuit open)",
        );
        support::assert_fields(
            &line,
            &[
                ("attempt", "1"),
                ("max_attempts", "10"),
                ("reason", "circuit open"),
                ("error", "circuit `upstream` is open; retry after 30s"),
                ("error_kind", "Unavailable"),
            ],
        );
        logs.assert_not_logged("not attempted");
        let lines = logs.lines();
        let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
        assert!(at("failed after 1 attempt") < at("on_give_up: circuit open after 1"));
    }
    let _paused = testing::pause();

    let logs = support::capture();
    let (b, _) = breaker(|b| b.with_failures(2).with_recovery(s(30)));
    let p = policy(b).with_on_give_up(log_give_up);
    let mut calls = 0;
    let e = p
        .retry(timing_out(&mut calls))
        .notify(opener(b))
        .detailed()
        .call()
        .unwrap_err();
    check(&logs, e, calls);

    let logs = support::capture();
    let (b, _) = breaker(|b| b.with_failures(2).with_recovery(s(30)));
    let p = policy(b).with_on_give_up(log_give_up);
    let mut calls = 0;
    let e = on_paused_tokio(async {
        p.retry(|| {
            calls += 1;
            async { Err::<(), _>(CallError::Timeout) }
        })
        .notify(opener(b))
        .detailed()
        .await
        .unwrap_err()
    });
    check(&logs, e, calls);
}

/// The same race under a hedged run: it keeps its errors across awaits, so
/// it gives up with the last attempt's error (docs/breaker-and-budget.md, "Circuit breaker and
/// retry budget", `Policy::with_circuit`), where the sequential run returns
/// the rejection; both say `CircuitOpen`.
#[test]
fn a_hedged_retry_refused_after_the_wait_returns_the_last_error() {
    let (b, _) = breaker(|b| b.with_failures(2).with_recovery(s(30)));
    let p = policy(b);
    let mut calls = 0;
    let e = on_paused_tokio(async {
        p.retry(|| {
            calls += 1;
            async { Err::<(), _>(CallError::Timeout) }
        })
        .notify(move |_: &retry_runtime::RetryEvent<'_>| {
            let permit = b.try_acquire().unwrap();
            b.record(permit, retry_runtime::circuit::Outcome::Failure);
        })
        .detailed()
        .hedged()
        .await
        .unwrap_err()
    });
    assert_eq!(calls, 1);
    assert_eq!((e.attempts, e.reason), (1, StopReason::CircuitOpen));
    assert!(matches!(e.last_error, CallError::Timeout), "{e:?}");
}

/// Runs `fut` on a current-thread tokio runtime with its clock paused.
fn on_paused_tokio<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(fut)
}

#[test]
fn io_errors_hold_a_rejection() {
    let (b, _) = breaker(|b| b.with_failures(1));
    let p = Policy::new()
        .with_max_attempts(2)
        .retry_on(kinds![Timeout])
        .with_circuit(b);
    let _paused = testing::pause();
    let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);
    let _ = p.retry(|| Err::<(), _>(timed_out())).call();
    let e = p.retry(|| Ok::<_, std::io::Error>(())).call().unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ResourceBusy);
    assert!(e.to_string().starts_with("circuit `upstream` is open"));
}

/// A rejection that reached an outer retry as an `io::Error` (the
/// function's error type, `From<CircuitOpen>`): a policy that honours
/// Retry-After for `Unavailable` waits what the breaker said, not its backoff.
#[test]
fn an_outer_retry_waits_for_a_rejection_in_an_io_error() {
    let paused = testing::pause();
    let rejected = || std::io::Error::from(CircuitOpen::new("upstream", s(7)));
    let e = retry_runtime::presets::API
        .retry(|| Err::<(), _>(rejected()))
        .call()
        .unwrap_err();
    assert_eq!(paused.waits(), [s(7), s(7)]);
    let open = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<CircuitOpen>());
    assert_eq!(open.map(|o| o.retry_after), Some(s(7)));
}

#[test]
fn without_a_breaker_guarded_is_plain() {
    let p = Policy::new().with_max_attempts(3);
    let _paused = testing::pause();
    let r = p.retry(ok_on_call(3, || CallError::Timeout)).call();
    assert_eq!(r, Ok(3));
    let mut run = Run::new(&p);
    assert_eq!(run.before_attempt::<CircuitOpen>(), Ok(()));
}

/// A rejection's wait on the default clock: `at_least`, and at most a
/// millisecond more. (Its readings have fractions of a millisecond, and
/// the breaker keeps whole ones, rounded so that it never lets a probe
/// through early: waiting as told is always enough.)
fn assert_within_a_ms_over(retry_after: Duration, at_least: Duration) {
    assert!(
        retry_after >= at_least && retry_after <= at_least + Duration::from_millis(1),
        "{retry_after:?}"
    );
}

#[test]
fn the_default_clock_follows_testing_pause() {
    static UPSTREAM: CircuitBreaker = CircuitBreaker::new("sync-upstream").with_failures(1);
    let p = policy(&UPSTREAM);
    let _paused = testing::pause();
    let _ = p.retry(|| Err::<(), _>(CallError::Timeout)).call();
    let Err(CallError::Open(open)) = p.retry(|| Ok::<_, CallError>(())).call() else {
        panic!("rejected");
    };
    assert_within_a_ms_over(open.retry_after, s(30));
    retry_runtime::sleep::sleep_sync(open.retry_after); // virtual
    assert!(p.retry(|| Ok::<_, CallError>(())).call().is_ok());
    assert_eq!(UPSTREAM.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_default_clock_follows_tokios_paused_clock() {
    static UPSTREAM: CircuitBreaker = CircuitBreaker::new("async-upstream").with_failures(2);
    let p = policy(&UPSTREAM);
    let start = tokio::time::Instant::now();
    let mut calls = 0;
    let e = p
        .retry(|| {
            calls += 1;
            async { Err::<(), _>(CallError::Timeout) }
        })
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((calls, e.reason), (2, StopReason::CircuitOpen));
    assert_eq!(start.elapsed(), s(1)); // one backoff wait

    tokio::time::advance(s(29)).await; // opened 29s ago
    let e = p
        .retry(|| async { Ok::<_, CallError>(()) })
        .await
        .unwrap_err();
    let CallError::Open(open) = e else {
        panic!("rejected: {e:?}")
    };
    assert_eq!(open.circuit, "async-upstream");
    assert_within_a_ms_over(open.retry_after, s(1));
    tokio::time::advance(open.retry_after).await;
    let r = p.retry(|| async { Ok::<_, CallError>("probe") }).await;
    assert_eq!(r, Ok("probe"));
    assert_eq!(UPSTREAM.state(), CircuitState::Closed);
}

#[test]
fn the_policy_keeps_its_breaker_in_statics_and_debug() {
    static UPSTREAM: CircuitBreaker = CircuitBreaker::new("debug-upstream");
    static API: Policy<RetryOn, WithCircuit> = retry_runtime::presets::API.with_circuit(&UPSTREAM);
    assert_eq!(
        API.circuit().map(CircuitBreaker::name),
        Some("debug-upstream")
    );
    let dbg = format!("{API:?}");
    assert!(dbg.contains("circuit: \"debug-upstream\""), "{dbg}");
    assert!(!format!("{:?}", Policy::new()).contains("circuit"));
}

/// A 429: retried, after the wait the server asked for.
#[derive(Debug, PartialEq, thiserror::Error, retry_runtime::Classify)]
enum Limited {
    #[error("429 Too Many Requests")]
    #[classify(RateLimited)]
    TooManyRequests,
    #[error(transparent)]
    #[classify(transparent)]
    Open(#[from] CircuitOpen),
}

#[test]
fn a_rate_limit_counts_unless_the_breaker_takes_it_as_neutral() {
    let _paused = testing::pause();
    let nine_429s_then_ok = |p: &Policy<RetryOn, WithCircuit>| {
        let mut calls = 0;
        p.retry(|| {
            calls += 1;
            if calls <= 9 {
                Err(Limited::TooManyRequests)
            } else {
                Ok(calls)
            }
        })
        .call()
    };
    // by default a rate limit is a failure: two open the breaker
    let (b, _) = breaker(|b| b.with_failures(2));
    let r = nine_429s_then_ok(&policy(b));
    assert!(matches!(r, Err(Limited::TooManyRequests)), "{r:?}");
    assert_eq!(b.state(), CircuitState::Open);

    // taken as neutral: retried through, the breaker closed
    let (b, _) = breaker(|b| b.with_failures(2).with_neutral_kinds(kinds![RateLimited]));
    assert_eq!(nine_429s_then_ok(&policy(b)), Ok(10));
    assert_stats!(b; state: CircuitState::Closed, neutral: 9, failures: 0);
    // an outage still opens it
    let mut calls = 0;
    let r: Result<(), _> = policy(b).retry(timing_out(&mut calls)).call();
    assert_eq!((r, calls), (Err(CallError::Timeout), 2));
    assert_eq!(b.state(), CircuitState::Open);
}

#[test]
fn a_half_open_breaker_s_probe_answered_with_a_neutral_kind_closes_it() {
    let (b, clock) = breaker(|b| {
        b.with_failures(2)
            .with_recovery(s(30))
            .with_neutral_kinds(kinds![RateLimited])
    });
    let p = policy(b).with_max_attempts(3);
    let _paused = testing::pause();
    // open it with an outage
    let mut calls = 0;
    let _ = policy(b).retry(timing_out(&mut calls)).call();
    assert_eq!(b.state(), CircuitState::Open);
    clock.advance(s(30));
    // the probe is answered 429 then 200: the dependency answered, the
    // breaker closes, and the run goes on to its answer
    let mut calls = 0;
    let r = p
        .retry(|| {
            calls += 1;
            if calls == 1 {
                Err(Limited::TooManyRequests)
            } else {
                Ok(calls)
            }
        })
        .detailed()
        .call();
    assert_eq!(r.map(|ok| ok.value), Ok(2));
    assert_eq!(b.state(), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_hedged_call_s_rate_limits_are_neutral_to_a_breaker_that_says_so() {
    let (b, _) = breaker(|b| b.with_failures(2).with_neutral_kinds(kinds![RateLimited]));
    let p = policy(b).with_max_attempts(4).with_hedge(s(3600));
    let r: Result<(), _> = p
        .retry(|| async { Err(Limited::TooManyRequests) })
        .hedged()
        .await;
    assert!(matches!(r, Err(Limited::TooManyRequests)), "{r:?}");
    assert_stats!(b; state: CircuitState::Closed, failures: 0);
}

#[test]
fn a_neutral_kind_on_a_call_let_through_while_closed_is_neutral_though_the_breaker_is_half_open() {
    let (b, clock) = breaker(|b| {
        b.with_failures(1)
            .with_recovery(s(30))
            .with_neutral_kinds(kinds![RateLimited])
    });
    let p = policy(b).with_max_attempts(3).with_backoff(Backoff::None);
    let mut run = Run::new(&p);
    run.before_attempt::<CircuitOpen>().unwrap(); // let through while closed
                                                  // meanwhile another call opens it, the recovery passes, a probe goes out
    let mut calls = 0;
    let _ = policy(b).retry(timing_out(&mut calls)).call();
    clock.advance(s(30));
    let _probe = b.try_acquire().unwrap();
    assert_eq!(b.state(), CircuitState::HalfOpen);
    let before = b.stats();
    // the slow call is answered 429: neutral (it is no probe), not a success
    let _ = run.failed(&Limited::TooManyRequests);
    let after = b.stats();
    assert_eq!(
        (
            after.neutral - before.neutral,
            after.successes - before.successes
        ),
        (1, 0),
        "{after:?}"
    );
}

/// A policy for calls not safe to repeat retries only what was never sent
/// (`Unavailable` here), so a timeout is not retried and, by default,
/// neutral to its breaker: an outage seen through such calls never opens
/// it. `with_failure_kinds(KindSet::TRANSIENT)` counts them; a 404 stays
/// neutral, and a kind also neutral stays neutral.
#[test]
fn failure_kinds_count_errors_the_policy_leaves_alone() {
    let writes = |b| {
        Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::None)
            .retry_on(kinds![Unavailable])
            .with_name("incr")
            .with_circuit(b)
    };
    let timeouts = |p: &Policy<RetryOn, WithCircuit>, n| {
        for _ in 0..n {
            let mut calls = 0;
            let r: Result<(), _> = p.retry(timing_out(&mut calls)).call();
            assert!(
                matches!(r, Err(CallError::Timeout | CallError::Open(_))),
                "{r:?}"
            );
        }
    };
    // by default: three timeouts, not retried, neutral
    let (b, _) = breaker(|b| b.with_failures(2));
    timeouts(&writes(b), 3);
    assert_stats!(b; state: CircuitState::Closed, neutral: 3, failures: 0);
    // counted: the second opens it
    let (b, _) = breaker(|b| b.with_failures(2).with_failure_kinds(KindSet::TRANSIENT));
    timeouts(&writes(b), 2);
    assert_eq!(b.state(), CircuitState::Open);
    // a kind also neutral stays neutral
    let (b, _) = breaker(|b| {
        b.with_failures(1)
            .with_failure_kinds(KindSet::ALL)
            .with_neutral_kinds(kinds![Timeout])
    });
    timeouts(&writes(b), 2);
    assert_stats!(b; state: CircuitState::Closed, neutral: 2, failures: 0);
}

/// An attempt that made progress before it failed (`Run::progressed`: a
/// download that wrote bytes, a session that stayed up) is told to the
/// breaker as neutral: the dependency answered for a while, and the drop
/// says nothing of its health. Four downloads cut once each after
/// progress, under a breaker of 3 failures, opened it and gave up two
/// moving downloads (a walk-through's); the same drops without progress
/// still open it.
#[test]
fn a_failure_after_progress_is_neutral_to_the_breaker() {
    let (b, _) = breaker(|b| b.with_failures(3));
    let p = policy(b);
    // four downloads side by side, each cut once after progress
    let mut runs: Vec<_> = (0..4).map(|_| Run::new(&p)).collect();
    for run in &mut runs {
        run.before_attempt::<CallError>().unwrap();
        run.progressed(); // bytes written, then the connection dropped
        assert!(matches!(
            run.failed(&CallError::Timeout),
            Decision::Retry { .. }
        ));
    }
    for run in &mut runs {
        run.before_attempt::<CallError>()
            .expect("the breaker let the resume through");
        run.succeeded();
    }
    let stats = b.stats();
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(
        (stats.failures, stats.neutral, stats.successes),
        (0, 4, 4),
        "{stats:?}"
    );

    // a failure after progress is the next attempt's own: counted again
    let mut run = Run::new(&p);
    run.before_attempt::<CallError>().unwrap();
    run.progressed();
    let _ = run.failed(&CallError::Timeout);
    for _ in 0..3 {
        run.before_attempt::<CallError>().unwrap();
        let _ = run.failed(&CallError::Timeout);
    }
    assert_eq!(
        b.state(),
        CircuitState::Open,
        "three drops without progress"
    );
    assert_eq!(b.stats().failures, 3);
}
