//! A circuit breaker's transitions and state (its reset too), a retry
//! budget's tokens and refusals, an adaptive throttle's probability and
//! rejections, and the outcome of a call the breaker rejected.

use std::io::ErrorKind::TimedOut;
use std::sync::{mpsc, Arc, Mutex};

use metrics::{Key, KeyName, Metadata, SharedString, Unit};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

use retry_runtime::clock::ManualClock;
use retry_runtime::metrics::{
    Outcome, BUDGET_REFUSALS, BUDGET_TOKENS, CALLS, CIRCUIT_STATE, CIRCUIT_TRANSITIONS,
    THROTTLE_PROBABILITY, THROTTLE_REJECTIONS,
};
use retry_runtime::{testing, Backoff, CircuitBreaker, KindSet, Policy, RetryBudget, Throttle};
use testkit::metrics::Recorded;

use crate::script::{assert_one_call, block_on, fail, record, step, step_async, S};

static CLOCK: ManualClock = ManualClock::new();
static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream")
    .with_failures(2)
    .with_recovery(S)
    .with_clock(&CLOCK);

const GUARDED: Policy<retry_runtime::RetryOn, retry_runtime::WithCircuit> = Policy::new()
    .with_max_attempts(5)
    .with_backoff(Backoff::None)
    .retry_on(KindSet::TRANSIENT)
    .with_name("guarded")
    .with_circuit(&UPSTREAM);

fn transitions(rec: &Recorded) -> Vec<(&'static str, &'static str, u64)> {
    transitions_of(rec, "upstream")
}

/// The moves breaker `circuit` made, counted, in label order.
fn transitions_of(rec: &Recorded, circuit: &str) -> Vec<(&'static str, &'static str, u64)> {
    let states = ["closed", "half_open", "open"];
    let mut seen = Vec::new();
    for from in states {
        for to in states {
            let labels = [("circuit", circuit), ("from", from), ("to", to)];
            let n = rec.counter(CIRCUIT_TRANSITIONS, &labels);
            if n > 0 {
                seen.push((from, to, n));
            }
        }
    }
    seen
}

fn state(rec: &Recorded) -> Vec<(&'static str, f64)> {
    state_of(rec, "upstream")
}

/// Breaker `circuit`'s state gauge, by state.
fn state_of(rec: &Recorded, circuit: &str) -> Vec<(&'static str, f64)> {
    ["closed", "half_open", "open"]
        .into_iter()
        .filter_map(|s| {
            let v = rec.gauge(CIRCUIT_STATE, &[("circuit", circuit), ("state", s)])?;
            Some((s, v))
        })
        .collect()
}

/// Opens (a call gives up), rejects (a call makes no attempt: counted
/// apart, `not_attempted_circuit_open`, with 0 attempts), half-opens and
/// re-opens (a probe fails), half-opens and closes (a probe succeeds):
/// each transition counted once, the state gauge on the current state.
#[test]
fn breaker_transitions_and_state() {
    let _paused = testing::pause();
    let (rec, ()) = record(|| {
        fail(100, TimedOut);
        let _ = GUARDED.retry(step).call(); // 2 failures: opens
        let (opened, ()) = record(|| drop(GUARDED.retry(step).call())); // rejected
        let refused = Outcome::NotAttemptedCircuitOpen;
        assert_one_call(&opened, "guarded", refused, 0, &[], "rejected");
        CLOCK.advance(S);
        let _ = block_on(async { GUARDED.retry(step_async).await }); // the probe fails
        CLOCK.advance(S);
        fail(0, TimedOut);
        let _ = GUARDED.retry(step).call(); // the probe succeeds: closes
    });
    let count =
        |o: Outcome| rec.counter(CALLS, &[("operation", "guarded"), ("outcome", o.label())]);
    assert_eq!(
        count(Outcome::CircuitOpen),
        2,
        "opened, then re-opened by the probe"
    );
    assert_eq!(count(Outcome::SucceededFirstTry), 1);
    assert_eq!(
        transitions(&rec),
        [
            ("closed", "open", 1),
            ("half_open", "closed", 1),
            ("half_open", "open", 1),
            ("open", "half_open", 2),
        ]
    );
    assert_eq!(
        state(&rec),
        [("closed", 1.0), ("half_open", 0.0), ("open", 0.0)]
    );
}

