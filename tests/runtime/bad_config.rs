//! No silent misuse at run time: a `Policy` built from configuration values
//! (strings parsed with `str::parse`, as a config file or environment gives
//! them) is checked by `Policy::build()`, which returns an error naming the
//! first invalid value: zero attempts, a zero `max_elapsed`, a cap below the
//! first delay, an exponential factor that is NaN, negative or below 1,
//! decorrelated jitter on a backoff that does not grow (or starts at zero),
//! a zero cap on the Retry-After hints it honours, or a circuit breaker
//! that can never open (`with_failures(0)` and no failure-rate window).
//!
//! An invalid policy that skipped `build()` still never panics. What it does
//! instead, asserted below (the "nearest valid neighbour" of the `Policy` docs):
//! - 0 attempts: one call, no retry (`StopReason::Attempts`);
//! - a factor below 1, negative or NaN: every wait is the first delay;
//! - a first delay above the cap: every wait is the cap (linear, exponential,
//!   fibonacci), and decorrelated jitter stays within `[0, cap]`;
//! - a `max_elapsed` of zero: one call, no retry (`StopReason::Deadline`);
//! - an infinite factor: the first delay, then the cap;
//! - waits of `Duration::MAX` (and jitter on top) saturate, sync and async.

use std::str::FromStr;
use std::time::Duration;

use retry_runtime::{
    testing, Backoff, Decision, Jitter, Policy, PolicyError, RetryError, Stop, StopReason,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The settings a service might read from its config file, as text.
struct RetryConfig<'a> {
    attempts: &'a str,
    kind: &'a str,
    first_ms: &'a str,
    cap_ms: &'a str,
    factor: &'a str,
}

impl RetryConfig<'_> {
    const DEFAULT: RetryConfig<'static> = RetryConfig {
        attempts: "4",
        kind: "exp",
        first_ms: "100",
        cap_ms: "2000",
        factor: "2",
    };

    /// The policy as written, without checking it.
    fn policy(&self) -> Policy {
        let attempts = parse::<u32>(self.attempts);
        let (first, cap) = (ms(parse(self.first_ms)), ms(parse(self.cap_ms)));
        let backoff = match self.kind {
            "exp" => Backoff::exponential(first, cap).with_factor(parse(self.factor)),
            "fib" => Backoff::fibonacci(first, cap),
            "linear" => Backoff::linear(first, first, cap),
            "fixed" => Backoff::fixed(first),
            other => panic!("unknown kind {other}"),
        };
        Policy::new()
            .with_max_attempts(attempts)
            .with_backoff(backoff)
            .with_name("from_config")
    }

    /// What a service should do: check it.
    fn build(&self) -> Result<Policy, PolicyError> {
        self.policy().build()
    }
}

/// The config value as Rust parses it (`"NaN"`, `"-inf"` and `"1e309"` are
/// all valid `f64` text).
fn parse<T: FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {e:?}"))
}

#[test]
fn a_valid_config_builds() {
    assert!(RetryConfig::DEFAULT.build().is_ok());
    // the edges of valid: factor exactly 1, first == cap, a huge factor
    for (first_ms, cap_ms, factor) in [("100", "100", "1"), ("1", "1", "1.0"), ("1", "5", "1e3")] {
        let c = RetryConfig {
            first_ms,
            cap_ms,
            factor,
            ..RetryConfig::DEFAULT
        };
        assert!(c.build().is_ok(), "{first_ms} {cap_ms} {factor}");
    }
}

#[test]
fn a_zero_first_delay_is_an_error() {
    // exponential from 0 stays at 0: every wait would be zero
    for (first_ms, cap_ms) in [("0", "0"), ("0", "5")] {
        let c = RetryConfig {
            first_ms,
            cap_ms,
            ..RetryConfig::DEFAULT
        };
        assert_eq!(
            c.build().err(),
            Some(PolicyError::ZeroDelays),
            "{first_ms} {cap_ms}"
        );
    }
}

#[test]
fn zero_attempts_is_an_error() {
    let c = RetryConfig {
        attempts: "0",
        ..RetryConfig::DEFAULT
    };
    let err = c.build().unwrap_err();
    assert_eq!(err, PolicyError::ZeroAttempts);
    assert_eq!(err.to_string(), "attempts must be at least 1");
    // the same through a `Stop` value
    let stop = Stop::after_attempts(0).with_max_elapsed(Duration::from_secs(5));
    assert_eq!(
        Policy::new().with_stop(stop).build().unwrap_err(),
        PolicyError::ZeroAttempts
    );
}

