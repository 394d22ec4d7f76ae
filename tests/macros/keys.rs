//! `#[retry(...)]`: every key, on a sync and an async function.
//!
//! Sync waits are observed with `retry_runtime::testing::pause()` (no real
//! sleeping); async ones under tokio's paused clock, recorded by the same guard.

use testkit::capture as support;

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::{
    retry, AttemptTimeout, Classify, ErrorKind, GiveUpEvent, Policy, RetryEvent, StopReason,
};
use tracing::Level;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A test error: its kind and the call that produced it.
#[derive(Debug, Clone, PartialEq)]
struct Fail {
    kind: ErrorKind,
    call: u32,
    retry_after: Option<Duration>,
}

impl Fail {
    fn new(kind: ErrorKind) -> Fail {
        Fail {
            kind,
            call: calls(),
            retry_after: None,
        }
    }
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} on call {}", self.kind, self.call)
    }
}

impl Classify for Fail {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl From<AttemptTimeout> for Fail {
    fn from(_: AttemptTimeout) -> Self {
        Fail::new(ErrorKind::Timeout)
    }
}

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
    static SCRIPT: Cell<&'static [ErrorKind]> = const { Cell::new(&[]) };
}

fn calls() -> u32 {
    CALLS.with(Cell::get)
}

/// Reset the call counter and set the errors the next calls return (then Ok).
fn script(kinds: &'static [ErrorKind]) {
    CALLS.with(|c| c.set(0));
    SCRIPT.with(|s| s.set(kinds));
}

/// One call of the scripted operation: the next scripted error, or Ok(call number).
fn step() -> Result<u32, Fail> {
    let n = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    match SCRIPT.with(Cell::get).get(n as usize - 1) {
        Some(kind) => Err(Fail::new(*kind)),
        None => Ok(n),
    }
}

/// `#[retry(..)]` on a sync function and on its async twin, both answering
/// from the script with [`step`].
macro_rules! scripted_pair {
    (#[retry $(($($arg:tt)*))?] $sync:ident, $async_fn:ident) => {
        #[retry $(($($arg)*))?]
        fn $sync() -> Result<u32, Fail> {
            step()
        }

        #[retry $(($($arg)*))?]
        async fn $async_fn() -> Result<u32, Fail> {
            step()
        }
    };
}

use ErrorKind::{Connect, Permanent, RateLimited, Timeout, Unavailable};

// ---------- attempts ----------

scripted_pair! { #[retry(attempts = 2, backoff = "none")] attempts_sync, attempts_async }

#[test]
fn attempts_counts_calls_sync() {
    let _p = retry_runtime::testing::pause();
    script(&[Timeout, Timeout, Timeout]);
    assert_eq!(attempts_sync().unwrap_err().call, 2);
    assert_eq!(calls(), 2);
    script(&[Timeout]);
    assert_eq!(attempts_sync(), Ok(2));
}

#[tokio::test(start_paused = true)]
async fn attempts_counts_calls_async() {
    script(&[Timeout, Timeout, Timeout]);
    assert_eq!(attempts_async().await.unwrap_err().call, 2);
    assert_eq!(calls(), 2);
}

// ---------- defaults: #[retry] alone ----------

scripted_pair! { #[retry] default_sync, default_async }

#[test]
fn bare_attribute_retries_every_error_3_times_exponentially() {
    let p = retry_runtime::testing::pause();
    script(&[Permanent, Permanent, Permanent]);
    assert_eq!(default_sync().unwrap_err().call, 3);
    assert_eq!(p.waits(), [s(1), s(2)]);
}

#[tokio::test(start_paused = true)]
async fn bare_attribute_async() {
    let p = retry_runtime::testing::pause();
    let start = tokio::time::Instant::now();
    script(&[Permanent, Permanent]);
    assert_eq!(default_async().await, Ok(3));
    assert_eq!(p.waits(), [s(1), s(2)]);
    assert_eq!(start.elapsed(), s(3));
}

// ---------- backoff ----------

#[retry(attempts = 5, backoff = "exp(30s, 8m, x4)")]
fn backoff_sync() -> Result<u32, Fail> {
    step()
}

#[retry(attempts = 5, backoff = "fib(1s, 30s)")]
async fn backoff_async() -> Result<u32, Fail> {
    step()
}

#[retry(attempts = 4, backoff = "linear(1s, 10s)")]
fn linear_sync() -> Result<u32, Fail> {
    step()
}

#[retry(attempts = 3, backoff = " fixed( 0.5s ) ")]
fn fixed_sync() -> Result<u32, Fail> {
    step()
}

#[test]
fn backoff_forms_sync() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout; 5]);
    assert!(backoff_sync().is_err());
    assert_eq!(p.waits(), [s(30), s(120), s(480), s(480)]);
    drop(p);
    let p = retry_runtime::testing::pause();
    script(&[Timeout; 4]);
    assert!(linear_sync().is_err());
    assert_eq!(p.waits(), [s(1), s(2), s(3)]);
    drop(p);
    let p = retry_runtime::testing::pause();
    script(&[Timeout; 3]);
    assert!(fixed_sync().is_err());
    assert_eq!(p.waits(), [ms(500), ms(500)]);
}

