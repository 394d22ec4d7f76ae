//! `#[retry]` functions and `#[derive(Classify)]` types, one of each shape,
//! in a crate that turns on the lints strict crates turn on: clippy's
//! `pedantic` and `nursery` groups, the restriction lints commonly enabled
//! crate-wide, and rustc's allow-by-default lints. Every one is denied, so
//! `cargo clippy -- -D warnings` (`.ci/run`) fails if an expansion trips one.
//!
//! The code written here is kept clean under the same lints; that the
//! user's own code inside a `#[retry]` body is still linted is shown by
//! `retry-compile-tests`' ui tests `tests/ui_clippy/fail_*.rs`.

#![forbid(unsafe_code)]
#![deny(
    warnings,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    // restriction lints commonly enabled crate-wide
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::missing_docs_in_private_items,
    clippy::as_conversions,
    clippy::arithmetic_side_effects,
    clippy::shadow_unrelated,
    clippy::shadow_reuse,
    clippy::shadow_same,
    clippy::pattern_type_mismatch,
    clippy::default_numeric_fallback,
    clippy::let_underscore_must_use,
    clippy::let_underscore_untyped,
    clippy::absolute_paths,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::missing_inline_in_public_items,
    clippy::multiple_unsafe_ops_per_block,
    clippy::semicolon_outside_block,
    clippy::redundant_type_annotations,
    // the expansions' own `#[allow]`s must not trip these
    clippy::allow_attributes,
    clippy::allow_attributes_without_reason,
    // rustc's allow-by-default lints
    missing_docs,
    unused_qualifications,
    unused_results,
    unreachable_pub,
    single_use_lifetimes,
    elided_lifetimes_in_paths,
    missing_debug_implementations,
    missing_copy_implementations,
    let_underscore_drop,
    trivial_casts,
    trivial_numeric_casts,
    unused_lifetimes,
    variant_size_differences,
    non_ascii_idents,
    unused_import_braces,
    unused_macro_rules,
    meta_variable_misuse,
    rust_2018_idioms,
    unit_bindings,
    redundant_lifetimes,
    // (not an error under `warnings`): an expansion's `#[allow]` of a lint
    // in a group forbidden (`forbidding`)
    forbidden_lint_groups,
)]

pub mod forbidding;

use core::cell::Cell;
use core::error::Error;
use core::fmt;
use core::future::{self, Future};
use core::pin::Pin;
use core::time::Duration;
use std::io;

use retry_runtime::{
    retry, Attempt, AttemptTimeout, Backoff, CircuitBreaker, CircuitOpen, Classify, ErrorKind,
    GiveUpEvent, KindSet, Policy, RetryBudget, RetryEvent, RetryOn, Throttle, Throttled,
};

// ---------- #[derive(Classify)] ----------

/// Every variant form: unit, tuple, struct; a kind, `transparent`, a
/// `retry_after` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Classify)]
#[classify(default = Unknown)]
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
    /// Told to come back later.
    #[classify(RateLimited, retry_after = wait)]
    Busy {
        /// How long to wait, if the server said.
        wait: Option<Duration>,
    },
    /// A tuple variant with the wait in its first field.
    #[classify(RateLimited, retry_after = 0)]
    Slow(Option<Duration>, u8),
    /// Left to the default kind.
    Other,
}

/// A wait held as a plain `Duration`, named and in a tuple variant: the
/// path the derive writes for it is not the user's to `absolute_paths`.
#[derive(Debug, Clone, Copy, Classify)]
pub enum PlainWait {
    /// Told how long to wait.
    #[classify(RateLimited, retry_after = wait)]
    Limited {
        /// The wait.
        wait: Duration,
    },
    /// The same, in a tuple.
    #[classify(Unavailable, retry_after = 0)]
    Busy(Duration),
}

/// A struct whose wait is a plain `Duration`.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(RateLimited, retry_after = after)]
pub struct PlainLimited {
    /// When to come back.
    pub after: Duration,
}

/// A wait held through a reference and a box: read through them, with no
/// `&*` for clippy to blame on the field.
#[derive(Debug, Classify)]
pub enum BorrowedWait<'a> {
    /// A borrowed wait.
    #[classify(RateLimited, retry_after = wait)]
    Borrowed {
        /// The wait.
        wait: &'a Duration,
    },
    /// A boxed optional wait.
    #[classify(Unavailable, retry_after = 0)]
    Boxed(Box<Option<Duration>>),
}

impl fmt::Display for BorrowedWait<'_> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wait")
    }
}

impl Error for BorrowedWait<'_> {}

