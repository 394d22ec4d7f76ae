//! The wait before a loop's first attempt: a `policy = EXPR` may hold a
//! shared cooldown (`Policy::with_cooldown`), whose hold and pace a first
//! attempt waits out as a retry does. A policy made of the other keys
//! holds none, and its loop gets nothing here.

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
}
