//! The annotated function as the attribute needs it: its attributes,
//! visibility and signature parsed, its body kept as tokens.
//!
//! Parsing the body into syn's statement and expression types was half of
//! the attribute's own run time, for nothing: the loop emits the body as
//! it came. Only a body written by `#[async_trait]` is looked into (also
//! as `#[tracing::instrument]` rewrites it), and only when it looks like
//! one (see [`FnItem::async_trait_body`]), a short async body that ends
//! in `.await` (see [`FnItem::awaited_future`]), and the body
//! `#[tokio::test]`, `#[tokio::main]` or actix's entry macros write (see [`FnItem::runtime_entry`]).
//!
//! Here: the function and its `mut` bindings. `async_trait` recognizes
//! async-trait's body, `future` the futures a body awaits or builds,
//! `writes` a write through a `&mut` parameter.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, TokenStreamExt};
use syn::parse::{Parse, ParseStream};

use crate::diag::SpanRange;
use syn::{braced, Attribute, FnArg, Ident, Pat, ReceiverKind, Signature, Stmt, Visibility};

mod async_trait;
mod future;
mod misplaced;
mod writes;

pub use async_trait::Instrumented;
#[cfg(test)]
pub(crate) use async_trait::{async_trait_block, instrumented};
pub use future::{AwaitedFuture, BuiltFuture};
pub use misplaced::{not_a_function, ClosureBound, ClosureTrait};

/// A function with a body: `attrs vis sig { inner_attrs body }`.
pub struct FnItem {
    /// The outer attributes (`#[..]` before the function).
    pub attrs: Vec<Attribute>,
    /// The body's inner attributes (`#![..]` at its start).
    pub inner_attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub brace: syn::token::Brace,
    /// The body's statements, unparsed.
    pub body: TokenStream,
}

impl Parse for FnItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body = content.parse()?;
        Ok(FnItem {
            attrs,
            inner_attrs,
            vis,
            sig,
            brace,
            body,
        })
    }
}

impl ToTokens for FnItem {
    /// The function as it was written.
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.brace.surround(tokens, |inner| {
            inner.append_all(&self.inner_attrs);
            inner.extend(self.body.clone());
        });
    }
}

impl FnItem {
    /// The body in its braces, for the attempt. The braces keep their
    /// location (an error about the block's type still points at it) but
    /// belong to the expansion: inside the attempt's closure or `async`
    /// block they are a block within a block, and rustc's `unused_braces`
    /// would otherwise blame the user's braces for it.
    pub fn block(&self) -> Group {
        let mut group = Group::new(Delimiter::Brace, self.body.clone());
        group.set_span(self.brace.span.join().resolved_at(Span::call_site()));
        group
    }

