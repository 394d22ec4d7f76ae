//! The circuit breaker against a model of its documented rules: random
//! configurations and sequences of calls (acquire, record a held permit
//! with any outcome, in any order, or never), clock moves, resets and
//! forced openings, on one thread. After every step the breaker's answer
//! (a permit, a probe, a rejection with its wait, forced or not) and its
//! whole `stats()` must be the model's.
//!
//! The model is written from the docs of `CircuitBreaker` (`try_acquire`,
//! `record`, `with_failures`, `with_failure_rate`, `with_recovery`,
//! `with_probes`, `reset`, `force_open`) in the plainest form: a state enum
//! and a count of transitions, where the breaker packs everything into one
//! atomic word with an 8-bit generation. A sequence has fewer than 256
//! transitions, so the generation's wrap (documented apart) never shows.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use retry_runtime::circuit::{
    CircuitBreaker, CircuitState, CircuitStats, ManualClock, Outcome, Permit,
};
use retry_runtime::Classify;

use crate::leak;

/// A breaker's settings, all in their valid ranges.
#[derive(Clone, Copy, Debug)]
struct Settings {
    failures: u32,
    /// `(percent, calls)`, calls 0 for no window
    rate: (u32, u32),
    recovery_ms: u64,
    probes: u32,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Acquire,
    /// Record the held permit at this index (modulo how many are held).
    Record(usize, Outcome),
    /// Drop a held permit unrecorded (a call that never reports).
    Forget(usize),
    Advance(u64),
    Reset,
    ForceOpen,
}

#[derive(Clone, Debug)]
enum State {
    Closed {
        failures: u32,
        window: VecDeque<bool>,
    },
    Open {
        since: u64,
        forced: bool,
    },
    HalfOpen {
        latest: u64,
        probes: u32,
        succeeded: u32,
    },
}

/// A permit as the model sees it: the transition count it was let
/// through at, and whether it is a probe.
#[derive(Clone, Copy, Debug)]
struct Ticket {
    transitions: u64,
    probe: bool,
}

/// What `try_acquire` answered.
#[derive(Debug, PartialEq)]
enum Answer {
    Permit {
        probe: bool,
    },
    Rejected {
        forced: bool,
        wait: Option<Duration>,
    },
}

struct Model {
    s: Settings,
    state: State,
    transitions: u64,
    now: u64,
    permitted: u64,
    rejected: u64,
    successes: u64,
    failures: u64,
    neutral: u64,
    opened: u64,
}

impl Model {
    fn new(s: Settings) -> Model {
        Model {
            s,
            state: State::Closed {
                failures: 0,
                window: VecDeque::new(),
            },
            transitions: 0,
            now: 0,
            permitted: 0,
            rejected: 0,
            successes: 0,
            failures: 0,
            neutral: 0,
            opened: 0,
        }
    }

    fn move_to(&mut self, state: State) {
        self.state = state;
        self.transitions += 1;
    }

    fn open(&mut self) {
        self.opened += 1;
        self.move_to(State::Open {
            since: self.now,
            forced: false,
        });
    }

    fn close(&mut self) {
        self.move_to(State::Closed {
            failures: 0,
            window: VecDeque::new(),
        });
    }

    fn first_probe(&mut self) -> (Answer, Option<Ticket>) {
        self.move_to(State::HalfOpen {
            latest: self.now,
            probes: 1,
            succeeded: 0,
        });
        self.permitted += 1;
        let ticket = Ticket {
            transitions: self.transitions,
            probe: true,
        };
        (Answer::Permit { probe: true }, Some(ticket))
    }

    fn reject(&mut self, since: u64) -> (Answer, Option<Ticket>) {
        self.rejected += 1;
        let left = self.s.recovery_ms - (self.now - since);
        (
            Answer::Rejected {
                forced: false,
                wait: Some(Duration::from_millis(left)),
            },
            None,
        )
    }

