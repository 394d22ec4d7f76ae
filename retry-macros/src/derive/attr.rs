//! Stage 1 of the derive: read the `#[classify(...)]` attributes of one item
//! (the type, or one variant) into typed values with their spans. What is
//! written where it does not belong is checked later, in `valid`; here only
//! the syntax and the words themselves are.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned as _;
use syn::{Attribute, Ident, LitStr, Member, Path, Token};

use crate::diag::{self, Errors, Given, Repeat, Slot, SpanRange};
use crate::vocab::{KindsAre, KINDS};

/// Bare words that are not kinds: delegate to the single field's `Classify`.
const DELEGATE_WORDS: [&str; 2] = ["transparent", "source"];
/// The bare word that classifies the single field by its `source()` chain.
const CHAIN: &str = "chain";
/// The `key = value` options.
const OPTIONS: [&str; 5] = ["retry_after", "why", "default", "crate", "bound"];
const OPTION_LIST: &str = "`retry_after = field`, `why = \"reason\"`, `default = Kind`, \
                           `crate = \"path\"` and `bound = \"T: Trait\"`";

/// The kind a type or variant declares.
#[derive(Clone)]
pub enum KindChoice {
    /// One of [`KINDS`], with the user's span.
    Named(Ident),
    /// `transparent` or `source`: ask the single field.
    Delegate,
}

/// `chain`: the single field, an error, is classified by its `source()`
/// chain (for a field whose type is not `Classify`). A setting of its own,
/// not a [`KindChoice`], so that `valid` says why it cannot be combined
/// with a kind, `transparent` or `retry_after`.
pub struct Chain;

/// Everything the `#[classify(...)]` attributes on one item (the type, or one
/// variant) say, before it is checked against where they were written.
pub struct Attrs {
    pub kind: Slot<KindChoice>,
    pub chain: Slot<Chain>,
    pub retry_after: Slot<Member>,
    /// `why = "..."`: why a `Permanent` error is permanent, a non-empty
    /// string literal (where it may go is `valid`'s to check).
    pub why: Slot<LitStr>,
    pub default: Slot<Ident>,
    /// The runtime crate's path, as tokens.
    pub krate: Slot<TokenStream>,
    /// `bound = "..."`: where-predicates that replace the inferred bounds,
    /// as the string the user wrote (parsed, and checked, by `valid`).
    pub bound: Slot<LitStr>,
    /// Something meant as a kind (or the whole attribute) failed to parse and
    /// was reported; a "needs a kind" error on top would only repeat it.
    pub kind_broken: bool,
    /// How many settings were read, for [`Given::pos`].
    count: usize,
}

impl Attrs {
    fn new() -> Self {
        let repeat = |what, fix| Repeat::Value { what, fix };
        Attrs {
            kind: Slot::new(repeat(
                "kind",
                "give one kind, or `transparent` to take it from the field",
            )),
            // "duplicate `chain` argument", "`chain` first given here"
            chain: Slot::default(),
            retry_after: Slot::new(repeat("`retry_after`", "name one field")),
            // "duplicate `why` argument", "`why` first given here": a
            // reason may be too long to quote twice in one message
            why: Slot::default(),
            default: Slot::new(repeat("`default`", "give one default kind")),
            krate: Slot::new(repeat("`crate`", "give one path")),
            bound: Slot::new(repeat(
                "`bound`",
                "give one string with every where-predicate, separated by commas",
            )),
            kind_broken: false,
            count: 0,
        }
    }

    /// Read every `#[classify(...)]` in `attrs`; a syntax error ends only its own attribute.
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = Attrs::new();
        for attr in attrs.iter().filter(|attr| is_classify(attr)) {
            let parsed =
                attr.parse_args_with(|input: ParseStream<'_>| out.parse_list(input, errors));
            if let Err(error) = parsed {
                out.kind_broken = true;
                errors.push(error);
            }
        }
        out
    }

