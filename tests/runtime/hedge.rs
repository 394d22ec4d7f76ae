//! Hedged attempts (`retry_runtime::hedge`), on tokio's paused clock: the
//! first success wins and the others are dropped; a retriable failure does
//! not cancel the others, a permanent one ends the call; attempts in flight
//! count against `attempts`; the budget and the breaker stop new hedges
//! without cancelling those in flight; the wait a failure announces is the
//! one until the next start; `#[retry(hedge = "...")]`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use retry_runtime::{
    retry, Backoff, CircuitBreaker, CircuitOpen, Classify, KindSet, Policy, RetryBudget, RetryOn,
    StopReason,
};
use tokio::time::{sleep, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Classify)]
enum Fail {
    #[error("503")]
    #[classify(Unavailable)]
    Unavailable,
    #[error("404")]
    #[classify(Permanent)]
    NotFound,
    #[error(transparent)]
    #[classify(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    #[classify(transparent)]
    Throttled(#[from] retry_runtime::Throttled),
}

/// A replica: attempt `n` (from 1) answers after `plan[n-1].0` ms with
/// `plan[n-1].1`; records starts and drops.
struct Replicas {
    plan: Vec<(u64, Result<u32, Fail>)>,
    started: AtomicU32,
    dropped: Mutex<Vec<u32>>,
}

struct DropFlag<'a>(u32, &'a Mutex<Vec<u32>>, bool);

impl Drop for DropFlag<'_> {
    fn drop(&mut self) {
        if !self.2 {
            self.1.lock().unwrap().push(self.0);
        }
    }
}

impl Replicas {
    fn new(plan: Vec<(u64, Result<u32, Fail>)>) -> Self {
        Replicas {
            plan,
            started: AtomicU32::new(0),
            dropped: Mutex::new(Vec::new()),
        }
    }

    async fn call(&self) -> Result<u32, Fail> {
        let n = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let (wait, out) = self.plan[(n - 1) as usize].clone();
        let mut flag = DropFlag(n, &self.dropped, false);
        sleep(ms(wait)).await;
        flag.2 = true; // finished: not cancelled
        out
    }

    fn started(&self) -> u32 {
        self.started.load(Ordering::SeqCst)
    }

    fn cancelled(&self) -> Vec<u32> {
        let mut d = self.dropped.lock().unwrap().clone();
        d.sort();
        d
    }
}

fn hedging(attempts: u32, delay: u64) -> Policy<RetryOn> {
    Policy::new()
        .with_max_attempts(attempts)
        .with_backoff(Backoff::fixed(ms(40)))
        .with_hedge(ms(delay))
        .retry_on(KindSet::TRANSIENT)
}

#[tokio::test(start_paused = true)]
async fn the_first_success_wins_and_the_others_are_cancelled() {
    let r = Replicas::new(vec![(10_000, Ok(1)), (20, Ok(2)), (20, Ok(3))]);
    let t0 = Instant::now();
    let out = hedging(3, 100)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap();
    assert_eq!(out.value, 2);
    assert_eq!(
        t0.elapsed(),
        ms(120),
        "the hedge started at 100ms and took 20ms"
    );
    assert_eq!(out.attempts, 2);
    assert_eq!(r.started(), 2, "no third attempt: the hedge answered first");
    assert_eq!(r.cancelled(), [1], "the slow first attempt was dropped");
}

#[tokio::test(start_paused = true)]
async fn a_fast_first_answer_starts_no_hedge() {
    let r = Replicas::new(vec![(30, Ok(1))]);
    let out = hedging(3, 100)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap();
    assert_eq!((out.value, out.attempts), (1, 1));
    assert_eq!(r.started(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_retriable_failure_does_not_cancel_the_others() {
    // 1 answers at 300ms; the hedge at 100ms fails at 110ms; the retry it
    // asks for (40ms backoff) starts at 150ms and hangs.
    let r = Replicas::new(vec![
        (300, Ok(1)),
        (10, Err(Fail::Unavailable)),
        (10_000, Ok(3)),
    ]);
    let t0 = Instant::now();
    let out = hedging(3, 100).retry(|| r.call()).hedged().await;
    assert_eq!(out, Ok(1));
    assert_eq!(t0.elapsed(), ms(300));
    assert_eq!(r.started(), 3);
    assert_eq!(r.cancelled(), [3]);
}

#[tokio::test(start_paused = true)]
async fn the_next_attempt_starts_when_the_sooner_of_backoff_and_hedge_is_due() {
    // 1 fails at 10ms: the retry is due at 50ms (backoff 40ms), before the
    // hedge at 100ms.
    let r = Replicas::new(vec![(10, Err(Fail::Unavailable)), (5, Ok(2))]);
    let t0 = Instant::now();
    assert_eq!(hedging(3, 100).retry(|| r.call()).hedged().await, Ok(2));
    assert_eq!(t0.elapsed(), ms(55));
}

#[tokio::test(start_paused = true)]
async fn a_permanent_failure_ends_the_call() {
    let r = Replicas::new(vec![(500, Ok(1)), (10, Err(Fail::NotFound))]);
    let e = hedging(3, 100)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!(
        (e.last_error, e.reason, e.attempts),
        (Fail::NotFound, StopReason::Permanent, 2)
    );
    assert_eq!(r.cancelled(), [1]);
}

#[tokio::test(start_paused = true)]
async fn attempts_in_flight_count_against_attempts() {
    let r = Replicas::new(vec![
        (1_000, Err(Fail::Unavailable)),
        (1_000, Err(Fail::Unavailable)),
        (1_000, Err(Fail::Unavailable)),
    ]);
    let e = hedging(3, 100)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!(r.started(), 3, "3 in all, however slow they are");
    assert_eq!((e.attempts, e.reason), (3, StopReason::Attempts));
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_budget_stops_new_hedges_but_keeps_those_in_flight() {
    // 2 tokens: one retry granted (2 > 1), the next refused
    let budget: &'static RetryBudget =
        Box::leak(Box::new(RetryBudget::new("replicas").with_max_tokens(2)));
    let r = Replicas::new(vec![(1_000, Ok(1)), (1_000, Ok(2)), (10, Ok(3))]);
    let logs = testkit::capture::capture();
    let out = hedging(5, 100)
        .with_budget(budget)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap();
    assert_eq!(r.started(), 2, "the third start was refused");
    assert_eq!(out.value, 1, "the first attempt, in flight, still won");
    assert_eq!(budget.stats().refused, 1);
    // the refusal has a line of its own (the call's latency jumps with it)
    let line = logs.assert_logged(
        tracing::Level::DEBUG,
        "hedging operation: attempt 3 not started (retry budget exhausted)",
    );
    testkit::capture::assert_fields(&line, &[("attempt", "3"), ("max_attempts", "5")]);
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_stops_new_hedges() {
    let breaker: &'static CircuitBreaker =
        Box::leak(Box::new(CircuitBreaker::new("replicas").with_failures(1)));
    // 1 hangs 1s then succeeds; the hedge at 100ms fails at 110ms and opens
    // the breaker: no third attempt, and 1 still answers
    let r = Replicas::new(vec![
        (1_000, Ok(1)),
        (10, Err(Fail::Unavailable)),
        (10, Ok(3)),
    ]);
    let policy = hedging(5, 100).with_circuit(breaker);
    let out = policy.retry(|| r.call()).hedged().await;
    assert_eq!(out, Ok(1));
    assert_eq!(r.started(), 2);
    // and a new call is rejected before any attempt
    let r2 = Replicas::new(vec![(10, Ok(9))]);
    let out = policy.retry(|| r2.call()).hedged().await;
    assert!(matches!(out, Err(Fail::Open(_))), "{out:?}");
    assert_eq!(r2.started(), 0);
}

/// A failure the breaker answers by opening: no retry is announced, nor
/// waited for, as with `.await` (the hedged run announced a retry in 1s,
/// slept it, then gave up on the open breaker).
#[tokio::test(start_paused = true)]
async fn a_retry_the_breaker_refuses_is_not_announced_nor_waited_for() {
    let breaker: &'static CircuitBreaker = Box::leak(Box::new(
        CircuitBreaker::new("hedged-open").with_failures(1),
    ));
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .retry_on(KindSet::TRANSIENT)
        .with_circuit(breaker);
    let r = Replicas::new(vec![(10, Err(Fail::Unavailable)), (10, Ok(2))]);
    let mut told = 0;
    let started = Instant::now();
    let e = policy
        .retry(|| r.call())
        .notify(|_: &retry_runtime::RetryEvent<'_>| told += 1)
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::CircuitOpen));
    assert_eq!(told, 0);
    assert_eq!(started.elapsed(), ms(10));
    assert_eq!(r.started(), 1);
}

/// A retry the budget refuses ends the run at once too; a retry granted
/// and then not started (another attempt won) gives its token back.
#[tokio::test(start_paused = true)]
async fn the_budget_is_asked_when_a_retry_is_decided() {
    // no deposits, and the burst spent: the retry is refused
    let budget: &'static RetryBudget = Box::leak(Box::new(
        RetryBudget::new("hedged-budget")
            .with_max_tokens(2)
            .with_percent(0),
    ));
    while budget.try_withdraw() {}
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .retry_on(KindSet::TRANSIENT)
        .with_budget(budget);
    let r = Replicas::new(vec![(10, Err(Fail::Unavailable)), (10, Ok(2))]);
    let started = Instant::now();
    let e = policy
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::Budget));
    assert_eq!(started.elapsed(), ms(10));

    // a full budget: the hedge at 100ms fails at 110ms and its retry is
    // granted (due at the next hedge, 200ms), then attempt 1 answers at
    // 150ms: the granted retry never starts, and its token comes back
    let full: &'static RetryBudget = Box::leak(Box::new(RetryBudget::new("hedged-full")));
    let r = Replicas::new(vec![
        (150, Ok(1)),
        (10, Err(Fail::Unavailable)),
        (10, Ok(3)),
    ]);
    let out = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .with_hedge(ms(100))
        .retry_on(KindSet::TRANSIENT)
        .with_budget(full)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Ok(1));
    assert_eq!(r.started(), 2);
    let stats = full.stats();
    // the hedge's own token (one start after the first), and no other
    assert_eq!((stats.retries, stats.tokens), (1, 9.0), "{stats:?}");
}

