//! Which `&mut` parameters each attempt re-borrows, and what is written
//! about a parameter carrying its `#[cfg]`s.

use proc_macro2::{Delimiter, Ident, TokenStream};
use quote::ToTokens;
use syn::Pat;

use crate::item::{mut_ref, pinned_mut_ref};

/// The parameters written `name: &mut T` (a plain name, not `mut`, not in
/// `clone`; `#[async_trait]` keeps them so, under their names) that `body`
/// may move, as a by-value argument to a generic or a `for` loop does (a
/// `&mut T` is re-borrowed, not moved, only where a `&mut T` is expected).
///
/// Re-borrowing a parameter the body only reads through would not be
/// harmless: a borrow of it returned from the attempt
/// (`-> Result<&'a u8, E> { v.first().ok_or(E) }`) would then be a borrow
/// of the attempt's re-borrow. So an occurrence that reads through the
/// reference (`v.len()`, `v[0]`, `*v`, `&v`, `&mut v`, a field `x.v`) does
/// not count; any other does, and so does any use after a `move` in the
/// same group (a `move` closure or block takes what it names). Nor is one
/// whose own lifetime the return type can name (see [`output_may_borrow`]).
/// A wrong guess either way is a compile error, never a change of meaning.
///
/// With `every` (an async attempt, a block of its own), every such
/// parameter is re-borrowed, moved or not: the block then captures it
/// uniquely, a `&mut T`, which is `Send` when `T` is, where a body that
/// only reads through it would have the block capture a `&T` (or a field's
/// `&`), `Send` only when `T` is `Sync`: a `Cell`, a `Box<dyn Fn + Send>`
/// field made the function's future `!Send` where it is `Send` without the
/// attribute.
///
/// Not under `every` (only if moved, as before): one whose lifetime a
/// borrow through it can reach by another route than the output (see
/// [`lifetime_shared`]), or one a `policy = ..` closure names (`captured`:
/// the closure borrows it beside the attempt).
pub(super) fn mut_ref_params(
    sig: &syn::Signature,
    output: Option<&syn::Type>,
    cloned: &[Ident],
    body: TokenStream,
    every: bool,
    captured: &[Ident],
) -> Vec<Ident> {
    // An output that may borrow from a parameter keeps that parameter as
    // it is: a re-borrow would make the returned borrow the attempt's own.
    // (Such a body cannot have moved the parameter and compiled without the
    // attribute's re-borrow either: the output's borrow and the move
    // conflict.)
    let output_ty = output;
    let output = output.map(OutputLifetimes::of);
    let candidates: Vec<(&Ident, bool)> = sig
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(at, input)| match input {
            syn::FnArg::Typed(t) => match (&*t.pat, mut_ref(&t.ty)) {
                (Pat::Ident(p), Some(r))
                    if p.by_ref.is_none()
                        && p.mutability.is_none()
                        && p.subpat.is_none()
                        && !cloned.contains(&p.ident)
                        && !output
                            .as_ref()
                            .is_some_and(|o| output_may_borrow(sig, o, r.lifetime.as_ref())) =>
                {
                    let free = !lifetime_shared(sig, r.lifetime.as_ref(), Some(at))
                        && !captured.contains(&p.ident);
                    Some((&p.ident, free))
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    // (all of them: an async attempt's, unless the output may hold a
    // borrow the macro cannot see, see `hides_lifetime`, or the parameter's
    // lifetime is shared)
    let every = every && !output_ty.is_some_and(|o| hides_lifetime(o, &sig.generics));
    let names: Vec<&Ident> = candidates.iter().map(|(name, _)| *name).collect();
    let mut moved = Vec::new();
    may_move(body, &names, false, &mut moved);
    candidates
        .into_iter()
        .filter(|(name, free)| moved.contains(name) || (every && *free))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Can a borrow through a `&'a mut` parameter (the `at`th input, the
/// receiver the 0th) outlive the attempt by another route than the output?
/// When `'a` is not the function's own (the impl's: `impl<'a> Reg<'a> {
/// fn add(&mut self, item: &'a mut Item) }`), when another parameter names
/// it or a lifetime it outlives (`cache: &mut Vec<&'a [u8]>`), or a
/// type parameter's bound or a where clause's type predicate names it
/// (`T: From<&'a [u8]>`). Such a parameter is not re-borrowed for each
/// attempt unless the body may move it (as at a42257f): a borrow kept
/// there would be of the attempt's re-borrow, which the next attempt needs
/// again (E0524). `'static` is shared (a `static` can keep the borrow), and
/// so is a lifetime that outlives one not the function's own. (An
/// outlives bound, async-trait's `Self: 'async_trait`, is not a route.)
fn lifetime_shared(
    sig: &syn::Signature,
    lifetime: Option<&syn::Lifetime>,
    at: Option<usize>,
) -> bool {
    let Some(lifetime) = lifetime.filter(|l| l.ident != "_") else {
        return false;
    };
    // `'static` (a `static` can keep the borrow), or a lifetime that is not
    // the function's own, or outlives one that is not (the impl's `'a`
    // through `'b: 'a`, which `&mut self` does not spell out)
    let reach = reach(&sig.generics, &lifetime.ident);
    let own = |l: &Ident| sig.generics.lifetimes().any(|p| p.lifetime.ident == *l);
    if lifetime.ident == "static" || !reach.iter().all(own) {
        return true;
    }
    let names = |tokens: TokenStream| lifetimes_in(tokens).iter().any(|l| reach.contains(l));
    let elsewhere = sig.inputs.iter().enumerate().any(|(i, input)| {
        Some(i) != at
            && match input {
                syn::FnArg::Typed(t) => names(t.ty.to_token_stream()),
                syn::FnArg::Receiver(r) => names(r.to_token_stream()),
            }
    });
    // A trait bound that names it (`T: Extend<&'b u8>`); not an outlives
    // bound (`T: 'b`, async-trait's `Self: 'async_trait`), which keeps
    // nothing.
    let in_traits = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|b| match b {
            syn::TypeParamBound::Lifetime(_) => false,
            other => names(other.to_token_stream()),
        })
    };
    let bounds = sig.generics.type_params().any(|p| in_traits(&p.bounds))
        || sig.generics.where_clause.iter().flat_map(|w| &w.predicates).any(|p| {
            matches!(p, syn::WherePredicate::Type(t) if names(t.bounded_ty.to_token_stream()) || in_traits(&t.bounds))
        });
    elsewhere || bounds
}

/// The lifetimes named in `tokens` (`'a`, not `'_`).
fn lifetimes_in(tokens: TokenStream) -> Vec<Ident> {
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(tt) = tokens.next() {
        match tt {
            proc_macro2::TokenTree::Punct(p) if p.as_char() == '\'' => {
                if let Some(proc_macro2::TokenTree::Ident(name)) = tokens.next() {
                    out.push(name);
                }
            }
            proc_macro2::TokenTree::Group(g) => out.extend(lifetimes_in(g.stream())),
            _ => {}
        }
    }
    out
}

/// Does each async attempt borrow a `&mut self` receiver uniquely? As for
/// a `&mut T` parameter (see [`mut_ref_params`]'s `every`): a body that
/// only reads through `self` has its block capture `&self.field`s, `Send`
/// only for `Sync` fields. Not when the return type may borrow from
/// `self` (an elided lifetime in it is the receiver's): a borrow returned
/// from the attempt would be of its unique borrow.
///
/// Nor when its lifetime is shared ([`lifetime_shared`]: `&'a mut self`
/// with the impl's `'a`, or one another parameter names), or `captured`
/// (a `policy = ..` closure names `self`, and borrows it beside the
/// attempt).
pub(super) fn unique_receiver(
    sig: &syn::Signature,
    output: Option<&syn::Type>,
    captured: bool,
) -> bool {
    let Some(receiver) = sig.receiver() else {
        return false;
    };
    if captured {
        return false;
    }
    let lifetime = match &receiver.kind {
        syn::ReceiverKind::Reference(_, lifetime, Some(_)) => lifetime.as_ref(),
        // (`self: &mut Self`, also in parentheses or a macro's group)
        syn::ReceiverKind::Typed(_, ty) => match mut_ref(ty) {
            Some(r) => r.lifetime.as_ref(),
            None => return false,
        },
        _ => return false,
    };
    // (the receiver is the first input)
    if lifetime_shared(sig, lifetime, Some(0)) {
        return false;
    }
    match output {
        None => true,
        Some(ty) => {
            let lifetimes = OutputLifetimes::of(ty);
            !lifetimes.elided
                && !hides_lifetime(ty, &sig.generics)
                && !output_may_borrow(sig, &lifetimes, lifetime)
        }
    }
}

/// A parameter written `p: Pin<&mut T>` or `mut p: Pin<&mut T>` that each
/// attempt re-borrows (`Pin::as_mut`), so that an attempt can pass it on
/// by value (`p.get_mut()`, `p.project()`, `take(p)`) and the next one
/// still has it, and pointing the attempt's binding elsewhere
/// (`p = Pin::new(&mut other)`) does not carry to the next attempt.
pub(super) struct PinnedParam {
    pub name: Ident,
    /// The `mut` written on the parameter, which the re-borrow's binding
    /// takes (a body that changes nothing through it is told that it
    /// "does not need to be mutable" there, as without the attribute);
    /// without one, the signature gets a `mut` of its own for the
    /// re-borrow to take `&mut p`.
    pub mutability: Option<syn::Token![mut]>,
}

/// The `Pin<&mut T>` parameters each attempt re-borrows: every one bound
/// by a plain name (`mut` or not; not in `clone`, nor named by a
/// `stop_on`'s or `policy`'s expression, `captured`: held for the whole
/// call), but one whose lifetime the return type may name (a borrow
/// returned from the attempt would be of its re-borrow; see
/// [`output_may_borrow`]).
pub(super) fn pinned_params(
    sig: &syn::Signature,
    output: Option<&syn::Type>,
    cloned: &[Ident],
    captured: &[Ident],
) -> Vec<PinnedParam> {
    let output = output.map(OutputLifetimes::of);
    sig.inputs
        .iter()
        .filter_map(|input| {
            let syn::FnArg::Typed(t) = input else {
                return None;
            };
            let (Pat::Ident(p), Some(r)) = (&*t.pat, pinned_mut_ref(&t.ty)) else {
                return None;
            };
            let borrowed = output
                .as_ref()
                .is_some_and(|o| output_may_borrow(sig, o, r.lifetime.as_ref()));
            let kept = cloned.contains(&p.ident) || captured.contains(&p.ident);
            (p.by_ref.is_none() && p.subpat.is_none() && !kept && !borrowed).then(|| PinnedParam {
                name: p.ident.clone(),
                mutability: p.mutability.as_ref().map(|m| syn::Token![mut](m.span)),
            })
        })
        .collect()
}

/// The `#[cfg]` and `#[cfg_attr]` attributes of the parameter `name` (as
/// async-trait forwards a parameter's `#[cfg]` to its rebind): what is
/// written about the parameter carries them, so that with the cfg off it
/// names no parameter that is not there.
pub(super) fn param_cfgs<'a>(sig: &'a syn::Signature, name: &Ident) -> Vec<&'a syn::Attribute> {
    let param = sig.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(t) if matches!(&*t.pat, Pat::Ident(p) if p.ident == *name) => Some(t),
        _ => None,
    });
    param.map_or_else(Vec::new, |t| {
        t.attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"))
            .collect()
    })
}

