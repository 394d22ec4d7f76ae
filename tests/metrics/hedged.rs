//! A hedged call's metrics: its outcome is the winner's, and each wait
//! recorded is the time until the next attempt starts.

use std::cell::Cell;
use std::io::{self, ErrorKind::TimedOut};
use std::time::Duration;

use retry_runtime::metrics::Outcome;
use retry_runtime::{Backoff, KindSet, Policy, RetryOn};
use testkit::capture::{assert_fields, capture};
use tokio::time::{sleep, Instant};
use tracing::Level;

use crate::script::{assert_one_call, block_on, record};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// 3 attempts, a hedge after 50ms, a backoff of 1s.
fn hedging(name: &'static str) -> Policy<RetryOn> {
    Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .with_hedge(ms(50))
        .retry_on(KindSet::TRANSIENT)
        .with_name(name)
}

/// Runs `policy` hedged on tokio's paused clock: attempt `n` (from 1)
/// answers after `plan[n - 1].0` ms, `Ok(n)` if `plan[n - 1].1`, else
/// timed out. The result, and the time the call took.
fn hedged(policy: Policy<RetryOn>, plan: &[(u64, bool)]) -> (io::Result<u32>, Duration) {
    let started = Cell::new(0);
    block_on(async {
        let t0 = Instant::now();
        let out = policy
            .retry(|| {
                let n = started.get() + 1;
                started.set(n);
                let (wait, ok) = plan[n as usize - 1];
                async move {
                    sleep(ms(wait)).await;
                    if ok {
                        Ok(n)
                    } else {
                        Err(io::Error::from(TimedOut))
                    }
                }
            })
            .hedged()
            .await;
        (out, t0.elapsed())
    })
}

/// The first attempt answers at 80ms, after the hedge started at 50ms: a
/// success at first try, with no INFO "succeeded on attempt" line (it was
/// labelled `succeeded_after_retries` and logged "succeeded on attempt 1").
/// The hedge still counts in the attempts and retries: it was sent. When
/// the hedge wins, it is a success after a retry.
#[test]
fn a_hedged_call_is_labelled_by_the_attempt_that_won() {
    let logs = capture();
    let (rec, (out, took)) =
        record(|| hedged(hedging("first_wins"), &[(80, true), (10_000, true)]));
    assert_eq!((out.unwrap(), took), (1, ms(80)));
    assert_one_call(
        &rec,
        "first_wins",
        Outcome::SucceededFirstTry,
        2,
        &[],
        "first wins",
    );
    logs.assert_not_logged("succeeded on attempt");

    let (rec, (out, took)) =
        record(|| hedged(hedging("hedge_wins"), &[(10_000, true), (20, true)]));
    assert_eq!((out.unwrap(), took), (2, ms(70)));
    assert_one_call(
        &rec,
        "hedge_wins",
        Outcome::SucceededAfterRetries,
        2,
        &[],
        "hedge wins",
    );
    logs.assert_logged(Level::INFO, "hedge_wins succeeded on attempt 2");
}

/// `retry_hedges_total` counts the attempts started on the hedge delay,
/// not the retries of failed attempts (even one that starts beside
/// another in flight): a first attempt slow past the hedge delay starts
/// one hedge; a first attempt that fails at once is retried after its
/// backoff, no hedge. Registered at 0 at the first
/// hedged call, so a call that needed no hedge has the series at 0.
#[test]
fn hedges_are_counted_apart_from_retries() {
    use retry_runtime::metrics::{HEDGES, RETRIES};
    // (hedges, retries) of `op`
    let counts = |rec: &testkit::metrics::Recorded, op| {
        let op = [("operation", op)];
        (rec.counter(HEDGES, &op), rec.counter(RETRIES, &op))
    };
    // slow first attempt: a hedge at 50ms wins
    let (rec, (out, _)) = record(|| hedged(hedging("one_hedge"), &[(10_000, true), (20, true)]));
    assert_eq!(out.unwrap(), 2);
    assert_eq!(counts(&rec, "one_hedge"), (1, 1));
    // a fast failure, then a success after the retry's wait: no hedge
    let (rec, (out, _)) = record(|| {
        hedged(
            hedging("no_hedge").with_hedge(ms(5_000)),
            &[(10, false), (10, true)],
        )
    });
    assert_eq!(out.unwrap(), 2);
    assert_eq!(counts(&rec, "no_hedge"), (0, 1));
    assert!(
        rec.value(HEDGES, &[("operation", "no_hedge")]).is_some(),
        "registered at 0"
    );
    // attempt 1 slow, the hedge (attempt 2) fails at once, and its retry
    // (attempt 3) starts beside attempt 1: a retry, not a second hedge
    let (rec, (out, _)) = record(|| {
        hedged(
            hedging("hedge_then_retry"),
            &[(10_000, true), (10, false), (20, true)],
        )
    });
    assert_eq!(out.unwrap(), 3);
    assert_eq!(counts(&rec, "hedge_then_retry"), (1, 2));
}

