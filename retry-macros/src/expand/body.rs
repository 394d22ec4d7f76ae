//! One attempt's body as the loop runs it: the user's block with the
//! clones it takes of by-value arguments (in each attempt, or once outside
//! the loop), and the re-borrows of `&mut` arguments a generic would move.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use super::loops::ident;
use super::params::{param_cfgs, PinnedParam};
use super::Shape;
use crate::validate::Config;

/// A `&mut T` argument passed on by value to a generic (`W: Write`,
/// `BufReader::new(r)`) is moved there, not re-borrowed as it is where a
/// `&mut T` is expected: the next attempt would find it gone. Each
/// attempt re-borrows it under its own name, so the body moves (or
/// borrows) the re-borrow. (The re-borrow shadows the parameter by
/// design, with the user's span: clippy's `shadow_*` restriction lints
/// are allowed on this `let` alone.)
pub(super) fn reborrows(
    sig: &syn::Signature,
    reborrowed: &[Ident],
    pinned: &[PinnedParam],
) -> TokenStream {
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
pub(super) fn clones_outside(cfg: &Config, shape: &Shape) -> bool {
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
pub(super) fn outer_clones(
    cfg: &Config,
    sig: &syn::Signature,
    mut_names: &[(Ident, Span)],
) -> TokenStream {
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
pub(super) fn attempt_body(
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
