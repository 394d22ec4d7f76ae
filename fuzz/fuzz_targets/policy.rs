//! Fuzz the runtime's policy: `Policy`, `Backoff`, `Jitter` and `Stop` built
//! from arbitrary numbers, valid or not, then `build()`, `decide`/`decide_at`
//! for arbitrary retry counts and elapsed times, a `Run` driven to its end,
//! and the sync executor under `testing::pause()`.
//!
//! Checked for every policy:
//! - nothing panics (libFuzzer reports a panic as a crash);
//! - `build()` is `Ok` exactly when the attempts are at least 1, the
//!   backoff validates (first <= cap, factor a finite number >= 1, not all
//!   waits zero), decorrelated jitter has a backoff that starts above zero
//!   and grows, a Retry-After honoured for some kinds has a cap above
//!   zero, and the jitter adds something and at most ten times the wait;
//! - a `Retry` comes only before the attempt limit (0 attempts count as 1),
//!   and before the `max_elapsed` limit (elapsed + wait < limit);
//! - every wait is within `Jitter::bounds` of the backoff's delay (or is the
//!   server's hint, capped), and a delay is never above `max(first, cap)`;
//!   a valid backoff's delays are in `[first, cap]` and never shrink;
//! - `Run` and `Policy::retry(..)`, called and awaited (on a paused tokio
//!   clock) make at most `max(attempts, 1)` calls and report them truly: the
//!   `RetryError`, the `before_sleep` events (attempt below the limit, the
//!   wait slept) and the one `on_give_up` event agree; under a deadline the
//!   waits add up to less than it.
#![no_main]

use std::cell::{Cell, RefCell};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use retry_runtime::jitter::Rng;
use retry_runtime::{
    testing, Backoff, Decision, ErrorKind, GiveUpEvent, Jitter, KindSet, Policy, PolicyError,
    RetryAfter, RetryError, RetryEvent, Run, Stop, StopReason, When,
};

/// The edge values, shared with the regression tests (`cargo test`).
#[path = "../../tests/runtime/edge_values.rs"]
mod edge_values;

use edge_values::{DURATIONS as EDGE_DURATIONS, FACTORS as EDGE_FACTORS};

/// The error every attempt fails with, shared with the Retry-After tests.
#[path = "../../tests/runtime/hinted.rs"]
mod hinted;

use hinted::Hinted;

/// A duration: raw numbers (any `(u64, u32)` gives a valid `Duration`), small
/// milliseconds, or an edge value that random bytes would rarely hit.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum D {
    Raw(u64, u32),
    Millis(u16),
    Edge(u8),
}

impl D {
    fn get(self) -> Duration {
        match self {
            D::Raw(secs, nanos) => Duration::new(secs, nanos % 1_000_000_000),
            D::Millis(ms) => Duration::from_millis(ms.into()),
            D::Edge(i) => EDGE_DURATIONS[usize::from(i) % EDGE_DURATIONS.len()],
        }
    }
}

/// An exponential factor: raw bits, or an edge value.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum F {
    Raw(f64),
    Edge(u8),
}

impl F {
    fn get(self) -> f64 {
        match self {
            F::Raw(x) => x,
            F::Edge(i) => EDGE_FACTORS[usize::from(i) % EDGE_FACTORS.len()],
        }
    }
}

#[derive(Arbitrary, Debug)]
enum BackoffIn {
    None,
    Fixed(D),
    Linear(D, D, D),
    Exponential(D, D, F),
    /// Small numbers, where the interesting arithmetic is.
    ExponentialMillis(u16, u16, u8),
    Fibonacci(D, D),
}

#[derive(Arbitrary, Debug)]
enum JitterIn {
    None,
    Full,
    Equal,
    Decorrelated,
    Plus(D),
    Proportional(u32),
}

#[derive(Arbitrary, Debug)]
struct Input {
    attempts: u32,
    /// Attempts mostly small, so the executors below run to the limit.
    small_attempts: bool,
    max_elapsed: Option<D>,
    backoff: BackoffIn,
    jitter: JitterIn,
    /// Bits of the `KindSet` retried.
    retry_on: u8,
    /// Bits of the `KindSet` whose Retry-After hints are honoured.
    hint_kinds: u8,
    hint_cap: D,
    /// The error every attempt fails with: a kind (index) and a hint.
    error_kind: u8,
    error_hint: Option<D>,
    /// `(retries_done, elapsed)` pairs for `decide_at`.
    decisions: Vec<(u32, D)>,
    seed: u64,
}

fn kinds(bits: u8) -> KindSet {
    ErrorKind::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .fold(KindSet::EMPTY, |set, (_, &k)| set.with(k))
}

