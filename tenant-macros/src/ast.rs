//! The models the macros generate code from: a resource struct and a choice enum, with every
//! default resolved. Built from syn's syntax tree plus the parsed attributes.

use quote::quote;
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, Type, Visibility};

use crate::attr::{self, Actions, ChoiceArgs, FieldArgs, ResourceArgs, Role};
use crate::ctxt::Ctxt;
use crate::names;
use crate::symbol::FIELD;

/// A struct under `#[tenant_resource]`.
pub struct Resource<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    /// The struct's own attributes (docs, derives, …), re-emitted as written.
    pub attrs: &'a [Attribute],
    pub fields: Vec<Field<'a>>,
    pub args: ResourceArgs,
    /// The Rust name, `Customer`.
    pub name: String,
    pub table: String,
    pub path: String,
    pub singular: String,
    pub create: Role,
    pub update: Role,
    pub delete: Role,
    /// The routes served: `actions = "…"`, `read_only`, or all six.
    pub actions: Actions,
}

/// One user-declared field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    /// Column name and JSON key: the identifier without `r#`.
    pub name: String,
    pub vis: &'a Visibility,
    pub ty: &'a Type,
    /// Every attribute except `#[field]`.
    pub attrs: Vec<&'a Attribute>,
    pub args: FieldArgs,
}

