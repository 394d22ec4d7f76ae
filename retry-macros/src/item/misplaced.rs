//! What the attribute was put on when it is on the wrong thing, for its
//! error: an `impl` block or a trait rather than a method, a method
//! declared without a body, the body `#[tracing::instrument]` wrote
//! (`#[retry]` below it), and a closure parameter (`F: FnMut(..)`,
//! `impl FnOnce(..)`) whose fix is not a clone. Only asked on the way to an
//! error, or to decide that there is one: valid input never gets here.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::{FnArg, GenericParam, Ident, Pat, Type, TypeParamBound, WherePredicate};

use super::FnItem;

/// The error for an item that does not parse as a function with a body,
/// at the `#[retry]` attribute (the item's own tokens may be another
/// macro's: `#[async_trait]` rewrites a trait's methods, and points
/// them all at its own attribute).
pub fn not_a_function(item: &TokenStream) -> syn::Error {
    let message = match item_word(item) {
        Some(Word::Impl) => {
            format!("#[retry] cannot be applied to an `impl` block: {ON_EACH_METHOD}")
        }
        Some(Word::Trait) => format!("#[retry] cannot be applied to a trait: {ON_EACH_METHOD}"),
        Some(Word::FnWithoutBody) => "#[retry] needs a function with a body, and a method \
            declared without one has none: put #[retry] on the method in each `impl` of the \
            trait, or give the declaration a default body (a trait's default method with a \
            body takes #[retry])"
            .to_string(),
        None => "#[retry] can only be applied to a function with a body: a free function, a \
                 method in an `impl` block, or a trait's default method"
            .to_string(),
    };
    syn::Error::new(Span::call_site(), message)
}

const ON_EACH_METHOD: &str = "put #[retry] on each method (in each impl, or on a trait's \
    default method with a body), not on the impl block or trait";

enum Word {
    Impl,
    Trait,
    /// `fn f(..) -> T;`
    FnWithoutBody,
}

/// What the item is, read from its first words after its attributes and
/// qualifiers (`pub(crate) unsafe impl`, `pub trait`, `async fn f();`).
fn item_word(item: &TokenStream) -> Option<Word> {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let mut rest = tokens.as_slice();
    loop {
        match rest {
            // an attribute, `#[..]`
            [TokenTree::Punct(p), TokenTree::Group(g), tail @ ..]
                if p.as_char() == '#' && g.delimiter() == Delimiter::Bracket =>
            {
                rest = tail;
            }
            // `pub(crate)`'s parentheses
            [TokenTree::Group(g), tail @ ..] if g.delimiter() == Delimiter::Parenthesis => {
                rest = tail;
            }
            [TokenTree::Ident(word), tail @ ..] => {
                let word = word.to_string();
                match word.as_str() {
                    "impl" => return Some(Word::Impl),
                    "trait" => return Some(Word::Trait),
                    "fn" => {
                        let ends_bare = matches!(tail.last(),
                            Some(TokenTree::Punct(p)) if p.as_char() == ';');
                        return ends_bare.then_some(Word::FnWithoutBody);
                    }
                    "pub" | "unsafe" | "auto" | "default" | "async" | "const" | "extern" => {
                        rest = tail;
                    }
                    _ => return None,
                }
            }
            // `extern "C"`'s ABI
            [TokenTree::Literal(_), tail @ ..] => rest = tail,
            _ => return None,
        }
    }
}

