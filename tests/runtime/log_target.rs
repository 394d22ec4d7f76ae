//! Every log line of the runtime has the one documented `tracing` target,
//! `retry_runtime::log::TARGET`, whichever module emits it: a retry, a
//! success after a retry, a give-up, a retry refused by a budget, a breaker
//! that opens, half-opens and closes, and a call the breaker rejects; and
//! the levels of those lines, the policy's or their own.

use std::time::Duration;

use retry_runtime::{testing, Backoff, Policy, RetryBudget};
use testkit::capture::capture;
use tracing::Level;

#[test]
fn every_line_has_the_one_target() {
    let logs = capture();
    let _paused = testing::pause();
    let plain = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None);

    let mut calls = 0;
    let late = plain
        .with_name("late")
        .retry(|| {
            calls += 1;
            if calls < 2 {
                Err("down")
            } else {
                Ok(calls)
            }
        })
        .call();
    assert_eq!(late, Ok(2));
    let _ = plain
        .with_name("exhausted")
        .retry(|| Err::<(), _>("down"))
        .call();

    let budget: &'static RetryBudget =
        Box::leak(Box::new(RetryBudget::new("targeted").with_max_tokens(1)));
    let _ = plain
        .with_name("budgeted")
        .with_max_attempts(5)
        .with_budget(budget)
        .retry(|| Err::<(), _>("down"))
        .call();

    let (_, clock, guarded) = crate::one_strike_breaker("targeted");
    let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);
    let _ = guarded.retry(|| Err::<(), _>(timed_out())).call();
    let _ = guarded.retry(|| Ok::<_, std::io::Error>(())).call();
    clock.advance(Duration::from_secs(30));
    let _ = guarded.retry(|| Ok::<_, std::io::Error>(())).call();

    for (level, needle) in [
        (Level::WARN, "retrying late after attempt 1/2"),
        (Level::INFO, "late succeeded on attempt 2"),
        (Level::ERROR, "exhausted failed after 2 attempts"),
        (Level::WARN, "retry budget exhausted: budgeted"),
        (Level::WARN, "circuit `targeted` opened"),
        (Level::DEBUG, "not attempted"),
        (Level::INFO, "circuit `targeted` is half-open"),
        (Level::INFO, "circuit `targeted` closed"),
    ] {
        assert_eq!(logs.target_of(level, needle), "retry_runtime", "{needle}");
    }
}

/// A policy's non-retriable level sets the level of that line only, in
/// every form (the sync and async functional forms, `#[retry(policy = ..)]`,
/// a hedged call); the default stays WARN.
#[tokio::test(start_paused = true)]
async fn the_non_retriable_line_takes_the_policys_level() {
    use retry_runtime::{classify::KindSet, RetryOn};
    static QUIET: Policy<RetryOn> = Policy::new()
        .with_name("quiet")
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT)
        .with_non_retriable_level(Level::DEBUG);
    #[retry_runtime::retry(policy = QUIET)]
    async fn lookup() -> Result<(), std::io::Error> {
        Err(std::io::ErrorKind::NotFound.into())
    }
    let logs = capture();
    let missing = || Err::<(), _>(std::io::Error::from(std::io::ErrorKind::NotFound));
    assert!(QUIET.retry(missing).call().is_err());
    assert!(QUIET.retry(|| async { missing() }).await.is_err());
    assert!(lookup().await.is_err());
    assert!(QUIET
        .with_hedge(Duration::from_millis(10))
        .retry(|| async { missing() })
        .hedged()
        .await
        .is_err());
    // (the attribute keeps the policy's name, `quiet`)
    assert_eq!(
        logs.matching(Level::DEBUG, "quiet failed with a non-retriable error")
            .len(),
        4
    );
    assert!(logs.matching(Level::WARN, "non-retriable").is_empty());
    // the default: WARN
    assert!(Policy::new()
        .with_name("loud")
        .retry_on(KindSet::TRANSIENT)
        .retry(missing)
        .call()
        .is_err());
    logs.assert_logged(
        Level::WARN,
        "loud failed with a non-retriable error on attempt 1",
    );
}

