//! The traffic of the breaker and budget simulations, on tokio's paused
//! clock: `CLIENTS` clients each make one call a `PERIOD`, staggered, for
//! `SIMULATED`, against a dependency that answers after `LATENCY` and is down
//! from `DOWN_FROM` for `DOWN_FOR`.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

pub const CLIENTS: u64 = 10;
pub const PERIOD: Duration = Duration::from_secs(1);
pub const SIMULATED: Duration = Duration::from_secs(600);
pub const DOWN_FROM: Duration = Duration::from_secs(60);
pub const DOWN_FOR: Duration = Duration::from_secs(300);
/// The dependency answers after this long.
pub const LATENCY: Duration = Duration::from_millis(50);

/// Is the dependency down now, for a simulation started at `start`?
pub fn is_down(start: Instant) -> bool {
    let t = start.elapsed();
    t >= DOWN_FROM && t < DOWN_FROM + DOWN_FOR
}

/// Every client's loop, from `start` until `SIMULATED`: one `call()` a
/// `PERIOD`, client `c` of `CLIENTS` offset by `c / CLIENTS` of a period.
/// Returns when every client is done.
pub async fn run_clients<F, Fut>(start: Instant, call: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut next = start + PERIOD * c as u32 / CLIENTS as u32;
                while next - start < SIMULATED {
                    tokio::time::sleep_until(next).await;
                    call().await;
                    next += PERIOD;
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
}