#[tokio::test(start_paused = true)]
async fn backoff_forms_async() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout; 5]);
    assert!(backoff_async().await.is_err());
    assert_eq!(p.waits(), [s(1), s(1), s(2), s(3)]);
}

// A schedule: its waits in order, then its last one again (a job
// queue's 1m, 5m, 30m; tenacity's `wait_chain`), with jitter as any backoff.
scripted_pair! {
    #[retry(attempts = 6, backoff = "schedule(1m, 5m, 30m)", retry_on = Timeout)]
    schedule_sync, schedule_async
}

#[retry(attempts = 3, backoff = "schedule(0s, 2s)", jitter = "+1s")]
fn schedule_jittered() -> Result<u32, Fail> {
    step()
}

#[test]
fn a_schedule_waits_its_waits_then_its_last_sync() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout; 6]);
    assert!(schedule_sync().is_err());
    assert_eq!(p.waits(), [s(60), s(300), s(1800), s(1800), s(1800)]);
    drop(p);
    let p = retry_runtime::testing::pause();
    script(&[Timeout; 3]);
    assert!(schedule_jittered().is_err());
    let waits = p.waits();
    assert!(
        waits[0] <= s(1) && (s(2)..=s(3)).contains(&waits[1]),
        "{waits:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_schedule_waits_its_waits_then_its_last_async() {
    let p = retry_runtime::testing::pause();
    let start = tokio::time::Instant::now();
    script(&[Timeout, Timeout, Timeout, Timeout]);
    assert_eq!(schedule_async().await, Ok(5));
    assert_eq!(p.waits(), [s(60), s(300), s(1800), s(1800)]);
    assert_eq!(start.elapsed(), s(60 + 300 + 1800 + 1800));
}

// ---------- jitter ----------

#[retry(attempts = 4, backoff = "fixed(4s)", jitter = "full")]
fn jitter_sync() -> Result<u32, Fail> {
    step()
}

#[retry(attempts = 4, backoff = "fixed(4s)", jitter = "+25%")]
async fn jitter_async() -> Result<u32, Fail> {
    step()
}

/// The waits of 50 runs are jittered: each within its bounds, and not all
/// equal (without the `jitter` key every wait would be the base's 4s, which
/// the bounds alone accept).
fn assert_jittered(waits: &[Duration], low: Duration, high: Duration) {
    assert_eq!(waits.len(), 50 * 3);
    assert!(waits.iter().all(|d| *d >= low && *d <= high), "{waits:?}");
    let (min, max) = (waits.iter().min(), waits.iter().max());
    assert!(min < max, "every wait is {min:?}: no jitter");
}

#[test]
fn jitter_bounds_sync() {
    let mut waits = Vec::new();
    for _ in 0..50 {
        let p = retry_runtime::testing::pause();
        script(&[Timeout; 4]);
        assert!(jitter_sync().is_err());
        let w = p.waits();
        assert_eq!(w.len(), 3);
        waits.extend(w);
    }
    assert_jittered(&waits, Duration::ZERO, s(4));
}

#[tokio::test(start_paused = true)]
async fn jitter_bounds_async() {
    let mut waits = Vec::new();
    for _ in 0..50 {
        let p = retry_runtime::testing::pause();
        script(&[Timeout; 4]);
        assert!(jitter_async().await.is_err());
        let w = p.waits();
        assert_eq!(w.len(), 3);
        waits.extend(w);
    }
    assert_jittered(&waits, s(4), s(5));
}