/// A policy's success level sets the level of the line of a success after
/// retries, in every form (the sync and async functional forms,
/// `#[retry(policy = ..)]`, a hedged call, a job's `report_success`), and
/// the default stays INFO.
#[tokio::test(start_paused = true)]
async fn the_success_line_takes_the_policys_level() {
    static SETTLED: Policy = Policy::new()
        .with_name("settled")
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_success_level(Level::DEBUG);
    fn second_time(calls: &mut u32) -> Result<u32, &'static str> {
        *calls += 1;
        if *calls % 2 == 1 {
            Err("down")
        } else {
            Ok(*calls)
        }
    }
    #[retry_runtime::retry(policy = SETTLED)]
    async fn fetch(calls: &std::cell::Cell<u32>) -> Result<u32, &'static str> {
        let mut n = calls.get();
        let out = second_time(&mut n);
        calls.set(n);
        out
    }
    let logs = capture();
    let mut calls = 0;
    assert!(SETTLED.retry(|| second_time(&mut calls)).call().is_ok());
    calls = 0;
    let calls_ref = std::cell::RefCell::new(&mut calls);
    assert!(SETTLED
        .retry(|| async { second_time(&mut calls_ref.borrow_mut()) })
        .await
        .is_ok());
    assert!(fetch(&std::cell::Cell::new(0)).await.is_ok());
    let hedged_calls = std::cell::Cell::new(0);
    assert!(SETTLED
        .with_hedge(Duration::from_secs(10))
        .retry(|| {
            let mut n = hedged_calls.get();
            let out = second_time(&mut n);
            hedged_calls.set(n);
            async move { out }
        })
        .hedged()
        .await
        .is_ok());
    SETTLED.report_success(1);
    assert_eq!(
        logs.matching(Level::DEBUG, "settled succeeded on attempt 2")
            .len(),
        5
    );
    assert!(logs.matching(Level::INFO, "settled succeeded").is_empty());
    // the default: INFO
    let mut calls = 0;
    let loud = SETTLED
        .with_name("loud_success")
        .with_levels(retry_runtime::Levels::DEFAULT);
    assert!(loud.retry(|| second_time(&mut calls)).call().is_ok());
    logs.assert_logged(Level::INFO, "loud_success succeeded on attempt 2");
}

/// A policy's retry and give-up levels set the level of those lines, in
/// every form (the sync and async functional forms, `#[retry(policy = ..)]`
/// with `retry_if_ok` polling until a result is ready, a hedged call): a
/// poll whose retries are expected logs them at DEBUG and its end at
/// WARN. A shutdown's line stays WARN unless the level is quieter; the
/// defaults stay WARN and ERROR.
#[tokio::test(start_paused = true)]
async fn the_retry_and_give_up_lines_take_the_policys_levels() {
    use retry_runtime::{classify::KindSet, RetryOn};
    static POLL: Policy<RetryOn> = Policy::new()
        .with_name("poll")
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(3)))
        .retry_on(KindSet::TRANSIENT)
        .with_retry_level(Level::DEBUG)
        .with_give_up_level(Level::WARN);
    fn pending(status: &u16) -> bool {
        *status == 202
    }
    #[retry_runtime::retry(policy = POLL, retry_if_ok = pending)]
    async fn stats() -> Result<u16, std::io::Error> {
        Ok(202)
    }
    let logs = capture();
    let _paused = testing::pause();
    let busy = || Err::<(), _>(std::io::Error::from(std::io::ErrorKind::TimedOut));
    assert!(POLL.retry(busy).call().is_err());
    assert!(POLL.retry(|| async { busy() }).await.is_err());
    assert_eq!(stats().await.unwrap(), 202);
    assert!(POLL
        .with_hedge(Duration::from_millis(10))
        .retry(|| async { busy() })
        .hedged()
        .await
        .is_err());
    assert!(logs.matching(Level::WARN, "retrying poll").is_empty());
    assert_eq!(
        logs.matching(Level::DEBUG, "retrying poll after attempt")
            .len(),
        2 * 3 + 2
    );
    assert!(logs.matching(Level::ERROR, "poll failed").is_empty());
    assert_eq!(
        logs.matching(Level::WARN, "poll failed after 3 attempts")
            .len(),
        4
    );

    // a shutdown: WARN as before under an ERROR or a WARN give-up level,
    // DEBUG under a DEBUG one
    let quiet = POLL.with_name("quiet").with_give_up_level(Level::DEBUG);
    let stopped = quiet
        .retry(|| async { busy() })
        .stop_on(std::future::ready(()))
        .await;
    assert!(stopped.is_err());
    logs.assert_logged(Level::DEBUG, "quiet failed after 1 attempt (stopped");
    let stopped = Policy::new()
        .with_name("loud")
        .retry(|| async { busy() })
        .stop_on(std::future::ready(()))
        .await;
    assert!(stopped.is_err());
    logs.assert_logged(Level::WARN, "loud failed after 1 attempt (stopped");

    // the defaults
    assert!(Policy::new()
        .with_name("plain")
        .with_backoff(Backoff::None)
        .retry(busy)
        .call()
        .is_err());
    logs.assert_logged(Level::WARN, "retrying plain after attempt 1/3");
    logs.assert_logged(Level::ERROR, "plain failed after 3 attempts");
}