/// The lifetimes a return type writes: by name (`'a`, `'static`), and
/// whether it elides one (`&T`, `'_`, `impl Trait + '_`). (A lifetime
/// elided in a path, `Iter<u32>`, or captured by an `impl Trait` without
/// one written, is not seen.)
struct OutputLifetimes {
    named: Vec<Ident>,
    elided: bool,
}

impl OutputLifetimes {
    fn of(output: &syn::Type) -> OutputLifetimes {
        fn walk(tokens: TokenStream, out: &mut OutputLifetimes) {
            use proc_macro2::TokenTree;
            let mut tokens = tokens.into_iter().peekable();
            while let Some(tt) = tokens.next() {
                match tt {
                    TokenTree::Punct(p) if p.as_char() == '\'' => match tokens.next() {
                        Some(TokenTree::Ident(name)) if name == "_" => out.elided = true,
                        Some(TokenTree::Ident(name)) => out.named.push(name),
                        _ => {}
                    },
                    // `&T`, `&&'a T` (its outer `&`): a reference without a
                    // lifetime
                    TokenTree::Punct(p) if p.as_char() == '&' => {
                        let named = matches!(tokens.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '\'');
                        out.elided |= !named;
                    }
                    TokenTree::Group(g) => walk(g.stream(), out),
                    _ => {}
                }
            }
        }
        let mut out = OutputLifetimes {
            named: Vec::new(),
            elided: false,
        };
        walk(output.to_token_stream(), &mut out);
        out
    }
}

