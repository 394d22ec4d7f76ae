//! Fuzz the `#[retry]` string DSL on arbitrary UTF-8.
//!
//! The parser is the `retry-dsl` crate, which the attribute and the
//! runtime's `FromStr` impls share. For every input:
//! - no parser panics (libFuzzer reports a panic as a crash);
//! - every `Ok` value prints to text that parses back to the same value;
//! - a parsed duration agrees with an independent reading of the text (`f64`);
//! - a backoff's first delay is at most its cap, its factor finite and >= 1;
//! - a jitter amount is non-zero, a percent in 1..=1000;
//! - what the macro accepts, the runtime accepts: the runtime's `str::parse`
//!   (the mapping `expand/policy.rs` writes as tokens) makes a `Backoff` that passes
//!   `Policy::build`, so the generated `const { ... .checked() }` can never
//!   fail to compile; and it prints back to text that parses to it (a
//!   jitter too).
#![no_main]

use std::fmt;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use retry_runtime::{Backoff, Jitter, Policy};

use retry_dsl as dsl;

use dsl::{BackoffSpec, JitterSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_duration(text);
    check_backoff(text);
    check_jitter(text);
    let _ = dsl::closest(text, &["none", "fixed", "linear", "exp", "fib"]);
});

/// `text` parsed with `parse`, if it parses; its form printed by `print`
/// parses back to the same value.
fn round_trip<T: Copy + PartialEq + fmt::Debug, E: PartialEq + fmt::Debug>(
    text: &str,
    parse: fn(&str) -> Result<T, E>,
    print: fn(T) -> String,
) -> Option<T> {
    let value = parse(text).ok()?;
    let printed = print(value);
    assert_eq!(
        parse(&printed),
        Ok(value),
        "{text:?} parsed as {value:?}, printed as {printed:?}"
    );
    Some(value)
}

fn check_duration(text: &str) {
    let Some(d) = round_trip(text, dsl::parse_duration, dsl::format_duration) else {
        return;
    };
    let approx = approximate_nanos(text)
        .unwrap_or_else(|| panic!("{text:?} parsed as {d:?} but does not look like a duration"));
    let exact = d.as_nanos() as f64;
    let tolerance = exact.abs().max(1.0) * 1e-12;
    assert!(
        (approx - exact).abs() <= tolerance,
        "{text:?} parsed as {d:?} ({exact} ns), but reads as {approx} ns"
    );
}

/// The duration's value in nanoseconds, read independently of the parser:
/// the leading `[0-9.]` run as an `f64`, times the unit that follows.
fn approximate_nanos(text: &str) -> Option<f64> {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(end);
    let unit_nanos = match unit.trim() {
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    Some(number.parse::<f64>().ok()? * unit_nanos)
}

fn check_backoff(text: &str) {
    let Some(spec) = round_trip(text, dsl::parse_backoff, |spec| spec.to_string()) else {
        return;
    };
    match spec {
        BackoffSpec::None => {}
        BackoffSpec::Fixed(wait) => {
            assert!(
                !wait.is_zero(),
                "{text:?}: a zero fixed wait (write `none`)"
            );
        }
        BackoffSpec::Linear { start: first, cap } | BackoffSpec::Fib { first, cap } => {
            assert!(first <= cap, "{text:?}: first above cap in {spec:?}");
        }
        BackoffSpec::Exp { first, cap, factor } => {
            assert!(first <= cap, "{text:?}: first above cap in {spec:?}");
            assert!(
                factor.is_finite() && factor >= 1.0,
                "{text:?}: bad factor in {spec:?}"
            );
        }
        BackoffSpec::Schedule(schedule) => {
            let waits = schedule.waits();
            assert!(
                (1..=dsl::MAX_SCHEDULE).contains(&waits.len()),
                "{text:?}: {} waits in {spec:?}",
                waits.len()
            );
            assert!(
                waits.iter().any(|w| !w.is_zero()),
                "{text:?}: every wait zero (write `none`)"
            );
        }
    }
    // the runtime's own `FromStr` (the mapping expand/policy.rs writes as tokens;
    // tests/runtime/parse.rs compares their waits) accepts it too
    let runtime = match text.parse::<Backoff>() {
        Ok(runtime) => runtime,
        Err(e) => {
            panic!("{text:?} is accepted by the macro as {spec:?} but not by str::parse: {e}")
        }
    };
    // (with attempts enough for any schedule's waits, which the macro
    // checks against the function's own `attempts`)
    let attempts = dsl::MAX_SCHEDULE as u32 + 1;
    assert_eq!(
        Policy::new()
            .with_max_attempts(attempts)
            .with_backoff(runtime)
            .build()
            .err(),
        None,
        "{text:?} is accepted by the macro as {spec:?} but rejected by the runtime as {runtime:?}"
    );
    // and it prints back to text that parses to it
    assert_eq!(
        runtime.to_string().parse::<Backoff>(),
        Ok(runtime),
        "{text:?}"
    );
}

fn check_jitter(text: &str) {
    let Some(spec) = round_trip(text, dsl::parse_jitter, |spec| spec.to_string()) else {
        return;
    };
    match spec {
        JitterSpec::Plus(d) => assert!(!d.is_zero(), "{text:?}: zero jitter amount"),
        JitterSpec::Percent(p) => assert!(
            (1..=1000).contains(&p),
            "{text:?}: percent {p} out of range"
        ),
        JitterSpec::None | JitterSpec::Full | JitterSpec::Equal | JitterSpec::Decorrelated => {}
    }
    // the runtime's own `FromStr` accepts it too
    let runtime = match text.parse::<Jitter>() {
        Ok(runtime) => runtime,
        Err(e) => {
            panic!("{text:?} is accepted by the macro as {spec:?} but not by str::parse: {e}")
        }
    };
    assert_eq!(
        runtime.to_string().parse::<Jitter>(),
        Ok(runtime),
        "{text:?}"
    );
    // Any wait, any backoff: the runtime's bounds are ordered.
    let backoff = Backoff::exponential(Duration::from_secs(1), Duration::MAX);
    let (lo, hi) = runtime.bounds(Duration::MAX, Duration::MAX, &backoff);
    assert!(lo <= hi, "{text:?}: bounds {lo:?} > {hi:?}");
}
