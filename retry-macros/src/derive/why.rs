//! Where `why = "..."` may go: the reason a `Permanent` error gives on its
//! give-up line (`Classify::why_permanent`). It explains a `Permanent` the
//! derive can see, so it goes beside one:
//!
//! - on a variant or a struct whose kind is `Permanent`, written beside it
//!   (`#[classify(Permanent, why = "...")]`) or taken from the enum's
//!   `default = Permanent`: that variant's reason;
//! - on the enum beside `default = Permanent`: the reason of the variants
//!   that take the default and give none of their own.
//!
//! Anywhere else it is refused where it is written: beside another kind
//! (the runtime asks a non-retriable error of any kind for its reason, but
//! a reason for a `Timeout` to be permanent says nothing true), beside
//! `transparent` or `chain` (the kind is the field's, decided when the
//! error is made, and so is the reason: the field's own `why_permanent` is
//! handed on), on an enum without `default = Permanent`.

use syn::LitStr;

use super::attr::{Attrs, KindChoice};
use super::valid::{Fallback, Who};
use crate::diag::{Errors, Given};

const PERMANENT: &str = "Permanent";

/// A `why` that was refused; the error is recorded.
pub(super) struct Refused;

/// The reason of the variants that take the enum's `default`, from the
/// enum's own `why`; `None` (with an error, unless one about the same
/// attribute was already recorded) when it has none, or one that cannot
/// apply.
pub(super) fn of_enum<'a>(container: &'a Attrs, errors: &mut Errors) -> Option<&'a LitStr> {
    let given = container.why.get()?;
    match container.default.get() {
        Some(default) if default.value == PERMANENT => Some(&given.value),
        Some(default) => {
            errors.at(
                given.at,
                format!(
                    "`why` on the enum is the reason of the variants that take \
                     `default = Permanent`, but the default is `{}`, which is not \
                     `Permanent`: drop `why`, or give it to the `Permanent` variants, \
                     `#[classify(Permanent, why = \"...\")]`",
                    default.text
                ),
            );
            None
        }
        // `#[classify(Permanent, why = ..)]` on the enum: the kind's error
        // already says to write `default = Permanent`, which makes this right
        None if container.kind_broken || is_permanent(container.kind.get()) => None,
        None => {
            errors.at(
                given.at,
                "`why` goes on a variant, beside its kind: \
                 `#[classify(Permanent, why = \"...\")]` (on the enum it is the reason of \
                 the variants that take `default = Permanent`, and there is no `default`)",
            );
            None
        }
    }
}

/// The reason of one struct or variant: its own `why`, or the enum's for
/// a variant that takes the enum's `default`; `Err` once a `why` that
/// cannot apply is reported.
pub(super) fn of_item<'a>(
    who: Who<'_>,
    attrs: &'a Attrs,
    fallback: Fallback<'a>,
    errors: &mut Errors,
) -> Result<Option<&'a LitStr>, Refused> {
    let Some(given) = attrs.why.get() else {
        return Ok(match (attrs.kind.get(), fallback) {
            (None, Fallback::Kind(_, why)) => why,
            _ => None,
        });
    };
    let kind = match attrs.kind.get() {
        Some(Given {
            value: KindChoice::Named(kind),
            ..
        }) => kind,
        Some(Given {
            value: KindChoice::Delegate,
            text,
            ..
        }) => {
            errors.at(
                given.at,
                format!(
                    "`why` cannot be combined with `{text}`: {who} takes its kind from its \
                     field when the error is made, and its reason too (the field's own \
                     `why_permanent`, handed on); give the reason to the field's type \
                     (`#[classify(Permanent, why = \"...\")]` on its variant, or its \
                     `why_permanent`), or give {who} a kind of its own: \
                     `#[classify(Permanent, why = \"...\")]`"
                ),
            );
            return Err(Refused);
        }
        // a kind mistyped, or none: that error is the one to fix first
        None => match fallback {
            Fallback::Kind(kind, _) if !attrs.kind_broken && attrs.default.get().is_none() => kind,
            _ => return Ok(None),
        },
    };
    if kind == PERMANENT {
        return Ok(Some(&given.value));
    }
    let taken = if attrs.kind.get().is_some() {
        format!("`{kind}`")
    } else {
        format!("`{kind}`, the enum's `default`")
    };
    errors.at(
        given.at,
        format!(
            "`why` is the reason an error is `Permanent` (shown on its give-up line), but \
             {who} is {taken}: drop `why`, or make the kind `Permanent`: \
             `#[classify(Permanent, why = \"...\")]`"
        ),
    );
    Err(Refused)
}

