//! Stage 3: write the retry loop.
//!
//! The function keeps its signature, attributes and visibility; its body
//! becomes a loop in which each attempt runs the original body in its own
//! closure (sync) or future (async: the body's `async` block, or the one
//! expression it awaits), so `return` and `?` end the attempt, not the
//! function. The policy is a promoted `&'static` constant when it is built
//! from literals and presets (checked again at compile time by
//! `Policy::checked`), or the user's `policy = EXPR` evaluated per call.
//!
//! This module reads the function (its shape, the parameters each attempt
//! re-borrows or clones) and picks the loop; `loops` writes each form of
//! it, `policy` the policy expression, `params` and `types` what the
//! signature decides, `attempt_param` the `#[attempt]` parameter.

use proc_macro2::{Delimiter, Group, TokenStream};
use quote::{quote, ToTokens};
use syn::{Expr, Pat, ReturnType, Stmt};

use crate::args::RetryArgs;
use crate::diag::Errors;
use crate::item::{FnItem, Instrumented};
use crate::validate::{self, Config};

mod attempt_param;
mod body;
mod loops;
mod params;
mod policy;
mod types;

use attempt_param::{bind_placeholders, strip_attempt_marks, take_attempt_params, AttemptParam};
use loops::Loop;
use params::{mut_ref_params, pinned_params, unique_receiver};
use types::future_output;

/// The attribute's entry point: parse, validate, expand. On any error, the
/// function is emitted untouched beside the errors, so one mistake does not
/// cascade into many.
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: FnItem = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let mut out = crate::item::not_a_function(&item).to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut func = func;
    let mut errors = Errors::default();
    // an error here still lets the arguments be checked (every error at once)
    let (attempt_params, attempt_error) = take_attempt_params(&mut func);
    if let Some(e) = attempt_error {
        errors.push(e);
    }
    let args = RetryArgs::parse(args, &mut errors);
    let attempt_names: Vec<String> = attempt_params
        .iter()
        .filter_map(|p| match &*p.pat {
            syn::Pat::Ident(i) => Some(i.ident.to_string()),
            _ => None,
        })
        .collect();
    match validate::check(args, &func, &attempt_names, errors) {
        // (one at most: several are an error)
        Ok(cfg) => expand(&cfg, func, attempt_params.first()),
        Err(e) => {
            let mut out = e.to_compile_error();
            strip_attempt_marks(&mut func);
            bind_placeholders(&mut func, &attempt_params);
            out.extend(func.into_token_stream());
            out
        }
    }
}

/// What the function's body is, as far as the loop is concerned.
enum Shape {
    /// The body, in its braces.
    Sync(Group),
    Async(Group),
    /// A method already rewritten by `#[async_trait]`: a sync fn whose body is
    /// `Box::pin(async move { <argument rebinds>; <typed body> })`. The loop goes
    /// inside the `async move` block, after the rebinds, and retries the
    /// other statements. (With `#[tracing::instrument]` above, that block is
    /// inside the future `instrument` wrote: it stays around them.)
    AsyncTrait {
        box_pin: Box<Expr>,
        rebinds: Vec<Stmt>,
        each: Vec<Stmt>,
        instrumented: Option<Instrumented>,
    },
}

