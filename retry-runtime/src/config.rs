//! Policies in configuration files (feature `serde`): a [`Policy`] read
//! from a file in `#[retry]`'s keys and grammar, checked as
//! [`Policy::build`] checks (its `Deserialize`), and written back in the
//! same keys (its `Serialize`); [`Backoff`], [`Jitter`], [`KindSet`] and
//! [`ErrorKind`] as their text. The impls are on the types; this module
//! holds what goes with them: [`FileCondition`], the retry conditions a
//! file holds (`retry_on`'s kinds, or `"all"`), and [`named_map`](mod@named_map),
//! a map of policies whose keys name them (`[upstreams.billing]` is the
//! policy `billing`), read by [`named_map()`] and written back by
//! [`named_map::serialize`], each table without `name`:
//! `#[serde(with = "retry_runtime::config::named_map")]` does both.
//!
//! ```
//! use retry_runtime::{Policy, RetryAll, RetryOn};
//!
//! let clips: Policy<RetryOn> = toml::from_str("preset = \"s3\"\nattempts = 6\n")?;
//! assert_eq!((clips.max_attempts(), clips.name()), (6, "s3"));
//! let jobs: Policy<RetryAll> = toml::from_str("attempts = 5\nretry_on = \"all\"\n")?;
//! let written = toml::to_string(&jobs)?;
//! assert!(written.starts_with("attempts = 5\n"), "{written}");
//! assert!(written.contains("retry_on = \"all\"\n"), "{written}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, Serializer};

use crate::backoff::Backoff;
use crate::classify::{ErrorKind, KindSet};
use crate::jitter::Jitter;
use crate::nested::Nested;
#[cfg(doc)]
use crate::policy::{Levels, RetryAfter};
use crate::policy::{Policy, RetryOn};

mod condition;
mod inner_tables;
mod name;
pub mod named_map;
mod preset;
mod write;
pub use condition::FileCondition;
use condition::{RetryOnSeed, RetryOnValue};
use inner_tables::{LevelsValue, RetryAfterTable};
use name::NameSeed;
// (the module's `deserialize`, by the module's path: a function and a
// module of one name, so that `#[serde(deserialize_with = ..)]` and
// `#[serde(with = ..)]` take the same path, `retry_runtime::config::named_map`)
pub use named_map::deserialize as named_map;
use preset::Preset;

/// The keys of a policy's table: `#[retry]`'s keys that hold a value, the
/// levels of its lines, its Retry-After handling and its name.
const KEYS: [&str; 12] = [
    "preset",
    "attempts",
    "backoff",
    "jitter",
    "retry_on",
    "max_elapsed",
    "hedge",
    "nested",
    "attempt_spans",
    "levels",
    "retry_after",
    "name",
];

/// Reads a value of `T` from its text, in `#[retry]`'s grammar.
struct Text<T>(&'static str, PhantomData<T>);

impl<T: FromStr<Err: fmt::Display>> Visitor<'_> for Text<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

/// Writes `value` as its text, which must read back to it: a value with no
/// such text (a linear backoff whose step is not its start) is an error
/// rather than a configuration that would not load again.
fn as_text<T, S>(value: &T, what: &str, s: S) -> Result<S::Ok, S::Error>
where
    T: fmt::Display + FromStr + PartialEq,
    S: Serializer,
{
    let text = value.to_string();
    match text.parse::<T>() {
        Ok(back) if back == *value => s.serialize_str(&text),
        _ => Err(ser::Error::custom(format_args!(
            "the {what} `{text}` has no text that reads back to it"
        ))),
    }
}

macro_rules! by_text {
    ($ty:ty, $what:literal, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                as_text(self, $what, s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(Text($expecting, PhantomData))
            }
        }
    };
}

by_text!(
    Backoff,
    "backoff",
    "a backoff such as \"exp(1s, 30s)\", \"fixed(500ms)\" or \"none\""
);
by_text!(
    Jitter,
    "jitter",
    "a jitter such as \"full\", \"+25%\" or \"none\""
);
by_text!(ErrorKind, "error kind", "an error kind such as \"Timeout\"");

impl Serialize for KindSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        as_text(self, "set of kinds", s)
    }
}

/// A set of kinds from its text, `"Timeout | Connect"`, or a list of
/// kinds, `["Timeout", "Connect"]`.
struct Kinds;

impl<'de> Visitor<'de> for Kinds {
    type Value = KindSet;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("error kinds, as \"Timeout | Connect\" or [\"Timeout\", \"Connect\"]")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<KindSet, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KindSet, A::Error> {
        let mut kinds = KindSet::EMPTY;
        while let Some(kind) = seq.next_element::<ErrorKind>()? {
            if kinds.contains(kind) {
                return Err(de::Error::custom(format_args!("`{kind}` is listed twice")));
            }
            kinds = kinds.with(kind);
        }
        Ok(kinds)
    }
}

impl<'de> Deserialize<'de> for KindSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Kinds)
    }
}

/// A duration from its text, `"2m"`, `"500ms"`: a bare number is refused
/// (seconds or milliseconds?), and so is a zero `above_zero`; `expecting`
/// says what a value of another type should have been, with an example
/// fit for its key.
pub(crate) struct DurationText {
    pub(crate) expecting: &'static str,
    pub(crate) above_zero: bool,
}

impl Visitor<'_> for DurationText {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        match crate::parse::duration(text) {
            Ok(Duration::ZERO) if self.above_zero => Err(E::custom(format_args!(
                "`{}` is no time: this duration must be above zero",
                text.trim()
            ))),
            parsed => parsed.map_err(E::custom),
        }
    }
}

/// A duration from its text, above zero (a policy's `max_elapsed` and
/// hedge delay): see [`DurationText`].
struct Text2Duration(Duration);

impl<'de> Deserialize<'de> for Text2Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DurationText {
            expecting: "a duration with its unit, such as \"2m\" or \"500ms\"",
            above_zero: true,
        })
        .map(Text2Duration)
    }
}

/// `attempts`, 1 to `u32::MAX` (no attempt limit), refused as it is read
/// (so that every format places it, YAML's too, which places only an error
/// its deserializer raises); the range said as the attribute says it, so a
/// count past `u32::MAX` is not told "at least 1".
struct Attempts(u32);

impl<'de> Deserialize<'de> for Attempts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = u32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of attempts from 1 to 4294967295")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<u32, E> {
                match u32::try_from(n) {
                    Ok(0) => Err(E::custom(crate::PolicyError::ZeroAttempts)),
                    Ok(n) => Ok(n),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Unsigned(n), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<u32, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(n), &self)),
                }
            }
        }
        d.deserialize_u32(V).map(Attempts)
    }
}

/// A key of a policy's table, read as such ([`KeyOf`]), so that an
/// unknown one is an error where it is written.
#[derive(Clone, Copy)]
enum Key {
    Preset,
    Attempts,
    Backoff,
    Jitter,
    RetryOn,
    MaxElapsed,
    Hedge,
    Nested,
    AttemptSpans,
    Levels,
    RetryAfter,
    Name,
}

