//! Stage 2 of the derive: check the attributes read by `attr` against where
//! they are written and against the fields they name, collecting every error
//! on the tokens at fault, and resolve each struct or variant to what its
//! `kind()` and `retry_after()` return, for `expand`.

use std::fmt::{self, Display};

use proc_macro2::TokenTree;
use quote::ToTokens as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Attribute, Field, Fields, Ident, LitStr, Member, Meta, Token, Type, WherePredicate};

use super::ast::{self, Input, Shape};
use super::attr::{Attrs, Chain, KindChoice};
use super::chain_type::not_a_chain;
use super::wait_type::not_a_wait;
use super::why;
use crate::diag::{did_you_mean, quote_list, Errors, Given, Slot, SpanRange};
use crate::vocab::KindsAre;

/// What to implement, once everything checked out.
pub struct Checked<'a> {
    pub body: Body<'a>,
    /// The where-predicates of `#[classify(bound = "...")]`, which replace
    /// the bounds `expand` would infer from the fields; `None` when not
    /// given, empty for `bound = ""`.
    pub bound: Option<Vec<WherePredicate>>,
}

/// The struct, or the enum's variants.
pub enum Body<'a> {
    Struct(Target<'a>),
    Enum(Vec<Target<'a>>),
}

/// The struct itself, or one variant.
pub struct Target<'a> {
    /// The variant; `None` for the struct.
    pub variant: Option<&'a Ident>,
    pub kind: Resolved<'a>,
    pub retry_after: Option<FieldRef<'a>>,
    /// `why = "..."`: what `why_permanent()` returns, for a `Permanent`
    /// kind (its own, or the enum's `default` and the enum's `why`).
    pub why: Option<&'a LitStr>,
}

pub enum Resolved<'a> {
    Kind(Ident),
    /// `transparent` or `source`: the field's own `Classify`.
    Delegate(FieldRef<'a>),
    /// `chain`: the field, an error, by its `source()` chain.
    Chain(FieldRef<'a>),
}

/// A field the generated code reads.
pub struct FieldRef<'a> {
    pub member: Member,
    pub ty: &'a Type,
}

/// The struct or variant being checked, for messages.
#[derive(Clone, Copy)]
pub(super) enum Who<'a> {
    Struct(&'a Ident),
    Variant(&'a Ident),
}

impl Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::Struct(ident) => write!(f, "struct `{ident}`"),
            Who::Variant(ident) => write!(f, "variant `{ident}`"),
        }
    }
}

/// What a struct or variant without a kind of its own gets.
#[derive(Clone, Copy)]
pub(super) enum Fallback<'a> {
    /// The enum's `#[classify(default = Kind)]`, and the enum's `why`.
    Kind(&'a Ident, Option<&'a LitStr>),
    /// Nothing: that is an error.
    Missing,
    /// Nothing, but a mistyped `default` or misplaced kind was already reported.
    Reported,
}

/// Report `slot` as misplaced with `message`, if it was given.
fn misplaced<T>(slot: &Slot<T>, errors: &mut Errors, message: impl FnOnce(&Given<T>) -> String) {
    if let Some(given) = slot.get() {
        errors.at(given.at, message(given));
    }
}

/// Check the attributes against where they are written and the fields they
/// name; `None` once an error that leaves nothing to implement is recorded.
pub fn check<'a>(input: &'a Input<'a>, errors: &mut Errors) -> Option<Checked<'a>> {
    let bound = input
        .attrs
        .bound
        .get()
        .and_then(|given| parse_bound(&given.value, errors));
    let body = check_body(input, errors)?;
    Some(Checked { body, bound })
}

/// The where-predicates in `bound = "..."`; `None` once the error is
/// recorded, on the string.
fn parse_bound(lit: &LitStr, errors: &mut Errors) -> Option<Vec<WherePredicate>> {
    // (every token parsed from the string carries the string's span, so a
    // trait or type in it that rustc cannot find is reported on the string)
    match lit.parse_with(Punctuated::<WherePredicate, Token![,]>::parse_terminated) {
        Ok(predicates) => Some(predicates.into_iter().collect()),
        Err(error) => {
            let starts_with_where = lit.value().split_whitespace().next() == Some("where");
            let message = if starts_with_where {
                "write the predicates without `where`: `bound = \"T: retry_runtime::Classify\"`"
                    .to_string()
            } else {
                format!(
                    "`bound` is not a list of where-predicates ({error}); write them separated \
                     by commas, as in `bound = \"T: retry_runtime::Classify, U: Clone\"`, or \
                     `bound = \"\"` for none"
                )
            };
            errors.at(lit.span(), message);
            None
        }
    }
}

