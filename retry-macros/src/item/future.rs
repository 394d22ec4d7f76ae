//! The future a body builds or awaits: the one awaited expression the
//! loop can await itself, a boxed or built future (which an attempt would
//! only build), and the bodies `#[tokio::main]`/`#[tokio::test]` and
//! actix's `#[actix_rt::main]`/`#[actix_rt::test]` write.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Block, Expr, Ident, Stmt};

use super::FnItem;

impl FnItem {
    /// The span of `Box::pin` when a sync function's body is one
    /// `Box::pin(async { .. })` (or `async move`), the future it returns:
    /// under `#[retry]`, the shape `#[async_trait]` writes or a
    /// hand-written one, which cannot be retried.
    pub fn boxed_future(&self) -> Option<Span> {
        self.boxed_async()
            .map(|(pin, _)| syn::spanned::Spanned::span(&pin))
    }

    /// The span of the `async` when a sync function's body ends in an
    /// `async` block (`async move { .. }`, the future it returns), else of
    /// the return type when it is a future (`impl Future<..>`, a boxed
    /// `dyn Future<..>`, `BoxFuture<..>`): under `#[retry]`, a
    /// function that builds the future it returns, which its attempts
    /// would only build. (A boxed one is [`FnItem::boxed_future`].)
    pub fn built_future(&self) -> Option<BuiltFuture> {
        if self.sig.asyncness.is_some() {
            return None;
        }
        let tokens: Vec<TokenTree> = self.body.clone().into_iter().collect();
        let tail_async = match tokens.as_slice() {
            [.., before, TokenTree::Ident(a), TokenTree::Ident(m), TokenTree::Group(g)]
                if a == "async" && m == "move" && g.delimiter() == Delimiter::Brace =>
            {
                ends_a_statement(Some(before)).then(|| a.span())
            }
            [TokenTree::Ident(a), TokenTree::Ident(m), TokenTree::Group(g)]
                if a == "async" && m == "move" && g.delimiter() == Delimiter::Brace =>
            {
                Some(a.span())
            }
            [.., TokenTree::Ident(a), TokenTree::Group(g)]
                if a == "async" && g.delimiter() == Delimiter::Brace =>
            {
                let before = tokens.len().checked_sub(3).and_then(|i| tokens.get(i));
                ends_a_statement(before).then(|| a.span())
            }
            _ => None,
        };
        if let Some(span) = tail_async {
            return Some(BuiltFuture::AsyncBlock(span));
        }
        match &self.sig.output {
            syn::ReturnType::Type(_, ty) if is_impl_future(ty) => {
                Some(BuiltFuture::ImplFuture(syn::spanned::Spanned::span(&**ty)))
            }
            _ => None,
        }
    }

    /// Does the function return `impl Future<..> + Send`: a promise an
    /// `async fn` would not keep in a trait (its future's `Send` is then
    /// left to each caller to prove), so the way out of a built future
    /// there is the functional form inside, not an `async fn`.
    pub fn promises_send_future(&self) -> bool {
        let syn::ReturnType::Type(_, ty) = &self.sig.output else {
            return false;
        };
        let syn::Type::ImplTrait(t) = &**ty else {
            return false;
        };
        let bound = |name: &str| {
            t.bounds.iter().any(|b| {
                matches!(b, syn::TypeParamBound::Trait(t)
                    if t.path.segments.last().is_some_and(|s| s.ident == name))
            })
        };
        bound("Future") && bound("Send")
    }