impl fmt::Display for CallError {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Timeout => f.write_str("timed out"),
            Self::Refused => f.write_str("refused"),
            Self::Open(ref open) => fmt::Display::fmt(open, f),
            Self::Throttled => f.write_str("throttled"),
            Self::Busy { .. } | Self::Slow(..) => f.write_str("busy"),
            Self::Other => f.write_str("other"),
        }
    }
}

impl Error for CallError {}

impl From<AttemptTimeout> for CallError {
    #[inline]
    fn from(_: AttemptTimeout) -> Self {
        Self::Timeout
    }
}

impl From<Throttled> for CallError {
    #[inline]
    fn from(_: Throttled) -> Self {
        Self::Throttled
    }
}

impl From<CircuitOpen> for CallError {
    #[inline]
    fn from(open: CircuitOpen) -> Self {
        Self::Open(open)
    }
}

/// A struct with a kind of its own.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(Unavailable)]
pub struct Overloaded;

/// A struct with a kind and a `retry_after` field.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(RateLimited, retry_after = after)]
pub struct Limited {
    /// When to come back.
    pub after: Option<Duration>,
}

/// A transparent wrapper.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(transparent)]
pub struct Wrapped(pub CallError);

/// A generic transparent wrapper, with a `where` clause of its own.
#[derive(Debug, Classify)]
#[classify(transparent)]
pub struct Generic<E>(pub E)
where
    E: Error;

/// A generic enum: a delegating variant and a generic `retry_after` field.
#[derive(Debug, Classify)]
pub enum Layered<E, D> {
    /// Classified by the inner error.
    #[classify(transparent)]
    Inner(E),
    /// Told when to come back.
    #[classify(RateLimited, retry_after = 0)]
    Wait(D),
    /// Never worth another try.
    #[classify(Permanent)]
    Io(io::Error),
}

/// A generic wrapper whose impl's bounds are given, beside a `where` clause.
#[derive(Debug, Classify)]
#[classify(transparent, bound = "E: Classify")]
pub struct Bounded<E>(pub Box<E>)
where
    E: Error;

/// Types that hold each other, their bounds given (inferred, each would
/// be the other's impl).
#[derive(Debug, Classify)]
#[classify(bound = "")]
pub enum Ping<T> {
    /// Not classified by its field.
    #[classify(Permanent)]
    Leaf(T),
    /// Classified by the other type.
    #[classify(transparent)]
    Pong(Box<Pong<T>>),
}

/// The other half of [`Ping`].
#[derive(Debug, Classify)]
#[classify(bound = "")]
pub enum Pong<T> {
    /// Not classified by its field.
    #[classify(Timeout)]
    Leaf(T),
    /// Classified by the other type.
    #[classify(transparent)]
    Ping(Box<Ping<T>>),
}

/// Errors whose types are not `Classify` (another crate's, as
/// deadpool-postgres's `PoolError`), classified by their source chains.
#[derive(Debug, Classify)]
pub enum ChainError {
    /// An I/O error, by its kind.
    #[classify(chain)]
    Io(io::Error),
    /// Any error, by its source chain.
    #[classify(chain)]
    Format {
        /// The error.
        source: fmt::Error,
    },
    /// Never worth another try.
    #[classify(Permanent)]
    Refused,
}

/// A generic wrapper classified by its error's chain, with a `where`
/// clause of its own that says `Error` too.
#[derive(Debug, Classify)]
#[classify(chain)]
pub struct ChainOf<E>(pub E)
where
    E: Error;