    /// Every name a by-value parameter binds with `mut` or `ref mut`: in
    /// the signature (`mut body`, `(mut a, b)`, `ref mut buf`, `mut self`,
    /// `mut self: Box<Self>`), and in `#[async_trait]`'s rebinds (which
    /// take the `mut` out of the signature it writes: `let mut body = body;`,
    /// and `let mut __self = self;` for `mut self`).
    pub fn mut_bindings(&self) -> Vec<MutBinding> {
        let mut found = Vec::new();
        // Is the receiver a reference (`&mut self`, which `#[async_trait]`
        // rebinds `let mut __self`)? What a method does through it is meant
        // to last, as through any `&mut T` argument.
        let mut by_reference = false;
        // A parameter still marked `#[attempt]` (refused on an
        // `#[async_trait]` method, whose marks are kept for this) is not
        // the caller's argument: no "add `clone = ..`" for it, nor for its
        // rebind in async-trait's future.
        let is_mark = |a: &Attribute| a.path().is_ident("attempt");
        let mut marked = Vec::new();
        for input in &self.sig.inputs {
            match input {
                FnArg::Typed(t) if t.attrs.iter().any(is_mark) => {
                    if let Pat::Ident(p) = &*t.pat {
                        marked.push(p.ident.clone());
                    }
                }
                // `mut p: Pin<&mut T>`, which needs its `mut` for
                // `p.as_mut()`, as the receiver `mut self: Pin<&mut Self>`
                // does: changes through it are meant to last.
                FnArg::Typed(t) if is_pinned_mut(&t.ty) && matches!(&*t.pat, Pat::Ident(_)) => {}
                FnArg::Typed(t) => {
                    let before = found.len();
                    mut_bindings(&t.pat, reference_of(&t.ty), &mut found);
                    if names_transaction(&t.ty) {
                        for m in found.iter_mut().skip(before) {
                            m.transaction = m.kind == MutKind::Param;
                        }
                    }
                }
                FnArg::Receiver(r) => {
                    // `&mut self`, and a typed receiver through a reference
                    // (`mut self: Pin<&mut Self>`, which needs its `mut` for
                    // `self.as_mut()`): changes through it are meant to last.
                    by_reference = match &r.kind {
                        ReceiverKind::Reference(..) => true,
                        ReceiverKind::Typed(_, ty) => has_reference(ty),
                        _ => false,
                    };
                    if let (Some(m), false) = (&r.mutability, by_reference) {
                        found.push(MutBinding {
                            name: Ident::new("self", r.self_token.span),
                            at: m.span.into(),
                            kind: MutKind::SelfValue,
                            transaction: false,
                        });
                    }
                }
            }
        }
        if let Some(body) = self.async_trait_body() {
            for stmt in &body.rebinds {
                let Stmt::Local(local) = stmt else { continue };
                match &local.pat {
                    Pat::Ident(p) if p.ident == "__self" => {
                        if let (Some(m), false) = (&p.mutability, by_reference) {
                            found.push(MutBinding {
                                name: Ident::new("self", p.ident.span()),
                                at: m.span.into(),
                                kind: MutKind::SelfValue,
                                transaction: false,
                            });
                        }
                    }
                    Pat::Ident(p) if marked.contains(&p.ident) => {}
                    pat => {
                        let before = found.len();
                        mut_bindings(pat, None, &mut found);
                        // (`let mut tx = tx;` for a signature's `mut tx:
                        // Transaction<'_>`, whose `mut` async-trait took)
                        for m in found.iter_mut().skip(before) {
                            m.transaction = m.kind == MutKind::Param
                                && self.transaction_params().any(|name| name == &m.name);
                        }
                    }
                }
            }
        }
        found
    }
}

impl FnItem {
    /// The names of the signature's parameters whose type is named
    /// `Transaction` (or one of sqlx's aliases).
    fn transaction_params(&self) -> impl Iterator<Item = &Ident> {
        self.sig.inputs.iter().filter_map(|input| match input {
            FnArg::Typed(t) if names_transaction(&t.ty) => match &*t.pat {
                Pat::Ident(p) => Some(&p.ident),
                _ => None,
            },
            _ => None,
        })
    }