    /// The body as `Box::pin(async [move] { .. })` in a sync function: the
    /// `Box::pin` path and the `async` block.
    pub(super) fn boxed_async(&self) -> Option<(Box<Expr>, syn::ExprAsync)> {
        if self.sig.asyncness.is_some() || !mentions_pin(&self.body) {
            return None;
        }
        let block: Block = syn::parse2(self.block().into_token_stream()).ok()?;
        let Ok([Stmt::Expr(Expr::Call(call), None)]) = <[Stmt; 1]>::try_from(block.stmts) else {
            return None;
        };
        let Expr::Path(func) = &*call.func else {
            return None;
        };
        let segments: Vec<&Ident> = func.path.segments.iter().map(|s| &s.ident).collect();
        let is_box_pin =
            matches!(segments.as_slice(), [.., b, pin] if *b == "Box" && *pin == "pin");
        if !is_box_pin || call.args.len() != 1 {
            return None;
        }
        match call.args.into_iter().next() {
            Some(Expr::Async(inner)) => Some((call.func, inner)),
            _ => None,
        }
    }

    /// Which runtime's entry macro wrote this function, if one did
    /// (`#[tokio::test]`, `#[tokio::main]`, `#[actix_rt::test]`,
    /// `#[actix_web::main]`, ..): `#[retry]` was below it, and is handed the
    /// sync function it made of the `async fn`, whose body blocks on the
    /// original body in a runtime of its own.
    pub fn runtime_entry(&self) -> Option<&'static str> {
        if self.sig.asyncness.is_some() {
            return None;
        }
        self.tokio_entry().or_else(|| self.actix_entry())
    }

    /// Which of actix's entry macros wrote this function, if one did.
    /// actix-macros 0.2 (`actix_rt::main`/`test`, which actix-web's
    /// `main`/`test` call with `system = "::actix_web::rt::System"`) writes
    /// the body as one expression:
    ///
    /// ```text
    /// <::actix_rt::System>::new().block_on(async move { <the body> })   // main
    /// <::actix_rt::System>::new().block_on(async { <the body> })        // test
    /// ```
    ///
    /// Recognized by that whole shape, a qualified path to actix's `System`
    /// first (one that names `actix_rt` or `actix_web`): a sync function of
    /// the user's own that blocks on a future in a `System` of its own, or
    /// one it keeps in a variable, is retried as written.
    fn actix_entry(&self) -> Option<&'static str> {
        let tokens: Vec<TokenTree> = self.body.clone().into_iter().collect();
        let is = |tt: &TokenTree, c: char| matches!(tt, TokenTree::Punct(p) if p.as_char() == c);
        let [open, rest @ ..] = tokens.as_slice() else {
            return None;
        };
        let close = rest.iter().position(|tt| is(tt, '>'))?;
        let (path, after) = (&rest[..close], &rest[close + 1..]);
        // actix's own `System` (`::actix_rt::System`, or actix-web's
        // `::actix_web::rt::System`): a `System` of the user's, or of
        // another crate, is not actix's entry (a review: a user's own
        // `<my::System>::new().block_on(..)` was told to move `#[retry]`
        // above an actix macro it did not have)
        let actix = path
            .iter()
            .any(|tt| matches!(tt, TokenTree::Ident(i) if i == "actix_rt" || i == "actix_web"));
        let system = actix && matches!(path.last(), Some(TokenTree::Ident(i)) if i == "System");
        let [c1, c2, TokenTree::Ident(new), TokenTree::Group(unit), dot, TokenTree::Ident(block_on), TokenTree::Group(arg)] =
            after
        else {
            return None;
        };
        let called = is(open, '<')
            && system
            && is(c1, ':')
            && is(c2, ':')
            && new == "new"
            && unit.delimiter() == Delimiter::Parenthesis
            && unit.stream().is_empty()
            && is(dot, '.')
            && block_on == "block_on"
            && arg.delimiter() == Delimiter::Parenthesis;
        if !called {
            return None;
        }
        let arg: Vec<TokenTree> = arg.stream().into_iter().collect();
        let (moves, block) = match arg.as_slice() {
            [TokenTree::Ident(a), TokenTree::Group(b)] if a == "async" => (false, b),
            [TokenTree::Ident(a), TokenTree::Ident(m), TokenTree::Group(b)]
                if a == "async" && m == "move" =>
            {
                (true, b)
            }
            _ => return None,
        };
        if block.delimiter() != Delimiter::Brace {
            return None;
        }
        let web = path
            .iter()
            .any(|tt| matches!(tt, TokenTree::Ident(i) if i == "actix_web"));
        Some(match (web, moves) {
            (false, true) => "#[actix_rt::main]",
            (false, false) => "#[actix_rt::test]",
            (true, true) => "#[actix_web::main]",
            (true, false) => "#[actix_web::test]",
        })
    }

    /// Which of `#[tokio::test]` and `#[tokio::main]` wrote this function,
    /// if one did: `#[retry]` was below it, and is handed the sync function
    /// it made of the `async fn`, whose body builds a runtime and blocks on
    /// the original body. tokio-macros 2.x (`entry.rs`, `parse_knobs`; 1.x
    /// wrote the same) writes:
    ///
    /// ```text
    /// let body = async { <the body> };
    /// tokio::pin!(body);                                  // test only: the body
    /// let body: Pin<&mut dyn Future<Output = T>> = body;  // pinned on the stack
    /// #[allow(clippy::expect_used, ..)]
    /// {
    ///     use tokio::runtime::Builder;
    ///     return Builder::new_current_thread()
    ///         .enable_all()
    ///         .build()
    ///         .expect("Failed building the Runtime")
    ///         .block_on(body);
    /// }
    /// ```
    ///
    /// (`#[tokio::main]` checks the future's output type in a block where
    /// `test` pins it.) Recognized by its first tokens, `let body = async`,
    /// and a last block that calls `block_on(body)` on a runtime built
    /// with tokio's `"Failed building the Runtime"`: a sync function of the
    /// user's own that blocks on a future is retried as written.
    fn tokio_entry(&self) -> Option<&'static str> {
        let mut tokens = self.body.clone().into_iter();
        let starts = matches!(
            (tokens.next(), tokens.next(), tokens.next(), tokens.next()),
            (
                Some(TokenTree::Ident(l)),
                Some(TokenTree::Ident(b)),
                Some(TokenTree::Punct(eq)),
                Some(TokenTree::Ident(a)),
            ) if l == "let" && b == "body" && eq.as_char() == '=' && a == "async"
        );
        if !starts {
            return None;
        }
        let rest: Vec<TokenTree> = tokens.collect();
        let Some(TokenTree::Group(last)) = rest.last() else {
            return None;
        };
        if last.delimiter() != Delimiter::Brace || !builds_and_blocks_on_body(last.stream()) {
            return None;
        }
        // `test` pins the body: `tokio::pin!(body);`
        let pins = rest.windows(2).any(|w| {
            matches!(w, [TokenTree::Ident(pin), TokenTree::Punct(bang)] if pin == "pin" && bang.as_char() == '!')
        });
        Some(if pins {
            "#[tokio::test]"
        } else {
            "#[tokio::main]"
        })
    }

    /// Is the async body one awaited expression, `EXPR.await`, whose
    /// `EXPR` can be evaluated in the loop itself with the same meaning it
    /// has in an `async` block of its own?
    ///
    /// It cannot when it leaves early or suspends: `return`, `?`, `break`,
    /// `continue`, `.await`, `yield` would act on the loop or the function,
    /// not on the attempt. Nor when it holds a macro (which may expand to
    /// any of those) or an `async` block (conservatively: the tokens are
    /// looked at, not their scopes). Checked on the tokens first, so that
    /// only a body of that shape is parsed.
    ///
    /// The loop hands `EXPR` to the runtime as a function's argument, where
    /// delimiters that `.await` needed are redundant, and rustc's
    /// `unused_parens` and `unused_braces` would blame the user's tokens
    /// for them (an error under `#![deny(warnings)]`). So `(EXPR).await`
    /// (`(if c { a() } else { b() }).await`) returns `EXPR`, out of its
    /// parentheses, which mean nothing more; and `{ .. }.await` is not
    /// taken: out of its braces, the block's expression would keep its
    /// temporaries longer than the block does (in edition 2024), so that
    /// body is an attempt's `async` block as any other.
    pub fn awaited_future(&self) -> Option<AwaitedFuture> {
        let mut tokens: Vec<TokenTree> = self.body.clone().into_iter().collect();
        let ends_in_await = matches!(
            tokens.as_slice(),
            [.., TokenTree::Punct(dot), TokenTree::Ident(kw)] if dot.as_char() == '.' && kw == "await"
        );
        if !ends_in_await || tokens.len() < 3 {
            return None;
        }
        tokens.truncate(tokens.len() - 2);
        let start = tokens.first()?.span();
        let expr: TokenStream = tokens.into_iter().collect();
        if !stays_in_the_attempt(expr.clone()) {
            return None;
        }
        // The whole body must be that one expression awaited (`a + b.await`
        // awaits `b` only): parsed, it is a single `Expr::Await`.
        let block: Block = syn::parse2(self.block().into_token_stream()).ok()?;
        match <[Stmt; 1]>::try_from(block.stmts) {
            Ok([Stmt::Expr(Expr::Await(awaited), None)]) if awaited.attrs.is_empty() => {
                let expr = match *awaited.base {
                    Expr::Paren(p) if p.attrs.is_empty() => *p.expr,
                    Expr::Block(_) => return None,
                    base => base,
                };
                Some(AwaitedFuture {
                    expr,
                    start,
                    await_kw: awaited.await_token.span,
                })
            }
            _ => None,
        }
    }
}