/// A deprecated field classified by its chain.
#[deprecated = "use `ChainError`"]
#[derive(Debug, Classify)]
#[classify(chain)]
pub struct OldChain(#[deprecated = "unwrapped"] pub io::Error);

/// An enum nothing can be.
#[derive(Debug, Clone, Copy, Classify)]
pub enum Never {}

/// Reasons for `Permanent` errors (`why`).
///
/// Two variants with the same words, one with none, one that hands on its
/// field's, and the default's reason for the variant that takes it; no
/// `match_same_arms` or other lint for the user to silence.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(default = Permanent, why = "the upload service refused it")]
pub enum UploadError {
    /// Gone from the store.
    #[classify(Permanent, why = "the clip does not exist")]
    Missing,
    /// Deleted by its owner: as good as gone.
    #[classify(Permanent, why = "the clip does not exist")]
    Deleted {
        /// Its id.
        id: u64,
    },
    /// Permanent, with no reason to give.
    #[classify(Permanent)]
    Corrupt(u64),
    /// Whatever the call said, and why.
    #[classify(transparent)]
    Call(CallError),
    /// Left to the default kind and its reason.
    TooLarge,
}

/// A struct with a reason of its own.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(Permanent, why = "the clip does not exist")]
pub struct ClipMissing;

/// Reasons as a user writes them.
///
/// A raw string whose hashes it does not need (pedantic's
/// `needless_raw_string_hashes` would say so of an expression, and an
/// `#[allow]` here could not reach the derived impl that holds it), and
/// words that are not ASCII.
#[derive(Debug, Clone, Copy, Classify)]
pub enum StoreRefusal {
    /// Its bucket is gone.
    #[classify(Permanent, why = r#"the bucket is gone"#)]
    NoSuchBucket,
    /// Refused by a French store.
    #[classify(Permanent, why = "la vidéo n'existe pas")]
    Absente,
}

/// A deprecated error type with deprecated variants and fields: the derive
/// names them without a `deprecated` warning the user could not silence.
#[deprecated = "use `CallError`"]
#[derive(Debug, Clone, Copy, Classify)]
#[classify(default = Unknown)]
pub enum OldError {
    /// A deprecated variant.
    #[deprecated = "no longer returned"]
    #[classify(Timeout)]
    Gone,
    /// A deprecated `retry_after` field.
    #[classify(RateLimited, retry_after = wait)]
    Busy {
        /// How long to wait.
        #[deprecated = "read the header"]
        wait: Option<Duration>,
    },
    /// A deprecated field classified by its own `Classify`.
    #[classify(transparent)]
    Inner(#[deprecated = "unwrapped"] CallError),
    /// Left to the default kind, deprecated.
    #[deprecated = "no longer returned"]
    Other,
}

/// A deprecated struct with a deprecated `retry_after` field.
#[deprecated = "use `Limited`"]
#[derive(Debug, Clone, Copy, Classify)]
#[classify(RateLimited, retry_after = after)]
pub struct OldLimited {
    /// When to come back.
    #[deprecated = "read the header"]
    pub after: Option<Duration>,
}

/// A deprecated transparent wrapper.
#[deprecated = "use `Wrapped`"]
#[derive(Debug, Clone, Copy, Classify)]
#[classify(transparent)]
pub struct OldWrapped(#[deprecated = "unwrapped"] pub CallError);

// ---------- a flaky call ----------

thread_local! {
    /// Failures still to come before calls succeed, on this thread.
    static FAILURES_LEFT: Cell<u32> = const { Cell::new(0) };
}

/// The next `n` calls of [`flaky`] on this thread time out.
#[inline]
pub fn fail_next(n: u32) {
    FAILURES_LEFT.with(|f| f.set(n));
}

/// Times out while [`fail_next`] says so, then returns `value`.
///
/// # Errors
/// [`CallError::Timeout`] while failures are left.
#[inline]
pub fn flaky(value: u32) -> Result<u32, CallError> {
    FAILURES_LEFT.with(|f| {
        f.get().checked_sub(1).map_or(Ok(value), |left| {
            f.set(left);
            Err(CallError::Timeout)
        })
    })
}

// ---------- free functions, sync ----------

/// One expression.
///
/// # Errors
/// Never.
#[rustfmt::skip]
#[inline]
#[retry(attempts = 2, backoff = "none")]
pub fn one_expression(x: u32) -> Result<u32, io::Error> { Ok(x) }

/// `?` ends the attempt; a `retry_on`.
///
/// # Errors
/// [`flaky`]'s, once the attempts are spent.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout | Unavailable)]
pub fn with_question_mark(x: u32) -> Result<u32, CallError> {
    let v = flaky(x)?;
    Ok(v.saturating_add(1))
}

/// An early `return`.
///
/// # Errors
/// [`CallError::Refused`] for 0.
#[inline]
#[retry(attempts = 3, backoff = "exp(1ms, 4ms)", jitter = "full")]
pub fn with_early_return(x: u32) -> Result<u32, CallError> {
    if x == 0 {
        return Err(CallError::Refused);
    }
    flaky(x)
}

/// A preset.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(preset = "webhook")]
pub fn with_preset(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The user's own policy constant.
pub const QUICK_THRICE: Policy<RetryOn> = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::None)
    .retry_on(KindSet::EMPTY.with(ErrorKind::Timeout));

/// A policy constant.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(policy = QUICK_THRICE)]
pub fn with_policy(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// The breaker of the guarded functions.
pub static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(5);
/// The budget of the guarded functions.
pub static RETRIES: RetryBudget = RetryBudget::new("retries");
/// The throttle of the throttled functions.
pub static SEARCH: Throttle = Throttle::new("search");

/// A breaker and a budget.
///
/// # Errors
/// [`flaky`]'s, or the breaker's.
#[inline]
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, budget = RETRIES)]
pub fn guarded(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A breaker and a throttle, each attempt in its span.
///
/// # Errors
/// [`flaky`]'s, the breaker's or the throttle's.
#[inline]
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, throttle = SEARCH, attempt_spans = true)]
pub fn throttled(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// By-value arguments cloned for each attempt, one of them `mut`.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", clone = [body, tags])]
pub fn with_clone(mut body: String, tags: Vec<String>) -> Result<usize, CallError> {
    body.push('!');
    let n = flaky(0)?;
    let sent = send(body, tags);
    Ok(sent.saturating_add(usize::from(n == 0)))
}

/// Sends `body` with its `tags`, which it takes.
fn send(body: String, tags: Vec<String>) -> usize {
    let mut all = body;
    for tag in tags {
        all.push_str(&tag);
    }
    all.len()
}

/// Is the value not good enough yet? (`retry_if_ok` takes `fn(&T) -> bool`.)
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "the signature `retry_if_ok` asks for"
)]
const fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// Retries an `Ok` that is not good enough yet.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero)]
pub fn with_retry_if_ok(x: u32) -> Result<u32, CallError> {
    flaky(0).map(|_| x)
}

