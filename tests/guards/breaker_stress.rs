//! One circuit breaker and one retry budget hammered by 8 threads, and by
//! 1000 tokio tasks on a multi-thread runtime: every counter adds up exactly
//! (no lost update), the probe limit holds under contention, and everything
//! finishes within a time limit (no deadlock, no livelock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use retry_runtime::circuit::{CircuitBreaker, CircuitState, ManualClock, Outcome};
use retry_runtime::{Backoff, KindSet, Policy, RetryBudget, StopReason};

use crate::upstream::CallError;

const THREADS: usize = 8;
/// Whatever happens, a test thread must be done within this (real) time.
const LIMIT: Duration = Duration::from_secs(60);

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// Run `work(thread)` on `THREADS` threads started together; panic if they
/// are not all done within `LIMIT` (a deadlock would hang the join).
fn on_threads<R: Send + 'static>(work: impl Fn(usize) -> R + Send + Sync + 'static) -> Vec<R> {
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(THREADS));
    let (tx, rx) = mpsc::channel();
    for t in 0..THREADS {
        let (work, barrier, tx) = (Arc::clone(&work), Arc::clone(&barrier), tx.clone());
        std::thread::spawn(move || {
            barrier.wait();
            let _ = tx.send((t, work(t)));
        });
    }
    drop(tx);
    let deadline = Instant::now() + LIMIT;
    let mut out: Vec<Option<R>> = (0..THREADS).map(|_| None).collect();
    for _ in 0..THREADS {
        let left = deadline.saturating_duration_since(Instant::now());
        let (t, r) = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("threads not done within {LIMIT:?}: {e}"));
        out[t] = Some(r);
    }
    out.into_iter().map(Option::unwrap).collect()
}