// ---------- retry_on ----------

scripted_pair! {
    #[retry(attempts = 4, backoff = "exp(1s,4s)", retry_on = Timeout | Connect)]
    retry_on_sync, retry_on_async
}

#[test]
fn retry_on_retries_listed_kinds_only_sync() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout, Connect]);
    assert_eq!(retry_on_sync(), Ok(3));
    assert_eq!(p.waits(), [s(1), s(2)]);
    script(&[Unavailable]);
    assert_eq!(retry_on_sync().unwrap_err().kind, Unavailable);
    assert_eq!(calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_on_retries_listed_kinds_only_async() {
    script(&[Connect, Permanent]);
    assert_eq!(retry_on_async().await.unwrap_err().call, 2);
    assert_eq!(calls(), 2);
}

// ---------- retry_if ----------

fn only_unavailable(e: &Fail) -> bool {
    e.kind == Unavailable
}

scripted_pair! {
    #[retry(backoff = "none", retry_if = only_unavailable)]
    retry_if_sync, retry_if_async
}

#[test]
fn retry_if_uses_the_predicate_sync() {
    script(&[Unavailable, Unavailable]);
    assert_eq!(retry_if_sync(), Ok(3));
    script(&[Timeout]);
    assert!(retry_if_sync().is_err());
    assert_eq!(calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_if_uses_the_predicate_async() {
    script(&[Unavailable, Timeout]);
    assert_eq!(retry_if_async().await.unwrap_err().kind, Timeout);
    assert_eq!(calls(), 2);
}

// A predicate whose path involves a generic parameter (`Self::pred` in a
// generic impl, `pred::<T>`): its type is not `'static`, which the async
// loop's constant policy must not require.
struct Generic<T>(std::marker::PhantomData<T>);

impl<T: Sync> Generic<T> {
    fn unavailable(e: &Fail) -> bool {
        e.kind == Unavailable
    }

    #[retry(backoff = "none", retry_if = Self::unavailable)]
    fn call(&self) -> Result<u32, Fail> {
        step()
    }

    #[retry(backoff = "none", retry_if = Self::unavailable)]
    async fn call_async(&self) -> Result<u32, Fail> {
        step()
    }
}

fn unavailable_for<T>(e: &Fail) -> bool {
    e.kind == Unavailable && !std::any::type_name::<T>().is_empty()
}

#[retry(backoff = "none", retry_if = unavailable_for::<T>)]
async fn generic_predicate<T>() -> Result<u32, Fail> {
    step()
}

// (a body that is one awaited call: the loop awaits it itself)
#[retry(backoff = "none", retry_if = unavailable_for::<T>)]
async fn generic_predicate_awaited<T>() -> Result<u32, Fail> {
    async { step() }.await
}

#[tokio::test(start_paused = true)]
async fn retry_if_with_a_generic_predicate() {
    let g = Generic::<&str>(std::marker::PhantomData);
    script(&[Unavailable, Unavailable]);
    assert_eq!(g.call(), Ok(3));
    script(&[Unavailable, Timeout]);
    assert_eq!(g.call_async().await.unwrap_err().kind, Timeout);
    assert_eq!(calls(), 2);
    script(&[Unavailable]);
    assert_eq!(generic_predicate::<&str>().await, Ok(2));
    script(&[Unavailable, Unavailable]);
    assert_eq!(generic_predicate_awaited::<&str>().await, Ok(3));
}

// ---------- retry_if_ok ----------

fn is_first_call(n: &u32) -> bool {
    *n < 2
}

#[retry(attempts = 3, backoff = "none", retry_if_ok = is_first_call)]
fn retry_if_ok_sync() -> Result<u32, Fail> {
    step()
}

fn never_good_enough(_: &u32) -> bool {
    true
}

#[retry(attempts = 3, backoff = "none", retry_if_ok = never_good_enough)]
async fn retry_if_ok_exhausted_async() -> Result<u32, Fail> {
    step()
}

#[test]
fn retry_if_ok_retries_a_rejected_value_sync() {
    let logs = support::capture();
    script(&[]);
    assert_eq!(retry_if_ok_sync(), Ok(2));
    assert_eq!(calls(), 2);
    logs.assert_logged(Level::WARN, "rejected by retry_if_ok");
}

#[tokio::test(start_paused = true)]
async fn retry_if_ok_returns_the_last_ok_when_exhausted_async() {
    // every Ok is rejected: all 3 attempts are made (1 call without the
    // predicate), and the last Ok is returned, not the first
    script(&[]);
    assert_eq!(retry_if_ok_exhausted_async().await, Ok(3));
    assert_eq!(calls(), 3);
}

// ---------- max_elapsed ----------

scripted_pair! {
    #[retry(attempts = 10, backoff = "fixed(1s)", max_elapsed = "3500ms")]
    max_elapsed_sync, max_elapsed_async
}

#[test]
fn max_elapsed_stops_before_the_deadline_sync() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout; 10]);
    assert!(max_elapsed_sync().is_err());
    // calls at 0s, 1s, 2s, 3s; a 4th sleep would end at 4s > 3.5s
    assert_eq!(calls(), 4);
    assert_eq!(p.waits(), [s(1), s(1), s(1)]);
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_stops_before_the_deadline_async() {
    script(&[Timeout; 10]);
    let start = tokio::time::Instant::now();
    assert!(max_elapsed_async().await.is_err());
    assert_eq!(calls(), 4);
    assert_eq!(start.elapsed(), s(3));
}

// ---------- timeout (async only) ----------

#[retry(attempts = 3, backoff = "fixed(1s)", timeout = "2s", retry_on = Timeout)]
async fn slow_then_fast() -> Result<u32, Fail> {
    let n = step()?;
    if n < 3 {
        tokio::time::sleep(s(60)).await;
    }
    Ok(n)
}

#[tokio::test(start_paused = true)]
async fn timeout_cuts_each_attempt_and_classifies_as_timeout() {
    script(&[]);
    let start = tokio::time::Instant::now();
    assert_eq!(slow_then_fast().await, Ok(3));
    // two attempts cut at 2s each, two 1s waits
    assert_eq!(start.elapsed(), s(6));
}

/// `timeout = value`: a `Duration` or an `Option<Duration>` from the
/// arguments (a command-line flag), read before each attempt; `None` sets
/// no limit.
struct Downloader {
    attempt_timeout: Option<Duration>,
}

impl Downloader {
    #[retry(attempts = 3, backoff = "fixed(1s)", timeout = self.attempt_timeout, retry_on = Timeout)]
    async fn fetch(&self, slow_calls: u32) -> Result<u32, Fail> {
        let n = step()?;
        if n <= slow_calls {
            tokio::time::sleep(s(60)).await;
        }
        Ok(n)
    }
}

/// The limit read before each attempt: each attempt gets what is left of a
/// 10s deadline.
#[retry(attempts = 4, backoff = "none", timeout = left(deadline), retry_on = Timeout)]
async fn within(deadline: tokio::time::Instant) -> Result<u32, Fail> {
    step()?;
    tokio::time::sleep(s(60)).await;
    Ok(0)
}

/// A hedged function takes a value too: each attempt, hedges included, is
/// cut at it.
#[retry(attempts = 3, backoff = "none", hedge = "1s", timeout = limit, retry_on = Timeout)]
async fn hedged_within(limit: Duration) -> Result<u32, Fail> {
    step()?;
    tokio::time::sleep(s(60)).await;
    Ok(0)
}

/// A value that starts with a literal is a value (`2 * base`), and one
/// from `self` works in a method `#[async_trait]` rewrote (`&mut self`,
/// `self: Arc<Self>`), whose receiver it renames.
#[retry(attempts = 2, backoff = "none", timeout = 2 * base, retry_on = Timeout)]
async fn doubled(base: Duration) -> Result<u32, Fail> {
    step()?;
    tokio::time::sleep(s(60)).await;
    Ok(1)
}

#[async_trait::async_trait]
trait Fetch {
    async fn fetch(&mut self) -> Result<u32, Fail>;
    async fn fetch_shared(self: std::sync::Arc<Self>) -> Result<u32, Fail>;
}

struct Limited {
    limit: Duration,
    calls: u32,
}

#[async_trait::async_trait]
impl Fetch for Limited {
    #[retry(attempts = 2, backoff = "none", timeout = self.limit, retry_on = Timeout)]
    async fn fetch(&mut self) -> Result<u32, Fail> {
        self.calls += 1;
        tokio::time::sleep(s(60)).await;
        Ok(self.calls)
    }

    #[retry(attempts = 2, backoff = "none", timeout = self.limit, retry_on = Timeout)]
    async fn fetch_shared(self: std::sync::Arc<Self>) -> Result<u32, Fail> {
        tokio::time::sleep(s(60)).await;
        Ok(self.calls)
    }
}

fn left(deadline: tokio::time::Instant) -> Duration {
    deadline.saturating_duration_since(tokio::time::Instant::now())
}

#[tokio::test(start_paused = true)]
async fn a_timeout_value_is_read_before_each_attempt() {
    script(&[]);
    let start = tokio::time::Instant::now();
    let limited = Downloader {
        attempt_timeout: Some(s(2)),
    };
    assert_eq!(limited.fetch(2).await, Ok(3));
    // two attempts cut at 2s each, two 1s waits
    assert_eq!(start.elapsed(), s(6));

    script(&[]);
    let start = tokio::time::Instant::now();
    let unlimited = Downloader {
        attempt_timeout: None,
    };
    assert_eq!(unlimited.fetch(1).await, Ok(1));
    assert_eq!(start.elapsed(), s(60)); // no limit: the slow attempt ran its 60s

    script(&[]);
    let start = tokio::time::Instant::now();
    let err = within(start + s(10)).await.unwrap_err();
    // the first attempt cut at 10s, the next ones at once (nothing left)
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(start.elapsed(), s(10));

    script(&[]);
    let start = tokio::time::Instant::now();
    // attempts start at 0s, 1s, 2s (hedges), each cut 5s after its start
    let err = hedged_within(s(5)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(start.elapsed(), s(7));

    script(&[]);
    let start = tokio::time::Instant::now();
    assert_eq!(doubled(s(1)).await.unwrap_err().kind, ErrorKind::Timeout);
    assert_eq!(start.elapsed(), s(4)); // two attempts cut at 2 * 1s

    let start = tokio::time::Instant::now();
    let mut client = Limited {
        limit: s(1),
        calls: 0,
    };
    assert_eq!(client.fetch().await.unwrap_err().kind, ErrorKind::Timeout);
    assert_eq!((client.calls, start.elapsed()), (2, s(2)));
    let shared = std::sync::Arc::new(client);
    assert_eq!(
        shared.fetch_shared().await.unwrap_err().kind,
        ErrorKind::Timeout
    );
}

// ---------- preset ----------

#[retry(preset = "webhook")]
fn preset_sync() -> Result<u32, Fail> {
    step()
}

#[retry(preset = "ai_provider", attempts = 2)]
async fn preset_override_async() -> Result<u32, Fail> {
    step()
}

#[test]
fn preset_webhook_sync() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout, Unavailable, RateLimited, Connect]);
    assert_eq!(preset_sync().unwrap_err().call, 4);
    assert_eq!(p.waits(), [s(1), s(2), s(4)]);
    script(&[Permanent]);
    assert!(preset_sync().is_err());
    assert_eq!(calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn preset_with_an_overriding_key_async() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout, Timeout]);
    assert_eq!(preset_override_async().await.unwrap_err().call, 2);
    assert_eq!(p.waits(), [s(2)]);
}

