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

/// Is `gap` the wait `wait`, give or take what a request takes on a loaded
/// machine (at least `wait`, less than `wait` + 400ms)?
fn waited(gap: Duration, wait: Duration) -> bool {
    gap + ms(5) >= wait && gap < wait + ms(400)
}