fn backoff(b: &BackoffIn) -> Backoff {
    match *b {
        BackoffIn::None => Backoff::None,
        BackoffIn::Fixed(d) => Backoff::fixed(d.get()),
        BackoffIn::Linear(s, st, c) => Backoff::linear(s.get(), st.get(), c.get()),
        BackoffIn::Exponential(f, c, x) => {
            Backoff::exponential(f.get(), c.get()).with_factor(x.get())
        }
        BackoffIn::ExponentialMillis(f, c, x) => Backoff::exponential(
            Duration::from_millis(f.into()),
            Duration::from_millis(c.into()),
        )
        .with_factor(f64::from(x) / 8.0),
        BackoffIn::Fibonacci(f, c) => Backoff::fibonacci(f.get(), c.get()),
    }
}

fn jitter(j: &JitterIn) -> Jitter {
    match *j {
        JitterIn::None => Jitter::None,
        JitterIn::Full => Jitter::Full,
        JitterIn::Equal => Jitter::Equal,
        JitterIn::Decorrelated => Jitter::Decorrelated,
        JitterIn::Plus(d) => Jitter::Plus(d.get()),
        JitterIn::Proportional(p) => Jitter::Proportional(p),
    }
}

fuzz_target!(|input: Input| {
    let attempts = if input.small_attempts {
        input.attempts % 8
    } else {
        input.attempts
    };
    let b = backoff(&input.backoff);
    let j = jitter(&input.jitter);
    let mut stop = Stop::after_attempts(attempts);
    if let Some(limit) = input.max_elapsed {
        stop = stop.with_max_elapsed(limit.get());
    }
    let policy = Policy::new()
        .with_stop(stop)
        .with_backoff(b)
        .with_jitter(j)
        .with_retry_after(
            RetryAfter::DEFAULT
                .with_kinds(kinds(input.hint_kinds))
                .with_cap(input.hint_cap.get()),
        )
        .retry_on(kinds(input.retry_on))
        .with_before_sleep(on_retry)
        .with_on_give_up(on_give_up);
    let error = Hinted {
        kind: ErrorKind::ALL[usize::from(input.error_kind) % ErrorKind::ALL.len()],
        after: input.error_hint.map(D::get),
    };

    check_build(&policy, attempts, &b);
    check_backoff(&b);

    let checker = Checker {
        policy: &policy,
        error: &error,
        limit: stop.max_attempts(),
    };
    for &(retries_done, elapsed) in &input.decisions {
        let elapsed = elapsed.get();
        let previous = match retries_done {
            0 => Duration::ZERO,
            n => b.delay(n - 1),
        };
        let decision = policy.decide_at(retries_done, elapsed, &error);
        checker.check(retries_done.saturating_add(1), previous, elapsed, decision);
        if elapsed.is_zero() {
            checker.check(
                retries_done.saturating_add(1),
                previous,
                elapsed,
                policy.decide(retries_done, &error),
            );
        }
    }

    // The seeded generator: the same bounds hold for every draw.
    let mut rng = Rng::with_seed(input.seed);
    for &(retries_done, elapsed) in input.decisions.iter().take(16) {
        let base = b.delay(retries_done);
        let previous = elapsed.get();
        let (lo, hi) = j.bounds(base, previous, &b);
        let got = j.apply(base, previous, &b, &mut rng);
        assert!(
            lo <= hi && lo <= got && got <= hi,
            "{j:?}: {got:?} not in [{lo:?}, {hi:?}]"
        );
    }

    if checker.limit <= 64 {
        drive_run(&checker);
        drive_executor(&policy, &error, checker.limit);
        // The longest wait possible: tokio caps a sleep at about two years,
        // and a capped sleep would make the run's clock lag behind its waits.
        let top = b.cap().max(b.first());
        let longest = j.bounds(top, top, &b).1.max(input.hint_cap.get());
        if longest <= Duration::from_secs(24 * 3600) {
            drive_async_executor(&policy, &error, checker.limit);
        }
    }
});

