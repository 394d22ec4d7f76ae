//! A retry budget attached to a policy: first attempts deposit, retries
//! withdraw, a refused retry gives up at once with the last error, the
//! reason `StopReason::Budget`, one WARN line "retry budget exhausted" and the
//! `on_give_up` callback; every executor honours it.

use testkit::capture as support;

use std::cell::RefCell;
use std::time::Duration;

use retry_runtime::{
    testing, Backoff, CircuitBreaker, GiveUpEvent, Policy, RetryBudget, RetryError, StopReason,
};
use testkit::calls::ok_on_call;
use tracing::Level;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

thread_local! {
    static GAVE_UP: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn record_give_up(ev: &GiveUpEvent<'_>) {
    let line = format!(
        "{} after {} ({:?}): {}",
        ev.operation, ev.attempts, ev.reason, ev.error
    );
    GAVE_UP.with(|g| g.borrow_mut().push(line));
}

fn policy(budget: &'static RetryBudget) -> Policy {
    Policy::new()
        .with_max_attempts(10)
        .with_backoff(Backoff::fixed(s(1)))
        .with_name("sync_feed")
        .with_budget(budget)
}

#[test]
fn a_refused_retry_gives_up_at_once_with_the_last_error() {
    // 4 tokens: retries while above 2, so 2 retries from a full bucket
    let budget = leak(RetryBudget::new("feeds").with_max_tokens(4));
    let p = policy(budget).with_on_give_up(record_give_up);
    let logs = support::capture();
    let paused = testing::pause();
    let mut calls = 0;
    let e: RetryError<String> = p
        .retry(|| {
            calls += 1;
            Err::<(), _>(format!("503 on call {calls}"))
        })
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(calls, 3);
    assert_eq!((e.attempts, e.reason), (3, StopReason::Budget));
    assert_eq!(e.last_error, "503 on call 3");
    assert_eq!(
        e.to_string(),
        "sync_feed failed after 3 attempts (retry budget exhausted): 503 on call 3"
    );
    assert_eq!(paused.waits(), [s(1), s(1)]); // no wait before giving up

    let line = logs.assert_logged(Level::WARN, "retry budget exhausted");
    support::assert_fields(
        &line,
        &[
            ("operation", "sync_feed"),
            ("attempt", "3"),
            ("max_attempts", "10"),
            ("budget", "feeds"),
            ("error", "503 on call 3"),
            ("error_kind", "unclassified"),
        ],
    );
    // one line for the give-up: the WARN replaces the ERROR "failed after"
    assert!(logs.at(Level::ERROR).is_empty(), "{:#?}", logs.lines());
    assert_eq!(
        GAVE_UP.with(|g| g.take()),
        ["sync_feed after 3 (Budget): 503 on call 3"]
    );
    assert_stats!(budget; first_attempts: 1, retries: 2, refused: 1, tokens: 2.0);
}

#[test]
fn first_attempts_deposit_and_retries_withdraw() {
    let budget = leak(RetryBudget::new("b").with_percent(50).with_max_tokens(4));
    let p = policy(budget);
    let _paused = testing::pause();
    // drain: 2 retries, then refused
    let _ = p.retry(|| Err::<(), _>("down")).call();
    assert_eq!(budget.stats().tokens, 2.0);
    // successes on the first attempt deposit: 2 of them, half a token each
    for _ in 0..2 {
        assert_eq!(p.retry(|| Ok::<_, &str>(())).call(), Ok(()));
    }
    assert_eq!(budget.stats().tokens, 3.0);
    // a success after a retry deposits once (for its first attempt) and withdrew once
    let r = p.retry(ok_on_call(2, || "blip")).call();
    assert_eq!(r, Ok(2));
    assert_stats!(budget; first_attempts: 4, retries: 3, refused: 1, tokens: 2.5);
}

#[test]
fn permanent_errors_do_not_touch_the_budget_beyond_the_deposit() {
    let budget = leak(RetryBudget::new("b"));
    let p = Policy::new()
        .retry_on(retry_runtime::kinds![Timeout])
        .with_budget(budget);
    let not_found = || std::io::Error::from(std::io::ErrorKind::NotFound);
    for _ in 0..5 {
        let _ = p.retry(|| Err::<(), _>(not_found())).call();
    }
    assert_stats!(budget; first_attempts: 5, retries: 0, refused: 0);
}

#[tokio::test(start_paused = true)]
async fn the_async_executors_honour_it() {
    static RETRIES: RetryBudget = RetryBudget::new("async").with_max_tokens(2);
    let p = Policy::new().with_max_attempts(5).with_budget(&RETRIES);
    let start = tokio::time::Instant::now();
    let e = p
        .retry(|| async { Err::<(), _>("down") })
        .detailed()
        .await
        .unwrap_err();
    // 2 tokens: one retry (2 > 1), then 1 is not above half
    assert_eq!((e.attempts, e.reason), (2, StopReason::Budget));
    assert_eq!(start.elapsed(), s(1));
    let e = p
        .retry(|| async { Err::<(), std::io::Error>(std::io::ErrorKind::TimedOut.into()) })
        .detailed()
        .await
        .unwrap_err();
    // 1 token + 0.1 for this first attempt: above half, one retry; then 0.1 left
    assert_eq!((e.attempts, e.reason), (2, StopReason::Budget));
}

#[test]
fn with_a_breaker_too_the_breaker_is_asked_first() {
    // An open breaker ends the run without spending a token.
    let breaker = leak(CircuitBreaker::new("both").with_failures(1));
    let budget = leak(RetryBudget::new("both"));
    let p = policy(budget).with_circuit(breaker);
    let _paused = testing::pause();
    let e = p
        .retry(|| Err::<(), _>(std::io::Error::from(std::io::ErrorKind::TimedOut)))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(e.reason, StopReason::CircuitOpen);
    assert_stats!(budget; first_attempts: 1, retries: 0, refused: 0);
    // rejected before the call: no deposit either
    let _ = p.retry(|| Ok::<_, std::io::Error>(())).call();
    assert_eq!(budget.stats().first_attempts, 1);
}

#[test]
fn a_budget_in_a_static_policy() {
    static RETRIES: RetryBudget = RetryBudget::new("static").with_percent(20);
    static POLICY: Policy = Policy::new().with_budget(&RETRIES);
    assert_eq!(POLICY.budget().map(RetryBudget::name), Some("static"));
    let dbg = format!("{POLICY:?}");
    assert!(dbg.contains("budget: \"static\""), "{dbg}");
    // the settings as the getters give them (the percent an integer)
    let dbg = format!("{RETRIES:?}");
    assert_eq!(
        dbg,
        r#"RetryBudget { name: "static", percent: 20, max_tokens: 10, tokens: 10.0, .. }"#
    );
    assert!(
        dbg.contains(&format!(
            "percent: {}, max_tokens: {},",
            RETRIES.percent(),
            RETRIES.max_tokens()
        )),
        "{dbg}"
    );
}

/// A call dropped (cancelled: a client gone, a `timeout` around it) while
/// it waits for a retry the budget granted gives the token back: the
/// retry was not made, in the tokens and in `retries` (`#[retry]`, whose
/// wait holds the token). A retry whose wait ended was made: its token
/// stays spent. The functional `.await` form keeps the token of a wait it
/// is dropped in (its future would grow past the hand loop's to hold it:
/// see `RetryBudget::stats`), checked here so a change shows.
#[tokio::test(start_paused = true)]
async fn a_call_dropped_in_its_wait_gives_the_token_back() {
    static ATTR: RetryBudget = RetryBudget::new("dropped-attr");
    static AWAITED: RetryBudget = RetryBudget::new("dropped-awaited");
    static AWAITED_POLICY: Policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(2)))
        .with_budget(&AWAITED);

    #[retry_runtime::retry(attempts = 3, backoff = "fixed(2s)", budget = ATTR)]
    async fn down() -> Result<(), std::io::Error> {
        Err(std::io::ErrorKind::TimedOut.into())
    }
    let awaited = || AWAITED_POLICY.retry(|| async { Err::<(), _>("down") });
    let stats = |budget: &RetryBudget| {
        let st = budget.stats();
        (st.tokens, st.first_attempts, st.retries)
    };

    // cut at 1s, in the first wait (2s): the token goes back (the first
    // attempt's deposit, 0.1, is capped at the 10 tokens)
    let cut = s(1);
    assert!(tokio::time::timeout(cut, down()).await.is_err());
    assert!(tokio::time::timeout(cut, awaited()).await.is_err());
    assert_eq!(stats(&ATTR), (10.0, 1, 0));
    assert_eq!(stats(&AWAITED), (9.0, 1, 1), "the functional form keeps it");

    // cut at 3s, in the second wait: the first retry was made (spent), the
    // second's token goes back
    let cut = s(3);
    assert!(tokio::time::timeout(cut, down()).await.is_err());
    assert_eq!(stats(&ATTR), (9.0, 2, 1));

    // a policy given with `policy = ..` waits holding the token too
    static GIVEN: RetryBudget = RetryBudget::new("dropped-given");
    static GIVEN_POLICY: Policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(2)))
        .with_budget(&GIVEN);
    #[retry_runtime::retry(policy = GIVEN_POLICY)]
    async fn given() -> Result<(), std::io::Error> {
        Err(std::io::ErrorKind::TimedOut.into())
    }
    assert!(tokio::time::timeout(s(1), given()).await.is_err());
    assert_eq!(stats(&GIVEN), (10.0, 1, 0));
}
