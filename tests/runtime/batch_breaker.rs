//! docs/policies.md's "A batch and its breaker": a batch of 10 concurrent
//! records that meets a half-open breaker sends its one probe and gets 9
//! rejections (`attempts == 0`, `StopReason::CircuitOpen`, a DEBUG line
//! each), though the dependency is back; sent one at a time while the
//! breaker is not closed, the first is the probe, closes it, and the other
//! 9 go at once. (A user's walk-through of a serverless handler: 9 records
//! of a healthy API redelivered untried, towards their dead-letter count.)

use std::cell::Cell;
use std::io;
use std::time::Duration;

use futures_util::future::join_all;
use retry_runtime::circuit::CircuitState;
use retry_runtime::{
    testing, timeout, CircuitBreaker, Policy, RetryError, RetryOn, StopReason, WithCircuit,
};
use tokio::time::Instant;
use tracing::Level;

const ATTEMPT: Duration = Duration::from_secs(2);
/// What a healthy PUT takes.
const PUT: Duration = Duration::from_millis(50);

fn policy(breaker: &'static CircuitBreaker) -> Policy<RetryOn, WithCircuit> {
    retry_runtime::presets::API
        .with_name("kv.put")
        .with_circuit(breaker)
}

/// One record: a PUT to an API that is healthy again.
async fn put(
    policy: Policy<RetryOn, WithCircuit>,
    _record: u32,
) -> Result<(), RetryError<io::Error>> {
    policy
        .retry(|| {
            timeout(ATTEMPT, async {
                tokio::time::sleep(PUT).await;
                Ok::<_, io::Error>(())
            })
        })
        .detailed()
        .await
        .map(|done| done.value)
}

/// `breaker` opened by the API's failures, and its recovery timeout passed:
/// the next call is its probe.
async fn recovered(breaker: &'static CircuitBreaker) {
    let down = policy(breaker)
        .with_max_attempts(1)
        .retry(|| async { Err::<(), _>(io::Error::from(io::ErrorKind::TimedOut)) })
        .await;
    assert!(down.is_err());
    assert_eq!(breaker.state(), CircuitState::Open);
    tokio::time::advance(Duration::from_secs(60)).await;
}

/// The batch as the recipe sends it: one record at a time while the breaker
/// is not closed, then the rest at once.
async fn probe_first(
    breaker: &'static CircuitBreaker,
    records: &[u32],
) -> Vec<Result<(), RetryError<io::Error>>> {
    let p = policy(breaker);
    let mut results = Vec::new();
    let mut rest = records.iter();
    while breaker.state() != CircuitState::Closed {
        let Some(&record) = rest.next() else { break };
        results.push(put(p, record).await);
    }
    results.extend(join_all(rest.map(|&record| put(p, record))).await);
    results
}

/// The whole batch at once, whatever the breaker's state.
async fn all_at_once(
    breaker: &'static CircuitBreaker,
    records: &[u32],
) -> Vec<Result<(), RetryError<io::Error>>> {
    let p = policy(breaker);
    join_all(records.iter().map(|&record| put(p, record))).await
}

fn turned_away(results: &[Result<(), RetryError<io::Error>>]) -> usize {
    results
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_err_and(|e| e.attempts == 0 && e.reason == StopReason::CircuitOpen)
        })
        .count()
}

#[tokio::test(start_paused = true)]
async fn all_at_once_a_half_open_breaker_turns_nine_of_ten_away() {
    static KV: CircuitBreaker = CircuitBreaker::new("batch-naive")
        .with_failures(1)
        .with_recovery(Duration::from_secs(30));
    let logs = testing::capture_logs().unwrap();
    recovered(&KV).await;
    let before = logs.records().len();
    let results = all_at_once(&KV, &(1..=10).collect::<Vec<_>>()).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(turned_away(&results), 9);
    assert_eq!(KV.state(), CircuitState::Closed);
    // the 9 are DEBUG lines: nothing at INFO or above names them
    let records = logs.records();
    let turned: Vec<_> = records[before..]
        .iter()
        .filter(|r| r.message().starts_with("kv.put not attempted"))
        .collect();
    assert_eq!(turned.len(), 9, "{logs}");
    assert!(turned.iter().all(|r| r.level() == Level::DEBUG), "{logs}");
}

#[tokio::test(start_paused = true)]
async fn probe_first_the_batch_sends_all_ten() {
    static KV: CircuitBreaker = CircuitBreaker::new("batch-probe-first")
        .with_failures(1)
        .with_recovery(Duration::from_secs(30));
    recovered(&KV).await;
    let start = Instant::now();
    let results = probe_first(&KV, &(1..=10).collect::<Vec<_>>()).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(results.len(), 10);
    // the probe's PUT, then the other nine at once
    assert_eq!(start.elapsed(), 2 * PUT);
    assert_eq!(KV.state(), CircuitState::Closed);
}

/// A breaker that needs 3 probes: one record at a time until it closes.
#[tokio::test(start_paused = true)]
async fn probe_first_with_three_probes() {
    static KV: CircuitBreaker = CircuitBreaker::new("batch-three-probes")
        .with_failures(1)
        .with_probes(3)
        .with_recovery(Duration::from_secs(30));
    recovered(&KV).await;
    let start = Instant::now();
    let results = probe_first(&KV, &(1..=10).collect::<Vec<_>>()).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(start.elapsed(), 4 * PUT);
}

/// Still down: the probe fails, the breaker opens again, and the others
/// are turned away at once, untried (the handler's to log and report).
#[tokio::test(start_paused = true)]
async fn probe_first_a_failed_probe_sends_nothing_more() {
    static KV: CircuitBreaker = CircuitBreaker::new("batch-still-down")
        .with_failures(1)
        .with_recovery(Duration::from_secs(30));
    recovered(&KV).await;
    let p = policy(&KV).with_max_attempts(1);
    let sent = Cell::new(0);
    let mut results = Vec::new();
    let mut rest = 1..=10;
    while KV.state() != CircuitState::Closed {
        let Some(_record) = rest.next() else { break };
        results.push(
            p.retry(|| {
                sent.set(sent.get() + 1);
                async { Err::<(), _>(io::Error::from(io::ErrorKind::TimedOut)) }
            })
            .detailed()
            .await,
        );
    }
    assert_eq!(sent.get(), 1);
    assert_eq!(results.len(), 10);
    assert_eq!(
        results
            .iter()
            .filter(|r| r.as_ref().is_err_and(|e| e.attempts == 0))
            .count(),
        9
    );
}
