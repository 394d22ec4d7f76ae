//! Backoffs: [`BackoffSpec`], read by [`parse_backoff`] from "none",
//! "fixed(D)", "linear(START, CAP)", "exp(FIRST, CAP[, xFACTOR])",
//! "fib(FIRST, CAP)" or "schedule(W1, W2, ...)", and printed back in that
//! form by its `Display`.

use std::fmt;
use std::time::Duration;

use crate::duration::{format_duration, parse_duration, split_while};
use crate::schedule::{parse_schedule, Schedule, SCHEDULE_ARITY};
use crate::suggest::did_you_mean;
use crate::DslError;

pub(crate) const BACKOFF_NAMES: [&str; 6] = ["none", "fixed", "linear", "exp", "fib", "schedule"];
const BACKOFF_FORMS: &str = "none, fixed(D), linear(START, CAP), exp(FIRST, CAP), \
                             exp(FIRST, CAP, xFACTOR), fib(FIRST, CAP), schedule(W1, W2, ...)";

/// How the delay between attempts grows.
///
/// ```text
/// "none"            => BackoffSpec::None
/// "fixed(500ms)"    => BackoffSpec::Fixed(500ms)
/// "linear(1s, 10s)" => BackoffSpec::Linear { start: 1s, cap: 10s }   // 1s, 2s, 3s, ... 10s
/// "exp(1s, 4s)"     => BackoffSpec::Exp { first: 1s, cap: 4s, factor: 2.0 }
/// "exp(30s, 8m, x4)"=> BackoffSpec::Exp { first: 30s, cap: 8m, factor: 4.0 }
/// "fib(1s, 1m)"     => BackoffSpec::Fib { first: 1s, cap: 1m }
/// "schedule(1s, 5s, 30s)" => BackoffSpec::Schedule([1s, 5s, 30s])  // 1s, 5s, 30s, 30s, ...
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
// (a schedule's room for 32 waits, 520 bytes, in a value read once, when
// the attribute compiles or a configuration is read: kept `Copy` over
// boxed)
#[allow(clippy::large_enum_variant)]
pub enum BackoffSpec {
    /// Retry immediately.
    None,
    /// The same delay before every retry; never zero (that is `None`).
    Fixed(Duration),
    /// `start`, `2 * start`, `3 * start`, ... up to `cap` (the step equals `start`).
    Linear { start: Duration, cap: Duration },
    /// `first`, `first * factor`, `first * factor^2`, ... up to `cap`.
    /// `factor` is finite and at least 1; it defaults to 2.
    Exp {
        first: Duration,
        cap: Duration,
        factor: f64,
    },
    /// The Fibonacci sequence scaled by `first` (`first`, `first`, `2 * first`,
    /// `3 * first`, `5 * first`, ...), up to `cap`.
    Fib { first: Duration, cap: Duration },
    /// The waits written out, in order; the last repeats.
    Schedule(Schedule),
}

impl BackoffSpec {
    /// The one wait of a backoff whose first wait is its cap (`fixed`, or a
    /// growing one that starts at its cap): decorrelated jitter, which draws
    /// between the two, has nothing to draw from. `None` otherwise.
    pub fn no_range(&self) -> Option<Duration> {
        match *self {
            BackoffSpec::None => None,
            BackoffSpec::Fixed(d) => Some(d),
            BackoffSpec::Linear { start: first, cap }
            | BackoffSpec::Exp { first, cap, .. }
            | BackoffSpec::Fib { first, cap } => (first >= cap).then_some(cap),
            BackoffSpec::Schedule(s) => (s.first() >= s.cap()).then_some(s.cap()),
        }
    }
}