    fn parse_list(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
        while !input.is_empty() {
            self.parse_item(input, errors)?;
            if input.is_empty() {
                break;
            }
            let lookahead = input.lookahead1();
            if lookahead.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            } else {
                return Err(lookahead.error());
            }
        }
        Ok(())
    }

    /// `value`, written at `at` and read as `text`, as the next setting.
    fn given<T>(&mut self, value: T, at: SpanRange, text: String) -> Given<T> {
        self.count += 1;
        Given {
            value,
            at,
            text,
            pos: self.count,
        }
    }

    /// One of: `Kind`, `transparent`, `source`, `chain`, `retry_after = field`,
    /// `why = "reason"`, `default = Kind`, `crate = "path"`, `bound = "T: Trait"`.
    fn parse_item(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            errors.at(lit.span(), quoted_kind(&lit));
            self.kind_broken = true;
            return Ok(());
        }
        let lookahead = input.lookahead1();
        if !lookahead.peek(Ident::peek_any) {
            return Err(lookahead.error());
        }
        let key = Ident::parse_any(input)?;
        let name = key.to_string();

        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            match name.as_str() {
                "default" => {
                    let parsed = parse_kind_value(input, errors)?;
                    self.kind_broken |= parsed.is_none();
                    if let Some(kind) = parsed {
                        let at = SpanRange::new(key.span(), kind.span());
                        let text = kind.to_string();
                        let given = self.given(kind, at, text);
                        self.default.set(errors, given);
                    }
                }
                "retry_after" => {
                    let member: Member = input.parse()?;
                    let at = SpanRange::new(key.span(), member.span());
                    let text = member.to_token_stream().to_string();
                    let given = self.given(member, at, text);
                    self.retry_after.set(errors, given);
                }
                "why" => {
                    if let Some(lit) = parse_why(&key, input, errors)? {
                        let at = SpanRange::new(key.span(), lit.span());
                        let given = self.given(lit, at, name);
                        self.why.set(errors, given);
                    }
                }
                "crate" => {
                    let lit: LitStr = input.parse()?;
                    match lit.parse_with(Path::parse_mod_style) {
                        Ok(path) => {
                            let at = SpanRange::new(key.span(), lit.span());
                            // (with the macro's hygiene: see `as_generated`)
                            let path = diag::as_generated(path.into_token_stream());
                            let given = self.given(path, at, lit.value());
                            self.krate.set(errors, given);
                        }
                        Err(error) => errors.push(error),
                    }
                }
                "bound" => {
                    let lit: LitStr = input.parse()?;
                    let at = SpanRange::new(key.span(), lit.span());
                    // (as written, quotes and all: an empty string stays visible)
                    let text = lit.token().to_string();
                    let given = self.given(lit, at, text);
                    self.bound.set(errors, given);
                }
                word if word == CHAIN || DELEGATE_WORDS.contains(&word) => {
                    errors.at(
                        key.span(),
                        format!("`{word}` takes no value: write `#[classify({word})]`"),
                    );
                    self.kind_broken = true;
                    skip_value(input)?;
                }
                _ => {
                    errors.at(key.span(), unknown_option(&name));
                    skip_value(input)?;
                }
            }
            return Ok(());
        }

        if input.peek(Token![::]) {
            reject_path(&key, input, errors)?;
            self.kind_broken = true;
        } else if DELEGATE_WORDS.contains(&name.as_str()) {
            let given = self.given(KindChoice::Delegate, key.span().into(), name);
            self.kind.set(errors, given);
        } else if name == CHAIN {
            let given = self.given(Chain, key.span().into(), name);
            self.chain.set(errors, given);
        } else if KINDS.contains(&name.as_str()) {
            let at = key.span().into();
            let given = self.given(KindChoice::Named(key), at, name);
            self.kind.set(errors, given);
        } else if OPTIONS.contains(&name.as_str()) {
            errors.at(key.span(), needs_value(&name));
            self.kind_broken |= name == "default";
        } else {
            errors.at(key.span(), unknown_kind(&name, true));
            self.kind_broken = true;
        }
        Ok(())
    }
}

/// Is this a `#[classify]` attribute?
pub fn is_classify(attr: &Attribute) -> bool {
    attr.path().is_ident("classify")
}

/// The kind after `default =`; `None` (with the error recorded) when it is not a kind.
fn parse_kind_value(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Option<Ident>> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        errors.at(lit.span(), quoted_kind(&lit));
        return Ok(None);
    }
    let lookahead = input.lookahead1();
    if !lookahead.peek(Ident::peek_any) {
        return Err(lookahead.error());
    }
    let kind = Ident::parse_any(input)?;
    if input.peek(Token![::]) {
        reject_path(&kind, input, errors)?;
        return Ok(None);
    }
    if KINDS.contains(&kind.to_string().as_str()) {
        Ok(Some(kind))
    } else {
        errors.at(kind.span(), unknown_kind(&kind.to_string(), false));
        Ok(None)
    }
}