    /// `try_acquire`: closed lets every call through; open rejects until
    /// the recovery has passed, then this call is the first probe;
    /// half-open lets `probes` calls through, then rejects until a
    /// recovery after the latest, then starts a new round.
    fn acquire(&mut self) -> (Answer, Option<Ticket>) {
        match self.state {
            State::Closed { .. } => {
                self.permitted += 1;
                let ticket = Ticket {
                    transitions: self.transitions,
                    probe: false,
                };
                (Answer::Permit { probe: false }, Some(ticket))
            }
            State::Open { forced: true, .. } => {
                self.rejected += 1;
                (
                    Answer::Rejected {
                        forced: true,
                        wait: None,
                    },
                    None,
                )
            }
            State::Open { since, .. } if self.now - since >= self.s.recovery_ms => {
                self.first_probe()
            }
            State::Open { since, .. } => self.reject(since),
            State::HalfOpen {
                ref mut latest,
                ref mut probes,
                ..
            } if *probes < self.s.probes => {
                *probes += 1;
                *latest = self.now;
                self.permitted += 1;
                let ticket = Ticket {
                    transitions: self.transitions,
                    probe: true,
                };
                (Answer::Permit { probe: true }, Some(ticket))
            }
            State::HalfOpen { latest, .. } if self.now - latest >= self.s.recovery_ms => {
                self.first_probe()
            }
            State::HalfOpen { latest, .. } => self.reject(latest),
        }
    }

    /// `record`: counted always; moves the state only when the permit is
    /// of the state under way (or a probe of the round just replaced).
    fn record(&mut self, ticket: Ticket, outcome: Outcome) {
        match outcome {
            Outcome::Success => self.successes += 1,
            Outcome::Failure => self.failures += 1,
            _ => self.neutral += 1,
        }
        let current = ticket.transitions == self.transitions;
        if !ticket.probe {
            if current {
                self.record_closed(outcome);
            }
            return;
        }
        let replaced = ticket.transitions + 1 == self.transitions;
        let State::HalfOpen {
            ref mut probes,
            ref mut succeeded,
            ..
        } = self.state
        else {
            return;
        };
        // a half-open state one transition later is the round that
        // replaced the probe's (any other move leaves half-open)
        if !current && !replaced {
            return;
        }
        match outcome {
            Outcome::Failure => self.open(),
            Outcome::Success if *succeeded + 1 >= self.s.probes => self.close(),
            Outcome::Success => *succeeded += 1,
            _ if current => *probes = probes.saturating_sub(1),
            _ => {}
        }
    }

    fn record_closed(&mut self, outcome: Outcome) {
        let (percent, calls) = self.s.rate;
        let failures_rule = self.s.failures;
        let State::Closed {
            ref mut failures,
            ref mut window,
        } = self.state
        else {
            return;
        };
        let failed = match outcome {
            Outcome::Success => {
                *failures = 0;
                false
            }
            Outcome::Failure => {
                *failures += 1;
                if failures_rule != 0 && *failures >= failures_rule {
                    return self.open();
                }
                true
            }
            _ => return,
        };
        if calls == 0 {
            return;
        }
        window.push_back(failed);
        if window.len() > calls as usize {
            window.pop_front();
        }
        let in_window = window.iter().filter(|&&f| f).count() as u64;
        if failed
            && window.len() >= calls as usize
            && in_window * 100 >= u64::from(percent) * u64::from(calls)
        {
            self.open();
        }
    }

    fn reset(&mut self) {
        self.close();
    }

    fn force_open(&mut self) {
        match self.state {
            State::Open { forced: true, .. } => {}
            State::Open { forced: false, .. } => self.move_to(State::Open {
                since: self.now,
                forced: true,
            }),
            _ => {
                self.opened += 1;
                self.move_to(State::Open {
                    since: self.now,
                    forced: true,
                });
            }
        }
    }

    /// The fields of `CircuitStats` the model keeps, as the breaker
    /// reports them.
    fn stats(&self) -> (CircuitState, u32, u32, u32, u32, u32, [u64; 6], bool) {
        let (state, consecutive, window_calls, window_failures, let_through, succeeded, forced) =
            match &self.state {
                State::Closed { failures, window } => {
                    let failed = window.iter().filter(|&&f| f).count() as u32;
                    (
                        CircuitState::Closed,
                        *failures,
                        window.len() as u32,
                        failed,
                        0,
                        0,
                        false,
                    )
                }
                State::Open { forced, .. } => (CircuitState::Open, 0, 0, 0, 0, 0, *forced),
                State::HalfOpen {
                    probes, succeeded, ..
                } => (CircuitState::HalfOpen, 0, 0, 0, *probes, *succeeded, false),
            };
        let counters = [
            self.permitted,
            self.rejected,
            self.successes,
            self.failures,
            self.neutral,
            self.opened,
        ];
        (
            state,
            consecutive,
            window_calls,
            window_failures,
            let_through,
            succeeded,
            counters,
            forced,
        )
    }
}

