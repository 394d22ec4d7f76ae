//! On tokio's runtimes, a capture holds what runs on the test's thread:
//! on a current-thread runtime its spawned tasks too; on a multi-thread
//! runtime the future the test blocks on, not the tasks spawned on the
//! workers (as `testing::pause()` sees this thread only).

use retry_runtime::{testing, Backoff, Policy};
use tracing::Level;

/// Three attempts, no waits (so no timer, and no real waits on a
/// multi-thread runtime, whose clock cannot be paused).
async fn failing(name: &'static str) -> Result<(), &'static str> {
    let policy = Policy::new()
        .with_name(name)
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    policy.retry(|| async { Err::<(), _>("down") }).await
}

#[tokio::test(start_paused = true)]
async fn on_a_current_thread_runtime_spawned_tasks_are_captured() {
    let logs = testing::capture_logs().unwrap();
    let r = tokio::spawn(failing("spawned.current")).await.unwrap();
    assert!(r.is_err());
    assert_eq!(logs.count(Level::WARN), 2, "{logs}");
    assert!(
        logs.contains("ERROR retry_runtime: spawned.current failed after 3 attempts"),
        "{logs}"
    );
}

/// The preset's waits on tokio's paused clock, logged as the sync run
/// logs them.
#[tokio::test(start_paused = true)]
async fn an_async_run_s_lines_name_its_waits() {
    let logs = testing::capture_logs().unwrap();
    let r: Result<(), _> = retry_runtime::presets::WEBHOOK
        .with_name("hooks.async")
        .retry(|| async { Err(crate::webhook::refused()) })
        .await;
    assert!(r.is_err());
    assert!(
        logs.contains("retrying hooks.async after attempt 3/4 failed; next attempt in 4s"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_the_workers_lines_are_not_captured() {
    let logs = testing::capture_logs().unwrap();
    // the test's own future runs on the test's thread: captured
    assert!(failing("awaited.multi").await.is_err());
    // a spawned task runs on a worker, which has no capture
    let on_worker = tokio::spawn(async {
        let worker = std::thread::current().id();
        (failing("spawned.multi").await, worker)
    });
    let (r, worker) = on_worker.await.unwrap();
    assert!(r.is_err());
    assert_ne!(worker, std::thread::current().id());
    assert!(
        logs.contains("awaited.multi failed after 3 attempts"),
        "{logs}"
    );
    assert!(!logs.contains("spawned.multi"), "{logs}");
    assert_eq!(logs.count(Level::WARN), 2, "{logs}");
}

/// A worker that captures its own lines sees them: the rule is the
/// thread's, whatever runs on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_captures_on_its_worker_sees_its_own_lines() {
    let seen = tokio::spawn(async {
        let logs = testing::capture_logs().unwrap();
        // (no await while it lives: the task could move to another worker)
        crate::webhook::webhook_fails("on.worker");
        logs.count(Level::WARN)
    })
    .await
    .unwrap();
    assert_eq!(seen, 3);
}