// ---------- policy ----------

const GROK: Policy = Policy::new()
    .with_max_attempts(2)
    .with_backoff(retry_runtime::Backoff::fixed(Duration::from_millis(500)))
    .checked();

#[retry(policy = GROK)]
fn policy_const_sync() -> Result<u32, Fail> {
    step()
}

/// `or_retry_if` under the attribute: the kinds, and what the predicate
/// picks besides (a Permanent error here); anything else once.
fn permanent_too(e: &Fail) -> bool {
    e.kind == Permanent
}

type Pick = fn(&Fail) -> bool;

const OR_IF: Policy<retry_runtime::RetryOnOrIf<Pick>> = Policy::new()
    .with_max_attempts(4)
    .with_backoff(retry_runtime::Backoff::fixed(Duration::from_millis(10)))
    .retry_on(retry_runtime::kinds![Timeout])
    .or_retry_if(permanent_too);

#[retry(policy = OR_IF)]
fn or_retry_if_sync() -> Result<u32, Fail> {
    step()
}

#[retry(policy = OR_IF)]
async fn or_retry_if_async() -> Result<u32, Fail> {
    step()
}

#[test]
fn or_retry_if_under_the_attribute_sync() {
    let p = retry_runtime::testing::pause();
    script(&[Permanent, Timeout]);
    assert_eq!(or_retry_if_sync().unwrap(), 3);
    assert_eq!(p.waits(), [ms(10), ms(10)]);
    script(&[Unavailable]);
    assert_eq!(or_retry_if_sync().unwrap_err().call, 1);
}