fn check_build<W: Copy>(policy: &Policy<W>, attempts: u32, b: &Backoff) {
    let decorrelated_without_range = policy.jitter() == Jitter::Decorrelated
        && !b.cap().is_zero()
        && (b.first().is_zero() || b.first() >= b.cap());
    let hints = policy.retry_after();
    let zero_hint_cap = !hints.kinds().is_empty() && hints.cap().is_zero();
    let jitter_adds_nothing_or_too_much = match policy.jitter() {
        Jitter::Plus(extra) => extra.is_zero(),
        Jitter::Proportional(percent) => percent == 0 || percent > 1000,
        _ => false,
    };
    let expected = if attempts == 0 {
        Err(PolicyError::ZeroAttempts)
    } else if policy.stop().max_elapsed() == Some(Duration::ZERO) {
        Err(PolicyError::ZeroMaxElapsed)
    } else if let Err(e) = b.validate() {
        Err(e)
    } else if decorrelated_without_range {
        Err(PolicyError::DecorrelatedWithoutRange)
    } else if zero_hint_cap {
        Err(PolicyError::ZeroRetryAfterCap)
    } else if jitter_adds_nothing_or_too_much {
        Err(PolicyError::JitterAmount)
    } else {
        Ok(())
    };
    assert_eq!(
        policy.build().map(|_| ()),
        expected,
        "{b:?}, {attempts} attempts"
    );
    let factor_ok = match *b {
        Backoff::Exponential { factor, .. } => factor.is_finite() && factor >= 1.0,
        _ => true,
    };
    let all_zero = match *b {
        Backoff::Exponential { first, .. } | Backoff::Fibonacci { first, .. } => first.is_zero(),
        Backoff::Linear { start, step, .. } => start.is_zero() && step.is_zero(),
        _ => false,
    };
    assert_eq!(
        b.validate().is_ok(),
        factor_ok && !all_zero && b.first() <= b.cap(),
        "validate() disagrees with first <= cap, a finite factor >= 1 and not all zero for {b:?}"
    );
}

fn check_backoff(b: &Backoff) {
    let valid = b.validate().is_ok();
    let top = b.cap().max(b.first());
    let mut previous = None;
    for r in (0..40).chain([1000, 1_000_000, u32::MAX - 1, u32::MAX]) {
        let d = b.delay(r);
        assert!(d <= top, "{b:?}: delay({r}) = {d:?} above {top:?}");
        if valid {
            assert!(
                b.first() <= d && d <= b.cap(),
                "{b:?}: delay({r}) = {d:?} outside [first, cap]"
            );
            if let Some((pr, p)) = previous {
                assert!(p <= d, "{b:?}: delay({pr}) = {p:?} > delay({r}) = {d:?}");
            }
        }
        previous = Some((r, d));
    }
}

struct Checker<'a, W> {
    policy: &'a Policy<W>,
    error: &'a Hinted,
    /// The attempt limit, 0 read as 1.
    limit: u32,
}

impl<W: Copy + When<Hinted> + std::fmt::Debug> Checker<'_, W> {
    /// `decision` was taken after `attempts_made` calls, the last wait `previous`.
    fn check(&self, attempts_made: u32, previous: Duration, elapsed: Duration, decision: Decision) {
        let p = self.policy;
        let verdict = p.when().check(self.error);
        let ctx = || {
            format!(
                "{p:?}, error {:?}, attempts made {attempts_made}, elapsed {elapsed:?}: {decision:?}",
                self.error
            )
        };
        let wait = match decision {
            Decision::GiveUp {
                reason: StopReason::Permanent,
                ..
            } => {
                assert!(!verdict.retry, "{}", ctx());
                return;
            }
            Decision::GiveUp {
                reason: StopReason::Attempts,
                ..
            } => {
                assert!(verdict.retry && attempts_made >= self.limit, "{}", ctx());
                return;
            }
            Decision::GiveUp {
                reason: StopReason::Deadline,
                ..
            } => {
                assert!(
                    verdict.retry && attempts_made < self.limit && p.stop().max_elapsed().is_some(),
                    "{}",
                    ctx()
                );
                return;
            }
            Decision::GiveUp { reason: other, .. } => {
                panic!("unexpected {other:?} without breaker or budget: {}", ctx())
            }
            Decision::Retry { wait, .. } => wait,
        };
        assert!(verdict.retry, "retried a permanent error: {}", ctx());
        assert!(
            attempts_made < self.limit,
            "retry past the attempt limit: {}",
            ctx()
        );
        if let Some(limit) = p.stop().max_elapsed() {
            assert!(
                elapsed.saturating_add(wait) < limit,
                "retry past the deadline: {}",
                ctx()
            );
        }
        let ra = p.retry_after();
        match self.error.after {
            Some(hint) if ra.kinds().contains(self.error.kind) => {
                assert_eq!(wait, hint.min(ra.cap()), "hint not honoured: {}", ctx());
            }
            _ => {
                let b = p.backoff();
                let base = b.delay(attempts_made - 1);
                let (lo, hi) = p.jitter().bounds(base, previous, &b);
                assert!(
                    lo <= wait && wait <= hi,
                    "wait outside [{lo:?}, {hi:?}] (base {base:?}): {}",
                    ctx()
                );
            }
        }
    }
}

