//! The body `#[async_trait]` writes (also under `#[tracing::instrument]`):
//! recognized, so that the loop goes inside its boxed future.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Block, Expr, FnArg, Ident, Pat, Signature, Stmt};

use super::FnItem;

impl FnItem {
    /// Is the body the one `#[async_trait]` writes for an `async fn` (its
    /// `expand.rs`, `transform_block`)?
    ///
    /// ```text
    /// Box::pin(async move {
    ///     if let Some(__ret) = None::<T> { return __ret; }   // pins the output type
    ///     let __self = self;                                  // the argument rebinds:
    ///     let key = key;                                      // each parameter by name,
    ///     let (a, b) = { let __arg2 = __arg2; __arg2 };       // a pattern's positional one
    ///     let __ret: T = { <the method's body> };
    ///     __ret
    /// })
    /// ```
    ///
    /// Exactly that: a `let` is a rebind only where async-trait writes them
    /// and only of a parameter under its own name, so a hand-written
    /// `Box::pin(async move { let r = n; .. })` is not taken for one (its
    /// `let`s would be moved before the loop): it is an ordinary function,
    /// which [`FnItem::boxed_future`] tells apart for its error. (Not
    /// recognized either: the shape async-trait writes for a return type
    /// naming an associated `impl Trait` type, which needs nightly Rust.)
    ///
    /// Or that block inside the future `#[tracing::instrument]` makes of
    /// it, when `#[retry]` is below `instrument` on the method: see
    /// [`instrumented_block`]. The loop then runs inside the instrumented
    /// future, as under `#[retry]` above `instrument`: one span for the
    /// call, every attempt and wait in it.
    pub fn async_trait_body(&self) -> Option<AsyncTraitBody> {
        let (box_pin, mut future) = self.boxed_async()?;
        future.capture.as_ref()?;
        // async-trait's block is taken out of instrument's future, which
        // keeps its place (filled again by `Instrumented::around`)
        let taken = instrumented_block(&mut future).map(|b| core::mem::take(&mut b.stmts));
        let (stmts, instrumented) = match taken {
            Some(stmts) => (stmts, Some(Instrumented { future })),
            None => (future.block.stmts, None),
        };
        let mut stmts = stmts.into_iter().peekable();
        let mut each = Vec::new();
        if let Some(stmt) = stmts.next_if(is_output_pin) {
            each.push(stmt);
        }
        let mut rebinds = Vec::new();
        while let Some(stmt) = stmts.next_if(|s| is_argument_rebind(s, &self.sig)) {
            rebinds.push(stmt);
        }
        let ret = stmts.next().filter(is_let_ret)?;
        let tail = stmts.next().filter(is_ret)?;
        if stmts.next().is_some() {
            return None;
        }
        each.push(ret);
        each.push(tail);
        Some(AsyncTraitBody {
            box_pin,
            rebinds,
            each,
            instrumented,
        })
    }
}

/// What `#[async_trait]` made of a method's body: see
/// [`FnItem::async_trait_body`].
pub struct AsyncTraitBody {
    /// The `Box::pin` path, as written.
    pub box_pin: Box<Expr>,
    /// Its rebinds of the arguments: `let key = key;`, `let __self = self;`,
    /// and for a pattern `let (a, b) = { let __arg1 = __arg1; __arg1 };`
    /// (each with the parameter's `#[cfg]`s). They move the arguments into
    /// the block, so they run once, before the loop (in each attempt, the
    /// second would use a moved value); the attempts then borrow what they
    /// bound.
    pub rebinds: Vec<Stmt>,
    /// The other statements, in order, which each attempt runs: the
    /// type-pinning `if let Some(__ret) = None::<T> { return __ret; }`,
    /// `let __ret: T = { body };` and `__ret`.
    pub each: Vec<Stmt>,
    /// The future `#[tracing::instrument]` wrote around async-trait's
    /// block, when the method has it above `#[retry]`.
    pub instrumented: Option<Instrumented>,
}

