//! Jitter: [`JitterSpec`], read by [`parse_jitter`] from "none", "full",
//! "equal", "decorrelated", "+D" or "+P%", and printed back by its `Display`.

use std::fmt;
use std::time::Duration;

use crate::duration::{digits_value, format_duration, parse_duration};
use crate::suggest::did_you_mean;
use crate::DslError;

pub(crate) const JITTER_NAMES: [&str; 4] = ["none", "full", "equal", "decorrelated"];
const JITTER_FORMS: &str =
    "none, full, equal, decorrelated, +DURATION (e.g. +500ms), +PERCENT% (e.g. +25%)";
const MAX_JITTER_PERCENT: u32 = 1000;

/// Randomness added to each backoff delay.
///
/// ```text
/// "none" | "full" | "equal" | "decorrelated"
/// "+500ms" => JitterSpec::Plus(500ms)   // up to 500ms added
/// "+25%"   => JitterSpec::Percent(25)   // up to 25% of the delay added, 1..=1000
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JitterSpec {
    None,
    Full,
    Equal,
    Decorrelated,
    /// Adds a random duration in `0..=D`. Never zero.
    Plus(Duration),
    /// Adds a random `0..=P` percent of the delay. Always in `1..=1000`.
    Percent(u32),
}

/// Parses a jitter: `none`, `full`, `equal`, `decorrelated`, `+D` (a duration such
/// as `+1s` or `+ 500ms`) or `+P%` (a whole percent from 1 to 1000, such as `+25%`).
pub fn parse_jitter(s: &str) -> Result<JitterSpec, DslError> {
    let text = s.trim();
    match text {
        "none" => return Ok(JitterSpec::None),
        "full" => return Ok(JitterSpec::Full),
        "equal" => return Ok(JitterSpec::Equal),
        "decorrelated" => return Ok(JitterSpec::Decorrelated),
        _ => {}
    }
    if let Some(amount) = text.strip_prefix('+') {
        let amount = amount.trim();
        if let Some(percent) = amount.strip_suffix('%') {
            return parse_percent(text, percent.trim()).map(JitterSpec::Percent);
        }
        if !amount.is_empty() && amount.chars().all(|c| c.is_ascii_digit()) {
            return Err(DslError::new(format!(
                "jitter `{text}` needs a unit or a percent: `+{amount}ms`, `+{amount}s` or `+{amount}%`"
            )));
        }
        let added = parse_duration(amount)
            .map_err(|e| DslError::new(format!("invalid jitter `{text}`: {e}")))?;
        if added.is_zero() {
            return Err(DslError::new(format!(
                "jitter `{text}` adds nothing; write `none` for no jitter"
            )));
        }
        return Ok(JitterSpec::Plus(added));
    }
    if text.is_empty() {
        return Err(DslError::new(format!(
            "expected a jitter, found an empty string; expected one of: {JITTER_FORMS}"
        )));
    }
    if let Some(amount) = text.strip_prefix('-') {
        return Err(DslError::new(format!(
            "jitter only adds to a delay: write `+{}` instead of `{text}`",
            amount.trim()
        )));
    }
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(DslError::new(format!(
            "write a `+` before a jitter amount: `+{text}`"
        )));
    }
    Err(DslError::new(format!(
        "unknown jitter `{text}`; {}expected one of: {JITTER_FORMS}",
        did_you_mean(text, &JITTER_NAMES)
    )))
}

fn parse_percent(text: &str, digits: &str) -> Result<u32, DslError> {
    if digits.is_empty() {
        return Err(DslError::new(format!(
            "missing the number in `{text}`; write e.g. `+25%`"
        )));
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(DslError::new(format!(
            "jitter percent must be a whole number like `+25%`, found `{text}`"
        )));
    }
    if digits.chars().all(|c| c == '0') {
        return Err(DslError::new(format!(
            "jitter `{text}` adds nothing; write `none` for no jitter"
        )));
    }
    digits_value(digits)
        .and_then(|value| u32::try_from(value).ok())
        .filter(|percent| (1..=MAX_JITTER_PERCENT).contains(percent))
        .ok_or_else(|| {
            DslError::new(format!(
                "jitter percent must be between 1% and {MAX_JITTER_PERCENT}%, found `{text}`"
            ))
        })
}