impl Key {
    /// Every key, in [`KEYS`]' order.
    const ALL: [Key; 12] = [
        Key::Preset,
        Key::Attempts,
        Key::Backoff,
        Key::Jitter,
        Key::RetryOn,
        Key::MaxElapsed,
        Key::Hedge,
        Key::Nested,
        Key::AttemptSpans,
        Key::Levels,
        Key::RetryAfter,
        Key::Name,
    ];

    fn name(self) -> &'static str {
        KEYS[self as usize]
    }
}

/// Reads a [`Key`] of the table of a policy that retries `every` error
/// ([`RetryAll`](crate::RetryAll)) or the kinds it lists: `retry_after`
/// is refused in the first, whose condition reads no server's wait (see
/// [`condition::retry_after_refused`]), where the key is written.
#[derive(Clone, Copy)]
struct KeyOf {
    every: bool,
}

impl<'de> DeserializeSeed<'de> for KeyOf {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeyOf {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key of `#[retry]`")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        match Key::ALL.into_iter().find(|k| k.name() == key) {
            Some(Key::RetryAfter) if self.every => Err(condition::retry_after_refused()),
            Some(key) => Ok(key),
            None => Err(unknown_key(key)),
        }
    }
}

/// The error for a key no policy's table has: the keys, the closest one,
/// and where the key a user of another library tries belongs.
fn unknown_key<E: de::Error>(key: &str) -> E {
    // (the first key a user of another library tries)
    let why = match key {
        "timeout" => {
            "a per-attempt timeout is the call's, not the policy's \
             (`retry_runtime::timeout(limit, op())`, or the \
             attribute's `timeout` key); "
        }
        // (keys a written policy shows, so that they are not hidden)
        "circuit" | "budget" | "throttle" | "cooldown" => {
            return E::custom(format_args!(
                "`{key}` is attached in code, not read from a file (a \
                 written policy names its {key} so that it is not hidden: \
                 remove the key here, and attach it with `.with_{key}(&..)`)"
            ));
        }
        // (a YAML file sharing an anchor's keys, `<<: *defaults`:
        // valid YAML, which a streaming deserializer does not merge)
        "<<" => {
            return E::custom(
                "`<<` is YAML's merge key, which this deserializer hands \
                 over unmerged (serde_norway's and serde_yaml's do): read \
                 the file as their `Value`, call `value.apply_merge()`, \
                 then `from_value(value)`; or write the keys out",
            );
        }
        "before_sleep" | "on_give_up" => {
            return E::custom(format_args!(
                "`{key}` is a hook, a function set in code, not read from a \
                 file (a written policy shows it is set so that it is not \
                 hidden: remove the key here, and set it with `.with_{key}(..)`)"
            ));
        }
        _ => "",
    };
    E::custom(format_args!(
        "unknown key `{key}`; {why}{}keys are: {}",
        retry_dsl::did_you_mean(key, &KEYS),
        KEYS.join(", ")
    ))
}

/// `nested`'s two words, as the attribute takes them.
struct NestedWord(Nested);

impl<'de> Deserialize<'de> for NestedWord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Nested;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"defer\" or \"retry\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Nested, E> {
                match text {
                    "defer" => Ok(Nested::Defer),
                    "retry" => Ok(Nested::Retry),
                    _ => Err(E::unknown_variant(text, &["defer", "retry"])),
                }
            }
        }
        d.deserialize_str(V).map(NestedWord)
    }
}

/// A policy's table, each key read once.
#[derive(Default)]
struct Table {
    preset: Option<Policy<RetryOn>>,
    attempts: Option<u32>,
    backoff: Option<Backoff>,
    jitter: Option<Jitter>,
    retry_on: Option<RetryOnValue>,
    max_elapsed: Option<Duration>,
    hedge: Option<Duration>,
    nested: Option<Nested>,
    attempt_spans: Option<bool>,
    levels: Option<LevelsValue>,
    retry_after: Option<RetryAfterTable>,
    name: Option<&'static str>,
}

/// `slot` set from the map's next value, once.
pub(crate) fn once<'de, A, T, U>(
    slot: &mut Option<U>,
    key: &'static str,
    map: &mut A,
    into: fn(T) -> U,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    once_seeded(slot, key, map, PhantomData::<T>, into)
}

/// [`once`], the value read with `seed` (a level read for its line).
pub(crate) fn once_seeded<'de, A, S, U>(
    slot: &mut Option<U>,
    key: &'static str,
    map: &mut A,
    seed: S,
    into: fn(S::Value) -> U,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    S: DeserializeSeed<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(key));
    }
    *slot = Some(into(map.next_value_seed(seed)?));
    Ok(())
}

impl Table {
    /// The preset's policy (the transient kinds over [`Policy::new`]'s
    /// settings without one), each key given set over it, then checked;
    /// for a policy that retries `every` error, one whose `retry_on` said
    /// so (its kinds, the preset's, are then never read). Named `key`
    /// (its key in a map read by [`named_map()`]) unless `name` names it
    /// (`key` again: [`NameSeed`] refuses another).
    fn policy<E: de::Error>(
        self,
        every: bool,
        key: Option<&'static str>,
    ) -> Result<Policy<RetryOn>, E> {
        if every && self.retry_on.is_none() {
            return Err(condition::all_unsaid(self.preset.as_ref()));
        }
        let mut p = self
            .preset
            .unwrap_or(const { Policy::new().retry_on(KindSet::TRANSIENT) });
        if let Some(n) = self.attempts {
            p = p.with_max_attempts(n);
        }
        if let Some(b) = self.backoff {
            p = p.with_backoff(b);
        }
        if let Some(j) = self.jitter {
            p = p.with_jitter(j);
        }
        if let Some(RetryOnValue::Kinds(kinds)) = self.retry_on {
            p = p.retry_on(kinds);
        }
        if let Some(d) = self.max_elapsed {
            p = p.with_max_elapsed(d);
        }
        if let Some(d) = self.hedge {
            p = p.with_hedge(d);
        }
        if let Some(n) = self.nested {
            p = p.with_nested(n);
        }
        if let Some(on) = self.attempt_spans {
            p = p.with_attempt_spans(on);
        }
        if let Some(levels) = self.levels {
            p = levels.set(p);
        }
        if let Some(table) = self.retry_after {
            p = p.with_retry_after(table.set(p.retry_after())?);
        }
        if let Some(name) = self.name.or(key) {
            p = p.with_name(name);
        }
        p.build()
            .map_err(|e| E::custom(format_args!("invalid retry policy: {e}")))
    }
}