#[tokio::test(start_paused = true)]
async fn or_retry_if_under_the_attribute_async() {
    let p = retry_runtime::testing::pause();
    script(&[Timeout, Permanent]);
    assert_eq!(or_retry_if_async().await.unwrap(), 3);
    assert_eq!(p.waits(), [ms(10), ms(10)]);
    script(&[Unavailable]);
    assert_eq!(or_retry_if_async().await.unwrap_err().call, 1);
}

struct Provider {
    policy: Policy<retry_runtime::RetryOn>,
}

impl Provider {
    #[retry(policy = self.policy, attempts = 3)]
    async fn ask(&self) -> Result<u32, Fail> {
        step()
    }
}

#[test]
fn policy_from_a_const_sync() {
    let p = retry_runtime::testing::pause();
    script(&[Permanent, Permanent]);
    assert_eq!(policy_const_sync().unwrap_err().call, 2);
    assert_eq!(p.waits(), [ms(500)]);
}

#[tokio::test(start_paused = true)]
async fn policy_chosen_at_runtime_async() {
    let p = retry_runtime::testing::pause();
    let fast = Provider {
        policy: retry_runtime::presets::QUICK,
    };
    let slow = Provider {
        policy: retry_runtime::presets::AI_PROVIDER,
    };
    script(&[Timeout, Timeout, Timeout]);
    assert!(fast.ask().await.is_err()); // attempts = 3 overrides QUICK's 2
    assert_eq!(p.waits(), [ms(500), ms(500)]);
    drop(p);
    let p = retry_runtime::testing::pause();
    script(&[Timeout, Timeout]);
    assert_eq!(slow.ask().await, Ok(3));
    assert_eq!(p.waits(), [s(2), s(4)]);
}

