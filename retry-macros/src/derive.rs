//! `#[derive(Classify)]`: read the `#[classify(...)]` attributes into typed
//! values with their spans, check them against the type's shape (collecting
//! every error, each on the token at fault), then write the `Classify` impl.
//!
//! ```text
//! #[derive(Classify)]
//! #[classify(default = Unknown)]          // enum: the kind of unannotated variants
//! enum ClipError {
//!     #[classify(Timeout)] Timeout,
//!     #[classify(transparent)] Io(std::io::Error),   // or `source`: ask the field
//!     #[classify(RateLimited, retry_after = wait)] Throttled { wait: Option<Duration> },
//!     Other,
//! }
//! ```
//!
//! expands to roughly
//!
//! ```text
//! #[automatically_derived]
//! impl ::retry_runtime::Classify for ClipError {
//!     fn kind(&self) -> ::retry_runtime::ErrorKind {
//!         match self {
//!             Self::Timeout { .. } => ::retry_runtime::ErrorKind::Timeout,
//!             Self::Io { 0: field, .. } => ::retry_runtime::Classify::kind(field),
//!             Self::Throttled { .. } => ::retry_runtime::ErrorKind::RateLimited,
//!             Self::Other { .. } => ::retry_runtime::ErrorKind::Unknown,
//!         }
//!     }
//!     fn retry_after(&self) -> Option<Duration> {
//!         match self {
//!             Self::Timeout { .. } => None,
//!             Self::Io { 0: field, .. } => ::retry_runtime::Classify::retry_after(field),
//!             Self::Throttled { wait: field, .. } => Into::<Option<Duration>>::into(Clone::clone(field)),
//!             Self::Other { .. } => None,
//!         }
//!     }
//! }
//! ```
//!
//! `retry_after` is only written when some variant uses `retry_after` or
//! `transparent`; otherwise the trait's default (`None`) applies. The field of
//! `retry_after = field` may be a `Duration` or an `Option<Duration>`: both
//! convert with `Into<Option<Duration>>`, so the type need not be known here.
//!
//! The generated code names only `#krate::Classify`, `#krate::ErrorKind`
//! (`#krate` is `::retry_runtime` unless `#[classify(crate = "path")]`) and
//! `::core` items. Those two are public API, the very trait users implement by
//! hand, so the derive needs nothing from `__private`.
//!
//! On any error the derive emits every error plus a stub impl (kind
//! `Unknown`), so a mistake in the attribute does not also surface as
//! "`ClipError` does not implement `Classify`" at every use of the type.

use std::fmt::{self, Display};

