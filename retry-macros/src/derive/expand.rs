//! Stage 3 of the derive: write the `Classify` impl of a checked type, or,
//! on error, the errors beside a stub impl (`fallback`).

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned as _;
use syn::{DeriveInput, Ident, LitStr};

use super::valid::{Body, Checked, FieldRef, Resolved, Target};
use crate::diag::respan_path;

/// The `Classify` impl for a checked type.
pub fn derive(input: &DeriveInput, krate: &TokenStream, checked: &Checked<'_>) -> TokenStream {
    let ident = call_site_ident(&input.ident);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = &checked.body;
    // `#[classify(bound = "...")]` replaces the inferred bounds (the type's
    // own where clause stays), as serde's `#[serde(bound = "...")]` does.
    let bounds = match &checked.bound {
        Some(predicates) => predicates.iter().map(ToTokens::to_token_stream).collect(),
        None => extra_bounds(input, krate, body),
    };
    let predicates = where_clause
        .into_iter()
        .flat_map(|clause| &clause.predicates);
    let where_tokens = if where_clause.is_none() && bounds.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#predicates,)* #(#bounds,)*)
    };
    // Our bounds are spanned on the user's field types (so an unmet bound is
    // reported there), or are the user's `bound` string, which makes clippy's
    // nursery lint see them as the user's, beside the type's where clause.
    let allow = (!bounds.is_empty()).then(|| quote!(#[allow(clippy::type_repetition_in_bounds)]));
    let methods = match body {
        Body::Struct(target) => struct_methods(krate, target),
        Body::Enum(targets) => enum_methods(krate, targets),
    };
    let deprecated = allow_deprecated(input);
    quote! {
        #[automatically_derived]
        #deprecated
        #allow
        impl #impl_generics #krate::Classify for #ident #ty_generics #where_tokens {
            #methods
        }
    }
}

