//! A [`Backoff`], a [`Jitter`], a duration or a [`KindSet`] from text, in
//! `#[retry]`'s own grammar (`"exp(1s, 30s)"`, `"+25%"`, `"10s"`,
//! `"Timeout | Connect"`), for a policy read from a configuration file or
//! an environment variable: one parser (`retry-dsl`) reads the attribute's
//! strings at compile time and these at run time, so a string means the
//! same in both places and a bad one gets the same message.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{Backoff, Jitter, Policy};
//!
//! // e.g. std::env::var("CLIPS_BACKOFF"), a field of a config file
//! let (backoff, jitter, deadline) = ("exp(1s, 30s)", "full", "2m");
//! let retry_on = "Timeout | Connect | RateLimited";
//! let policy = Policy::new()
//!     .with_max_attempts(5)
//!     .with_backoff(backoff.parse::<Backoff>()?)
//!     .with_jitter(jitter.parse::<Jitter>()?)
//!     .with_max_elapsed(retry_runtime::parse::duration(deadline)?)
//!     .retry_on(retry_on.parse()?)
//!     .build()?; // the checks `#[retry]` makes on the policy
//! assert_eq!(policy.backoff(), Backoff::exponential(Duration::from_secs(1), Duration::from_secs(30)));
//!
//! let bad = "exp(1s)".parse::<Backoff>().unwrap_err();
//! assert!(bad.to_string().starts_with("invalid backoff \"exp(1s)\": `exp` takes 2 or 3 arguments"), "{bad}");
//! let empty = "".parse::<Backoff>().unwrap_err();
//! assert!(empty.to_string().starts_with("invalid backoff \"\": "), "{empty}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use retry_dsl::{BackoffSpec, JitterSpec};

use crate::backoff::Backoff;
use crate::classify::{ErrorKind, KindSet};
use crate::jitter::Jitter;

// The spec-to-value mapping below is the one retry-macros/src/expand/policy.rs
// (`backoff`, `jitter`) writes as tokens: keep the two in step
// (tests/runtime/parse.rs compares their waits).

/// A backoff, jitter, duration or error kind string that does not parse:
/// what it was, the text, and the message `#[retry]` gives the same string
/// at compile time (one line per problem).
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
        ParseError::with_message(what, input, message)
    }

    fn with_message(what: &'static str, input: &str, message: String) -> ParseError {
        ParseError {
            what,
            input: input.to_owned(),
            message,
        }
    }

    /// What was parsed: `"backoff"`, `"jitter"`, `"duration"`, `"kinds"`
    /// (a [`KindSet`]) or `"kind"` (an [`ErrorKind`]).
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

/// `invalid {what} "{input}": {message}`: the text as a string literal
/// (its spaces and line breaks shown), then the message without its own
/// mentions of the whole text (``found 1 argument in `exp(1s)` `` says
/// `found 1 argument`), on one line (the problems of a message of several
/// lines joined with `; `). [`message`](ParseError::message) is the
/// attribute's, as it is.
///
/// ```
/// let e = "expo(1s, 4s)".parse::<retry_runtime::Backoff>().unwrap_err();
/// assert!(e.to_string().starts_with("invalid backoff \"expo(1s, 4s)\": unknown backoff; did you mean `exp`?"), "{e}");
/// let e = "exp(1s)".parse::<retry_runtime::Backoff>().unwrap_err();
/// assert!(e.to_string().ends_with("; found 1 argument"), "{e}");
/// assert!(e.message().ends_with("; found 1 argument in `exp(1s)`"), "{e}");
/// ```
impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: ", self.what, self.input)?;
        for (i, line) in self.without_text().lines().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(line)?;
        }
        Ok(())
    }
}