/// The expression an async body awaits, when it is all the body: see
/// [`FnItem::awaited_future`].
pub struct AwaitedFuture {
    /// The expression, out of the parentheses `.await` needed.
    pub expr: Expr,
    /// Its first token (its opening parenthesis, if it had them): with the
    /// `await` keyword's, the span of the body's expression to rustc,
    /// where an error about the awaited value is reported.
    pub start: Span,
    /// The `await` keyword.
    pub await_kw: Span,
}

/// Do `tokens` (nested groups included) hold nothing that leaves the
/// expression or suspends it: no `return`, `?`, `break`, `continue`,
/// `await`, `yield`, `become`, `async`, and no macro call?
fn stays_in_the_attempt(tokens: TokenStream) -> bool {
    let mut previous_is_ident = false;
    let mut bang_after_ident = false;
    for tt in tokens {
        let leaves = match &tt {
            TokenTree::Ident(i) => matches!(
                i.to_string().as_str(),
                "return" | "break" | "continue" | "await" | "yield" | "become" | "async"
            ),
            TokenTree::Punct(p) => p.as_char() == '?',
            // `name!(...)`, `name![...]`, `name! {...}`, or a group that leaves
            TokenTree::Group(g) => bang_after_ident || !stays_in_the_attempt(g.stream()),
            TokenTree::Literal(_) => false,
        };
        if leaves {
            return false;
        }
        bang_after_ident =
            previous_is_ident && matches!(&tt, TokenTree::Punct(p) if p.as_char() == '!');
        previous_is_ident = matches!(tt, TokenTree::Ident(_));
    }
    true
}

