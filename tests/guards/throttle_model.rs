//! The adaptive throttle against a model of its documented rules: random
//! settings and sequences of calls (ask, record an outcome), clock moves
//! and resets, on one thread. After every step its counts over the
//! window, its probability and its counters must be the model's, and its
//! answer one the model allows: never a rejection at probability 0, always
//! one at 1, and a rejection counted as a request not accepted.
//!
//! The model keeps every count with its bucket's number (the window is
//! ten buckets of a tenth of it, rounded down to whole milliseconds) and
//! sums the last ten, where the throttle keeps one packed word per bucket
//! and tells a stale one by its epoch.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use retry_runtime::clock::ManualClock;
use retry_runtime::throttle::ThrottleStats;
use retry_runtime::Throttle;

use crate::leak;

#[derive(Clone, Copy, Debug)]
struct Settings {
    k: f64,
    padding: f64,
    max_probability: f64,
    window_ms: u64,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    /// `try_acquire`, then, if let through and `Some`, the call's outcome
    /// recorded (accepted or not); `None`: the call is dropped unrecorded.
    Call(Option<bool>),
    /// `record` alone (a loop of one's own that only keeps statistics).
    Record(bool),
    Advance(u64),
    Reset,
}

struct Model {
    s: Settings,
    bucket_ms: u64,
    now: u64,
    /// (requests, accepts) by bucket number
    buckets: BTreeMap<u64, (u64, u64)>,
    admitted: u64,
    rejected: u64,
}

impl Model {
    fn new(s: Settings) -> Model {
        Model {
            s,
            bucket_ms: (s.window_ms / 10).max(1),
            now: 0,
            buckets: BTreeMap::new(),
            admitted: 0,
            rejected: 0,
        }
    }

    fn epoch(&self) -> u64 {
        self.now / self.bucket_ms
    }

    fn add(&mut self, requests: u64, accepts: u64) {
        let counts = self.buckets.entry(self.epoch()).or_default();
        counts.0 += requests;
        counts.1 += accepts;
    }

    /// Requests and accepts of the last ten buckets, the current one
    /// included.
    fn counts(&self) -> (u64, u64) {
        let now = self.epoch();
        self.buckets
            .range(now.saturating_sub(9)..=now)
            .fold((0, 0), |(r, a), (_, (dr, da))| (r + dr, a + da))
    }

    /// `max(0, (requests - K × accepts) / (requests + padding))`, capped.
    fn probability(&self) -> f64 {
        let (requests, accepts) = self.counts();
        let excess = requests as f64 - self.s.k * accepts as f64;
        let p = if excess <= 0.0 {
            0.0
        } else {
            excess / (requests as f64 + self.s.padding)
        };
        p.min(self.s.max_probability)
    }

    fn stats(&self) -> (u64, u64, f64, u64, u64) {
        let (requests, accepts) = self.counts();
        (
            requests,
            accepts,
            self.probability(),
            self.admitted,
            self.rejected,
        )
    }
}

fn observed(st: &ThrottleStats) -> (u64, u64, f64, u64, u64) {
    (
        st.requests,
        st.accepts,
        st.probability,
        st.admitted,
        st.rejected,
    )
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        prop::sample::select(vec![1.0, 1.5, 2.0, 3.0]),
        prop::sample::select(vec![0.0, 1.0, 8.0]),
        prop::sample::select(vec![1.0, 0.9, 0.5, 0.0]),
        10u64..300,
    )
        .prop_map(|(k, padding, max_probability, window_ms)| Settings {
            k,
            padding,
            max_probability,
            window_ms,
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop_oneof![Just(None), any::<bool>().prop_map(Some)].prop_map(Step::Call),
        4 => any::<bool>().prop_map(Step::Record),
        2 => (0u64..80).prop_map(Step::Advance),
        1 => Just(Step::Reset),
    ]
}

fn play(s: Settings, steps: &[Step]) -> Result<(), TestCaseError> {
    let clock: &'static ManualClock = leak(ManualClock::new());
    let throttle: &'static Throttle = leak(
        Throttle::new("model")
            .with_k(s.k)
            .with_padding(s.padding)
            .with_max_probability(s.max_probability)
            .with_window(Duration::from_millis(s.window_ms))
            .with_clock(clock),
    );
    let mut model = Model::new(s);
    prop_assert_eq!(
        throttle.window(),
        Duration::from_millis(model.bucket_ms * 10)
    );
    for (n, &step) in steps.iter().enumerate() {
        let at = || format!("step {n} of {:?}", &steps[..=n]);
        match step {
            Step::Call(outcome) => {
                let p = model.probability();
                match throttle.try_acquire() {
                    Ok(()) => {
                        prop_assert!(p < 1.0, "let through at probability {p}: {}", at());
                        model.admitted += 1;
                        if let Some(accepted) = outcome {
                            throttle.record(accepted);
                            model.add(1, u64::from(accepted));
                        }
                    }
                    Err(throttled) => {
                        prop_assert!(p > 0.0, "rejected at probability 0: {}", at());
                        prop_assert_eq!(throttled.probability, p, "{}", at());
                        model.rejected += 1;
                        model.add(1, 0);
                    }
                }
            }
            Step::Record(accepted) => {
                throttle.record(accepted);
                model.add(1, u64::from(accepted));
            }
            Step::Advance(ms) => {
                clock.advance(Duration::from_millis(ms));
                model.now += ms;
            }
            Step::Reset => {
                throttle.reset();
                model.buckets.clear();
                model.admitted = 0;
                model.rejected = 0;
            }
        }
        prop_assert_eq!(observed(&throttle.stats()), model.stats(), "{}", at());
        prop_assert_eq!(throttle.probability(), model.probability(), "{}", at());
    }
    Ok(())
}

#[test]
fn the_throttle_follows_its_documented_rules() {
    let strategy = (settings(), proptest::collection::vec(step(), 1..150));
    crate::model_check("THROTTLE", 1000, &strategy, |(s, steps)| play(s, &steps));
}