/// A rejected `Ok`'s retry line takes `with_rejected_ok_level`, apart from
/// the real failures' (`retry_if_ok` under `#[retry]`, `Run::rejected`): a
/// poll's "not ready" at DEBUG, its 503 between them at WARN; a hook is
/// told which is which (`RetryEvent::rejected_ok`).
#[tokio::test(start_paused = true)]
async fn a_rejected_oks_retry_line_takes_its_own_level() {
    use retry_runtime::{classify::KindSet, Decision, RetryEvent, RetryOn, Run};
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    static REJECTED: AtomicU32 = AtomicU32::new(0);
    static FAILED: AtomicU32 = AtomicU32::new(0);
    fn count(ev: &RetryEvent<'_>) {
        let counter = if ev.rejected_ok { &REJECTED } else { &FAILED };
        counter.fetch_add(1, SeqCst);
    }
    static REPORT: Policy<RetryOn> = Policy::new()
        .with_name("report")
        .with_max_attempts(5)
        .with_backoff(Backoff::fixed(Duration::from_secs(5)))
        .retry_on(KindSet::TRANSIENT)
        .with_rejected_ok_level(Level::DEBUG)
        .with_before_sleep(count);
    static CALLS: AtomicU32 = AtomicU32::new(0);
    fn not_ready(status: &u16) -> bool {
        *status == 202
    }
    // 202, 503, 202, 200
    #[retry_runtime::retry(policy = REPORT, retry_if_ok = not_ready)]
    async fn report() -> Result<u16, std::io::Error> {
        match CALLS.fetch_add(1, SeqCst) {
            1 => Err(std::io::ErrorKind::ConnectionReset.into()),
            0 | 2 => Ok(202),
            _ => Ok(200),
        }
    }
    let logs = capture();
    let _paused = testing::pause();
    assert_eq!(report().await.unwrap(), 200);
    assert_eq!(
        logs.matching(Level::DEBUG, "retrying report after attempt")
            .len(),
        2
    );
    let warned = logs.matching(Level::WARN, "retrying report after attempt");
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("after attempt 2/5"), "{warned:?}");
    assert_eq!((REJECTED.load(SeqCst), FAILED.load(SeqCst)), (2, 1));

    // a loop of its own: `Run::rejected` the same
    let mut run = Run::new(&REPORT);
    assert!(matches!(run.rejected(), Decision::Retry { .. }));
    assert_eq!(
        logs.matching(Level::DEBUG, "retrying report after attempt")
            .len(),
        3
    );
    // unset, a rejected `Ok` follows the retry level
    assert_eq!(
        REPORT.with_retry_level(Level::INFO).rejected_ok_level(),
        Level::DEBUG
    );
    assert_eq!(
        Policy::new()
            .with_retry_level(Level::INFO)
            .rejected_ok_level(),
        Level::INFO
    );
}

