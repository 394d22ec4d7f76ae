//! Which errors a policy from a file retries (feature `serde`): its
//! `retry_on`, kinds for a [`Policy<RetryOn>`], `"all"` for a
//! [`Policy<RetryAll>`], each refused where the other is read (and
//! `retry_after` in the second's table, which reads no hint); and
//! [`FileCondition`], the conditions a file holds, so that a policy with a
//! predicate or a condition of its own is refused when it is compiled.

use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::Kinds;
use crate::classify::KindSet;
use crate::policy::{Policy, RetryAll, RetryOn};

/// The word of `retry_on` for "every error" ([`RetryAll`]).
pub(super) const ALL: &str = "all";

/// A retry condition a policy file holds, the `W` of the policies it reads
/// and writes: [`RetryOn`] (`retry_on = "Timeout | Connect"`) and
/// [`RetryAll`] (`retry_on = "all"`). Sealed: a predicate
/// ([`RetryIf`](crate::RetryIf), [`RetryOnOrIf`](crate::RetryOnOrIf)) or a
/// condition of your own ([`Policy::with_when`]) is code, which no file
/// holds: such a policy has no `Serialize` or `Deserialize`, and its
/// compile error says so (rather than a write that leaves the condition
/// out, or fails only at run time). Read the policy as a
/// `Policy<RetryOn>` and set the condition over it in code.
///
/// ```
/// use retry_runtime::{Policy, RetryAll, RetryOn};
///
/// let every: Policy<RetryAll> = toml::from_str("preset = \"s3\"\nretry_on = \"all\"\n")?;
/// assert_eq!(every.max_attempts(), 5);
/// assert!(toml::to_string(&every)?.contains("retry_on = \"all\"\n"));
///
/// // a predicate is set in code, over the policy the file holds
/// let clips: Policy<RetryOn> = toml::from_str("preset = \"s3\"\n")?;
/// let clips = clips.or_retry_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::PermissionDenied);
/// # let _ = clips;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```compile_fail
/// // error[E0277]: a `Policy<RetryIf<..>>` is not read from a policy file, nor written to one
/// let p = retry_runtime::Policy::new().retry_if(|e: &String| e.contains("busy"));
/// let _ = toml::to_string(&p);
/// ```
#[diagnostic::on_unimplemented(
    message = "a `Policy<{Self}>` is not read from a policy file, nor written to one",
    label = "its condition, `{Self}`, is code, which no policy file holds",
    note = "a policy file's `retry_on` holds kinds (`Policy<RetryOn>`) or \"all\" (`Policy<RetryAll>`): \
            read or write the policy as one of those, and set a predicate or a condition of your own \
            over it in code (`.or_retry_if(..)`, `.with_when(..)`)"
)]
pub trait FileCondition: sealed::Sealed {}

impl FileCondition for RetryOn {}
impl FileCondition for RetryAll {}

mod sealed {
    use crate::classify::KindSet;
    use crate::policy::{Policy, RetryAll, RetryOn};

    /// What [`FileCondition`](super::FileCondition) needs of a condition.
    pub trait Sealed: Copy {
        /// Whether the file says `retry_on = "all"` for it.
        const EVERY: bool;
        /// The policy read, its condition this one (`read`'s kinds, for
        /// [`RetryOn`]).
        fn from_file(read: Policy<RetryOn>) -> Policy<Self>;
        /// Its `retry_on` as written: the kinds, or `None` for "all".
        fn file_kinds(&self) -> Option<KindSet>;
    }

    impl Sealed for RetryOn {
        const EVERY: bool = false;
        fn from_file(read: Policy<RetryOn>) -> Policy<RetryOn> {
            read
        }
        fn file_kinds(&self) -> Option<KindSet> {
            Some(self.0)
        }
    }

    impl Sealed for RetryAll {
        const EVERY: bool = true;
        fn from_file(read: Policy<RetryOn>) -> Policy<RetryAll> {
            read.retry_all()
        }
        fn file_kinds(&self) -> Option<KindSet> {
            None
        }
    }
}

/// `retry_on` as read: kinds, or `"all"`.
#[derive(Clone, Copy)]
pub(super) enum RetryOnValue {
    Kinds(KindSet),
    All,
}

/// `retry_on` read for a policy that retries every error (`every`,
/// [`RetryAll`]) or the kinds it lists ([`RetryOn`]): the other's value is
/// an error where it is written.
#[derive(Clone, Copy)]
pub(super) struct RetryOnSeed {
    pub(super) every: bool,
}

impl RetryOnSeed {
    /// Why kinds are refused here: the policy retries every error. (As
    /// [`all_unsaid`]'s, it says that `Policy` alone is that type: a map of
    /// upstreams written with it refuses a classifying upstream's kinds.)
    fn kinds_refused<E: de::Error>() -> E {
        E::custom(
            "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone is): \
             its `retry_on` is \"all\"; to retry the kinds listed, read it as a \
             `Policy<RetryOn>`",
        )
    }

    /// Why no kinds (`written`: `[]` or `"none"`, which turn a
    /// `Policy<RetryOn>`'s retries off) are refused here: the file's way
    /// to turn off the retries of a policy that retries every error is one
    /// attempt, which an operator can write without a change to the code.
    fn none_refused<E: de::Error>(written: &str) -> E {
        E::custom(format_args!(
            "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone is), \
             and `retry_on = {written}` retries none: to make one attempt and no retry, keep `retry_on = \"all\"` and \
             write `attempts = 1`"
        ))
    }
}