/// `why` beside `chain`: refused (the reason is the chain's); `true` if
/// reported.
pub(super) fn beside_chain(who: Who<'_>, attrs: &Attrs, errors: &mut Errors) -> bool {
    let Some(given) = attrs.why.get() else {
        return false;
    };
    errors.at(
        given.at,
        format!(
            "`why` cannot be combined with `chain`: {who} takes its kind from its field's \
             error chain when the error is made, and its reason too (that of the error in the \
             chain that gives the kind: a `tonic::Status` whose server asked not to retry); \
             give {who} a kind of its own to give it a reason: \
             `#[classify(Permanent, why = \"...\")]`"
        ),
    );
    true
}

fn is_permanent(kind: Option<&Given<KindChoice>>) -> bool {
    matches!(
        kind,
        Some(Given {
            value: KindChoice::Named(kind),
            ..
        }) if kind == PERMANENT
    )
}

#[cfg(test)]
mod tests {
    use crate::derive::tests::errors_of;
    use quote::quote;

    fn one(input: proc_macro2::TokenStream) -> String {
        errors_of(input).join("\n")
    }

    /// Beside a `Permanent` the derive can see: written on the variant or
    /// the struct, or the enum's `default`.
    #[test]
    fn accepted_beside_a_permanent() {
        for ok in [
            quote! { enum E { #[classify(Permanent, why = "no clip")] A, #[classify(Timeout)] B } },
            quote! { enum E { #[classify(why = "no clip", Permanent)] A { id: u64 } } },
            quote! { enum E { #[classify(why = "no clip")] #[classify(Permanent)] A(u64) } },
            quote! { #[classify(Permanent, why = "no clip")] struct S; },
            quote! { #[classify(Permanent, why = "no clip", retry_after = 0)] struct S(Duration); },
            // the enum's default, for its variants or one of them
            quote! {
                #[classify(default = Permanent, why = "the API refused it")]
                enum E { #[classify(Timeout)] A, B, #[classify(why = "no clip")] C }
            },
            quote! { #[classify(default = Permanent)] enum E { #[classify(why = "no clip")] A } },
        ] {
            assert_eq!(one(ok.clone()), "", "{ok}");
        }
    }

    #[test]
    fn refused_beside_another_kind() {
        assert_eq!(
            one(quote! { enum E { #[classify(Timeout, why = "slow")] A } }),
            "`why` is the reason an error is `Permanent` (shown on its give-up line), but \
             variant `A` is `Timeout`: drop `why`, or make the kind `Permanent`: \
             `#[classify(Permanent, why = \"...\")]`"
        );
        assert_eq!(
            one(quote! { #[classify(Unknown, why = "odd")] struct S; }),
            "`why` is the reason an error is `Permanent` (shown on its give-up line), but \
             struct `S` is `Unknown`: drop `why`, or make the kind `Permanent`: \
             `#[classify(Permanent, why = \"...\")]`"
        );
        assert_eq!(
            one(quote! { #[classify(default = Unknown)] enum E { #[classify(why = "odd")] A } }),
            "`why` is the reason an error is `Permanent` (shown on its give-up line), but \
             variant `A` is `Unknown`, the enum's `default`: drop `why`, or make the kind \
             `Permanent`: `#[classify(Permanent, why = \"...\")]`"
        );
    }

    #[test]
    fn refused_where_the_field_gives_the_kind() {
        assert_eq!(
            one(quote! { enum E { #[classify(transparent, why = "gone")] A(std::io::Error) } }),
            "`why` cannot be combined with `transparent`: variant `A` takes its kind from its \
             field when the error is made, and its reason too (the field's own \
             `why_permanent`, handed on); give the reason to the field's type \
             (`#[classify(Permanent, why = \"...\")]` on its variant, or its \
             `why_permanent`), or give variant `A` a kind of its own: \
             `#[classify(Permanent, why = \"...\")]`"
        );
        assert!(
            one(quote! { #[classify(source, why = "gone")] struct S(Inner); })
                .starts_with("`why` cannot be combined with `source`: struct `S` takes its kind")
        );
        assert_eq!(
            one(quote! { enum E { #[classify(chain, why = "gone")] A(PoolError) } }),
            "`why` cannot be combined with `chain`: variant `A` takes its kind from its field's \
             error chain when the error is made, and its reason too (that of the error in the \
             chain that gives the kind: a `tonic::Status` whose server asked not to retry); \
             give variant `A` a kind of its own to give it a reason: \
             `#[classify(Permanent, why = \"...\")]`"
        );
    }

    #[test]
    fn on_the_enum_only_beside_default_permanent() {
        assert_eq!(
            one(quote! { #[classify(why = "gone")] enum E { #[classify(Permanent)] A } }),
            "`why` goes on a variant, beside its kind: `#[classify(Permanent, why = \"...\")]` \
             (on the enum it is the reason of the variants that take `default = Permanent`, \
             and there is no `default`)"
        );
        assert_eq!(
            one(quote! { #[classify(default = Unknown, why = "gone")] enum E { A } }),
            "`why` on the enum is the reason of the variants that take `default = Permanent`, \
             but the default is `Unknown`, which is not `Permanent`: drop `why`, or give it to \
             the `Permanent` variants, `#[classify(Permanent, why = \"...\")]`"
        );
        // the kind written on the enum is the error to fix (its message says
        // `default = Permanent`, which makes `why` right): not two
        let errors = errors_of(quote! {
            #[classify(Permanent, why = "gone")] enum E { #[classify(Timeout)] A }
        });
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].starts_with("on an enum the kind goes on each variant"));
        // beside another kind there, or `chain`: both reported
        let errors = errors_of(quote! {
            #[classify(Timeout, why = "gone")] enum E { #[classify(Timeout)] A }
        });
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[1].starts_with("`why` goes on a variant"),
            "{errors:#?}"
        );
        let errors = errors_of(quote! {
            #[classify(chain, why = "gone")] enum E { #[classify(Timeout)] A }
        });
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[1].starts_with("`why` goes on a variant"),
            "{errors:#?}"
        );
    }

    /// A kind that is missing or mistyped is the error to fix; `why` adds
    /// none of its own beside it. Every other mistake is collected.
    #[test]
    fn reported_once_and_with_the_rest() {
        let errors = errors_of(quote! { enum E { #[classify(why = "gone")] A } });
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].starts_with("variant `A` needs `#[classify(Kind)]`"));
        let errors = errors_of(quote! { enum E { #[classify(Permanant, why = "gone")] A } });
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].starts_with("unknown error kind `Permanant`; did you mean `Permanent`?"));

        let errors = errors_of(quote! {
            #[classify(why = "x")]
            enum E {
                #[classify(Timeout, why = "slow")] A,
                #[classify(transparent, why = "")] B(Inner),
                #[classify(Permanent, why = "gone", why = "again")] C,
                #[classify(chain, why = "pool")] D(PoolError),
            }
        });
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(errors[0].starts_with("`why` is empty"), "{errors:#?}");
        assert!(
            errors[1].starts_with("duplicate `why` argument"),
            "{errors:#?}"
        );
        assert!(
            errors[2].starts_with("`why` first given here"),
            "{errors:#?}"
        );
        assert!(
            errors[3].starts_with("`why` goes on a variant"),
            "{errors:#?}"
        );
        assert!(
            errors[4].starts_with("`why` is the reason an error is `Permanent`"),
            "{errors:#?}"
        );
        // B's empty `why` was refused as it was read: nothing more about it
        assert!(
            errors[5].starts_with("`why` cannot be combined with `chain`"),
            "{errors:#?}"
        );
    }
}
