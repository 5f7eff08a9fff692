//! The paths of each registered resource, read from its [`ResourceDesc`] as `crud.rs`,
//! `nested.rs` and `actions.rs` route them: the routes it serves (route selection), the list's
//! parameters (pages, ordering, search, filters, lookups), its nested collections and the
//! app's custom actions on it.

use utoipa::openapi::HttpMethod;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Paths;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};

use super::operation::{Access, Op, response};
use super::schemas::{any_schema, input_schema, reference, value_schema};
use crate::actions::ActionDesc;
use crate::query::{DEFAULT_PAGE_SIZE, MAX_ORDERING_TERMS, MAX_PAGE_SIZE};
use crate::resource::{Lookup, ResourceDesc};
use crate::role::Role;
use crate::value::FieldType;

/// The component names of one resource's schemas: `Customer`, `CustomerInput`, `CustomerPatch`,
/// `CustomerPage`.
pub fn names(desc: &ResourceDesc) -> [String; 4] {
    let n = desc.name;
    [n.to_string(), format!("{n}Input"), format!("{n}Patch"), format!("{n}Page")]
}

/// `operation_id`s in snake_case: `customers_list`, `customers_retrieve`, … (DRF's action names).
fn id(desc: &ResourceDesc, action: &str) -> String {
    format!("{}_{action}", desc.table)
}

fn role_note(role: Role) -> &'static str {
    match role {
        Role::Admin => " Admins only.",
        Role::Staff => "",
    }
}

/// Every path of `desc` and the actions registered on it, added to `paths`.
pub fn add(paths: &mut Paths, desc: &ResourceDesc, actions: &[ActionDesc]) {
    let [object, input, patch, page] = names(desc);
    let tag = desc.table;
    let s = desc.singular;
    let a = desc.actions;
    let p = desc.permissions;
    let item = format!("{}/{{id}}", desc.path);
    if a.list {
        let op = list_parameters(
            Op::new(&id(desc, "list"), tag, &format!("List the active company's {s} objects"), Access::Tenant),
            desc,
        )
        .answer("200", response("one page of the list", reference(&page)))
        .answer("400", response("an invalid list parameter, named", super::schemas::error_schema()))
        .not_found("`page` past the last page");
        paths.add_path_operation(desc.path, vec![HttpMethod::Get], op.build());
    }
    if a.create {
        let op = Op::new(
            &id(desc, "create"),
            tag,
            &format!("Create a {s} in the active company.{}", role_note(p.create)),
            Access::Tenant,
        )
        .body(reference(&input), true)
        .answer("201", created(&object))
        .conflict("a unique field's value already exists in this company");
        paths.add_path_operation(desc.path, vec![HttpMethod::Post], op.build());
    }
    let item_op = |action: &str, summary: String| {
        Op::new(&id(desc, action), tag, &summary, Access::Tenant)
            .path_id("id")
            .not_found("no such object in the active company (the same for another company's)")
    };
    if a.retrieve {
        let op =
            item_op("retrieve", format!("Retrieve a {s}")).answer("200", response("the object", reference(&object)));
        paths.add_path_operation(&item, vec![HttpMethod::Get], op.build());
    }
    if a.update {
        let op = item_op("update", format!("Replace a {s}'s writable fields.{}", role_note(p.update)))
            .body(reference(&input), true)
            .answer("200", response("the object", reference(&object)))
            .conflict("a unique field's value already exists in this company");
        paths.add_path_operation(&item, vec![HttpMethod::Put], op.build());
    }
    if a.partial_update {
        let op = item_op("partial_update", format!("Change some of a {s}'s fields.{}", role_note(p.update)))
            .body(reference(&patch), true)
            .answer("200", response("the object", reference(&object)))
            .conflict("a unique field's value already exists in this company");
        paths.add_path_operation(&item, vec![HttpMethod::Patch], op.build());
    }
    if a.destroy {
        let op = item_op("destroy", format!("Delete a {s}.{}", role_note(p.delete)))
            .no_content("deleted")
            .conflict("other objects still reference it");
        paths.add_path_operation(&item, vec![HttpMethod::Delete], op.build());
    }
    add_nested(paths, desc);
    for action in actions.iter().filter(|action| action.resource == desc.name) {
        add_action(paths, desc, action);
    }
}

/// `201` with the object and its `Location`.
fn created(object: &str) -> utoipa::openapi::response::Response {
    let location = HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some("the new object's URL"))
        .build();
    ResponseBuilder::new()
        .description("created")
        .content("application/json", ContentBuilder::new().schema(Some(reference(object))).build())
        .header("Location", location)
        .build()
}