/// A `Run` failed until it gives up: at most `limit` attempts, each wait checked.
fn drive_run<W: Copy + When<Hinted> + std::fmt::Debug>(c: &Checker<'_, W>) {
    let _paused = testing::pause();
    let mut run = Run::new(c.policy);
    let mut previous = Duration::ZERO;
    loop {
        let decision = run.failed(c.error);
        let made = run.attempts();
        assert!(made <= c.limit, "{} attempts, limit {}", made, c.limit);
        // A wait that would pass the deadline is never returned, so checking
        // with zero elapsed (a lower bound of the real one) is sound.
        c.check(made, previous, Duration::ZERO, decision);
        match decision {
            Decision::Retry { wait, .. } => previous = wait,
            Decision::GiveUp { .. } => break,
        }
    }
}

thread_local! {
    /// The waits `before_sleep` saw.
    static HOOK_WAITS: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
    /// The `on_give_up` events: how many, and the last one's attempts and reason.
    static GIVE_UPS: Cell<(u32, u32, Option<StopReason>)> = const { Cell::new((0, 0, None)) };
    /// For the async executor: a current-thread runtime with a paused clock.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
}

fn on_retry(ev: &RetryEvent<'_>) {
    assert!(
        ev.attempt >= 1 && ev.attempt < ev.max_attempts,
        "retry after attempt {} of {}",
        ev.attempt,
        ev.max_attempts
    );
    HOOK_WAITS.with(|w| w.borrow_mut().push(ev.wait));
}

fn on_give_up(ev: &GiveUpEvent<'_>) {
    assert!(ev.attempts >= 1 && ev.attempts <= ev.max_attempts);
    GIVE_UPS.with(|g| g.set((g.get().0 + 1, ev.attempts, Some(ev.reason))));
}

fn reset_hooks() {
    HOOK_WAITS.with(|w| w.borrow_mut().clear());
    GIVE_UPS.with(|g| g.set((0, 0, None)));
}

/// What an executor did agrees with its error, its hooks and its limits.
fn check_outcome<W: Copy>(
    policy: &Policy<W>,
    out: Result<retry_runtime::Succeeded<()>, RetryError<Hinted>>,
    calls: u32,
    waits: &[Duration],
    limit: u32,
) {
    let err = out.expect_err("every attempt fails");
    assert!((1..=limit).contains(&calls), "{calls} calls, limit {limit}");
    assert_eq!(err.attempts, calls);
    assert_eq!(waits.len() as u32, calls - 1);
    assert_eq!(HOOK_WAITS.with(|w| w.borrow().clone()), waits);
    assert_eq!(GIVE_UPS.with(Cell::get), (1, calls, Some(err.reason)));
    if err.reason == StopReason::Attempts {
        assert_eq!(calls, limit);
    }
    let total = waits
        .iter()
        .try_fold(Duration::ZERO, |sum, w| sum.checked_add(*w));
    if let (Some(deadline), Some(total)) = (policy.stop().max_elapsed(), total) {
        assert!(
            total < deadline || waits.is_empty(),
            "waited {total:?} in all, deadline {deadline:?}"
        );
    }
}

/// The sync executor under `testing::pause()`: virtual sleeps of any length.
fn drive_executor<W: Copy + When<Hinted>>(policy: &Policy<W>, error: &Hinted, limit: u32) {
    reset_hooks();
    let paused = testing::pause();
    let mut calls = 0u32;
    let out = policy
        .retry(|| {
            calls += 1;
            Err(*error)
        })
        .detailed()
        .call();
    check_outcome(policy, out, calls, &paused.waits(), limit);
}

/// The async executor on tokio's paused clock (each sleep really happens,
/// virtually). Only for waits of a day at most (see the caller).
fn drive_async_executor<W: Copy + When<Hinted> + retry_runtime::RetriedKinds>(
    policy: &Policy<W>,
    error: &Hinted,
    limit: u32,
) {
    reset_hooks();
    RUNTIME.with(|rt| {
        rt.block_on(async {
            let paused = testing::pause();
            let start = tokio::time::Instant::now();
            let mut calls = 0u32;
            let out = policy
                .retry(|| {
                    calls += 1;
                    let error = *error;
                    async move { Err::<(), _>(error) }
                })
                .detailed()
                .await;
            let waits = paused.waits();
            check_outcome(policy, out, calls, &waits, limit);
            let total: Option<Duration> = waits
                .iter()
                .try_fold(Duration::ZERO, |sum, w| sum.checked_add(*w));
            if let Some(total) = total {
                // tokio's timer ticks in whole milliseconds
                let elapsed = start.elapsed();
                let slack = Duration::from_millis(u64::from(calls));
                assert!(
                    total <= elapsed && elapsed <= total + slack,
                    "slept {elapsed:?} for waits adding up to {total:?}"
                );
            }
        })
    });
}
