//! Helpers for tests: check the waits of a retry without waiting
//! ([`pause`], and [`NoWait`] for an async run where tokio's paused clock
//! does not serve), repeat its jitter from run to run ([`seed`]), and read
//! the log lines it wrote
#![cfg_attr(
    feature = "test-util",
    doc = "([`capture_logs`], feature `test-util`)."
)]
#![cfg_attr(
    not(feature = "test-util"),
    doc = "(`capture_logs`, feature `test-util`)."
)]
//!
//! # Waits
//!
//! [`pause`] returns a guard; while it lives, on this thread:
//! - sync retries do not sleep: each wait is recorded and advances a virtual
//!   clock that the sync executor's `max_elapsed` check reads (a sleeper
//!   given with `.sleep_with(..)` is still called, as outside the guard:
//!   one that returns at once moves no clock);
//! - async retries record their waits too. On tokio's timer they still
//!   sleep: combine with `tokio::time::pause()`, or
//!   `#[tokio::test(start_paused = true)]`, on a current-thread runtime so
//!   the task stays on this thread. On this library's other timers (the
//!   `smol` and `futures-timer` features, also beside `tokio` for a future
//!   run outside a tokio runtime) they do not sleep: each wait ends on
//!   the virtual clock, and the waits of runs going at once on this
//!   thread (`join!`, the tasks of a `LocalExecutor`) end in the order of
//!   their deadlines, side by side as on tokio's paused clock. A wait
//!   first yields (the executor polls its other ready tasks once), then
//!   the run whose wait ends first goes on: less than tokio's paused
//!   clock, which moves only when every task is idle, so a task that
//!   waits on something else (a socket, a channel) does not hold the
//!   clock back, and one that needs several polls to act during a wait,
//!   or a signal on the real timer, sees more attempts go by than the
//!   program would make. A sleeper of yours (`SleepFn`) is still awaited
//!   (one whose waits are virtual with a `sleep_virtual` of its own moves
//!   the clock at once by each whole wait: runs at once on it see each
//!   other's waits), and a per-attempt `timeout` and every wait of a run
//!   with a hedge delay (its attempts race them in real time) run on the
//!   real timer, recorded.
//!
//! The virtual clock is not tokio's: a virtual wait does not move
//! `tokio::time::Instant`, so code that waits on tokio's timer beside the
//! run (a stub server's recovery, a `tokio::time::timeout` around it) sees
//! none of them.
//!
//! The guard sees this thread only. A retry in a task spawned on a
//! multi-thread runtime, in `spawn_blocking` or on a thread of its own
//! runs on a thread that is not paused: its waits are real and are not
//! recorded ([`Paused::waits`] stays empty, so an assertion that nothing
//! was retried passes whatever the run did), and [`seed`] does not reach
//! its jitter. Count such waits with a per-call hook
//! ([`Retry::notify`](crate::Retry::notify)), a closure that runs on any
//! thread and can hold the test's own counter, or test on a current-thread
//! runtime, whose spawned tasks run on the test's thread.
//! [`Policy::with_before_sleep`](crate::Policy::with_before_sleep) runs on
//! any thread too, but it is a `fn`: it can only write to a `static`,
//! which every test of the binary shares while they run in parallel. Key
//! what it records by [`RetryEvent::operation`](crate::RetryEvent::operation)
//! and give each test's policy its own
//! [`with_name`](crate::Policy::with_name), or run such tests under
//! `cargo nextest` (a process per test).
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{presets, testing};
//! let paused = testing::pause();
//! let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
//! let r: Result<(), _> = presets::WEBHOOK.retry(|| Err(refused())).call();
//! assert!(r.is_err());
//! let s = Duration::from_secs;
//! assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
//! ```
//!
//! # Log lines
//!
//! With the feature `test-util` (meant for `[dev-dependencies]`),
#![cfg_attr(
    feature = "test-util",
    doc = "[`capture_logs`] collects this thread's log lines as a `tracing`
subscriber's text format writes them, the runtime's and the test's
own, and each as its event's values, a [`Record`] (level, target,
message, fields by name; [`SpanRecord`], the spans it was logged in):
see [`CapturedLogs`] for what a capture holds, which thread's
lines, and what it needs of the test binary; [`capture_layer`], for a
test binary that sets a global subscriber of its own, is the capture as
a layer of it."
)]
#![cfg_attr(
    not(feature = "test-util"),
    doc = "`capture_logs` collects this thread's log lines as a `tracing`
subscriber's text format writes them, the runtime's and the test's
own, and each as its event's values (a `Record`: level, target,
message, fields by name), into a `CapturedLogs` (`capture_layer`: the same beside a global
subscriber of the test binary's own). (These docs were built without the feature,
so neither is in them: `cargo doc --open --features retry-runtime/test-util`
in a project that has retry-runtime in its `[dependencies]` builds them
with it; docs/testing.md, \"The log lines\", says the rest.)"
)]
//! The same per-thread rule
//! as [`pause`]'s: a retry on another thread (a multi-thread runtime's
//! worker) logs where this thread's capture does not see it.

#[cfg(feature = "test-util")]
mod logs;
mod no_wait;
mod paused;
#[cfg(feature = "test-util")]
mod record;
mod seeded;

#[cfg(feature = "test-util")]
pub use logs::{CaptureError, CapturedLogs, capture_layer, capture_logs};
pub use no_wait::NoWait;
pub use paused::{Paused, is_paused, pause};
#[cfg(feature = "test-util")]
pub use record::{Record, SpanRecord};
pub use seeded::seed;