/// `page`, `page_size`, `ordering`, `search`, each exact filter and each lookup.
fn list_parameters(mut op: Op, desc: &ResourceDesc) -> Op {
    let integer = |min: u64, max: Option<u64>| {
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(min as f64)).maximum(max.map(|m| m as f64))
    };
    op = op.query("page", integer(1, None), "The 1-based page number.").query(
        "page_size",
        integer(1, Some(MAX_PAGE_SIZE)).default(Some(DEFAULT_PAGE_SIZE.into())),
        "Objects per page.",
    );
    let orderable: Vec<serde_json::Value> = desc
        .fields
        .iter()
        .filter(|f| f.order)
        .map(|f| f.name)
        .flat_map(|name| [name.to_string(), format!("-{name}")])
        .map(serde_json::Value::from)
        .collect();
    if desc.fields.iter().any(|f| f.order) {
        let items = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(orderable));
        op = op.query_list(
            "ordering",
            ArrayBuilder::new().items(items).max_items(Some(MAX_ORDERING_TERMS)),
            "Comma-separated fields, `-` for descending (default: `created_at`, then `id`).",
        );
    }
    if desc.fields.iter().any(|f| f.search) {
        let searched: Vec<&str> = desc.fields.iter().filter(|f| f.search).map(|f| f.name).collect();
        op = op.query(
            "search",
            ObjectBuilder::new().schema_type(Type::String),
            &format!("Case-insensitive terms, all of which must appear in one of: {}.", searched.join(", ")),
        );
    }
    for field in desc.fields {
        if field.filter {
            op = op.query(field.name, value_schema(field.ty, false), &format!("Exactly this `{}`.", field.name));
        }
        for lookup in field.lookups.iter() {
            let name = format!("{}__{}", field.name, lookup.name());
            op = match lookup {
                Lookup::In => op.query_list(
                    &name,
                    ArrayBuilder::new().items(value_schema(field.ty, false)),
                    &format!("`{}` is one of these, comma-separated.", field.name),
                ),
                Lookup::IsNull => op.query(
                    &name,
                    value_schema(FieldType::Bool, false),
                    &format!("`{}` is (true) or is not (false) null.", field.name),
                ),
                _ => op.query(
                    &name,
                    value_schema(field.ty, false),
                    &format!("`{}` {} this value.", field.name, comparison(lookup)),
                ),
            };
        }
    }
    op
}

fn comparison(lookup: Lookup) -> &'static str {
    match lookup {
        Lookup::Gt => "is greater than",
        Lookup::Gte => "is at least",
        Lookup::Lt => "is less than",
        Lookup::Lte => "is at most",
        Lookup::In | Lookup::IsNull => "matches",
    }
}

/// `GET`/`POST {parent}/{id}/{segment}` for each `nested` reference (`nested.rs`).
fn add_nested(paths: &mut Paths, desc: &ResourceDesc) {
    let [object, _, _, page] = names(desc);
    let segment = desc.path.rsplit('/').next().unwrap_or(desc.path);
    for field in desc.fields.iter().filter(|f| f.nested) {
        let Some(reference_to) = field.references else { continue };
        let parent = reference_to.target();
        let path = format!("{}/{{id}}/{segment}", parent.path);
        let id = |action: &str| format!("{}_{}_{action}", parent.table, desc.table);
        let missing = "no such parent in the active company (the same for another company's)";
        if desc.actions.list {
            let summary = format!("List the {} objects of a {}", desc.singular, parent.singular);
            let op = list_parameters(Op::new(&id("list"), desc.table, &summary, Access::Tenant).path_id("id"), desc)
                .answer("200", response("one page of the list", reference(&page)))
                .answer("400", response("an invalid list parameter, named", super::schemas::error_schema()))
                .not_found(missing);
            paths.add_path_operation(&path, vec![HttpMethod::Get], op.build());
        }
        if desc.actions.create {
            let summary = format!(
                "Create a {} of a {} (its `{}` is the path's).{}",
                desc.singular,
                parent.singular,
                field.name,
                role_note(desc.permissions.create)
            );
            let op = Op::new(&id("create"), desc.table, &summary, Access::Tenant)
                .path_id("id")
                .body(input_schema(desc, Some(field.name)), true)
                .answer("201", created(&object))
                .conflict("a unique field's value already exists in this company")
                .not_found(missing);
            paths.add_path_operation(&path, vec![HttpMethod::Post], op.build());
        }
    }
}

/// A custom action (`actions.rs`): its method and path, the object's `{id}` for a detail action,
/// any JSON in and out (the app's handler decides).
fn add_action(paths: &mut Paths, desc: &ResourceDesc, action: &ActionDesc) {
    let kind = if action.detail { "detail" } else { "collection" };
    let summary = format!("The `{}` action on {} ({kind}).{}", action.name, desc.table, role_note(action.role));
    let mut op =
        Op::new(&format!("{}_{}", desc.table, action.name.replace('-', "_")), desc.table, &summary, Access::Tenant);
    if action.detail {
        op = op.path_id("id").not_found("no such object in the active company (the same for another company's)");
    }
    if !action.method.is_safe() {
        op = op.body(any_schema(), false);
    }
    op = op.answer("200", response("the action's answer", any_schema()));
    let method = http_method(&action.method);
    paths.add_path_operation(&action.path, vec![method], op.build());
}

/// The OpenAPI method of an HTTP method (what `actions.rs` accepts).
fn http_method(method: &axum::http::Method) -> HttpMethod {
    match *method {
        axum::http::Method::POST => HttpMethod::Post,
        axum::http::Method::PUT => HttpMethod::Put,
        axum::http::Method::PATCH => HttpMethod::Patch,
        axum::http::Method::DELETE => HttpMethod::Delete,
        axum::http::Method::HEAD => HttpMethod::Head,
        axum::http::Method::OPTIONS => HttpMethod::Options,
        axum::http::Method::TRACE => HttpMethod::Trace,
        _ => HttpMethod::Get,
    }
}