    /// The parameters that take a database's transaction by value without
    /// `mut` (`tx: Transaction<'_>`: rusqlite's `commit(self)` needs none),
    /// which [`mut_bindings`](Self::mut_bindings) does not list: each
    /// attempt cannot have it (rustc: E0507), and retrying inside it is
    /// wrong anyway. Only a type with a lifetime argument: a database's
    /// transaction borrows its connection (`Transaction<'_>`,
    /// `Transaction<'c, Postgres>`, `PgTransaction<'c>`), where a record
    /// of the user's named `Transaction` (a payment, a blockchain's) is
    /// usually `Clone` and owned, and compiles as it did; or one written
    /// with a database crate's path, its lifetime elided
    /// (`rusqlite::Transaction`).
    pub fn transactions_by_value(&self) -> Vec<Ident> {
        self.sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Typed(t)
                    if names_transaction(&t.ty)
                        && (has_lifetime_argument(&t.ty) || of_a_database_crate(&t.ty)) =>
                {
                    match &*t.pat {
                        Pat::Ident(p) if p.mutability.is_none() && p.by_ref.is_none() => {
                            Some(p.ident.clone())
                        }
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect()
    }
}

/// Is `ty` written with a database crate's path
/// (`rusqlite::Transaction`, its lifetime elided)?
fn of_a_database_crate(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => {
            p.path.segments.len() > 1
                && p.path.segments.first().is_some_and(|first| {
                    ["sqlx", "rusqlite", "tokio_postgres", "postgres"]
                        .iter()
                        .any(|name| first.ident == name)
                })
        }
        syn::Type::Group(g) => of_a_database_crate(&g.elem),
        syn::Type::Paren(p) => of_a_database_crate(&p.elem),
        _ => false,
    }
}

/// Does `ty`'s last path segment take a lifetime (`Transaction<'_>`)?
fn has_lifetime_argument(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|segment| {
            matches!(&segment.arguments, syn::PathArguments::AngleBracketed(args)
                if args.args.iter().any(|a| matches!(a, syn::GenericArgument::Lifetime(_))))
        }),
        syn::Type::Group(g) => has_lifetime_argument(&g.elem),
        syn::Type::Paren(p) => has_lifetime_argument(&p.elem),
        _ => false,
    }
}

/// A name bound `mut` by value: see [`FnItem::mut_bindings`].
pub struct MutBinding {
    pub name: Ident,
    /// The `mut` keyword (`ref mut`: both words).
    pub at: SpanRange,
    pub kind: MutKind,
    /// A whole parameter whose type is named `Transaction` (sqlx's,
    /// tokio-postgres's, rusqlite's): no copy of it can be retried. By the
    /// name only (the macro sees no types): a `Clone` type of the user's
    /// with that name is let through by `clone = ..`, as any other.
    pub transaction: bool,
}

/// How a [`MutBinding`] is written, which decides how it can be fixed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MutKind {
    /// The whole parameter, `mut body` (which `clone = body` names).
    Param,
    /// Inside a pattern, `(mut a, b)`.
    InPattern,
    /// `ref mut buf`: a mutable borrow of the argument, shared by the
    /// attempts (the whole parameter, which `clone = buf` can name once
    /// written `mut buf`).
    RefMut,
    /// `ref mut` inside a pattern, `(ref mut a, b)`.
    RefMutInPattern,
    /// The receiver by value, `mut self` (or `mut self: Box<Self>`).
    SelfValue,
    /// The whole parameter, of a `&mut` type, bound `mut` (`mut buf: &mut
    /// [u8]`) to point it elsewhere: not `Clone`, so `clone = buf` cannot
    /// name it; a re-borrow in the body can.
    MutRefParam,
}

