//! A policy's `name` from a file (feature `serde`), and a key that names
//! its policy in a map read by [`named_map()`](super::named_map()): checked,
//! then interned, so that the `&'static str` a policy holds costs one
//! allocation per distinct name the process ever reads, not one per
//! reload.

use core::fmt;
use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

/// The longest name read or written, in bytes: a metric label value and a
/// log field, not a description.
const MOST_BYTES: usize = 64;

/// The names read so far, each leaked once.
static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// Why `name` cannot be a policy's name in a file, or `None`: 1 to 64 of
/// the ASCII letters and digits, `_`, `-` and `.`, which a Prometheus
/// label value, a `key=value` log field and a shell's `grep` take as they
/// are (no space, quote or `=` to escape, no look-alike Unicode).
pub(super) fn fault(name: &str) -> Option<String> {
    fault_as("name", "", name)
}

/// [`fault`], in the words of a map's key that names its policy.
pub(super) fn key_fault(key: &str) -> Option<String> {
    fault_as(
        "key",
        "a key of this map names its policy (`named_map`), and ",
        key,
    )
}

/// [`fault`] for `name`, written as `what` (`name`, `key`), `context` put
/// before the rule.
fn fault_as(what: &str, context: &str, name: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let why = if name.is_empty() {
        "it is empty".to_owned()
    } else if name.len() > MOST_BYTES {
        format!("it is {} bytes long", name.len())
    } else {
        let bad = name.chars().find(|&c| !allowed(c))?;
        format!("{bad:?} is not one of them")
    };
    Some(format!(
        "invalid {what} `{}`: {context}a policy's name, a log field and a metric label, is 1 \
         to {MOST_BYTES} of the letters a-z and A-Z, the digits, `_`, `-` and `.`; {why}",
        name.escape_debug()
    ))
}

/// `name`, as a `&'static str`: the same one for every read of the same
/// text, leaked the first time only.
fn intern(name: &str) -> &'static str {
    // (a panic while the set is held leaves it whole: insert is the last step)
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(Box::from(name));
    names.insert(leaked);
    leaked
}

/// `name`: checked ([`fault`]), then interned; in a map read by
/// `named_map`, the policy's `key` too, which it must be.
#[derive(Clone, Copy)]
pub(super) struct NameSeed {
    pub(super) key: Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for NameSeed {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name for the policy's log lines and metrics, such as \"clips\"")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<&'static str, E> {
        match (fault(name), self.key) {
            (Some(why), _) => Err(E::custom(why)),
            (None, Some(key)) if key != name => Err(E::custom(format_args!(
                "the name `{name}` is not the table's key, `{key}`, which names its policy in \
                 this map (`named_map`): leave `name` out, or write `{key}` (a policy named \
                 apart from its key goes in a map read without `named_map`)"
            ))),
            (None, _) => Ok(intern(name)),
        }
    }
}

/// A key of a map read by `named_map`: checked ([`key_fault`]), refused
/// if `seen` has it (a key given twice), then interned and added to
/// `seen`: every fault of the key raised as the key is read, so that each
/// format places it on the key (YAML's places a fault the map's visitor
/// raises at the map's first key).
pub(super) struct KeySeed<'a> {
    pub(super) seen: &'a mut BTreeSet<&'static str>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key that names its policy, such as \"billing\"")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<&'static str, E> {
        if let Some(why) = key_fault(key) {
            return Err(E::custom(why));
        }
        if self.seen.contains(key) {
            return Err(E::custom(format_args!(
                "the key `{key}` is given twice: each policy's name once"
            )));
        }
        let key = intern(key);
        self.seen.insert(key);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::{fault, intern, key_fault};

    #[test]
    fn a_name_is_leaked_once_whatever_the_reads() {
        let text = String::from("name-interned-once");
        let first = intern(&text);
        let again = intern(&String::from("name-interned-once"));
        assert!(core::ptr::eq(first, again));
        assert!(!core::ptr::eq(first, text.as_str()));
        assert!(!core::ptr::eq(first, intern("name-interned-twice")));
    }

    #[test]
    fn names_fit_for_a_label_and_a_log_field() {
        for ok in ["clips", "s3.eu-west-1", "job_42", "A", &"x".repeat(64)] {
            assert_eq!(fault(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("", "it is empty"),
            (&"x".repeat(65), "it is 65 bytes long"),
            ("clip downloads", "' ' is not one of them"),
            ("a=b", "'=' is not one of them"),
            ("caf\u{e9}", "'\u{e9}' is not one of them"),
            ("line\nbreak", "'\\n' is not one of them"),
        ] {
            let e = fault(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(e.ends_with(why), "{bad:?}: {e}");
            assert!(e.starts_with("invalid name `"), "{e}");
        }
        // the message shows the name on one line
        assert!(fault("line\nbreak").unwrap().contains("`line\\nbreak`"));
        // a map's key, in its own words, by the same rule
        assert_eq!(key_fault("billing"), None);
        let e = key_fault("billing api").unwrap();
        assert!(
            e.starts_with("invalid key `billing api`: a key of this map names its policy"),
            "{e}"
        );
        assert!(e.ends_with("' ' is not one of them"), "{e}");
    }
}
