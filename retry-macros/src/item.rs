//! The annotated function as the attribute needs it: its attributes,
//! visibility and signature parsed, its body kept as tokens.
//!
//! Parsing the body into syn's statement and expression types was half of
//! the attribute's own run time, for nothing: the loop emits the body as
//! it came. Only a body written by `#[async_trait]` is looked into, and
//! only when it looks like one (see [`FnItem::async_trait_body`]).

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};
use syn::parse::{Parse, ParseStream};
use syn::{braced, Attribute, Block, Expr, Signature, Stmt, Visibility};

/// A function with a body: `attrs vis sig { inner_attrs body }`.
pub struct FnItem {
    /// The outer attributes (`#[..]` before the function).
    pub attrs: Vec<Attribute>,
    /// The body's inner attributes (`#![..]` at its start).
    pub inner_attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub brace: syn::token::Brace,
    /// The body's statements, unparsed.
    pub body: TokenStream,
}

impl Parse for FnItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body = content.parse()?;
        Ok(FnItem {
            attrs,
            inner_attrs,
            vis,
            sig,
            brace,
            body,
        })
    }
}

impl ToTokens for FnItem {
    /// The function as it was written.
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.brace.surround(tokens, |inner| {
            inner.append_all(&self.inner_attrs);
            inner.extend(self.body.clone());
        });
    }
}

impl FnItem {
    /// The body in its braces, for the attempt. The braces keep their
    /// location (an error about the block's type still points at it) but
    /// belong to the expansion: inside the attempt's closure or `async`
    /// block they are a block within a block, and rustc's `unused_braces`
    /// would otherwise blame the user's braces for it.
    pub fn block(&self) -> Group {
        let mut group = Group::new(Delimiter::Brace, self.body.clone());
        group.set_span(self.brace.span.join().resolved_at(Span::call_site()));
        group
    }

    /// Is the body the one `#[async_trait]` writes for an `async fn`:
    /// `Box::pin(async move { <argument rebinds>; <typed body> })`? Returns
    /// the `Box::pin` path and the statements of the `async move` block.
    pub fn async_trait_body(&self) -> Option<(Box<Expr>, Vec<Stmt>)> {
        if self.sig.asyncness.is_some() || !mentions_pin(&self.body) {
            return None;
        }
        let block: Block = syn::parse2(self.block().into_token_stream()).ok()?;
        let Ok([Stmt::Expr(Expr::Call(call), None)]) = <[Stmt; 1]>::try_from(block.stmts) else {
            return None;
        };
        let Expr::Path(func) = &*call.func else {
            return None;
        };
        let is_pin = func.path.segments.last().is_some_and(|s| s.ident == "pin");
        if !is_pin || call.args.len() != 1 {
            return None;
        }
        match call.args.into_iter().next() {
            Some(Expr::Async(inner)) if inner.capture.is_some() => {
                Some((call.func, inner.block.stmts))
            }
            _ => None,
        }
    }
}

/// Does `pin` appear among the body's top-level tokens (cheap to check,
/// before parsing anything)?
fn mentions_pin(body: &TokenStream) -> bool {
    body.clone()
        .into_iter()
        .any(|tt| matches!(tt, TokenTree::Ident(i) if i == "pin"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn keeps_the_function_as_written() {
        let src = quote! {
            #[inline]
            pub(crate) async fn f<'a>(x: &'a str) -> Result<u32, E> where E: Send {
                #![allow(unused)]
                let n = x.len();
                Ok(n as u32)
            }
        };
        let item: FnItem = syn::parse2(src.clone()).unwrap();
        assert_eq!(item.attrs.len(), 1);
        assert_eq!(item.inner_attrs.len(), 1);
        assert_eq!(item.sig.ident, "f");
        assert_eq!(item.into_token_stream().to_string(), src.to_string());
    }

    #[test]
    fn a_function_without_a_body_is_refused() {
        assert!(syn::parse2::<FnItem>(quote!(
            fn f() -> Result<(), E>;
        ))
        .is_err());
        assert!(syn::parse2::<FnItem>(quote!(
            struct S;
        ))
        .is_err());
    }

    #[test]
    fn finds_the_async_trait_body_only_in_its_shape() {
        let item: FnItem = syn::parse2(quote! {
            fn get<'a>(&'a self) -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + 'a>> {
                Box::pin(async move {
                    let __self = self;
                    let __ret: Result<u32, E> = { __self.fetch().await };
                    #[allow(unreachable_code)]
                    __ret
                })
            }
        })
        .unwrap();
        let (pin, stmts) = item.async_trait_body().expect("the async_trait shape");
        assert_eq!(pin.into_token_stream().to_string(), "Box :: pin");
        assert_eq!(stmts.len(), 3);
        for other in [
            quote!(
                fn f() -> Result<u32, E> {
                    let pin = 1;
                    Ok(pin)
                }
            ),
            quote!(
                fn f() -> Result<u32, E> {
                    Box::pin(async { 1 })
                }
            ),
            quote!(
                async fn f() -> Result<u32, E> {
                    Box::pin(async move { 1 })
                }
            ),
        ] {
            let item: FnItem = syn::parse2(other).unwrap();
            assert!(item.async_trait_body().is_none());
        }
    }
}
