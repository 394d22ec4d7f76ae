//! What a `retry_after` field's type says of the wait it holds: a type that
//! plainly is no wait (a number in no unit, a point in time, text, chrono's
//! duration, or an `Option` of one) is refused by the derive with a fix;
//! any other is left to the generated `Into<Option<Duration>>`.

use syn::Type;

/// Why a `retry_after` field of type `ty` cannot hold a wait, for a type
/// that is plainly something else: a number (in what unit?), a point in
/// time, text, chrono's duration, or an `Option` of one. The message
/// completes "`field` is ...". `None` for any other type, which the
/// generated `Into<Option<Duration>>` then checks (a `Duration`, an
/// `Option<Duration>`, a type parameter, a user's type that converts).
/// rustc's own message for a `u64` names `From` impls of `Option` for
/// tracing's types, and no fix.
pub(super) fn not_a_wait(ty: &Type) -> Option<String> {
    let outer = known_type(ty)?;
    let (name, shown) = match (outer.name, outer.arg) {
        ("Option", Some(inner)) => {
            let inner = known_type(inner)?;
            (
                inner.name,
                format!("an `Option<{}{}>`", inner.by_ref, inner.name),
            )
        }
        (name, _) => {
            let article = if outer.by_ref.is_empty() && name.starts_with(['i', 'I', 'f']) {
                "an"
            } else {
                "a"
            };
            (name, format!("{article} `{}{name}`", outer.by_ref))
        }
    };
    let fix = match name {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" | "f32" | "f64" => {
            "a number, in no unit: hold the wait as a `Duration`, made where the error is \
             made (`Duration::from_secs(secs)`, `Duration::from_millis(ms)`, \
             `Duration::from_secs_f64(secs)`)"
        }
        "SystemTime" | "Instant" => {
            "a point in time, not a wait: hold the wait until it, an `Option<Duration>` made \
             where the error is made (`until.duration_since(SystemTime::now()).ok()`, \
             `until.checked_duration_since(Instant::now())`)"
        }
        "String" | "str" | "HeaderValue" => {
            "text: parse it into an `Option<Duration>` where the error is made (an HTTP \
             `Retry-After` value: `retry_runtime::retry_after::parse_retry_after`, feature \
             `http`)"
        }
        "TimeDelta" => {
            "chrono's duration, not `std::time::Duration`: hold an `Option<Duration>`, \
             `delta.to_std().ok()`"
        }
        _ => return None,
    };
    Some(format!("{shown}, {fix}"))
}

/// A path type [`not_a_wait`] knows by name.
struct Known<'a> {
    name: &'static str,
    /// Its one type argument, if it has exactly one.
    arg: Option<&'a Type>,
    /// `"&"` when the field holds a reference to it.
    by_ref: &'static str,
}

/// `ty` (through references and parentheses) as a type [`not_a_wait`]
/// knows: one of [`KNOWN`] by its bare name (`u64`, `Instant`), or by a path
/// from a crate that has it (`std::time::Instant`, `chrono::Duration`,
/// which is chrono's `TimeDelta`). A path from anywhere else
/// (`crate::clock::Instant`, a type parameter's `C::Instant`) may be a
/// user's type that converts into `Option<Duration>`: left alone.
fn known_type(ty: &Type) -> Option<Known<'_>> {
    let mut by_ref = "";
    let mut ty = ty;
    loop {
        match ty {
            Type::Reference(reference) => {
                by_ref = "&";
                ty = &reference.elem;
            }
            Type::Paren(paren) => ty = &paren.elem,
            Type::Group(group) => ty = &group.elem,
            _ => break,
        }
    }
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segments = &path.path.segments;
    let segment = segments.last()?;
    let last = segment.ident.to_string();
    let name = if segments.len() == 1 {
        KNOWN.iter().find(|known| **known == last).copied()?
    } else {
        let root = segments.first()?.ident.to_string();
        match (root.as_str(), last.as_str()) {
            ("chrono", "Duration") => "TimeDelta",
            ("std" | "core" | "alloc" | "chrono" | "http" | "reqwest" | "tokio" | "time", _) => {
                KNOWN.iter().find(|known| **known == last).copied()?
            }
            _ => return None,
        }
    };
    let arg = match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => {
            match args.args.first() {
                Some(syn::GenericArgument::Type(inner)) => Some(inner),
                _ => None,
            }
        }
        _ => None,
    };
    Some(Known { name, arg, by_ref })
}

/// The type names [`not_a_wait`] looks at (`Option` to look inside).
const KNOWN: [&str; 21] = [
    "Option",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "SystemTime",
    "Instant",
    "String",
    "str",
    "HeaderValue",
    "TimeDelta",
];