impl FnItem {
    /// Is the body the one `#[tracing::instrument]` writes (as
    /// tracing-attributes 0.1.31 does, `gen_function`) for a function that
    /// is not `#[async_trait]`'s? Then `#[retry]` was below it. Its body
    /// starts with `instrument`'s (possibly empty) block of warnings, then
    /// makes the span: `let __tracing_attr_span = ..;` (an async fn),
    /// `let __tracing_attr_span;` (a sync fn with `err` or `ret`), or the
    /// same in a block of its own (a sync fn without them). A body the
    /// user wrote cannot bind that name before `#[retry]` sees it: the
    /// macros inside it expand after it.
    pub fn written_by_tracing_instrument(&self) -> bool {
        let tokens: Vec<TokenTree> = self.body.clone().into_iter().collect();
        binds_span(&tokens)
            || tokens.iter().any(|t| {
                matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace
                    && binds_span(&g.stream().into_iter().collect::<Vec<_>>()))
            })
    }

    /// How the by-value parameter `name` is bounded by the closure traits,
    /// when its type is a type parameter (`f: F`, `F: FnOnce(..)` in the
    /// generics or the `where` clause) or `impl Trait` (`f: impl
    /// FnMut(..)`): `None` for any other parameter and type.
    pub fn closure_bound(&self, name: &Ident) -> Option<ClosureBound> {
        let ty = self.sig.inputs.iter().find_map(|input| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if p.ident == *name && p.by_ref.is_none() => Some(&*t.ty),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })?;
        let mut bounds = Vec::new();
        match ungroup(ty) {
            Type::ImplTrait(i) => bounds.extend(&i.bounds),
            Type::Path(p) if p.qself.is_none() => {
                let param = p.path.get_ident()?;
                for generic in &self.sig.generics.params {
                    if let GenericParam::Type(t) = generic {
                        if t.ident == *param {
                            bounds.extend(&t.bounds);
                        }
                    }
                }
                let predicates = self.sig.generics.where_clause.iter();
                for predicate in predicates.flat_map(|w| &w.predicates) {
                    if let WherePredicate::Type(t) = predicate {
                        let same = matches!(ungroup(&t.bounded_ty),
                            Type::Path(b) if b.qself.is_none() && b.path.is_ident(param));
                        if same {
                            bounds.extend(&t.bounds);
                        }
                    }
                }
            }
            _ => return None,
        }
        let traits: Vec<String> = bounds
            .iter()
            .filter_map(|b| match b {
                TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            })
            .collect();
        let has = |name: &str| traits.iter().any(|t| t == name);
        let kind = if has("Fn") {
            return None;
        } else if has("FnMut") {
            ClosureTrait::FnMut
        } else if has("FnOnce") {
            ClosureTrait::FnOnce
        } else {
            return None;
        };
        let written = match ungroup(ty) {
            Type::ImplTrait(_) if kind == ClosureTrait::FnMut => "impl FnMut(..)".to_string(),
            Type::ImplTrait(_) => "impl FnOnce(..)".to_string(),
            other => quote::ToTokens::to_token_stream(other).to_string(),
        };
        Some(ClosureBound {
            kind,
            written,
            clone: has("Clone") || has("Copy"),
        })
    }
}

/// A parameter's closure trait: see [`FnItem::closure_bound`].
pub struct ClosureBound {
    pub kind: ClosureTrait,
    /// The type, for the message: the type parameter's name (`F`), or
    /// `impl FnMut(..)`.
    pub written: String,
    /// Bounded by `Clone` or `Copy` too, so that a clone of it compiles.
    pub clone: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClosureTrait {
    FnMut,
    FnOnce,
}

/// `ty` out of the invisible group a `macro_rules!` `$t:ty` puts it in.
fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => ungroup(&g.elem),
        other => other,
    }
}