#[test]
fn a_zero_max_elapsed_is_an_error() {
    // a config where 0 meant "no limit" would otherwise never retry
    let zero = Policy::new()
        .with_max_attempts(5)
        .with_max_elapsed(Duration::ZERO);
    assert_eq!(zero.build().unwrap_err(), PolicyError::ZeroMaxElapsed);
    assert!(zero
        .build()
        .unwrap_err()
        .to_string()
        .contains("unset for no limit"));
    // the smallest limit is fine
    assert!(Policy::new()
        .with_max_elapsed(Duration::from_nanos(1))
        .build()
        .is_ok());
}

#[test]
fn decorrelated_jitter_needs_a_backoff_that_grows() {
    let s = Duration::from_secs;
    for b in [
        Backoff::fixed(s(1)),
        Backoff::exponential(s(2), s(2)),
        Backoff::fibonacci(s(2), s(2)),
        Backoff::linear(s(2), s(1), s(2)),
    ] {
        let p = Policy::new()
            .with_backoff(b)
            .with_jitter(Jitter::Decorrelated);
        assert_eq!(
            p.build().unwrap_err(),
            PolicyError::DecorrelatedWithoutRange,
            "{b}"
        );
        // the other jitters have room on a fixed wait
        assert!(p.with_jitter(Jitter::Full).build().is_ok(), "{b}");
    }
    let grows = Policy::new()
        .with_backoff(Backoff::exponential(s(1), s(4)))
        .with_jitter(Jitter::Decorrelated);
    assert!(grows.build().is_ok());
    // a linear backoff from zero grows, but decorrelated jitter draws from
    // [first, 3 x first] = [0, 0]: every wait would be zero
    let from_zero = Policy::new()
        .with_backoff(Backoff::linear(Duration::ZERO, s(1), s(10)))
        .with_jitter(Jitter::Decorrelated);
    assert_eq!(
        from_zero.build().unwrap_err(),
        PolicyError::DecorrelatedWithoutRange
    );
    assert!(from_zero.with_jitter(Jitter::None).build().is_ok());
}

#[test]
fn a_retry_after_cap_of_zero_is_refused_unless_no_hint_is_honoured() {
    use retry_runtime::{kinds, RetryAfter};
    let zero_cap = RetryAfter::DEFAULT
        .with_kinds(kinds![RateLimited])
        .with_cap(Duration::ZERO);
    assert_eq!(
        Policy::new()
            .with_retry_after(zero_cap)
            .build()
            .unwrap_err(),
        PolicyError::ZeroRetryAfterCap
    );
    // ignoring hints is said with no kinds (IGNORE's cap is zero too)
    assert!(Policy::new()
        .with_retry_after(RetryAfter::IGNORE)
        .build()
        .is_ok());
}

/// A floor on the hints of a `RetryAfter` that reads none bounds nothing:
/// `RetryAfter::IGNORE.with_floor(floor)` builds (it was refused as a
/// floor above its cap, IGNORE's cap being zero); with kinds it is still
/// refused.
#[test]
fn a_retry_after_floor_is_checked_only_when_hints_are_read() {
    use retry_runtime::{kinds, RetryAfter};
    let ignoring = RetryAfter::IGNORE.with_floor(ms(500));
    assert!(Policy::new().with_retry_after(ignoring).build().is_ok());
    let reading = RetryAfter::DEFAULT
        .with_kinds(kinds![RateLimited])
        .with_floor(ms(500))
        .with_cap(ms(100));
    assert_eq!(
        Policy::new().with_retry_after(reading).build().unwrap_err(),
        PolicyError::RetryAfterFloorAboveCap
    );
}

/// A jitter that adds nothing (`Plus(ZERO)`, `Proportional(0)`) or more
/// than ten times the wait (above 1000%) is refused by `build`, as the
/// attribute refuses `"+0s"`, `"+0%"` and `"+5000%"` (it was built, so a
/// policy from configuration got what the attribute would not take).
#[test]
fn a_jitter_that_adds_nothing_or_too_much_is_an_error() {
    for jitter in [
        Jitter::Plus(Duration::ZERO),
        Jitter::Proportional(0),
        Jitter::Proportional(1001),
        Jitter::Proportional(5000),
    ] {
        assert_eq!(
            Policy::new().with_jitter(jitter).build().unwrap_err(),
            PolicyError::JitterAmount,
            "{jitter:?}"
        );
    }
    for jitter in [
        Jitter::Plus(ms(1)),
        Jitter::Proportional(1),
        Jitter::Proportional(1000),
    ] {
        assert!(
            Policy::new().with_jitter(jitter).build().is_ok(),
            "{jitter:?}"
        );
    }
}

