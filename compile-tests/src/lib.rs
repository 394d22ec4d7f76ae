//! Typical `#[retry]` functions, written as users write them, compiled with
//! every warning denied: the expansion must add no warning, rustc's or
//! clippy's (`.ci/run` runs `cargo clippy -- -D warnings` over this crate),
//! to the user's code. The tests at the bottom call each function, so the
//! expansions also do what they say.
//!
//! That an annotated function nobody calls still warns as unused is a ui
//! test: `tests/ui/fail_unused_still_warns.rs`. The same shapes under
//! clippy's `pedantic` and `nursery` groups and the common restriction lints
//! are the crate `strict/` (a crate of its own, as users set lints
//! crate-wide); that the user's own code in a body is still linted by
//! clippy is `tests/ui_clippy/`.

#![deny(warnings)]
#![forbid(unsafe_code)]

use std::cell::Cell;
use std::fmt;

use retry_runtime::{
    retry, AttemptTimeout, Backoff, CircuitBreaker, CircuitOpen, Classify, ErrorKind, KindSet,
    Policy, RetryBudget, RetryOn, Throttle, Throttled,
};

/// An error that says what it is: a timeout is worth another try, a
/// refusal is not.
#[derive(Debug, PartialEq, Eq, Classify)]
pub enum CallError {
    /// Worth another try.
    #[classify(Timeout)]
    Timeout,
    /// Never worth another try.
    #[classify(Permanent)]
    Refused,
    /// The breaker is open.
    #[classify(transparent)]
    Open(CircuitOpen),
    /// A throttle rejected the call.
    #[classify(Unavailable)]
    Throttled,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Timeout => f.write_str("timed out"),
            CallError::Refused => f.write_str("refused"),
            CallError::Open(open) => open.fmt(f),
            CallError::Throttled => f.write_str("throttled"),
        }
    }
}

impl std::error::Error for CallError {}

impl From<AttemptTimeout> for CallError {
    fn from(_: AttemptTimeout) -> Self {
        CallError::Timeout
    }
}

impl From<Throttled> for CallError {
    fn from(_: Throttled) -> Self {
        CallError::Throttled
    }
}

impl From<CircuitOpen> for CallError {
    fn from(open: CircuitOpen) -> Self {
        CallError::Open(open)
    }
}

