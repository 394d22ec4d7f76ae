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

use std::time::Duration;

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
