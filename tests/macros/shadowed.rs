//! `#[retry]` in a module whose own types are named like the primitives
//! (`bool`, `str`, `u32`, `u64`, `usize`, `u128`, `f64`): the expansion
//! names each primitive by its full path, so every key still compiles, as
//! the derive's `why_permanent` does (derive_why.rs's `a_type_named_str`).
//! A bare `bool` in the expansion (`retry_if`'s closure) failed to compile
//! here.

#![allow(non_camel_case_types, dead_code)]

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::{retry, Attempt, AttemptTimeout, ErrorKind, GiveUpEvent, RetryEvent};

/// Not the primitives.
pub struct bool;
pub struct str;
pub struct u32;
pub struct u64;
pub struct usize;
pub struct u128;
pub struct f64;

#[derive(Debug, PartialEq, retry_runtime::Classify, thiserror::Error)]
enum Fail {
    #[error("timed out")]
    #[classify(Timeout)]
    Timeout,
    #[error("gone")]
    #[classify(Permanent, why = "gone")]
    Gone,
}

impl From<AttemptTimeout> for Fail {
    fn from(_: AttemptTimeout) -> Fail {
        Fail::Timeout
    }
}

thread_local! {
    static CALLS: Cell<i32> = const { Cell::new(0) };
    static SLEPT: Cell<i32> = const { Cell::new(0) };
}

fn transient(e: &Fail) -> core::primitive::bool {
    *e == Fail::Timeout
}

fn empty(v: &Option<i32>) -> core::primitive::bool {
    v.is_none()
}

fn slept(_: &RetryEvent<'_>) {
    SLEPT.with(|s| s.set(s.get() + 1));
}

fn gave_up(_: &GiveUpEvent<'_>) {}

fn next_call() -> i32 {
    CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

#[retry(attempts = 3, backoff = "exp(1s, 4s)", jitter = "full", retry_if = transient,
        before_sleep = slept, on_give_up = gave_up, max_elapsed = "1m", name = "shadowed")]
fn sync_retry_if(#[attempt] attempt: Attempt) -> Result<core::primitive::u32, Fail> {
    next_call();
    if attempt.number < 3 {
        Err(Fail::Timeout)
    } else {
        Ok(attempt.number)
    }
}

#[retry(attempts = 4, backoff = "fixed(1s)", retry_if_ok = empty)]
fn sync_retry_if_ok() -> Result<Option<i32>, Fail> {
    let n = next_call();
    Ok((n >= 2).then_some(n))
}

#[retry(attempts = 3, backoff = "exp(1s, 4s)", retry_on = Timeout, timeout = "10s",
        before_sleep = slept)]
async fn async_retry_on(#[attempt] attempt: Attempt) -> Result<core::primitive::u64, Fail> {
    next_call();
    match attempt.number {
        1 => Err(Fail::Timeout),
        2 => Err(Fail::Gone),
        _ => Ok(7),
    }
}

#[retry(attempts = 3, backoff = "none", retry_if = transient, stop_when = false)]
fn sync_stop_when() -> Result<(), Fail> {
    next_call();
    Err(Fail::Timeout)
}

#[test]
fn every_key_compiles_beside_types_named_like_primitives() {
    let _paused = retry_runtime::testing::pause();
    CALLS.with(|c| c.set(0));
    assert_eq!(sync_retry_if(), Ok(3));
    assert_eq!(CALLS.with(Cell::get), 3);
    assert_eq!(SLEPT.with(Cell::get), 2);

    CALLS.with(|c| c.set(0));
    assert_eq!(sync_retry_if_ok(), Ok(Some(2)));

    CALLS.with(|c| c.set(0));
    assert_eq!(sync_stop_when(), Err(Fail::Timeout));
    assert_eq!(CALLS.with(Cell::get), 3);
    let _ = Duration::ZERO;
    let _ = ErrorKind::Timeout;
}

#[tokio::test(start_paused = true)]
async fn an_async_function_too() {
    CALLS.with(|c| c.set(0));
    // the second attempt's Gone is Permanent: no third
    assert_eq!(async_retry_on().await, Err(Fail::Gone));
    assert_eq!(CALLS.with(Cell::get), 2);
}