static RESET_CLOCK: ManualClock = ManualClock::new();
static RESET: CircuitBreaker = CircuitBreaker::new("reset")
    .with_failures(1)
    .with_recovery(S)
    .with_clock(&RESET_CLOCK);

/// One failure opens [`RESET`].
fn trip_reset() {
    let permit = RESET.try_acquire().unwrap();
    RESET.record(permit, retry_runtime::circuit::Outcome::Failure);
}

/// An operator's reset is a move like any other: an open breaker's reset
/// counts `open -> closed` and puts the gauge on `closed` (the move was
/// missing from the metric's table: nothing was counted and the gauge
/// stayed on `open`), a half-open one's counts `half_open -> closed`.
#[test]
fn a_reset_moves_the_state_metric() {
    let (rec, ()) = record(|| {
        trip_reset();
        RESET.reset();
    });
    assert_eq!(
        transitions_of(&rec, "reset"),
        [("closed", "open", 1), ("open", "closed", 1)]
    );
    assert_eq!(
        state_of(&rec, "reset"),
        [("closed", 1.0), ("half_open", 0.0), ("open", 0.0)]
    );

    let (rec, ()) = record(|| {
        trip_reset();
        RESET_CLOCK.advance(S);
        let _probe = RESET.try_acquire().unwrap(); // half-open
        RESET.reset();
        RESET.reset(); // closed already: no move
    });
    assert_eq!(
        transitions_of(&rec, "reset"),
        [
            ("closed", "open", 1),
            ("half_open", "closed", 1),
            ("open", "half_open", 1),
        ]
    );
    assert_eq!(
        state_of(&rec, "reset"),
        [("closed", 1.0), ("half_open", 0.0), ("open", 0.0)]
    );
}

static PROBING_CLOCK: ManualClock = ManualClock::new();
static PROBING: CircuitBreaker = CircuitBreaker::new("probing")
    .with_failures(1)
    .with_recovery(S)
    .with_clock(&PROBING_CLOCK);

/// While its probe is out, a breaker's gauge says `half_open`, not the
/// `open` it came from.
#[test]
fn the_state_gauge_says_half_open_while_a_probe_is_out() {
    let (rec, ()) = record(|| {
        let permit = PROBING.try_acquire().unwrap();
        PROBING.record(permit, retry_runtime::circuit::Outcome::Failure);
        PROBING_CLOCK.advance(S);
        let _probe = PROBING.try_acquire().unwrap();
    });
    assert_eq!(
        state_of(&rec, "probing"),
        [("closed", 0.0), ("half_open", 1.0), ("open", 0.0)]
    );
}

static FORCED: CircuitBreaker = CircuitBreaker::new("forced");

/// `force_open` is a move to `open` from wherever the breaker was (none
/// from `open`), and the gauge says `open` until a reset.
#[test]
fn force_open_moves_the_state_metric() {
    let (rec, ()) = record(|| {
        FORCED.force_open();
        FORCED.force_open(); // forced open already: no move
    });
    assert_eq!(transitions_of(&rec, "forced"), [("closed", "open", 1)]);
    assert_eq!(
        state_of(&rec, "forced"),
        [("closed", 0.0), ("half_open", 0.0), ("open", 1.0)]
    );
    let (rec, ()) = record(|| FORCED.reset());
    assert_eq!(transitions_of(&rec, "forced"), [("open", "closed", 1)]);
    assert_eq!(
        state_of(&rec, "forced"),
        [("closed", 1.0), ("half_open", 0.0), ("open", 0.0)]
    );
}