/// `retry_if_ok`, each attempt in its span (the loop decides with the
/// spans' calls, in the function).
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero, attempt_spans = true)]
pub fn with_retry_if_ok_spanned(x: u32) -> Result<u32, CallError> {
    flaky(0).map(|_| x)
}

/// An async `#[attempt]` parameter with `retry_if_ok`, in attempt spans.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero, attempt_spans = true)]
pub async fn async_attempt_retry_if_ok_spanned(
    #[attempt] attempt: Attempt,
) -> Result<u32, CallError> {
    flaky(attempt.number)
}

/// An async `#[attempt]` parameter with a timeout, in attempt spans.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "none", timeout = "1s", attempt_spans = true)]
pub async fn async_attempt_timeout_spanned(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    ready(attempt.number).await
}

/// Is the error a timeout?
fn is_timeout(e: &CallError) -> bool {
    *e == CallError::Timeout
}

/// A `retry_if` predicate and a `max_elapsed`.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "fixed(1ms)", retry_if = is_timeout, max_elapsed = "1s")]
pub fn with_retry_if(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

thread_local! {
    /// Hook calls on this thread.
    static HOOKS: Cell<u32> = const { Cell::new(0) };
}

/// Counts sleeps.
fn count_sleep(_: &RetryEvent<'_>) {
    HOOKS.with(|h| h.set(h.get().saturating_add(1)));
}

/// Counts give-ups.
fn count_give_up(_: &GiveUpEvent<'_>) {
    HOOKS.with(|h| h.set(h.get().saturating_add(1)));
}

/// Hooks, and its own retries inside another retried call.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(
    attempts = 2,
    backoff = "fixed(1ms)",
    before_sleep = count_sleep,
    on_give_up = count_give_up,
    nested = "retry",
    name = "hooked"
)]
pub fn with_hooks(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// An `#[attempt]` parameter.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub fn with_attempt(x: u32, #[attempt] attempt: Attempt) -> Result<u32, CallError> {
    flaky(x.saturating_add(attempt.previous_attempts()))
}

/// An `#[attempt]` parameter behind a breaker, in attempt spans.
///
/// # Errors
/// [`flaky`]'s, or the breaker's.
#[inline]
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, attempt_spans = true)]
pub fn with_attempt_guarded(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    flaky(attempt.number)
}

/// Generics, lifetimes and a `where` clause.
///
/// # Errors
/// [`flaky`]'s, or [`CallError::Other`] if `pick` points nowhere.
#[inline]
#[retry(attempts = 3, backoff = "none")]
pub fn generic<'a, T, F>(items: &'a [T], key: &str, pick: F) -> Result<&'a T, CallError>
where
    T: PartialEq + fmt::Debug,
    F: Fn(&[T], &str) -> usize,
{
    let n = flaky(0)?;
    items
        .get(pick(items, key).saturating_add(usize::from(n == 0)))
        .ok_or(CallError::Other)
}

/// A result type behind an alias.
///
/// # Errors
/// [`flaky`]'s, as an I/O error.
#[inline]
#[retry(attempts = 2, backoff = "none")]
pub fn io_alias(x: u32) -> io::Result<u32> {
    flaky(x).map_err(io::Error::other)
}

// ---------- free functions, async ----------

