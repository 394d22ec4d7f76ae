//! What the tests and demos of the retry workspace share (not published):
//!
//! - [`flaky`]: a scriptable flaky HTTP server on `127.0.0.1` (per-route
//!   scripts of 503s, 429s with `Retry-After`, hangs, dropped connections;
//!   request counts and arrival times).
//! - [`capture`]: `tracing` events captured as lines, to assert log lines.
//! - [`alloc`]: a counting global allocator.
//! - [`metrics`]: what runs recorded on the `metrics` facade.
//! - [`calls`]: attempt closures that tests write again and again.
//! - [`demo`]: the demos' log format and self-checks.
//! - `pg` (feature `pg`): a real PostgreSQL for tests, from `scripts/pg-cluster`,
//!   and a PgBouncer in front of it, from `scripts/pgbouncer`.
//! - [`s3`]: moto's S3 server on `127.0.0.1`, started through `scripts/s3-server`.
//! - [`written`]: an in-memory writer for a test's own subscriber or logger.

#![deny(missing_docs)]

pub mod alloc;
pub mod calls;
pub mod capture;
pub mod demo;
pub mod flaky;
pub mod metrics;
#[cfg(feature = "pg")]
pub mod pg;
pub mod s3;
pub mod written;
