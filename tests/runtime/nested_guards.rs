//! Guards shared across layers (`retry_runtime::nested`): a retried call
//! made inside an attempt of another whose policy has the same circuit
//! breaker, retry budget or throttle (one `static` per dependency, and one
//! policy used at both layers) leaves that guard to the outer run. Each call
//! to the dependency is then counted once: the breaker opens after its
//! number of failures, not half of it; a half-open breaker's probe is not
//! refused to the call it let through; the budget gets one deposit per
//! call; the throttle one request per attempt. Different guards at two
//! layers are each told of the calls, as before.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use retry_runtime::circuit::{CircuitState, ManualClock, Outcome};
use retry_runtime::{
    retry, testing, Backoff, CircuitBreaker, CircuitOpen, Classify, Nested, Policy, RetryAll,
    RetryBudget, StopReason, Throttle, Throttled, WithCircuit,
};

#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, Classify)]
enum Fail {
    #[error("timed out")]
    #[classify(Timeout)]
    Timeout,
    #[error(transparent)]
    #[classify(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    #[classify(transparent)]
    Throttled(#[from] Throttled),
}

/// A dependency that times out on its first `failures` calls, then
/// answers with the call's number.
struct Dependency {
    calls: AtomicU32,
    failures: AtomicU32,
}

impl Dependency {
    const fn new() -> Dependency {
        Dependency {
            calls: AtomicU32::new(0),
            failures: AtomicU32::new(u32::MAX),
        }
    }

    /// From now: no call yet, `failures` timeouts before an answer.
    fn script(&self, failures: u32) {
        self.calls.store(0, Ordering::SeqCst);
        self.failures.store(failures, Ordering::SeqCst);
    }