/// Does the block tokio's entry macros end with (see
/// [`FnItem::tokio_entry`]) build its runtime with tokio's message and
/// call `block_on(body)`?
fn builds_and_blocks_on_body(block: TokenStream) -> bool {
    fn walk(tokens: TokenStream, built: &mut bool, blocks: &mut bool) {
        let mut previous_is_block_on = false;
        for tt in tokens {
            match &tt {
                TokenTree::Literal(l) => {
                    *built |= l.to_string() == "\"Failed building the Runtime\"";
                }
                TokenTree::Group(g) if previous_is_block_on => {
                    *blocks |=
                        g.delimiter() == Delimiter::Parenthesis && g.stream().to_string() == "body";
                }
                TokenTree::Group(g) => walk(g.stream(), built, blocks),
                _ => {}
            }
            previous_is_block_on = matches!(&tt, TokenTree::Ident(i) if i == "block_on");
        }
    }
    let (mut built, mut blocks) = (false, false);
    walk(block, &mut built, &mut blocks);
    built && blocks
}

/// How a sync function shows that it builds the future it returns: see
/// [`FnItem::built_future`].
pub enum BuiltFuture {
    /// Its body ends in an `async` block: the span of the `async`.
    AsyncBlock(Span),
    /// It returns `impl Future<..>`: the span of that type.
    ImplFuture(Span),
}

