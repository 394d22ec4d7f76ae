//! The annotated function as the attribute needs it: its attributes,
//! visibility and signature parsed, its body kept as tokens.
//!
//! Parsing the body into syn's statement and expression types was half of
//! the attribute's own run time, for nothing: the loop emits the body as
//! it came. Only a body written by `#[async_trait]` is looked into (also
//! as `#[tracing::instrument]` rewrites it), and only when it looks like
//! one (see [`FnItem::async_trait_body`]), a short async body that ends
//! in `.await` (see [`FnItem::awaited_future`]), and the body
//! `#[tokio::test]` or `#[tokio::main]` writes (see [`FnItem::tokio_entry`]).

use proc_macro2::{Delimiter, Group, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};
use syn::parse::{Parse, ParseStream};

use crate::diag::SpanRange;
use syn::{
    braced, Attribute, Block, Expr, FnArg, Ident, Pat, ReceiverKind, Signature, Stmt, Visibility,
};

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
                FnArg::Typed(t) => {
                    let before = found.len();
                    mut_bindings(&t.pat, is_reference(&t.ty), &mut found);
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
                    pat => mut_bindings(pat, false, &mut found),
                }
            }
        }
        found
    }

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
    /// the return type when it is `impl Future<..>`: under `#[retry]`, a
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

    /// The body as `Box::pin(async [move] { .. })` in a sync function: the
    /// `Box::pin` path and the `async` block.
    fn boxed_async(&self) -> Option<(Box<Expr>, syn::ExprAsync)> {
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
    pub fn tokio_entry(&self) -> Option<&'static str> {
        if self.sig.asyncness.is_some() {
            return None;
        }
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

impl FnItem {
    /// A write the body certainly makes through one of its `&mut`
    /// parameters (`&mut self`, `self: &mut Self`, `name: &mut T`): the
    /// parameter's name and the place written. A hedged call cannot
    /// make it: its attempts run side by side in one closure that borrows
    /// the arguments, so they can only read through them.
    ///
    /// Only what the tokens show for certain: `&mut` of the parameter or
    /// a place in it (`&mut self.buf`, `&mut *out`), and an assignment to
    /// such a place (`self.n += 1`, `*out = x`, `out.items[0] = x`). A
    /// method call that takes `&mut self` is not seen (rustc then reports
    /// the closure, at the `hedge` key). Nothing is reported when the body
    /// has items of its own (an inner `fn` has its own `self`), nor for a
    /// name the body may bind again (after `let`, `for`, `ref`, `mut`, in
    /// a closure's or a pattern's place), where a write may be to the new
    /// binding.
    pub fn write_through_mut_param(&self) -> Option<(String, SpanRange)> {
        let names: Vec<String> = self
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Receiver(r) => match &r.kind {
                    ReceiverKind::Reference(_, _, Some(_)) => Some("self".to_string()),
                    ReceiverKind::Typed(_, ty) if is_mut_reference(ty) => Some("self".to_string()),
                    _ => None,
                },
                FnArg::Typed(t) => match &*t.pat {
                    Pat::Ident(p)
                        if p.by_ref.is_none() && p.subpat.is_none() && is_mut_reference(&t.ty) =>
                    {
                        Some(p.ident.to_string())
                    }
                    _ => None,
                },
            })
            .collect();
        if names.is_empty() || has_items(self.body.clone()) {
            return None;
        }
        let names: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| *n == "self" || !may_bind(self.body.clone(), n))
            .collect();
        find_write(self.body.clone(), &names)
    }
}

/// Is `ty` `&mut T` (in parentheses or not)?
fn is_mut_reference(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_some(),
        syn::Type::Group(g) => is_mut_reference(&g.elem),
        syn::Type::Paren(p) => is_mut_reference(&p.elem),
        _ => false,
    }
}

