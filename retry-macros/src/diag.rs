//! Diagnostics shared by `#[retry]` and `#[derive(Classify)]`: the error
//! collector, the set-once slot every key goes through, the near-miss
//! suggestion, and `respan`.
//!
//! - [`Errors`] collects every error (serde's `Ctxt`), each on the tokens at
//!   fault, and combines them into one `syn::Error` at the end, so the user
//!   sees all of them at once.
//! - [`Slot`] holds a setting that may be given once; the second occurrence is
//!   the error (serde's `Attr::set`). No key hand-rolls its own duplicate check.
//! - [`unknown`] words "unknown X `foo`; did you mean `bar`? X are: a, b, c".
//!   The edit-distance match itself (`dsl::closest`) and the "did you mean"
//!   phrase ([`did_you_mean`]) live in the DSL parser, which needs them and
//!   must stay free of proc-macro types (it is fuzzed on its own); the
//!   phrase is re-exported here.
//! - [`respan`] moves tokens onto the user's span, so an error about generated
//!   code is reported on the user's token; [`respan_path`] does so for a path
//!   into the runtime, and [`as_generated`] gives the runtime's path from
//!   `crate = "..."` the macro's hygiene, so that lints about paths see the
//!   paths built on either as generated.

use std::fmt::Display;

use proc_macro2::{Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::quote_spanned;

use crate::item::{ClosureBound, ClosureTrait, MutBinding, MutKind};

pub use crate::dsl::did_you_mean;

/// Every error found so far, combined into one at the end (serde's `Ctxt`).
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            none => *none = Some(error),
        }
    }

    /// Record `message` on the tokens at `at`.
    pub fn at(&mut self, at: impl Into<SpanRange>, message: impl Display) {
        self.push(at.into().error(message));
    }

    /// `Ok` if nothing was recorded, else every error, in the order recorded.
    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The first and last token of something the user wrote, so an error can
/// underline all of `retry_after = wait` (as `syn::Error::new_spanned` does).
#[derive(Clone, Copy)]
pub struct SpanRange {
    first: Span,
    last: Span,
}

impl SpanRange {
    pub fn new(first: Span, last: Span) -> Self {
        SpanRange { first, last }
    }

    /// Where the range starts: a single span, for generated code.
    pub fn first(self) -> Span {
        self.first
    }

    pub fn error(self, message: impl Display) -> syn::Error {
        let marker = |span| {
            let mut punct = Punct::new('#', Spacing::Alone);
            punct.set_span(span);
            TokenTree::from(punct)
        };
        let tokens: TokenStream = [marker(self.first), marker(self.last)]
            .into_iter()
            .collect();
        syn::Error::new_spanned(tokens, message)
    }
}

impl From<Span> for SpanRange {
    fn from(span: Span) -> Self {
        SpanRange::new(span, span)
    }
}

/// A setting as the user wrote it.
pub struct Given<T> {
    pub value: T,
    /// The tokens it was written as: the key of a `key = value` argument, or
    /// all of `retry_after = wait`.
    pub at: SpanRange,
    /// How this occurrence is named in messages: the key (`attempts`) under
    /// [`Repeat::Key`], the value as written (`Timeout`) under [`Repeat::Value`].
    pub text: String,
    /// Its position among its attribute's settings, so that of two settings
    /// that conflict, the later one is blamed.
    pub pos: usize,
}

/// How a [`Slot`] words a second occurrence.
#[derive(Clone, Copy)]
pub enum Repeat {
    /// "duplicate `attempts` argument; give each key once", on the second
    /// key, and "`attempts` first given here" on the first: for
    /// `key = value` arguments, whose values may be long expressions.
    Key,
    /// "more than one {what}: `Unknown`, then `Timeout`; {fix}", on the
    /// second: for settings whose values are short enough to quote.
    Value {
        what: &'static str,
        fix: &'static str,
    },
}

/// A setting that may be given once. The first occurrence is kept; every
/// later one is reported where it is written (serde's `Attr::set`).
pub struct Slot<T> {
    repeat: Repeat,
    given: Option<Given<T>>,
}

/// A `key = value` argument's slot: a repeat is worded as [`Repeat::Key`].
impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot::new(Repeat::Key)
    }
}

impl<T> Slot<T> {
    pub const fn new(repeat: Repeat) -> Self {
        Slot {
            repeat,
            given: None,
        }
    }