/// `#[tracing::instrument]`'s future around async-trait's block (see
/// [`instrumented_block`]), that block emptied.
pub struct Instrumented {
    future: syn::ExprAsync,
}

impl Instrumented {
    /// The future, with `stmts` as the statements of async-trait's block:
    /// the span is made and entered as `instrument` wrote it, around them.
    pub fn around(mut self, stmts: TokenStream) -> TokenStream {
        match instrumented_block(&mut self.future) {
            Some(block) => {
                block.stmts = vec![Stmt::Expr(Expr::Verbatim(stmts), None)];
                self.future.into_token_stream()
            }
            // (not reached: the future was recognized by the same function)
            None => syn::Error::new(
                Span::call_site(),
                "#[retry] could not find #[async_trait]'s block in #[tracing::instrument]'s future \
                 (a bug of #[retry]: put #[retry] above #[tracing::instrument] meanwhile)",
            )
            .to_compile_error(),
        }
    }
}

/// async-trait's block in the future `#[tracing::instrument]` makes of it
/// (as tracing-attributes 0.1.31 writes it, `gen_block`: its `AsyncInfo`
/// finds async-trait's `Box::pin(async move { .. })` and instruments the
/// `async move` block), the argument of `Box::pin`:
///
/// ```text
/// async move {
///     let __tracing_attr_span = ::tracing::span!(..);
///     let __tracing_instrument_future = FUTURE;
///     if !__tracing_attr_span.is_disabled() {
///         ::tracing::Instrument::instrument(__tracing_instrument_future, __tracing_attr_span).await
///     } else {
///         __tracing_instrument_future.await
///     }
/// }
/// ```
///
/// where `FUTURE` is `async move { <async-trait's block> }`, or, with
/// `err` or `ret`, an `async move` block that awaits that one first:
/// `match async move { .. }.await { .. }` (`err`), `let x = async move
/// { .. }.await; ..` (`ret`), `let __match_scrutinee = async move { ..
/// }.await; ..` (both). Whether the block is async-trait's is for the
/// caller to check.
fn instrumented_block(future: &mut syn::ExprAsync) -> Option<&mut Block> {
    let [Stmt::Local(span), Stmt::Local(made), Stmt::Expr(Expr::If(branch), None)] =
        future.block.stmts.as_mut_slice()
    else {
        return None;
    };
    if !binds(span, "__tracing_attr_span")
        || !binds(made, "__tracing_instrument_future")
        || !tests_span_disabled(&branch.cond)
    {
        return None;
    }
    let init = made.init.as_mut().filter(|i| i.diverge.is_none())?;
    let Expr::Async(made) = &mut *init.expr else {
        return None;
    };
    made.capture.as_ref()?;
    // `err`, `ret`: the first statement awaits async-trait's block
    let wrapped = match made.block.stmts.as_slice() {
        [Stmt::Expr(Expr::Match(m), None)] => awaits_async(&m.expr),
        [Stmt::Local(l), ..] if binds(l, "x") || binds(l, "__match_scrutinee") => l
            .init
            .as_ref()
            .is_some_and(|i| i.diverge.is_none() && awaits_async(&i.expr)),
        _ => false,
    };
    if !wrapped {
        return Some(&mut made.block);
    }
    let awaited = match made.block.stmts.first_mut()? {
        Stmt::Expr(Expr::Match(m), None) => &mut *m.expr,
        Stmt::Local(l) => &mut *l.init.as_mut()?.expr,
        _ => return None,
    };
    let Expr::Await(awaited) = awaited else {
        return None;
    };
    match &mut *awaited.base {
        Expr::Async(inner) => Some(&mut inner.block),
        _ => None,
    }
}

