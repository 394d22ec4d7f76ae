//! The wait before a loop's first attempt: a `policy = EXPR` may hold a
//! shared cooldown (`Policy::with_cooldown`), whose hold and pace a first
//! attempt waits out as a retry does. A policy made of the other keys
//! holds none, and its loop gets nothing here. With `stop_on = EXPR`,
//! the signal ends the wait (or skips it, once fired): the attempt is made
//! at once.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use super::Loop;
use crate::validate::Base;

impl Loop<'_> {
    /// The statements before the first attempt: in an async loop, the
    /// waits `first_wait(policy, ..)` asks for (once more for a hold made
    /// longer meanwhile), each slept on the loop's own timer (its future no
    /// larger than the loop's sleep: the function's future does not
    /// grow); in a sync one, `hold_first_sync(policy)`. On the `sleeper =
    /// EXPR` key's sleeper if there is one; nothing without a `policy =
    /// EXPR`.
    pub(super) fn hold_first(&self, is_async: bool) -> TokenStream {
        if !matches!(self.cfg.base, Base::Policy(_)) {
            return TokenStream::new();
        }
        let Loop { p, policy, .. } = self;
        if !is_async {
            return match self.on_sleeper("hold_first_blocking_on", quote!(#policy)) {
                Some(on_sleeper) => quote!(#on_sleeper;),
                None => quote!(#p::hold_first_sync(#policy);),
            };
        }
        let held = Ident::new("__retry_held", Span::mixed_site());
        let sleep = match self.on_sleeper("sleep_on", quote!(#held)) {
            Some(on_sleeper) => on_sleeper,
            None => quote_spanned!(self.ret_span=> #p::default_sleep::<#p::DefaultSleeper>(#held)),
        };
        quote! {
            if let ::core::option::Option::Some(#held) = #p::first_wait(#policy, false) {
                #sleep.await;
                if let ::core::option::Option::Some(#held) = #p::first_wait(#policy, true) {
                    #sleep.await;
                }
            }
        }
    }

    /// [`hold_first`](Self::hold_first) for an async loop with `stop_on =
    /// EXPR`, with the signal's poll before the first attempt (`fired_now`:
    /// one that listens from its first poll on, `ctrl_c()`, hears one that
    /// comes during that attempt): no wait once it has fired, and each
    /// wait raced with it (`stop_sleep`, the loop's own raced wait, with no
    /// budget token: the function's future does not grow); one it cuts
    /// ends the waiting, and the attempt is made at once (there is no error
    /// to return without it). `stop_at` is the pinned signal, `signal_span`
    /// its expression's, where the calls that need it to be a future are
    /// (as the loop's). Without a `policy = EXPR`, the poll alone.
    pub(super) fn poll_and_hold_first(
        &self,
        stop_at: &Ident,
        fired_now: &TokenStream,
        signal_span: Span,
    ) -> TokenStream {
        if !matches!(self.cfg.base, Base::Policy(_)) {
            return quote!(let _ = #fired_now;);
        }
        let Loop { p, policy, .. } = self;
        let held = Ident::new("__retry_held", Span::mixed_site());
        let none = quote!(::core::option::Option::None);
        let sleep = match self.on_sleeper("stop_sleep_on", quote!(#held, #none, #stop_at.as_mut()))
        {
            Some(on_sleeper) => quote!(#on_sleeper.await),
            None => {
                let p_signal = self.private_at(signal_span);
                quote_spanned!(signal_span=> #p_signal::stop_sleep::<#p::DefaultSleeper, _>(#held, #none, #stop_at.as_mut()).await)
            }
        };
        quote! {
            if let ::core::option::Option::Some(#held) = #p::first_wait_unless_fired(#policy, #fired_now) {
                if !#sleep {
                    if let ::core::option::Option::Some(#held) = #p::first_wait(#policy, true) {
                        let _ = #sleep;
                    }
                }
            }
        }
    }
}
