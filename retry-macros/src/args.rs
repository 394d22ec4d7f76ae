//! Stage 1: parse `#[retry(...)]` arguments into typed values, each kept
//! with the key it was written under (for spans). Syntax errors are
//! collected per argument; parsing goes on at the next comma, and what could
//! be read goes on to validation, so a typo in one key does not hide the
//! errors in the others.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitBool, LitInt, LitStr, Path, Token};

use crate::diag::{self, Errors, Given, Slot};
use crate::dsl;
use crate::vocab::{self, Key};

/// Is the value ahead a literal alone (`"10s"`, `10`), the argument's
/// whole value: followed by a comma, nothing, or a word (the next key, its
/// comma missing: the comma is the error, as after any other value)?
fn lone_literal(input: ParseStream) -> bool {
    let fork = input.fork();
    fork.parse::<syn::Lit>().is_ok()
        && (fork.is_empty() || fork.peek(Token![,]) || fork.peek(Ident))
}

/// The parsed arguments of `#[retry(...)]`, each a [`Given`] that keeps the
/// key's span and name beside the value.
#[derive(Default)]
pub struct RetryArgs {
    pub attempts: Slot<LitInt>,
    pub backoff: Slot<LitStr>,
    pub jitter: Slot<LitStr>,
    pub retry_on: Slot<Vec<Ident>>,
    pub retry_if: Slot<Path>,
    pub retry_if_ok: Slot<Path>,
    pub max_elapsed: Slot<LitStr>,
    pub timeout: Slot<LitStr>,
    /// `timeout = EXPR`, any value but a literal: a `Duration` or an
    /// `Option<Duration>`, evaluated before each attempt (validation
    /// reports it given beside a literal one).
    pub timeout_expr: Slot<Expr>,
    pub preset: Slot<LitStr>,
    pub policy: Slot<Expr>,
    pub name: Slot<LitStr>,
    pub before_sleep: Slot<Path>,
    pub on_give_up: Slot<Path>,
    pub krate: Slot<Path>,
    pub clone: Slot<Vec<Ident>>,
    pub circuit: Slot<Path>,
    pub budget: Slot<Path>,
    pub throttle: Slot<Path>,
    pub nested: Slot<LitStr>,
    pub hedge: Slot<LitStr>,
    pub stop_on: Slot<Expr>,
    pub stop_when: Slot<Expr>,
    /// `sleeper = EXPR`: the timer of the waits (and an async `timeout`),
    /// borrowed once per call.
    pub sleeper: Slot<Expr>,
    pub attempt_spans: Slot<LitBool>,
    /// Keys whose value could not be read (the syntax error is reported),
    /// and the keys that unknown arguments are near misses of: see [`RetryArgs::unread`].
    unread: Vec<Key>,
    count: usize,
}

impl RetryArgs {
    /// Parse the attribute's arguments. Each syntax error goes to `errors`
    /// and parsing goes on at the next top-level comma; the arguments that
    /// could be read are returned, for validation to check as well.
    pub fn parse(tokens: TokenStream, errors: &mut Errors) -> RetryArgs {
        let mut args = RetryArgs::default();
        let mut failed = false;
        let parser = |input: ParseStream| {
            while !input.is_empty() {
                if let Err(e) = args.parse_one(input, errors) {
                    errors.push(e);
                    failed = true;
                    skip_to_comma(input);
                }
                if input.is_empty() {
                    break;
                }
                if let Err(e) = input.parse::<Token![,]>() {
                    errors.push(e);
                    failed = true;
                    skip_to_comma(input);
                    let _ = input.parse::<Option<Token![,]>>();
                }
            }
            Ok(())
        };
        // After a syntax error inside brackets or parentheses (`clone = [a, 1]`),
        // syn reports the tokens left in them once more ("unexpected token"):
        // that error repeats one already recorded.
        if let Err(e) = parser.parse2(tokens) {
            if !failed {
                errors.push(e);
            }
        }
        args
    }

