//! `#[derive(Classify)]`, in stages (as thiserror's derive): `ast` reads the
//! type and, through `attr`, every `#[classify(...)]` attribute into typed
//! values with their spans; `valid` checks them against the type's shape
//! (collecting every error, each on the token at fault); `expand` writes the
//! `Classify` impl.
//!
//! ```text
//! #[derive(Classify)]
//! #[classify(default = Unknown)]          // enum: the kind of unannotated variants
//! enum ClipError {
//!     #[classify(Timeout)] Timeout,
//!     #[classify(transparent)] Io(std::io::Error),   // or `source`: ask the field
//!     #[classify(chain)] Pool(deadpool_postgres::PoolError), // not `Classify`: its chain
//!     #[classify(RateLimited, retry_after = wait)] Throttled { wait: Option<Duration> },
//!     #[classify(Permanent, why = "the clip does not exist")] NotFound,
//!     Other,
//! }
//! ```
//!
//! expands to roughly
//!
//! ```text
//! #[automatically_derived]
//! #[allow(deprecated)]   // only if the type, a variant or a field is #[deprecated]
//! impl ::retry_runtime::Classify for ClipError {
//!     fn kind(&self) -> ::retry_runtime::ErrorKind {
//!         match self {
//!             Self::Timeout { .. } => ::retry_runtime::ErrorKind::Timeout,
//!             Self::Io { 0: field, .. } => ::retry_runtime::Classify::kind(field),
//!             Self::Pool { 0: field, .. } => ::retry_runtime::Classify::kind(
//!                 ::retry_runtime::__private::ChainField::as_chain(field)), // a `dyn Error`
//!             Self::Throttled { .. } => ::retry_runtime::ErrorKind::RateLimited,
//!             Self::NotFound { .. } => ::retry_runtime::ErrorKind::Permanent,
//!             Self::Other { .. } => ::retry_runtime::ErrorKind::Unknown,
//!         }
//!     }
//!     fn retry_after(&self) -> Option<Duration> {
//!         match self {
//!             Self::Timeout { .. } => None,
//!             Self::Io { 0: field, .. } => ::retry_runtime::Classify::retry_after(field),
//!             Self::Pool { 0: field, .. } => ::retry_runtime::Classify::retry_after(
//!                 ::retry_runtime::__private::ChainField::as_chain(field)),
//!             Self::Throttled { wait: field, .. } => Into::<Option<Duration>>::into(Clone::clone(field)),
//!             Self::NotFound { .. } => None,
//!             Self::Other { .. } => None,
//!         }
//!     }
//!     fn why_permanent(&self) -> Option<&'static str> {
//!         match self {
//!             Self::Io { 0: field, .. } => ::retry_runtime::Classify::why_permanent(field),
//!             Self::Pool { 0: field, .. } => ::retry_runtime::Classify::why_permanent(
//!                 ::retry_runtime::__private::ChainField::as_chain(field)),
//!             Self::NotFound { .. } => Some("the clip does not exist"),
//!             Self::Timeout { .. } => None, // and so for each other variant
//!             ...
//!         }
//!     }
//! }
//! ```
//!
//! On a generic type the impl's `where` clause is the type's own plus the
//! bounds `expand` infers from the fields it reads (`Field: Classify` for a
//! delegated field, `Field: core::error::Error + 'static` for a `chain`
//! field, `Field: Clone + Into<Option<Duration>>` for a generic
//! `retry_after` field), or, given `#[classify(bound = "...")]`, the type's
//! own plus that string's predicates (`valid` parses them).
//!
//! `retry_after` is only written when some variant uses `retry_after`,
//! `transparent` or `chain`, and `why_permanent` only when some variant is
//! `transparent` or `chain` or has a `why` (its own, or the enum's beside
//! `default = Permanent`; `why` checks where it may go); otherwise the
//! trait's default (`None`) applies, and a type that uses none of them
//! gets `kind()` alone. The field of
//! `retry_after = field` may be a `Duration` or an `Option<Duration>`: both
//! convert with `Into<Option<Duration>>`, so the type need not be known here.
//! A type that plainly holds no wait (a number, a point in time, text) is
//! refused by `valid` with a fix, where rustc's message would name neither.
//!
//! The generated code names only `#krate::Classify`, `#krate::ErrorKind`
//! (`#krate` is `::retry_runtime` unless `#[classify(crate = "path")]`),
//! `::core` items, and, for `chain`, `#krate::__private::ChainField`, which
//! gives the field as a `dyn Error` (whose `Classify` is the chain walk a
//! boxed error gets), and whose message reports a field that is no error.
//! The first two are public API, the very trait users implement by hand.
//!
//! On any error the derive emits every error plus a stub impl (kind
//! `Unknown`), so a mistake in the attribute does not also surface as
//! "`ClipError` does not implement `Classify`" at every use of the type.

mod ast;
mod attr;
mod chain_type;
mod expand;
mod valid;
mod wait_type;
mod why;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::diag::Errors;