    fn call(&self) -> Result<u32, Fail> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.failures.load(Ordering::SeqCst) {
            Err(Fail::Timeout)
        } else {
            Ok(n)
        }
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A breaker opening after `failures` consecutive failures, half-open 30s
/// later, on a manual clock of its own.
fn breaker(name: &'static str, failures: u32) -> (&'static CircuitBreaker, &'static ManualClock) {
    let clock = leak(ManualClock::new());
    let breaker = leak(
        CircuitBreaker::new(name)
            .with_failures(failures)
            .with_recovery(Duration::from_secs(30))
            .with_clock(clock),
    );
    (breaker, clock)
}

fn three_attempts() -> Policy {
    Policy::new().with_attempts(3).with_backoff(Backoff::None)
}

/// Open `breaker` (one failure is enough for it) and let its recovery
/// time pass: the next call is its probe.
fn half_open(breaker: &CircuitBreaker, clock: &ManualClock) {
    let permit = breaker.try_acquire().unwrap();
    breaker.record(permit, Outcome::Failure);
    assert_eq!(breaker.state(), CircuitState::Open);
    clock.advance(Duration::from_secs(30));
}

// --- the breaker's threshold ---

/// `.with_failures(6)`: 6 calls to the dependency failed, not 3.
#[test]
fn a_shared_breaker_counts_each_failed_call_once() {
    let (upstream, _) = breaker("shared-sync", 6);
    let policy = three_attempts().with_circuit(upstream);
    let dep = Dependency::new();
    let _paused = testing::pause();
    let call = || policy.retry(|| policy.retry(|| dep.call()).call()).call();
    assert_eq!(call(), Err(Fail::Timeout));
    assert_eq!(dep.calls(), 3);
    let s = upstream.stats();
    assert_eq!(
        (s.state, s.failures, s.consecutive_failures, s.permitted),
        (CircuitState::Closed, 3, 3, 3),
        "one failure and one leave per call to the dependency: {s:?}"
    );
    // 3 more failed calls: the 6th opens it
    assert_eq!(call(), Err(Fail::Timeout));
    assert_eq!(dep.calls(), 6);
    let s = upstream.stats();
    assert_eq!((s.state, s.failures, s.opened), (CircuitState::Open, 6, 1));
}

static SYNC_CLOCK: ManualClock = ManualClock::new();
static SYNC_UPSTREAM: CircuitBreaker = CircuitBreaker::new("shared-attr")
    .with_failures(6)
    .with_clock(&SYNC_CLOCK);
/// One policy for every call to the upstream, as a service keeps it.
static SYNC_POLICY: Policy<RetryAll, WithCircuit> = Policy::new()
    .with_attempts(3)
    .with_backoff(Backoff::None)
    .with_circuit(&SYNC_UPSTREAM);
static SYNC_DEP: Dependency = Dependency::new();

#[retry(policy = SYNC_POLICY)]
fn sync_fetch() -> Result<u32, Fail> {
    SYNC_DEP.call()
}

#[retry(policy = SYNC_POLICY)]
fn sync_handler() -> Result<u32, Fail> {
    sync_fetch()
}

#[test]
fn a_shared_breaker_counts_each_failed_call_once_through_the_attribute() {
    SYNC_DEP.script(u32::MAX);
    assert_eq!(sync_handler(), Err(Fail::Timeout));
    assert_eq!(SYNC_DEP.calls(), 3);
    let s = SYNC_UPSTREAM.stats();
    assert_eq!((s.state, s.failures), (CircuitState::Closed, 3), "{s:?}");
    assert_eq!(sync_handler(), Err(Fail::Timeout));
    let s = SYNC_UPSTREAM.stats();
    assert_eq!((s.state, s.failures), (CircuitState::Open, 6), "{s:?}");
}

static ASYNC_CLOCK: ManualClock = ManualClock::new();
static ASYNC_UPSTREAM: CircuitBreaker = CircuitBreaker::new("shared-async")
    .with_failures(6)
    .with_clock(&ASYNC_CLOCK);
static ASYNC_POLICY: Policy<RetryAll, WithCircuit> = Policy::new()
    .with_attempts(3)
    .with_backoff(Backoff::None)
    .with_circuit(&ASYNC_UPSTREAM);
static ASYNC_DEP: Dependency = Dependency::new();

#[retry(policy = ASYNC_POLICY)]
async fn async_fetch() -> Result<u32, Fail> {
    // really suspend: each layer's future is polled more than once
    tokio::task::yield_now().await;
    ASYNC_DEP.call()
}

#[retry(policy = ASYNC_POLICY)]
async fn async_handler() -> Result<u32, Fail> {
    async_fetch().await
}

#[tokio::test(flavor = "current_thread")]
async fn a_shared_breaker_counts_each_failed_call_once_async() {
    ASYNC_DEP.script(u32::MAX);
    assert_eq!(async_handler().await, Err(Fail::Timeout));
    assert_eq!(ASYNC_DEP.calls(), 3);
    let s = ASYNC_UPSTREAM.stats();
    assert_eq!((s.state, s.failures), (CircuitState::Closed, 3), "{s:?}");
    assert_eq!(async_handler().await, Err(Fail::Timeout));
    let s = ASYNC_UPSTREAM.stats();
    assert_eq!((s.state, s.failures), (CircuitState::Open, 6), "{s:?}");
}

// The attribute's own keys (`circuit = ..., budget = ...`), which attach
// the guards in the function's loop.
static KEYS_CLOCK: ManualClock = ManualClock::new();
static KEYS_UPSTREAM: CircuitBreaker = CircuitBreaker::new("keys")
    .with_failures(100)
    .with_clock(&KEYS_CLOCK);
static KEYS_RETRIES: RetryBudget = RetryBudget::new("keys");
static KEYS_DEP: Dependency = Dependency::new();

#[retry(attempts = 3, backoff = "none", circuit = KEYS_UPSTREAM, budget = KEYS_RETRIES)]
fn keys_fetch() -> Result<u32, Fail> {
    KEYS_DEP.call()
}

#[retry(attempts = 3, backoff = "none", circuit = KEYS_UPSTREAM, budget = KEYS_RETRIES)]
fn keys_handler() -> Result<u32, Fail> {
    keys_fetch()
}

#[test]
fn guards_given_as_keys_of_the_attribute_count_each_call_once() {
    KEYS_DEP.script(u32::MAX);
    assert_eq!(keys_handler(), Err(Fail::Timeout));
    assert_eq!(KEYS_DEP.calls(), 3);
    let s = KEYS_UPSTREAM.stats();
    assert_eq!((s.failures, s.permitted), (3, 3), "{s:?}");
    let s = KEYS_RETRIES.stats();
    assert_eq!((s.first_attempts, s.retries), (1, 2), "{s:?}");
}

static ASYNC_KEYS_CLOCK: ManualClock = ManualClock::new();
static ASYNC_KEYS_UPSTREAM: CircuitBreaker = CircuitBreaker::new("async-keys")
    .with_failures(100)
    .with_clock(&ASYNC_KEYS_CLOCK);
static ASYNC_KEYS_RETRIES: RetryBudget = RetryBudget::new("async-keys");
static ASYNC_KEYS_DEP: Dependency = Dependency::new();

#[retry(attempts = 3, backoff = "none", circuit = ASYNC_KEYS_UPSTREAM, budget = ASYNC_KEYS_RETRIES)]
async fn async_keys_fetch() -> Result<u32, Fail> {
    tokio::task::yield_now().await;
    ASYNC_KEYS_DEP.call()
}

// (one awaited expression: the loop makes its future with the guards published)
#[retry(attempts = 3, backoff = "none", circuit = ASYNC_KEYS_UPSTREAM, budget = ASYNC_KEYS_RETRIES)]
async fn async_keys_handler() -> Result<u32, Fail> {
    async_keys_fetch().await
}

#[tokio::test(flavor = "current_thread")]
async fn guards_given_as_keys_of_the_attribute_count_each_call_once_async() {
    ASYNC_KEYS_DEP.script(u32::MAX);
    assert_eq!(async_keys_handler().await, Err(Fail::Timeout));
    assert_eq!(ASYNC_KEYS_DEP.calls(), 3);
    let s = ASYNC_KEYS_UPSTREAM.stats();
    assert_eq!((s.failures, s.permitted), (3, 3), "{s:?}");
    let s = ASYNC_KEYS_RETRIES.stats();
    assert_eq!((s.first_attempts, s.retries), (1, 2), "{s:?}");
}

/// The functional API's async runs.
#[tokio::test(flavor = "current_thread")]
async fn a_shared_breaker_counts_each_failed_call_once_async_functional() {
    let (upstream, _) = breaker("shared-async-fn", 6);
    let policy = three_attempts().with_circuit(upstream);
    let dep = Dependency::new();
    let r = policy
        .retry(|| async {
            tokio::task::yield_now().await;
            policy
                .retry(|| async {
                    tokio::task::yield_now().await;
                    dep.call()
                })
                .await
        })
        .await;
    assert_eq!(r, Err(Fail::Timeout));
    assert_eq!(dep.calls(), 3);
    let s = upstream.stats();
    assert_eq!((s.failures, s.permitted), (3, 3), "{s:?}");
}

/// A hedged call inside (no hedge delay: one attempt at a time).
#[tokio::test(flavor = "current_thread")]
async fn a_shared_breaker_counts_each_failed_call_once_hedged() {
    let (upstream, _) = breaker("shared-hedged", 6);
    let policy = three_attempts().with_circuit(upstream);
    let dep = Dependency::new();
    let r = policy
        .retry(|| policy.retry(|| async { dep.call() }).hedged())
        .await;
    assert_eq!(r, Err(Fail::Timeout));
    assert_eq!(dep.calls(), 3);
    let s = upstream.stats();
    assert_eq!((s.failures, s.permitted), (3, 3), "{s:?}");
}

// --- a half-open breaker ---

/// The outer run takes the probe; the run inside it must not ask again
/// (it would find no probe left, fail with `CircuitOpen`, and the outer
/// run would record its probe as failed: the breaker would never close).
#[test]
fn a_half_open_shared_breaker_closes_after_a_nested_success() {
    let (upstream, clock) = breaker("probe-sync", 1);
    let policy = three_attempts().with_circuit(upstream);
    let dep = Dependency::new();
    half_open(upstream, clock);
    dep.script(0);
    let _paused = testing::pause();
    let r = policy.retry(|| policy.retry(|| dep.call()).call()).call();
    assert_eq!(r, Ok(1));
    assert_eq!(dep.calls(), 1);
    assert_eq!(upstream.state(), CircuitState::Closed);
}

#[tokio::test(flavor = "current_thread")]
async fn a_half_open_shared_breaker_closes_after_a_nested_success_async() {
    let (upstream, clock) = breaker("probe-async", 1);
    let policy = three_attempts().with_circuit(upstream);
    let dep = Dependency::new();
    half_open(upstream, clock);
    dep.script(0);
    let r = policy
        .retry(|| policy.retry(|| async { dep.call() }).into_future())
        .await;
    assert_eq!(r, Ok(1));
    assert_eq!(dep.calls(), 1);
    assert_eq!(upstream.state(), CircuitState::Closed);
}

#[tokio::test(flavor = "current_thread")]
async fn a_half_open_shared_breaker_closes_after_a_nested_success_hedged() {
    let (upstream, clock) = breaker("probe-hedged", 1);
    let policy = three_attempts().with_circuit(upstream);
    let dep = Dependency::new();
    half_open(upstream, clock);
    dep.script(0);
    let r = policy
        .retry(|| policy.retry(|| async { dep.call() }).hedged())
        .await;
    assert_eq!(r, Ok(1));
    assert_eq!(upstream.state(), CircuitState::Closed);
}

/// A failed probe re-opens the breaker once, and the inner run's own
/// retries (`Nested::Retry`) still stop when the breaker is not closed.
#[test]
fn a_failed_nested_probe_reopens_once_and_stops_the_inner_retries() {
    let (upstream, clock) = breaker("probe-fails", 1);
    let outer = three_attempts().with_circuit(upstream);
    let inner = outer.with_nested(Nested::Retry);
    let dep = Dependency::new();
    half_open(upstream, clock);
    dep.script(u32::MAX);
    let _paused = testing::pause();
    let e = outer
        .retry(|| inner.retry(|| dep.call()).call())
        .detailed()
        .call()
        .unwrap_err();
    // the probe failed: the inner run does not retry into a breaker that
    // is not closed, and the outer run stops as its probe re-opened it
    assert_eq!(dep.calls(), 1);
    assert_eq!((e.attempts, e.reason), (1, StopReason::CircuitOpen));
    let s = upstream.stats();
    assert_eq!((s.state, s.opened, s.failures), (CircuitState::Open, 2, 2));
}

// --- the budget ---

/// README: over N calls, retries stay below 10% of N + 6. Each call's
/// first attempt deposits once, however many runs it passes through.
#[test]
fn a_shared_budget_gets_one_deposit_per_call() {
    let retries = leak(RetryBudget::new("shared"));
    let policy = Policy::new()
        .with_attempts(4)
        .with_backoff(Backoff::None)
        .with_budget(retries);
    let dep = Dependency::new();
    let _paused = testing::pause();
    for _ in 0..1000 {
        let r = policy.retry(|| policy.retry(|| dep.call()).call()).call();
        assert_eq!(r, Err(Fail::Timeout));
    }
    let s = retries.stats();
    assert_eq!(s.first_attempts, 1000, "{s:?}");
    assert!(s.retries < 1000 / 10 + 6, "{s:?}");
    assert_eq!(u64::from(dep.calls()), 1000 + s.retries);
}

/// An inner run that keeps its own retries still withdraws for them.
#[test]
fn an_inner_run_keeping_its_retries_withdraws_but_does_not_deposit() {
    let retries = leak(RetryBudget::new("own").with_max_tokens(1000));
    let outer = three_attempts().with_budget(retries);
    let inner = outer.with_nested(Nested::Retry);
    let dep = Dependency::new();
    let _paused = testing::pause();
    let r = outer.retry(|| inner.retry(|| dep.call()).call()).call();
    assert_eq!(r, Err(Fail::Timeout));
    assert_eq!(dep.calls(), 9);
    let s = retries.stats();
    // 2 retries in each of the 3 inner runs, 2 of the outer run
    assert_eq!((s.first_attempts, s.retries), (1, 8), "{s:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_shared_budget_gets_one_deposit_per_call_async() {
    let retries = leak(RetryBudget::new("shared-async"));
    let policy = three_attempts().with_budget(retries);
    let dep = Dependency::new();
    let r = policy
        .retry(|| async {
            policy
                .retry(|| async {
                    tokio::task::yield_now().await;
                    dep.call()
                })
                .await
        })
        .await;
    assert_eq!(r, Err(Fail::Timeout));
    let s = retries.stats();
    assert_eq!((s.first_attempts, s.retries), (1, 2), "{s:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_shared_budget_gets_one_deposit_per_call_hedged() {
    let dep = Dependency::new();
    let retries = leak(RetryBudget::new("shared-hedged"));
    let policy = three_attempts().with_budget(retries);
    let r = policy
        .retry(|| policy.retry(|| async { dep.call() }).hedged())
        .await;
    assert_eq!(r, Err(Fail::Timeout));
    let s = retries.stats();
    assert_eq!((s.first_attempts, s.retries), (1, 2), "{s:?}");
}

// --- the throttle ---

/// A throttle that never rejects (its counts are what is checked), on a
/// clock of its own.
fn throttle(name: &'static str) -> &'static Throttle {
    let clock = leak(ManualClock::new());
    leak(
        Throttle::new(name)
            .with_max_probability(0.0)
            .with_clock(clock),
    )
}

#[test]
fn a_shared_throttle_counts_one_request_per_attempt() {
    let search = throttle("shared");
    let policy = three_attempts().with_throttle(search);
    let dep = Dependency::new();
    let _paused = testing::pause();
    // one failed call to the dependency, then an answer
    dep.script(1);
    let r = policy.retry(|| policy.retry(|| dep.call()).call()).call();
    assert_eq!(r, Ok(2));
    let s = search.stats();
    assert_eq!((s.requests, s.accepts, s.admitted), (2, 1, 2), "{s:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_shared_throttle_counts_one_request_per_attempt_async() {
    let search = throttle("shared-async");
    let policy = three_attempts().with_throttle(search);
    let dep = Dependency::new();
    dep.script(1);
    let r = policy
        .retry(|| policy.retry(|| async { dep.call() }).into_future())
        .await;
    assert_eq!(r, Ok(2));
    let s = search.stats();
    assert_eq!((s.requests, s.accepts, s.admitted), (2, 1, 2), "{s:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_shared_throttle_counts_one_request_per_attempt_hedged() {
    let dep = Dependency::new();
    let search = throttle("shared-hedged");
    let policy = three_attempts().with_throttle(search);
    dep.script(1);
    let r = policy
        .retry(|| policy.retry(|| async { dep.call() }).hedged())
        .await;
    assert_eq!(r, Ok(2));
    let s = search.stats();
    assert_eq!((s.requests, s.accepts, s.admitted), (2, 1, 2), "{s:?}");
}

// --- different guards at different layers ---

/// Three layers: a breaker at the top and the bottom (the same one) and
/// another in the middle. The middle breaker is told of each call, as
/// the top one is; the bottom run leaves the top's breaker to it.
#[test]
fn different_breakers_at_two_layers_both_record() {
    let (edge, _) = breaker("edge", 100);
    let (middle, _) = breaker("middle", 100);
    let top = three_attempts().with_circuit(edge);
    let mid = three_attempts().with_circuit(middle);
    let dep = Dependency::new();
    let _paused = testing::pause();
    let r = top
        .retry(|| mid.retry(|| top.retry(|| dep.call()).call()).call())
        .call();
    assert_eq!(r, Err(Fail::Timeout));
    assert_eq!(dep.calls(), 3);
    for b in [edge, middle] {
        let s = b.stats();
        assert_eq!((s.failures, s.permitted), (3, 3), "{}: {s:?}", b.name());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn different_breakers_at_two_layers_both_record_async() {
    let (edge, _) = breaker("edge-async", 100);
    let (middle, _) = breaker("middle-async", 100);
    let top = three_attempts().with_circuit(edge);
    let mid = three_attempts().with_circuit(middle);
    let dep = Dependency::new();
    let r = top
        .retry(|| async {
            mid.retry(|| async {
                top.retry(|| async {
                    tokio::task::yield_now().await;
                    dep.call()
                })
                .await
            })
            .await
        })
        .await;
    assert_eq!(r, Err(Fail::Timeout));
    assert_eq!(dep.calls(), 3);
    for b in [edge, middle] {
        let s = b.stats();
        assert_eq!((s.failures, s.permitted), (3, 3), "{}: {s:?}", b.name());
    }
}

// --- the tower layer ---

/// A service behind the layer whose handler makes a retried call guarded
/// by the layer's breaker: one failure per call to the dependency.
#[tokio::test(flavor = "current_thread")]
async fn a_retried_call_behind_the_tower_layer_leaves_the_shared_breaker_to_it() {
    use tower::{Service, ServiceExt};

    let (upstream, _) = breaker("tower-shared", 100);
    let policy: &'static Policy<RetryAll, WithCircuit> =
        leak(three_attempts().with_circuit(upstream));
    let dep: &'static Dependency = leak(Dependency::new());
    let handler = tower::service_fn(move |_: http::Request<String>| async move {
        let status = match policy.retry(|| async { dep.call() }).await {
            Ok(_) => 200,
            Err(_) => 504,
        };
        Ok::<_, std::io::Error>(
            http::Response::builder()
                .status(status)
                .body(String::new())
                .unwrap(),
        )
    });
    let mut svc = tower::Layer::layer(&policy.layer(), handler);
    let request = http::Request::get("/").body(String::new()).unwrap();
    let response = svc.ready().await.unwrap().call(request).await.unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(dep.calls(), 3);
    let s = upstream.stats();
    assert_eq!((s.failures, s.permitted), (3, 3), "{s:?}");
}
