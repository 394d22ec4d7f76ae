//! Stage 2: check the arguments against each other and against the
//! function, collecting every error with the span of the token at fault,
//! and produce the typed [`Config`] that `expand` writes out.

use std::time::Duration;

use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, LitStr, Pat, Path, ReturnType};

use crate::args::RetryArgs;
use crate::diag::{self, Errors, Given};
use crate::dsl::{self, BackoffSpec, JitterSpec};
use crate::item::{BuiltFuture, FnItem, MutKind};
use crate::vocab::{self, Key, KindsAre, NestedAre, KINDS, PRESETS};

mod misplaced;
mod waits;

/// Where the policy starts from, before the other keys override it.
pub enum Base {
    /// `Policy::new()`: 3 attempts, exponential 1s..10s, every error retried.
    Default,
    /// A preset constant, by its name in `retry_runtime::presets`.
    Preset(Ident),
    /// The user's own expression (`policy = EXPR`).
    Policy(Box<Expr>),
}

/// Which errors to retry, when the attribute says.
pub enum When {
    /// As the base policy says.
    Inherit,
    /// `retry_on = A | B`.
    Kinds(Vec<Ident>),
    /// `retry_if = path`.
    If(Path),
}

/// Everything `expand` needs, checked.
pub struct Config {
    pub krate: Path,
    pub base: Base,
    pub attempts: Option<u32>,
    pub backoff: Option<BackoffSpec>,
    pub jitter: Option<JitterSpec>,
    pub max_elapsed: Option<Duration>,
    /// `timeout = ..`: the per-attempt limit, and the key's span.
    pub timeout: Option<(AttemptLimit, Span)>,
    /// `hedge = "..."`: the delay before the next attempt starts beside a
    /// slow one (an `async fn` only), and the key's span.
    pub hedge: Option<(Duration, Span)>,
    pub when: When,
    /// The key that chose which errors are retried (`retry_on`, `retry_if`,
    /// `preset`, `policy`): where an unsatisfied `Classify` bound is reported.
    pub when_span: Span,
    pub retry_if_ok: Option<Path>,
    pub name: LitStr,
    /// Was `name` given (rather than the function's name)?
    pub name_given: bool,
    pub before_sleep: Option<Path>,
    pub on_give_up: Option<Path>,
    pub clone: Vec<Ident>,
    /// `circuit = NAME`, and the key's span (a missing `From<CircuitOpen>` is reported there).
    pub circuit: Option<(Path, Span)>,
    pub budget: Option<Path>,
    /// `throttle = NAME`, and the key's span (a missing `From<Throttled>` is reported there).
    pub throttle: Option<(Path, Span)>,
    /// `nested = "retry"`: keep the function's own retries inside another
    /// retried call (`"defer"`, the default, is not written out).
    pub nested_retry: bool,
    /// `stop_on = EXPR`: the call's stop signal, a future made once per
    /// call (an `async fn` only, not hedged).
    pub stop_on: Option<Expr>,
    /// `stop_when = EXPR`: a sync function's stop, a `bool` asked after
    /// each failed attempt and after each wait.
    pub stop_when: Option<Expr>,
    /// `sleeper = EXPR`: the timer of the waits (an async function's
    /// `Sleeper`, a sync one's `BlockingSleeper`), borrowed once per call;
    /// its type is checked where it is borrowed.
    pub sleeper: Option<Expr>,
    /// `attempt_spans = true|false`: sets the policy's attempt spans; with
    /// `true`, the loop runs each attempt in its span.
    pub attempt_spans: Option<bool>,
}

/// The per-attempt limit of `timeout = ..`.
pub enum AttemptLimit {
    /// `timeout = "10s"`: checked when the function is compiled.
    Fixed(Duration),
    /// `timeout = value`: a `Duration` or an `Option<Duration>` (`None`: no
    /// limit), evaluated before each attempt.
    Value(Box<Expr>),
}