impl<'a> Resource<'a> {
    /// Reads the struct. Returns `None` (after recording why) when its shape cannot be a
    /// resource at all; attribute errors are recorded but still give a model.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput, args: ResourceArgs) -> Option<Resource<'a>> {
        let ident = &input.ident;
        let mut shape_ok = true;
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(named),
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        format!(
                            "#[tenant_resource] needs named fields, but `{ident}` is a tuple struct\n\
                             help: name each field, e.g. `struct {ident} {{ name: String }}`: the names are the columns and JSON keys"
                        ),
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        quote!(#ident),
                        format!(
                            "#[tenant_resource] needs named fields, but `{ident}` is a unit struct\n\
                             help: declare its fields, e.g. `struct {ident} {{ name: String }}`"
                        ),
                    );
                    None
                }
            },
            Data::Enum(data) => {
                let token = data.enum_token;
                cx.error_spanned_by(
                    quote!(#token #ident),
                    "#[tenant_resource] applies to a struct with named fields, not to an enum\n\
                     help: for a field with a fixed set of values, put #[derive(TenantEnum)] on the enum and use it as a field's type",
                );
                None
            }
            Data::Union(data) => {
                let token = data.union_token;
                cx.error_spanned_by(
                    quote!(#token #ident),
                    "#[tenant_resource] applies to a struct with named fields, not to a union",
                );
                None
            }
        };
        shape_ok &= fields.is_some();
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            let generics = &input.generics;
            cx.error_spanned_by(
                quote!(#generics),
                format!(
                    "#[tenant_resource] struct `{ident}` cannot be generic\n\
                     help: a resource is one table: remove the parameters and give every field a concrete type"
                ),
            );
            shape_ok = false;
        }

        let fields: Vec<Field> = fields
            .map(|named| {
                named
                    .named
                    .iter()
                    .enumerate()
                    .filter_map(|(i, field)| {
                        let ident = field.ident.as_ref()?;
                        let name = ident.unraw().to_string();
                        cx.section(i + 1);
                        let args = attr::parse_field_args(cx, &name, &field.attrs);
                        Some(Field {
                            ident,
                            name,
                            vis: &field.vis,
                            ty: &field.ty,
                            attrs: field.attrs.iter().filter(|attr| attr.path() != FIELD).collect(),
                            args,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        cx.section(0);
        if !shape_ok {
            return None;
        }

        let name = ident.unraw().to_string();
        let snake = names::snake_case(&name);
        let table = args.table.as_ref().map_or_else(|| names::plural(&snake), |lit| lit.value());
        let path = args.path.as_ref().map_or_else(|| format!("/api/{table}"), |lit| lit.value());
        let singular = args.singular.as_ref().map_or_else(|| snake.replace('_', " "), |lit| lit.value());
        // API.md: reads, creates and updates are any member's; deleting is an admin's unless the
        // resource lowers it (`delete = "staff"`).
        let role = |arg: &Option<attr::RoleArg>, default: Role| arg.as_ref().map_or(default, |arg| arg.role);
        // DRF's `ModelViewSet` unless the resource chose: `actions` (all six again when its list
        // had an error, reported already), or `read_only` (given with `actions` too, an error).
        let actions = match (&args.actions, &args.read_only) {
            (Some(arg), _) => arg.actions.unwrap_or(Actions::ALL),
            (None, Some(_)) => Actions::READ_ONLY,
            (None, None) => Actions::ALL,
        };
        Some(Resource {
            ident,
            vis: &input.vis,
            attrs: &input.attrs,
            fields,
            name,
            table,
            path,
            singular,
            create: role(&args.create, Role::Staff),
            update: role(&args.update, Role::Staff),
            delete: role(&args.delete, Role::Admin),
            actions,
            args,
        })
    }
}

/// An enum under `#[derive(TenantEnum)]`.
pub struct ChoiceEnum<'a> {
    pub ident: &'a Ident,
    pub variants: Vec<Choice<'a>>,
}

/// One variant and the string it is stored and serialized as.
pub struct Choice<'a> {
    pub ident: &'a Ident,
    pub name: String,
    pub args: ChoiceArgs,
}

impl<'a> ChoiceEnum<'a> {
    /// Reads the enum. `None` when it is not an enum; other errors are recorded but still give a
    /// model, so that every problem (e.g. duplicate names) is reported in one go.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<ChoiceEnum<'a>> {
        let ident = &input.ident;
        for attr in input.attrs.iter().filter(|attr| attr.path() == crate::symbol::CHOICE) {
            cx.error_spanned_by(
                attr,
                format!("#[choice] goes on a variant of `{ident}`, not on the enum\nhelp: e.g. `#[choice(rename = \"…\")] Paid`"),
            );
        }
        let data = match &input.data {
            Data::Enum(data) => data,
            Data::Struct(data) => {
                let token = data.struct_token;
                cx.error_spanned_by(
                    quote!(#token #ident),
                    "#[derive(TenantEnum)] applies to an enum whose variants have no fields, not to a struct\n\
                     help: write `enum Status { Draft, Sent, Paid }`",
                );
                return None;
            }
            Data::Union(data) => {
                let token = data.union_token;
                cx.error_spanned_by(
                    quote!(#token #ident),
                    "#[derive(TenantEnum)] applies to an enum whose variants have no fields, not to a union",
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            let generics = &input.generics;
            cx.error_spanned_by(
                quote!(#generics),
                format!("#[derive(TenantEnum)] enum `{ident}` cannot be generic\nhelp: remove the parameters"),
            );
        }
        if data.variants.is_empty() {
            cx.error_spanned_by(
                quote!(#ident),
                format!("#[derive(TenantEnum)] enum `{ident}` has no variants\nhelp: list the allowed values, e.g. `enum {ident} {{ Draft, Sent }}`"),
            );
        }
        let variants = data
            .variants
            .iter()
            .enumerate()
            .map(|(i, variant)| {
                cx.section(i + 1);
                let vident = &variant.ident;
                if !matches!(variant.fields, Fields::Unit) {
                    let fields = &variant.fields;
                    cx.error_spanned_by(
                        fields,
                        format!(
                            "variant `{ident}::{vident}` has fields, but a TenantEnum variant is a plain name stored as a string\n\
                             help: write just `{vident}`, and keep any extra data in other fields of the resource"
                        ),
                    );
                }
                let args = attr::parse_choice_args(cx, &vident.to_string(), &variant.attrs);
                let name = args.rename.as_ref().map_or_else(|| names::snake_case(&vident.unraw().to_string()), |lit| lit.value());
                Choice { ident: vident, name, args }
            })
            .collect();
        cx.section(0);
        Some(ChoiceEnum { ident, variants })
    }
}

/// The paths naming `Serialize` in the `#[derive(...)]` attributes among `attrs`.
pub fn serialize_derives(attrs: &[Attribute]) -> Vec<syn::Path> {
    let derive_lists = attrs.iter().filter(|attr| attr.path() == crate::symbol::DERIVE).filter_map(|attr| {
        attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated).ok()
    });
    derive_lists
        .flatten()
        .filter(|path| path.segments.last().is_some_and(|segment| segment.ident == "Serialize"))
        .collect()
}
