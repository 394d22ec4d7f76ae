//! Retries over real HTTP on 127.0.0.1: the flaky test server itself, and
//! reqwest's async and blocking clients classified by the runtime; a download
//! resumed in byte ranges; a gateway failing over between providers; a token shared by many tasks.

mod batch;
mod failover;
mod fetch_error;
mod flaky_server;
mod ranged_server;
mod recipe_copy;
mod reqwest_async;
mod reqwest_blocking;
mod resume;
mod token;