/// May `output` hold a borrow whose lifetime is not written in it? A
/// path that may carry one elided (`Cow<str>`, `Iter<u8>`, `Ref<u8>`: a
/// generic type not known to be free of lifetimes, whose first argument is
/// a type), `Self` (`impl<'a> H<'a>`'s `-> Result<Self, E>`), a generic
/// type parameter (`T: From<&'a Vec<u8>>`), a qualified path or an
/// `impl Trait` (which captures the lifetimes in scope). An async attempt
/// does not re-borrow a `&mut` argument it would not have to (one it only
/// reads) when the output may borrow from it so: a borrow returned from the
/// attempt would be of its re-borrow, which the next attempt needs again
/// (E0524/E0499). A path hiding a lifetime without any argument (`View`,
/// for `View<'a>`) is not seen (rustc warns about it from 1.89,
/// `mismatched_lifetime_syntaxes`).
fn hides_lifetime(output: &syn::Type, generics: &syn::Generics) -> bool {
    /// Generic types that hold no lifetime of their own: only their
    /// arguments can.
    const LIFETIME_FREE: [&str; 13] = [
        "Result", "Option", "Vec", "Box", "Arc", "Rc", "HashMap", "HashSet", "BTreeMap",
        "BTreeSet", "VecDeque", "Pin", "Mutex",
    ];
    let is_param = |ident: &Ident| generics.type_params().any(|p| p.ident == *ident);
    match output {
        syn::Type::Path(p) => {
            if p.qself.is_some() {
                return true;
            }
            let segments = &p.path.segments;
            // `Self`, `T`, and `T::Out` / `Self::Out` (an associated type)
            if let Some(first) = segments.first() {
                if first.ident == "Self" || is_param(&first.ident) {
                    return true;
                }
            }
            segments.iter().any(|segment| match &segment.arguments {
                syn::PathArguments::AngleBracketed(args) => {
                    let lifetime_first =
                        matches!(args.args.first(), Some(syn::GenericArgument::Lifetime(_)));
                    let known = LIFETIME_FREE.iter().any(|name| segment.ident == name);
                    (!lifetime_first && !known)
                        || args.args.iter().any(|arg| match arg {
                            syn::GenericArgument::Type(t) => hides_lifetime(t, generics),
                            syn::GenericArgument::AssocType(a) => hides_lifetime(&a.ty, generics),
                            _ => false,
                        })
                }
                syn::PathArguments::Parenthesized(_) => true,
                syn::PathArguments::None => segment.ident == "Self",
            })
        }
        syn::Type::ImplTrait(_) => true,
        syn::Type::Reference(r) => hides_lifetime(&r.elem, generics),
        syn::Type::Tuple(t) => t.elems.iter().any(|t| hides_lifetime(t, generics)),
        syn::Type::Array(a) => hides_lifetime(&a.elem, generics),
        syn::Type::Slice(s) => hides_lifetime(&s.elem, generics),
        syn::Type::Paren(p) => hides_lifetime(&p.elem, generics),
        syn::Type::Group(g) => hides_lifetime(&g.elem, generics),
        _ => false,
    }
}