// ---------- name ----------

#[retry(attempts = 2, backoff = "none", name = "clip_download")]
fn named_sync() -> Result<u32, Fail> {
    step()
}

#[retry(attempts = 2, backoff = "none")]
async fn unnamed_async() -> Result<u32, Fail> {
    step()
}

#[test]
fn name_appears_in_log_lines_sync() {
    let logs = support::capture();
    script(&[Timeout]);
    assert_eq!(named_sync(), Ok(2));
    let line = logs.assert_logged(Level::WARN, "retrying clip_download");
    support::assert_fields(&line, &[("operation", "clip_download")]);
    logs.assert_logged(Level::INFO, "clip_download succeeded on attempt 2");
}

#[tokio::test(start_paused = true)]
async fn the_function_name_is_the_default_name_async() {
    let logs = support::capture();
    script(&[Timeout, Timeout]);
    assert!(unnamed_async().await.is_err());
    logs.assert_logged(Level::ERROR, "unnamed_async failed after 2 attempts");
}

// A preset given as `policy = ...`, or a policy of yours made from one, is
// not named by you: the function's name is the operation, as with
// `preset = "..."`. A policy you named keeps its name.
#[retry(policy = retry_runtime::presets::QUICK, backoff = "none")]
fn from_a_preset_policy() -> Result<u32, Fail> {
    step()
}

const FROM_QUICK: Policy<retry_runtime::RetryOn> = retry_runtime::presets::QUICK
    .with_backoff(retry_runtime::Backoff::None)
    .checked();

#[retry(policy = FROM_QUICK)]
async fn from_a_policy_made_from_a_preset() -> Result<u32, Fail> {
    step()
}

const NAMED_GROK: Policy = Policy::new()
    .with_max_attempts(2)
    .with_backoff(retry_runtime::Backoff::None)
    .with_name("grok")
    .checked();

#[retry(policy = NAMED_GROK)]
fn with_a_named_policy() -> Result<u32, Fail> {
    step()
}

