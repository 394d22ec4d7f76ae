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

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn always_failing(#[attempt] a: Attempt) -> Result<(), Counted> {
    SEEN.with(|s| s.borrow_mut().push(a));
    Err(Counted)
}

#[test]
fn a_body_reading_its_attempt_has_each_failure_classified_once() {
    CLASSIFIED.with(|c| c.set(0));
    assert!(always_failing().is_err());
    let kinds: Vec<_> = seen().iter().map(|a| a.previous_kind).collect();
    assert_eq!(
        kinds,
        [None, Some(ErrorKind::Timeout), Some(ErrorKind::Timeout)]
    );
    assert_eq!(CLASSIFIED.with(std::cell::Cell::get), 3);
}

fn is_empty(v: &[u32]) -> bool {
    v.is_empty()
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout, retry_if_ok = is_empty)]
fn empty_then_full(#[attempt] a: Attempt) -> Result<Vec<u32>, std::io::Error> {
    SEEN.with(|s| s.borrow_mut().push(a));
    match a.number {
        1 => Err(timed_out()),
        2 => Ok(Vec::new()),
        _ => Ok(vec![a.number]),
    }
}

#[test]
fn after_a_rejected_result_the_previous_kind_is_none() {
    assert_eq!(empty_then_full().unwrap(), [3]);
    let kinds: Vec<_> = seen().iter().map(|a| a.previous_kind).collect();
    // attempt 2 follows a timeout; attempt 3 follows an `Ok` that was
    // rejected, which has no error kind
    assert_eq!(kinds, [None, Some(ErrorKind::Timeout), None]);
}

/// What to use in a trait method instead: `#[attempt]` on a native `async
/// fn` in a trait (the impl's signature then matches the trait's), or, on
/// an `#[async_trait]` method (where `#[attempt]` is refused, see
/// compile-tests' `fail_attempt_async_trait.rs`), the context form.
trait Repo {
    async fn load(&self, id: u32) -> Result<u32, std::io::Error>;
}

#[async_trait::async_trait]
trait BoxedRepo {
    async fn load(&self, id: u32) -> Result<u32, std::io::Error>;
}

struct Flaky;

impl Repo for Flaky {
    #[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
    async fn load(&self, id: u32, #[attempt] a: Attempt) -> Result<u32, std::io::Error> {
        if a.number < 2 {
            return Err(timed_out());
        }
        Ok(id + a.number)
    }
}

#[async_trait::async_trait]
impl BoxedRepo for Flaky {
    async fn load(&self, id: u32) -> Result<u32, std::io::Error> {
        retry_runtime::Policy::new()
            .with_max_attempts(3)
            .with_backoff(retry_runtime::Backoff::fixed(Duration::ZERO))
            .retry(|a: Attempt| async move {
                if a.number < 2 {
                    return Err(timed_out());
                }
                Ok(id + a.number)
            })
            .context()
            .await
    }
}

#[tokio::test]
async fn a_trait_method_reads_its_attempt_natively_or_by_the_context_form() {
    assert_eq!(Repo::load(&Flaky, 40).await.unwrap(), 42);
    assert_eq!(BoxedRepo::load(&Flaky, 40).await.unwrap(), 42);
}
