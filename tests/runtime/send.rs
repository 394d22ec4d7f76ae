//! The async executors hold no error across their sleep, so their futures
//! are `Send` (spawnable on a multi-threaded runtime) whenever the attempt
//! futures are, even for an error type that is not `Send`.

use std::fmt;
use std::future::IntoFuture;
use std::rc::Rc;
use std::time::Duration;

use retry_runtime::{Backoff, Policy};

/// An error that must stay on its thread.
#[derive(Debug)]
struct LocalError(Rc<str>);

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "local error: {}", self.0)
    }
}

const FAST: Policy = Policy::new()
    .with_attempts(3)
    .with_backoff(Backoff::fixed(Duration::from_millis(1)))
    .with_name("local")
    .checked();

fn assert_send<T: Send>(t: T) -> T {
    t
}

/// One attempt: the error is made after the attempt's last await, so the
/// attempt future itself is `Send`.
async fn attempt(n: u32) -> Result<u32, LocalError> {
    tokio::task::yield_now().await;
    if n < 3 {
        Err(LocalError(Rc::from(format!("call {n}"))))
    } else {
        Ok(n)
    }
}

#[test]
fn retry_async_futures_are_send_with_a_non_send_error() {
    let mut calls = 0;
    let plain = assert_send(
        FAST.retry(move || {
            calls += 1;
            attempt(calls)
        })
        .into_future(),
    );
    let mut calls = 0;
    let detailed = assert_send(
        FAST.retry(move || {
            calls += 1;
            attempt(calls)
        })
        .detailed()
        .into_future(),
    );
    drop((plain, detailed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_async_runs_in_a_spawned_task() {
    let task = tokio::spawn(async {
        let mut calls = 0;
        FAST.retry(move || {
            calls += 1;
            attempt(calls)
        })
        .await
        .map_err(|e| e.to_string())
    });
    assert_eq!(task.await.unwrap(), Ok(3));

    let task = tokio::spawn(async {
        FAST.retry(|| async { Err::<(), _>(LocalError(Rc::from("down"))) })
            .detailed()
            .await
            .map_err(|e| (e.attempts, e.to_string()))
    });
    assert_eq!(
        task.await.unwrap(),
        Err((
            3,
            "local failed after 3 attempts (attempts exhausted): local error: down".to_string()
        ))
    );
}
