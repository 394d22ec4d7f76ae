//! The model of "Exponential Backoff And Jitter" (AWS Architecture Blog,
//! 2015), on a simulated clock, with this library's own backoff and jitter.
//!
//! N clients each make one optimistic-concurrency write to one shared row:
//! read the row's version, then write "if the version is still V". A write
//! that lost the race fails; the client waits as its strategy says, then
//! reads and tries again. Every network hop takes |Normal(10 ms, sd 2 ms)|.
//! Backoff base 5 ms, cap 2 s. 100 trials per cell; N = 10, 50, 100.
//!
//! Run: `cargo run --release --example jitter_sim` (a few seconds; nothing sleeps).
//! Prints, per N and strategy, the mean time until every client has written
//! and the mean number of write calls.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use retry_runtime::jitter::Rng;
use retry_runtime::{Backoff, Jitter};

const TRIALS: u64 = 100;
const BASE: Duration = Duration::from_millis(5);
const CAP: Duration = Duration::from_secs(2);

/// One strategy of the paper, as this library's types.
#[derive(Clone, Copy)]
struct Strategy {
    name: &'static str,
    backoff: Backoff,
    jitter: Jitter,
}

const STRATEGIES: [Strategy; 5] = [
    Strategy {
        name: "no backoff",
        backoff: Backoff::None,
        jitter: Jitter::None,
    },
    Strategy {
        name: "exponential",
        backoff: Backoff::exponential(BASE, CAP),
        jitter: Jitter::None,
    },
    Strategy {
        name: "equal jitter",
        backoff: Backoff::exponential(BASE, CAP),
        jitter: Jitter::Equal,
    },
    Strategy {
        name: "full jitter",
        backoff: Backoff::exponential(BASE, CAP),
        jitter: Jitter::Full,
    },
    Strategy {
        name: "decorrelated",
        backoff: Backoff::exponential(BASE, CAP),
        jitter: Jitter::Decorrelated,
    },
];

/// What happens at a point of simulated time (nanoseconds).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// The client's read reaches the row.
    ReadArrives { client: usize },
    /// The read's answer (the version seen) reaches the client, which sends its write.
    ReadAnswered { client: usize, version: u64 },
    /// The conditional write reaches the row.
    WriteArrives { client: usize, version: u64 },
    /// The write's answer reaches the client.
    WriteAnswered { client: usize, ok: bool },
}

/// The outcome of one trial.
struct Trial {
    /// Until the last client's write was acknowledged.
    completion: Duration,
    /// Conditional writes sent, by all clients.
    writes: u64,
}

fn hop(rng: &mut Rng) -> u64 {
    // Box-Muller; |Normal(10 ms, 2 ms)| in nanoseconds.
    let u1 = rng.next_f64().max(f64::MIN_POSITIVE);
    let u2 = rng.next_f64();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    ((10.0 + 2.0 * z).abs() * 1e6) as u64
}

fn run_trial(strategy: Strategy, clients: usize, seed: u64) -> Trial {
    let mut rng = Rng::with_seed(seed);
    let mut queue = BinaryHeap::new();
    let mut retries = vec![0u32; clients];
    let mut previous = vec![Duration::ZERO; clients];
    let mut row_version = 0u64;
    let (mut writes, mut done, mut last) = (0u64, 0usize, 0u64);

    for client in 0..clients {
        queue.push(Reverse((hop(&mut rng), Event::ReadArrives { client })));
    }
    while let Some(Reverse((now, event))) = queue.pop() {
        match event {
            Event::ReadArrives { client } => {
                let version = row_version;
                queue.push(Reverse((
                    now + hop(&mut rng),
                    Event::ReadAnswered { client, version },
                )));
            }
            Event::ReadAnswered { client, version } => {
                writes += 1;
                queue.push(Reverse((
                    now + hop(&mut rng),
                    Event::WriteArrives { client, version },
                )));
            }
            Event::WriteArrives { client, version } => {
                let ok = version == row_version;
                if ok {
                    row_version += 1;
                }
                queue.push(Reverse((
                    now + hop(&mut rng),
                    Event::WriteAnswered { client, ok },
                )));
            }
            Event::WriteAnswered { ok: true, .. } => {
                done += 1;
                last = last.max(now);
            }
            Event::WriteAnswered { client, ok: false } => {
                let base = strategy.backoff.delay(retries[client]);
                let wait =
                    strategy
                        .jitter
                        .apply(base, previous[client], &strategy.backoff, &mut rng);
                retries[client] += 1;
                previous[client] = wait;
                let start = now + wait.as_nanos() as u64;
                queue.push(Reverse((
                    start + hop(&mut rng),
                    Event::ReadArrives { client },
                )));
            }
        }
    }
    assert_eq!(done, clients, "every client eventually writes");
    Trial {
        completion: Duration::from_nanos(last),
        writes,
    }
}

fn main() {
    println!("| clients | strategy | mean completion | mean write calls |");
    println!("|---:|---|---:|---:|");
    for clients in [10, 50, 100] {
        for strategy in STRATEGIES {
            let (mut time, mut writes) = (0.0, 0u64);
            for trial in 0..TRIALS {
                let t = run_trial(strategy, clients, trial * 7919 + clients as u64);
                time += t.completion.as_secs_f64();
                writes += t.writes;
            }
            println!(
                "| {clients} | {} | {:.0} ms | {:.0} |",
                strategy.name,
                time / TRIALS as f64 * 1000.0,
                writes as f64 / TRIALS as f64
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(strategy: Strategy, clients: usize) -> (f64, f64) {
        let trials = 30;
        let (mut time, mut writes) = (0.0, 0.0);
        for seed in 0..trials {
            let t = run_trial(strategy, clients, seed);
            time += t.completion.as_secs_f64();
            writes += t.writes as f64;
        }
        (time / trials as f64, writes / trials as f64)
    }

    #[test]
    fn one_client_writes_once() {
        for s in STRATEGIES {
            assert_eq!(run_trial(s, 1, 3).writes, 1);
        }
    }

    #[test]
    fn the_papers_shape_holds_at_100_clients() {
        let (exp_time, exp_writes) = mean(STRATEGIES[1], 100);
        let (full_time, full_writes) = mean(STRATEGIES[3], 100);
        assert!(
            full_writes < exp_writes / 2.0,
            "full {full_writes} vs exponential {exp_writes}"
        );
        assert!(
            full_time < exp_time,
            "full {full_time}s vs exponential {exp_time}s"
        );
    }
}