use proc_macro2::{Group, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned as _;
use syn::{Attribute, Data, DeriveInput, Field, Fields, Ident, LitStr, Member, Path, Token, Type};

use crate::dsl::closest;
use crate::validate::{KINDS, KIND_LIST};

/// Bare words that are not kinds: delegate to the single field's `Classify`.
const DELEGATE_WORDS: [&str; 2] = ["transparent", "source"];
/// The `key = value` options.
const OPTIONS: [&str; 3] = ["retry_after", "default", "crate"];
const OPTION_LIST: &str = "`retry_after = field`, `default = Kind` and `crate = \"path\"`";

/// Implement `Classify` for the type in `input`; on error, every error plus a stub impl.
pub fn classify(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let container = ClassifyAttrs::parse(&input.attrs, &mut errors);
    let krate = container
        .krate
        .get()
        .map_or_else(|| quote!(::retry_runtime), |path| path.value.clone());
    let body = check(&input, &container, &mut errors);
    match (errors.finish(), body) {
        (Ok(()), Some(body)) => expand(&input, &krate, &body),
        (Err(error), _) => fallback(&input, &krate, &error),
        // `check` only gives up after recording an error; stay total anyway.
        (Ok(()), None) => fallback(
            &input,
            &krate,
            &syn::Error::new(
                input.ident.span(),
                "`#[derive(Classify)]` could not read this type",
            ),
        ),
    }
}

// ---------------------------------------------------------------------------
// Errors and spans
// ---------------------------------------------------------------------------

/// Every error found so far, combined (serde's `Ctxt`).
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            none => *none = Some(error),
        }
    }

    fn at(&mut self, at: impl Into<SpanRange>, message: impl Display) {
        self.push(at.into().error(message));
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The first and last token of something the user wrote, so an error can
/// underline all of `retry_after = wait` (as `syn::Error::new_spanned` does).
#[derive(Clone, Copy)]
struct SpanRange {
    first: Span,
    last: Span,
}

impl SpanRange {
    fn new(first: Span, last: Span) -> Self {
        SpanRange { first, last }
    }

    fn error(self, message: impl Display) -> syn::Error {
        let marker = |span| {
            let mut punct = Punct::new('#', Spacing::Alone);
            punct.set_span(span);
            TokenTree::from(punct)
        };
        let tokens: TokenStream = [marker(self.first), marker(self.last)]
            .into_iter()
            .collect();
        syn::Error::new_spanned(tokens, message)
    }
}

impl From<Span> for SpanRange {
    fn from(span: Span) -> Self {
        SpanRange::new(span, span)
    }
}

// ---------------------------------------------------------------------------
// Parse: `#[classify(...)]` into typed values with their spans
// ---------------------------------------------------------------------------

/// A value as written, with its spelling (for messages) and where it was written.
struct Spanned<T> {
    value: T,
    text: String,
    range: SpanRange,
}

/// A setting that may be given once; the second occurrence is the error
/// (serde's `Attr::set`). Shared by every option, so no option hand-rolls its
/// own duplicate check.
struct Once<T> {
    /// What the setting is called in messages.
    what: &'static str,
    /// How to fix a repeat.
    rule: &'static str,
    slot: Option<Spanned<T>>,
}

impl<T> Once<T> {
    const fn new(what: &'static str, rule: &'static str) -> Self {
        Once {
            what,
            rule,
            slot: None,
        }
    }

    fn set(&mut self, errors: &mut Errors, new: Spanned<T>) {
        match &self.slot {
            Some(previous) => errors.at(
                new.range,
                format!(
                    "more than one {}: `{}`, then `{}`; {}",
                    self.what, previous.text, new.text, self.rule
                ),
            ),
            None => self.slot = Some(new),
        }
    }

    fn get(&self) -> Option<&Spanned<T>> {
        self.slot.as_ref()
    }
}

/// The kind a type or variant declares.
#[derive(Clone)]
enum KindChoice {
    /// One of [`KINDS`], with the user's span.
    Named(Ident),
    /// `transparent` or `source`: ask the single field.
    Delegate,
}

/// Everything the `#[classify(...)]` attributes on one item (the type, or one
/// variant) say, before it is checked against where they were written.
struct ClassifyAttrs {
    kind: Once<KindChoice>,
    retry_after: Once<Member>,
    default: Once<Ident>,
    /// The runtime crate's path, as tokens.
    krate: Once<TokenStream>,
    /// Something meant as a kind (or the whole attribute) failed to parse and
    /// was reported; a "needs a kind" error on top would only repeat it.
    kind_broken: bool,
}

impl ClassifyAttrs {
    fn new() -> Self {
        ClassifyAttrs {
            kind: Once::new(
                "kind",
                "give one kind, or `transparent` to take it from the field",
            ),
            retry_after: Once::new("`retry_after`", "name one field"),
            default: Once::new("`default`", "give one default kind"),
            krate: Once::new("`crate`", "give one path"),
            kind_broken: false,
        }
    }

    /// Read every `#[classify(...)]` in `attrs`; a syntax error ends only its own attribute.
    fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = ClassifyAttrs::new();
        for attr in attrs.iter().filter(|attr| attr.path().is_ident("classify")) {
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

    /// One of: `Kind`, `transparent`, `source`, `retry_after = field`,
    /// `default = Kind`, `crate = "path"`.
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
                        let range = SpanRange::new(key.span(), kind.span());
                        let text = kind.to_string();
                        self.default.set(
                            errors,
                            Spanned {
                                value: kind,
                                text,
                                range,
                            },
                        );
                    }
                }
                "retry_after" => {
                    let member: Member = input.parse()?;
                    let range = SpanRange::new(key.span(), member.span());
                    let text = member.to_token_stream().to_string();
                    self.retry_after.set(
                        errors,
                        Spanned {
                            value: member,
                            text,
                            range,
                        },
                    );
                }
                "crate" => {
                    let lit: LitStr = input.parse()?;
                    match lit.parse_with(Path::parse_mod_style) {
                        Ok(path) => {
                            let range = SpanRange::new(key.span(), lit.span());
                            let text = lit.value();
                            let value = path.into_token_stream();
                            self.krate.set(errors, Spanned { value, text, range });
                        }
                        Err(error) => errors.push(error),
                    }
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
            let range = SpanRange::from(key.span());
            self.kind.set(
                errors,
                Spanned {
                    value: KindChoice::Delegate,
                    text: name,
                    range,
                },
            );
        } else if KINDS.contains(&name.as_str()) {
            let range = SpanRange::from(key.span());
            self.kind.set(
                errors,
                Spanned {
                    value: KindChoice::Named(key),
                    text: name,
                    range,
                },
            );
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
        format!("expected a kind's bare name, not a path; the kinds are: {KIND_LIST}")
    };
    errors.at(SpanRange::new(first.span(), last.span()), message);
    Ok(())
}