fn observed(st: &CircuitStats) -> (CircuitState, u32, u32, u32, u32, u32, [u64; 6], bool) {
    (
        st.state,
        st.consecutive_failures,
        st.window_calls,
        st.window_failures,
        st.probes_let_through,
        st.probes_succeeded,
        [
            st.permitted,
            st.rejected,
            st.successes,
            st.failures,
            st.neutral,
            st.opened,
        ],
        st.forced_open,
    )
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        0u32..5,
        prop_oneof![Just((0, 0)), (1u32..=100, 1u32..7)],
        1u64..40,
        1u32..4,
    )
        .prop_map(|(failures, rate, recovery_ms, probes)| Settings {
            failures,
            rate,
            recovery_ms,
            probes,
        })
}

fn step() -> impl Strategy<Value = Step> {
    let outcome = prop_oneof![
        Just(Outcome::Success),
        Just(Outcome::Failure),
        Just(Outcome::Neutral)
    ];
    prop_oneof![
        4 => Just(Step::Acquire),
        4 => (any::<usize>(), outcome).prop_map(|(i, o)| Step::Record(i, o)),
        1 => any::<usize>().prop_map(Step::Forget),
        3 => (0u64..50).prop_map(Step::Advance),
        1 => Just(Step::Reset),
        1 => Just(Step::ForceOpen),
    ]
}

/// Plays `steps` on a fresh breaker and on the model; the first step
/// where they disagree fails, with the steps up to it.
fn play(s: Settings, steps: &[Step]) -> Result<(), TestCaseError> {
    let clock: &'static ManualClock = leak(ManualClock::new());
    let breaker: &'static CircuitBreaker = leak(
        CircuitBreaker::new("model")
            .with_failures(s.failures)
            .with_failure_rate(s.rate.0, s.rate.1)
            .with_recovery(Duration::from_millis(s.recovery_ms))
            .with_probes(s.probes)
            .with_clock(clock),
    );
    let mut model = Model::new(s);
    let mut held: Vec<(Permit, Ticket)> = Vec::new();
    for (n, &step) in steps.iter().enumerate() {
        let at = || format!("step {n} of {:?}", &steps[..=n]);
        match step {
            Step::Acquire => {
                let got = match breaker.try_acquire() {
                    Ok(permit) => {
                        let answer = Answer::Permit {
                            probe: permit.is_probe(),
                        };
                        held.push((
                            permit,
                            Ticket {
                                transitions: 0,
                                probe: false,
                            },
                        ));
                        answer
                    }
                    Err(open) => Answer::Rejected {
                        forced: open.forced,
                        wait: open.retry_after(),
                    },
                };
                let (want, ticket) = model.acquire();
                prop_assert_eq!(&got, &want, "{}", at());
                if let Some(ticket) = ticket {
                    held.last_mut().expect("the permit just pushed").1 = ticket;
                }
            }
            Step::Record(i, outcome) if !held.is_empty() => {
                let (permit, ticket) = held.remove(i % held.len());
                breaker.record(permit, outcome);
                model.record(ticket, outcome);
            }
            Step::Forget(i) if !held.is_empty() => {
                drop(held.remove(i % held.len()));
            }
            Step::Record(..) | Step::Forget(_) => {}
            Step::Advance(ms) => {
                clock.advance(Duration::from_millis(ms));
                model.now += ms;
            }
            Step::Reset => {
                breaker.reset();
                model.reset();
            }
            Step::ForceOpen => {
                breaker.force_open();
                model.force_open();
            }
        }
        prop_assert_eq!(observed(&breaker.stats()), model.stats(), "{}", at());
        prop_assert_eq!(breaker.state(), model.stats().0, "{}", at());
    }
    Ok(())
}

#[test]
fn the_breaker_follows_its_documented_rules() {
    let strategy = (settings(), proptest::collection::vec(step(), 1..120));
    crate::model_check("BREAKER", 2000, &strategy, |(s, steps)| play(s, &steps));
}
