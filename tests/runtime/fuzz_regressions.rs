//! Regression tests from fuzzing the runtime's policy (`fuzz/`, see
//! FUZZING.md): each finding, minimized, and a sweep of the edge values the
//! `policy` target mixes into its inputs, checked with the same properties,
//! so that what the fuzzer covers stays covered by `cargo test`.
//!
//! Findings so far (runs listed in FUZZING.md):
//! - an infinite exponential factor passed `Policy::build` (found once the
//!   target's oracle required the factor to be finite, as the DSL does);
//!   `Backoff::validate` rejects it since af00697.

use std::time::Duration;

use retry_runtime::{Backoff, Decision, Jitter, Policy, PolicyError, StopReason};

use crate::edge_values::{DURATIONS, FACTORS};

/// The fuzzer's minimized input: `exp(38.807s, 38.807s)` with factor `inf`.
/// The macro's DSL rejects an infinite factor, and a config string `"inf"`
/// or `"1e309"` parses to one; `build()` should reject it too.
#[test]
fn infinite_factor_is_rejected_by_build() {
    let first = Duration::from_millis(38_807);
    let b = Backoff::exponential(first, first).with_factor(f64::INFINITY);
    assert_eq!(b.validate(), Err(PolicyError::FactorBelowOne));
    assert_eq!(
        Policy::new().with_backoff(b).build().unwrap_err(),
        PolicyError::FactorBelowOne
    );
}

const RETRIES: [u32; 8] = [0, 1, 2, 3, 63, 64, u32::MAX - 1, u32::MAX];

/// Every backoff the edge values make: fixed, linear, exponential, fibonacci.
fn backoffs() -> Vec<Backoff> {
    let mut all = vec![Backoff::None];
    for a in DURATIONS {
        all.push(Backoff::fixed(a));
        for b in DURATIONS {
            all.push(Backoff::fibonacci(a, b));
            all.push(Backoff::linear(a, a, b));
            all.push(Backoff::linear(a, b, b));
            for f in FACTORS {
                all.push(Backoff::exponential(a, b).with_factor(f));
            }
        }
    }
    all
}

fn jitters() -> [Jitter; 8] {
    [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
        Jitter::Plus(Duration::from_nanos(1)),
        Jitter::Plus(Duration::MAX),
        Jitter::Proportional(1000),
        Jitter::Proportional(u32::MAX),
    ]
}

#[test]
fn edge_backoffs_validate_and_bound_their_delays() {
    for b in backoffs() {
        let factor_ok = match b {
            Backoff::Exponential { factor, .. } => factor.is_finite() && factor >= 1.0,
            _ => true,
        };
        let all_zero = match b {
            Backoff::Exponential { first, .. } | Backoff::Fibonacci { first, .. } => {
                first.is_zero()
            }
            Backoff::Linear { start, step, .. } => start.is_zero() && step.is_zero(),
            _ => false,
        };
        let valid = b.validate().is_ok();
        assert_eq!(
            valid,
            factor_ok && !all_zero && b.first() <= b.cap(),
            "{b:?}"
        );
        assert_eq!(
            Policy::new().with_backoff(b).build().is_ok(),
            valid,
            "{b:?}"
        );
        let top = b.cap().max(b.first());
        let mut previous = None;
        for r in RETRIES {
            let d = b.delay(r);
            assert!(d <= top, "{b:?}: delay({r}) = {d:?}");
            if valid {
                assert!(b.first() <= d && d <= b.cap(), "{b:?}: delay({r}) = {d:?}");
                if let Some(p) = previous {
                    assert!(p <= d, "{b:?}: shrank to {d:?} at {r}");
                }
            }
            previous = Some(d);
        }
    }
}

#[test]
fn edge_policies_decide_within_bounds() {
    for b in backoffs() {
        for j in jitters() {
            for attempts in [0, 1, 2, 64, u32::MAX] {
                let p = Policy::new()
                    .with_max_attempts(attempts)
                    .with_backoff(b)
                    .with_jitter(j);
                let limit = attempts.max(1);
                for r in RETRIES {
                    let made = r.saturating_add(1);
                    match p.decide(r, &"e") {
                        Decision::Retry { wait, .. } => {
                            assert!(made < limit, "{p:?}: retry after {made} of {limit}");
                            let previous = if r == 0 {
                                Duration::ZERO
                            } else {
                                b.delay(r - 1)
                            };
                            let (lo, hi) = j.bounds(b.delay(r), previous, &b);
                            assert!(lo <= wait && wait <= hi, "{p:?} at {r}: {wait:?}");
                        }
                        Decision::GiveUp { reason, .. } => {
                            assert_eq!(reason, StopReason::Attempts, "{p:?} at {r}");
                            assert!(made >= limit, "{p:?}: gave up after {made} of {limit}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn edge_deadlines_are_never_passed() {
    let b = Backoff::exponential(Duration::from_nanos(1), Duration::MAX);
    for limit in DURATIONS {
        for elapsed in DURATIONS {
            let p = Policy::new()
                .with_max_attempts(u32::MAX)
                .with_backoff(b)
                .with_max_elapsed(limit);
            for r in RETRIES {
                match p.decide_at(r, elapsed, &"e") {
                    Decision::Retry { wait, .. } => {
                        assert!(
                            elapsed.saturating_add(wait) < limit,
                            "{limit:?} {elapsed:?} {r}"
                        )
                    }
                    Decision::GiveUp { reason, .. } => assert!(
                        matches!(reason, StopReason::Deadline | StopReason::Attempts),
                        "{reason:?}"
                    ),
                }
            }
        }
    }
}
