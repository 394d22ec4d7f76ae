//! A [`Backoff`], a [`Jitter`] or a duration from text, in `#[retry]`'s own
//! grammar (`"exp(1s, 30s)"`, `"+25%"`, `"10s"`), for a policy read from a
//! configuration file or an environment variable: one parser
//! (`retry-dsl`) reads the attribute's strings at compile time and these at
//! run time, so a string means the same in both places and a bad one gets
//! the same message.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{Backoff, Jitter, Policy};
//!
//! // e.g. std::env::var("CLIPS_BACKOFF"), a field of a config file
//! let (backoff, jitter, deadline) = ("exp(1s, 30s)", "full", "2m");
//! let policy = Policy::new()
//!     .with_attempts(5)
//!     .with_backoff(backoff.parse::<Backoff>()?)
//!     .with_jitter(jitter.parse::<Jitter>()?)
//!     .with_max_elapsed(retry_runtime::parse::duration(deadline)?)
//!     .build()?; // the checks `#[retry]` makes on the policy
//! assert_eq!(policy.backoff(), Backoff::exponential(Duration::from_secs(1), Duration::from_secs(30)));
//!
//! let bad = "exp(1s)".parse::<Backoff>().unwrap_err();
//! assert!(bad.to_string().starts_with("invalid backoff: `exp` takes 2 or 3 arguments"), "{bad}");
//! let empty = "".parse::<Backoff>().unwrap_err();
//! assert!(empty.to_string().starts_with("invalid backoff \"\": "), "{empty}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::str::FromStr;
use std::time::Duration;

use retry_dsl::{BackoffSpec, JitterSpec};

use crate::backoff::Backoff;
use crate::jitter::Jitter;

// The spec-to-value mapping below is the one retry-macros/src/expand.rs
// (`backoff`, `jitter`) writes as tokens: keep the two in step
// (tests/runtime/parse.rs compares their waits).

/// A backoff, jitter or duration string that does not parse: what it was,
/// the text, and the message `#[retry]` gives the same string at compile
/// time (one line per problem).
///
/// ```
/// let e = "exp(1s, 4)".parse::<retry_runtime::Backoff>().unwrap_err();
/// assert_eq!(e.what(), "backoff");
/// assert_eq!(e.input(), "exp(1s, 4)");
/// assert!(!e.message().is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    what: &'static str,
    input: String,
    message: String,
}

impl ParseError {
    fn new(what: &'static str, input: &str, error: retry_dsl::DslError) -> ParseError {
        // (a message that names the text itself first, as the attribute's
        // need to, would say it twice after this error's own prefix)
        let named = format!("invalid {what} `{}`: ", input.trim());
        let message = match error.message.strip_prefix(&named) {
            Some(rest) => rest.to_owned(),
            None => error.message,
        };
        ParseError {
            what,
            input: input.to_owned(),
            message,
        }
    }

