//! The type `#[derive(Classify)]` is on, with every `#[classify(...)]`
//! attribute already read (by `attr`): the input `valid` checks.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Ident};

use super::attr::{self, Attrs};
use crate::diag::Errors;

/// The deriving type.
pub struct Input<'a> {
    pub original: &'a DeriveInput,
    /// The attributes on the type itself.
    pub attrs: Attrs,
    pub shape: Shape<'a>,
}

pub enum Shape<'a> {
    Struct(Fields<'a>),
    Enum(Vec<Variant<'a>>),
    /// A union, by its `union` keyword: not supported.
    Union(Span),
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub attrs: Attrs,
    pub fields: Fields<'a>,
}

/// A struct's or variant's fields.
pub struct Fields<'a> {
    pub fields: &'a syn::Fields,
    /// `#[classify]` attributes written on a field, where they are not read.
    pub stray_attrs: Vec<&'a Attribute>,
}

impl<'a> Input<'a> {
    /// Read the type and all its `#[classify(...)]` attributes; syntax errors go to `errors`.
    pub fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Self {
        let attrs = Attrs::parse(&node.attrs, errors);
        let shape = match &node.data {
            Data::Struct(data) => Shape::Struct(Fields::from_syn(&data.fields)),
            Data::Enum(data) => Shape::Enum(
                data.variants
                    .iter()
                    .map(|variant| Variant {
                        ident: &variant.ident,
                        attrs: Attrs::parse(&variant.attrs, errors),
                        fields: Fields::from_syn(&variant.fields),
                    })
                    .collect(),
            ),
            Data::Union(data) => Shape::Union(data.union_token.span),
        };
        Input {
            original: node,
            attrs,
            shape,
        }
    }

    /// The runtime crate's path: `#[classify(crate = "...")]`, or `::retry_runtime`.
    pub fn krate(&self) -> TokenStream {
        self.attrs
            .krate
            .get()
            .map_or_else(|| quote!(::retry_runtime), |path| path.value.clone())
    }
}

impl<'a> Fields<'a> {
    fn from_syn(fields: &'a syn::Fields) -> Self {
        let stray_attrs = fields
            .iter()
            .flat_map(|field| &field.attrs)
            .filter(|attr| attr::is_classify(attr))
            .collect();
        Fields {
            fields,
            stray_attrs,
        }
    }
}