/// A hedge with one attempt could never start (at most `attempts` run at
/// once): refused, where it was built and did nothing.
#[test]
fn a_hedge_with_one_attempt_is_an_error() {
    let one = Policy::new().with_max_attempts(1).with_hedge(ms(100));
    assert_eq!(one.build().unwrap_err(), PolicyError::HedgeWithOneAttempt);
    assert!(one.with_max_attempts(2).build().is_ok());
}

/// `with_failures(0)` turns the consecutive-failure rule off; without a
/// failure-rate window the breaker could never open, silently. `build`
/// says so; either rule alone is enough. (In a `static`, `checked` makes
/// it a compile error: the doctest of `CircuitBreaker::with_failures`.)
#[test]
fn a_breaker_that_can_never_open_is_an_error() {
    use retry_runtime::{presets, CircuitBreaker, RetryOn, WithCircuit};
    static NEVER: CircuitBreaker = CircuitBreaker::new("never").with_failures(0);
    static RATE_ONLY: CircuitBreaker = CircuitBreaker::new("rate")
        .with_failures(0)
        .with_failure_rate(50, 20);
    static RATE_OFF_AGAIN: CircuitBreaker = CircuitBreaker::new("off")
        .with_failures(0)
        .with_failure_rate(50, 20)
        .with_failure_rate(50, 0);
    static COUNT_ONLY: CircuitBreaker = CircuitBreaker::new("count").with_failures(1);
    // valid ones pass `checked` in a `static`
    static API: Policy<RetryOn, WithCircuit> = presets::API.with_circuit(&RATE_ONLY).checked();
    assert!(API.circuit().is_some());

    let err = Policy::new().with_circuit(&NEVER).build().unwrap_err();
    assert_eq!(err, PolicyError::CircuitNeverOpens);
    assert!(
        err.to_string()
            .starts_with("the circuit breaker can never open"),
        "{err}"
    );
    assert_eq!(
        presets::API
            .with_circuit(&RATE_OFF_AGAIN)
            .build()
            .unwrap_err(),
        PolicyError::CircuitNeverOpens
    );
    assert!(Policy::new().with_circuit(&RATE_ONLY).build().is_ok());
    assert!(Policy::new().with_circuit(&COUNT_ONLY).build().is_ok());
    assert!(
        Policy::new().build().is_ok(),
        "no breaker, nothing to check"
    );
}

#[test]
fn decorrelated_jitter_spreads_the_first_retry() {
    // AWS's decorrelated jitter starts from `sleep = base`: the first retry
    // of clients that failed together is drawn from [base, 3 * base], not
    // taken at `base` by every one of them.
    let p = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::exponential(ms(1000), ms(10_000)))
        .with_jitter(Jitter::Decorrelated)
        .checked();
    let firsts: Vec<Duration> = (0..100).map(|_| sync_waits(&p).0[0]).collect();
    assert!(
        firsts.iter().all(|w| (ms(1000)..=ms(3000)).contains(w)),
        "{firsts:?}"
    );
    let distinct: std::collections::BTreeSet<_> = firsts.iter().collect();
    assert!(distinct.len() > 50, "{distinct:?}");
}

/// Each retry's decorrelated wait is drawn up to 3 × the run's previous
/// wait (capped), not from `first` again: the waits grow past `3 * first`.
#[test]
fn decorrelated_jitter_grows_from_the_previous_wait() {
    let p = Policy::new()
        .with_max_attempts(8)
        .with_backoff(Backoff::exponential(ms(1000), ms(60_000)))
        .with_jitter(Jitter::Decorrelated)
        .checked();
    testing::seed(7);
    let runs: Vec<Vec<Duration>> = (0..20).map(|_| sync_waits(&p).0).collect();
    for waits in &runs {
        assert_eq!(waits.len(), 7);
        let mut previous = ms(1000);
        for &w in waits {
            assert!(
                w >= ms(1000) && w <= (previous * 3).min(ms(60_000)),
                "{waits:?}"
            );
            previous = w;
        }
    }
    let longest = runs.iter().flatten().max().unwrap();
    assert!(*longest > ms(3000), "{runs:?}");
}