impl ParseError {
    /// The message less its mentions of the whole text, which `Display`
    /// writes first: `` (found `T`)``, ``, found `T` ``, `` in `T` `` (and
    /// after the other prepositions the messages use), and a noun's
    /// `` `T` `` (``unknown backoff `T` ``, ``duration `T` is too large``).
    /// A part of the text (an argument, one kind of several) stays quoted.
    fn without_text(&self) -> std::borrow::Cow<'_, str> {
        let text = self.input.trim();
        let quoted = format!("`{text}`");
        if text.is_empty() || !self.message.contains(&quoted) {
            return std::borrow::Cow::Borrowed(&self.message);
        }
        let mut message = self.message.clone();
        let around = [(" (found ", ")"), (", found ", "")];
        let after = [
            " in ", " of ", " inside ", " after ", " before ", " at ", " for ", " to ", " than ",
            " ",
        ];
        for (before, after) in around.into_iter().chain(after.map(|before| (before, ""))) {
            message = message.replace(&format!("{before}{quoted}{after}"), "");
        }
        std::borrow::Cow::Owned(message)
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
/// `exp(FIRST, CAP, xFACTOR)`, `fib(FIRST, CAP)`, `schedule(W1, W2, ...)`:
/// the backoff `#[retry(backoff = "...")]` makes of the same text. A
/// schedule's waits are kept for the program's life (a
/// [`Backoff::schedule`] holds a `&'static` slice), once per distinct
/// list: a configuration read again and again keeps one copy of each.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::Backoff;
/// let s = Duration::from_secs;
/// assert_eq!("exp(1s, 4s)".parse(), Ok(Backoff::exponential(s(1), s(4))));
/// assert_eq!("linear(1s, 10s)".parse(), Ok(Backoff::linear(s(1), s(1), s(10))));
/// assert_eq!("exp(30s, 8m, x4)".parse(), Ok(Backoff::exponential(s(30), s(480)).with_factor(4.0)));
/// assert!("exp(4s, 1s)".parse::<Backoff>().is_err()); // first above the cap
/// let job: Backoff = "schedule(1m, 5m, 30m)".parse().unwrap();
/// assert_eq!(job.iter().take(4).collect::<Vec<_>>(), [s(60), s(300), s(1800), s(1800)]);
/// assert_eq!(job.to_string(), "schedule(1m, 5m, 30m)");
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
            BackoffSpec::Schedule(schedule) => Backoff::schedule(kept(schedule.waits())),
        })
    }
}

/// `waits` for the program's life: the copy kept by an earlier call for
/// the same waits, or a new one (so that a configuration read again and
/// again does not keep a copy per read).
fn kept(waits: &[Duration]) -> &'static [Duration] {
    static KEPT: Mutex<Vec<&'static [Duration]>> = Mutex::new(Vec::new());
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(same) = kept.iter().find(|k| **k == waits) {
        return same;
    }
    let new: &'static [Duration] = Box::leak(waits.to_vec().into_boxed_slice());
    kept.push(new);
    new
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

/// `Timeout | Connect`: the kinds' names ([`ErrorKind::name`]) separated
/// by `|`, as `#[retry(retry_on = ...)]` takes them and as a [`KindSet`]
/// prints, so what a service logs can go back into its configuration.
/// Spaces around the names do not matter; the names do, letter for
/// letter (`timeout` gets "did you mean `Timeout`?"). A kind given twice
/// and a path (`ErrorKind::Timeout`) are refused, as the attribute
/// refuses them.
///
/// The empty set, which retries nothing, is `none` (as a backoff or a
/// jitter of nothing is written), or `(none)`, as it prints; the attribute
/// has no spelling for it. An empty or blank text is an error, not the
/// empty set: an environment variable set to nothing does not turn
/// retries off.
///
/// ```
/// use retry_runtime::{ErrorKind, KindSet};
/// assert_eq!("Timeout | Connect".parse(), Ok(ErrorKind::Timeout | ErrorKind::Connect));
/// assert_eq!("none".parse(), Ok(KindSet::EMPTY));
/// assert_eq!(KindSet::EMPTY.to_string().parse(), Ok(KindSet::EMPTY)); // "(none)"
/// let e = "Timeout | Conect".parse::<KindSet>().unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "invalid kinds \"Timeout | Conect\": unknown error kind `Conect`; did you mean `Connect`? \
///      the kinds are: Timeout, Connect, RateLimited, Unavailable, Interrupted, Permanent, Unknown"
/// );
/// assert!("".parse::<KindSet>().is_err());
/// ```
impl FromStr for KindSet {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<KindSet, ParseError> {
        let error = |message: String| ParseError::with_message("kinds", text, message);
        let trimmed = text.trim();
        if trimmed == "none" || trimmed == "(none)" {
            return Ok(KindSet::EMPTY);
        }
        if trimmed.is_empty() {
            return Err(error(format!(
                "no error kind; write kinds separated by `|` (e.g. `Timeout | Connect`), \
                 or `none` for the empty set; {}",
                KindsAre
            )));
        }
        let names: Vec<&str> = trimmed.split('|').map(str::trim).collect();
        let mut problems = Vec::new();
        let mut set = KindSet::EMPTY;
        if names.iter().any(|name| name.is_empty()) {
            problems.push(format!(
                "a `|` with no kind on one side: write kinds separated by `|`, e.g. `Timeout | Connect` \
                 (found `{trimmed}`)"
            ));
        }
        if names.iter().any(|name| name.contains("::")) {
            let alone: Vec<&str> = names.iter().map(|name| unpathed(name)).collect();
            problems.push(format!(
                "write each kind alone, without a path: `{}`",
                alone.join(" | ")
            ));
        }
        for (i, &name) in names.iter().enumerate() {
            if name.is_empty() || name.contains("::") {
                continue;
            }
            match kind_named(name) {
                // (said once, at its second mention)
                Some(_) if names[..i].contains(&name) => {
                    if names[..i].iter().filter(|&&n| n == name).count() == 1 {
                        problems.push(format!("`{name}` is given twice; give each kind once"));
                    }
                }
                Some(kind) => set = set.with(kind),
                None if name == "none" => problems.push(
                    "`none` is the empty set: write it alone, not in a list of kinds".to_owned(),
                ),
                // a list in another format: `Timeout, Connect`, `Timeout Connect`
                None if name
                    .split([',', ';', ' '])
                    .filter(|word| !word.is_empty())
                    .all(|word| kind_named(word).is_some()) =>
                {
                    let words: Vec<&str> = name
                        .split([',', ';', ' '])
                        .filter(|word| !word.is_empty())
                        .collect();
                    problems.push(format!(
                        "separate kinds with `|`: write `{}` (found `{name}`)",
                        words.join(" | ")
                    ));
                }
                // a lone `None` or `NONE` was meant for the empty set
                None if names.len() == 1 => problems.push(unknown_kind(
                    name,
                    &with_none(),
                    " (or `none` for the empty set)",
                )),
                None => problems.push(unknown_kind(name, &kind_names(), "")),
            }
        }
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(error(problems.join("\n")))
        }
    }
}

