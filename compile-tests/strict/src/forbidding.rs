//! The shapes again, under forbidden lints.
//!
//! Here rustc's lints that a generated `#[allow]` would clash with are
//! forbidden (as some crates do crate-wide): an `#[allow]`
//! of one of them in an expansion is an error here (E0453), and of a
//! member of the forbidden `unused` group, `forbidden_lint_groups` (denied
//! at the crate's root). Not beside `#[async_trait]`, whose own expansion
//! allows `unreachable_code`: [`super::Notes`] is under `unused_mut` alone.

#![forbid(unused)]
#![forbid(unreachable_code, unused_parens, unused_braces, unused_mut, deprecated)]

use core::fmt;
use core::future::pending;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

use retry_runtime::{retry, Attempt, Classify};

use super::{flaky, is_zero, ready, send, write_to, write_to_async, CallError};

/// `#[derive(Classify)]` under `forbid(deprecated)`: nothing is
/// deprecated here, so the impl allows nothing (its `#[allow(deprecated)]`
/// would be E0453).
#[derive(Debug, Clone, Copy, Classify)]
pub enum Forbidden {
    /// Worth another try.
    #[classify(Timeout)]
    Slow,
    /// A wrapped kind.
    #[classify(transparent)]
    Call(CallError),
}

impl fmt::Display for Forbidden {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("forbidden")
    }
}

/// The runtime's own sync loop.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 2, backoff = "none")]
pub fn plain(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The full sync loop: a breaker, a throttle and a budget.
///
/// # Errors
/// [`flaky`]'s, the breaker's or the throttle's.
#[inline]
#[retry(attempts = 3, backoff = "none", circuit = super::UPSTREAM, throttle = super::SEARCH, budget = super::RETRIES)]
pub fn guarded(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// `retry_if_ok` and an `#[attempt]` parameter in attempt spans, sync.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero, attempt_spans = true)]
pub fn ok_spanned(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    flaky(attempt.number)
}

/// A `mut` argument cloned for each attempt, and a `&mut` one re-borrowed.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", circuit = super::UPSTREAM, clone = body)]
pub fn cloned(mut body: String, out: &mut Vec<u8>) -> Result<usize, CallError> {
    body.push('!');
    let n = write_to(out, body.as_bytes())?;
    Ok(send(body, Vec::new()).saturating_add(n))
}

/// An async body of one awaited expression.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 2, backoff = "none")]
pub async fn awaited(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// An async body of statements, with attempt spans and a timeout.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "none", timeout = "1s", attempt_spans = true)]
pub async fn timed(x: &str) -> Result<usize, CallError> {
    let n = ready(0).await?;
    Ok(x.len().saturating_add(usize::from(n == 0)))
}

/// An async body with a timeout read from its argument (a value: a
/// `Duration` or an `Option<Duration>`).
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "none", timeout = limit)]
pub async fn timed_by(limit: Option<Duration>) -> Result<u32, CallError> {
    let n = ready(1).await?;
    Ok(n)
}

/// Async behind a breaker and a throttle, with `retry_if_ok`.
///
/// # Errors
/// [`flaky`]'s, the breaker's or the throttle's.
#[inline]
#[retry(attempts = 3, backoff = "none", circuit = super::UPSTREAM, throttle = super::SEARCH, retry_if_ok = is_zero)]
pub async fn guarded_async(x: u32) -> Result<u32, CallError> {
    let n = ready(x).await?;
    Ok(n)
}

/// Hedged, and hedged with a timeout and an `#[attempt]` parameter.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "none", hedge = "150ms", retry_on = Timeout)]
pub async fn hedged(key: &str) -> Result<usize, CallError> {
    let v = flaky(0)?;
    Ok(key.len().saturating_add(usize::from(v == 0)))
}

/// Hedged with a timeout and an `#[attempt]` parameter.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "none", hedge = "150ms", timeout = "1s")]
pub async fn hedged_timeout(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    flaky(attempt.number)
}

/// A `mut` argument cloned for each attempt and a `&mut` one re-borrowed,
/// async, with an `#[attempt]` parameter.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", clone = body)]
pub async fn cloned_async(
    mut body: String,
    out: &mut Vec<u8>,
    #[attempt] attempt: Attempt,
) -> Result<usize, CallError> {
    body.push('!');
    let n = write_to_async(out, body.as_bytes()).await?;
    let m = ready(attempt.number).await?;
    Ok(send(body, Vec::new())
        .saturating_add(n)
        .saturating_add(usize::from(m == 0)))
}

/// Returns `Result<(), E>`.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 2, backoff = "none", retry_on = Timeout)]
pub async fn unit(x: u32) -> Result<(), CallError> {
    let _: u32 = ready(x).await?;
    Ok(())
}

/// Stopped by a shutdown's signal (a future) and with an `#[attempt]`
/// parameter.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", stop_on = pending::<()>())]
pub async fn stopping(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    let n = ready(attempt.number).await?;
    flaky(n)
}

/// Stopped by a shutdown's signal, behind `retry_if_ok` (the predicate
/// asked before the signal).
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", stop_on = pending::<()>(), retry_if_ok = is_zero)]
pub async fn stopping_polls(x: u32) -> Result<u32, CallError> {
    let n = ready(x).await?;
    flaky(n)
}

/// A sync function stopped by a flag, behind `retry_if_ok`.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", stop_when = stop.load(Ordering::Relaxed), retry_if_ok = is_zero)]
pub fn stopping_sync(stop: &AtomicBool, x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A timer of the caller's that does not wait.
async fn nap(_wait: Duration) {}

/// A blocking sleeper of the caller's that does not block.
const fn block(_wait: Duration) {}

/// On a sleeper of the caller's, with a timeout and a stop signal.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "fixed(1s)", timeout = "1s", stop_on = pending::<()>(), sleeper = nap)]
pub async fn on_a_sleeper(x: u32) -> Result<u32, CallError> {
    let n = ready(x).await?;
    flaky(n)
}

/// A sync function on a blocking sleeper of the caller's, in both loops.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "fixed(1s)", sleeper = block)]
pub fn on_a_blocking_sleeper(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The full sync loop on a blocking sleeper.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "fixed(1s)", retry_if_ok = is_zero, sleeper = block)]
pub fn on_a_blocking_sleeper_polls(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A schedule of waits, in the policy's `const` block.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 4, backoff = "schedule(1s, 5s, 30s)", jitter = "+10%")]
pub async fn on_a_schedule(x: u32) -> Result<u32, CallError> {
    let n = ready(x).await?;
    flaky(n)
}
