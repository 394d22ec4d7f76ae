//! The async executors hold no error across their sleep, so their futures
//! are `Send` (spawnable on a multi-threaded runtime) whenever the attempt
//! futures are, even for an error type that is not `Send`. A hedged run
//! keeps errors while other attempts run: `Send` with a `Send` error.

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
    .with_max_attempts(3)
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

/// A `Send` error for the hedged runs, which keep errors across awaits.
#[derive(Debug)]
struct SharedError(std::sync::Arc<str>);

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shared error: {}", self.0)
    }
}

async fn shared_attempt(n: u32) -> Result<u32, SharedError> {
    tokio::time::sleep(Duration::from_millis(if n == 1 { 500 } else { 1 })).await;
    if n < 3 {
        Err(SharedError(std::sync::Arc::from(format!("call {n}"))))
    } else {
        Ok(n)
    }
}

#[retry_runtime::retry(attempts = 3, hedge = "10ms", backoff = "fixed(1ms)")]
async fn hedged_read(calls: &std::sync::atomic::AtomicU32) -> Result<u32, SharedError> {
    shared_attempt(calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1).await
}

/// A hedged call keeps failed attempts' errors while others run, so its
/// future is `Send` when the error type is `Send` too (a `!Send` one, an
/// `Rc`, is the compile-fail case `fail_hedge_not_send_error.rs`): both
/// forms, spawned (`tokio::spawn` asks for `Send` on any runtime).
#[tokio::test(start_paused = true)]
async fn hedged_futures_are_send_with_a_send_error() {
    let hedging = FAST.with_hedge(Duration::from_millis(10));
    let task = tokio::spawn(assert_send(async move {
        let mut calls = 0;
        hedging
            .retry(move || {
                calls += 1;
                shared_attempt(calls)
            })
            .detailed()
            .hedged()
            .await
            .map(|done| (done.value, done.attempts))
            .map_err(|e| e.to_string())
    }));
    assert_eq!(task.await.unwrap(), Ok((3, 3)));

    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let task = tokio::spawn(assert_send(hedged_read(&CALLS)));
    assert_eq!(task.await.unwrap().map_err(|e| e.to_string()), Ok(3));
}

// --- `&mut` arguments of a type that is `Send` but not `Sync` ---

/// The first attempt's error.
#[derive(Debug, PartialEq)]
struct Busy;

impl fmt::Display for Busy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("busy")
    }
}

/// A client holding what is `Send` but not `Sync`, as service structs
/// often do (a boxed callback, a `Cell` counter).
struct Client {
    hook: Box<dyn Fn(u32) + Send>,
    calls: std::cell::Cell<u32>,
}

impl Client {
    /// A body that reads through `&mut self` across an await (no change
    /// made through it): each attempt borrows `self` uniquely, so the
    /// future is `Send` as the function's is without the attribute.
    #[retry_runtime::retry(attempts = 3, backoff = "none")]
    async fn fetch(&mut self, id: u32) -> Result<u32, Busy> {
        tokio::task::yield_now().await;
        (self.hook)(id);
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() < 2 {
            return Err(Busy);
        }
        Ok(self.calls.get())
    }
}

#[async_trait::async_trait]
trait Fetch {
    async fn fetch_boxed(&mut self, id: u32) -> Result<u32, Busy>;
}

#[async_trait::async_trait]
impl Fetch for Client {
    // `#[async_trait]` boxes the future as `dyn Future + Send`: it would not
    // compile if the attempts borrowed `self` shared.
    #[retry_runtime::retry(attempts = 3, backoff = "none")]
    async fn fetch_boxed(&mut self, id: u32) -> Result<u32, Busy> {
        tokio::task::yield_now().await;
        (self.hook)(id);
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() < 2 {
            return Err(Busy);
        }
        Ok(self.calls.get())
    }
}

/// A `&mut T` argument read (not changed) across an await.
#[retry_runtime::retry(attempts = 3, backoff = "none")]
async fn count(counter: &mut std::cell::Cell<u32>) -> Result<u32, Busy> {
    tokio::task::yield_now().await;
    counter.set(counter.get() + 1);
    if counter.get() < 2 {
        return Err(Busy);
    }
    Ok(counter.get())
}

/// The same, generic over a `T: Send` (no `Sync` asked).
#[retry_runtime::retry(attempts = 3, backoff = "none")]
async fn show<T: Send + fmt::Debug>(value: &mut T) -> Result<usize, Busy> {
    tokio::task::yield_now().await;
    let shown = format!("{value:?}");
    if shown.is_empty() {
        return Err(Busy);
    }
    Ok(shown.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mut_arguments_of_send_not_sync_types_are_spawnable() {
    let client = || Client {
        hook: Box::new(|_| {}),
        calls: std::cell::Cell::new(0),
    };
    let fetched = tokio::spawn(async move {
        let mut c = client();
        c.fetch(7).await
    });
    assert_eq!(fetched.await.unwrap(), Ok(2));
    let boxed = tokio::spawn(async move {
        let mut c = client();
        c.fetch_boxed(7).await
    });
    assert_eq!(boxed.await.unwrap(), Ok(2));
    let counted = tokio::spawn(async move {
        let mut n = std::cell::Cell::new(0);
        count(&mut n).await
    });
    assert_eq!(counted.await.unwrap(), Ok(2));
    let shown = tokio::spawn(async move {
        let mut v = std::cell::Cell::new(5u8);
        show(&mut v).await
    });
    assert_eq!(shown.await.unwrap(), Ok("Cell { value: 5 }".len()));
}

/// A job that is `Send` but not `Sync` (a `RefCell`), taken by value and
/// cloned for each attempt (`clone = job`).
#[derive(Clone)]
struct Job {
    notes: std::cell::RefCell<Vec<u32>>,
}

/// Each attempt's clone is made before its block and moved in: the block
/// holds a `Job`, not a `&Job`, so the future is `Send` as without the
/// attribute.
#[retry_runtime::retry(attempts = 3, backoff = "none", clone = job)]
async fn run_job(job: Job, calls: &std::sync::atomic::AtomicU32) -> Result<usize, Busy> {
    tokio::task::yield_now().await;
    job.notes.borrow_mut().push(7);
    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
        return Err(Busy);
    }
    Ok(job.notes.borrow().len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloned_argument_of_a_send_not_sync_type_is_spawnable() {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let job = Job {
        notes: std::cell::RefCell::new(vec![1]),
    };
    let done = tokio::spawn(run_job(job, &CALLS));
    // the second attempt's own clone: the first attempt's note is not in it
    assert_eq!(done.await.unwrap(), Ok(2));
    assert_eq!(CALLS.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A poll whose value stays on its thread (an `Rc` made after the
/// attempt's last await): `.retry_if_ok(..)` without a stop keeps nothing
/// of a rejected value through its wait, so the future is `Send` as it is
/// without the check, spawned from inside the task (the `Retry` too holds
/// no value); only a stop signal keeps the value for its wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_if_ok_future_is_send_with_a_value_that_is_not() {
    let task = tokio::spawn(async {
        let mut calls = 0;
        let polled = FAST
            .retry(move || {
                calls += 1;
                let n = calls;
                async move {
                    tokio::task::yield_now().await;
                    Ok::<_, LocalError>(Rc::new(n))
                }
            })
            .retry_if_ok(|n: &Rc<u32>| **n < 3);
        let polled = assert_send(polled.into_future());
        *polled.await.map_err(|e| e.to_string()).unwrap()
    });
    assert_eq!(task.await.unwrap(), 3);
}