/// A policy's table, or a preset's name alone: one of a policy that
/// retries `every` error ([`RetryAll`](crate::RetryAll)) or the kinds its
/// `retry_on` lists, read as a [`Policy<RetryOn>`] either way (the first
/// then made a `Policy<RetryAll>`, see [`FileCondition`]); in a map read
/// by [`named_map()`], named by its `key`.
#[derive(Clone, Copy)]
struct PolicySeed {
    every: bool,
    key: Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for PolicySeed {
    type Value = Policy<RetryOn>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Policy<RetryOn>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PolicySeed {
    type Value = Policy<RetryOn>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a retry policy: a preset's name, or a table of `#[retry]`'s keys")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        let p = preset::named(name)?;
        match (self.every, self.key) {
            (true, _) => Err(condition::all_unsaid_alone(&p)),
            (false, Some(key)) => Ok(p.with_name(key)),
            (false, None) => Ok(p),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut t = Table::default();
        let every = RetryOnSeed { every: self.every };
        while let Some(key) = map.next_key_seed(KeyOf { every: self.every })? {
            let (m, k) = (&mut map, key.name());
            match key {
                Key::Preset => once(&mut t.preset, k, m, |p: Preset| p.0)?,
                Key::Attempts => once(&mut t.attempts, k, m, |n: Attempts| n.0)?,
                Key::Backoff => once(&mut t.backoff, k, m, |b: Backoff| b)?,
                Key::Jitter => once(&mut t.jitter, k, m, |j: Jitter| j)?,
                Key::RetryOn => once_seeded(&mut t.retry_on, k, m, every, |v| v)?,
                Key::MaxElapsed => once(&mut t.max_elapsed, k, m, |d: Text2Duration| d.0)?,
                Key::Hedge => once(&mut t.hedge, k, m, |d: Text2Duration| d.0)?,
                Key::Nested => once(&mut t.nested, k, m, |n: NestedWord| n.0)?,
                Key::AttemptSpans => once(&mut t.attempt_spans, k, m, |b: bool| b)?,
                Key::Levels => once(&mut t.levels, k, m, |l: LevelsValue| l)?,
                Key::RetryAfter => once(&mut t.retry_after, k, m, |r: RetryAfterTable| r)?,
                Key::Name => once_seeded(&mut t.name, k, m, NameSeed { key: self.key }, |n| n)?,
            }
        }
        t.policy(self.every, self.key)
    }
}

/// A policy from configuration: a table of `#[retry]`'s keys that hold a
/// value, in its grammar, or a preset's name alone (`clips = "webhook"`);
/// a `Policy<RetryOn>` (the kinds its `retry_on` lists), or a
/// `Policy<RetryAll>` (every error: `retry_on = "all"`), the conditions a
/// file holds ([`FileCondition`]).
///
/// `preset` is the policy the other keys are set over, as in the
/// attribute: a preset's name, or `"grpc"`, `tonic::GRPC`, with the
/// feature `tonic` (an error naming the feature without it); without one,
/// [`Policy::new`]'s settings retrying the
/// transient kinds, [`KindSet::TRANSIENT`] (where `#[retry]` with neither
/// a preset nor `retry_on` retries every error: a policy read from a file
/// classifies, so that a 404 fails at once); `retry_on = []` (or
/// `"none"`) turns its retries off. `attempts`, `backoff`,
/// `jitter`, `retry_on` (`"Timeout | Connect"` or a list of kinds),
/// `max_elapsed`, `hedge` (durations with their unit, `"2m"`), `nested`
/// (`"defer"` or `"retry"`) and `attempt_spans` (a boolean); and `levels`,
/// the levels of its log lines, which the attribute does not take: a table
/// of [`Levels`]' lines, `retry`, `rejected_ok`, `non_retriable`, `give_up`
/// and `success`, each a level's name (`error`, `warn`, `info`, `debug`,
/// `trace`, in any case; a retry's line is `warn` at the loudest;
/// `rejected_ok` also takes `"retry"`, the retry line's level), set over
/// the preset's as its setter ([`with_retry_level`](Policy::with_retry_level),
/// ...) sets it, so that a library's
/// [`with_default_levels`](Policy::with_default_levels) keeps them; or
/// `"quiet"` (every line at DEBUG, [`Levels::QUIET`]) or `"default"`; and
/// `retry_after`, how a server's requested wait is treated
/// ([`RetryAfter`]), which the attribute does not take either: a table of
/// `kinds` (as `retry_on`; `[]` ignores every hint), `cap` and `floor`
/// (durations, `"30s"`) and `at_least_backoff` (a boolean), each set over
/// the preset's (or [`RetryAfter::DEFAULT`]'s); and `name`, the name of
/// its log lines and metrics (as [`with_name`](Policy::with_name) sets
/// it): 1 to 64 of the ASCII letters and digits, `_`, `-` and `.` (a
/// Prometheus label value and a log field as they are), each distinct name
/// leaked once for the process (one allocation per distinct name ever
/// read: a reload of the same names makes none, and every read of
/// `"clips"` gives the same `&'static str`). The policy is
/// checked as [`Policy::build`] checks it; an unknown or repeated key, a
/// value that does not parse or is out of range (`attempts = 0`, a zero
/// `max_elapsed` or `hedge`, a zero `retry_after` cap while its `kinds`
/// read hints; a zero floor is the default, and a zero cap with `kinds =
/// []` bounds nothing) and a policy `build` refuses are errors naming the key or
/// the fault, with the position your format's deserializer adds: a TOML
/// file's line of the key or value at fault, or of the table for a fault
/// of two keys together (a decorrelated jitter over a fixed backoff).
///
/// A `Policy<RetryAll>` retries every error, unclassified ones too, so
/// its table says so, `retry_on = "all"`, and is refused without it (a
/// table copied from a classifying policy would retry a 404), as is a
/// preset's name alone (a preset retries its kinds: write `{ preset =
/// "webhook", retry_on = "all" }`) and a `retry_on` of kinds. A
/// `Policy<RetryOn>` refuses `"all"` in turn, rather than reading it as
/// every kind (which would read Retry-After hints and log kinds a
/// `RetryAll` does not). Its other keys are a `Policy<RetryOn>`'s, but
/// `retry_after`: reading nothing of its errors, a `Policy<RetryAll>`
/// waits no server's Retry-After, so the settings would do nothing (a
/// job queue's `cap = "10m"` silently not obeyed), and the key is refused
/// where it is written, with what waits the hints instead: a
/// `Policy<RetryOn>` retrying every kind, `retry_on = "Timeout | Connect |
/// RateLimited | Unavailable | Interrupted | Permanent | Unknown"`; and,
/// first, that a classifying upstream's table (read under a `Policy`
/// alone, say, before its missing `retry_on = "all"` is reached) is read
/// as a `Policy<RetryOn>` in the code, which reads its `retry_after`. Its
/// preset's Retry-After settings (`job`'s), which the table does not
/// write, are no error: they are kept, unused, for a `.retry_on(..)` set
/// over it in code.
///
/// A policy is written back in these keys by its `Serialize`
/// (`Policy<RetryOn, G>` and `Policy<RetryAll, G>`), which reads back to
/// the same policy: a `Policy<RetryAll>` is written without `retry_after`,
/// which it never reads (read back, its Retry-After settings are its
/// preset's, or the defaults, and it decides as it did). A map whose keys
/// name its policies is written back by [`named_map::serialize`], each
/// table without `name`, as [`named_map()`] reads it.
///
/// Without `name`, the policy is unnamed (the preset's name, or
/// `operation`, until `#[retry(policy = ..)]` names it after its
/// function); in a map read with [`named_map()`], its key names it. Not read: hooks, guards (a breaker, budget, throttle or
/// cooldown is `'static`: attach it in code, `.with_circuit(&UPSTREAM)`;
/// the keys a written policy names them with, `circuit`, `budget`,
/// `throttle`, `cooldown`, `before_sleep` and `on_give_up`, are refused
/// with a message that says so), and the
/// per-attempt `timeout`, which is a call's, not a policy's
/// (`retry_runtime::timeout(limit, op())`).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Policy, RetryOn};
///
/// #[derive(serde::Deserialize)]
/// struct Settings {
///     clips: Policy<RetryOn>,
///     webhooks: Policy<RetryOn>,
/// }
///
/// let settings: Settings = serde_json::from_str(r#"{
///     "clips": { "preset": "s3", "attempts": 6, "max_elapsed": "2m" },
///     "webhooks": "webhook"
/// }"#)?;
/// assert_eq!(settings.clips.max_attempts(), 6);
/// assert_eq!(settings.clips.max_elapsed(), Some(Duration::from_secs(120)));
/// assert_eq!(settings.webhooks.backoff().to_string(), "exp(1s, 4s)");
///
/// // named in the file: its log lines' and metrics' `operation`
/// let named: Policy<RetryOn> = serde_json::from_str(r#"{ "preset": "s3", "name": "clips" }"#)?;
/// assert_eq!(named.name(), "clips");
/// let again: Policy<RetryOn> = serde_json::from_str(r#"{ "name": "clips" }"#)?;
/// assert!(std::ptr::eq(named.name(), again.name())); // leaked once
/// let spaced = serde_json::from_str::<Policy<RetryOn>>(r#"{ "name": "clip downloads" }"#).unwrap_err();
/// assert!(spaced.to_string().starts_with("invalid name `clip downloads`: "), "{spaced}");
///
/// // a noisy upstream's retries at DEBUG, its give-ups at WARN
/// let noisy: Policy<RetryOn> =
///     serde_json::from_str(r#"{ "preset": "api", "levels": { "retry": "debug", "give_up": "warn" } }"#)?;
/// assert_eq!((noisy.retry_level(), noisy.give_up_level()), (tracing::Level::DEBUG, tracing::Level::WARN));
///
/// // an upstream whose 503s carry Retry-After too, honoured up to 30s
/// let hinted: Policy<RetryOn> = serde_json::from_str(
///     r#"{ "preset": "api", "retry_after": { "kinds": "RateLimited | Unavailable", "cap": "30s" } }"#,
/// )?;
/// assert_eq!(hinted.retry_after().cap(), Duration::from_secs(30));
///
/// let typo = serde_json::from_str::<Policy<RetryOn>>(r#"{ "atempts": 6 }"#).unwrap_err();
/// assert!(typo.to_string().starts_with("unknown key `atempts`; did you mean `attempts`? keys are: preset, attempts"), "{typo}");
/// let refused = serde_json::from_str::<Policy<RetryOn>>(r#"{ "attempts": 0 }"#).unwrap_err();
/// assert!(refused.to_string().starts_with("attempts must be at least 1"), "{refused}");
/// let both = r#"{ "backoff": "fixed(1s)", "jitter": "decorrelated" }"#;
/// let refused = serde_json::from_str::<Policy<RetryOn>>(both).unwrap_err();
/// assert!(refused.to_string().starts_with("invalid retry policy: "), "{refused}");
///
/// // a job that retries whatever failed, over the `job` preset's waits
/// use retry_runtime::RetryAll;
/// let jobs: Policy<RetryAll> = serde_json::from_str(r#"{ "preset": "job", "retry_on": "all" }"#)?;
/// assert_eq!(jobs.max_attempts(), 4);
/// let unsaid = serde_json::from_str::<Policy<RetryAll>>(r#"{ "preset": "job" }"#).unwrap_err();
/// assert!(unsaid.to_string().contains("say so with `retry_on = \"all\"`"), "{unsaid}");
/// // which reads no server's Retry-After: a cap on its hints would do nothing
/// let capped = r#"{ "preset": "job", "retry_on": "all", "retry_after": { "cap": "10m" } }"#;
/// let inert = serde_json::from_str::<Policy<RetryAll>>(capped).unwrap_err();
/// assert!(inert.to_string().starts_with("`retry_after` does nothing here: this policy retries every error"), "{inert}");
/// # Ok::<(), serde_json::Error>(())
/// ```
impl<'de, W: FileCondition> Deserialize<'de> for Policy<W> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let seed = PolicySeed {
            every: W::EVERY,
            key: None,
        };
        seed.deserialize(d).map(W::from_file)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Backoff, ErrorKind, Jitter, KindSet, Nested, Policy, RetryOn, presets};