/// Check `args` against each other and `func`; `attempt_names` are the
/// names of the `#[attempt]` parameters taken out of `func`'s signature;
/// `errors` holds the errors found so far (the arguments' syntax errors),
/// and the result has them all.
pub fn check(
    args: RetryArgs,
    func: &FnItem,
    attempt_names: &[String],
    mut errors: Errors,
) -> syn::Result<Config> {
    let sig = &func.sig;
    // (asked before the arguments are moved out of `args`)
    let clone_unread = args.unread(Key::Clone);

    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new(
            c.span,
            "#[retry] cannot be used on a `const fn`: retrying sleeps, which a const fn cannot do",
        ));
    }
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!("#[retry] needs a function that returns `Result<T, E>`; `{}` returns `()`, so there is no error to retry on", sig.ident),
        ));
    }
    // A method `#[async_trait]` rewrote: its boxed future is retried inside.
    // Any other sync function whose body is `Box::pin(async { .. })` only
    // builds the future: its attempts would not run it.
    let async_trait = func.async_trait_body().is_some();
    if let (false, Some(span)) = (async_trait, func.boxed_future()) {
        errors.push(syn::Error::new(
            span,
            "#[retry] cannot retry a function that returns the future it builds: an attempt would \
             only build the future, not run it; move the body into an `async fn` with #[retry] on it \
             and return `Box::pin(that_fn(..))` here (a boxed future is retried inside only when \
             `#[async_trait]` wrote it: `#[async_trait]` on the impl, #[retry] on its `async fn`)",
        ));
    }
    // `#[retry]` below `#[tokio::test]` or `#[tokio::main]` (or actix's) is
    // handed the sync function they made of the `async fn`, and retries it as one: a
    // runtime for each attempt, blocking waits between them. That has
    // always compiled and worked (a flaky test retried whole), so it stays;
    // but `timeout` and `hedge` need the `async fn`, and the function the
    // user wrote is one: say where to put the attribute rather than "needs
    // an `async fn`". The function is then checked as the `async fn` it was
    // written as.
    let async_keys = args.timeout.get().is_some()
        || args.timeout_expr.get().is_some()
        || args.hedge.get().is_some()
        || args.stop_on.get().is_some();
    let runtime_entry = func.runtime_entry().filter(|_| async_keys);
    if let Some(entry) = runtime_entry {
        errors.push(syn::Error::new(
            Span::call_site(),
            format!(
                "put `#[retry]` above `{entry}`: attributes expand from the top, so below it \
                 #[retry] is handed the sync function `{entry}` made of this `async fn`, which \
                 blocks on the body in a runtime of its own, and `timeout`, `hedge` and \
                 `stop_on` need the `async fn` itself"
            ),
        ));
    }
    misplaced::below_tracing_instrument(func, async_trait, &mut errors);
    let written_async = sig.asyncness.is_some() || runtime_entry.is_some();
    // A sync function whose body ends in an `async` block, or that
    // returns `impl Future`, builds the future too: its attempts would not
    // run it. (Not one tokio wrote: that error says what to do.)
    let built = match (async_trait, func.boxed_future(), runtime_entry) {
        (false, None, None) => func.built_future(),
        _ => None,
    };
    if let Some(built) = built {
        let (span, body) = match built {
            BuiltFuture::AsyncBlock(span) => (span, "the `async` block's body as its body"),
            BuiltFuture::ImplFuture(span) => (span, "awaiting the future this one returns"),
        };
        errors.push(syn::Error::new(
            span,
            diag::built_future(body, func.promises_send_future()),
        ));
    }
    // A sync attempt is a closure, which does not take its caller's
    // location: `Location::caller()` and `unwrap()` panics in the body would
    // report the body's line. (Stable Rust has no `#[track_caller]` on
    // closures. An async fn's is a no-op that rustc warns about, and an
    // `#[async_trait]` method's never reached its `async` block.)
    if !written_async && !async_trait {
        // (rustc has applied each `cfg_attr` by now: one that gives
        // `track_caller` is seen as `#[track_caller]`)
        let marked = func
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("track_caller"));
        for attr in marked {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[track_caller]` cannot be kept under #[retry]: each attempt runs the body in a \
                 closure, which does not take its caller's location (stable Rust has no \
                 `#[track_caller]` on closures), so `Location::caller()` and `unwrap()` panics in \
                 the body would report the body's line; remove it, or keep what needs the \
                 caller's location in a function that calls this one",
            ));
        }
    }
    for attr in &func.attrs {
        if attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "retry")
        {
            errors.push(syn::Error::new(attr.span(), "#[retry] is applied twice to this function; merge the arguments into one attribute"));
        }
    }

    let attempts = args.attempts.get().and_then(|a| {
        match a.value.base10_parse::<u32>() {
            Ok(0) => errors.push(syn::Error::new(
                a.value.span(),
                "`attempts = 0` would never call the function: attempts counts calls (the first included), so it must be at least 1",
            )),
            Ok(n) => return Some(n),
            Err(_) => errors.push(syn::Error::new(a.value.span(), "`attempts` must be a whole number from 1 to 4294967295")),
        }
        None
    });

    let backoff = args
        .backoff
        .get()
        .and_then(|a| dsl_value(&a.value, dsl::parse_backoff, &mut errors));

    let jitter = args
        .jitter
        .get()
        .and_then(|a| dsl_value(&a.value, dsl::parse_jitter, &mut errors));
    waits::check(&args, attempts, backoff, jitter, &mut errors);
    let max_elapsed = args
        .max_elapsed
        .get()
        .and_then(|a| positive_duration(a, &mut errors));
    // Each key's value is checked even when the key is also reported as
    // misplaced (on a sync fn) or conflicting: both are for the user to fix.
    let timeout_arg = args.timeout.get();
    let timeout_blocking = !written_async && !async_trait;
    let timeout_at = timeout_arg
        .map(|a| a.at)
        .or_else(|| args.timeout_expr.get().map(|a| a.at));
    if let Some(at) = timeout_at.filter(|_| timeout_blocking) {
        errors.at(
            at,
            "`timeout` needs an `async fn`: a blocking call cannot be interrupted; for a sync function, set the timeout on the client (e.g. a socket or HTTP client timeout); an `async fn` that an attribute above `#[retry]` made sync (a runtime's `main` or `test`) takes `#[retry]` above that attribute",
        );
    }
    // one `timeout`, a literal or a value (two literals, or two values,
    // are their slot's duplicate)
    if let (Some(lit), Some(value)) = (timeout_arg, args.timeout_expr.get()) {
        let (first, second) = if lit.pos < value.pos {
            (lit.at, value.at)
        } else {
            (value.at, lit.at)
        };
        errors.at(second, "duplicate `timeout` argument; give each key once");
        errors.at(first, "`timeout` first given here");
    }
    let timeout_value = timeout_arg.and_then(|a| positive_duration(a, &mut errors));
    let timeout = timeout_value
        .zip(timeout_arg)
        .filter(|_| !timeout_blocking)
        .map(|(d, a)| (d, a.at.first()));

    // A shutdown's signal is raced with the waits of an async loop; a sync
    // wait cannot be raced, and hedged attempts take no signal.
    if let Some(a) = args.stop_on.get() {
        if timeout_blocking {
            errors.at(
                a.at,
                "`stop_on` needs an `async fn`: a sync wait cannot be raced against a signal; a sync function takes `stop_when = flag` (a `bool`, asked after each failed attempt and after each wait), with `sleeper = ..` a blocking sleeper that wakes on the flag to cut the wait (`retry_runtime::BlockingSleeper`'s rustdoc, \"Ctrl-C\"); an `async fn` that an attribute above `#[retry]` made sync (a runtime's `main` or `test`) takes `#[retry]` above that attribute",
            );
        }
        if let Some(h) = args.hedge.get() {
            errors.at(
                later(a, h),
                "`stop_on` and `hedge` cannot be combined: a hedged call takes no stop signal (drop the call to stop its attempts)",
            );
        }
    }

    // A sync function's stop is a flag asked between attempts; an async
    // one's is a future its waits are raced with.
    if let Some(a) = args.stop_when.get().filter(|_| !timeout_blocking) {
        errors.at(
            a.at,
            "`stop_when` is for a sync function, whose wait cannot be raced: an `async fn` takes `stop_on = signal` (a future, e.g. `shutdown.cancelled()`: its wait ends at once when it fires)",
        );
    }

    let hedge = args.hedge.get().and_then(|a| {
        let blocking = !written_async || async_trait;
        if blocking {
            errors.at(
                a.at,
                "`hedge` needs an `async fn` (not an `#[async_trait]` method): hedged attempts run side by side, which a blocking call cannot; an `async fn` that an attribute above `#[retry]` made sync (a runtime's `main` or `test`) takes `#[retry]` above that attribute",
            );
        }
        if let Some(pred) = args.retry_if_ok.get() {
            errors.at(
                later(a, pred),
                "`hedge` and `retry_if_ok` cannot be combined: a hedged call keeps the first success",
            );
        }
        // Hedged attempts run side by side in one closure that borrows the
        // arguments: they can read through a `&mut` argument, not change
        // what it points at. A write the tokens show is refused here, on
        // the key; one they do not (a method taking `&mut self`) is
        // rustc's error about the closure, at the key too (`expand`).
        if let Some((name, at)) = func.write_through_mut_param().filter(|_| !blocking) {
            let param = if name == "self" {
                "`&mut self`".to_string()
            } else {
                format!("the `&mut` argument `{name}`")
            };
            errors.at(
                a.at,
                format!(
                    "`hedge` runs attempts side by side, which share the function's arguments: \
                     they can read through {param}, but this body changes what it points at; \
                     keep what changes behind a `Mutex` or an atomic (and take `&` instead), \
                     or drop `hedge`"
                ),
            );
            errors.at(at, format!("`{name}` changed here"));
        }
        let d = dsl_value(&a.value, dsl::parse_duration, &mut errors)?;
        if d.is_zero() {
            errors.push(syn::Error::new(
                a.value.span(),
                format!(
                    "`hedge = \"{}\"` would start every attempt at once; give a delay near the call's usual (p95) latency",
                    a.value.value()
                ),
            ));
            return None;
        }
        // A hedge starts beside an attempt still in flight: not at or after
        // `max_elapsed` (no attempt starts then), nor at or after `timeout`
        // (the attempt it would join has timed out).
        let limits = [
            (max_elapsed, args.max_elapsed.get(), "no hedge could start"),
            (
                timeout_value,
                timeout_arg,
                "each attempt times out before its hedge could start beside it",
            ),
        ];
        let mut reachable = true;
        // At most `attempts` run at once: one leaves no room for a hedge
        // (`Policy::build` refuses it as `HedgeWithOneAttempt`).
        if let (Some(1), Some(given)) = (attempts, args.attempts.get()) {
            errors.at(
                later(a, given),
                format!(
                    "`hedge = \"{}\"` with `attempts = 1` could never start a hedge: at most `attempts` calls run at once; give `attempts = 2` or more, or drop `hedge`",
                    a.value.value(),
                ),
            );
            reachable = false;
        }
        for (limit, given, why) in limits {
            if let (Some(limit), Some(given)) = (limit, given) {
                if d >= limit {
                    errors.at(
                        later(a, given),
                        format!(
                            "`hedge = \"{}\"` is not below `{} = \"{}\"`: {why}; give a delay near the call's usual (p95) latency",
                            a.value.value(),
                            given.text,
                            given.value.value(),
                        ),
                    );
                    reachable = false;
                }
            }
        }
        (reachable && !blocking).then_some((d, a.at.first()))
    });

    let preset = args.preset.into_given();
    let policy = args.policy.into_given();
    // What decides which errors are retried when neither `retry_on` nor
    // `retry_if` is given, for errors about the error type.
    let inherited_when_span = match (&preset, &policy) {
        (Some(preset), _) => preset.value.span(),
        (None, Some(policy)) => policy.value.span(),
        (None, None) => Span::call_site(),
    };
    let base = match (preset, policy) {
        (Some(preset), Some(policy)) => {
            errors.at(
                later(&preset, &policy),
                "`preset` and `policy` cannot be combined: both choose the starting policy; keep one and override single keys (e.g. `attempts = 5`)",
            );
            preset_base(&preset, &mut errors);
            Base::Default
        }
        (Some(preset), None) => preset_base(&preset, &mut errors),
        (None, Some(policy)) => Base::Policy(Box::new(policy.value)),
        (None, None) => Base::Default,
    };

    let (when, when_span) = match (args.retry_on.into_given(), args.retry_if.into_given()) {
        (Some(on), Some(pred)) => {
            let later = later(&on, &pred);
            errors.at(
                later,
                "`retry_on` and `retry_if` cannot be combined: use `retry_on` for error kinds, or `retry_if` with a predicate that checks everything you need",
            );
            check_kinds(&on.value, &mut errors);
            (When::Inherit, later.first())
        }
        (Some(on), None) => {
            check_kinds(&on.value, &mut errors);
            (When::Kinds(on.value), on.at.first())
        }
        (None, Some(pred)) => (When::If(pred.value), pred.at.first()),
        (None, None) => (When::Inherit, inherited_when_span),
    };

    let clone = match args.clone.into_given() {
        Some(given) if given.value.is_empty() => {
            errors.at(
                given.at,
                "`clone = []` clones nothing: name the by-value arguments each attempt clones \
                 (`clone = body`, `clone = [body, headers]`), or leave `clone` out",
            );
            Vec::new()
        }
        Some(given) => given.value,
        None => Vec::new(),
    };
    for name in diag::repeats(&clone) {
        errors.at(
            name.span(),
            format!("`clone` names `{name}` twice; name each argument once"),
        );
    }
    // the parameters `clone` can name: those bound to a plain name
    let params: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    // the parameters a misspelled `clone` name was likely meant for: their
    // `mut` check below would only repeat the error
    let mut meant: Vec<&str> = Vec::new();
    for name in &clone {
        let wanted = name.to_string();
        if attempt_names.contains(&wanted) {
            errors.push(syn::Error::new(
                name.span(),
                format!(
                    "`clone = {name}`: `{name}` is the `#[attempt]` parameter, which each attempt is \
                     handed afresh: there is nothing to clone; leave it out of `clone`"
                ),
            ));
        } else if !params.contains(&wanted.as_str()) {
            meant.extend(crate::dsl::closest(&wanted, &params));
            let known = if params.is_empty() {
                "it has no named parameters".to_string()
            } else {
                format!(
                    "{}its parameters are: {}",
                    diag::did_you_mean(&wanted, &params),
                    diag::quote_list(&params)
                )
            };
            errors.push(syn::Error::new(
                name.span(),
                format!(
                    "`clone = {name}`: `{}` has no parameter named `{name}`; {known}",
                    sig.ident
                ),
            ));
        }
    }

    // A `mut` by-value parameter would carry one attempt's changes into the
    // next (each attempt borrows it): it must be cloned for each attempt.
    // Not asked when `clone` may have been meant but could not be read.
    let mut_bindings = if clone_unread {
        Vec::new()
    } else {
        func.mut_bindings()
    };
    let reported: Vec<Ident> = mut_bindings.iter().map(|m| m.name.clone()).collect();
    // (a `mut` parameter the `stop_on` signal takes, `mut rx` for
    // `rx.recv()`, is the signal's for the whole call: the attempts cannot
    // change it, and rustc says so if they try)
    let signal_names = args.stop_on.get().map_or_else(Vec::new, |a| {
        let mut names = Vec::new();
        idents_of(a.value.to_token_stream(), &mut names);
        names
    });
    // (and one only a `stop_when` flag names, `mut rx` for
    // `rx.try_recv().is_ok()`: the flag is asked between attempts, and
    // the attempts do not touch it; one the body names too is the
    // attempts', whose changes the flag's would carry on)
    let flag_names = args.stop_when.get().map_or_else(Vec::new, |a| {
        let (mut names, mut in_body) = (Vec::new(), Vec::new());
        idents_of(a.value.to_token_stream(), &mut names);
        idents_of(func.body.clone(), &mut in_body);
        names.retain(|n| !in_body.contains(n));
        names
    });
    for m in mut_bindings {
        let named = clone.contains(&m.name) || meant.contains(&m.name.to_string().as_str());
        if m.kind == MutKind::Param
            && (signal_names.contains(&m.name) || flag_names.contains(&m.name))
        {
            continue;
        }
        if !(m.kind == MutKind::Param && named) {
            // (a closure no clone can serve: what to take instead)
            let closure = match m.kind {
                MutKind::Param => func.closure_bound(&m.name).filter(|b| !b.clone),
                _ => None,
            };
            let message = match closure {
                Some(bound) => diag::closure_parameter(&format!("mut {}", m.name), &m.name, &bound),
                None => diag::mut_parameter(&m),
            };
            errors.at(m.at, message);
        }
    }
    misplaced::closure_parameters(func, &clone, &mut errors);
    // A transaction by value without `mut` (rusqlite's `commit(self)`
    // needs none): rustc would say E0507 inside the expansion.
    if !clone_unread {
        for name in func.transactions_by_value() {
            let named = clone.contains(&name) || meant.contains(&name.to_string().as_str());
            // (an `#[async_trait]` method's `mut tx`, rebound `let mut tx`,
            // is reported once, above)
            if !(named || reported.contains(&name)) {
                errors.push(syn::Error::new(
                    name.span(),
                    diag::transaction_parameter(&name.to_string(), &name),
                ));
            }
        }
    }

    let nested_retry = args.nested.get().is_some_and(|a| {
        let value = a.value.value();
        match value.as_str() {
            "retry" => true,
            "defer" => false,
            other => {
                errors.push(syn::Error::new(
                    a.value.span(),
                    diag::unknown("`nested` value", other, &["retry", "defer"], NestedAre),
                ));
                false
            }
        }
    });

    let name_given = args.name.get().is_some();
    let name = match args.name.into_given() {
        Some(n) => {
            if n.value.value().trim().is_empty() {
                errors.push(syn::Error::new(
                    n.value.span(),
                    "`name` must not be empty: it names the operation in log lines",
                ));
            }
            n.value
        }
        // `fn r#try` is the operation `try` in log lines
        None => LitStr::new(&sig.ident.unraw().to_string(), sig.ident.span()),
    };

    errors.finish()?;
    Ok(Config {
        krate: args
            .krate
            .into_given()
            .map(|a| a.value)
            .unwrap_or_else(|| syn::parse_quote!(::retry_runtime)),
        base,
        attempts,
        backoff,
        jitter,
        max_elapsed,
        timeout: match (timeout, args.timeout_expr.into_given()) {
            (Some((d, span)), _) => Some((AttemptLimit::Fixed(d), span)),
            (None, Some(a)) if !timeout_blocking => {
                Some((AttemptLimit::Value(Box::new(a.value)), a.at.first()))
            }
            _ => None,
        },
        hedge,
        when,
        when_span,
        retry_if_ok: args.retry_if_ok.into_given().map(|a| a.value),
        name,
        name_given,
        before_sleep: args.before_sleep.into_given().map(|a| a.value),
        on_give_up: args.on_give_up.into_given().map(|a| a.value),
        clone,
        circuit: args.circuit.into_given().map(|a| (a.value, a.at.first())),
        budget: args.budget.into_given().map(|a| a.value),
        throttle: args.throttle.into_given().map(|a| (a.value, a.at.first())),
        nested_retry,
        attempt_spans: args.attempt_spans.into_given().map(|a| a.value.value),
        stop_on: args.stop_on.into_given().map(|a| a.value),
        stop_when: args.stop_when.into_given().map(|a| a.value),
        sleeper: args.sleeper.into_given().map(|a| a.value),
    })
}

