//! `Retry::notify_error`: a per-call hook told of each retry with the
//! error retried, as its type (backon's `.notify(|err, dur| ..)`), in the
//! sync, async and hedged forms; not of a retry of an `Ok` that
//! `retry_if_ok` rejected (no error), which `.notify` hears of.

use std::io::{self, ErrorKind::*};
use std::time::Duration;

use retry_runtime::{Policy, RetryEvent};

fn failing(kinds: &[io::ErrorKind]) -> impl FnMut() -> Result<u32, io::Error> + '_ {
    let mut next = kinds.iter();
    move || match next.next() {
        Some(kind) => Err(io::Error::from(*kind)),
        None => Ok(7),
    }
}

#[test]
fn a_sync_call_tells_the_hook_each_error_as_its_type() {
    let _paused = retry_runtime::testing::pause();
    let mut told = Vec::new();
    let r = Policy::new()
        .with_max_attempts(4)
        .retry(failing(&[ConnectionRefused, TimedOut]))
        .notify_error(|e: &io::Error, ev| told.push((ev.attempt, ev.wait, e.kind())))
        .call();
    assert_eq!(r.unwrap(), 7);
    assert_eq!(
        told,
        [
            (1, Duration::from_secs(1), ConnectionRefused),
            (2, Duration::from_secs(2), TimedOut)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn an_async_call_and_a_hedged_one_tell_it_too() {
    let mut told = Vec::new();
    let mut op = failing(&[ConnectionReset]);
    let r = Policy::new()
        .retry(|| std::future::ready(op()))
        .notify_error(|e: &io::Error, ev: &RetryEvent<'_>| told.push((ev.attempt, e.kind())))
        .detailed()
        .await
        .unwrap();
    assert_eq!((r.value, r.attempts), (7, 2));
    assert_eq!(told, [(1, ConnectionReset)]);

    let mut told = Vec::new();
    let mut op = failing(&[BrokenPipe, TimedOut]);
    let r = Policy::new()
        .with_hedge(Duration::from_millis(100))
        .retry(|| std::future::ready(op()))
        .notify_error(|e: &io::Error, ev| told.push((ev.attempt, e.kind())))
        .hedged()
        .await;
    assert_eq!(r.unwrap(), 7);
    assert_eq!(told, [(1, BrokenPipe), (2, TimedOut)]);
}

#[test]
fn a_rejected_ok_is_retried_without_telling_the_error_hook() {
    let _paused = retry_runtime::testing::pause();
    let mut calls = 0;
    let mut told = Vec::new();
    let r = Policy::new()
        .with_max_attempts(4)
        .retry(|| {
            calls += 1;
            match calls {
                1 => Err(io::Error::from(TimedOut)),
                2 => Ok(0), // pending: rejected below
                _ => Ok(calls),
            }
        })
        .retry_if_ok(|v: &u32| *v == 0)
        .notify_error(|e: &io::Error, ev| told.push((ev.attempt, e.kind())))
        .call();
    assert_eq!(r.unwrap(), 3);
    assert_eq!(
        told,
        [(1, TimedOut)],
        "the rejected Ok's retry has no error"
    );
}
