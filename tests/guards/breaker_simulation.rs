//! Ten minutes of simulated traffic (tokio's paused clock) against a
//! dependency that is down from 1:00 to 6:00. With a circuit breaker, the
//! calls that reach the dependency while it is down stay under a bound
//! derived from the breaker's configuration; without one, every client
//! retries every call. After the outage, a probe closes the breaker and
//! calls succeed again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use retry_runtime::{
    testing, Admission, Backoff, CircuitBreaker, KindSet, Policy, RetryOn, WithCircuit,
};
use tokio::time::Instant;

use crate::outage::{self, CLIENTS, DOWN_FOR, DOWN_FROM, LATENCY, PERIOD};
use crate::upstream::CallError;

const ATTEMPTS: u32 = 3;
const FAILURES: u32 = 5;
const RECOVERY: Duration = Duration::from_secs(30);
const PROBES: u32 = 1;

/// The dependency: down during `[DOWN_FROM, DOWN_FROM + DOWN_FOR)` after `start`.
struct Dependency {
    start: Instant,
    calls: AtomicU64,
    calls_while_down: AtomicU64,
}

impl Dependency {
    fn new() -> Arc<Dependency> {
        Arc::new(Dependency {
            start: Instant::now(),
            calls: AtomicU64::new(0),
            calls_while_down: AtomicU64::new(0),
        })
    }

    async fn call(&self) -> Result<(), CallError> {
        let down = outage::is_down(self.start);
        self.calls.fetch_add(1, Ordering::Relaxed);
        if down {
            self.calls_while_down.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(LATENCY).await;
        if down {
            Err(CallError::Unavailable)
        } else {
            Ok(())
        }
    }
}

#[derive(Default, Debug)]
struct Results {
    ok: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    /// Calls that did not succeed, started well after the outage ended.
    failed_late: AtomicU64,
}

/// Every client's loop, with or without a breaker on the policy.
async fn simulate<G>(policy: &'static Policy<RetryOn, G>, dep: Arc<Dependency>) -> Arc<Results>
where
    G: Admission<CallError> + Send + Sync,
{
    let results = Arc::new(Results::default());
    let counted = Arc::clone(&results);
    outage::run_clients(dep.start, move || {
        let (dep, results) = (Arc::clone(&dep), Arc::clone(&counted));
        async move {
            let started = dep.start.elapsed();
            let r = policy.retry(|| dep.call()).await;
            let counter = match r {
                Ok(()) => &results.ok,
                Err(CallError::Open(_)) => &results.rejected,
                Err(_) => &results.failed,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            // one recovery timeout (and a probe) after the outage, all is well
            if r.is_err() && started >= DOWN_FROM + DOWN_FOR + RECOVERY + PERIOD {
                results.failed_late.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
    .await;
    results
}

const fn base() -> Policy<RetryOn> {
    Policy::new()
        .with_max_attempts(ATTEMPTS)
        .with_backoff(Backoff::fixed(Duration::from_millis(200)))
        .retry_on(KindSet::TRANSIENT)
        .with_name("dependency")
}

#[tokio::test(start_paused = true)]
async fn with_a_breaker_calls_while_down_stay_bounded() {
    static BREAKER: CircuitBreaker = CircuitBreaker::new("dependency")
        .with_failures(FAILURES)
        .with_recovery(RECOVERY)
        .with_probes(PROBES);
    static POLICY: Policy<RetryOn, WithCircuit> = base().with_circuit(&BREAKER);
    let paused = testing::pause();

    let dep = Dependency::new();
    let results = simulate(&POLICY, Arc::clone(&dep)).await;
    let while_down = dep.calls_while_down.load(Ordering::Relaxed);

    // While closed, at most FAILURES failures are recorded before it opens,
    // and every other client may have one call in flight at that moment.
    // Then only probes: a failed probe re-opens it for RECOVERY, so at most
    // one round of PROBES per RECOVERY of the outage.
    let bound = u64::from(FAILURES)
        + (CLIENTS - 1)
        + DOWN_FOR.as_secs().div_ceil(RECOVERY.as_secs()) * u64::from(PROBES);
    assert!(
        while_down <= bound,
        "{while_down} calls reached the dependency while it was down (bound {bound}); {results:?}"
    );
    // most calls during the outage were rejected without calling
    let during = CLIENTS * DOWN_FOR.as_secs();
    assert!(results.rejected.load(Ordering::Relaxed) >= during - bound);
    // and it closed again: nothing fails once the outage and one recovery are over
    assert_eq!(
        results.failed_late.load(Ordering::Relaxed),
        0,
        "{results:?}"
    );
    assert_eq!(
        BREAKER.state(),
        retry_runtime::circuit::CircuitState::Closed
    );
    let st = BREAKER.stats();
    assert!(
        st.opened >= 1 && st.opened <= 1 + DOWN_FOR.as_secs() / RECOVERY.as_secs(),
        "{st:?}"
    );
    // retries happened only while it was closed: at most FAILURES - 1 + (CLIENTS - 1) waits of 200ms
    assert!(
        paused.waits().len() as u64 <= u64::from(FAILURES) + CLIENTS,
        "{:?}",
        paused.waits()
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_breaker_every_call_is_retried_against_the_outage() {
    static POLICY: Policy<RetryOn> = base();
    let dep = Dependency::new();
    let results = simulate(&POLICY, Arc::clone(&dep)).await;
    let while_down = dep.calls_while_down.load(Ordering::Relaxed);
    // every client, every second, ATTEMPTS calls (give or take the edges)
    let expected = CLIENTS * DOWN_FOR.as_secs() * u64::from(ATTEMPTS);
    assert!(
        while_down >= expected - CLIENTS * u64::from(ATTEMPTS),
        "{while_down} < {expected}; {results:?}"
    );
    assert_eq!(results.rejected.load(Ordering::Relaxed), 0);
}