/// Can a `&mut` parameter whose reference has `lifetime` (`None`, or
/// `'_`: elided) be borrowed by the return type? When the output names
/// the lifetime, or one it is declared to outlive (`'a: 'b`, `-> &'b T`);
/// and when the output elides a lifetime that elision gives the
/// parameters (there is no `&self` receiver, whose lifetime it would be
/// otherwise: the one lifetime of the parameters, named or not). Another
/// parameter's lifetime, `'static` or the receiver's is not the
/// parameter's own: it can be re-borrowed then.
fn output_may_borrow(
    sig: &syn::Signature,
    output: &OutputLifetimes,
    lifetime: Option<&syn::Lifetime>,
) -> bool {
    let by_ref_receiver = sig.receiver().is_some_and(|r| match &r.kind {
        syn::ReceiverKind::Reference(..) => true,
        syn::ReceiverKind::Typed(_, ty) => mentions_reference(ty.to_token_stream()),
        _ => false,
    });
    if output.elided && !by_ref_receiver {
        return true;
    }
    let Some(lifetime) = lifetime.filter(|l| l.ident != "_") else {
        return false;
    };
    // (`&'static mut T` outlives any lifetime the output names)
    if lifetime.ident == "static" {
        return !output.named.is_empty();
    }
    // the lifetime, and those it is declared to outlive (transitively)
    let reach = reach(&sig.generics, &lifetime.ident);
    reach.iter().any(|l| output.named.contains(l))
}