/// The reason after `why =`: a string literal, not empty; `None` (with the
/// error recorded, its value skipped) for anything else. What the derive
/// cannot read as written (a `const`, `concat!`, a number, `"a" "b"`) is
/// refused where it is, rather than reported as "expected string literal"
/// with the rest of the attribute left unread; a literal followed by a
/// word is a comma left out, which the caller reports.
fn parse_why(
    key: &Ident,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    if input.is_empty() || input.peek(Token![,]) {
        errors.at(key.span(), needs_value("why"));
        return Ok(None);
    }
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        // (a word after it is the next item, its comma left out: read the
        // reason, and the list says "expected `,`" there, as after any key)
        if input.is_empty() || input.peek(Token![,]) || input.peek(Ident::peek_any) {
            if !lit.suffix().is_empty() {
                errors.at(
                    lit.span(),
                    format!(
                        "`why` takes a plain string literal, without the suffix `{}`",
                        lit.suffix()
                    ),
                );
                return Ok(None);
            }
            if lit.value().trim().is_empty() {
                errors.at(
                    lit.span(),
                    "`why` is empty: say why the error is `Permanent`, as its give-up line \
                     will show it (`why = \"the clip does not exist\"`), or leave `why` out",
                );
                return Ok(None);
            }
            return Ok(Some(lit));
        }
        // `why = "a" "b"`, `why = "a".to_owned()`: reported with the rest below
        let first = lit.span();
        let last = skip_value(input)?.unwrap_or(first);
        errors.at(SpanRange::new(first, last), NOT_A_LITERAL);
        return Ok(None);
    }
    let first = input.span();
    let last = skip_value(input)?.unwrap_or(first);
    errors.at(SpanRange::new(first, last), NOT_A_LITERAL);
    Ok(None)
}

const NOT_A_LITERAL: &str = "`why` takes the reason as one string literal, \
    `why = \"the clip does not exist\"`: the derive reads it as written, so a `const`, a \
    macro call such as `concat!` or any other expression cannot be read there";

/// `ErrorKind::Timeout` where `Timeout` is meant: consume the path, report it once.
fn reject_path(first: &Ident, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
    let mut last = first.clone();
    while input.peek(Token![::]) {
        input.parse::<Token![::]>()?;
        last = Ident::parse_any(input)?;
    }
    let message = if KINDS.contains(&last.to_string().as_str()) {
        format!("write the kind's bare name, without a path: `{last}`")
    } else {
        format!("expected a kind's bare name, not a path; {KindsAre}")
    };
    errors.at(SpanRange::new(first.span(), last.span()), message);
    Ok(())
}

/// After an unknown `key =`, skip its value so the next item still gets
/// read; the span of its last token, if it had any.
fn skip_value(input: ParseStream<'_>) -> syn::Result<Option<Span>> {
    let mut last = None;
    while !input.is_empty() && !input.peek(Token![,]) {
        last = Some(input.parse::<TokenTree>()?.span());
    }
    Ok(last)
}

fn unknown_kind(name: &str, delegate_allowed: bool) -> String {
    if !delegate_allowed {
        return diag::unknown("error kind", name, &KINDS, KindsAre);
    }
    let mut candidates = KINDS.to_vec();
    candidates.extend(DELEGATE_WORDS);
    candidates.push(CHAIN);
    diag::unknown(
        "error kind",
        name,
        &candidates,
        format_args!(
            "{KindsAre} (or `transparent` to take the kind from the single field, or `chain` \
             to take it from that field's error chain)"
        ),
    )
}

fn unknown_option(name: &str) -> String {
    diag::unknown(
        "option",
        name,
        &OPTIONS,
        format_args!("the options are {OPTION_LIST}"),
    )
}

fn needs_value(name: &str) -> String {
    match name {
        "retry_after" => {
            "`retry_after` needs the field that holds the wait: `retry_after = field`".into()
        }
        "default" => "`default` needs a kind: `default = Unknown`".into(),
        "why" => "`why` needs the reason the error is `Permanent`, as a string: \
                  `why = \"the clip does not exist\"`"
            .into(),
        "bound" => "`bound` needs the impl's where-predicates, as a string: \
                    `bound = \"T: retry_runtime::Classify\"` (or `bound = \"\"` for none)"
            .into(),
        _ => format!("`{name}` needs a value: `{name} = \"path\"`"),
    }
}

