//! Stage 3: write the retry loop.
//!
//! The function keeps its signature, attributes and visibility; its body
//! becomes a loop in which each attempt runs the original body: in its own
//! closure (sync) or `async` block when it could leave early, so `return`
//! and `?` end the attempt, not the function; inline otherwise. The policy is a promoted `&'static` constant when it is
//! built from literals and presets (checked again at compile time by
//! `Policy::checked`), or the user's `policy = EXPR` evaluated per call.

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Pat, ReturnType, Stmt};

use crate::args::RetryArgs;
use crate::diag::{respan_path, Errors};
use crate::dsl::{BackoffSpec, JitterSpec};
use crate::item::{FnItem, Instrumented};
use crate::validate::{self, Base, Config, When};

/// The attribute's entry point: parse, validate, expand. On any error, the
/// function is emitted untouched beside the errors, so one mistake does not
/// cascade into many.
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: FnItem = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = syn::Error::new_spanned(
                &item,
                "#[retry] can only be applied to a function with a body: a free function, or a method in an `impl` block",
            );
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut func = func;
    let mut errors = Errors::default();
    // an error here still lets the arguments be checked (every error at once)
    let attempt_param = take_attempt_param(&mut func).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let args = RetryArgs::parse(args, &mut errors);
    match validate::check(args, &func, errors) {
        Ok(cfg) => expand(&cfg, func, attempt_param.as_ref()),
        Err(e) => {
            let mut out = e.to_compile_error();
            strip_attempt_marks(&mut func);
            out.extend(func.into_token_stream());
            out
        }
    }
}

/// A parameter marked `#[attempt]`: not part of the function's signature
/// (callers do not pass it); each attempt binds it to the
/// `retry_runtime::Attempt` it is about to make.
struct AttemptParam {
    pat: Box<Pat>,
    ty: Box<syn::Type>,
}

/// Removes the `#[attempt]` marks a refused `#[async_trait]` method kept
/// (see [`take_attempt_param`]), so that the method is emitted without an
/// attribute rustc does not know.
fn strip_attempt_marks(func: &mut FnItem) {
    for arg in &mut func.sig.inputs {
        if let syn::FnArg::Typed(t) = arg {
            t.attrs.retain(|a| !a.path().is_ident("attempt"));
        }
    }
}