/// One awaited expression.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 2, backoff = "none")]
pub async fn one_awaited(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// One expression, with a per-attempt timeout.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[rustfmt::skip]
#[inline]
#[retry(attempts = 2, backoff = "none", timeout = "1s")]
pub async fn one_expression_timeout(x: u32) -> Result<u32, CallError> { flaky(x) }

/// An awaited expression, with a timeout, in attempt spans.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "none", timeout = "1s", attempt_spans = true)]
pub async fn traced(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// A body of statements, `?` and an early `return`.
///
/// # Errors
/// [`flaky`]'s, or [`CallError::Refused`] for 0.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn with_question_mark_async(x: u32) -> Result<u32, CallError> {
    if x == 0 {
        return Err(CallError::Refused);
    }
    let v = ready(x).await?;
    Ok(v.saturating_add(1))
}

/// A preset with a key overridden.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(preset = "api", backoff = "none")]
pub async fn with_preset_async(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A policy constant, with a name.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(policy = QUICK_THRICE, name = "policy_async")]
pub async fn with_policy_async(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// A breaker, a budget and a throttle.
///
/// # Errors
/// [`flaky`]'s, the breaker's or the throttle's.
#[inline]
#[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, budget = RETRIES, throttle = SEARCH)]
pub async fn guarded_async(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// Hedged: a borrowed argument shared by the attempts in flight.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", hedge = "150ms", retry_on = Timeout)]
pub async fn hedged(key: &str, x: u32) -> Result<usize, CallError> {
    let v = flaky(x)?;
    Ok(key.len().saturating_add(usize::from(v == 0)))
}

/// Hedged, with a timeout and an `#[attempt]` parameter.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, backoff = "none", hedge = "150ms", timeout = "1s")]
pub async fn hedged_timeout(x: u32, #[attempt] attempt: Attempt) -> Result<u32, CallError> {
    flaky(x.saturating_add(attempt.number))
}

/// A by-value argument cloned for each attempt.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", clone = body)]
pub async fn with_clone_async(body: String) -> Result<usize, CallError> {
    let n = ready(0).await?;
    Ok(send(body, Vec::new()).saturating_add(usize::from(n == 0)))
}

/// An `#[attempt]` parameter.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn with_attempt_async(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    ready(attempt.number).await
}

/// `impl Trait` in argument and return position, and a `&mut` argument.
///
/// (`Sync` too: the attempts borrow the arguments, so a `Send + !Sync` one
/// would make the future `!Send`, as the runtime's docs say, and clippy's
/// `future_not_send` would say so.)
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero_len)]
pub async fn impl_trait(
    prefix: impl AsRef<str> + Send + Sync,
    buf: &mut Vec<u32>,
) -> Result<impl fmt::Display, CallError> {
    buf.push(0);
    let n = ready(0).await?;
    Ok(format!("{}-{n}", prefix.as_ref()))
}

/// Writes `data` to `w`, taken by value (a `&mut` argument is moved here).
fn write_to<W: io::Write>(mut w: W, data: &[u8]) -> Result<usize, CallError> {
    w.write_all(data).map_err(|_| CallError::Other)?;
    Ok(data.len())
}

/// [`write_to`], as a future.
async fn write_to_async<W: io::Write + Send>(w: W, data: &[u8]) -> Result<usize, CallError> {
    future::ready(()).await;
    write_to(w, data)
}

/// A `&mut` argument passed on by value: each attempt re-borrows it.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub fn save(out: &mut Vec<u8>, data: &[u8]) -> Result<usize, CallError> {
    let n = flaky(1)?;
    Ok(write_to(out, data)?.saturating_add(usize::from(n == 0)))
}

/// [`save`], async.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn save_async(out: &mut Vec<u8>, data: &[u8]) -> Result<usize, CallError> {
    let n = ready(1).await?;
    Ok(write_to_async(out, data)
        .await?
        .saturating_add(usize::from(n == 0)))
}

/// [`save_async`] as one awaited call (awaited by the loop itself).
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn save_awaited(out: &mut Vec<u8>, data: &[u8]) -> Result<usize, CallError> {
    write_to_async(out, data).await
}

/// Counts a call through a pinned counter, taken by value.
const fn bump(counter: Pin<&mut u32>) -> u32 {
    let n = counter.get_mut();
    *n = n.saturating_add(1);
    *n
}

/// A pinned argument passed on by value: each attempt re-borrows it.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub fn count_pinned(counter: Pin<&mut u32>) -> Result<u32, CallError> {
    flaky(bump(counter))
}

/// [`count_pinned`], async, the argument `mut` and re-borrowed in the body.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn count_pinned_async(mut counter: Pin<&mut u32>) -> Result<u32, CallError> {
    let first = bump(counter.as_mut());
    ready(first.saturating_add(bump(counter))).await
}

/// [`count_pinned`] as one awaited call (awaited by the loop itself).
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn count_pinned_awaited(counter: Pin<&mut u32>) -> Result<u32, CallError> {
    ready(bump(counter)).await
}

/// An unused `&mut` argument, its name `_`-first: its re-borrow draws no
/// lint (`used_underscore_binding`, `no_effect_underscore_binding`).
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub async fn ignores(_v: &mut Vec<u8>) -> Result<u32, CallError> {
    let n = ready(1).await?;
    Ok(n)
}

/// [`ignores`], sync, with a pinned argument.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
pub fn ignores_pinned(_p: Pin<&mut u32>) -> Result<u32, CallError> {
    flaky(1)
}

