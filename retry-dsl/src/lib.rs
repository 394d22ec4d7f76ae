//! The small string language inside `#[retry(...)]`: durations, backoffs and jitter.
//!
//! ```text
//! #[retry(backoff = "exp(1s, 4s)", jitter = "+25%", max_elapsed = "2m", timeout = "10s")]
//! ```
//!
//! One parser for two readers: `retry-macros` checks the attribute's strings
//! with it at compile time (and turns a [`DslError`] into a `syn::Error`
//! spanned on the string literal), and `retry-runtime`'s `FromStr` impls of
//! `Backoff` and `Jitter` parse the same strings at run time (from a
//! configuration file, an environment variable), with the same messages.
//! Not meant to be used directly: its types are the runtime's business.
//!
//! It uses only `std` (no `syn`, no `proc_macro`), so it is unit tested,
//! property tested and fuzzed on its own.
//!
//! Every function here returns an error rather than panicking, whatever the input:
//! no `unwrap`, no indexing, and checked arithmetic wherever a value comes from the user.
//!
//! The examples below are `text` blocks (written as the attribute takes
//! them); the unit tests at the end check each of them.

#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

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

const BACKOFF_NAMES: [&str; 5] = ["none", "fixed", "linear", "exp", "fib"];
const BACKOFF_FORMS: &str = "none, fixed(D), linear(START, CAP), exp(FIRST, CAP), \
                             exp(FIRST, CAP, xFACTOR), fib(FIRST, CAP)";

const JITTER_NAMES: [&str; 4] = ["none", "full", "equal", "decorrelated"];
const JITTER_FORMS: &str =
    "none, full, equal, decorrelated, +DURATION (e.g. +500ms), +PERCENT% (e.g. +25%)";
const MAX_JITTER_PERCENT: u32 = 1000;

/// How the delay between attempts grows.
///
/// ```text
/// "none"            => BackoffSpec::None
/// "fixed(500ms)"    => BackoffSpec::Fixed(500ms)
/// "linear(1s, 10s)" => BackoffSpec::Linear { start: 1s, cap: 10s }   // 1s, 2s, 3s, ... 10s
/// "exp(1s, 4s)"     => BackoffSpec::Exp { first: 1s, cap: 4s, factor: 2.0 }
/// "exp(30s, 8m, x4)"=> BackoffSpec::Exp { first: 30s, cap: 8m, factor: 4.0 }
/// "fib(1s, 1m)"     => BackoffSpec::Fib { first: 1s, cap: 1m }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
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
        }
    }
}

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

/// A problem with a DSL string, worded for the user who wrote it; several
/// (in a backoff's arguments) are one per line.
#[derive(Debug, Clone, PartialEq)]
pub struct DslError {
    pub message: String,
}

impl DslError {
    fn new(message: impl Into<String>) -> Self {
        DslError {
            message: message.into(),
        }
    }
}

impl fmt::Display for DslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DslError {}

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

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
/// spellings people reach for. Units get a fixed table rather than [`closest`]:
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
fn digits_value(digits: &str) -> Option<u128> {
    digits.chars().try_fold(0u128, |acc, c| {
        acc.checked_mul(10)?
            .checked_add(u128::from(c.to_digit(10)?))
    })
}

/// Splits `s` before the first char for which `keep` is false.
fn split_while(s: &str, keep: impl Fn(char) -> bool) -> (&str, &str) {
    let end = s.find(|c: char| !keep(c)).unwrap_or(s.len());
    s.split_at_checked(end).unwrap_or((s, ""))
}

// ---------------------------------------------------------------------------
// Backoff
// ---------------------------------------------------------------------------

/// Parses a backoff: `none`, `fixed(D)`, `linear(START, CAP)`, `exp(FIRST, CAP)`,
/// `exp(FIRST, CAP, xFACTOR)` or `fib(FIRST, CAP)`.
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
    match number.parse::<f64>() {
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
        _ => "`fib` takes 2 arguments: fib(first, cap)",
    }
}

fn backoff_example(name: &str) -> &'static str {
    match name {
        "fixed" => "`fixed(500ms)`",
        "linear" => "`linear(1s, 10s)`",
        "exp" => "`exp(1s, 30s)` or `exp(1s, 30s, x3)`",
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
        }
    }
}

// ---------------------------------------------------------------------------
// Jitter
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Suggestions
// ---------------------------------------------------------------------------