/// Do `tokens` (nested groups included) define items of their own (`fn`,
/// `impl`, `trait`, `mod`, `macro_rules!`), whose `self` and names are not
/// the function's?
fn has_items(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => matches!(
            i.to_string().as_str(),
            "fn" | "impl" | "trait" | "mod" | "macro_rules"
        ),
        TokenTree::Group(g) => has_items(g.stream()),
        _ => false,
    })
}

/// May `tokens` bind `name` again? Conservatively: it comes after `let`,
/// `for`, `ref`, `mut` (not `&mut`), `|` or `@`, or before `@`, `:`, `|`,
/// `=>`, `in`, or before `,` or last in its group (`Some(name)`) unless
/// borrowed or dereferenced there, as a pattern's names do (and as a
/// call's arguments do too, which only makes the check that uses it say
/// less).
fn may_bind(tokens: TokenStream, name: &str) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let punct =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    let ident = |t: Option<&TokenTree>, words: &[&str]| matches!(t, Some(TokenTree::Ident(i)) if words.contains(&i.to_string().as_str()));
    tokens.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Group(g) => may_bind(g.stream(), name),
        TokenTree::Ident(id) if id == name => {
            let before = i.checked_sub(1).and_then(|b| tokens.get(b));
            let before2 = i.checked_sub(2).and_then(|b| tokens.get(b));
            let after = tokens.get(i + 1);
            let after2 = tokens.get(i + 2);
            // (`&mut name`, `*name` are expressions at the end of a
            // group or before a `,`: `f(&mut *name, 1)`)
            let borrowed = punct(before, '*') || (ident(before, &["mut"]) && punct(before2, '&'));
            ident(before, &["let", "for", "ref"])
                || (ident(before, &["mut"]) && !punct(before2, '&'))
                || punct(before, '|')
                || punct(before, '@')
                || (after.is_none() && !borrowed)
                || punct(after, '@')
                || (punct(after, ':') && !punct(after2, ':'))
                || punct(after, '|')
                || (punct(after, ',') && !borrowed)
                || (punct(after, '=') && punct(after2, '>'))
                || ident(after, &["in"])
        }
        _ => false,
    })
}

/// The first write (see [`FnItem::write_through_mut_param`]) in `tokens`
/// (nested groups included) through one of `names`: the name, and the
/// place written (with its `&mut` or `*`s).
fn find_write(tokens: TokenStream, names: &[&str]) -> Option<(String, SpanRange)> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let punct_at = |i: usize| match tokens.get(i) {
        Some(TokenTree::Punct(p)) => Some(p),
        _ => None,
    };
    for (i, tt) in tokens.iter().enumerate() {
        let name = match tt {
            TokenTree::Group(g) => {
                if let Some(found) = find_write(g.stream(), names) {
                    return Some(found);
                }
                continue;
            }
            TokenTree::Ident(id) => id.to_string(),
            _ => continue,
        };
        if !names.contains(&name.as_str()) {
            continue;
        }
        // the start of a place, not a field or path segment of that name
        let before = i.checked_sub(1).and_then(punct_at);
        if before.is_some_and(|p| p.as_char() == '.' || p.as_char() == ':') {
            continue;
        }
        // the place: the name, its fields (`.buf`, `.0`) and indexes
        // (`[i]`), not a method call's result
        let mut end = i + 1;
        loop {
            match (tokens.get(end), tokens.get(end + 1), tokens.get(end + 2)) {
                (
                    Some(TokenTree::Punct(dot)),
                    Some(TokenTree::Ident(_) | TokenTree::Literal(_)),
                    next,
                ) if dot.as_char() == '.'
                    && !matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) =>
                {
                    end += 2;
                }
                (Some(TokenTree::Group(g)), _, _) if g.delimiter() == Delimiter::Bracket => {
                    end += 1;
                }
                _ => break,
            }
        }
        let last = tokens
            .get(end - 1)
            .map_or_else(|| tt.span(), TokenTree::span);
        // `*name`: back over the `*`s
        let mut start = i;
        while start
            .checked_sub(1)
            .and_then(punct_at)
            .is_some_and(|p| p.as_char() == '*')
        {
            start -= 1;
        }
        let first = tokens.get(start).map_or_else(|| tt.span(), TokenTree::span);
        // `&mut name`, `&mut *name`, `&mut name.buf`, the place ending the
        // operand: not `&mut name.buf.iter()`, `&mut *self.m.lock()?` or
        // `&mut self::make()`, a `&mut` of a temporary or a guard, which
        // reads the place only
        let ends_operand = match tokens.get(end) {
            Some(TokenTree::Punct(p)) => !matches!(p.as_char(), '.' | ':' | '?'),
            Some(TokenTree::Group(g)) => g.delimiter() != Delimiter::Parenthesis,
            _ => true,
        };
        let is_mut = matches!(start.checked_sub(1).and_then(|b| tokens.get(b)), Some(TokenTree::Ident(m)) if m == "mut");
        if let (true, true, Some(amp)) = (
            is_mut,
            ends_operand,
            start.checked_sub(2).and_then(punct_at),
        ) {
            if amp.as_char() == '&' {
                return Some((name, SpanRange::new(amp.span(), last)));
            }
        }
        // assigned to: `name.n += 1`, `*name = x` (not `name = ..`, which
        // binds the parameter to another reference)
        if (end > i + 1 || start < i) && assigns(tokens.get(end..).unwrap_or_default()) {
            return Some((name, SpanRange::new(first, last)));
        }
    }
    None
}

