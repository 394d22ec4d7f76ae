//! Concurrency soak: 10,000 tokio tasks on a multi-thread runtime (2
//! workers), each retrying through one shared `static` policy with full
//! jitter (exp(1ms, 10ms), 6 attempts), failing at random: each attempt fails
//! with probability 1/2, drawn from a per-task generator seeded with the
//! task's number, so a replay of the same seeds predicts every outcome.
//!
//! Checked:
//! - every task ends as its script says (success iff its leading failures are
//!   fewer than the attempts), after the predicted number of calls;
//! - the calls made = the calls predicted = the calls logged: one `trace`
//!   event per call from the body, and from the library one WARN per retry,
//!   one INFO per success after a retry, one ERROR per give-up, whose
//!   `attempt` fields add up (a first-try success logs nothing);
//! - the heap's live bytes after the runtime is dropped are back to what they
//!   were before it was built (a counting global allocator, this binary only).
//!
//! The events are counted by a global subscriber (the workers are other
//! threads, so `testkit::capture`, which is per thread, cannot see them); this
//! binary has this one test so that nothing else logs into it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::time::{Duration, Instant};

use retry_runtime::jitter::Rng;
use retry_runtime::{Backoff, Jitter, Policy};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

const TASKS: u64 = 10_000;
const ATTEMPTS: u32 = 6;

/// The one policy every task shares.
static SOAK: Policy = Policy::new()
    .with_max_attempts(ATTEMPTS)
    .with_backoff(Backoff::exponential(
        Duration::from_millis(1),
        Duration::from_millis(10),
    ))
    .with_jitter(Jitter::Full)
    .with_name("soak")
    .checked();

// ---------------------------------------------------------------------------
// Live heap bytes
// ---------------------------------------------------------------------------

#[global_allocator]
static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;

// ---------------------------------------------------------------------------
// Counting the log events
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Counts {
    /// `trace` events from the body, one per call.
    calls: AtomicU64,
    /// WARN from the library: a retry.
    retries: AtomicU64,
    /// INFO from the library: a success after a retry; and its `attempt`s.
    late_successes: AtomicU64,
    late_success_attempts: AtomicU64,
    /// ERROR from the library: a give-up; and its `attempt`s.
    give_ups: AtomicU64,
    give_up_attempts: AtomicU64,
    /// Anything else (should stay 0).
    other: AtomicU64,
}

static LOGGED: Counts = Counts {
    calls: AtomicU64::new(0),
    retries: AtomicU64::new(0),
    late_successes: AtomicU64::new(0),
    late_success_attempts: AtomicU64::new(0),
    give_ups: AtomicU64::new(0),
    give_up_attempts: AtomicU64::new(0),
    other: AtomicU64::new(0),
};

/// The unexpected events, for the failure message.
static OTHER: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A layer counting events into [`LOGGED`]; allocates nothing per event.
struct CountEvents;

/// Reads the `attempt` field (an `i64`, as every count on the lines).
struct Attempt(u64);

impl Visit for Attempt {
    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "attempt" {
            self.0 = u64::try_from(value).unwrap_or(0);
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for CountEvents {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let from_library = meta.target().starts_with("retry_runtime");
        let mut attempt = Attempt(0);
        event.record(&mut attempt);
        let (count, sum) = match (*meta.level(), from_library) {
            (Level::TRACE, false) if meta.target() == "soak" => (&LOGGED.calls, None),
            (Level::WARN, true) => (&LOGGED.retries, None),
            (Level::INFO, true) => (&LOGGED.late_successes, Some(&LOGGED.late_success_attempts)),
            (Level::ERROR, true) => (&LOGGED.give_ups, Some(&LOGGED.give_up_attempts)),
            _ => (&LOGGED.other, None),
        };
        if std::ptr::eq(count, &LOGGED.other) {
            // (allocates, but only for an event that fails the test anyway)
            OTHER.lock().unwrap().push(format!("{meta:?}"));
        }
        count.fetch_add(1, Relaxed);
        if let Some(sum) = sum {
            sum.fetch_add(attempt.0, Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------
// The tasks
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct Transient;

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("transient")
    }
}

/// Does this attempt fail? One draw per attempt.
fn fails(rng: &mut Rng) -> bool {
    rng.next_u64() & 1 == 1
}

/// The script of task `id`, replayed: `(succeeds, calls)`.
fn predicted(id: u64) -> (bool, u32) {
    let mut rng = Rng::with_seed(id);
    let failures = (0..ATTEMPTS).take_while(|_| fails(&mut rng)).count() as u32;
    (failures < ATTEMPTS, (failures + 1).min(ATTEMPTS))
}

/// Calls made, counted in the body.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Task `id`: `(succeeded, calls)`.
async fn one_task(id: u64) -> (bool, u32) {
    let mut rng = Rng::with_seed(id);
    let mut calls = 0u32;
    let out = SOAK
        .retry(|| {
            calls += 1;
            let failed = fails(&mut rng);
            async move {
                CALLS.fetch_add(1, Relaxed);
                tracing::trace!(target: "soak", "attempt");
                if failed {
                    Err(Transient)
                } else {
                    Ok(())
                }
            }
        })
        .await;
    (out.is_ok(), calls)
}

/// `tasks` tasks on a fresh 2-worker runtime, dropped before returning.
/// Returns each task's outcome, in order.
fn soak(tasks: u64) -> Vec<(bool, u32)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let outcomes = rt.block_on(async {
        let handles: Vec<_> = (0..tasks).map(|id| tokio::spawn(one_task(id))).collect();
        let mut outcomes = Vec::with_capacity(handles.len());
        for h in handles {
            outcomes.push(h.await.unwrap());
        }
        // A finished task leaves the runtime's count just after its output
        // is handed to the `JoinHandle`: give the workers a moment.
        let metrics = tokio::runtime::Handle::current().metrics();
        for _ in 0..1000 {
            if metrics.num_alive_tasks() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(metrics.num_alive_tasks(), 0, "the library spawned no task");
        outcomes
    });
    drop(rt);
    outcomes
}

fn reset_counts() {
    CALLS.store(0, SeqCst);
    for c in [
        &LOGGED.calls,
        &LOGGED.retries,
        &LOGGED.late_successes,
        &LOGGED.late_success_attempts,
        &LOGGED.give_ups,
        &LOGGED.give_up_attempts,
        &LOGGED.other,
    ] {
        c.store(0, SeqCst);
    }
}

#[test]
fn ten_thousand_tasks_share_one_policy() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountEvents))
        .expect("the only subscriber of this binary");

