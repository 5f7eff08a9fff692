//! The request-body types of a model: `{Name}Input` (create, full update) and `{Name}Patch`
//! (partial update), with the field docs copied onto them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{doc_lines, field_serde, private};
use crate::ast::{Field, Resource};

/// `CustomerInput` (create, full update) and `CustomerPatch` (partial update).
pub(super) fn request_bodies(resource: &Resource, fields: &[&Field]) -> TokenStream {
    let p = private();
    // No request sets a read-only field: it is not part of the bodies.
    let fields: Vec<&Field> = fields.iter().copied().filter(|field| field.args.read_only.is_none()).collect();
    let fields = fields.as_slice();
    let Resource { ident, vis, path, .. } = resource;
    let input = format_ident!("{}Input", ident);
    let patch = format_ident!("{}Patch", ident);
    // Every field (de)serializes through `FieldValue`, so an unsupported type fails with its message.
    let optional = |ty: &syn::Type| {
        let (ser, de) = (field_serde("serialize_present", ty), field_serde("deserialize_present", ty));
        quote! {
            #[serde(default, skip_serializing_if = "::core::option::Option::is_none", serialize_with = #ser, deserialize_with = #de)]
        }
    };
    let input_fields = fields.iter().map(|field| {
        let Field { ident, vis, ty, .. } = field;
        let docs = docs(field);
        if field.args.default.is_some() {
            let optional = optional(ty);
            quote!(#(#docs)* #optional #vis #ident: ::core::option::Option<#ty>)
        } else {
            let (ser, de) = (field_serde("serialize", ty), field_serde("deserialize", ty));
            // serde leaves a missing `Option` field `None` only without `deserialize_with`.
            let default = crate::check::is_option(ty).then(|| quote!(default,));
            quote!(#(#docs)* #[serde(#default serialize_with = #ser, deserialize_with = #de)] #vis #ident: #ty)
        }
    });
    let patch_fields = fields.iter().map(|field| {
        let Field { ident, vis, ty, .. } = field;
        let docs = docs(field);
        let optional = optional(ty);
        quote!(#(#docs)* #optional #vis #ident: ::core::option::Option<#ty>)
    });
    let input_doc = doc_lines(&format!(
        " The JSON body that creates a [`{ident}`] (`POST {path}`) or replaces one (`PUT {path}/{{id}}`).\n\n \
         Fields with a default are `Option`s, left out of the JSON when `None` so that the default applies.\n \
         The read-only fields (`id`, `company_id`, `created_at`, `updated_at`) are not part of it."
    ));
    let patch_doc = doc_lines(&format!(
        " The JSON body that changes some fields of a [`{ident}`] (`PATCH {path}/{{id}}`).\n\n \
         Only the fields that are `Some` are sent and changed. For a field whose own type is an `Option`,\n \
         `Some(None)` sends `null` and clears it."
    ));
    quote! {
        #(#[doc = #input_doc])*
        #[derive(::core::fmt::Debug, ::core::clone::Clone, #p::serde::Serialize, #p::serde::Deserialize)]
        #[serde(crate = "::tenant_core::__private::serde")]
        #vis struct #input {
            #(#input_fields,)*
        }

        #(#[doc = #patch_doc])*
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default, #p::serde::Serialize, #p::serde::Deserialize)]
        #[serde(crate = "::tenant_core::__private::serde")]
        #vis struct #patch {
            #(#patch_fields,)*
        }

    }
}

/// The doc comments of a field, copied onto the request-body types.
fn docs<'a>(field: &Field<'a>) -> Vec<&'a syn::Attribute> {
    field.attrs.iter().copied().filter(|attr| attr.path().is_ident("doc")).collect()
}
