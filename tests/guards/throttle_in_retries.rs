//! An adaptive throttle attached to a policy or to `#[retry(throttle = NAME)]`:
//! a call it rejects is not made and returns `E::from(Throttled)`; a retry it
//! rejects gives up with the last error and `StopReason::Throttled`; a
//! dependency that answers (success or a non-retriable error) is never
//! throttled; every form (sync, async, `#[retry]`, the functional API)
//! reports its outcomes.

use std::time::Duration;

use retry_runtime::clock::ManualClock;
use retry_runtime::{retry, testing, Classify, Policy, StopReason, Throttle, Throttled};

use crate::leak;

#[derive(Debug, thiserror::Error, Classify)]
enum SearchError {
    #[error("503 overloaded")]
    #[classify(Unavailable)]
    Overloaded,
    #[error("400 bad query")]
    #[classify(Permanent)]
    BadQuery,
    #[error(transparent)]
    #[classify(Unavailable)]
    Throttled(#[from] Throttled),
}

/// A throttle that has seen `requests` requests and no accept: it rejects
/// nearly every call (p = requests / (requests + 8)).
pub(crate) fn overloaded_throttle(requests: u32) -> &'static Throttle {
    let clock = leak(ManualClock::new());
    let t = leak(Throttle::new("search").with_clock(clock));
    for _ in 0..requests {
        t.record(false);
    }
    t
}

#[test]
fn a_rejected_call_is_not_made_and_returns_the_rejection() {
    let t = overloaded_throttle(100_000);
    let policy = Policy::new().with_max_attempts(3).with_throttle(t);
    let _paused = testing::pause();
    let mut calls = 0;
    let mut rejected = 0;
    for _ in 0..20 {
        let r: Result<(), SearchError> = policy
            .retry(|| {
                calls += 1;
                Ok(())
            })
            .call();
        if let Err(SearchError::Throttled(e)) = r {
            assert_eq!(e.throttle, "search");
            rejected += 1;
        }
    }
    // p ≈ 0.99999: every call (or all but a freak one) is rejected
    assert!(rejected >= 19, "{rejected} of 20 rejected");
    assert_eq!(calls, 20 - rejected);
    assert_eq!(t.stats().rejected, rejected as u64);
}

/// A dependency called now and then that fails once keeps its retry as a
/// rule: with the default padding of 8 the retry is rejected with
/// probability 1/9 (the book's padding of 1 rejected half of them).
#[test]
fn a_quiet_dependencys_one_failure_seldom_costs_its_retry() {
    let clock = leak(ManualClock::new());
    let t = leak(Throttle::new("quiet").with_clock(clock));
    let policy = Policy::new()
        .with_max_attempts(2)
        .with_backoff(retry_runtime::Backoff::None)
        .with_throttle(t);
    let _paused = testing::pause();
    testing::seed(7);
    let mut retried = 0;
    for _ in 0..1000 {
        t.reset(); // each call alone in its window
        let mut calls = 0;
        let r = policy
            .retry(|| {
                calls += 1;
                if calls == 1 {
                    Err(SearchError::Overloaded)
                } else {
                    Ok(())
                }
            })
            .call();
        if r.is_ok() {
            assert_eq!(calls, 2);
            retried += 1;
        }
    }
    // 889 expected; 500 with a padding of 1
    assert!((850..=930).contains(&retried), "{retried} of 1000 retried");
}

#[test]
fn a_rejected_retry_gives_up_with_the_last_error() {
    let clock = leak(ManualClock::new());
    let t = leak(Throttle::new("search").with_clock(clock));
    let policy = Policy::new()
        .with_max_attempts(5)
        .with_backoff(retry_runtime::Backoff::None)
        .with_throttle(t);
    let _paused = testing::pause();
    // the first attempt goes out (nothing failed yet); after it fails,
    // p = (1 - 0) / (1 + 8) for the first retry, and rises with each failure
    let mut outcomes = Vec::new();
    for _ in 0..50 {
        let mut calls = 0;
        let e = policy
            .retry(|| {
                calls += 1;
                Err::<(), _>(SearchError::Overloaded)
            })
            .detailed()
            .call()
            .unwrap_err();
        outcomes.push((calls, e.reason));
        match e.reason {
            // a retry turned away: the dependency's own error, not the
            // throttle's rejection
            StopReason::Throttled if calls >= 1 => {
                assert!(matches!(e.last_error, SearchError::Overloaded), "{e}");
            }
            // the first call turned away: no error but the rejection
            StopReason::Throttled => {
                assert!(matches!(e.last_error, SearchError::Throttled(_)), "{e}");
            }
            StopReason::Attempts => {
                assert_eq!(calls, 5);
                assert!(matches!(e.last_error, SearchError::Overloaded), "{e}");
            }
            other => panic!("unexpected reason {other:?}"),
        }
    }
    let throttled = outcomes
        .iter()
        .filter(|(_, r)| *r == StopReason::Throttled)
        .count();
    assert!(throttled >= 45, "{outcomes:?}");
    // a retry rejected mid-run keeps the dependency's own error
    assert!(
        outcomes
            .iter()
            .any(|(calls, r)| *r == StopReason::Throttled && *calls >= 1),
        "{outcomes:?}"
    );
}

