//! Retries where services put them, each against a real server on
//! 127.0.0.1: the tower layer (a hyper-util client in a `ServiceBuilder`,
//! an axum handler calling a flaky downstream, a service that is not ready),
//! the reqwest-middleware middleware, and `#[retry]` on a tonic client call.
//!
//! Waits are real but short (50ms..2s): the paused clock and real sockets
//! do not mix (see `testkit::flaky`).

mod grpc;
mod reqwest_middleware;
mod tower;

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

// a sleeper that does not wait; under `testing::pause()` its waits are
// virtual (recorded, moving the run's clock)
use retry_runtime::testing::NoWait;
use retry_runtime::{GiveUpEvent, StopReason};
use testkit::metrics::Recorded;

/// A permanent error of the user's that says why, known only to a
/// layer's or a middleware's `with_classify` ([`gone`]).
#[derive(Debug, thiserror::Error)]
#[error("clip 7 is gone")]
struct Gone;

impl retry_runtime::Classify for Gone {
    fn kind(&self) -> retry_runtime::ErrorKind {
        retry_runtime::ErrorKind::Permanent
    }
    fn why_permanent(&self) -> Option<&'static str> {
        Some("the clip does not exist")
    }
}

/// `with_classify`'s finder of [`Gone`] in an error's chain.
fn gone<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn retry_runtime::Classify> {
    e.downcast_ref::<Gone>()
        .map(|g| g as &dyn retry_runtime::Classify)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Did the client wait `wait` before the request that made `gap`? At least
/// `wait` (give or take the clocks' 5ms); no upper bound, which a loaded
/// machine makes flaky: where a wait must be short, the test says how short
/// with a margin of seconds (see [`far_below`]).
fn waited(gap: Duration, wait: Duration) -> bool {
    gap + ms(5) >= wait
}

/// Is `gap` far below `longer`, the wait a broken retry would make (5s
/// and more here)? Below half of it: seconds of margin either way.
fn far_below(gap: Duration, longer: Duration) -> bool {
    gap < longer / 2
}

/// The give-up events `note_give_up` saw: operation, reason, attempts,
/// `max_attempts` (the tests run in parallel: each names its policy).
static GIVE_UPS: Mutex<Vec<(&str, StopReason, u32, u32)>> = Mutex::new(Vec::new());

/// An `on_give_up` hook that keeps what a user's alert would send.
fn note_give_up(ev: &GiveUpEvent<'_>) {
    GIVE_UPS
        .lock()
        .unwrap()
        .push((ev.operation, ev.reason, ev.attempts, ev.max_attempts));
}

/// The give-ups `note_give_up` saw for `operation`: reason, attempts,
/// `max_attempts`.
fn give_ups(operation: &str) -> Vec<(StopReason, u32, u32)> {
    GIVE_UPS
        .lock()
        .unwrap()
        .iter()
        .filter(|(op, ..)| *op == operation)
        .map(|&(_, reason, attempts, max)| (reason, attempts, max))
        .collect()
}

/// Runs `call` on a current-thread runtime of its own, with a metrics
/// recorder of this thread's (the server it starts runs there too): what
/// the runs recorded.
fn with_metrics(call: impl Future<Output = ()>) -> Recorded {
    retry_runtime::metrics::enable();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    testkit::metrics::record(|| runtime.block_on(call)).0
}

/// The one call of `operation` the metrics counted: its outcome's label.
fn outcome(recorded: &Recorded, operation: &str) -> Vec<&'static str> {
    retry_runtime::metrics::Outcome::ALL
        .iter()
        .map(|o| o.label())
        .filter(|&label| {
            let labels = [("operation", operation), ("outcome", label)];
            recorded.counter(retry_runtime::metrics::CALLS, &labels) > 0
        })
        .collect()
}

/// The lines of a run of `operation` (`max` attempts) whose first attempt
/// was refused and whose second reached the server, which answered
/// `status`: a WARN retry line naming the refused connection; then, for a
/// failed answer (503) of a request sent once for its method, the WARN
/// that says so, on attempt 2, and for a success no such line.
fn assert_refused_then_reached(
    logs: &testkit::capture::Captured,
    operation: &str,
    max: u32,
    status: u16,
) {
    use tracing::Level;
    let retried = logs.assert_logged(
        Level::WARN,
        &format!("retrying {operation} after attempt 1/{max}"),
    );
    assert!(
        retried.to_lowercase().contains("connection refused"),
        "{retried}"
    );
    if status == 503 {
        let line = logs.assert_logged(Level::WARN, &format!("{operation} not retried"));
        assert!(line.contains("its method is not idempotent"), "{line}");
        testkit::capture::assert_fields(
            &line,
            &[("attempt", "2"), ("max_attempts", &max.to_string())],
        );
    } else {
        logs.assert_not_logged("not retried");
    }
}

/// A server whose `/orders` answers `303 See Other` to a host that refuses
/// connections (POST/redirect/GET after the server applied the POST).
async fn redirecting_to_a_refused_host() -> testkit::flaky::FlakyServer {
    use testkit::flaky::{refused_url, FlakyServer, Reply};
    let server = FlakyServer::start().await;
    let location = refused_url("/orders/7");
    server.route(
        "/orders",
        [Reply::status(303).with_header("location", &location)],
    );
    server
}