/// `'l` and the lifetimes it is declared to outlive, transitively.
fn reach(generics: &syn::Generics, l: &Ident) -> Vec<Ident> {
    let mut reach = vec![l.clone()];
    let mut i = 0;
    while let Some(l) = reach.get(i).cloned() {
        i += 1;
        for outlived in outlived_by(generics, &l) {
            if !reach.contains(&outlived) {
                reach.push(outlived);
            }
        }
    }
    reach
}

/// The lifetimes `'l` is declared to outlive: `<'l: 'a + 'b>`, `where 'l: 'a`.
fn outlived_by(generics: &syn::Generics, l: &Ident) -> Vec<Ident> {
    let params = generics.lifetimes().filter(|p| p.lifetime.ident == *l);
    let mut out: Vec<Ident> = params
        .flat_map(|p| p.bounds.iter().map(|b| b.ident.clone()))
        .collect();
    let predicates = generics.where_clause.iter().flat_map(|w| &w.predicates);
    for predicate in predicates {
        if let syn::WherePredicate::Lifetime(p) = predicate {
            if p.lifetime.ident == *l {
                out.extend(p.bounds.iter().map(|b| b.ident.clone()));
            }
        }
    }
    out
}

/// Does a type go through a reference (`&Self`, `Pin<&mut Self>`)?
fn mentions_reference(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Punct(p) => p.as_char() == '&',
        proc_macro2::TokenTree::Group(g) => mentions_reference(g.stream()),
        _ => false,
    })
}

