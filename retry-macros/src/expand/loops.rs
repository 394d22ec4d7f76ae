//! The loop in each of its forms: async (an attempt a future of its own),
//! hedged (the body an async closure the runtime runs), the common sync
//! case (the runtime's `retry_sync`), and the full sync loop. [`Loop`]
//! holds what they are all written from.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::ReturnType;

use super::attempt_param::AttemptParam;
use super::body::{attempt_body, clones_outside, outer_clones, reborrows};
use super::params::PinnedParam;
use super::policy::{duration, policy_binding, receiver_moved, receiver_renamed};
use super::types::{error_type_span, expected_type, future_output};
use super::Shape;
use crate::diag::respan_path;
use crate::item::AwaitedFuture;
use crate::validate::{AttemptLimit, Config};

// (a module of this one, for `Loop`'s fields, in a file beside it)
#[path = "decide.rs"]
mod decide;
#[path = "hold.rs"]
mod hold;

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
    /// `stop_on = EXPR`: the expression (a `self` in it renamed as
    /// async-trait renamed the receiver), and its span.
    signal: Option<(TokenStream, Span)>,
    /// `timeout = value`'s value, its receiver renamed in a method
    /// `#[async_trait]` rewrote (as the signal's), and its span.
    limit_value: Option<(TokenStream, Span)>,
    /// `sleeper = EXPR`: the expression (renamed as the signal's), and its
    /// span; bound once per call to [`Loop::sleeper`], a reference.
    sleeper_expr: Option<(TokenStream, Span)>,
    sleeper: Ident,
    run: Ident,
    result: Ident,
    value: Ident,
    wait: Ident,
    attempt_span: Ident,
    entered: Ident,
}

