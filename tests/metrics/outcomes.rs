//! Each outcome, counted once per call, through the five forms: the
//! functional API (`.call()`, `.detailed().call()`, `.await`) and
//! `#[retry]` (sync and async).

use std::io::{self, ErrorKind::*};

use retry_runtime::metrics::Outcome;
use retry_runtime::{retry, testing, Backoff, CircuitBreaker, KindSet, Policy, RetryBudget};

use crate::script::{assert_one_call, block_on, fail, record, step, step_async, S};

const BASE: Policy<retry_runtime::RetryOn> = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::fixed(S))
    .retry_on(KindSet::TRANSIENT);
const DEADLINE: Policy<retry_runtime::RetryOn> = BASE
    .with_max_attempts(10)
    .with_max_elapsed(std::time::Duration::from_millis(1500));

static OPENS: CircuitBreaker = CircuitBreaker::new("opens").with_failures(2);
static REFUSES: RetryBudget = RetryBudget::new("refuses")
    .with_percent(100)
    .with_max_tokens(2);

/// Per scenario: a sync and an async `#[retry]` function with these arguments.
macro_rules! annotated {
    ($sync:ident, $async_:ident: $($args:tt)*) => {
        #[retry($($args)*)]
        fn $sync() -> io::Result<u32> {
            step()
        }
        #[retry($($args)*)]
        async fn $async_() -> io::Result<u32> {
            step_async().await
        }
    };
}

annotated!(first_try, first_try_async: policy = BASE);
annotated!(after_retries, after_retries_async: policy = BASE);
annotated!(exhausted, exhausted_async: policy = BASE);
annotated!(permanent, permanent_async: policy = BASE);
annotated!(deadline, deadline_async: policy = DEADLINE);
annotated!(budget, budget_async: policy = BASE, budget = REFUSES);
annotated!(circuit, circuit_async: policy = BASE, circuit = OPENS);