static SEARCH: RetryBudget = RetryBudget::new("search")
    .with_percent(0)
    .with_max_tokens(4);

/// A full bucket of 4 tokens allows 2 retries (4 -> 3 -> 2); each further
/// retry is refused and counted; the gauge follows the bucket.
#[test]
fn budget_tokens_and_refusals() {
    let _paused = testing::pause();
    let policy = Policy::new()
        .with_max_attempts(10)
        .with_backoff(Backoff::None)
        .with_name("search")
        .with_budget(&SEARCH);
    let budget = [("budget", "search")];
    let (rec, ()) = record(|| {
        fail(100, TimedOut);
        let e = policy.retry(step).detailed().call().unwrap_err();
        assert_eq!(e.attempts, 3);
        let (after, ()) = record(|| drop(block_on(async { policy.retry(step_async).await })));
        assert_one_call(
            &after,
            "search",
            Outcome::BudgetRefused,
            1,
            &[],
            "async, refused at once",
        );
        assert_eq!(after.gauge(BUDGET_TOKENS, &budget), Some(2.0));
        assert_eq!(after.counter(BUDGET_REFUSALS, &budget), 1);
    });
    assert_eq!(
        rec.counter(BUDGET_REFUSALS, &budget),
        1,
        "the first call's refusal"
    );
    assert_eq!(rec.gauge(BUDGET_TOKENS, &budget), Some(2.0));
    let outcome = [
        ("operation", "search"),
        ("outcome", Outcome::BudgetRefused.label()),
    ];
    assert_eq!(rec.counter(CALLS, &outcome), 1);
}

static REFILLED: RetryBudget = RetryBudget::new("refilled").with_max_tokens(4);

/// An operator's `reset()` refills the bucket: the gauge says so (it kept
/// the drained value, 2, until the next retry or first attempt moved it).
#[test]
fn a_reset_sets_the_tokens_gauge() {
    let budget = [("budget", "refilled")];
    let (rec, ()) = record(|| {
        while REFILLED.try_withdraw() {}
        REFILLED.reset();
    });
    assert_eq!(REFILLED.stats().tokens, 4.0);
    assert_eq!(rec.gauge(BUDGET_TOKENS, &budget), Some(4.0));
}

static HEALTHY: RetryBudget = RetryBudget::new("healthy");

/// A full bucket's deposits (a healthy service's first attempts) are
/// counted and change nothing else: no write to the bucket, so no gauge
/// set (and no lock taken for one) on every call.
#[test]
fn a_full_buckets_deposits_record_nothing() {
    let (rec, ()) = record(|| {
        for _ in 0..3 {
            HEALTHY.deposit();
        }
    });
    assert_eq!(HEALTHY.stats().first_attempts, 3);
    assert_eq!(HEALTHY.stats().tokens, 10.0);
    assert_eq!(rec.gauge(BUDGET_TOKENS, &[("budget", "healthy")]), None);
}

static DEPOSITED: RetryBudget = RetryBudget::new("deposited")
    .with_percent(100)
    .with_max_tokens(8);

/// Threads that change the bucket at once leave the gauge on the balance:
/// each used to set the balance its own swap left, after the swap, so the
/// thread that moved the bucket first could set its older balance last;
/// and a bucket left full, whose deposits write nothing, kept that stale
/// gauge for good. Each round drains the bucket to half (4 of 8 tokens),
/// then 4 threads each deposit a token at once, filling it. (A race: before
/// the fix, about 1 round in 500 on a 2-core machine ended stale.)
#[test]
fn racing_deposits_leave_the_tokens_gauge_on_the_balance() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 3_000;
    retry_runtime::metrics::enable();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let budget = [("budget", "deposited")];
    let start = std::sync::Barrier::new(THREADS + 1);
    let end = std::sync::Barrier::new(THREADS + 1);
    let mut stale = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                metrics::with_local_recorder(&recorder, || {
                    for _ in 0..ROUNDS {
                        start.wait();
                        DEPOSITED.deposit(); // a whole token each (100%)
                        end.wait();
                    }
                })
            });
        }
        metrics::with_local_recorder(&recorder, || {
            for round in 0..ROUNDS {
                while DEPOSITED.try_withdraw() {}
                assert_eq!(DEPOSITED.stats().tokens, 4.0);
                start.wait();
                end.wait();
                let gauge = Recorded::from(&snapshotter).gauge(BUDGET_TOKENS, &budget);
                if gauge != Some(8.0) {
                    stale.push((round, gauge));
                }
            }
        });
    });
    assert_eq!(DEPOSITED.stats().tokens, 8.0);
    assert!(
        stale.is_empty(),
        "rounds that ended on a stale gauge: {stale:?}"
    );
}

