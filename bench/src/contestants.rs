//! The contestants, all with the same policy: every error retried, at most
//! [`ATTEMPTS`] calls, zero wait between them. Each wraps the same op
//! ([`op`] / [`op_async`]) and returns its `Result<u64, OpError>` unchanged.

use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::time::Duration;

use backon::{BlockingRetryable, ConstantBuilder, Retryable};
use retry_runtime::{retry, Backoff, Policy};
use tokio_retry2::strategy::FixedInterval;
use tokio_retry2::{MapErr, Retry, RetryError};

use crate::op::{op, op_async, OpError, Script};

/// Calls at most, the first included.
pub const ATTEMPTS: u32 = 5;
/// Retries at most: what backon, backoff and tokio-retry2 count.
pub const RETRIES: usize = ATTEMPTS as usize - 1;

/// A sync contestant.
pub type SyncFn = fn(&Script) -> Result<u64, OpError>;

/// The hand loop's wait, as a policy would compute it: zero, but not known to
/// the compiler, so the loop keeps its sleep branch (and, async, its `Sleep`).
#[inline(always)]
pub fn hand_wait() -> Duration {
    black_box(Duration::ZERO)
}

/// This library's functional API. A `static`, as a user keeps a policy in a
/// `const` or `static` (the attribute promotes its policy to a `&'static` too).
static POLICY: Policy = Policy::new()
    .with_max_attempts(ATTEMPTS)
    .with_backoff(Backoff::None);

/// backon's policy: built on each call, as backon is used.
fn backon_policy() -> ConstantBuilder {
    ConstantBuilder::new()
        .with_delay(Duration::ZERO)
        .with_max_times(RETRIES)
}

/// backoff 0.4 has no attempt limit of its own (`Constant` and `Zero` retry
/// forever): this is its `Backoff` trait with a limit, zero waits.
pub struct UpTo {
    retries: usize,
    left: usize,
}

impl UpTo {
    pub fn new(retries: usize) -> Self {
        UpTo {
            retries,
            left: retries,
        }
    }
}

impl backoff::backoff::Backoff for UpTo {
    fn reset(&mut self) {
        self.left = self.retries;
    }

    fn next_backoff(&mut self) -> Option<Duration> {
        self.left = self.left.checked_sub(1)?;
        Some(Duration::ZERO)
    }
}

fn backoff_inner(e: backoff::Error<OpError>) -> OpError {
    match e {
        backoff::Error::Permanent(err) | backoff::Error::Transient { err, .. } => err,
    }
}

// ---- sync ---------------------------------------------------------------

/// The op itself, no retry.
#[inline(never)]
pub fn direct(s: &Script) -> Result<u64, OpError> {
    op(s)
}

/// The floor of a run with retries: `ATTEMPTS` calls in a row, no logic.
#[inline(never)]
pub fn direct_n(s: &Script) -> Result<u64, OpError> {
    let mut last = op(s);
    for _ in 1..ATTEMPTS {
        last = black_box(op(s));
    }
    last
}

/// A hand-written `for` loop: no sleep when the wait is zero.
#[inline(never)]
pub fn hand_loop(s: &Script) -> Result<u64, OpError> {
    for attempt in 1..=ATTEMPTS {
        match op(s) {
            Ok(v) => return Ok(v),
            Err(e) if attempt == ATTEMPTS => return Err(e),
            Err(_) => {}
        }
        let wait = hand_wait();
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
    unreachable!("the last attempt returns")
}

/// `#[retry]` on a sync fn.
#[retry(attempts = 5, backoff = "none")]
#[inline(never)]
pub fn ours_attr(s: &Script) -> Result<u64, OpError> {
    op(s)
}

/// `Policy::retry`.
#[inline(never)]
pub fn ours_fn(s: &Script) -> Result<u64, OpError> {
    POLICY.retry(|| op(s)).call()
}

/// backon's `BlockingRetryable` (sleeps with `std::thread::sleep`).
#[inline(never)]
pub fn backon_sync(s: &Script) -> Result<u64, OpError> {
    (|| op(s)).retry(backon_policy()).call()
}

/// backoff's `retry` (sleeps with `std::thread::sleep`).
#[inline(never)]
pub fn backoff_sync(s: &Script) -> Result<u64, OpError> {
    backoff::retry(UpTo::new(RETRIES), || {
        op(s).map_err(backoff::Error::transient)
    })
    .map_err(backoff_inner)
}

// ---- async --------------------------------------------------------------

/// The floor of an async run with retries: `ATTEMPTS` awaited calls in a row.
pub async fn direct_n_async(s: &Script) -> Result<u64, OpError> {
    let mut last = op_async(s).await;
    for _ in 1..ATTEMPTS {
        last = black_box(op_async(s).await);
    }
    last
}

/// A hand-written `for` loop with tokio's sleep, skipped when the wait is zero.
pub fn hand_loop_async(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    hand_loop_over::<ATTEMPTS, _, _>(move || op_async(s))
}

/// The async hand loop of this bench and of the shape
/// ([`shape::hand_loop`](crate::shape::hand_loop)): `op` awaited at most `N`
/// times, with tokio's sleep between, skipped when the wait is zero. (`N` a
/// const parameter: the future holds no count of its own.)
pub async fn hand_loop_over<const N: u32, F, Fut>(op: F) -> Result<u64, OpError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    for attempt in 1..=N {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt == N => return Err(e),
            Err(_) => {}
        }
        let wait = hand_wait();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
    unreachable!("the last attempt returns")
}