/// The attempts dropped in flight when one wins are told to the breaker
/// (no outcome: neutral): every leave it granted is recorded once.
#[tokio::test(start_paused = true)]
async fn attempts_dropped_in_flight_are_recorded_by_the_breaker() {
    let breaker: &'static CircuitBreaker =
        Box::leak(Box::new(CircuitBreaker::new("hedged-dropped")));
    // starts at 0, 100 and 200ms; the first answers at 250ms
    let r = Replicas::new(vec![(250, Ok(1)), (1_000, Ok(2)), (1_000, Ok(3))]);
    let out = hedging(3, 100)
        .with_circuit(breaker)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Ok(1));
    assert_eq!(r.cancelled(), [2, 3]);
    let st = breaker.stats();
    assert_eq!(
        (st.permitted, st.successes, st.failures, st.neutral),
        (3, 1, 0, 2),
        "{st:?}"
    );
}

static SEARCHED: AtomicU32 = AtomicU32::new(0);

/// A borrowed argument, shared by the attempts in flight.
#[retry(attempts = 3, backoff = "fixed(40ms)", hedge = "100ms", retry_on = Unavailable)]
async fn search(query: &str, slow_first: bool) -> Result<String, Fail> {
    let n = SEARCHED.fetch_add(1, Ordering::SeqCst);
    let wait = if slow_first && n == 0 { 5_000 } else { 20 };
    sleep(ms(wait)).await;
    if query.is_empty() {
        return Err(Fail::NotFound);
    }
    Ok(format!("{query}#{n}"))
}

#[tokio::test(start_paused = true)]
async fn the_attribute_hedges() {
    SEARCHED.store(0, Ordering::SeqCst);
    let t0 = Instant::now();
    assert_eq!(search("rust", true).await.unwrap(), "rust#1");
    assert_eq!(t0.elapsed(), ms(120));
    SEARCHED.store(0, Ordering::SeqCst);
    assert_eq!(search("", false).await, Err(Fail::NotFound));
    assert_eq!(
        SEARCHED.load(Ordering::SeqCst),
        1,
        "a 404 is not hedged again"
    );
}

static LOOKED_UP: AtomicU32 = AtomicU32::new(0);

/// A cache whose lookup takes `&mut self` but only reads through it.
struct Cache {
    hits: u32,
    keys: Mutex<Vec<u32>>,
}

fn push_key(keys: &mut Vec<u32>, key: u32) {
    keys.push(key);
}

fn extend_keys<V: Extend<u32>>(keys: &mut V, key: u32) {
    keys.extend([key]);
}

impl Cache {
    /// Hedged: the attempts share `&mut self` as a shared borrow, which a
    /// body that only reads allows (a refusal of every `&mut` under `hedge`
    /// once broke this; a body that writes through it does not compile).
    #[retry(attempts = 3, hedge = "100ms", retry_on = Unavailable)]
    async fn lookup(&mut self, key: u32) -> Result<u32, Fail> {
        let n = LOOKED_UP.fetch_add(1, Ordering::SeqCst);
        sleep(ms(if n == 0 { 5_000 } else { 20 })).await;
        Ok(key + self.hits)
    }

    /// Hedged: a `&mut` of a guard made from `&mut self` (and of a
    /// temporary) reads the place only; the macro once refused it as a
    /// write through `self`.
    #[retry(attempts = 3, hedge = "100ms", retry_on = Unavailable)]
    async fn remember(&mut self, key: u32) -> Result<usize, Fail> {
        push_key(&mut self.keys.lock().unwrap(), key);
        extend_keys(&mut *self.keys.lock().unwrap(), key + 1);
        let seen = self.keys.lock().unwrap().len();
        Ok(seen + 2)
    }
}

#[tokio::test(start_paused = true)]
async fn a_hedged_method_may_read_through_mut_self() {
    let mut cache = Cache {
        hits: 2,
        keys: Mutex::new(Vec::new()),
    };
    assert_eq!(cache.remember(7).await, Ok(4));
    assert_eq!(*cache.keys.lock().unwrap(), [7, 8]);
    assert_eq!(cache.lookup(40).await, Ok(42));
    assert_eq!(LOOKED_UP.load(Ordering::SeqCst), 2, "the hedge answered");
    cache.hits += 1;
    assert_eq!(cache.hits, 3);
}

#[tokio::test(start_paused = true)]
async fn no_hedge_starts_at_or_after_max_elapsed() {
    // every attempt hangs 10s: hedges at 0, 100 and 200ms, none at 300ms
    // (the deadline is 250ms), and the call gives up when they fail
    let r = Replicas::new((0..10).map(|_| (10_000, Err(Fail::Unavailable))).collect());
    let e = hedging(10, 100)
        .with_max_elapsed(ms(250))
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!(r.started(), 3, "starts at 0, 100 and 200ms only");
    assert_eq!((e.attempts, e.reason), (3, StopReason::Deadline));
}

#[tokio::test(start_paused = true)]
async fn a_failure_whose_wait_ends_past_the_deadline_keeps_an_earlier_start() {
    // backoff 400ms then 800ms; deadline 900ms. 1 (started at 0) fails at
    // 150: its retry is due at 550. 2 (the hedge at 100) fails at 160: its
    // wait (800) would end past the deadline, but the start armed before it
    // still goes, at 200 (the next hedge), and succeeds.
    let r = Replicas::new(vec![
        (150, Err(Fail::Unavailable)),
        (60, Err(Fail::Unavailable)),
        (5, Ok(3)),
    ]);
    let t0 = Instant::now();
    let out = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::exponential(ms(400), ms(10_000)))
        .with_jitter(retry_runtime::Jitter::None)
        .with_max_elapsed(ms(900))
        .with_hedge(ms(100))
        .retry_on(KindSet::TRANSIENT)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap();
    assert_eq!((out.value, out.attempts), (3, 3));
    assert_eq!(t0.elapsed(), ms(205));
}

#[tokio::test(start_paused = true)]
async fn a_wait_too_long_for_the_clock_is_waited_not_skipped() {
    // no hedge delay: a failure's wait of Duration::MAX must not become
    // "start the next attempt now"
    let r = Replicas::new(vec![(10, Err(Fail::Unavailable)), (10, Ok(2))]);
    let policy = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::MAX))
        .with_jitter(retry_runtime::Jitter::None);
    let call = policy.retry(|| r.call()).hedged();
    let out = tokio::time::timeout(Duration::from_secs(3600), call).await;
    assert!(out.is_err(), "still waiting after an hour: {out:?}");
    assert_eq!(r.started(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hedged_attempt_is_told_the_last_failure_kind() {
    use retry_runtime::{Attempt, ErrorKind};
    let seen = Mutex::new(Vec::new());
    let r = Replicas::new(vec![(10, Err(Fail::Unavailable)), (10, Ok(2))]);
    let out = hedging(3, 100)
        .retry(|attempt: Attempt| {
            seen.lock()
                .unwrap()
                .push((attempt.number, attempt.previous_kind));
            r.call()
        })
        .context()
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(
        *seen.lock().unwrap(),
        [(1, None), (2, Some(ErrorKind::Unavailable))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_hedged_call_turned_away_before_any_attempt_tells_on_give_up() {
    static GAVE_UP: AtomicU32 = AtomicU32::new(0);
    fn count(ev: &retry_runtime::GiveUpEvent<'_>) {
        assert_eq!((ev.reason, ev.attempts), (StopReason::CircuitOpen, 0));
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
    let breaker: &'static CircuitBreaker =
        Box::leak(Box::new(CircuitBreaker::new("replicas").with_failures(1)));
    let p = breaker.try_acquire().unwrap();
    breaker.record(p, retry_runtime::circuit::Outcome::Failure);
    let policy = hedging(3, 100).with_circuit(breaker).with_on_give_up(count);
    let r = Replicas::new(vec![(10, Ok(1))]);
    let out = policy.retry(|| r.call()).hedged().await;
    assert!(matches!(out, Err(Fail::Open(_))), "{out:?}");
    assert_eq!(r.started(), 0);
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 1);
    // as the awaited form does
    let out = policy.retry(|| r.call()).await;
    assert!(matches!(out, Err(Fail::Open(_))), "{out:?}");
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_hedged_run_records_its_waits_under_pause() {
    // 1 fails at 10ms: the retry waits the 40ms backoff (before the 100ms hedge)
    let paused = retry_runtime::testing::pause();
    let r = Replicas::new(vec![(10, Err(Fail::Unavailable)), (5, Ok(2))]);
    assert_eq!(hedging(3, 100).retry(|| r.call()).hedged().await, Ok(2));
    assert_eq!(paused.waits(), [ms(40)]);
}

/// A retry's backoff that the next hedge overtakes is announced as the
/// wait until the hedge starts the next attempt: a 1s backoff overtaken by
/// the hedge due 40ms later is announced as 40ms (it was "next attempt in
/// 1s", and the attempt started 40ms later).
#[tokio::test(start_paused = true)]
async fn a_retry_the_next_hedge_overtakes_announces_the_wait_until_it() {
    let logs = testkit::capture::capture();
    let paused = retry_runtime::testing::pause();
    let calls = AtomicU32::new(0);
    let mut told = Vec::new();
    let t0 = Instant::now();
    let out = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .with_hedge(ms(50))
        .retry_on(KindSet::TRANSIENT)
        .with_name("overtaken")
        .retry(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            sleep(ms(10)).await;
            match n {
                1 => Err(std::io::Error::from(std::io::ErrorKind::TimedOut)),
                _ => Ok(n),
            }
        })
        .notify(|ev: &retry_runtime::RetryEvent<'_>| {
            told.push((
                ev.wait,
                ev.wait_source == retry_runtime::WaitSource::RetryAfter,
            ))
        })
        .hedged()
        .await;
    assert_eq!(out.unwrap(), 2);
    assert_eq!(t0.elapsed(), ms(60), "the hedge started attempt 2 at 50ms");
    assert_eq!(told, [(ms(40), false)]);
    assert_eq!(paused.waits(), [ms(40)]);
    let line = logs.assert_logged(
        tracing::Level::WARN,
        "retrying overtaken after attempt 1/3 failed; next attempt in 40ms",
    );
    testkit::capture::assert_fields(&line, &[("wait_ms", "40"), ("wait_source", "backoff")]);
}

/// A server's wait is not overtaken: a 429 asking for 1s puts the next
/// hedge (due 40ms later) off until then, and that is the wait announced
/// (it sent the hedge 40ms later, into the rate limit).
#[tokio::test(start_paused = true)]
async fn a_servers_wait_holds_the_next_hedge_back() {
    use crate::hinted::Hinted;
    use retry_runtime::ErrorKind;
    let logs = testkit::capture::capture();
    let paused = retry_runtime::testing::pause();
    let calls = AtomicU32::new(0);
    let mut told = Vec::new();
    let t0 = Instant::now();
    let out = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(ms(20)))
        .with_hedge(ms(50))
        .retry_on(KindSet::TRANSIENT)
        .with_name("told")
        .retry(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            sleep(ms(10)).await;
            match n {
                1 => Err(Hinted {
                    kind: ErrorKind::RateLimited,
                    after: Some(Duration::from_secs(1)),
                }),
                _ => Ok(n),
            }
        })
        .notify(|ev: &retry_runtime::RetryEvent<'_>| {
            told.push((
                ev.wait,
                ev.wait_source == retry_runtime::WaitSource::RetryAfter,
            ))
        })
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(t0.elapsed(), ms(1020), "attempt 2 started 1s after the 429");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(told, [(Duration::from_secs(1), true)]);
    assert_eq!(paused.waits(), [Duration::from_secs(1)]);
    let line = logs.assert_logged(
        tracing::Level::WARN,
        "retrying told after attempt 1/3 failed; next attempt in 1s",
    );
    testkit::capture::assert_fields(&line, &[("wait_source", "retry_after")]);
}

/// A server's wait that would end past `max_elapsed` starts nothing more:
/// the armed hedge does not go into the rate limit either. The deadline is
/// judged by the server's wait as asked, not as the policy caps it: a 429
/// asking 1s, capped at 100ms, under a 500ms deadline starts nothing more
/// either.
#[tokio::test(start_paused = true)]
async fn a_servers_wait_past_the_deadline_starts_no_hedge() {
    use crate::hinted::Hinted;
    use retry_runtime::{ErrorKind, RetryAfter, StopReason};
    for retry_after in [RetryAfter::DEFAULT, RetryAfter::DEFAULT.with_cap(ms(100))] {
        let calls = AtomicU32::new(0);
        let out = Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::fixed(ms(20)))
            .with_hedge(ms(50))
            .with_max_elapsed(ms(500))
            .retry_on(KindSet::TRANSIENT)
            .with_retry_after(retry_after)
            .retry(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                sleep(ms(10)).await;
                Err::<u32, _>(Hinted {
                    kind: ErrorKind::RateLimited,
                    after: Some(Duration::from_secs(1)),
                })
            })
            .detailed()
            .hedged()
            .await;
        assert_eq!(
            out.unwrap_err().reason,
            StopReason::Deadline,
            "{retry_after:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{retry_after:?}");
    }
}