/// The candidate the user most likely meant by `input`, if any is close enough.
///
/// In order of preference, ignoring case:
/// 1. a candidate equal to `input` (so `Exp` suggests `exp`);
/// 2. a prefix match: a candidate that starts `input` (`exponential` -> `exp`), or
///    one that `input` starts, if `input` has at least 3 chars (`lin` -> `linear`);
///    the longest shared prefix wins;
/// 3. the smallest Levenshtein edit distance, if it is at most
///    `max(1, candidate length / 3)` and leaves at least one char in place
///    (`expo` -> `exp`, `fixd` -> `fixed`, but never `a` -> `s`).
///
/// Ties go to the earlier candidate.
///
/// ```text
/// closest("webhok", &["webhook", "default"]) == Some("webhook")
/// closest("banana", &["exp", "fib"]) == None
/// ```
pub fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let input = input.trim().to_lowercase();
    if input.is_empty() {
        return None;
    }
    let lowered: Vec<(&'a str, String)> = candidates
        .iter()
        .filter(|candidate| !candidate.is_empty())
        .map(|&candidate| (candidate, candidate.to_lowercase()))
        .collect();

    if let Some(&(candidate, _)) = lowered.iter().find(|(_, lower)| *lower == input) {
        return Some(candidate);
    }

    let input_chars: Vec<char> = input.chars().collect();
    let mut best_prefix: Option<(usize, &'a str)> = None;
    for (candidate, lower) in &lowered {
        let shared = if input.starts_with(lower.as_str()) {
            lower.chars().count()
        } else if input_chars.len() >= 3 && lower.starts_with(input.as_str()) {
            input_chars.len()
        } else {
            continue;
        };
        if best_prefix.is_none_or(|(best, _)| shared > best) {
            best_prefix = Some((shared, candidate));
        }
    }
    if let Some((_, candidate)) = best_prefix {
        return Some(candidate);
    }

    let mut best_edit: Option<(usize, &'a str)> = None;
    for (candidate, lower) in &lowered {
        let candidate_chars: Vec<char> = lower.chars().collect();
        let threshold = (candidate_chars.len() / 3).max(1);
        if input_chars.len().abs_diff(candidate_chars.len()) > threshold {
            continue;
        }
        let distance = edit_distance(&input_chars, &candidate_chars);
        let longest = input_chars.len().max(candidate_chars.len());
        if distance <= threshold
            && distance < longest
            && best_edit.is_none_or(|(best, _)| distance < best)
        {
            best_edit = Some((distance, candidate));
        }
    }
    best_edit.map(|(_, candidate)| candidate)
}

/// "did you mean `x`? " for the [`closest`] candidate, or nothing: the middle
/// of every "unknown X `foo`; did you mean `bar`? X are: ..." message of
/// this crate and of retry-macros (whose `diag::unknown` words the rest).
pub fn did_you_mean(input: &str, candidates: &[&str]) -> String {
    closest(input, candidates)
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default()
}

/// Levenshtein distance (insertions, deletions, substitutions), one row at a time.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = i;
        let mut left = i.saturating_add(1);
        let mut next = Vec::with_capacity(row.len());
        next.push(left);
        for (&cb, &up) in b.iter().zip(row.iter().skip(1)) {
            let substitute = diagonal.saturating_add(usize::from(ca != cb));
            let value = substitute
                .min(up.saturating_add(1))
                .min(left.saturating_add(1));
            next.push(value);
            diagonal = up;
            left = value;
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
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
    use proptest::prelude::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[track_caller]
    fn duration_err(input: &str) -> String {
        match parse_duration(input) {
            Ok(d) => panic!("`{input}` parsed as {d:?}, expected an error"),
            Err(e) => e.message,
        }
    }

    #[track_caller]
    fn backoff_err(input: &str) -> String {
        match parse_backoff(input) {
            Ok(b) => panic!("`{input}` parsed as {b:?}, expected an error"),
            Err(e) => e.message,
        }
    }

    #[track_caller]
    fn jitter_err(input: &str) -> String {
        match parse_jitter(input) {
            Ok(j) => panic!("`{input}` parsed as {j:?}, expected an error"),
            Err(e) => e.message,
        }
    }

    #[track_caller]
    fn assert_contains(message: &str, needle: &str) {
        assert!(
            message.contains(needle),
            "expected the message to contain {needle:?}, got: {message}"
        );
    }

    // --- durations ---------------------------------------------------------

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

    // --- backoff -----------------------------------------------------------

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
             fib(FIRST, CAP)"
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

    // --- jitter ------------------------------------------------------------

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

    // --- closest -----------------------------------------------------------

    #[test]
    fn closest_suggestions() {
        let backoffs = &BACKOFF_NAMES;
        assert_eq!(closest("expo", backoffs), Some("exp"));
        assert_eq!(closest("fixd", backoffs), Some("fixed"));
        assert_eq!(closest("exponential", backoffs), Some("exp"));
        assert_eq!(closest("lin", backoffs), Some("linear"));
        assert_eq!(closest("fix", backoffs), Some("fixed"));
        assert_eq!(closest("EXP", backoffs), Some("exp"));
        assert_eq!(closest(" fib ", backoffs), Some("fib"));
        assert_eq!(closest("banana", backoffs), None);
        assert_eq!(closest("", backoffs), None);
        assert_eq!(closest("x", backoffs), None);
        assert_eq!(closest("webhok", &["default", "webhook"]), Some("webhook"));
        assert_eq!(
            closest("max_atempts", &["max_elapsed", "max_attempts"]),
            Some("max_attempts")
        );
        // The longest candidate that starts the input wins.
        assert_eq!(closest("msecs", &["m", "ms"]), Some("ms"));
        // Ties go to the first candidate.
        assert_eq!(closest("ab", &["aa", "bb"]), Some("aa"));
        // A one-char input never matches a different one-char candidate.
        assert_eq!(closest("a", &["s", "m", "h"]), None);
        assert_eq!(closest("anything", &[]), None);
        assert_eq!(closest("anything", &[""]), None);
        assert_eq!(closest("🦀🦀🦀", backoffs), None);
        assert_eq!(closest(&"z".repeat(100_000), backoffs), None);
    }

    #[test]
    fn edit_distances() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars(""), &chars("")), 0);
        assert_eq!(edit_distance(&chars("abc"), &chars("")), 3);
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(edit_distance(&chars("expo"), &chars("exp")), 1);
        assert_eq!(edit_distance(&chars("flaw"), &chars("lawn")), 2);
    }

    // --- properties --------------------------------------------------------

    /// Durations in whole nanoseconds up to 10^15 ns, with round values in every
    /// unit mixed in so each branch of `format_duration` is exercised.
    fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (0u64..=1_000_000_000_000_000).prop_map(Duration::from_nanos),
            (0u64..=10_000_000).prop_map(Duration::from_millis),
            (0u64..=1_000_000).prop_map(Duration::from_secs),
            (0u64..=10_000).prop_map(|m| Duration::from_secs(m * 60)),
            (0u64..=1_000).prop_map(|h| Duration::from_secs(h * 3600)),
        ]
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

    const DSL_ALPHABET: &str = "[a-z0-9(), .x%+]{0,30}";

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_strings(s in ".*") {
            let _ = parse_duration(&s);
            let _ = parse_backoff(&s);
            let _ = parse_jitter(&s);
            let _ = closest(&s, &BACKOFF_NAMES);
        }

        #[test]
        fn never_panics_on_dsl_like_strings(s in DSL_ALPHABET) {
            let _ = parse_duration(&s);
            let _ = parse_backoff(&s);
            let _ = parse_jitter(&s);
            let _ = closest(&s, &JITTER_NAMES);
        }

        #[test]
        fn never_panics_on_duration_like_strings(s in "[0-9. ]{0,40}(ms|s|m|h|e|)[0-9 ]{0,3}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn whatever_parses_prints_canonically(s in DSL_ALPHABET) {
            if let Ok(backoff) = parse_backoff(&s) {
                prop_assert_eq!(parse_backoff(&backoff.to_string()), Ok(backoff));
            }
            if let Ok(jitter) = parse_jitter(&s) {
                prop_assert_eq!(parse_jitter(&jitter.to_string()), Ok(jitter));
            }
            if let Ok(d) = parse_duration(&s) {
                prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
            }
        }

        #[test]
        fn backoff_round_trips(backoff in backoff()) {
            prop_assert_eq!(parse_backoff(&backoff.to_string()), Ok(backoff));
        }

        #[test]
        fn jitter_round_trips(jitter in jitter()) {
            prop_assert_eq!(parse_jitter(&jitter.to_string()), Ok(jitter));
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
