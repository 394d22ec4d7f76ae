//! `testing::capture_logs` (feature `test-util`), in a test binary of its
//! own, as a user's would be: the first capture installs the global
//! subscriber every later one shares, and the tests run side by side on
//! their threads, some capturing, some not. One module per subject: what
//! a capture holds (`lines`), threads that capture their own lines beside
//! threads that do not, and callsites a thread without a capture reaches
//! first (`threads`), tokio's runtimes (`runtimes`), and a subscriber of
//! the test's own beside it (`own_subscriber`).

use retry_runtime::{presets, testing};

mod lines;
mod own_subscriber;
mod runtimes;
mod threads;

/// A refused connection, which the presets retry.
fn refused() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
}

/// A failing WEBHOOK call (4 attempts, waits 1s, 2s, 4s) named `name`,
/// under a paused clock: 3 WARN lines and an ERROR one.
fn webhook_fails(name: &'static str) {
    let _paused = testing::pause();
    let r: Result<(), _> = presets::WEBHOOK
        .with_name(name)
        .retry(|| Err(refused()))
        .call();
    assert!(r.is_err());
}