/// Do `tokens` start a statement `let __tracing_attr_span` at their top
/// level?
fn binds_span(tokens: &[TokenTree]) -> bool {
    tokens.windows(2).any(|pair| {
        matches!(pair, [TokenTree::Ident(l), TokenTree::Ident(n)]
            if l == "let" && n == "__tracing_attr_span")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn word(item: TokenStream) -> Option<&'static str> {
        item_word(&item).map(|w| match w {
            Word::Impl => "impl",
            Word::Trait => "trait",
            Word::FnWithoutBody => "fn;",
        })
    }

    #[test]
    fn tells_an_impl_a_trait_and_a_declaration_apart() {
        assert_eq!(word(quote!(impl Pg { fn f() {} })), Some("impl"));
        assert_eq!(
            word(quote!(
                #[async_trait]
                unsafe impl<T> Repo for Pg<T> {}
            )),
            Some("impl")
        );
        assert_eq!(
            word(quote!(
                pub(crate) trait Repo {
                    fn f();
                }
            )),
            Some("trait")
        );
        assert_eq!(
            word(quote!(
                pub unsafe auto trait Repo {}
            )),
            Some("trait")
        );
        assert_eq!(
            word(quote!(
                async fn get(&self) -> Result<u8, E>;
            )),
            Some("fn;")
        );
        assert_eq!(
            word(quote!(
                #[doc = "x"]
                unsafe extern "C" fn get() -> Result<u8, E>;
            )),
            Some("fn;")
        );
        assert_eq!(
            word(quote!(
                struct S;
            )),
            None
        );
        assert_eq!(
            word(quote!(
                fn f() -> Result<u8, E> {}
            )),
            None
        );
        assert_eq!(word(quote!(let x = 1;)), None);
    }

    fn item(tokens: TokenStream) -> FnItem {
        syn::parse2(tokens).unwrap()
    }

    /// `instrument`'s body for a function whose block is `{ Ok(1) }`, as
    /// tracing-attributes 0.1.31 writes it (`gen_function`, `gen_block`):
    /// async, sync with `err`, sync without `err` or `ret`.
    fn instrument_bodies() -> [TokenStream; 3] {
        let block = quote!({
            #[allow(unreachable_code)]
            if false {
                let __tracing_attr_fake_return: Result<u8, E> = loop {};
                return __tracing_attr_fake_return;
            }
            {
                Ok(1)
            }
        });
        let span = quote!(
            ::tracing::span!(target: "t", ::tracing::Level::INFO, "f", key = ::tracing::field::debug(&key))
        );
        [
            quote!({}
                let __tracing_attr_span = #span;
                let __tracing_instrument_future = async move #block;
                if !__tracing_attr_span.is_disabled() {
                    ::tracing::Instrument::instrument(__tracing_instrument_future, __tracing_attr_span).await
                } else {
                    __tracing_instrument_future.await
                }
            ),
            quote!({}
                let __tracing_attr_span;
                let __tracing_attr_guard;
                if ::tracing::level_enabled!(::tracing::Level::INFO) {
                    __tracing_attr_span = #span;
                    __tracing_attr_guard = __tracing_attr_span.enter();
                }
                #[allow(clippy::redundant_closure_call)]
                match (move || #block)() {
                    Ok(x) => Ok(x),
                    Err(e) => { ::tracing::event!(::tracing::Level::ERROR, error = %e); Err(e) }
                }
            ),
            quote!({}
                #[allow(clippy::suspicious_else_formatting)]
                {
                    let __tracing_attr_span;
                    let __tracing_attr_guard;
                    if ::tracing::level_enabled!(::tracing::Level::INFO) {
                        __tracing_attr_span = #span;
                        __tracing_attr_guard = __tracing_attr_span.enter();
                    }
                    #[warn(clippy::suspicious_else_formatting)]
                    #block
                }
            ),
        ]
    }

    #[test]
    fn finds_the_body_tracing_instrument_wrote() {
        let [async_body, sync_err, sync_plain] = instrument_bodies();
        assert!(
            item(quote!(async fn f(key: String) -> Result<u8, E> { #async_body }))
                .written_by_tracing_instrument()
        );
        for body in [sync_err, sync_plain] {
            assert!(item(quote!(fn f(key: String) -> Result<u8, E> { #body }))
                .written_by_tracing_instrument());
        }
        // the user's own body; the name deeper down (a macro's, expanded
        // after #[retry]); the future `instrument` made of
        // `#[async_trait]`'s, which #[retry] retries inside
        for body in [
            quote!(let span = 1; Ok(span)),
            quote!(if x { let y = { let __tracing_attr_span = 1; }; } Ok(1)),
            quote!(Box::pin(async move {
                let __tracing_attr_span = 1;
                Ok(1)
            })),
        ] {
            assert!(
                !item(quote!(fn f() -> Result<u8, E> { #body })).written_by_tracing_instrument()
            );
        }
    }

    fn bound(tokens: TokenStream, name: &str) -> Option<(ClosureTrait, String, bool)> {
        let name = Ident::new(name, Span::call_site());
        item(tokens)
            .closure_bound(&name)
            .map(|b| (b.kind, b.written, b.clone))
    }

    #[test]
    fn reads_a_closure_parameter_s_bound() {
        use ClosureTrait::*;
        let f = quote!(
            fn f<F: FnMut(&u8), G, H: Fn()>(
                a: F,
                b: G,
                c: impl FnOnce() -> u8,
                d: H,
                e: &mut F,
                g: u8,
                h: impl std::ops::FnMut() + Clone,
            ) -> Result<u8, E>
            where
                G: FnOnce(u8) + Send,
            {
            }
        );
        let written = |s: &str| s.to_string();
        assert_eq!(bound(f.clone(), "a"), Some((FnMut, written("F"), false)));
        assert_eq!(bound(f.clone(), "b"), Some((FnOnce, written("G"), false)));
        let c = Some((FnOnce, written("impl FnOnce(..)"), false));
        assert_eq!(bound(f.clone(), "c"), c);
        let h = Some((FnMut, written("impl FnMut(..)"), true));
        assert_eq!(bound(f.clone(), "h"), h);
        for other in ["d", "e", "g", "missing"] {
            assert_eq!(bound(f.clone(), other), None, "{other}");
        }
    }
}
