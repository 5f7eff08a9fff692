//! Expansion snapshots: the generated code, formatted with prettyplease, compared with the files
//! in `tests/snapshots/`. Run with `UPDATE_SNAPSHOTS=1` to rewrite them after a deliberate change.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(err) => panic!("expansion is not a valid file: {err}\n{tokens}"),
    }
}

fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.expanded.rs"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing snapshot {}: run with UPDATE_SNAPSHOTS=1", path.display()));
    if expected != actual {
        let first = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "expansion differs from {} (first difference at line {}); run with UPDATE_SNAPSHOTS=1 if intended\n\n{actual}",
            path.display(),
            first + 1
        );
    }
}

#[test]
fn customer_expansion() {
    let expanded = crate::expand::tenant_resource(
        quote!(table = "customers", path = "/api/customers", delete = "admin"),
        quote! {
            /// A customer of the company.
            #[derive(Debug, Clone)]
            pub struct Customer {
                /// Where invoices are sent.
                #[field(unique, filter, search, order, email)]
                pub email: String,
                #[field(search, order, len = 1..=200)]
                pub name: String,
                #[field(len = ..=50)]
                pub phone: Option<String>,
                #[field(default)]
                pub notes: String,
            }
        },
    );
    assert_snapshot("customer", &pretty(expanded));
}

#[test]
fn invoice_expansion() {
    let expanded = crate::expand::tenant_resource(
        quote!(table = "invoices", path = "/api/invoices"),
        quote! {
            pub struct Invoice {
                #[field(references = Customer, filter)]
                pub customer_id: uuid::Uuid,
                #[field(unique, filter, order, search, len = 1..=32)]
                pub number: String,
                #[field(order, range = 0..)]
                pub amount_cents: i64,
                #[field(filter, default = InvoiceStatus::Draft)]
                pub status: InvoiceStatus,
                #[field(order)]
                pub issued_on: Option<chrono::NaiveDate>,
            }
        },
    );
    assert_snapshot("invoice", &pretty(expanded));
}

/// Only fields that declare lookups emit anything for them: a `lookups` set in their `Field`,
/// and the type assertions of the lookups that need one.
#[test]
fn lookups_expansion() {
    let expanded = crate::expand::tenant_resource(
        quote!(table = "payments"),
        quote! {
            pub struct Payment {
                #[field(lookups = "gte, lte, in")]
                pub amount_cents: i64,
                #[field(filter, lookups = "in")]
                pub status: PaymentStatus,
                #[field(order, lookups = "isnull, gt")]
                pub paid_on: Option<chrono::NaiveDate>,
                pub note: String,
            }
        },
    );
    assert_snapshot("payment", &pretty(expanded));
}

#[test]
fn tenant_enum_expansion() {
    let expanded = crate::enum_derive::tenant_enum(quote! {
        pub enum InvoiceStatus {
            Draft,
            Sent,
            #[choice(rename = "settled")]
            Paid,
        }
    });
    assert_snapshot("invoice_status", &pretty(expanded));
}

/// Every error of one input, in order, as `message @ tokens`.
fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
    let expanded = crate::expand::tenant_resource(attr, item);
    let file: syn::File = syn::parse2(expanded).expect("the output parses even with errors");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error") => {
                Some(m.mac.parse_body::<syn::LitStr>().unwrap().value())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn all_errors_are_reported_together() {
    let errors = errors(
        quote!(table = "Customers", delet = "admin"),
        quote! {
            pub struct Customer {
                pub company_id: uuid::Uuid,
                #[field(uniqe, len = 1..10)]
                pub name: String,
                #[field(filter)]
                pub search: String,
                pub Email: String,
            }
        },
    );
    assert_eq!(errors.len(), 7, "{errors:#?}");
    // In source order: the attribute, then each field.
    assert!(errors[0].starts_with("unknown #[tenant_resource] option `delet`\nhelp: did you mean `delete`?"));
    assert!(errors[1].starts_with("table name \"Customers\" cannot be used: it is not a lowercase SQL identifier"));
    assert!(errors[2].starts_with(
        "`company_id` is added by #[tenant_resource] and is set from the active company; remove this field"
    ));
    assert!(errors[3].starts_with(
        "unknown option `uniqe` on field `name`\nhelp: did you mean `unique`?\nnote: the options are `unique`, `filter`"
    ));
    assert!(errors[4].contains("write `len = 1..=10`"));
    assert!(errors[5].starts_with("field `search` cannot be a filter"));
    assert!(errors[6].contains("help: rename it to `email`"));
}

#[test]
fn failed_expansion_still_emits_the_struct() {
    let expanded = crate::expand::tenant_resource(
        quote!(tabel = "x"),
        quote!(
            pub struct Tag {
                #[field(filter)]
                pub label: String,
            }
        ),
    );
    let text = expanded.to_string();
    assert!(text.contains("compile_error"));
    assert!(text.contains("pub struct Tag"));
    assert!(text.contains("impl :: tenant_core :: __private :: Resource for Tag"));
    assert!(!text.contains("# [field"), "helper attributes are stripped: {text}");
}

