//! The tables inside a policy's table (feature `serde`): `levels`, the
//! levels of its log lines, and `retry_after`, its Retry-After handling;
//! neither is a key of `#[retry]`.

use core::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, Visitor};
use tracing::Level;

use super::{DurationText, once, once_seeded};
use crate::classify::KindSet;
use crate::policy::{Levels, Policy, RetryAfter};

/// A key of a table inside a policy's (`levels`), read as such: its index
/// in the table's keys, or an error naming the table, where it is written.
#[derive(Clone, Copy)]
struct KeyIn {
    table: &'static str,
    keys: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for KeyIn {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeyIn {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a key of `{}`: {}", self.table, self.keys.join(", "))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<usize, E> {
        self.keys.iter().position(|k| *k == key).ok_or_else(|| {
            E::custom(format_args!(
                "unknown key `{key}` in `{}`; {}its keys are: {}",
                self.table,
                retry_dsl::did_you_mean(key, self.keys),
                self.keys.join(", ")
            ))
        })
    }
}

/// The lines of `levels`, as [`Levels`]' fields are named.
pub(super) const LINES: [&str; 5] = [
    "retry",
    "rejected_ok",
    "non_retriable",
    "give_up",
    "success",
];

/// A level's names, as `levels` reads and writes them.
pub(super) const LEVEL_NAMES: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// The levels [`LEVEL_NAMES`] name, in its order.
pub(super) const LEVELS: [Level; 5] = [
    Level::ERROR,
    Level::WARN,
    Level::INFO,
    Level::DEBUG,
    Level::TRACE,
];

/// The word of `rejected_ok` for "the retry line's level" (what `None`
/// means in [`Levels::rejected_ok`]), as a policy is written when that
/// line was set so.
pub(super) const AS_RETRY: &str = "retry";

/// A level by its name (any case), the line's: a retry's line (and a
/// rejected `Ok`'s) is WARN at the loudest, so `error` is refused there
/// rather than quietly read as `warn`. `rejected_ok` also takes
/// [`AS_RETRY`], read as `None`.
struct LevelOf(&'static str);

impl<'de> DeserializeSeed<'de> for LevelOf {
    type Value = Option<Level>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Level>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for LevelOf {
    type Value = Option<Level>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a level, one of: {}", LEVEL_NAMES.join(", "))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<Level>, E> {
        if self.0 == "rejected_ok" && text.eq_ignore_ascii_case(AS_RETRY) {
            return Ok(None);
        }
        let Some(i) = LEVEL_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
        else {
            return Err(E::custom(format_args!(
                "unknown level `{text}` for the {} line; {}levels are: {}",
                self.0,
                retry_dsl::did_you_mean(&text.to_ascii_lowercase(), &LEVEL_NAMES),
                LEVEL_NAMES.join(", ")
            )));
        };
        if i == 0 && matches!(self.0, "retry" | "rejected_ok") {
            return Err(E::custom(format_args!(
                "the {} line is `warn` at the loudest (a retry is not a failure yet): \
                 levels are: warn, info, debug, trace",
                self.0
            )));
        }
        Ok(Some(LEVELS[i]))
    }
}

/// `levels`: a table of lines and their levels, each set over the preset's
/// as its setter sets it, or `"default"` or `"quiet"` ([`Levels::DEFAULT`],
/// [`Levels::QUIET`]) for every line.
pub(super) enum LevelsValue {
    All(Levels),
    /// Each line's level if given (`rejected_ok`'s `None`: the retry line's).
    Lines([Option<Option<Level>>; 5]),
}

impl<'de> Deserialize<'de> for LevelsValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LevelsValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a table of lines and their levels, such as { retry = \"debug\" }, \
                     or \"default\" or \"quiet\"",
                )
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<LevelsValue, E> {
                match text {
                    "default" => Ok(LevelsValue::All(Levels::DEFAULT)),
                    "quiet" => Ok(LevelsValue::All(Levels::QUIET)),
                    _ => Err(E::custom(format_args!(
                        "unknown levels `{text}`: `levels` is \"default\", \"quiet\" (every \
                         line at debug) or a table of lines and their levels, \
                         {{ retry = \"debug\" }}; its keys are: {}",
                        LINES.join(", ")
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LevelsValue, A::Error> {
                let mut lines = [None; 5];
                let seed = KeyIn {
                    table: "levels",
                    keys: &LINES,
                };
                while let Some(i) = map.next_key_seed(seed)? {
                    let line = LINES[i];
                    once_seeded(&mut lines[i], line, &mut map, LevelOf(line), |l| l)?;
                }
                Ok(LevelsValue::Lines(lines))
            }
        }
        d.deserialize_any(V)
    }
}

impl LevelsValue {
    pub(super) fn set<W, G>(self, p: Policy<W, G>) -> Policy<W, G> {
        let [retry, rejected_ok, non_retriable, give_up, success] = match self {
            LevelsValue::All(levels) => return p.with_levels(levels),
            LevelsValue::Lines(lines) => lines,
        };
        let mut p = p;
        if let Some(Some(l)) = retry {
            p = p.with_retry_level(l);
        }
        match rejected_ok {
            Some(Some(l)) => p = p.with_rejected_ok_level(l),
            Some(None) => p = p.with_rejected_ok_as_retry(),
            None => {}
        }
        if let Some(Some(l)) = non_retriable {
            p = p.with_non_retriable_level(l);
        }
        if let Some(Some(l)) = give_up {
            p = p.with_give_up_level(l);
        }
        if let Some(Some(l)) = success {
            p = p.with_success_level(l);
        }
        p
    }
}

/// The keys of `retry_after`, as [`RetryAfter`]'s setters are named.
const RETRY_AFTER_KEYS: [&str; 4] = ["kinds", "cap", "floor", "at_least_backoff"];

/// A duration from its text, zero included (a Retry-After floor or cap):
/// see [`DurationText`].
struct AnyDuration(Duration);

impl<'de> Deserialize<'de> for AnyDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DurationText {
            expecting: "a duration with its unit, such as \"30s\" or \"500ms\"",
            above_zero: false,
        })
        .map(AnyDuration)
    }
}

/// `retry_after`: a table of [`RetryAfter`]'s settings, each set over the
/// preset's.
#[derive(Default)]
pub(super) struct RetryAfterTable {
    kinds: Option<KindSet>,
    cap: Option<Duration>,
    floor: Option<Duration>,
    at_least_backoff: Option<bool>,
}

impl<'de> Deserialize<'de> for RetryAfterTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RetryAfterTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a table of the Retry-After settings, such as {{ cap = \"30s\" }}: {}",
                    RETRY_AFTER_KEYS.join(", ")
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RetryAfterTable, A::Error> {
                let mut t = RetryAfterTable::default();
                let seed = KeyIn {
                    table: "retry_after",
                    keys: &RETRY_AFTER_KEYS,
                };
                while let Some(i) = map.next_key_seed(seed)? {
                    let (m, k) = (&mut map, RETRY_AFTER_KEYS[i]);
                    match i {
                        0 => once(&mut t.kinds, k, m, |kinds: KindSet| kinds)?,
                        1 => once(&mut t.cap, k, m, |d: AnyDuration| d.0)?,
                        2 => once(&mut t.floor, k, m, |d: AnyDuration| d.0)?,
                        _ => once(&mut t.at_least_backoff, k, m, |on: bool| on)?,
                    }
                }
                Ok(t)
            }
        }
        d.deserialize_map(V)
    }
}