/// The base policy `preset = "name"` names; an unknown name is reported
/// (with the closest preset) and gives the default.
fn preset_base(preset: &Given<LitStr>, errors: &mut Errors) -> Base {
    let name = preset.value.value();
    // a constant's path, as `policy = ..` takes it (`tonic::GRPC`,
    // `presets::API`): its last segment names the preset meant
    let last = name.rsplit("::").next().unwrap_or(&name);
    match vocab::preset_const(&name) {
        Some(konst) => Base::Preset(Ident::new(&konst, preset.value.span())),
        // gRPC's policy is no preset of the attribute (it classifies
        // `tonic::Status`, under the runtime's `tonic` feature), though a
        // policy file names it `preset = "grpc"`: say what to write.
        None if last.eq_ignore_ascii_case("grpc") => {
            errors.at(
                preset.value.span(),
                format!(
                    "`{name}` is no preset of the attribute: gRPC's policy is a constant of the runtime's `tonic` feature, `policy = retry_runtime::tonic::GRPC` (a policy file's `preset = \"grpc\"` reads it)"
                ),
            );
            Base::Default
        }
        None => {
            errors.at(
                preset.value.span(),
                format!(
                    "unknown preset `{name}`; {}presets are: {}; a policy of your own (a company's `const`) is `policy = path::TO_CONST`",
                    diag::did_you_mean(last, &PRESETS),
                    PRESETS.join(", ")
                ),
            );
            Base::Default
        }
    }
}