#[test]
fn shape_errors_reemit_the_item() {
    let errors = errors(
        quote!(),
        quote!(
            pub struct Pair<T>(T, #[field(unique)] String);
        ),
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains("`Pair` is a tuple struct"));
    assert!(errors[1].contains("cannot be generic"));
    let expanded = crate::expand::tenant_resource(
        quote!(),
        quote!(
            pub enum E {
                A(#[field(unique)] u8),
            }
        ),
    );
    let text = expanded.to_string();
    assert!(text.contains("pub enum E") && !text.contains("# [field"), "{text}");
    let expanded = crate::expand::tenant_resource(
        quote!(),
        quote!(
            fn f() {}
        ),
    );
    assert!(expanded.to_string().contains("fn f"));
}

#[test]
fn a_lookup_parameter_cannot_be_another_fields_filter() {
    let errors = errors(
        quote!(),
        quote! {
            pub struct Item {
                #[field(lookups = "in, gte")]
                pub price: i64,
                #[field(filter)]
                pub price__in: String,
                pub price__gte: String,
            }
        },
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with(
        "`?price__in=` would be both the lookup `in` of `price` and the filter of field `price__in`\n\
         help: rename the field `price__in`"
    ));
}

#[test]
fn defaults_from_the_struct_name() {
    let expanded = pretty(crate::expand::tenant_resource(
        quote!(),
        quote!(
            pub struct InvoiceLine {
                pub label: String,
            }
        ),
    ));
    assert!(expanded.contains("singular: \"invoice line\""), "{expanded}");
    assert!(expanded.contains("table: \"invoice_lines\""));
    assert!(expanded.contains("path: \"/api/invoice_lines\""));
    assert!(expanded.contains("create: ::tenant_core::__private::Role::Staff"));
    assert!(expanded.contains("update: ::tenant_core::__private::Role::Staff"));
    assert!(
        expanded.contains("delete: ::tenant_core::__private::Role::Admin"),
        "API.md: DELETE is admin only by default"
    );
}

#[test]
fn enum_errors() {
    let text = crate::enum_derive::tenant_enum(quote!(
        enum S {
            A(u8),
            B,
            #[choice(rename = "b")]
            C,
            D {},
        }
    ))
    .to_string();
    assert!(text.contains("variant `S::A` has fields"), "{text}");
    assert!(text.contains("variant `S::D` has fields"), "{text}");
    assert!(text.contains("`B` and `C` are both stored as \\\"b\\\""), "{text}");
    assert!(text.contains("impl :: tenant_core :: __private :: FieldValue for S"), "fallback impls: {text}");
    let text = crate::enum_derive::tenant_enum(quote!(
        struct S;
    ))
    .to_string();
    assert!(text.contains("applies to an enum"), "{text}");
}

#[test]
fn served_actions_in_the_expansion() {
    let expand = |attr: TokenStream| {
        pretty(crate::expand::tenant_resource(
            attr,
            quote!(
                pub struct Rate {
                    pub label: String,
                }
            ),
        ))
    };
    let all = expand(quote!());
    assert!(all.contains("actions: ::tenant_core::__private::Actions::ALL,"), "{all}");
    assert!(all.contains("`GET`/`POST /api/rates` and `GET`/`PUT`/`PATCH`/`DELETE /api/rates/{id}`"), "{all}");
    let read_only = expand(quote!(read_only));
    assert!(read_only.contains("actions: ::tenant_core::__private::Actions::READ_ONLY,"), "{read_only}");
    assert!(read_only.contains("routes of this resource: `GET /api/rates` and `GET /api/rates/{id}`,"), "{read_only}");
    assert_eq!(expand(quote!(actions = "retrieve, list")), read_only, "the same set, written out");
    let some = expand(quote!(actions = "partial_update, retrieve", update = "admin"));
    assert!(
        some.contains(
            "actions: ::tenant_core::__private::Actions {\n            list: false,\n            create: false,\n            \
             retrieve: true,\n            update: false,\n            partial_update: true,\n            destroy: false,\n        },"
        ),
        "{some}"
    );
    assert!(some.contains("routes of this resource: `GET`/`PATCH /api/rates/{id}`,"), "{some}");
    let collection = expand(quote!(actions = "create"));
    assert!(collection.contains("routes of this resource: `POST /api/rates`,"), "{collection}");
}

#[test]
fn roles_of_actions_not_served() {
    let item = quote!(
        pub struct Rate {
            pub label: String,
        }
    );
    let errors_of = |attr: TokenStream| errors(attr, item.clone());
    let errors = errors_of(quote!(read_only, create = "admin", update = "staff", delete = "staff"));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(
        errors[0],
        "`create = \"admin\"` has no effect: this resource does not serve `create` (`POST /api/rates`), so no \
         request needs the role\nhelp: remove `create = \"admin\"`: `read_only` serves only `list` and `retrieve`"
    );
    assert!(errors[1].starts_with(
        "`update = \"staff\"` has no effect: this resource does not serve `update` or `partial_update` \
         (`PUT /api/rates/{id}`, `PATCH /api/rates/{id}`)"
    ));
    assert!(errors[2].contains("does not serve `destroy` (`DELETE /api/rates/{id}`)"), "{errors:#?}");
    let errors = errors_of(quote!(actions = "list, create", delete = "admin", create = "admin"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].ends_with("help: remove `delete = \"admin\"`, or add `destroy` to `actions`"), "{errors:#?}");
    // `update` is needed by either of the two updates.
    assert!(errors_of(quote!(actions = "partial_update", update = "admin")).is_empty());
    assert!(errors_of(quote!(actions = "update", update = "admin")).is_empty());
    // A list with an error: its own error only, not one per role.
    let errors = errors_of(quote!(actions = "lisst", delete = "staff"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("unknown action `lisst`"), "{errors:#?}");
    let errors = errors_of(quote!(actions = "list", read_only));
    assert_eq!(
        errors,
        ["`read_only` and `actions` cannot be used together\nhelp: `read_only` is short for \
          `actions = \"list, retrieve\"`: keep one of them"]
    );
}