    /// Was `key` perhaps meant but not read: its value had a syntax error, or
    /// an unknown argument is a near miss of it (`clon = body`)? A check that
    /// fires when a key is absent skips such a key, so the syntax error is
    /// not followed by an error that would go away with it.
    pub fn unread(&self, key: Key) -> bool {
        self.unread.contains(&key)
    }

    fn parse_one(&mut self, input: ParseStream, errors: &mut Errors) -> syn::Result<()> {
        let ident: Ident = if input.peek(Token![crate]) {
            let kw: Token![crate] = input.parse()?;
            Ident::new("crate", kw.span)
        } else {
            input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!(
                        "expected an argument like `attempts = 3`; keys are: {}",
                        Key::names().join(", ")
                    ),
                )
            })?
        };
        let name = ident.to_string();
        let Some(key) = Key::from_name(&name) else {
            if let Some((key, hint)) = vocab::peer_name(&name) {
                self.unread.extend(key);
                return Err(syn::Error::new(
                    ident.span(),
                    format!("unknown argument `{name}`; {hint}"),
                ));
            }
            let names = Key::names();
            self.unread
                .extend(dsl::closest(&name, &names).and_then(Key::from_name));
            let valid = format!("valid arguments are: {}", names.join(", "));
            return Err(syn::Error::new(
                ident.span(),
                diag::unknown("argument", &name, &names, valid),
            ));
        };
        let read = self.parse_value(key, &ident, input, errors);
        if read.is_err() {
            self.unread.push(key);
        }
        read
    }

    /// The `= value` of the argument `key`, written as `ident`.
    fn parse_value(
        &mut self,
        key: Key,
        ident: &Ident,
        input: ParseStream,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        let name = key.name();
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                ident.span(),
                format!("expected `{name} = ...`; {}", key.example()),
            ));
        }
        input.parse::<Token![=]>()?;
        let arg = Written {
            ident,
            key,
            pos: self.count,
        };
        self.count += 1;
        match key {
            Key::Attempts => arg.parse_into(input, &mut self.attempts, errors),
            Key::Backoff => arg.parse_into(input, &mut self.backoff, errors),
            Key::Jitter => arg.parse_into(input, &mut self.jitter, errors),
            Key::RetryOn => {
                let mut paths: Vec<Path> =
                    Punctuated::<Path, Token![|]>::parse_separated_nonempty(input)
                        .map_err(|e| arg.with_example(e))?
                        .into_iter()
                        .collect();
                // `retry_on = Timeout, Connect`, a list as other libraries
                // write one: the kinds after the comma would each be an
                // unknown argument. One error on them, with the list written
                // as the attribute takes it; they are read with the others.
                let stray = stray_kinds(input);
                let kinds_of = |paths: &[Path]| -> Vec<Ident> {
                    paths
                        .iter()
                        .filter_map(|path| path.segments.last())
                        .map(|segment| segment.ident.clone())
                        .collect()
                };
                if let Some(first) = kinds_of(&stray).first() {
                    let all = kinds_of(&paths).into_iter().chain(kinds_of(&stray));
                    let all: Vec<String> = all.map(|kind| kind.to_string()).collect();
                    let mut at = TokenStream::new();
                    stray.iter().for_each(|path| path.to_tokens(&mut at));
                    errors.push(syn::Error::new_spanned(
                        at,
                        format!(
                            "unknown argument `{first}`; did you mean `retry_on = {}`? kinds are joined with `|`, not `,`",
                            all.join(" | ")
                        ),
                    ));
                }
                paths.extend(stray);
                // `ErrorKind::Timeout`, as the functional API writes it: one
                // error, with the whole list written as the attribute takes
                // it; the kinds are still read, so a misspelt one is named.
                // A path that does not end in a kind (`std::io::Error`, a
                // type) is not told to drop its path: its last word is
                // reported as an unknown kind, and that is its one error.
                let kinds = kinds_of(&paths);
                if let Some(path) = paths
                    .iter()
                    .find(|path| path.get_ident().is_none() && ends_in_kind(path))
                {
                    let alone: Vec<String> = kinds.iter().map(Ident::to_string).collect();
                    errors.push(syn::Error::new_spanned(
                        path,
                        format!(
                            "write each kind alone, without a path: `retry_on = {}`",
                            alone.join(" | ")
                        ),
                    ));
                }
                self.retry_on.set(errors, arg.given(kinds));
                Ok(())
            }
            Key::RetryIf => arg.parse_path_into(input, &mut self.retry_if, errors),
            Key::RetryIfOk => arg.parse_path_into(input, &mut self.retry_if_ok, errors),
            Key::MaxElapsed => arg.parse_into(input, &mut self.max_elapsed, errors),
            // a literal alone (a number too: its error says how a duration
            // is written) is checked here; any other value (`2 * base`
            // too) at run time
            Key::Timeout if lone_literal(input) => arg.parse_into(input, &mut self.timeout, errors),
            Key::Timeout => arg.parse_into(input, &mut self.timeout_expr, errors),
            Key::Preset => arg.parse_into(input, &mut self.preset, errors),
            Key::Policy => arg.parse_into(input, &mut self.policy, errors),
            Key::Name => arg.parse_into(input, &mut self.name, errors),
            Key::BeforeSleep => arg.parse_path_into(input, &mut self.before_sleep, errors),
            Key::OnGiveUp => arg.parse_path_into(input, &mut self.on_give_up, errors),
            Key::Circuit => arg.parse_path_into(input, &mut self.circuit, errors),
            Key::Budget => arg.parse_path_into(input, &mut self.budget, errors),
            Key::Throttle => arg.parse_path_into(input, &mut self.throttle, errors),
            Key::Nested => arg.parse_into(input, &mut self.nested, errors),
            Key::Hedge => arg.parse_into(input, &mut self.hedge, errors),
            Key::StopOn => arg.parse_into(input, &mut self.stop_on, errors),
            Key::StopWhen => arg.parse_into(input, &mut self.stop_when, errors),
            Key::Sleeper => arg.parse_into(input, &mut self.sleeper, errors),
            Key::AttemptSpans => arg.parse_into(input, &mut self.attempt_spans, errors),
            Key::Crate => {
                let lit: LitStr = arg.value(input)?;
                let path = lit.parse::<Path>().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`crate` must name a path, like `crate = \"my_runtime\"`",
                    )
                })?;
                // (the same path, with the macro's hygiene: see `as_generated`)
                let path = syn::parse2(diag::as_generated(path.to_token_stream())).unwrap_or(path);
                self.krate.set(errors, arg.given(path));
                Ok(())
            }
            Key::Clone => {
                let names = if input.peek(syn::token::Bracket) {
                    let inner;
                    syn::bracketed!(inner in input);
                    Punctuated::<Ident, Token![,]>::parse_terminated_with(&inner, clone_name)
                        .map_err(|e| clone_example(&arg, e))?
                        .into_iter()
                        .collect()
                } else {
                    vec![clone_name(input).map_err(|e| clone_example(&arg, e))?]
                };
                self.clone.set(errors, arg.given(names));
                Ok(())
            }
        }
    }
}