/// `#[allow(deprecated)]` when the type, a variant or a field is
/// `#[deprecated]` (directly or through `cfg_attr`): the impl names them
/// without a `deprecated` warning the user could not silence (thiserror
/// does the same). Only then: under `#![forbid(deprecated)]` the allow
/// itself is an error (E0453).
fn allow_deprecated(input: &DeriveInput) -> Option<TokenStream> {
    fn mentions(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(i) => i == "deprecated",
            TokenTree::Group(g) => mentions(g.stream()),
            _ => false,
        })
    }
    let deprecated =
        |attrs: &[syn::Attribute]| attrs.iter().any(|a| mentions(a.meta.to_token_stream()));
    let fields = |fields: &syn::Fields| fields.iter().any(|f| deprecated(&f.attrs));
    let any = deprecated(&input.attrs)
        || match &input.data {
            syn::Data::Struct(s) => fields(&s.fields),
            syn::Data::Enum(e) => e
                .variants
                .iter()
                .any(|v| deprecated(&v.attrs) || fields(&v.fields)),
            syn::Data::Union(u) => u.fields.named.iter().any(|f| deprecated(&f.attrs)),
        };
    any.then(|| quote!(#[allow(deprecated)]))
}

/// The type's name as the impl names it: at the user's token (an error
/// about the impl is reported there) with the derive's hygiene, so that
/// naming a `#[deprecated]` type is not the user's use of it (thiserror's
/// `call_site_ident`); the `#[allow(deprecated)]` on the impl covers the
/// variants and fields its methods name.
fn call_site_ident(ident: &Ident) -> Ident {
    let mut ident = ident.clone();
    ident.set_span(ident.span().resolved_at(Span::call_site()));
    ident
}

/// `Field: Classify` for delegated fields, `Field: core::error::Error + 'static`
/// for `chain` fields and `Field: Clone + Into<Option<Duration>>` for
/// `retry_after` fields, when the field's type mentions a type parameter.
///
/// Not `Field: Classify` for a field of a recursive type, whose type names
/// the type itself (`Inner(Box<Chain<T>>)`, `Box<Self>`): that bound would
/// depend on the impl it is a bound of, which then never applies (rustc
/// finds no `Chain<u8>: Classify`). Without it the impl is what gives the
/// field its `Classify`.
///
/// What this cannot see, `#[classify(bound = "...")]` says instead (and
/// `derive` then does not call this): a type parameter the left-out bound
/// needed (`Box<Pair<T, Chain<T>>>` needs `T: Classify`), or two types that
/// name each other (`A<T>` holds a `Box<B<T>>` and `B<T>` a `Box<A<T>>`:
/// each impl's bound is the other impl, and neither applies).
fn extra_bounds(input: &DeriveInput, krate: &TokenStream, body: &Body<'_>) -> Vec<TokenStream> {
    let params: Vec<&Ident> = input
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    if params.is_empty() {
        return Vec::new();
    }
    // the type's own name, and `Self`
    let self_ident = Ident::new("Self", Span::call_site());
    let itself = [&input.ident, &self_ident];
    let targets: &[Target<'_>] = match body {
        Body::Struct(target) => std::slice::from_ref(target),
        Body::Enum(targets) => targets,
    };
    let mut bounds = Vec::new();
    for target in targets {
        if let Resolved::Delegate(field) = &target.kind {
            let ty = field.ty.to_token_stream();
            if mentions_any(ty.clone(), &params) && !names_itself(ty, &itself, &params) {
                let ty = field.ty;
                // (`Classify` with the derive's hygiene, at the field's
                // type: a `crate = "crate::..."` path is then not one rustc's
                // `unused_qualifications` would shorten; see `respan_path`)
                let classify = Ident::new("Classify", Span::call_site().located_at(ty.span()));
                bounds.push(quote_spanned!(ty.span()=> #ty: #krate::#classify));
            }
        }
        if let Resolved::Chain(field) = &target.kind {
            // (no exception for the type itself here: `Error` is not the
            // impl being written, so a bound on it cannot depend on itself)
            if mentions_any(field.ty.to_token_stream(), &params) {
                let ty = field.ty;
                bounds.push(quote_spanned!(ty.span()=> #ty: ::core::error::Error + 'static));
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

/// Does the type `tokens` name the deriving type itself (`itself`: its
/// name and `Self`), as a type of its own: `Chain<T>`, `Box<Self>`,
/// `Chain::<T>`, or a path ending in the name (`crate::errors::Chain<T>`,
/// `super::Chain<T>`, `$crate::Chain<T>`)? Not a path that starts at a type
/// parameter, `Self`, a `<..>` or a leading `::`, nor the name followed by
/// another segment: `S::Error`, `Self::Error`, `<C as Codec>::Error` are
/// other types, whose bound stays.
///
/// When in doubt the name counts as the type: a bound left out that was
/// needed is rustc's E0277 with its "restrict" hint, which the user can
/// follow (a `where` clause on the type is copied onto the impl, or
/// `#[classify(bound = "...")]` gives the impl's bounds), where a bound kept
/// on the type itself makes an impl that never applies, which only
/// `bound` can undo.
fn names_itself(tokens: TokenStream, itself: &[&Ident], params: &[&Ident]) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    tokens.iter().enumerate().any(|(i, token)| match token {
        TokenTree::Ident(ident) => {
            itself.iter().any(|name| **name == *ident)
                && (!path_separator_at(&tokens, i + 1) || turbofish_at(&tokens, i + 3))
                && path_start(&tokens, i).is_some_and(|first| {
                    // a path from a type (`S::..`, `Self::..`) names one of its items
                    first == i || !starts_at_a_type(&tokens[first], params)
                })
        }
        TokenTree::Group(group) => names_itself(group.stream(), itself, params),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

/// Is `token` a type parameter or `Self`?
fn starts_at_a_type(token: &TokenTree, params: &[&Ident]) -> bool {
    matches!(token, TokenTree::Ident(t) if t == "Self" || params.contains(&t))
}

/// Is there a `::` at `tokens[at..]`?
fn path_separator_at(tokens: &[TokenTree], at: usize) -> bool {
    matches!(
        (tokens.get(at), tokens.get(at + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && b.as_char() == ':'
    )
}

/// Is there a `<` at `tokens[at]` (after a `::`: a turbofish)?
fn turbofish_at(tokens: &[TokenTree], at: usize) -> bool {
    matches!(tokens.get(at), Some(TokenTree::Punct(p)) if p.as_char() == '<')
}

/// The index of the first segment of the path whose segment is at
/// `tokens[at]`, or `None` when the path starts with a `::` (a leading one,
/// or after a `<..>`).
fn path_start(tokens: &[TokenTree], at: usize) -> Option<usize> {
    let mut first = at;
    while first >= 2 && path_separator_at(tokens, first - 2) {
        match first.checked_sub(3).map(|i| &tokens[i]) {
            Some(TokenTree::Ident(_)) => first -= 3,
            _ => return None,
        }
    }
    Some(first)
}

fn mentions_any(tokens: TokenStream, params: &[&Ident]) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => params.iter().any(|param| **param == ident),
        TokenTree::Group(group) => mentions_any(group.stream(), params),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

/// `Into::<Option<Duration>>::into(Clone::clone(binding))`, spanned on the
/// field's type so a wrong type is reported there. A field that holds the
/// wait through references or a `Box` (`&'a Duration`, `Box<Option<..>>`)
/// is read through them: the value cloned is what they point at (rustc's
/// own error for it suggested a `*` in the type).
fn read_retry_after(field: &FieldRef<'_>) -> TokenStream {
    let span = field.ty.span();
    let binding = binding(field);
    let wait = through_indirections(field.ty, quote_spanned!(span=> #binding), span);
    // `Duration` at the field with the derive's hygiene: with the user's,
    // clippy took the path for one the user wrote where the field's type
    // is `Duration` (its text ends the same), and `absolute_paths` asked
    // them to import it, in an impl an `#[allow]` on the type cannot reach
    let duration = quote_spanned!(Span::call_site().located_at(span)=> ::core::time::Duration);
    quote_spanned! {span=>
        ::core::convert::Into::<::core::option::Option<#duration>>::into(
            ::core::clone::Clone::clone(#wait)
        )
    }
}

/// `reference`, a reference to a value of type `ty`, made a reference to
/// what `ty` holds through its references (`*`) and boxes (`Deref::deref`;
/// `Box` by name, with one type argument): no `&*`, which clippy would
/// blame on the user's field.
fn through_indirections(ty: &syn::Type, reference: TokenStream, span: Span) -> TokenStream {
    match ty {
        syn::Type::Reference(r) => {
            through_indirections(&r.elem, quote_spanned!(span=> *#reference), span)
        }
        syn::Type::Paren(p) => through_indirections(&p.elem, reference, span),
        syn::Type::Group(g) => through_indirections(&g.elem, reference, span),
        syn::Type::Path(p) if p.qself.is_none() => {
            let boxed = p
                .path
                .segments
                .last()
                .and_then(|last| match &last.arguments {
                    syn::PathArguments::AngleBracketed(args)
                        if last.ident == "Box" && args.args.len() == 1 =>
                    {
                        match args.args.first() {
                            Some(syn::GenericArgument::Type(inner)) => Some(inner),
                            _ => None,
                        }
                    }
                    _ => None,
                });
            match boxed {
                Some(inner) => through_indirections(
                    inner,
                    quote_spanned!(span=> ::core::ops::Deref::deref(#reference)),
                    span,
                ),
                None => reference,
            }
        }
        _ => reference,
    }
}

/// `#krate::Classify::method(binding)`, all spanned on the field's type, so a
/// field type without `Classify` is reported there rather than on the derive
/// (`Classify` keeps the derive's hygiene there: see `respan_path`).
fn delegate(krate: &TokenStream, field: &FieldRef<'_>, method: &str) -> TokenStream {
    let span = field.ty.span();
    let classify = respan_path(krate.clone(), "Classify", span);
    let method = Ident::new(method, span);
    let binding = binding(field);
    quote_spanned!(span=> #classify::#method(#binding))
}

/// `#krate::Classify::method(#krate::__private::ChainField::as_chain(binding))`:
/// a `chain` field, as the `dyn Error` whose `Classify` walks its chain
/// (as a boxed error's does), all spanned on the field's type, so a field
/// that is not an error is reported there (with `ChainField`'s message).
fn chain(krate: &TokenStream, field: &FieldRef<'_>, method: &str) -> TokenStream {
    let span = field.ty.span();
    let classify = respan_path(krate.clone(), "Classify", span);
    let private = respan_path(krate.clone(), "__private", span);
    let method = Ident::new(method, span);
    let binding = binding(field);
    quote_spanned!(span=> #classify::#method(#private::ChainField::as_chain(#binding)))
}

/// `Self` or `Self::Variant`, for patterns.
fn self_path(target: &Target<'_>) -> TokenStream {
    match target.variant {
        Some(variant) => quote!(Self::#variant),
        None => quote!(Self),
    }
}

/// The local that borrows `field` in a generated pattern. It is spanned on
/// the field's type (not `Span::mixed_site()`) so that an error about the
/// field, such as a type without `Classify`, is reported on the field: rustc
/// moves errors in spans of another crate's macro to the derive. No user
/// expression is spliced next to it, so it cannot clash.
fn binding(field: &FieldRef<'_>) -> Ident {
    Ident::new("__classify_field", field.ty.span())
}

/// `pattern_field { member: binding, .. }` for `field`, or `{ .. }` for none.
fn fields_pattern(field: Option<&FieldRef<'_>>) -> TokenStream {
    match field {
        Some(field) => {
            let member = &field.member;
            let binding = binding(field);
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
        Resolved::Chain(field) => (Some(field), chain(krate, field, "kind")),
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
        (Resolved::Chain(field), _) => Some((field, chain(krate, field, "retry_after"))),
        (Resolved::Kind(_), Some(field)) => Some((field, read_retry_after(field))),
        (Resolved::Kind(_), None) => None,
    }
}

/// What `why_permanent()` returns for `target` (and the field it reads,
/// if any), or `None` when that is the trait's default: a `transparent`
/// field's own (a `tonic::Status` whose server's pushback asks not to
/// retry says so on the give-up line, wrapped in an error type of yours
/// too), a `chain` field's, its chain's (that of the error in it that
/// gives the kind), and a `Permanent` kind's `why = "..."`, the literal
/// itself (a `&'static str`: nothing is built when it is asked).
fn why_permanent_of<'t>(
    krate: &TokenStream,
    target: &'t Target<'_>,
) -> Option<(Option<&'t FieldRef<'t>>, TokenStream)> {
    match (&target.kind, target.why) {
        (Resolved::Delegate(field), _) => {
            Some((Some(field), delegate(krate, field, "why_permanent")))
        }
        (Resolved::Chain(field), _) => Some((Some(field), chain(krate, field, "why_permanent"))),
        (Resolved::Kind(_), Some(why)) => {
            let why = as_generated_literal(why);
            Some((None, quote!(::core::option::Option::Some(#why))))
        }
        (Resolved::Kind(_), None) => None,
    }
}

/// A `why` literal as the impl returns it: where the user wrote it, with
/// the derive's hygiene (as `call_site_ident`), so the impl's expression
/// is the derive's to clippy. At the user's token with the user's hygiene,
/// clippy linted it as code of theirs (`needless_raw_string_hashes` for
/// `why = r#"gone"#`, `non_ascii_literal` for a reason in French) in an
/// impl that an `#[allow]` on the type does not reach. rustc's own check of
/// a literal that changes the direction of text still reports it there.
fn as_generated_literal(why: &LitStr) -> Literal {
    // (the token as written: raw or escaped, its characters unchanged)
    let mut token = why.token();
    token.set_span(Span::call_site().located_at(token.span()));
    token
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
    let why_permanent = why_permanent_of(krate, target).map(|(field, read)| {
        // (a reason of its own reads no field: no pattern)
        let binding = field.map(|field| {
            let pattern = fields_pattern(Some(field));
            quote!(let Self #pattern = self;)
        });
        // (`str` by its path, as every other name here: a type of the
        // user's own named `str` beside the derive is not the primitive)
        quote! {
            fn why_permanent(&self) -> ::core::option::Option<&'static ::core::primitive::str> {
                #binding
                #read
            }
        }
    });
    quote! {
        fn kind(&self) -> #krate::ErrorKind {
            #kind
        }
        #retry_after
        #why_permanent
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
        let path = self_path(target);
        let (field, kind) = kind_of(krate, target);
        let pattern = fields_pattern(field);
        quote!(#path #pattern => #kind,)
    });
    let retry_after = optional_match(targets, |target| {
        retry_after_of(krate, target).map(|(field, read)| (Some(field), read))
    })
    .map(|arms| {
        quote! {
            fn retry_after(&self) -> ::core::option::Option<::core::time::Duration> {
                match self {
                    #(#arms)*
                }
            }
        }
    });
    let why_permanent =
        optional_match(targets, |target| why_permanent_of(krate, target)).map(|arms| {
            quote! {
                fn why_permanent(&self) -> ::core::option::Option<&'static ::core::primitive::str> {
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
        #why_permanent
    }
}

/// The match arms of an optional method (`retry_after`, `why_permanent`)
/// over an enum's `targets`: each target's answer (`read`), with the field
/// it reads if any, `None` for a variant that has none (its arm returns
/// `None`); no arms (`None`) when no variant has one: the trait's default
/// stays, and the impl is what it was before the method existed.
fn optional_match<'t>(
    targets: &'t [Target<'t>],
    read: impl Fn(&'t Target<'t>) -> Option<(Option<&'t FieldRef<'t>>, TokenStream)>,
) -> Option<Vec<TokenStream>> {
    let reads: Vec<_> = targets.iter().map(read).collect();
    if reads.iter().all(Option::is_none) {
        return None;
    }
    let arms = targets.iter().zip(reads).map(|(target, read)| {
        let path = self_path(target);
        match read {
            Some((field, read)) => {
                let pattern = fields_pattern(field);
                quote!(#path #pattern => #read,)
            }
            None => quote!(#path { .. } => ::core::option::Option::None,),
        }
    });
    Some(arms.collect())
}

/// The errors, plus an impl that keeps the type usable so they are the only errors.
pub fn fallback(input: &DeriveInput, krate: &TokenStream, error: &syn::Error) -> TokenStream {
    let ident = call_site_ident(&input.ident);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let errors = error.to_compile_error();
    let deprecated = allow_deprecated(input);
    quote! {
        #errors
        #[automatically_derived]
        #deprecated
        impl #impl_generics #krate::Classify for #ident #ty_generics #where_clause {
            fn kind(&self) -> #krate::ErrorKind {
                #krate::ErrorKind::Unknown
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    /// Which field types name the deriving type `Error` itself: those get no
    /// `Classify` bound (it would depend on the impl). A path ending in the
    /// same name counts as the type too (`inner::Error<T>`: a bound it
    /// needs is the user's to add, documented under "Generic types"); one
    /// that starts at a type, a `<..>` or a leading `::` does not.
    #[test]
    fn names_itself_tells_the_type_from_a_path_segment() {
        let name = syn::Ident::new("Error", proc_macro2::Span::call_site());
        let this = syn::Ident::new("Self", proc_macro2::Span::call_site());
        let (s, t) = (
            syn::Ident::new("S", proc_macro2::Span::call_site()),
            syn::Ident::new("T", proc_macro2::Span::call_site()),
        );
        let itself = [&name, &this];
        let params = [&s, &t];
        let names = |ty: TokenStream| super::names_itself(ty, &itself, &params);
        for ty in [
            quote!(Box<Error<T>>),
            quote!(Box<Self>),
            quote!(Box<Error::<T>>),
            quote!(crate::Error<T>),
            quote!(crate::errors::Error<T>),
            quote!(Vec<self::Error<T>>),
            quote!(super::super::Error<T>),
            quote!(super::m::Error<T>),
            quote!((u8, Box<Error<T>>)),
            // another module's namesake counts too: a bound it needs is
            // the user's to add, where one on the type itself is not
            quote!(inner::Error<T>),
        ] {
            assert!(names(ty.clone()), "{ty}");
        }
        for ty in [
            quote!(S::Error),
            quote!(Self::Error),
            quote!(Box<T::Error>),
            quote!(<C as Codec>::Error),
            quote!(::other::Error<T>),
            quote!(Error::Kind),
            quote!(Box<T>),
        ] {
            assert!(!names(ty.clone()), "{ty}");
        }
    }

    fn expanded(input: TokenStream) -> String {
        crate::derive::classify(input).to_string()
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
        assert!(!out.contains("fn why_permanent"), "{out}");
        assert!(out.contains(":: retry_runtime :: Classify for E"), "{out}");
    }

    /// A `transparent` field says why it is `Permanent` (a gRPC status's
    /// pushback, on the give-up line) as its own type does, a `chain` field
    /// as its chain does; the other variants say nothing, and a derive
    /// without such a field leaves the method to the trait's default.
    #[test]
    fn why_permanent_is_a_transparent_fields_own() {
        let out = expanded(quote! {
            enum E { #[classify(Timeout)] A, #[classify(transparent)] B(tonic::Status) }
        });
        assert!(out.contains("fn why_permanent"), "{out}");
        assert!(
            out.contains(
                "Self :: B { 0 : __classify_field , .. } => :: retry_runtime :: Classify :: why_permanent (__classify_field)"
            ),
            "{out}"
        );
        assert!(
            out.contains("Self :: A { .. } => :: core :: option :: Option :: None"),
            "{out}"
        );
        let out = expanded(quote! {
            #[classify(transparent)]
            struct S(tonic::Status);
        });
        assert!(out.contains("fn why_permanent"), "{out}");
        let out = expanded(quote! {
            enum E { #[classify(Timeout)] A, #[classify(chain)] C(PoolError) }
        });
        assert!(
            out.contains(
                "Self :: C { 0 : __classify_field , .. } => :: retry_runtime :: Classify :: \
                 why_permanent (:: retry_runtime :: __private :: ChainField :: as_chain \
                 (__classify_field)) ,"
            ),
            "{out}"
        );
        let out = expanded(quote! {
            enum E { #[classify(Timeout)] A, #[classify(Permanent)] B }
        });
        assert!(!out.contains("fn why_permanent"), "{out}");
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
    fn a_deprecated_type_is_named_without_a_warning() {
        // (the type's name keeps the derive's hygiene: not seen in the text)
        let ok = expanded(quote! {
            #[deprecated] #[classify(transparent)] struct W(#[deprecated] std::io::Error);
        });
        let failed = expanded(quote! { #[deprecated] #[classify(Nope)] struct W; });
        for out in [ok, failed] {
            assert!(
                out.contains("# [allow (deprecated)] impl :: retry_runtime :: Classify for W"),
                "{out}"
            );
        }
        // a deprecated variant, a field behind `cfg_attr`
        let variant = expanded(quote! {
            enum E { #[deprecated] #[classify(Timeout)] Slow, #[classify(Permanent)] No }
        });
        let field = expanded(quote! {
            #[classify(transparent)] struct W(#[cfg_attr(all(), deprecated)] std::io::Error);
        });
        for out in [variant, field] {
            assert!(out.contains("# [allow (deprecated)]"), "{out}");
        }
    }

    #[test]
    fn nothing_deprecated_allows_nothing() {
        // (under `#![forbid(deprecated)]` the allow would be E0453)
        let ok = expanded(quote! { #[classify(transparent)] struct W(std::io::Error); });
        let failed = expanded(quote! { #[classify(Nope)] struct W; });
        for out in [ok, failed] {
            assert!(!out.contains("deprecated"), "{out}");
        }
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

    /// `chain`: the field is read by the runtime's chain walk, through
    /// `__private` (under the `crate` path), for the kind and the wait.
    #[test]
    fn chain_reads_the_field_through_the_runtime() {
        let out = expanded(quote! {
            enum E {
                #[classify(chain)] Pool(deadpool_postgres::PoolError),
                #[classify(Timeout)] Slow,
            }
        });
        assert!(
            out.contains(
                "Self :: Pool { 0 : __classify_field , .. } => :: retry_runtime :: Classify :: \
                 kind (:: retry_runtime :: __private :: ChainField :: as_chain (__classify_field)) ,"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "Self :: Pool { 0 : __classify_field , .. } => :: retry_runtime :: Classify :: \
                 retry_after (:: retry_runtime :: __private :: ChainField :: as_chain \
                 (__classify_field)) ,"
            ),
            "{out}"
        );
        assert!(
            out.contains("Self :: Slow { .. } => :: core :: option :: Option :: None"),
            "{out}"
        );
        assert!(
            !out.contains("compile_error") && !out.contains("where"),
            "{out}"
        );
        let out = expanded(quote! {
            #[classify(chain, crate = "my::rt")] struct W { source: std::io::Error }
        });
        assert!(
            out.contains(
                "let Self { source : __classify_field , .. } = self ; my :: rt :: Classify :: kind \
                 (my :: rt :: __private :: ChainField :: as_chain (__classify_field))"
            ),
            "{out}"
        );
        assert!(
            out.contains("my :: rt :: Classify :: retry_after (my :: rt :: __private"),
            "{out}"
        );
    }

    /// A generic `chain` field gets `Field: Error + 'static` (the
    /// type itself too: `Error` is not the impl being written); `bound`
    /// replaces it.
    #[test]
    fn generic_chain_fields_get_an_error_bound() {
        let out = expanded(quote! {
            enum E<T, C> where C: Clone {
                #[classify(chain)] Inner(T),
                #[classify(chain)] Boxed(Box<E<T, C>>),
                #[classify(transparent)] Classified(C),
                #[classify(chain)] Io(std::io::Error),
            }
        });
        assert!(
            out.contains(
                "where C : Clone , T : :: core :: error :: Error + 'static , Box < E < T , C > > : \
                 :: core :: error :: Error + 'static , C : :: retry_runtime :: Classify , {"
            ),
            "{out}"
        );
        let out = expanded(quote! {
            #[classify(chain, bound = "T: std::error::Error + Send + 'static")] struct W<T>(T);
        });
        assert!(
            out.contains("for W < T > where T : std :: error :: Error + Send + 'static , {"),
            "{out}"
        );
    }

    #[test]
    fn a_bound_replaces_the_inferred_bounds_and_keeps_the_where_clause() {
        let generic = |bound: TokenStream| {
            expanded(quote! {
                #bound
                enum E<T, D> where T: Debug {
                    #[classify(transparent)] Inner(Box<T>),
                    #[classify(RateLimited, retry_after = 0)] Wait(D),
                }
            })
        };
        let inferred = generic(quote!());
        assert!(
            inferred.contains(
                "where T : Debug , Box < T > : :: retry_runtime :: Classify , D : :: core :: clone :: Clone"
            ),
            "{inferred}"
        );
        let out =
            generic(quote!(#[classify(bound = "T: Classify, D: Into<Option<Duration>> + Clone")]));
        assert!(
            out.contains(
                "for E < T , D > where T : Debug , T : Classify , D : Into < Option < Duration > > + Clone , {"
            ),
            "{out}"
        );
        // none at all: only the type's own where clause
        let out = generic(quote!(#[classify(bound = "")]));
        assert!(out.contains("for E < T , D > where T : Debug , {"), "{out}");
        let out = expanded(quote! {
            #[classify(transparent, bound = "")] struct W<E>(Box<E>);
        });
        assert!(out.contains("for W < E > {"), "{out}");
        assert!(!out.contains("type_repetition_in_bounds"), "{out}");
        // and on a type without parameters
        let out = expanded(quote! {
            #[classify(transparent, bound = "std::io::Error: Classify")] struct W(std::io::Error);
        });
        assert!(
            out.contains("for W where std :: io :: Error : Classify , {"),
            "{out}"
        );
    }
}