impl<'de> DeserializeSeed<'de> for RetryOnSeed {
    type Value = RetryOnValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RetryOnValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RetryOnSeed {
    type Value = RetryOnValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.every {
            f.write_str("\"all\": this policy retries every error")
        } else {
            Kinds.expecting(f)
        }
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<RetryOnValue, E> {
        // "All" and "ALL" too: a kind's capital would otherwise make it
        // "unknown error kind `All`", not the message that says what it is
        match (text.trim().eq_ignore_ascii_case(ALL), self.every) {
            (true, true) => Ok(RetryOnValue::All),
            (true, false) => Err(E::custom(format_args!(
                "`retry_on = \"all\"` retries every error, unclassified ones too: that is a \
                 `Policy<RetryAll>`, and this one is a `Policy<RetryOn>`, which retries the \
                 kinds it lists: list them (every kind is \"{}\"), or read the policy as a \
                 `Policy<RetryAll>`",
                KindSet::ALL
            ))),
            (false, true) => match Kinds.visit_str::<E>(text) {
                Ok(KindSet::EMPTY) => Err(Self::none_refused(&format!("{text:?}"))),
                _ => Err(Self::kinds_refused()),
            },
            (false, false) => Kinds.visit_str(text).map(RetryOnValue::Kinds),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RetryOnValue, A::Error> {
        if self.every {
            return Err(match seq.next_element::<de::IgnoredAny>()? {
                None => Self::none_refused("[]"),
                Some(_) => Self::kinds_refused(),
            });
        }
        Kinds.visit_seq(seq).map(RetryOnValue::Kinds)
    }
}

/// The error for `retry_after` in the table of a policy that retries
/// every error ([`RetryAll`]): reading nothing of an error, it waits no
/// server's Retry-After, so the settings would do nothing there but tell
/// an operator (and whoever reads the file later) that the hints are
/// waited. What does wait them is a `Policy<RetryOn>` of every kind, its
/// `retry_on` said as [`KindSet::ALL`] displays (which reads back to it).
/// A preset's own settings, inherited without the key, are no error: they
/// are kept, unused, for a `.retry_on(..)` set over the policy in code.
///
/// It is raised on the key, so before the end of the table, where a
/// missing `retry_on = "all"` is refused ([`all_unsaid`]), and perhaps
/// before the table's `retry_on` (`toml`, without its `preserve_order`
/// feature, hands the keys over in order of their names). A classifying
/// upstream's table read under the wrong type (a map declared with
/// `Policy` alone, a `Policy<RetryAll>`) gets it first, so the message
/// says first what [`all_unsaid`] would have, that the fix of such a table
/// is the code's: "leave the key out" alone would lead its operator on to
/// `retry_on = "all"`, and its 404s retried.
pub(super) fn retry_after_refused<E: de::Error>() -> E {
    E::custom(format_args!(
        "`retry_after` does nothing here: this policy retries every error (a \
         `Policy<RetryAll>`, which `Policy` alone is), reading nothing of it, so it waits no \
         server's Retry-After: a classifying upstream's table is read as a `Policy<RetryOn>` \
         in the code, which reads its `retry_after`; a table that retries every error \
         (`retry_on = \"all\"`) leaves the key out, or, to wait the hints, is read as a \
         `Policy<RetryOn>` in the code retrying every kind, `retry_on = \"{}\"`, which waits \
         them as `retry_after` says",
        KindSet::ALL
    ))
}

/// The error for a policy that retries every error ([`RetryAll`]) read
/// from a table without `retry_on = "all"`: the file says so, so that a
/// table copied from a classifying policy does not retry a 404. The
/// message names the kinds the table retries as it is, its `preset`'s
/// (`job`'s and `db`'s are more than the transient kinds), or the
/// transient kinds without one. Both ways out are said, the file's and
/// the code's: a `Policy` written alone is a `Policy<RetryAll>` (its
/// default), so a map of upstreams declared with it refuses every
/// classifying table, whose fix is the type, not `retry_on = "all"` (which
/// would retry its 404s).
pub(super) fn all_unsaid<E: de::Error>(preset: Option<&Policy<RetryOn>>) -> E {
    let (whose, kinds) = match preset {
        Some(p) => ("its preset's", p.when().0),
        None => ("the transient", KindSet::TRANSIENT),
    };
    E::custom(format_args!(
        "this policy retries every error (a `Policy<RetryAll>`, which `Policy` alone is): \
         say so with `retry_on = \"all\"`, or, in the code, read it as a `Policy<RetryOn>`, \
         which retries {whose} kinds, \"{kinds}\", as the table says without it"
    ))
}

/// [`all_unsaid`] for a preset's name alone, `preset`'s: the table to
/// write instead.
pub(super) fn all_unsaid_alone<E: de::Error>(preset: &Policy<RetryOn>) -> E {
    E::custom(format_args!(
        "`{name}` alone is the preset, which retries its kinds, \"{kinds}\", and this policy \
         retries every error (a `Policy<RetryAll>`, which `Policy` alone is): write a \
         table, {{ preset = \"{name}\", retry_on = \"all\" }}, or, in the code, read it as a \
         `Policy<RetryOn>`",
        name = preset.name(),
        kinds = preset.when().0,
    ))
}
