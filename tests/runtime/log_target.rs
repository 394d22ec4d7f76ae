//! Every log line of the runtime has the one documented `tracing` target,
//! `retry_runtime::log::TARGET`, whichever module emits it: a retry, a
//! success after a retry, a give-up, a retry refused by a budget, a breaker
//! that opens, half-opens and closes, and a call the breaker rejects.

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
