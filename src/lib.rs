//! Root package: owns the workspace-level tests/ and examples/, and the
//! helpers they share:
//!
//! - [`flaky`]: a scriptable flaky HTTP server on `127.0.0.1` (per-route
//!   scripts of 503s, 429s with `Retry-After`, hangs, dropped connections;
//!   request counts and arrival times).
//! - [`jobs`]: a background-job queue persisted in SQLite whose retry
//!   schedule is computed by `retry_runtime::presets::JOB.decide(..)`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod flaky;
pub mod jobs;