/// After an unknown `key =`, skip its value so the next item still gets read.
fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    closest(name, candidates).map_or_else(String::new, |c| format!("; did you mean `{c}`?"))
}

fn unknown_kind(name: &str, delegate_allowed: bool) -> String {
    let mut candidates = KINDS.to_vec();
    if delegate_allowed {
        candidates.extend(DELEGATE_WORDS);
    }
    let suggestion = did_you_mean(name, &candidates);
    let separator = if suggestion.is_empty() { ";" } else { "" };
    let delegate = if delegate_allowed {
        " (or `transparent` to take the kind from the single field)"
    } else {
        ""
    };
    format!(
        "unknown error kind `{name}`{suggestion}{separator} the kinds are: {KIND_LIST}{delegate}"
    )
}

fn unknown_option(name: &str) -> String {
    let suggestion = did_you_mean(name, &OPTIONS);
    let separator = if suggestion.is_empty() { ";" } else { "" };
    format!("unknown option `{name}`{suggestion}{separator} the options are {OPTION_LIST}")
}

fn needs_value(name: &str) -> String {
    match name {
        "retry_after" => {
            "`retry_after` needs the field that holds the wait: `retry_after = field`".into()
        }
        "default" => "`default` needs a kind: `default = Unknown`".into(),
        _ => format!("`{name}` needs a value: `{name} = \"path\"`"),
    }
}

fn quoted_kind(lit: &LitStr) -> String {
    let value = lit.value();
    if KINDS.contains(&value.as_str()) || DELEGATE_WORDS.contains(&value.as_str()) {
        format!("write the kind without quotes: `{value}`")
    } else {
        format!("expected a kind without quotes; the kinds are: {KIND_LIST}")
    }
}

// ---------------------------------------------------------------------------
// Validate: check the attributes against the type's shape
// ---------------------------------------------------------------------------

/// What to implement, once everything checked out.
enum Body<'a> {
    Struct(Target<'a>),
    Enum(Vec<Target<'a>>),
}

/// The struct itself, or one variant.
struct Target<'a> {
    /// `Self` or `Self::Variant`, for patterns.
    path: TokenStream,
    kind: Resolved<'a>,
    retry_after: Option<FieldRef<'a>>,
}

enum Resolved<'a> {
    Kind(Ident),
    Delegate(FieldRef<'a>),
}

struct FieldRef<'a> {
    member: Member,
    ty: &'a Type,
}

impl FieldRef<'_> {
    /// The local that borrows this field in a generated pattern. It is spanned
    /// on the field's type (not `Span::mixed_site()`) so that an error about
    /// the field, such as a type without `Classify`, is reported on the
    /// field: rustc moves errors in spans of another crate's macro to the
    /// derive. No user expression is spliced next to it, so it cannot clash.
    fn binding(&self) -> Ident {
        Ident::new("__classify_field", self.ty.span())
    }
}