#[test]
fn non_retriable_errors_and_successes_count_as_accepted() {
    let clock = leak(ManualClock::new());
    let t = leak(Throttle::new("search").with_clock(clock));
    let policy = Policy::new()
        .retry_on(retry_runtime::KindSet::TRANSIENT)
        .with_throttle(t);
    let _paused = testing::pause();
    for i in 0..1000 {
        let r: Result<(), SearchError> = policy
            .retry(|| {
                if i % 2 == 0 {
                    Err(SearchError::BadQuery)
                } else {
                    Ok(())
                }
            })
            .call();
        assert!(!matches!(r, Err(SearchError::Throttled(_))));
    }
    let st = t.stats();
    assert_eq!((st.requests, st.accepts, st.rejected), (1000, 1000, 0));
}

static SYNC_THROTTLE: Throttle = Throttle::new("sync_search");

#[retry(attempts = 3, backoff = "none", throttle = SYNC_THROTTLE)]
fn search_sync(fail: bool, calls: &mut u32) -> Result<u32, SearchError> {
    *calls += 1;
    if fail {
        Err(SearchError::Overloaded)
    } else {
        Ok(7)
    }
}

#[test]
fn the_attribute_asks_the_throttle_and_reports_outcomes() {
    let _paused = testing::pause();
    let mut calls = 0;
    assert_eq!(search_sync(false, &mut calls).unwrap(), 7);
    assert_eq!(calls, 1);
    let st = SYNC_THROTTLE.stats();
    assert_eq!((st.requests, st.accepts), (1, 1));
    // failures: soon the calls are rejected before they are made
    let mut throttled = 0;
    for _ in 0..200 {
        if let Err(SearchError::Throttled(_)) = search_sync(true, &mut calls) {
            throttled += 1;
        }
    }
    assert!(throttled > 100, "{throttled} of 200 throttled");
    let st = SYNC_THROTTLE.stats();
    assert_eq!(st.rejected, st.requests - u64::from(calls), "{st:?}");
}

static ASYNC_THROTTLE: Throttle = Throttle::new("async_search");

#[retry(attempts = 3, backoff = "exp(1s, 4s)", throttle = ASYNC_THROTTLE)]
async fn search_async(fail: bool) -> Result<u32, SearchError> {
    if fail {
        Err(SearchError::Overloaded)
    } else {
        Ok(7)
    }
}

#[tokio::test(start_paused = true)]
async fn the_async_attribute_asks_the_throttle() {
    assert_eq!(search_async(false).await.unwrap(), 7);
    let mut throttled = 0;
    for _ in 0..100 {
        if let Err(SearchError::Throttled(_)) = search_async(true).await {
            throttled += 1;
        }
    }
    assert!(throttled > 50, "{throttled} of 100 throttled");
    let st = ASYNC_THROTTLE.stats();
    assert_eq!(st.rejected + st.admitted, st.requests, "{st:?}");
}

#[test]
fn a_throttle_and_a_breaker_together() {
    static B: retry_runtime::CircuitBreaker = retry_runtime::CircuitBreaker::new("both");
    let t = overloaded_throttle(1_000_000);
    let policy = Policy::new().with_circuit(&B).with_throttle(t);
    let r: Result<(), std::io::Error> = policy.retry(|| Ok(())).call();
    let e = r.unwrap_err();
    assert!(e.to_string().contains("throttle `search`"), "{e}");
}