#[test]
fn cap_below_first_delay_is_an_error() {
    for kind in ["exp", "fib", "linear"] {
        let c = RetryConfig {
            kind,
            first_ms: "5000",
            cap_ms: "1000",
            ..RetryConfig::DEFAULT
        };
        let err = c.build().unwrap_err();
        assert_eq!(err, PolicyError::FirstAboveCap, "{kind}");
        assert!(err.to_string().contains("greater than its cap"), "{err}");
    }
    // by one nanosecond
    let b = Backoff::exponential(Duration::new(1, 1), Duration::new(1, 0));
    assert_eq!(
        Policy::new().with_backoff(b).build().unwrap_err(),
        PolicyError::FirstAboveCap
    );
    // a fixed backoff has no cap: nothing to get wrong
    let fixed = RetryConfig {
        kind: "fixed",
        first_ms: "5000",
        cap_ms: "1000",
        ..RetryConfig::DEFAULT
    };
    assert!(fixed.build().is_ok());
}

#[test]
fn nan_negative_and_small_factors_are_errors() {
    for factor in [
        "NaN", "nan", "-NaN", "-2", "-1", "-0", "0", "0.5", "0.999999", "-inf", "-1e309",
    ] {
        let c = RetryConfig {
            factor,
            ..RetryConfig::DEFAULT
        };
        let err = c.build().unwrap_err();
        assert_eq!(err, PolicyError::FactorBelowOne, "factor {factor:?}");
        assert!(err.to_string().contains(">= 1"), "{err}");
    }
}

/// The macro's DSL rejects an infinite factor ("factor is finite and at least
/// 1"), and so should the runtime: `exp(100ms, 2s)` with factor `inf` jumps
/// from the first delay straight to the cap, which no one configures on
/// purpose; `"inf"`, `"infinity"` and an overflowing `"1e309"` all parse to it.
#[test]
fn infinite_factors_are_errors() {
    for factor in ["inf", "+inf", "infinity", "Infinity", "1e309"] {
        let c = RetryConfig {
            factor,
            ..RetryConfig::DEFAULT
        };
        assert_eq!(
            c.build().unwrap_err(),
            PolicyError::FactorBelowOne,
            "factor {factor:?}"
        );
    }
}

#[test]
fn the_first_invalid_value_is_named() {
    let c = RetryConfig {
        attempts: "0",
        first_ms: "5000",
        cap_ms: "1000",
        factor: "NaN",
        ..RetryConfig::DEFAULT
    };
    assert_eq!(c.build().unwrap_err(), PolicyError::ZeroAttempts);
    let c = RetryConfig {
        first_ms: "5000",
        cap_ms: "1000",
        factor: "NaN",
        ..RetryConfig::DEFAULT
    };
    assert_eq!(c.build().unwrap_err(), PolicyError::FactorBelowOne);
}

// ---------------------------------------------------------------------------
// Unchecked invalid policies: no panic, the documented fallback.
// ---------------------------------------------------------------------------

/// The waits of a sync run that always fails, and its error.
fn sync_waits(p: &Policy) -> (Vec<Duration>, RetryError<&'static str>) {
    let paused = testing::pause();
    let err = p
        .retry(|| Err::<(), _>("down"))
        .detailed()
        .call()
        .unwrap_err();
    (paused.waits(), err)
}

#[test]
fn zero_attempts_unchecked_makes_one_call() {
    let p = Policy::new().with_max_attempts(0);
    let (waits, err) = sync_waits(&p);
    assert!(waits.is_empty());
    assert_eq!((err.attempts, err.reason), (1, StopReason::Attempts));
    assert_eq!(p.decide(0, &"e"), Decision::give_up(StopReason::Attempts));
    assert_eq!(
        p.decide(u32::MAX, &"e"),
        Decision::give_up(StopReason::Attempts)
    );
}

#[test]
fn bad_factors_unchecked_keep_the_first_delay() {
    for factor in [f64::NAN, -2.0, 0.0, 0.5, f64::NEG_INFINITY, -0.0] {
        let p = Policy::new()
            .with_max_attempts(5)
            .with_backoff(Backoff::exponential(ms(100), ms(2000)).with_factor(factor));
        let (waits, err) = sync_waits(&p);
        assert_eq!(waits, [ms(100); 4], "factor {factor}");
        assert_eq!(err.attempts, 5);
        for r in [0, 1, 1000, u32::MAX] {
            assert_eq!(p.backoff().delay(r), ms(100), "factor {factor}");
        }
    }
}

#[test]
fn infinite_factor_unchecked_jumps_to_the_cap() {
    let p = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::exponential(ms(100), ms(2000)).with_factor(f64::INFINITY));
    let (waits, _) = sync_waits(&p);
    assert_eq!(waits, [ms(100), ms(2000), ms(2000)]);
}