/// Does `local` bind the plain name `name` (`let name = ..`)?
fn binds(local: &syn::Local, name: &str) -> bool {
    matches!(&local.pat, Pat::Ident(p) if p.ident == name && p.by_ref.is_none() && p.subpat.is_none())
}

/// Is `expr` `async move { .. }.await`?
fn awaits_async(expr: &Expr) -> bool {
    matches!(expr, Expr::Await(a) if matches!(&*a.base, Expr::Async(b) if b.capture.is_some()))
}

/// Is `cond` `!__tracing_attr_span.is_disabled()`?
fn tests_span_disabled(cond: &Expr) -> bool {
    let Expr::Unary(syn::ExprUnary {
        op: syn::UnOp::Not(_),
        expr,
        ..
    }) = cond
    else {
        return false;
    };
    matches!(&**expr, Expr::MethodCall(call)
        if call.method == "is_disabled"
            && call.args.is_empty()
            && matches!(&*call.receiver, Expr::Path(p) if p.path.is_ident("__tracing_attr_span")))
}

/// Is `name` a parameter the signature binds to a plain name?
fn is_param(sig: &Signature, name: &Ident) -> bool {
    sig.inputs.iter().any(|input| match input {
        FnArg::Typed(t) => matches!(&*t.pat, Pat::Ident(p) if p.ident == *name),
        FnArg::Receiver(_) => false,
    })
}