fn check_body<'a>(input: &'a Input<'a>, errors: &mut Errors) -> Option<Body<'a>> {
    let container = &input.attrs;
    match &input.shape {
        Shape::Union(span) => {
            errors.at(
                *span,
                "`Classify` cannot be derived for a union; derive it on an enum or a struct, or implement it by hand",
            );
            None
        }
        Shape::Struct(fields) => {
            misplaced(&container.default, errors, |given| {
                format!(
                    "`default` is for enums; on a struct write the kind itself: `#[classify({})]`",
                    given.text
                )
            });
            reject_field_attrs(fields, errors);
            let packed = reject_packed_reads(input, fields.fields, errors);
            let who = Who::Struct(&input.original.ident);
            let target = resolve(who, fields, container, Fallback::Missing, errors)?;
            (!packed).then_some(Body::Struct(target))
        }
        Shape::Enum(variants) => {
            misplaced(&container.kind, errors, |given| match given.value {
                KindChoice::Named(_) => format!(
                    "on an enum the kind goes on each variant; write `#[classify(default = {})]` \
                     here to give it to every variant without one",
                    given.text
                ),
                KindChoice::Delegate => format!(
                    "`{}` goes on a variant with one field, not on the enum",
                    given.text
                ),
            });
            misplaced(&container.chain, errors, |_| {
                "`chain` goes on a variant with one field, not on the enum".to_string()
            });
            misplaced(&container.retry_after, errors, |_| {
                "`retry_after` goes on a variant, next to its kind".to_string()
            });
            let default_why = why::of_enum(container, errors);
            let fallback = match container.default.get() {
                Some(given) => Fallback::Kind(&given.value, default_why),
                None if container.kind_broken
                    || container.kind.get().is_some()
                    || container.chain.get().is_some() =>
                {
                    Fallback::Reported
                }
                None => Fallback::Missing,
            };
            let mut targets = Vec::with_capacity(variants.len());
            for variant in variants {
                misplaced(&variant.attrs.default, errors, |given| {
                    format!(
                        "`default` goes on the enum, not on a variant; for this variant write `#[classify({})]`",
                        given.text
                    )
                });
                misplaced(&variant.attrs.krate, errors, |_| {
                    "`crate` goes on the type, not on a variant".to_string()
                });
                misplaced(&variant.attrs.bound, errors, |_| {
                    "`bound` goes on the type, not on a variant: its predicates are the impl's"
                        .to_string()
                });
                reject_field_attrs(&variant.fields, errors);
                let who = Who::Variant(variant.ident);
                if let Some(target) =
                    resolve(who, &variant.fields, &variant.attrs, fallback, errors)
                {
                    targets.push(target);
                }
            }
            Some(Body::Enum(targets))
        }
    }
}

fn reject_field_attrs(fields: &ast::Fields<'_>, errors: &mut Errors) {
    for attr in &fields.stray_attrs {
        errors.push(syn::Error::new_spanned(
            attr,
            "`#[classify]` is not read on fields; on the variant or struct write \
             `#[classify(retry_after = field)]` or `#[classify(transparent)]`",
        ));
    }
}

/// Is the type `#[repr(packed)]` (or `packed(N)`, with or without `C`)?
fn is_packed(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| match &attr.meta {
        Meta::List(list) if list.path.is_ident("repr") => list
            .tokens
            .clone()
            .into_iter()
            .any(|token| matches!(token, TokenTree::Ident(ident) if ident == "packed")),
        _ => false,
    })
}

