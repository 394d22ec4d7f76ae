//! Stage 1: parse `#[retry(...)]` arguments into typed values, each kept
//! with the key it was written under (for spans). Syntax errors are
//! collected per argument; parsing goes on at the next comma.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitBool, LitInt, LitStr, Path, Token};

use crate::diag::{self, Errors, Given, Slot};
use crate::vocab::Key;

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
    pub attempt_spans: Slot<LitBool>,
    count: usize,
}

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
            let names = Key::names();
            let valid = format!("valid arguments are: {}", names.join(", "));
            return Err(syn::Error::new(
                ident.span(),
                diag::unknown("argument", &name, &names, valid),
            ));
        };
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                ident.span(),
                format!("expected `{name} = ...`; {}", key.example()),
            ));
        }
        input.parse::<Token![=]>()?;
        let arg = Written {
            ident: &ident,
            key,
            pos: self.count,
        };
        self.count += 1;
        match key {
            Key::Attempts => arg.parse_into(input, &mut self.attempts, errors),
            Key::Backoff => arg.parse_into(input, &mut self.backoff, errors),
            Key::Jitter => arg.parse_into(input, &mut self.jitter, errors),
            Key::RetryOn => {
                let kinds = Punctuated::<Ident, Token![|]>::parse_separated_nonempty(input)
                    .map_err(|e| arg.with_example(e))?;
                self.retry_on
                    .set(errors, arg.given(kinds.into_iter().collect()));
                Ok(())
            }
            Key::RetryIf => arg.parse_into(input, &mut self.retry_if, errors),
            Key::RetryIfOk => arg.parse_into(input, &mut self.retry_if_ok, errors),
            Key::MaxElapsed => arg.parse_into(input, &mut self.max_elapsed, errors),
            Key::Timeout => arg.parse_into(input, &mut self.timeout, errors),
            Key::Preset => arg.parse_into(input, &mut self.preset, errors),
            Key::Policy => arg.parse_into(input, &mut self.policy, errors),
            Key::Name => arg.parse_into(input, &mut self.name, errors),
            Key::BeforeSleep => arg.parse_into(input, &mut self.before_sleep, errors),
            Key::OnGiveUp => arg.parse_into(input, &mut self.on_give_up, errors),
            Key::Circuit => arg.parse_into(input, &mut self.circuit, errors),
            Key::Budget => arg.parse_into(input, &mut self.budget, errors),
            Key::Throttle => arg.parse_into(input, &mut self.throttle, errors),
            Key::Nested => arg.parse_into(input, &mut self.nested, errors),
            Key::Hedge => arg.parse_into(input, &mut self.hedge, errors),
            Key::AttemptSpans => arg.parse_into(input, &mut self.attempt_spans, errors),
            Key::Crate => {
                let lit: LitStr = arg.value(input)?;
                let path = lit.parse::<Path>().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`crate` must name a path, like `crate = \"my_runtime\"`",
                    )
                })?;
                self.krate.set(errors, arg.given(path));
                Ok(())
            }
            Key::Clone => {
                let names = if input.peek(syn::token::Bracket) {
                    let inner;
                    syn::bracketed!(inner in input);
                    Punctuated::<Ident, Token![,]>::parse_terminated(&inner)?
                        .into_iter()
                        .collect()
                } else {
                    vec![arg.value(input)?]
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

    fn with_example(&self, e: syn::Error) -> syn::Error {
        syn::Error::new(e.span(), format!("{e}; {}", self.key.example()))
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
            policy = Policy::new().with_attempts(2),
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
