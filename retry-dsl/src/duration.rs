//! Durations: [`parse_duration`] reads "500ms", "1.5s", "2m", "1h" exactly in
//! integer nanoseconds, [`format_duration`] writes a `Duration` back in the
//! largest unit that holds it whole, and the messages for what is not a duration.

use std::time::Duration;

use crate::DslError;

const NANOS_PER_MS: u128 = 1_000_000;
const NANOS_PER_S: u128 = 1_000_000_000;
const NANOS_PER_M: u128 = 60 * NANOS_PER_S;
const NANOS_PER_H: u128 = 60 * NANOS_PER_M;

/// Units from largest to smallest: the order [`format_duration`] tries them in.
const UNITS: [(&str, u128); 4] = [
    ("h", NANOS_PER_H),
    ("m", NANOS_PER_M),
    ("s", NANOS_PER_S),
    ("ms", NANOS_PER_MS),
];

/// More fraction digits than this (after trailing zeros are dropped) can never
/// land on a whole nanosecond: the largest unit, `h`, is 2^13 * 3^2 * 5^11 ns, so
/// at most 13 digits can divide evenly. 20 keeps every product inside `u128`.
const MAX_FRACTION_DIGITS: usize = 20;

const DURATION_EXAMPLES: &str = "\"500ms\", \"1s\", \"2m\" or \"1h\"";
const UNIT_LIST: &str = "`ms`, `s`, `m`, `h` (e.g. \"500ms\", \"1.5s\", \"2m\")";

/// Parses a duration: a number, then one of the units `ms`, `s`, `m`, `h`.
///
/// ```text
/// "1s", " 1 s ", "500ms", "0.5s", "0.1s" (exactly 100ms), "2m", "1h", "1.25h", "0s"
/// ```
///
/// The number is digits with an optional `.digits` part; there is no sign, no
/// exponent, and `.5` and `5.` are rejected. The value is computed exactly in
/// integer nanoseconds: a value finer than one nanosecond, or longer than
/// `u64::MAX` seconds, is an error.
pub fn parse_duration(s: &str) -> Result<Duration, DslError> {
    let text = s.trim();
    let (int, after_int) = split_while(text, |c| c.is_ascii_digit());
    if int.is_empty() {
        return Err(no_number(text));
    }
    let (frac, rest) = match after_int.strip_prefix('.') {
        Some(after_dot) => {
            let (frac, rest) = split_while(after_dot, |c| c.is_ascii_digit());
            if frac.is_empty() {
                // the examples keep the unit written after the point, if it is one
                let (written, _) = split_while(rest.trim_start(), char::is_alphabetic);
                let unit = UNITS
                    .iter()
                    .map(|(name, _)| *name)
                    .find(|name| *name == written)
                    .unwrap_or("s");
                return Err(DslError::new(format!(
                    "write a digit after the decimal point in `{text}`, \
                     e.g. `{int}.5{unit}`, or drop the point: `{int}{unit}`"
                )));
            }
            (frac, rest)
        }
        None => ("", after_int),
    };
    let number = text.strip_suffix(rest).unwrap_or(text);

    let rest = rest.trim_start();
    if rest.is_empty() {
        // a bare number of at least 100 was most likely meant in milliseconds
        let (likely, other) = if int.len() >= 3 {
            ("ms", "s")
        } else {
            ("s", "ms")
        };
        return Err(DslError::new(format!(
            "missing duration unit after `{number}`; write e.g. `{number}{likely}` or `{number}{other}`"
        )));
    }
    if looks_like_exponent(rest) {
        return Err(DslError::new(format!(
            "exponents are not supported in durations (found `{text}`); \
             write the number out in full, or use a larger unit"
        )));
    }
    let (unit, trailing) = split_while(rest, char::is_alphabetic);
    if unit.is_empty() {
        return Err(DslError::new(format!(
            "expected a duration unit ({UNIT_LIST}) after `{number}`, found `{rest}`"
        )));
    }
    let unit_nanos = match unit {
        "ms" => NANOS_PER_MS,
        "s" => NANOS_PER_S,
        "m" => NANOS_PER_M,
        "h" => NANOS_PER_H,
        _ => return Err(unknown_unit(unit)),
    };
    let trailing = trailing.trim();
    if !trailing.is_empty() {
        let hint = if trailing.starts_with(|c: char| c.is_ascii_digit()) {
            match sum_of_pieces(text) {
                Some(total) => format!(
                    "; a duration is one number and one unit: write `{}`",
                    format_duration(total)
                ),
                None => "; a duration is one number and one unit".to_owned(),
            }
        } else {
            String::new()
        };
        return Err(DslError::new(format!(
            "unexpected `{trailing}` after the duration `{number}{unit}`{hint}"
        )));
    }

    let too_large = || {
        DslError::new(format!(
            "duration `{text}` is too large: the longest duration is {}s \
             (about 584 billion years)",
            u64::MAX
        ))
    };
    let too_precise = || {
        DslError::new(format!(
            "duration `{text}` is more precise than one nanosecond, \
             the finest step a duration can hold"
        ))
    };

    let whole = digits_value(int).ok_or_else(too_large)?;
    let mut nanos = whole.checked_mul(unit_nanos).ok_or_else(too_large)?;
    let frac = frac.trim_end_matches('0');
    if !frac.is_empty() {
        if frac.len() > MAX_FRACTION_DIGITS {
            return Err(too_precise());
        }
        let scale = u32::try_from(frac.len())
            .ok()
            .and_then(|digits| 10u128.checked_pow(digits))
            .ok_or_else(too_precise)?;
        let scaled = digits_value(frac)
            .and_then(|value| value.checked_mul(unit_nanos))
            .ok_or_else(too_precise)?;
        if scaled.checked_rem(scale) != Some(0) {
            return Err(too_precise());
        }
        let frac_nanos = scaled.checked_div(scale).ok_or_else(too_precise)?;
        nanos = nanos.checked_add(frac_nanos).ok_or_else(too_large)?;
    }
    let secs = u64::try_from(nanos / NANOS_PER_S).map_err(|_| too_large())?;
    let subsec = u32::try_from(nanos % NANOS_PER_S).map_err(|_| too_large())?;
    Ok(Duration::new(secs, subsec))
}