/// Do `tokens` start with an assignment operator: `=` (not `==` or `=>`),
/// or `+=`, `-=`, `*=`, `/=`, `%=`, `^=`, `&=`, `|=`, `<<=`, `>>=`?
fn assigns(tokens: &[TokenTree]) -> bool {
    let p = |i: usize| match tokens.get(i) {
        Some(TokenTree::Punct(p)) => Some((p.as_char(), p.spacing())),
        _ => None,
    };
    match (p(0), p(1), p(2)) {
        (Some(('=', Spacing::Alone)), _, _) => true,
        (Some((c, Spacing::Joint)), Some(('=', Spacing::Alone)), _) => "+-*/%^&|".contains(c),
        (Some(('<', Spacing::Joint)), Some(('<', Spacing::Joint)), Some(('=', _)))
        | (Some(('>', Spacing::Joint)), Some(('>', Spacing::Joint)), Some(('=', _))) => true,
        _ => false,
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
fn is_impl_future(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::ImplTrait(t) => t.bounds.iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Future"))
        }),
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
}

/// Adds the names `pat` binds by value with `mut` (`mut body`, `(mut a, b)`)
/// or `ref mut` (`ref mut buf`, `(ref mut a, b)`). A `ref mut` into what a
/// reference points at (under a `&mut` pattern, or in a parameter of a
/// reference type, `ty_is_ref`) is not: changes through it are meant to
/// last, as through any `&mut T` argument.
fn mut_bindings(pat: &Pat, ty_is_ref: bool, found: &mut Vec<MutBinding>) {
    let top = pat;
    // each pattern, and whether it is under a `&` or `&mut` pattern
    let mut stack = vec![(pat, ty_is_ref)];
    while let Some((pat, behind_ref)) = stack.pop() {
        match pat {
            Pat::Ident(p) => {
                // the whole parameter (which `clone` can name), or a part
                let whole = core::ptr::eq(pat, top) && p.subpat.is_none();
                let kind = match (&p.mutability, &p.by_ref) {
                    (Some(_), Some(_)) if behind_ref => None,
                    (Some(_), Some(_)) if whole => Some(MutKind::RefMut),
                    (Some(_), Some(_)) => Some(MutKind::RefMutInPattern),
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

/// Is `ty` a reference type (`&T`, `&mut T`, in parentheses or not)?
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

/// Is `ty` a path whose last segment is `Transaction` (`sqlx::Transaction<'_,
/// Postgres>`, `Transaction<'_>`)? Judged by the name only: the macro sees
/// no types.
fn names_transaction(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Transaction"),
        syn::Type::Group(g) => names_transaction(&g.elem),
        syn::Type::Paren(p) => names_transaction(&p.elem),
        _ => false,
    }
}

fn is_reference(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(_) => true,
        syn::Type::Group(g) => is_reference(&g.elem),
        syn::Type::Paren(p) => is_reference(&p.elem),
        _ => false,
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

    /// The parameter [`FnItem::write_through_mut_param`] finds written
    /// through in `body` under the signature `sig` (where the write is, is
    /// a ui test's: these tokens' spans are all the same).
    fn write(sig: &str, body: &str) -> Option<String> {
        let item: FnItem = syn::parse_str(&format!("{sig} {{ {body} }}")).unwrap();
        item.write_through_mut_param().map(|(name, _)| name)
    }

    #[test]
    fn finds_a_certain_write_through_a_mut_parameter() {
        let method = "async fn f(&mut self, id: u32) -> Result<u32, E>";
        let typed = "async fn f(self: &mut Self) -> Result<u32, E>";
        let param = "async fn f(out: &mut Vec<u8>, n: u32) -> Result<u32, E>";
        for (sig, body, name) in [
            (method, "call(&mut self.0).await", "self"),
            (method, "self.n += 1; Ok(self.n)", "self"),
            (typed, "self.items[0] = 1; Ok(1)", "self"),
            (method, "*self = Self::new(); Ok(1)", "self"),
            (method, "let x = { self.a.b <<= 2; 1 }; Ok(x)", "self"),
            (param, "fill(&mut *out).await", "out"),
            (param, "out.len = n; Ok(n)", "out"),
            (param, "*out = vec![1]; Ok(n)", "out"),
            // `as` binds looser than `&mut`: the place is borrowed mutably
            (method, "let p = &mut self.n as *mut u32; Ok(1)", "self"),
        ] {
            assert_eq!(write(sig, body).as_deref(), Some(name), "{body}");
        }
        for (sig, body) in [
            // reads, and comparisons
            (method, "Ok(self.n + id)"),
            (
                method,
                "if self.n == id || self.n <= 3 { Ok(1) } else { Ok(self.n) }",
            ),
            // a method call (whether it takes `&mut self` is not seen)
            (param, "out.push(1); Ok(n)"),
            (method, "self.get().n = 1; Ok(1)"),
            // a field of something else, of the same name
            (param, "other.out.len = 1; Ok(n)"),
            // `&self` is read only
            (
                "async fn f(&self) -> Result<u32, E>",
                "call(&mut self.0).await",
            ),
            // the name bound again: the write may be to the new binding
            (param, "let mut out = Vec::new(); fill(&mut out).await"),
            (param, "for out in list { out.len = 1; } Ok(n)"),
            (param, "items.iter_mut().for_each(|out| out.len = 1); Ok(n)"),
            // an item of the body's own, with its own `self`
            (
                method,
                "impl Counter { fn bump(&mut self) { self.n += 1; } } Ok(1)",
            ),
            // no `&mut` parameter
            (
                "async fn f(out: Vec<u8>) -> Result<u32, E>",
                "out.len = 1; Ok(1)",
            ),
            // a `&mut` of a temporary or a guard made from the place: a read
            (method, "fill(&mut *self.m.lock().unwrap()).await"),
            (method, "fill(&mut self.m.lock().unwrap()).await"),
            (method, "read_one(&mut self.buf.as_slice())"),
            (method, "fill(&mut self.buf.clone()).await"),
            (method, "count(&mut self.buf.iter().copied())"),
            (method, "fill(&mut self::new_buf()).await"),
            (method, "fill(&mut self.try_buf()?).await"),
            (param, "read_one(&mut out.as_slice())"),
            (param, "count(&mut out.iter())"),
        ] {
            assert_eq!(write(sig, body), None, "{body}");
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
            assert_eq!(item.tokio_entry(), Some(entry));
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
        ] {
            let item: FnItem = syn::parse2(other.clone()).unwrap();
            assert_eq!(item.tokio_entry(), None, "{other}");
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
