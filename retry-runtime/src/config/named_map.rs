//! A map of policies whose keys name them (feature `serde`):
//! [`named_map()`], for `#[serde(deserialize_with = ..)]`.

use core::fmt;
use core::marker::PhantomData;
use std::collections::BTreeSet;

use serde::de::{Deserializer, MapAccess, Visitor};

use super::name::KeySeed;
use super::{FileCondition, PolicySeed};
use crate::policy::Policy;

/// A map of policies whose keys name them: each table's key (`billing` in
/// `[upstreams.billing]`) is its policy's name, its log lines' and
/// metrics' `operation`, as if the table said `name = "billing"`. For
/// `#[serde(deserialize_with = "retry_runtime::config::named_map")]` on a
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
///   `[upstreams.billing]` reads (what the map's `Serialize` writes), and
///   another name is an error on its line. The key is the one source of
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
/// deserialize_with = ..)]` (an empty map); `Option<HashMap<..>>` does not
/// go through this function.
pub fn named_map<'de, D, M, K, W>(d: D) -> Result<M, D::Error>
where
    D: Deserializer<'de>,
    M: FromIterator<(K, Policy<W>)>,
    K: From<&'static str>,
    W: FileCondition,
{
    d.deserialize_map(NamedMap(PhantomData))
}

/// Reads [`named_map()`]'s map: `M` of `K` keys and `Policy<W>` values.
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::named_map;
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