/// The sum of `text` read as durations one after another (`1h30m`, `1m 30s`),
/// or `None` if it is not that. Each piece is read by [`parse_duration`] on
/// its own text, which has nothing after its unit: no recursion.
fn sum_of_pieces(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let (number, after_number) = split_while(rest, |c| c.is_ascii_digit() || c == '.');
        let (unit, after_unit) = split_while(after_number.trim_start(), char::is_alphabetic);
        if number.is_empty() || unit.is_empty() {
            return None;
        }
        let piece = rest.get(..rest.len().checked_sub(after_unit.len())?)?;
        total = total.checked_add(parse_duration(piece).ok()?)?;
        rest = after_unit.trim_start();
    }
    Some(total)
}

/// Formats a duration so that [`parse_duration`] reads back exactly the same value.
///
/// Uses the largest unit that holds the value as a whole number; a value with a
/// fraction of a millisecond is written as a decimal number of milliseconds.
///
/// ```text
/// 0 => "0s"    1h => "1h"    90s => "90s"    1.5s => "1500ms"    1ns => "0.000001ms"
/// ```
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    for (name, unit_nanos) in UNITS {
        if nanos.checked_rem(unit_nanos) == Some(0) {
            if let Some(count) = nanos.checked_div(unit_nanos) {
                return format!("{count}{name}");
            }
        }
    }
    let fraction = format!("{:06}", nanos % NANOS_PER_MS);
    format!(
        "{}.{}ms",
        nanos / NANOS_PER_MS,
        fraction.trim_end_matches('0')
    )
}

/// The error for a duration that does not start with a digit.
fn no_number(text: &str) -> DslError {
    let message = if let Some(unsigned) = text.strip_prefix('-') {
        format!(
            "a duration cannot be negative (found `{text}`); write e.g. `{}`",
            unsigned.trim()
        )
    } else if let Some(unsigned) = text.strip_prefix('+') {
        format!(
            "a duration takes no sign: write `{}` instead of `{text}`",
            unsigned.trim()
        )
    } else if text.starts_with('.') {
        format!("write a digit before the decimal point: `0{text}` instead of `{text}`")
    } else if text.is_empty() {
        format!("expected a duration like {DURATION_EXAMPLES}, found an empty string")
    } else {
        format!("expected a duration like {DURATION_EXAMPLES}, found `{text}`")
    };
    DslError::new(message)
}

/// The error for a unit that is not `ms`, `s`, `m` or `h`, with a hint for the
/// spellings people reach for. Units get a fixed table rather than [`closest`](crate::closest):
/// a fuzzy match would turn `millis` into `m`, which is minutes.
fn unknown_unit(unit: &str) -> DslError {
    let hint = match unit.to_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "milli" | "millis" | "millisecond" | "milliseconds" => {
            "; did you mean `ms`?"
        }
        "s" | "sec" | "secs" | "second" | "seconds" => "; did you mean `s`?",
        "m" | "min" | "mins" | "minute" | "minutes" => "; did you mean `m`?",
        "h" | "hr" | "hrs" | "hour" | "hours" => "; did you mean `h`?",
        "us" | "µs" | "μs" | "ns" | "micros" | "nanos" | "microsecond" | "microseconds"
        | "nanosecond" | "nanoseconds" => {
            "; write a shorter duration as a fraction of a millisecond, e.g. `0.5ms`"
        }
        "d" | "day" | "days" => "; write days in hours, e.g. `24h`",
        _ => "",
    };
    DslError::new(format!(
        "unknown duration unit `{unit}`; expected one of {UNIT_LIST}{hint}"
    ))
}