/// A server's wait holds every start back even when another attempt then
/// fails with a shorter wait of its own: attempt 2's 429 asks for 1s at
/// 55ms; attempt 1's 503 at 60ms would retry after 20ms. Attempt 3 starts
/// at 1055ms (it started at 80ms, into the rate limit).
#[tokio::test(start_paused = true)]
async fn a_servers_wait_is_not_cut_short_by_a_later_failure() {
    use crate::hinted::Hinted;
    use retry_runtime::ErrorKind;
    let t0 = Instant::now();
    let starts = Mutex::new(Vec::new());
    let calls = AtomicU32::new(0);
    let out = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(ms(20)))
        .with_hedge(ms(50))
        .retry_on(KindSet::TRANSIENT)
        .retry(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            starts.lock().unwrap().push(t0.elapsed());
            let (wait, kind, after) = match n {
                1 => (60, ErrorKind::Unavailable, None),
                2 => (5, ErrorKind::RateLimited, Some(Duration::from_secs(1))),
                _ => return Ok(n),
            };
            sleep(ms(wait)).await;
            Err(Hinted { kind, after })
        })
        .hedged()
        .await;
    assert_eq!(out.unwrap(), 3);
    let starts = starts.lock().unwrap().clone();
    assert_eq!(starts, [ms(0), ms(50), ms(1055)]);
}

/// A start the timer did not make (a zero-wait retry) leaves no stale hedge
/// timer behind: with no hedge left before the deadline, no third attempt
/// starts at the old hedge's time (it did, at 100ms, 40ms after the second).
#[tokio::test(start_paused = true)]
async fn a_retry_that_overtakes_the_hedge_leaves_no_stale_timer() {
    let r = Replicas::new(vec![
        (60, Err(Fail::Unavailable)),
        (1000, Ok(2)),
        (1000, Ok(3)),
    ]);
    let out = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_hedge(ms(100))
        .with_max_elapsed(ms(150))
        .retry_on(KindSet::TRANSIENT)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out.unwrap(), 2);
    assert_eq!(r.started(), 2);
}

/// A failure when the only attempt left is already granted to an earlier
/// failure's retry asks the budget for nothing: that retry, announced,
/// starts (a refused token closed the run and it never did).
#[tokio::test(start_paused = true)]
async fn a_retry_granted_is_not_cancelled_by_a_token_it_did_not_need() {
    static BUDGET: RetryBudget = burst_of_two("hedge-granted");
    let r = Replicas::new(vec![
        (150, Err(Fail::Unavailable)),
        (52, Err(Fail::Unavailable)),
        (10, Ok(3)),
    ]);
    let (out, took) = failing_at_150_and_152(&BUDGET, 3, &r).await;
    assert_eq!(out.unwrap(), 3);
    assert_eq!(took, ms(170));
}

/// A budget with room for a burst of two retries (the hedge's and the
/// retry after attempt 1), refilled by nothing.
const fn burst_of_two(name: &'static str) -> RetryBudget {
    RetryBudget::new(name).with_max_tokens(4).with_percent(0)
}

/// `attempts` hedged 100ms apart, each failure retried after 10ms, under
/// `budget`, on `r` (whose plan fails attempt 1 at 150ms and attempt 2 at
/// 152ms): what the call returned, and when.
async fn failing_at_150_and_152(
    budget: &'static RetryBudget,
    attempts: u32,
    r: &Replicas,
) -> (Result<u32, Fail>, Duration) {
    let t0 = Instant::now();
    let out = Policy::new()
        .with_max_attempts(attempts)
        .with_backoff(Backoff::fixed(ms(10)))
        .with_hedge(ms(100))
        .with_budget(budget)
        .retry_on(KindSet::TRANSIENT)
        .retry(|| r.call())
        .hedged()
        .await;
    (out, t0.elapsed())
}

/// A failure whose own retry the budget refuses does not cancel the retry
/// granted, and announced, to an earlier failure: with an attempt still
/// left beyond it (`attempts = 4`), attempt 2's failure at 152ms asks the
/// budget, which refuses; attempt 1's retry, announced at 150ms for 160ms,
/// still starts and wins (the refusal closed the run, cleared that retry's
/// timer, and the call gave up at 152ms).
#[tokio::test(start_paused = true)]
async fn a_retry_granted_is_not_cancelled_by_a_later_refusal() {
    static BUDGET: RetryBudget = burst_of_two("hedge-granted-refused");
    let r = Replicas::new(vec![
        (150, Err(Fail::Unavailable)),
        (52, Err(Fail::Unavailable)),
        (10, Ok(3)),
        (10, Ok(4)),
    ]);
    let (out, took) = failing_at_150_and_152(&BUDGET, 4, &r).await;
    assert_eq!(out, Ok(3));
    assert_eq!(took, ms(170));
    assert_eq!(r.started(), 3, "no hedge after the refusal");
    assert_eq!(BUDGET.stats().refused, 1);
}

/// Every failed attempt is logged: one the run goes on without (no retry
/// of its own: every attempt has started, or the budget refused it) has a
/// WARN line of its own, and the last keeps the give-up line. (Attempts 1
/// and 2's errors appeared nowhere: only the last error was told.)
#[tokio::test(start_paused = true)]
async fn a_failure_with_no_retry_of_its_own_is_logged() {
    use testkit::capture::assert_fields;
    use tracing::Level;
    let logs = testkit::capture::capture();
    // three hedges, at 0, 100 and 200ms, each failing after 1s
    let calls = AtomicU32::new(0);
    let e = hedging(3, 100)
        .with_name("all-fail")
        .retry(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            sleep(ms(1_000)).await;
            let why = format!("replica {n} timed out");
            Err::<u32, _>(std::io::Error::new(std::io::ErrorKind::TimedOut, why))
        })
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (3, StopReason::Attempts));
    for n in 1..=2 {
        let line = logs.assert_logged(
            Level::WARN,
            &format!("hedging all-fail: attempt {n}/3 failed; not retried (attempts exhausted)"),
        );
        assert_fields(
            &line,
            &[
                ("attempt", &n.to_string()),
                ("error", &format!("replica {n} timed out")),
                ("error_kind", "Timeout"),
                ("reason", "attempts exhausted"),
            ],
        );
    }
    let line = logs.assert_logged(Level::ERROR, "all-fail failed after 3 attempts");
    assert_fields(&line, &[("error", "replica 3 timed out")]);
    assert!(logs.matching(Level::WARN, "attempt 3/3").is_empty());

    // attempt 2's retry refused by the budget while attempt 1's, granted,
    // is still to start
    static BUDGET: RetryBudget = RetryBudget::new("hedge-refused-logged")
        .with_max_tokens(4)
        .with_percent(0);
    let r = Replicas::new(vec![
        (150, Err(Fail::Unavailable)),
        (52, Err(Fail::Unavailable)),
        (10, Ok(3)),
    ]);
    let out = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(ms(10)))
        .with_hedge(ms(100))
        .with_budget(&BUDGET)
        .with_name("refused")
        .retry_on(KindSet::TRANSIENT)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Ok(3));
    logs.assert_logged(
        Level::WARN,
        "retrying refused after attempt 1/4 failed; next attempt in 10ms",
    );
    let line = logs.assert_logged(
        Level::WARN,
        "hedging refused: attempt 2/4 failed; not retried (retry budget exhausted)",
    );
    assert_fields(&line, &[("error", "503"), ("error_kind", "Unavailable")]);
}

