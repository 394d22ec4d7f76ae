//! Story 000, "Implement Retry Logic with Exponential Backoff": failed clip
//! downloads retry up to 3 times waiting 1s, 2s, 4s (AC1), give `None` when
//! every attempt fails (AC2), return the path when a retry succeeds (AC3),
//! and fail at once on a 404 (AC4). `examples/clip_download.rs` tells it
//! against a real flaky server.

mod attribute;
mod functional;