/// Parses a backoff: `none`, `fixed(D)`, `linear(START, CAP)`, `exp(FIRST, CAP)`,
/// `exp(FIRST, CAP, xFACTOR)`, `fib(FIRST, CAP)` or `schedule(W1, W2, ...)`
/// (1 to [`MAX_SCHEDULE`](crate::MAX_SCHEDULE) waits, not all zero).
///
/// ```text
/// "exp(1s, 4s)", " exp ( 30s , 8m , x4 ) ", "exp(100ms, 10s, x1.5)", "fixed(500ms)"
/// ```
///
/// Names are lowercase. Besides the syntax this checks that the first delay is
/// neither zero (write `none`) nor above the cap, and that a factor is at
/// least 1. Every argument is
/// read, and each problem found is one line of the error.
pub fn parse_backoff(s: &str) -> Result<BackoffSpec, DslError> {
    let text = s.trim();
    let (name, rest) = split_while(text, |c| c.is_alphanumeric() || c == '_');
    if !BACKOFF_NAMES.contains(&name) {
        return Err(unknown_backoff(text, name));
    }

    let Some(inner) = call_arguments(text, name, rest)? else {
        if name == "none" {
            return Ok(BackoffSpec::None);
        }
        return Err(DslError::new(format!(
            "`{name}` needs its arguments in parentheses, e.g. {}",
            backoff_example(name)
        )));
    };
    if name == "none" {
        return Err(DslError::new(
            "`none` takes no arguments: write `none` without parentheses",
        ));
    }

    if let Some(written) = with_commas(name, inner) {
        return Err(DslError::new(match parse_backoff(&written) {
            Ok(_) => format!(
                "separate the arguments of `{name}` with commas: write `{written}` (found `{text}`)"
            ),
            Err(e) => format!(
                "separate the arguments of `{name}` with commas (found `{text}`); \
                 with commas, `{written}` is still refused: {e}"
            ),
        }));
    }
    let args: Vec<&str> = if inner.trim().is_empty() {
        Vec::new()
    } else {
        inner.split(',').map(str::trim).collect()
    };
    let arity_ok = match name {
        "fixed" => args.len() == 1,
        "exp" => args.len() == 2 || args.len() == 3,
        // (its count is checked with its waits)
        "schedule" => true,
        _ => args.len() == 2,
    };
    if !arity_ok {
        return Err(DslError::new(format!(
            "{}; found {} in `{text}`",
            backoff_arity(name),
            plural(args.len(), "argument")
        )));
    }
    if let Some(position) = args.iter().position(|arg| arg.is_empty()) {
        return Err(DslError::new(format!(
            "argument {} of `{text}` is empty",
            position.saturating_add(1)
        )));
    }
    if name == "schedule" {
        return parse_schedule(text, &args).map(BackoffSpec::Schedule);
    }

    // Every argument is read, and every problem reported at once (one per line).
    let duration_arg = |role: &str, arg: &str| {
        parse_duration(arg)
            .map_err(|e| DslError::new(format!("invalid {role} `{arg}` in `{text}`: {e}")))
    };
    let first_role = match name {
        "fixed" => "delay",
        "linear" => "start delay",
        _ => "first delay",
    };
    let mut problems = Vec::new();
    let first_text = args.first().copied().unwrap_or_default();
    let first = keep(duration_arg(first_role, first_text), &mut problems);
    let cap_text = args.get(1).copied();
    let cap = cap_text.and_then(|cap| keep(duration_arg("cap", cap), &mut problems));
    let factor = match args.get(2) {
        Some(factor) => keep(parse_factor(factor), &mut problems),
        None => Some(2.0),
    };
    if let (Some(first), Some(cap), Some(cap_text)) = (first, cap, cap_text) {
        if first > cap {
            problems.push(DslError::new(format!(
                "{first_role} `{first_text}` is greater than the cap `{cap_text}`"
            )));
        }
    }
    if first.is_some_and(|first| first.is_zero()) {
        problems.push(DslError::new(format!(
            "{first_role} `{first_text}` is zero, so every wait would be zero; write `none` for no wait"
        )));
    }
    if !problems.is_empty() {
        let messages: Vec<String> = problems.into_iter().map(|p| p.message).collect();
        return Err(DslError::new(messages.join("\n")));
    }

    match (name, first, cap, factor) {
        ("fixed", Some(delay), None, _) => Ok(BackoffSpec::Fixed(delay)),
        ("linear", Some(start), Some(cap), _) => Ok(BackoffSpec::Linear { start, cap }),
        ("exp", Some(first), Some(cap), Some(factor)) => {
            Ok(BackoffSpec::Exp { first, cap, factor })
        }
        ("fib", Some(first), Some(cap), _) => Ok(BackoffSpec::Fib { first, cap }),
        // the arity was checked above
        _ => Err(DslError::new(backoff_arity(name))),
    }
}

