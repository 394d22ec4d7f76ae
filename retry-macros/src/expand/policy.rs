//! The policy expression: the base, then each key the attribute gives.

use proc_macro2::{Delimiter, Group, Ident, Literal, Spacing, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Expr;

use super::loops::ident;
use super::Shape;
use crate::diag::respan_path;
use crate::dsl::{BackoffSpec, JitterSpec};
use crate::validate::{Base, Config, When};

/// The policy: the base, then each key the attribute gives.
///
/// `receiver_moved`: in the method `#[async_trait]` rewrote, whose
/// `let __self = self;` runs before the loop, a `self` in the user's
/// `policy = EXPR` means `__self` (a `&mut self` is moved
/// there: "use of moved value" otherwise), as async-trait renames it in
/// the body.
pub(super) fn policy_expr(
    cfg: &Config,
    p: &TokenStream,
    error_of: Option<&TokenStream>,
    receiver_moved: bool,
) -> TokenStream {
    let mut e = match &cfg.base {
        Base::Default => quote!(#p::Policy::new()),
        Base::Preset(konst) => quote!(#p::presets::#konst),
        Base::Policy(expr) if receiver_moved => {
            let renamed = syn::parse2::<Expr>(receiver_renamed(expr.to_token_stream()));
            policy_arg(renamed.as_ref().unwrap_or(expr), &cfg.krate)
        }
        Base::Policy(expr) => policy_arg(expr, &cfg.krate),
    };
    if let Some(n) = cfg.attempts {
        let n = Literal::u32_unsuffixed(n);
        e = quote!(#e.with_max_attempts(#n));
    }
    if let Some(b) = &cfg.backoff {
        let b = backoff(b, p);
        e = quote!(#e.with_backoff(#b));
    }
    if let Some(j) = &cfg.jitter {
        let j = jitter(j, p);
        e = quote!(#e.with_jitter(#j));
    }
    if let Some(d) = cfg.max_elapsed {
        let d = duration(d, p);
        e = quote!(#e.with_max_elapsed(#d));
    }
    match &cfg.when {
        When::Inherit => {}
        When::Kinds(kinds) => {
            let span = cfg.when_span;
            e = quote_spanned!(span=> #e.retry_on(#p::KindSet::EMPTY #(.with(#p::ErrorKind::#kinds))*));
        }
        When::If(pred) => {
            let pred = match error_of {
                Some(result) => retry_if_closure(pred, result, p),
                None => pred.to_token_stream(),
            };
            let pred = if receiver_moved {
                receiver_renamed(pred)
            } else {
                pred
            };
            e = quote_spanned!(cfg.when_span=> #e.retry_if(#pred));
        }
    }
    // A `policy = EXPR` keeps its own name unless `name` is given.
    let name = &cfg.name;
    e = match (&cfg.base, cfg.name_given) {
        (Base::Policy(_), false) => quote!(#e.with_default_name(#name)),
        _ => quote!(#e.with_name(#name)),
    };
    if let Some(hook) = &cfg.before_sleep {
        e = quote_spanned!(hook.span()=> #e.with_before_sleep(#hook));
    }
    if let Some(hook) = &cfg.on_give_up {
        e = quote_spanned!(hook.span()=> #e.with_on_give_up(#hook));
    }
    if cfg.nested_retry {
        e = quote!(#e.with_nested(#p::Nested::Retry));
    }
    if let Some((d, _)) = cfg.hedge {
        let d = duration(d, p);
        e = quote!(#e.with_hedge(#d));
    }
    if let Some(on) = cfg.attempt_spans {
        e = quote!(#e.with_attempt_spans(#on));
    }
    e
}

/// The user's `policy = EXPR`, borrowed, and the policy it is (or points
/// at) copied out: `__private::policy(&EXPR)`, whose argument is a
/// `&Policy<W, G>`, so that deref coercion takes a reference, an `Arc` or a
/// `LazyLock` as the method calls after it did, and anything else (a
/// breaker, a preset's name, an `Option<Policy>`) is reported on `EXPR` as
/// not a `Policy` ("expected `&Policy<_, _>`"), not as a method of the
/// expansion missing on it, on the whole attribute. The call is at
/// `EXPR`'s first token, so the argument is `EXPR` to rustc; in
/// parentheses only when `&` would otherwise take less than all of it
/// (`a.or(b)` needs none, `x as P` would).
fn policy_arg(expr: &Expr, krate: &syn::Path) -> TokenStream {
    let start = expr
        .to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span());
    let p_at = respan_path(krate.to_token_stream(), "__private", start);
    let binds_tighter_than_ref = matches!(
        expr,
        Expr::Path(_)
            | Expr::Field(_)
            | Expr::Call(_)
            | Expr::MethodCall(_)
            | Expr::Lit(_)
            | Expr::Reference(_)
            | Expr::Paren(_)
            | Expr::Index(_)
            | Expr::Macro(_)
            | Expr::Struct(_)
            | Expr::Tuple(_)
            | Expr::Array(_)
            | Expr::Block(_)
            | Expr::Unary(_)
            | Expr::Try(_)
            | Expr::Await(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Unsafe(_)
            | Expr::Group(_)
    );
    let borrow = quote_spanned!(Span::call_site().located_at(start)=> &);
    if binds_tighter_than_ref {
        quote_spanned!(start=> #p_at::policy(#borrow #expr))
    } else {
        quote_spanned!(start=> #p_at::policy(#borrow (#expr)))
    }
}

/// Has async-trait's `let __self = self;` moved the receiver before the
/// loop (a method it rewrote)? Then a `self` in the attribute's
/// expressions means `__self` ([`receiver_renamed`]).
pub(super) fn receiver_moved(shape: &Shape) -> bool {
    match shape {
        Shape::AsyncTrait { rebinds, .. } => rebinds.iter().any(|s| matches!(s, syn::Stmt::Local(l) if matches!(&l.pat, syn::Pat::Ident(i) if i.ident == "__self"))),
        _ => false,
    }
}

/// `tokens` with each `self` that is the receiver (not the `self` of a
/// path, `self::item`) renamed `__self`, in nested groups too, as
/// async-trait renames the body's.
pub(super) fn receiver_renamed(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(tt) = tokens.next() {
        out.push(match tt {
            TokenTree::Ident(id) if id == "self" && !starts_path_sep(tokens.peek()) => {
                TokenTree::Ident(Ident::new("__self", id.span()))
            }
            TokenTree::Group(g) => {
                let mut renamed = Group::new(g.delimiter(), receiver_renamed(g.stream()));
                renamed.set_span(g.span());
                TokenTree::Group(renamed)
            }
            other => other,
        });
    }
    out.into_iter().collect()
}

/// Is `next` the first `:` of a `::`?
fn starts_path_sep(next: Option<&TokenTree>) -> bool {
    matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
}

/// `retry_if = pred` as `|e: &<R as IsResult>::Err| -> bool { pred(e) }`,
/// with `R` the attempt's result type (the function's return type), and
/// `bool` written `::core::primitive::bool` (a user's type may be named
/// `bool`).
///
/// Given to `retry_if` as it is, the predicate's own argument type decided
/// the error type the policy retries on, and a predicate taking anything
/// but `&E` was reported as "type mismatch resolving `<Result<T, E> as
/// IsResult>::Err == u32`" on the whole attribute (sync) or the key. In
/// the closure, whose argument is the `&E` of the return type, it is a
/// call of `pred` with a `&E`, its parentheses at `pred`: rustc reports
/// "expected `&u32`, found `&E`" there, with the predicate's signature.
/// (The closure is the macro's, so clippy's `redundant_closure` leaves
/// it alone; for a function it is zero-sized and inlined, as the
/// function item was.)
///
/// A `_` (an `impl Trait` erased: `Result<impl Display, E>`) cannot be
/// inferred inside the projection: in the first type argument only (the
/// `T` of `Result<T, E>`, of `io::Result<T>`, of an alias), it is replaced
/// with `()`, which keeps what the type (or the alias) makes of `E`;
/// elsewhere, or in a type not named `Result`, the predicate is given as
/// it is.
fn retry_if_closure(pred: &syn::Path, result: &TokenStream, p: &TokenStream) -> TokenStream {
    let at = pred
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span());
    let e = Ident::new("__retry_e", Span::mixed_site().located_at(at));
    let mut args = Group::new(Delimiter::Parenthesis, quote!(#e));
    args.set_span(at);
    let result = if has_infer(result.clone()) {
        match unit_for_first_argument(result) {
            Some(result) => result,
            None => return pred.to_token_stream(),
        }
    } else {
        result.clone()
    };
    quote!(|#e: &<#result as #p::IsResult>::Err| -> ::core::primitive::bool { #pred #args })
}

/// `result` with its last segment's first type argument replaced with
/// `()`, when the segment is `Result` and that argument holds every `_`
/// of the type.
fn unit_for_first_argument(result: &TokenStream) -> Option<TokenStream> {
    let syn::Type::Path(mut path) = syn::parse2::<syn::Type>(result.clone()).ok()? else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last_mut()?;
    // `Result<T, E>`, `io::Result<T>`, an alias named `Result`: the first
    // argument is the success type (`type Res<E, T>` may say otherwise)
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
        return None;
    };
    let first = args
        .args
        .iter_mut()
        .find(|a| matches!(a, syn::GenericArgument::Type(_)))?;
    *first = syn::GenericArgument::Type(syn::parse_quote!(()));
    let replaced = path.to_token_stream();
    (!has_infer(replaced.clone())).then_some(replaced)
}

/// Has `tokens` a `_` (nested groups included)?
fn has_infer(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(id) => id == "_",
        proc_macro2::TokenTree::Group(g) => has_infer(g.stream()),
        _ => false,
    })
}

/// `.with_circuit(&NAME).with_budget(&NAME).with_throttle(&NAME)`, for the keys given.
pub(super) fn guards(cfg: &Config) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some((breaker, span)) = &cfg.circuit {
        out.extend(quote_spanned!(*span=> .with_circuit(&#breaker)));
    }
    if let Some(budget) = &cfg.budget {
        out.extend(quote_spanned!(budget.span()=> .with_budget(&#budget)));
    }
    if let Some((throttle, span)) = &cfg.throttle {
        out.extend(quote_spanned!(*span=> .with_throttle(&#throttle)));
    }
    out
}

pub(super) fn duration(d: std::time::Duration, p: &TokenStream) -> TokenStream {
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
        // (`&const { .. }`: a `'static` slice inside the policy's own
        // `const` block, where a plain `&[..]` of calls is a temporary)
        BackoffSpec::Schedule(schedule) => {
            let waits = schedule.waits().iter().map(d);
            quote!(#p::Backoff::schedule(&const { [#(#waits),*] }))
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
pub(super) fn policy_binding(
    cfg: &Config,
    p: &TokenStream,
    shape: &Shape,
    result_of_attempt: Option<&TokenStream>,
) -> (TokenStream, TokenStream, Option<Ident>) {
    let policy = ident("__retry_policy");
    let policy_expr = policy_expr(cfg, p, result_of_attempt, receiver_moved(shape));
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