/// Is `stmt` one of `#[async_trait]`'s rebinds of a parameter of `sig`,
/// under the name it has there: `let [mut] key = key;`, `let [mut] __self =
/// self;`, `let PAT = { let __argN = __argN; __argN };` (with no
/// attribute but the parameter's `#[cfg]`s)?
fn is_argument_rebind(stmt: &Stmt, sig: &Signature) -> bool {
    let Stmt::Local(local) = stmt else {
        return false;
    };
    let Some(init) = &local.init else {
        return false;
    };
    if init.diverge.is_some() || !local.attrs.iter().all(|a| a.path().is_ident("cfg")) {
        return false;
    }
    // `from`, a plain name
    let name = |e: &Expr| match e {
        Expr::Path(p) if p.attrs.is_empty() && p.qself.is_none() => p.path.get_ident().cloned(),
        _ => None,
    };
    match (&local.pat, &*init.expr) {
        (Pat::Ident(p), from) if p.by_ref.is_none() && p.subpat.is_none() => {
            match (p.ident.to_string().as_str(), name(from)) {
                ("__self", Some(from)) => from == "self" && sig.receiver().is_some(),
                (_, Some(from)) => from == p.ident && is_param(sig, &from),
                _ => false,
            }
        }
        (_, Expr::Block(b)) if b.attrs.is_empty() && b.label.is_none() => {
            match b.block.stmts.as_slice() {
                [Stmt::Local(inner), Stmt::Expr(last, None)] => {
                    let Pat::Ident(p) = &inner.pat else {
                        return false;
                    };
                    let from = inner.init.as_ref().and_then(|i| name(&i.expr));
                    inner.attrs.is_empty()
                        && p.mutability.is_none()
                        && from.as_ref() == Some(&p.ident)
                        && name(last).as_ref() == Some(&p.ident)
                        && is_param(sig, &p.ident)
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Is `stmt` async-trait's `if let Some(__ret) = None::<T> { return __ret; }`?
fn is_output_pin(stmt: &Stmt) -> bool {
    let Stmt::Expr(Expr::If(e), None) = stmt else {
        return false;
    };
    let Expr::Let(cond) = &*e.cond else {
        return false;
    };
    let binds_ret = matches!(&*cond.pat, Pat::TupleStruct(t)
        if matches!(t.elems.first(), Some(Pat::Ident(p)) if p.ident == "__ret"));
    binds_ret && e.else_branch.is_none()
}

/// Is `stmt` async-trait's `let __ret: T = { body };`?
fn is_let_ret(stmt: &Stmt) -> bool {
    let Stmt::Local(local) = stmt else {
        return false;
    };
    let binds_ret = match &local.pat {
        Pat::Type(t) => matches!(&*t.pat, Pat::Ident(p) if p.ident == "__ret"),
        Pat::Ident(p) => p.ident == "__ret",
        _ => false,
    };
    let init_is_block = local
        .init
        .as_ref()
        .is_some_and(|i| i.diverge.is_none() && matches!(&*i.expr, Expr::Block(_)));
    binds_ret && init_is_block
}

/// Is `stmt` async-trait's closing `__ret`?
fn is_ret(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::Expr(Expr::Path(p), None) if p.path.is_ident("__ret"))
}

/// What `#[tracing::instrument]` (tracing-attributes 0.1.31, `gen_block`)
/// writes from a sync method whose body is `Box::pin(async move BLOCK)`,
/// with `err` and `ret` or not: the one hand-written copy of it, which the
/// tests of both [`FnItem::async_trait_body`] (here) and the expansion
/// under it (`expand/`) build their input with.
#[cfg(test)]
pub(crate) fn instrumented(block: TokenStream, err: bool, ret: bool) -> TokenStream {
    use quote::quote;
    let future = match (err, ret) {
        (true, true) => quote!(async move {
            let __match_scrutinee = async move #block.await;
            match __match_scrutinee {
                Ok(x) => { ::tracing::event!(Level::INFO, return = ?x); Ok(x) },
                Err(e) => { ::tracing::event!(Level::ERROR, error = %e); Err(e) }
            }
        }),
        (true, false) => quote!(async move {
            match async move #block.await {
                Ok(x) => Ok(x),
                Err(e) => { ::tracing::event!(Level::ERROR, error = %e); Err(e) }
            }
        }),
        (false, true) => quote!(async move {
            let x = async move #block.await;
            ::tracing::event!(Level::INFO, return = ?x);
            x
        }),
        (false, false) => quote!(async move #block),
    };
    quote! {
        fn get<'a>(&'a self, key: String) -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + 'a>> {
            ::std::boxed::Box::pin(async move {
                let __tracing_attr_span = ::tracing::span!(target: "t", Level::INFO, "get", key = ::tracing::field::debug(&key));
                let __tracing_instrument_future = #future;
                #[allow(clippy::implicit_return)]
                if !__tracing_attr_span.is_disabled() {
                    ::tracing::Instrument::instrument(__tracing_instrument_future, __tracing_attr_span).await
                } else {
                    __tracing_instrument_future.await
                }
            })
        }
    }
}

/// The block `#[async_trait]` writes for `async fn get(&self, key: String)
/// -> Result<u32, E> { self.fetch(&key).await }`: the `BLOCK` given to
/// [`instrumented`] by the tests here and in `expand/`.
#[cfg(test)]
pub(crate) fn async_trait_block() -> TokenStream {
    quote::quote!({
        if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u32, E>>
        {
            #[allow(unreachable_code)]
            return __ret;
        }
        let __self = self;
        let key = key;
        let __ret: Result<u32, E> = { __self.fetch(&key).await };
        #[allow(unreachable_code)]
        __ret
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn finds_the_async_trait_body_only_in_its_shape() {
        // What `#[async_trait]` writes for
        // `async fn get(&self, key: String, #[cfg(unix)] n: u8, (a, b): (u8, u8), _: u8)`.
        let item: FnItem = syn::parse2(quote! {
            fn get<'a>(&'a self, key: String, #[cfg(unix)] n: u8, __arg3: (u8, u8), __arg4: u8)
                -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + 'a>>
            {
                Box::pin(async move {
                    if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u32, E>> {
                        #[allow(unreachable_code)]
                        return __ret;
                    }
                    let __self = self;
                    let key = key;
                    #[cfg(unix)]
                    let n = n;
                    let (a, b) = { let __arg3 = __arg3; __arg3 };
                    let __arg4 = __arg4;
                    let __ret: Result<u32, E> = { let key = key; __self.fetch(&key).await };
                    #[allow(unreachable_code)]
                    __ret
                })
            }
        })
        .unwrap();
        let body = item.async_trait_body().expect("the async_trait shape");
        assert_eq!(body.box_pin.into_token_stream().to_string(), "Box :: pin");
        assert_eq!(body.rebinds.len(), 5);
        assert_eq!(body.each.len(), 3);
        // what older async-trait versions write: no type pin, no rebinds
        let item: FnItem = syn::parse2(quote! {
            fn get<'a>(&'a self) -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + 'a>> {
                Box::pin(async move {
                    let __ret: Result<u32, E> = { let __self = self; __self.fetch().await };
                    __ret
                })
            }
        })
        .unwrap();
        let body = item
            .async_trait_body()
            .expect("the older async_trait shape");
        assert!(body.rebinds.is_empty());
        assert_eq!(body.each.len(), 2);
        for other in [
            quote!(
                fn f() -> Result<u32, E> {
                    let pin = 1;
                    Ok(pin)
                }
            ),
            quote!(
                fn f() -> Result<u32, E> {
                    Box::pin(async { 1 })
                }
            ),
            quote!(
                async fn f() -> Result<u32, E> {
                    Box::pin(async move { 1 })
                }
            ),
            // hand-written: the `let`s are the body's own, not rebinds
            quote!(
                fn f(&self) -> BoxFuture<'_, Result<u32, E>> {
                    Box::pin(async move { self.fetch().await })
                }
            ),
            quote!(
                fn f(&self) -> BoxFuture<'_, Result<u32, E>> {
                    Box::pin(async move {
                        let n = self.hit();
                        let r = n;
                        r
                    })
                }
            ),
            quote!(
                fn f(&self, key: u32) -> BoxFuture<'_, Result<u32, E>> {
                    Box::pin(async move {
                        let key = key + 1;
                        let k = key;
                        Ok(k)
                    })
                }
            ),
            // a rebind of a name that is no parameter
            quote!(
                fn f(&self, y: u32) -> BoxFuture<'_, Result<u32, E>> {
                    Box::pin(async move {
                        let mut x = x;
                        let __ret: Result<u32, E> = { Ok(x) };
                        __ret
                    })
                }
            ),
            // something after `__ret`
            quote!(
                fn f(key: u32) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        let key = key;
                        let __ret: Result<u32, E> = { Ok(key) };
                        __ret;
                        Ok(1)
                    })
                }
            ),
            // near misses of async-trait's statements, each written by hand:
            // a rebind with an attribute other than `#[cfg]`
            quote!(
                fn f(key: u32) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        #[allow(unused_mut)]
                        let key = key;
                        let __ret: Result<u32, E> = { Ok(key) };
                        __ret
                    })
                }
            ),
            // `let key = #[attr] key;`, `let ref key = key;`, `let __self = x;`
            quote!(
                fn f(key: u32) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        let key = #[allow(unused)]
                        key;
                        let __ret: Result<u32, E> = { Ok(key) };
                        __ret
                    })
                }
            ),
            quote!(
                fn f(key: u32) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        let ref key = key;
                        let __ret: Result<u32, E> = { Ok(*key) };
                        __ret
                    })
                }
            ),
            quote!(
                fn f(&self, x: u32) -> BoxFuture<'_, Result<u32, E>> {
                    Box::pin(async move {
                        let __self = x;
                        let __ret: Result<u32, E> = { Ok(__self) };
                        __ret
                    })
                }
            ),
            // a pattern's rebind from a labeled block
            quote!(
                fn f(__arg0: (u32, u32)) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        let (a, b) = 'l: {
                            let __arg0 = __arg0;
                            __arg0
                        };
                        let __ret: Result<u32, E> = { Ok(a + b) };
                        __ret
                    })
                }
            ),
            // an `if let` with an `else` first
            quote!(
                fn f(cache: Option<u32>) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        if let Some(__ret) = cache {
                            return Ok(__ret);
                        } else {
                            log();
                        }
                        let __ret: Result<u32, E> = { Ok(1) };
                        __ret
                    })
                }
            ),
            // a block bound to another name, `__ret` bound to no block, and
            // something other than `__ret` at the end
            quote!(
                fn f(key: u32) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        let key = key;
                        let r = { Ok(key) };
                        __ret
                    })
                }
            ),
            quote!(
                fn f(key: u32) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        let key = key;
                        let __ret: Result<u32, E> = Ok(key);
                        __ret
                    })
                }
            ),
            quote!(
                fn f(key: u32) -> BoxFuture<'static, Result<u32, E>> {
                    Box::pin(async move {
                        let key = key;
                        let __ret: Result<u32, E> = { Ok(key) };
                        Ok(1)
                    })
                }
            ),
        ] {
            let item: FnItem = syn::parse2(other.clone()).unwrap();
            assert!(item.async_trait_body().is_none(), "{other}");
        }
    }

    #[test]
    fn finds_the_async_trait_body_under_tracing_instrument() {
        let async_trait = async_trait_block();
        for (err, ret) in [(false, false), (true, false), (false, true), (true, true)] {
            let method = instrumented(async_trait.clone(), err, ret);
            let item: FnItem = syn::parse2(method).unwrap();
            let body = item
                .async_trait_body()
                .unwrap_or_else(|| panic!("instrumented, err: {err}, ret: {ret}"));
            assert_eq!(
                body.box_pin.into_token_stream().to_string(),
                ":: std :: boxed :: Box :: pin"
            );
            assert_eq!(body.rebinds.len(), 2);
            assert_eq!(body.each.len(), 3);
            // async-trait's block goes back where it was, instrument's
            // future around it
            let future = body
                .instrumented
                .expect("instrument's future")
                .around(quote!(LOOP))
                .to_string();
            assert!(
                future.starts_with("async move { let __tracing_attr_span"),
                "{future}"
            );
            assert!(future.contains("async move { LOOP }"), "{future}");
            assert!(!future.contains("__ret"), "{future}");
        }
        // async-trait's own shape has no instrument around it
        let own: FnItem = syn::parse2(quote! {
            fn get(&self) -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + '_>> {
                Box::pin(async move {
                    let __ret: Result<u32, E> = { Ok(1) };
                    __ret
                })
            }
        })
        .unwrap();
        assert!(own
            .async_trait_body()
            .expect("async_trait")
            .instrumented
            .is_none());
        // instrument around a hand-written boxed future: still an ordinary
        // function, refused for building its future
        for hand in [
            quote!({
                let n = self.hit();
                let r = n;
                r
            }),
            quote!({ self.fetch(&key).await }),
        ] {
            for (err, ret) in [(false, false), (true, true)] {
                let item: FnItem = syn::parse2(instrumented(hand.clone(), err, ret)).unwrap();
                assert!(item.async_trait_body().is_none(), "{hand}");
                assert!(item.boxed_future().is_some(), "{hand}");
            }
        }
        // `ret`'s binding under a name instrument does not write
        let method = instrumented(async_trait.clone(), false, true)
            .to_string()
            .replace(" x ", " y ");
        let item: FnItem = syn::parse_str(&method).unwrap();
        assert!(item.async_trait_body().is_none(), "{method}");
        // the names instrument writes, and nothing else around them
        let method = instrumented(async_trait.clone(), false, false).to_string();
        for (from, to) in [
            ("__tracing_attr_span", "span"),
            ("__tracing_instrument_future", "future"),
            ("is_disabled", "is_enabled"),
        ] {
            let item: FnItem = syn::parse_str(&method.replace(from, to)).unwrap();
            assert!(item.async_trait_body().is_none(), "{from}");
        }
    }
}