/// The value, or `None` with the error added to `problems`.
fn keep<T>(result: Result<T, DslError>, problems: &mut Vec<DslError>) -> Option<T> {
    result.map_err(|e| problems.push(e)).ok()
}

/// What follows a backoff's name: `Ok(None)` for nothing, `Ok(Some(inner))` for
/// `(inner)` with nothing after it, and an error for anything else.
fn call_arguments<'t>(text: &str, name: &str, rest: &'t str) -> Result<Option<&'t str>, DslError> {
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Ok(None);
    }
    let Some(after_open) = rest.strip_prefix('(') else {
        return Err(DslError::new(if name == "none" {
            format!("unexpected `{rest}` after `none`")
        } else {
            format!(
                "expected `(` after `{name}`, found `{rest}`; write e.g. {}",
                backoff_example(name)
            )
        }));
    };
    let Some((inner, after_close)) = after_open.split_once(')') else {
        return Err(DslError::new(format!("missing `)` at the end of `{text}`")));
    };
    if inner.contains('(') {
        return Err(DslError::new(format!(
            "unexpected `(` inside `{text}`; the arguments are plain durations like `1s`"
        )));
    }
    let after_close = after_close.trim();
    if !after_close.is_empty() {
        return Err(DslError::new(format!(
            "unexpected `{after_close}` after the closing `)` in `{text}`"
        )));
    }
    Ok(Some(inner))
}

/// The backoff written with commas, when its arguments are separated by `;`
/// (`exp(1s; 4s)`: always, a `;` is in no duration) or by spaces alone
/// (`exp(1s 4s)`: only when the comma form is valid, since `fixed(1m 30s)`
/// is one duration written in two pieces, which the duration's own message
/// sums). A space inside one argument (`1 s`) is not a separator: each piece
/// must be a duration or a factor on its own. The result has no `;` and no
/// such spaces, so parsing it cannot come back here.
fn with_commas(name: &str, inner: &str) -> Option<String> {
    let mut pieces = Vec::new();
    let mut changed = false;
    for arg in inner.split([',', ';']) {
        let words: Vec<&str> = arg.split_whitespace().collect();
        let separate = words.len() > 1
            && words
                .iter()
                .all(|word| parse_duration(word).is_ok() || parse_factor(word).is_ok());
        if separate {
            pieces.extend(words);
            changed = true;
        } else {
            pieces.push(arg.trim());
        }
    }
    let semicolons = inner.contains(';');
    if !changed && !semicolons {
        return None;
    }
    let written = format!("{name}({})", pieces.join(", "));
    (semicolons || parse_backoff(&written).is_ok()).then_some(written)
}

