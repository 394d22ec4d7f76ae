//! Presets through the pure decision function `Policy::decide` (what a job
//! queue that persists `next_retry_at` calls) and through the executors.

use std::time::Duration;

use retry_runtime::{presets, testing, Classify, Decision, ErrorKind, StopReason};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// An error of a given kind, with an optional Retry-After hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct Failure(ErrorKind, Option<Duration>);

impl Classify for Failure {
    fn kind(&self) -> ErrorKind {
        self.0
    }
    fn retry_after(&self) -> Option<Duration> {
        self.1
    }
}

#[test]
fn job_waits_30s_120s_480s_within_25_percent_then_gives_up() {
    for kind in [
        ErrorKind::Timeout,
        ErrorKind::Unavailable,
        ErrorKind::Interrupted,
        ErrorKind::Unknown,
    ] {
        let error = Failure(kind, None);
        for (retries_done, base) in [(0u32, s(30)), (1, s(120)), (2, s(480))] {
            let (mut lo, mut hi) = (Duration::MAX, Duration::ZERO);
            for _ in 0..500 {
                let Decision::Retry { wait, .. } = presets::JOB.decide(retries_done, &error) else {
                    panic!("{kind}: retry {retries_done} was not retried");
                };
                assert!(
                    wait >= base && wait <= base * 5 / 4,
                    "{kind}: {wait:?} for {base:?}"
                );
                lo = lo.min(wait);
                hi = hi.max(wait);
            }
            // jittered: the samples spread over most of the 25% band
            assert!(hi - lo > base / 8, "{kind}: {lo:?}..{hi:?} for {base:?}");
        }
        assert_eq!(
            presets::JOB.decide(3, &error),
            Decision::give_up(StopReason::Attempts),
            "{kind}"
        );
    }
}

#[test]
fn job_gives_up_on_a_permanent_error_at_once() {
    let permanent = Failure(ErrorKind::Permanent, None);
    for retries_done in 0..4 {
        assert_eq!(
            presets::JOB.decide(retries_done, &permanent),
            Decision::give_up(StopReason::Permanent)
        );
    }
}

#[test]
fn every_preset_by_name_never_retries_permanent() {
    assert_eq!(presets::NAMES.len(), 10);
    for name in presets::NAMES {
        let p = presets::by_name(name).unwrap_or_else(|| panic!("{name} is listed but unknown"));
        assert_eq!(p.name(), name);
        let max = p.stop().max_attempts();
        assert!(max >= 2, "{name}");
        for hint in [None, Some(s(1))] {
            let permanent = Failure(ErrorKind::Permanent, hint);
            for retries_done in 0..max {
                assert_eq!(
                    p.decide(retries_done, &permanent),
                    Decision::give_up(StopReason::Permanent),
                    "{name} retries a Permanent error"
                );
            }
            // and through the executor: one call, no wait
            let paused = testing::pause();
            let mut calls = 0;
            let out = p
                .retry(|| {
                    calls += 1;
                    Err::<(), _>(permanent)
                })
                .call();
            assert_eq!(out, Err(permanent), "{name}");
            assert_eq!(calls, 1, "{name}");
            assert!(paused.waits().is_empty(), "{name}");
        }
        // while the transient kinds are retried
        for kind in [
            ErrorKind::Timeout,
            ErrorKind::Connect,
            ErrorKind::RateLimited,
            ErrorKind::Unavailable,
        ] {
            assert!(
                matches!(p.decide(0, &Failure(kind, None)), Decision::Retry { .. }),
                "{name} does not retry {kind}"
            );
        }
    }
    assert!(presets::by_name("webhok").is_none());
    assert!(presets::by_name("").is_none());
}

#[tokio::test(start_paused = true)]
async fn every_preset_never_retries_permanent_async() {
    for name in presets::NAMES {
        let p = presets::by_name(name).unwrap();
        let start = tokio::time::Instant::now();
        let mut calls = 0;
        let out = p
            .retry(|| {
                calls += 1;
                async { Err::<(), _>(Failure(ErrorKind::Permanent, None)) }
            })
            .await;
        assert!(out.is_err(), "{name}");
        assert_eq!(calls, 1, "{name}");
        assert_eq!(start.elapsed(), Duration::ZERO, "{name}");
    }
}

#[test]
fn webhook_preset_waits_1s_2s_4s() {
    let paused = testing::pause();
    let mut calls = 0;
    let out = presets::WEBHOOK
        .retry(|| {
            calls += 1;
            Err::<(), _>(Failure(ErrorKind::Connect, None))
        })
        .call();
    assert!(out.is_err());
    assert_eq!(calls, 4);
    assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
}

/// `Policy::decide_with` draws the jitter from the generator it is given:
/// a decision made on another thread (a multi-thread runtime's worker,
/// which `testing::seed` on the test's thread does not reach) repeats the
/// test thread's for the same seed.
#[test]
fn decide_with_repeats_across_threads_for_one_seed() {
    use retry_runtime::jitter::Rng;
    let error = std::io::Error::from(std::io::ErrorKind::TimedOut);
    let here: Vec<_> = (0..3)
        .map(|n| {
            presets::JOB.decide_with(
                n,
                Duration::ZERO,
                &error,
                &mut Rng::with_seed(42 + u64::from(n)),
            )
        })
        .collect();
    let there = std::thread::spawn(move || {
        let error = std::io::Error::from(std::io::ErrorKind::TimedOut);
        (0..3)
            .map(|n| {
                presets::JOB.decide_with(
                    n,
                    Duration::ZERO,
                    &error,
                    &mut Rng::with_seed(42 + u64::from(n)),
                )
            })
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    assert_eq!(here, there);
    assert!(
        here.iter()
            .all(|d| matches!(d, retry_runtime::Decision::Retry { .. })),
        "{here:?}"
    );
}