    pub fn set(&mut self, errors: &mut Errors, given: Given<T>) {
        let Some(first) = &self.given else {
            self.given = Some(given);
            return;
        };
        match self.repeat {
            Repeat::Key => {
                errors.at(
                    given.at,
                    format!("duplicate `{}` argument; give each key once", given.text),
                );
                errors.at(first.at, format!("`{}` first given here", first.text));
            }
            Repeat::Value { what, fix } => errors.at(
                given.at,
                format!(
                    "more than one {what}: `{}`, then `{}`; {fix}",
                    first.text, given.text
                ),
            ),
        }
    }

    pub fn get(&self) -> Option<&Given<T>> {
        self.given.as_ref()
    }

    /// The setting, moved out (syn's types are not `Clone` without its
    /// `clone-impls` feature, which the crate leaves off).
    pub fn into_given(self) -> Option<Given<T>> {
        self.given
    }
}

/// "unknown {what} `{input}`; did you mean `{closest}`? {valid}", the
/// suggestion left out when no candidate is close.
pub fn unknown(what: &str, input: &str, candidates: &[&str], valid: impl Display) -> String {
    format!(
        "unknown {what} `{input}`; {}{valid}",
        did_you_mean(input, candidates)
    )
}

/// Each name of a list that repeats one before it (its second and later
/// occurrences), for lists whose names must be distinct (`retry_on`'s
/// kinds, `clone`'s arguments): the repeat is reported where it is written.
pub fn repeats(names: &[Ident]) -> impl Iterator<Item = &Ident> {
    names
        .iter()
        .enumerate()
        .filter(|&(i, name)| names.iter().take(i).any(|earlier| earlier == name))
        .map(|(_, name)| name)
}

/// "`a`, `b`, `c`": names, each in backticks, for the lists in messages.
pub fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A database's transaction handed to a retried function by value
/// (`written`: `mut tx` or `tx`): why that cannot be retried, and where
/// the retry goes.
pub fn transaction_parameter(written: &str, name: &Ident) -> String {
    format!(
        "`{written}`: a transaction cannot be retried from inside it: once a statement \
         in it fails, the database refuses the rest of it (PostgreSQL: 25P02, \
         \"current transaction is aborted\"; SQLite: a WAL snapshot's BUSY_SNAPSHOT \
         does not clear inside it, and rusqlite's `commit(self)` takes it), and it \
         cannot be handed to each attempt; retry the \
         function that begins it (sqlx's `pool.begin()`, tokio-postgres's \
         `client.transaction()`, rusqlite's `conn.transaction()`) and pass that function \
         the pool (sqlx's `&PgPool`, deadpool's `&Pool`; rusqlite, which has none: \
         `&mut Connection`), not a connection (`&mut PgConnection`, `&Client`): a \
         connection is not replaced when it breaks, and each retry would fail on it \
         again (a \
         `Transaction` type of yours that is not a database's and is `Clone`: add \
         `clone = {name}`)"
    )
}

/// A sync function that builds the future it returns, which its attempts
/// would only build: write it as an `async fn` (`body`: what its body is
/// then). `send`: its return type is `impl Future<..> + Send`, a promise
/// an `async fn` would drop in a trait (rustc's help then sends the user
/// back), so the functional form inside the kept signature is said too.
pub fn built_future(body: &str, send: bool) -> String {
    let send = if send {
        "; in a trait, an `async fn` would drop the `+ Send` promise: keep the signature \
         and retry inside with the functional form (`async move { POLICY.retry(|| async \
         { .. }).await }`), see docs/attribute.md \"In traits\""
    } else {
        ""
    };
    format!(
        "#[retry] cannot retry a function that returns the future it builds: an attempt \
         would only build the future, not run it; write it as an `async fn` that returns \
         `Result<T, E>` ({body}) and put #[retry] on that{send}"
    )
}

/// A closure parameter by value (`mut on_row: F` with `F: FnMut(..)`, `f:
/// impl FnOnce(..)`) that no clone can serve (no `Clone` in its bounds):
/// what to take instead. `written` is the parameter as written before its
/// `:` (`mut on_row`). The attribute cannot see whether the method is in a
/// trait impl, whose signature the trait fixes (E0053 for another one), so
/// the way out there is always said too.
pub fn closure_parameter(written: &str, name: &Ident, bound: &ClosureBound) -> String {
    let ty = &bound.written;
    match bound.kind {
        ClosureTrait::FnMut => format!(
            "`{written}`: an `FnMut` argument is called by each attempt, and `clone = {name}` \
             would need `Clone` in its bounds; take it by reference, `{name}: &mut {ty}` \
             (callers pass `&mut {name}`): its changes then carry across attempts, as through \
             any `&mut` argument; in a trait impl, change the trait's signature too (the impl \
             must match it), or keep the impl method un-retried and have it call a retried \
             inherent method with `&mut {name}` (docs/attribute.md \"In traits\")"
        ),
        ClosureTrait::FnOnce => {
            let instead = if ty.starts_with("impl ") {
                format!("`{name}: impl Fn(..)`, or `{name}: &mut impl FnMut(..)`")
            } else {
                format!("`{name}: {ty}` with `{ty}: Fn(..)`, or `{name}: &mut {ty}` with `{ty}: FnMut(..)`")
            };
            format!(
                "`{written}`: an attempt may run more than once, and an `FnOnce` can be called \
                 only once; take `Fn` or `FnMut` instead ({instead}); in a trait impl, change \
                 the trait's signature too (the impl must match it), or keep the impl method \
                 un-retried and have it call a retried inherent method, then call `{name}` once \
                 with what that returned (docs/attribute.md \"In traits\")"
            )
        }
    }
}