/// The struct or variant being checked, for messages.
#[derive(Clone, Copy)]
enum Who<'a> {
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
enum Fallback<'a> {
    /// The enum's `#[classify(default = Kind)]`.
    Kind(&'a Ident),
    /// Nothing: that is an error.
    Missing,
    /// Nothing, but a mistyped `default` or misplaced kind was already reported.
    Reported,
}

/// Report `slot` as misplaced with `message`, if it was given.
fn misplaced<T>(slot: &Once<T>, errors: &mut Errors, message: impl FnOnce(&Spanned<T>) -> String) {
    if let Some(given) = slot.get() {
        errors.at(given.range, message(given));
    }
}

fn check<'a>(
    input: &'a DeriveInput,
    container: &ClassifyAttrs,
    errors: &mut Errors,
) -> Option<Body<'a>> {
    match &input.data {
        Data::Union(data) => {
            errors.at(
                data.union_token.span,
                "`Classify` cannot be derived for a union; derive it on an enum or a struct, or implement it by hand",
            );
            None
        }
        Data::Struct(data) => {
            misplaced(&container.default, errors, |given| {
                format!(
                    "`default` is for enums; on a struct write the kind itself: `#[classify({})]`",
                    given.text
                )
            });
            reject_field_attrs(&data.fields, errors);
            let who = Who::Struct(&input.ident);
            let target = resolve(
                who,
                quote!(Self),
                &data.fields,
                container,
                Fallback::Missing,
                errors,
            )?;
            Some(Body::Struct(target))
        }
        Data::Enum(data) => {
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
            misplaced(&container.retry_after, errors, |_| {
                "`retry_after` goes on a variant, next to its kind".to_string()
            });
            let fallback = match container.default.get() {
                Some(given) => Fallback::Kind(&given.value),
                None if container.kind_broken || container.kind.get().is_some() => {
                    Fallback::Reported
                }
                None => Fallback::Missing,
            };
            let mut targets = Vec::with_capacity(data.variants.len());
            for variant in &data.variants {
                let attrs = ClassifyAttrs::parse(&variant.attrs, errors);
                misplaced(&attrs.default, errors, |given| {
                    format!(
                        "`default` goes on the enum, not on a variant; for this variant write `#[classify({})]`",
                        given.text
                    )
                });
                misplaced(&attrs.krate, errors, |_| {
                    "`crate` goes on the type, not on a variant".to_string()
                });
                reject_field_attrs(&variant.fields, errors);
                let ident = &variant.ident;
                let who = Who::Variant(ident);
                if let Some(target) = resolve(
                    who,
                    quote!(Self::#ident),
                    &variant.fields,
                    &attrs,
                    fallback,
                    errors,
                ) {
                    targets.push(target);
                }
            }
            Some(Body::Enum(targets))
        }
    }
}

fn reject_field_attrs(fields: &Fields, errors: &mut Errors) {
    for attr in fields.iter().flat_map(|field| &field.attrs) {
        if attr.path().is_ident("classify") {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[classify]` is not read on fields; on the variant or struct write \
                 `#[classify(retry_after = field)]` or `#[classify(transparent)]`",
            ));
        }
    }
}

