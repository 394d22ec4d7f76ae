//! Ten minutes of simulated traffic (tokio's paused clock) against a
//! dependency that fails every call from 1:00 to 6:00, with a policy of 5
//! attempts. With a retry budget (10%, 10 tokens), retries stay within the
//! budgeted ratio of first attempts, over the whole run and during the
//! outage; without one, every failed call is tried 5 times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use retry_runtime::{Backoff, Policy, RetryBudget, StopReason};
use tokio::time::Instant;

use crate::outage::{self, CLIENTS, DOWN_FOR, LATENCY, SIMULATED};

const ATTEMPTS: u32 = 5;

const PERCENT: u32 = 10;
const MAX_TOKENS: u32 = 10;

#[derive(Default, Debug)]
struct Counts {
    first_attempts: AtomicU64,
    calls: AtomicU64,
    first_attempts_while_down: AtomicU64,
    calls_while_down: AtomicU64,
    gave_up_on_budget: AtomicU64,
}

impl Counts {
    /// `(first attempts, calls)` over the whole run.
    fn overall(&self) -> (u64, u64) {
        (
            self.first_attempts.load(Ordering::Relaxed),
            self.calls.load(Ordering::Relaxed),
        )
    }

    /// `(first attempts, calls)` while the dependency was down.
    fn while_down(&self) -> (u64, u64) {
        (
            self.first_attempts_while_down.load(Ordering::Relaxed),
            self.calls_while_down.load(Ordering::Relaxed),
        )
    }
}

struct Dependency {
    start: Instant,
    counts: Counts,
}

impl Dependency {
    async fn call(&self, first: bool) -> Result<(), &'static str> {
        let down = outage::is_down(self.start);
        let c = &self.counts;
        c.calls.fetch_add(1, Ordering::Relaxed);
        if first {
            c.first_attempts.fetch_add(1, Ordering::Relaxed);
        }
        if down {
            c.calls_while_down.fetch_add(1, Ordering::Relaxed);
            if first {
                c.first_attempts_while_down.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(LATENCY).await;
        if down {
            Err("503")
        } else {
            Ok(())
        }
    }
}

async fn simulate(policy: &'static Policy) -> Arc<Dependency> {
    let dep = Arc::new(Dependency {
        start: Instant::now(),
        counts: Counts::default(),
    });
    let client_dep = Arc::clone(&dep);
    outage::run_clients(dep.start, move || {
        let dep = Arc::clone(&client_dep);
        async move {
            let mut first = true;
            let r = policy
                .retry(|| {
                    let is_first = std::mem::replace(&mut first, false);
                    let dep = Arc::clone(&dep);
                    async move { dep.call(is_first).await }
                })
                .detailed()
                .await;
            if let Err(e) = r {
                if e.reason == StopReason::Budget {
                    dep.counts.gave_up_on_budget.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    })
    .await;
    dep
}

const fn base() -> Policy {
    Policy::new()
        .with_max_attempts(ATTEMPTS)
        .with_backoff(Backoff::fixed(Duration::from_millis(100)))
        .with_name("dependency")
}

/// The budget's bound: over any N first attempts, fewer than
/// N × PERCENT/100 + MAX_TOKENS/2 + 1 retries.
fn bound(first_attempts: u64) -> f64 {
    first_attempts as f64 * f64::from(PERCENT) / 100.0 + f64::from(MAX_TOKENS / 2) + 1.0
}

#[tokio::test(start_paused = true)]
async fn with_a_budget_retries_stay_within_the_budgeted_ratio() {
    static RETRIES: RetryBudget = RetryBudget::new("dependency")
        .with_percent(PERCENT)
        .with_max_tokens(MAX_TOKENS);
    static POLICY: Policy = base().with_budget(&RETRIES);
    let dep = simulate(&POLICY).await;
    let c = &dep.counts;
    let (first, calls) = c.overall();
    assert_eq!(first, CLIENTS * SIMULATED.as_secs());
    let retries = calls - first;
    assert!(
        (retries as f64) < bound(first),
        "{retries} retries for {first} first attempts; {c:?}"
    );

    // During the outage alone (the bucket was full when it began), too.
    let (first_down, calls_down) = c.while_down();
    let retries_down = calls_down - first_down;
    assert!(
        (retries_down as f64) < bound(first_down),
        "{retries_down} retries for {first_down}; {c:?}"
    );
    // ...which is about 1.1 calls per first attempt instead of 5
    assert!(calls_down as f64 <= first_down as f64 * 1.1 + 6.0);
    assert!(c.gave_up_on_budget.load(Ordering::Relaxed) > first_down / 2);

    assert_stats!(RETRIES; first_attempts: first, retries: retries);
}

#[tokio::test(start_paused = true)]
async fn without_a_budget_every_failed_call_is_tried_five_times() {
    static POLICY: Policy = base();
    let dep = simulate(&POLICY).await;
    let c = &dep.counts;
    let (first_down, calls_down) = c.while_down();
    assert_eq!(first_down, CLIENTS * DOWN_FOR.as_secs());
    // all 5 attempts of each run but the last few at the end of the outage
    assert!(
        calls_down >= first_down * u64::from(ATTEMPTS) - CLIENTS * u64::from(ATTEMPTS),
        "{c:?}"
    );
}