/// A `mut` (or `ref mut`) by-value parameter that is not cloned for each
/// attempt: what would go wrong, and the ways out.
pub fn mut_parameter(binding: &MutBinding) -> String {
    let name = &binding.name;
    if binding.transaction {
        return transaction_parameter(&format!("mut {name}"), name);
    }
    let (written, fix) = match binding.kind {
        MutKind::Param => (
            format!("mut {name}"),
            format!(
                "add `clone = {name}` (each attempt then gets its own copy), or drop the `mut` and \
                 write `let mut {name} = {name}.clone();` in the body"
            ),
        ),
        MutKind::InPattern => (
            format!("mut {name}"),
            format!("drop the `mut` and write `let mut {name} = {name}.clone();` in the body"),
        ),
        MutKind::RefMut => (
            format!("ref mut {name}"),
            format!(
                "write the parameter `mut {name}` and add `clone = {name}` (each attempt then \
                 gets its own copy), or drop the `ref mut` and write \
                 `let mut {name} = {name}.clone();` in the body"
            ),
        ),
        MutKind::RefMutInPattern => (
            format!("ref mut {name}"),
            format!(
                "drop the `ref mut` and write `let mut {name} = {name}.clone();` in the body \
                 (`clone` names a whole parameter, not a part of one)"
            ),
        ),
        MutKind::MutRefParam => (
            format!("mut {name}"),
            format!(
                "a `&mut` reference cannot be cloned for each attempt: drop the `mut` and write \
                 `let mut {name} = &mut *{name};` at the top of the body (each attempt then \
                 starts from the reference the call was given; what it writes through it still \
                 lasts, as through any `&mut` argument)"
            ),
        ),
        MutKind::SelfValue => (
            "mut self".to_string(),
            "`clone` cannot name `self`: drop the `mut` and write \
             `let mut this = self.clone();` in the body (or clone only the fields the body changes)"
                .to_string(),
        ),
    };
    format!(
        "`{written}`: each attempt would see what the attempts before it did to `{name}` \
         (a retry must start from the arguments the call was given); {fix}"
    )
}

/// The same tokens, every one carrying `span` (so an error about them lands there).
pub fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                TokenTree::Group(respanned)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// The same tokens at the same places, with the macro's hygiene
/// (`Span::call_site()`, which resolves names as the call site does): for
/// the runtime's path the user gives as a string (`crate = "..."`), so that
/// the generated paths that start with it count as generated, as they do
/// with the default `::retry_runtime`, and lints about paths (rustc's
/// `unused_qualifications`, clippy's `absolute_paths`) leave them alone.
/// An error about the path itself (no such module) is still shown on the
/// string, with rustc's note that it comes from the macro. (Spans only: the
/// tokens, and so the code, are the same.)
pub fn as_generated(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| {
            let span = Span::call_site().located_at(token.span());
            match token {
                TokenTree::Group(group) => {
                    let mut generated = Group::new(group.delimiter(), as_generated(group.stream()));
                    generated.set_span(span);
                    TokenTree::Group(generated)
                }
                mut other => {
                    other.set_span(span);
                    other
                }
            }
        })
        .collect()
}

