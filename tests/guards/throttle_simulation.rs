//! The SRE book's overload scenario, simulated on a manual clock: a
//! dependency that accepts 10% of requests for 60s, then heals. Clients
//! offer 50 calls a second, each retried up to 3 attempts with no wait.
//! Compared: the calls that reach the dependency with and without an
//! adaptive throttle, and how soon traffic is back once it has healed.
//! The table (`cargo test --test guards throttle_simulation -- --nocapture`)
//! is in docs/hedging-and-throttling.md, "Adaptive throttling".

use std::time::Duration;

use retry_runtime::clock::ManualClock;
use retry_runtime::{testing, Backoff, Policy, Throttle};

const RATE: u64 = 50; // calls offered per second
const OUTAGE_S: u64 = 60;
const AFTER_S: u64 = 240;

#[derive(Debug, Default)]
struct Outcome {
    /// Attempts that reached the dependency during the outage.
    reached_in_outage: u64,
    /// Calls that succeeded during the outage.
    succeeded_in_outage: u64,
    /// Seconds after healing until 90% of a second's calls succeeded.
    recovered_after_s: Option<u64>,
    /// Calls that failed after the dependency healed.
    failed_after_heal: u64,
}

fn simulate(throttle: Option<&'static Throttle>, clock: &'static ManualClock) -> Outcome {
    let _paused = testing::pause();
    let base = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .with_name("search");
    let mut out = Outcome::default();
    let mut counter = 0u64;
    for second in 0..OUTAGE_S + AFTER_S {
        let healthy = second >= OUTAGE_S;
        let mut reached = 0;
        let mut succeeded = 0;
        for _ in 0..RATE {
            let op = || {
                reached += 1;
                counter += 1;
                // 1 in 10 accepted during the outage
                if healthy || counter % 10 == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::other("503 overloaded"))
                }
            };
            let r = match throttle {
                Some(t) => base.with_throttle(t).retry(op).call(),
                None => base.retry(op).call(),
            };
            succeeded += u64::from(r.is_ok());
            clock.advance(Duration::from_millis(1000 / RATE));
        }
        if healthy {
            out.failed_after_heal += RATE - succeeded;
            if succeeded * 10 >= RATE * 9 && out.recovered_after_s.is_none() {
                out.recovered_after_s = Some(second - OUTAGE_S);
            }
        } else {
            out.reached_in_outage += reached;
            out.succeeded_in_outage += succeeded;
        }
    }
    out
}

/// A throttle with the given window and cap, on a clock of its own.
fn throttle(window_s: u64, cap: f64) -> (&'static Throttle, &'static ManualClock) {
    let clock: &'static ManualClock = Box::leak(Box::new(ManualClock::new()));
    let throttle = Throttle::new("search")
        .with_window(Duration::from_secs(window_s))
        .with_max_probability(cap)
        .with_clock(clock);
    (Box::leak(Box::new(throttle)), clock)
}

const SEEDS: u64 = 5;

#[test]
fn the_throttle_sheds_load_in_an_outage_and_recovers_after_it() {
    let plain = simulate(None, Box::leak(Box::new(ManualClock::new())));
    let offered = RATE * OUTAGE_S;
    println!(
        "| {RATE} calls/s, 3 attempts each | attempts reaching the dependency in the 60s outage | calls succeeding in it | 90% of calls succeed again after healing | calls failed after healing |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| no throttle | {} ({:.2} per call) | {} of {offered} | {}s | {} |",
        plain.reached_in_outage,
        plain.reached_in_outage as f64 / offered as f64,
        plain.succeeded_in_outage,
        plain.recovered_after_s.unwrap_or(u64::MAX),
        plain.failed_after_heal,
    );
    // Without a throttle every call makes its 3 attempts, or stops at a success.
    assert!(plain.reached_in_outage >= offered * 24 / 10, "{plain:?}");
    assert_eq!(plain.recovered_after_s, Some(0), "{plain:?}");

    // (window, cap, the most seconds traffic may take to come back)
    let configs = [(30, 1.0, 8 * 30), (10, 1.0, 8 * 10), (30, 0.9, 2 * 30)];
    for (window_s, cap, bound_s) in configs {
        // the same seeds every run: the table and the checks repeat
        let runs: Vec<Outcome> = (1..=SEEDS)
            .map(|seed| {
                testing::seed(seed);
                let (t, clock) = throttle(window_s, cap);
                let out = simulate(Some(t), clock);
                // Nothing is throttled for good.
                assert_eq!(t.probability(), 0.0, "{window_s}s window, seed {seed}");
                out
            })
            .collect();
        let mean = |f: &dyn Fn(&Outcome) -> u64| runs.iter().map(f).sum::<u64>() / SEEDS;
        let back: Vec<u64> = runs
            .iter()
            .map(|o| o.recovered_after_s.expect("traffic never recovered"))
            .collect();
        let reached = mean(&|o| o.reached_in_outage);
        let cap_text = if cap < 1.0 {
            format!(", at most {:.0}% rejected", cap * 100.0)
        } else {
            String::new()
        };
        println!(
            "| throttle, K = 2, {window_s}s window{cap_text} | {reached} ({:.2} per call) | {} of {offered} | {}s ({}s..{}s over {SEEDS} seeds) | {} |",
            reached as f64 / offered as f64,
            mean(&|o| o.succeeded_in_outage),
            back.iter().sum::<u64>() / SEEDS,
            back.iter().min().unwrap(),
            back.iter().max().unwrap(),
            mean(&|o| o.failed_after_heal),
        );
        // The dependency sees a fraction of the load...
        assert!(reached * 4 < plain.reached_in_outage, "{runs:?}");
        // ...and traffic comes back once it has healed: uncapped, the accepts
        // grow by e every window / K from about the padding (8) to calls per
        // window / K (15s × ln(750 / 8) ≈ 68s, 5s × ln(250 / 8) ≈ 17s);
        // capped, from a tenth.
        assert!(
            back.iter().all(|&b| b <= bound_s),
            "{window_s}s, cap {cap}: {back:?}"
        );
    }
}