    fn from_toml(text: &str) -> Result<Policy<RetryOn>, String> {
        #[derive(serde::Deserialize)]
        struct File {
            clips: Policy<RetryOn>,
        }
        toml::from_str::<File>(text)
            .map(|f| f.clips)
            .map_err(|e| e.to_string())
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_keys_are_set_over_the_preset_whatever_their_order() {
        let p = from_toml(
            "[clips]\nattempts = 6\nmax_elapsed = \"2m\"\npreset = \"s3\"\n\
             jitter = \"+25%\"\nhedge = \"150ms\"\nnested = \"retry\"\nattempt_spans = true\n",
        )
        .unwrap();
        let s3 = presets::S3;
        assert_eq!(p.max_attempts(), 6);
        assert_eq!(p.max_elapsed(), Some(s(120)));
        assert_eq!(p.backoff(), s3.backoff());
        assert_eq!(p.jitter(), "+25%".parse::<Jitter>().unwrap());
        assert_eq!(p.when().0, s3.when().0);
        assert_eq!(p.retry_after(), s3.retry_after());
        assert_eq!(p.hedge(), Some(Duration::from_millis(150)));
        assert_eq!(p.nested(), Nested::Retry);
        assert!(p.attempt_spans());
        assert_eq!(p.name(), s3.name());
    }

    /// `name` names the policy as `with_name` does: over the preset's, and
    /// kept when `#[retry(policy = ..)]` offers its function's name.
    #[test]
    fn name_names_the_policy_as_with_name_does() {
        let p = from_toml("[clips]\npreset = \"s3\"\nname = \"clips\"\n").unwrap();
        assert_eq!(p.name(), "clips");
        assert_eq!(p.with_default_name("download").name(), "clips");
        let unnamed = from_toml("[clips]\npreset = \"s3\"\n").unwrap();
        assert_eq!(unnamed.name(), "s3");
        assert_eq!(unnamed.with_default_name("download").name(), "download");
        let e = from_toml("[clips]\nattempts = 3\nname = \"clip downloads\"\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(
            e.contains("invalid name `clip downloads`: a policy's name, a log field and a metric label, is 1 to 64 of"),
            "{e}"
        );
    }

    #[test]
    fn without_a_preset_the_defaults_retry_the_transient_kinds() {
        let p = from_toml("[clips]\nbackoff = \"fixed(500ms)\"\n").unwrap();
        let new = Policy::new();
        assert_eq!(p.when().0, KindSet::TRANSIENT);
        assert_eq!(p.max_attempts(), new.max_attempts());
        assert_eq!(p.backoff(), Backoff::fixed(Duration::from_millis(500)));
        assert_eq!(p.jitter(), new.jitter());
        assert_eq!(p.max_elapsed(), None);
        assert_eq!(p.nested(), Nested::Defer);
        assert!(!p.attempt_spans());
        let empty = from_toml("[clips]\n").unwrap();
        assert_eq!(empty.backoff(), new.backoff());
    }

    #[test]
    fn a_preset_s_name_alone_is_the_preset() {
        let p = from_toml("clips = \"webhook\"\n").unwrap();
        assert_eq!(p.max_attempts(), presets::WEBHOOK.max_attempts());
        assert_eq!(p.backoff(), presets::WEBHOOK.backoff());
        let e = from_toml("clips = \"webhok\"\n").unwrap_err();
        assert!(
            e.contains(
                "unknown preset `webhok`; did you mean `webhook`? presets are: webhook, quick"
            ),
            "{e}"
        );
        let e = from_toml("[clips]\nattempts = 3\npreset = \"fast\"\n").unwrap_err();
        assert!(e.contains("unknown preset `fast`"), "{e}");
        assert!(e.contains("line 3"), "placed on its own line: {e}");
    }

    /// `tonic::GRPC` by its name, as a table's preset or alone; without the
    /// feature `tonic`, an error naming it, on the preset's line.
    #[test]
    fn grpc_is_a_preset_of_the_feature_tonic() {
        let read = from_toml("[clips]\nattempts = 6\npreset = \"grpc\"\n");
        #[cfg(feature = "tonic")]
        {
            use crate::tonic::GRPC;
            let p = read.unwrap();
            assert_eq!(format!("{p:?}"), format!("{:?}", GRPC.with_max_attempts(6)));
            assert_eq!(p.retry_after(), crate::tonic::PUSHBACK);
            // unnamed, as the preset: `#[retry(policy = ..)]` names it after its function
            assert_eq!(p.with_default_name("fetch").name(), "fetch");
            let alone = from_toml("clips = \"grpc\"\n").unwrap();
            assert_eq!(format!("{alone:?}"), format!("{GRPC:?}"));
        }
        #[cfg(not(feature = "tonic"))]
        {
            let e = read.unwrap_err();
            assert!(e.contains("line 3"), "{e}");
            assert!(e.contains("needs retry-runtime's feature `tonic`"), "{e}");
        }
    }

    /// A `Policy<RetryAll>` from a table that says `retry_on = "all"`,
    /// over its preset's settings; every other `retry_on` refused where it
    /// is written, and so is its absence, which a table copied from a
    /// classifying policy would have.
    #[test]
    fn retry_on_all_is_a_policy_that_retries_every_error() {
        use crate::RetryAll;
        #[derive(serde::Deserialize)]
        struct File {
            jobs: Policy<RetryAll>,
        }
        let every = |text: &str| {
            toml::from_str::<File>(text)
                .map(|f| f.jobs)
                .map_err(|e| e.to_string())
        };
        let p = every("[jobs]\npreset = \"s3\"\nattempts = 6\nretry_on = \"all\"\n").unwrap();
        let built = presets::S3.with_max_attempts(6).retry_all();
        assert_eq!(format!("{p:?}"), format!("{built:?}"));
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound); // Permanent
        assert!(p.decide(0, &missing).wait().is_some());
        assert!(every("[jobs]\nretry_on = \"all\"\n").is_ok());

        for (table, fault, line) in [
            (
                "attempts = 3\nretry_on = \"Timeout | Connect\"",
                "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone is): \
                 its `retry_on` is \"all\"",
                3,
            ),
            (
                "attempts = 3\nretry_on = [\"Timeout\"]",
                "its `retry_on` is \"all\"",
                3,
            ),
            (
                "attempts = 3\nretry_on = 3",
                "\"all\": this policy retries every error",
                3,
            ),
            // no kinds: an operator turning a job's retries off is told
            // how in the file (one attempt), not to change the code's type
            // nor "the kinds listed" when there are none
            (
                "preset = \"job\"\nretry_on = []",
                "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone \
                 is), and `retry_on = []` retries none: to make one attempt and no retry, keep \
                 `retry_on = \"all\"` and write `attempts = 1`",
                3,
            ),
            (
                "preset = \"job\"\nretry_on = \"none\"",
                "and `retry_on = \"none\"` retries none: to make one attempt",
                3,
            ),
            (
                "attempts = 3",
                "say so with `retry_on = \"all\"`, or, in the code, read it as a `Policy<RetryOn>`, \
                 which retries the transient kinds",
                1,
            ),
        ] {
            let e = every(&format!("[jobs]\n{table}\n")).unwrap_err();
            assert!(e.contains(fault), "{table}: {e}");
            assert!(e.contains(&format!("line {line}")), "{table}: {e}");
        }
        let e = every("jobs = \"webhook\"\n").unwrap_err();
        assert!(
            e.contains(
                "`webhook` alone is the preset, which retries its kinds, \"Timeout | Connect | \
                 RateLimited | Unavailable\", and this policy retries every error (a \
                 `Policy<RetryAll>`, which `Policy` alone is): write a table, \
                 { preset = \"webhook\", retry_on = \"all\" }"
            ),
            "{e}"
        );
        // an unknown preset is that first
        let e = every("jobs = \"webhok\"\n").unwrap_err();
        assert!(e.contains("unknown preset `webhok`"), "{e}");

        // a classifying policy refuses "all", with what to write instead
        let e = from_toml("[clips]\nattempts = 3\nretry_on = \"all\"\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(
            e.contains(
                "`retry_on = \"all\"` retries every error, unclassified ones too: that is a \
                 `Policy<RetryAll>`, and this one is a `Policy<RetryOn>`, which retries the kinds \
                 it lists: list them (every kind is \"Timeout | Connect | RateLimited | \
                 Unavailable | Interrupted | Permanent | Unknown\")"
            ),
            "{e}"
        );
        // capitalised as a kind is, it is still told what it is
        let e = from_toml("[clips]\nretry_on = \"All\"\n").unwrap_err();
        assert!(e.contains("that is a `Policy<RetryAll>`"), "{e}");
        let e = every("[jobs]\npreset = \"job\"\nretry_on = \"ALL\"\n");
        assert!(e.is_ok(), "{e:?}");
        // in a list, it is no kind
        let e = from_toml("[clips]\nretry_on = [\"all\"]\n").unwrap_err();
        assert!(e.contains("all"), "{e}");
    }