/// `tasks` tokio tasks on a multi-thread runtime (4 workers), each making
/// `runs` calls of `call(task, run)`; after each, `clock` moves 50µs (time
/// moves with the traffic, so a breaker with a recovery of a few
/// milliseconds keeps cycling through its states) and the task yields.
/// Panics if they are not all done within `LIMIT`.
fn on_tasks<F, Fut>(tasks: u64, runs: u64, clock: &'static ManualClock, call: F)
where
    F: Fn(u64, u64) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async move {
        let tasks: Vec<_> = (0..tasks)
            .map(|t| {
                tokio::spawn(async move {
                    for r in 0..runs {
                        call(t, r).await;
                        clock.advance(Duration::from_micros(50));
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let all = async {
            for task in tasks {
                task.await.unwrap();
            }
        };
        tokio::time::timeout(LIMIT, all)
            .await
            .expect("tasks not done within the limit");
    });
}

/// A cheap deterministic mix of (thread, call) into an outcome: mostly
/// successes, bursts of failures, some neutral errors.
fn outcome(t: usize, i: u64) -> Outcome {
    let h =
        (i ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    match (h >> 40) % 16 {
        0..=9 => Outcome::Success,
        10..=14 => Outcome::Failure,
        _ => Outcome::Neutral,
    }
}

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
struct Tally {
    permitted: u64,
    rejected: u64,
    successes: u64,
    failures: u64,
    neutral: u64,
    deposits: u64,
    granted: u64,
    refused: u64,
}

impl std::ops::Add for Tally {
    type Output = Tally;
    fn add(self, o: Tally) -> Tally {
        Tally {
            permitted: self.permitted + o.permitted,
            rejected: self.rejected + o.rejected,
            successes: self.successes + o.successes,
            failures: self.failures + o.failures,
            neutral: self.neutral + o.neutral,
            deposits: self.deposits + o.deposits,
            granted: self.granted + o.granted,
            refused: self.refused + o.refused,
        }
    }
}

#[test]
fn eight_threads_on_one_breaker_and_one_budget_counts_add_up() {
    const CALLS: u64 = 50_000;
    let clock = leak(ManualClock::new());
    let breaker = leak(
        CircuitBreaker::new("stress")
            .with_failures(4)
            .with_failure_rate(50, 16)
            .with_probes(3)
            .with_recovery(Duration::from_millis(5))
            .with_clock(clock),
    );
    let budget = leak(RetryBudget::new("stress"));

    let tallies = on_threads(move |t| {
        let mut tally = Tally::default();
        for i in 0..CALLS {
            // Time moves with the traffic (400k calls: 0.4s, recovery 5ms),
            // so the breaker keeps cycling through its states.
            clock.advance(Duration::from_micros(1));
            match breaker.try_acquire() {
                Ok(permit) => {
                    tally.permitted += 1;
                    let o = outcome(t, i);
                    match o {
                        Outcome::Success => tally.successes += 1,
                        Outcome::Failure => tally.failures += 1,
                        Outcome::Neutral => tally.neutral += 1,
                    }
                    breaker.record(permit, o);
                    budget.deposit();
                    tally.deposits += 1;
                    if o == Outcome::Failure {
                        if budget.try_withdraw() {
                            tally.granted += 1;
                        } else {
                            tally.refused += 1;
                        }
                    }
                }
                Err(_) => tally.rejected += 1,
            }
        }
        tally
    });
    let total = tallies.into_iter().fold(Tally::default(), |a, b| a + b);
    let st = breaker.stats();
    assert_eq!(total.permitted + total.rejected, THREADS as u64 * CALLS);
    assert_eq!(
        (
            st.permitted,
            st.rejected,
            st.successes,
            st.failures,
            st.neutral
        ),
        (
            total.permitted,
            total.rejected,
            total.successes,
            total.failures,
            total.neutral
        )
    );
    assert!(st.opened > 10 && st.rejected > 0, "{st:?}"); // it did cycle
    let bs = budget.stats();
    assert_eq!(
        (bs.first_attempts, bs.retries, bs.refused),
        (total.deposits, total.granted, total.refused)
    );
    // the budget's bound holds: retries < 10% of deposits + 5 + 1
    assert!(
        (bs.retries as f64) < bs.first_attempts as f64 * 0.1 + 6.0,
        "{bs:?}"
    );
}

#[test]
fn consecutive_failures_are_never_lost() {
    // 8 threads × 1000 failures on a breaker that opens at the 8001st
    let breaker = leak(CircuitBreaker::new("count").with_failures(8001));
    on_threads(move |_| {
        for _ in 0..1000 {
            let p = breaker.try_acquire().unwrap();
            breaker.record(p, Outcome::Failure);
        }
    });
    assert_stats!(breaker; state: CircuitState::Closed, consecutive_failures: 8000);
    let p = breaker.try_acquire().unwrap();
    breaker.record(p, Outcome::Failure);
    assert_eq!(breaker.state(), CircuitState::Open);
    assert_eq!(breaker.stats().opened, 1);
}

#[test]
fn the_probe_limit_holds_under_contention() {
    let clock = leak(ManualClock::new());
    let breaker = leak(
        CircuitBreaker::new("probes")
            .with_failures(1)
            .with_probes(3)
            .with_clock(clock),
    );
    let p = breaker.try_acquire().unwrap();
    breaker.record(p, Outcome::Failure);
    clock.advance(Duration::from_secs(30));
    let granted = on_threads(move |_| {
        (0..1000)
            .filter_map(|_| breaker.try_acquire().ok())
            .inspect(|p| assert!(p.is_probe()))
            .count()
    });
    assert_eq!(granted.iter().sum::<usize>(), 3);
    let st = breaker.stats();
    assert_eq!(
        (st.state, st.probes_let_through, st.rejected),
        (CircuitState::HalfOpen, 3, 7997)
    );
    assert_eq!(st.opened, 1);
}

#[test]
fn exactly_the_burst_is_granted_under_contention() {
    let budget = leak(RetryBudget::new("burst")); // 10 tokens: 5 retries above half
    let granted = on_threads(move |_| (0..1000).filter(|_| budget.try_withdraw()).count());
    assert_eq!(granted.iter().sum::<usize>(), 5);
    assert_stats!(budget; retries: 5, refused: 7995, tokens: 5.0);
}

#[test]
fn budget_deposits_and_withdrawals_are_never_lost() {
    // Each thread withdraws then deposits one token, 10000 times: the bucket
    // never exceeds its capacity (so no deposit is clipped) nor drops to
    // half (so no withdrawal is refused), and must end exactly full.
    let budget = leak(
        RetryBudget::new("pairs")
            .with_percent(100)
            .with_max_tokens(1_000_000),
    );
    on_threads(move |_| {
        for _ in 0..10_000 {
            assert!(budget.try_withdraw());
            budget.deposit();
        }
    });
    assert_stats!(budget; tokens: 1_000_000.0, retries: 80_000, first_attempts: 80_000, refused: 0);
}

#[test]
fn a_thousand_tokio_tasks_on_one_breaker_and_one_budget() {
    const TASKS: u64 = 1000;
    const RUNS: u64 = 50;
    let clock = leak(ManualClock::new());
    let breaker = leak(
        CircuitBreaker::new("tasks")
            .with_failures(5)
            .with_probes(2)
            .with_recovery(Duration::from_millis(3))
            .with_clock(clock),
    );
    let budget = leak(
        // small enough that the retries wanted outrun it in every run
        RetryBudget::new("tasks")
            .with_percent(2)
            .with_max_tokens(20),
    );
    let policy: &'static Policy<_, _> = leak(
        Policy::new()
            .with_max_attempts(4)
            .with_backoff(Backoff::None) // no timers: the tasks hammer as fast as they can
            .retry_on(KindSet::TRANSIENT)
            .with_name("dep")
            .with_circuit(breaker)
            .with_budget(budget),
    );
    let op_calls = leak(AtomicU64::new(0));
    let rejected_first = leak(AtomicU64::new(0));
    let rejected_later = leak(AtomicU64::new(0));

    on_tasks(TASKS, RUNS, clock, move |t, r| async move {
        let result = policy
            .retry(|| {
                let n = op_calls.fetch_add(1, Ordering::Relaxed);
                async move {
                    tokio::task::yield_now().await;
                    match (n ^ t ^ r) % 8 {
                        0..=3 => Ok(n),
                        4..=6 => Err(CallError::Unavailable),
                        _ => Err(CallError::NotFound),
                    }
                }
            })
            .detailed()
            .await;
        if let Err(e) = result {
            if let CallError::Open(_) = e.last_error {
                assert_eq!(e.reason, StopReason::CircuitOpen);
                let c = if e.attempts == 0 {
                    rejected_first
                } else {
                    rejected_later
                };
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let calls = op_calls.load(Ordering::Relaxed);
    let (first, later) = (
        rejected_first.load(Ordering::Relaxed),
        rejected_later.load(Ordering::Relaxed),
    );
    let st = breaker.stats();
    let bs = budget.stats();
    // every attempt let through was made, and recorded exactly once
    assert_eq!(st.permitted, calls);
    assert_eq!(st.successes + st.failures + st.neutral, calls);
    assert_eq!(st.rejected, first + later);
    // each run that made a first attempt deposited once...
    assert_eq!(bs.first_attempts, TASKS * RUNS - first);
    // ...and every other call was a granted retry (a granted retry that the
    // breaker then rejected gave its token back and is not counted)
    assert_eq!(calls, bs.first_attempts + bs.retries);
    assert!(st.opened >= 5 && bs.refused > 0, "{st:?} {bs:?}");
    // the budget's bound: 2% of the first attempts plus half the bucket, plus 1
    assert!(
        (bs.retries as f64) < bs.first_attempts as f64 * 0.02 + 11.0,
        "{bs:?}"
    );
}

/// Runs cut short in their attempt, on a multi-thread runtime: 500 tasks,
/// one breaker cycling through its states, and every third run dropped
/// while its attempt waits (its future polled once, then dropped). Every
/// leave granted is recorded exactly once (a dropped run's as neutral), so
/// the counts add up; and the breaker is never left holding a probe slot:
/// once the calls stop failing, one call after a recovery timeout closes
/// it.
#[test]
fn runs_dropped_in_their_attempt_record_every_leave_once() {
    const TASKS: u64 = 500;
    const RUNS: u64 = 30;
    let clock = leak(ManualClock::new());
    let breaker = leak(
        CircuitBreaker::new("dropped")
            .with_failures(3)
            .with_probes(2)
            .with_recovery(Duration::from_millis(3))
            .with_clock(clock),
    );
    let policy: &'static Policy<_, _> = leak(
        Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::None)
            .retry_on(KindSet::TRANSIENT)
            .with_name("dropped")
            .with_circuit(breaker),
    );
    let op_calls = leak(AtomicU64::new(0));
    let dropped = leak(AtomicU64::new(0));

    on_tasks(TASKS, RUNS, clock, move |t, r| async move {
        let run = policy.retry(|| {
            let n = op_calls.fetch_add(1, Ordering::Relaxed);
            async move {
                tokio::task::yield_now().await;
                match (n ^ t ^ r) % 4 {
                    0 | 1 => Ok(n),
                    _ => Err(CallError::Unavailable),
                }
            }
        });
        if (t + r) % 3 == 0 {
            // polled once (the attempt yields), then dropped
            let mut fut = std::pin::pin!(std::future::IntoFuture::into_future(run));
            let polled = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(std::future::Future::poll(fut.as_mut(), cx).is_ready())
            })
            .await;
            if !polled {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            let _ = run.await;
        }
    });

    let calls = op_calls.load(Ordering::Relaxed);
    let st = breaker.stats();
    assert!(dropped.load(Ordering::Relaxed) > 0, "no run was cut short");
    assert!(st.opened >= 2, "{st:?}");
    // every attempt let through was made, and recorded exactly once
    assert_eq!(st.permitted, calls, "{st:?}");
    assert_eq!(st.successes + st.failures + st.neutral, calls, "{st:?}");
    assert!(st.neutral >= dropped.load(Ordering::Relaxed), "{st:?}");

    // no probe slot held by a dropped run: after a recovery timeout, a
    // success goes through and, with the breaker's 2 probes, closes it
    clock.advance(Duration::from_millis(10));
    for _ in 0..2 {
        let ok: Result<u32, CallError> = policy.retry(|| Ok(1)).call();
        assert_eq!(ok, Ok(1), "{:?}", breaker.stats());
    }
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "{:?}",
        breaker.stats()
    );
}