static FIRST_CLOCK: ManualClock = ManualClock::new();
static FIRST: CircuitBreaker = CircuitBreaker::new("first-moves")
    .with_failures(1)
    .with_recovery(S)
    .with_clock(&FIRST_CLOCK);
static FIRST_BUDGET: RetryBudget = RetryBudget::new("first-refusal");

/// A counter that appears with its first count is missed by `increase()`
/// and `rate()`, which need a sample before it: a breaker's move counters
/// are registered at 0 at its first move (which opens it: that one's own
/// count starts at 1), a budget's refusals at its first record (a retry it
/// granted: it starts full), as an operation's outcomes are at its first
/// call. (Names no other test uses: the zeros are registered once per
/// process.)
#[test]
fn move_and_refusal_counters_start_at_zero() {
    let (rec, ()) = record(|| {
        let permit = FIRST.try_acquire().unwrap();
        FIRST.record(permit, retry_runtime::circuit::Outcome::Failure); // opens
        assert!(FIRST_BUDGET.try_withdraw());
    });
    let moved = |from, to| {
        let labels = [("circuit", "first-moves"), ("from", from), ("to", to)];
        match rec.value(CIRCUIT_TRANSITIONS, &labels) {
            None => None,
            Some(DebugValue::Counter(n)) => Some(*n),
            Some(other) => panic!("not a counter: {other:?}"),
        }
    };
    assert_eq!(moved("closed", "open"), Some(1));
    for (from, to) in [
        ("half_open", "closed"),
        ("half_open", "open"),
        ("open", "closed"),
        ("open", "half_open"),
    ] {
        assert_eq!(moved(from, to), Some(0), "{from} -> {to}");
    }
    // never made: a closed breaker opens first
    assert_eq!(moved("closed", "half_open"), None);
    assert!(
        matches!(
            rec.value(BUDGET_REFUSALS, &[("budget", "first-refusal")]),
            Some(DebugValue::Counter(0))
        ),
        "the refusals are registered at 0"
    );
}

static THROTTLE_CLOCK: ManualClock = ManualClock::new();
static OVERLOADED: Throttle = Throttle::new("overloaded").with_clock(&THROTTLE_CLOCK);