/// Adds to `moved` each of `names` that `tokens` use other than by reading
/// through them (see [`mut_ref_params`]), and each named after a `move`
/// in the same group (a `move` closure or block takes what it names);
/// `moving`: `tokens` follow a `move`.
fn may_move<'a>(
    tokens: TokenStream,
    names: &[&'a Ident],
    moving: bool,
    moved: &mut Vec<&'a Ident>,
) {
    use proc_macro2::TokenTree;
    let punct = |tt: Option<&TokenTree>, chars: &[char]| matches!(tt, Some(TokenTree::Punct(p)) if chars.contains(&p.as_char()));
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut moving = moving;
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Group(g) => may_move(g.stream(), names, moving, moved),
            TokenTree::Ident(ident) if ident == "move" => moving = true,
            TokenTree::Ident(ident) => {
                let Some(name) = names.iter().find(|n| **n == ident) else {
                    continue;
                };
                let before = i.checked_sub(1).and_then(|j| tokens.get(j));
                let after = tokens.get(i + 1);
                let mut_borrowed = matches!(before, Some(TokenTree::Ident(m)) if m == "mut")
                    && punct(i.checked_sub(2).and_then(|j| tokens.get(j)), &['&']);
                let reads = punct(before, &['&', '*', '.'])
                    || mut_borrowed
                    || punct(after, &['.'])
                    || matches!(after, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket);
                if (moving || !reads) && !moved.contains(name) {
                    moved.push(name);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::types::future_output;
    use proc_macro2::Span;
    use quote::quote;
    use syn::ReturnType;

    #[test]
    fn re_borrows_the_mut_ref_parameters_the_body_may_move() {
        let sig: syn::Signature = syn::parse2(quote!(fn f(
            a: &mut A, b: &mut B, c: &C, mut d: &mut D, e: &mut E, g: &mut G,
            h: &mut H, k: &mut K, (l, m): (&mut L, &mut M), n: &mut N
        ) -> Result<(), X>))
        .unwrap();
        let unit: syn::Type = syn::parse2(quote!(Result<(), X>)).unwrap();
        let names = |cloned: &[Ident], body: TokenStream| -> Vec<String> {
            mut_ref_params(&sig, Some(&unit), cloned, body, false, &[])
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        // moved: `a` (an argument), `k` (a `for` loop), `n` (in a macro's
        // arguments, conservatively); read through: the others
        let body = quote! {
            write_to(a, 1); b.push(1); let _ = c; d.push(1); e[0] = 1;
            let _ = &mut g; *h = 2; for x in k {} let _ = self.a; l.x(m); log!(n)
        };
        assert_eq!(names(&[], body.clone()), ["a", "k", "n"]);
        assert_eq!(
            names(&[Ident::new("a", Span::call_site())], body),
            ["k", "n"]
        );
        // a `move` closure or block takes what it names after `move`
        assert_eq!(names(&[], quote!(xs.for_each(move |x| b.push(x)))), ["b"]);
        assert!(names(&[], quote!(a.iter().filter(move |x| **x < 3))).is_empty());
        assert!(names(&[], quote!(Ok(b.len()))).is_empty());
        // an output that may borrow from a parameter: none is re-borrowed
        let borrowed: syn::Type = syn::parse2(quote!(Result<&u8, X>)).unwrap();
        assert!(mut_ref_params(
            &sig,
            Some(&borrowed),
            &[],
            quote!(write_to(a, 1)),
            false,
            &[]
        )
        .is_empty());
        // async-trait's boxed future: its `Output` is what counts
        let boxed: syn::Type = syn::parse2(quote!(
            Pin<Box<dyn Future<Output = Result<(), X>> + Send + 'async_trait>>
        ))
        .unwrap();
        let output = future_output(&boxed).map(|t| t.to_token_stream().to_string());
        assert_eq!(output, Some(unit.to_token_stream().to_string()));
    }

    #[test]
    fn finds_the_lifetimes_a_type_names() {
        let names = |tokens: TokenStream| -> Vec<String> {
            lifetimes_in(tokens)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        // in brackets and parentheses too
        assert_eq!(
            names(quote!(&'a mut [Option<&'b u8>], (&'c str,))),
            ["a", "b", "c"]
        );
        // a path or a type named like a lifetime is not one
        assert!(names(quote!(&mut Vec<x::Y>, &x, dyn Tr + x)).is_empty());
    }

    #[test]
    fn re_borrows_a_mut_ref_parameter_unless_the_output_can_borrow_it() {
        // the parameters of `sig` (each passed on by value) that are re-borrowed
        let reborrowed = |sig: TokenStream| -> Vec<String> {
            let sig: syn::Signature = syn::parse2(sig).unwrap();
            let output = match &sig.output {
                ReturnType::Type(_, ty) => Some(&**ty),
                ReturnType::Default => None,
            };
            let body = quote!(w(a); w(b););
            mut_ref_params(&sig, output, &[], body, false, &[])
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let cases = [
            // another parameter's lifetime, `'static`: not theirs
            (
                quote!(fn f<'s>(s: &'s [u8], a: &mut A, b: &mut B) -> Result<&'s [u8], E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f(a: &mut A, b: &mut B) -> Result<&'static str, E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f<'x>(a: &'x mut A, b: &mut B) -> Result<Cow<'static, str>, E>),
                vec!["a", "b"],
            ),
            // its own lifetime, or one it outlives
            (
                quote!(fn f<'x>(a: &'x mut A, b: &mut B) -> Result<&'x u8, E>),
                vec!["b"],
            ),
            (
                quote!(fn f<'x: 'y, 'y>(a: &'x mut A, b: &'y mut B) -> Result<&'y u8, E>),
                vec![],
            ),
            (
                quote!(fn f<'x, 'y>(a: &'x mut A, b: &'y mut B) -> Result<&'y u8, E> where 'x: 'y),
                vec![],
            ),
            (
                quote!(fn f<'x>(a: &'static mut A, b: &mut B) -> Result<&'x u8, E>),
                vec!["b"],
            ),
            // an elided output lifetime: the parameters' (named or not),
            // unless a `&self` receiver's
            (quote!(fn f(a: &mut A, b: &mut B) -> Result<&u8, E>), vec![]),
            (
                quote!(fn f<'x>(a: &'x mut A, b: &'x mut B) -> Result<Ref<'_, u8>, E>),
                vec![],
            ),
            (
                quote!(fn f(&self, a: &mut A, b: &'_ mut B) -> Result<&u8, E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f(self: Pin<&mut Self>, a: &mut A, b: &mut B) -> Result<&u8, E>),
                vec!["a", "b"],
            ),
            (
                quote!(fn f(self: Box<Self>, a: &mut A, b: &mut B) -> Result<&u8, E>),
                vec![],
            ),
            (
                quote!(fn f<'x>(&self, a: &'x mut A, b: &mut B) -> Result<&'x u8, E>),
                vec!["b"],
            ),
            // no lifetime in the output
            (
                quote!(fn f<'x>(a: &'x mut A, b: &mut B) -> Result<u8, E>),
                vec!["a", "b"],
            ),
        ];
        for (sig, expected) in cases {
            assert_eq!(reborrowed(sig.clone()), expected, "{sig}");
        }
    }
}