/// Under no attempt limit (`u32::MAX`, tenacity's `stop_never`) the lines
/// say the attempt alone: `attempt 2`, not `2/4294967295`; the
/// `max_attempts` field keeps the number.
#[test]
fn no_attempt_limit_is_not_written_as_a_number() {
    let logs = capture();
    let _paused = testing::pause();
    let mut calls = 0;
    let forever = Policy::new()
        .with_name("forever")
        .with_max_attempts(u32::MAX)
        .with_backoff(Backoff::None);
    let r = forever
        .retry(|| {
            calls += 1;
            if calls < 3 {
                Err("down")
            } else {
                Ok(calls)
            }
        })
        .call();
    assert_eq!(r, Ok(3));
    let line = logs.assert_logged(
        Level::WARN,
        "retrying forever after attempt 2 failed; next attempt in 0ns",
    );
    testkit::capture::assert_fields(&line, &[("max_attempts", "4294967295")]);
    logs.assert_not_logged("/4294967295");
    let _ = Policy::new()
        .with_name("bounded")
        .with_backoff(Backoff::None)
        .retry(|| Err::<(), _>("down"))
        .call();
    logs.assert_logged(Level::WARN, "retrying bounded after attempt 2/3 failed");
}

/// A library's quiet policy (`Levels::QUIET`, docs/in-a-library.md:
/// every line of the policy's at DEBUG, a success after retries and a
/// retry its budget refused included) still logs at INFO or above the
/// lines whose levels are not the policy's: its breaker's opening (WARN),
/// half-open and close (INFO). Each checked at its level, and none of the
/// policy's own lines above DEBUG.
#[test]
fn a_quiet_policy_keeps_the_lines_whose_levels_are_not_its_own() {
    const fn quiet<W, G>(p: Policy<W, G>) -> Policy<W, G> {
        p.with_default_levels(retry_runtime::Levels::QUIET)
    }
    let logs = capture();
    let _paused = testing::pause();
    let plain = quiet(
        Policy::new()
            .with_max_attempts(2)
            .with_backoff(Backoff::None),
    );

    let mut calls = 0;
    let late = plain
        .with_name("sdk.late")
        .retry(|| {
            calls += 1;
            if calls < 2 {
                Err("down")
            } else {
                Ok(calls)
            }
        })
        .call();
    assert_eq!(late, Ok(2));
    let _ = plain
        .with_name("sdk.exhausted")
        .retry(|| Err::<(), _>("down"))
        .call();
    let budget: &'static RetryBudget =
        Box::leak(Box::new(RetryBudget::new("sdk.budget").with_max_tokens(1)));
    let _ = plain
        .with_name("sdk.budgeted")
        .with_max_attempts(5)
        .with_budget(budget)
        .retry(|| Err::<(), _>("down"))
        .call();
    let (_, clock, guarded) = crate::one_strike_breaker("sdk.breaker");
    let guarded = quiet(guarded.with_name("sdk.guarded"));
    let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);
    let _ = guarded.retry(|| Err::<(), _>(timed_out())).call();
    clock.advance(Duration::from_secs(30));
    let _ = guarded.retry(|| Ok::<_, std::io::Error>(())).call();

    logs.assert_logged(Level::DEBUG, "sdk.late succeeded on attempt 2");
    logs.assert_logged(
        Level::DEBUG,
        "retry budget exhausted: sdk.budgeted gives up after attempt",
    );
    logs.assert_logged(Level::WARN, "circuit `sdk.breaker` opened");
    logs.assert_logged(Level::INFO, "circuit `sdk.breaker` is half-open");
    logs.assert_logged(Level::INFO, "circuit `sdk.breaker` closed");
    // the policy's own lines: DEBUG
    logs.assert_logged(Level::DEBUG, "retrying sdk.late after attempt 1/2");
    logs.assert_logged(Level::DEBUG, "sdk.exhausted failed after 2 attempts");
    logs.assert_logged(Level::DEBUG, "sdk.guarded failed after 1 attempt");
    // (other tests log into the same capture: only this one's names)
    for level in [Level::INFO, Level::WARN, Level::ERROR] {
        for line in logs.at(level).iter().filter(|l| l.contains("sdk.")) {
            assert!(
                !line.contains("retrying sdk.")
                    && !line.contains("failed after")
                    && !line.contains("succeeded on")
                    && !line.contains("budget exhausted"),
                "{line}"
            );
        }
    }
}