/// The kind and `retry_after` of one struct or variant; `None` once an error is recorded.
fn resolve<'a>(
    who: Who<'_>,
    path: TokenStream,
    fields: &'a Fields,
    attrs: &ClassifyAttrs,
    fallback: Fallback<'_>,
    errors: &mut Errors,
) -> Option<Target<'a>> {
    let ident_span = match who {
        Who::Struct(ident) | Who::Variant(ident) => ident.span(),
    };
    let kind = match attrs.kind.get() {
        Some(Spanned {
            value: KindChoice::Named(kind),
            ..
        }) => Some(Resolved::Kind(kind.clone())),
        Some(
            given @ Spanned {
                value: KindChoice::Delegate,
                ..
            },
        ) => match fields.iter().next() {
            Some(field) if fields.len() == 1 => Some(Resolved::Delegate(field_ref(0, field))),
            _ => {
                errors.at(
                    given.range,
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
            Fallback::Kind(kind) => Some(Resolved::Kind(kind.clone())),
            Fallback::Reported => None,
            Fallback::Missing => {
                let message = match who {
                    Who::Variant(_) => format!(
                        "{who} needs `#[classify(Kind)]`, `#[classify(transparent)]`, or a \
                         container-level `#[classify(default = Kind)]`; the kinds are: {KIND_LIST}"
                    ),
                    Who::Struct(_) => format!(
                        "{who} needs `#[classify(Kind)]` or `#[classify(transparent)]`; the kinds are: {KIND_LIST}"
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
            if let Some(Spanned {
                value: KindChoice::Delegate,
                text,
                ..
            }) = attrs.kind.get()
            {
                errors.at(
                    given.range,
                    format!(
                        "`retry_after` cannot be combined with `{text}`: {who} takes `retry_after` \
                         from its field too"
                    ),
                );
                retry_after_ok = false;
                None
            } else {
                match find_field(fields, &given.value) {
                    Ok(found) => Some(found),
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

    let kind = kind?;
    retry_after_ok.then_some(Target {
        path,
        kind,
        retry_after,
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
                let suggestion = did_you_mean(&wanted.to_string(), &names);
                let separator = if suggestion.is_empty() { ";" } else { "" };
                format!(
                    "has no field `{wanted}`{suggestion}{separator} its fields are: {}",
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

fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Expand
// ---------------------------------------------------------------------------

fn expand(input: &DeriveInput, krate: &TokenStream, body: &Body<'_>) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let bounds = extra_bounds(input, krate, body);
    let predicates = where_clause
        .into_iter()
        .flat_map(|clause| &clause.predicates);
    let where_tokens = if where_clause.is_none() && bounds.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#predicates,)* #(#bounds,)*)
    };
    // Our bounds are spanned on the user's field types (so an unmet bound is
    // reported there), which makes clippy's nursery lint see them as the user's.
    let allow = (!bounds.is_empty()).then(|| quote!(#[allow(clippy::type_repetition_in_bounds)]));
    let methods = match body {
        Body::Struct(target) => struct_methods(krate, target),
        Body::Enum(targets) => enum_methods(krate, targets),
    };
    quote! {
        #[automatically_derived]
        #allow
        impl #impl_generics #krate::Classify for #ident #ty_generics #where_tokens {
            #methods
        }
    }
}

/// `Field: Classify` for delegated fields and `Field: Clone + Into<Option<Duration>>`
/// for `retry_after` fields, when the field's type mentions a type parameter.
fn extra_bounds(input: &DeriveInput, krate: &TokenStream, body: &Body<'_>) -> Vec<TokenStream> {
    let params: Vec<&Ident> = input
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    if params.is_empty() {
        return Vec::new();
    }
    let targets: &[Target<'_>] = match body {
        Body::Struct(target) => std::slice::from_ref(target),
        Body::Enum(targets) => targets,
    };
    let mut bounds = Vec::new();
    for target in targets {
        if let Resolved::Delegate(field) = &target.kind {
            if mentions_any(field.ty.to_token_stream(), &params) {
                let ty = field.ty;
                bounds.push(quote_spanned!(ty.span()=> #ty: #krate::Classify));
            }
        }
        if let Some(field) = &target.retry_after {
            if mentions_any(field.ty.to_token_stream(), &params) {
                let ty = field.ty;
                bounds.push(quote_spanned! {ty.span()=>
                    #ty: ::core::clone::Clone
                        + ::core::convert::Into<::core::option::Option<::core::time::Duration>>
                });
            }
        }
    }
    bounds
}

fn mentions_any(tokens: TokenStream, params: &[&Ident]) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => params.iter().any(|param| **param == ident),
        TokenTree::Group(group) => mentions_any(group.stream(), params),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

/// `Into::<Option<Duration>>::into(Clone::clone(binding))`, spanned on the
/// field's type so a wrong type is reported there.
fn read_retry_after(field: &FieldRef<'_>) -> TokenStream {
    let span = field.ty.span();
    let binding = field.binding();
    quote_spanned! {span=>
        ::core::convert::Into::<::core::option::Option<::core::time::Duration>>::into(
            ::core::clone::Clone::clone(#binding)
        )
    }
}

/// `#krate::Classify::method(binding)`, all spanned on the field's type, so a
/// field type without `Classify` is reported there rather than on the derive.
fn delegate(krate: &TokenStream, field: &FieldRef<'_>, method: &str) -> TokenStream {
    let span = field.ty.span();
    let krate = respan(krate.clone(), span);
    let method = Ident::new(method, span);
    let binding = field.binding();
    quote_spanned!(span=> #krate::Classify::#method(#binding))
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// `pattern_field { member: binding, .. }` for `field`, or `{ .. }` for none.
fn fields_pattern(field: Option<&FieldRef<'_>>) -> TokenStream {
    match field {
        Some(field) => {
            let member = &field.member;
            let binding = field.binding();
            quote!({ #member: #binding, .. })
        }
        None => quote!({ .. }),
    }
}

/// What `kind()` returns for `target`, and the field it reads, if any.
fn kind_of<'t>(
    krate: &TokenStream,
    target: &'t Target<'_>,
) -> (Option<&'t FieldRef<'t>>, TokenStream) {
    match &target.kind {
        Resolved::Kind(kind) => (None, quote!(#krate::ErrorKind::#kind)),
        Resolved::Delegate(field) => (Some(field), delegate(krate, field, "kind")),
    }
}

/// What `retry_after()` returns for `target` (and the field it reads), or
/// `None` when that is the trait's default.
fn retry_after_of<'t>(
    krate: &TokenStream,
    target: &'t Target<'_>,
) -> Option<(&'t FieldRef<'t>, TokenStream)> {
    match (&target.kind, &target.retry_after) {
        (Resolved::Delegate(field), _) => Some((field, delegate(krate, field, "retry_after"))),
        (Resolved::Kind(_), Some(field)) => Some((field, read_retry_after(field))),
        (Resolved::Kind(_), None) => None,
    }
}

fn struct_methods(krate: &TokenStream, target: &Target<'_>) -> TokenStream {
    let kind = match kind_of(krate, target) {
        (None, kind) => kind,
        (Some(field), kind) => {
            let pattern = fields_pattern(Some(field));
            quote! {
                let Self #pattern = self;
                #kind
            }
        }
    };
    let retry_after = retry_after_of(krate, target).map(|(field, read)| {
        let pattern = fields_pattern(Some(field));
        quote! {
            fn retry_after(&self) -> ::core::option::Option<::core::time::Duration> {
                let Self #pattern = self;
                #read
            }
        }
    });
    quote! {
        fn kind(&self) -> #krate::ErrorKind {
            #kind
        }
        #retry_after
    }
}

fn enum_methods(krate: &TokenStream, targets: &[Target<'_>]) -> TokenStream {
    if targets.is_empty() {
        // An empty enum has no value to classify.
        return quote! {
            fn kind(&self) -> #krate::ErrorKind {
                match *self {}
            }
        };
    }
    let kind_arms = targets.iter().map(|target| {
        let path = &target.path;
        let (field, kind) = kind_of(krate, target);
        let pattern = fields_pattern(field);
        quote!(#path #pattern => #kind,)
    });
    let reads: Vec<_> = targets
        .iter()
        .map(|target| retry_after_of(krate, target))
        .collect();
    let retry_after = reads.iter().any(Option::is_some).then(|| {
        let arms = targets.iter().zip(&reads).map(|(target, read)| {
            let path = &target.path;
            match read {
                Some((field, read)) => {
                    let pattern = fields_pattern(Some(field));
                    quote!(#path #pattern => #read,)
                }
                None => quote!(#path { .. } => ::core::option::Option::None,),
            }
        });
        quote! {
            fn retry_after(&self) -> ::core::option::Option<::core::time::Duration> {
                match self {
                    #(#arms)*
                }
            }
        }
    });
    quote! {
        fn kind(&self) -> #krate::ErrorKind {
            match self {
                #(#kind_arms)*
            }
        }
        #retry_after
    }
}

/// The errors, plus an impl that keeps the type usable so they are the only errors.
fn fallback(input: &DeriveInput, krate: &TokenStream, error: &syn::Error) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let errors = error.to_compile_error();
    quote! {
        #errors
        #[automatically_derived]
        impl #impl_generics #krate::Classify for #ident #ty_generics #where_clause {
            fn kind(&self) -> #krate::ErrorKind {
                #krate::ErrorKind::Unknown
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error message the derive reports for `input`, in order.
    fn errors_of(input: TokenStream) -> Vec<String> {
        let input: DeriveInput = match syn::parse2(input) {
            Ok(input) => input,
            Err(error) => return vec![format!("not a type: {error}")],
        };
        let mut errors = Errors::default();
        let container = ClassifyAttrs::parse(&input.attrs, &mut errors);
        let _ = check(&input, &container, &mut errors);
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn expanded(input: TokenStream) -> String {
        classify(input).to_string()
    }

    #[test]
    fn reads_kinds_options_and_delegates() {
        let errors = errors_of(quote! {
            #[classify(default = Unknown, crate = "my_retry")]
            enum E {
                #[classify(Timeout)] A,
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
    fn expansion_uses_the_crate_path_and_match_arms() {
        let out = expanded(quote! {
            #[classify(default = Unknown, crate = "my_retry")]
            enum E {
                #[classify(Timeout)] A,
                #[classify(transparent)] B(std::io::Error),
                #[classify(RateLimited, retry_after = wait)] D { wait: Option<Duration> },
                G,
            }
        });
        assert!(out.contains("impl my_retry :: Classify for E"), "{out}");
        assert!(
            out.contains("Self :: A { .. } => my_retry :: ErrorKind :: Timeout"),
            "{out}"
        );
        assert!(
            out.contains("Self :: G { .. } => my_retry :: ErrorKind :: Unknown"),
            "{out}"
        );
        assert!(
            out.contains("Self :: B { 0 : __classify_field , .. } => my_retry :: Classify :: kind"),
            "{out}"
        );
        assert!(
            out.contains(
                "Self :: D { wait : __classify_field , .. } => :: core :: convert :: Into"
            ),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn retry_after_is_left_to_the_trait_default_when_unused() {
        let out = expanded(quote! {
            enum E { #[classify(Timeout)] A, #[classify(Permanent)] B }
        });
        assert!(out.contains("fn kind"), "{out}");
        assert!(!out.contains("fn retry_after"), "{out}");
        assert!(out.contains(":: retry_runtime :: Classify for E"), "{out}");
    }

    #[test]
    fn struct_forms() {
        let out = expanded(quote! { #[classify(Unavailable)] struct Overloaded; });
        assert!(out.contains("fn kind (& self) -> :: retry_runtime :: ErrorKind { :: retry_runtime :: ErrorKind :: Unavailable }"), "{out}");
        let out = expanded(quote! { #[classify(transparent)] struct W(std::io::Error); });
        assert!(
            out.contains("let Self { 0 : __classify_field , .. } = self ;"),
            "{out}"
        );
        assert!(out.contains("fn retry_after"), "{out}");
    }

    #[test]
    fn generic_delegates_get_a_bound_and_keep_the_users_where_clause() {
        let out = expanded(quote! {
            #[classify(transparent)]
            struct W<E, T>(E, ) where T: Clone;
        });
        // only a field type that mentions a type parameter gets a bound
        assert!(
            out.contains("where T : Clone , E : :: retry_runtime :: Classify ,"),
            "{out}"
        );
        let out = expanded(quote! {
            enum E<T, D> {
                #[classify(transparent)] Inner(Box<T>),
                #[classify(RateLimited, retry_after = 0)] Wait(D),
                #[classify(Permanent)] Io(std::io::Error),
            }
        });
        assert!(
            out.contains("Box < T > : :: retry_runtime :: Classify"),
            "{out}"
        );
        assert!(out.contains("D : :: core :: clone :: Clone"), "{out}");
        assert!(!out.contains("std :: io :: Error : "), "{out}");
    }

    #[test]
    fn unknown_kind_suggests_and_lists() {
        let errors = errors_of(quote! { enum E { #[classify(Timout)] A } });
        assert_eq!(
            errors,
            [format!(
                "unknown error kind `Timout`; did you mean `Timeout`? the kinds are: {KIND_LIST} \
                 (or `transparent` to take the kind from the single field)"
            )]
        );
        let errors = errors_of(quote! { #[classify(default = ratelimited)] enum E { A } });
        assert_eq!(
            errors,
            [format!("unknown error kind `ratelimited`; did you mean `RateLimited`? the kinds are: {KIND_LIST}")]
        );
        let errors = errors_of(quote! { enum E { #[classify(Banana)] A } });
        assert!(
            errors[0].starts_with("unknown error kind `Banana`; the kinds are: Timeout,"),
            "{errors:?}"
        );
    }

    #[test]
    fn every_error_is_collected() {
        let errors = errors_of(quote! {
            #[classify(retry_afer = 3)]
            enum E {
                #[classify(Timout)] A,
                B,
                #[classify(transparent)] C(u8, u8),
                #[classify(Timeout, retry_after = nope)] D { wait: Duration },
                #[classify(Timeout, Connect)] F,
            }
        });
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(errors[0].starts_with("unknown option `retry_afer`; did you mean `retry_after`?"));
        assert!(errors[1].starts_with("unknown error kind `Timout`"));
        assert!(errors[2].starts_with("variant `B` needs `#[classify(Kind)]`"));
        assert!(errors[3].starts_with("`transparent` needs exactly one field to take the kind from, but variant `C` has 2 fields"));
        assert!(
            errors[4].starts_with("variant `D` has no field `nope`; its fields are: `wait`"),
            "{}",
            errors[4]
        );
        assert!(errors[5].starts_with("more than one kind: `Timeout`, then `Connect`"));
    }

    #[test]
    fn duplicates_across_attributes_and_options() {
        let errors = errors_of(quote! {
            #[classify(default = Unknown)]
            #[classify(default = Timeout, crate = "a", crate = "b")]
            enum E {
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
                "more than one `retry_after`: `a`, then `b`; name one field",
                "more than one kind: `RateLimited`, then `transparent`; give one kind, or `transparent` to take it from the field",
            ]
        );
    }

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

    #[test]
    fn misplaced_and_malformed() {
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
        assert_eq!(
            one(quote! { enum E { #[classify(ErrorKind::Timeout)] A } }),
            "write the kind's bare name, without a path: `Timeout`"
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
        assert_eq!(one(quote! { enum E { #[classify(Timeout)] A(#[classify(transparent)] u8) } }),
            "`#[classify]` is not read on fields; on the variant or struct write `#[classify(retry_after = field)]` or `#[classify(transparent)]`");
        assert_eq!(
            one(quote! { union U { a: u8 } }),
            "`Classify` cannot be derived for a union; derive it on an enum or a struct, or implement it by hand"
        );
        assert_eq!(
            one(quote! { struct S; }),
            format!("struct `S` needs `#[classify(Kind)]` or `#[classify(transparent)]`; the kinds are: {KIND_LIST}")
        );
    }

    #[test]
    fn errors_come_with_a_stub_impl_and_never_panic() {
        let out = expanded(quote! { #[classify(crate = "my::rt")] enum E { #[classify(Nope)] A } });
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("impl my :: rt :: Classify for E"), "{out}");
        assert!(out.contains("my :: rt :: ErrorKind :: Unknown"), "{out}");
        // not even a type
        assert!(expanded(quote!(
            fn f() {}
        ))
        .contains("compile_error"));
        // empty enum
        let out = expanded(quote!(
            enum Never {}
        ));
        assert!(out.contains("match * self { }"), "{out}");
    }

    #[test]
    fn kind_names_cover_the_suggestion_candidates() {
        assert_eq!(KIND_LIST, KINDS.join(", "));
        assert_eq!(closest("Timout", &KINDS), Some("Timeout"));
        assert_eq!(closest("unavailible", &KINDS), Some("Unavailable"));
        assert_eq!(closest("retry_afer", &OPTIONS), Some("retry_after"));
    }
}