/// A hedged attempt's "not retried" line is the policy's, at its levels:
/// a retriable failure's at the retry level, a non-retriable one's (a 404
/// beside the success that wins) at the non-retriable level, so a quiet
/// policy (`Levels::QUIET`) logs nothing of a hedged call above DEBUG, and
/// one that lowers only its retries keeps the 404 at WARN.
#[tokio::test(start_paused = true)]
async fn a_failure_with_no_retry_of_its_own_takes_the_policys_levels() {
    use retry_runtime::Levels;
    use tracing::Level;
    let logs = testkit::capture::capture();
    // three hedges, each failing: attempts 1 and 2 not retried
    let _ = hedging(3, 100)
        .with_name("quiet-all-fail")
        .with_levels(Levels::QUIET)
        .retry(|| async {
            sleep(ms(1_000)).await;
            Err::<u32, _>(Fail::Unavailable)
        })
        .hedged()
        .await;
    logs.assert_logged(
        Level::DEBUG,
        "hedging quiet-all-fail: attempt 1/3 failed; not retried (attempts exhausted)",
    );
    // a 404 and the winning 200 in the same poll, the 404 not retried
    let r = Replicas::new(vec![(110, Err(Fail::NotFound)), (10, Ok(2))]);
    let out = hedging(3, 100)
        .with_name("quiet-same-poll")
        .with_levels(Levels::QUIET)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    logs.assert_logged(
        Level::DEBUG,
        "hedging quiet-same-poll: attempt 1/3 failed; not retried (another attempt succeeded)",
    );
    for level in [Level::INFO, Level::WARN, Level::ERROR] {
        assert!(
            logs.matching(level, "quiet-").is_empty(),
            "{level}: {:?}",
            logs.at(level)
        );
    }
    // retries lowered only: the 404 beside the success stays WARN
    let r = Replicas::new(vec![(110, Err(Fail::NotFound)), (10, Ok(2))]);
    let out = hedging(3, 100)
        .with_name("polls-same-poll")
        .with_retry_level(Level::DEBUG)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    logs.assert_logged(
        Level::WARN,
        "hedging polls-same-poll: attempt 1/3 failed; not retried (another attempt succeeded)",
    );
}

/// A success and a permanent failure ready in the same poll: the success
/// wins, whatever their places in the list (the 404, polled first, ended
/// the call though a 200 was ready beside it). The failure is still told:
/// its line, and its outcome to the breaker (made with no outcome).
#[tokio::test(start_paused = true)]
async fn a_success_ready_beside_a_permanent_failure_wins() {
    use tracing::Level;
    let logs = testkit::capture::capture();
    let breaker: &'static CircuitBreaker =
        Box::leak(Box::new(CircuitBreaker::new("hedge-same-poll")));
    // attempt 1 (first in the list) answers 404 at 110ms; the hedge,
    // started at 100ms, answers 200 at 110ms too
    let r = Replicas::new(vec![(110, Err(Fail::NotFound)), (10, Ok(2))]);
    let t0 = Instant::now();
    let out = hedging(3, 100)
        .with_circuit(breaker)
        .with_name("same-poll")
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(t0.elapsed(), ms(110));
    assert_eq!(r.cancelled(), Vec::<u32>::new(), "both finished");
    logs.assert_logged(Level::INFO, "same-poll succeeded on attempt 2");
    let line = logs.assert_logged(
        Level::WARN,
        "hedging same-poll: attempt 1/3 failed; not retried (another attempt succeeded)",
    );
    testkit::capture::assert_fields(&line, &[("error", "404"), ("error_kind", "Permanent")]);
    let st = breaker.stats();
    assert_eq!(
        (st.permitted, st.successes, st.failures, st.neutral),
        (2, 1, 0, 1),
        "{st:?}"
    );

    // with attempt spans: the failure's span is marked failed, not
    // cancelled (its span was still held when the winner dropped the rest)
    let logs = testkit::capture::capture();
    let r = Replicas::new(vec![(110, Err(Fail::NotFound)), (10, Ok(2))]);
    let out = hedging(3, 100)
        .with_name("same-poll")
        .with_attempt_spans(true)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    let mut closed = logs.closed_spans();
    closed.sort();
    assert_eq!(
        closed,
        [
            "retry.attempt | operation=same-poll | attempt=1 | error_kind=Permanent \
             | otel.status_code=ERROR | otel.status_description=404",
            "retry.attempt | operation=same-poll | attempt=2",
        ]
    );
}

/// A non-retriable failure and a retriable one ready in the same poll: the
/// call ends with the first (it comes first in the list), and the other is
/// still told and logged, not retried, its span marked failed. (It was
/// dropped with no line, its span ending as if it had succeeded.)
#[tokio::test(start_paused = true)]
async fn a_failure_ready_beside_a_permanent_one_is_logged() {
    use tracing::Level;
    let logs = testkit::capture::capture();
    // attempt 1 answers 404 at 110ms; the hedge, started at 100ms, 503 at 110ms
    let r = Replicas::new(vec![
        (110, Err(Fail::NotFound)),
        (10, Err(Fail::Unavailable)),
    ]);
    let out = hedging(3, 100)
        .with_name("ended")
        .with_attempt_spans(true)
        .retry(|| r.call())
        .hedged()
        .await;
    assert_eq!(out, Err(Fail::NotFound));
    let line = logs.assert_logged(
        Level::WARN,
        "hedging ended: attempt 2/3 failed; not retried (another attempt failed with a non-retriable error)",
    );
    testkit::capture::assert_fields(&line, &[("error", "503"), ("error_kind", "Unavailable")]);
    logs.assert_logged(
        Level::WARN,
        "ended failed with a non-retriable error on attempt 1",
    );
    let lines = logs.lines();
    assert!(
        lines
            .last()
            .unwrap()
            .contains("non-retriable error on attempt 1"),
        "the give-up line ends the call's lines: {lines:#?}"
    );
    let mut closed = logs.closed_spans();
    closed.sort();
    assert_eq!(
        closed,
        [
            "retry.attempt | operation=ended | attempt=1 | error_kind=Permanent \
             | otel.status_code=ERROR | otel.status_description=404",
            "retry.attempt | operation=ended | attempt=2 | error_kind=Unavailable \
             | otel.status_code=ERROR | otel.status_description=503",
        ]
    );
}

/// Hedges that lose (dropped, another attempt won) have no outcome: the
/// throttle counts them not at all, as any call dropped before its outcome,
/// so a healthy but slow dependency is not throttled (3 requests and 1
/// accept a call pushed the probability to a third); the winner counts,
/// once.
#[tokio::test(start_paused = true)]
async fn losing_hedges_do_not_push_the_throttle_to_reject() {
    let clock: &'static retry_runtime::clock::ManualClock =
        Box::leak(Box::new(retry_runtime::clock::ManualClock::new()));
    let throttle: &'static retry_runtime::Throttle = Box::leak(Box::new(
        retry_runtime::Throttle::new("hedged").with_clock(clock),
    ));
    for _ in 0..20 {
        let r = Replicas::new(vec![(1000, Ok(1)), (1000, Ok(2)), (10, Ok(3))]);
        let out = Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::None)
            .with_hedge(ms(100))
            .with_throttle(throttle)
            .retry_on(KindSet::TRANSIENT)
            .retry(|| r.call())
            .hedged()
            .await;
        assert!(out.is_ok(), "{out:?}");
    }
    let st = throttle.stats();
    assert_eq!(st.probability, 0.0, "{st:?}");
    assert_eq!(
        (st.requests, st.accepts, st.admitted),
        (20, 20, 60),
        "{st:?}"
    );
}

/// An operation that panics while it makes a hedge's future: the breaker's
/// leave for that attempt is still recorded (it was lost, and a half-open
/// probe's slot with it).
#[tokio::test(start_paused = true)]
async fn a_panic_making_an_attempt_still_records_its_leave() {
    static B: CircuitBreaker = CircuitBreaker::new("hedge-panic");
    let calls = AtomicU32::new(0);
    let calls: &'static AtomicU32 = Box::leak(Box::new(calls));
    let joined = tokio::spawn(async move {
        Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::None)
            .with_hedge(ms(100))
            .with_circuit(&B)
            .retry_on(KindSet::TRANSIENT)
            .retry(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(n < 2, "the operation panics making attempt 2");
                async move {
                    sleep(ms(1000)).await;
                    Ok::<u32, Fail>(n)
                }
            })
            .hedged()
            .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    let s = B.stats();
    assert_eq!(s.permitted, 2, "{s:?}");
    assert_eq!(s.successes + s.failures + s.neutral, 2, "{s:?}");
}

