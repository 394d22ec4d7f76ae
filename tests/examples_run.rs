//! Runs the `webhook`, `ai_provider` and `sync_sensor` examples (without
//! their log subscribers), so a broken example fails the test suite. Each
//! `demo()` checks its own story (request counts, waits) and returns an
//! error if it did not happen; here it must succeed, well within 15 s.

use std::time::{Duration, Instant};

#[path = "../examples/webhook.rs"]
#[allow(dead_code)] // its `main`
mod webhook;

#[path = "../examples/ai_provider.rs"]
#[allow(dead_code)] // its `main`
mod ai_provider;

#[path = "../examples/sync_sensor.rs"]
#[allow(dead_code)] // its `main`
mod sync_sensor;

const LIMIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn the_webhook_example_runs_to_the_end() {
    let started = Instant::now();
    webhook::demo().await.unwrap();
    assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
}

#[tokio::test]
async fn the_ai_provider_example_runs_to_the_end() {
    let started = Instant::now();
    ai_provider::demo().await.unwrap();
    assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
}

/// A plain test: `reqwest::blocking` panics inside an async runtime.
#[test]
fn the_sync_sensor_example_runs_to_the_end() {
    let started = Instant::now();
    sync_sensor::demo().unwrap();
    assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
}