/// The hedge fails (and its retry is announced) while attempt 1 is still
/// in flight, then attempt 1 wins: a success at first try in the metrics,
/// and an INFO line that ends the call's story with that outcome, so the
/// last line is not a WARN announcing a retry that never came.
#[test]
fn attempt_1_winning_after_a_logged_failure_says_so() {
    let logs = capture();
    let (rec, (out, took)) = record(|| hedged(hedging("first_after"), &[(80, true), (10, false)]));
    assert_eq!((out.unwrap(), took), (1, ms(80)));
    let warn = logs.assert_logged(Level::WARN, "retrying first_after after attempt 2/3 failed");
    assert_fields(&warn, &[("attempt", "2")]);
    let info = logs.assert_logged(Level::INFO, "first_after succeeded on attempt 1");
    assert_fields(
        &info,
        &[
            ("attempt", "1"),
            ("max_attempts", "3"),
            ("outcome", "succeeded_first_try"),
        ],
    );
    let order = logs.lines();
    let (w, i) = (
        order.iter().position(|l| *l == warn).unwrap(),
        order.iter().position(|l| *l == info).unwrap(),
    );
    assert!(w < i, "{order:#?}");
    let waits = rec.histogram("retry_wait_seconds", &[("operation", "first_after")]);
    assert_one_call(
        &rec,
        "first_after",
        Outcome::SucceededFirstTry,
        2,
        &waits,
        "first wins after the hedge failed",
    );
}

/// Attempt 1 fails at 10ms; its backoff is 1s, but the hedge armed at the
/// start is due at 50ms and starts attempt 2 then: the wait recorded and
/// announced is 40ms (it was the 1s the call never waited).
#[test]
fn a_hedged_retry_records_the_wait_until_the_next_start() {
    let logs = capture();
    let (rec, (out, took)) = record(|| hedged(hedging("overtaken"), &[(10, false), (10, true)]));
    assert_eq!((out.unwrap(), took), (2, ms(60)));
    assert_one_call(
        &rec,
        "overtaken",
        Outcome::SucceededAfterRetries,
        2,
        &[0.04],
        "overtaken",
    );
    let line = logs.assert_logged(
        Level::WARN,
        "retrying overtaken after attempt 1/3 failed; next attempt in 40ms",
    );
    assert_fields(&line, &[("wait_ms", "40"), ("wait_source", "backoff")]);

    // a backoff sooner than the hedge is waited, and recorded, as it is
    let soon = hedging("backoff_first").with_backoff(Backoff::fixed(ms(20)));
    let (rec, (out, took)) = record(|| hedged(soon, &[(10, false), (10, true)]));
    assert_eq!((out.unwrap(), took), (2, ms(40)));
    assert_one_call(
        &rec,
        "backoff_first",
        Outcome::SucceededAfterRetries,
        2,
        &[0.02],
        "backoff first",
    );
}

/// A hedged call inside another retried call: a failure the outer run
/// retries does not end it while an attempt in flight may still succeed,
/// and a call that leaves its last error to the outer run records
/// `deferred` with the attempts it started and no wait of its own. (The
/// inner call ended `deferred` on the hedge's failure, cancelling attempt
/// 1 about to answer, three times over: three calls, 6 attempts, where one
/// call of 2 attempts answers.)
#[test]
fn a_hedged_call_inside_another_records_what_it_made() {
    let outer = || {
        Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::None)
            .retry_on(KindSet::TRANSIENT)
    };
    let inner = |name| hedging(name).with_max_attempts(2);
    // attempt 1 answers at 80ms (or times out, with `ok` false); the hedge
    // at 50ms times out at once
    let run = |name, ok: bool| {
        let outer = outer().with_name("outer");
        let inner = inner(name);
        let started = Cell::new(0);
        block_on(async {
            outer
                .retry(|| {
                    inner
                        .retry(|| {
                            let n = started.get() + 1;
                            started.set(n);
                            async move {
                                if n % 2 == 1 {
                                    sleep(ms(80)).await;
                                }
                                if ok && n % 2 == 1 {
                                    Ok(n)
                                } else {
                                    Err(io::Error::from(TimedOut))
                                }
                            }
                        })
                        .hedged()
                })
                .await
        })
    };
    let (rec, out) = record(|| run("inner_answers", true));
    assert_eq!(out.unwrap(), 1);
    assert_one_call(
        &rec,
        "inner_answers",
        Outcome::SucceededFirstTry,
        2,
        &[],
        "attempt 1 answers",
    );

    let (rec, out) = record(|| run("inner_defers", false));
    assert_eq!(out.unwrap_err().kind(), TimedOut);
    for &o in Outcome::ALL {
        let n = rec.counter(
            retry_runtime::metrics::CALLS,
            &[("operation", "inner_defers"), ("outcome", o.label())],
        );
        assert_eq!(n, if o == Outcome::Deferred { 3 } else { 0 }, "{o:?}");
    }
    let op = [("operation", "inner_defers")];
    assert_eq!(
        rec.histogram(retry_runtime::metrics::ATTEMPTS, &op),
        [2.0; 3]
    );
    assert_eq!(rec.counter(retry_runtime::metrics::RETRIES, &op), 3);
    assert!(rec.histogram(retry_runtime::metrics::WAIT, &op).is_empty());
}

