//! The wait before a loop's first attempt: a `policy = EXPR` may hold a
//! shared cooldown (`Policy::with_cooldown`), whose hold and pace a first
//! attempt waits out as a retry does. A policy made of the other keys
//! holds none, and its loop gets nothing here.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::Loop;
use crate::validate::Base;

impl Loop<'_> {
    /// The statement before the first attempt: `hold_first(policy)`,
    /// awaited in an async loop, on the `sleeper = EXPR` key's sleeper if
    /// there is one; nothing without a `policy = EXPR`.
    pub(super) fn hold_first(&self, is_async: bool) -> TokenStream {
        if !matches!(self.cfg.base, Base::Policy(_)) {
            return TokenStream::new();
        }
        let Loop { p, policy, .. } = self;
        let on = if is_async {
            "hold_first_on"
        } else {
            "hold_first_blocking_on"
        };
        match (self.on_sleeper(on, quote!(#policy)), is_async) {
            (Some(on_sleeper), true) => quote!(#on_sleeper.await;),
            (Some(on_sleeper), false) => quote!(#on_sleeper;),
            (None, true) => {
                quote_spanned!(self.ret_span=> #p::hold_first::<#p::DefaultSleeper, _, _>(#policy).await;)
            }
            (None, false) => quote!(#p::hold_first_sync(#policy);),
        }
    }
}