/// Takes the `#[attempt]` parameter, if any, out of the signature. At most
/// one; on an error the marked parameters are left out all the same: the
/// function is emitted with the signature its callers use.
///
/// Not with `#[async_trait]`, which has already made the parameter one its
/// callers pass and rebound it in its boxed future (`let a = a;`): refused
/// before the parameter is taken out, since that shape is recognized by
/// those rebinds matching the parameters. The parameters are kept, so the
/// method is emitted as async-trait wrote it, and so are the marks until
/// then (the checks skip a marked parameter: [`strip_attempt_marks`]).
fn take_attempt_param(func: &mut FnItem) -> syn::Result<Option<AttemptParam>> {
    let is_mark = |a: &syn::Attribute| a.path().is_ident("attempt");
    let first_mark = func.sig.inputs.iter().find_map(|arg| match arg {
        syn::FnArg::Typed(t) => t.attrs.iter().find(|a| is_mark(a)),
        syn::FnArg::Receiver(_) => None,
    });
    if let Some(mark) = first_mark {
        if func.sig.asyncness.is_none() && func.async_trait_body().is_some() {
            let e = syn::Error::new_spanned(
                mark,
                "`#[attempt]` is not supported on an `#[async_trait]` method: async-trait has already made the parameter one its callers pass; retry with the context form in the method's body instead, `policy.retry(|a: Attempt| async move { .. }).context().await`, or drop `#[async_trait]` (a native `async fn` in a trait takes `#[attempt]`)",
            );
            return Err(e);
        }
    }
    let mut errors: Option<syn::Error> = None;
    let mut push_error = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    // every parameter, and whether it was marked (the mark removed)
    let mut params = Vec::new();
    let mut marked_count = 0;
    for pair in std::mem::take(&mut func.sig.inputs).into_pairs() {
        let (mut arg, punct) = pair.into_tuple();
        let mut marked = false;
        if let syn::FnArg::Typed(t) = &mut arg {
            if let Some(at) = t.attrs.iter().position(|a| a.path().is_ident("attempt")) {
                let attr = t.attrs.remove(at);
                marked = true;
                marked_count += 1;
                if marked_count > 1 {
                    push_error(syn::Error::new_spanned(
                        &attr,
                        "only one parameter can be `#[attempt]`",
                    ));
                }
            }
        }
        params.push((arg, punct, marked));
    }
    let mut found = None;
    for (arg, punct, marked) in params {
        match arg {
            syn::FnArg::Typed(t) if marked => {
                found.get_or_insert(AttemptParam {
                    pat: t.pat,
                    ty: t.ty,
                });
            }
            arg => {
                func.sig.inputs.push_value(arg);
                if let Some(p) = punct {
                    func.sig.inputs.push_punct(p);
                }
            }
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// What the function's body is, as far as the loop is concerned.
enum Shape {
    /// The body, in its braces.
    Sync(Group),
    Async(Group),
    /// A method already rewritten by `#[async_trait]`: a sync fn whose body is
    /// `Box::pin(async move { <argument rebinds>; <typed body> })`. The loop goes
    /// inside the `async move` block, after the rebinds, and retries the
    /// other statements. (With `#[tracing::instrument]` above, that block is
    /// inside the future `instrument` wrote: it stays around them.)
    AsyncTrait {
        box_pin: Box<Expr>,
        rebinds: Vec<Stmt>,
        each: Vec<Stmt>,
        instrumented: Option<Instrumented>,
    },
}

fn expand(cfg: &Config, func: FnItem, attempt_param: Option<&AttemptParam>) -> TokenStream {
    // The new body keeps the original braces' span, so the item still counts as
    // the user's code (an unused annotated function still warns, for one).
    let brace_span = func.brace.span.join();
    let shape = if func.sig.asyncness.is_some() {
        Shape::Async(func.block())
    } else if let Some(body) = func.async_trait_body() {
        Shape::AsyncTrait {
            box_pin: body.box_pin,
            rebinds: body.rebinds,
            each: body.each,
            instrumented: body.instrumented,
        }
    } else {
        Shape::Sync(func.block())
    };
    // An async body that is one awaited expression is awaited in the loop
    // itself, its future made with the kinds published (not in an `async`
    // block of its own, which costs a state of its own to poll). Not with
    // `clone = [..]` (the clones are statements) or attempt spans (the
    // future would be made outside its span). Nor with a `timeout`, whose
    // future is awaited at the key: a body of the wrong output type would
    // be reported there, on the attribute (awaited at the body's `.await`,
    // a missing `From<AttemptTimeout>` would be reported in the body as
    // well); a timer to set costs more than the block's state.
    let awaited = match shape {
        Shape::Async(_)
            if cfg.clone.is_empty() && cfg.attempt_spans != Some(true) && cfg.timeout.is_none() =>
        {
            func.awaited_future()
        }
        _ => None,
    };
    // The names bound `mut` by value (in the signature, or in
    // `#[async_trait]`'s rebinds): their clones are `mut` too.
    let mut_names: Vec<syn::Ident> = func.mut_bindings().into_iter().map(|m| m.name).collect();
    // The `&mut T` parameters the body may move: each attempt re-borrows
    // them (not in a hedged call, whose attempts may run side by side).
    let reborrowed = match &shape {
        _ if cfg.hedge.is_some() => Vec::new(),
        Shape::Sync(block) | Shape::Async(block) => {
            let output = match &func.sig.output {
                ReturnType::Type(_, ty) => Some(&**ty),
                ReturnType::Default => None,
            };
            mut_ref_params(&func.sig, output, &cfg.clone, block.stream())
        }
        Shape::AsyncTrait { each, .. } => {
            // the output the method declared: `Output = T` in async-trait's
            // `Pin<Box<dyn Future<Output = T> + Send + 'async_trait>>`
            let output = match &func.sig.output {
                ReturnType::Type(_, ty) => future_output(ty),
                ReturnType::Default => None,
            };
            mut_ref_params(&func.sig, output, &cfg.clone, quote!(#(#each)*))
        }
    };
    let FnItem {
        mut attrs,
        inner_attrs,
        vis,
        mut sig,
        ..
    } = func;
    // A `mut` parameter named in `clone` is only read (its clones are the
    // ones changed): the signature drops its `mut`, which would warn.
    for input in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(t) = input {
            if let Pat::Ident(p) = &mut *t.pat {
                if p.mutability.is_some() && cfg.clone.contains(&p.ident) {
                    p.mutability = None;
                }
            }
        }
    }
    // The body's inner attributes (`#![allow(..)]`) are not allowed where
    // the body now sits, inside a loop; they apply to the whole function,
    // so they go on it.
    for mut attr in inner_attrs {
        attr.style = syn::AttrStyle::Outer;
        attrs.push(attr);
    }
    let rt = &cfg.krate;
    let p = quote!(#rt::__private);
    // `#rt::__private` on the user's token at `span`, where an error about
    // the call is reported (`respan_path` says why `__private` keeps the
    // macro's hygiene).
    let private_at = |span: Span| respan_path(rt.to_token_stream(), "__private", span);

    let ident = |name: &str| syn::Ident::new(name, Span::mixed_site());
    let policy = ident("__retry_policy");
    let run = ident("__retry_run");
    let result = ident("__retry_result");
    let value = ident("__retry_value");
    let error = ident("__retry_error");
    let wait = ident("__retry_wait");

    // Type errors about the function's shape point at its return type.
    let ret_span = match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    };
    // An error type without `Display` is reported on it: the `E` of a
    // `Result<T, E>` as written, else the whole return type (an alias).
    let err_span = match &sig.output {
        ReturnType::Type(_, ty) => error_type_span(ty).unwrap_or(ret_span),
        ReturnType::Default => ret_span,
    };
    // The return type as the attempt's output type (`impl Trait` in it
    // erased to `_`), so that the body is checked against it as it is
    // without the attribute: its coercions happen, and a type error is
    // reported on the body's tokens, not on the loop that returns its result.
    let ret_ty = match &sig.output {
        ReturnType::Type(_, ty) => Some(expected_type(ty)),
        ReturnType::Default => None,
    };
    // (a `mut` parameter's clone is `mut` too: the attempt changes its own copy)
    // The clone shadows the parameter by design, under the name the body
    // uses, so it carries the user's span and clippy's `shadow_reuse`
    // (restriction) would see the user shadow it: allowed on this `let` alone.
    // (A parameter's `#[cfg]`s go on its clone and re-borrow: with the cfg
    // off, there is no parameter to name.)
    let clones = cfg.clone.iter().map(|name| {
        let mutability = mut_names
            .contains(name)
            .then(|| quote!(#[allow(unused_mut, clippy::shadow_reuse)] let mut));
        let binding = mutability.unwrap_or_else(|| quote!(#[allow(clippy::shadow_reuse)] let));
        let cfgs = param_cfgs(&sig, name);
        quote_spanned!(name.span()=> #(#cfgs)* #binding #name = ::core::clone::Clone::clone(&#name);)
    });
    // `attempt_spans = true`: each attempt (and what the run makes of it)
    // in its `retry.attempt` span; the async attempt is instrumented.
    let spans = cfg.attempt_spans == Some(true);
    // The attempt's output type is the function's: a sync closure says so
    // (`|| -> T { .. }`); an `async` block has no such syntax, and starts with
    // an unreachable `return` of a `T`, as async-trait's does. `?` in the body
    // converts into it.
    let pin_output = match (&shape, &ret_ty) {
        (Shape::Async(_), Some(ty)) => {
            let ret = ident("__retry_ret");
            quote! {
                if let ::core::option::Option::Some(#ret) = ::core::option::Option::None::<#ty> {
                    #[allow(unreachable_code)]
                    return #ret;
                }
            }
        }
        _ => quote!(),
    };
    let closure_output = ret_ty.as_ref().map(|ty| quote!(-> #ty));
    // A `&mut T` argument passed on by value to a generic (`W: Write`,
    // `BufReader::new(r)`) is moved there, not re-borrowed as it is where a
    // `&mut T` is expected: the next attempt would find it gone. Each
    // attempt re-borrows it under its own name, so the body moves (or
    // borrows) the re-borrow. (The re-borrow shadows the parameter by
    // design, with the user's span: clippy's `shadow_*` restriction lints
    // are allowed on this `let` alone.)
    let reborrows = reborrowed.iter().map(|name| {
        let allow = quote!(#[allow(clippy::shadow_same, clippy::shadow_reuse)]);
        let cfgs = param_cfgs(&sig, name);
        quote_spanned!(name.span()=> #(#cfgs)* #allow let #name = &mut *#name;)
    });
    let reborrows = quote!(#(#reborrows)*);
    let attempt_body = match &shape {
        Shape::Sync(block) | Shape::Async(block) => quote! {
            #pin_output
            #reborrows
            #(#clones)*
            #block
        },
        // async_trait's statements pin their own output type; its rebinds
        // of the arguments go before the loop.
        Shape::AsyncTrait { each, .. } => quote! {
            #reborrows
            #(#clones)*
            #(#each)*
        },
    };

    // the attempt's result type, whose error a `retry_if` predicate takes
    let result_of_attempt = match (&shape, &sig.output) {
        (Shape::AsyncTrait { .. }, ReturnType::Type(_, ty)) => future_output(ty).map(expected_type),
        _ => ret_ty.clone(),
    };
    let policy_expr = policy_expr(cfg, &p, result_of_attempt.as_ref());
    // A breaker or budget is a `static` with interior mutability, which a
    // `const` may only name from Rust 1.90 on: attach them outside the const.
    let guards = guards(cfg);
    let is_async = !matches!(shape, Shape::Sync(_));
    // An async loop keeps a constant policy as a closure that returns it;
    // its attempts read their published kinds from it (`in_const_scope`).
    // Not a policy with a `retry_if` predicate: the predicate's type (a
    // `Self::pred` or `pred::<T>` in a generic function, a closure there)
    // may involve the function's generic parameters, which the closure's
    // `&'static Policy<..>` would then require to be `'static` (E0310); such
    // a policy is bound as the sync loop binds it.
    let const_closure = !matches!(&cfg.base, Base::Policy(_))
        && guards.is_empty()
        && is_async
        && !matches!(&cfg.when, When::If(_));
    let policy_fn = const_closure.then(|| policy.clone());
    let (policy_binding, policy) = match (&cfg.base, guards.is_empty(), const_closure) {
        (Base::Policy(_), _, _) => (
            quote!(let #policy = &(#policy_expr #guards);),
            quote!(#policy),
        ),
        // In an async fn, a closure returning the promoted constant takes no
        // room in the future, where a reference held across awaits would.
        (_, true, true) => (
            quote!(let #policy = || &const { #policy_expr.checked() };),
            quote!(#policy()),
        ),
        (_, true, false) => (
            quote!(let #policy = &const { #policy_expr.checked() };),
            quote!(#policy),
        ),
        (_, false, _) => (
            quote!(let #policy = &(const { #policy_expr.checked() } #guards);),
            quote!(#policy),
        ),
    };
    // A policy with a circuit breaker or a throttle (`circuit = NAME`,
    // `throttle = NAME`, or a `policy = EXPR` of such a type) asks it before
    // an attempt and, when it turns the call away, returns `E::from(CircuitOpen)`
    // or `E::from(Throttled)` without calling; for a policy without one,
    // `admit` is `Ok(())` and this folds to nothing. An error type without
    // the `From` impl is reported on the key (the later one, given both).
    let reject_if_open = {
        let open = ident("__retry_open");
        let (admit_fn, span) = match (&cfg.circuit, &cfg.throttle) {
            (None, None) => ("admit", Span::call_site()),
            (Some((_, span)), None) => ("admit_circuit", *span),
            (None, Some((_, span))) => ("admit_throttle", *span),
            (Some(_), Some((_, span))) => ("admit_circuit_and_throttle", *span),
        };
        let p_admit = private_at(span);
        let admit_fn = Ident::new(admit_fn, span);
        let admit = quote_spanned!(span=> #p_admit::#admit_fn);
        quote_spanned! {span=>
            if let ::core::result::Result::Err(#open) = #admit(&mut #run, #policy) {
                return ::core::result::Result::Err(#open);
            }
        }
    };

    // Type errors about the function's shape point at the user's tokens at fault.
    let p_ret = private_at(ret_span);
    // (The argument is parenthesized so that its span, too, is the user's token.)
    let as_result = quote_spanned!(ret_span=> #p_ret::as_result((&#result)));
    // An error type without `Display` is told so once, on it: by
    // `error_displays`, whose argument is a block at the error type (a
    // block keeps its span where parentheses would not), as is the result
    // (or error) given to the runtime call that needs `Display` too, so
    // that rustc reports that call's unmet bound (implied by
    // `DisplayError`'s) at the same place, which it then leaves out.
    let at_err = |tokens: TokenStream| {
        let mut block = Group::new(Delimiter::Brace, tokens);
        block.set_span(err_span);
        block
    };
    let result_at_err = at_err(quote!(&#result));
    let error_at_err = at_err(quote!(#error));
    let p_err = private_at(err_span);
    let error_displays = quote_spanned!(err_span=> #p_err::error_displays(#result_at_err));
    // A body that reads its attempt has each failure decided on the full
    // path, which keeps its kind for the next attempt's `previous_kind`.
    let (failed_fn, next_wait_fn) = if attempt_param.is_some() {
        ("failed_in_full", "next_wait_in_full")
    } else {
        ("failed", "next_wait")
    };
    let failed_fn = Ident::new(failed_fn, cfg.when_span);
    let next_wait_fn = Ident::new(next_wait_fn, cfg.when_span);
    let failed = quote_spanned!(cfg.when_span=> #run.#failed_fn(#policy, #error_at_err));
    let decide = match &cfg.retry_if_ok {
        // One runtime call decides; the `as_result` beside it is only there
        // to report a return type that is not a `Result` on that type.
        None => {
            let next_wait =
                quote_spanned!(cfg.when_span=> #run.#next_wait_fn(#policy, #result_at_err));
            quote! {
                #[allow(unused_parens)]
                let _ = #as_result;
                #[allow(unused_braces)]
                let _ = #error_displays;
                #[allow(unused_braces)]
                let #wait = match #next_wait {
                    ::core::option::Option::Some(#wait) => #wait,
                    ::core::option::Option::None => return #result,
                };
            }
        }
        // `retry_if_ok` looks at the value: the loop matches the result itself.
        Some(pred) => quote! {
            #[allow(unused_braces)]
            let _ = #error_displays;
            #[allow(unused_parens, unused_braces)]
            let #wait = match #as_result {
                ::core::result::Result::Ok(#value) => {
                    if #pred(#value) {
                        match #run.rejected(#policy) {
                            #p::Decision::Retry(#wait) => #wait,
                            #p::Decision::GiveUp(_) => return #result,
                        }
                    } else {
                        #run.succeeded(#policy);
                        return #result;
                    }
                }
                ::core::result::Result::Err(#error) => match #failed {
                    #p::Decision::Retry(#wait) => #wait,
                    #p::Decision::GiveUp(_) => return #result,
                },
            };
        },
    };

    // With an `#[attempt]` parameter, each attempt binds it first (the
    // type as written, so a wrong one is reported on it). The run keeps the
    // kind of each failure from the verdict it decides by, for the next
    // attempt's `previous_kind`.
    let bind_attempt = match attempt_param {
        Some(AttemptParam { pat, ty }) => quote! {
            let #pat: #ty = #p::next_attempt(&mut #run, #policy);
        },
        None => quote!(),
    };
    let attempt_span = ident("__retry_span");
    let entered = ident("__retry_entered");
    // In its span (with `attempt_spans = true`), the attempt's future is
    // instrumented; the `.await` keeps the `timeout` key's span, where a
    // missing `From<AttemptTimeout>` is reported.
    let in_span = |fut: TokenStream, span: Span| {
        if spans {
            quote_spanned!(span=> #p::Instrument::instrument(#fut, ::core::clone::Clone::clone(&#attempt_span)).await)
        } else {
            quote_spanned!(span=> #fut.await)
        }
    };
    // Each attempt is a future of its own, polled with the kinds the
    // policy retries published for the retried calls inside it
    // (`retry_runtime::nested`): the body's `async` block, or, for a body
    // that is one awaited expression, that expression's future, made with
    // the kinds published too. (A body used to run inline in the loop
    // when it could not leave early; publishing needs a future to poll,
    // and one around the whole loop would hold the arguments twice.)
    // (`publish` comes before the expression: the future is made while
    // its guard is held; an expression that is not a future is reported on
    // the user's tokens, the expression and its `.await`: the call starts
    // at the expression's first token and ends at its `.await`, so that
    // rustc sees the awaited value where the body has it, and reports a
    // wrong output type there, against the result's type below)
    // The attempt's `async` block is the user's body: its `async` and its
    // braces at the body's braces (as the sync closure's are), so that a
    // by-value argument the body moves is reported on the move ("value
    // moved here, in previous iteration of loop"), not on the attribute.
    let attempt_block = {
        let mut braces = Group::new(Delimiter::Brace, attempt_body.clone());
        braces.set_span(brace_span);
        quote_spanned!(brace_span=> async #braces)
    };
    let scoped = match (&policy_fn, &awaited) {
        (Some(policy_fn), Some(a)) => {
            let (future, p_made) = (&a.expr, private_at(a.start));
            quote_spanned!(a.await_kw=> #p_made::made_in_const_scope(#policy_fn, #p::publish(#policy), #future))
        }
        (Some(policy_fn), None) => {
            quote!(#p::in_const_scope(#policy_fn, #attempt_block))
        }
        (None, Some(a)) => {
            let (future, p_made) = (&a.expr, private_at(a.start));
            quote_spanned!(a.await_kw=> #p_made::made_in_scope(#policy, #p::publish(#policy), #future))
        }
        (None, None) => quote!(#p::in_scope(#policy, #attempt_block)),
    };
    let await_span = awaited
        .as_ref()
        .map_or_else(Span::call_site, |a| a.await_kw);
    let attempt = match cfg.timeout {
        Some((d, span)) => {
            let d = duration(d, &p);
            let p_timeout = private_at(span);
            // (published inside the timeout: its bound is reported once, on the key)
            in_span(
                quote_spanned!(span=> #p_timeout::attempt_timeout::<#p_timeout::DefaultSleeper, _, _, _>(#d, #scoped)),
                span,
            )
        }
        None => in_span(scoped, await_span),
    };
    // The span, made before the attempt and entered for the decision (and
    // left before the sleep).
    let (open_span, enter_span) = if spans {
        (
            quote!(let #attempt_span = #p::attempt_span(&#run, #policy);),
            quote!(let #entered = #attempt_span.enter();),
        )
    } else {
        (quote!(), quote!())
    };
    // (a body awaited by the loop itself re-borrows in the loop)
    let awaited_reborrows = awaited.as_ref().map(|_| &reborrows);
    // A body awaited by the loop itself has no `async` block whose output
    // type is pinned: the result is of the return type, so that a body of
    // another type is reported on its expression (the `.await` and what it
    // awaits), as the block's would be, not on the `return` of the result.
    let result_ty = match (&awaited, &ret_ty) {
        (Some(_), Some(ty)) => Some(quote!(: #ty)),
        _ => None,
    };
    let async_loop = quote! {
        #policy_binding
        let mut #run = #p::Guarded::new(#policy);
        loop {
            #reject_if_open
            // The attempt's result (and so its error) goes out of scope
            // before the sleep: the future stays `Send` for a `!Send` error.
            let #wait = {
                #open_span
                #bind_attempt
                #awaited_reborrows
                let #result #result_ty = #attempt;
                #enter_span
                #decide
                #wait
            };
            if #p::should_sleep(#wait) {
                #p::default_sleep::<#p::DefaultSleeper>(#wait).await;
            }
        }
    };
    let leave_span = if spans {
        quote!(::core::mem::drop(#entered);)
    } else {
        quote!()
    };
    let sync_attempt = quote! {
        let #result = #p::attempt_sync(#policy, || #closure_output { #attempt_body });
    };
    // A hedged call: the body becomes an async closure (it borrows the
    // arguments, so its attempts can run side by side), run by the runtime.
    // Its `async |..|` is at the `hedge` key: a body that changes what it
    // borrows makes a closure the runtime cannot call again while an
    // attempt is in flight, and rustc says so ("async closure does not
    // implement `FnMut` because it captures state from its environment")
    // there, where a write it can see is refused by `validate`. (The
    // macro's hygiene, so clippy does not take the closure for the user's.)
    let hedged = cfg.hedge.map(|(_, hedge_span)| {
        let at_hedge = Span::call_site().located_at(hedge_span);
        let op = ident("__retry_op");
        let attempt_future = match cfg.timeout {
            Some((d, span)) => {
                let d = duration(d, &p);
                let p_timeout = private_at(span);
                quote_spanned!(span=> #p_timeout::attempt_timeout::<#p_timeout::DefaultSleeper, _, _, _>(#d, #attempt_block).await)
            }
            None => quote!({ #attempt_body }),
        };
        let (closure, run) = match &attempt_param {
            Some(AttemptParam { pat, ty }) => (
                quote_spanned!(at_hedge=> async |#pat: #ty| #attempt_future),
                quote!(#p::hedged_context::<#p::DefaultSleeper, _, _, _, _, _, _>(#policy, #op)),
            ),
            None => (
                quote_spanned!(at_hedge=> async || #attempt_future),
                quote!(#p::hedged::<#p::DefaultSleeper, _, _, _, _, _, _>(#policy, #op)),
            ),
        };
        quote! {
            #policy_binding
            let #op = #closure;
            #run.await
        }
    });
    let body = match shape {
        Shape::Async(_) if hedged.is_some() => hedged.unwrap_or_default(),
        Shape::Async(_) => async_loop,
        Shape::AsyncTrait {
            box_pin,
            rebinds,
            instrumented: None,
            ..
        } => {
            quote!(#box_pin(async move { #(#[allow(unused_mut)] #rebinds)* #async_loop }))
        }
        Shape::AsyncTrait {
            box_pin,
            rebinds,
            instrumented: Some(instrumented),
            ..
        } => {
            let future = instrumented.around(quote!(#(#[allow(unused_mut)] #rebinds)* #async_loop));
            quote!(#box_pin(#future))
        }
        // The common sync case: the loop is the runtime's `retry_sync`, which
        // makes the first attempt inline and retries out of line.
        Shape::Sync(_)
            if cfg.circuit.is_none()
                && cfg.throttle.is_none()
                && cfg.retry_if_ok.is_none()
                && attempt_param.is_none() =>
        {
            // Errors about the return type point at it; about the error
            // type's classification, at `retry_on` (or the preset).
            let p_when = private_at(cfg.when_span);
            let retry_sync = quote_spanned!(cfg.when_span=> #p_when::retry_sync);
            // The closure is written where an `FnMut` is expected (not bound
            // to a `let` first), so that a body moving a captured argument
            // is reported on the move (E0507, not E0525 on the attribute);
            // `returns_result` hands it on, and a return type that is not a
            // `Result` is reported on it. The closure is the user's body (its
            // `||` and braces at the body's braces): rustc names the captured
            // argument ("cannot move out of `body`, a captured variable in an
            // `FnMut` closure") only in a closure of the user's code.
            let check = quote_spanned!(ret_span=> #p_ret::returns_result);
            let mut braces = Group::new(Delimiter::Brace, attempt_body.clone());
            braces.set_span(brace_span);
            let closure = quote_spanned!(brace_span=> || #closure_output #braces);
            // (the call's parentheses too are the return type's: an error
            // about the call is reported there)
            let mut arg = Group::new(Delimiter::Parenthesis, closure);
            arg.set_span(ret_span);
            // and on through `attempt_error_displays`, at the error type
            let displays = quote_spanned!(err_span=> #p_err::attempt_error_displays);
            let mut checked = Group::new(Delimiter::Parenthesis, quote!(#check #arg));
            checked.set_span(err_span);
            quote! {
                #policy_binding
                #retry_sync(#policy, #displays #checked, &#p::DefaultSleeper)
            }
        }
        Shape::Sync(_) => quote! {
            #policy_binding
            let mut #run = #p::Guarded::new(#policy);
            loop {
                #reject_if_open
                #open_span
                #enter_span
                #bind_attempt
                #sync_attempt
                #decide
                #leave_span
                #p::sleep_sync(#wait);
            }
        },
    };

    // A sync function's attempts borrow the parameters named in `clone` (each
    // clones its own), so clippy's `needless_pass_by_value` (pedantic) would
    // ask for a reference where the body, as written, takes the value. The
    // lint is about the signature only, and only an attribute on the
    // function reaches it. (An async function's future owns its arguments.)
    let by_value = (!is_async && !cfg.clone.is_empty())
        .then(|| quote!(#[allow(clippy::needless_pass_by_value)]));
    let mut braces = Group::new(Delimiter::Brace, body);
    braces.set_span(brace_span);
    quote! {
        #(#attrs)*
        #by_value
        #vis #sig #braces
    }
}

/// The parameters written `name: &mut T` (a plain name, not `mut`, not in
/// `clone`; `#[async_trait]` keeps them so, under their names) that `body`
/// may move, as a by-value argument to a generic or a `for` loop does (a
/// `&mut T` is re-borrowed, not moved, only where a `&mut T` is expected).
///
/// Re-borrowing a parameter the body only reads through would not be
/// harmless: a borrow of it returned from the attempt
/// (`-> Result<&'a u8, E> { v.first().ok_or(E) }`) would then be a borrow
/// of the attempt's re-borrow. So an occurrence that reads through the
/// reference (`v.len()`, `v[0]`, `*v`, `&v`, `&mut v`, a field `x.v`) does
/// not count; any other does, and so does any use after a `move` in the
/// same group (a `move` closure or block takes what it names). Nor is one
/// whose own lifetime the return type can name (see [`output_may_borrow`]).
/// A wrong guess either way is a compile error, never a change of meaning.
fn mut_ref_params(
    sig: &syn::Signature,
    output: Option<&syn::Type>,
    cloned: &[Ident],
    body: TokenStream,
) -> Vec<Ident> {
    /// The `&mut` of a `&mut T` type (in parentheses or not).
    fn mut_ref(ty: &syn::Type) -> Option<&syn::TypeReference> {
        match ty {
            syn::Type::Reference(r) => r.mutability.is_some().then_some(r),
            syn::Type::Group(g) => mut_ref(&g.elem),
            syn::Type::Paren(p) => mut_ref(&p.elem),
            _ => None,
        }
    }
    // An output that may borrow from a parameter keeps that parameter as
    // it is: a re-borrow would make the returned borrow the attempt's own.
    // (Such a body cannot have moved the parameter and compiled without the
    // attribute's re-borrow either: the output's borrow and the move
    // conflict.)
    let output = output.map(OutputLifetimes::of);
    let candidates: Vec<&Ident> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(t) => match (&*t.pat, mut_ref(&t.ty)) {
                (Pat::Ident(p), Some(r))
                    if p.by_ref.is_none()
                        && p.mutability.is_none()
                        && p.subpat.is_none()
                        && !cloned.contains(&p.ident)
                        && !output
                            .as_ref()
                            .is_some_and(|o| output_may_borrow(sig, o, r.lifetime.as_ref())) =>
                {
                    Some(&p.ident)
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut moved = Vec::new();
    may_move(body, &candidates, false, &mut moved);
    candidates
        .into_iter()
        .filter(|name| moved.contains(name))
        .cloned()
        .collect()
}

/// The `#[cfg]` and `#[cfg_attr]` attributes of the parameter `name` (as
/// async-trait forwards a parameter's `#[cfg]` to its rebind): what is
/// written about the parameter carries them, so that with the cfg off it
/// names no parameter that is not there.
fn param_cfgs<'a>(sig: &'a syn::Signature, name: &Ident) -> Vec<&'a syn::Attribute> {
    let param = sig.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(t) if matches!(&*t.pat, Pat::Ident(p) if p.ident == *name) => Some(t),
        _ => None,
    });
    param.map_or_else(Vec::new, |t| {
        t.attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"))
            .collect()
    })
}

/// The lifetimes a return type writes: by name (`'a`, `'static`), and
/// whether it elides one (`&T`, `'_`, `impl Trait + '_`). (A lifetime
/// elided in a path, `Iter<u32>`, or captured by an `impl Trait` without
/// one written, is not seen.)
struct OutputLifetimes {
    named: Vec<Ident>,
    elided: bool,
}

impl OutputLifetimes {
    fn of(output: &syn::Type) -> OutputLifetimes {
        fn walk(tokens: TokenStream, out: &mut OutputLifetimes) {
            use proc_macro2::TokenTree;
            let mut tokens = tokens.into_iter().peekable();
            while let Some(tt) = tokens.next() {
                match tt {
                    TokenTree::Punct(p) if p.as_char() == '\'' => match tokens.next() {
                        Some(TokenTree::Ident(name)) if name == "_" => out.elided = true,
                        Some(TokenTree::Ident(name)) => out.named.push(name),
                        _ => {}
                    },
                    // `&T`, `&&'a T` (its outer `&`): a reference without a
                    // lifetime
                    TokenTree::Punct(p) if p.as_char() == '&' => {
                        let named = matches!(tokens.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '\'');
                        out.elided |= !named;
                    }
                    TokenTree::Group(g) => walk(g.stream(), out),
                    _ => {}
                }
            }
        }
        let mut out = OutputLifetimes {
            named: Vec::new(),
            elided: false,
        };
        walk(output.to_token_stream(), &mut out);
        out
    }
}

/// Can a `&mut` parameter whose reference has `lifetime` (`None`, or
/// `'_`: elided) be borrowed by the return type? When the output names
/// the lifetime, or one it is declared to outlive (`'a: 'b`, `-> &'b T`);
/// and when the output elides a lifetime that elision gives the
/// parameters (there is no `&self` receiver, whose lifetime it would be
/// otherwise: the one lifetime of the parameters, named or not). Another
/// parameter's lifetime, `'static` or the receiver's is not the
/// parameter's own: it can be re-borrowed then.
fn output_may_borrow(
    sig: &syn::Signature,
    output: &OutputLifetimes,
    lifetime: Option<&syn::Lifetime>,
) -> bool {
    let by_ref_receiver = sig.receiver().is_some_and(|r| match &r.kind {
        syn::ReceiverKind::Reference(..) => true,
        syn::ReceiverKind::Typed(_, ty) => mentions_reference(ty.to_token_stream()),
        _ => false,
    });
    if output.elided && !by_ref_receiver {
        return true;
    }
    let Some(lifetime) = lifetime.filter(|l| l.ident != "_") else {
        return false;
    };
    // (`&'static mut T` outlives any lifetime the output names)
    if lifetime.ident == "static" {
        return !output.named.is_empty();
    }
    // the lifetime, and those it is declared to outlive (transitively)
    let mut reach = vec![lifetime.ident.clone()];
    let mut i = 0;
    while let Some(l) = reach.get(i).cloned() {
        i += 1;
        for outlived in outlived_by(&sig.generics, &l) {
            if !reach.contains(&outlived) {
                reach.push(outlived);
            }
        }
    }
    reach.iter().any(|l| output.named.contains(l))
}

/// The lifetimes `'l` is declared to outlive: `<'l: 'a + 'b>`, `where 'l: 'a`.
fn outlived_by(generics: &syn::Generics, l: &Ident) -> Vec<Ident> {
    let params = generics.lifetimes().filter(|p| p.lifetime.ident == *l);
    let mut out: Vec<Ident> = params
        .flat_map(|p| p.bounds.iter().map(|b| b.ident.clone()))
        .collect();
    let predicates = generics.where_clause.iter().flat_map(|w| &w.predicates);
    for predicate in predicates {
        if let syn::WherePredicate::Lifetime(p) = predicate {
            if p.lifetime.ident == *l {
                out.extend(p.bounds.iter().map(|b| b.ident.clone()));
            }
        }
    }
    out
}

/// Does a type go through a reference (`&Self`, `Pin<&mut Self>`)?
fn mentions_reference(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Punct(p) => p.as_char() == '&',
        proc_macro2::TokenTree::Group(g) => mentions_reference(g.stream()),
        _ => false,
    })
}

/// The `T` of the first `Output = T` in `ty` (a boxed future's output).
fn future_output(ty: &syn::Type) -> Option<&syn::Type> {
    use syn::{GenericArgument, PathArguments, Type, TypeParamBound};
    fn in_path(path: &syn::Path) -> Option<&syn::Type> {
        path.segments.iter().find_map(|seg| match &seg.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
                GenericArgument::AssocType(a) if a.ident == "Output" => Some(&a.ty),
                GenericArgument::Type(t) => future_output(t),
                _ => None,
            }),
            _ => None,
        })
    }
    match ty {
        Type::Path(p) => in_path(&p.path),
        Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            TypeParamBound::Trait(t) => in_path(&t.path),
            _ => None,
        }),
        Type::Group(g) => future_output(&g.elem),
        Type::Paren(p) => future_output(&p.elem),
        _ => None,
    }
}

/// Adds to `moved` each of `names` that `tokens` use other than by reading
/// through them (see [`mut_ref_params`]), and each named after a `move`
/// in the same group (a `move` closure or block takes what it names);
/// `moving`: `tokens` follow a `move`.
fn may_move<'a>(
    tokens: TokenStream,
    names: &[&'a Ident],
    moving: bool,
    moved: &mut Vec<&'a Ident>,
) {
    use proc_macro2::TokenTree;
    let punct = |tt: Option<&TokenTree>, chars: &[char]| matches!(tt, Some(TokenTree::Punct(p)) if chars.contains(&p.as_char()));
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut moving = moving;
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Group(g) => may_move(g.stream(), names, moving, moved),
            TokenTree::Ident(ident) if ident == "move" => moving = true,
            TokenTree::Ident(ident) => {
                let Some(name) = names.iter().find(|n| **n == ident) else {
                    continue;
                };
                let before = i.checked_sub(1).and_then(|j| tokens.get(j));
                let after = tokens.get(i + 1);
                let mut_borrowed = matches!(before, Some(TokenTree::Ident(m)) if m == "mut")
                    && punct(i.checked_sub(2).and_then(|j| tokens.get(j)), &['&']);
                let reads = punct(before, &['&', '*', '.'])
                    || mut_borrowed
                    || punct(after, &['.'])
                    || matches!(after, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket);
                if (moving || !reads) && !moved.contains(name) {
                    moved.push(name);
                }
            }
            _ => {}
        }
    }
}

/// The span of `E` in a return type written `Result<T, E>` (any path
/// whose last segment has two type arguments: `std::result::Result<T, E>`
/// too); `None` for an alias such as `io::Result<T>`.
fn error_type_span(ty: &syn::Type) -> Option<Span> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    match (types.next(), types.next(), types.next()) {
        (Some(_), Some(err), None) => Some(err.span()),
        _ => None,
    }
}

/// `ty` as the type an attempt is expected to return: as written, with each
/// `impl Trait` in it (which only a function's signature may name) erased
/// to `_`, left for the body to decide.
fn expected_type(ty: &syn::Type) -> TokenStream {
    fn has_impl(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => has_impl(g.stream()),
            _ => false,
        })
    }
    let tokens = ty.to_token_stream();
    if !has_impl(tokens.clone()) {
        return tokens;
    }
    match syn::parse2::<syn::Type>(tokens) {
        Ok(mut ty) => {
            erase_impl_trait(&mut ty);
            ty.into_token_stream()
        }
        // (it parsed as a type once: not reached)
        Err(_) => quote!(_),
    }
}

/// Replaces each `impl Trait` in `ty` with `_`.
fn erase_impl_trait(ty: &mut syn::Type) {
    use syn::{GenericArgument, PathArguments, Type};
    let path_args = |path: &mut syn::Path| {
        for segment in &mut path.segments {
            match &mut segment.arguments {
                PathArguments::AngleBracketed(args) => {
                    for arg in &mut args.args {
                        match arg {
                            GenericArgument::Type(t) => erase_impl_trait(t),
                            GenericArgument::AssocType(a) => erase_impl_trait(&mut a.ty),
                            _ => {}
                        }
                    }
                }
                PathArguments::Parenthesized(args) => {
                    for arg in &mut args.inputs {
                        erase_impl_trait(&mut arg.ty);
                    }
                    if let ReturnType::Type(_, t) = &mut args.output {
                        erase_impl_trait(t);
                    }
                }
                PathArguments::None => {}
            }
        }
    };
    match ty {
        Type::ImplTrait(t) => {
            let underscore = syn::Token![_](t.impl_token.span);
            *ty = Type::Infer(syn::TypeInfer {
                attrs: Vec::new(),
                underscore_token: underscore,
            });
        }
        Type::Array(t) => erase_impl_trait(&mut t.elem),
        Type::Group(t) => erase_impl_trait(&mut t.elem),
        Type::Paren(t) => erase_impl_trait(&mut t.elem),
        Type::Ptr(t) => erase_impl_trait(&mut t.elem),
        Type::Reference(t) => erase_impl_trait(&mut t.elem),
        Type::Slice(t) => erase_impl_trait(&mut t.elem),
        Type::Tuple(t) => t.elems.iter_mut().for_each(erase_impl_trait),
        Type::Path(t) => {
            if let Some(q) = &mut t.qself {
                erase_impl_trait(&mut q.ty);
            }
            path_args(&mut t.path);
        }
        // `dyn Iterator<Item = impl Display>`: `dyn Iterator<Item = _>`
        Type::TraitObject(t) => {
            for bound in &mut t.bounds {
                if let syn::TypeParamBound::Trait(b) = bound {
                    path_args(&mut b.path);
                }
            }
        }
        _ => {}
    }
}

/// The policy: the base, then each key the attribute gives.
fn policy_expr(cfg: &Config, p: &TokenStream, error_of: Option<&TokenStream>) -> TokenStream {
    let mut e = match &cfg.base {
        Base::Default => quote!(#p::Policy::new()),
        Base::Preset(konst) => quote!(#p::presets::#konst),
        Base::Policy(expr) => policy_arg(expr, &cfg.krate),
    };
    if let Some(n) = cfg.attempts {
        let n = Literal::u32_unsuffixed(n);
        e = quote!(#e.with_attempts(#n));
    }
    if let Some(b) = &cfg.backoff {
        let b = backoff(b, p);
        e = quote!(#e.with_backoff(#b));
    }
    if let Some(j) = &cfg.jitter {
        let j = jitter(j, p);
        e = quote!(#e.with_jitter(#j));
    }
    if let Some(d) = cfg.max_elapsed {
        let d = duration(d, p);
        e = quote!(#e.with_max_elapsed(#d));
    }
    match &cfg.when {
        When::Inherit => {}
        When::Kinds(kinds) => {
            let span = cfg.when_span;
            e = quote_spanned!(span=> #e.retry_on(#p::KindSet::EMPTY #(.with(#p::ErrorKind::#kinds))*));
        }
        When::If(pred) => {
            let pred = match error_of {
                Some(result) => retry_if_closure(pred, result, p),
                None => pred.to_token_stream(),
            };
            e = quote_spanned!(cfg.when_span=> #e.retry_if(#pred));
        }
    }
    // A `policy = EXPR` keeps its own name unless `name` is given.
    let name = &cfg.name;
    e = match (&cfg.base, cfg.name_given) {
        (Base::Policy(_), false) => quote!(#e.with_default_name(#name)),
        _ => quote!(#e.with_name(#name)),
    };
    if let Some(hook) = &cfg.before_sleep {
        e = quote_spanned!(hook.span()=> #e.with_before_sleep(#hook));
    }
    if let Some(hook) = &cfg.on_give_up {
        e = quote_spanned!(hook.span()=> #e.with_on_give_up(#hook));
    }
    if cfg.nested_retry {
        e = quote!(#e.with_nested(#p::Nested::Retry));
    }
    if let Some((d, _)) = cfg.hedge {
        let d = duration(d, p);
        e = quote!(#e.with_hedge(#d));
    }
    if let Some(on) = cfg.attempt_spans {
        e = quote!(#e.with_attempt_spans(#on));
    }
    e
}

/// The user's `policy = EXPR`, borrowed, and the policy it is (or points
/// at) copied out: `__private::policy(&EXPR)`, whose argument is a
/// `&Policy<W, G>`, so that deref coercion takes a reference, an `Arc` or a
/// `LazyLock` as the method calls after it did, and anything else (a
/// breaker, a preset's name, an `Option<Policy>`) is reported on `EXPR` as
/// not a `Policy` ("expected `&Policy<_, _>`"), not as a method of the
/// expansion missing on it, on the whole attribute. The call is at
/// `EXPR`'s first token, so the argument is `EXPR` to rustc; in
/// parentheses only when `&` would otherwise take less than all of it
/// (`a.or(b)` needs none, `x as P` would).
fn policy_arg(expr: &Expr, krate: &syn::Path) -> TokenStream {
    let start = expr
        .to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span());
    let p_at = respan_path(krate.to_token_stream(), "__private", start);
    let binds_tighter_than_ref = matches!(
        expr,
        Expr::Path(_)
            | Expr::Field(_)
            | Expr::Call(_)
            | Expr::MethodCall(_)
            | Expr::Lit(_)
            | Expr::Reference(_)
            | Expr::Paren(_)
            | Expr::Index(_)
            | Expr::Macro(_)
            | Expr::Struct(_)
            | Expr::Tuple(_)
            | Expr::Array(_)
            | Expr::Block(_)
            | Expr::Unary(_)
            | Expr::Try(_)
            | Expr::Await(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Unsafe(_)
            | Expr::Group(_)
    );
    let borrow = quote_spanned!(Span::call_site().located_at(start)=> &);
    if binds_tighter_than_ref {
        quote_spanned!(start=> #p_at::policy(#borrow #expr))
    } else {
        quote_spanned!(start=> #p_at::policy(#borrow (#expr)))
    }
}

/// `retry_if = pred` as `|e: &<R as IsResult>::Err| -> bool { pred(e) }`,
/// with `R` the attempt's result type (the function's return type).
///
/// Given to `retry_if` as it is, the predicate's own argument type decided
/// the error type the policy retries on, and a predicate taking anything
/// but `&E` was reported as "type mismatch resolving `<Result<T, E> as
/// IsResult>::Err == u32`" on the whole attribute (sync) or the key. In
/// the closure, whose argument is the `&E` of the return type, it is a
/// call of `pred` with a `&E`, its parentheses at `pred`: rustc reports
/// "expected `&u32`, found `&E`" there, with the predicate's signature.
/// (The closure is the macro's, so clippy's `redundant_closure` leaves
/// it alone; for a function it is zero-sized and inlined, as the
/// function item was.)
///
/// A `_` (an `impl Trait` erased: `Result<impl Display, E>`) cannot be
/// inferred inside the projection: in the first type argument only (the
/// `T` of `Result<T, E>`, of `io::Result<T>`, of an alias), it is replaced
/// with `()`, which keeps what the type (or the alias) makes of `E`;
/// elsewhere, or in a type not named `Result`, the predicate is given as
/// it is.
fn retry_if_closure(pred: &syn::Path, result: &TokenStream, p: &TokenStream) -> TokenStream {
    let at = pred
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span());
    let e = Ident::new("__retry_e", Span::mixed_site().located_at(at));
    let mut args = Group::new(Delimiter::Parenthesis, quote!(#e));
    args.set_span(at);
    let result = if has_infer(result.clone()) {
        match unit_for_first_argument(result) {
            Some(result) => result,
            None => return pred.to_token_stream(),
        }
    } else {
        result.clone()
    };
    quote!(|#e: &<#result as #p::IsResult>::Err| -> bool { #pred #args })
}

/// `result` with its last segment's first type argument replaced with
/// `()`, when the segment is `Result` and that argument holds every `_`
/// of the type.
fn unit_for_first_argument(result: &TokenStream) -> Option<TokenStream> {
    let syn::Type::Path(mut path) = syn::parse2::<syn::Type>(result.clone()).ok()? else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last_mut()?;
    // `Result<T, E>`, `io::Result<T>`, an alias named `Result`: the first
    // argument is the success type (`type Res<E, T>` may say otherwise)
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
        return None;
    };
    let first = args
        .args
        .iter_mut()
        .find(|a| matches!(a, syn::GenericArgument::Type(_)))?;
    *first = syn::GenericArgument::Type(syn::parse_quote!(()));
    let replaced = path.to_token_stream();
    (!has_infer(replaced.clone())).then_some(replaced)
}

/// Has `tokens` a `_` (nested groups included)?
fn has_infer(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(id) => id == "_",
        proc_macro2::TokenTree::Group(g) => has_infer(g.stream()),
        _ => false,
    })
}

/// `.with_circuit(&NAME).with_budget(&NAME).with_throttle(&NAME)`, for the keys given.
fn guards(cfg: &Config) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some((breaker, span)) = &cfg.circuit {
        out.extend(quote_spanned!(*span=> .with_circuit(&#breaker)));
    }
    if let Some(budget) = &cfg.budget {
        out.extend(quote_spanned!(budget.span()=> .with_budget(&#budget)));
    }
    if let Some((throttle, span)) = &cfg.throttle {
        out.extend(quote_spanned!(*span=> .with_throttle(&#throttle)));
    }
    out
}

fn duration(d: std::time::Duration, p: &TokenStream) -> TokenStream {
    let secs = Literal::u64_unsuffixed(d.as_secs());
    let nanos = Literal::u32_unsuffixed(d.subsec_nanos());
    quote!(#p::Duration::new(#secs, #nanos))
}

fn backoff(b: &BackoffSpec, p: &TokenStream) -> TokenStream {
    let d = |d: &std::time::Duration| duration(*d, p);
    match b {
        BackoffSpec::None => quote!(#p::Backoff::None),
        BackoffSpec::Fixed(x) => {
            let x = d(x);
            quote!(#p::Backoff::fixed(#x))
        }
        BackoffSpec::Linear { start, cap } => {
            let (s, c) = (d(start), d(cap));
            quote!(#p::Backoff::linear(#s, #s, #c))
        }
        BackoffSpec::Exp { first, cap, factor } => {
            let (f, c) = (d(first), d(cap));
            if *factor == 2.0 {
                quote!(#p::Backoff::exponential(#f, #c))
            } else {
                let factor = Literal::f64_suffixed(*factor);
                quote!(#p::Backoff::exponential(#f, #c).with_factor(#factor))
            }
        }
        BackoffSpec::Fib { first, cap } => {
            let (f, c) = (d(first), d(cap));
            quote!(#p::Backoff::fibonacci(#f, #c))
        }
    }
}

fn jitter(j: &JitterSpec, p: &TokenStream) -> TokenStream {
    match j {
        JitterSpec::None => quote!(#p::Jitter::None),
        JitterSpec::Full => quote!(#p::Jitter::Full),
        JitterSpec::Equal => quote!(#p::Jitter::Equal),
        JitterSpec::Decorrelated => quote!(#p::Jitter::Decorrelated),
        JitterSpec::Plus(x) => {
            let x = duration(*x, p);
            quote!(#p::Jitter::Plus(#x))
        }
        JitterSpec::Percent(n) => {
            let n = Literal::u32_unsuffixed(*n);
            quote!(#p::Jitter::Proportional(#n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion of typical functions, checked in under `tests/snapshots/`
    /// so that a change to the generated code is seen in review. Regenerate
    /// with `UPDATE_SNAPSHOTS=1 cargo test -p retry-macros`.
    #[test]
    fn expansion_snapshots() {
        let cases = [
            (
                "sync_preset",
                quote!(preset = "webhook"),
                quote! {
                    /// Sends the webhook.
                    pub fn send_webhook(body: &Payload) -> Result<(), WebhookError> {
                        client().post(body)?;
                        Ok(())
                    }
                },
            ),
            (
                "async_clip",
                quote!(
                    attempts = 3,
                    backoff = "exp(1s,4s)",
                    retry_on = Timeout | Connect,
                    timeout = "10s"
                ),
                quote! {
                    async fn download_clip(id: &str) -> Result<PathBuf, ClipError> {
                        fetch(id).await
                    }
                },
            ),
            (
                "async_short_body",
                quote!(attempts = 5, backoff = "none"),
                quote! {
                    async fn ping(host: &str) -> Result<Duration, PingError> {
                        probe(host).await
                    }
                },
            ),
            (
                "sync_guarded",
                quote!(attempts = 3, circuit = UPSTREAM, budget = RETRIES),
                quote! {
                    fn fetch(key: &str) -> Result<Bytes, FetchError> {
                        store().get(key)
                    }
                },
            ),
            (
                "async_hedged",
                quote!(
                    attempts = 3,
                    hedge = "150ms",
                    retry_on = Timeout | Unavailable
                ),
                quote! {
                    async fn profile(id: &str) -> Result<Profile, ApiError> {
                        let raw = fetch(id).await?;
                        Ok(Profile::parse(&raw))
                    }
                },
            ),
            (
                "async_attempt_spans",
                quote!(attempts = 3, attempt_spans = true),
                quote! {
                    async fn quote(symbol: &str) -> Result<Quote, QuoteError> {
                        fetch(symbol).await
                    }
                },
            ),
            (
                // more than one awaited expression: the body is an `async` block
                "async_body_block",
                quote!(attempts = 4, retry_on = Unavailable),
                quote! {
                    async fn rate(pair: &str) -> Result<f64, RateError> {
                        let quote = fetch(pair).await?;
                        Ok(quote.mid())
                    }
                },
            ),
            (
                "async_runtime_policy",
                quote!(policy = POLICY),
                quote! {
                    async fn lookup(&self, key: &str) -> Result<Row, DbError> {
                        self.pool.get(key).await
                    }
                },
            ),
            (
                "sync_guarded_attempt_spans",
                quote!(attempts = 3, circuit = UPSTREAM, attempt_spans = true),
                quote! {
                    fn fetch(key: &str) -> Result<Bytes, FetchError> {
                        store().get(key)
                    }
                },
            ),
            (
                // a predicate whose type may involve the impl's generics:
                // the policy is a reference, not a closure returning one
                "async_retry_if",
                quote!(attempts = 3, retry_if = Self::transient),
                quote! {
                    async fn get(&self, key: &str) -> Result<Row, DbError> {
                        let row = self.pool.get(key).await?;
                        Ok(row)
                    }
                },
            ),
            (
                "runtime_policy_renamed_crate",
                quote!(
                    policy = self.policy,
                    retry_if_ok = is_empty,
                    clone = body,
                    crate = "rt"
                ),
                quote! {
                    fn ask(&self, body: Prompt) -> Result<Answer, AiError> {
                        self.client.ask(body)
                    }
                },
            ),
        ];
        let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
        for (name, args, item) in cases {
            let out = retry(args, item);
            let file: syn::File =
                syn::parse2(out).unwrap_or_else(|e| panic!("{name}: not valid Rust: {e}"));
            let pretty = prettyplease::unparse(&file);
            let path = format!(
                "{}/tests/snapshots/{name}.rs.snap",
                env!("CARGO_MANIFEST_DIR")
            );
            if update {
                std::fs::write(&path, &pretty).unwrap_or_else(|e| panic!("{path}: {e}"));
                continue;
            }
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{path}: {e}; run with UPDATE_SNAPSHOTS=1"));
            assert_eq!(
                pretty, expected,
                "expansion of {name} changed; review it and rerun with UPDATE_SNAPSHOTS=1"
            );
        }
    }

    /// The expansions `retry_runtime::retry`'s rustdoc shows ("What it
    /// expands to"), with the attribute that produced each.
    const DOCUMENTED: [(&str, &str); 2] = [
        (
            "async_clip",
            r#"attempts = 3, backoff = "exp(1s,4s)", retry_on = Timeout | Connect, timeout = "10s""#,
        ),
        ("sync_preset", r#"preset = "webhook""#),
    ];

    /// A snapshot as a reader wants it: without the `__private` paths and
    /// the `__retry_` prefixes of the generated names, formatted again.
    fn readable(snapshot: &str) -> String {
        let plain = snapshot
            .replace("::retry_runtime::__private::", "")
            .replace("::core::option::Option::", "")
            .replace("::core::result::Result::", "")
            .replace("__retry_", "");
        let file: syn::File = syn::parse_str(&plain).expect("still valid Rust");
        prettyplease::unparse(&file)
    }

    /// The "What it expands to" section of the runtime's rustdoc for
    /// `#[retry]` is made from the expansion snapshots, so it cannot drift
    /// from what the macro writes: this test fails when it differs, and
    /// `UPDATE_SNAPSHOTS=1 cargo test -p retry-macros` rewrites it.
    #[test]
    fn the_runtime_docs_show_the_expansion() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let mut block = vec!["/// ```text".to_string()];
        for (i, (name, args)) in DOCUMENTED.iter().enumerate() {
            let path = format!("{dir}/tests/snapshots/{name}.rs.snap");
            let snapshot = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            if i > 0 {
                block.push("///".into());
            }
            block.push(format!("/// // #[retry({args})]"));
            for line in readable(&snapshot).lines() {
                block.push(format!("/// {line}").trim_end().to_string());
            }
        }
        block.push("/// ```".into());

        let lib = format!("{dir}/../retry-runtime/src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap_or_else(|e| panic!("{lib}: {e}"));
        let lines: Vec<&str> = text.lines().collect();
        let heading = lines
            .iter()
            .position(|l| *l == "/// # What it expands to")
            .expect("the section heading in retry-runtime/src/lib.rs");
        let start = heading
            + lines[heading..]
                .iter()
                .position(|l| *l == "/// ```text")
                .expect("a text block after the heading");
        let end = start
            + 1
            + lines[start + 1..]
                .iter()
                .position(|l| *l == "/// ```")
                .expect("the block's end");
        let current: Vec<String> = lines[start..=end].iter().map(|l| l.to_string()).collect();
        if current == block {
            return;
        }
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
            out.extend(block);
            out.extend(lines[end + 1..].iter().map(|l| l.to_string()));
            let mut out = out.join("\n");
            out.push('\n');
            std::fs::write(&lib, out).unwrap_or_else(|e| panic!("{lib}: {e}"));
            return;
        }
        panic!(
            "retry-runtime/src/lib.rs shows an expansion that is no longer what #[retry] writes; \
             rerun with UPDATE_SNAPSHOTS=1. Expected:\n{}",
            block.join("\n")
        );
    }

    /// `#[attempt]` on a method `#[async_trait]` rewrote gets its own
    /// message, not the boxed-future one (the mark was taken out before the
    /// shape was looked for, so async-trait's `let a = a;` no longer matched
    /// a parameter), and the method keeps its parameters, marks stripped.
    #[test]
    fn an_attempt_parameter_on_an_async_trait_method_is_refused_as_such() {
        let method = quote! {
            fn load<'a>(&'a self, id: u32, #[attempt] a: Attempt) -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + 'a>> {
                Box::pin(async move {
                    if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u32, E>> {
                        #[allow(unreachable_code)]
                        return __ret;
                    }
                    let __self = self;
                    let id = id;
                    let a = a;
                    let __ret: Result<u32, E> = { Ok(id + a.number) };
                    #[allow(unreachable_code)]
                    __ret
                })
            }
        };
        let out = retry(quote!(attempts = 3), method).to_string();
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
        assert!(
            out.contains("is not supported on an `#[async_trait]` method"),
            "{out}"
        );
        assert!(!out.contains("returns the future it builds"), "{out}");
        assert!(out.contains("id : u32 , a : Attempt"), "{out}");
        assert!(!out.contains("# [attempt]"), "{out}");
    }

    #[test]
    fn async_trait_argument_rebinds_run_once_before_the_loop() {
        // What `#[async_trait]` writes for `async fn put(RECEIVER, v: String, (a, b): (u8, u8))`.
        let method = |receiver: TokenStream| {
            quote! {
                fn put<'a>(#receiver, v: String, __arg2: (u8, u8)) -> Pin<Box<dyn Future<Output = Result<usize, E>> + Send + 'a>> {
                    Box::pin(async move {
                        if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<usize, E>> {
                            #[allow(unreachable_code)]
                            return __ret;
                        }
                        let __self = self;
                        let v = v;
                        let (a, b) = { let __arg2 = __arg2; __arg2 };
                        let __ret: Result<usize, E> = { __self.store(v, a, b).await };
                        #[allow(unreachable_code)]
                        __ret
                    })
                }
            }
        };
        for receiver in [quote!(&'a mut self), quote!(&self), quote!(self: Box<Self>)] {
            let out = retry(quote!(attempts = 2), method(receiver)).to_string();
            assert!(!out.contains("compile_error"), "{out}");
            let loop_at = out.find("loop").expect("a loop");
            for rebind in [
                "let __self = self ;",
                "let v = v ;",
                "let (a , b) = { let __arg2 = __arg2 ; __arg2 } ;",
            ] {
                let at = out
                    .find(rebind)
                    .unwrap_or_else(|| panic!("{rebind} in {out}"));
                assert!(at < loop_at, "{rebind} runs once, before the loop: {out}");
                assert_eq!(out.matches(rebind).count(), 1, "{out}");
            }
            // the type-pinning `if let` stays in the attempt
            assert!(
                out.find("None :: < Result < usize , E > >").unwrap() > loop_at,
                "{out}"
            );
        }
    }

    #[test]
    fn under_tracing_instrument_the_loop_runs_inside_its_future() {
        // What `#[tracing::instrument]` writes from async-trait's body for
        // `async fn get(&self, key: String)`, with `err` and `ret` or not:
        // the input in which item.rs's tests find that body.
        let async_trait = crate::item::async_trait_block();
        for (err, ret) in [(false, false), (true, false), (false, true), (true, true)] {
            let method = crate::item::instrumented(async_trait.clone(), err, ret);
            let out = retry(quote!(attempts = 2), method).to_string();
            assert!(!out.contains("compile_error"), "{out}");
            let loop_at = out.find("loop").expect("a loop");
            // the span, instrument's future, async-trait's rebinds: once,
            // before the loop; the events and the instrumenting after it
            for once in [
                "let __tracing_attr_span =",
                "let __tracing_instrument_future = async move {",
                "let __self = self ;",
                "let key = key ;",
            ] {
                let at = out.find(once).unwrap_or_else(|| panic!("{once} in {out}"));
                assert!(at < loop_at, "{once} before the loop: {out}");
                assert_eq!(out.matches(once).count(), 1, "{out}");
            }
            let events = [(err, "error = % e"), (ret, "return = ? x")];
            for after in events
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, event)| *event)
                .chain([":: tracing :: Instrument :: instrument"])
            {
                assert!(out.find(after).unwrap() > loop_at, "{after}: {out}");
            }
            // the attempt: async-trait's statements, with the type pin
            assert!(
                out.find("None :: < Result < u32 , E > >").unwrap() > loop_at,
                "{out}"
            );
        }
    }

    #[test]
    fn re_borrows_the_mut_ref_parameters_the_body_may_move() {
        let sig: syn::Signature = syn::parse2(quote!(fn f(
            a: &mut A, b: &mut B, c: &C, mut d: &mut D, e: &mut E, g: &mut G,
            h: &mut H, k: &mut K, (l, m): (&mut L, &mut M), n: &mut N
        ) -> Result<(), X>))
        .unwrap();
        let unit: syn::Type = syn::parse2(quote!(Result<(), X>)).unwrap();
        let names = |cloned: &[Ident], body: TokenStream| -> Vec<String> {
            mut_ref_params(&sig, Some(&unit), cloned, body)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        // moved: `a` (an argument), `k` (a `for` loop), `n` (in a macro's
        // arguments, conservatively); read through: the others
        let body = quote! {
            write_to(a, 1); b.push(1); let _ = c; d.push(1); e[0] = 1;
            let _ = &mut g; *h = 2; for x in k {} let _ = self.a; l.x(m); log!(n)
        };
        assert_eq!(names(&[], body.clone()), ["a", "k", "n"]);
        assert_eq!(
            names(&[Ident::new("a", Span::call_site())], body),
            ["k", "n"]
        );
        // a `move` closure or block takes what it names after `move`
        assert_eq!(names(&[], quote!(xs.for_each(move |x| b.push(x)))), ["b"]);
        assert!(names(&[], quote!(a.iter().filter(move |x| **x < 3))).is_empty());
        assert!(names(&[], quote!(Ok(b.len()))).is_empty());
        // an output that may borrow from a parameter: none is re-borrowed
        let borrowed: syn::Type = syn::parse2(quote!(Result<&u8, X>)).unwrap();
        assert!(mut_ref_params(&sig, Some(&borrowed), &[], quote!(write_to(a, 1))).is_empty());
        // async-trait's boxed future: its `Output` is what counts
        let boxed: syn::Type = syn::parse2(quote!(
            Pin<Box<dyn Future<Output = Result<(), X>> + Send + 'async_trait>>
        ))
        .unwrap();
        let output = future_output(&boxed).map(|t| t.to_token_stream().to_string());
        assert_eq!(output, Some(unit.to_token_stream().to_string()));
    }

    #[test]
    fn renamed_crate_leaves_no_trace_of_retry_runtime() {
        let out = retry(
            quote!(crate = "rt", retry_on = Timeout),
            quote!(
                fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        let text = out.to_string();
        assert!(!text.contains("retry_runtime"), "{text}");
        assert!(text.contains("rt :: __private"), "{text}");
    }

    #[test]
    fn errors_keep_the_function_and_never_panic() {
        let out = retry(
            quote!(attempts = 0, bogus = 1),
            quote!(
                fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("fn f"), "{out}");
        for args in [
            quote!(attempts =),
            quote!(retry_on = ,),
            quote!(=),
            quote!(policy = fn),
        ] {
            let out = retry(
                args,
                quote!(
                    async fn f() -> Result<(), E> {
                        Ok(())
                    }
                ),
            )
            .to_string();
            assert!(
                out.contains("compile_error") && out.contains("fn f"),
                "{out}"
            );
        }
        for item in [
            quote!(
                struct S;
            ),
            quote!(),
            quote!(fn),
            quote!(impl X {}),
        ] {
            assert!(retry(quote!(), item).to_string().contains("compile_error"));
        }
    }

    #[test]
    fn re_borrows_a_mut_ref_parameter_unless_the_output_can_borrow_it() {
        // the parameters of `sig` (each passed on by value) that are re-borrowed
        let reborrowed = |sig: TokenStream| -> Vec<String> {
            let sig: syn::Signature = syn::parse2(sig).unwrap();
            let output = match &sig.output {
                ReturnType::Type(_, ty) => Some(&**ty),
                ReturnType::Default => None,
            };
            let body = quote!(w(a); w(b););
            mut_ref_params(&sig, output, &[], body)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let cases = [
            // another parameter's lifetime, `'static`: not theirs
            (
                quote!(fn f<'s>(s: &'s [u8], a: &mut A, b: &mut B) -> Result<&'s [u8], E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f(a: &mut A, b: &mut B) -> Result<&'static str, E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f<'x>(a: &'x mut A, b: &mut B) -> Result<Cow<'static, str>, E>),
                vec!["a", "b"],
            ),
            // its own lifetime, or one it outlives
            (
                quote!(fn f<'x>(a: &'x mut A, b: &mut B) -> Result<&'x u8, E>),
                vec!["b"],
            ),
            (
                quote!(fn f<'x: 'y, 'y>(a: &'x mut A, b: &'y mut B) -> Result<&'y u8, E>),
                vec![],
            ),
            (
                quote!(fn f<'x, 'y>(a: &'x mut A, b: &'y mut B) -> Result<&'y u8, E> where 'x: 'y),
                vec![],
            ),
            (
                quote!(fn f<'x>(a: &'static mut A, b: &mut B) -> Result<&'x u8, E>),
                vec!["b"],
            ),
            // an elided output lifetime: the parameters' (named or not),
            // unless a `&self` receiver's
            (quote!(fn f(a: &mut A, b: &mut B) -> Result<&u8, E>), vec![]),
            (
                quote!(fn f<'x>(a: &'x mut A, b: &'x mut B) -> Result<Ref<'_, u8>, E>),
                vec![],
            ),
            (
                quote!(fn f(&self, a: &mut A, b: &'_ mut B) -> Result<&u8, E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f(self: Pin<&mut Self>, a: &mut A, b: &mut B) -> Result<&u8, E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f(self: Box<Self>, a: &mut A, b: &mut B) -> Result<&u8, E>),
                vec![],
            ),
            (
                quote!(fn f<'x>(&self, a: &'x mut A, b: &mut B) -> Result<&'x u8, E>),
                vec!["b"],
            ),
            // no lifetime in the output
            (
                quote!(fn f<'x>(a: &'x mut A, b: &mut B) -> Result<u8, E>),
                vec!["a", "b"],
            ),
        ];
        for (sig, expected) in cases {
            assert_eq!(reborrowed(sig.clone()), expected, "{sig}");
        }
    }
}
