//! Threads side by side, some capturing and some not: each capture holds
//! its own thread's lines, all of them, and nothing of the others'; and a
//! callsite that a thread without a capture reaches first (the one
//! `tracing` caches its interest at) still reaches a capture after it.
//! Both repeated, so that an order that loses a line shows up.

use std::sync::Barrier;
use std::thread;

use retry_runtime::testing;
use tracing::Level;

/// Threads that capture, and as many that do not, in each round.
const THREADS: usize = 6;
const ROUNDS: usize = 20;

/// Each capturing thread's runs, named by its thread and round, alone in
/// its capture; the threads beside it, without one, make the same calls,
/// from the moment they start (while the first capture of the binary may
/// be installing its subscriber, when this test runs first).
#[test]
fn threads_side_by_side_each_capture_their_own_lines() {
    for round in 0..ROUNDS {
        let start = Barrier::new(THREADS);
        thread::scope(|s| {
            for t in 0..THREADS {
                let start = &start;
                s.spawn(move || {
                    let name: &'static str = format!("capturing.{round}.{t}").leak();
                    let logs = testing::capture_logs().unwrap();
                    start.wait();
                    tracing::info!(target: "mine", name, "before the call");
                    crate::webhook::webhook_fails(name);
                    let lines = logs.lines();
                    assert_eq!(lines.len(), 5, "{logs}");
                    assert_eq!(
                        lines[0],
                        format!("INFO mine: before the call name=\"{name}\"")
                    );
                    assert_eq!(logs.count(Level::WARN), 3, "{logs}");
                    assert_eq!(logs.count(Level::ERROR), 1, "{logs}");
                    let own = format!("operation=\"{name}\" ");
                    assert!(lines[1..].iter().all(|l| l.contains(&own)), "{logs}");
                });
                s.spawn(move || {
                    let name: &'static str = format!("quiet.{round}.{t}").leak();
                    tracing::info!(target: "mine", name, "before the call");
                    crate::webhook::webhook_fails(name);
                });
            }
        });
    }
}

/// One function per callsite: `log_through(n, ..)` logs through the
/// callsite numbered `n`, which nothing else reaches, so each is reached
/// for the first time in the round that uses it.
macro_rules! callsites {
    ($($n:literal)*) => {
        fn log_through(n: usize, tag: &str) {
            match n {
                $($n => tracing::warn!(target: "fresh", tag, "callsite {}", $n),)*
                _ => unreachable!("no callsite {n}"),
            }
        }
        const CALLSITES: usize = [$($n),*].len();
    };
}

callsites!(
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29
    30 31 32 33 34 35 36 37 38 39
);

/// tracing caches whether a callsite is wanted when a thread first
/// reaches it; with a subscriber per test (`set_default`), a thread
/// without one that got there first cached "never", and the capture that
/// came after lost its line. Here each round's callsite is reached first
/// by threads without a capture (all at once), then by a thread with one,
/// which must see its line; and by threads capturing at the same moment.
#[test]
fn a_callsite_reached_first_by_threads_without_a_capture_still_reaches_a_capture() {
    for n in 0..CALLSITES {
        let reached = Barrier::new(THREADS + 1);
        let quiet_first = Barrier::new(THREADS + 1);
        thread::scope(|s| {
            for _ in 0..THREADS {
                let (reached, quiet_first) = (&reached, &quiet_first);
                s.spawn(move || {
                    // every quiet thread at once: the first to register the
                    // callsite is any of them
                    reached.wait();
                    log_through(n, "quiet");
                    quiet_first.wait();
                });
            }
            let logs = testing::capture_logs().unwrap();
            reached.wait();
            quiet_first.wait();
            log_through(n, "captured");
            assert_eq!(
                logs.lines(),
                [format!("WARN fresh: callsite {n} tag=\"captured\"")],
                "callsite {n}"
            );
        });
    }
}