/// Parses the third argument of `exp`: `x` then a decimal number of at least 1.
fn parse_factor(arg: &str) -> Result<f64, DslError> {
    let Some(number) = arg.strip_prefix('x') else {
        return Err(DslError::new(format!(
            "the third argument of `exp` is the growth factor, written `x` then a number \
             like `x2` or `x1.5`; found `{arg}`"
        )));
    };
    let number = number.trim();
    let (int, after_int) = split_while(number, |c| c.is_ascii_digit());
    let valid = match after_int.strip_prefix('.') {
        Some(frac) => !frac.is_empty() && frac.chars().all(|c| c.is_ascii_digit()),
        None => after_int.is_empty(),
    };
    if int.is_empty() || !valid {
        return Err(DslError::new(format!(
            "expected a growth factor like `x2` or `x1.5`, found `{arg}`"
        )));
    }
    // Decided on the text, so no rounding can carry 0.99999999999999999999 up to 1.
    if int.chars().all(|c| c == '0') {
        return Err(DslError::new(format!(
            "factor must be at least 1 (found {arg}): a factor below 1 would shrink the delays"
        )));
    }
    // A factor written above 1 that a 64-bit float rounds to 1 would make
    // the growing backoff a fixed one, silently.
    let written_one = int.trim_start_matches('0') == "1"
        && after_int
            .strip_prefix('.')
            .is_none_or(|frac| frac.chars().all(|c| c == '0'));
    match number.parse::<f64>() {
        Ok(factor) if factor == 1.0 && !written_one => Err(DslError::new(format!(
            "factor `{arg}` is 1 once read as a number (a 64-bit float keeps about 16 digits), \
             which makes the backoff a fixed one: write `x1` for that, or a factor whose growth \
             is kept, like `x1.000001`"
        ))),
        Ok(factor) if factor.is_finite() => Ok(factor),
        _ => Err(DslError::new(format!(
            "factor `{arg}` is too large to represent"
        ))),
    }
}

fn unknown_backoff(text: &str, name: &str) -> DslError {
    if text.is_empty() {
        return DslError::new(format!(
            "expected a backoff, found an empty string; expected one of: {BACKOFF_FORMS}"
        ));
    }
    DslError::new(format!(
        "unknown backoff `{text}`; {}expected one of: {BACKOFF_FORMS}",
        did_you_mean(name, &BACKOFF_NAMES)
    ))
}

fn backoff_arity(name: &str) -> &'static str {
    match name {
        "fixed" => "`fixed` takes 1 argument: fixed(delay)",
        "linear" => "`linear` takes 2 arguments: linear(start, cap)",
        "exp" => "`exp` takes 2 or 3 arguments: exp(first, cap) or exp(first, cap, xFACTOR)",
        "schedule" => SCHEDULE_ARITY,
        _ => "`fib` takes 2 arguments: fib(first, cap)",
    }
}

fn backoff_example(name: &str) -> &'static str {
    match name {
        "fixed" => "`fixed(500ms)`",
        "linear" => "`linear(1s, 10s)`",
        "exp" => "`exp(1s, 30s)` or `exp(1s, 30s, x3)`",
        "schedule" => "`schedule(1s, 5s, 30s)`",
        _ => "`fib(1s, 30s)`",
    }
}