/// A hedged call of `policy` whose first attempt hangs for 5s and whose
/// hedge answers at once: the number of the attempt that answered.
async fn first_hangs_the_hedge_answers(policy: &Policy<RetryOn>) -> Result<u32, io::Error> {
    let started = Cell::new(0);
    policy
        .retry(|| {
            let n = started.get() + 1;
            started.set(n);
            async move {
                if n == 1 {
                    sleep(Duration::from_secs(5)).await;
                }
                Ok::<_, io::Error>(n)
            }
        })
        .hedged()
        .await
}

/// A hold begun while a hedged run's first attempt runs (another call's
/// 429) holds its hedge back until the hold's end: a wait the cooldown
/// imposes, recorded in `retry_cooldown_wait_seconds` as it starts, as
/// every such wait is (docs/metrics.md's table). The hedge due at 50ms
/// waits out the 960ms left of a 1s hold begun at 10ms. (It was not
/// recorded: the hedged run waited the hold without a sample.)
#[test]
fn a_hedge_held_by_a_cooldown_records_its_wait() {
    use retry_runtime::cooldown::Cooldown;
    static HEDGE_HELD: Cooldown = Cooldown::new("metrics-hedge-held");
    let policy = hedging("metrics_hedge_held").with_cooldown(&HEDGE_HELD);
    let (rec, out) = record(|| {
        block_on(async {
            tokio::spawn(async {
                sleep(ms(10)).await;
                HEDGE_HELD.hold_for(Duration::from_secs(1));
            });
            first_hangs_the_hedge_answers(&policy).await
        })
    });
    assert_eq!(out.unwrap(), 2);
    let held = [("cooldown", "metrics-hedge-held"), ("cause", "hold")];
    let waits = rec.histogram(retry_runtime::metrics::COOLDOWN_WAIT, &held);
    assert_eq!(waits, [0.96]);
}

/// A hedge through a paced cooldown waits for its slot of the pace: that
/// wait, beyond the hedge's own delay, is recorded in
/// `retry_cooldown_wait_seconds` (`cause="pace"`) as it starts, as every
/// wait the cooldown imposes is. At one call a second, the first attempt
/// takes the slot at 0 and the hedge due at 50ms the one at 1s: 950ms.
#[test]
fn a_hedge_paced_by_a_cooldown_records_its_wait_for_the_slot() {
    use retry_runtime::cooldown::Cooldown;
    static HEDGE_PACED: Cooldown =
        Cooldown::new("metrics-hedge-paced").with_pace(1, Duration::from_secs(1));
    let policy = hedging("metrics_hedge_paced").with_cooldown(&HEDGE_PACED);
    let (rec, out) = record(|| block_on(async { first_hangs_the_hedge_answers(&policy).await }));
    assert_eq!(out.unwrap(), 2);
    let paced = [("cooldown", "metrics-hedge-paced"), ("cause", "pace")];
    let waits = rec.histogram(retry_runtime::metrics::COOLDOWN_WAIT, &paced);
    assert_eq!(waits, [0.95]);
}

/// `retry_throttle_rejections_total` counts a hedge the throttle refused
/// (no attempt starts: nothing sent) beside the calls and retries it
/// rejects: its HELP and its row of the table say so. The first attempt,
/// slow past the hedge delay, wins: the call is `succeeded_first_try`,
/// with one attempt (the hedge never started), and the throttle's
/// rejection is the hedge's.
#[test]
fn a_hedge_the_throttle_refuses_is_counted_in_its_rejections() {
    use retry_runtime::metrics::THROTTLE_REJECTIONS;
    use retry_runtime::{testing, Throttle};
    static REFUSES_HEDGES: Throttle = Throttle::new("refuses-hedges").with_max_probability(1.0);
    testing::seed(7);
    let logs = capture();
    let policy = hedging("hedge_throttled").with_throttle(&REFUSES_HEDGES);
    let (rec, out) = record(|| {
        block_on(async {
            policy
                .retry(|| async {
                    // (let through at once; then the dependency turns
                    // everything away, before the hedge is due at 50ms)
                    for _ in 0..100_000 {
                        REFUSES_HEDGES.record(false);
                    }
                    sleep(ms(80)).await;
                    Ok::<u32, io::Error>(1)
                })
                .hedged()
                .await
        })
    });
    assert_eq!(out.unwrap(), 1);
    logs.assert_logged(
        Level::DEBUG,
        "hedging hedge_throttled: attempt 2 not started (throttled)",
    );
    assert_one_call(
        &rec,
        "hedge_throttled",
        Outcome::SucceededFirstTry,
        1,
        &[],
        "hedge refused",
    );
    let throttle = [("throttle", "refuses-hedges")];
    assert_eq!(rec.counter(THROTTLE_REJECTIONS, &throttle), 1);
    assert_eq!(REFUSES_HEDGES.stats().rejected, 1);
}