/// A `key =` just read: the key, as written and as a [`Key`], and its position.
struct Written<'a> {
    ident: &'a Ident,
    key: Key,
    pos: usize,
}

impl Written<'_> {
    fn given<T>(&self, value: T) -> Given<T> {
        Given {
            value,
            at: self.ident.span().into(),
            text: self.key.name().to_string(),
            pos: self.pos,
        }
    }

    /// The value after `key =`; a parse error says how the key is written.
    fn value<T: Parse>(&self, input: ParseStream) -> syn::Result<T> {
        input.parse().map_err(|e| self.with_example(e))
    }

    fn parse_into<T: Parse>(
        &self,
        input: ParseStream,
        slot: &mut Slot<T>,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        slot.set(errors, self.given(self.value(input)?));
        Ok(())
    }

    /// The value of a key that names an item (a function, a `static`): a
    /// value that is more than a path (`self.breaker`, `&UPSTREAM`, a call,
    /// a closure) is reported whole, with how the key is written; for a
    /// guard, also where one chosen at run time goes (on the policy).
    fn parse_path_into(
        &self,
        input: ParseStream,
        slot: &mut Slot<Path>,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        let fork = input.fork();
        if let Ok(path) = fork.parse::<Path>() {
            // (a word after the path is the next key, its comma missing:
            // the comma is the error, as after any other value)
            if fork.is_empty() || fork.peek(Token![,]) || fork.peek(Ident) {
                input.advance_to(&fork);
                slot.set(errors, self.given(path));
                return Ok(());
            }
        }
        let mut value = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            value.extend([input.parse::<TokenTree>()?]);
        }
        if value.is_empty() {
            return Err(self.with_example(syn::Error::new(input.span(), "expected a path")));
        }
        let name = self.key.name();
        let what = match self.key {
            Key::Circuit | Key::Budget | Key::Throttle => "a `static`",
            _ => "a function",
        };
        let mut message = format!(
            "`{name}` takes the name of {what}, not an expression; {}",
            self.key.example()
        );
        if let Some(setter) = self.key.policy_setter() {
            message.push_str(&format!(
                "; one chosen at run time goes on the policy: `policy = MY_POLICY.{setter}(x)`, with `x` a `&'static` reference"
            ));
        }
        if let Some(state) = self.key.hook_state() {
            message.push_str("; ");
            message.push_str(state);
        }
        Err(syn::Error::new_spanned(value, message))
    }

    fn with_example(&self, e: syn::Error) -> syn::Error {
        syn::Error::new(e.span(), format!("{e}; {}", self.key.example()))
    }
}

