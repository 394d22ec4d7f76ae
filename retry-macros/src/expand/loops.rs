//! The loop in each of its forms: async (an attempt a future of its own),
//! hedged (the body an async closure the runtime runs), the common sync
//! case (the runtime's `retry_sync`), and the full sync loop. [`Loop`]
//! holds what they are all written from.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::ReturnType;

use super::attempt_param::AttemptParam;
use super::params::{param_cfgs, PinnedParam};
use super::policy::{duration, guards, policy_expr};
use super::types::{error_type_span, expected_type, future_output};
use super::Shape;
use crate::diag::respan_path;
use crate::item::AwaitedFuture;
use crate::validate::{Base, Config, When};

/// What every form of the loop is written from: the attribute's settings,
/// the names the loop binds, the policy, the attempt's body, and the spans
/// at which errors about the function's shape are reported.
pub(super) struct Loop<'a> {
    cfg: &'a Config,
    /// `#rt::__private`.
    p: TokenStream,
    attempt_param: Option<&'a AttemptParam>,
    /// The body's one awaited expression, when the loop awaits it itself.
    awaited: Option<AwaitedFuture>,
    /// The body's braces.
    brace_span: Span,
    /// Type errors about the function's shape point at its return type.
    ret_span: Span,
    /// An error type without `Display` is reported on it.
    err_span: Span,
    /// The return type as the attempt's output type.
    ret_ty: Option<TokenStream>,
    /// The attempt: (async) the statement that pins its output type, its
    /// re-borrows and clones, then the body.
    attempt_body: TokenStream,
    /// (async) the clones made before each attempt's block
    outer_clones: TokenStream,
    /// The `let p = &mut *p;` of each `&mut` parameter each attempt
    /// re-borrows (also written in the loop, for a body it awaits itself).
    reborrows: TokenStream,
    /// `let __retry_policy = ..;`, and how the loop names the policy.
    policy_binding: TokenStream,
    policy: TokenStream,
    /// The policy's name when it is a closure returning the constant.
    policy_fn: Option<Ident>,
    /// `attempt_spans = true`.
    spans: bool,
    run: Ident,
    result: Ident,
    value: Ident,
    wait: Ident,
    attempt_span: Ident,
    entered: Ident,
}

