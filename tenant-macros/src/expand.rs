//! Code generation for `#[tenant_resource]`. Reads only the model from `ast.rs`.
//!
//! The output is what a person would write by hand: the struct with its system fields, an
//! `impl Resource` holding plain data, the request-body types, a `router()` function, and
//! compile-time assertions that let the type system judge each option against each field type.
//!
//! The `impl Resource` is emitted by `expand/resource_impl.rs`, the request bodies by
//! `expand/bodies.rs`; the rest here.

mod bodies;
mod resource_impl;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use self::bodies::request_bodies;
use self::resource_impl::resource_impl;
use crate::ast::{Field, Resource, serialize_derives};
use crate::attr::{self, Action};
use crate::check;
use crate::ctxt::Ctxt;
use crate::symbol::{COMPARISONS, FIELD, ISNULL, SERDE, SYSTEM_COLUMNS};

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
    let Some(mut resource) = crate::ast::Resource::from_ast(&cx, &input, args) else {
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
    if errors.is_some() {
        // The computed fields call the model's methods: with the options in doubt, those calls
        // would only add errors about names the user may be renaming.
        resource.args.computed.clear();
    }
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
    let serialize = computed_serialize(resource, &fields);
    let resource_impl = resource_impl(resource, &fields);
    let bodies = request_bodies(resource, &fields);
    let router = router(resource);
    let assertions = type_assertions(&fields);
    quote! {
        #model
        #serialize
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
    // With computed fields the macro writes `Serialize` itself (`computed_serialize`).
    let derive = (serialize_derives(resource.attrs).is_empty() && resource.args.computed.is_empty()).then(|| {
        quote! {
            #[derive(#p::serde::Serialize)]
            #[serde(crate = "::tenant_core::__private::serde")]
        }
    });
    let fields = fields.iter().map(|field| {
        let Field { ident, vis, ty, .. } = field;
        let attrs = field.attrs.iter().filter(|attr| attr.path() != SERDE);
        // A write-only field is stored and read like any other, and never serialized. The others
        // serialize through `FieldValue`, so an unsupported type fails with its message.
        let serde = derive.is_some().then(|| {
            if field.args.write_only.is_some() {
                quote!(#[serde(skip_serializing)])
            } else {
                let with = field_serde("serialize", ty);
                quote!(#[serde(serialize_with = #with)])
            }
        });
        quote!(#(#attrs)* #serde #vis #ident: #ty)
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

/// `impl Serialize` for a model with computed fields: the stored fields (but the write-only
/// ones), then each computed one from the model's method of that name, checked against its
/// declared type.
fn computed_serialize(resource: &Resource, fields: &[&Field]) -> Option<TokenStream> {
    if resource.args.computed.is_empty() {
        return None;
    }
    let p = private();
    let ident = resource.ident;
    let name = ident.to_string();
    let system = ["id", "company_id", "created_at", "updated_at"].map(|c| syn::Ident::new(c, ident.span()));
    let shown: Vec<&Field> = fields.iter().copied().filter(|f| f.args.write_only.is_none()).collect();
    let stored = system.iter().map(|i| (i.to_string(), quote!(#i))).chain(shown.iter().map(|f| {
        let i = f.ident;
        (f.name.clone(), quote!(#i))
    }));
    let stored =
        stored.map(|(key, member)| quote!(#p::field_serde::serialize_struct_field(&mut __s, #key, &self.#member)?;));
    let computed = resource.args.computed.iter().map(|c| {
        let (method, ty, key) = (&c.ident, &c.ty, c.ident.to_string());
        let call = quote_spanned!(method.span()=> Self::#method(self));
        quote!({
            let __v: #ty = #call;
            __s.serialize_field(#key, &__v)?;
        })
    });
    let len = 4 + shown.len() + resource.args.computed.len();
    Some(quote! {
        impl #p::serde::Serialize for #ident {
            fn serialize<__S: #p::serde::Serializer>(&self, serializer: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                use #p::serde::ser::SerializeStruct as _;
                let mut __s = serializer.serialize_struct(#name, #len)?;
                #(#stored)*
                #(#computed)*
                __s.end()
            }
        }
    })
}

/// The path of a `field_serde` function as serde's `serialize_with`/`deserialize_with` take it,
/// spanned on the field's type: an unsupported type is reported under it, with `FieldValue`'s
/// message.
fn field_serde(function: &str, ty: &syn::Type) -> syn::LitStr {
    syn::LitStr::new(&format!("::tenant_core::__private::field_serde::{function}"), syn::spanned::Spanned::span(ty))
}

/// One `#[doc]` string per line, so the expansion reads as `///` comments.
fn doc_lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

fn router(resource: &Resource) -> TokenStream {
    let p = private();
    let Resource { ident, path, .. } = resource;
    // `GET`/`POST /api/customers`: the methods of the actions served on one path.
    let routes = |route: &str, methods: &[(Action, &str)]| {
        let served: Vec<String> = methods
            .iter()
            .filter(|(action, _)| resource.actions.contains(*action))
            .map(|(_, method)| format!("`{method}"))
            .collect();
        (!served.is_empty()).then(|| format!("{} {route}`", served.join("`/")))
    };
    let collection = routes(path, &[(Action::List, "GET"), (Action::Create, "POST")]);
    let item = routes(
        &format!("{path}/{{id}}"),
        &[
            (Action::Retrieve, "GET"),
            (Action::Update, "PUT"),
            (Action::PartialUpdate, "PATCH"),
            (Action::Destroy, "DELETE"),
        ],
    );
    let served = [collection, item].into_iter().flatten().collect::<Vec<_>>().join(" and ");
    let doc = doc_lines(&format!(
        " The routes of this resource: {served},\n \
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
        (quote!(check_comparison_lookups), quote!(Comparable)),
        (quote!(check_isnull_lookup), quote!(Nullable)),
        (quote!(check_len_or_email), quote!(Lengthable)),
        (quote!(check_range), quote!(Numeric)),
        (quote!(check_references), quote!(UuidField)),
    ];
    let mut used = [false; 8];
    let mut calls = Vec::new();
    for field in fields {
        let ty = field.ty;
        let args = &field.args;
        let lookups = args.lookups.as_ref().map_or(&[][..], |lookups| &lookups.names[..]);
        let wanted = [
            args.unique.is_some(),
            args.search.is_some(),
            args.order.is_some(),
            lookups.iter().any(|lookup| COMPARISONS.contains(lookup)),
            lookups.contains(&ISNULL),
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