/// Two retries granted and waiting each start at their own due time:
/// attempt 1 fails at 150ms (its retry due at 160ms), attempt 2 at 152ms
/// (due at 162ms, announced as the 8ms until the next start, attempt 3's).
/// Attempt 4 starts at 162ms and wins at 172ms. (The second retry lost its
/// due time once the first started: attempt 4 waited for the next hedge,
/// at 260ms, and with a deadline of 250ms never started, so the call
/// waited for attempt 3, until 1160ms.)
#[tokio::test(start_paused = true)]
async fn each_retry_granted_starts_at_its_own_due_time() {
    for deadline in [None, Some(ms(250))] {
        let logs = testkit::capture::capture();
        let paused = retry_runtime::testing::pause();
        let r = Replicas::new(vec![
            (150, Err(Fail::Unavailable)),
            (52, Err(Fail::Unavailable)),
            (1_000, Ok(3)),
            (10, Ok(4)),
        ]);
        let starts = Mutex::new(Vec::new());
        let mut told = Vec::new();
        let mut policy = Policy::new()
            .with_max_attempts(4)
            .with_backoff(Backoff::fixed(ms(10)))
            .with_jitter(retry_runtime::Jitter::None)
            .with_hedge(ms(100))
            .with_name("two-granted")
            .retry_on(KindSet::TRANSIENT);
        if let Some(limit) = deadline {
            policy = policy.with_max_elapsed(limit);
        }
        let t0 = Instant::now();
        let out = policy
            .retry(|| {
                starts.lock().unwrap().push(t0.elapsed());
                r.call()
            })
            .notify(|ev: &retry_runtime::RetryEvent<'_>| told.push((ev.attempt, ev.wait)))
            .hedged()
            .await;
        assert_eq!(out, Ok(4), "deadline {deadline:?}");
        assert_eq!(t0.elapsed(), ms(172), "deadline {deadline:?}");
        assert_eq!(
            *starts.lock().unwrap(),
            [ms(0), ms(100), ms(160), ms(162)],
            "deadline {deadline:?}"
        );
        assert_eq!(r.cancelled(), [3], "deadline {deadline:?}");
        assert_eq!(told, [(1, ms(10)), (2, ms(8))], "deadline {deadline:?}");
        assert_eq!(paused.waits(), [ms(10), ms(8)], "deadline {deadline:?}");
        logs.assert_logged(
            tracing::Level::WARN,
            "retrying two-granted after attempt 2/4 failed; next attempt in 8ms",
        );
    }
}

static TRACED: AtomicU32 = AtomicU32::new(0);

/// The attribute's form of `hedged_attempt_spans` below: the first
/// attempt hangs, the hedge 100ms later answers.
#[retry(attempts = 3, hedge = "100ms", retry_on = Unavailable, attempt_spans = true)]
async fn traced_search() -> Result<u32, Fail> {
    let n = TRACED.fetch_add(1, Ordering::SeqCst) + 1;
    sleep(ms(if n == 1 { 1_000 } else { 20 })).await;
    Ok(n)
}

/// With attempt spans on, each hedged attempt runs in its own
/// `retry.attempt` span, a child of the caller's, with that attempt's
/// lines in it, as in the sequential forms (`tests/metrics/spans.rs`).
/// (A hedged run made no span: `with_attempt_spans(true)` and
/// `attempt_spans = true` were ignored.)
#[tokio::test(start_paused = true)]
async fn each_hedged_attempt_runs_in_its_span() {
    use tracing::Instrument;
    let span = |op: &str, n: u32| format!("retry.attempt | operation={op} | attempt={n}");
    let caller = || tracing::info_span!("caller", id = 1);
    let expected = |op: &str| {
        let parent = Some("caller | id=1".to_string());
        vec![
            ("caller | id=1".to_string(), None),
            (span(op, 1), parent.clone()),
            (span(op, 2), parent),
        ]
    };

    // the hedge wins: attempt 1 hangs, attempt 2 starts at 100ms
    for form in ["policy", "#[retry]"] {
        let logs = testkit::capture::capture();
        let (op, out) = if form == "policy" {
            let r = Replicas::new(vec![(1_000, Ok(1)), (20, Ok(2))]);
            let out = hedging(3, 100)
                .with_name("spanned")
                .with_attempt_spans(true)
                .retry(|| r.call())
                .hedged()
                .instrument(caller())
                .await;
            ("spanned", out)
        } else {
            TRACED.store(0, Ordering::SeqCst);
            ("traced_search", traced_search().instrument(caller()).await)
        };
        assert_eq!(out, Ok(2), "{form}");
        assert_eq!(logs.spans(), expected(op), "{form}");
        assert_eq!(
            logs.span_of("attempt 2 starts beside 1 in flight"),
            Some(span(op, 2)),
            "{form}"
        );
        assert_eq!(
            logs.span_of(&format!("{op} succeeded on attempt 2")),
            Some(span(op, 2)),
            "{form}"
        );
        // attempt 1, dropped when attempt 2 won, says it was cancelled
        // (its status unset: it did not fail)
        let mut closed = logs.closed_spans();
        closed.sort();
        assert_eq!(
            closed,
            [
                "caller | id=1".to_string(),
                format!("{} | cancelled=true", span(op, 1)),
                span(op, 2)
            ],
            "{form}: every span closed"
        );
    }

    // the spans are entered only between awaits: the futures stay `Send`
    fn assert_send<T: Send>(_: &T) {}
    let r = Replicas::new(vec![(10, Ok(1))]);
    let policy = hedging(3, 100).with_attempt_spans(true);
    assert_send(&policy.retry(|| r.call()).hedged());
    assert_send(&traced_search());

    // a retry: attempt 1's failure is logged in its span
    let logs = testkit::capture::capture();
    let r = Replicas::new(vec![(10, Err(Fail::Unavailable)), (5, Ok(2))]);
    let out = hedging(3, 100)
        .with_name("spanned")
        .with_attempt_spans(true)
        .retry(|| r.call())
        .hedged()
        .instrument(caller())
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(logs.spans(), expected("spanned"));
    assert_eq!(
        logs.span_of("retrying spanned after attempt 1/3 failed"),
        Some(span("spanned", 1))
    );
    assert_eq!(
        logs.span_of("spanned succeeded on attempt 2"),
        Some(span("spanned", 2))
    );
    // the failed attempt's span is marked so (the status an OpenTelemetry
    // exporter reads); the winner's, and above a hedge's cancelled by the
    // win, are not
    let failed = |n: u32, error: &str, kind: &str| {
        format!(
            "{} | error_kind={kind} | otel.status_code=ERROR | otel.status_description={error}",
            span("spanned", n)
        )
    };
    let mut closed = logs.closed_spans();
    closed.sort();
    assert_eq!(
        closed,
        [
            "caller | id=1".to_string(),
            failed(1, "503", "Unavailable"),
            span("spanned", 2)
        ]
    );

    // a hedge failing with no retry left while attempt 1 goes on to win,
    // and a call that gives up: every failed attempt's span is marked,
    // whichever line it had
    let logs = testkit::capture::capture();
    let r = Replicas::new(vec![(50, Ok(1)), (0, Err(Fail::Unavailable))]);
    let policy = hedging(2, 20).with_name("spanned").with_attempt_spans(true);
    let out = policy.retry(|| r.call()).hedged().await;
    assert_eq!(out, Ok(1));
    logs.assert_logged(tracing::Level::WARN, "attempt 2/2 failed; not retried");
    let mut closed = logs.closed_spans();
    closed.sort();
    assert_eq!(
        closed,
        [span("spanned", 1), failed(2, "503", "Unavailable")],
        "a failure beside the success"
    );
    let logs = testkit::capture::capture();
    let r = Replicas::new(vec![
        (10, Err(Fail::Unavailable)),
        (10, Err(Fail::NotFound)),
    ]);
    let out = policy.retry(|| r.call()).hedged().await;
    assert_eq!(out, Err(Fail::NotFound));
    let mut closed = logs.closed_spans();
    closed.sort();
    assert_eq!(
        closed,
        [
            failed(1, "503", "Unavailable"),
            failed(2, "404", "Permanent")
        ],
        "a give-up"
    );

    // a call dropped by its caller (a timeout around it) while both run:
    // both spans say they were cancelled
    let logs = testkit::capture::capture();
    let r = Replicas::new(vec![(1_000, Ok(1)), (1_000, Ok(2))]);
    let out = tokio::time::timeout(ms(50), policy.retry(|| r.call()).hedged()).await;
    assert!(out.is_err());
    let mut closed = logs.closed_spans();
    closed.sort();
    assert_eq!(
        closed,
        [
            format!("{} | cancelled=true", span("spanned", 1)),
            format!("{} | cancelled=true", span("spanned", 2))
        ],
        "a call dropped"
    );
}

/// Without attempt spans, a hedged run makes none: its lines are the
/// caller's.
#[tokio::test(start_paused = true)]
async fn no_hedged_attempt_spans_by_default() {
    use tracing::Instrument;
    let logs = testkit::capture::capture();
    let r = Replicas::new(vec![(1_000, Ok(1)), (20, Ok(2))]);
    let out = hedging(3, 100)
        .with_name("unspanned")
        .retry(|| r.call())
        .hedged()
        .instrument(tracing::info_span!("caller", id = 1))
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(logs.spans(), [("caller | id=1".to_string(), None)]);
    assert_eq!(
        logs.span_of("unspanned succeeded on attempt 2").as_deref(),
        Some("caller | id=1")
    );
}

/// A hedged call inside another retried call: a failure the outer run
/// retries gets no retry of the hedged run's own, but does not cancel the
/// attempts still in flight either. (It ended the call at once, dropping
/// attempt 1 that was about to succeed: the outer run then retried the
/// whole call, 6 calls and an error where 2 calls answer.)
#[tokio::test(start_paused = true)]
async fn a_failure_left_to_the_outer_run_does_not_cancel_the_others() {
    use std::io;
    let outer = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT);
    let inner = Policy::new()
        .with_max_attempts(2)
        .with_hedge(ms(10))
        .retry_on(KindSet::TRANSIENT);
    let calls = AtomicU32::new(0);
    // even calls answer after 50ms, odd ones time out at once
    let op = || async {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        if n % 2 == 0 {
            sleep(ms(50)).await;
            Ok(n)
        } else {
            Err(io::Error::from(io::ErrorKind::TimedOut))
        }
    };
    let t0 = Instant::now();
    let out = outer.retry(|| inner.retry(op).hedged()).await;
    assert_eq!(out.map_err(|e| e.to_string()), Ok(0));
    assert_eq!(calls.load(Ordering::SeqCst), 2, "no retry after the hedge");
    assert_eq!(t0.elapsed(), ms(50), "attempt 1 answered");
}