    // Warm up once, so that what is allocated once per process (callsite
    // registrations, the runtime's lazy statics) is in the baseline.
    let warm = soak(200);
    let predicted_warm: u64 = (0..200).map(|id| u64::from(predicted(id).1)).sum();
    assert_eq!(CALLS.load(SeqCst), predicted_warm);
    drop(warm);
    reset_counts();

    let baseline = testkit::alloc::live_bytes();
    testkit::alloc::reset_peak();
    let started = Instant::now();
    let outcomes = soak(TASKS);
    let took = started.elapsed();
    let peak = testkit::alloc::peak_bytes();

    // Every task as scripted.
    let mut expected_calls = 0u64;
    let (mut late_successes, mut late_success_attempts) = (0u64, 0u64);
    let (mut give_ups, mut give_up_attempts) = (0u64, 0u64);
    for (id, &(succeeded, calls)) in (0..TASKS).zip(&outcomes) {
        let (should_succeed, should_call) = predicted(id);
        assert_eq!(
            (succeeded, calls),
            (should_succeed, should_call),
            "task {id}"
        );
        expected_calls += u64::from(calls);
        match (succeeded, calls) {
            (true, 1) => {}
            (true, n) => {
                late_successes += 1;
                late_success_attempts += u64::from(n);
            }
            (false, n) => {
                give_ups += 1;
                give_up_attempts += u64::from(n);
            }
        }
    }
    // The mix is what a fair coin gives: some first-try successes, some
    // retried successes, some give-ups.
    assert!(late_successes > TASKS / 4, "{late_successes}");
    assert!(give_ups > TASKS / 200, "{give_ups}");

    // Calls made = predicted = logged.
    let calls = CALLS.load(SeqCst);
    assert_eq!(calls, expected_calls);
    assert_eq!(LOGGED.calls.load(SeqCst), calls, "one body event per call");
    assert_eq!(
        LOGGED.retries.load(SeqCst),
        calls - TASKS,
        "one WARN per retry"
    );
    assert_eq!(LOGGED.late_successes.load(SeqCst), late_successes);
    assert_eq!(
        LOGGED.late_success_attempts.load(SeqCst),
        late_success_attempts
    );
    assert_eq!(LOGGED.give_ups.load(SeqCst), give_ups);
    assert_eq!(LOGGED.give_up_attempts.load(SeqCst), give_up_attempts);
    let first_try = TASKS - late_successes - give_ups;
    assert_eq!(
        LOGGED.late_success_attempts.load(SeqCst)
            + LOGGED.give_up_attempts.load(SeqCst)
            + first_try,
        calls,
        "the attempts the final events report add up to the calls"
    );
    assert_eq!(
        LOGGED.other.load(SeqCst),
        0,
        "unexpected events: {:?}",
        OTHER.lock().unwrap()
    );

    // Memory back to the baseline once the tasks and the runtime are gone.
    drop(outcomes);
    let after = testkit::alloc::live_bytes();
    let slack = 16 * 1024;
    assert!(
        (after - baseline).abs() <= slack,
        "live heap bytes: {baseline} before, {after} after (peak {peak})"
    );
    assert!(
        peak - baseline > 1_000_000,
        "the tasks did use memory: peak {peak}, baseline {baseline}"
    );
    eprintln!(
        "{TASKS} tasks, {calls} calls in {took:?}; live heap {baseline} -> peak {peak} -> {after} bytes"
    );
}