/// The generated impl borrows the field that `transparent`, `chain` or
/// `retry_after` reads, and a field of a packed struct may be unaligned:
/// borrowing it is E0793, reported on the field with advice about raw
/// pointers. Report it here instead, on the option, with what to do; `true`
/// if reported. A field that does not exist is left to `resolve`, which
/// reports that.
fn reject_packed_reads(input: &Input<'_>, fields: &Fields, errors: &mut Errors) -> bool {
    if !is_packed(&input.original.attrs) {
        return false;
    }
    let attrs = &input.attrs;
    let only_field = |at, text: &str| match fields.iter().next() {
        Some(field) if fields.len() == 1 => {
            Some((at, text.to_string(), field_ref(0, field).member))
        }
        _ => None,
    };
    if let Some(given) = attrs.chain.get() {
        return match only_field(given.at, &given.text) {
            Some((at, what, member)) => {
                report_packed(input, errors, at, &what, &member);
                true
            }
            None => false,
        };
    }
    let read = match (attrs.kind.get(), attrs.retry_after.get()) {
        (
            Some(
                given @ Given {
                    value: KindChoice::Delegate,
                    ..
                },
            ),
            _,
        ) => only_field(given.at, &given.text),
        (_, Some(given)) => find_field(fields, &given.value).ok().map(|field| {
            (
                given.at,
                format!("retry_after = {}", given.text),
                field.member,
            )
        }),
        _ => None,
    };
    let Some((at, what, member)) = read else {
        return false;
    };
    report_packed(input, errors, at, &what, &member);
    true
}

/// `what`, at `at`, reads the field `member` of a packed struct: the error.
fn report_packed(
    input: &Input<'_>,
    errors: &mut Errors,
    at: SpanRange,
    what: &str,
    member: &Member,
) {
    let local = match &member {
        Member::Named(ident) => ident.to_string(),
        Member::Unnamed(_) => "field".to_string(),
    };
    let member = member.to_token_stream();
    errors.at(
        at,
        format!(
            "`{what}` reads a field of struct `{}`, which is `#[repr(packed)]`: the field may be \
             unaligned, and the derived impl would borrow it; drop `packed`, or implement \
             `Classify` by hand on a copy of the field (`let {local} = self.{member};`, for a \
             `Copy` type)",
            input.original.ident
        ),
    );
}

/// The kind and `retry_after` of one struct or variant; `None` once an error is recorded.
fn resolve<'a>(
    who: Who<'a>,
    fields: &ast::Fields<'a>,
    attrs: &'a Attrs,
    fallback: Fallback<'a>,
    errors: &mut Errors,
) -> Option<Target<'a>> {
    let (ident_span, variant) = match who {
        Who::Struct(ident) => (ident.span(), None),
        Who::Variant(ident) => (ident.span(), Some(ident)),
    };
    let fields = fields.fields;
    if let Some(chain) = attrs.chain.get() {
        return resolve_chain(who, fields, attrs, chain, errors);
    }
    let kind = match attrs.kind.get() {
        Some(Given {
            value: KindChoice::Named(kind),
            ..
        }) => Some(Resolved::Kind(kind.clone())),
        Some(
            given @ Given {
                value: KindChoice::Delegate,
                ..
            },
        ) => match fields.iter().next() {
            Some(field) if fields.len() == 1 => Some(Resolved::Delegate(field_ref(0, field))),
            _ => {
                errors.at(
                    given.at,
                    format!(
                        "`{}` needs exactly one field to take the kind from, but {who} has {}",
                        given.text,
                        count_fields(fields.len())
                    ),
                );
                None
            }
        },
        // a mistyped kind, or a misplaced `default` (on a struct or variant),
        // was already reported: asking for a kind as well would repeat it
        None if attrs.kind_broken || attrs.default.get().is_some() => None,
        None => match fallback {
            Fallback::Kind(kind, _) => Some(Resolved::Kind(kind.clone())),
            Fallback::Reported => None,
            Fallback::Missing => {
                let message = match who {
                    Who::Variant(_) => format!(
                        "{who} needs `#[classify(Kind)]`, `#[classify(transparent)]`, or a \
                         container-level `#[classify(default = Kind)]`; {KindsAre} (for a kind \
                         that depends on a field's value, an HTTP status say: move the fields \
                         into a type with its own `impl Classify` and make the variant \
                         `#[classify(transparent)]` over it)"
                    ),
                    Who::Struct(_) => format!(
                        "{who} needs `#[classify(Kind)]` or `#[classify(transparent)]`; {KindsAre} \
                         (for a kind that depends on a field's value, an HTTP status say: \
                         implement `Classify` by hand instead of deriving it)"
                    ),
                };
                errors.at(ident_span, message);
                None
            }
        },
    };

    let mut retry_after_ok = true;
    let retry_after = match attrs.retry_after.get() {
        None => None,
        Some(given) => {
            if let Some(Given {
                value: KindChoice::Delegate,
                text,
                ..
            }) = attrs.kind.get()
            {
                errors.at(
                    given.at,
                    format!(
                        "`retry_after` cannot be combined with `{text}`: {who} takes `retry_after` \
                         from its field too"
                    ),
                );
                retry_after_ok = false;
                None
            } else {
                match find_field(fields, &given.value) {
                    Ok(found) => match not_a_wait(found.ty) {
                        None => Some(found),
                        Some(why) => {
                            let field = &given.text;
                            errors.push(syn::Error::new_spanned(
                                found.ty,
                                format!(
                                    "`retry_after = {field}` reads the wait the error asks for, \
                                     a `Duration` or an `Option<Duration>`; `{field}` is {why}"
                                ),
                            ));
                            retry_after_ok = false;
                            None
                        }
                    },
                    Err(message) => {
                        errors.push(syn::Error::new_spanned(
                            &given.value,
                            format!("{who} {message}"),
                        ));
                        retry_after_ok = false;
                        None
                    }
                }
            }
        }
    };

    let why = why::of_item(who, attrs, fallback, errors);
    let kind = kind?;
    let why = why.ok()?;
    retry_after_ok.then_some(Target {
        variant,
        kind,
        retry_after,
        why,
    })
}

