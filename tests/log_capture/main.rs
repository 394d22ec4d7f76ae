//! `testing::capture_logs` (feature `test-util`), in a test binary of its
//! own, as a user's would be: the first capture installs the global
//! subscriber every later one shares, and the tests run side by side on
//! their threads, some capturing, some not. One module per subject: what
//! a capture holds (`lines`), the same lines as values (`records`),
//! threads that capture their own lines beside threads that do not, and
//! callsites a thread without a capture reaches first (`threads`), tokio's
//! runtimes (`runtimes`), and a subscriber of the test's own beside it
//! (`own_subscriber`).

mod lines;
mod own_subscriber;
mod records;
mod runtimes;
mod threads;
mod webhook;
