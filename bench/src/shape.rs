//! The async shape an issue asks us to measure: a retrying async fn generic
//! over its operation, which it takes by reference,
//!
//! ```text
//! #[retry(attempts = 6, backoff = "none")]
//! async fn attempt<F: Fn() -> Fut, Fut: Future<Output = Result<u64, Fail>>>(op: &F) -> Result<u64, Fail> { op().await }
//! ```
//!
//! called as `async move { attempt(&op).await }` with an `op` that calls the
//! never-inlined [`op`](crate::op::op) in an `async move` block, on a
//! current-thread runtime. Every contestant here has that shape (generic over
//! `F` and `Fut`, `op: &F`) and the same policy: every error retried, at most
//! [`ATTEMPTS`] calls, zero wait. `Fail` is the bench's [`OpError`].

use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::time::Duration;

use backon::{ConstantBuilder, Retryable};
use retry_runtime::{retry, Backoff, Policy};
use tokio_retry2::strategy::FixedInterval;
use tokio_retry2::{MapErr, Retry, RetryError};

use crate::contestants::{hand_loop_over, UpTo};
use crate::op::{OpError, Script};

/// Calls at most, the first included: the issue's `attempts = 6`.
pub const ATTEMPTS: u32 = 6;
/// Retries at most: what backon, backoff and tokio-retry2 count.
pub const RETRIES: usize = ATTEMPTS as usize - 1;

/// This library's functional API, with this shape's policy.
static POLICY: Policy = Policy::new()
    .with_max_attempts(ATTEMPTS)
    .with_backoff(Backoff::None);

/// The operation the contestants take by reference: the never-inlined
/// [`op`](crate::op::op), its call wrapped in an `async move` block. It
/// captures only a `&'static Script`, so it is `Copy`; its future holds that
/// reference. (A macro: a function returning the closure cannot name its
/// future, `impl Fn() -> impl Future` being refused.)
macro_rules! op_closure {
    ($s:expr) => {{
        let s: &'static $crate::op::Script = $s;
        move || async move { $crate::op::op(s) }
    }};
}
pub(crate) use op_closure;

// ---- the contestants, each `fn<F, Fut>(op: &F) -> impl Future` ----------

/// The floor of the success path: the op, awaited once.
pub async fn direct<F, Fut>(op: &F) -> Result<u64, OpError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    op().await
}

/// The floor of a run with retries: `ATTEMPTS` awaited calls in a row.
pub async fn direct_n<F, Fut>(op: &F) -> Result<u64, OpError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    let mut last = op().await;
    for _ in 1..ATTEMPTS {
        last = black_box(op().await);
    }
    last
}

/// A hand-written `for` loop with tokio's sleep, skipped when the wait is zero.
pub fn hand_loop<F, Fut>(op: &F) -> impl Future<Output = Result<u64, OpError>> + use<'_, F, Fut>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    hand_loop_over::<ATTEMPTS, _, _>(op)
}

/// The issue's function, as written there.
#[retry(attempts = 6, backoff = "none")]
pub async fn attempt<F: Fn() -> Fut, Fut: Future<Output = Result<u64, OpError>>>(
    op: &F,
) -> Result<u64, OpError> {
    op().await
}

/// `POLICY.retry(|| op())`, awaited.
pub fn ours_fn<F, Fut>(op: &F) -> impl Future<Output = Result<u64, OpError>> + use<'_, F, Fut>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    // As the issue writes it (`op` itself, a `&F`, would do as well).
    #[allow(clippy::redundant_closure)]
    POLICY.retry(move || op()).into_future()
}

/// backon's `Retryable` (tokio sleeper), its policy built on each call.
pub fn backon<F, Fut>(op: &F) -> impl Future<Output = Result<u64, OpError>> + use<'_, F, Fut>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    (move || op()).retry(
        ConstantBuilder::new()
            .with_delay(Duration::ZERO)
            .with_max_times(RETRIES),
    )
}

/// The attempt backoff's `future::retry` needs: its error type wrapped.
pub async fn backoff_attempt<F, Fut>(op: &F) -> Result<u64, backoff::Error<OpError>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    op().await.map_err(backoff::Error::transient)
}

/// backoff's `future::retry` (tokio's timer).
pub fn backoff<F, Fut>(op: &F) -> impl Future<Output = Result<u64, OpError>> + use<'_, F, Fut>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    backoff::future::retry(UpTo::new(RETRIES), move || backoff_attempt(op))
}

/// The attempt tokio-retry2 needs: its error type wrapped.
pub async fn tokio_retry2_attempt<F, Fut>(op: &F) -> Result<u64, RetryError<OpError>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    op().await.map_transient_err()
}

/// tokio-retry2's `Retry::spawn` (tokio's timer).
pub fn tokio_retry2<F, Fut>(op: &F) -> impl Future<Output = Result<u64, OpError>> + use<'_, F, Fut>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    Retry::spawn(
        FixedInterval::new(Duration::ZERO).take(RETRIES),
        move || tokio_retry2_attempt(op),
    )
}

// ---- the calls the harness times ------------------------------------------

/// `fn(&'static Script) -> impl Future` for each contestant: the call
/// `contestant(&op)` wrapped in an `async move` block that owns the op.
macro_rules! calls {
    ($($name:ident => $contestant:ident),* $(,)?) => {$(
        #[doc = concat!("`async move { ", stringify!($contestant), "(&op).await }`.")]
        pub fn $name(s: &'static Script) -> impl Future<Output = Result<u64, OpError>> {
            let op = op_closure!(s);
            async move { $contestant(&op).await }
        }
    )*};
}

calls!(
    call_direct => direct,
    call_direct_n => direct_n,
    call_hand_loop => hand_loop,
    call_attempt => attempt,
    call_ours_fn => ours_fn,
    call_backon => backon,
    call_backoff => backoff,
    call_tokio_retry2 => tokio_retry2,
);
