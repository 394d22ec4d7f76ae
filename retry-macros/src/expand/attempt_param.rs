//! The `#[attempt]` parameter: taken out of the signature, bound by each attempt.

use syn::Pat;

use crate::item::FnItem;

/// A parameter marked `#[attempt]`: not part of the function's signature
/// (callers do not pass it); each attempt binds it to the
/// `retry_runtime::Attempt` it is about to make.
pub(super) struct AttemptParam {
    pub(super) pat: Box<Pat>,
    pub(super) ty: Box<syn::Type>,
}

/// Removes the `#[attempt]` marks a refused `#[async_trait]` method kept
/// (see [`take_attempt_params`]), so that the method is emitted without an
/// attribute rustc does not know.
pub(super) fn strip_attempt_marks(func: &mut FnItem) {
    for arg in &mut func.sig.inputs {
        if let syn::FnArg::Typed(t) = arg {
            t.attrs.retain(|a| !a.path().is_ident("attempt"));
        }
    }
}

/// Takes the `#[attempt]` parameters out of the signature: every one
/// marked, and an error when there are several (at most one is allowed).
/// On an error the marked parameters are left out all the same: the
/// function is emitted with the signature its callers use, its body
/// binding them ([`bind_placeholders`]).
///
/// Not with `#[async_trait]`, which has already made the parameter one its
/// callers pass and rebound it in its boxed future (`let a = a;`): refused
/// before the parameter is taken out, since that shape is recognized by
/// those rebinds matching the parameters. The parameters are kept, so the
/// method is emitted as async-trait wrote it, and so are the marks until
/// then (the checks skip a marked parameter: [`strip_attempt_marks`]).
pub(super) fn take_attempt_params(func: &mut FnItem) -> (Vec<AttemptParam>, Option<syn::Error>) {
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
            return (Vec::new(), Some(e));
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
    let mut found = Vec::new();
    for (arg, punct, marked) in params {
        match arg {
            syn::FnArg::Typed(t) if marked => {
                found.push(AttemptParam {
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
    (found, errors)
}

/// For a function emitted beside errors without its `#[attempt]`
/// parameters: binds each at the start of the body, with its pattern and
/// type, to a value never made (a call of a function that would panic,
/// which never runs: the function does not compile), so that the body
/// still finds its names and the parameter's type is still used (no
/// "cannot find value", no "unused import: `Attempt`" beside the errors).
/// A `const fn` of its own, not `unreachable!()` itself (the rest of the
/// body would be "unreachable statement"s) nor a closure called (E0015 in
/// a `const fn`, which `#[retry]` refuses with its own error).
pub(super) fn bind_placeholders(func: &mut FnItem, params: &[AttemptParam]) {
    if params.is_empty() {
        return;
    }
    let binds = params.iter().map(|AttemptParam { pat, ty }| {
        quote::quote_spanned! {pat_span(pat)=>
            let #pat: #ty = {
                const fn __retry_never<T>() -> T {
                    ::core::unreachable!()
                }
                __retry_never()
            };
        }
    });
    let body = std::mem::take(&mut func.body);
    func.body = quote::quote!(#(#binds)* #body);
}

fn pat_span(pat: &Pat) -> proc_macro2::Span {
    syn::spanned::Spanned::span(pat)
}