#[tokio::test(start_paused = true)]
async fn a_preset_policy_takes_the_functions_name_a_named_one_keeps_its_own() {
    let logs = support::capture();
    script(&[Timeout]);
    assert_eq!(from_a_preset_policy(), Ok(2));
    let line = logs.assert_logged(Level::WARN, "retrying from_a_preset_policy");
    support::assert_fields(&line, &[("operation", "from_a_preset_policy")]);
    script(&[Timeout]);
    assert_eq!(from_a_policy_made_from_a_preset().await, Ok(2));
    let line = logs.assert_logged(Level::WARN, "retrying from_a_policy_made_from_a_preset");
    support::assert_fields(&line, &[("operation", "from_a_policy_made_from_a_preset")]);
    script(&[Timeout]);
    assert_eq!(with_a_named_policy(), Ok(2));
    let line = logs.assert_logged(Level::WARN, "retrying grok");
    support::assert_fields(&line, &[("operation", "grok")]);
}

// A raw identifier: the operation is `try`, not `r#try`.
#[retry(attempts = 2, backoff = "none")]
fn r#try() -> Result<u32, Fail> {
    step()
}

#[test]
fn a_raw_function_name_is_logged_without_its_prefix() {
    let logs = support::capture();
    script(&[Timeout]);
    assert_eq!(r#try(), Ok(2));
    let line = logs.assert_logged(Level::WARN, "retrying try");
    support::assert_fields(&line, &[("operation", "try")]);
}

// ---------- before_sleep / on_give_up ----------

thread_local! {
    static EVENTS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn record_sleep(ev: &RetryEvent<'_>) {
    let line = format!(
        "sleep {} {}/{} {:?} {}",
        ev.operation, ev.attempt, ev.max_attempts, ev.wait, ev.error
    );
    EVENTS.with(|e| e.borrow_mut().push(line));
}

fn record_give_up(ev: &GiveUpEvent<'_>) {
    let line = format!(
        "give_up {} {} {:?} {}",
        ev.operation, ev.attempts, ev.reason, ev.error
    );
    EVENTS.with(|e| e.borrow_mut().push(line));
}

fn events() -> Vec<String> {
    EVENTS.with(|e| e.take())
}

#[retry(attempts = 3, backoff = "fixed(1s)", before_sleep = record_sleep, on_give_up = record_give_up)]
fn hooks_sync() -> Result<u32, Fail> {
    step()
}

#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Timeout, before_sleep = record_sleep, on_give_up = record_give_up)]
async fn hooks_async() -> Result<u32, Fail> {
    step()
}

#[test]
fn hooks_run_before_each_sleep_and_once_on_give_up_sync() {
    let _p = retry_runtime::testing::pause();
    events();
    script(&[Timeout, Timeout, Timeout]);
    assert!(hooks_sync().is_err());
    assert_eq!(
        events(),
        [
            "sleep hooks_sync 1/3 1s Timeout on call 1",
            "sleep hooks_sync 2/3 1s Timeout on call 2",
            "give_up hooks_sync 3 Attempts Timeout on call 3"
        ]
    );
    script(&[]);
    assert_eq!(hooks_sync(), Ok(1));
    assert!(events().is_empty());
}

#[tokio::test(start_paused = true)]
async fn hooks_on_a_permanent_error_async() {
    events();
    script(&[Timeout, Permanent]);
    assert!(hooks_async().await.is_err());
    assert_eq!(
        events(),
        [
            "sleep hooks_async 1/3 1s Timeout on call 1",
            &format!(
                "give_up hooks_async 2 {:?} Permanent on call 2",
                StopReason::Permanent
            )
        ]
    );
}

// ---------- clone ----------

#[derive(Clone, Debug, PartialEq)]
struct Payload(String);

fn consume(p: Payload) -> Result<usize, Fail> {
    step()?;
    Ok(p.0.len())
}

#[retry(attempts = 3, backoff = "none", clone = body)]
fn clone_sync(body: Payload) -> Result<usize, Fail> {
    consume(body)
}

#[retry(attempts = 3, backoff = "none", clone = [body, tag])]
async fn clone_async(body: Payload, tag: String) -> Result<usize, Fail> {
    drop(tag);
    consume(body)
}

#[test]
fn clone_gives_each_attempt_its_own_copy_sync() {
    script(&[Timeout, Timeout]);
    assert_eq!(clone_sync(Payload("abc".into())), Ok(3));
    assert_eq!(calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn clone_gives_each_attempt_its_own_copy_async() {
    script(&[Timeout]);
    assert_eq!(clone_async(Payload("abcd".into()), "t".into()).await, Ok(4));
    assert_eq!(calls(), 2);
}

/// A `Clone` type of the user's named `Transaction` (a payment, not a
/// database's): `clone` lets it through, as any other `mut` parameter; the
/// macro's database advice is for one without `clone`.
#[derive(Clone)]
struct Transaction {
    amount_cents: i64,
}

#[retry(attempts = 3, backoff = "none", clone = tx)]
fn submit(mut tx: Transaction) -> Result<i64, Fail> {
    tx.amount_cents += 1;
    step().map(|n| i64::from(n) + tx.amount_cents)
}

#[test]
fn a_clone_type_named_transaction_may_be_a_cloned_mut_parameter() {
    script(&[Timeout]);
    // the second attempt's copy starts from 99 again: 100, not 101
    assert_eq!(submit(Transaction { amount_cents: 99 }), Ok(2 + 100));
    assert_eq!(calls(), 2);
}

/// A clone whose drop is seen: each attempt's clone is dropped when the
/// attempt ends, before the retry's hook, as the attempt's own values are
/// (async clones are made before the attempt's block: they still end with
/// it).
struct Noted(&'static std::sync::Mutex<Vec<&'static str>>);

impl Clone for Noted {
    fn clone(&self) -> Self {
        Noted(self.0)
    }
}

impl Drop for Noted {
    fn drop(&mut self) {
        self.0.lock().unwrap().push("clone dropped");
    }
}

static NOTES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

fn note_retry(_: &retry_runtime::RetryEvent<'_>) {
    NOTES.lock().unwrap().push("before_sleep");
}

#[retry(attempts = 2, backoff = "none", clone = noted, before_sleep = note_retry)]
async fn noted_async(noted: Noted) -> Result<usize, Fail> {
    let _ = &noted;
    tokio::task::yield_now().await;
    step().map(|n| n as usize)
}

#[retry(attempts = 2, backoff = "none", clone = noted, before_sleep = note_retry)]
fn noted_sync(noted: Noted) -> Result<usize, Fail> {
    let _ = &noted;
    step().map(|n| n as usize)
}

#[tokio::test(start_paused = true)]
async fn an_attempts_clone_is_dropped_before_the_retry_is_announced() {
    NOTES.lock().unwrap().clear();
    script(&[Timeout]);
    assert_eq!(noted_async(Noted(&NOTES)).await, Ok(2));
    script(&[Timeout]);
    assert_eq!(noted_sync(Noted(&NOTES)), Ok(2));
    let notes = NOTES.lock().unwrap().clone();
    let first_attempt = ["clone dropped", "before_sleep", "clone dropped"];
    // each run: the first attempt's clone, the hook, the second's clone,
    // then the argument itself
    assert_eq!(notes[..3], first_attempt, "{notes:?}");
    assert_eq!(notes[4..7], first_attempt, "{notes:?}");
}

// ---------- crate ----------

mod renamed {
    pub use retry_runtime as rt;
}

scripted_pair! {
    #[retry(crate = "crate::keys::renamed::rt", attempts = 2, backoff = "none")]
    crate_path_sync, crate_path_async
}

#[test]
fn crate_path_sync_works() {
    script(&[Timeout]);
    assert_eq!(crate_path_sync(), Ok(2));
}

#[tokio::test(start_paused = true)]
async fn crate_path_async_works() {
    script(&[Timeout]);
    assert_eq!(crate_path_async().await, Ok(2));
}

// ---------- Retry-After through the attribute ----------

#[retry(attempts = 3, backoff = "exp(1s, 4s)", retry_on = RateLimited)]
async fn throttled() -> Result<u32, Fail> {
    match step() {
        Err(mut e) if e.kind == RateLimited => {
            e.retry_after = Some(s(7));
            Err(e)
        }
        other => other,
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_hint_replaces_the_backoff() {
    let p = retry_runtime::testing::pause();
    script(&[RateLimited]);
    assert_eq!(throttled().await, Ok(2));
    assert_eq!(p.waits(), [s(7)]);
}
