//! The return type, as the attempt's expected output: `impl Trait`
//! erased, the error type's span, a boxed future's `Output`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::ReturnType;

/// The `T` of the first `Output = T` in `ty` (a boxed future's output).
pub(super) fn future_output(ty: &syn::Type) -> Option<&syn::Type> {
    use syn::{GenericArgument, PathArguments, Type, TypeParamBound};
    fn in_path(path: &syn::Path) -> Option<&syn::Type> {
        path.segments.iter().find_map(|seg| match &seg.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
                GenericArgument::AssocType(a) if a.ident == "Output" => Some(&a.ty),
                GenericArgument::Type(t) => future_output(t),
                _ => None,
            }),
            _ => None,
        })
    }
    match ty {
        Type::Path(p) => in_path(&p.path),
        Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            TypeParamBound::Trait(t) => in_path(&t.path),
            _ => None,
        }),
        Type::Group(g) => future_output(&g.elem),
        Type::Paren(p) => future_output(&p.elem),
        _ => None,
    }
}

/// The span of `E` in a return type written `Result<T, E>` (any path
/// whose last segment has two type arguments: `std::result::Result<T, E>`
/// too); `None` for an alias such as `io::Result<T>`.
pub(super) fn error_type_span(ty: &syn::Type) -> Option<Span> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    match (types.next(), types.next(), types.next()) {
        (Some(_), Some(err), None) => Some(err.span()),
        _ => None,
    }
}

/// `ty` as the type an attempt is expected to return: as written, with each
/// `impl Trait` in it (which only a function's signature may name) erased
/// to `_`, left for the body to decide.
pub(super) fn expected_type(ty: &syn::Type) -> TokenStream {
    fn has_impl(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => has_impl(g.stream()),
            _ => false,
        })
    }
    let tokens = ty.to_token_stream();
    if !has_impl(tokens.clone()) {
        return tokens;
    }
    match syn::parse2::<syn::Type>(tokens) {
        Ok(mut ty) => {
            erase_impl_trait(&mut ty);
            ty.into_token_stream()
        }
        // (it parsed as a type once: not reached)
        Err(_) => quote!(_),
    }
}

/// Replaces each `impl Trait` in `ty` with `_`.
fn erase_impl_trait(ty: &mut syn::Type) {
    use syn::{GenericArgument, PathArguments, Type};
    let path_args = |path: &mut syn::Path| {
        for segment in &mut path.segments {
            match &mut segment.arguments {
                PathArguments::AngleBracketed(args) => {
                    for arg in &mut args.args {
                        match arg {
                            GenericArgument::Type(t) => erase_impl_trait(t),
                            GenericArgument::AssocType(a) => erase_impl_trait(&mut a.ty),
                            _ => {}
                        }
                    }
                }
                PathArguments::Parenthesized(args) => {
                    for arg in &mut args.inputs {
                        erase_impl_trait(&mut arg.ty);
                    }
                    if let ReturnType::Type(_, t) = &mut args.output {
                        erase_impl_trait(t);
                    }
                }
                PathArguments::None => {}
            }
        }
    };
    match ty {
        Type::ImplTrait(t) => {
            let underscore = syn::Token![_](t.impl_token.span);
            *ty = Type::Infer(syn::TypeInfer {
                attrs: Vec::new(),
                underscore_token: underscore,
            });
        }
        Type::Array(t) => erase_impl_trait(&mut t.elem),
        Type::Group(t) => erase_impl_trait(&mut t.elem),
        Type::Paren(t) => erase_impl_trait(&mut t.elem),
        Type::Ptr(t) => erase_impl_trait(&mut t.elem),
        Type::Reference(t) => erase_impl_trait(&mut t.elem),
        Type::Slice(t) => erase_impl_trait(&mut t.elem),
        Type::Tuple(t) => t.elems.iter_mut().for_each(erase_impl_trait),
        Type::Path(t) => {
            if let Some(q) = &mut t.qself {
                erase_impl_trait(&mut q.ty);
            }
            path_args(&mut t.path);
        }
        // `dyn Iterator<Item = impl Display>`: `dyn Iterator<Item = _>`
        Type::TraitObject(t) => {
            for bound in &mut t.bounds {
                if let syn::TypeParamBound::Trait(b) = bound {
                    path_args(&mut b.path);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::{Delimiter, Group};

    /// Each `impl Trait` in a return type, wherever it is nested, is `_`
    /// in the attempt's expected type; the rest is kept as written.
    #[test]
    fn erases_every_impl_trait_in_the_return_type() {
        let grouped = Group::new(Delimiter::None, quote!(impl Display));
        for (ty, expected) in [
            (quote!(Result<impl Display, E>), "Result < _ , E >"),
            (
                quote!(Result<(impl Display, u8), E>),
                "Result < (_ , u8) , E >",
            ),
            (quote!(Result<(impl Display), E>), "Result < (_) , E >"),
            (quote!(Result<#grouped, E>), "Result < _ , E >"),
            (
                quote!(Result<[impl Display; 2], E>),
                "Result < [_ ; 2] , E >",
            ),
            (
                quote!(Result<&'a [impl Display], E>),
                "Result < & 'a [_] , E >",
            ),
            (
                quote!(Result<*const impl Display, E>),
                "Result < * const _ , E >",
            ),
            (
                quote!(Result<Box<dyn Iterator<Item = impl Display>>, E>),
                "Result < Box < dyn Iterator < Item = _ > > , E >",
            ),
            (quote!(Result<u8, E>), "Result < u8 , E >"),
        ] {
            let ty: syn::Type = syn::parse2(ty).unwrap();
            assert_eq!(expected_type(&ty).to_string(), expected);
        }
    }
}