#[test]
fn cap_below_first_unchecked_waits_the_cap() {
    for b in [
        Backoff::exponential(ms(5000), ms(1000)),
        Backoff::fibonacci(ms(5000), ms(1000)),
        Backoff::linear(ms(5000), ms(5000), ms(1000)),
    ] {
        let p = Policy::new().with_max_attempts(4).with_backoff(b);
        let (waits, _) = sync_waits(&p);
        assert_eq!(waits, [ms(1000); 3], "{b}");
        // jitter never leaves [0, cap] either
        for j in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let (waits, _) = sync_waits(&p.with_jitter(j));
            assert!(waits.iter().all(|w| *w <= ms(1000)), "{b} {j}: {waits:?}");
        }
    }
}

#[test]
fn huge_waits_saturate_sync() {
    let p = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::exponential(Duration::MAX, Duration::MAX))
        .with_jitter(Jitter::Plus(Duration::MAX));
    let (waits, err) = sync_waits(&p);
    assert_eq!(waits, [Duration::MAX; 2]);
    assert_eq!(err.attempts, 3);
    // with a deadline: the first wait already reaches it
    let p = p.with_max_elapsed(Duration::from_secs(60));
    let (waits, err) = sync_waits(&p);
    assert!(waits.is_empty());
    assert_eq!((err.attempts, err.reason), (1, StopReason::Deadline));
    // proportional jitter on a huge delay
    let p = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::MAX))
        .with_jitter(Jitter::Proportional(u32::MAX));
    assert_eq!(sync_waits(&p).0, [Duration::MAX]);
}

#[tokio::test(start_paused = true)]
async fn huge_waits_do_not_panic_async() {
    let p = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::MAX))
        .with_jitter(Jitter::Plus(Duration::MAX));
    let mut calls = 0;
    let out = p
        .retry(|| {
            calls += 1;
            async { Err::<(), _>("down") }
        })
        .detailed()
        .await;
    let err = out.unwrap_err();
    assert_eq!(
        (calls, err.attempts, err.reason),
        (2, 2, StopReason::Attempts)
    );
}

/// `max_elapsed` of zero is refused by `build()` (as `#[retry]` refuses
/// `max_elapsed = "0s"`); unchecked, it means "never retry" (every retry
/// would start at or after the deadline).
#[test]
fn zero_max_elapsed_unchecked_means_no_retry() {
    let p = Policy::new()
        .with_max_attempts(5)
        .with_max_elapsed(Duration::ZERO);
    assert!(p.build().is_err());
    let (waits, err) = sync_waits(&p);
    assert!(waits.is_empty());
    assert_eq!((err.attempts, err.reason), (1, StopReason::Deadline));
}

/// A schedule read from a configuration's text: its waits are checked as
/// the attribute checks them, and `build` refuses an attempt limit that
/// leaves some of them unused (the trap of the default 3 attempts).
#[test]
fn a_schedule_from_config_is_checked_against_the_attempts() {
    let schedule: Backoff = parse("schedule(1m, 5m, 30m)");
    let with = |attempts| {
        Policy::new()
            .with_max_attempts(attempts)
            .with_backoff(schedule)
            .build()
    };
    assert_eq!(with(3).err(), Some(PolicyError::ScheduleBeyondAttempts));
    assert!(PolicyError::ScheduleBeyondAttempts
        .to_string()
        .contains("set the attempts to the waits + 1"));
    assert!(with(4).is_ok());
    assert!(with(10).is_ok(), "the last wait repeats");
    // decorrelated jitter would draw its own waits
    let decorrelated = Policy::new()
        .with_max_attempts(4)
        .with_backoff(schedule)
        .with_jitter(Jitter::Decorrelated)
        .build();
    assert_eq!(
        decorrelated.err(),
        Some(PolicyError::DecorrelatedOverSchedule)
    );
    let spread = Policy::new()
        .with_max_attempts(4)
        .with_backoff(schedule)
        .with_jitter(Jitter::Proportional(25))
        .build();
    assert!(spread.is_ok());
    // text the grammar refuses never becomes a backoff
    for bad in [
        "schedule()",
        "schedule(0s, 0s)",
        "schedule(1s,, 2s)",
        "schedule(1 sec)",
    ] {
        assert!(bad.parse::<Backoff>().is_err(), "{bad}");
    }
    // one given in code is checked by `build` the same way
    static EMPTY: [Duration; 0] = [];
    let empty = Policy::new()
        .with_backoff(Backoff::schedule(&EMPTY))
        .build();
    assert_eq!(empty.err(), Some(PolicyError::ScheduleLength));
}