/// Does an expression statement start after `before` (the token before
/// it, `None` at the body's start): a `;`, or a block (`if .. { .. }`)?
fn ends_a_statement(before: Option<&TokenTree>) -> bool {
    match before {
        None => true,
        Some(TokenTree::Punct(p)) => p.as_char() == ';',
        Some(TokenTree::Group(g)) => g.delimiter() == Delimiter::Brace,
        Some(_) => false,
    }
}

/// Is `ty` `impl Future<..>` (with other bounds or not: `+ Send + 'a`)?
/// Is `ty` a future: `impl Future<..>`, `dyn Future<..>`, one boxed or
/// pinned (`Pin<Box<dyn Future<..> + Send>>`, `Box<dyn Future<..>>`), or
/// the `futures` crate's `BoxFuture`/`LocalBoxFuture`? Judged by the names
/// only (the macro sees no types).
fn is_impl_future(ty: &syn::Type) -> bool {
    let future_bound = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, _>| {
        bounds.iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Future"))
        })
    };
    match ty {
        syn::Type::ImplTrait(t) => future_bound(&t.bounds),
        syn::Type::TraitObject(t) => future_bound(&t.bounds),
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
                return true;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return false;
            };
            (last.ident == "Pin" || last.ident == "Box")
                && args
                    .args
                    .iter()
                    .any(|arg| matches!(arg, syn::GenericArgument::Type(t) if is_impl_future(t)))
        }
        syn::Type::Group(g) => is_impl_future(&g.elem),
        syn::Type::Paren(p) => is_impl_future(&p.elem),
        _ => false,
    }
}

