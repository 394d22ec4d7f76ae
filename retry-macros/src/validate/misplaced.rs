//! The checks of where the attribute is and what it is handed, beyond the
//! function's shape: `#[retry]` below `#[tracing::instrument]`, and a
//! closure parameter no clone can serve (see `item::misplaced`, which
//! recognizes both).

use proc_macro2::Span;
use syn::{FnArg, Ident, Pat};

use crate::diag::{self, Errors};
use crate::item::{ClosureTrait, FnItem};

/// `#[retry]` below `#[tracing::instrument]` (`async_trait`: the body is
/// `#[async_trait]`'s, which is retried inside `instrument`'s future).
pub(super) fn below_tracing_instrument(func: &FnItem, async_trait: bool, errors: &mut Errors) {
    // `#[retry]` below `#[tracing::instrument]` on a function that is not
    // `#[async_trait]`'s (whose boxed future is retried inside, above):
    // handed the body `instrument` wrote, each attempt would make a span
    // of its own, and would move the arguments `instrument`'s `async move`
    // block or `move` closure takes (rustc: "use of moved value").
    if !async_trait && func.written_by_tracing_instrument() {
        errors.push(syn::Error::new(
            Span::call_site(),
            "put `#[retry]` above `#[tracing::instrument]` (docs/attribute.md: \"Write \
             `#[retry]` above `#[tracing::instrument]`\"): attributes expand from the top, so \
             below it #[retry] is handed the body `instrument` wrote, and each attempt would \
             make a new span (the retry's log lines outside it) and move a by-value argument \
             that is not `Copy` (\"use of moved value\"); above it, \"`#[retry]` writes its \
             loop first, and `instrument` then runs the whole call, every attempt and wait, in \
             one span\"",
        ));
    }
}

/// The closure parameters (`F: FnMut(..)`, `impl FnOnce(..)`) that no
/// clone can serve: named in `clone` without `Clone` in their bounds, or an
/// `FnOnce` by value. (A `mut` one not in `clone` is reported with the
/// other `mut` parameters, in its own words.)
pub(super) fn closure_parameters(func: &FnItem, clone: &[Ident], errors: &mut Errors) {
    // A closure named in `clone` whose bounds have no `Clone`: rustc would
    // say "`F: Clone` is not satisfied" (and suggest calling it).
    for name in clone {
        if let Some(bound) = func.closure_bound(name).filter(|b| !b.clone) {
            errors.push(syn::Error::new(
                name.span(),
                diag::closure_parameter(&format!("clone = {name}"), name, &bound),
            ));
        }
    }
    // An `FnOnce` by value without `mut` (a `mut` one is reported above):
    // the second attempt cannot call it again (rustc: "cannot move out of
    // `f`, a captured variable in an `FnMut` closure", or "use of moved
    // value" in an async fn). One with `Clone` in its bounds can be named
    // in `clone`, or cloned in the body.
    for input in &func.sig.inputs {
        let FnArg::Typed(t) = input else { continue };
        let Pat::Ident(p) = &*t.pat else { continue };
        if p.mutability.is_some() || clone.contains(&p.ident) {
            continue;
        }
        if let Some(bound) = func.closure_bound(&p.ident) {
            if bound.kind == ClosureTrait::FnOnce && !bound.clone {
                errors.push(syn::Error::new(
                    p.ident.span(),
                    diag::closure_parameter(&p.ident.to_string(), &p.ident, &bound),
                ));
            }
        }
    }
}
