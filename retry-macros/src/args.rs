//! Stage 1: parse `#[retry(...)]` arguments into typed values, each kept
//! with the key it was written under (for spans). Syntax errors are
//! collected per argument; parsing goes on at the next comma.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitInt, LitStr, Path, Token};

use crate::dsl::closest;

/// One argument's value and the key it was given under.
pub struct Arg<T> {
    pub key: Ident,
    pub value: T,
    /// Position among the arguments, to blame the later of two conflicting keys.
    pub pos: usize,
}

/// A key that may be given at most once. Rejects a repeat at its second
/// occurrence (the one set-once helper every key goes through).
pub struct Slot<T>(Option<Arg<T>>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(None)
    }
}

impl<T> Slot<T> {
    fn set(&mut self, key: Ident, value: T, pos: usize, errors: &mut Errors) {
        if let Some(first) = &self.0 {
            let mut e = syn::Error::new(
                key.span(),
                format!("duplicate `{key}` argument; give each key once"),
            );
            e.combine(syn::Error::new(
                first.key.span(),
                format!("`{key}` first given here"),
            ));
            errors.push(e);
        } else {
            self.0 = Some(Arg { key, value, pos });
        }
    }

    pub fn get(&self) -> Option<&Arg<T>> {
        self.0.as_ref()
    }
}

/// Every error found so far; combined into one at the end.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The parsed arguments of `#[retry(...)]`.
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
    pub preset: Slot<LitStr>,
    pub policy: Slot<Expr>,
    pub name: Slot<LitStr>,
    pub before_sleep: Slot<Path>,
    pub on_give_up: Slot<Path>,
    pub krate: Slot<Path>,
    pub clone: Slot<Vec<Ident>>,
    pub circuit: Slot<Path>,
    pub budget: Slot<Path>,
    count: usize,
}

/// Every key, in the order the docs list them.
pub const KEYS: &[&str] = &[
    "attempts",
    "backoff",
    "jitter",
    "retry_on",
    "retry_if",
    "retry_if_ok",
    "max_elapsed",
    "timeout",
    "preset",
    "policy",
    "name",
    "before_sleep",
    "on_give_up",
    "circuit",
    "budget",
    "clone",
    "crate",
];

impl RetryArgs {
    /// Parse the attribute's arguments, collecting every error.
    pub fn parse(tokens: TokenStream) -> syn::Result<RetryArgs> {
        let mut errors = Errors::default();
        let parser = |input: ParseStream| {
            let mut args = RetryArgs::default();
            while !input.is_empty() {
                if let Err(e) = args.parse_one(input, &mut errors) {
                    errors.push(e);
                    skip_to_comma(input);
                }
                if input.is_empty() {
                    break;
                }
                if let Err(e) = input.parse::<Token![,]>() {
                    errors.push(e);
                    skip_to_comma(input);
                    let _ = input.parse::<Option<Token![,]>>();
                }
            }
            Ok(args)
        };
        let args = parser.parse2(tokens)?;
        errors.finish()?;
        Ok(args)
    }

    fn parse_one(&mut self, input: ParseStream, errors: &mut Errors) -> syn::Result<()> {
        let key: Ident = if input.peek(Token![crate]) {
            let kw: Token![crate] = input.parse()?;
            Ident::new("crate", kw.span)
        } else {
            input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!(
                        "expected an argument like `attempts = 3`; keys are: {}",
                        KEYS.join(", ")
                    ),
                )
            })?
        };
        let name = key.to_string();
        if !KEYS.contains(&name.as_str()) {
            let hint = match closest(&name, KEYS) {
                Some(k) => format!("did you mean `{k}`? "),
                None => String::new(),
            };
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown argument `{name}`; {hint}valid arguments are: {}",
                    KEYS.join(", ")
                ),
            ));
        }
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                format!("expected `{name} = ...`; {}", example(&name)),
            ));
        }
        input.parse::<Token![=]>()?;
        let pos = self.count;
        self.count += 1;
        let with_example =
            |e: syn::Error| syn::Error::new(e.span(), format!("{e}; {}", example(&name)));
        match name.as_str() {
            "attempts" => self
                .attempts
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "backoff" => self
                .backoff
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "jitter" => self
                .jitter
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "retry_on" => {
                let kinds = Punctuated::<Ident, Token![|]>::parse_separated_nonempty(input)
                    .map_err(with_example)?;
                self.retry_on
                    .set(key, kinds.into_iter().collect(), pos, errors);
            }
            "retry_if" => self
                .retry_if
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "retry_if_ok" => {
                self.retry_if_ok
                    .set(key, input.parse().map_err(with_example)?, pos, errors)
            }
            "max_elapsed" => {
                self.max_elapsed
                    .set(key, input.parse().map_err(with_example)?, pos, errors)
            }
            "timeout" => self
                .timeout
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "preset" => self
                .preset
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "policy" => self
                .policy
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "name" => self
                .name
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "before_sleep" => {
                self.before_sleep
                    .set(key, input.parse().map_err(with_example)?, pos, errors)
            }
            "on_give_up" => {
                self.on_give_up
                    .set(key, input.parse().map_err(with_example)?, pos, errors)
            }
            "circuit" => self
                .circuit
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "budget" => self
                .budget
                .set(key, input.parse().map_err(with_example)?, pos, errors),
            "crate" => {
                let lit: LitStr = input.parse().map_err(with_example)?;
                let path = lit.parse::<Path>().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`crate` must name a path, like `crate = \"my_runtime\"`",
                    )
                })?;
                self.krate.set(key, path, pos, errors);
            }
            "clone" => {
                let names = if input.peek(syn::token::Bracket) {
                    let inner;
                    syn::bracketed!(inner in input);
                    Punctuated::<Ident, Token![,]>::parse_terminated(&inner)?
                        .into_iter()
                        .collect()
                } else {
                    vec![input.parse::<Ident>().map_err(with_example)?]
                };
                self.clone.set(key, names, pos, errors);
            }
            _ => unreachable_key(&key)?,
        }
        Ok(())
    }
}