/// A struct or variant that is `chain`: its single field, classified by
/// its error chain, and nothing else said of it; `None` once an error is
/// recorded (every one: a kind or `transparent` beside it, `retry_after`,
/// the wrong number of fields).
fn resolve_chain<'a>(
    who: Who<'a>,
    fields: &'a Fields,
    attrs: &Attrs,
    chain: &Given<Chain>,
    errors: &mut Errors,
) -> Option<Target<'a>> {
    let mut ok = true;
    if let Some(kind) = attrs.kind.get() {
        // on the later of the two
        let at = if kind.pos > chain.pos {
            kind.at
        } else {
            chain.at
        };
        let message = match kind.value {
            KindChoice::Named(_) => format!(
                "a kind cannot be combined with `chain`: `chain` takes the kind of {who} from \
                 its field's error chain; write `#[classify({})]` or `#[classify(chain)]`, \
                 not both",
                kind.text
            ),
            KindChoice::Delegate => format!(
                "`{0}` cannot be combined with `chain`: both take the kind of {who} from its \
                 field, `{0}` by the field's own `Classify` impl, `chain` by the error's \
                 `source()` chain (for a field whose type is not `Classify`, another crate's \
                 error); write one of them",
                kind.text
            ),
        };
        errors.at(at, message);
        ok = false;
    }
    if let Some(given) = attrs.retry_after.get() {
        errors.at(
            given.at,
            format!(
                "`retry_after` cannot be combined with `chain`: {who} takes its wait from its \
                 field's error chain too (the hint of the error in it that gives the kind: an \
                 `HttpError`'s `Retry-After`, a `CircuitOpen`'s time to recovery)"
            ),
        );
        ok = false;
    }
    ok &= !why::beside_chain(who, attrs, errors);
    let field = match fields.iter().next() {
        Some(field) if fields.len() == 1 => Some(field_ref(0, field)),
        _ => {
            errors.at(
                chain.at,
                format!(
                    "`chain` needs exactly one field, the error whose `source()` chain gives \
                     the kind, but {who} has {}",
                    count_fields(fields.len())
                ),
            );
            None
        }
    };
    if let Some(field) = &field {
        if let Some(message) = not_a_chain(field.ty) {
            errors.push(syn::Error::new_spanned(
                field.ty,
                format!("`chain` reads {who}'s field {message}"),
            ));
            ok = false;
        }
    }
    let variant = match who {
        Who::Struct(_) => None,
        Who::Variant(ident) => Some(ident),
    };
    field.filter(|_| ok).map(|field| Target {
        variant,
        kind: Resolved::Chain(field),
        retry_after: None,
        why: None,
    })
}

fn field_ref(index: usize, field: &Field) -> FieldRef<'_> {
    let member = match &field.ident {
        Some(ident) => Member::Named(ident.clone()),
        None => Member::Unnamed(syn::Index {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            span: field.ty.span(),
        }),
    };
    FieldRef {
        member,
        ty: &field.ty,
    }
}

fn count_fields(n: usize) -> String {
    match n {
        0 => "no fields".to_string(),
        1 => "1 field".to_string(),
        n => format!("{n} fields"),
    }
}