fn quoted_kind(lit: &LitStr) -> String {
    let value = lit.value();
    if KINDS.contains(&value.as_str()) || DELEGATE_WORDS.contains(&value.as_str()) || value == CHAIN
    {
        format!("write the kind without quotes: `{value}`")
    } else {
        format!("expected a kind without quotes; {KindsAre}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::tests::errors_of;
    use crate::dsl::closest;
    use quote::quote;

    #[test]
    fn reads_kinds_options_and_delegates() {
        let errors = errors_of(quote! {
            #[classify(default = Unknown, crate = "my_retry", bound = "T: my_retry::Classify")]
            enum E<T> {
                #[classify(Timeout)] A,
                #[classify(transparent)] T(Box<T>),
                #[classify(transparent)] B(std::io::Error),
                #[classify(source)] C { inner: std::io::Error },
                #[classify(RateLimited, retry_after = wait)] D { wait: Option<Duration>, code: u16 },
                #[classify(Unavailable, retry_after = 1)] F(u16, Duration),
                G,
            }
        });
        assert_eq!(errors, Vec::<String>::new());
    }

    #[test]
    fn unknown_kind_suggests_and_lists() {
        let errors = errors_of(quote! { enum E { #[classify(Timout)] A } });
        assert_eq!(
            errors,
            [format!(
                "unknown error kind `Timout`; did you mean `Timeout`? {KindsAre} \
                 (or `transparent` to take the kind from the single field, or `chain` to take \
                 it from that field's error chain)"
            )]
        );
        let errors = errors_of(quote! { #[classify(default = ratelimited)] enum E { A } });
        assert_eq!(
            errors,
            [format!(
                "unknown error kind `ratelimited`; did you mean `RateLimited`? {KindsAre}"
            )]
        );
        let errors = errors_of(quote! { enum E { #[classify(Banana)] A } });
        assert!(
            errors[0].starts_with("unknown error kind `Banana`; the kinds are: Timeout,"),
            "{errors:?}"
        );
        let errors = errors_of(quote! { enum E { #[classify(transparnt)] A(u8) } });
        assert!(
            errors[0].starts_with("unknown error kind `transparnt`; did you mean `transparent`?"),
            "{errors:?}"
        );
        for typo in [quote!(chan), quote!(chains), quote!(Chain)] {
            let errors = errors_of(quote! { enum E { #[classify(#typo)] A(u8) } });
            assert!(
                errors[0].starts_with(&format!(
                    "unknown error kind `{typo}`; did you mean `chain`?"
                )),
                "{errors:?}"
            );
        }
    }

    /// `chain` is read as a setting of its own (not a kind), given once.
    #[test]
    fn reads_chain() {
        let node: syn::DeriveInput = syn::parse2(quote! {
            enum E { #[classify(chain)] A(std::io::Error), #[classify(Timeout)] B }
        })
        .unwrap();
        let mut errors = Errors::default();
        let syn::Data::Enum(data) = &node.data else {
            unreachable!()
        };
        let attrs: Vec<Attrs> = data
            .variants
            .iter()
            .map(|v| Attrs::parse(&v.attrs, &mut errors))
            .collect();
        assert!(errors.finish().is_ok());
        let chain = attrs[0]
            .chain
            .get()
            .map(|given| (given.text.as_str(), given.pos));
        assert_eq!(chain, Some(("chain", 1)));
        assert!(attrs[0].kind.get().is_none() && !attrs[0].kind_broken);
        assert!(attrs[1].chain.get().is_none() && attrs[1].kind.get().is_some());

        assert_eq!(
            errors_of(
                quote! { enum E { #[classify(chain)] #[classify(chain)] A(std::io::Error) } }
            ),
            [
                "duplicate `chain` argument; give each key once",
                "`chain` first given here"
            ]
        );
        assert_eq!(
            errors_of(quote! { enum E { #[classify("chain")] A(std::io::Error) } }),
            ["write the kind without quotes: `chain`"]
        );
        // a value is not read; nor is a "needs a kind" reported on top
        assert_eq!(
            errors_of(quote! { enum E { #[classify(chain = true)] A(std::io::Error) } }),
            ["`chain` takes no value: write `#[classify(chain)]`"]
        );
        assert_eq!(
            errors_of(quote! { #[classify(transparent = 0)] struct S(std::io::Error); }),
            ["`transparent` takes no value: write `#[classify(transparent)]`"]
        );
    }

    /// `why = "..."`: one string literal, not empty, given once; anything
    /// else is reported where it is written, and the items after it are
    /// still read.
    #[test]
    fn reads_why() {
        let node: syn::DeriveInput = syn::parse2(quote! {
            enum E { #[classify(Permanent, why = "the clip does not exist")] A, B }
        })
        .unwrap();
        let mut errors = Errors::default();
        let syn::Data::Enum(data) = &node.data else {
            unreachable!()
        };
        let attrs = Attrs::parse(&data.variants[0].attrs, &mut errors);
        assert!(errors.finish().is_ok());
        let why = attrs
            .why
            .get()
            .map(|given| (given.value.value(), given.pos));
        assert_eq!(why, Some(("the clip does not exist".to_string(), 2)));
        // a raw string and escapes are string literals too
        assert_eq!(
            errors_of(quote! { #[classify(Permanent, why = r#"no "clip""#)] struct S; }),
            Vec::<String>::new()
        );

        let one = |input| errors_of(input).join("\n");
        let not_a_literal = "`why` takes the reason as one string literal, `why = \"the clip \
                             does not exist\"`: the derive reads it as written, so a `const`, a \
                             macro call such as `concat!` or any other expression cannot be \
                             read there";
        for value in [
            quote!(REASON),
            quote!(concat!("no ", "clip")),
            quote!(404),
            quote!(b"gone"),
            quote!('x'),
            quote!("a" "b"),
            quote!("gone".to_owned()),
            quote!(crate::GONE),
        ] {
            assert_eq!(
                one(quote! { enum E { #[classify(Permanent, why = #value)] A } }),
                not_a_literal,
                "{value}"
            );
            // the item after it is still read: its mistake is reported too
            let errors = errors_of(quote! { enum E { #[classify(why = #value, Timout)] A } });
            assert_eq!(errors.len(), 2, "{value}: {errors:#?}");
            assert!(
                errors[1].starts_with("unknown error kind `Timout`"),
                "{errors:#?}"
            );
        }
        for empty in ["", " ", "\t\n"] {
            assert_eq!(
                one(quote! { enum E { #[classify(Permanent, why = #empty)] A } }),
                "`why` is empty: say why the error is `Permanent`, as its give-up line will show \
                 it (`why = \"the clip does not exist\"`), or leave `why` out",
                "{empty:?}"
            );
        }
        let needs = "`why` needs the reason the error is `Permanent`, as a string: \
                     `why = \"the clip does not exist\"`";
        for missing in [
            quote! { enum E { #[classify(Permanent, why)] A } },
            quote! { enum E { #[classify(Permanent, why =)] A } },
            quote! { enum E { #[classify(why =, Permanent)] A } },
        ] {
            assert_eq!(one(missing.clone()), needs, "{missing}");
        }
        let suffixed: TokenStream = "enum E { #[classify(Permanent, why = \"gone\"_x)] A }"
            .parse()
            .unwrap();
        assert_eq!(
            one(suffixed),
            "`why` takes a plain string literal, without the suffix `_x`"
        );
        // a comma left out after the reason: said as for any other key
        // ("expected `,`" at the next item), not taken for an expression
        // that swallows that item (a kind then reported missing)
        for input in [
            quote! { enum E { #[classify(why = "gone" Permanent)] A } },
            quote! { enum E { #[classify(Permanent, why = "gone" retry_after = 0)] A(Duration) } },
            quote! { #[classify(default = Permanent, why = "gone" crate = "rt")] enum E { A } },
        ] {
            assert_eq!(errors_of(input.clone()), ["expected `,`"], "{input}");
        }
        // twice, in one attribute or two: the second, and where the first is
        assert_eq!(
            errors_of(quote! { enum E { #[classify(Permanent, why = "a", why = "b")] A } }),
            [
                "duplicate `why` argument; give each key once",
                "`why` first given here"
            ]
        );
        assert_eq!(
            errors_of(quote! {
                enum E { #[classify(Permanent, why = "a")] #[classify(why = "b")] A }
            }),
            [
                "duplicate `why` argument; give each key once",
                "`why` first given here"
            ]
        );
    }

    #[test]
    fn unknown_option_suggests_and_lists() {
        let errors = errors_of(quote! { #[classify(retry_afer = 3)] struct S; });
        assert_eq!(
            errors[0],
            "unknown option `retry_afer`; did you mean `retry_after`? the options are \
             `retry_after = field`, `why = \"reason\"`, `default = Kind`, `crate = \"path\"` \
             and `bound = \"T: Trait\"`"
        );
        let errors = errors_of(quote! { enum E { #[classify(Permanent, reason = "gone")] A } });
        assert!(
            errors[0].starts_with("unknown option `reason`; the options are"),
            "{errors:?}"
        );
        let errors = errors_of(quote! { enum E { #[classify(Permanent, whyy = "gone")] A } });
        assert!(
            errors[0].starts_with("unknown option `whyy`; did you mean `why`?"),
            "{errors:?}"
        );
        let errors = errors_of(quote! { #[classify(bounds = "")] struct S; });
        assert!(
            errors[0].starts_with("unknown option `bounds`; did you mean `bound`?"),
            "{errors:?}"
        );
    }

    #[test]
    fn duplicates_across_attributes_and_options() {
        let errors = errors_of(quote! {
            #[classify(default = Unknown)]
            #[classify(default = Timeout, crate = "a", crate = "b")]
            #[classify(bound = "T: Classify", bound = "")]
            enum E<T> {
                #[classify(RateLimited, retry_after = a)]
                #[classify(retry_after = b, transparent)]
                A { a: Duration, b: Duration },
            }
        });
        assert_eq!(
            errors,
            [
                "more than one `default`: `Unknown`, then `Timeout`; give one default kind",
                "more than one `crate`: `a`, then `b`; give one path",
                "more than one `bound`: `\"T: Classify\"`, then `\"\"`; give one string with \
                 every where-predicate, separated by commas",
                "more than one `retry_after`: `a`, then `b`; name one field",
                "more than one kind: `RateLimited`, then `transparent`; give one kind, or `transparent` to take it from the field",
            ]
        );
    }

    #[test]
    fn malformed() {
        let one = |input| errors_of(input).join("\n");
        assert_eq!(
            one(quote! { enum E { #[classify(ErrorKind::Timeout)] A } }),
            "write the kind's bare name, without a path: `Timeout`"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(a::b)] A } }),
            format!("expected a kind's bare name, not a path; {KindsAre}")
        );
        assert_eq!(
            one(quote! { enum E { #[classify("Timeout")] A } }),
            "write the kind without quotes: `Timeout`"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(Timeout, retry_after)] A } }),
            "`retry_after` needs the field that holds the wait: `retry_after = field`"
        );
        assert_eq!(
            one(quote! { enum E { #[classify] A } }),
            "expected attribute arguments in parentheses: #[classify(...)]"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(Timeout Connect)] A } }),
            "expected `,`"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(Timeout, 5)] A } }),
            "expected identifier"
        );
        assert_eq!(
            one(quote! { #[classify(Timeout, crate = 5)] struct S; }),
            "expected string literal"
        );
        assert_eq!(
            one(quote! { #[classify(Timeout, bound = T: Clone)] struct S<T>(T); }),
            "expected string literal"
        );
        assert_eq!(
            one(quote! { #[classify(Timeout, bound)] struct S; }),
            "`bound` needs the impl's where-predicates, as a string: \
             `bound = \"T: retry_runtime::Classify\"` (or `bound = \"\"` for none)"
        );
    }

    #[test]
    fn suggestion_candidates() {
        assert_eq!(closest("Timout", &KINDS), Some("Timeout"));
        assert_eq!(closest("unavailible", &KINDS), Some("Unavailable"));
        assert_eq!(closest("retry_afer", &OPTIONS), Some("retry_after"));
        assert_eq!(closest("bounds", &OPTIONS), Some("bound"));
        assert_eq!(closest("whyy", &OPTIONS), Some("why"));
        assert_eq!(
            closest("chan", &[KINDS.as_slice(), &[CHAIN]].concat()),
            Some(CHAIN)
        );
    }
}
