//! The `impl Resource` of a model: its `DESC` (names, one `Field` per field, permissions, the
//! routes served, the SQL statements) and `from_row`.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;
use crate::ast::{Field, Resource};
use crate::attr::{Action, Actions, DefaultArg, Role};
use crate::sql;
use crate::symbol::{GT, GTE, IN, LT, LTE, Symbol};

fn role(role: Role) -> TokenStream {
    let p = private();
    match role {
        Role::Staff => quote!(#p::Role::Staff),
        Role::Admin => quote!(#p::Role::Admin),
    }
}

/// `Actions::ALL`, `Actions::READ_ONLY`, or the six flags.
fn actions(actions: Actions) -> TokenStream {
    let p = private();
    if actions == Actions::ALL {
        return quote!(#p::Actions::ALL);
    }
    if actions == Actions::READ_ONLY {
        return quote!(#p::Actions::READ_ONLY);
    }
    let flags = Action::ALL.map(|action| {
        let name = quote::format_ident!("{}", action.name());
        let served = actions.contains(action);
        quote!(#name: #served)
    });
    quote!(#p::Actions { #(#flags),* })
}

pub(super) fn resource_impl(resource: &Resource, fields: &[&Field]) -> TokenStream {
    let p = private();
    let Resource { ident, name, singular, table, path, .. } = resource;
    let descs = fields.iter().map(|field| field_desc(field));
    let (create, update, delete) = (role(resource.create), role(resource.update), role(resource.delete));
    let actions = actions(resource.actions);
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
    let encode = fields.iter().map(|field| {
        let Field { ident, ty, .. } = field;
        quote_spanned!(ty.span()=> <#ty as #p::FieldValue>::into_value(self.#ident))
    });
    let input = quote::format_ident!("{}Input", ident);
    let patch = quote::format_ident!("{}Patch", ident);
    let hooks = resource.args.hooks.is_some();
    // Without `hooks`, the no-op defaults; with it, the app writes the impl.
    let empty_hooks = (!hooks).then(|| quote!(impl #p::Hooks for #ident {}));
    // One typed column per field, for `ListQuery::filter` / `order_by` (`query/columns.rs`).
    let columns = fields.iter().map(|field| {
        let Field { ty, name, .. } = field;
        let konst = quote::format_ident!("{}", name.to_uppercase(), span = field.ident.span());
        let doc = format!(
            " The `{name}` field, for typed list queries: `ListQuery::default().filter({ident}::{konst}.eq(…))`."
        );
        // Spanned on the type: an unsupported one is reported under it.
        let new = quote_spanned!(ty.span()=> #p::Column::new(#name));
        quote! {
            #[doc = #doc]
            pub const #konst: #p::Column<#ident, #ty> = #new;
        }
    });
    // Each computed field's type, when it is one a field could have (`resource.rs`, `TypeProbe`).
    let computed = resource.args.computed.iter().map(|c| {
        let (name, ty) = (c.ident.to_string(), &c.ty);
        quote! {
            #p::Computed {
                name: #name,
                ty: || {
                    use #p::{ViaAnyType as _, ViaFieldValue as _};
                    (&&#p::TypeProbe::<#ty>::new()).describe()
                },
            }
        }
    });
    quote! {
        #empty_hooks

        impl #ident {
            #(#columns)*
        }

        impl #p::Resource for #ident {
            const HOOKS: bool = #hooks;
            type Input = #input;
            type Patch = #patch;

            const DESC: #p::ResourceDesc = #p::ResourceDesc {
                name: #name,
                singular: #singular,
                table: #table,
                path: #path,
                fields: &[#(#descs),*],
                permissions: #p::Permissions { create: #create, update: #update, delete: #delete },
                actions: #actions,
                computed: &[#(#computed),*],
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

            fn into_row(self) -> ::std::vec::Vec<#p::Value> {
                ::std::vec![
                    #p::FieldValue::into_value(self.id),
                    #p::FieldValue::into_value(self.company_id),
                    #p::FieldValue::into_value(self.created_at),
                    #p::FieldValue::into_value(self.updated_at),
                    #(#encode,)*
                ]
            }

            fn id(&self) -> #p::uuid::Uuid {
                self.id
            }
        }
    }
}

/// `Field { unique: true, …, ..Field::new(name, TYPE, NULLABLE) }`: only what the user set.
fn field_desc(field: &Field) -> TokenStream {
    let p = private();
    let Field { ty, name, args, .. } = field;
    let kind = quote_spanned!(ty.span()=> <#ty as #p::FieldValue>::TYPE);
    let nullable = quote_spanned!(ty.span()=> <#ty as #p::FieldValue>::NULLABLE);
    let mut set = Vec::new();
    if let Some(default) = &args.default {
        let value = match default {
            DefaultArg::Trait(key) => quote_spanned!(key.span()=> <#ty as ::core::default::Default>::default()),
            DefaultArg::Expr(expr) => quote_spanned!(expr.span()=> #p::default_value::<#ty, _>(#expr)),
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
        (quote!(read_only), &args.read_only),
        (quote!(write_only), &args.write_only),
        (quote!(nested), &args.nested),
    ] {
        if on.is_some() {
            set.push(quote!(#flag: true));
        }
    }
    if let Some(old) = &args.renamed_from {
        set.push(quote!(renamed_from: ::core::option::Option::Some(#old)));
    }
    if let Some(lookups) = args.lookups.as_ref().filter(|lookups| !lookups.names.is_empty()) {
        let variants = lookups.names.iter().map(|name| lookup_variant(*name));
        set.push(quote!(lookups: #p::Lookups::of(&[#(#p::Lookup::#variants),*])));
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
    if let Some((_, write)) = &args.write {
        let role = role(write.role);
        set.push(quote!(write_role: ::core::option::Option::Some(#role)));
    }
    if let Some(references) = &args.references {
        // A function of the target, not values read from its `DESC`: resources may reference
        // each other (or themselves), and `DESC`s reading each other would be a cycle.
        let target = &references.target;
        let reference = quote_spanned!(target.span()=> #p::Reference::to::<#target>());
        set.push(quote!(references: ::core::option::Option::Some(#reference)));
    }
    let new = quote!(#p::Field::new(#name, #kind, #nullable));
    if set.is_empty() { new } else { quote!(#p::Field { #(#set,)* ..#new }) }
}

/// `gte` → `Gte`: tenant-core's `Lookup` variant of a lookup name.
fn lookup_variant(name: Symbol) -> syn::Ident {
    let variant = match name {
        IN => "In",
        GT => "Gt",
        GTE => "Gte",
        LT => "Lt",
        LTE => "Lte",
        _ => "IsNull",
    };
    syn::Ident::new(variant, proc_macro2::Span::call_site())
}

fn f64_tokens(value: f64) -> TokenStream {
    let literal = Literal::f64_suffixed(value.abs());
    if value.is_sign_negative() && value != 0.0 { quote!(-#literal) } else { quote!(#literal) }
}
