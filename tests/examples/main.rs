//! Runs every demo under `examples/` but `jitter_sim` in-process (without
//! its log subscriber), so a broken demo fails the test suite. Each demo's
//! `demo()` checks its own story (request counts, waits) and returns an
//! error if it did not happen; here it must succeed, well within 15 s. The
//! demos run in parallel, each against its own server (`hedging` simulates
//! one). `jitter_sim` (a simulation with no `demo()`) is not run here: its
//! own unit tests (`test = true` in the root Cargo.toml) check its table's
//! shape on 30 trials.

use std::future::Future;
use std::time::{Duration, Instant};

use testkit::demo::Outcome;

#[path = "../../examples/clip_download.rs"]
#[allow(dead_code)] // its `main`
mod clip_download;

#[path = "../../examples/webhook.rs"]
#[allow(dead_code)] // its `main`
mod webhook;

#[path = "../../examples/ai_provider.rs"]
#[allow(dead_code)] // its `main`
mod ai_provider;

#[path = "../../examples/collectors.rs"]
#[allow(dead_code)] // its `main`
mod collectors;
#[path = "../../examples/metrics.rs"]
#[allow(dead_code)] // its `main`
mod metrics;

#[path = "../../examples/sync_sensor.rs"]
#[allow(dead_code)] // its `main`
mod sync_sensor;

#[path = "../../examples/hedging.rs"]
#[allow(dead_code)] // its `main`
mod hedging;
// it holds examples/tower_client.rs as `axum_downstream::tower_client`
#[path = "../../examples/axum_downstream.rs"]
#[allow(dead_code)] // its `main`
mod axum_downstream;

#[path = "../../examples/reqwest_middleware.rs"]
#[allow(dead_code)] // its `main`
mod reqwest_middleware;

#[path = "../../examples/sdk_client.rs"]
#[allow(dead_code)] // its `main`
mod sdk_client;

#[path = "../../examples/tower_sdk.rs"]
#[allow(dead_code)] // its `main`
mod tower_sdk;

#[path = "../../examples/grpc.rs"]
#[allow(dead_code)] // its `main`
mod grpc;

#[path = "../../examples/reconnect.rs"]
#[allow(dead_code)] // its `main`
mod reconnect;

const LIMIT: Duration = Duration::from_secs(15);

/// Runs one demo's story and checks it ended in time.
fn within_limit(story: impl FnOnce() -> Outcome) {
    let started = Instant::now();
    story().unwrap();
    assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
}

/// Runs an async demo's story on a current-thread runtime of its own.
fn on_tokio(story: impl Future<Output = Outcome>) -> Outcome {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(story)
}

#[test]
fn the_clip_download_demo_tells_its_story() {
    within_limit(|| on_tokio(clip_download::demo()));
}

#[test]
fn the_webhook_demo_tells_its_story() {
    within_limit(|| on_tokio(webhook::demo()));
}

#[test]
fn the_metrics_demo_serves_and_scrapes_its_metrics() {
    within_limit(|| on_tokio(metrics::demo()));
}

#[test]
fn the_ai_provider_demo_tells_its_story() {
    within_limit(|| on_tokio(ai_provider::demo()));
}

#[test]
fn the_collectors_demo_tells_its_story() {
    within_limit(|| on_tokio(collectors::demo()));
}

/// A plain thread: `reqwest::blocking` panics inside an async runtime.
#[test]
fn the_sync_sensor_demo_tells_its_story() {
    within_limit(sync_sensor::demo);
}

/// The hedging simulation (on tokio's paused clock): hedging at the p95
/// latency cuts the p99 from the slow share's 1s to about twice the p95,
/// for about 5% more calls, and beats retrying on a per-attempt timeout.
#[test]
fn the_hedging_simulation_cuts_the_tail() {
    let rows = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(hedging::simulate());
    let [plain, timed_out, hedged] = &rows[..] else {
        panic!("three strategies: {rows:?}");
    };
    assert_eq!(plain.p99, Duration::from_secs(1), "{plain:?}");
    assert!(hedged.p99 < Duration::from_millis(45), "{hedged:?}");
    assert!(hedged.p999 < timed_out.p999, "{hedged:?} vs {timed_out:?}");
    assert!(hedged.calls_per_request < 1.1, "{hedged:?}");
    assert_eq!(hedged.failed, 0);
}

#[test]
fn the_tower_client_demo_tells_its_story() {
    within_limit(|| on_tokio(axum_downstream::tower_client::demo()));
}

#[test]
fn the_axum_downstream_demo_tells_its_story() {
    within_limit(|| on_tokio(axum_downstream::demo()));
}

#[test]
fn the_reqwest_middleware_demo_tells_its_story() {
    within_limit(|| on_tokio(reqwest_middleware::demo()));
}

#[test]
fn the_sdk_client_demo_tells_its_story() {
    within_limit(|| on_tokio(sdk_client::demo()));
}

#[test]
fn the_tower_sdk_demo_tells_its_story() {
    within_limit(|| on_tokio(tower_sdk::demo()));
}

#[test]
fn the_grpc_demo_tells_its_story() {
    within_limit(|| on_tokio(grpc::demo()));
}

#[test]
fn the_reconnect_demo_tells_its_story() {
    within_limit(|| on_tokio(reconnect::demo()));
}