/// Adds the names `pat` binds by value with `mut` (`mut body`, `(mut a, b)`)
/// or `ref mut` (`ref mut buf`, `(ref mut a, b)`). A `ref mut` into what a
/// reference points at (under a `&mut` pattern, or in a parameter of a
/// reference type, `ty_ref`: `Some(mutable)`) is not: changes through it
/// are meant to last, as through any `&mut T` argument.
fn mut_bindings(pat: &Pat, ty_ref: Option<bool>, found: &mut Vec<MutBinding>) {
    let top = pat;
    let ty_is_mut_ref = ty_ref == Some(true);
    // each pattern, and whether it is under a `&` or `&mut` pattern
    let mut stack = vec![(pat, ty_ref.is_some())];
    while let Some((pat, behind_ref)) = stack.pop() {
        match pat {
            Pat::Ident(p) => {
                // the whole parameter (which `clone` can name), or a part
                let whole = core::ptr::eq(pat, top) && p.subpat.is_none();
                let kind = match (&p.mutability, &p.by_ref) {
                    (Some(_), Some(_)) if behind_ref => None,
                    (Some(_), Some(_)) if whole => Some(MutKind::RefMut),
                    (Some(_), Some(_)) => Some(MutKind::RefMutInPattern),
                    (Some(_), None) if whole && ty_is_mut_ref => Some(MutKind::MutRefParam),
                    (Some(_), None) if whole => Some(MutKind::Param),
                    (Some(_), None) => Some(MutKind::InPattern),
                    (None, _) => None,
                };
                if let (Some(kind), Some(m)) = (kind, &p.mutability) {
                    let first = p.by_ref.as_ref().map_or(m.span, |r| r.span);
                    found.push(MutBinding {
                        name: p.ident.clone(),
                        at: SpanRange::new(first, m.span),
                        kind,
                        transaction: false,
                    });
                }
                if let Some((_, sub)) = &p.subpat {
                    stack.push((sub, behind_ref));
                }
            }
            Pat::Tuple(t) => stack.extend(t.elems.iter().rev().map(|p| (p, behind_ref))),
            Pat::TupleStruct(t) => stack.extend(t.elems.iter().rev().map(|p| (p, behind_ref))),
            Pat::Struct(s) => stack.extend(s.fields.iter().rev().map(|f| (&*f.pat, behind_ref))),
            Pat::Slice(s) => stack.extend(s.elems.iter().rev().map(|p| (p, behind_ref))),
            Pat::Reference(r) => stack.push((&r.pat, true)),
            Pat::Paren(p) => stack.push((&p.pat, behind_ref)),
            Pat::Type(t) => stack.push((&t.pat, behind_ref)),
            _ => {}
        }
    }
}

/// Is `ty` `Pin<&mut T>` (by the name `Pin`, under any path: a
/// re-export, `tokio::macros::support::Pin`; the macro sees no types)?
/// Wider than [`pinned_mut_ref`], which picks what each attempt
/// re-borrows: a `mut` one is not refused as a `mut` by-value argument.
fn is_pinned_mut(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().is_some_and(|last| {
                let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                    return false;
                };
                last.ident == "Pin"
                    && matches!(args.args.first(), Some(syn::GenericArgument::Type(t)) if mut_ref(t).is_some())
            })
        }
        syn::Type::Group(g) => is_pinned_mut(&g.elem),
        syn::Type::Paren(p) => is_pinned_mut(&p.elem),
        _ => false,
    }
}

/// The `&mut` of a `&mut T` type (in parentheses or not).
pub(crate) fn mut_ref(ty: &syn::Type) -> Option<&syn::TypeReference> {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_some().then_some(r),
        syn::Type::Group(g) => mut_ref(&g.elem),
        syn::Type::Paren(p) => mut_ref(&p.elem),
        _ => None,
    }
}

/// Is `path` `core::pin::Pin` as written: `Pin`, `pin::Pin`,
/// `std::pin::Pin` or `core::pin::Pin` (a type of one's own named `Pin`,
/// `my::Pin`, is not)?
fn is_pin_path(path: &syn::Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    matches!(
        names[..],
        ["Pin"] | ["pin", "Pin"] | ["std" | "core", "pin", "Pin"]
    )
}

/// The `&mut T` of a `Pin<&mut T>` type (by the name `Pin`: the macro
/// sees no types).
pub(crate) fn pinned_mut_ref(ty: &syn::Type) -> Option<&syn::TypeReference> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() && is_pin_path(&p.path) => {
            let last = p.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.first() {
                Some(syn::GenericArgument::Type(t)) if last.ident == "Pin" => mut_ref(t),
                _ => None,
            }
        }
        syn::Type::Group(g) => pinned_mut_ref(&g.elem),
        syn::Type::Paren(p) => pinned_mut_ref(&p.elem),
        _ => None,
    }
}

