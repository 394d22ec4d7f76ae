//! A map of policies whose keys name them (feature `serde`): each table's
//! key (`billing` in `[upstreams.billing]`) is its policy's name, read by
//! [`deserialize`] (also [`config::named_map()`](super::named_map())) and
//! written by [`serialize`], its partner, each table without a `name`.
//! `#[serde(with = "retry_runtime::config::named_map")]` on a field does
//! both; `deserialize_with` and `serialize_with` one each, with the same
//! path for reading (`retry_runtime::config::named_map`, this module's
//! [`deserialize`]) and `retry_runtime::config::named_map::serialize` for
//! writing.
//!
//! ```
//! use std::collections::BTreeMap;
//! use retry_runtime::{presets, Policy, RetryOn};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Settings {
//!     #[serde(with = "retry_runtime::config::named_map")]
//!     upstreams: BTreeMap<String, Policy<RetryOn>>,
//! }
//!
//! let settings: Settings = toml::from_str("[upstreams.billing]\npreset = \"api\"\nattempts = 4\n")?;
//! assert_eq!(settings.upstreams["billing"].name(), "billing");
//! // written back as it was read: the key names the policy, no `name` in its table
//! let text = toml::to_string(&settings)?;
//! assert!(text.starts_with("[upstreams.billing]\nattempts = 4\n"), "{text}");
//! let back: Settings = toml::from_str(&text)?;
//! assert_eq!(format!("{:?}", back.upstreams), format!("{:?}", settings.upstreams));
//!
//! // a policy named apart from its key would not read back: refused
//! let renamed = Settings {
//!     upstreams: BTreeMap::from([("billing".to_owned(), presets::API.with_name("payments"))]),
//! };
//! let e = toml::to_string(&renamed).unwrap_err();
//! assert!(e.to_string().contains("the policy under the key `billing` is named `payments`"), "{e}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::marker::PhantomData;
use std::collections::BTreeSet;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{self, SerializeMap, Serializer};

use super::name::{KeySeed, key_fault};
use super::write::UnderItsKey;
use super::{FileCondition, PolicySeed};
use crate::policy::Policy;

/// A map of policies whose keys name them: each table's key (`billing` in
/// `[upstreams.billing]`) is its policy's name, its log lines' and
/// metrics' `operation`, as if the table said `name = "billing"`. For
/// `#[serde(deserialize_with = "retry_runtime::config::named_map")]` (this
/// function, by the module's path: [`config::named_map()`](super::named_map()))
/// or `#[serde(with = "retry_runtime::config::named_map")]` (with
/// [`serialize`], which writes the map back) on a
/// field of any map of policies (`HashMap<String, Policy<RetryOn>>`,
/// `BTreeMap`, an `IndexMap`, a `Vec<(String, Policy<RetryOn>)>` in the
/// order the format reads the keys: the file's in JSON and YAML, sorted
/// in TOML, whose `toml` crate keeps a table's keys sorted unless its
/// `preserve_order` feature is on; keys `String`, `&'static str`,
/// `Box<str>` or `Arc<str>`), or called with a format's deserializer for
/// a file that is the map itself.
///
/// Each value reads as a [`Policy`] does (a table, or a preset's name
/// alone), with these rules:
/// - A key is a policy's name, 1 to 64 of the ASCII letters and digits,
///   `_`, `-` and `.`, or an error where the key is written (a TOML
///   table's header line, `[upstreams."billing api"]`; YAML's path), not a
///   policy left under `operation` or a name the metrics would refuse.
/// - A `name` inside the table must be its key: `name = "billing"` under
///   `[upstreams.billing]` reads (what the map's own `Serialize` writes;
///   [`serialize`] leaves it out), and another name is an error on its
///   line. The key is the one source of
///   the name, so a table copied to a new key with its old `name` left in
///   it cannot report under the old upstream's name. A policy named apart
///   from its key (a key made for the file, a name kept for the
///   dashboards) goes in a map read without this function, its `name` in
///   its table.
/// - A key given twice is an error at its second occurrence (a format
///   that keeps duplicates, JSON's, would otherwise keep the last one).
///
/// A name is interned as the `name` key's is: one `&'static str` per
/// distinct name for the process, however many reloads.
///
/// ```
/// use std::collections::HashMap;
/// use retry_runtime::{Policy, RetryOn};
///
/// #[derive(serde::Deserialize)]
/// struct Settings {
///     #[serde(deserialize_with = "retry_runtime::config::named_map")]
///     upstreams: HashMap<String, Policy<RetryOn>>,
/// }
///
/// let text = "[upstreams.billing]\npreset = \"api\"\nattempts = 4\n\n\
///             [upstreams]\nsearch = \"api\"\n";
/// let settings: Settings = toml::from_str(text)?;
/// assert_eq!(settings.upstreams["billing"].name(), "billing");
/// assert_eq!(settings.upstreams["billing"].max_attempts(), 4);
/// assert_eq!(settings.upstreams["search"].name(), "search");
///
/// // a key that is no name, and a table that names itself apart from its key
/// let e = toml::from_str::<Settings>("[upstreams.\"billing api\"]\npreset = \"api\"\n").err().unwrap();
/// assert!(e.to_string().contains("invalid key `billing api`: a key of this map names its policy"), "{e}");
/// let e = toml::from_str::<Settings>("[upstreams.search]\nname = \"billing\"\n").err().unwrap();
/// assert!(e.to_string().contains("the name `billing` is not the table's key, `search`"), "{e}");
///
/// // a file that is the map itself
/// use std::collections::BTreeMap;
/// use retry_runtime::config::named_map;
/// let upstreams: BTreeMap<&'static str, Policy<RetryOn>> =
///     named_map(toml::Deserializer::parse("[clips]\npreset = \"s3\"\n")?)?;
/// assert_eq!(upstreams["clips"].name(), "clips");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A field that may be missing from the file takes `#[serde(default,
/// deserialize_with = ..)]` (or `default, with = ..`: an empty map);
/// `Option<HashMap<..>>` does not go through this function.
pub fn deserialize<'de, D, M, K, W>(d: D) -> Result<M, D::Error>
where
    D: Deserializer<'de>,
    M: FromIterator<(K, Policy<W>)>,
    K: From<&'static str>,
    W: FileCondition,
{
    d.deserialize_map(NamedMap(PhantomData))
}