/// The error kinds after `retry_on = Timeout`'s comma, as in `retry_on =
/// Timeout, Connect | RateLimited`: each comma-separated part is read while
/// it is a `|` list of kinds (`ErrorKind::Connect` too) and no `=` follows
/// it, so `retry_on = Timeout, attempts = 3` and an unknown word are left to
/// the next argument.
fn stray_kinds(input: ParseStream) -> Vec<Path> {
    let mut stray = Vec::new();
    loop {
        let fork = input.fork();
        if fork.parse::<Token![,]>().is_err() {
            break;
        }
        let Ok(part) = Punctuated::<Path, Token![|]>::parse_separated_nonempty(&fork) else {
            break;
        };
        let all_kinds = part.iter().all(ends_in_kind);
        if !all_kinds || !(fork.is_empty() || fork.peek(Token![,])) {
            break;
        }
        input.advance_to(&fork);
        stray.extend(part);
    }
    stray
}

/// Does `path` end in an error kind (`Timeout`, `ErrorKind::Timeout`)?
fn ends_in_kind(path: &Path) -> bool {
    path.segments
        .last()
        .is_some_and(|segment| vocab::KINDS.contains(&segment.ident.to_string().as_str()))
}

/// Skip the rest of a broken argument, up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

/// A parameter `clone` names: an identifier. `self` is refused with the
/// way out (the receiver cannot be rebound for each attempt by name),
/// where syn's own error ("expected identifier, found keyword `self`")
/// said nothing of it.
fn clone_name(input: ParseStream) -> syn::Result<Ident> {
    if input.peek(Token![self]) {
        let token: Token![self] = input.parse()?;
        return Err(syn::Error::new(token.span, CLONE_SELF));
    }
    input.parse()
}

/// Why `clone = self` is refused, and the way out.
const CLONE_SELF: &str = "`clone` cannot name `self`: write `self.clone()` where the body uses \
    `self` (`let mut this = self.clone();`, or clone only the fields the body changes)";