/// Implement `Classify` for the type in `input`; on error, every error plus a stub impl.
pub fn classify(input: TokenStream) -> TokenStream {
    let node = match syn::parse2::<DeriveInput>(input) {
        Ok(node) => node,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let input = ast::Input::from_syn(&node, &mut errors);
    let krate = input.krate();
    let checked = valid::check(&input, &mut errors);
    match (errors.finish(), checked) {
        (Ok(()), Some(checked)) => expand::derive(&node, &krate, &checked),
        (Err(error), _) => expand::fallback(&node, &krate, &error),
        // `check` only gives up after recording an error; stay total anyway.
        (Ok(()), None) => expand::fallback(
            &node,
            &krate,
            &syn::Error::new(
                node.ident.span(),
                "`#[derive(Classify)]` could not read this type",
            ),
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use quote::quote;

    /// Every error message the derive reports for `input`, in order.
    pub fn errors_of(input: TokenStream) -> Vec<String> {
        let node: DeriveInput = match syn::parse2(input) {
            Ok(node) => node,
            Err(error) => return vec![format!("not a type: {error}")],
        };
        let mut errors = Errors::default();
        let input = ast::Input::from_syn(&node, &mut errors);
        let _ = valid::check(&input, &mut errors);
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    /// What the derive writes for typical types, checked in under
    /// `tests/snapshots/derive_*.rs.snap` so that a change to the generated
    /// impl is seen in review. Regenerate with
    /// `UPDATE_SNAPSHOTS=1 cargo test -p retry-macros --lib`, then review the diff.
    #[test]
    fn expansion_snapshots() {
        let cases = [
            (
                // every form a variant takes; each optional method written
                "derive_enum",
                quote! {
                    #[classify(default = Unknown)]
                    enum ClipError {
                        #[classify(Timeout)]
                        Timeout,
                        #[classify(transparent)]
                        Io(std::io::Error),
                        #[classify(chain)]
                        Pool(deadpool_postgres::PoolError),
                        #[classify(RateLimited, retry_after = wait)]
                        Throttled { wait: Option<Duration> },
                        #[classify(Permanent)]
                        NotFound,
                        Other,
                    }
                },
            ),
            (
                // kinds alone: `kind()` only, the trait's defaults for the rest
                "derive_enum_kinds",
                quote! {
                    enum UploadError {
                        #[classify(Connect)]
                        Refused,
                        #[classify(Permanent)]
                        TooLarge { size: u64 },
                        #[classify(Permanent)]
                        Forbidden(String),
                    }
                },
            ),
            (
                // a wait and no reason: `retry_after` written, `why_permanent`
                // left to the trait's default
                "derive_enum_retry_after",
                quote! {
                    enum ApiError {
                        #[classify(RateLimited, retry_after = wait)]
                        Limited { wait: Option<Duration> },
                        #[classify(Permanent)]
                        NotFound,
                    }
                },
            ),
            (
                "derive_struct",
                quote! {
                    #[classify(Permanent)]
                    struct NotFound {
                        id: u64,
                    }
                },
            ),
            (
                "derive_struct_transparent_generic",
                quote! {
                    #[classify(transparent)]
                    struct Wrapped<E>(E);
                },
            ),
            (
                // `why`: the literal, for its variant only; a field's own
                // reason handed on beside it
                "derive_enum_why",
                quote! {
                    enum ClipError {
                        #[classify(Timeout)]
                        Timeout,
                        #[classify(Permanent, why = "the clip does not exist")]
                        NotFound { id: u64 },
                        #[classify(Permanent)]
                        Corrupt(u64),
                        #[classify(transparent)]
                        Api(ApiError),
                    }
                },
            ),
            (
                // the enum's `why`: the variants that take `default = Permanent`
                "derive_enum_default_why",
                quote! {
                    #[classify(default = Permanent, why = "the API refused the request")]
                    enum ApiError {
                        #[classify(Unavailable)]
                        Busy,
                        BadRequest(String),
                        #[classify(why = "the token expired")]
                        Unauthorized,
                    }
                },
            ),
            (
                "derive_struct_why",
                quote! {
                    #[classify(Permanent, why = "the clip does not exist")]
                    struct NotFound {
                        id: u64,
                    }
                },
            ),
        ];
        let update = crate::snapshot::updating();
        for (name, input) in cases {
            let pretty = crate::snapshot::check(name, classify(input), update);
            assert!(!pretty.contains("compile_error"), "{name}: {pretty}");
        }
    }

    #[test]
    fn every_error_is_collected() {
        let errors = errors_of(quote! {
            #[classify(retry_afer = 3)]
            enum E {
                #[classify(Timout)] A,
                B,
                #[classify(transparent)] C(u8, u8),
                #[classify(Timeout, retry_after = nope)] D { wait: Duration },
                #[classify(Timeout, Connect)] F,
            }
        });
        // The attributes are read first (their syntax and words), then
        // checked against the type (where they are, the fields they name).
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(errors[0].starts_with("unknown option `retry_afer`; did you mean `retry_after`?"));
        assert!(errors[1].starts_with("unknown error kind `Timout`"));
        assert!(errors[2].starts_with("more than one kind: `Timeout`, then `Connect`"));
        assert!(errors[3].starts_with("variant `B` needs `#[classify(Kind)]`"));
        assert!(errors[4].starts_with("`transparent` needs exactly one field to take the kind from, but variant `C` has 2 fields"));
        assert!(
            errors[5].starts_with("variant `D` has no field `nope`; its fields are: `wait`"),
            "{}",
            errors[5]
        );
    }

    #[test]
    fn errors_come_with_a_stub_impl_and_never_panic() {
        let out = classify(quote! { #[classify(crate = "my::rt")] enum E { #[classify(Nope)] A } })
            .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("impl my :: rt :: Classify for E"), "{out}");
        assert!(out.contains("my :: rt :: ErrorKind :: Unknown"), "{out}");
        // not even a type
        assert!(classify(quote!(
            fn f() {}
        ))
        .to_string()
        .contains("compile_error"));
        // empty enum
        let out = classify(quote!(
            enum Never {}
        ))
        .to_string();
        assert!(out.contains("match * self { }"), "{out}");
    }
}