/// Does `pin` appear among the body's top-level tokens (cheap to check,
/// before parsing anything)?
fn mentions_pin(body: &TokenStream) -> bool {
    body.clone()
        .into_iter()
        .any(|tt| matches!(tt, TokenTree::Ident(i) if i == "pin"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn finds_a_boxed_future_written_by_hand() {
        for boxed in [
            quote!(Box::pin(async move { self.fetch().await })),
            quote!(std::boxed::Box::pin(async { 1 })),
        ] {
            let item: FnItem = syn::parse2(quote!(fn f(&self) -> F { #boxed })).unwrap();
            assert!(item.boxed_future().is_some(), "{boxed}");
        }
        for other in [
            quote!(
                fn f() -> Result<u8, E> {
                    executor::pin(async move { 1 })
                }
            ),
            quote!(
                fn f() -> F {
                    Box::pin(fetch())
                }
            ),
            quote!(
                async fn f() -> F {
                    Box::pin(async move { 1 })
                }
            ),
            quote!(
                fn f() -> F {
                    let f = Box::pin(async move { 1 });
                    f
                }
            ),
        ] {
            let item: FnItem = syn::parse2(other.clone()).unwrap();
            assert!(item.boxed_future().is_none(), "{other}");
        }
    }

    fn awaited(body: TokenStream) -> Option<String> {
        let item: FnItem = syn::parse2(quote!(async fn f() -> Result<u32, E> { #body })).unwrap();
        item.awaited_future()
            .map(|a| a.expr.into_token_stream().to_string())
    }

    #[test]
    fn finds_one_awaited_expression_that_stays_in_the_attempt() {
        assert_eq!(
            awaited(quote!(probe(host).await)).as_deref(),
            Some("probe (host)")
        );
        assert_eq!(
            awaited(quote!(
                self.client.get(&self.url, |r| r.len() != 0).send().await
            ))
            .as_deref(),
            Some("self . client . get (& self . url , | r | r . len () != 0) . send ()")
        );
        // out of the parentheses `.await` needed, which an argument does not
        assert_eq!(
            awaited(quote!((if up { probe(a) } else { probe(b) }).await)).as_deref(),
            Some("if up { probe (a) } else { probe (b) }")
        );
        assert_eq!(
            awaited(quote!((self.probe)(host).await)).as_deref(),
            Some("(self . probe) (host)")
        );
        for other in [
            quote!(probe(host).await;),
            quote!(let x = 1; probe(x).await),
            quote!(a + probe(host).await),
            quote!(!probe(host).await),
            quote!(probe(host)?.await),
            quote!(probe(host.await).await),
            quote!(probe(async { 1 }).await),
            quote!(probe(format!("{host}")).await),
            quote!(probe(if x { return Err(e) } else { 1 }).await),
            quote!(
                probe(loop {
                    break 1;
                })
                .await
            ),
            quote!(
                #[allow(unused)]
                probe(host).await
            ),
            quote!(probe(host)),
            quote!(.await),
            // a block of its own (its temporaries drop at its end)
            quote!({ probe(&host.to_string()) }.await),
            quote!(
                {
                    let h = host;
                    probe(h)
                }
                .await
            ),
        ] {
            assert_eq!(awaited(other.clone()), None, "{other}");
        }
    }

    #[test]
    fn finds_the_function_actix_entry_macros_wrote() {
        // what actix-macros 0.2.5 writes for `#[actix_rt::main]`,
        // `#[actix_rt::test]` and, with actix-web's `system`, its own two
        let body = quote!({
            fetch().await?;
            Ok(())
        });
        for (system, entry_main, entry_test) in [
            (
                quote!(::actix_rt::System),
                "#[actix_rt::main]",
                "#[actix_rt::test]",
            ),
            (
                quote!(::actix_web::rt::System),
                "#[actix_web::main]",
                "#[actix_web::test]",
            ),
        ] {
            let main =
                quote!(fn main() -> Result<(), E> { <#system>::new().block_on(async move #body) });
            let test = quote! {
                #[::core::prelude::v1::test]
                fn t() -> Result<(), E> { <#system>::new().block_on(async #body) }
            };
            for (item, entry) in [(main, entry_main), (test, entry_test)] {
                let item: FnItem = syn::parse2(item).unwrap();
                assert_eq!(item.runtime_entry(), Some(entry));
            }
        }
        // a user's own function that blocks on a future, and near misses
        for other in [
            quote!(
                fn f(s: &System) -> Result<(), E> {
                    s.block_on(async { fetch().await })
                }
            ),
            quote!(
                fn f() -> Result<(), E> {
                    System::new().block_on(async { fetch().await })
                }
            ),
            quote!(
                fn f() -> Result<(), E> {
                    <Runtime>::new().block_on(async { fetch().await })
                }
            ),
            // a `System` of the user's own, or of another crate
            quote!(
                fn f() -> Result<(), E> {
                    <my::System>::new().block_on(async { fetch().await })
                }
            ),
            quote!(
                fn f() -> Result<(), E> {
                    <::sim::System>::new().block_on(async move { a })
                }
            ),
            quote!(
                fn f() -> Result<(), E> {
                    <::actix_rt::System>::new().block_on(fut)
                }
            ),
            quote!(
                fn f() -> Result<(), E> {
                    <::actix_rt::System>::new().block_on(async { a });
                    Ok(())
                }
            ),
            quote!(
                async fn f() -> Result<(), E> {
                    <::actix_rt::System>::new().block_on(async { a })
                }
            ),
        ] {
            let item: FnItem = syn::parse2(other.clone()).unwrap();
            assert_eq!(item.runtime_entry(), None, "{other}");
        }
    }

    #[test]
    fn finds_the_function_tokio_entry_macros_wrote() {
        // what tokio-macros 2.7 writes for `#[tokio::test]` and `#[tokio::main]`
        let test = quote! {
            #[::core::prelude::v1::test]
            fn t() -> Result<(), E> {
                let body = async { fetch().await?; Ok(()) };
                tokio::pin!(body);
                let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = Result<(), E>>> = body;
                #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return, clippy::unwrap_in_result)]
                {
                    use tokio::runtime::Builder;
                    return Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("Failed building the Runtime")
                        .block_on(body);
                }
            }
        };
        let main = quote! {
            fn main() -> Result<(), E> {
                let body = async { fetch().await?; Ok(()) };
                let body = {
                    if false {
                        let _: &dyn ::core::future::Future<Output = Result<(), E>> = &body;
                    }
                    body
                };
                #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return, clippy::unwrap_in_result)]
                {
                    use tokio::runtime::Builder;
                    return Builder::new_multi_thread()
                        .enable_all()
                        .build()
                        .expect("Failed building the Runtime")
                        .block_on(body);
                }
            }
        };
        for (item, entry) in [(test, "#[tokio::test]"), (main, "#[tokio::main]")] {
            let item: FnItem = syn::parse2(item).unwrap();
            assert_eq!(item.runtime_entry(), Some(entry));
        }
        // a function of the user's own that blocks on a future, and an async fn
        for other in [
            quote!(
                fn f(rt: &Runtime) -> Result<(), E> {
                    let body = async { fetch().await };
                    rt.block_on(body)
                }
            ),
            quote!(
                fn f() -> Result<(), E> {
                    let body = async { fetch().await };
                    {
                        return Runtime::new().expect("no runtime").block_on(body);
                    }
                }
            ),
            quote!(
                async fn f() -> Result<(), E> {
                    let body = async { 1 };
                    {
                        return rt().expect("Failed building the Runtime").block_on(body);
                    }
                }
            ),
            // tokio's message, but the block blocks on another future
            quote!(
                fn f() -> Result<(), E> {
                    let body = async { fetch().await };
                    {
                        return rt().expect("Failed building the Runtime").block_on(other);
                    }
                }
            ),
        ] {
            let item: FnItem = syn::parse2(other.clone()).unwrap();
            assert_eq!(item.runtime_entry(), None, "{other}");
        }
    }

    #[test]
    fn sees_a_send_promise_on_an_impl_future() {
        let promises = |item: TokenStream| {
            let item: FnItem = syn::parse2(item).unwrap();
            item.promises_send_future()
        };
        assert!(promises(quote!(
            fn f(&self) -> impl Future<Output = Result<u8, E>> + Send {
                async move { Ok(1) }
            }
        )));
        assert!(promises(quote!(
            fn f() -> impl core::marker::Send + std::future::Future<Output = R> {
                async { Ok(1) }
            }
        )));
        for item in [
            quote!(
                fn f() -> impl Future<Output = R> {
                    async { Ok(1) }
                }
            ),
            quote!(
                fn f() -> impl Iterator<Item = u8> + Send {
                    iter()
                }
            ),
            quote!(
                fn f() -> Pin<Box<dyn Future<Output = R> + Send>> {
                    Box::pin(fetch())
                }
            ),
            quote!(
                async fn f() -> Result<u8, E> {
                    Ok(1)
                }
            ),
        ] {
            assert!(!promises(item.clone()), "{item}");
        }
    }

    #[test]
    fn finds_a_future_built_by_a_sync_function() {
        let built = |item: TokenStream| {
            let item: FnItem = syn::parse2(item).unwrap();
            match item.built_future() {
                Some(BuiltFuture::AsyncBlock(_)) => "async block",
                Some(BuiltFuture::ImplFuture(_)) => "impl Future",
                None => "none",
            }
        };
        for (item, expected) in [
            (
                quote!(
                    fn f() -> F {
                        async move { 1 }
                    }
                ),
                "async block",
            ),
            (
                quote!(
                    fn f() -> F {
                        async { 1 }
                    }
                ),
                "async block",
            ),
            (
                quote!(
                    fn f() -> F {
                        log();
                        async move { 1 }
                    }
                ),
                "async block",
            ),
            (
                quote!(
                    fn f() -> F {
                        if x {
                            y()
                        }
                        async { 1 }
                    }
                ),
                "async block",
            ),
            (
                quote!(
                    fn f() -> impl Future<Output = R> + Send {
                        fetch()
                    }
                ),
                "impl Future",
            ),
            (
                quote!(
                    fn f() -> impl std::future::Future<Output = R> {
                        fetch()
                    }
                ),
                "impl Future",
            ),
            // a boxed or pinned future, or the `futures` crate's alias
            (
                quote!(
                    fn f(x: u32) -> Pin<Box<dyn Future<Output = R> + Send + 'static>> {
                        Box::pin(inner(x))
                    }
                ),
                "impl Future",
            ),
            (
                quote!(
                    fn f() -> std::pin::Pin<Box<dyn std::future::Future<Output = R>>> {
                        make()
                    }
                ),
                "impl Future",
            ),
            (
                quote!(
                    fn f() -> BoxFuture<'static, R> {
                        inner().boxed()
                    }
                ),
                "impl Future",
            ),
            // a boxed closure, and a result holding a future, are not
            (
                quote!(
                    fn f() -> Box<dyn Fn() -> Result<u8, E>> {
                        Box::new(g)
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f() -> Result<Pin<Box<dyn Future<Output = u8>>>, E> {
                        Ok(Box::pin(g()))
                    }
                ),
                "none",
            ),
            // an `async` block that is not the body's tail, or not alone there
            (
                quote!(
                    fn f() -> Result<u8, E> {
                        let a = async { 1 };
                        Ok(1)
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f() -> Result<F, E> {
                        Ok(async { 1 })
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f() -> F {
                        spawn(async { 1 })
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f() -> F {
                        move || async { 1 }
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f() -> Result<impl Display, E> {
                        Ok(1)
                    }
                ),
                "none",
            ),
            // a body ending in a block of its own: `match`, `if .. else`,
            // `unsafe`, after a statement or not
            (
                quote!(
                    fn f(x: u8) -> Result<u8, E> {
                        match x {
                            0 => Err(E),
                            n => Ok(n),
                        }
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f(x: u8) -> Result<u8, E> {
                        let y = x + 1;
                        match y {
                            0 => Err(E),
                            n => Ok(n),
                        }
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f(x: u8) -> Result<u8, E> {
                        if x > 0 {
                            Ok(x)
                        } else {
                            Err(E)
                        }
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f(x: u8) -> Result<u8, E> {
                        log();
                        return Ok(x);
                    }
                ),
                "none",
            ),
            (
                quote!(
                    fn f(x: u8) -> Result<u8, E> {
                        return Ok(x);
                    }
                ),
                "none",
            ),
            // a future type in parentheses, or from a macro (in rustc's
            // invisible group); a `BoxFuture` reached by a qualified path is not
            (
                quote!(
                    fn f() -> (impl Future<Output = R>) {
                        fetch()
                    }
                ),
                "impl Future",
            ),
            (
                {
                    let ty =
                        proc_macro2::Group::new(Delimiter::None, quote!(impl Future<Output = R>));
                    quote!(
                        fn f() -> #ty {
                            fetch()
                        }
                    )
                },
                "impl Future",
            ),
            (
                quote!(
                    fn f() -> <S as Tr>::BoxFuture {
                        fetch()
                    }
                ),
                "none",
            ),
            (
                quote!(
                    async fn f() -> Result<u8, E> {
                        async { 1 }
                    }
                ),
                "none",
            ),
        ] {
            assert_eq!(built(item.clone()), expected, "{item}");
        }
    }
}