/// Whether `rest` (what follows a number) starts like `e3` or `E-5`.
fn looks_like_exponent(rest: &str) -> bool {
    let mut chars = rest.chars();
    matches!(chars.next(), Some('e' | 'E'))
        && matches!(chars.next(), Some(c) if c.is_ascii_digit() || c == '+' || c == '-')
}

/// The value of a string of ASCII digits, or `None` if it does not fit a `u128`
/// (or, defensively, if it holds anything but digits).
pub(crate) fn digits_value(digits: &str) -> Option<u128> {
    digits.chars().try_fold(0u128, |acc, c| {
        acc.checked_mul(10)?
            .checked_add(u128::from(c.to_digit(10)?))
    })
}

/// Splits `s` before the first char for which `keep` is false.
pub(crate) fn split_while(s: &str, keep: impl Fn(char) -> bool) -> (&str, &str) {
    let end = s.find(|c: char| !keep(c)).unwrap_or(s.len());
    s.split_at_checked(end).unwrap_or((s, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{assert_contains, ms, secs};
    use proptest::prelude::*;

    #[track_caller]
    fn duration_err(input: &str) -> String {
        match parse_duration(input) {
            Ok(d) => panic!("`{input}` parsed as {d:?}, expected an error"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("1s"), Ok(secs(1)));
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("2m"), Ok(secs(120)));
        assert_eq!(parse_duration("1h"), Ok(secs(3600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("007s"), Ok(secs(7)));
    }

    #[test]
    fn durations_tolerate_whitespace() {
        assert_eq!(parse_duration(" 1 s "), Ok(secs(1)));
        assert_eq!(parse_duration("\t500\nms "), Ok(ms(500)));
        assert_eq!(parse_duration("\u{3000}2m\u{3000}"), Ok(secs(120)));
    }

    #[test]
    fn decimal_durations_are_exact() {
        assert_eq!(parse_duration("0.5s"), Ok(ms(500)));
        assert_eq!(parse_duration("0.1s"), Ok(ms(100)));
        assert_eq!(parse_duration("1.25h"), Ok(secs(4500)));
        assert_eq!(parse_duration("1.5m"), Ok(secs(90)));
        assert_eq!(parse_duration("0.000001ms"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse_duration("0.000000001s"), Ok(Duration::from_nanos(1)));
        assert_eq!(
            parse_duration("2.50000000000000000000000000s"),
            Ok(ms(2500))
        );
        // 2.5e-12h is 9ns: an hour can take up to 13 fraction digits.
        assert_eq!(
            parse_duration("0.0000000000025h"),
            Ok(Duration::from_nanos(9))
        );
    }

    #[test]
    fn sub_nanosecond_precision_is_an_error() {
        assert_contains(
            &duration_err("0.0000000001s"),
            "more precise than one nanosecond",
        );
        assert_contains(&duration_err("0.0000001ms"), "more precise");
        assert_contains(&duration_err("1.00000000000000000000001s"), "more precise");
    }

    #[test]
    fn overflow_is_an_error() {
        assert_contains(&duration_err("99999999999999999999h"), "too large");
        assert_contains(
            &duration_err("99999999999999999999999999999999999999999999999999s"),
            "too large",
        );
        assert_contains(&duration_err("18446744073709551616s"), "too large");
        assert_eq!(parse_duration("18446744073709551615s"), Ok(secs(u64::MAX)));
        assert_eq!(
            parse_duration("18446744073709551615999.999999ms"),
            Ok(Duration::MAX)
        );
        assert_contains(&duration_err("18446744073709551616000ms"), "too large");
    }

    #[test]
    fn duration_error_messages() {
        assert_eq!(
            duration_err("5sec"),
            "unknown duration unit `sec`; expected one of `ms`, `s`, `m`, `h` \
             (e.g. \"500ms\", \"1.5s\", \"2m\"); did you mean `s`?"
        );
        assert_contains(
            &duration_err("5"),
            "missing duration unit after `5`; write e.g. `5s` or `5ms`",
        );
        // a bare 500 was most likely meant in milliseconds
        assert_contains(&duration_err("500"), "write e.g. `500ms` or `500s`");
        assert_contains(&duration_err("1.5"), "missing duration unit after `1.5`");
        assert_eq!(
            duration_err(""),
            "expected a duration like \"500ms\", \"1s\", \"2m\" or \"1h\", found an empty string"
        );
        assert_contains(&duration_err("   "), "found an empty string");
        assert_contains(&duration_err("s"), "found `s`");
        assert_contains(&duration_err("-1s"), "cannot be negative");
        assert_contains(&duration_err("+1s"), "no sign: write `1s`");
        assert_contains(&duration_err(".5s"), "`0.5s`");
        assert_contains(&duration_err("5.s"), "digit after the decimal point");
        assert_contains(&duration_err("5."), "digit after the decimal point");
        // the examples keep the unit written, when it is one
        assert_contains(
            &duration_err("5.ms"),
            "in `5.ms`, e.g. `5.5ms`, or drop the point: `5ms`",
        );
        assert_contains(
            &duration_err("2. h"),
            "e.g. `2.5h`, or drop the point: `2h`",
        );
        assert_contains(&duration_err("5.s"), "e.g. `5.5s`, or drop the point: `5s`");
        assert_contains(&duration_err("5."), "e.g. `5.5s`, or drop the point: `5s`");
        assert_contains(
            &duration_err("5.secs"),
            "e.g. `5.5s`, or drop the point: `5s`",
        );
        assert_contains(&duration_err("1e3s"), "exponents are not supported");
        assert_contains(&duration_err("1.5E-3s"), "exponents are not supported");
        assert_contains(
            &duration_err("1m 30s"),
            "unexpected `30s` after the duration `1m`",
        );
        assert_contains(&duration_err("1m 30s"), "write `90s`");
        // the sum of the pieces, in the largest unit that holds it whole
        assert_eq!(
            duration_err("1h30m"),
            "unexpected `30m` after the duration `1h`; a duration is one number and one unit: \
             write `90m`"
        );
        assert_contains(&duration_err("1m30s500ms"), "write `90500ms`");
        assert_contains(&duration_err("2h 0.5h"), "write `150m`");
        // not a sum of durations: the rule, without a suggestion
        assert!(duration_err("1m 30").ends_with("; a duration is one number and one unit"));
        assert!(!duration_err("1m 30x").contains("write"));
        assert_contains(&duration_err("1s)"), "unexpected `)`");
        assert_contains(&duration_err("1.5.5s"), "found `.5s`");
        assert_contains(&duration_err("1_000ms"), "found `_000ms`");
        assert_contains(&duration_err("5%"), "expected a duration unit");
        assert_contains(&duration_err("1S"), "did you mean `s`?");
        assert_contains(&duration_err("3millis"), "did you mean `ms`?");
        assert_contains(&duration_err("3mins"), "did you mean `m`?");
        assert_contains(&duration_err("2hours"), "did you mean `h`?");
        assert_contains(&duration_err("10us"), "fraction of a millisecond");
        assert_contains(&duration_err("10µs"), "fraction of a millisecond");
        assert_contains(&duration_err("1d"), "`24h`");
        assert!(!duration_err("5x").contains("did you mean"));
    }

    #[test]
    fn durations_reject_unicode_garbage() {
        for input in [
            "٣s",
            "1ｓ",
            "１s",
            "🦀",
            "1🦀",
            "1s🦀",
            "\u{0}",
            "1\u{200b}s",
            "Ⅻs",
        ] {
            assert!(parse_duration(input).is_err(), "{input:?} should not parse");
        }
    }

    #[test]
    fn format_duration_uses_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(secs(3600)), "1h");
        assert_eq!(format_duration(secs(7200)), "2h");
        assert_eq!(format_duration(secs(120)), "2m");
        assert_eq!(format_duration(secs(90)), "90s");
        assert_eq!(format_duration(ms(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_nanos(1)), "0.000001ms");
        assert_eq!(format_duration(Duration::from_nanos(1_500_000)), "1.5ms");
        assert_eq!(format_duration(Duration::new(1, 1)), "1000.000001ms");
        assert_eq!(format_duration(secs(u64::MAX)), "18446744073709551615s");
        assert_eq!(
            parse_duration(&format_duration(Duration::MAX)),
            Ok(Duration::MAX)
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_duration_like_strings(s in "[0-9. ]{0,40}(ms|s|m|h|e|)[0-9 ]{0,3}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn duration_round_trips(secs in 0..=u64::MAX / 2, nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn duration_round_trips_across_the_whole_range(secs in any::<u64>(), nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn decimal_seconds_match_integer_nanos(whole in 0u64..1_000_000, frac in 0u32..1_000_000_000) {
            let text = format!("{whole}.{frac:09}s");
            prop_assert_eq!(parse_duration(&text), Ok(Duration::new(whole, frac)));
        }
    }
}