/// An async clone rebound by the body.
///
/// Clippy sees the user's `let` as it sees it without the attribute
/// (`shadow_reuse`, expected here), not as shadowing an unrelated binding
/// (`shadow_unrelated`, denied).
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[expect(
    clippy::shadow_reuse,
    reason = "the user's own rebinding, linted as without the attribute"
)]
#[retry(attempts = 3, backoff = "none", retry_on = Timeout, clone = body)]
pub async fn trimmed(body: String) -> Result<usize, CallError> {
    let body = body.trim().to_owned();
    let n = ready(1).await?;
    Ok(body
        .len()
        .saturating_add(usize::try_from(n).unwrap_or_default()))
}

/// Is the answer empty?
fn is_zero_len(v: &impl fmt::Display) -> bool {
    v.to_string().is_empty()
}

/// [`flaky`], as a future.
async fn ready(x: u32) -> Result<u32, CallError> {
    future::ready(flaky(x)).await
}

// ---------- methods ----------

/// A client with methods taking `&self` and `&mut self`.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// Calls made through `&mut self`.
    calls: u32,
    /// The policy its calls use, chosen at run time.
    policy: Policy<RetryOn>,
}

impl Client {
    /// A client whose calls use `policy`.
    #[inline]
    #[must_use]
    pub const fn new(policy: Policy<RetryOn>) -> Self {
        Self { calls: 0, policy }
    }

    /// Calls made through `&mut self`.
    #[inline]
    #[must_use]
    pub const fn calls(&self) -> u32 {
        self.calls
    }

    /// `&self`, one expression on one line.
    ///
    /// # Errors
    /// [`flaky`]'s.
    #[rustfmt::skip]
    #[inline]
    #[retry(attempts = 2, backoff = "none")]
    pub fn get(&self, x: u32) -> Result<u32, CallError> { flaky(x.saturating_add(self.calls)) }

    /// `&mut self`.
    ///
    /// # Errors
    /// [`flaky`]'s.
    #[inline]
    #[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
    pub fn bump(&mut self) -> Result<u32, CallError> {
        self.calls = self.calls.saturating_add(1);
        flaky(self.calls)
    }

    /// The policy chosen at run time, a `retry_if_ok` and a cloned argument.
    ///
    /// # Errors
    /// [`flaky`]'s.
    #[inline]
    #[retry(policy = self.policy, retry_if_ok = is_zero, clone = note)]
    pub fn ask(&self, note: String) -> Result<u32, CallError> {
        let n = flaky(self.calls)?;
        Ok(send(note, Vec::new()).try_into().unwrap_or(n))
    }

    /// `&self`, async.
    ///
    /// # Errors
    /// [`flaky`]'s.
    #[inline]
    #[retry(attempts = 2, backoff = "none")]
    pub async fn get_async(&self, x: u32) -> Result<u32, CallError> {
        ready(x.saturating_add(self.calls)).await
    }

    /// `&mut self`, async, with `?`.
    ///
    /// # Errors
    /// [`flaky`]'s.
    #[inline]
    #[retry(attempts = 3, backoff = "none", retry_on = Timeout, timeout = "1s")]
    pub async fn bump_async(&mut self) -> Result<u32, CallError> {
        self.calls = self.calls.saturating_add(1);
        let n = ready(self.calls).await?;
        Ok(n)
    }

    /// The policy chosen at run time, async.
    ///
    /// # Errors
    /// [`flaky`]'s.
    #[inline]
    #[retry(policy = self.policy)]
    pub async fn lookup(&self, key: &str) -> Result<usize, CallError> {
        let n = ready(self.calls).await?;
        Ok(key.len().saturating_add(usize::from(n == 0)))
    }
}

/// A trait with a sync and a native async method.
pub trait Fetch {
    /// Fetches `key`.
    ///
    /// # Errors
    /// The call's.
    fn fetch(&self, key: u32) -> Result<u32, CallError>;

    /// Fetches `key`, async.
    ///
    /// # Errors
    /// The call's.
    fn fetch_async(&self, key: u32) -> impl Future<Output = Result<u32, CallError>> + Send;
}

impl Fetch for Client {
    #[inline]
    #[retry(attempts = 3, backoff = "none", retry_on = Unavailable)]
    fn fetch(&self, key: u32) -> Result<u32, CallError> {
        flaky(key.saturating_add(self.calls))
    }

    #[inline]
    #[retry(attempts = 3, backoff = "fixed(1ms)", retry_on = Unavailable)]
    async fn fetch_async(&self, key: u32) -> Result<u32, CallError> {
        ready(key.saturating_mul(self.calls)).await
    }
}