/// A dependency that accepts nothing: the throttle's gauge rises with its
/// probability, and its counter counts every call it rejected, first
/// attempts and retries alike (`retry_calls_total` counts the calls that
/// ended so: `not_attempted_throttled` those rejected before their first
/// attempt, with 0 attempts, `throttled` those whose retry was rejected).
/// A window later the probability is back
/// to 0: the gauge is set to 0 once, and a healthy throttle's calls record
/// nothing more.
#[test]
fn throttle_probability_and_rejections() {
    let _paused = testing::pause();
    testing::seed(11);
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT)
        .with_name("overloaded")
        .with_throttle(&OVERLOADED);
    let throttle = [("throttle", "overloaded")];
    let (rec, ()) = record(|| {
        for _ in 0..200 {
            fail(3, TimedOut);
            let _ = policy.retry(step).call();
        }
    });
    let stats = OVERLOADED.stats();
    let rejections = rec.counter(THROTTLE_REJECTIONS, &throttle);
    assert_eq!(rejections, stats.rejected, "{stats:?}");
    assert!(rejections > 150, "{stats:?}");
    let ended = |outcome: Outcome| {
        let labels = [("operation", "overloaded"), ("outcome", outcome.label())];
        rec.counter(CALLS, &labels)
    };
    let (first, retry) = (
        ended(Outcome::NotAttemptedThrottled),
        ended(Outcome::Throttled),
    );
    // (each rejection, of a first attempt or of a retry, ended its call:
    // the first attempts' apart from the retries')
    assert_eq!(first + retry, rejections);
    assert!(first > 0 && retry > 0, "{first} {retry}");
    // a call rejected before its first attempt made none: the histogram's
    // zeros are those calls
    let attempts = rec.histogram(
        retry_runtime::metrics::ATTEMPTS,
        &[("operation", "overloaded")],
    );
    let zeros = attempts.iter().filter(|&&a| a == 0.0).count() as u64;
    assert_eq!(zeros, first);
    let gauge = rec.gauge(THROTTLE_PROBABILITY, &throttle).unwrap();
    assert!(gauge > 0.9 && gauge <= 1.0, "{gauge}");
    assert!(
        (gauge - stats.probability).abs() < 0.01,
        "{gauge} {stats:?}"
    );

    // a window later: the gauge at 0, once
    THROTTLE_CLOCK.advance(OVERLOADED.window());
    fail(0, TimedOut);
    let (rec, ()) = record(|| {
        let _ = policy.retry(step).call();
    });
    assert_eq!(rec.gauge(THROTTLE_PROBABILITY, &throttle), Some(0.0));
    assert_eq!(rec.counter(THROTTLE_REJECTIONS, &throttle), 0);
    let (rec, ()) = record(|| {
        for _ in 0..10 {
            let _ = policy.retry(step).call();
        }
    });
    let names = rec.names();
    assert!(
        !names.contains(&THROTTLE_PROBABILITY) && !names.contains(&THROTTLE_REJECTIONS),
        "a healthy throttle records nothing per call: {names:?}"
    );
}

static FRESH_THROTTLE: Throttle = Throttle::new("fresh-throttle");

/// A throttle's rejections counter, and its gauge, are registered at 0 at
/// its first call, before it can reject anything: `increase()` sees its
/// first rejection. (A name no other test uses: the zeros are registered
/// once per process.)
#[test]
fn throttle_series_start_at_zero() {
    let throttle = [("throttle", "fresh-throttle")];
    let (rec, ()) = record(|| assert!(FRESH_THROTTLE.try_acquire().is_ok()));
    assert!(
        matches!(
            rec.value(THROTTLE_REJECTIONS, &throttle),
            Some(DebugValue::Counter(0))
        ),
        "the rejections are registered at 0: {:?}",
        rec.value(THROTTLE_REJECTIONS, &throttle)
    );
    assert_eq!(rec.gauge(THROTTLE_PROBABILITY, &throttle), Some(0.0));
}

static ZERO_CLOCK: ManualClock = ManualClock::new();
static AT_ZERO: Throttle = Throttle::new("at-zero").with_clock(&ZERO_CLOCK);

/// The same zeros for a throttle whose clock reads 0 at its first call
/// (its first window, before any WARN could be held), as a
/// [`ManualClock`] does.
#[test]
fn throttle_series_start_at_zero_on_a_clock_at_its_origin() {
    let throttle = [("throttle", "at-zero")];
    let (rec, ()) = record(|| assert!(AT_ZERO.try_acquire().is_ok()));
    assert!(matches!(
        rec.value(THROTTLE_REJECTIONS, &throttle),
        Some(DebugValue::Counter(0))
    ));
    assert_eq!(rec.gauge(THROTTLE_PROBABILITY, &throttle), Some(0.0));
}

static HELD_CLOCK: ManualClock = ManualClock::new();
static HELD: Throttle = Throttle::new("held").with_clock(&HELD_CLOCK);