/// A generated local: `__retry_*`, with the macro's hygiene.
fn ident(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

impl<'a> Loop<'a> {
    /// `sig` is the function's signature as it is emitted; `mut_names` the
    /// names bound `mut` by value (with their `mut`), `reborrowed` the `&mut T` parameters
    /// each attempt re-borrows.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        cfg: &'a Config,
        sig: &syn::Signature,
        shape: &Shape,
        brace_span: Span,
        awaited: Option<AwaitedFuture>,
        mut_names: &[(Ident, Span)],
        reborrowed: &[Ident],
        pinned: &[PinnedParam],
        unique_self: Option<TokenStream>,
        attempt_param: Option<&'a AttemptParam>,
    ) -> Self {
        let rt = &cfg.krate;
        let p = quote!(#rt::__private);
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
        let reborrows = reborrows(sig, reborrowed, pinned);

        // (an async attempt's block borrows a `&mut self` receiver
        // uniquely: see `params::unique_receiver`)
        let unique_self = unique_self.map(|this| quote!(#p::borrow_uniquely(&mut *#this);));
        let attempt_body = attempt_body(
            cfg,
            sig,
            shape,
            &ret_ty,
            &quote!(#unique_self #reborrows),
            !pinned.is_empty(),
            mut_names,
        );
        let outer_clones = if clones_outside(cfg, shape) {
            outer_clones(cfg, sig, mut_names)
        } else {
            TokenStream::new()
        };
        // the attempt's result type, whose error a `retry_if` predicate takes
        let result_of_attempt = match (shape, &sig.output) {
            (Shape::AsyncTrait { .. }, ReturnType::Type(_, ty)) => {
                future_output(ty).map(expected_type)
            }
            _ => ret_ty.clone(),
        };
        let (policy_binding, policy, policy_fn) =
            policy_binding(cfg, &p, shape, result_of_attempt.as_ref());
        Loop {
            cfg,
            p,
            attempt_param,
            awaited,
            brace_span,
            ret_span,
            err_span,
            ret_ty,
            attempt_body,
            outer_clones,
            reborrows,
            policy_binding,
            policy,
            policy_fn,
            spans: cfg.attempt_spans == Some(true),
            run: ident("__retry_run"),
            result: ident("__retry_result"),
            value: ident("__retry_value"),
            wait: ident("__retry_wait"),
            attempt_span: ident("__retry_span"),
            entered: ident("__retry_entered"),
        }
    }

    /// `#rt::__private` on the user's token at `span`, where an error about
    /// the call is reported (`respan_path` says why `__private` keeps the
    /// macro's hygiene).
    fn private_at(&self, span: Span) -> TokenStream {
        respan_path(self.cfg.krate.to_token_stream(), "__private", span)
    }

    /// A policy with a circuit breaker or a throttle (`circuit = NAME`,
    /// `throttle = NAME`, or a `policy = EXPR` of such a type) asks it before
    /// an attempt and, when it turns the call away, returns `E::from(CircuitOpen)`
    /// or `E::from(Throttled)` without calling; for a policy without one,
    /// `admit` is `Ok(())` and this folds to nothing. An error type without
    /// the `From` impl is reported on the key (the later one, given both).
    fn reject_if_open(&self) -> TokenStream {
        let (run, policy) = (&self.run, &self.policy);
        let (admit_fn, span) = match (&self.cfg.circuit, &self.cfg.throttle) {
            (None, None) => ("admit", Span::call_site()),
            (Some((_, span)), None) => ("admit_circuit", *span),
            (None, Some((_, span))) => ("admit_throttle", *span),
            (Some(_), Some((_, span))) => ("admit_circuit_and_throttle", *span),
        };
        let p_admit = self.private_at(span);
        let admit_fn = Ident::new(admit_fn, span);
        let admit = quote_spanned!(span=> #p_admit::#admit_fn);
        // The rejection is returned as the function's return type (by
        // `IsResult::from_err`, not as `Err(..)`): one that is not a
        // `Result` is then told so once, on it, by the unmet `IsResult` bound
        // the decision reports there too, not first as mismatched types on
        // the attribute.
        let ret_span = self.ret_span;
        let p_ret = self.private_at(ret_span);
        let open_at_ret = Ident::new("__retry_open", ret_span);
        let rejected = quote_spanned!(ret_span=> #p_ret::IsResult::from_err(#open_at_ret));
        quote_spanned! {span=>
            if let ::core::result::Result::Err(#open_at_ret) = #admit(&mut #run, #policy) {
                return #rejected;
            }
        }
    }

    /// The decision after an attempt: bind the wait before the next one, or
    /// return the result.
    fn decide(&self) -> TokenStream {
        let Loop {
            cfg,
            p,
            run,
            policy,
            result,
            value,
            wait,
            ret_span,
            err_span,
            ..
        } = self;
        let (ret_span, err_span) = (*ret_span, *err_span);
        // Type errors about the function's shape point at the user's tokens
        // at fault: at the argument of the call that needs the bound, which
        // is a name of the user's token there (an argument of the macro's
        // hygiene is reported on the attribute instead; parentheses or a
        // block around it would be linted as the user's, `unused_parens`).
        // `returned` and `checked` are the result, by reference, at the
        // return type and at the error type.
        let returned = Ident::new("__retry_returned", ret_span);
        let checked = Ident::new("__retry_checked", err_span);
        let p_ret = self.private_at(ret_span);
        let as_result = quote_spanned!(ret_span=> #p_ret::as_result(#returned));
        // An error type without `Display` is told so once, on it: by
        // `error_displays`, whose argument is at the error type, as is the
        // result (or error) given to the runtime call that needs `Display`
        // too, so that rustc reports that call's unmet bound (implied by
        // `DisplayError`'s) at the same place, which it then leaves out.
        let p_err = self.private_at(err_span);
        let error_displays = quote_spanned!(err_span=> #p_err::error_displays(#checked));
        let error_at_err = Ident::new("__retry_error", err_span);
        // A body that reads its attempt has each failure decided on the full
        // path, which keeps its kind for the next attempt's `previous_kind`.
        // A loop with attempt spans decides on the full path too, telling
        // the run whether the failure marks the attempt's span (the
        // subscriber enabled it).
        let (failed_fn, next_wait_fn) = if self.spans {
            ("failed_spanned", "next_wait_spanned")
        } else if self.attempt_param.is_some() {
            ("failed_in_full", "next_wait_in_full")
        } else {
            ("failed", "next_wait")
        };
        let failed_fn = Ident::new(failed_fn, cfg.when_span);
        let next_wait_fn = Ident::new(next_wait_fn, cfg.when_span);
        let marks = if self.spans {
            let span = &self.attempt_span;
            quote!(, #span.marks())
        } else {
            quote!()
        };
        let failed = quote_spanned!(cfg.when_span=> #run.#failed_fn(#policy, #error_at_err #marks));
        let results = quote! {
            let #returned = &#result;
            let #checked = &#result;
        };
        match &cfg.retry_if_ok {
            // One runtime call decides; the `as_result` beside it is only there
            // to report a return type that is not a `Result` on that type.
            None => {
                let next_wait =
                    quote_spanned!(cfg.when_span=> #run.#next_wait_fn(#policy, #checked #marks));
                quote! {
                    #results
                    let _ = #as_result;
                    let _ = #error_displays;
                    let #wait = match #next_wait {
                        ::core::option::Option::Some(#wait) => #wait,
                        ::core::option::Option::None => return #result,
                    };
                }
            }
            // `retry_if_ok` looks at the value: the loop matches the result itself.
            Some(pred) => quote! {
                #results
                let _ = #error_displays;
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
                    ::core::result::Result::Err(#error_at_err) => match #failed {
                        #p::Decision::Retry(#wait) => #wait,
                        #p::Decision::GiveUp(_) => return #result,
                    },
                };
            },
        }
    }

    /// With an `#[attempt]` parameter, each attempt binds it first (the
    /// type as written, so a wrong one is reported on it). The run keeps the
    /// kind of each failure from the verdict it decides by, for the next
    /// attempt's `previous_kind`.
    fn bind_attempt(&self) -> TokenStream {
        let Loop { p, run, policy, .. } = self;
        match self.attempt_param {
            Some(AttemptParam { pat, ty }) => quote! {
                let #pat: #ty = #p::next_attempt(&mut #run, #policy);
            },
            None => quote!(),
        }
    }

    /// The span, made before the attempt and entered for the decision (and
    /// left before the sleep): the statements that open and enter it.
    fn open_and_enter_span(&self) -> (TokenStream, TokenStream) {
        let Loop {
            p,
            run,
            policy,
            attempt_span,
            entered,
            ..
        } = self;
        if self.spans {
            (
                quote!(let #attempt_span = #p::attempt_span(&#run, #policy);),
                quote!(let #entered = #attempt_span.enter();),
            )
        } else {
            (quote!(), quote!())
        }
    }

    /// With spans, the statement that says the attempt finished (its
    /// span's drop from then on is no cancel).
    fn attempt_finished(&self) -> TokenStream {
        let Loop {
            p, attempt_span, ..
        } = self;
        if self.spans {
            quote!(#p::attempt_finished(&#attempt_span);)
        } else {
            quote!()
        }
    }

    /// The attempt's `async` block is the user's body: its `async` and its
    /// braces at the body's braces (as the sync closure's are), so that a
    /// by-value argument the body moves is reported on the move ("value
    /// moved here, in previous iteration of loop"), not on the attribute.
    fn attempt_block(&self) -> TokenStream {
        let brace_span = self.brace_span;
        let mut braces = Group::new(Delimiter::Brace, self.attempt_body.clone());
        braces.set_span(brace_span);
        quote_spanned!(brace_span=> async #braces)
    }

    /// `attempt_timeout(d, future)`, at the `timeout` key.
    fn timed(&self, d: std::time::Duration, span: Span, future: TokenStream) -> TokenStream {
        let d = duration(d, &self.p);
        let p_timeout = self.private_at(span);
        quote_spanned!(span=> #p_timeout::attempt_timeout::<#p_timeout::DefaultSleeper, _, _, _>(#d, #future))
    }

    /// An async attempt, awaited. Each attempt is a future of its own,
    /// polled with the kinds the policy retries published for the retried
    /// calls inside it (`retry_runtime::nested`): the body's `async` block,
    /// or, for a body that is one awaited expression, that expression's
    /// future, made with the kinds published too. (A body used to run
    /// inline in the loop when it could not leave early; publishing needs a
    /// future to poll, and one around the whole loop would hold the
    /// arguments twice.)
    ///
    /// (`publish` comes before the expression: the future is made while
    /// its guard is held; an expression that is not a future is reported on
    /// the user's tokens, the expression and its `.await`: the call starts
    /// at the expression's first token and ends at its `.await`, so that
    /// rustc sees the awaited value where the body has it, and reports a
    /// wrong output type there, against the result's type below.)
    fn async_attempt(&self) -> TokenStream {
        let Loop {
            p,
            policy,
            policy_fn,
            awaited,
            ..
        } = self;
        let scoped = match (policy_fn, awaited) {
            (Some(policy_fn), Some(a)) => {
                let (future, p_made) = (&a.expr, self.private_at(a.start));
                quote_spanned!(a.await_kw=> #p_made::made_in_const_scope(#policy_fn, #p::publish(#policy), #future))
            }
            (Some(policy_fn), None) => {
                let block = self.attempt_block();
                quote!(#p::in_const_scope(#policy_fn, #block))
            }
            (None, Some(a)) => {
                let (future, p_made) = (&a.expr, self.private_at(a.start));
                quote_spanned!(a.await_kw=> #p_made::made_in_scope(#policy, #p::publish(#policy), #future))
            }
            (None, None) => {
                let block = self.attempt_block();
                quote!(#p::in_scope(#policy, #block))
            }
        };
        let await_span = awaited
            .as_ref()
            .map_or_else(Span::call_site, |a| a.await_kw);
        match self.cfg.timeout {
            // (published inside the timeout: its bound is reported once, on the key)
            Some((d, span)) => self.in_span(self.timed(d, span, scoped), span),
            None => self.in_span(scoped, await_span),
        }
    }

    /// `fut.await`; in its span (with `attempt_spans = true`), the attempt's
    /// future is instrumented. The `.await` keeps `span` (the `timeout`
    /// key's, where a missing `From<AttemptTimeout>` is reported).
    fn in_span(&self, fut: TokenStream, span: Span) -> TokenStream {
        let Loop {
            p, attempt_span, ..
        } = self;
        if self.spans {
            quote_spanned!(span=> #p::Instrument::instrument(#fut, #attempt_span.span()).await)
        } else {
            quote_spanned!(span=> #fut.await)
        }
    }

    /// The async loop: an attempt, the decision, the sleep.
    pub(super) fn async_loop(&self) -> TokenStream {
        let Loop {
            p,
            run,
            policy,
            policy_binding,
            result,
            wait,
            ..
        } = self;
        let reject_if_open = self.reject_if_open();
        let (open_span, enter_span) = self.open_and_enter_span();
        let bind_attempt = self.bind_attempt();
        // (a body awaited by the loop itself re-borrows in the loop)
        let awaited_reborrows = self.awaited.as_ref().map(|_| &self.reborrows);
        // A body awaited by the loop itself has no `async` block whose output
        // type is pinned: the result is of the return type, so that a body of
        // another type is reported on its expression (the `.await` and what it
        // awaits), as the block's would be, not on the `return` of the result.
        let result_ty = match (&self.awaited, &self.ret_ty) {
            (Some(_), Some(ty)) => Some(quote!(: #ty)),
            _ => None,
        };
        // The clones live as long as the attempt (made before its block,
        // dropped when it ends: before the decision, its log line and
        // hooks, as when they were made in the block).
        let attempt = if self.outer_clones.is_empty() {
            self.async_attempt()
        } else {
            let outer_clones = &self.outer_clones;
            let attempt = self.async_attempt();
            let out = ident("__retry_out");
            quote!({ #outer_clones let #out = #attempt; #out })
        };
        let attempt_finished = self.attempt_finished();
        let decide = self.decide();
        quote! {
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
                    #attempt_finished
                    #decide
                    #wait
                };
                if #p::should_sleep(#wait) {
                    #p::default_sleep::<#p::DefaultSleeper>(#wait).await;
                }
            }
        }
    }

    /// A hedged call: the body becomes an async closure (it borrows the
    /// arguments, so its attempts can run side by side), run by the runtime.
    /// Its `async |..|` is at the `hedge` key: a body that changes what it
    /// borrows makes a closure the runtime cannot call again while an
    /// attempt is in flight, and rustc says so ("async closure does not
    /// implement `FnMut` because it captures state from its environment")
    /// there, where a write it can see is refused by `validate`. (The
    /// macro's hygiene, so clippy does not take the closure for the user's.)
    pub(super) fn hedged(&self, hedge_span: Span) -> TokenStream {
        let Loop {
            p,
            policy,
            policy_binding,
            attempt_body,
            ..
        } = self;
        let at_hedge = Span::call_site().located_at(hedge_span);
        let op = ident("__retry_op");
        let attempt_future = match self.cfg.timeout {
            Some((d, span)) => {
                let timed = self.timed(d, span, self.attempt_block());
                quote_spanned!(span=> #timed.await)
            }
            None => quote!({ #attempt_body }),
        };
        // The call under the return type's span: its `IsResult` bound then
        // tells one that is not a `Result` so there, once, beside the
        // decision's (the runtime's other bounds see only that error).
        let ret_span = self.ret_span;
        let p_ret = self.private_at(ret_span);
        let (closure, run) = match &self.attempt_param {
            Some(AttemptParam { pat, ty }) => (
                quote_spanned!(at_hedge=> async |#pat: #ty| #attempt_future),
                quote_spanned!(ret_span=> #p_ret::hedged_context::<#p::DefaultSleeper, _, _, _, _, _>(#policy, #op)),
            ),
            None => (
                quote_spanned!(at_hedge=> async || #attempt_future),
                quote_spanned!(ret_span=> #p_ret::hedged::<#p::DefaultSleeper, _, _, _, _, _>(#policy, #op)),
            ),
        };
        let awaited = quote_spanned!(ret_span=> #run.await);
        quote! {
            #policy_binding
            let #op = #closure;
            #awaited
        }
    }

    /// The common sync case: the loop is the runtime's `retry_sync`, which
    /// makes the first attempt inline and retries out of line. Errors about
    /// the return type point at it; about the error type's classification,
    /// at `retry_on` (or the preset).
    pub(super) fn retry_sync(&self) -> TokenStream {
        let Loop {
            cfg,
            p,
            policy,
            policy_binding,
            ret_span,
            err_span,
            brace_span,
            ..
        } = self;
        let (ret_span, err_span, brace_span) = (*ret_span, *err_span, *brace_span);
        let p_when = self.private_at(cfg.when_span);
        let retry_sync = quote_spanned!(cfg.when_span=> #p_when::retry_sync);
        // The closure is written where an `FnMut` is expected (not bound
        // to a `let` first), so that a body moving a captured argument
        // is reported on the move (E0507, not E0525 on the attribute);
        // `returns_result` hands it on, and a return type that is not a
        // `Result` is reported on it. The closure is the user's body (its
        // `||` and braces at the body's braces): rustc names the captured
        // argument ("cannot move out of `body`, a captured variable in an
        // `FnMut` closure") only in a closure of the user's code.
        let p_ret = self.private_at(ret_span);
        let check = quote_spanned!(ret_span=> #p_ret::returns_result);
        let mut braces = Group::new(Delimiter::Brace, self.attempt_body.clone());
        braces.set_span(brace_span);
        let closure_output = self.closure_output();
        let closure = quote_spanned!(brace_span=> || #closure_output #braces);
        // (the call's parentheses too are the return type's: an error
        // about the call is reported there)
        let mut arg = Group::new(Delimiter::Parenthesis, closure);
        arg.set_span(ret_span);
        // and on through `attempt_error_displays`, at the error type
        let p_err = self.private_at(err_span);
        let displays = quote_spanned!(err_span=> #p_err::attempt_error_displays);
        let mut checked = Group::new(Delimiter::Parenthesis, quote!(#check #arg));
        checked.set_span(err_span);
        quote! {
            #policy_binding
            #retry_sync(#policy, #displays #checked, &#p::DefaultSleeper)
        }
    }

    /// The attempt's output type is the function's: a sync closure says so
    /// (`|| -> T { .. }`).
    fn closure_output(&self) -> Option<TokenStream> {
        self.ret_ty.as_ref().map(|ty| quote!(-> #ty))
    }

    /// The full sync loop: a breaker or throttle to ask, `retry_if_ok` or an
    /// `#[attempt]` parameter (with `attempt_spans = true` beside one of
    /// those, each attempt in its span; spans alone are `retry_sync`'s).
    pub(super) fn sync_loop(&self) -> TokenStream {
        let Loop {
            p,
            run,
            policy,
            policy_binding,
            result,
            wait,
            attempt_body,
            entered,
            attempt_span,
            ..
        } = self;
        let reject_if_open = self.reject_if_open();
        let (open_span, enter_span) = self.open_and_enter_span();
        let bind_attempt = self.bind_attempt();
        let closure_output = self.closure_output();
        let attempt_finished = self.attempt_finished();
        let decide = self.decide();
        let leave_span = if self.spans {
            // (the span closes before the sleep: its time is the
            // attempt's and the decision's, not the backoff's)
            quote!(::core::mem::drop(#entered); ::core::mem::drop(#attempt_span);)
        } else {
            quote!()
        };
        quote! {
            #policy_binding
            let mut #run = #p::Guarded::new(#policy);
            loop {
                #reject_if_open
                #open_span
                #enter_span
                #bind_attempt
                let #result = #p::attempt_sync(#policy, || #closure_output { #attempt_body });
                #attempt_finished
                #decide
                #leave_span
                #p::sleep_sync(#wait);
            }
        }
    }
}

/// A `&mut T` argument passed on by value to a generic (`W: Write`,
/// `BufReader::new(r)`) is moved there, not re-borrowed as it is where a
/// `&mut T` is expected: the next attempt would find it gone. Each
/// attempt re-borrows it under its own name, so the body moves (or
/// borrows) the re-borrow. (The re-borrow shadows the parameter by
/// design, with the user's span: clippy's `shadow_*` restriction lints
/// are allowed on this `let` alone.)
fn reborrows(sig: &syn::Signature, reborrowed: &[Ident], pinned: &[PinnedParam]) -> TokenStream {
    // (and the pedantic lints a re-borrow's `let` would draw on the
    // user's parameter: `_v` named again, `&mut *v` of a `&mut &mut T`)
    let allow = quote!(#[allow(
        clippy::shadow_same,
        clippy::shadow_reuse,
        clippy::used_underscore_binding,
        clippy::no_effect_underscore_binding,
        clippy::mut_mut
    )]);
    let reborrows = reborrowed.iter().map(|name| {
        let cfgs = param_cfgs(sig, name);
        quote_spanned!(name.span()=> #(#cfgs)* #allow let #name = &mut *#name;)
    });
    // A pinned parameter, `Pin::as_mut`: the binding `mut` if the
    // parameter was (see [`PinnedParam`]).
    let pinned = pinned.iter().map(|PinnedParam { name, mutability }| {
        let cfgs = param_cfgs(sig, name);
        quote_spanned!(name.span()=> #(#cfgs)* #allow let #mutability #name = ::core::pin::Pin::as_mut(&mut #name);)
    });
    quote!(#(#reborrows)* #(#pinned)*)
}

/// Are the clones made before the attempt, and moved into it? In an async
/// loop (a hedged call's attempts are an async closure's, which makes its
/// own clones).
fn clones_outside(cfg: &Config, shape: &Shape) -> bool {
    matches!(shape, Shape::Async(_) | Shape::AsyncTrait { .. }) && cfg.hedge.is_none()
}

/// The clones of the parameters named in `clone`, made before an async
/// attempt's block under the parameters' names (see [`attempt_body`]), so
/// that a clone outlives the block: the temporaries of the body's last
/// expression that borrow it (`state.lock().unwrap().sent`) are dropped
/// first, as without the attribute (a clone made in the block was dropped
/// before them, E0597 before Rust 2024). Each binding is `mut`: the user's
/// `mut` where the parameter had one, else one the block uses to borrow the
/// clone uniquely (see [`attempt_body`]).
fn outer_clones(cfg: &Config, sig: &syn::Signature, mut_names: &[(Ident, Span)]) -> TokenStream {
    let clones = cfg.clone.iter().map(|name| {
        // (a `mut` parameter's binding is its own name and `mut`, so that
        // "remove this `mut`" points there)
        let binding = match mut_names.iter().find(|(mut_name, _)| mut_name == name) {
            Some((param, at)) => {
                let mutability = syn::Token![mut](*at);
                quote!(#mutability #param)
            }
            // (the `mut` at the parameter's name: clippy's `shadow_*`
            // lints then see the user's own rebinding of the clone as they
            // see it of the parameter without the attribute)
            None => {
                let mutability = syn::Token![mut](name.span());
                quote!(#mutability #name)
            }
        };
        let cfgs = param_cfgs(sig, name);
        quote_spanned!(name.span()=> #(#cfgs)* #[allow(clippy::shadow_reuse)] let #binding = ::core::clone::Clone::clone(&#name);)
    });
    quote!(#(#clones)*)
}

/// What each attempt runs: its re-borrows (and an async attempt's unique
/// borrow of `&mut self`), the clones of the parameters named in `clone`
/// (an async attempt's unique borrows of them), then the body (a sync one
/// in a closure of its own when the attempt has locals it may borrow:
/// `has_pinned`, or clones).
fn attempt_body(
    cfg: &Config,
    sig: &syn::Signature,
    shape: &Shape,
    ret_ty: &Option<TokenStream>,
    reborrows: &TokenStream,
    has_pinned: bool,
    mut_names: &[(Ident, Span)],
) -> TokenStream {
    let clones_outside = clones_outside(cfg, shape);
    // (a `mut` parameter's clone is `mut` too: the attempt changes its own
    // copy. Its `mut` is the user's keyword, which the signature no longer
    // has: a body that changes nothing is told that it "does not need to
    // be mutable" there, as it would be without the attribute.)
    // The clone shadows the parameter by design, under the name the body
    // uses, so it carries the user's span and clippy's `shadow_reuse`
    // (restriction) would see the user shadow it: allowed on this `let` alone.
    // (A parameter's `#[cfg]`s go on its clone and re-borrow: with the cfg
    // off, there is no parameter to name.)
    // With `clones_outside` (an async loop's attempt, a block of its own),
    // each clone is made before the block (see [`outer_clones`]).
    let clones = cfg.clone.iter().map(|name| {
        // (a `mut` clone binds the parameter's own name, `mut name` as the
        // signature had it, so "remove this `mut`" points there)
        let binding = match mut_names.iter().find(|(mut_name, _)| mut_name == name) {
            Some((param, at)) => {
                let mutability = syn::Token![mut](*at);
                quote!(#mutability #param)
            }
            None => quote!(#name),
        };
        let cfgs = param_cfgs(sig, name);
        if clones_outside {
            // A clone the body changes is borrowed uniquely by the block;
            // one it only reads would be borrowed shared, `Send` only for
            // a `Sync` type (a `RefCell` in it made the future `!Send`
            // where it is `Send` without the attribute): a parameter
            // without `mut` has the block borrow its clone uniquely. (With
            // the user's `mut` and no change made, rustc says the `mut` is
            // not needed, as without the attribute.)
            if mut_names.iter().any(|(mut_name, _)| mut_name == name) {
                quote!()
            } else {
                let p = &cfg.krate;
                quote_spanned!(name.span()=> #(#cfgs)* #p::__private::borrow_uniquely(&mut #name);)
            }
        } else {
            quote_spanned!(name.span()=> #(#cfgs)* #[allow(clippy::shadow_reuse)] let #binding = ::core::clone::Clone::clone(&#name);)
        }
    });
    match shape {
        // The attempt's output type is the function's: an `async` block has
        // no syntax to say so (a sync closure does, `|| -> T { .. }`), and
        // starts with an unreachable `return` of a `T`, as async-trait's
        // does. `?` in the body converts into it.
        Shape::Sync(block) | Shape::Async(block) => {
            let pin_output = match (shape, ret_ty) {
                (Shape::Async(_), Some(ty)) => {
                    let ret = ident("__retry_ret");
                    quote! {
                        if let ::core::option::Option::Some(#ret) = ::core::option::Option::None::<#ty> {
                            return #ret;
                        }
                    }
                }
                _ => quote!(),
            };
            // A sync attempt's clone (or pinned re-borrow) is a local of
            // its closure: the body runs in a closure of its own
            // (`value_of`), so that the temporaries of its last expression
            // (`state.lock().unwrap().sent`) are dropped when it returns,
            // before the locals they borrow, as they are in the function
            // without the attribute, where those are its arguments (before
            // Rust 2024 they lived to the end of the enclosing block:
            // E0597). Its return type is the attempt's, so the last
            // expression coerces to it and `return` ends the attempt with
            // its value, as before. (An async attempt's clones are made
            // before its block, see [`outer_clones`]; a hedged call's in its
            // async closure, as before.)
            let body = match (shape, ret_ty) {
                (Shape::Sync(_), Some(ty)) if !cfg.clone.is_empty() || has_pinned => {
                    let p = &cfg.krate;
                    quote!(#p::__private::value_of(|| -> #ty #block))
                }
                _ => quote!(#block),
            };
            quote! {
                #pin_output
                #reborrows
                #(#clones)*
                #body
            }
        }
        // async_trait's statements pin their own output type; its rebinds
        // of the arguments go before the loop.
        Shape::AsyncTrait { each, .. } => quote! {
            #reborrows
            #(#clones)*
            #(#each)*
        },
    }
}

/// `let __retry_policy = ..;`, how the loop names the policy after it
/// (`__retry_policy`, or `__retry_policy()` for a closure returning the
/// constant), and the closure's name when it is one.
///
/// A breaker or budget is a `static` with interior mutability, which a
/// `const` may only name from Rust 1.90 on: they are attached outside the
/// const. An async loop keeps a constant policy as a closure that returns
/// it; its attempts read their published kinds from it
/// (`in_const_scope`). Not a policy with a `retry_if` predicate: the
/// predicate's type (a `Self::pred` or `pred::<T>` in a generic function, a
/// closure there) may involve the function's generic parameters, which the
/// closure's `&'static Policy<..>` would then require to be `'static`
/// (E0310); such a policy is bound as the sync loop binds it.
fn policy_binding(
    cfg: &Config,
    p: &TokenStream,
    shape: &Shape,
    result_of_attempt: Option<&TokenStream>,
) -> (TokenStream, TokenStream, Option<Ident>) {
    let policy = ident("__retry_policy");
    // async-trait's `let __self = self;` has moved the receiver
    let receiver_moved = match shape {
        Shape::AsyncTrait { rebinds, .. } => rebinds.iter().any(|s| matches!(s, syn::Stmt::Local(l) if matches!(&l.pat, syn::Pat::Ident(i) if i.ident == "__self"))),
        _ => false,
    };
    let policy_expr = policy_expr(cfg, p, result_of_attempt, receiver_moved);
    let guards = guards(cfg);
    let is_async = !matches!(shape, Shape::Sync(_));
    let const_closure = !matches!(&cfg.base, Base::Policy(_))
        && guards.is_empty()
        && is_async
        && !matches!(&cfg.when, When::If(_));
    let policy_fn = const_closure.then(|| policy.clone());
    let (binding, named) = match (&cfg.base, guards.is_empty(), const_closure) {
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
    (binding, named, policy_fn)
}