/// A trait implemented with `#[async_trait]`.
#[async_trait::async_trait]
pub trait Store {
    /// Reads `key`.
    ///
    /// # Errors
    /// The call's.
    async fn get(&self, key: &str) -> Result<String, CallError>;

    /// Writes `value`.
    ///
    /// # Errors
    /// The call's.
    async fn put(&mut self, value: u32) -> Result<u32, CallError>;

    /// Reads `key`, by value.
    ///
    /// # Errors
    /// The call's.
    async fn owned(&self, key: String, note: String) -> Result<String, CallError>;
}

#[async_trait::async_trait]
impl Store for Client {
    #[inline]
    #[retry(attempts = 3, backoff = "fixed(1ms)", retry_on = Unavailable, timeout = "5s")]
    async fn get(&self, key: &str) -> Result<String, CallError> {
        let n = ready(self.calls).await?;
        Ok(format!("{key}={n}"))
    }

    #[inline]
    #[retry(attempts = 3, backoff = "none")]
    async fn put(&mut self, value: u32) -> Result<u32, CallError> {
        self.calls = self.calls.saturating_add(value);
        ready(self.calls).await
    }

    #[inline]
    #[retry(attempts = 3, backoff = "none", clone = note)]
    async fn owned(&self, key: String, mut note: String) -> Result<String, CallError> {
        note.push('!');
        let n = ready(self.calls).await?;
        Ok(format!("{key}{n}{}", send(note, Vec::new())))
    }
}

// ---------- the other keys ----------

/// The runtime, re-exported under another name.
pub mod reexported {
    pub use retry_runtime as rt;
}

/// Every backoff and jitter form, and the runtime under another path.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(
    attempts = 2,
    backoff = "linear(1ms, 2ms)",
    jitter = "+25%",
    crate = "crate::reexported::rt"
)]
pub fn linear(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// An exponential backoff with a factor, a jitter of a duration.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(
    attempts = 2,
    backoff = "exp(1ms, 8ms, x3)",
    jitter = "+1ms",
    nested = "defer"
)]
pub fn exp_factor(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// A fibonacci backoff, decorrelated jitter, async.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(
    attempts = 2,
    backoff = "fib(1ms, 8ms)",
    jitter = "decorrelated",
    crate = "crate::reexported::rt"
)]
pub async fn fib(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// Cloned arguments, a timeout and attempt spans, async: a body of its own
/// in every attempt.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(attempts = 3, jitter = "equal", timeout = "1s", attempt_spans = true, clone = body)]
pub async fn clone_timeout_spans(mut body: String) -> Result<usize, CallError> {
    body.push('!');
    let n = ready(0).await?;
    Ok(send(body, Vec::new()).saturating_add(usize::from(n == 0)))
}

/// A `retry_if` predicate, a breaker and hooks, async with a body of statements.
///
/// # Errors
/// [`flaky`]'s, or the breaker's.
#[inline]
#[retry(
    attempts = 3,
    backoff = "none",
    retry_if = is_timeout,
    circuit = UPSTREAM,
    before_sleep = count_sleep,
    on_give_up = count_give_up
)]
pub async fn guarded_if(x: u32) -> Result<u32, CallError> {
    let n = ready(x).await?;
    Ok(n.saturating_add(1))
}

/// An `Ok` that is not good enough yet, a throttle and an `#[attempt]`
/// parameter, sync.
///
/// # Errors
/// [`flaky`]'s, or the throttle's.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero, throttle = SEARCH)]
pub fn throttled_if_ok(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    flaky(attempt.number)
}

/// An `Ok` that is not good enough yet and a budget, async.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero, budget = RETRIES)]
pub async fn budget_if_ok(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// Hedged, with a cloned argument and a `retry_if`.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 3, backoff = "none", hedge = "10ms", retry_if = is_timeout, clone = body)]
pub async fn hedged_clone(body: String) -> Result<usize, CallError> {
    let n = ready(0).await?;
    Ok(send(body, Vec::new()).saturating_add(usize::from(n == 0)))
}

/// A body with a `return` in a `match` arm. (The sync attempt's closure
/// is the user's code, so a `return` clippy finds needless in the function
/// is needless in it too: this one is not.)
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry]
pub fn defaults(x: Option<u32>) -> Result<u32, CallError> {
    let v = match x {
        Some(0) => return Err(CallError::Refused),
        Some(v) => v,
        None => return Err(CallError::Other),
    };
    flaky(v)
}

/// A body that returns `()`.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 2, backoff = "none")]
pub async fn unit(x: u32) -> Result<(), CallError> {
    let _: u32 = ready(x).await?;
    Ok(())
}

