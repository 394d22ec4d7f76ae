//! The context form: the operation is handed the attempt it is about to
//! make, sync and async, with the time left before `max_elapsed` and the
//! previous failure's kind.

use std::future::IntoFuture;
use std::time::Duration;

use retry_runtime::{testing, Attempt, Backoff, ErrorKind, KindSet, Policy};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn timed_out() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::TimedOut)
}

fn policy() -> Policy<retry_runtime::RetryOn> {
    Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(s(10)))
        .with_max_elapsed(s(60))
        .retry_on(KindSet::TRANSIENT)
}

#[test]
fn a_sync_body_sees_each_attempt_its_time_left_and_the_previous_kind() {
    let _paused = testing::pause();
    let mut seen = Vec::new();
    let out = policy()
        .retry(|a: Attempt| {
            seen.push(a);
            if a.number < 3 {
                Err(timed_out())
            } else {
                Ok(a.number)
            }
        })
        .context()
        .detailed()
        .call()
        .unwrap();
    assert_eq!((out.value, out.attempts), (3, 3));
    let numbers: Vec<u32> = seen.iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(seen.iter().all(|a| a.max == 4));
    assert_eq!(seen[0].previous_kind, None);
    assert_eq!(seen[1].previous_kind, Some(ErrorKind::Timeout));
    // the virtual clock moved 10s per wait: the time left shrinks with it
    let left: Vec<Duration> = seen.iter().map(|a| a.remaining.unwrap()).collect();
    assert!(left[0] <= s(60) && left[0] > s(59), "{left:?}");
    assert!(left[1] <= s(50) && left[1] > s(49), "{left:?}");
    assert!(left[2] <= s(40) && left[2] > s(39), "{left:?}");
    assert!(seen[2].elapsed >= s(20));
    assert_eq!(seen[2].previous_attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_async_body_sees_each_attempt() {
    let mut numbers = Vec::new();
    let out = policy()
        .retry(|a: Attempt| {
            numbers.push((a.number, a.previous_kind));
            async move {
                if a.number < 2 {
                    Err(timed_out())
                } else {
                    Ok(a.elapsed)
                }
            }
        })
        .context()
        .await
        .unwrap();
    assert_eq!(numbers, [(1, None), (2, Some(ErrorKind::Timeout))]);
    assert!(
        out >= s(10),
        "the second attempt starts after the 10s wait: {out:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn without_max_elapsed_there_is_no_time_left_to_report() {
    let r = Policy::new()
        .retry(|a: Attempt| async move { Ok::<_, std::io::Error>(a.remaining) })
        .context()
        .into_future()
        .await;
    assert_eq!(r.unwrap(), None);
}

/// An error that counts how often it is classified.
#[derive(Debug)]
struct Counted;

thread_local!(static CLASSIFIED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("counted")
    }
}

impl retry_runtime::Classify for Counted {
    fn kind(&self) -> ErrorKind {
        CLASSIFIED.with(|c| c.set(c.get() + 1));
        ErrorKind::Timeout
    }
}

fn classified() -> u32 {
    CLASSIFIED.with(|c| c.replace(0))
}

#[test]
fn a_sync_context_run_classifies_each_failure_once() {
    let _paused = testing::pause();
    classified();
    let mut kinds = Vec::new();
    let r: Result<(), Counted> = policy()
        .retry(|a: Attempt| {
            kinds.push(a.previous_kind);
            Err(Counted)
        })
        .context()
        .call();
    assert!(r.is_err());
    assert_eq!(
        kinds,
        [
            None,
            Some(ErrorKind::Timeout),
            Some(ErrorKind::Timeout),
            Some(ErrorKind::Timeout)
        ]
    );
    assert_eq!(
        classified(),
        4,
        "one verdict per failure, which also tells the next attempt its kind"
    );
}

#[tokio::test(start_paused = true)]
async fn an_async_context_run_classifies_each_failure_once() {
    classified();
    let mut kinds = Vec::new();
    let r: Result<(), Counted> = policy()
        .retry(|a: Attempt| {
            kinds.push(a.previous_kind);
            async { Err(Counted) }
        })
        .context()
        .await;
    assert!(r.is_err());
    assert_eq!(kinds.len(), 4);
    assert_eq!(kinds[3], Some(ErrorKind::Timeout));
    assert_eq!(classified(), 4);
}
