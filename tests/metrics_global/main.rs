//! Metrics under a global recorder, in a binary of their own (a global
//! recorder is installed once per process): nothing is recorded until
//! `metrics::enable()` (`enabled()` is false until then), which describes
//! the metrics to the recorder, and 10,000 concurrent calls through one policy, on
//! a multi-thread runtime, record exactly 10,000 outcomes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use metrics::Unit;
use retry_runtime::metrics::{Outcome, ATTEMPTS, CALLS, RETRIES};
use retry_runtime::{Backoff, Policy};
use testkit::metrics::Recorded;

const CALLS_MADE: u32 = 10_000;

static POLICY: Policy = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::None)
    .with_name("concurrent");

/// Calls `n`: the even ones fail once, then succeed.
async fn call(n: u32, attempts: Arc<AtomicU32>) -> Result<u32, &'static str> {
    POLICY
        .retry(|| {
            let made = attempts.fetch_add(1, Ordering::Relaxed);
            async move {
                if n % 2 == 0 && made == 0 {
                    Err("busy")
                } else {
                    Ok(n)
                }
            }
        })
        .await
}

#[test]
fn ten_thousand_concurrent_calls_record_ten_thousand_outcomes() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let run_all = || {
        rt.block_on(async {
            let tasks: Vec<_> = (0..CALLS_MADE)
                .map(|n| tokio::spawn(call(n, Arc::new(AtomicU32::new(0)))))
                .collect();
            for (n, task) in (0..).zip(tasks) {
                assert_eq!(task.await.unwrap(), Ok(n));
            }
        })
    };

    run_all();
    assert!(!retry_runtime::metrics::enabled());
    let before = Recorded::from(&snapshotter);
    assert!(
        before.names().is_empty(),
        "recorded before enable(): {:?}",
        before.names()
    );

    retry_runtime::metrics::enable();
    assert!(retry_runtime::metrics::enabled());
    run_all();
    let rec = Recorded::from(&snapshotter);
    let op = |o: Outcome| {
        rec.counter(
            CALLS,
            &[("operation", "concurrent"), ("outcome", o.label())],
        )
    };
    let total: u64 = Outcome::ALL.iter().copied().map(op).sum();
    assert_eq!(total, u64::from(CALLS_MADE));
    assert_eq!(op(Outcome::SucceededFirstTry), u64::from(CALLS_MADE / 2));
    assert_eq!(
        op(Outcome::SucceededAfterRetries),
        u64::from(CALLS_MADE / 2)
    );
    assert_eq!(
        rec.counter(RETRIES, &[("operation", "concurrent")]),
        u64::from(CALLS_MADE / 2)
    );

    // enable() described the metrics to the recorder: an exporter's HELP
    // lines and units
    let described: HashMap<_, _> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, unit, help, _)| (key.key().name().to_owned(), (unit, help)))
        .collect();
    let help = |name: &str| described[name].1.as_deref();
    assert_eq!(
        help(CALLS),
        Some("Calls of a retried operation that ended, one per call, by how it ended (outcome).")
    );
    assert_eq!(
        help(RETRIES),
        Some("Retries made, the attempts after each call's first (hedges included), counted when the call ends.")
    );
    assert_eq!(
        help(ATTEMPTS),
        Some("Attempts made per call, hedges included (0 for a call a breaker or a throttle turned away before its first attempt, or after a hand loop's Run::progressed restarted the count).")
    );
    for name in [CALLS, RETRIES, ATTEMPTS] {
        assert_eq!(described[name].0, Some(Unit::Count), "{name}");
    }
}
