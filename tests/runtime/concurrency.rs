//! One `static` and one `const` policy shared by 8 threads, each doing sync
//! retries under its own `testing::pause()`: waits, virtual clocks and
//! jitter state are per thread and never leak between threads.

use std::sync::Barrier;
use std::time::Duration;

use retry_runtime::{
    kinds, presets, testing, Backoff, Classify, ErrorKind, Policy, RetryOn, StopReason,
};

const THREADS: usize = 8;
const ROUNDS: u32 = 50;

const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The clip policy, as a `const`...
const CLIP: Policy<RetryOn> = Policy::new()
    .with_max_attempts(4)
    .with_backoff(Backoff::exponential(s(1), s(4)))
    .with_name("shared")
    .retry_on(kinds![Timeout | Connect])
    .checked();

/// ...and as a `static`, one value shared by every thread.
static SHARED: Policy<RetryOn> = CLIP;

/// Deadline 10s, waits 1s, 2s, 4s, 8s: gives up after the 4th call, at 7s.
const WITH_DEADLINE: Policy<RetryOn> = CLIP
    .with_max_attempts(100)
    .with_max_elapsed(Duration::from_secs(10))
    .checked();

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} on thread {thread}, call {call}")]
struct Failure {
    kind: ErrorKind,
    thread: usize,
    call: u32,
}

impl Classify for Failure {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

fn one_thread(thread: usize) {
    let fail = |kind, call| Failure { kind, thread, call };
    for round in 0..ROUNDS {
        let paused = testing::pause();
        let mut calls = 0;
        match (thread + round as usize) % 4 {
            0 => {
                let out = SHARED
                    .retry(|| {
                        calls += 1;
                        if calls < 3 {
                            Err(fail(ErrorKind::Timeout, calls))
                        } else {
                            Ok(thread)
                        }
                    })
                    .call();
                assert_eq!(out, Ok(thread));
                assert_eq!(paused.waits(), [s(1), s(2)]);
            }
            1 => {
                let out = SHARED
                    .retry(|| {
                        calls += 1;
                        Err::<(), _>(fail(ErrorKind::Connect, calls))
                    })
                    .call();
                assert_eq!(out, Err(fail(ErrorKind::Connect, 4)));
                assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
            }
            2 => {
                let e = WITH_DEADLINE
                    .retry(|| {
                        calls += 1;
                        Err::<(), _>(fail(ErrorKind::Timeout, calls))
                    })
                    .detailed()
                    .call()
                    .unwrap_err();
                assert_eq!((e.reason, e.attempts), (StopReason::Deadline, 4));
                assert_eq!(paused.waits(), [s(1), s(2), s(4)]);
                assert!(e.elapsed >= s(7) && e.elapsed < s(8), "{:?}", e.elapsed);
            }
            _ => {
                // full jitter: each wait within [0, backoff]
                let out = presets::STANDARD
                    .retry(|| {
                        calls += 1;
                        Err::<(), _>(fail(ErrorKind::Unavailable, calls))
                    })
                    .call();
                assert_eq!(out, Err(fail(ErrorKind::Unavailable, 3)));
                let waits = paused.waits();
                assert_eq!(waits.len(), 2);
                assert!(waits[0] <= s(1) && waits[1] <= s(2), "{waits:?}");
            }
        }
        assert_eq!(calls, paused.waits().len() as u32 + 1);
    }
}

#[test]
fn eight_threads_share_one_policy() {
    let start = Barrier::new(THREADS);
    // 8 threads x 50 rounds x up to 7s of waits, all virtual: each thread
    // checks the waits its own pause recorded, and its virtual clock
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let start = &start;
            scope.spawn(move || {
                start.wait();
                one_thread(thread);
            });
        }
    });
}

#[test]
fn pause_on_one_thread_does_not_make_another_threads_sleeps_virtual() {
    let paused_elsewhere = Barrier::new(2);
    let done_here = Barrier::new(2);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let paused = testing::pause();
            paused_elsewhere.wait();
            done_here.wait();
            assert!(paused.waits().is_empty(), "recorded another thread's waits");
        });
        paused_elsewhere.wait();
        // this thread is not paused: its 20ms wait is real
        let real = std::time::Instant::now();
        let quick = CLIP
            .with_backoff(Backoff::fixed(Duration::from_millis(20)))
            .with_max_attempts(2);
        let out = quick
            .retry(|| {
                Err::<(), _>(Failure {
                    kind: ErrorKind::Timeout,
                    thread: 0,
                    call: 1,
                })
            })
            .call();
        assert!(out.is_err());
        assert!(
            real.elapsed() >= Duration::from_millis(20),
            "{:?}",
            real.elapsed()
        );
        done_here.wait();
    });
}