/// A hedged call inside another retried call that fails with an error it
/// would not retry itself, but the outer run does (quick retries of
/// refused connections inside a call rescheduled on 503s): left to the
/// outer run as `.await` leaves it (docs/attribute.md, "Retries at one layer"), so the
/// attempt still in flight goes on and wins, and the 503 has the deferral's
/// DEBUG line, not a "non-retriable" WARN and an `on_give_up` for a
/// failure that is retried. (It ended the call at once, `Permanent`,
/// dropping attempt 1: the outer run then called the whole again.)
#[tokio::test(start_paused = true)]
async fn an_error_only_the_outer_run_retries_is_left_to_it_as_by_await() {
    use tracing::Level;
    static GAVE_UP: AtomicU32 = AtomicU32::new(0);
    fn count(_: &retry_runtime::GiveUpEvent<'_>) {
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
    let outer = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT)
        .with_name("outer-503s");
    let connect_only = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::EMPTY.with(retry_runtime::ErrorKind::Connect))
        .with_on_give_up(count)
        .with_name("inner-connect");
    // without hedges (`.await`), then hedged: attempt 1 answers at 50ms,
    // the hedge at 10ms fails at 15ms with a 503
    let logs = testkit::capture::capture();
    let r = Replicas::new(vec![(5, Err(Fail::Unavailable)), (5, Ok(2))]);
    let alone = outer
        .retry(|| async { connect_only.retry(|| r.call()).await })
        .await;
    assert_eq!((alone, r.started()), (Ok(2), 2));
    let slow_ok_and_a_503 = || {
        let plan = [(50, Ok(1)), (5, Err(Fail::Unavailable))];
        Replicas::new(plan.iter().cycle().take(6).cloned().collect())
    };
    let r = slow_ok_and_a_503();
    let inner = connect_only.with_hedge(ms(10));
    let reasons = Mutex::new(Vec::new());
    let t0 = Instant::now();
    let out = outer
        .retry(|| async {
            let got = inner.retry(|| r.call()).detailed().hedged().await;
            got.map(|won| won.value).map_err(|e| {
                reasons.lock().unwrap().push(e.reason);
                e.last_error
            })
        })
        .await;
    assert_eq!(out, Ok(1), "attempt 1 was left to answer");
    assert_eq!((r.started(), r.cancelled()), (2, vec![]));
    assert_eq!(t0.elapsed(), ms(50));
    assert_eq!(*reasons.lock().unwrap(), []);
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 0, "not given up: retried");
    logs.assert_not_logged("non-retriable");
    // and alone, it gives up on the 503 at once, as before
    let r = slow_ok_and_a_503();
    let e = inner
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!(
        (e.reason, e.last_error),
        (StopReason::Permanent, Fail::Unavailable)
    );
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 1);
    logs.assert_logged(
        Level::WARN,
        "inner-connect failed with a non-retriable error on attempt 2",
    );
}

/// When every attempt in flight has failed with errors the outer run
/// retries, the hedged run leaves the last to it, with no retry of its
/// own; the give-up is deferred (no `on_give_up`), the attempts are those
/// started, and the lines name the attempt each is about.
#[tokio::test(start_paused = true)]
async fn a_hedged_run_defers_when_nothing_in_flight_can_succeed() {
    use testkit::capture::assert_fields;
    use tracing::Level;
    static GAVE_UP: AtomicU32 = AtomicU32::new(0);
    fn count(_: &retry_runtime::GiveUpEvent<'_>) {
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
    let logs = testkit::capture::capture();
    let outer = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT)
        .with_name("outer-defers");
    // 3 attempts, a hedge after 10ms, a backoff (5ms) sooner than the next
    // hedge: a retry of its own would start attempt 3 at 20ms
    let inner = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(ms(5)))
        .with_hedge(ms(10))
        .retry_on(KindSet::TRANSIENT)
        .with_name("inner-defers")
        .with_on_give_up(count);
    // per outer attempt: attempt 1 fails at 50ms, the hedge at 10ms fails at 15ms
    let r = Replicas::new(vec![
        (50, Err(Fail::Unavailable)),
        (5, Err(Fail::Unavailable)),
        (50, Err(Fail::Unavailable)),
        (5, Err(Fail::Unavailable)),
    ]);
    let inner_errors = Mutex::new(Vec::new());
    let t0 = Instant::now();
    let out = outer
        .retry(|| async {
            let e = inner.retry(|| r.call()).detailed().hedged().await;
            e.map_err(|e| {
                inner_errors
                    .lock()
                    .unwrap()
                    .push((e.attempts, e.reason, e.last_error.clone()));
                e.last_error
            })
        })
        .await;
    assert_eq!(out, Err(Fail::Unavailable));
    assert_eq!(r.started(), 4, "2 per outer attempt: no inner retry");
    assert_eq!(t0.elapsed(), ms(100));
    assert_eq!(
        *inner_errors.lock().unwrap(),
        [
            (2, StopReason::Deferred, Fail::Unavailable),
            (2, StopReason::Deferred, Fail::Unavailable)
        ]
    );
    assert_eq!(GAVE_UP.load(Ordering::SeqCst), 0, "deferred: not given up");
    let not_retried = logs.matching(
        Level::WARN,
        "hedging inner-defers: attempt 2/3 failed; not retried (left to the outer retry)",
    );
    assert_eq!(not_retried.len(), 2, "{not_retried:?}");
    assert_fields(
        &not_retried[0],
        &[("attempt", "2"), ("error_kind", "Unavailable")],
    );
    let deferred = logs.matching(
        Level::DEBUG,
        "inner-defers failed on attempt 1; leaving the retry to the outer retried call",
    );
    assert_eq!(deferred.len(), 2, "{deferred:?}");
    assert_fields(&deferred[0], &[("attempt", "1"), ("max_attempts", "3")]);
    logs.assert_not_logged("retrying inner-defers");
    logs.assert_logged(Level::ERROR, "outer-defers failed after 2 attempts");
}

/// A hedged run's give-up line names the attempt whose error it gives up
/// with, which need not be the last started; the attempts it reports are
/// those started. (It said "on attempt 2", the attempts started, for
/// attempt 1's 404.)
#[tokio::test(start_paused = true)]
async fn a_hedged_give_up_names_the_attempt_that_failed() {
    use testkit::capture::assert_fields;
    use tracing::Level;
    static SEEN: Mutex<Vec<(u32, StopReason)>> = Mutex::new(Vec::new());
    fn seen(ev: &retry_runtime::GiveUpEvent<'_>) {
        SEEN.lock().unwrap().push((ev.attempts, ev.reason));
    }
    let logs = testkit::capture::capture();
    // attempt 1 answers 404 at 20ms, the hedge started at 10ms hangs
    let r = Replicas::new(vec![(20, Err(Fail::NotFound)), (1_000, Ok(2))]);
    let e = Policy::new()
        .with_max_attempts(3)
        .with_hedge(ms(10))
        .retry_on(KindSet::TRANSIENT)
        .with_name("named-404")
        .with_on_give_up(seen)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!(
        (e.attempts, e.reason, e.last_error),
        (2, StopReason::Permanent, Fail::NotFound)
    );
    let line = logs.assert_logged(
        Level::WARN,
        "named-404 failed with a non-retriable error on attempt 1",
    );
    assert_fields(&line, &[("attempt", "1"), ("max_attempts", "3")]);
    logs.assert_not_logged("on attempt 2");

    // every attempt fails, attempt 1 last: "after 3 attempts", about attempt 1
    let r = Replicas::new(vec![
        (1_000, Err(Fail::Unavailable)),
        (5, Err(Fail::Unavailable)),
        (5, Err(Fail::Unavailable)),
    ]);
    let e = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(ms(500)))
        .with_hedge(ms(10))
        .retry_on(KindSet::TRANSIENT)
        .with_name("named-last")
        .with_on_give_up(seen)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (3, StopReason::Attempts));
    let line = logs.assert_logged(Level::ERROR, "named-last failed after 3 attempts");
    assert_fields(&line, &[("attempt", "1"), ("max_attempts", "3")]);
    assert_eq!(
        *SEEN.lock().unwrap(),
        [(2, StopReason::Permanent), (3, StopReason::Attempts)]
    );
}

/// An outer run of 2 attempts that retries timeouts only, and the hedged
/// run of `attempts` inside it that retries every transient error (5ms
/// between attempts, a hedge at 10ms): a timeout is left to the outer run.
fn deferring_to_timeouts(attempts: u32) -> (Policy<RetryOn>, Policy<RetryOn>) {
    let outer = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::EMPTY.with(retry_runtime::ErrorKind::Timeout));
    let inner = Policy::new()
        .with_max_attempts(attempts)
        .with_backoff(Backoff::fixed(ms(5)))
        .with_hedge(ms(10))
        .retry_on(KindSet::TRANSIENT);
    (outer, inner)
}

/// After a failure left to the outer run, an error the outer run does not
/// retry still gets the hedged run's own retry: no retry is lost.
#[tokio::test(start_paused = true)]
async fn an_error_the_outer_run_does_not_retry_keeps_its_retry_after_a_deferral() {
    use std::io;
    let (outer, inner) = deferring_to_timeouts(3);
    let calls = AtomicU32::new(0);
    // attempt 1 is refused at 50ms (Connect: the inner run's alone), the
    // hedge at 10ms times out at 15ms (the outer run's), attempt 3 answers
    let op = || async {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        match n {
            1 => {
                sleep(ms(50)).await;
                Err(io::Error::from(io::ErrorKind::ConnectionRefused))
            }
            2 => {
                sleep(ms(5)).await;
                Err(io::Error::from(io::ErrorKind::TimedOut))
            }
            n => Ok(n),
        }
    };
    let t0 = Instant::now();
    let out = outer.retry(|| inner.retry(op).hedged()).await;
    assert_eq!(out.map_err(|e| e.to_string()), Ok(3));
    assert_eq!(
        t0.elapsed(),
        ms(55),
        "attempt 1's retry, after its 5ms backoff"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "no hedge after the deferral"
    );
}

