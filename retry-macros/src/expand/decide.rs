//! The decision after an attempt, in every loop: the runtime's call that
//! decides on a failure (or a value `retry_if_ok` rejects), and the wait it
//! binds or the result it returns; with the spans at which errors about the
//! function's return and error types are reported.

use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use super::{ident, Loop};

impl Loop<'_> {
    /// The decision after an attempt: bind the wait before the next one, or
    /// return the result.
    pub(super) fn decide(&self) -> TokenStream {
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
        // path, which keeps its kind for the next attempt's `previous_kind`
        // (and a loop with `stop_on`, for the line it may end with in a wait).
        // A loop with attempt spans decides on the full path too, telling
        // the run whether the failure marks the attempt's span (the
        // subscriber enabled it).
        let (failed_fn, next_wait_fn) = if self.spans {
            ("failed_spanned", "next_wait_spanned")
        } else if self.attempt_param.is_some()
            || self.cfg.stop_on.is_some()
            || self.cfg.stop_when.is_some()
        {
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
            // `retry_if_ok` looks at the value: the loop matches the result
            // itself. (With a stop signal or flag the loop asked the predicate
            // before the stop, `__retry_rejected`: asked once.)
            Some(pred) => {
                let (ok, rejected) = if self.signal.is_some() || cfg.stop_when.is_some() {
                    (quote!(_), ident("__retry_rejected").to_token_stream())
                } else {
                    (quote!(#value), quote!(#pred(#value)))
                };
                quote! {
                #results
                let _ = #error_displays;
                let #wait = match #as_result {
                    ::core::result::Result::Ok(#ok) => {
                        if #rejected {
                            match #run.rejected(#policy) {
                                #p::Decision::Retry { wait: #wait, .. } => #wait,
                                #p::Decision::GiveUp { .. } => return #result,
                            }
                        } else {
                            #run.succeeded(#policy);
                            return #result;
                        }
                    }
                    ::core::result::Result::Err(#error_at_err) => match #failed {
                        #p::Decision::Retry { wait: #wait, .. } => #wait,
                        #p::Decision::GiveUp { .. } => return #result,
                    },
                };
                }
            }
        }
    }
}