/// Report each of `retry_on`'s kinds that is not an error kind, and each
/// one given again. A word that is no near miss of a kind is likely a type
/// (`std::io::Error`, tenacity's `retry_if_exception_type(IOError)`): its
/// message says what takes types.
fn check_kinds(kinds: &[Ident], errors: &mut Errors) {
    for kind in kinds {
        let k = kind.to_string();
        if !KINDS.contains(&k.as_str()) {
            let mut message = diag::unknown("error kind", &k, &KINDS, KindsAre);
            if dsl::closest(&k, &KINDS).is_none() {
                message.push_str("; `retry_on` takes error kinds, not types: classify the error's variants (`#[derive(Classify)]`, `#[classify(Timeout)]` on a variant) and name their kinds here, or retry by type or variant with `retry_if = pred` (a `fn(&E) -> bool`, with `matches!`)");
            }
            errors.at(kind.span(), message);
        }
    }
    for kind in diag::repeats(kinds) {
        errors.at(
            kind.span(),
            format!("`{kind}` is given twice in `retry_on`; give each kind once"),
        );
    }
}

/// Where the later of two conflicting arguments was written: it is the one blamed.
/// Every identifier in `tokens`, in nested groups too.
pub(crate) fn idents_of(tokens: proc_macro2::TokenStream, out: &mut Vec<Ident>) {
    for tt in tokens {
        match tt {
            proc_macro2::TokenTree::Ident(i) => out.push(i),
            proc_macro2::TokenTree::Group(g) => idents_of(g.stream(), out),
            _ => {}
        }
    }
}