/// A throttle whose probability is back at 0 within a window of its WARN
/// holds the INFO line till then, but not its gauge: that goes to 0 at the
/// first call at 0, once, and the calls after it record nothing.
#[test]
fn a_throttle_back_at_zero_within_a_window_of_its_warning_zeroes_its_gauge_once() {
    let throttle = [("throttle", "held")];
    for _ in 0..100 {
        HELD.record(false);
    }
    let (rec, ()) = record(|| while HELD.try_acquire().is_ok() {}); // rejects: the WARN
    assert!(rec.gauge(THROTTLE_PROBABILITY, &throttle).unwrap() > 0.9);
    for _ in 0..1000 {
        HELD.record(true);
    }
    assert_eq!(HELD.probability(), 0.0);
    let (rec, ()) = record(|| assert!(HELD.try_acquire().is_ok()));
    assert_eq!(rec.gauge(THROTTLE_PROBABILITY, &throttle), Some(0.0));
    let (rec, ()) = record(|| {
        for _ in 0..10 {
            assert!(HELD.try_acquire().is_ok());
        }
    });
    assert!(
        !rec.names().contains(&THROTTLE_PROBABILITY),
        "{:?}",
        rec.names()
    );
}

static RESET_THROTTLE_CLOCK: ManualClock = ManualClock::new();
static RESET_THROTTLE: Throttle = Throttle::new("reset-throttle").with_clock(&RESET_THROTTLE_CLOCK);

/// An operator's `reset()` forgets the counts: the gauge goes to 0 with
/// them (it kept the last probability computed until then).
#[test]
fn a_reset_sets_the_probability_gauge_to_zero() {
    let throttle = [("throttle", "reset-throttle")];
    for _ in 0..100 {
        RESET_THROTTLE.record(false);
    }
    let (rec, ()) = record(|| {
        let _ = RESET_THROTTLE.try_acquire();
    });
    assert_eq!(
        rec.gauge(THROTTLE_PROBABILITY, &throttle),
        Some(100.0 / 108.0)
    );
    let (rec, ()) = record(|| RESET_THROTTLE.reset());
    assert_eq!(rec.gauge(THROTTLE_PROBABILITY, &throttle), Some(0.0));
}

static RACED_CLOCK: ManualClock = ManualClock::new();
static RACED: CircuitBreaker = CircuitBreaker::new("raced")
    .with_failures(1)
    .with_recovery(S)
    .with_clock(&RACED_CLOCK);

/// A recorder (a debugging one underneath) whose `from -> to` transition
/// counter of breaker `raced` holds up the thread that counts a move (not
/// one that registers it at 0): it says so on `arrived`, then waits for
/// `resume`. That thread has made its move and not yet set the state gauge.
struct HoldingUp {
    inner: DebuggingRecorder,
    from: &'static str,
    to: &'static str,
    arrived: Mutex<mpsc::Sender<()>>,
    resume: Arc<Mutex<mpsc::Receiver<()>>>,
}