/// `#[retry]` on an async fn.
#[retry(attempts = 5, backoff = "none")]
pub async fn ours_attr_async(s: &Script) -> Result<u64, OpError> {
    op_async(s).await
}

/// `Policy::retry`, awaited.
pub fn ours_fn_async(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    POLICY.retry(move || op_async(s)).into_future()
}

/// A cooldown never held: what sharing one costs a call while no 429 has
/// come (counted by `bench/callgrind.sh cooled-fn cooled-fn-async`).
static COOLDOWN: retry_runtime::cooldown::Cooldown =
    retry_runtime::cooldown::Cooldown::new("bench");

/// [`POLICY`] with [`COOLDOWN`].
static COOLED: Policy = Policy::new()
    .with_max_attempts(ATTEMPTS)
    .with_backoff(Backoff::None)
    .with_cooldown(&COOLDOWN);

/// [`ours_fn`] through a cooldown never held.
#[inline(never)]
pub fn ours_fn_cooled(s: &Script) -> Result<u64, OpError> {
    COOLED.retry(|| op(s)).call()
}

/// [`ours_fn_async`] through a cooldown never held.
pub fn ours_fn_async_cooled(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    COOLED.retry(move || op_async(s)).into_future()
}

/// A cooldown with a spread, never held (`spread-fn`, `spread-fn-async`).
static SPREAD: retry_runtime::cooldown::Cooldown =
    retry_runtime::cooldown::Cooldown::new("bench-spread").with_spread(Duration::from_secs(3));

/// [`POLICY`] with [`SPREAD`].
static SPREAD_POLICY: Policy = Policy::new()
    .with_max_attempts(ATTEMPTS)
    .with_backoff(Backoff::None)
    .with_cooldown(&SPREAD);

/// [`ours_fn`] through a cooldown with a spread, never held.
#[inline(never)]
pub fn ours_fn_spread(s: &Script) -> Result<u64, OpError> {
    SPREAD_POLICY.retry(|| op(s)).call()
}

/// [`ours_fn_async`] through a cooldown with a spread, never held.
pub fn ours_fn_async_spread(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    SPREAD_POLICY.retry(move || op_async(s)).into_future()
}

/// The functional API's [`hedged`](retry_runtime::Retry::hedged) run, with
/// a hedge delay no call reaches (10 s): the cost of a hedged call whose
/// attempts answer at once, counted by `bench/callgrind.sh hedged-fn` only
/// (not timed: its attempts are boxed and its timer armed, a path of its
/// own, not a contestant of the tables).
pub fn ours_fn_hedged(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    HEDGED.retry(move || op_async(s)).hedged()
}

/// `#[retry]` with a hedge delay no call reaches (10 s), as
/// [`ours_fn_hedged`]: counted by `bench/callgrind.sh hedged-attr` only.
#[retry(attempts = 5, backoff = "none", hedge = "10s")]
pub async fn ours_attr_hedged(s: &Script) -> Result<u64, OpError> {
    op_async(s).await
}

/// [`POLICY`] with a hedge delay.
static HEDGED: Policy = Policy::new()
    .with_max_attempts(ATTEMPTS)
    .with_backoff(Backoff::None)
    .with_hedge(Duration::from_secs(10));

/// backon's `Retryable` (sleeps on tokio's timer, the default sleeper).
pub fn backon_async(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    (move || op_async(s)).retry(backon_policy())
}

/// The attempt backoff's `future::retry` needs: its error type wrapped.
pub async fn backoff_attempt(s: &Script) -> Result<u64, backoff::Error<OpError>> {
    op_async(s).await.map_err(backoff::Error::transient)
}

/// backoff's `future::retry` (sleeps on tokio's timer).
pub fn backoff_async(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    backoff::future::retry(UpTo::new(RETRIES), move || backoff_attempt(s))
}

/// The attempt tokio-retry2 needs: its error type wrapped.
pub async fn tokio_retry2_attempt(s: &Script) -> Result<u64, RetryError<OpError>> {
    op_async(s).await.map_transient_err()
}

/// tokio-retry2's `Retry::spawn` (sleeps on tokio's timer).
pub fn tokio_retry2_async(s: &Script) -> impl Future<Output = Result<u64, OpError>> + '_ {
    Retry::spawn(
        FixedInterval::new(Duration::ZERO).take(RETRIES),
        move || tokio_retry2_attempt(s),
    )
}