/// A trait implemented with `#[async_trait]`, with the keys that change the loop.
#[async_trait::async_trait]
pub trait Guarded {
    /// Reads `key` behind a breaker and a throttle.
    ///
    /// # Errors
    /// The call's.
    async fn guarded(&self, key: &str) -> Result<usize, CallError>;

    /// Reads `key`, with a `retry_if_ok`, in attempt spans.
    ///
    /// # Errors
    /// The call's.
    async fn spanned(&self, key: String) -> Result<u32, CallError>;
}

#[async_trait::async_trait]
impl Guarded for Client {
    #[inline]
    #[retry(attempts = 3, backoff = "none", circuit = UPSTREAM, throttle = SEARCH, budget = RETRIES)]
    async fn guarded(&self, key: &str) -> Result<usize, CallError> {
        let n = ready(self.calls).await?;
        Ok(key.len().saturating_add(usize::from(n == 0)))
    }

    #[inline]
    #[retry(policy = self.policy, retry_if_ok = is_zero, attempt_spans = true, timeout = "1s")]
    async fn spanned(&self, key: String) -> Result<u32, CallError> {
        let n = ready(self.calls).await?;
        Ok(n.saturating_add(u32::from(key.is_empty())))
    }
}

/// A trait implemented with `#[async_trait]` where `unused_mut` is forbidden.
///
/// (async-trait's own expansion allows `unreachable_code`, so the module
/// `forbidding` cannot hold it): its rebind of a `mut` argument named in
/// `clone` is not `mut`.
#[async_trait::async_trait]
pub trait Notes {
    /// Sends `note`, changed by each attempt.
    ///
    /// # Errors
    /// The call's.
    async fn note(&self, mut note: String) -> Result<usize, CallError>;
}

#[forbid(unused_mut, unused_parens, unused_braces)]
#[async_trait::async_trait]
impl Notes for Client {
    #[inline]
    #[retry(attempts = 3, backoff = "none", clone = note)]
    async fn note(&self, mut note: String) -> Result<usize, CallError> {
        note.push('!');
        let n = ready(self.calls).await?;
        Ok(send(note, Vec::new()).saturating_add(usize::from(n == 0)))
    }
}

// ---------- the runtime under a `crate::` path, at every key that places
// generated paths on the user's tokens ----------

/// `retry_on`, a breaker and a throttle, sync.
///
/// # Errors
/// [`flaky`]'s, the breaker's or the throttle's.
#[inline]
#[retry(
    attempts = 2,
    backoff = "none",
    retry_on = Timeout,
    circuit = UPSTREAM,
    throttle = SEARCH,
    crate = "crate::reexported::rt"
)]
pub fn renamed_guarded(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// `retry_on` alone, sync (the runtime's own loop).
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 2, backoff = "none", retry_on = Timeout, crate = "crate::reexported::rt")]
pub fn renamed_retry_on(x: u32) -> Result<u32, CallError> {
    flaky(x)
}

/// `retry_if_ok` and an `#[attempt]` parameter, sync.
///
/// # Errors
/// [`flaky`]'s.
#[inline]
#[retry(attempts = 2, backoff = "none", retry_if_ok = is_zero, crate = "crate::reexported::rt")]
pub fn renamed_if_ok(#[attempt] attempt: Attempt) -> Result<u32, CallError> {
    flaky(attempt.number)
}

/// A timeout, `retry_on` and a breaker, async.
///
/// # Errors
/// [`flaky`]'s, the breaker's or the timeout.
#[inline]
#[retry(
    attempts = 2,
    backoff = "none",
    retry_on = Timeout,
    timeout = "1s",
    circuit = UPSTREAM,
    crate = "crate::reexported::rt"
)]
pub async fn renamed_timeout(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// Hedged with a timeout, async.
///
/// # Errors
/// [`flaky`]'s, or the timeout.
#[inline]
#[retry(
    attempts = 2,
    backoff = "none",
    hedge = "1ms",
    timeout = "1s",
    crate = "crate::reexported::rt"
)]
pub async fn renamed_hedged(x: u32) -> Result<u32, CallError> {
    ready(x).await
}

/// A derive with the runtime under a `crate::` path.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(crate = "crate::reexported::rt")]
pub enum RenamedError {
    /// Classified by the inner error.
    #[classify(transparent)]
    Inner(CallError),
    /// Told when to come back.
    #[classify(RateLimited, retry_after = 0)]
    Wait(Option<Duration>),
}

/// A transparent struct with the runtime under a `crate::` path.
#[derive(Debug, Clone, Copy, Classify)]
#[classify(transparent, crate = "crate::reexported::rt")]
pub struct RenamedWrapper(pub CallError);

/// A generic transparent struct with the runtime under a `crate::` path.
#[derive(Debug, Classify)]
#[classify(transparent, crate = "crate::reexported::rt")]
pub struct RenamedGeneric<E>(pub E);
