//! What a `chain` field's type says of the error chain it holds: a
//! `dyn Error` behind a pointer (not an `Error` itself) and a type that
//! borrows (the chain walk needs `'static`) are refused by the derive with
//! the way out, where rustc would say a size is unknown or a borrow
//! escapes; any other is left to the generated `ChainField::as_chain`.

use proc_macro2::TokenTree;
use quote::ToTokens as _;
use syn::Type;

/// Why a `chain` field of type `ty` cannot be read as an error chain, for
/// the two shapes rustc would report without the way out: a `dyn Error`
/// behind a pointer, the field's type itself (`Box<dyn Error + ..>`,
/// `Arc<dyn ..>`, `&dyn ..`: not an `Error` itself; rustc says its size is
/// unknown), and a type that borrows (the chain walk needs `'static`: rustc
/// says a borrow escapes the method). Completes "`chain` reads variant
/// `X`'s field ...". `None` for any other type (a `dyn` deeper in, as in
/// `SendError<Box<dyn FnOnce()>>`, is the error's own business; an alias
/// such as `BoxError` cannot be seen through, and gets rustc's message).
pub(super) fn not_a_chain(ty: &Type) -> Option<String> {
    if is_dyn_behind_a_pointer(ty) {
        return Some(
            "as an error whose `source()` chain gives the kind, but a `dyn Error` behind a \
             pointer is not an `Error` itself: a boxed error is `Classify` by its chain \
             already, so write `#[classify(transparent)]`"
                .to_string(),
        );
    }
    borrows(ty.to_token_stream(), &mut Vec::new()).then(|| {
        "as an error whose `source()` chain gives the kind, which needs an error type that \
         is `'static`, and this one borrows (a lifetime other than `'static`): hold an owned \
         error"
            .to_string()
    })
}

/// Is `ty` a trait object, behind a reference or in a `Box`, `Arc` or `Rc`
/// (through parentheses)?
fn is_dyn_behind_a_pointer(ty: &Type) -> bool {
    let pointee = match ty {
        Type::Paren(p) => return is_dyn_behind_a_pointer(&p.elem),
        Type::Group(g) => return is_dyn_behind_a_pointer(&g.elem),
        Type::Reference(r) => Some(&*r.elem),
        Type::Path(p) => p.path.segments.last().and_then(|last| {
            let pointer = ["Box", "Arc", "Rc"].iter().any(|name| last.ident == name);
            match &last.arguments {
                syn::PathArguments::AngleBracketed(args) if pointer => {
                    args.args.iter().find_map(|arg| match arg {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                }
                _ => None,
            }
        }),
        _ => None,
    };
    let mut pointee = pointee;
    while let Some(
        Type::Paren(syn::TypeParen { elem, .. }) | Type::Group(syn::TypeGroup { elem, .. }),
    ) = pointee
    {
        pointee = Some(&**elem);
    }
    matches!(pointee, Some(Type::TraitObject(_)))
}

/// Do `tokens` (their groups too) hold a lifetime other than `'static`
/// that no `for<..>` among them declares (a higher-ranked one borrows
/// nothing)? `bound`: the lifetimes `for<..>` declared so far.
fn borrows(tokens: proc_macro2::TokenStream, bound: &mut Vec<String>) -> bool {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (TokenTree::Group(g), _) if borrows(g.stream(), bound) => return true,
            // `for<'a, 'b>`: the lifetimes up to the closing `>` are bound
            (TokenTree::Ident(f), Some(TokenTree::Punct(lt)))
                if f == "for" && lt.as_char() == '<' =>
            {
                let mut j = i + 2;
                while j < tokens.len()
                    && !matches!(&tokens[j], TokenTree::Punct(p) if p.as_char() == '>')
                {
                    if let (TokenTree::Punct(q), Some(TokenTree::Ident(name))) =
                        (&tokens[j], tokens.get(j + 1))
                    {
                        if q.as_char() == '\'' {
                            bound.push(name.to_string());
                        }
                    }
                    j += 1;
                }
                i = j;
            }
            (TokenTree::Punct(q), Some(TokenTree::Ident(name)))
                if q.as_char() == '\'' && name != "static" && !bound.iter().any(|b| name == b) =>
            {
                return true;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> Type {
        syn::parse_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn a_dyn_error_behind_a_pointer_is_no_chain() {
        for s in [
            "Box<dyn std::error::Error + Send + Sync>",
            "std::sync::Arc<dyn Error>",
            "std::rc::Rc<dyn Error>",
            "&'static (dyn Error + Sync)",
            "(Box<(dyn Error)>)",
        ] {
            let why = not_a_chain(&ty(s)).unwrap_or_else(|| panic!("{s}: accepted"));
            assert!(
                why.ends_with("write `#[classify(transparent)]`"),
                "{s}: {why}"
            );
        }
    }

    #[test]
    fn a_type_that_borrows_is_no_chain() {
        for s in [
            "Borrowed<'a>",
            "wrap::Err<Vec<&'a str>>",
            "(u8, Ref<'b>)",
            "Rejected<for<'x> fn(&'x str) -> &'a str>",
        ] {
            let why = not_a_chain(&ty(s)).unwrap_or_else(|| panic!("{s}: accepted"));
            assert!(why.contains("this one borrows"), "{s}: {why}");
        }
    }

    #[test]
    fn other_types_are_left_to_rustc() {
        for s in [
            "std::io::Error",
            "Box<MyError>",
            "Err<&'static str>",
            // a `dyn` deeper in is the error's own; a higher-ranked
            // lifetime borrows nothing; an alias cannot be seen through
            "SendError<Box<dyn FnOnce() + Send>>",
            "Rejected<for<'a> fn(&'a str) -> bool>",
            "BoxError",
        ] {
            assert_eq!(not_a_chain(&ty(s)), None, "{s}");
        }
    }
}