struct HeldCounter {
    inner: metrics::Counter,
    arrived: mpsc::Sender<()>,
    resume: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl metrics::CounterFn for HeldCounter {
    fn increment(&self, value: u64) {
        // (not the counter's registration at 0, at the breaker's first move)
        if value > 0 {
            self.arrived.send(()).unwrap();
            self.resume.lock().unwrap().recv().unwrap();
        }
        self.inner.increment(value);
    }
    fn absolute(&self, value: u64) {
        self.inner.absolute(value);
    }
}

impl metrics::Recorder for HoldingUp {
    fn describe_counter(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        self.inner.describe_counter(k, u, d);
    }
    fn describe_gauge(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        self.inner.describe_gauge(k, u, d);
    }
    fn describe_histogram(&self, k: KeyName, u: Option<Unit>, d: SharedString) {
        self.inner.describe_histogram(k, u, d);
    }
    fn register_counter(&self, key: &Key, meta: &Metadata<'_>) -> metrics::Counter {
        let inner = self.inner.register_counter(key, meta);
        let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
        let held = [("circuit", "raced"), ("from", self.from), ("to", self.to)];
        if key.name() != CIRCUIT_TRANSITIONS || labels != held {
            return inner;
        }
        metrics::Counter::from_arc(Arc::new(HeldCounter {
            inner,
            arrived: self.arrived.lock().unwrap().clone(),
            resume: self.resume.clone(),
        }))
    }
    fn register_gauge(&self, key: &Key, meta: &Metadata<'_>) -> metrics::Gauge {
        self.inner.register_gauge(key, meta)
    }
    fn register_histogram(&self, key: &Key, meta: &Metadata<'_>) -> metrics::Histogram {
        self.inner.register_histogram(key, meta)
    }
}

/// Two threads move the breaker at once: a probe's success closes it, and
/// its thread is held up after that move; meanwhile a call on the other
/// thread fails and opens it again. The gauge ends on `open`, the
/// breaker's state, whoever sets it last. (It was set to each move's own
/// state: the held-up thread set `closed` over the open breaker, and the
/// gauge said closed until its next move.) Each move is counted once.
#[test]
fn the_state_gauge_ends_on_the_state_when_threads_move_the_breaker_at_once() {
    use retry_runtime::circuit::{CircuitState, Outcome as Told};
    retry_runtime::metrics::enable();
    let (arrived, held_up) = mpsc::channel();
    let (resume, resumed) = mpsc::channel();
    let recorder = HoldingUp {
        inner: DebuggingRecorder::new(),
        from: "half_open",
        to: "closed",
        arrived: Mutex::new(arrived),
        resume: Arc::new(Mutex::new(resumed)),
    };
    let snapshotter = recorder.inner.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let p = RACED.try_acquire().unwrap();
        RACED.record(p, Told::Failure); // open
        RACED_CLOCK.advance(S);
    });
    let probe = metrics::with_local_recorder(&recorder, || RACED.try_acquire().unwrap());
    assert!(probe.is_probe());
    std::thread::scope(|s| {
        // closes the breaker, and is held up counting that move
        let closing = s.spawn(|| {
            metrics::with_local_recorder(&recorder, || RACED.record(probe, Told::Success));
        });
        held_up.recv().unwrap();
        assert_eq!(RACED.state(), CircuitState::Closed);
        metrics::with_local_recorder(&recorder, || {
            let p = RACED.try_acquire().unwrap();
            RACED.record(p, Told::Failure); // open again
        });
        resume.send(()).unwrap();
        closing.join().unwrap();
    });
    assert_eq!(RACED.state(), CircuitState::Open);
    let rec = Recorded::from(&snapshotter);
    assert_eq!(
        state_of(&rec, "raced"),
        [("closed", 0.0), ("half_open", 0.0), ("open", 1.0)]
    );
    assert_eq!(
        transitions_of(&rec, "raced"),
        [
            ("closed", "open", 2),
            ("half_open", "closed", 1),
            ("open", "half_open", 1),
        ]
    );
}

/// A hedged call an open breaker turns away is counted as not attempted,
/// with 0 attempts, as the other forms' (the hedged run asks the guards
/// itself).
#[test]
fn a_hedged_call_turned_away_is_counted_not_attempted() {
    static SHUT: CircuitBreaker = CircuitBreaker::new("metrics-shut");
    SHUT.force_open();
    let hedged = Policy::new()
        .with_name("hedged_turned_away")
        .with_max_attempts(3)
        .with_hedge(std::time::Duration::from_millis(10))
        .with_circuit(&SHUT);
    let (rec, ()) = record(|| {
        let _ = block_on(async { hedged.retry(step_async).hedged().await });
    });
    let refused = Outcome::NotAttemptedCircuitOpen;
    assert_one_call(&rec, "hedged_turned_away", refused, 0, &[], "hedged");
}