    /// A `Policy<RetryAll>` reads nothing of its errors, so no server's
    /// Retry-After: `retry_after` in its table, which would do nothing,
    /// is refused on its line (before or after `retry_on`, inline or as a
    /// table of its own, whatever its value), with what waits the hints
    /// instead; its preset's own settings, not written, are kept.
    #[test]
    fn retry_after_is_refused_where_a_policy_retries_every_error() {
        use crate::RetryAll;
        #[derive(Debug, serde::Deserialize)]
        struct File {
            jobs: Policy<RetryAll>,
        }
        let every = |text: &str| {
            toml::from_str::<File>(text)
                .map(|f| f.jobs)
                .map_err(|e| e.to_string())
        };
        let fault = "`retry_after` does nothing here: this policy retries every error (a \
                     `Policy<RetryAll>`, which `Policy` alone is), reading nothing of it, so it \
                     waits no server's Retry-After: a classifying upstream's table is read as a \
                     `Policy<RetryOn>` in the code, which reads its `retry_after`; a table that \
                     retries every error (`retry_on = \"all\"`) leaves the key out, or, to wait \
                     the hints, is read as a `Policy<RetryOn>` in the code retrying every kind, \
                     `retry_on = \"Timeout | Connect | RateLimited | Unavailable | Interrupted \
                     | Permanent | Unknown\"`, which waits them as `retry_after` says";
        for (table, line) in [
            ("retry_on = \"all\"\nretry_after = { cap = \"10m\" }", 4),
            ("retry_after = { cap = \"10m\" }\nretry_on = \"all\"", 3),
            ("retry_on = \"all\"\nretry_after = {}", 4),
            ("retry_on = \"all\"\nretry_after = \"30s\"", 4),
            ("retry_on = \"all\"\n\n[jobs.retry_after]\ncap = \"10m\"", 5),
        ] {
            let e = every(&format!("[jobs]\npreset = \"job\"\n{table}\n")).unwrap_err();
            assert!(e.contains(fault), "{table}: {e}");
            assert!(e.contains(&format!("line {line}")), "{table}: {e}");
        }
        // the kinds as they are displayed: a `retry_on` that reads back
        let all = format!("retry_on = \"{}\"", KindSet::ALL);
        assert!(fault.contains(&all), "{all}");
        let every_kind = from_toml(&format!("[clips]\n{all}\n")).unwrap();
        assert_eq!(every_kind.when().0, KindSet::ALL);
        // JSON places it too
        let e = serde_json::from_str::<Policy<RetryAll>>(
            "{\"retry_on\": \"all\",\n\"retry_after\": {\"cap\": \"10m\"}}",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(fault) && e.contains("line 2"), "{e}");
        // the preset's own, unwritten, is kept (for a `.retry_on(..)` over it in code)
        let job = every("[jobs]\npreset = \"job\"\nretry_on = \"all\"\n").unwrap();
        assert_eq!(job.retry_after(), presets::JOB.retry_after());
        // a classifying policy reads the key as ever
        let p = from_toml("[clips]\npreset = \"job\"\nretry_after = { cap = \"10m\" }\n").unwrap();
        assert_eq!(p.retry_after().cap(), Duration::from_secs(600));
    }