impl RetryAfterTable {
    /// `over` with each setting given set, checked here for a message in
    /// the file's words (`Policy::build`'s names `RetryAfter::IGNORE`).
    pub(super) fn set<E: de::Error>(self, over: RetryAfter) -> Result<RetryAfter, E> {
        let mut r = over;
        if let Some(kinds) = self.kinds {
            r = r.with_kinds(kinds);
        }
        if let Some(cap) = self.cap {
            r = r.with_cap(cap);
        }
        if let Some(floor) = self.floor {
            r = r.with_floor(floor);
        }
        if let Some(on) = self.at_least_backoff {
            r = r.with_at_least_backoff(on);
        }
        let fmt = retry_dsl::format_duration;
        if !r.kinds().is_empty() && r.cap().is_zero() {
            return Err(E::custom(
                "invalid retry_after: a cap of `0s` turns every server's hint into an \
                 immediate retry; write a cap above zero, or `kinds = []` to ignore the hints",
            ));
        }
        if !r.kinds().is_empty() && r.floor() > r.cap() {
            return Err(E::custom(format_args!(
                "invalid retry_after: the floor `{}` is above the cap `{}`; a hint's wait \
                 is at least the floor and at most the cap",
                fmt(r.floor()),
                fmt(r.cap())
            )));
        }
        Ok(r)
    }
}
