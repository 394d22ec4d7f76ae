//! The presets a policy file names (feature `serde`): the attribute's,
//! [`presets::NAMES`], and `grpc`, `tonic::GRPC`, with the feature
//! `tonic` (a policy this crate defines under a name of its own, which
//! `#[retry(preset = ..)]` does not take: the attribute takes it as
//! `policy = tonic::GRPC`). Without the feature, `grpc` is an error that
//! names it, not an unknown preset.

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::policy::{Policy, RetryOn};
use crate::presets;

/// `tonic::GRPC`'s name, as a file names it.
const GRPC: &str = "grpc";

/// Every preset's name a file reads, `grpc` last (read with the feature
/// `tonic` only, listed without it so that its error can say so).
pub(super) const NAMES: [&str; presets::NAMES.len() + 1] = {
    let mut names = [GRPC; presets::NAMES.len() + 1];
    let mut i = 0;
    while i < presets::NAMES.len() {
        names[i] = presets::NAMES[i];
        i += 1;
    }
    names
};

/// The preset a file names `name`, if this build has it.
pub(super) fn by_name(name: &str) -> Option<Policy<RetryOn>> {
    if let Some(p) = presets::by_name(name) {
        return Some(p);
    }
    #[cfg(feature = "tonic")]
    if name == GRPC {
        return Some(crate::tonic::GRPC);
    }
    None
}

/// A preset by its name, or the error that lists them (and names the
/// feature `grpc` needs, in a build without it).
pub(super) fn named<E: de::Error>(name: &str) -> Result<Policy<RetryOn>, E> {
    if let Some(p) = by_name(name) {
        return Ok(p);
    }
    if name == GRPC {
        return Err(E::custom(
            "the preset `grpc` is `tonic::GRPC`, which needs retry-runtime's feature `tonic`: \
             enable it beside `serde` (features = [\"serde\", \"tonic\"]), or name another preset",
        ));
    }
    let listed = if cfg!(feature = "tonic") {
        NAMES.join(", ")
    } else {
        format!(
            "{}; and {GRPC} with the feature `tonic`",
            presets::NAMES.join(", ")
        )
    };
    // a constant's path copied from the code (`policy = tonic::GRPC`,
    // `presets::API`): its last segment is the preset's name
    let last = name.rsplit("::").next().unwrap_or(name);
    Err(E::custom(format_args!(
        "unknown preset `{name}`; {}presets are: {listed}",
        retry_dsl::did_you_mean(last, &NAMES),
    )))
}

/// A preset read by its name, resolved as its value is read (so that a
/// format places an unknown name on its own line).
pub(super) struct Preset(pub(super) Policy<RetryOn>);

impl<'de> Deserialize<'de> for Preset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Policy<RetryOn>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a preset's name, such as \"webhook\"")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Policy<RetryOn>, E> {
                named(name)
            }
        }
        d.deserialize_str(V).map(Preset)
    }
}

#[cfg(test)]
mod tests {
    use super::{GRPC, NAMES, by_name, named};
    use crate::presets;

    type E = serde::de::value::Error;

    #[test]
    fn the_attribute_s_presets_then_grpc() {
        assert_eq!(NAMES[..presets::NAMES.len()], presets::NAMES);
        assert_eq!(NAMES.last(), Some(&GRPC));
        for name in presets::NAMES {
            let p = by_name(name).unwrap();
            assert_eq!(
                format!("{p:?}"),
                format!("{:?}", presets::by_name(name).unwrap())
            );
        }
    }

    #[cfg(feature = "tonic")]
    #[test]
    fn grpc_is_tonic_s_policy() {
        let p = named::<E>("grpc").unwrap();
        assert_eq!(format!("{p:?}"), format!("{:?}", crate::tonic::GRPC));
        assert_eq!(p.name(), "grpc");
        let e = named::<E>("grpcs").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown preset `grpcs`; did you mean `grpc`?"),
            "{e}"
        );
        assert!(e.ends_with("presets are: webhook, quick, snapshot, standard, persistent, db, ai_provider, s3, api, job, grpc"), "{e}");
        // the constant's path, as the attribute's `policy = ..` names it
        for path in ["tonic::GRPC", "retry_runtime::tonic::GRPC", "gprc"] {
            let e = named::<E>(path).unwrap_err().to_string();
            let start = format!("unknown preset `{path}`; did you mean `grpc`?");
            assert!(e.starts_with(&start), "{e}");
        }
    }

    /// A preset's constant, named by its path in the code, suggests the
    /// name a file gives it.
    #[test]
    fn a_constant_s_path_suggests_its_preset() {
        for (path, preset) in [
            ("presets::API", "api"),
            ("retry_runtime::presets::AI_PROVIDER", "ai_provider"),
            ("presets::WEBHOK", "webhook"),
        ] {
            let e = named::<E>(path).unwrap_err().to_string();
            let start = format!("unknown preset `{path}`; did you mean `{preset}`?");
            assert!(e.starts_with(&start), "{e}");
        }
        let e = named::<E>("presets::").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown preset `presets::`; presets are: "),
            "{e}"
        );
    }

    #[cfg(not(feature = "tonic"))]
    #[test]
    fn grpc_names_the_feature_it_needs() {
        assert!(by_name("grpc").is_none());
        let e = named::<E>("grpc").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "the preset `grpc` is `tonic::GRPC`, which needs retry-runtime's feature `tonic`"
            ),
            "{e}"
        );
        let e = named::<E>("grpcs").unwrap_err().to_string();
        assert!(
            e.starts_with("unknown preset `grpcs`; did you mean `grpc`?"),
            "{e}"
        );
        assert!(
            e.ends_with("api, job; and grpc with the feature `tonic`"),
            "{e}"
        );
    }
}