/// The field `retry_after = member` names; the error completes "variant `X` ...".
fn find_field<'a>(fields: &'a Fields, member: &Member) -> Result<FieldRef<'a>, String> {
    if fields.is_empty() {
        return Err("has no fields, so there is no wait for `retry_after` to read".to_string());
    }
    let names: Vec<String> = fields
        .iter()
        .filter_map(|field| field.ident.as_ref().map(Ident::to_string))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match (fields, member) {
        (Fields::Named(_), Member::Named(wanted)) => {
            let found = fields
                .iter()
                .find(|field| field.ident.as_ref() == Some(wanted));
            found.map(|field| field_ref(0, field)).ok_or_else(|| {
                format!(
                    "has no field `{wanted}`; {}its fields are: {}",
                    did_you_mean(&wanted.to_string(), &names),
                    quote_list(&names)
                )
            })
        }
        (Fields::Named(_), Member::Unnamed(index)) => Err(format!(
            "has no field `{}`: its fields are named: {}",
            index.index,
            quote_list(&names)
        )),
        (_, Member::Unnamed(index)) => {
            let position = usize::try_from(index.index).ok();
            let found = position.and_then(|i| fields.iter().nth(i).map(|field| (i, field)));
            found.map(|(i, field)| field_ref(i, field)).ok_or_else(|| {
                format!(
                    "has no field `{}`: it has {}, numbered from 0",
                    index.index,
                    count_fields(fields.len())
                )
            })
        }
        (_, Member::Named(wanted)) => {
            let hint = match fields.len() {
                1 => "`retry_after = 0`".to_string(),
                n => format!(
                    "`retry_after = 0` to `retry_after = {}`",
                    n.saturating_sub(1)
                ),
            };
            Err(format!(
                "has no field `{wanted}`: its fields are unnamed; name one by position: {hint}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::tests::errors_of;
    use quote::quote;

    #[test]
    fn retry_after_field_errors() {
        let one = |input| errors_of(input).join("\n");
        assert_eq!(
            one(
                quote! { enum E { #[classify(RateLimited, retry_after = wayt)] A { wait: Duration } } }
            ),
            "variant `A` has no field `wayt`; did you mean `wait`? its fields are: `wait`"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(RateLimited, retry_after = 2)] A(u8, Duration) } }),
            "variant `A` has no field `2`: it has 2 fields, numbered from 0"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(RateLimited, retry_after = wait)] A(Duration) } }),
            "variant `A` has no field `wait`: its fields are unnamed; name one by position: `retry_after = 0`"
        );
        assert_eq!(
            one(
                quote! { enum E { #[classify(RateLimited, retry_after = 0)] A { wait: Duration } } }
            ),
            "variant `A` has no field `0`: its fields are named: `wait`"
        );
        for empty in [quote!(A {}), quote!(A())] {
            assert_eq!(
                one(quote! { enum E { #[classify(RateLimited, retry_after = x)] #empty } }),
                "variant `A` has no fields, so there is no wait for `retry_after` to read"
            );
        }
        assert_eq!(
            one(
                quote! { enum E { #[classify(RateLimited, retry_after = x)] A(u8, u8, Duration) } }
            ),
            "variant `A` has no field `x`: its fields are unnamed; name one by position: \
             `retry_after = 0` to `retry_after = 2`"
        );
        assert_eq!(
            one(quote! { #[classify(RateLimited, retry_after = 0)] struct S; }),
            "struct `S` has no fields, so there is no wait for `retry_after` to read"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(transparent, retry_after = 0)] A(std::io::Error) } }),
            "`retry_after` cannot be combined with `transparent`: variant `A` takes `retry_after` from its field too"
        );
    }

    /// A `retry_after` field that plainly holds no wait (a number of
    /// seconds, a deadline, a header's text) is reported on its type with a
    /// fix; rustc's own message was "`Option<Duration>: From<u64>` is not
    /// satisfied", listing `From` impls of tracing's types.
    #[test]
    fn a_retry_after_field_that_holds_no_wait() {
        let one = |input| errors_of(input).join("\n");
        let message = one(quote! {
            enum E { #[classify(RateLimited, retry_after = wait_secs)] A { wait_secs: u64 } }
        });
        assert_eq!(
            message,
            "`retry_after = wait_secs` reads the wait the error asks for, a `Duration` or an \
             `Option<Duration>`; `wait_secs` is a `u64`, a number, in no unit: hold the wait \
             as a `Duration`, made where the error is made (`Duration::from_secs(secs)`, \
             `Duration::from_millis(ms)`, `Duration::from_secs_f64(secs)`)"
        );
        let cases = [
            (quote!(f64), "`0` is an `f64`, a number"),
            (
                quote!(Option<u32>),
                "`0` is an `Option<u32>`, a number, in no unit",
            ),
            (
                quote!(std::time::SystemTime),
                "`0` is a `SystemTime`, a point in time",
            ),
            (
                quote!(Option<tokio::time::Instant>),
                "`0` is an `Option<Instant>`, a point in time",
            ),
            (
                quote!(&'static str),
                "`0` is a `&str`, text: parse it into an `Option<Duration>`",
            ),
            (
                quote!(Option<&'static str>),
                "`0` is an `Option<&str>`, text",
            ),
            (quote!(String), "`0` is a `String`, text"),
            (quote!(http::HeaderValue), "`0` is a `HeaderValue`, text"),
            (
                quote!(chrono::Duration),
                "`0` is a `TimeDelta`, chrono's duration",
            ),
            (
                quote!(chrono::TimeDelta),
                "`0` is a `TimeDelta`, chrono's duration",
            ),
        ];
        for (ty, expected) in cases {
            let message = one(quote! {
                enum E { #[classify(RateLimited, retry_after = 0)] A(#ty, u8) }
            });
            assert!(message.contains(expected), "{ty}: {message}");
        }
        // a wait, or a type that may convert into one: left to the generated
        // `Into<Option<Duration>>`
        for ty in [
            quote!(Duration),
            quote!(std::time::Duration),
            quote!(core::time::Duration),
            quote!(Option<Duration>),
            quote!(::core::option::Option<std::time::Duration>),
            quote!(T),
            quote!(Option<T>),
            quote!(Wait),
            quote!(Option),
            quote!(Vec<u64>),
            quote!(<T as Trait>::u64),
            // a type of the user's, or of a type parameter, of a known name
            quote!(C::Instant),
            quote!(crate::clock::Instant),
            quote!(self::u64),
        ] {
            assert_eq!(
                one(quote! { enum E { #[classify(RateLimited, retry_after = 0)] A(#ty) } }),
                "",
                "{ty}"
            );
        }
    }

    #[test]
    fn a_packed_struct_field_is_not_read() {
        let one = |input| errors_of(input).join("\n");
        let message = one(quote! {
            #[classify(RateLimited, retry_after = wait)]
            #[repr(C, packed)]
            struct S { code: u8, wait: Duration }
        });
        assert!(
            message.starts_with(
                "`retry_after = wait` reads a field of struct `S`, which is `#[repr(packed)]`"
            ),
            "{message}"
        );
        assert!(message.contains("`let wait = self.wait;`"), "{message}");
        let message = one(quote! {
            #[repr(packed(2))]
            #[classify(transparent)]
            struct W(std::io::Error);
        });
        assert!(
            message.starts_with("`transparent` reads a field of struct `W`"),
            "{message}"
        );
        assert!(message.contains("`let field = self.0;`"), "{message}");
        // nothing read, nothing to report; other reprs are fine
        assert_eq!(
            one(quote! { #[classify(Timeout)] #[repr(packed)] struct S { wait: Duration } }),
            ""
        );
        assert_eq!(
            one(quote! { #[classify(transparent)] #[repr(C, align(8))] struct W(E); }),
            ""
        );
        // a packed struct with the wrong fields: only the field error
        assert_eq!(
            one(quote! { #[classify(transparent)] #[repr(packed)] struct W(E, E); }),
            "`transparent` needs exactly one field to take the kind from, but struct `W` has 2 fields"
        );
        // and the stub impl, not the E0793 one
        let out = crate::derive::classify(quote! {
            #[classify(transparent)] #[repr(packed)] struct W(E);
        })
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(!out.contains("__classify_field"), "{out}");
    }

    #[test]
    fn a_bound_must_be_where_predicates() {
        let one = |input| errors_of(input).join("\n");
        // empty, several, a trailing comma, lifetimes, higher-ranked
        for bound in [
            "",
            "  ",
            "T: Classify",
            "T: Classify, U: Clone + Into<Option<Duration>>,",
            "'a: 'b, T: 'a",
            "for<'x> &'x T: Classify",
            "Box<T>: ::retry_runtime::Classify",
        ] {
            assert_eq!(
                one(quote! { #[classify(Timeout, bound = #bound)] struct S<T>(T); }),
                "",
                "{bound}"
            );
        }
        let not = |bound: &str| {
            let message = one(quote! { #[classify(Timeout, bound = #bound)] struct S<T>(T); });
            assert!(
                message.starts_with("`bound` is not a list of where-predicates ("),
                "{bound}: {message}"
            );
            assert!(
                message.ends_with(
                    "); write them separated by commas, as in \
                     `bound = \"T: retry_runtime::Classify, U: Clone\"`, or `bound = \"\"` for none"
                ),
                "{bound}: {message}"
            );
        };
        // not predicates, not tokens at all (no panic either way)
        for bound in [
            "T",
            "T Classify",
            "T: Classify U: Clone",
            "T: Classify,,",
            "T: (Classify",
            "T: Classify]",
            "\"",
            "/* T: Classify",
            "T: Classify;",
            "T: 'a 'b",
        ] {
            not(bound);
        }
        assert_eq!(
            one(quote! { #[classify(Timeout, bound = "where T: Classify")] struct S<T>(T); }),
            "write the predicates without `where`: `bound = \"T: retry_runtime::Classify\"`"
        );
        // on a variant; and a bad bound beside the other errors
        assert_eq!(
            one(quote! { enum E<T> { #[classify(Timeout, bound = "T: Clone")] A(T) } }),
            "`bound` goes on the type, not on a variant: its predicates are the impl's"
        );
        let errors = errors_of(quote! {
            #[classify(bound = "T Classify")]
            enum E<T> { #[classify(Timout)] A(T), B }
        });
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[1].starts_with("`bound` is not a list"),
            "{errors:#?}"
        );
    }

    /// `chain`: one field, nothing else that says the kind or the wait;
    /// every mistake reported, each where it is written.
    #[test]
    fn chain_errors() {
        let one = |input| errors_of(input).join("\n");
        // accepted: a variant, a struct, named or not, generic
        for ok in [
            quote! { enum E { #[classify(chain)] A(std::io::Error), #[classify(Timeout)] B } },
            quote! { #[classify(default = Unknown)] enum E { #[classify(chain)] A { e: Pool }, B } },
            quote! { #[classify(chain)] struct S(deadpool_postgres::PoolError); },
            quote! { #[classify(chain)] struct S<E> { inner: E } },
            quote! { #[classify(chain, crate = "rt", bound = "")] struct S<E>(Box<E>); },
        ] {
            assert_eq!(one(ok.clone()), "", "{ok}");
        }
        assert_eq!(
            one(quote! { enum E { #[classify(chain)] A(std::io::Error, u8) } }),
            "`chain` needs exactly one field, the error whose `source()` chain gives the kind, \
             but variant `A` has 2 fields"
        );
        assert_eq!(
            one(quote! { #[classify(chain)] struct S; }),
            "`chain` needs exactly one field, the error whose `source()` chain gives the kind, \
             but struct `S` has no fields"
        );
        let with_kind = "a kind cannot be combined with `chain`: `chain` takes the kind of \
                         variant `A` from its field's error chain; write `#[classify(Timeout)]` \
                         or `#[classify(chain)]`, not both";
        assert_eq!(
            one(quote! { enum E { #[classify(chain, Timeout)] A(std::io::Error) } }),
            with_kind
        );
        assert_eq!(
            one(quote! { enum E { #[classify(Timeout)] #[classify(chain)] A(std::io::Error) } }),
            with_kind
        );
        assert_eq!(
            one(quote! { enum E { #[classify(source, chain)] A(std::io::Error) } }),
            "`source` cannot be combined with `chain`: both take the kind of variant `A` from \
             its field, `source` by the field's own `Classify` impl, `chain` by the error's \
             `source()` chain (for a field whose type is not `Classify`, another crate's \
             error); write one of them"
        );
        assert_eq!(
            one(quote! { #[classify(chain, retry_after = 0)] struct S(std::io::Error); }),
            "`retry_after` cannot be combined with `chain`: struct `S` takes its wait from its \
             field's error chain too (the hint of the error in it that gives the kind: an \
             `HttpError`'s `Retry-After`, a `CircuitOpen`'s time to recovery)"
        );
        assert_eq!(
            one(quote! { #[classify(chain)] enum E { #[classify(Timeout)] A } }),
            "`chain` goes on a variant with one field, not on the enum"
        );
        // every error of one variant at once, and no "needs a kind" for it
        let errors = errors_of(quote! {
            enum E {
                #[classify(transparent, chain, retry_after = wait)] A { e: Pool, wait: Duration },
                B,
            }
        });
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].starts_with("`transparent` cannot be combined with `chain`"));
        assert!(errors[1].starts_with("`retry_after` cannot be combined with `chain`"));
        assert!(errors[2].starts_with("`chain` needs exactly one field"));
        assert!(errors[3].starts_with("variant `B` needs"));
        // a `dyn Error` behind a pointer, and a type that borrows: the way
        // out, where rustc says a size is unknown or a borrow escapes; a
        // `'static` lifetime, and `dyn` inside a name, pass
        for boxed in [
            quote! { enum E { #[classify(chain)] A(Box<dyn std::error::Error + Send + Sync>) } },
            quote! { enum E { #[classify(chain)] A(std::sync::Arc<dyn Error>) } },
            quote! { enum E { #[classify(chain)] A(&'static (dyn Error + Sync)) } },
        ] {
            let message = one(boxed.clone());
            assert!(
                message.starts_with("`chain` reads variant `A`'s field as an error whose `source()` chain gives the kind, but a `dyn Error` behind a pointer")
                    && message.ends_with("so write `#[classify(transparent)]`"),
                "{boxed}: {message}"
            );
        }
        for borrowed in [
            quote! { enum L<'a> { #[classify(chain)] B(Borrowed<'a>) } },
            quote! { #[classify(chain)] struct S<'a>(wrap::Err<Vec<&'a str>>); },
        ] {
            let message = one(borrowed.clone());
            assert!(
                message.contains("needs an error type that is `'static`, and this one borrows"),
                "{borrowed}: {message}"
            );
        }
        for ok in [
            quote! { #[classify(chain)] struct S(Err<&'static str>); },
            quote! { #[classify(chain)] struct S(aws::dynamodb::Error); },
            // a `dyn` deeper in is the error's own; a higher-ranked lifetime borrows nothing
            quote! { enum E { #[classify(chain)] Gone(SendError<Box<dyn FnOnce() + Send>>) } },
            quote! { enum E { #[classify(chain)] No(Rejected<for<'a> fn(&'a str) -> bool>) } },
        ] {
            assert_eq!(one(ok.clone()), "", "{ok}");
        }
        // a packed struct: the field is borrowed
        let message = one(quote! { #[classify(chain)] #[repr(packed)] struct W(E); });
        assert!(
            message.starts_with("`chain` reads a field of struct `W`, which is `#[repr(packed)]`"),
            "{message}"
        );
    }

    #[test]
    fn misplaced_and_missing() {
        let one = |input| errors_of(input).join("\n");
        assert_eq!(
            one(quote! { #[classify(Timeout)] enum E { A } }),
            "on an enum the kind goes on each variant; write `#[classify(default = Timeout)]` here to give it to every variant without one"
        );
        assert_eq!(
            one(quote! { #[classify(default = Timeout)] struct S; }),
            "`default` is for enums; on a struct write the kind itself: `#[classify(Timeout)]`"
        );
        assert_eq!(
            one(quote! { enum E { #[classify(Timeout, crate = "x")] A } }),
            "`crate` goes on the type, not on a variant"
        );
        assert_eq!(one(quote! { enum E { #[classify(Timeout)] A(#[classify(transparent)] u8) } }),
            "`#[classify]` is not read on fields; on the variant or struct write `#[classify(retry_after = field)]` or `#[classify(transparent)]`");
        assert_eq!(
            one(quote! { union U { a: u8 } }),
            "`Classify` cannot be derived for a union; derive it on an enum or a struct, or implement it by hand"
        );
        assert_eq!(
            one(quote! { struct S; }),
            format!(
                "struct `S` needs `#[classify(Kind)]` or `#[classify(transparent)]`; {KindsAre} \
                 (for a kind that depends on a field's value, an HTTP status say: implement \
                 `Classify` by hand instead of deriving it)"
            )
        );
        // a kind that depends on a value: the way there is named
        assert_eq!(
            one(quote! { enum E { Status { code: u16 } } }),
            format!(
                "variant `Status` needs `#[classify(Kind)]`, `#[classify(transparent)]`, or a \
                 container-level `#[classify(default = Kind)]`; {KindsAre} (for a kind that \
                 depends on a field's value, an HTTP status say: move the fields into a type \
                 with its own `impl Classify` and make the variant `#[classify(transparent)]` \
                 over it)"
            )
        );
    }
}