/// `krate::last` (`krate::__private`, `krate::Classify`), a path into the
/// runtime placed on the user's token at `span`, so an error about the call
/// is reported there. Every token carries `span` except `last`, which keeps
/// the macro's hygiene at the same place: a path with a segment from the
/// expansion counts as generated, so rustc's `unused_qualifications` leaves
/// it alone even when `crate = "crate::..."` names a module in scope where
/// the function is. (Spans only: the tokens, and so the code, are the same.)
pub fn respan_path(krate: TokenStream, last: &str, span: Span) -> TokenStream {
    let krate = respan(krate, span);
    let last = Ident::new(last, Span::call_site().located_at(span));
    quote_spanned!(span=> #krate::#last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn messages(errors: Errors) -> Vec<String> {
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn given<T>(value: T, text: &str, pos: usize) -> Given<T> {
        Given {
            value,
            at: Span::call_site().into(),
            text: text.to_string(),
            pos,
        }
    }

    #[test]
    fn the_collector_keeps_every_error_in_order() {
        let mut errors = Errors::default();
        assert!(messages(Errors::default()).is_empty());
        errors.at(Span::call_site(), "first");
        errors.push(syn::Error::new(Span::call_site(), "second"));
        errors.at(
            SpanRange::new(Span::call_site(), Span::call_site()),
            "third",
        );
        assert_eq!(messages(errors), ["first", "second", "third"]);
    }

    #[test]
    fn a_slot_keeps_the_first_and_rejects_the_second_occurrence() {
        let mut errors = Errors::default();
        let mut slot = Slot::new(Repeat::Key);
        slot.set(&mut errors, given(3, "attempts", 0));
        assert!(messages(std::mem::take(&mut errors)).is_empty());
        slot.set(&mut errors, given(4, "attempts", 2));
        slot.set(&mut errors, given(5, "attempts", 3));
        assert_eq!(slot.get().map(|g| (g.value, g.pos)), Some((3, 0)));
        assert_eq!(
            messages(errors),
            [
                "duplicate `attempts` argument; give each key once",
                "`attempts` first given here",
                "duplicate `attempts` argument; give each key once",
                "`attempts` first given here",
            ]
        );

        let mut errors = Errors::default();
        let mut slot = Slot::new(Repeat::Value {
            what: "`default`",
            fix: "give one default kind",
        });
        assert!(slot.get().is_none());
        slot.set(&mut errors, given((), "Unknown", 0));
        slot.set(&mut errors, given((), "Timeout", 1));
        assert_eq!(slot.get().map(|g| g.text.as_str()), Some("Unknown"));
        assert_eq!(
            messages(errors),
            ["more than one `default`: `Unknown`, then `Timeout`; give one default kind"]
        );
    }

    #[test]
    fn a_transaction_parameter_is_told_to_take_the_pool_not_a_connection() {
        let name = Ident::new("tx", Span::call_site());
        let text = transaction_parameter("mut tx", &name);
        let pool = text.find("the pool").unwrap_or(usize::MAX);
        let connection = text.find("not a connection").unwrap_or(0);
        assert!(pool < connection, "{text}");
        assert!(
            text.contains("a connection is not replaced when it breaks, and each retry would fail on it again"),
            "{text}"
        );
        assert!(!text.contains("or the connection"), "{text}");
        // rusqlite's `conn.transaction()` takes `&mut self`: a function
        // handed `&Connection` cannot begin one (E0596)
        assert!(
            text.contains("rusqlite, which has none: `&mut Connection`"),
            "{text}"
        );
    }

    #[test]
    fn suggestion_text() {
        let presets = ["webhook", "quick", "db"];
        let valid = format!("presets are: {}", presets.join(", "));
        assert_eq!(
            unknown("preset", "webhok", &presets, &valid),
            "unknown preset `webhok`; did you mean `webhook`? presets are: webhook, quick, db"
        );
        assert_eq!(
            unknown("preset", "banana", &presets, &valid),
            "unknown preset `banana`; presets are: webhook, quick, db"
        );
        assert_eq!(did_you_mean("qick", &presets), "did you mean `quick`? ");
        assert_eq!(did_you_mean("zzz", &presets), "");
    }

    #[test]
    fn respan_keeps_the_tokens() {
        // Outside a macro spans cannot be told apart; what must hold is that
        // every token, in every group, is kept as it was.
        let out = respan(quote!(a::b(c, [d]) {}), Span::mixed_site());
        assert_eq!(out.to_string(), quote!(a::b(c, [d]) {}).to_string());
    }

    #[test]
    fn as_generated_keeps_the_tokens() {
        let out = as_generated(quote!(crate::a::b(c, [d]) {}));
        assert_eq!(out.to_string(), quote!(crate::a::b(c, [d]) {}).to_string());
    }

    #[test]
    fn respan_path_appends_the_last_segment() {
        let out = respan_path(quote!(crate::rt), "__private", Span::call_site());
        assert_eq!(out.to_string(), quote!(crate::rt::__private).to_string());
        let out = respan_path(quote!(::retry_runtime), "Classify", Span::call_site());
        assert_eq!(
            out.to_string(),
            quote!(::retry_runtime::Classify).to_string()
        );
    }
}
