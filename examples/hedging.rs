//! Hedging at the tail, simulated: a service answers 95% of requests in
//! 10-20ms and the other 5% in 1s (a slow replica, a GC pause). 20,000
//! requests, one after another, on tokio's paused clock (nothing sleeps;
//! the same seed every run), each made three ways:
//!
//! - one call, no retry;
//! - retried with a per-attempt timeout of 50ms (3 attempts, no wait);
//! - hedged at the p95 latency, 20ms (3 attempts): a second call starts
//!   beside a first that has not answered by then, and the first answer wins.
//!
//! Run: `cargo run --example hedging`. Prints p50, p99 and p99.9 latency and
//! the calls per request; the table is in docs/hedging-and-throttling.md, "Hedged attempts".

use std::cell::{Cell, RefCell};
use std::time::Duration;

use retry_runtime::jitter::Rng;
use retry_runtime::{timeout, AttemptTimeout, Backoff, Policy};
use tokio::time::{sleep, Instant};

const REQUESTS: usize = 20_000;
const SLOW_SHARE: f64 = 0.05;

#[derive(Debug, thiserror::Error)]
#[error("attempt timed out")]
struct TimedOut;

impl From<AttemptTimeout> for TimedOut {
    fn from(_: AttemptTimeout) -> Self {
        TimedOut
    }
}

/// The simulated service: counts its calls, draws each call's latency.
struct Service {
    rng: RefCell<Rng>,
    calls: Cell<u64>,
}

impl Service {
    fn new() -> Self {
        Service {
            rng: RefCell::new(Rng::with_seed(2013)),
            calls: Cell::new(0),
        }
    }

    async fn call(&self) -> Result<(), TimedOut> {
        self.calls.set(self.calls.get() + 1);
        let latency = {
            let mut rng = self.rng.borrow_mut();
            if rng.next_f64() < SLOW_SHARE {
                Duration::from_secs(1)
            } else {
                Duration::from_micros(10_000 + (rng.next_f64() * 10_000.0) as u64)
            }
        };
        sleep(latency).await;
        Ok(())
    }
}

/// One strategy's result.
#[derive(Debug)]
pub struct Row {
    pub name: &'static str,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub calls_per_request: f64,
    /// Requests that ended in an error (every attempt timed out).
    pub failed: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn measure<F, Fut>(name: &'static str, service: &Service, mut request: F) -> Row
where
    F: FnMut() -> Fut,
    Fut: std::future::IntoFuture<Output = Result<(), TimedOut>>,
{
    service.calls.set(0);
    let mut latencies = Vec::with_capacity(REQUESTS);
    let mut failed = 0;
    for _ in 0..REQUESTS {
        let t0 = Instant::now();
        failed += usize::from(request().await.is_err());
        latencies.push(t0.elapsed());
    }
    latencies.sort();
    Row {
        name,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        p999: percentile(&latencies, 0.999),
        calls_per_request: service.calls.get() as f64 / REQUESTS as f64,
        failed,
    }
}

/// The three strategies, measured.
pub async fn simulate() -> Vec<Row> {
    let service = Service::new();
    let timed_out = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_name("timed_out_retries");
    let hedged = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_hedge(Duration::from_millis(20))
        .with_name("hedged");
    let mut rows = Vec::new();
    rows.push(measure("one call, no retry", &service, || service.call()).await);
    rows.push(
        measure("retries, 50ms per-attempt timeout", &service, || {
            timed_out.retry(|| timeout(Duration::from_millis(50), service.call()))
        })
        .await,
    );
    rows.push(
        measure("hedged at p95 (20ms)", &service, || {
            hedged.retry(|| service.call()).hedged()
        })
        .await,
    );
    rows
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let rows = simulate().await;
    println!(
        "| {REQUESTS} requests, 5% take 1s | p50 | p99 | p99.9 | calls per request | failed |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.1}ms | {:.1}ms | {:.1}ms | {:.3} | {} |",
            r.name,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.p999.as_secs_f64() * 1e3,
            r.calls_per_request,
            r.failed,
        );
    }
}