/// One kind's name ([`ErrorKind::name`]), as in `retry_on` and as it
/// prints; letter for letter, with a "did you mean" for a near miss.
///
/// ```
/// use retry_runtime::ErrorKind;
/// assert_eq!("RateLimited".parse(), Ok(ErrorKind::RateLimited));
/// for kind in ErrorKind::ALL {
///     assert_eq!(kind.to_string().parse(), Ok(kind));
/// }
/// let e = "ratelimited".parse::<ErrorKind>().unwrap_err();
/// assert_eq!(e.what(), "kind");
/// assert!(e.message().contains("did you mean `RateLimited`?"), "{e}");
/// ```
impl FromStr for ErrorKind {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<ErrorKind, ParseError> {
        let name = text.trim();
        if let Some(kind) = kind_named(name) {
            return Ok(kind);
        }
        let message = if name.is_empty() {
            format!("no error kind; {KindsAre}")
        } else if name.contains('|') {
            format!("one kind only (found `{name}`): parse a `KindSet` for several")
        } else if name.contains("::") {
            format!("write the kind alone, without a path: `{}`", unpathed(name))
        } else {
            unknown_kind(name, &kind_names(), "")
        };
        Err(ParseError::with_message("kind", text, message))
    }
}

/// The kind whose [`name`](ErrorKind::name) this is, letter for letter.
fn kind_named(name: &str) -> Option<ErrorKind> {
    ErrorKind::ALL.into_iter().find(|kind| kind.name() == name)
}

/// The kinds' names, in declaration order.
fn kind_names() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|kind| kind.name()).collect()
}

/// The kinds' names and `none`, for a suggestion for a lone word.
fn with_none() -> Vec<&'static str> {
    let mut names = kind_names();
    names.push("none");
    names
}

/// `ErrorKind::Timeout` -> `Timeout`.
fn unpathed(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name).trim()
}

/// "unknown error kind `X`; did you mean `Y`? the kinds are: ...", worded
/// as `#[retry]` words it (retry-macros' `diag::unknown`), the suggestion
/// from the same `did_you_mean`.
fn unknown_kind(name: &str, candidates: &[&str], or: &str) -> String {
    format!(
        "unknown error kind `{name}`; {}{KindsAre}{or}",
        retry_dsl::did_you_mean(name, candidates)
    )
}

/// "the kinds are: Timeout, Connect, ...", as the attribute's messages end.
struct KindsAre;

impl fmt::Display for KindsAre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the kinds are: ")?;
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(kind.name())?;
        }
        Ok(())
    }
}