impl fmt::Display for JitterSpec {
    /// The canonical form, which [`parse_jitter`] reads back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            JitterSpec::None => f.write_str("none"),
            JitterSpec::Full => f.write_str("full"),
            JitterSpec::Equal => f.write_str("equal"),
            JitterSpec::Decorrelated => f.write_str("decorrelated"),
            JitterSpec::Plus(added) => write!(f, "+{}", format_duration(added)),
            JitterSpec::Percent(percent) => write!(f, "+{percent}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{assert_contains, duration, ms, secs};
    use proptest::prelude::*;

    #[track_caller]
    fn jitter_err(input: &str) -> String {
        match parse_jitter(input) {
            Ok(j) => panic!("`{input}` parsed as {j:?}, expected an error"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn every_jitter_form() {
        assert_eq!(parse_jitter("none"), Ok(JitterSpec::None));
        assert_eq!(parse_jitter("full"), Ok(JitterSpec::Full));
        assert_eq!(parse_jitter("equal"), Ok(JitterSpec::Equal));
        assert_eq!(parse_jitter("decorrelated"), Ok(JitterSpec::Decorrelated));
        assert_eq!(parse_jitter("+1s"), Ok(JitterSpec::Plus(secs(1))));
        assert_eq!(parse_jitter(" + 500 ms "), Ok(JitterSpec::Plus(ms(500))));
        assert_eq!(parse_jitter("+0.5s"), Ok(JitterSpec::Plus(ms(500))));
        assert_eq!(parse_jitter("+25%"), Ok(JitterSpec::Percent(25)));
        assert_eq!(parse_jitter(" + 25 % "), Ok(JitterSpec::Percent(25)));
        assert_eq!(parse_jitter("+1%"), Ok(JitterSpec::Percent(1)));
        assert_eq!(parse_jitter("+1000%"), Ok(JitterSpec::Percent(1000)));
    }

    #[test]
    fn jitter_errors() {
        assert_contains(&jitter_err("+0%"), "adds nothing; write `none`");
        assert_contains(&jitter_err("+000%"), "adds nothing");
        assert_contains(&jitter_err("+1001%"), "between 1% and 1000%");
        assert_contains(
            &jitter_err("+99999999999999999999999999999999999999999%"),
            "between",
        );
        assert_contains(&jitter_err("+2.5%"), "whole number");
        assert_contains(&jitter_err("+%"), "missing the number in `+%`");
        assert_contains(&jitter_err("+0s"), "adds nothing");
        assert_contains(
            &jitter_err("+1sec"),
            "invalid jitter `+1sec`: unknown duration unit `sec`",
        );
        assert_contains(&jitter_err("+"), "invalid jitter `+`");
        assert_contains(&jitter_err("-25%"), "write `+25%` instead of `-25%`");
        assert_contains(&jitter_err("25%"), "`+25%`");
        assert_contains(&jitter_err("1s"), "`+1s`");
        assert_contains(&jitter_err(""), "expected a jitter, found an empty string");
        assert_contains(
            &jitter_err("+25"),
            "jitter `+25` needs a unit or a percent: `+25ms`, `+25s` or `+25%`",
        );
        assert_contains(
            &jitter_err("+0%"),
            "jitter `+0%` adds nothing; write `none`",
        );
        assert_eq!(
            jitter_err("fulll"),
            "unknown jitter `fulll`; did you mean `full`? expected one of: none, full, equal, \
             decorrelated, +DURATION (e.g. +500ms), +PERCENT% (e.g. +25%)"
        );
        assert_contains(&jitter_err("decorelated"), "did you mean `decorrelated`?");
        assert_contains(&jitter_err("Equal"), "did you mean `equal`?");
        assert!(!jitter_err("banana").contains("did you mean"));
        for input in ["🦀", "+🦀", "+25٪", "＋25%", "full\u{0}"] {
            assert!(parse_jitter(input).is_err(), "{input:?} should not parse");
        }
    }

    #[test]
    fn jitter_display() {
        assert_eq!(JitterSpec::Full.to_string(), "full");
        assert_eq!(JitterSpec::Plus(ms(1500)).to_string(), "+1500ms");
        assert_eq!(JitterSpec::Percent(25).to_string(), "+25%");
    }

    fn jitter() -> impl Strategy<Value = JitterSpec> {
        prop_oneof![
            Just(JitterSpec::None),
            Just(JitterSpec::Full),
            Just(JitterSpec::Equal),
            Just(JitterSpec::Decorrelated),
            duration().prop_map(|d| JitterSpec::Plus(d.max(Duration::from_nanos(1)))),
            (1u32..=1000).prop_map(JitterSpec::Percent),
        ]
    }

    proptest! {
        #[test]
        fn jitter_round_trips(jitter in jitter()) {
            prop_assert_eq!(parse_jitter(&jitter.to_string()), Ok(jitter));
        }
    }
}