fn expand(cfg: &Config, func: FnItem, attempt_param: Option<&AttemptParam>) -> TokenStream {
    // The new body keeps the original braces' span, so the item still counts as
    // the user's code (an unused annotated function still warns, for one).
    let brace_span = func.brace.span.join();
    let shape = if func.sig.asyncness.is_some() {
        Shape::Async(func.block())
    } else if let Some(body) = func.async_trait_body() {
        Shape::AsyncTrait {
            box_pin: body.box_pin,
            rebinds: body.rebinds,
            each: body.each,
            instrumented: body.instrumented,
        }
    } else {
        Shape::Sync(func.block())
    };
    // An async body that is one awaited expression is awaited in the loop
    // itself, its future made with the kinds published (not in an `async`
    // block of its own, which costs a state of its own to poll). Not with
    // `clone = [..]` (the clones are statements) or attempt spans (the
    // future would be made outside its span). Nor with a `timeout`, whose
    // future is awaited at the key: a body of the wrong output type would
    // be reported there, on the attribute (awaited at the body's `.await`,
    // a missing `From<AttemptTimeout>` would be reported in the body as
    // well); a timer to set costs more than the block's state.
    let awaited = match shape {
        Shape::Async(_)
            if cfg.clone.is_empty() && cfg.attempt_spans != Some(true) && cfg.timeout.is_none() =>
        {
            func.awaited_future()
        }
        _ => None,
    };
    // The names bound `mut` by value (in the signature, or in
    // `#[async_trait]`'s rebinds): their clones are `mut` too.
    let mut_names: Vec<(syn::Ident, proc_macro2::Span)> = func
        .mut_bindings()
        .into_iter()
        .map(|m| (m.name, m.at.first()))
        .collect();
    // The `&mut T` parameters the body may move (an async attempt's: all
    // of them, and a `&mut self` receiver, so that its block borrows them
    // uniquely and stays `Send`): each attempt re-borrows them (not in a
    // hedged call, whose attempts may run side by side).
    let captured = policy_captures(cfg);
    // The output each attempt returns: the declared one, or async-trait's
    // `Output = T` in `Pin<Box<dyn Future<Output = T> + Send + 'async_trait>>`.
    let output = match (&shape, &func.sig.output) {
        (Shape::AsyncTrait { .. }, ReturnType::Type(_, ty)) => future_output(ty),
        (_, ReturnType::Type(_, ty)) => Some(&**ty),
        (_, ReturnType::Default) => None,
    };
    let reborrowed = match &shape {
        _ if cfg.hedge.is_some() => Vec::new(),
        Shape::Sync(block) | Shape::Async(block) => {
            let every = matches!(shape, Shape::Async(_));
            mut_ref_params(
                &func.sig,
                output,
                &cfg.clone,
                block.stream(),
                every,
                &captured,
            )
        }
        Shape::AsyncTrait { each, .. } => mut_ref_params(
            &func.sig,
            output,
            &cfg.clone,
            quote!(#(#each)*),
            true,
            &captured,
        ),
    };
    let captured_self = captured.iter().any(|name| name == "self");
    // The `&mut self` receiver an async attempt borrows uniquely: `self`,
    // or async-trait's rebind of it, `__self`.
    let unique_self = match &shape {
        _ if cfg.hedge.is_some() => None,
        Shape::Sync(_) => None,
        Shape::Async(_) => func
            .sig
            .receiver()
            .filter(|_| unique_receiver(&func.sig, output, captured_self))
            .map(|r| r.self_token.to_token_stream()),
        Shape::AsyncTrait { rebinds, .. } => {
            let rebound_self = rebinds.iter().find_map(|s| match s {
                Stmt::Local(l) => match &l.pat {
                    Pat::Ident(i) if i.ident == "__self" => Some(i.ident.to_token_stream()),
                    _ => None,
                },
                _ => None,
            });
            rebound_self.filter(|_| unique_receiver(&func.sig, output, captured_self))
        }
    };
    // The `Pin<&mut T>` parameters: each attempt re-borrows them (not in
    // a hedged call; not in `#[async_trait]`'s future, whose rebinds of
    // the arguments are its own).
    let pinned = match &shape {
        _ if cfg.hedge.is_some() => Vec::new(),
        Shape::Sync(_) | Shape::Async(_) => pinned_params(&func.sig, output, &cfg.clone, &captured),
        Shape::AsyncTrait { .. } => Vec::new(),
    };
    let is_sync = matches!(shape, Shape::Sync(_));
    let FnItem {
        mut attrs,
        inner_attrs,
        vis,
        mut sig,
        ..
    } = func;
    // A `mut` parameter named in `clone` is only read (its clones are the
    // ones changed): the signature drops its `mut`, which would warn.
    for input in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(t) = input {
            if let Pat::Ident(p) = &mut *t.pat {
                if p.mutability.is_some() && cfg.clone.contains(&p.ident) {
                    p.mutability = None;
                }
                // A pinned parameter is re-borrowed (`Pin::as_mut(&mut p)`)
                // by each attempt: the signature binds it `mut`, its own
                // `mut` (if written) going to the attempt's re-borrow.
                if pinned.iter().any(|pinned| pinned.name == p.ident) {
                    p.mutability = Some(syn::Token![mut](p.ident.span()));
                }
            }
        }
    }
    // The body's inner attributes (`#![allow(..)]`) are not allowed where
    // the body now sits, inside a loop; they apply to the whole function,
    // so they go on it.
    for mut attr in inner_attrs {
        attr.style = syn::AttrStyle::Outer;
        attrs.push(attr);
    }
    let loops = Loop::new(
        cfg,
        &sig,
        &shape,
        brace_span,
        awaited,
        &mut_names,
        &reborrowed,
        &pinned,
        unique_self,
        attempt_param,
    );
    let body = match shape {
        Shape::Async(_) => match cfg.hedge {
            Some((_, hedge_span)) => loops.hedged(hedge_span),
            None => loops.async_loop(),
        },
        Shape::AsyncTrait {
            box_pin,
            rebinds,
            instrumented: None,
            ..
        } => {
            let async_loop = loops.async_loop();
            let rebinds = unmut_cloned(rebinds, &cfg.clone);
            quote!(#box_pin(async move { #(#rebinds)* #async_loop }))
        }
        Shape::AsyncTrait {
            box_pin,
            rebinds,
            instrumented: Some(instrumented),
            ..
        } => {
            let async_loop = loops.async_loop();
            let rebinds = unmut_cloned(rebinds, &cfg.clone);
            let future = instrumented.around(quote!(#(#rebinds)* #async_loop));
            quote!(#box_pin(#future))
        }
        // The common sync case: the loop is the runtime's `retry_sync`.
        Shape::Sync(_)
            if cfg.circuit.is_none()
                && cfg.throttle.is_none()
                && cfg.retry_if_ok.is_none()
                && cfg.stop_when.is_none()
                && attempt_param.is_none() =>
        {
            loops.retry_sync()
        }
        Shape::Sync(_) => loops.sync_loop(),
    };

    // A sync function's attempts borrow the parameters named in `clone` (each
    // clones its own), so clippy's `needless_pass_by_value` (pedantic) would
    // ask for a reference where the body, as written, takes the value. The
    // lint is about the signature only, and only an attribute on the
    // function reaches it. (An async function's future owns its arguments.)
    let by_value = (is_sync && !cfg.clone.is_empty())
        .then(|| quote!(#[allow(clippy::needless_pass_by_value)]));
    let mut braces = Group::new(Delimiter::Brace, body);
    braces.set_span(brace_span);
    quote! {
        #(#attrs)*
        #by_value
        #vis #sig #braces
    }
}

/// The names a `policy = EXPR` (or `stop_on = EXPR`) may keep borrowed while the attempts run
/// (`retry_if(|_| !self.strict)`, `pol(&self.conf.strict)`,
/// `self.conf.pred()`): every identifier of the expression, but for a
/// bare path or field (`POLICY`, `self.policy`, `cfg.retry.policy`), which
/// `__private::policy(&..)` copies. An attempt does not borrow those names
/// uniquely (E0500 "closure requires unique access ... already
/// borrowed").
fn policy_captures(cfg: &Config) -> Vec<syn::Ident> {
    fn copied(expr: &Expr) -> bool {
        match expr {
            Expr::Path(_) => true,
            Expr::Field(f) => copied(&f.base),
            Expr::Paren(p) => copied(&p.expr),
            Expr::Group(g) => copied(&g.expr),
            _ => false,
        }
    }
    let mut out = Vec::new();
    if let validate::Base::Policy(expr) = &cfg.base {
        if !copied(expr) {
            validate::idents_of(expr.to_token_stream(), &mut out);
        }
    }
    // The `stop_on = EXPR` signal is made once and held for the whole
    // call: what it names (`shutdown.recv()` through a `&mut`, a
    // `Pin<&mut F>` taken whole, `self.shutdown`) is not the attempts' to
    // re-borrow.
    for signal in [&cfg.stop_on, &cfg.stop_when].into_iter().flatten() {
        validate::idents_of(signal.to_token_stream(), &mut out);
    }
    // So is a `sleeper = EXPR` borrowed for the call when it is a place
    // (`self.timer`, `*timer`) or a closure (which borrows what it names);
    // a value made by a call (`self.timer.clone()`) borrows nothing once
    // made, and leaves the attempts' re-borrows as they are (an attempt of
    // a `&mut self` method keeps borrowing `self` uniquely, and its future
    // stays `Send` for a type that is `Send` but not `Sync`).
    if let Some(sleeper) = cfg.sleeper.as_ref().filter(|e| holds_borrow(e)) {
        validate::idents_of(sleeper.to_token_stream(), &mut out);
    }
    out
}

/// Does `&(expr)`, held for the call, keep a borrow of what `expr` names?
fn holds_borrow(expr: &Expr) -> bool {
    match expr {
        Expr::Path(_) | Expr::Closure(_) | Expr::Reference(_) => true,
        Expr::Field(f) => holds_borrow(&f.base) || matches!(&*f.base, Expr::MethodCall(_)),
        Expr::Index(i) => holds_borrow(&i.expr),
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)),
        Expr::Paren(p) => holds_borrow(&p.expr),
        Expr::Group(g) => holds_borrow(&g.expr),
        _ => false,
    }
}

/// `#[async_trait]`'s rebinds of the arguments (`let mut v = v;`), each
/// `let` of a parameter named in `clone` without its `mut`, as the
/// signature drops it: the attempts change their own clones (whose `let` is
/// `mut`), never the rebind, whose `mut` would warn as unused.
fn unmut_cloned(mut rebinds: Vec<Stmt>, clone: &[syn::Ident]) -> Vec<Stmt> {
    for stmt in &mut rebinds {
        if let Stmt::Local(local) = stmt {
            if let Pat::Ident(p) = &mut local.pat {
                if p.by_ref.is_none() && clone.contains(&p.ident) {
                    p.mutability = None;
                }
            }
        }
    }
    rebinds
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion of typical functions, checked in under `tests/snapshots/`
    /// so that a change to the generated code is seen in review. Regenerate
    /// with `UPDATE_SNAPSHOTS=1 cargo test -p retry-macros -- --test-threads=1`
    /// (one at a time: the docs test reads the snapshots this one rewrites).
    #[test]
    fn expansion_snapshots() {
        let cases = [
            (
                "sync_preset",
                quote!(preset = "webhook"),
                quote! {
                    /// Sends the webhook.
                    pub fn send_webhook(body: &Payload) -> Result<(), WebhookError> {
                        client().post(body)?;
                        Ok(())
                    }
                },
            ),
            (
                "async_clip",
                quote!(
                    attempts = 3,
                    backoff = "exp(1s,4s)",
                    retry_on = Timeout | Connect,
                    timeout = "10s"
                ),
                quote! {
                    async fn download_clip(id: &str) -> Result<PathBuf, ClipError> {
                        fetch(id).await
                    }
                },
            ),
            (
                "async_short_body",
                quote!(attempts = 5, backoff = "none"),
                quote! {
                    async fn ping(host: &str) -> Result<Duration, PingError> {
                        probe(host).await
                    }
                },
            ),
            (
                "sync_guarded",
                quote!(attempts = 3, circuit = UPSTREAM, budget = RETRIES),
                quote! {
                    fn fetch(key: &str) -> Result<Bytes, FetchError> {
                        store().get(key)
                    }
                },
            ),
            (
                "async_hedged",
                quote!(
                    attempts = 3,
                    hedge = "150ms",
                    retry_on = Timeout | Unavailable
                ),
                quote! {
                    async fn profile(id: &str) -> Result<Profile, ApiError> {
                        let raw = fetch(id).await?;
                        Ok(Profile::parse(&raw))
                    }
                },
            ),
            (
                "async_attempt_spans",
                quote!(attempts = 3, attempt_spans = true),
                quote! {
                    async fn quote(symbol: &str) -> Result<Quote, QuoteError> {
                        fetch(symbol).await
                    }
                },
            ),
            (
                // more than one awaited expression: the body is an `async` block
                "async_body_block",
                quote!(attempts = 4, retry_on = Unavailable),
                quote! {
                    async fn rate(pair: &str) -> Result<f64, RateError> {
                        let quote = fetch(pair).await?;
                        Ok(quote.mid())
                    }
                },
            ),
            (
                "async_runtime_policy",
                quote!(policy = POLICY),
                quote! {
                    async fn lookup(&self, key: &str) -> Result<Row, DbError> {
                        self.pool.get(key).await
                    }
                },
            ),
            (
                // a shutdown's signal and a policy that may hold a cooldown:
                // the first attempt's wait for it is raced with the signal
                "async_policy_stop_on",
                quote!(policy = POLICY, stop_on = shutdown.cancelled()),
                quote! {
                    async fn deliver(shutdown: &Shutdown, job: &Job) -> Result<(), SendError> {
                        send(job).await
                    }
                },
            ),
            (
                "sync_guarded_attempt_spans",
                quote!(attempts = 3, circuit = UPSTREAM, attempt_spans = true),
                quote! {
                    fn fetch(key: &str) -> Result<Bytes, FetchError> {
                        store().get(key)
                    }
                },
            ),
            (
                // a predicate whose type may involve the impl's generics:
                // the policy is a reference, not a closure returning one
                "async_retry_if",
                quote!(attempts = 3, retry_if = Self::transient),
                quote! {
                    async fn get(&self, key: &str) -> Result<Row, DbError> {
                        let row = self.pool.get(key).await?;
                        Ok(row)
                    }
                },
            ),
            (
                // a sleeper of the caller's: borrowed once, every wait on it
                "async_sleeper",
                quote!(attempts = 3, timeout = "2s", sleeper = self.timer),
                quote! {
                    async fn fetch(&self, key: &str) -> Result<Row, DbError> {
                        self.pool.get(key).await
                    }
                },
            ),
            (
                "sync_sleeper",
                quote!(attempts = 3, sleeper = |wait| shutdown.sleep(wait)),
                quote! {
                    fn write(shutdown: &Shutdown, row: &Row) -> Result<(), DbError> {
                        store().put(row)
                    }
                },
            ),
            (
                "runtime_policy_renamed_crate",
                quote!(
                    policy = self.policy,
                    retry_if_ok = is_empty,
                    clone = body,
                    crate = "rt"
                ),
                quote! {
                    fn ask(&self, body: Prompt) -> Result<Answer, AiError> {
                        self.client.ask(body)
                    }
                },
            ),
        ];
        let update = crate::snapshot::updating();
        for (name, args, item) in cases {
            crate::snapshot::check(name, retry(args, item), update);
        }
    }

    /// The expansions `retry_runtime::retry`'s rustdoc shows ("What it
    /// expands to"), with the attribute that produced each.
    const DOCUMENTED: [(&str, &str); 2] = [
        (
            "async_clip",
            r#"attempts = 3, backoff = "exp(1s,4s)", retry_on = Timeout | Connect, timeout = "10s""#,
        ),
        ("sync_preset", r#"preset = "webhook""#),
    ];

    /// A snapshot as a reader wants it: without the `__private` paths and
    /// the `__retry_` prefixes of the generated names, formatted again.
    fn readable(snapshot: &str) -> String {
        let plain = snapshot
            .replace("::retry_runtime::__private::", "")
            .replace("::core::option::Option::", "")
            .replace("::core::result::Result::", "")
            .replace("__retry_", "");
        let file: syn::File = syn::parse_str(&plain).expect("still valid Rust");
        prettyplease::unparse(&file)
    }

    /// The "What it expands to" section of the runtime's rustdoc for
    /// `#[retry]` is made from the expansion snapshots, so it cannot drift
    /// from what the macro writes: this test fails when it differs, and
    /// `UPDATE_SNAPSHOTS=1 cargo test -p retry-macros -- --test-threads=1`
    /// rewrites it (after the snapshots it reads).
    #[test]
    fn the_runtime_docs_show_the_expansion() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let mut block = vec!["/// ```text".to_string()];
        for (i, (name, args)) in DOCUMENTED.iter().enumerate() {
            let path = format!("{dir}/tests/snapshots/{name}.rs.snap");
            let snapshot = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            if i > 0 {
                block.push("///".into());
            }
            block.push(format!("/// // #[retry({args})]"));
            for line in readable(&snapshot).lines() {
                block.push(format!("/// {line}").trim_end().to_string());
            }
        }
        block.push("/// ```".into());

        let lib = format!("{dir}/../retry-runtime/src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap_or_else(|e| panic!("{lib}: {e}"));
        let lines: Vec<&str> = text.lines().collect();
        let heading = lines
            .iter()
            .position(|l| *l == "/// # What it expands to")
            .expect("the section heading in retry-runtime/src/lib.rs");
        let start = heading
            + lines[heading..]
                .iter()
                .position(|l| *l == "/// ```text")
                .expect("a text block after the heading");
        let end = start
            + 1
            + lines[start + 1..]
                .iter()
                .position(|l| *l == "/// ```")
                .expect("the block's end");
        let current: Vec<String> = lines[start..=end].iter().map(|l| l.to_string()).collect();
        if current == block {
            return;
        }
        if crate::snapshot::updating() {
            let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
            out.extend(block);
            out.extend(lines[end + 1..].iter().map(|l| l.to_string()));
            let mut out = out.join("\n");
            out.push('\n');
            std::fs::write(&lib, out).unwrap_or_else(|e| panic!("{lib}: {e}"));
            return;
        }
        panic!(
            "retry-runtime/src/lib.rs shows an expansion that is no longer what #[retry] writes; \
             rerun with UPDATE_SNAPSHOTS=1. Expected:\n{}",
            block.join("\n")
        );
    }

    /// `#[attempt]` on a method `#[async_trait]` rewrote gets its own
    /// message, not the boxed-future one (the mark was taken out before the
    /// shape was looked for, so async-trait's `let a = a;` no longer matched
    /// a parameter), and the method keeps its parameters, marks stripped.
    #[test]
    fn an_attempt_parameter_on_an_async_trait_method_is_refused_as_such() {
        let method = quote! {
            fn load<'a>(&'a self, id: u32, #[attempt] a: Attempt) -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + 'a>> {
                Box::pin(async move {
                    if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u32, E>> {
                        #[allow(unreachable_code)]
                        return __ret;
                    }
                    let __self = self;
                    let id = id;
                    let a = a;
                    let __ret: Result<u32, E> = { Ok(id + a.number) };
                    #[allow(unreachable_code)]
                    __ret
                })
            }
        };
        let out = retry(quote!(attempts = 3), method).to_string();
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
        assert!(
            out.contains("is not supported on an `#[async_trait]` method"),
            "{out}"
        );
        assert!(!out.contains("returns the future it builds"), "{out}");
        assert!(out.contains("id : u32 , a : Attempt"), "{out}");
        assert!(!out.contains("# [attempt]"), "{out}");
    }

    #[test]
    fn async_trait_argument_rebinds_run_once_before_the_loop() {
        // What `#[async_trait]` writes for `async fn put(RECEIVER, v: String, (a, b): (u8, u8))`.
        let method = |receiver: TokenStream| {
            quote! {
                fn put<'a>(#receiver, v: String, __arg2: (u8, u8)) -> Pin<Box<dyn Future<Output = Result<usize, E>> + Send + 'a>> {
                    Box::pin(async move {
                        if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<usize, E>> {
                            #[allow(unreachable_code)]
                            return __ret;
                        }
                        let __self = self;
                        let v = v;
                        let (a, b) = { let __arg2 = __arg2; __arg2 };
                        let __ret: Result<usize, E> = { __self.store(v, a, b).await };
                        #[allow(unreachable_code)]
                        __ret
                    })
                }
            }
        };
        for receiver in [quote!(&'a mut self), quote!(&self), quote!(self: Box<Self>)] {
            let out = retry(quote!(attempts = 2), method(receiver)).to_string();
            assert!(!out.contains("compile_error"), "{out}");
            let loop_at = out.find("loop").expect("a loop");
            for rebind in [
                "let __self = self ;",
                "let v = v ;",
                "let (a , b) = { let __arg2 = __arg2 ; __arg2 } ;",
            ] {
                let at = out
                    .find(rebind)
                    .unwrap_or_else(|| panic!("{rebind} in {out}"));
                assert!(at < loop_at, "{rebind} runs once, before the loop: {out}");
                assert_eq!(out.matches(rebind).count(), 1, "{out}");
            }
            // the type-pinning `if let` stays in the attempt
            assert!(
                out.find("None :: < Result < usize , E > >").unwrap() > loop_at,
                "{out}"
            );
        }
    }

    #[test]
    fn under_tracing_instrument_the_loop_runs_inside_its_future() {
        // What `#[tracing::instrument]` writes from async-trait's body for
        // `async fn get(&self, key: String)`, with `err` and `ret` or not:
        // the input in which item/'s tests find that body.
        let async_trait = crate::item::async_trait_block();
        for (err, ret) in [(false, false), (true, false), (false, true), (true, true)] {
            let method = crate::item::instrumented(async_trait.clone(), err, ret);
            let out = retry(quote!(attempts = 2), method).to_string();
            assert!(!out.contains("compile_error"), "{out}");
            let loop_at = out.find("loop").expect("a loop");
            // the span, instrument's future, async-trait's rebinds: once,
            // before the loop; the events and the instrumenting after it
            for once in [
                "let __tracing_attr_span =",
                "let __tracing_instrument_future = async move {",
                "let __self = self ;",
                "let key = key ;",
            ] {
                let at = out.find(once).unwrap_or_else(|| panic!("{once} in {out}"));
                assert!(at < loop_at, "{once} before the loop: {out}");
                assert_eq!(out.matches(once).count(), 1, "{out}");
            }
            let events = [(err, "error = % e"), (ret, "return = ? x")];
            for after in events
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, event)| *event)
                .chain([":: tracing :: Instrument :: instrument"])
            {
                assert!(out.find(after).unwrap() > loop_at, "{after}: {out}");
            }
            // the attempt: async-trait's statements, with the type pin
            assert!(
                out.find("None :: < Result < u32 , E > >").unwrap() > loop_at,
                "{out}"
            );
        }
    }

    #[test]
    fn renamed_crate_leaves_no_trace_of_retry_runtime() {
        let out = retry(
            quote!(crate = "rt", retry_on = Timeout),
            quote!(
                fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        let text = out.to_string();
        assert!(!text.contains("retry_runtime"), "{text}");
        assert!(text.contains("rt :: __private"), "{text}");
    }

    #[test]
    fn errors_keep_the_function_and_never_panic() {
        let out = retry(
            quote!(attempts = 0, bogus = 1),
            quote!(
                fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("fn f"), "{out}");
        for args in [
            quote!(attempts =),
            quote!(retry_on = ,),
            quote!(=),
            quote!(policy = fn),
        ] {
            let out = retry(
                args,
                quote!(
                    async fn f() -> Result<(), E> {
                        Ok(())
                    }
                ),
            )
            .to_string();
            assert!(
                out.contains("compile_error") && out.contains("fn f"),
                "{out}"
            );
        }
        for item in [
            quote!(
                struct S;
            ),
            quote!(),
            quote!(fn),
            quote!(impl X {}),
        ] {
            assert!(retry(quote!(), item).to_string().contains("compile_error"));
        }
    }

    /// A `policy` that is a path or a field (`POLICY`, `self.policy`, in
    /// parentheses or not, or a macro's `$policy:expr`, in rustc's
    /// invisible group) is copied by `__private::policy(&..)` and keeps no
    /// borrow of `self`: an async attempt borrows a `&mut self` receiver
    /// uniquely (so the future is `Send` for a `Send + !Sync` type). One
    /// that may keep a borrow of `self` leaves it shared.
    #[test]
    fn a_copied_policy_leaves_the_receiver_to_the_attempts() {
        let borrows_uniquely = |policy: TokenStream| {
            let method = quote! {
                async fn get(&mut self) -> Result<u32, E> {
                    let n = self.fetch().await?;
                    Ok(n)
                }
            };
            retry(quote!(policy = #policy), method)
                .to_string()
                .contains("borrow_uniquely (& mut * self)")
        };
        let grouped = Group::new(Delimiter::None, quote!(self.policy));
        for copied in [
            quote!(POLICY),
            quote!(self.policy),
            quote!((self.policy)),
            quote!(#grouped),
        ] {
            assert!(borrows_uniquely(copied.clone()), "{copied}");
        }
        for borrowing in [quote!(self.policy()), quote!(policy_for(&self.conf))] {
            assert!(!borrows_uniquely(borrowing.clone()), "{borrowing}");
        }
    }
}