/// The hedged run of the deferral tests below, inside an outer run that
/// retries only `RateLimited` (and honours its Retry-After): 2 attempts
/// (`attempts`: 3 gives attempt 1's failure a retry of its own), a hedge
/// after 10ms, attempt 1 answering `first` at 50ms, the hedge failing at
/// 15ms with a 429 asking for 7s (left to the outer run), `then` for the
/// next attempts. Returns the outer run's result, the calls made, the
/// inner run's errors (attempts, reason, error) and the waits recorded.
async fn deferral_then(
    name: &'static str,
    attempts: u32,
    first: retry_runtime::ErrorKind,
    then: Vec<Result<u32, crate::hinted::Hinted>>,
) -> (
    Result<u32, crate::hinted::Hinted>,
    u32,
    Vec<(u32, StopReason, crate::hinted::Hinted)>,
    Vec<Duration>,
) {
    use crate::hinted::Hinted;
    use retry_runtime::ErrorKind;
    let paused = retry_runtime::testing::pause();
    let outer = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::EMPTY.with(ErrorKind::RateLimited));
    let inner = Policy::new()
        .with_max_attempts(attempts)
        .with_backoff(Backoff::fixed(ms(5)))
        .with_hedge(ms(10))
        .retry_on(KindSet::TRANSIENT)
        .with_name(name);
    let calls = AtomicU32::new(0);
    let op = || async {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        match n {
            1 => {
                sleep(ms(50)).await;
                match first {
                    ErrorKind::Permanent | ErrorKind::Connect => Err(Hinted {
                        kind: first,
                        after: None,
                    }),
                    _ => Ok(1),
                }
            }
            2 => {
                sleep(ms(5)).await;
                Err(Hinted {
                    kind: ErrorKind::RateLimited,
                    after: Some(Duration::from_secs(7)),
                })
            }
            n => then[(n - 3) as usize],
        }
    };
    let inner_errors = Mutex::new(Vec::new());
    let out = outer
        .retry(|| async {
            let out = inner.retry(op).detailed().hedged().await;
            out.map(|ok| ok.value).map_err(|e| {
                let seen = (e.attempts, e.reason, e.last_error);
                inner_errors.lock().unwrap().push(seen);
                e.last_error
            })
        })
        .await;
    let waits = paused.waits();
    let errors = inner_errors.into_inner().unwrap();
    (out, calls.load(Ordering::SeqCst), errors, waits)
}

/// Once a failure is left to the outer run, a later retriable failure of
/// an attempt that was in flight does not undo the deferral: the hedged run
/// ends deferred with the deferred error, whose Retry-After the outer run
/// waits. (The later failure, one the outer run does not retry, replaced
/// it: the hedged run ended with "attempts exhausted" and the outer run
/// gave up on an error it was never meant to see, losing the 429's retry
/// and its wait.)
#[tokio::test(start_paused = true)]
async fn a_later_failure_does_not_undo_a_deferral() {
    use crate::hinted::Hinted;
    use retry_runtime::ErrorKind;
    use testkit::capture::assert_fields;
    use tracing::Level;
    let logs = testkit::capture::capture();
    let rate_limited = Hinted {
        kind: ErrorKind::RateLimited,
        after: Some(Duration::from_secs(7)),
    };
    let (out, calls, inner_errors, waits) =
        deferral_then("keeps-deferral", 2, ErrorKind::Connect, vec![Ok(3)]).await;
    assert_eq!(out, Ok(3), "the outer run retried the 429");
    assert_eq!(calls, 3);
    assert_eq!(inner_errors, [(2, StopReason::Deferred, rate_limited)]);
    assert_eq!(waits, [Duration::from_secs(7)], "the 429's wait, no other");
    // the later failure has its own line; the deferral names the 429's attempt
    let later = logs.assert_logged(
        Level::WARN,
        "hedging keeps-deferral: attempt 1/2 failed; not retried (attempts exhausted)",
    );
    assert_fields(&later, &[("attempt", "1"), ("error_kind", "Connect")]);
    let deferred = logs.assert_logged(
        Level::DEBUG,
        "keeps-deferral failed on attempt 2; leaving the retry to the outer retried call",
    );
    assert_fields(&deferred, &[("error_kind", "RateLimited")]);
    logs.assert_not_logged("keeps-deferral failed after");

    // A failure the outer run does not retry keeps its retry here after a
    // deferral; when that retry fails too, the call still ends deferred.
    let connect = Hinted {
        kind: ErrorKind::Connect,
        after: None,
    };
    let (out, calls, inner_errors, waits) = deferral_then(
        "keeps-deferral-3",
        3,
        ErrorKind::Connect,
        vec![Err(connect), Ok(4)],
    )
    .await;
    assert_eq!(out, Ok(4));
    assert_eq!(calls, 4, "attempt 1's retry (3), then the outer retry (4)");
    assert_eq!(inner_errors, [(3, StopReason::Deferred, rate_limited)]);
    assert_eq!(waits, [ms(5), Duration::from_secs(7)]);
}

/// After a deferral, an attempt in flight that succeeds still wins.
#[tokio::test(start_paused = true)]
async fn a_success_after_a_deferral_wins() {
    use retry_runtime::ErrorKind;
    let (out, calls, inner_errors, waits) =
        deferral_then("deferral-then-ok", 2, ErrorKind::Unavailable, vec![]).await;
    assert_eq!(out, Ok(1), "attempt 1 answered at 50ms");
    assert_eq!(calls, 2);
    assert!(inner_errors.is_empty(), "{inner_errors:?}");
    assert!(waits.is_empty(), "no retry, inner or outer: {waits:?}");
}

/// After a deferral, a non-retriable failure still ends the call at once
/// with that error: it is the more important answer (the outer run does
/// not retry it, and waits no Retry-After).
#[tokio::test(start_paused = true)]
async fn a_permanent_failure_after_a_deferral_ends_the_call() {
    use crate::hinted::Hinted;
    use retry_runtime::ErrorKind;
    let not_found = Hinted {
        kind: ErrorKind::Permanent,
        after: None,
    };
    let (out, calls, inner_errors, waits) =
        deferral_then("deferral-then-404", 2, ErrorKind::Permanent, vec![]).await;
    assert_eq!(out, Err(not_found));
    assert_eq!(calls, 2);
    assert_eq!(inner_errors, [(2, StopReason::Permanent, not_found)]);
    assert!(waits.is_empty(), "no outer retry: {waits:?}");
}

/// Attempt 1 fails at 55ms with a 503 (its retry due 30ms later, at 85ms);
/// attempt 2, the hedge at 50ms, at 60ms with a 429 asking for `after`;
/// attempt 3 succeeds at once. `attempts` at most, within 10s: what the
/// call returned, and when each attempt started.
async fn a_429_beside_a_retry_granted(
    attempts: u32,
    after: Duration,
) -> (
    Result<u32, retry_runtime::RetryError<crate::hinted::Hinted>>,
    Vec<Duration>,
) {
    use crate::hinted::Hinted;
    use retry_runtime::{ErrorKind, Jitter};
    let t0 = Instant::now();
    let starts = Mutex::new(Vec::new());
    let calls = AtomicU32::new(0);
    let out = Policy::new()
        .with_max_attempts(attempts)
        .with_backoff(Backoff::fixed(ms(30)))
        .with_jitter(Jitter::None)
        .with_hedge(ms(50))
        .with_max_elapsed(Duration::from_secs(10))
        .retry_on(KindSet::TRANSIENT)
        .retry(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            starts.lock().unwrap().push(t0.elapsed());
            let (wait, kind, after) = match n {
                1 => (55, ErrorKind::Unavailable, None),
                2 => (10, ErrorKind::RateLimited, Some(after)),
                _ => return Ok(n),
            };
            sleep(ms(wait)).await;
            Err(Hinted { kind, after })
        })
        .detailed()
        .hedged()
        .await;
    let starts = starts.lock().unwrap().clone();
    (out.map(|won| won.value), starts)
}

/// A server's wait holds back an earlier failure's retry also when the
/// failure that carries it gets no retry of its own (every attempt started
/// or granted): attempt 3, attempt 1's retry due at 85ms, starts when the
/// 429's second has passed (it started at 85ms, into the rate limit).
#[tokio::test(start_paused = true)]
async fn a_servers_wait_holds_back_a_retry_granted_before_it() {
    let second = Duration::from_secs(1);
    for attempts in [3, 4] {
        let (out, starts) = a_429_beside_a_retry_granted(attempts, second).await;
        assert_eq!(out.unwrap(), 3, "attempts = {attempts}");
        assert_eq!(starts, [ms(0), ms(50), ms(1060)], "attempts = {attempts}");
    }
    // a wait that ends before the deadline holds, whatever it is
    let (out, starts) = a_429_beside_a_retry_granted(4, Duration::from_secs(9)).await;
    assert_eq!(out.unwrap(), 3);
    assert_eq!(starts, [ms(0), ms(50), ms(9060)]);
}

/// A server's wait that would end past `max_elapsed` starts nothing more,
/// not even a retry granted before it to an earlier failure (which started
/// at 85ms, into the rate limit): the call gives up on the deadline once
/// nothing is in flight, with the attempts started.
#[tokio::test(start_paused = true)]
async fn a_servers_wait_past_the_deadline_starts_no_retry_granted_before_it() {
    for attempts in [3, 4] {
        let t0 = Instant::now();
        let (out, starts) = a_429_beside_a_retry_granted(attempts, Duration::from_secs(10)).await;
        let e = out.unwrap_err();
        assert_eq!(
            (e.attempts, e.reason),
            (2, StopReason::Deadline),
            "attempts = {attempts}"
        );
        assert_eq!(e.last_error.kind, retry_runtime::ErrorKind::RateLimited);
        assert_eq!(starts, [ms(0), ms(50)], "attempts = {attempts}");
        assert_eq!(t0.elapsed(), ms(60), "attempts = {attempts}");
    }
}