/// Reads [`deserialize`]'s map: `M` of `K` keys and `Policy<W>` values.
struct NamedMap<M, K, W>(PhantomData<(M, K, W)>);

impl<'de, M, K, W> Visitor<'de> for NamedMap<M, K, W>
where
    M: FromIterator<(K, Policy<W>)>,
    K: From<&'static str>,
    W: FileCondition,
{
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of retry policies, each key its policy's name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
        let mut seen = BTreeSet::new();
        // (a size hint is the file's word: bounded, so a hostile one
        // allocates nothing much)
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key_seed(KeySeed { seen: &mut seen })? {
            let seed = PolicySeed {
                every: W::EVERY,
                key: Some(key),
            };
            let policy = map.next_value_seed(seed)?;
            entries.push((K::from(key), W::from_file(policy)));
        }
        Ok(entries.into_iter().collect())
    }
}

/// Writes a map of policies whose keys name them, as [`deserialize`]
/// reads it back: each policy's table without `name`, its key naming it.
/// For `#[serde(with = "retry_runtime::config::named_map")]` (both ways)
/// or `#[serde(serialize_with = "retry_runtime::config::named_map::serialize")]`
/// on a field of a map of policies (`HashMap`, `BTreeMap`, an `IndexMap`,
/// or anything whose reference iterates `(&K, &Policy<W, G>)`; a `Vec`,
/// slice or array of `(K, Policy<W, G>)` pairs, in its order; keys that are
/// `AsRef<str>`, values `Policy<RetryOn, G>` or `Policy<RetryAll, G>`),
/// or called with a format's serializer for a file that is the map itself.
///
/// Each policy is written as its `Serialize` writes it (every key, the
/// same errors for what no file holds, each after the policy's key: ``the
/// policy under the key `search`: ..``), but its name:
/// - A policy named its key ([`with_name`](Policy::with_name), or read
///   under it) is written without `name`.
/// - A policy with no name of its own (a preset's, [`Policy::new`]'s) is
///   written without `name` too (a preset's with `preset`, as its
///   `Serialize` writes it), so it reads back named by its key: the one
///   setting that differs from the policy written, and the name its log
///   lines and metrics have once read.
/// - A policy named apart from its key is an error naming the key and
///   both names, rather than a file that [`deserialize`] refuses (a table
///   whose `name` is not its key) or that reads back under another name:
///   put it under the key of its name, or name it its key. A map whose
///   policies are named apart from their keys is written with its own
///   `Serialize` (`name` in each table) and read without this module.
/// - A key that is no policy's name (1 to 64 of the ASCII letters and
///   digits, `_`, `-` and `.`), and a key given twice (a `Vec` of pairs),
///   are errors too: [`deserialize`] would refuse them.
///
/// A `Policy<RetryAll>` named its key (as every one [`deserialize`] read
/// is) is written as its `Serialize` writes a named one: without
/// `preset`, and without `retry_after`, which it never reads. Read back,
/// it decides as it did, but its Retry-After settings are the defaults,
/// not those of the preset it was read over (`preset = "job"`'s hour): a
/// `.retry_on(..)` in code over it waits a server's hint as the defaults
/// say. Every other policy reads back as it was written, its name its key.
/// A `Vec` of pairs is written in its order; TOML reads it back sorted
/// (see [`deserialize`]).
///
/// ```
/// use std::collections::HashMap;
/// use retry_runtime::{presets, Policy, RetryAll, RetryOn};
/// use retry_runtime::config::named_map;
///
/// // a map built in code: named its key, a preset's, and Policy::new()'s
/// let upstreams: HashMap<&str, Policy<RetryOn>> = HashMap::from([
///     ("billing", presets::API.with_name("billing").with_max_attempts(4)),
///     ("search", presets::API),
/// ]);
/// let json = named_map::serialize(&upstreams, serde_json::value::Serializer)?;
/// assert_eq!(json["billing"].get("name"), None);
/// assert_eq!(json["billing"]["attempts"], 4);
/// assert_eq!(json["search"]["preset"], "api");
/// // read back, each is named by its key
/// let back: HashMap<String, Policy<RetryOn>> = named_map(json)?;
/// assert_eq!(back["search"].name(), "search");
///
/// // a `Vec` of pairs, in its order, of policies that retry every error
/// let jobs = vec![("mail", Policy::<RetryAll>::new().with_max_attempts(5))];
/// let json = named_map::serialize(&jobs, serde_json::value::Serializer)?;
/// assert_eq!(json["mail"]["retry_on"], "all");
/// let back: Vec<(String, Policy<RetryAll>)> = named_map(json)?;
/// assert_eq!((back[0].1.name(), back[0].1.max_attempts()), ("mail", 5));
///
/// // named apart from its key: no file that reads back
/// let renamed = [("billing", presets::API.with_name("payments"))];
/// let e = named_map::serialize(&renamed, serde_json::value::Serializer).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "the policy under the key `billing` is named `payments`, and a map written by \
///      `named_map` names each policy by its key: put it under the key `payments`, or \
///      name it `billing`"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn serialize<'a, M, E, W, G, S>(map: &'a M, s: S) -> Result<S::Ok, S::Error>
where
    M: ?Sized,
    &'a M: IntoIterator<Item = E>,
    E: NamedEntry<'a, W, G>,
    W: FileCondition + 'a,
    G: Copy + 'a,
    S: Serializer,
{
    let entries = map.into_iter();
    let (least, most) = entries.size_hint();
    let mut out = s.serialize_map((Some(least) == most).then_some(least))?;
    // (a map's keys are distinct; a `Vec` of pairs' may not be)
    let mut seen = BTreeSet::new();
    for entry in entries {
        let (key, policy) = entry.parts();
        if let Some(why) = key_fault(key) {
            return Err(ser::Error::custom(why));
        }
        if !seen.insert(key) {
            return Err(ser::Error::custom(format_args!(
                "the key `{key}` is given twice: each policy's name once"
            )));
        }
        if policy.named && policy.name() != key {
            let name = policy.name();
            return Err(ser::Error::custom(format_args!(
                "the policy under the key `{key}` is named `{name}`, and a map written by \
                 `named_map` names each policy by its key: put it under the key `{name}`, or \
                 name it `{key}`"
            )));
        }
        out.serialize_key(key)?;
        // (what the policy's own writer refuses, named by its key: in a
        // map of many, its message alone would not say which to fix)
        out.serialize_value(&UnderItsKey(policy)).map_err(|e| {
            ser::Error::custom(format_args!("the policy under the key `{key}`: {e}"))
        })?;
    }
    out.end()
}

