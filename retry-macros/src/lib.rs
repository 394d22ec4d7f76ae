//! Procedural macros for `retry-runtime`: the `#[retry(...)]` attribute and
//! `#[derive(Classify)]`. Depend on `retry-runtime`, which re-exports them
//! and documents them.
//!
//! Stages of `#[retry]`: `args` parses the attribute into typed values with
//! their spans (and `item` the function, its body left as tokens),
//! `validate` checks them against each other and the function (collecting
//! every error), `expand` writes the retry loop. `dsl` is the `retry-dsl`
//! crate (`use retry_dsl as dsl`), the plain parser for the
//! backoff/duration strings, which the runtime's `FromStr` impls share.
//!
//! `derive/` holds `#[derive(Classify)]`, in the same stages (`ast` and
//! `attr`, `valid`, `expand`). Both macros take their words (error kinds,
//! presets, keys) from `vocab` and their error collector, set-once slot and
//! "did you mean" messages from `diag`.

#![forbid(unsafe_code)]

mod args;
mod derive;
mod diag;
use retry_dsl as dsl;
mod expand;
mod item;
#[cfg(test)]
mod never_panics;
#[cfg(test)]
mod snapshot;
mod validate;
mod vocab;

use proc_macro::TokenStream;

/// Retry the annotated function according to a policy; see `retry_runtime::retry`.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::retry(args.into(), item.into()).into()
}

/// Implement `retry_runtime::Classify`; see `retry_runtime::Classify`.
#[proc_macro_derive(Classify, attributes(classify))]
pub fn derive_classify(input: TokenStream) -> TokenStream {
    derive::classify(input.into()).into()
}
