//! Retries over real HTTP on 127.0.0.1: the flaky test server itself, and
//! reqwest's async and blocking clients classified by the runtime.

mod batch;
mod fetch_error;
mod flaky_server;
mod reqwest_async;
mod reqwest_blocking;