thread_local! {
    /// Failures still to come before calls succeed, on this thread.
    static FAILURES_LEFT: Cell<u32> = const { Cell::new(0) };
    /// Calls of [`flaky`] on this thread since [`take_calls`] last looked.
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

/// The next `n` calls of [`flaky`] on this thread time out.
pub fn fail_next(n: u32) {
    FAILURES_LEFT.with(|f| f.set(n));
}

/// How many times [`flaky`] was called on this thread since the last look.
pub fn take_calls() -> u32 {
    CALLS.with(|c| c.replace(0))
}

/// Times out while [`fail_next`] says so, then returns `value`.
pub fn flaky(value: u32) -> Result<u32, CallError> {
    CALLS.with(|c| c.set(c.get() + 1));
    FAILURES_LEFT.with(|f| match f.get() {
        0 => Ok(value),
        n => {
            f.set(n - 1);
            Err(CallError::Timeout)
        }
    })
}

// A body of one expression on the line of its signature: rustc's
// `unused_braces` blamed the user's braces for the block the expansion put
// around them (it only looks at blocks on one line, hence `rustfmt::skip`).

/// One expression, sync.
#[rustfmt::skip]
#[retry(attempts = 2, backoff = "none")]
pub fn one_expression(x: u32) -> Result<u32, std::io::Error> { Ok(x) }

/// One expression, async.
#[rustfmt::skip]
#[retry(attempts = 2, backoff = "none")]
pub async fn one_expression_async(x: u32) -> Result<u32, std::io::Error> { Ok(x) }

/// One expression, async with a per-attempt timeout.
#[rustfmt::skip]
#[retry(attempts = 2, backoff = "none", timeout = "1s")]
pub async fn one_expression_timeout(x: u32) -> Result<u32, CallError> { Ok(x) }

/// [`flaky`], as a future.
async fn flaky_async(value: u32) -> Result<u32, CallError> {
    flaky(value)
}

/// [`flaky`], as a future that borrows its argument.
async fn flaky_borrowing(value: &u32) -> Result<u32, CallError> {
    flaky(*value)
}

// A body that is one expression in parentheses or braces, awaited: the loop
// awaits that expression itself, handed to the runtime as an argument,
// where rustc's `unused_parens` and `unused_braces` blamed the user's
// parentheses and braces (needed before `.await`, not in an argument).

/// `(match ..).await`, a constant policy.
#[retry(attempts = 2, backoff = "none")]
pub async fn awaits_a_match(x: Option<u32>) -> Result<u32, CallError> {
    (match x {
        Some(x) => flaky_async(x),
        None => flaky_async(0),
    })
    .await
}

/// `(if ..).await`, the user's policy.
#[retry(policy = QUICK_THRICE)]
pub async fn awaits_an_if(x: u32) -> Result<u32, CallError> {
    (if x > 3 {
        flaky_async(x)
    } else {
        flaky_async(0)
    })
    .await
}

/// `(if ..).await`, a per-attempt timeout.
#[retry(attempts = 2, backoff = "none", timeout = "1s")]
pub async fn awaits_an_if_timeout(x: u32) -> Result<u32, CallError> {
    (if x > 3 {
        flaky_async(x)
    } else {
        flaky_async(0)
    })
    .await
}

/// `{ .. }.await`, a constant policy.
#[rustfmt::skip]
#[retry(attempts = 2, backoff = "none")]
pub async fn awaits_a_block(x: u32) -> Result<u32, CallError> { { flaky_borrowing(&x) }.await }

/// `{ .. }.await`, the user's policy and a per-attempt timeout.
#[rustfmt::skip]
#[retry(policy = QUICK_THRICE, timeout = "1s")]
pub async fn awaits_a_block_timeout(x: u32) -> Result<u32, CallError> { { flaky_borrowing(&x) }.await }

/// One expression on its own line.
#[retry(attempts = 2, backoff = "none")]
pub fn one_expression_multiline(x: u32) -> Result<u32, std::io::Error> {
    Ok(x)
}

/// `?` ends the attempt.
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub fn with_question_mark(x: u32) -> Result<u32, CallError> {
    let v = flaky(x)?;
    Ok(v + 1)
}

/// `?` in an async body with a timeout.
#[retry(attempts = 3, backoff = "none", retry_on = Timeout, timeout = "1s")]
pub async fn with_question_mark_async(x: u32) -> Result<u32, CallError> {
    tokio::task::yield_now().await;
    let v = flaky(x)?;
    Ok(v + 1)
}

/// An early `return` ends the attempt.
#[retry(attempts = 3, backoff = "none")]
pub fn with_early_return(x: u32) -> Result<u32, CallError> {
    if x == 0 {
        return Err(CallError::Refused);
    }
    flaky(x)
}

/// An early `return` in an async body.
#[retry(attempts = 3, backoff = "none")]
pub async fn with_early_return_async(x: u32) -> Result<u32, CallError> {
    if x == 0 {
        return Err(CallError::Refused);
    }
    flaky(x)
}

/// A preset, sync; a preset's real waits are seconds, so the tests do not
/// make it fail.
#[retry(preset = "webhook")]
pub fn with_preset(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A preset with a key overridden, async.
#[retry(preset = "api", backoff = "none")]
pub async fn with_preset_async(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The user's own policy constant.
pub const QUICK_THRICE: Policy<RetryOn> = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::None)
    .retry_on(KindSet::EMPTY.with(ErrorKind::Timeout));

/// A policy constant, sync.
#[retry(policy = QUICK_THRICE)]
pub fn with_policy(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A policy constant, async.
#[retry(policy = QUICK_THRICE, name = "policy_async")]
pub async fn with_policy_async(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The breaker of [`guarded`] and [`guarded_async`].
pub static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(5);
/// The budget of [`guarded`] and [`guarded_async`].
pub static RETRIES: RetryBudget = RetryBudget::new("retries");

/// A breaker and a budget, sync.
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, budget = RETRIES)]
pub fn guarded(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A breaker and a budget, async.
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, budget = RETRIES)]
pub async fn guarded_async(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The throttle of [`throttled`] and [`throttled_async`].
pub static SEARCH: Throttle = Throttle::new("search");

/// A throttle and a breaker, sync.
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, throttle = SEARCH)]
pub fn throttled(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A throttle, async.
#[retry(attempts = 3, backoff = "none", throttle = SEARCH)]
pub async fn throttled_async(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// Its own retries inside any other retried call, sync.
#[retry(attempts = 3, backoff = "none", nested = "retry")]
pub fn own_retries(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The same, async, with a body that ends its attempt early.
#[retry(attempts = 3, backoff = "none", nested = "retry")]
pub async fn own_retries_async(x: u32) -> Result<u32, CallError> {
    let v = flaky(x)?;
    Ok(v + 1)
}

/// Hedged: a borrowed argument shared by the attempts in flight.
#[retry(attempts = 3, backoff = "none", hedge = "150ms", retry_on = Timeout)]
pub async fn hedged(key: &str, x: u32) -> Result<usize, CallError> {
    let v = flaky(x)?;
    Ok(key.len() + v as usize)
}

/// By-value arguments cloned for each attempt.
#[retry(attempts = 3, backoff = "none", clone = [body, tags])]
pub fn with_clone(body: String, tags: Vec<String>) -> Result<usize, CallError> {
    flaky(0)?;
    Ok(body.len() + tags.len())
}

/// The same, async.
#[retry(attempts = 3, backoff = "none", clone = body)]
pub async fn with_clone_async(body: String) -> Result<usize, CallError> {
    flaky(0)?;
    Ok(body.len())
}

/// A client with methods taking `&self` and `&mut self`.
#[derive(Debug, Default)]
pub struct Client {
    calls: u32,
}

impl Client {
    /// Calls made through `&mut self`.
    pub fn calls(&self) -> u32 {
        self.calls
    }

    /// `&self`, one expression on one line.
    #[rustfmt::skip]
    #[retry(attempts = 2, backoff = "none")]
    pub fn get(&self, x: u32) -> Result<u32, CallError> { flaky(x + self.calls) }

    /// `&mut self`, sync.
    #[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
    pub fn bump(&mut self) -> Result<u32, CallError> {
        self.calls += 1;
        flaky(self.calls)
    }

    /// `&self`, async.
    #[retry(attempts = 2, backoff = "none")]
    pub async fn get_async(&self, x: u32) -> Result<u32, CallError> {
        flaky(x + self.calls)
    }

    /// `&mut self`, async, with `?`.
    #[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
    pub async fn bump_async(&mut self) -> Result<u32, CallError> {
        self.calls += 1;
        let n = flaky(self.calls)?;
        Ok(n)
    }
}

/// Retries an `Ok` that is not good enough yet.
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero)]
pub fn with_retry_if_ok(x: u32) -> Result<u32, CallError> {
    flaky(0).map(|_| x)
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// A `retry_if` predicate, and a `max_elapsed`.
#[retry(attempts = 3, backoff = "fixed(1ms)", retry_if = is_timeout, max_elapsed = "1s")]
pub fn with_retry_if(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

fn is_timeout(e: &CallError) -> bool {
    *e == CallError::Timeout
}

/// Hooks, and a wait that is a `Duration` from a constant.
#[retry(attempts = 2, backoff = "fixed(1ms)", before_sleep = count_sleep, on_give_up = count_give_up)]
pub fn with_hooks(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

thread_local! {
    static HOOKS: Cell<(u32, u32)> = const { Cell::new((0, 0)) };
}

fn count_sleep(_: &retry_runtime::RetryEvent<'_>) {
    HOOKS.with(|h| h.set((h.get().0 + 1, h.get().1)));
}

fn count_give_up(_: &retry_runtime::GiveUpEvent<'_>) {
    HOOKS.with(|h| h.set((h.get().0, h.get().1 + 1)));
}

/// How often [`with_hooks`]'s hooks ran on this thread: (sleeps, give-ups).
pub fn hook_calls() -> (u32, u32) {
    HOOKS.with(Cell::get)
}

/// An `#[attempt]` parameter, sync: callers do not pass it.
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub fn with_attempt(x: u32, #[attempt] attempt: retry_runtime::Attempt) -> Result<u32, CallError> {
    flaky(x + attempt.previous_attempts())
}

/// An `#[attempt]` parameter, async.
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn with_attempt_async(
    #[attempt] attempt: retry_runtime::Attempt,
) -> Result<u32, CallError> {
    flaky(attempt.number)
}

/// Each attempt in its `retry.attempt` span, sync.
#[retry(attempts = 3, backoff = "none", attempt_spans = true)]
pub fn traced(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The same, async, with a body that leaves early.
#[retry(attempts = 3, backoff = "none", attempt_spans = true, timeout = "1s")]
pub async fn traced_async(x: u32) -> Result<u32, CallError> {
    let n = flaky(x)?;
    Ok(n)
}

/// The same, behind a breaker (the loop stays in the function).
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, attempt_spans = true)]
pub fn traced_guarded(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// Spans turned off explicitly.
#[retry(attempts = 3, backoff = "none", attempt_spans = false)]
pub async fn untraced_async(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn sync_functions_retry_as_written() {
        assert_eq!(one_expression(7).unwrap(), 7);
        assert_eq!(one_expression_multiline(8).unwrap(), 8);
        fail_next(2);
        assert_eq!(with_question_mark(1), Ok(2));
        assert_eq!(with_early_return(0), Err(CallError::Refused));
        fail_next(1);
        assert_eq!(with_early_return(4), Ok(4));
        assert_eq!(with_preset(3), Ok(3));
        fail_next(2);
        assert_eq!(with_policy(5), Ok(5));
        fail_next(3);
        assert_eq!(with_policy(5), Err(CallError::Timeout), "3 attempts");
        fail_next(1);
        assert_eq!(guarded(6), Ok(6));
        fail_next(2);
        assert_eq!(with_clone("abc".into(), vec!["x".into()]), Ok(4));
        fail_next(1);
        take_calls();
        assert_eq!(with_retry_if_ok(9), Ok(9));
        assert_eq!(take_calls(), 2, "a timeout, then an Ok that is kept");
        assert_eq!(with_retry_if_ok(0), Ok(0), "the last Ok is returned");
        assert_eq!(
            take_calls(),
            3,
            "each Ok of 0 is retried, to the last attempt"
        );
        fail_next(1);
        assert_eq!(with_retry_if(8), Ok(8));
        fail_next(2);
        assert_eq!(with_hooks(1), Err(CallError::Timeout));
        assert_eq!(hook_calls(), (1, 1));
        fail_next(2);
        assert_eq!(with_attempt(10), Ok(12));
    }

    #[test]
    fn methods_retry_as_written() {
        let mut client = Client::default();
        fail_next(1);
        assert_eq!(client.get(1), Ok(1));
        fail_next(2);
        assert_eq!(client.bump(), Ok(3));
        assert_eq!(client.calls(), 3);
        let rt = rt();
        fail_next(1);
        assert_eq!(rt.block_on(client.get_async(1)), Ok(4));
        fail_next(1);
        assert_eq!(rt.block_on(client.bump_async()), Ok(5));
        assert_eq!(client.calls(), 5);
    }

    #[test]
    fn async_functions_retry_as_written() {
        let rt = rt();
        assert_eq!(rt.block_on(one_expression_async(1)).unwrap(), 1);
        assert_eq!(rt.block_on(one_expression_timeout(2)), Ok(2));
        fail_next(2);
        assert_eq!(rt.block_on(with_question_mark_async(1)), Ok(2));
        assert_eq!(
            rt.block_on(with_early_return_async(0)),
            Err(CallError::Refused)
        );
        fail_next(1);
        assert_eq!(rt.block_on(with_preset_async(3)), Ok(3));
        fail_next(1);
        assert_eq!(rt.block_on(with_policy_async(4)), Ok(4));
        fail_next(1);
        assert_eq!(rt.block_on(guarded_async(5)), Ok(5));
        fail_next(2);
        assert_eq!(rt.block_on(with_clone_async("ab".into())), Ok(2));
        fail_next(1);
        assert_eq!(rt.block_on(with_attempt_async()), Ok(2));
        fail_next(1);
        assert_eq!(rt.block_on(awaits_a_match(Some(3))), Ok(3));
        assert_eq!(rt.block_on(awaits_a_match(None)), Ok(0));
        fail_next(2);
        assert_eq!(rt.block_on(awaits_an_if(5)), Ok(5));
        fail_next(1);
        assert_eq!(rt.block_on(awaits_an_if_timeout(2)), Ok(0));
        fail_next(1);
        assert_eq!(rt.block_on(awaits_a_block(6)), Ok(6));
        fail_next(2);
        assert_eq!(rt.block_on(awaits_a_block_timeout(7)), Ok(7));
    }
}
