//! Runs `examples/clip_download.rs`, the README's main demo, so a broken demo
//! fails CI. The example checks its own story (hit counts per clip).

#[path = "../examples/clip_download.rs"]
#[allow(dead_code)] // its `main`
mod example;

#[tokio::test]
async fn the_clip_download_demo_tells_its_story() {
    let started = std::time::Instant::now();
    example::demo().await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