fn unreachable_key(key: &Ident) -> syn::Result<()> {
    // KEYS and the match above list the same names; reaching here is a bug of ours, not the user's.
    Err(syn::Error::new(
        key.span(),
        format!("internal error: key `{key}` is listed but not handled"),
    ))
}

fn example(key: &str) -> &'static str {
    match key {
        "attempts" => "e.g. `attempts = 3` (total calls, at least 1)",
        "backoff" => "e.g. `backoff = \"exp(1s, 4s)\"`, `\"exp(30s, 8m, x4)\"`, `\"fixed(500ms)\"`, `\"linear(1s, 10s)\"`, `\"fib(1s, 30s)\"` or `\"none\"`",
        "jitter" => "e.g. `jitter = \"full\"`, `\"equal\"`, `\"decorrelated\"`, `\"+1s\"`, `\"+25%\"` or `\"none\"`",
        "retry_on" => "e.g. `retry_on = Timeout | Connect`",
        "retry_if" => "e.g. `retry_if = is_transient` (a `fn(&E) -> bool`)",
        "retry_if_ok" => "e.g. `retry_if_ok = is_empty` (a `fn(&T) -> bool`)",
        "max_elapsed" => "e.g. `max_elapsed = \"2m\"`",
        "timeout" => "e.g. `timeout = \"10s\"`",
        "preset" => "e.g. `preset = \"webhook\"`",
        "policy" => "e.g. `policy = MY_POLICY` (an expression of type `retry_runtime::Policy<_>`)",
        "name" => "e.g. `name = \"clip_download\"`",
        "before_sleep" => "e.g. `before_sleep = log_retry` (a `fn(&retry_runtime::RetryEvent<'_>)`)",
        "on_give_up" => "e.g. `on_give_up = alert` (a `fn(&retry_runtime::GiveUpEvent<'_>)`)",
        "circuit" => "e.g. `circuit = UPSTREAM` (a `static retry_runtime::CircuitBreaker`)",
        "budget" => "e.g. `budget = RETRIES` (a `static retry_runtime::RetryBudget`)",
        "clone" => "e.g. `clone = body` or `clone = [body, headers]`",
        "crate" => "e.g. `crate = \"my_runtime\"`",
        _ => "",
    }
}

/// Skip the rest of a broken argument, up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<TokenTree>().is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors_of(tokens: TokenStream) -> Vec<String> {
        match RetryArgs::parse(tokens) {
            Ok(_) => vec![],
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn parses_every_key() {
        let args = RetryArgs::parse(quote! {
            attempts = 3, backoff = "exp(1s, 4s)", jitter = "full", retry_on = Timeout | Connect,
            retry_if_ok = is_empty, max_elapsed = "2m", timeout = "10s", preset = "webhook",
            name = "clip", before_sleep = hooks::log, on_give_up = alert, clone = [a, b], crate = "rt",
        })
        .unwrap_or_else(|e| panic!("{e}"));
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
        let p = RetryArgs::parse(quote!(
            policy = Policy::new().attempts(2),
            retry_if = transient
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(p.policy.get().is_some() && p.retry_if.get().is_some());
        assert!(RetryArgs::parse(quote!()).is_ok());
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
            assert!(RetryArgs::parse(t).is_err());
        }
    }
}
