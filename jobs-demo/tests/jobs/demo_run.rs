//! Runs `examples/jobs.rs` (without its log subscriber), so a broken example
//! fails the test suite: it checks itself that every job finished and that
//! the server saw exactly one request per run.

#[path = "../../examples/jobs.rs"]
#[allow(dead_code)] // its `main`
mod jobs_demo;

#[tokio::test]
async fn the_jobs_example_runs_to_the_end() {
    let started = std::time::Instant::now();
    jobs_demo::demo().await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