    /// What was parsed: `"backoff"`, `"jitter"` or `"duration"`.
    ///
    /// ```
    /// assert_eq!("often".parse::<retry_runtime::Jitter>().unwrap_err().what(), "jitter");
    /// ```
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The text that did not parse.
    ///
    /// ```
    /// assert_eq!(retry_runtime::parse::duration("5 sec").unwrap_err().input(), "5 sec");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it: `#[retry]`'s compile-time message (without
    /// the ``invalid jitter `…`:`` some of them start with).
    ///
    /// ```
    /// let e = retry_runtime::parse::duration("5").unwrap_err();
    /// assert!(e.message().contains("unit"), "{}", e.message());
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// `invalid {what} "{input}": {message}`, or `invalid {what}: {message}`
/// when the message quotes the whole input itself (`unknown backoff
/// \`expo(1s, 4s)\``), on one line (the problems of a message of several
/// lines joined with `; `).
///
/// ```
/// let e = "expo(1s, 4s)".parse::<retry_runtime::Backoff>().unwrap_err();
/// assert!(e.to_string().starts_with("invalid backoff: unknown backoff `expo(1s, 4s)`"), "{e}");
/// ```
impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = !self.input.trim().is_empty()
            && self.message.contains(&format!("`{}`", self.input.trim()));
        if quoted {
            write!(f, "invalid {}: ", self.what)?;
        } else {
            write!(f, "invalid {} {:?}: ", self.what, self.input)?;
        }
        for (i, line) in self.message.lines().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(line)?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// A duration in `#[retry]`'s grammar: a number and one of `ms`, `s`, `m`,
/// `h` (`"500ms"`, `"1.5s"`, `"2m"`), for `max_elapsed`, a hedge delay or a
/// timeout read from configuration. `"0s"` parses: `Policy::build` refuses
/// a zero `max_elapsed` or hedge delay, but a zero timeout (every attempt
/// fails at once) is yours to refuse, as `#[retry]` does.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(retry_runtime::parse::duration("1.5s"), Ok(Duration::from_millis(1500)));
/// assert!(retry_runtime::parse::duration("1.5").is_err());
/// ```
pub fn duration(text: &str) -> Result<Duration, ParseError> {
    retry_dsl::parse_duration(text).map_err(|e| ParseError::new("duration", text, e))
}

/// `none`, `fixed(D)`, `linear(START, CAP)`, `exp(FIRST, CAP)`,
/// `exp(FIRST, CAP, xFACTOR)`, `fib(FIRST, CAP)`: the backoff
/// `#[retry(backoff = "...")]` makes of the same text.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::Backoff;
/// let s = Duration::from_secs;
/// assert_eq!("exp(1s, 4s)".parse(), Ok(Backoff::exponential(s(1), s(4))));
/// assert_eq!("linear(1s, 10s)".parse(), Ok(Backoff::linear(s(1), s(1), s(10))));
/// assert_eq!("exp(30s, 8m, x4)".parse(), Ok(Backoff::exponential(s(30), s(480)).with_factor(4.0)));
/// assert!("exp(4s, 1s)".parse::<Backoff>().is_err()); // first above the cap
/// ```
impl FromStr for Backoff {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Backoff, ParseError> {
        let spec =
            retry_dsl::parse_backoff(text).map_err(|e| ParseError::new("backoff", text, e))?;
        Ok(match spec {
            BackoffSpec::None => Backoff::None,
            BackoffSpec::Fixed(d) => Backoff::fixed(d),
            BackoffSpec::Linear { start, cap } => Backoff::linear(start, start, cap),
            BackoffSpec::Exp { first, cap, factor } => {
                Backoff::exponential(first, cap).with_factor(factor)
            }
            BackoffSpec::Fib { first, cap } => Backoff::fibonacci(first, cap),
        })
    }
}

/// `none`, `full`, `equal`, `decorrelated`, `+D` (`+500ms`), `+P%` (`+25%`):
/// the jitter `#[retry(jitter = "...")]` makes of the same text.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::Jitter;
/// assert_eq!("full".parse(), Ok(Jitter::Full));
/// assert_eq!("+500ms".parse(), Ok(Jitter::Plus(Duration::from_millis(500))));
/// assert_eq!("+25%".parse(), Ok(Jitter::Proportional(25)));
/// ```
impl FromStr for Jitter {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Jitter, ParseError> {
        let spec = retry_dsl::parse_jitter(text).map_err(|e| ParseError::new("jitter", text, e))?;
        Ok(match spec {
            JitterSpec::None => Jitter::None,
            JitterSpec::Full => Jitter::Full,
            JitterSpec::Equal => Jitter::Equal,
            JitterSpec::Decorrelated => Jitter::Decorrelated,
            JitterSpec::Plus(d) => Jitter::Plus(d),
            JitterSpec::Percent(p) => Jitter::Proportional(p),
        })
    }
}