    /// A table refused as a `Policy<RetryAll>` for want of `retry_on =
    /// "all"` is told the kinds it would retry as it is: its preset's
    /// (`job` and `db` retry more than the transient kinds), or the
    /// transient kinds without one; and that a bare `Policy`, the type a
    /// map of upstreams may have been written with, is that type: the fix
    /// of a classifying upstream's table is in the code, not in the file
    /// (where `retry_on = "all"` would retry its 404s).
    #[test]
    fn a_retry_all_refused_names_the_kinds_the_table_retries() {
        #[derive(Debug, serde::Deserialize)]
        struct File {
            #[allow(dead_code)] // (read for its error only)
            jobs: Policy<crate::RetryAll>,
        }
        /// `Policy` alone: `Policy<RetryAll>`, its default.
        #[derive(Debug, serde::Deserialize)]
        struct Upstreams {
            #[allow(dead_code)] // (read for its error only)
            billing: Policy,
        }
        let refused = |text: &str| toml::from_str::<File>(text).unwrap_err().to_string();
        let job = presets::JOB.when().0;
        assert_ne!(job, KindSet::TRANSIENT);
        let e = refused("jobs = \"job\"\n");
        assert!(
            e.contains(&format!(
                "`job` alone is the preset, which retries its kinds, \"{job}\", and this policy \
                 retries every error (a `Policy<RetryAll>`, which `Policy` alone is): write a \
                 table, {{ preset = \"job\", retry_on = \"all\" }}, or, in the code, read it as \
                 a `Policy<RetryOn>`"
            )),
            "{e}"
        );
        let db = presets::DB.when().0;
        let e = refused("[jobs]\npreset = \"db\"\nattempts = 6\n");
        assert!(
            e.contains(&format!(
                "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone \
                 is): say so with `retry_on = \"all\"`, or, in the code, read it as a \
                 `Policy<RetryOn>`, which retries its preset's kinds, \"{db}\", as the table \
                 says without it"
            )),
            "{e}"
        );
        let e = refused("[jobs]\nattempts = 6\n");
        assert!(
            e.contains(&format!(
                "which retries the transient kinds, \"{}\", as the table says without it",
                KindSet::TRANSIENT
            )),
            "{e}"
        );
        let e = toml::from_str::<Upstreams>("[billing]\npreset = \"api\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("(a `Policy<RetryAll>`, which `Policy` alone is)"),
            "{e}"
        );
        assert!(
            e.contains("or, in the code, read it as a `Policy<RetryOn>`"),
            "{e}"
        );
        // its kinds, and its retries turned off, are refused in the same
        // words: the user wrote `Policy`, not `Policy<RetryAll>`
        for table in [
            "retry_on = \"Timeout | Connect\"",
            "retry_on = [\"Timeout\"]",
        ] {
            let e = toml::from_str::<Upstreams>(&format!("[billing]\n{table}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(
                    "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone \
                     is): its `retry_on` is \"all\"; to retry the kinds listed, read it as a \
                     `Policy<RetryOn>`"
                ),
                "{table}: {e}"
            );
            assert!(e.contains("line 2"), "{table}: {e}");
        }
        let e = toml::from_str::<Upstreams>("[billing]\nretry_on = []\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone is), \
                 and `retry_on = []` retries none"
            ),
            "{e}"
        );
        // and so is one whose `retry_after` (which only a classifying policy
        // reads) is refused first, on its line, before the end of the table
        // where the missing `retry_on` is refused. Told to leave the key out
        // alone, the operator would next be told to say `retry_on = "all"`,
        // and the upstream would retry its 404s and still wait no hint.
        let e = toml::from_str::<Upstreams>(
            "[billing]\npreset = \"api\"\nretry_after = { cap = \"30s\" }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3"), "{e}");
        assert!(
            e.contains(
                "(a `Policy<RetryAll>`, which `Policy` alone is), reading nothing of it, so it \
                 waits no server's Retry-After: a classifying upstream's table is read as a \
                 `Policy<RetryOn>` in the code, which reads its `retry_after`; "
            ),
            "{e}"
        );
    }

    #[test]
    fn retry_on_is_the_attribute_s_text_or_a_list() {
        let text = from_toml("[clips]\nretry_on = \"Timeout | Connect\"\n").unwrap();
        let list = from_toml("[clips]\nretry_on = [\"Timeout\", \"Connect\"]\n").unwrap();
        assert_eq!(text.when().0, ErrorKind::Timeout | ErrorKind::Connect);
        assert_eq!(list.when().0, text.when().0);
        let none = from_toml("[clips]\nretry_on = []\n").unwrap();
        assert_eq!(none.when().0, KindSet::EMPTY);
        let twice = from_toml("[clips]\nretry_on = [\"Timeout\", \"Timeout\"]\n").unwrap_err();
        assert!(twice.contains("`Timeout` is listed twice"), "{twice}");
        let unknown = from_toml("[clips]\nretry_on = [\"Timout\"]\n").unwrap_err();
        assert!(unknown.contains("Timout"), "{unknown}");
        let number = from_toml("[clips]\nretry_on = 3\n").unwrap_err();
        assert!(
            number.contains("error kinds, as \"Timeout | Connect\""),
            "{number}"
        );
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_key_s_grammar_and_its_line() {
        let e = from_toml("[clips]\nattempts = 3\nbackoff = \"exp(1s)\"\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(
            e.contains("invalid backoff \"exp(1s)\": `exp` takes 2 or 3 arguments"),
            "{e}"
        );
        let e = from_toml("[clips]\nmax_elapsed = 120\n").unwrap_err();
        assert!(
            e.contains("a duration with its unit, such as \"2m\""),
            "{e}"
        );
        let e = from_toml("[clips]\nmax_elapsed = \"2 minutes\"\n").unwrap_err();
        assert!(e.contains("invalid duration"), "{e}");
        let e = from_toml("[clips]\nnested = \"never\"\n").unwrap_err();
        assert!(
            e.contains("unknown variant `never`, expected `defer` or `retry`"),
            "{e}"
        );
        let e = from_toml("[clips]\nattempts = -1\n").unwrap_err();
        assert!(e.contains("attempts") || e.contains("u32"), "{e}");
        // past u32::MAX: the range, not "at least 1", which it is (the
        // attribute's message says the same range)
        for (table, what) in [
            ("attempts = 4294967296", "integer `4294967296`"),
            ("attempts = -1", "integer `-1`"),
            ("attempts = \"3\"", "string \"3\""),
        ] {
            let e = from_toml(&format!("[clips]\n{table}\n")).unwrap_err();
            assert!(
                e.contains(&format!(
                    "{what}, expected a whole number of attempts from 1 to 4294967295"
                )),
                "{table}: {e}"
            );
        }
        let most = from_toml("[clips]\nattempts = 4294967295\n").unwrap();
        assert_eq!(most.max_attempts(), u32::MAX);
    }

    #[test]
    fn levels_set_each_line_by_its_name_over_the_preset_s() {
        use tracing::Level;
        let p = from_toml(
            "[clips]\npreset = \"api\"\nlevels = { retry = \"debug\", give_up = \"WARN\" }\n",
        )
        .unwrap();
        let built = presets::API
            .with_retry_level(Level::DEBUG)
            .with_give_up_level(Level::WARN);
        assert_eq!(p.levels(), built.levels());
        assert_eq!(format!("{p:?}"), format!("{built:?}"));
        // set as its setter sets it: a library's defaults leave it alone
        let lib = p.with_default_levels(crate::Levels::QUIET);
        assert_eq!(
            (lib.give_up_level(), lib.success_level()),
            (Level::WARN, Level::DEBUG)
        );
        let quiet = from_toml("[clips]\nlevels = \"quiet\"\n").unwrap();
        assert_eq!(quiet.levels(), crate::Levels::QUIET);
        let default = from_toml("[clips]\nlevels = \"default\"\n").unwrap();
        assert_eq!(default.levels(), crate::Levels::DEFAULT);
        // a rejected Ok's line set to follow the retry line's, and kept so
        let follows =
            from_toml("[clips]\nlevels = { retry = \"info\", rejected_ok = \"retry\" }\n").unwrap();
        let lib = follows.with_default_levels(crate::Levels {
            rejected_ok: Some(Level::TRACE),
            ..crate::Levels::QUIET
        });
        assert_eq!(lib.rejected_ok_level(), Level::INFO);
        let e = from_toml("[clips]\nlevels = { give_up = \"retry\" }\n").unwrap_err();
        assert!(
            e.contains("unknown level `retry` for the give_up line"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_level_is_an_error_naming_the_line_and_the_levels() {
        for (table, fault) in [
            (
                "levels = { retry = \"verbose\" }",
                "unknown level `verbose` for the retry line; levels are: error, warn, info, debug, trace",
            ),
            (
                "levels = { give_up = \"warning\" }",
                "unknown level `warning` for the give_up line; did you mean `warn`?",
            ),
            (
                "levels = { give_upp = \"debug\" }",
                "unknown key `give_upp` in `levels`; did you mean `give_up`? its keys are: retry, rejected_ok, non_retriable, give_up, success",
            ),
            (
                "levels = { retry = \"error\" }",
                "the retry line is `warn` at the loudest",
            ),
            (
                "levels = \"loud\"",
                "unknown levels `loud`: `levels` is \"default\", \"quiet\"",
            ),
            ("levels = 3", "a table of lines and their levels"),
        ] {
            let e = from_toml(&format!("[clips]\nattempts = 3\n{table}\n")).unwrap_err();
            assert!(e.contains(fault), "{table}: {e}");
            assert!(e.contains("line 3"), "{table}: {e}");
        }
    }

    #[test]
    fn retry_after_sets_each_setting_over_the_preset_s() {
        use crate::RetryAfter;
        let p = from_toml(
            "[clips]\npreset = \"s3\"\n\
             retry_after = { cap = \"30s\", floor = \"500ms\", at_least_backoff = true }\n",
        )
        .unwrap();
        let s3 = presets::S3.retry_after();
        let built = s3
            .with_cap(s(30))
            .with_floor(Duration::from_millis(500))
            .with_at_least_backoff(true);
        assert_eq!(p.retry_after(), built);
        let only =
            from_toml("[clips]\nretry_after = { kinds = [\"RateLimited\", \"Unavailable\"] }\n")
                .unwrap();
        assert_eq!(
            only.retry_after(),
            RetryAfter::DEFAULT.with_kinds(ErrorKind::RateLimited | ErrorKind::Unavailable)
        );
        let ignored = from_toml("[clips]\nretry_after = { kinds = [] }\n").unwrap();
        assert!(ignored.retry_after().kinds().is_empty());
    }

    /// The zero durations the doc's list of faults names are refused, and
    /// only those: a `retry_after` floor of zero (its default), or a zero
    /// cap that no hint reads, is read.
    #[test]
    fn a_zero_duration_is_refused_only_where_it_is_out_of_range() {
        for key in [
            "max_elapsed = \"0s\"",
            "hedge = \"0s\"",
            "retry_after = { cap = \"0s\" }",
        ] {
            let e = from_toml(&format!("[clips]\n{key}\n")).unwrap_err();
            assert!(e.contains("0s"), "{key}: {e}");
        }
        let floor = from_toml("[clips]\nretry_after = { floor = \"0s\" }\n").unwrap();
        assert_eq!(floor.retry_after(), crate::RetryAfter::DEFAULT);
        let ignored = from_toml("[clips]\nretry_after = { kinds = [], cap = \"0s\" }\n").unwrap();
        assert_eq!(ignored.retry_after(), crate::RetryAfter::IGNORE);
    }

    #[test]
    fn a_bad_retry_after_is_an_error_in_the_file_s_words() {
        for (table, fault, line) in [
            (
                "retry_after = { cap = \"0s\" }",
                "invalid retry_after: a cap of `0s` turns every server's hint into an immediate retry; write a cap above zero, or `kinds = []` to ignore the hints",
                1,
            ),
            (
                "retry_after = { cap = \"1s\", floor = \"2s\" }",
                "invalid retry_after: the floor `2s` is above the cap `1s`",
                1,
            ),
            (
                "retry_after = { capp = \"1s\" }",
                "unknown key `capp` in `retry_after`; did you mean `cap`? its keys are: kinds, cap, floor, at_least_backoff",
                3,
            ),
            (
                "retry_after = { cap = 30 }",
                "a duration with its unit, such as \"30s\"",
                3,
            ),
            (
                "retry_after = { kinds = \"Throttled\" }",
                "invalid kinds \"Throttled\": unknown error kind;",
                3,
            ),
            (
                "retry_after = \"30s\"",
                "a table of the Retry-After settings",
                3,
            ),
        ] {
            let e = from_toml(&format!("[clips]\nattempts = 3\n{table}\n")).unwrap_err();
            assert!(e.contains(fault), "{table}: {e}");
            assert!(e.contains(&format!("line {line}")), "{table}: {e}");
        }
    }

    #[test]
    fn every_key_has_its_name_in_order() {
        for (i, key) in super::Key::ALL.into_iter().enumerate() {
            assert_eq!(key as usize, i);
            assert_eq!(key.name(), super::KEYS[i]);
        }
        assert_eq!(super::Key::ALL.len(), super::KEYS.len());
    }

    #[test]
    fn a_fault_of_one_key_is_placed_on_its_line() {
        for (table, fault) in [
            (
                "backoff = \"fixed(1s)\"\natempts = 3",
                "unknown key `atempts`",
            ),
            (
                "backoff = \"fixed(1s)\"\nattempts = 0",
                "attempts must be at least 1",
            ),
            (
                "backoff = \"fixed(1s)\"\nmax_elapsed = \"0s\"",
                "must be above zero",
            ),
            (
                "backoff = \"fixed(1s)\"\nhedge = \"0ms\"",
                "must be above zero",
            ),
        ] {
            let e = from_toml(&format!("[clips]\n{table}\n")).unwrap_err();
            assert!(e.contains(fault), "{table}: {e}");
            assert!(e.contains("line 3"), "{table}: {e}");
        }
        // a fault of two keys together is the table's
        let e =
            from_toml("[clips]\nbackoff = \"fixed(1s)\"\njitter = \"decorrelated\"\n").unwrap_err();
        assert!(
            e.contains("line 1") && e.contains("invalid retry policy: "),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_or_repeated_key_is_an_error() {
        let e = from_toml("[clips]\natempts = 3\n").unwrap_err();
        assert!(
            e.contains(
                "unknown key `atempts`; did you mean `attempts`? keys are: preset, attempts"
            ),
            "{e}"
        );
        // a per-attempt timeout is a call's, not a policy's
        let e = from_toml("[clips]\ntimeout = \"10s\"\n").unwrap_err();
        assert!(
            e.contains("unknown key `timeout`; a per-attempt timeout is the call's"),
            "{e}"
        );
        // TOML refuses a repeated key itself; JSON leaves it to the type
        let e = serde_json::from_str::<Policy<RetryOn>>(r#"{"attempts": 3, "attempts": 4}"#)
            .unwrap_err();
        assert!(e.to_string().contains("duplicate field `attempts`"), "{e}");
    }

    #[test]
    fn a_policy_build_refuses_is_an_error() {
        for (table, fault) in [
            ("attempts = 0", "attempts must be at least 1"),
            (
                "hedge = \"0s\"",
                "`0s` is no time: this duration must be above zero",
            ),
            ("max_elapsed = \"0s\"", "`0s` is no time"),
            (
                "backoff = \"fixed(1s)\"\njitter = \"decorrelated\"",
                "invalid retry policy: decorrelated jitter",
            ),
            ("attempts = 1\nhedge = \"150ms\"", "invalid retry policy: "),
        ] {
            let e = from_toml(&format!("[clips]\n{table}\n")).unwrap_err();
            assert!(e.contains(fault), "{table}: {e}");
        }
    }

    #[test]
    fn the_policy_is_the_one_built_in_code() {
        let read = from_toml(
            "[clips]\npreset = \"api\"\nattempts = 5\nbackoff = \"exp(250ms, 8s, x3)\"\n\
             retry_on = \"Timeout | Unavailable\"\n",
        )
        .unwrap();
        let built = presets::API
            .with_max_attempts(5)
            .with_backoff("exp(250ms, 8s, x3)".parse().unwrap())
            .retry_on(ErrorKind::Timeout | ErrorKind::Unavailable)
            .build()
            .unwrap();
        assert_eq!(format!("{read:?}"), format!("{built:?}"));
    }

    #[test]
    fn values_write_as_their_text_and_read_back() {
        let backoff = Backoff::exponential(Duration::from_millis(1500), s(120));
        let json = serde_json::to_string(&backoff).unwrap();
        assert_eq!(json, "\"exp(1500ms, 2m)\"");
        assert_eq!(serde_json::from_str::<Backoff>(&json).unwrap(), backoff);
        let jitter = "+25%".parse::<Jitter>().unwrap();
        let json = serde_json::to_string(&jitter).unwrap();
        assert_eq!(serde_json::from_str::<Jitter>(&json).unwrap(), jitter);
        let kinds = ErrorKind::Timeout | ErrorKind::RateLimited;
        let json = serde_json::to_string(&kinds).unwrap();
        assert_eq!(json, "\"Timeout | RateLimited\"");
        assert_eq!(serde_json::from_str::<KindSet>(&json).unwrap(), kinds);
        let kind = serde_json::to_string(&ErrorKind::Connect).unwrap();
        assert_eq!(
            serde_json::from_str::<ErrorKind>(&kind).unwrap(),
            ErrorKind::Connect
        );
        // no text reads back to a linear backoff with a step of its own
        let stepped = Backoff::linear(s(1), s(2), s(10));
        let e = serde_json::to_string(&stepped).unwrap_err();
        assert!(
            e.to_string().contains("has no text that reads back to it"),
            "{e}"
        );
    }
}
