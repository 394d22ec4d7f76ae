//! Runs `examples/s3.rs`'s story: a broken demo fails CI.

use std::time::{Duration, Instant};

/// Starting moto takes a few seconds (more on a loaded machine, beside the
/// other tests' moto servers); the story's own waits are 1-2s. A limit for
/// a hang, not a timing check (the story checks its waits itself).
const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn the_s3_demo_tells_its_story() {
    let started = Instant::now();
    crate::s3_example::demo().await.unwrap();
    assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
}