fn later<A, B>(a: &Given<A>, b: &Given<B>) -> diag::SpanRange {
    if a.pos > b.pos {
        a.at
    } else {
        b.at
    }
}

fn dsl_value<T>(
    lit: &LitStr,
    parse: fn(&str) -> Result<T, dsl::DslError>,
    errors: &mut Errors,
) -> Option<T> {
    match parse(&lit.value()) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(syn::Error::new(lit.span(), e.message));
            None
        }
    }
}

fn positive_duration(arg: &Given<LitStr>, errors: &mut Errors) -> Option<Duration> {
    let d = dsl_value(&arg.value, dsl::parse_duration, errors)?;
    if d.is_zero() {
        errors.push(syn::Error::new(
            arg.value.span(),
            format!(
                "`{} = \"{}\"` would fail at once; give a duration greater than zero",
                arg.text,
                arg.value.value()
            ),
        ));
        return None;
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn check_str(
        args: proc_macro2::TokenStream,
        func: proc_macro2::TokenStream,
    ) -> Result<Config, Vec<String>> {
        let func: FnItem = syn::parse2(func).map_err(|e| vec![e.to_string()])?;
        let mut errors = Errors::default();
        let args = RetryArgs::parse(args, &mut errors);
        check(args, &func, &[], errors).map_err(|e| e.into_iter().map(|e| e.to_string()).collect())
    }

    /// `fn f() -> Result<(), E>`, the function most checks need.
    pub(super) fn sync_fn() -> proc_macro2::TokenStream {
        quote!(
            fn f() -> Result<(), E> {
                Ok(())
            }
        )
    }

    pub(super) fn errs(
        args: proc_macro2::TokenStream,
        func: proc_macro2::TokenStream,
    ) -> Vec<String> {
        match check_str(args, func) {
            Ok(_) => vec![],
            Err(e) => e,
        }
    }

    /// `timeout = value`: read at run time on an async fn (no check of
    /// its own here), refused on a sync one as a literal is, and one
    /// `timeout` only, a literal or a value.
    #[test]
    fn a_timeout_value() {
        let async_fn = quote!(
            async fn f(limit: Duration) -> Result<(), E> {
                Ok(())
            }
        );
        let cfg = check_str(quote!(timeout = limit), async_fn.clone()).unwrap();
        assert!(matches!(cfg.timeout, Some((AttemptLimit::Value(_), _))));
        let e = errs(quote!(timeout = limit), sync_fn());
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(e[0].contains("`timeout` needs an `async fn`"), "{}", e[0]);
        for twice in [
            quote!(timeout = "1s", timeout = limit),
            quote!(timeout = limit, timeout = "1s"),
        ] {
            let e = errs(twice, async_fn.clone());
            assert_eq!(
                e[0], "duplicate `timeout` argument; give each key once",
                "{e:#?}"
            );
            assert_eq!(e[1], "`timeout` first given here");
        }
        // a number is a literal: told how a duration is written
        let e = errs(quote!(timeout = 10), async_fn);
        assert!(e[0].contains("expected string literal"), "{e:#?}");
    }

    #[test]
    fn accepts_a_full_configuration() {
        let cfg = check_str(
            quote!(
                attempts = 4,
                backoff = "exp(1s,4s)",
                jitter = "+25%",
                retry_on = Timeout | Connect,
                timeout = "10s",
                max_elapsed = "2m"
            ),
            quote!(
                async fn download(id: &str) -> Result<u8, E> {
                    todo()
                }
            ),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(cfg.attempts, Some(4));
        assert!(matches!(
            cfg.timeout.map(|t| t.0),
            Some(AttemptLimit::Fixed(d)) if d == Duration::from_secs(10)
        ));
        assert_eq!(cfg.max_elapsed, Some(Duration::from_secs(120)));
        assert_eq!(cfg.name.value(), "download");
        assert!(matches!(cfg.when, When::Kinds(ref k) if k.len() == 2));
        // a raw identifier's name is the word itself, as log lines show it
        let cfg = check_str(
            quote!(),
            quote!(
                fn r#try() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(cfg.name.value(), "try");
    }

    #[test]
    fn grpc_as_a_preset_says_to_name_the_tonic_policy() {
        for name in ["grpc", "gRPC"] {
            let e = errs(quote!(preset = #name, attempts = 3), sync_fn());
            assert_eq!(e.len(), 1, "{e:#?}");
            assert!(
                e[0].contains(&format!("`{name}` is no preset of the attribute"))
                    && e[0].contains("`policy = retry_runtime::tonic::GRPC`"),
                "{}",
                e[0]
            );
        }
        // a near miss of it is no gRPC: the usual list
        let e = errs(quote!(preset = "grcp"), sync_fn());
        assert!(e[0].contains("unknown preset `grcp`"), "{}", e[0]);
        // the constant's path, as `policy = ..` names it
        for name in ["tonic::GRPC", "retry_runtime::tonic::GRPC"] {
            let e = errs(quote!(preset = #name), sync_fn());
            assert_eq!(e.len(), 1, "{e:#?}");
            assert!(
                e[0].starts_with(&format!("`{name}` is no preset of the attribute"))
                    && e[0].contains("`policy = retry_runtime::tonic::GRPC`"),
                "{}",
                e[0]
            );
        }
    }

    /// A preset's constant named by its path (`presets::API`, what
    /// `policy = ..` takes) suggests the preset's name.
    #[test]
    fn a_preset_s_constant_path_suggests_its_name() {
        for (path, preset) in [
            ("presets::API", "api"),
            ("retry_runtime::presets::AI_PROVIDER", "ai_provider"),
        ] {
            let e = errs(quote!(preset = #path), sync_fn());
            assert_eq!(e.len(), 1, "{e:#?}");
            let start = format!("unknown preset `{path}`; did you mean `{preset}`?");
            assert!(e[0].starts_with(&start), "{}", e[0]);
        }
    }

    /// A company's own preset name (a walk-through's `acme-http`) is told
    /// where a policy of its own goes.
    #[test]
    fn an_unknown_preset_names_the_policy_key() {
        let e = errs(quote!(preset = "acme-http"), sync_fn());
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(
            e[0].ends_with(
                "; a policy of your own (a company's `const`) is `policy = path::TO_CONST`"
            ),
            "{}",
            e[0]
        );
    }

    #[test]
    fn reports_every_error_at_once() {
        let e = errs(
            quote!(
                attempts = 0,
                backoff = "exp(5s, 1s)",
                retry_on = Timout | Connect,
                preset = "webhok",
                timeout = "1s"
            ),
            sync_fn(),
        );
        assert_eq!(e.len(), 5, "{e:#?}");
        assert!(e.iter().any(|m| m.contains("attempts = 0")));
        assert!(e.iter().any(|m| m.contains("greater than the cap")));
        assert!(e
            .iter()
            .any(|m| m.contains("unknown error kind `Timout`; did you mean `Timeout`?")));
        assert!(e.iter().any(|m| m
            .contains("unknown preset `webhok`; did you mean `webhook`? presets are: webhook,")));
        assert!(e
            .iter()
            .any(|m| m.contains("`timeout` needs an `async fn`")));
    }

    /// A word that is no near miss of a kind is told that `retry_on` takes
    /// kinds, not types; a typo of a kind is told the kind only.
    #[test]
    fn a_type_in_retry_on_is_told_what_takes_types() {
        for (args, name) in [
            (quote!(retry_on = std::io::Error), "Error"),
            (quote!(retry_on = IOError), "IOError"),
        ] {
            let e = errs(args, sync_fn());
            assert_eq!(e.len(), 1, "{e:#?}");
            assert!(
                e[0].starts_with(&format!("unknown error kind `{name}`; the kinds are: "))
                    && e[0].contains("`retry_on` takes error kinds, not types")
                    && e[0].contains("`#[derive(Classify)]`")
                    && e[0].contains("`retry_if = pred`"),
                "{}",
                e[0]
            );
        }
        let e = errs(quote!(retry_on = Timout), sync_fn());
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(!e[0].contains("not types"), "{}", e[0]);
    }

    #[test]
    fn a_list_names_each_kind_or_argument_once() {
        let e = errs(quote!(retry_on = Timeout | Connect | Timeout), sync_fn());
        assert_eq!(
            e,
            ["`Timeout` is given twice in `retry_on`; give each kind once"]
        );
        let two = quote!(
            fn f(body: String, tags: Vec<String>) -> Result<(), E> {
                Ok(())
            }
        );
        let e = errs(quote!(clone = [body, tags, body, body]), two.clone());
        assert_eq!(
            e,
            [
                "`clone` names `body` twice; name each argument once",
                "`clone` names `body` twice; name each argument once"
            ]
        );
        let e = errs(quote!(clone = []), two.clone());
        assert_eq!(
            e,
            [
                "`clone = []` clones nothing: name the by-value arguments each attempt clones \
              (`clone = body`, `clone = [body, headers]`), or leave `clone` out"
            ]
        );
        assert!(errs(
            quote!(clone = [body, tags], retry_on = Timeout | Connect),
            two
        )
        .is_empty());
    }

    #[test]
    fn a_syntax_error_does_not_hide_the_other_errors() {
        let e = errs(
            quote!(atempts = 3, backoff = "exp(5s, 1s)", jitter = "+0%"),
            sync_fn(),
        );
        assert_eq!(e.len(), 3, "{e:#?}");
        assert!(e[0].contains("unknown argument `atempts`; did you mean `attempts`?"));
        assert!(e[1].contains("greater than the cap"), "{}", e[1]);
        assert!(e[2].contains("`+0%` adds nothing"), "{}", e[2]);
    }

    #[test]
    fn a_clone_that_could_not_be_read_asks_for_no_clone() {
        let mut_body = quote!(
            fn f(mut body: String) -> Result<(), E> {
                Ok(())
            }
        );
        for args in [quote!(clon = body), quote!(clone = [body, 1])] {
            let e = errs(args.clone(), mut_body.clone());
            assert_eq!(e.len(), 1, "{args}: {e:#?}");
            assert!(!e[0].contains("mut body"), "{}", e[0]);
        }
        // an unknown key that is no near miss of `clone` leaves the check on
        let e = errs(quote!(banana = 1), mut_body);
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(e[1].contains("`mut body`"), "{}", e[1]);
    }

    #[test]
    fn a_mut_self_or_ref_mut_binding_is_refused() {
        // `mut self`: what one attempt did to `self` would be the next one's `self`
        for receiver in [quote!(mut self), quote!(mut self: Box<Self>)] {
            let e = errs(
                quote!(attempts = 2),
                quote!(
                    fn send(#receiver) -> Result<usize, E> {
                        Ok(std::mem::take(&mut self.body).len())
                    }
                ),
            );
            assert_eq!(e.len(), 1, "{receiver}: {e:#?}");
            assert!(
                e[0].starts_with("`mut self`: each attempt would see"),
                "{}",
                e[0]
            );
            assert!(e[0].contains("`clone` cannot name `self`"), "{}", e[0]);
        }
        // `ref mut`: a mutable borrow of the argument every attempt shares
        for param in [
            quote!(ref mut buf: Vec<u8>),
            quote!((ref mut buf, n): (Vec<u8>, u8)),
        ] {
            let e = errs(
                quote!(clone = buf),
                quote!(
                    fn send(#param) -> Result<usize, E> {
                        Ok(std::mem::take(buf).len())
                    }
                ),
            );
            let e: Vec<&String> = e.iter().filter(|m| !m.contains("no parameter")).collect();
            assert_eq!(e.len(), 1, "{param}: {e:#?}");
            assert!(
                e[0].starts_with("`ref mut buf`: each attempt would see"),
                "{}",
                e[0]
            );
        }
        // The fix offered: `clone` names a whole parameter only, so a
        // `ref mut` inside a pattern is told to clone in the body.
        for (param, clone_offered) in [
            (quote!(ref mut buf: Vec<u8>), true),
            (quote!((ref mut buf, n): (Vec<u8>, u8)), false),
            (quote!(Pair { a: ref mut buf, .. }: Pair), false),
            (quote!(ref mut buf @ Pair { .. }: Pair), false),
        ] {
            let e = errs(
                quote!(attempts = 2),
                quote!(
                    fn send(#param) -> Result<usize, E> {
                        Ok(std::mem::take(buf).len())
                    }
                ),
            );
            assert_eq!(e.len(), 1, "{param}: {e:#?}");
            assert_eq!(
                e[0].contains("clone = buf"),
                clone_offered,
                "{param}: {}",
                e[0]
            );
            assert!(
                e[0].contains(
                    "drop the `ref mut` and write `let mut buf = buf.clone();` in the body"
                ),
                "{param}: {}",
                e[0]
            );
        }
        // a `mut` receiver through a reference is as `&mut self`: not refused
        for receiver in [
            quote!(mut self: Pin<&mut Self>),
            quote!(mut self: &mut Self),
        ] {
            let e = errs(
                quote!(attempts = 2),
                quote!(
                    fn step(#receiver) -> Result<u8, E> {
                        self.as_mut().poke();
                        Ok(1)
                    }
                ),
            );
            assert!(e.is_empty(), "{receiver}: {e:#?}");
        }
        // a `ref mut` into what a `&mut` parameter points at is as a `&mut T` argument
        assert!(errs(
            quote!(),
            quote!(
                fn f(&mut (ref mut a, _): &mut (Vec<u8>, u8)) -> Result<(), E> {
                    a.push(1);
                    Ok(())
                }
            )
        )
        .is_empty());
        // Under `#[async_trait]`, `mut self` is `self` in the signature and
        // `let mut __self = self;` in the body; so is `&mut self`, which is
        // meant to last.
        let async_trait = |receiver: proc_macro2::TokenStream| {
            quote! {
                fn send<'a>(#receiver) -> Pin<Box<dyn Future<Output = Result<usize, E>> + Send + 'a>> {
                    Box::pin(async move {
                        let mut __self = self;
                        let __ret: Result<usize, E> = { Ok(std::mem::take(&mut __self.body).len()) };
                        #[allow(unreachable_code)]
                        __ret
                    })
                }
            }
        };
        for receiver in [quote!(self), quote!(self: Box<Self>)] {
            let e = errs(quote!(), async_trait(receiver.clone()));
            assert_eq!(e.len(), 1, "{receiver}: {e:#?}");
            assert!(e[0].starts_with("`mut self`"), "{}", e[0]);
        }
        assert!(errs(quote!(), async_trait(quote!(&'a mut self))).is_empty());
    }

    #[test]
    fn track_caller_is_refused_on_a_sync_fn() {
        let e = errs(
            quote!(),
            quote!(
                #[inline]
                #[track_caller]
                fn f() -> Result<u32, E> {
                    Ok(Location::caller().line())
                }
            ),
        );
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(
            e[0].starts_with("`#[track_caller]` cannot be kept"),
            "{}",
            e[0]
        );
        // an async fn's `#[track_caller]` is rustc's to warn about (a no-op
        // on stable Rust, with or without #[retry])
        assert!(errs(
            quote!(),
            quote!(
                #[track_caller]
                async fn f() -> Result<u32, E> {
                    Ok(1)
                }
            )
        )
        .is_empty());
    }

    #[test]
    fn values_are_checked_beside_a_conflict_or_a_sync_fn() {
        let e = errs(quote!(timeout = "banana"), sync_fn());
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(e[0].contains("`timeout` needs an `async fn`"), "{}", e[0]);
        assert!(e[1].contains("found `banana`"), "{}", e[1]);
        let e = errs(quote!(timeout = "0s"), sync_fn());
        assert!(e.len() == 2 && e[1].contains("greater than zero"), "{e:#?}");

        let e = errs(quote!(hedge = "1sec", retry_if_ok = p), sync_fn());
        assert_eq!(e.len(), 3, "{e:#?}");
        assert!(e[0].contains("`hedge` needs an `async fn`"), "{}", e[0]);
        assert!(
            e[1].contains("`hedge` and `retry_if_ok` cannot be combined"),
            "{}",
            e[1]
        );
        assert!(e[2].contains("unknown duration unit `sec`"), "{}", e[2]);

        let e = errs(quote!(preset = "webhok", policy = P), sync_fn());
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].contains("`preset` and `policy` cannot be combined"),
            "{}",
            e[0]
        );
        assert!(e[1].contains("unknown preset `webhok`"), "{}", e[1]);

        let e = errs(quote!(retry_if = p, retry_on = Timout | Conect), sync_fn());
        assert_eq!(e.len(), 3, "{e:#?}");
        assert!(
            e[0].contains("`retry_on` and `retry_if` cannot be combined"),
            "{}",
            e[0]
        );
        assert!(e[1].contains("unknown error kind `Timout`"), "{}", e[1]);
        assert!(e[2].contains("unknown error kind `Conect`"), "{}", e[2]);
    }

    #[test]
    fn a_hedged_body_cannot_change_what_a_mut_argument_points_at() {
        let e = errs(
            quote!(hedge = "10ms"),
            quote!(
                async fn f(&mut self) -> Result<u32, E> {
                    self.calls += 1;
                    Ok(self.calls)
                }
            ),
        );
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].starts_with("`hedge` runs attempts side by side, which share the function's arguments: they can read through `&mut self`, but this body changes what it points at;"),
            "{}",
            e[0]
        );
        assert_eq!(e[1], "`self` changed here");
        let e = errs(
            quote!(hedge = "10ms"),
            quote!(
                async fn f(out: &mut Vec<u8>) -> Result<u32, E> {
                    fill(&mut *out).await
                }
            ),
        );
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].contains("read through the `&mut` argument `out`"),
            "{}",
            e[0]
        );
        // reading through it is allowed (tests/runtime/hedge.rs runs one)
        let reads = quote!(
            async fn f(&mut self, key: u32) -> Result<u32, E> {
                Ok(key + self.hits)
            }
        );
        assert!(errs(quote!(hedge = "10ms"), reads).is_empty());
        // and without `hedge`, each attempt re-borrows: no refusal
        assert!(errs(
            quote!(),
            quote!(
                async fn f(&mut self) -> Result<u32, E> {
                    self.calls += 1;
                    Ok(self.calls)
                }
            )
        )
        .is_empty());
    }

    #[test]
    fn a_hedge_must_start_before_the_timeout() {
        let async_fn = quote!(
            async fn f() -> Result<(), E> {
                Ok(())
            }
        );
        let e = errs(quote!(hedge = "500ms", timeout = "200ms"), async_fn.clone());
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(
            e[0].contains("`hedge = \"500ms\"` is not below `timeout = \"200ms\"`"),
            "{}",
            e[0]
        );
        // equal: the attempt times out as its hedge would start
        let e = errs(quote!(timeout = "1s", hedge = "1s"), async_fn.clone());
        assert_eq!(e.len(), 1, "{e:#?}");
        // both limits, each reported
        let e = errs(
            quote!(max_elapsed = "1s", timeout = "1s", hedge = "2s"),
            async_fn.clone(),
        );
        assert_eq!(e.len(), 2, "{e:#?}");
        let cfg = check_str(quote!(hedge = "150ms", timeout = "1s"), async_fn)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(cfg.hedge.map(|h| h.0), Some(Duration::from_millis(150)));
    }

    /// At most `attempts` run at once: with one, no hedge could start
    /// (`Policy::build` refuses it, `HedgeWithOneAttempt`), reported on
    /// the later of the two keys.
    #[test]
    fn a_hedge_needs_a_second_attempt() {
        let async_fn = quote!(
            async fn f() -> Result<(), E> {
                Ok(())
            }
        );
        for args in [
            quote!(attempts = 1, hedge = "150ms"),
            quote!(hedge = "150ms", attempts = 1),
        ] {
            let e = errs(args, async_fn.clone());
            assert_eq!(e.len(), 1, "{e:#?}");
            assert!(
                e[0].contains("`hedge = \"150ms\"` with `attempts = 1` could never start"),
                "{}",
                e[0]
            );
        }
        let cfg = check_str(quote!(hedge = "150ms", attempts = 2), async_fn)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(cfg.hedge.map(|h| h.0), Some(Duration::from_millis(150)));
    }

    #[test]
    fn clone_suggests_the_parameter_meant() {
        let e = errs(
            quote!(clone = [bdy, headers]),
            quote!(
                fn send(&self, body: String, headers: Vec<u8>, (a, b): (u8, u8)) -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert_eq!(
            e,
            [
                "`clone = bdy`: `send` has no parameter named `bdy`; did you mean `body`? \
              its parameters are: `body`, `headers`"
            ]
        );
        let e = errs(quote!(clone = body), sync_fn());
        assert_eq!(
            e,
            ["`clone = body`: `f` has no parameter named `body`; it has no named parameters"]
        );
    }

    #[test]
    fn conflicting_keys_blame_the_later_one() {
        let e = errs(quote!(policy = P, preset = "webhook"), sync_fn());
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("`preset` and `policy` cannot be combined"));
        let e = errs(quote!(retry_if = p, retry_on = Timeout), sync_fn());
        assert!(e[0].contains("`retry_on` and `retry_if` cannot be combined"));
    }

    #[test]
    fn zero_first_delay_is_an_error() {
        let e = errs(quote!(backoff = "exp(0s, 4s)"), sync_fn());
        assert!(
            e.len() == 1 && e[0].contains("every wait would be zero"),
            "{e:?}"
        );
        assert!(errs(quote!(backoff = "fib(0ms, 1s)"), sync_fn()).len() == 1);
        let linear = errs(quote!(backoff = "linear(0s, 1s)"), sync_fn());
        assert_eq!(
            linear.len(),
            1,
            "linear(START, CAP) steps by START: all zero"
        );
    }

    #[test]
    fn function_shape_errors() {
        assert!(errs(
            quote!(),
            quote!(
                fn f() {}
            )
        )[0]
        .contains("returns `()`"));
        assert!(errs(
            quote!(),
            quote!(
                const fn f() -> Result<(), E> {
                    Ok(())
                }
            )
        )[0]
        .contains("const fn"));
        assert!(errs(
            quote!(),
            quote!(
                #[retry]
                fn f() -> Result<(), E> {
                    Ok(())
                }
            )
        )[0]
        .contains("applied twice"));
        assert!(errs(
            quote!(clone = nope),
            quote!(
                fn f(a: String) -> Result<(), E> {
                    Ok(())
                }
            )
        )[0]
        .contains("no parameter named `nope`"));
        assert!(errs(
            quote!(timeout = "0s"),
            quote!(
                async fn f() -> Result<(), E> {
                    Ok(())
                }
            )
        )[0]
        .contains("greater than zero"));
        assert!(errs(quote!(name = " "), sync_fn())[0].contains("must not be empty"));
    }
}