/// A failure ready in the same poll as another attempt's panic is still
/// told to the guards: the breaker records it a failure (the panicked
/// attempt made with no outcome), the throttle counts it. (Both were lost
/// in the unwinding: the failure recorded as neutral, the throttle told
/// nothing.)
#[tokio::test(start_paused = true)]
async fn a_failure_beside_a_panic_is_told_to_the_guards() {
    static B: CircuitBreaker = CircuitBreaker::new("hedge-failure-beside-panic");
    static BUDGET: RetryBudget = RetryBudget::new("hedge-failure-beside-panic");
    let throttle: &'static retry_runtime::Throttle = Box::leak(Box::new(
        retry_runtime::Throttle::new("hedge-failure-beside-panic"),
    ));
    let calls: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
    let joined = tokio::spawn(async move {
        Policy::new()
            .with_max_attempts(2)
            .with_backoff(Backoff::fixed(ms(40)))
            .with_hedge(ms(5))
            .with_circuit(&B)
            .with_budget(&BUDGET)
            .with_throttle(throttle)
            .retry_on(KindSet::TRANSIENT)
            .retry(move || async move {
                // attempt 1 fails at 10ms; attempt 2, started at 5ms,
                // panics at 10ms, in the same poll
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                sleep(ms(if n == 1 { 10 } else { 5 })).await;
                assert!(n < 2, "attempt 2 panics");
                Err::<u32, Fail>(Fail::Unavailable)
            })
            .hedged()
            .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let s = B.stats();
    assert_eq!(
        (s.permitted, s.successes, s.failures, s.neutral),
        (2, 0, 1, 1),
        "{s:?}"
    );
    let t = throttle.stats();
    assert_eq!((t.requests, t.accepts), (1, 0), "{t:?}");
}

static ASKED: AtomicU32 = AtomicU32::new(0);

/// A `retry_if` predicate that counts how often it is asked.
fn counted_transient(e: &Fail) -> bool {
    ASKED.fetch_add(1, Ordering::SeqCst);
    matches!(e, Fail::Unavailable)
}

/// A hedged run asks its classifier once per failed attempt, as a
/// sequential one does: a predicate that counts (or logs) sees each
/// failure once. (It was asked twice: when the attempt returned its error,
/// for the breaker and the throttle, and again when the failure was
/// handled.) Attempts 1 and 2 fail one after the other, then 3 fails in
/// the same poll as 4 succeeds (a failure beside the winner).
#[tokio::test(start_paused = true)]
async fn a_hedged_run_asks_its_classifier_once_per_failure() {
    let r = Replicas::new(vec![
        (10, Err(Fail::Unavailable)),
        (10, Err(Fail::Unavailable)),
        (60, Err(Fail::Unavailable)),
        (10, Ok(4)),
    ]);
    let policy = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::None)
        .with_hedge(ms(50))
        .retry_if(counted_transient);
    ASKED.store(0, Ordering::SeqCst);
    let out = policy.retry(|| r.call()).detailed().hedged().await.unwrap();
    assert_eq!((out.value, out.attempts), (4, 4));
    assert_eq!(
        ASKED.load(Ordering::SeqCst),
        3,
        "three failures, each classified once"
    );
}

/// A failure whose wait would end past `max_elapsed`, with no start armed
/// before the deadline, ends the call on the deadline: no attempt starts
/// in its place. (No hedge delay: one attempt at a time.)
#[tokio::test(start_paused = true)]
async fn a_failure_whose_wait_ends_past_the_deadline_with_nothing_armed_ends_the_call() {
    let r = Replicas::new(vec![(100, Err(Fail::Unavailable)), (5, Ok(2))]);
    let e = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(ms(1000)))
        .with_jitter(retry_runtime::Jitter::None)
        .with_max_elapsed(ms(500))
        .retry_on(KindSet::TRANSIENT)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (1, StopReason::Deadline));
    assert_eq!(r.started(), 1);
}

/// A failure whose wait would end past `max_elapsed` does not close the
/// run while a hedge is armed before the deadline: that hedge starts (and
/// wins), though nothing else has failed or been granted.
#[tokio::test(start_paused = true)]
async fn a_hedge_armed_before_the_deadline_starts_after_a_failure_past_it() {
    // 1 fails at 150 (its 800ms wait would end at 950, past 900); 2, the
    // hedge at 100, hangs; 3, the hedge at 200, answers at 205
    let r = Replicas::new(vec![
        (150, Err(Fail::Unavailable)),
        (10_000, Err(Fail::Unavailable)),
        (5, Ok(3)),
    ]);
    let t0 = Instant::now();
    let out = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(ms(800)))
        .with_jitter(retry_runtime::Jitter::None)
        .with_max_elapsed(ms(900))
        .with_hedge(ms(100))
        .retry_on(KindSet::TRANSIENT)
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap();
    assert_eq!((out.value, out.attempts), (3, 3));
    assert_eq!(t0.elapsed(), ms(205));
    assert_eq!(r.cancelled(), [2]);
}

/// A hedge whose timer fires late, past `max_elapsed` (here the clock jumps
/// while an attempt runs), does not start: no attempt starts at or after
/// the deadline, whenever the run wakes.
#[tokio::test(start_paused = true)]
async fn a_hedge_woken_past_the_deadline_does_not_start() {
    let calls = AtomicU32::new(0);
    let e = hedging(3, 100)
        .with_max_elapsed(ms(250))
        .retry(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            sleep(ms(50)).await;
            // the clock jumps past the hedge (100ms) and the deadline
            tokio::time::advance(ms(1000)).await;
            sleep(ms(10)).await;
            Err::<u32, Fail>(Fail::Unavailable)
        })
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!((e.attempts, e.reason), (1, StopReason::Deadline));
}

/// A hedged run's retries, what each waits and what chose the wait:
/// attempt 1 fails at 70; attempt 2 (the hedge at 50) fails at 60 with a
/// 429 asking for 1s: attempt 1's retry (backoff 30ms) waits until 1060,
/// the server's wait. With `second_fails` off, attempt 1 fails alone at 10
/// and its retry is due after its backoff, before the hedge. Through
/// `cooldown`, if given (the run's own 429 holds it too).
async fn hedged_waits(
    second_fails: bool,
    cooldown: Option<&'static retry_runtime::cooldown::Cooldown>,
) -> Vec<(Duration, retry_runtime::WaitSource)> {
    use crate::hinted::Hinted;
    use retry_runtime::{ErrorKind, Jitter};
    let calls = AtomicU32::new(0);
    let mut told = Vec::new();
    let policy = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(ms(30)))
        .with_jitter(Jitter::None)
        .with_hedge(ms(50))
        .retry_on(KindSet::TRANSIENT);
    let policy = match cooldown {
        Some(cooldown) => policy.with_cooldown(cooldown),
        None => policy,
    };
    let _ = policy
        .retry(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            let (wait, error) = match n {
                1 if second_fails => (70, Some((ErrorKind::Unavailable, None))),
                1 => (10, Some((ErrorKind::Unavailable, None))),
                2 if second_fails => (10, Some((ErrorKind::RateLimited, Some(ms(1000))))),
                _ => (5, None),
            };
            sleep(ms(wait)).await;
            match error {
                Some((kind, after)) => Err(Hinted { kind, after }),
                None => Ok(n),
            }
        })
        .notify(|ev: &retry_runtime::RetryEvent<'_>| told.push((ev.wait, ev.wait_source)))
        .hedged()
        .await
        .unwrap();
    told
}

/// The wait a hedged retry announces is the server's when a server's wait
/// (an earlier failure's Retry-After) made it longer than its backoff, and
/// not when it is the backoff alone.
#[tokio::test(start_paused = true)]
async fn a_hedged_retry_tells_whether_a_servers_wait_set_its_wait() {
    use retry_runtime::WaitSource::{Backoff as Own, RetryAfter};
    assert_eq!(hedged_waits(false, None).await, [(ms(30), Own)]);
    assert_eq!(
        hedged_waits(true, None).await,
        [(ms(1000), RetryAfter), (ms(990), RetryAfter)]
    );
}

/// The same through a policy with a cooldown: the run's own 429 holds the
/// cooldown too, and the cooldown lengthens attempt 1's retry to that
/// hold's end, no further. The wait is still the server's, as it is
/// without a cooldown and as a run's own 429 is (`cooldown` is for a wait
/// another call's hold or a pace's slot made longer: tests/runtime/
/// cooldown.rs).
#[tokio::test(start_paused = true)]
async fn a_hedged_retry_held_by_its_own_429_through_a_cooldown_is_the_servers() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::WaitSource::RetryAfter;
    static OWN: Cooldown = Cooldown::new("hedged-own-429");
    assert_eq!(
        hedged_waits(true, Some(&OWN)).await,
        [(ms(1000), RetryAfter), (ms(990), RetryAfter)]
    );
}

/// After a failure left to the outer run, no hedge starts, also beside a
/// retry granted to an earlier failure that starts later and runs long.
#[tokio::test(start_paused = true)]
async fn no_hedge_starts_beside_a_retry_started_after_a_deferral() {
    use std::io;
    let (outer, inner) = deferring_to_timeouts(4);
    let calls = AtomicU32::new(0);
    // the hedge at 10ms times out at 15ms (left to the outer run);
    // attempt 1 is refused at 50ms (the inner run's alone) and its retry,
    // attempt 3 at 55ms, answers 20ms later: no hedge at 65ms
    let op = || async {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        let (wait, out) = match n {
            1 => (50, Err(io::Error::from(io::ErrorKind::ConnectionRefused))),
            2 => (5, Err(io::Error::from(io::ErrorKind::TimedOut))),
            n => (20, Ok(n)),
        };
        sleep(ms(wait)).await;
        out
    };
    let out = outer.retry(|| inner.retry(op).hedged()).await;
    assert_eq!(out.map_err(|e| e.to_string()), Ok(3));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "no hedge after the deferral"
    );
}

/// A hedged call the retry budget stops gives up with the budget's line,
/// which names the budget, as a run without hedges does.
#[tokio::test(start_paused = true)]
async fn a_hedged_call_the_budget_stops_logs_the_budgets_give_up_line() {
    // 2 tokens: attempt 1's retry granted, attempt 2's refused
    let budget: &'static RetryBudget = Box::leak(Box::new(
        RetryBudget::new("hedged-give-up").with_max_tokens(2),
    ));
    let r = Replicas::new(vec![
        (10, Err(Fail::Unavailable)),
        (10, Err(Fail::Unavailable)),
    ]);
    let logs = testkit::capture::capture();
    let e = hedging(5, 100)
        .with_budget(budget)
        .with_name("budgeted")
        .retry(|| r.call())
        .detailed()
        .hedged()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (2, StopReason::Budget));
    let line = logs.assert_logged(
        tracing::Level::WARN,
        "retry budget exhausted: budgeted gives up after attempt 2/5",
    );
    testkit::capture::assert_fields(&line, &[("budget", "hedged-give-up")]);
}