/// Runs a scenario through the five forms, each with a recorder of its
/// own, after `reset`, with `fails` failures of `kind` scripted: each
/// records one call (of `name`, or `async_name` for the async `#[retry]`) with `outcome`, `attempts` and `waits`.
fn check<W, G>(
    policy: Policy<W, G>,
    annotated: [&dyn Fn(); 2],
    [name, async_name]: [&'static str; 2],
    (fails, kind): (u32, io::ErrorKind),
    (outcome, attempts, waits): (Outcome, u32, &[f64]),
    reset: fn(),
) where
    W: retry_runtime::When<io::Error> + Copy,
    G: retry_runtime::Admission<io::Error>,
{
    let policy = policy.with_name(name);
    let forms: [(&str, &str, &dyn Fn()); 5] = [
        ("call", name, &|| drop(policy.retry(step).call())),
        ("detailed", name, &|| {
            drop(policy.retry(step).detailed().call())
        }),
        ("await", name, &|| {
            drop(block_on(async { policy.retry(step_async).await }))
        }),
        ("#[retry]", name, annotated[0]),
        ("#[retry] async", async_name, annotated[1]),
    ];
    for (form, name, run) in forms {
        reset();
        let _paused = testing::pause();
        fail(fails, kind);
        let (rec, ()) = record(run);
        assert_one_call(&rec, name, outcome, attempts, waits, form);
        // every retried failure under the script's kind
        let kind = retry_runtime::Classify::kind(&io::Error::from(kind)).name();
        let labels = [("operation", name), ("error_kind", kind)];
        let retried = rec.counter(retry_runtime::metrics::RETRIED_FAILURES, &labels);
        assert_eq!(retried, waits.len() as u64, "{form}: {kind} retried");
    }
}

fn nothing() {}

/// One test per outcome: the five forms of `$sync`'s scenario.
macro_rules! scenario {
    ($sync:ident, $async_:ident, $policy:expr, $script:expr, $expect:expr, $reset:expr) => {
        #[test]
        fn $sync() {
            super::check(
                $policy,
                [&|| drop(super::$sync()), &|| {
                    drop(super::block_on(super::$async_()))
                }],
                [stringify!($sync), stringify!($async_)],
                $script,
                $expect,
                $reset,
            );
        }
    };
}

mod each_outcome {
    use super::*;

    scenario!(
        first_try,
        first_try_async,
        BASE,
        (0, TimedOut),
        (Outcome::SucceededFirstTry, 1, &[]),
        nothing
    );
    scenario!(
        after_retries,
        after_retries_async,
        BASE,
        (2, TimedOut),
        (Outcome::SucceededAfterRetries, 3, &[1.0, 1.0]),
        nothing
    );
    scenario!(
        exhausted,
        exhausted_async,
        BASE,
        (5, TimedOut),
        (Outcome::AttemptsExhausted, 3, &[1.0, 1.0]),
        nothing
    );
    scenario!(
        permanent,
        permanent_async,
        BASE,
        (1, NotFound),
        (Outcome::PermanentError, 1, &[]),
        nothing
    );
    scenario!(
        deadline,
        deadline_async,
        DEADLINE,
        (20, TimedOut),
        (Outcome::DeadlineReached, 2, &[1.0]),
        nothing
    );
    scenario!(
        budget,
        budget_async,
        BASE.with_budget(&REFUSES),
        (5, TimedOut),
        (Outcome::BudgetRefused, 2, &[1.0]),
        nothing
    );
    scenario!(
        circuit,
        circuit_async,
        BASE.with_circuit(&OPENS),
        (5, TimedOut),
        (Outcome::CircuitOpen, 2, &[1.0]),
        || OPENS.reset()
    );
}

/// Every outcome's series exists from an operation's first call, at 0: a
/// counter that appears with its first increment is missed by `rate()` and
/// `increase()`, so the first give-up of each kind would be invisible.
#[test]
fn the_first_call_registers_every_outcome_at_zero() {
    let policy = BASE.with_name("outcomes_zeroed_at_first_call");
    let (rec, out) = record(|| policy.retry(|| Ok::<_, io::Error>(1)).call());
    assert_eq!(out.unwrap(), 1);
    for &o in Outcome::ALL {
        let labels = [
            ("operation", "outcomes_zeroed_at_first_call"),
            ("outcome", o.label()),
        ];
        let value = rec.value(retry_runtime::metrics::CALLS, &labels);
        let want = u64::from(o == Outcome::SucceededFirstTry);
        assert!(
            matches!(value, Some(metrics_util::debugging::DebugValue::Counter(n)) if *n == want),
            "{o:?}: {value:?}"
        );
    }
    // and the retries, which a first call without one would not register
    let retries = rec.value(
        retry_runtime::metrics::RETRIES,
        &[("operation", "outcomes_zeroed_at_first_call")],
    );
    assert!(
        matches!(
            retries,
            Some(metrics_util::debugging::DebugValue::Counter(0))
        ),
        "{retries:?}"
    );
}

/// `Policy::report` takes the attempt it is given: a job's corrupt retry
/// count (`u32::MAX` in its row) added 4,294,967,294 to
/// `retry_retries_total` and recorded 4,294,967,295 attempts. The metrics
/// count up to the policy's 3 attempts; the line says the number given.
#[test]
fn a_reported_give_up_counts_no_more_attempts_than_the_policy_makes() {
    use retry_runtime::{Decision, StopReason};
    let policy = BASE.with_name("outcomes_reported_past_the_limit");
    let error = io::Error::from(TimedOut);
    let logs = testkit::capture::capture();
    let (rec, ()) = record(|| {
        policy.report(u32::MAX, &error, Decision::give_up(StopReason::Attempts));
    });
    assert_one_call(
        &rec,
        "outcomes_reported_past_the_limit",
        Outcome::AttemptsExhausted,
        3,
        &[],
        "report",
    );
    logs.assert_logged(
        tracing::Level::ERROR,
        "outcomes_reported_past_the_limit failed after 4294967295 attempts",
    );
    // within the limit, the number given
    let (rec, ()) = record(|| {
        policy.report(1, &error, Decision::give_up(StopReason::Permanent));
    });
    assert_one_call(
        &rec,
        "outcomes_reported_past_the_limit",
        Outcome::PermanentError,
        2,
        &[],
        "report",
    );
}

/// `Policy::report_success` counts a job's success as a run's: after
/// retries, `succeeded_after_retries` with its attempts (up to the
/// policy's 3, for a corrupt retry count, as a reported give-up's), at
/// the first try `succeeded_first_try` with one.
#[test]
fn a_reported_success_is_counted_with_its_attempts() {
    let policy = BASE.with_name("outcomes_reported_success");
    for (retries_done, outcome, attempts) in [
        (0, Outcome::SucceededFirstTry, 1),
        (1, Outcome::SucceededAfterRetries, 2),
        (u32::MAX, Outcome::SucceededAfterRetries, 3),
    ] {
        let (rec, ()) = record(|| policy.report_success(retries_done));
        assert_one_call(
            &rec,
            "outcomes_reported_success",
            outcome,
            attempts,
            &[],
            "report_success",
        );
    }
}

/// A call whose stop signal fires in its wait (a shutdown) ends with
/// `outcome="stopped"`, its attempts, and the wait it was in (counted when
/// the retry was announced); its metric is the only outcome.
#[test]
fn a_call_stopped_by_its_signal_counts_as_stopped() {
    fail(5, TimedOut);
    let policy = BASE.with_max_attempts(5).with_name("stopped_by_signal");
    let (rec, out) = record(|| {
        block_on(async {
            policy
                .retry(step_async)
                .stop_on(tokio::time::sleep(S + S / 2))
                .await
        })
    });
    assert_eq!(out.unwrap_err().kind(), TimedOut);
    assert_one_call(
        &rec,
        "stopped_by_signal",
        Outcome::Stopped,
        2,
        &[1.0, 1.0],
        "stop_on",
    );
}

/// A first attempt's wait for its policy's cooldown that the call's stop
/// signal cuts short is recorded whole in `retry_cooldown_wait_seconds`,
/// as it started (the metrics table: the sum is the time the calls set
/// out to wait; recorded at its end instead, a 60 s hold would show only
/// once over, and a wait its drop cut not at all): the 60 s hold cut at
/// 1 s is one sample of 60, and the attempt is made at the cut.
#[test]
fn a_first_attempts_cooldown_wait_cut_by_the_stop_signal_counts_whole() {
    use retry_runtime::cooldown::Cooldown;
    static CUT: Cooldown = Cooldown::new("metrics-cut-by-stop");
    fail(0, TimedOut);
    let policy = BASE.with_name("cut_by_stop").with_cooldown(&CUT);
    let (rec, out) = record(|| {
        block_on(async {
            CUT.hold_for(60 * S);
            let start = tokio::time::Instant::now();
            let out = policy
                .retry(step_async)
                .stop_on(tokio::time::sleep(S))
                .await;
            assert_eq!(start.elapsed(), S, "the attempt is made at the cut");
            out
        })
    });
    assert!(out.is_ok());
    let held = [("cooldown", "metrics-cut-by-stop"), ("cause", "hold")];
    let waits = rec.histogram(retry_runtime::metrics::COOLDOWN_WAIT, &held);
    assert_eq!(waits, [60.0]);
}

/// A hand loop's `progressed()` (a supervisor's session that stayed up)
/// counts the retries made before it in `retry_retries_total` then: a
/// supervisor dropped at a shutdown, its usual end, counted none of its
/// reconnects (a walk-through's 7 reconnects read 3). The call's outcome
/// and attempts are recorded when it ends, counted from the restart.
#[test]
fn progressed_counts_the_retries_before_it_and_the_end_those_after() {
    use retry_runtime::{Decision, Run};
    let policy = BASE
        .with_name("outcomes_progressed")
        .with_max_attempts(u32::MAX);
    let retries = |rec: &testkit::metrics::Recorded| match rec.value(
        retry_runtime::metrics::RETRIES,
        &[("operation", "outcomes_progressed")],
    ) {
        Some(metrics_util::debugging::DebugValue::Counter(n)) => Some(*n),
        other => other.map(|_| u64::MAX),
    };
    let refused = io::Error::from(TimedOut);
    let _paused = retry_runtime::testing::pause();
    // three refused connects, then a session that stayed up and dropped;
    // the run dropped in its next session (a shutdown)
    let (rec, ()) = record(|| {
        let mut run = Run::new(&policy);
        for _ in 0..3 {
            assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
        }
        run.progressed();
        assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
    });
    assert_eq!(retries(&rec), Some(3), "the three made before the session");
    // the same, then two failures (one retry made) and a stop in the
    // second's wait: 3 + 1
    let (rec, ()) = record(|| {
        let mut run = Run::new(&policy);
        for _ in 0..3 {
            assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
        }
        run.progressed();
        for _ in 0..2 {
            assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
        }
        let _ = run.stopped(io::Error::from(TimedOut));
    });
    assert_eq!(retries(&rec), Some(4));
    // progressed after the run gave up (a review found 5 for 2 retries):
    // its end counted them, nothing more
    let (rec, ()) = record(|| {
        let three = BASE.with_name("outcomes_progressed").with_max_attempts(3);
        let mut run = Run::new(&three);
        for _ in 0..2 {
            assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
        }
        assert!(matches!(run.failed(&refused), Decision::GiveUp { .. }));
        run.progressed();
    });
    assert_eq!(retries(&rec), Some(2));
    // progressed with nothing failed since: nothing counted
    let (rec, ()) = record(|| {
        let mut run = Run::new(&policy);
        run.progressed();
        run.progressed();
    });
    assert_eq!(retries(&rec), None);
}

/// A hand loop that made attempts, then called `progressed()` (a
/// supervisor's session that ended, a reconnect at once), and whose next
/// attempt a guard turns away: the call made attempts, so it ends as
/// `throttled` (or `circuit_open`), not as a call turned away before
/// anything was sent (`not_attempted_*`, which an SRE reads as "nothing
/// was sent"); its attempts are counted from the restart, as documented.
#[test]
fn a_guard_refusing_the_attempt_after_progressed_is_not_counted_not_attempted() {
    use retry_runtime::{Decision, Run, Throttle, Throttled};
    static RESTARTED: Throttle = Throttle::new("outcomes-restarted").with_max_probability(1.0);
    static RESTARTED_BREAKER: CircuitBreaker = CircuitBreaker::new("outcomes-restarted");
    let _paused = testing::pause();
    let refused = io::Error::from(TimedOut);
    let throttled = BASE
        .with_name("outcomes_restarted_throttled")
        .with_max_attempts(u32::MAX)
        .with_throttle(&RESTARTED);
    let (rec, ()) = record(|| {
        // the dependency answered until then: the throttle admits the first
        // retry for certain (a fresh one would reject it with its padded
        // probability, 1 / (1 + 8), and the test would fail one run in nine)
        for _ in 0..10 {
            RESTARTED.record(true);
        }
        let mut run = Run::new(&throttled);
        assert!(run.before_attempt::<Throttled>().is_ok());
        assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
        assert!(run.before_attempt::<Throttled>().is_ok());
        // the session stayed up, then ended: reconnect at once
        run.progressed();
        // meanwhile, the dependency turned everything away
        for _ in 0..10_000 {
            RESTARTED.record(false);
        }
        let rejected = (0..100).any(|_| run.before_attempt::<Throttled>().is_err());
        assert!(rejected, "the throttle rejects");
    });
    let ended = |rec: &testkit::metrics::Recorded, op, outcome: Outcome| {
        rec.counter(
            retry_runtime::metrics::CALLS,
            &[("operation", op), ("outcome", outcome.label())],
        )
    };
    let op = "outcomes_restarted_throttled";
    assert_eq!(ended(&rec, op, Outcome::NotAttemptedThrottled), 0);
    assert_eq!(ended(&rec, op, Outcome::Throttled), 1);

    let guarded = BASE
        .with_name("outcomes_restarted_circuit")
        .with_max_attempts(u32::MAX)
        .with_circuit(&RESTARTED_BREAKER);
    let (rec, ()) = record(|| {
        let mut run = Run::new(&guarded);
        assert!(run.before_attempt::<retry_runtime::CircuitOpen>().is_ok());
        assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
        assert!(run.before_attempt::<retry_runtime::CircuitOpen>().is_ok());
        run.progressed();
        RESTARTED_BREAKER.force_open();
        assert!(run.before_attempt::<retry_runtime::CircuitOpen>().is_err());
    });
    let op = "outcomes_restarted_circuit";
    assert_eq!(ended(&rec, op, Outcome::NotAttemptedCircuitOpen), 0);
    assert_eq!(ended(&rec, op, Outcome::CircuitOpen), 1);
}

/// A hand loop whose `progressed()` restarted the count after it made
/// attempts (a supervisor: a refused connect retried, a session that
/// stayed up, then ended; a reconnect at once), and whose next attempt
/// succeeds: the call made retries and logged them, so it is counted
/// `succeeded_after_retries` and closes its lines with the success line,
/// under the same `call` (it was counted `succeeded_first_try`, with no
/// line: the WARN line of its retry was never closed).
#[test]
fn a_success_after_progressed_is_a_success_after_retries() {
    use retry_runtime::{Decision, Run};
    use testkit::capture::{capture, field};
    let policy = BASE
        .with_name("outcomes_progressed_then_ok")
        .with_max_attempts(u32::MAX);
    let _paused = testing::pause();
    let logs = capture();
    let (rec, ()) = record(|| {
        let mut run = Run::new(&policy);
        let refused = io::Error::from(TimedOut);
        assert!(matches!(run.failed(&refused), Decision::Retry { .. }));
        // the reconnect worked; the session stayed up, then ended
        run.progressed();
        // the reconnect at once succeeds
        run.succeeded();
    });
    let op = "outcomes_progressed_then_ok";
    let ended = |outcome: Outcome| {
        rec.counter(
            retry_runtime::metrics::CALLS,
            &[("operation", op), ("outcome", outcome.label())],
        )
    };
    assert_eq!(ended(Outcome::SucceededFirstTry), 0);
    assert_eq!(ended(Outcome::SucceededAfterRetries), 1);
    // the retry was counted once, by progressed()
    let retries = rec.counter(retry_runtime::metrics::RETRIES, &[("operation", op)]);
    assert_eq!(retries, 1);
    let lines: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| field(l, "operation") == Some(op))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].contains("retrying"), "{lines:#?}");
    assert!(
        lines[1].contains(&format!("{op} succeeded on attempt 1")),
        "{lines:#?}"
    );
    assert_eq!(field(&lines[1], "outcome"), Some("succeeded_after_retries"));
    assert!(field(&lines[0], "call").is_some());
    assert_eq!(field(&lines[1], "call"), field(&lines[0], "call"));
}