/// A generated local: `__retry_*`, with the macro's hygiene.
pub(super) fn ident(name: &str) -> Ident {
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
        // An expression of the arguments evaluated in the loop, with its
        // span: its `self` renamed as async-trait renamed the receiver.
        let in_loop = |expr: &syn::Expr| {
            let tokens = expr.to_token_stream();
            let tokens = if receiver_moved(shape) {
                receiver_renamed(tokens)
            } else {
                tokens
            };
            (tokens, expr.span())
        };
        let signal = cfg.stop_on.as_ref().map(in_loop);
        let sleeper_expr = cfg.sleeper.as_ref().map(in_loop);
        let limit_value = match &cfg.timeout {
            Some((AttemptLimit::Value(value), _)) => Some(in_loop(value)),
            _ => None,
        };
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
            signal,
            limit_value,
            sleeper: Ident::new(
                "__retry_sleeper",
                sleeper_expr
                    .as_ref()
                    .map_or_else(Span::mixed_site, |(_, span)| {
                        Span::mixed_site().located_at(*span)
                    }),
            ),
            sleeper_expr,
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

    /// With `sleeper = EXPR`, the statement that borrows it for the call
    /// (`&EXPR`: a field is borrowed, not moved; a temporary lives as long
    /// as the call). Its type is checked by each call that takes it
    /// ([`Loop::on_sleeper`]): a `Sleeper` for an async loop, a
    /// `BlockingSleeper` for a sync one.
    fn sleeper_binding(&self) -> TokenStream {
        let Some((expr, span)) = &self.sleeper_expr else {
            return TokenStream::new();
        };
        let sleeper = &self.sleeper;
        let borrowed = quote_spanned!(*span=> &(#expr));
        quote!(let #sleeper = #borrowed;)
    }

    /// `__private::f(sleeper, args..)` with `sleeper = EXPR`, at the
    /// expression: a value that is no sleeper gets the key's message with
    /// the expression labelled (a sync function's at the expression; an
    /// async one's primary span is the attribute, and a second error about
    /// the timer's type follows: `tests/ui/sleeper_not_a_sleeper.stderr` of
    /// runtimes/sync-only). rustc checks the bound at each call and drops
    /// the repeats of one message at one place.
    fn on_sleeper(&self, f: &str, args: TokenStream) -> Option<TokenStream> {
        let (_, span) = self.sleeper_expr.as_ref()?;
        let p_at = self.private_at(*span);
        let f = Ident::new(f, *span);
        let sleeper = &self.sleeper;
        Some(quote_spanned!(*span=> #p_at::#f(#sleeper, #args)))
    }

    /// `let failed = ..;`: did the attempt fail, an `Ok` that `retry_if_ok`
    /// rejects included? With the key, the predicate is asked here, once,
    /// into `__retry_rejected`, which the decision then reads (a loop with
    /// a stop: its signal or flag is asked of such an `Ok` before the
    /// decision, which would otherwise announce a retry the stop ends).
    fn rejected_first(&self, failed: &Ident) -> TokenStream {
        let Loop { p, result, .. } = self;
        match &self.cfg.retry_if_ok {
            Some(pred) => {
                let rejected = ident("__retry_rejected");
                quote! {
                    let #rejected = match #p::as_result(&#result) {
                        ::core::result::Result::Ok(__retry_ok) => #pred(__retry_ok),
                        ::core::result::Result::Err(_) => false,
                    };
                    let #failed = #rejected || #p::as_result(&#result).is_err();
                }
            }
            None => quote!(let #failed = #p::as_result(&#result).is_err();),
        }
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

    /// `attempt_timeout(d, future)`, at the `timeout` key; for a value
    /// (`timeout = cfg.timeout`), the value read before each attempt, its
    /// type checked at the value (`attempt_limit`), and the attempt raced
    /// with it when it is a limit (`attempt_timeout_for`).
    fn timed(&self, limit: &AttemptLimit, span: Span, future: TokenStream) -> TokenStream {
        let p_timeout = self.private_at(span);
        match limit {
            AttemptLimit::Fixed(d) => {
                let d = duration(*d, &self.p);
                self.on_sleeper("attempt_timeout_on", quote!(#d, #future)).unwrap_or_else(|| quote_spanned!(span=> #p_timeout::attempt_timeout::<#p_timeout::DefaultSleeper, _, _, _>(#d, #future)))
            }
            AttemptLimit::Value(_) => {
                let Some((value, value_span)) = &self.limit_value else {
                    return future;
                };
                let p_value = self.private_at(*value_span);
                let limit = quote_spanned!(*value_span=> #p_value::attempt_limit(#value));
                self.on_sleeper("attempt_timeout_for_on", quote!(#limit, #future)).unwrap_or_else(|| quote_spanned!(span=> #p_timeout::attempt_timeout_for::<#p_timeout::DefaultSleeper, _, _, _>(#limit, #future)))
            }
        }
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
        match &self.cfg.timeout {
            // (published inside the timeout: its bound is reported once, on the key)
            Some((limit, span)) => self.in_span(self.timed(limit, *span, scoped), *span),
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
        // The wait holds the retry budget's token for the retry it precedes
        // (given back if the future is dropped in it) when the policy can
        // have a budget: a `budget` key, or a policy given whole (`policy =
        // ..`). Any other wait stays as small as before (the future's size
        // is a target).
        let may_have_budget =
            self.cfg.budget.is_some() || matches!(self.cfg.base, crate::validate::Base::Policy(_));
        // (on the sleeper of a `sleeper = EXPR` key, borrowed for the call)
        let sleep = if may_have_budget {
            self.on_sleeper("budget_sleep_on", quote!(#wait, #p::budget_token(#policy)))
                .unwrap_or_else(|| quote!(#p::budget_sleep::<#p::DefaultSleeper>(#wait, #p::budget_token(#policy))))
        } else {
            self.on_sleeper("sleep_on", quote!(#wait))
                .unwrap_or_else(|| quote!(#p::default_sleep::<#p::DefaultSleeper>(#wait)))
        };
        let should_sleep = self
            .on_sleeper("should_sleep_on", quote!(#wait))
            .unwrap_or_else(|| quote!(#p::should_sleep(#wait)));
        let sleeper_binding = self.sleeper_binding();
        // With `stop_on = EXPR`, the signal is made once per call and
        // pinned; after a failed attempt it is asked whether it fired (then
        // a failure the policy would retry ends the call), and each wait is
        // raced with it, the attempt's result kept through the wait to be
        // returned if the signal wins. (A loop of its own, so a function
        // without the key keeps its future and its path as they are: no
        // result is held through its waits.) The expression is the user's
        // tokens, where a value that is not a future is reported.
        if let Some((signal, signal_span)) = &self.signal {
            let (stop, kept, failed, stopped) = (
                ident("__retry_stop"),
                ident("__retry_kept"),
                ident("__retry_failed"),
                ident("__retry_stopped"),
            );
            let signal_span = *signal_span;
            let p_signal = self.private_at(signal_span);
            let made = quote_spanned!(signal_span=> #p_signal::stop_signal(#signal));
            // (the calls that need the signal to be a future are at its
            // expression too: one that is not is reported there first, with
            // `IntoStopSignal`'s message, and rustc's repeats of the unmet
            // bound point at it as well)
            let stop_at = Ident::new("__retry_stop", Span::mixed_site().located_at(signal_span));
            let fired = quote_spanned!(signal_span=> #p_signal::stop_fired(#stop_at.as_mut(), #failed).await);
            let fired_now =
                quote_spanned!(signal_span=> #p_signal::stop_fired(#stop_at.as_mut(), true).await);
            let stop_sleep = match self.on_sleeper(
                "stop_sleep_on",
                quote!(#wait, #p::budget_token(#policy), #stop_at.as_mut()),
            ) {
                Some(on_sleeper) => quote!(#on_sleeper.await),
                None => {
                    quote_spanned!(signal_span=> #p_signal::stop_sleep::<#p::DefaultSleeper, _>(#wait, #p::budget_token(#policy), #stop_at.as_mut()).await)
                }
            };
            // An `Ok` that `retry_if_ok` rejects is a failure to the signal
            // too: asked before the decision, which would otherwise
            // announce a retry (its line, its wait's metric, `before_sleep`)
            // that the signal then ends. The predicate is asked here, once.
            let rejected_first = self.rejected_first(&failed);
            // (the signal is polled once before the first attempt, and
            // races the first attempt's wait for a cooldown)
            let hold_first = self.poll_and_hold_first(&stop_at, &fired_now, signal_span);
            return quote! {
                #policy_binding
                #sleeper_binding
                let mut #stop = ::core::pin::pin!(#made);
                let mut #run = #p::Guarded::new(#policy);
                #hold_first
                loop {
                    #reject_if_open
                    let (#wait, #kept) = {
                        #open_span
                        #bind_attempt
                        #awaited_reborrows
                        let #result #result_ty = #attempt;
                        // (a statement of its own: a temporary borrowing the
                        // result would be held through the `.await`, and an
                        // error that is `Send` but not `Sync` would make the
                        // future not `Send`)
                        #rejected_first
                        if #fired {
                            #p::stop_next_failure(&mut #run, #policy);
                        }
                        #enter_span
                        #attempt_finished
                        #decide
                        (#wait, #result)
                    };
                    // (a retry with no wait asks the signal too: an `Ok`
                    // that `retry_if_ok` rejected was not asked above)
                    let #stopped = if #should_sleep {
                        #stop_sleep
                    } else {
                        #fired_now
                    };
                    if #stopped {
                        return #p::stopped_in_wait(&mut #run, #policy, #kept);
                    }
                }
            };
        }
        let hold_first = self.hold_first(true);
        quote! {
            #policy_binding
            #sleeper_binding
            let mut #run = #p::Guarded::new(#policy);
            #hold_first
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
                if #should_sleep {
                    #sleep.await;
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
        let attempt_future = match &self.cfg.timeout {
            Some((limit, span)) => {
                let timed = self.timed(limit, *span, self.attempt_block());
                quote_spanned!(*span=> #timed.await)
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
                self.on_sleeper("hedged_context_on", quote!(#policy, #op)).unwrap_or_else(|| quote_spanned!(ret_span=> #p_ret::hedged_context::<#p::DefaultSleeper, _, _, _, _, _>(#policy, #op))),
            ),
            None => (
                quote_spanned!(at_hedge=> async || #attempt_future),
                self.on_sleeper("hedged_on", quote!(#policy, #op)).unwrap_or_else(|| quote_spanned!(ret_span=> #p_ret::hedged::<#p::DefaultSleeper, _, _, _, _, _>(#policy, #op))),
            ),
        };
        let sleeper_binding = self.sleeper_binding();
        let awaited = quote_spanned!(ret_span=> #run.await);
        quote! {
            #policy_binding
            #sleeper_binding
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
        let run = match &self.sleeper_expr {
            Some((_, span)) => {
                let p_at = self.private_at(*span);
                let sleeper = &self.sleeper;
                let retry_sync_on = quote_spanned!(*span=> #p_at::retry_sync_on);
                quote!(#retry_sync_on(#policy, #displays #checked, #sleeper))
            }
            None => quote!(#retry_sync(#policy, #displays #checked, &#p::DefaultSleeper)),
        };
        let sleeper_binding = self.sleeper_binding();
        quote! {
            #policy_binding
            #sleeper_binding
            #run
        }
    }

    /// The attempt's output type is the function's: a sync closure says so
    /// (`|| -> T { .. }`).
    fn closure_output(&self) -> Option<TokenStream> {
        self.ret_ty.as_ref().map(|ty| quote!(-> #ty))
    }

    /// The full sync loop: a breaker or throttle to ask, `retry_if_ok`, a
    /// `stop_when` flag or an `#[attempt]` parameter (with
    /// `attempt_spans = true` beside one of those, each attempt in its
    /// span; spans alone are `retry_sync`'s). The flag is asked after a
    /// failed attempt (a failure the policy would retry then ends the
    /// call) and after the wait (the retry is not made; the attempt's
    /// result is returned).
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
        // (the flag handed to a function taking a `bool` first: the user's
        // expression as it is, its type checked there, no precedence,
        // parentheses or type annotation of ours for a lint to see)
        let (stop_after_failure, stop_after_wait) = match &self.cfg.stop_when {
            Some(flag) => {
                let stopping = ident("__retry_stopping");
                let p_flag = self.private_at(flag.span());
                let asked =
                    quote_spanned!(flag.span()=> let #stopping = #p_flag::stop_flag(#flag););
                // (a rejected `Ok` too, as for `stop_on`: asked first)
                let failed = ident("__retry_failed");
                let rejected_first = self.rejected_first(&failed);
                (
                    quote! {
                        #rejected_first
                        if #failed {
                            #asked
                            if #stopping {
                                #p::stop_next_failure(&mut #run, #policy);
                            }
                        }
                    },
                    quote! {
                        #asked
                        if #stopping {
                            return #p::stopped_in_wait(&mut #run, #policy, #result);
                        }
                    },
                )
            }
            None => (quote!(), quote!()),
        };
        let sleeper_binding = self.sleeper_binding();
        let sleep = match self.on_sleeper("sleep_blocking_on", quote!(#wait)) {
            Some(on_sleeper) => quote!(#on_sleeper;),
            None => quote!(#p::sleep_sync(#wait);),
        };
        let hold_first = self.hold_first(false);
        quote! {
            #policy_binding
            #sleeper_binding
            let mut #run = #p::Guarded::new(#policy);
            #hold_first
            loop {
                #reject_if_open
                #open_span
                #enter_span
                #bind_attempt
                let #result = #p::attempt_sync(#policy, || #closure_output { #attempt_body });
                #stop_after_failure
                #attempt_finished
                #decide
                #leave_span
                #sleep
                #stop_after_wait
            }
        }
    }
}