/// A `clone` value's error with the key's example after it (`e.g. `clone
/// = body``), except after [`CLONE_SELF`], which says what to write.
fn clone_example(arg: &Written<'_>, e: syn::Error) -> syn::Error {
    if e.to_string() == CLONE_SELF {
        e
    } else {
        arg.with_example(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    /// The arguments read from `tokens`, and every error's message.
    fn parse(tokens: TokenStream) -> (RetryArgs, Vec<String>) {
        let mut errors = Errors::default();
        let args = RetryArgs::parse(tokens, &mut errors);
        let messages = match errors.finish() {
            Ok(()) => vec![],
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (args, messages)
    }

    fn errors_of(tokens: TokenStream) -> Vec<String> {
        parse(tokens).1
    }

    /// The arguments read from `tokens`, which must have no error.
    fn parse_ok(tokens: TokenStream) -> RetryArgs {
        let (args, errors) = parse(tokens);
        assert!(errors.is_empty(), "{errors:#?}");
        args
    }

    #[test]
    fn parses_every_key() {
        let args = parse_ok(quote! {
            attempts = 3, backoff = "exp(1s, 4s)", jitter = "full", retry_on = Timeout | Connect,
            retry_if_ok = is_empty, max_elapsed = "2m", timeout = "10s", preset = "webhook",
            name = "clip", before_sleep = hooks::log, on_give_up = alert, clone = [a, b], crate = "rt",
        });
        assert_eq!(
            args.attempts
                .get()
                .map(|a| a.value.base10_digits().to_string()),
            Some("3".into())
        );
        let kinds: Vec<String> = args
            .retry_on
            .get()
            .map(|a| a.value.iter().map(|i| i.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(kinds, ["Timeout", "Connect"]);
        assert_eq!(args.clone.get().map(|a| a.value.len()), Some(2));
        assert!(args.krate.get().is_some());
        let p = parse_ok(quote!(
            policy = Policy::new().with_max_attempts(2),
            retry_if = transient
        ));
        assert!(p.policy.get().is_some() && p.retry_if.get().is_some());
        parse_ok(quote!());
    }

    #[test]
    fn a_key_that_names_an_item_reports_an_expression_whole() {
        let (args, errors) = parse(quote!(
            circuit = self.breaker,
            budget = &RETRIES,
            throttle = throttles::search(),
            retry_if = |e| e.is_timeout(),
            on_give_up = hooks::alert,
            before_sleep = self.log
        ));
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(
            errors[0].starts_with(
                "`circuit` takes the name of a `static`, not an expression; e.g. `circuit = UPSTREAM`"
            ) && errors[0].ends_with(
                "one chosen at run time goes on the policy: `policy = MY_POLICY.with_circuit(x)`, with `x` a `&'static` reference"
            ),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("`budget` takes the name of a `static`")
                && errors[1].contains(".with_budget(x)")
        );
        assert!(errors[2].contains(".with_throttle(x)"), "{}", errors[2]);
        assert!(
            errors[3].starts_with("`retry_if` takes the name of a function, not an expression")
                && !errors[3].contains("policy")
                && !errors[3].contains("capture state"),
            "{}",
            errors[3]
        );
        assert!(
            errors[4].starts_with("`before_sleep` takes the name of a function")
                && errors[4].ends_with(
                    "; to capture state (a progress bar, a counter), use a `static` or `thread_local`, or the functional form's per-call `.notify(|ev| ..)`"
                ),
            "{}",
            errors[4]
        );
        // each is unread; the good one in between is read
        assert!(args.on_give_up.get().is_some());
        assert!(args.unread(Key::Circuit) && args.unread(Key::RetryIf));
        // a missing comma after a path is reported as one, not as an expression
        let errors = errors_of(quote!(circuit = UPSTREAM budget = RETRIES));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].starts_with("expected `,`"), "{}", errors[0]);
    }

    /// A closure for a hook (to update a progress bar it captures) is
    /// told where such state goes: a hook is a `fn`.
    #[test]
    fn a_hook_given_a_closure_is_told_where_state_goes() {
        let errors = errors_of(quote!(
            on_give_up = |ev| bar.abandon(),
            before_sleep = move |ev| bar.inc(1)
        ));
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0].starts_with("`on_give_up` takes the name of a function, not an expression")
                && errors[0].ends_with(
                    "; to capture state (a progress bar, a counter), use a `static` or `thread_local`, or the functional form's `.detailed()`, whose `RetryError` says why the call gave up"
                ),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("per-call `.notify(|ev| ..)`"),
            "{}",
            errors[1]
        );
    }

    #[test]
    fn what_follows_a_bad_argument_is_still_read() {
        let (args, errors) = parse(quote!(
            atempts = 3,
            backoff = "exp(5s, 1s)",
            jitter = 5,
            clone = [body, 1],
            name = "clip" timeout = "1s",
            retry_on = Timeout
        ));
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(
            errors[0].contains("unknown argument `atempts`"),
            "{}",
            errors[0]
        );
        assert!(args.backoff.get().is_some());
        assert!(args.name.get().is_some());
        assert!(args.retry_on.get().is_some());
        assert!(args.attempts.get().is_none() && args.jitter.get().is_none());
        // `timeout` is lost with the missing comma before it: not read, nor
        // reported as unread (the comma is the error)
        assert!(args.timeout.get().is_none() && !args.unread(Key::Timeout));
        // the near miss of an unknown key, and keys with a broken value, are
        // unread: a check that fires on an absent key leaves them alone
        assert!(args.unread(Key::Attempts) && args.unread(Key::Jitter));
        assert!(args.unread(Key::Clone));
        assert!(!args.unread(Key::Backoff) && !args.unread(Key::Name));
        let (args, _) = parse(quote!(banana = 1));
        assert!(Key::ALL.iter().all(|key| !args.unread(*key)));
    }

    /// Another library's name for a key is told the key and how its value
    /// differs (without it, the message would list the keys with no hint),
    /// and the key counts as unread, as a near miss does.
    #[test]
    fn another_librarys_names_are_told_the_key() {
        let (args, errors) = parse(quote!(
            max_times = 5,
            min_delay = "100ms",
            total_delay = "30s",
            when = is_transient,
            notify = log
        ));
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(
            errors[0].contains("unknown argument `max_times`; `attempts` counts every call")
                && errors[0].contains("write `attempts = N + 1`"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("`backoff = \"exp(FIRST, CAP)\"`"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].contains("write `max_elapsed = \"30s\"`"),
            "{}",
            errors[2]
        );
        assert!(
            errors[3].contains("`retry_if = is_transient`"),
            "{}",
            errors[3]
        );
        assert!(
            errors[4].contains("`before_sleep = log_retry`"),
            "{}",
            errors[4]
        );
        for key in [
            Key::Attempts,
            Key::Backoff,
            Key::MaxElapsed,
            Key::RetryOn,
            Key::BeforeSleep,
        ] {
            assert!(args.unread(key), "{key:?}");
        }
        // none of them is a key of ours
        let peers = [
            "max_times",
            "retries",
            "tries",
            "delay",
            "factor",
            "deadline",
            "when",
            "notify",
            "stop",
            "reraise",
            "min",
            "wait_fixed",
        ];
        assert!(peers.iter().all(|name| Key::from_name(name).is_none()));
    }

    /// tenacity's names: its `stop`, its `wait_*` functions and their
    /// `min`, `reraise` (the default here, with no key of ours).
    #[test]
    fn tenacitys_names_are_told_the_key() {
        let (args, errors) = parse(quote!(
            stop = 3,
            reraise = true,
            wait_exponential = "1s",
            wait_random_exponential = "1s",
            wait_fixed = "2s",
            wait_random = "1s",
            min = "4s"
        ));
        assert_eq!(errors.len(), 7, "{errors:#?}");
        let told = |i: usize, start: &str, has: &[&str]| {
            assert!(errors[i].starts_with(start), "{}", errors[i]);
            for part in has {
                assert!(errors[i].contains(part), "{part:?} in {}", errors[i]);
            }
        };
        told(
            0,
            "unknown argument `stop`; ",
            &["`attempts = N`", "`max_elapsed = \"d\"`"],
        );
        told(
            1,
            "unknown argument `reraise`; nothing to write: the last error is returned as it is",
            &[],
        );
        told(
            2,
            "unknown argument `wait_exponential`; ",
            &["`backoff = \"exp(1s, 10s)\"`"],
        );
        told(
            3,
            "unknown argument `wait_random_exponential`; ",
            &["jitter = \"full\""],
        );
        told(
            4,
            "unknown argument `wait_fixed`; ",
            &["`backoff = \"fixed(2s)\"`"],
        );
        told(5, "unknown argument `wait_random`; ", &["jitter = \"+2s\""]);
        told(
            6,
            "unknown argument `min`; ",
            &["no equivalent", "\"exp(4s, 10s)\"` waits 4s, 8s, 10s"],
        );
        assert!(
            args.unread(Key::Attempts) && args.unread(Key::Backoff) && args.unread(Key::Jitter)
        );
        // `reraise` names no key: nothing else is unread
        let (args, _) = parse(quote!(reraise = true));
        assert!(Key::ALL.iter().all(|key| !args.unread(*key)));
    }

    /// A cooldown (a 429's hold shared by every call, a pace) has no key
    /// of its own, as `circuit` and `budget` have: it goes on the policy,
    /// and the names a user reaches for say so (a smol user's walk-through
    /// wrote `cooldown = PARTNER` and was shown every key but the way).
    #[test]
    fn a_cooldown_is_told_it_goes_on_the_policy() {
        let (args, errors) = parse(quote!(
            cooldown = PARTNER,
            pace = PARTNER,
            rate_limit = PARTNER
        ));
        assert_eq!(errors.len(), 3, "{errors:#?}");
        for (error, name) in errors.iter().zip(["cooldown", "pace", "rate_limit"]) {
            assert!(
                error.starts_with(&format!("unknown argument `{name}`; a cooldown")),
                "{error}"
            );
            assert!(
                error.contains("`policy = presets::API.with_cooldown(&PARTNER)`"),
                "{error}"
            );
        }
        assert!(Key::ALL.iter().all(|key| !args.unread(*key)));
    }

    /// tenacity's names for a retried result, its hooks, `wait_chain`,
    /// `stop_never`, `exp_base`, `max` and `sleep`: each is told what to
    /// write (without these, `retry_if_result` was guessed `retry_if`, whose
    /// predicate takes the error, and `max` `max_elapsed`, a deadline).
    #[test]
    fn tenacitys_other_names_are_told_what_to_write() {
        let (args, errors) = parse(quote!(
            retry_if_result = is_none,
            retry_on_result = is_none,
            retry_if_not_result = is_some,
            retry_error_callback = fallback,
            wait_chain = "1s",
            stop_never = true,
            exp_base = 3,
            max = "10s",
            before = log_it,
            after = log_it,
            sleep = my_sleep,
            timer = my_sleeper,
            runtime = smol
        ));
        assert_eq!(errors.len(), 13, "{errors:#?}");
        let told = |i: usize, name: &str, has: &[&str]| {
            let start = format!("unknown argument `{name}`; ");
            assert!(errors[i].starts_with(&start), "{}", errors[i]);
            assert!(!errors[i].contains("did you mean"), "{}", errors[i]);
            for part in has {
                assert!(errors[i].contains(part), "{part:?} in {}", errors[i]);
            }
        };
        let ok = ["`retry_if_ok = pred`", "the last `Ok` is returned"];
        told(0, "retry_if_result", &ok);
        told(1, "retry_on_result", &ok);
        told(2, "retry_if_not_result", &[ok[0], ok[1], "inverted"]);
        told(
            3,
            "retry_error_callback",
            &["`on_give_up = f`", "cannot replace the result"],
        );
        told(
            4,
            "wait_chain",
            &["`backoff = \"schedule(1s, 1s, 5s)\"`", "chain of formulas"],
        );
        told(5, "stop_never", &["`attempts = 4294967295`"]);
        told(
            6,
            "exp_base",
            &["`backoff = \"exp(1s, 1m, x3)\"`", "`exp_base=3`"],
        );
        told(
            7,
            "max",
            &["second argument", "`max_elapsed` is a deadline"],
        );
        let hooks = [
            "`#[attempt]`",
            "`attempt_spans = true`",
            "`before_sleep = f`",
            "`on_give_up = f`",
        ];
        told(8, "before", &hooks);
        told(9, "after", &hooks);
        told(
            10,
            "sleep",
            &["`sleeper = my_sleep`", "`retry_runtime::testing::pause()`"],
        );
        let timer = ["`DefaultSleeper`", "`sleeper = SmolSleeper`"];
        told(11, "timer", &timer);
        told(12, "runtime", &timer);
        for key in [Key::RetryIfOk, Key::OnGiveUp, Key::Backoff, Key::Attempts] {
            assert!(args.unread(key), "{key:?}");
        }
        // `max` names the backoff's cap now, not the deadline
        assert!(!args.unread(Key::MaxElapsed) && !args.unread(Key::RetryIf));
    }

    /// A path is told to drop its path only when it ends in a kind: a type
    /// (`std::io::Error`) is left to the unknown kind's error, its one error.
    #[test]
    fn only_a_path_to_a_kind_is_told_to_drop_its_path() {
        let errors = errors_of(quote!(retry_on = std::io::Error));
        assert!(errors.is_empty(), "{errors:#?}");
        let errors = errors_of(quote!(retry_on = std::io::Error | ErrorKind::Timeout));
        assert_eq!(
            errors,
            ["write each kind alone, without a path: `retry_on = Error | Timeout`"]
        );
    }

    /// `retry_on = Timeout, Connect`: the kinds after the comma are one
    /// error, with the list as the attribute takes it, and are read.
    #[test]
    fn kinds_after_a_comma_are_told_the_bar() {
        let (args, errors) = parse(quote!(
            retry_on = Timeout,
            Connect | RateLimited,
            Unavailable,
            attempts = 3
        ));
        assert_eq!(
            errors,
            ["unknown argument `Connect`; did you mean `retry_on = Timeout | Connect | RateLimited | Unavailable`? kinds are joined with `|`, not `,`"]
        );
        let kinds: Vec<String> = args
            .retry_on
            .get()
            .map(|a| a.value.iter().map(|i| i.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(kinds, ["Timeout", "Connect", "RateLimited", "Unavailable"]);
        assert!(args.attempts.get().is_some());
        // written with paths: both errors write the whole list
        let errors = errors_of(quote!(retry_on = ErrorKind::Timeout, ErrorKind::Connect));
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0].contains("did you mean `retry_on = Timeout | Connect`?"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].ends_with("`retry_on = Timeout | Connect`"),
            "{}",
            errors[1]
        );
        // a word that is not a kind, or a kind given a value, is an argument of its own
        let errors = errors_of(quote!(retry_on = Timeout, Conect));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with("unknown argument `Conect`; valid arguments"),
            "{}",
            errors[0]
        );
        let errors = errors_of(quote!(retry_on = Timeout, Connect = 3));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            !errors[0].contains("did you mean `retry_on"),
            "{}",
            errors[0]
        );
        parse_ok(quote!(retry_on = Timeout, attempts = 3));
    }

    #[test]
    fn collects_every_error_and_keeps_going() {
        let errs = errors_of(quote!(
            atempts = 3,
            attempts = 2,
            attempts = 4,
            backoff = 5,
            jitter
        ));
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(
            errs[0].contains("unknown argument `atempts`; did you mean `attempts`?"),
            "{}",
            errs[0]
        );
        assert!(errs[1].contains("duplicate `attempts`"), "{}", errs[1]);
        assert!(
            errs[3].contains("expected string literal") && errs[3].contains("exp(1s, 4s)"),
            "{}",
            errs[3]
        );
        assert!(errs[4].contains("expected `jitter = ...`"), "{}", errs[4]);
    }

    #[test]
    fn garbage_never_panics() {
        for t in [
            quote!(=),
            quote!(, , ,),
            quote!(attempts = = 3),
            quote!(retry_on = | Timeout),
            quote!(clone = [1, 2]),
            quote!(crate = "not a path"),
            quote!(policy = ),
            quote!(3 = attempts),
            quote!(attempts 3),
        ] {
            assert!(!errors_of(t).is_empty());
        }
    }
}
