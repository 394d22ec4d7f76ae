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
//! Every function in it returns an error rather than panicking, whatever the input:
//! no `unwrap`, no indexing, and checked arithmetic wherever a value comes from the user.
//!
//! One module per thing it reads: `duration` (`parse_duration`,
//! `format_duration`), `backoff` (`BackoffSpec`, `parse_backoff`), `jitter`
//! (`JitterSpec`, `parse_jitter`), `schedule` (`Schedule`, the waits of
//! `schedule(..)`) and `suggest` (the "did you mean"
//! helpers `closest` and `did_you_mean`, also used by retry-macros). Every
//! public item is re-exported here, at the crate root, the one path its two
//! readers use.
//!
//! The examples in the items' docs are `text` blocks (written as the attribute
//! takes them); the unit tests in each module check each of them.

#![forbid(unsafe_code)]

use std::fmt;

mod backoff;
mod duration;
mod jitter;
mod schedule;
mod suggest;

pub use backoff::{parse_backoff, BackoffSpec};
pub use duration::{format_duration, parse_duration};
pub use jitter::{parse_jitter, JitterSpec};
pub use schedule::{format_schedule, Schedule, MAX_SCHEDULE};
pub use suggest::{closest, did_you_mean};

/// A problem with a DSL string, worded for the user who wrote it; several
/// (in a backoff's arguments) are one per line.
#[derive(Debug, Clone, PartialEq)]
pub struct DslError {
    pub message: String,
}

impl DslError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::BACKOFF_NAMES;
    use crate::jitter::JITTER_NAMES;
    use proptest::prelude::*;
    use std::time::Duration;

    // --- shared by the modules' tests ----------------------------------------

    pub(crate) fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    pub(crate) fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// The message of a backoff that must not parse.
    #[track_caller]
    pub(crate) fn backoff_err(input: &str) -> String {
        match parse_backoff(input) {
            Ok(b) => panic!("`{input}` parsed as {b:?}, expected an error"),
            Err(e) => e.message,
        }
    }

    #[track_caller]
    pub(crate) fn assert_contains(message: &str, needle: &str) {
        assert!(
            message.contains(needle),
            "expected the message to contain {needle:?}, got: {message}"
        );
    }

    /// Durations in whole nanoseconds up to 10^15 ns, with round values in every
    /// unit mixed in so each branch of `format_duration` is exercised.
    pub(crate) fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (0u64..=1_000_000_000_000_000).prop_map(Duration::from_nanos),
            (0u64..=10_000_000).prop_map(Duration::from_millis),
            (0u64..=1_000_000).prop_map(Duration::from_secs),
            (0u64..=10_000).prop_map(|m| Duration::from_secs(m * 60)),
            (0u64..=1_000).prop_map(|h| Duration::from_secs(h * 3600)),
        ]
    }

    // --- properties of the three parsers together --------------------------

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
    }
}