/// A call dropped mid-attempt (a `tokio::time::timeout` around it, a
/// client gone away) counts nothing: it showed nothing about the
/// dependency. (Its request was counted when it was let through, with no
/// outcome ever: with most calls cut short the throttle rejected calls to
/// a healthy dependency, half of them after one such call.)
#[tokio::test(start_paused = true)]
async fn a_call_dropped_mid_attempt_counts_nothing() {
    let t = leak(Throttle::new("search").with_clock(leak(ManualClock::new())));
    let policy = Policy::new().with_max_attempts(3).with_throttle(t);
    let calls = std::sync::atomic::AtomicU32::new(0);
    for _ in 0..100 {
        let call = policy.retry(|| async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<(), SearchError>(())
        });
        let cut = tokio::time::timeout(Duration::from_millis(10), call).await;
        assert!(cut.is_err(), "{cut:?}");
    }
    assert_eq!(calls.into_inner(), 100, "none throttled");
    let st = t.stats();
    assert_eq!((st.requests, st.accepts, st.rejected), (0, 0, 0), "{st:?}");
    assert_eq!((st.admitted, st.probability), (100, 0.0), "{st:?}");
}

/// A call dropped in its backoff wait counts its failed attempt, and not
/// the retry the throttle let through before the wait. (The retry was a
/// request with no outcome.)
#[tokio::test(start_paused = true)]
async fn a_call_dropped_mid_sleep_counts_no_request_for_the_retry() {
    let t = leak(Throttle::new("search").with_clock(leak(ManualClock::new())));
    // a dependency that has answered 1000 times: the retries are let
    // through whatever the 100 failures below add (p stays 0)
    for _ in 0..1000 {
        t.record(true);
    }
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(retry_runtime::Backoff::fixed(Duration::from_secs(3600)))
        .with_throttle(t);
    for _ in 0..100 {
        let mut calls = 0;
        let call = policy.retry(|| {
            calls += 1;
            async { Err::<(), _>(SearchError::Overloaded) }
        });
        let cut = tokio::time::timeout(Duration::from_millis(10), call).await;
        assert!(cut.is_err(), "{cut:?}");
        assert_eq!(calls, 1, "dropped in the wait");
    }
    let st = t.stats();
    assert_eq!((st.requests, st.accepts), (1100, 1000), "{st:?}");
    assert_eq!((st.admitted, st.rejected), (200, 0), "{st:?}");
    assert_eq!(st.probability, 0.0);
}

static CUT_THROTTLE: Throttle = Throttle::new("cut_search");

#[retry(attempts = 3, backoff = "exp(1s, 4s)", throttle = CUT_THROTTLE)]
async fn search_hanging(
    fail_first: bool,
    calls: &std::sync::atomic::AtomicU32,
) -> Result<u32, SearchError> {
    let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if fail_first && n == 0 {
        return Err(SearchError::Overloaded);
    }
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(7)
}

/// `#[retry(throttle = NAME)]`: a call dropped mid-attempt counts nothing,
/// one dropped in its wait only the attempt that failed.
#[tokio::test(start_paused = true)]
async fn the_attribute_counts_no_request_for_a_dropped_call() {
    for _ in 0..100 {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let cut =
            tokio::time::timeout(Duration::from_millis(10), search_hanging(false, &calls)).await;
        assert!(cut.is_err(), "{cut:?}");
        assert_eq!(calls.into_inner(), 1, "none throttled");
    }
    let st = CUT_THROTTLE.stats();
    assert_eq!(
        (st.requests, st.admitted, st.probability),
        (0, 100, 0.0),
        "{st:?}"
    );
    // one failure, then dropped in the 1s wait: the retry counts nothing
    // (ten accepts first: p stays 0, so the retry is let through)
    for _ in 0..10 {
        CUT_THROTTLE.record(true);
    }
    let calls = std::sync::atomic::AtomicU32::new(0);
    let cut = tokio::time::timeout(Duration::from_millis(10), search_hanging(true, &calls)).await;
    assert!(cut.is_err(), "{cut:?}");
    assert_eq!(calls.into_inner(), 1);
    let st = CUT_THROTTLE.stats();
    assert_eq!(
        (st.requests, st.accepts, st.admitted),
        (11, 10, 102),
        "{st:?}"
    );
}