/// Does the type go through a reference anywhere (`Pin<&mut Self>`)?
fn has_reference(ty: &syn::Type) -> bool {
    fn walk(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Punct(p) => p.as_char() == '&',
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(quote::ToTokens::to_token_stream(ty))
}

/// Is `ty` a path whose last segment is `Transaction`
/// (`sqlx::Transaction<'_, Postgres>`, `Transaction<'_>`) or one of sqlx's
/// aliases (`PgTransaction<'_>`, `SqliteTransaction`, `MySqlTransaction`)?
/// Judged by the name only: the macro sees no types. (Not any name ending
/// with `Transaction`: a `BankTransaction` is a record, not a database's.)
fn names_transaction(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|segment| {
            [
                "Transaction",
                "PgTransaction",
                "SqliteTransaction",
                "MySqlTransaction",
            ]
            .iter()
            .any(|name| segment.ident == name)
        }),
        syn::Type::Group(g) => names_transaction(&g.elem),
        syn::Type::Paren(p) => names_transaction(&p.elem),
        _ => false,
    }
}

/// Is `ty` a reference type (`&T`, `&mut T`, in parentheses or not)?
/// `Some(true)` for `&mut T`, `Some(false)` for `&T`, `None` for others.
fn reference_of(ty: &syn::Type) -> Option<bool> {
    match ty {
        syn::Type::Reference(r) => Some(r.mutability.is_some()),
        syn::Type::Group(g) => reference_of(&g.elem),
        syn::Type::Paren(p) => reference_of(&p.elem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn keeps_the_function_as_written() {
        let src = quote! {
            #[inline]
            pub(crate) async fn f<'a>(x: &'a str) -> Result<u32, E> where E: Send {
                #![allow(unused)]
                let n = x.len();
                Ok(n as u32)
            }
        };
        let item: FnItem = syn::parse2(src.clone()).unwrap();
        assert_eq!(item.attrs.len(), 1);
        assert_eq!(item.inner_attrs.len(), 1);
        assert_eq!(item.sig.ident, "f");
        assert_eq!(item.into_token_stream().to_string(), src.to_string());
    }

    #[test]
    fn a_function_without_a_body_is_refused() {
        assert!(syn::parse2::<FnItem>(quote!(
            fn f() -> Result<(), E>;
        ))
        .is_err());
        assert!(syn::parse2::<FnItem>(quote!(
            struct S;
        ))
        .is_err());
    }

    /// `ty` as written.
    fn ty(tokens: TokenStream) -> syn::Type {
        syn::parse2(tokens).unwrap()
    }

    /// `ty` in parentheses, `(T)`.
    fn parenthesized(tokens: TokenStream) -> syn::Type {
        let t = ty(quote!((#tokens)));
        assert!(matches!(t, syn::Type::Paren(_)));
        t
    }

    /// `ty` as a `macro_rules!` `$t:ty` passes it on: in rustc's invisible
    /// group.
    fn grouped(tokens: TokenStream) -> syn::Type {
        let t = ty(Group::new(Delimiter::None, tokens).into_token_stream());
        assert!(matches!(t, syn::Type::Group(_)));
        t
    }

    #[test]
    fn reads_reference_pin_and_transaction_types() {
        assert_eq!(reference_of(&ty(quote!(&mut u8))), Some(true));
        assert_eq!(reference_of(&ty(quote!(&u8))), Some(false));
        assert_eq!(reference_of(&ty(quote!(Box<u8>))), None);
        assert!(mut_ref(&ty(quote!(&u8))).is_none());

        assert!(names_transaction(&ty(quote!(
            sqlx::Transaction<'_, Postgres>
        ))));
        assert!(!names_transaction(&ty(quote!(Transactions))));
        assert!(!names_transaction(&ty(quote!(&mut Transaction<'_>))));

        // `Pin<&mut T>` under any path (a re-export of it), but not a
        // `Pin` reached through a qualified path, `Pin<&T>` or `Box<&mut T>`
        assert!(is_pinned_mut(&ty(quote!(Pin<&mut u8>))));
        assert!(is_pinned_mut(&ty(quote!(my::Pin<&mut u8>))));
        assert!(!is_pinned_mut(&ty(quote!(<S as Tr>::Pin<&mut u8>))));
        assert!(!is_pinned_mut(&ty(quote!(Pin<&u8>))));
        assert!(!is_pinned_mut(&ty(quote!(Box<&mut u8>))));

        // the one each attempt re-borrows: `core::pin::Pin` as written only
        for pin in [
            quote!(Pin<&mut u8>),
            quote!(pin::Pin<&mut u8>),
            quote!(std::pin::Pin<&mut u8>),
            quote!(core::pin::Pin<&mut u8>),
        ] {
            assert!(pinned_mut_ref(&ty(pin.clone())).is_some(), "{pin}");
        }
        for other in [
            quote!(my::Pin<&mut u8>),
            quote!(<S as Tr>::Pin<&mut u8>),
            quote!(Pin<&u8>),
            quote!(Box<&mut u8>),
        ] {
            assert!(pinned_mut_ref(&ty(other.clone())).is_none(), "{other}");
        }
    }

    #[test]
    fn reads_a_type_in_parentheses_or_from_a_macro() {
        for wrap in [parenthesized, grouped] {
            assert_eq!(reference_of(&wrap(quote!(&mut u8))), Some(true));
            assert!(mut_ref(&wrap(quote!(&mut u8))).is_some());
            assert!(names_transaction(&wrap(quote!(Transaction<'_>))));
            assert!(is_pinned_mut(&wrap(quote!(Pin<&mut u8>))));
            assert!(pinned_mut_ref(&wrap(quote!(Pin<&mut u8>))).is_some());
        }
    }

    /// The names and kinds [`FnItem::mut_bindings`] finds.
    fn mut_bindings_of(item: TokenStream) -> Vec<(String, &'static str, bool)> {
        let item: FnItem = syn::parse2(item).unwrap();
        item.mut_bindings()
            .into_iter()
            .map(|m| {
                let kind = match m.kind {
                    MutKind::Param => "param",
                    MutKind::InPattern => "in pattern",
                    MutKind::RefMut => "ref mut",
                    MutKind::RefMutInPattern => "ref mut in pattern",
                    MutKind::SelfValue => "self",
                    MutKind::MutRefParam => "mut ref param",
                };
                (m.name.to_string(), kind, m.transaction)
            })
            .collect()
    }

    #[test]
    fn finds_the_mut_bindings_of_by_value_parameters() {
        let found = mut_bindings_of(quote! {
            fn f(
                mut a: u8,
                Some(mut b): Option<u8>,
                [mut c, _]: [u8; 2],
                &(mut d, _): &(u8, u8),
                (mut e): u8,
                mut buf: &mut [u8],
                mut tx: Transaction<'_>,
                mut p: Pin<&mut u8>,
            ) {}
        });
        let expected = [
            ("a", "param", false),
            ("b", "in pattern", false),
            ("c", "in pattern", false),
            ("d", "in pattern", false),
            ("e", "in pattern", false),
            ("buf", "mut ref param", false),
            ("tx", "param", true),
        ];
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(n, k, t)| (n.to_string(), k, t))
            .collect();
        assert_eq!(found, expected);
        // a receiver through a reference, its type from a macro (in an
        // invisible group): changes through it are meant to last
        let pinned_self = Group::new(Delimiter::None, quote!(Pin<&mut Self>));
        assert_eq!(mut_bindings_of(quote!(fn f(mut self: #pinned_self) {})), []);
    }

    #[test]
    fn finds_the_mut_bindings_of_async_trait_rebinds() {
        // what `#[async_trait]` writes for `async fn f(mut body: String,
        // #[attempt] mut a: Attempt)`: `body` rebound by name; the marked
        // parameter is not the caller's argument
        let found = mut_bindings_of(quote! {
            fn f(body: String, #[attempt] a: Attempt)
                -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + 'static>>
            {
                Box::pin(async move {
                    let mut body = body;
                    let mut a = a;
                    let __ret: Result<u32, E> = { Ok(1) };
                    __ret
                })
            }
        });
        assert_eq!(found, [("body".to_string(), "param", false)]);
    }
}
