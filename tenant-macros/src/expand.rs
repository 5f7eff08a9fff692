//! Code generation for `#[tenant_resource]`. Reads only the model from `ast.rs`.
//!
//! The output is what a person would write by hand: the struct with its system fields, an
//! `impl Resource` holding plain data, the request-body types, a `router()` function, and
//! compile-time assertions that let the type system judge each option against each field type.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Type};

use crate::ast::{Field, Resource, serialize_derives};
use crate::attr::{self, DefaultArg, Role};
use crate::ctxt::Ctxt;
use crate::symbol::{FIELD, SERDE, SYSTEM_COLUMNS};
use crate::{check, sql};

/// The `__private` module of tenant-core: the only path generated code uses.
fn private() -> TokenStream {
    quote!(::tenant_core::__private)
}

/// `#[tenant_resource(attr)] item`, as tokens in and tokens out (testable without a compiler).
pub fn tenant_resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let args = attr::parse_resource_args(&cx, attr);
    let input: DeriveInput = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            cx.error_spanned_by(
                item_head(&item),
                "#[tenant_resource] applies to a struct with named fields\nhelp: write `struct Customer { name: String }`",
            );
            let errors = cx.check().err().map(|err| err.to_compile_error());
            return quote!(#errors #item);
        }
    };
    let Some(resource) = crate::ast::Resource::from_ast(&cx, &input, args) else {
        // Not a struct we can model: give the item back untouched but for our helper
        // attributes, so the rest of the crate still sees the type.
        let errors = cx.check().err().map(|err| err.to_compile_error());
        let item = strip_field_attrs(input.clone());
        return quote!(#errors #item);
    };
    check::check_resource(&cx, &resource);
    // On errors the full expansion is still emitted: every error reported above is about a
    // name or an option, never about the shape, so the generated code stays well-formed and
    // uses of the type elsewhere do not turn into a second, misleading error.
    let errors = cx.check().err().map(|err| err.to_compile_error());
    let expanded = expand(&resource);
    quote!(#errors #expanded)
}

/// The first few tokens of an item after its attributes (`fn foo`, `mod bar`), for a span.
fn item_head(item: &TokenStream) -> TokenStream {
    let mut tokens = item.clone().into_iter().peekable();
    let mut head = TokenStream::new();
    while let Some(token) = tokens.next() {
        if matches!(&token, proc_macro2::TokenTree::Punct(p) if p.as_char() == '#') {
            tokens.next();
            continue;
        }
        if matches!(token, proc_macro2::TokenTree::Group(_)) || head.clone().into_iter().count() == 3 {
            break;
        }
        let is_ident = matches!(token, proc_macro2::TokenTree::Ident(_));
        head.extend([token]);
        if is_ident && !matches!(tokens.peek(), Some(proc_macro2::TokenTree::Ident(_))) {
            break;
        }
    }
    if head.is_empty() { item.clone() } else { head }
}

fn strip_field_attrs(mut input: DeriveInput) -> DeriveInput {
    let strip = |fields: &mut syn::Fields| {
        for field in fields.iter_mut() {
            field.attrs.retain(|attr| attr.path() != FIELD);
        }
    };
    match &mut input.data {
        syn::Data::Struct(data) => strip(&mut data.fields),
        syn::Data::Enum(data) => data.variants.iter_mut().for_each(|variant| strip(&mut variant.fields)),
        syn::Data::Union(data) => {
            for field in data.fields.named.iter_mut() {
                field.attrs.retain(|attr| attr.path() != FIELD);
            }
        }
    }
    input
}

/// The generated items of a valid (or best-effort) model.
pub fn expand(resource: &Resource) -> TokenStream {
    let fields: Vec<&Field> =
        resource.fields.iter().filter(|field| !SYSTEM_COLUMNS.contains(&field.name.as_str())).collect();
    let model = model_struct(resource, &fields);
    let resource_impl = resource_impl(resource, &fields);
    let bodies = request_bodies(resource, &fields);
    let router = router(resource);
    let assertions = type_assertions(&fields);
    quote! {
        #model
        #resource_impl
        #bodies
        #router
        #assertions
    }
}

/// The struct as the user wrote it, plus the system fields and `Serialize`.
fn model_struct(resource: &Resource, fields: &[&Field]) -> TokenStream {
    let p = private();
    let Resource { ident, vis, .. } = resource;
    // `#[field]` and `#[serde]` on the struct were reported as errors; drop them here.
    let attrs = resource.attrs.iter().filter(|attr| attr.path() != FIELD && attr.path() != SERDE);
    let derive = serialize_derives(resource.attrs).is_empty().then(|| {
        quote! {
            #[derive(#p::serde::Serialize)]
            #[serde(crate = "::tenant_core::__private::serde")]
        }
    });
    let fields = fields.iter().map(|field| {
        let Field { ident, vis, ty, .. } = field;
        let attrs = field.attrs.iter().filter(|attr| attr.path() != SERDE);
        quote!(#(#attrs)* #vis #ident: #ty)
    });
    quote! {
        #(#attrs)*
        #derive
        #vis struct #ident {
            /// Primary key: a UUID v7 chosen by the server.
            pub id: #p::uuid::Uuid,
            /// The company that owns this row, always the active company of the request that created it.
            pub company_id: #p::uuid::Uuid,
            /// When the row was created (UTC), set by the server.
            pub created_at: #p::chrono::DateTime<#p::chrono::Utc>,
            /// When the row was last written (UTC), set by the server.
            pub updated_at: #p::chrono::DateTime<#p::chrono::Utc>,
            #(#fields,)*
        }
    }
}

fn role(role: Role) -> TokenStream {
    let p = private();
    match role {
        Role::Staff => quote!(#p::Role::Staff),
        Role::Admin => quote!(#p::Role::Admin),
    }
}

fn resource_impl(resource: &Resource, fields: &[&Field]) -> TokenStream {
    let p = private();
    let Resource { ident, name, singular, table, path, .. } = resource;
    let descs = fields.iter().map(|field| field_desc(resource, field));
    let (create, update, delete) = (role(resource.create), role(resource.update), role(resource.delete));
    let columns: Vec<&str> = fields.iter().map(|field| field.name.as_str()).collect();
    let sql::Statements {
        select_one,
        select_one_for_update,
        list_columns,
        list_scope,
        insert,
        update: update_sql,
        delete: delete_sql,
        exists,
    } = sql::statements(table, &columns);
    let decode = fields.iter().map(|field| {
        let Field { ident, ty, name, .. } = field;
        let read = quote_spanned!(ty.span()=> <#ty as #p::FieldValue>::read);
        quote!(#ident: #read(row, #name)?)
    });
    quote! {
        impl #p::Resource for #ident {
            const DESC: #p::ResourceDesc = #p::ResourceDesc {
                name: #name,
                singular: #singular,
                table: #table,
                path: #path,
                fields: &[#(#descs),*],
                permissions: #p::Permissions { create: #create, update: #update, delete: #delete },
                sql: #p::ResourceSql {
                    select_one: #select_one,
                    select_one_for_update: #select_one_for_update,
                    list_columns: #list_columns,
                    list_scope: #list_scope,
                    insert: #insert,
                    update: #update_sql,
                    delete: #delete_sql,
                    exists: #exists,
                },
            };

            fn from_row<__R: #p::RowReader + ?::core::marker::Sized>(row: &mut __R) -> ::core::result::Result<Self, #p::DecodeError> {
                ::core::result::Result::Ok(Self {
                    id: #p::FieldValue::read(row, "id")?,
                    company_id: #p::FieldValue::read(row, "company_id")?,
                    created_at: #p::FieldValue::read(row, "created_at")?,
                    updated_at: #p::FieldValue::read(row, "updated_at")?,
                    #(#decode,)*
                })
            }
        }
    }
}

/// `Field { unique: true, …, ..Field::new(name, TYPE, NULLABLE) }`: only what the user set.
fn field_desc(resource: &Resource, field: &Field) -> TokenStream {
    let p = private();
    let Field { ty, name, args, .. } = field;
    let kind = quote_spanned!(ty.span()=> <#ty as #p::FieldValue>::TYPE);
    let nullable = quote_spanned!(ty.span()=> <#ty as #p::FieldValue>::NULLABLE);
    let mut set = Vec::new();
    if let Some(default) = &args.default {
        let value = match default {
            DefaultArg::Trait(key) => quote_spanned!(key.span()=> <#ty as ::core::default::Default>::default()),
            DefaultArg::Expr(expr) => quote_spanned!(expr.span()=> ::core::convert::Into::<#ty>::into(#expr)),
        };
        set.push(quote!(required: false));
        set.push(quote!(default: ::core::option::Option::Some(|| #p::FieldValue::into_value(#value))));
    }
    for (flag, on) in [
        (quote!(unique), &args.unique),
        (quote!(filter), &args.filter),
        (quote!(search), &args.search),
        (quote!(order), &args.order),
        (quote!(email), &args.email),
    ] {
        if on.is_some() {
            set.push(quote!(#flag: true));
        }
    }
    if let Some(len) = &args.len {
        if let Some(min) = len.min.map(Literal::usize_unsuffixed) {
            set.push(quote!(min_len: ::core::option::Option::Some(#min)));
        }
        if let Some(max) = len.max.map(Literal::usize_unsuffixed) {
            set.push(quote!(max_len: ::core::option::Option::Some(#max)));
        }
    }
    if let Some(range) = &args.range {
        if let Some(min) = range.min.map(f64_tokens) {
            set.push(quote!(min: ::core::option::Option::Some(#min)));
        }
        if let Some(max) = range.max.map(f64_tokens) {
            set.push(quote!(max: ::core::option::Option::Some(#max)));
        }
    }
    if let Some(references) = &args.references {
        let target = &references.target;
        let (table, singular, exists) = if is_self(resource, target) {
            // The resource's own DESC cannot be read while it is being defined.
            let (table, singular, exists) = (&resource.table, &resource.singular, sql::exists(&resource.table));
            (quote!(#table), quote!(#singular), quote!(#exists))
        } else {
            (
                quote_spanned!(target.span()=> <#target as #p::Resource>::DESC.table),
                quote_spanned!(target.span()=> <#target as #p::Resource>::DESC.singular),
                quote_spanned!(target.span()=> <#target as #p::Resource>::DESC.sql.exists),
            )
        };
        set.push(quote!(references: ::core::option::Option::Some(
            #p::Reference { table: #table, resource: #singular, exists: #exists }
        )));
    }
    let new = quote!(#p::Field::new(#name, #kind, #nullable));
    if set.is_empty() { new } else { quote!(#p::Field { #(#set,)* ..#new }) }
}

fn f64_tokens(value: f64) -> TokenStream {
    let literal = Literal::f64_suffixed(value.abs());
    if value.is_sign_negative() && value != 0.0 { quote!(-#literal) } else { quote!(#literal) }
}

/// `references = Self` or `references = Customer` inside `Customer`.
fn is_self(resource: &Resource, target: &Type) -> bool {
    match target {
        Type::Path(path) => path.qself.is_none() && (path.path.is_ident("Self") || path.path.is_ident(resource.ident)),
        _ => false,
    }
}

/// `CustomerInput` (create, full update) and `CustomerPatch` (partial update).
fn request_bodies(resource: &Resource, fields: &[&Field]) -> TokenStream {
    let p = private();
    let Resource { ident, vis, path, .. } = resource;
    let input = format_ident!("{}Input", ident);
    let patch = format_ident!("{}Patch", ident);
    let present = format!("{patch}::__deserialize_present");
    let optional = quote! {
        #[serde(default, skip_serializing_if = "::core::option::Option::is_none", deserialize_with = #present)]
    };
    let input_fields = fields.iter().map(|field| {
        let Field { ident, vis, ty, .. } = field;
        let docs = docs(field);
        if field.args.default.is_some() {
            quote!(#(#docs)* #optional #vis #ident: ::core::option::Option<#ty>)
        } else {
            quote!(#(#docs)* #vis #ident: #ty)
        }
    });
    let patch_fields = fields.iter().map(|field| {
        let Field { ident, vis, ty, .. } = field;
        let docs = docs(field);
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
    let helper = (!fields.is_empty()).then(|| {
        quote! {
            impl #patch {
                /// A key present in the JSON is `Some`, even when its value is `null`.
                fn __deserialize_present<'de, D, T>(deserializer: D) -> ::core::result::Result<::core::option::Option<T>, D::Error>
                where
                    D: #p::serde::Deserializer<'de>,
                    T: #p::serde::Deserialize<'de>,
                {
                    ::core::result::Result::map(<T as #p::serde::Deserialize<'de>>::deserialize(deserializer), ::core::option::Option::Some)
                }
            }
        }
    });
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

        #helper
    }
}

/// One `#[doc]` string per line, so the expansion reads as `///` comments.
fn doc_lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// The doc comments of a field, copied onto the request-body types.
fn docs<'a>(field: &Field<'a>) -> Vec<&'a syn::Attribute> {
    field.attrs.iter().copied().filter(|attr| attr.path().is_ident("doc")).collect()
}

fn router(resource: &Resource) -> TokenStream {
    let p = private();
    let Resource { ident, path, .. } = resource;
    let doc = doc_lines(&format!(
        " The routes of this resource: `GET`/`POST {path}` and `GET`/`PUT`/`PATCH`/`DELETE {path}/{{id}}`,\n \
         scoped to the active company. Merge it into the app's router."
    ));
    quote! {
        impl #ident {
            #(#[doc = #doc])*
            pub fn router() -> #p::axum::Router<#p::AppState> {
                #p::routes::<Self>()
            }
        }
    }
}

/// One assertion per (field, option) whose validity depends on the field's type. Each is
/// spanned on the type, so an unsupported combination fails to compile right there, with the
/// message of the marker trait's `#[diagnostic::on_unimplemented]`.
fn type_assertions(fields: &[&Field]) -> TokenStream {
    let p = private();
    let checks = [
        (quote!(check_unique), quote!(Uniqueable)),
        (quote!(check_search), quote!(Searchable)),
        (quote!(check_order), quote!(Orderable)),
        (quote!(check_len_or_email), quote!(Lengthable)),
        (quote!(check_range), quote!(Numeric)),
        (quote!(check_references), quote!(UuidField)),
    ];
    let mut used = [false; 6];
    let mut calls = Vec::new();
    for field in fields {
        let ty = field.ty;
        let args = &field.args;
        let wanted = [
            args.unique.is_some(),
            args.search.is_some(),
            args.order.is_some(),
            args.len.is_some() || args.email.is_some(),
            args.range.is_some(),
            args.references.is_some(),
        ];
        for (i, (check, _)) in checks.iter().enumerate().filter(|(i, _)| wanted[*i]) {
            used[i] = true;
            calls.push(quote_spanned!(ty.span()=> #check::<#ty>();));
        }
    }
    if calls.is_empty() {
        return TokenStream::new();
    }
    let helpers = checks
        .iter()
        .zip(used)
        .filter(|(_, used)| *used)
        .map(|((check, bound), _)| quote!(const fn #check<T: ?::core::marker::Sized + #p::#bound>() {}));
    quote! {
        const _: () = {
            #(#helpers)*
            #(#calls)*
        };
    }
}