/// An entry of a map [`serialize`] writes: `(&K, &Policy<W, G>)`, as a
/// map's reference iterates them, or `&(K, Policy<W, G>)`, as a `Vec`'s
/// or a slice's does; its key `AsRef<str>`. Sealed: implemented for those
/// two shapes only.
///
/// ```
/// use retry_runtime::{presets, Policy, RetryOn};
/// use retry_runtime::config::named_map;
///
/// // pairs, in their order (JSON keeps it)
/// let listed: Vec<(String, Policy<RetryOn>)> =
///     vec![("search".into(), presets::API), ("billing".into(), presets::API)];
/// let mut bytes = Vec::new();
/// named_map::serialize(&listed, &mut serde_json::Serializer::new(&mut bytes))?;
/// assert!(bytes.starts_with(br#"{"search":{"preset":"api","#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait NamedEntry<'a, W, G>: sealed::Sealed<'a, W, G> {}

impl<'a, K, W, G> NamedEntry<'a, W, G> for (&'a K, &'a Policy<W, G>) where K: AsRef<str> + ?Sized {}
impl<'a, K, W, G> NamedEntry<'a, W, G> for &'a (K, Policy<W, G>) where K: AsRef<str> {}

mod sealed {
    use crate::policy::Policy;

    /// What [`NamedEntry`](super::NamedEntry) needs of an entry.
    pub trait Sealed<'a, W, G> {
        /// Its key and its policy.
        fn parts(self) -> (&'a str, &'a Policy<W, G>);
    }

    impl<'a, K, W, G> Sealed<'a, W, G> for (&'a K, &'a Policy<W, G>)
    where
        K: AsRef<str> + ?Sized,
    {
        fn parts(self) -> (&'a str, &'a Policy<W, G>) {
            (self.0.as_ref(), self.1)
        }
    }

    impl<'a, K, W, G> Sealed<'a, W, G> for &'a (K, Policy<W, G>)
    where
        K: AsRef<str>,
    {
        fn parts(self) -> (&'a str, &'a Policy<W, G>) {
            (self.0.as_ref(), &self.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    // (the module and the function of one name, as users name them)
    use crate::config::named_map;
    use crate::{Policy, RetryAll, RetryOn, presets};

    #[derive(serde::Deserialize)]
    struct Settings {
        #[serde(deserialize_with = "named_map")]
        upstreams: BTreeMap<String, Policy<RetryOn>>,
    }

    fn from_toml(text: &str) -> Result<BTreeMap<String, Policy<RetryOn>>, String> {
        toml::from_str::<Settings>(text)
            .map(|s| s.upstreams)
            .map_err(|e| e.to_string())
    }

    fn from_json(text: &str) -> Result<BTreeMap<String, Policy<RetryOn>>, String> {
        serde_json::from_str::<Settings>(text)
            .map(|s| s.upstreams)
            .map_err(|e| e.to_string())
    }

    /// What a policy is, for a comparison: its `Debug` and whether it was
    /// named (which `Debug` leaves out).
    fn shown<W: core::fmt::Debug, G>(p: &Policy<W, G>) -> String {
        format!("{p:?} named={}", p.named)
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Both {
        #[serde(with = "named_map")]
        upstreams: BTreeMap<String, Policy<RetryOn>>,
    }

    /// `with = ..` reads and writes: each table without `name`, read back
    /// to the same policies, in TOML and JSON.
    #[test]
    fn a_map_read_by_its_keys_is_written_without_names_and_reads_back() {
        let text = "[upstreams.billing]\npreset = \"api\"\nattempts = 4\n\n\
                    [upstreams.search]\nname = \"search\"\n\n[upstreams]\nclips = \"s3\"\n";
        let read: Both = toml::from_str(text).unwrap();
        let written = toml::to_string(&read).unwrap();
        assert!(!written.contains("name ="), "{written}");
        assert!(
            written.contains("[upstreams.billing]\nattempts = 4\n"),
            "{written}"
        );
        let back: Both = toml::from_str(&written).unwrap();
        let json = serde_json::to_string(&read).unwrap();
        assert!(!json.contains("\"name\""), "{json}");
        let back_json: Both = serde_json::from_str(&json).unwrap();
        assert_eq!(back.upstreams.len(), 3);
        for (key, p) in &read.upstreams {
            assert_eq!(shown(&back.upstreams[key]), shown(p), "{written}");
            assert_eq!(shown(&back_json.upstreams[key]), shown(p), "{json}");
        }
    }

    /// A map built in code: a policy named its key, a preset's, and
    /// `Policy::new()`'s, each written without `name` and read back named
    /// by its key (the preset's keeps `preset`, as its own `Serialize`).
    #[test]
    fn a_policy_without_a_name_of_its_own_reads_back_named_by_its_key() {
        let jobs = Policy::new().retry_on(crate::KindSet::TRANSIENT);
        let built = BTreeMap::from([
            ("billing".to_owned(), presets::API.with_name("billing")),
            ("search".to_owned(), presets::API.with_max_attempts(2)),
            ("jobs".to_owned(), jobs),
        ]);
        let json = named_map::serialize(&built, serde_json::value::Serializer).unwrap();
        for key in ["billing", "search", "jobs"] {
            assert_eq!(json[key].get("name"), None, "{json}");
        }
        assert_eq!(json["search"]["preset"], "api", "{json}");
        assert_eq!(json["jobs"].get("preset"), None, "{json}");
        let back: HashMap<String, Policy<RetryOn>> = named_map(json).unwrap();
        for (key, p) in &built {
            // the name its key's, every other setting as written
            assert_eq!(shown(&back[key]), shown(&p.with_name(key_of(key))));
        }
    }

    /// The `&'static str` of a key, for `with_name`.
    fn key_of(key: &str) -> &'static str {
        ["billing", "search", "jobs", "clips", "mail"]
            .into_iter()
            .find(|k| *k == key)
            .unwrap()
    }

    #[test]
    fn a_policy_named_apart_from_its_key_is_refused_naming_both() {
        let built = BTreeMap::from([
            ("billing", presets::API.with_name("billing")),
            ("search", presets::API.with_name("payments")),
        ]);
        let e = toml::to_string(&BTreeMap::from([("upstreams", MapOf(&built))]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "the policy under the key `search` is named `payments`, and a map written by \
                 `named_map` names each policy by its key: put it under the key `payments`, or \
                 name it `search`"
            ),
            "{e}"
        );
        let e = named_map::serialize(&built, serde_json::value::Serializer).unwrap_err();
        assert!(
            e.to_string().contains("key `search` is named `payments`"),
            "{e}"
        );
        // a preset's name is no name of its own: the key names it
        let preset = [("search", presets::API)];
        assert!(named_map::serialize(&preset, serde_json::value::Serializer).is_ok());
    }

    /// A map of policies, written through `named_map::serialize`.
    struct MapOf<'a>(&'a BTreeMap<&'static str, Policy<RetryOn>>);

    impl serde::Serialize for MapOf<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            named_map::serialize(self.0, s)
        }
    }

    #[test]
    fn a_key_the_reader_would_refuse_is_refused() {
        let spaced = [("billing api", presets::API)];
        let e = named_map::serialize(&spaced, serde_json::value::Serializer).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid key `billing api`: a key of this map names its policy"),
            "{e}"
        );
        let twice = vec![("billing", presets::API), ("billing", presets::S3)];
        let e = named_map::serialize(&twice, serde_json::value::Serializer).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the key `billing` is given twice: each policy's name once"
        );
        // and what a policy's own `Serialize` refuses, as it does
        let linear = presets::API.with_backoff(crate::Backoff::linear(
            core::time::Duration::from_secs(1),
            core::time::Duration::from_secs(2),
            core::time::Duration::from_secs(9),
        ));
        let e = named_map::serialize(&[("billing", linear)], serde_json::value::Serializer)
            .unwrap_err();
        assert!(e.to_string().contains("has no text that reads back"), "{e}");
    }

    /// What a policy's own `Serialize` refuses (a value with no text, a
    /// policy `build` refuses) names the key of the policy refused: in a
    /// map of many, the message alone would not say which to fix.
    #[test]
    fn what_a_policy_refuses_names_its_key() {
        let stepped = presets::API.with_backoff(crate::Backoff::linear(
            core::time::Duration::from_secs(1),
            core::time::Duration::from_secs(2),
            core::time::Duration::from_secs(9),
        ));
        let map = BTreeMap::from([
            ("billing", presets::API),
            ("search", stepped),
            ("clips", presets::S3),
        ]);
        let e = toml::to_string(&BTreeMap::from([("upstreams", MapOf(&map))]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("the policy under the key `search`: "), "{e}");
        assert!(e.contains("has no text that reads back to it"), "{e}");
        let zero = [("jobs", presets::API.with_max_attempts(0))];
        let e = named_map::serialize(&zero, serde_json::value::Serializer).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "the policy under the key `jobs`: a policy `build` refuses has no text"
            ),
            "{e}"
        );
    }

    /// A map of policies retrying every error, read over a preset (as a
    /// jobs file is): each is named by its key, so written without
    /// `preset`, and without `retry_after`, which it never reads. Read
    /// back, it decides as it did, but its Retry-After settings are the
    /// defaults, not its preset's: what a `.retry_on(..)` in code over it
    /// would wait differs, and the docs say so rather than "as it was".
    #[test]
    fn a_map_retrying_every_error_read_over_a_preset_reads_back_but_its_retry_after() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Jobs {
            #[serde(with = "named_map")]
            jobs: BTreeMap<String, Policy<RetryAll>>,
        }
        let read: Jobs =
            toml::from_str("[jobs.mail]\npreset = \"job\"\nretry_on = \"all\"\n").unwrap();
        let text = toml::to_string(&read).unwrap();
        let back: Jobs = toml::from_str(&text).unwrap();
        let (read, back) = (read.jobs["mail"], back.jobs["mail"]);
        assert_eq!(read.retry_after(), presets::JOB.retry_after());
        assert_eq!(back.retry_after(), crate::RetryAfter::DEFAULT, "{text}");
        assert_ne!(back.retry_after(), read.retry_after());
        // every other setting as read
        let as_read = back.with_retry_after(read.retry_after());
        assert_eq!(shown(&as_read), shown(&read), "{text}");
        // unnamed, a preset's is written as `preset`, and keeps its settings
        let unnamed = BTreeMap::from([("mail", presets::JOB.retry_all())]);
        let json = named_map::serialize(&unnamed, serde_json::value::Serializer).unwrap();
        let back: BTreeMap<String, Policy<RetryAll>> = named_map(json).unwrap();
        assert_eq!(back["mail"].retry_after(), presets::JOB.retry_after());
    }

    /// Every shape the reader takes and serde writes: `HashMap` and
    /// `BTreeMap`, a `Vec` of pairs (its order kept, in JSON), keys
    /// `String`, `&str`, `Box<str>`, `Arc<str>`; `Policy<RetryAll>` too.
    #[test]
    fn any_map_of_policies_and_every_condition_is_written() {
        let every = presets::JOB.retry_all();
        let hash: HashMap<Box<str>, Policy<RetryAll>> = HashMap::from([
            ("mail".into(), every),
            (
                "clips".into(),
                Policy::new().with_max_attempts(5).with_name("clips"),
            ),
        ]);
        let text = {
            #[derive(serde::Serialize)]
            struct Jobs {
                #[serde(serialize_with = "named_map::serialize")]
                jobs: HashMap<Box<str>, Policy<RetryAll>>,
            }
            toml::to_string(&Jobs { jobs: hash.clone() }).unwrap()
        };
        assert!(text.contains("[jobs.mail]\npreset = \"job\"\n"), "{text}");
        assert!(text.contains("retry_on = \"all\""), "{text}");
        assert!(!text.contains("name ="), "{text}");
        #[derive(serde::Deserialize)]
        struct Jobs {
            #[serde(deserialize_with = "named_map")]
            jobs: BTreeMap<std::sync::Arc<str>, Policy<RetryAll>>,
        }
        let back: Jobs = toml::from_str(&text).unwrap();
        for (key, p) in &hash {
            let named = p.with_name(key_of(key));
            assert_eq!(shown(&back.jobs[&**key]), shown(&named), "{text}");
        }

        let listed: Vec<(String, Policy<RetryOn>)> = vec![
            ("search".into(), presets::API),
            ("billing".into(), presets::API),
            ("archive".into(), presets::S3),
        ];
        let json = serde_json::to_string(&Listed(&listed)).unwrap();
        let keys: Vec<(String, Policy<RetryOn>)> =
            named_map(&mut serde_json::Deserializer::from_str(&json)).unwrap();
        let keys: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["search", "billing", "archive"]);
        // a slice, an array
        assert!(named_map::serialize(&listed[..1], serde_json::value::Serializer).is_ok());
        let array = [(String::from("clips"), presets::S3)];
        assert!(named_map::serialize(&array, serde_json::value::Serializer).is_ok());
    }

    struct Listed<'a>(&'a Vec<(String, Policy<RetryOn>)>);

    impl serde::Serialize for Listed<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            named_map::serialize(self.0, s)
        }
    }

    #[test]
    fn each_key_names_its_policy() {
        let map = from_toml(
            "[upstreams.billing]\npreset = \"api\"\nattempts = 4\n\n\
             [upstreams.search]\nname = \"search\"\n\n[upstreams]\nclips = \"s3\"\n",
        )
        .unwrap();
        assert_eq!(map.len(), 3);
        for (key, p) in &map {
            assert_eq!(p.name(), key);
            // named: #[retry(policy = ..)] keeps it
            assert_eq!(p.with_default_name("f").name(), key);
        }
        let billing = presets::API.with_max_attempts(4).with_name("billing");
        assert_eq!(format!("{:?}", map["billing"]), format!("{billing:?}"));
        let clips = presets::S3.with_name("clips");
        assert_eq!(format!("{:?}", map["clips"]), format!("{clips:?}"));
        // the same `&'static str` as the `name` key's
        let named: Policy<RetryOn> = toml::from_str("name = \"billing\"\n").unwrap();
        assert!(core::ptr::eq(named.name(), map["billing"].name()));
    }

    /// A map of policies as the map's `Serialize` writes it (`name` in
    /// each table, its key) reads back through `named_map` as it was.
    #[test]
    fn a_written_map_reads_back() {
        let map = from_toml(
            "[upstreams.billing]\npreset = \"api\"\n\n[upstreams.jobs]\npreset = \"job\"\n",
        )
        .unwrap();
        let text = toml::to_string(&BTreeMap::from([("upstreams", &map)])).unwrap();
        assert!(
            text.contains("[upstreams.billing]\nname = \"billing\"\n"),
            "{text}"
        );
        let back = from_toml(&text).unwrap();
        for (key, p) in &map {
            assert_eq!(format!("{:?}", back[key]), format!("{p:?}"));
        }
    }

    #[test]
    fn a_key_that_is_no_name_is_refused_where_it_is_written() {
        let e = from_toml("[upstreams.search]\npreset = \"api\"\n\n[upstreams.\"billing api\"]\npreset = \"api\"\n")
            .unwrap_err();
        assert!(e.contains("line 4"), "{e}");
        assert!(
            e.contains(
                "invalid key `billing api`: a key of this map names its policy (`named_map`), and \
                 a policy's name, a log field and a metric label, is 1 to 64 of"
            ),
            "{e}"
        );
        let e = from_json("{\"upstreams\": {\n\"search\": \"api\",\n\"bill=ing\": \"api\"}}")
            .unwrap_err();
        assert!(e.contains("'=' is not one of them at line 3"), "{e}");
        // a key given a name too is still its policy's name: refused alike
        let e = from_toml("[upstreams.\"billing api\"]\nname = \"billing\"\n").unwrap_err();
        assert!(e.contains("invalid key `billing api`"), "{e}");
    }

    #[test]
    fn a_name_apart_from_its_key_is_refused_on_its_line() {
        let e =
            from_toml("[upstreams.search]\npreset = \"api\"\nname = \"billing\"\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(
            e.contains(
                "the name `billing` is not the table's key, `search`, which names its policy in \
                 this map (`named_map`): leave `name` out, or write `search`"
            ),
            "{e}"
        );
        // and a bad name is refused as such first
        let e = from_toml("[upstreams.search]\nname = \"a b\"\n").unwrap_err();
        assert!(e.contains("invalid name `a b`"), "{e}");
    }

    /// A `Vec` of pairs holds them in the order the format reads them:
    /// the file's in JSON (and YAML); TOML's `toml` crate sorts a table's
    /// keys (unless its `preserve_order` feature is on).
    #[test]
    fn a_vec_of_pairs_is_in_the_order_the_format_reads() {
        let keys = |listed: Vec<(String, Policy<RetryOn>)>| -> Vec<String> {
            listed.into_iter().map(|(k, _)| k).collect()
        };
        let json = r#"{"search": "api", "billing": "api", "archive": "s3"}"#;
        let listed = named_map(&mut serde_json::Deserializer::from_str(json)).unwrap();
        assert_eq!(keys(listed), ["search", "billing", "archive"]);
        // (a BTreeMap or a HashMap: the order is theirs, whatever the format)
        let text = "search = \"api\"\nbilling = \"api\"\narchive = \"s3\"\n";
        let listed = named_map(toml::Deserializer::parse(text).unwrap()).unwrap();
        let mut sorted = keys(listed);
        sorted.sort();
        assert_eq!(sorted, ["archive", "billing", "search"]);
    }

    /// A field that may be missing from the file, as the docs say:
    /// `#[serde(default, deserialize_with = ..)]` reads an empty map;
    /// without `default`, a missing field is serde's error.
    #[test]
    fn a_map_that_may_be_missing_takes_serde_default() {
        #[derive(serde::Deserialize)]
        struct Optional {
            #[serde(default, deserialize_with = "named_map")]
            upstreams: HashMap<String, Policy<RetryOn>>,
        }
        let missing: Optional = toml::from_str("").unwrap();
        assert!(missing.upstreams.is_empty());
        let given: Optional = toml::from_str("[upstreams]\nclips = \"s3\"\n").unwrap();
        assert_eq!(given.upstreams["clips"].name(), "clips");
        let e = from_toml("").unwrap_err();
        assert!(e.contains("missing field `upstreams`"), "{e}");
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let e = from_json("{\"upstreams\": {\n\"billing\": \"api\",\n\"billing\": \"s3\"}}")
            .unwrap_err();
        assert!(e.contains("the key `billing` is given twice"), "{e}");
        assert!(e.contains("at line 3"), "on the second: {e}");
    }

    #[test]
    fn any_map_of_policies_and_every_condition() {
        let text = "billing = \"api\"\nsearch = { preset = \"api\", attempts = 2 }\n";
        let parse = || toml::Deserializer::parse(text).unwrap();
        let hash: HashMap<&'static str, Policy<RetryOn>> = named_map(parse()).unwrap();
        assert_eq!(hash["search"].name(), "search");
        let listed: Vec<(Box<str>, Policy<RetryOn>)> = named_map(parse()).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].1.max_attempts(), 2);
        // a policy that retries every error still says so
        let e = named_map::<_, BTreeMap<String, Policy<RetryAll>>, _, _>(parse()).unwrap_err();
        assert!(e.to_string().contains("`api` alone is the preset"), "{e}");
        let every: BTreeMap<String, Policy<RetryAll>> = named_map(
            toml::Deserializer::parse("[jobs]\npreset = \"job\"\nretry_on = \"all\"\n").unwrap(),
        )
        .unwrap();
        assert_eq!(every["jobs"].name(), "jobs");
        // and reads no Retry-After: its `retry_after` is refused on its line
        let text = "[jobs]\npreset = \"job\"\nretry_on = \"all\"\n\n\
                    [mail]\npreset = \"job\"\nretry_on = \"all\"\nretry_after = { cap = \"10m\" }\n";
        let e = named_map::<_, BTreeMap<String, Policy<RetryAll>>, _, _>(
            toml::Deserializer::parse(text).unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`retry_after` does nothing here"), "{e}");
        assert!(e.contains("line 8"), "{e}");
        let json = "{\"jobs\": {\"retry_on\": \"all\"},\n\"mail\": {\"retry_on\": \"all\",\n\"retry_after\": {}}}";
        let e = named_map::<_, BTreeMap<String, Policy<RetryAll>>, _, _>(
            &mut serde_json::Deserializer::from_str(json),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`retry_after` does nothing here"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        // not a map
        let e = from_json(r#"{"upstreams": ["api"]}"#).unwrap_err();
        assert!(
            e.contains("a map of retry policies, each key its policy's name"),
            "{e}"
        );
    }
}
