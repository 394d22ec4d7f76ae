//! Stage 3: write the retry loop.
//!
//! The function keeps its signature, attributes and visibility; its body
//! becomes a loop in which each attempt runs the original body in its own
//! closure (sync) or `async` block, so `return` and `?` end the attempt, not
//! the function. The policy is a promoted `&'static` constant when it is
//! built from literals and presets (checked again at compile time by
//! `Policy::checked`), or the user's `policy = EXPR` evaluated per call.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{ItemFn, ReturnType, Type};

use crate::args::RetryArgs;
use crate::dsl::{BackoffSpec, JitterSpec};
use crate::validate::{self, Base, Config, When};

/// The attribute's entry point: parse, validate, expand. On any error, the
/// function is emitted untouched beside the errors, so one mistake does not
/// cascade into many.
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = syn::Error::new(
                Span::call_site(),
                "#[retry] can only be applied to a function with a body: a free function, or a method in an `impl` block",
            );
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    match RetryArgs::parse(args).and_then(|a| validate::check(a, &func)) {
        Ok(cfg) => expand(&cfg, func),
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(func.into_token_stream());
            out
        }
    }
}

fn expand(cfg: &Config, func: ItemFn) -> TokenStream {
    let ItemFn { attrs, vis, sig, block } = func;
    let rt = &cfg.krate;
    let p = quote!(#rt::__private);
    let is_async = sig.asyncness.is_some();

    let ident = |name: &str| syn::Ident::new(name, Span::mixed_site());
    let policy = ident("__retry_policy");
    let run = ident("__retry_run");
    let result = ident("__retry_result");
    let value = ident("__retry_value");
    let error = ident("__retry_error");
    let wait = ident("__retry_wait");
    let fake = ident("__retry_fake_return");

    // The attempt's type, for the "fake return edge" that pins the closure's or
    // async block's output (so `?` converts errors into it). `impl Trait`
    // cannot be written in a `let`, so it is erased to `_`.
    let (ret_ty, ret_span) = match &sig.output {
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            EraseImplTrait.visit_type_mut(&mut ty);
            let span = ty.span();
            (ty.into_token_stream(), span)
        }
        ReturnType::Default => (quote!(()), sig.ident.span()),
    };
    let fake_return = quote! {
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return
        )]
        if false {
            let #fake: #ret_ty = loop {};
            return #fake;
        }
    };
    let clones = cfg.clone.iter().map(|name| {
        quote_spanned!(name.span()=> let #name = ::core::clone::Clone::clone(&#name);)
    });
    let attempt_body = quote! {
        #(#clones)*
        #fake_return
        #block
    };

    let policy_expr = policy_expr(cfg, &p);
    let policy_binding = match cfg.base {
        Base::Policy(_) => quote!(let #policy = &(#policy_expr);),
        _ => quote!(let #policy = &const { #policy_expr.checked() };),
    };

    let on_ok = match &cfg.retry_if_ok {
        Some(pred) => quote! {
            if #pred(#value) {
                match #run.rejected() {
                    #p::Decision::Retry(#wait) => #wait,
                    #p::Decision::GiveUp(_) => return #result,
                }
            } else {
                #run.succeeded();
                return #result;
            }
        },
        None => quote! {
            #run.succeeded();
            return #result;
        },
    };
    let as_result = quote_spanned!(ret_span=> #p::as_result(&#result));
    let decide = quote! {
        let #wait = match #as_result {
            ::core::result::Result::Ok(#value) => { #on_ok }
            ::core::result::Result::Err(#error) => match #run.failed(#error) {
                #p::Decision::Retry(#wait) => #wait,
                #p::Decision::GiveUp(_) => return #result,
            },
        };
    };

    let body = if is_async {
        let attempt = match cfg.timeout {
            Some((d, span)) => {
                let d = duration(d, &p);
                quote_spanned!(span=> #p::timeout(#d, async { #attempt_body }))
            }
            None => quote!(async { #attempt_body }),
        };
        quote! {
            #policy_binding
            let mut #run = #p::Run::<_, #p::TokioClock>::new(#policy);
            loop {
                let #result = #attempt.await;
                #decide
                #p::sleep_async(#wait).await;
            }
        }
    } else {
        quote! {
            #policy_binding
            let mut #run = #p::Run::<_, #p::SyncClock>::new(#policy);
            loop {
                #[allow(clippy::redundant_closure_call)]
                let #result = (|| { #attempt_body })();
                #decide
                #p::sleep_sync(#wait);
            }
        }
    };

    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

/// The policy: the base, then each key the attribute gives.
fn policy_expr(cfg: &Config, p: &TokenStream) -> TokenStream {
    let mut e = match &cfg.base {
        Base::Default => quote!(#p::Policy::new()),
        Base::Preset(konst) => quote!(#p::presets::#konst),
        Base::Policy(expr) => quote!((#expr)),
    };
    if let Some(n) = cfg.attempts {
        let n = Literal::u32_unsuffixed(n);
        e = quote!(#e.attempts(#n));
    }
    if let Some(b) = &cfg.backoff {
        let b = backoff(b, p);
        e = quote!(#e.backoff(#b));
    }
    if let Some(j) = &cfg.jitter {
        let j = jitter(j, p);
        e = quote!(#e.jitter(#j));
    }
    if let Some(d) = cfg.max_elapsed {
        let d = duration(d, p);
        e = quote!(#e.max_elapsed(#d));
    }
    match &cfg.when {
        When::Inherit => {}
        When::Kinds(kinds) => {
            let span = cfg.when_span;
            e = quote_spanned!(span=> #e.retry_on(#p::KindSet::EMPTY #(.with(#p::ErrorKind::#kinds))*));
        }
        When::If(pred) => e = quote_spanned!(cfg.when_span=> #e.retry_if(#pred)),
    }
    let name = &cfg.name;
    e = quote!(#e.named(#name));
    if let Some(hook) = &cfg.before_sleep {
        e = quote_spanned!(hook.span()=> #e.before_sleep(#hook));
    }
    if let Some(hook) = &cfg.on_give_up {
        e = quote_spanned!(hook.span()=> #e.on_give_up(#hook));
    }
    e
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

/// `impl Trait` cannot be written in a `let` type; `_` lets inference fill it in.
struct EraseImplTrait;

impl VisitMut for EraseImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(it) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](it.impl_token.span),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}