/// A throttle that starts rejecting calls says so once, at its first
/// rejection, with its probability and its window's counts, not once per
/// rejection (an outage at 50 calls a second rejected 46 a second, each
/// seen at DEBUG only); when its probability is back to 0, or it is reset,
/// it says it stopped, once. Each episode has its pair of lines. A
/// probability above 0 that rejected nothing yet logs nothing.
#[test]
fn a_throttle_logs_when_it_starts_and_when_it_stops_rejecting() {
    use testkit::capture::{assert_fields, capture, field};
    use tracing::Level;
    let logs = capture();
    let clock = leak(ManualClock::new());
    testing::seed(7);
    // a quiet dependency's one failure: p = 1/9, and this call goes out
    let quiet = leak(Throttle::new("quietly").with_clock(clock));
    quiet.record(false);
    assert!(quiet.try_acquire().is_ok(), "let through with this seed");
    clock.advance(quiet.window());
    assert!(quiet.try_acquire().is_ok());
    logs.assert_not_logged("quietly");

    let t = leak(Throttle::new("logged").with_clock(clock));
    for _ in 0..100 {
        t.record(false); // p = 100 / 108
    }
    let rejected = (0..200).filter(|_| t.try_acquire().is_err()).count();
    assert!(rejected > 100, "{rejected} of 200 rejected");
    let warn = logs.assert_logged(Level::WARN, "throttle `logged`");
    assert!(
        warn.starts_with(
            "WARN throttle `logged` is rejecting calls locally: 92.6% of calls \
             (the dependency accepted 0 of the last 100 requests) | "
        ),
        "{warn}"
    );
    assert_fields(
        &warn,
        &[
            ("throttle", "logged"),
            ("requests", "100"),
            ("accepts", "0"),
        ],
    );
    let p: f64 = field(&warn, "probability").unwrap().parse().unwrap();
    assert_eq!(p, 100.0 / 108.0);
    assert!(logs.at(Level::INFO).is_empty(), "{:#?}", logs.lines());

    // a window later the failures have slid out: one INFO, at the first call
    clock.advance(t.window());
    for _ in 0..10 {
        assert!(t.try_acquire().is_ok());
    }
    let info = logs.assert_logged(Level::INFO, "throttle `logged`");
    assert_eq!(
        info,
        "INFO throttle `logged` stopped rejecting calls | throttle=logged"
    );

    // a second episode, ended by a reset
    for _ in 0..100 {
        t.record(false);
    }
    while t.try_acquire().is_ok() {}
    t.reset();
    t.reset(); // (not rejecting any more: no line)
    assert_eq!(logs.matching(Level::WARN, "throttle `logged`").len(), 2);
    assert_eq!(logs.matching(Level::INFO, "throttle `logged`").len(), 2);
}

/// A throttle hovering about 0 (a dependency accepting about 1/K of the
/// calls) does not log a pair of lines at each flip: its INFO waits until
/// a window has passed since its WARN, and it stays rejecting till then.
#[test]
fn a_flapping_throttle_logs_one_pair_a_window() {
    use testkit::capture::capture;
    use tracing::Level;
    let logs = capture();
    let clock = leak(ManualClock::new());
    testing::seed(11);
    let t = leak(Throttle::new("flapping").with_clock(clock));
    for _ in 0..3 {
        // failures until it rejects a call; then accepts until the
        // probability is back to 0 (bounded loops: a test that cannot hang)
        let rejected = (0..10_000).any(|_| {
            t.record(false);
            t.try_acquire().is_err()
        });
        assert!(rejected, "{:?}", t.stats());
        let calm = (0..10_000).any(|_| {
            t.record(true);
            t.probability() == 0.0
        });
        assert!(calm, "{:?}", t.stats());
        assert!(t.try_acquire().is_ok());
        clock.advance(t.window() / 10); // a bucket, not a window
    }
    assert_eq!(logs.matching(Level::WARN, "throttle `flapping`").len(), 1);
    assert!(logs.matching(Level::INFO, "throttle `flapping`").is_empty());
    // a window after the WARN, the first call at 0 says it stopped
    clock.advance(t.window());
    assert!(t.try_acquire().is_ok());
    assert!(t.try_acquire().is_ok());
    assert_eq!(logs.matching(Level::INFO, "throttle `flapping`").len(), 1);
    assert_eq!(logs.matching(Level::WARN, "throttle `flapping`").len(), 1);
}