impl fmt::Display for BackoffSpec {
    /// The canonical form, which [`parse_backoff`] reads back to the same value.
    /// A factor of 2 (the default) is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BackoffSpec::None => f.write_str("none"),
            BackoffSpec::Fixed(delay) => write!(f, "fixed({})", format_duration(delay)),
            BackoffSpec::Linear { start, cap } => write!(
                f,
                "linear({}, {})",
                format_duration(start),
                format_duration(cap)
            ),
            BackoffSpec::Exp { first, cap, factor } => {
                write!(
                    f,
                    "exp({}, {}",
                    format_duration(first),
                    format_duration(cap)
                )?;
                if factor != 2.0 {
                    // `f64`'s Display is the shortest text that reads back to the
                    // same value, and never uses an exponent.
                    write!(f, ", x{factor}")?;
                }
                f.write_str(")")
            }
            BackoffSpec::Fib { first, cap } => write!(
                f,
                "fib({}, {})",
                format_duration(first),
                format_duration(cap)
            ),
            BackoffSpec::Schedule(s) => s.fmt(f),
        }
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{assert_contains, backoff_err, duration, ms, secs};
    use proptest::prelude::*;

    #[test]
    fn every_backoff_form() {
        assert_eq!(parse_backoff("none"), Ok(BackoffSpec::None));
        assert_eq!(
            parse_backoff("fixed(500ms)"),
            Ok(BackoffSpec::Fixed(ms(500)))
        );
        assert_eq!(
            parse_backoff("linear(1s, 10s)"),
            Ok(BackoffSpec::Linear {
                start: secs(1),
                cap: secs(10)
            })
        );
        assert_eq!(
            parse_backoff("exp(1s, 4s)"),
            Ok(BackoffSpec::Exp {
                first: secs(1),
                cap: secs(4),
                factor: 2.0
            })
        );
        assert_eq!(
            parse_backoff("exp(30s, 8m, x4)"),
            Ok(BackoffSpec::Exp {
                first: secs(30),
                cap: secs(480),
                factor: 4.0
            })
        );
        assert_eq!(
            parse_backoff("exp(100ms, 10s, x1.5)"),
            Ok(BackoffSpec::Exp {
                first: ms(100),
                cap: secs(10),
                factor: 1.5
            })
        );
        assert_eq!(
            parse_backoff("exp(1s, 1s, x1)"),
            Ok(BackoffSpec::Exp {
                first: secs(1),
                cap: secs(1),
                factor: 1.0
            })
        );
        assert_eq!(
            parse_backoff("fib(1s, 1m)"),
            Ok(BackoffSpec::Fib {
                first: secs(1),
                cap: secs(60)
            })
        );
    }

    #[test]
    fn backoffs_tolerate_whitespace() {
        assert_eq!(parse_backoff("  none  "), Ok(BackoffSpec::None));
        assert_eq!(
            parse_backoff(" exp ( 30 s ,8m,  x 4 ) "),
            Ok(BackoffSpec::Exp {
                first: secs(30),
                cap: secs(480),
                factor: 4.0
            })
        );
        assert_eq!(
            parse_backoff("fixed(\n1.5s\n)"),
            Ok(BackoffSpec::Fixed(ms(1500)))
        );
    }

    #[test]
    fn zero_first_delay_would_never_wait() {
        for text in [
            "exp(0s, 4s)",
            "fib(0ms, 1s)",
            "linear(0s, 10s)",
            "exp(0.000s, 0s, x3)",
            "fixed(0s)",
            "fixed(0.000ms)",
        ] {
            assert_contains(
                &backoff_err(text),
                "is zero, so every wait would be zero; write `none`",
            );
        }
    }

    #[test]
    fn every_argument_error_is_reported() {
        let text = "exp(1sec, 4secs, x0.5)";
        let message = backoff_err(text);
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines.len(), 3, "{message}");
        assert_contains(lines[0], "invalid first delay `1sec`");
        assert_contains(lines[0], "did you mean `s`?");
        assert_contains(lines[1], "invalid cap `4secs`");
        assert_contains(lines[2], "factor must be at least 1 (found x0.5)");
        // a wrong value beside an unreadable one
        let message = backoff_err("fib(0s, 1x)");
        assert_eq!(message.lines().count(), 2, "{message}");
        assert_contains(&message, "first delay `0s` is zero");
        assert_contains(&message, "invalid cap `1x`");
        // one error is one line, as before
        assert_eq!(backoff_err("exp(5s, 1s)").lines().count(), 1);
    }

    #[test]
    fn first_delay_above_cap() {
        assert_eq!(
            backoff_err("exp(5s, 1s)"),
            "first delay `5s` is greater than the cap `1s`"
        );
        assert_contains(
            &backoff_err("linear( 2m , 90s )"),
            "start delay `2m` is greater than the cap `90s`",
        );
        assert_contains(&backoff_err("fib(1.5s, 1s)"), "first delay `1.5s`");
    }

    #[test]
    fn a_factor_that_rounds_to_one_is_an_error() {
        let err = parse_backoff("exp(1s, 10s, x1.00000000000000000001)").unwrap_err();
        assert_contains(&err.message, "is 1 once read as a number");
        // written as 1, it is 1: a fixed backoff, on purpose
        for one in ["x1", "x1.0", "x01.000"] {
            let text = format!("exp(1s, 1s, {one})");
            assert!(
                matches!(parse_backoff(&text), Ok(BackoffSpec::Exp { factor, .. }) if factor == 1.0),
                "{text}"
            );
        }
        assert!(parse_backoff("exp(1s, 10s, x1.000001)").is_ok());
    }

    #[test]
    fn factor_errors() {
        assert_contains(
            &backoff_err("exp(1s, 4s, x0.5)"),
            "factor must be at least 1 (found x0.5): a factor below 1 would shrink the delays",
        );
        assert_contains(&backoff_err("exp(1s, 4s, x0)"), "at least 1");
        assert_contains(
            &backoff_err("exp(1s, 4s, x0.99999999999999999999)"),
            "at least 1",
        );
        assert_contains(&backoff_err("exp(1s, 4s, 4)"), "written `x` then a number");
        assert_contains(&backoff_err("exp(1s, 4s, 8s)"), "found `8s`");
        assert_contains(&backoff_err("exp(1s, 4s, x)"), "like `x2` or `x1.5`");
        assert_contains(&backoff_err("exp(1s, 4s, x-2)"), "like `x2` or `x1.5`");
        assert_contains(&backoff_err("exp(1s, 4s, x2.)"), "like `x2` or `x1.5`");
        assert_contains(&backoff_err("exp(1s, 4s, x.5)"), "like `x2` or `x1.5`");
        assert_contains(&backoff_err("exp(1s, 4s, x1e3)"), "like `x2` or `x1.5`");
        assert_contains(&backoff_err("exp(1s, 4s, xinf)"), "like `x2` or `x1.5`");
        assert_contains(&backoff_err("exp(1s, 4s, xNaN)"), "like `x2` or `x1.5`");
        let huge = format!("exp(1s, 4s, x{})", "9".repeat(400));
        assert_contains(&backoff_err(&huge), "too large");
    }

    #[test]
    fn wrong_number_of_arguments() {
        assert_contains(
            &backoff_err("exp(1s)"),
            "`exp` takes 2 or 3 arguments: exp(first, cap) or exp(first, cap, xFACTOR)",
        );
        assert_contains(&backoff_err("exp(1s)"), "found 1 argument");
        assert_contains(&backoff_err("exp(1s, 2s, x2, x3)"), "found 4 arguments");
        assert_contains(&backoff_err("exp()"), "found 0 arguments");
        assert_contains(&backoff_err("fixed(1s, 2s)"), "`fixed` takes 1 argument");
        assert_contains(&backoff_err("fixed()"), "`fixed` takes 1 argument");
        assert_contains(&backoff_err("linear(1s)"), "`linear` takes 2 arguments");
        assert_contains(&backoff_err("fib(1s, 2s, 3s)"), "`fib` takes 2 arguments");
        assert_contains(&backoff_err("none()"), "`none` takes no arguments");
    }

    #[test]
    fn a_name_without_its_arguments_gets_its_own_example() {
        let examples = [
            ("fixed", "e.g. `fixed(500ms)`"),
            ("linear", "e.g. `linear(1s, 10s)`"),
            ("exp", "e.g. `exp(1s, 30s)` or `exp(1s, 30s, x3)`"),
            ("fib", "e.g. `fib(1s, 30s)`"),
        ];
        for (name, example) in examples {
            assert_contains(
                &backoff_err(name),
                &format!("`{name}` needs its arguments in parentheses, {example}"),
            );
            assert_contains(
                &backoff_err(&format!("{name} 1s")),
                &format!("expected `(` after `{name}`, found `1s`; write {example}"),
            );
        }
    }

    #[test]
    fn no_range_is_the_one_wait_of_a_backoff_that_starts_at_its_cap() {
        let no_range = |text: &str| parse_backoff(text).unwrap().no_range();
        assert_eq!(no_range("none"), None);
        assert_eq!(no_range("fixed(2s)"), Some(secs(2)));
        for name in ["linear", "exp", "fib"] {
            assert_eq!(no_range(&format!("{name}(1s, 4s)")), None, "{name}");
            assert_eq!(
                no_range(&format!("{name}(4s, 4s)")),
                Some(secs(4)),
                "{name}"
            );
        }
        assert_eq!(no_range("exp(4s, 4s, x3)"), Some(secs(4)));
    }

    #[test]
    fn arguments_separated_otherwise_than_by_commas() {
        assert_eq!(
            backoff_err("exp(1s; 2s)"),
            "separate the arguments of `exp` with commas: write `exp(1s, 2s)` (found `exp(1s; 2s)`)"
        );
        assert_contains(&backoff_err("exp(1s 30s x3)"), "write `exp(1s, 30s, x3)`");
        assert_contains(&backoff_err("linear(1s;5s)"), "write `linear(1s, 5s)`");
        assert_contains(&backoff_err("exp(1s; 4s; x2)"), "write `exp(1s, 4s, x2)`");
        // a space inside one argument is not a separator
        assert_eq!(
            parse_backoff("exp(1 s, 4 s)").ok(),
            Some(BackoffSpec::Exp {
                first: Duration::from_secs(1),
                cap: Duration::from_secs(4),
                factor: 2.0
            })
        );
        // a comma form that is still wrong says why
        assert_eq!(
            backoff_err("exp(4s; 1s)"),
            "separate the arguments of `exp` with commas (found `exp(4s; 1s)`); with commas, \
             `exp(4s, 1s)` is still refused: first delay `4s` is greater than the cap `1s`"
        );
        // spaces alone: commas only when that form is valid; one duration
        // written in two pieces gets the duration's own message, its sum
        assert_contains(&backoff_err("fixed(1m 30s)"), "write `90s`");
        assert_contains(&backoff_err("exp(1m 30s, 5m)"), "write `90s`");
        assert!(!backoff_err("fixed(1s 2s)").contains("commas"));
        assert_contains(
            &backoff_err("fib(1s, 2s; )"),
            "`fib(1s, 2s, )` is still refused: `fib` takes 2 arguments",
        );
    }

    #[test]
    fn empty_and_invalid_arguments() {
        assert_contains(
            &backoff_err("exp(1s, )"),
            "argument 2 of `exp(1s, )` is empty",
        );
        assert_contains(&backoff_err("exp(,)"), "argument 1");
        assert_contains(&backoff_err("fixed( )"), "`fixed` takes 1 argument");
        assert_contains(
            &backoff_err("exp(1s, 4x)"),
            "invalid cap `4x` in `exp(1s, 4x)`: unknown duration unit `x`",
        );
        assert_contains(&backoff_err("fixed(-1s)"), "invalid delay `-1s`");
        assert_contains(&backoff_err("linear(1, 2s)"), "invalid start delay `1`");
    }

    #[test]
    fn unknown_backoffs() {
        assert_eq!(
            backoff_err("expo(1s,4s)"),
            "unknown backoff `expo(1s,4s)`; did you mean `exp`? expected one of: none, \
             fixed(D), linear(START, CAP), exp(FIRST, CAP), exp(FIRST, CAP, xFACTOR), \
             fib(FIRST, CAP), schedule(W1, W2, ...)"
        );
        assert_contains(&backoff_err("fixd(1s)"), "did you mean `fixed`?");
        assert_contains(&backoff_err("exponential(1s, 4s)"), "did you mean `exp`?");
        assert_contains(&backoff_err("fibonacci(1s, 4s)"), "did you mean `fib`?");
        assert_contains(&backoff_err("Exp(1s, 4s)"), "did you mean `exp`?");
        assert_contains(&backoff_err("NONE"), "did you mean `none`?");
        assert_contains(&backoff_err("fix(1s)"), "did you mean `fixed`?");
        let far = backoff_err("banana(1s)");
        assert_contains(&far, "unknown backoff `banana(1s)`");
        assert!(!far.contains("did you mean"), "{far}");
        assert_contains(
            &backoff_err(""),
            "expected a backoff, found an empty string",
        );
        assert_contains(&backoff_err("(1s, 2s)"), "unknown backoff `(1s, 2s)`");
        assert_contains(&backoff_err("+25%"), "unknown backoff");
    }

    #[test]
    fn malformed_backoffs() {
        assert_contains(
            &backoff_err("exp"),
            "`exp` needs its arguments in parentheses",
        );
        assert_contains(&backoff_err("fixed"), "e.g. `fixed(500ms)`");
        assert_contains(
            &backoff_err("exp(1s, 4s"),
            "missing `)` at the end of `exp(1s, 4s`",
        );
        assert_contains(&backoff_err("exp("), "missing `)`");
        assert_contains(
            &backoff_err("exp(1s, 4s))"),
            "unexpected `)` after the closing `)`",
        );
        assert_contains(&backoff_err("exp(1s, 4s) x2"), "unexpected `x2`");
        assert_contains(&backoff_err("exp(fixed(1s), 4s)"), "unexpected `(`");
        assert_contains(
            &backoff_err("exp 1s 4s"),
            "expected `(` after `exp`, found `1s 4s`",
        );
        assert_contains(&backoff_err("exp[1s, 4s]"), "expected `(` after `exp`");
        assert_contains(
            &backoff_err("none please"),
            "unexpected `please` after `none`",
        );
    }

    #[test]
    fn backoffs_reject_unicode_garbage() {
        for input in [
            "ｅｘｐ(1s, 4s)",
            "exp（1s, 4s）",
            "exp(1s，4s)",
            "🦀",
            "exp(🦀, 1s)",
            "exp(1s, 4s, x🦀)",
            "exp(1s, 4s, ×2)",
            "\u{0}",
            "fib(1s,\u{200b}2s)",
        ] {
            assert!(parse_backoff(input).is_err(), "{input:?} should not parse");
        }
    }

    #[test]
    fn backoff_display() {
        let cases = [
            ("none", "none"),
            ("fixed(500ms)", "fixed(500ms)"),
            ("linear(1s, 60s)", "linear(1s, 1m)"),
            ("exp(1s, 4s)", "exp(1s, 4s)"),
            ("exp(1s, 4s, x2)", "exp(1s, 4s)"),
            ("exp(30s, 8m, x4)", "exp(30s, 8m, x4)"),
            ("exp(0.5s, 90s, x1.5)", "exp(500ms, 90s, x1.5)"),
            ("fib( 1s , 1h )", "fib(1s, 1h)"),
        ];
        for (input, canonical) in cases {
            let parsed = parse_backoff(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(parsed.to_string(), canonical);
        }
    }

    /// A first delay and a cap at least as long; the first is never zero,
    /// which the parser rejects (a zero first delay makes every wait zero).
    fn first_and_cap() -> impl Strategy<Value = (Duration, Duration)> {
        (duration(), duration()).prop_map(|(a, b)| {
            let first = a.min(b).max(Duration::from_nanos(1));
            (first, a.max(b).max(first))
        })
    }

    fn factor() -> impl Strategy<Value = f64> {
        prop_oneof![
            prop::sample::select(vec![1.0, 1.5, 2.0, 3.0, 4.0, 10.0]),
            (1u32..=100).prop_map(f64::from),
            1.0f64..1e6,
        ]
    }

    fn backoff() -> impl Strategy<Value = BackoffSpec> {
        prop_oneof![
            Just(BackoffSpec::None),
            duration().prop_map(|d| BackoffSpec::Fixed(d.max(Duration::from_nanos(1)))),
            first_and_cap().prop_map(|(start, cap)| BackoffSpec::Linear { start, cap }),
            (first_and_cap(), factor()).prop_map(|((first, cap), factor)| BackoffSpec::Exp {
                first,
                cap,
                factor
            }),
            first_and_cap().prop_map(|(first, cap)| BackoffSpec::Fib { first, cap }),
        ]
    }

    proptest! {
        #[test]
        fn backoff_round_trips(backoff in backoff()) {
            prop_assert_eq!(parse_backoff(&backoff.to_string()), Ok(backoff));
        }
    }
}
