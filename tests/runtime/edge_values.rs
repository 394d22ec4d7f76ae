//! The edge values that the `policy` fuzz target mixes into its inputs and
//! that `fuzz_regressions` sweeps: one list, so that what the fuzzer covers
//! stays covered by `cargo test`. `fuzz/fuzz_targets/policy.rs` includes this
//! file by its path.

use std::time::Duration;

/// Durations: zero, one nanosecond, around a second, and the top of the range.
pub const DURATIONS: [Duration; 9] = [
    Duration::ZERO,
    Duration::from_nanos(1),
    Duration::from_nanos(999_999_999),
    Duration::from_secs(1),
    Duration::from_nanos(u64::MAX),
    Duration::new(u64::MAX / 3, 0),
    Duration::new(u64::MAX, 0),
    Duration::new(u64::MAX, 999_999_998),
    Duration::MAX,
];

/// Exponential factors: not numbers, infinite, negative, below, at and just
/// above one, and the ends of the range.
pub const FACTORS: [f64; 15] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    -1.0,
    1.0,
    1.0 + f64::EPSILON,
    1.0 - f64::EPSILON / 2.0,
    1.5,
    2.0,
    1e308,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
];
