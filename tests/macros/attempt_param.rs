//! An `#[attempt]` parameter: the body of a `#[retry]` function reads the
//! attempt it is making; callers do not pass it.

use std::cell::RefCell;
use std::time::Duration;

use retry_runtime::{retry, testing, Attempt, ErrorKind};

thread_local!(static SEEN: RefCell<Vec<Attempt>> = const { RefCell::new(Vec::new()) });

fn seen() -> Vec<Attempt> {
    SEEN.with(|s| s.borrow_mut().drain(..).collect())
}

fn timed_out() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::TimedOut)
}

#[retry(attempts = 3, backoff = "fixed(1s)", max_elapsed = "1m", retry_on = Timeout)]
fn sync_fetch(id: u32, #[attempt] attempt: Attempt) -> Result<u32, std::io::Error> {
    SEEN.with(|s| s.borrow_mut().push(attempt));
    if attempt.number < 3 {
        return Err(timed_out());
    }
    Ok(id + attempt.previous_attempts())
}

#[test]
fn a_sync_body_reads_its_attempt_and_callers_do_not_pass_it() {
    let _paused = testing::pause();
    assert_eq!(sync_fetch(40).unwrap(), 42);
    let seen = seen();
    let numbers: Vec<u32> = seen.iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(seen[0].previous_kind, None);
    assert_eq!(seen[2].previous_kind, Some(ErrorKind::Timeout));
    assert!(seen.iter().all(|a| a.max == 3));
    let left = seen[2].remaining.unwrap();
    assert!(
        left <= Duration::from_secs(58) && left > Duration::from_secs(57),
        "{left:?}"
    );
}

#[retry(attempts = 2, backoff = "fixed(5s)", timeout = "1s")]
async fn async_fetch(#[attempt] a: Attempt, name: &str) -> Result<String, std::io::Error> {
    if a.number == 1 {
        tokio::time::sleep(Duration::from_secs(10)).await; // times out
    }
    Ok(format!(
        "{name} on attempt {} after {:?}",
        a.number, a.elapsed
    ))
}

#[tokio::test(start_paused = true)]
async fn an_async_body_with_a_timeout_reads_its_attempt() {
    let out = async_fetch("clip").await.unwrap();
    // the first attempt timed out after 1s, then the 5s wait
    assert_eq!(out, "clip on attempt 2 after 6s");
}

#[retry(attempts = 2, backoff = "none")]
async fn inline_body(#[attempt] a: Attempt) -> Result<u32, std::io::Error> {
    Ok(a.number)
}

#[tokio::test]
async fn an_inline_async_body_reads_its_attempt() {
    assert_eq!(inline_body().await.unwrap(), 1);
}
