//! Rules that need more than one attribute, or the whole model, to decide.
//!
//! Rules that depend on a field's *type* are not here: they are left to the type system through
//! assertions emitted by `expand.rs` (a `unique` f64 fails to compile on the `f64`).

use std::collections::HashMap;

use quote::ToTokens;

use crate::ast::{ChoiceEnum, Resource, serialize_derives};
use crate::attr::{Action, RoleArg};
use crate::ctxt::Ctxt;
use crate::names;
use crate::symbol::{CORE_TABLES, FIELD, QUERY_PARAMS, SERDE, SYSTEM_COLUMNS};

pub fn check_resource(cx: &Ctxt, resource: &Resource) {
    check_struct_attrs(cx, resource);
    check_table(cx, resource);
    check_path(cx, resource);
    check_singular(cx, resource);
    check_actions(cx, resource);
    for (i, field) in resource.fields.iter().enumerate() {
        cx.section(i + 1);
        check_field(cx, field);
        check_field_control(cx, field);
        check_lookup_parameters(cx, resource, field);
    }
    cx.section(0);
    check_computed(cx, resource);
}

/// `read_only`, `write_only`, `write = "…"` and `nested` against each other and the field's
/// other keys.
fn check_field_control(cx: &Ctxt, field: &crate::ast::Field) {
    let (name, args) = (&field.name, &field.args);
    if let (Some(nested), None) = (&args.nested, &args.references) {
        cx.error_spanned_by(
            nested,
            format!(
                "`nested` on field `{name}` needs the parent it nests under\n\
                 help: write `#[field(references = Parent, nested)]`"
            ),
        );
    }
    if let Some(read_only) = &args.read_only {
        if args.write_only.is_some() {
            cx.error_spanned_by(
                read_only,
                format!("field `{name}` cannot be both `read_only` and `write_only`\nhelp: keep the one you mean: `read_only` is output only, `write_only` input only"),
            );
        }
        if let Some((write, _)) = &args.write {
            cx.error_spanned_by(
                write,
                format!("`write` has no effect on `read_only` field `{name}`: no request writes it\nhelp: remove `write`, or `read_only`"),
            );
        }
        if args.default.is_none() && !is_option(field.ty) {
            cx.error_spanned_by(
                read_only,
                format!(
                    "`read_only` field `{name}` needs a value on create, and no request gives it one\n\
                     help: add `default` (or `default = …`), or make it `Option<…>`; a `before_create` hook may then set it"
                ),
            );
        }
    }
    if args.write_only.is_some() {
        if let Some(lookups) = &args.lookups {
            cx.error_spanned_by(
                &lookups.lit,
                format!(
                    "`write_only` field `{name}` cannot have `lookups`: their answers would reveal the value it never shows\n\
                     help: remove `lookups`, or `write_only`"
                ),
            );
        }
        for (key, what) in [(&args.filter, "filter"), (&args.search, "search"), (&args.order, "order")] {
            if let Some(key) = key {
                cx.error_spanned_by(
                    key,
                    format!(
                        "`write_only` field `{name}` cannot be `{what}`: its answers would reveal the value it never shows\n\
                         help: remove `{what}`, or `write_only`"
                    ),
                );
            }
        }
    }
}

/// A computed output field needs a name of its own.
fn check_computed(cx: &Ctxt, resource: &Resource) {
    let mut seen: Vec<String> = Vec::new();
    for computed in &resource.args.computed {
        let name = computed.ident.to_string();
        if SYSTEM_COLUMNS.contains(&name.as_str()) || resource.fields.iter().any(|f| f.name == name) {
            cx.error_spanned_by(
                &computed.ident,
                format!("computed field `{name}` has the name of a field of `{}`\nhelp: give it another name: both would be the same JSON key", resource.ident),
            );
        } else if seen.contains(&name) {
            cx.error_spanned_by(&computed.ident, format!("computed field `{name}` is listed twice\nhelp: remove one"));
        } else {
            seen.push(name);
        }
    }
}

/// Whether `ty` is written `Option<…>` (or a path ending in it): a nullable field.
pub(crate) fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// `?price__gte=` must name one thing: not also the exact filter of a field called `price__gte`.
fn check_lookup_parameters(cx: &Ctxt, resource: &Resource, field: &crate::ast::Field) {
    let Some(lookups) = &field.args.lookups else { return };
    for lookup in &lookups.names {
        let parameter = format!("{}__{lookup}", field.name);
        if resource.fields.iter().any(|other| other.name == parameter && other.args.filter.is_some()) {
            cx.error_spanned_by(
                &lookups.lit,
                format!(
                    "`?{parameter}=` would be both the lookup `{lookup}` of `{}` and the filter of field `{parameter}`\n\
                     help: rename the field `{parameter}` (a double underscore separates a field from its lookup)",
                    field.name
                ),
            );
        }
    }
}

fn check_struct_attrs(cx: &Ctxt, resource: &Resource) {
    let ident = resource.ident;
    for attr in resource.attrs {
        if attr.path() == FIELD {
            cx.error_spanned_by(
                attr,
                format!("#[field] goes on a field of `{ident}`, not on the struct\nhelp: move it onto the field it describes"),
            );
        } else if attr.path() == SERDE {
            cx.error_spanned_by(
                attr,
                format!(
                    "#[tenant_resource] controls how `{ident}` is serialized: the JSON keys are the field names\n\
                     help: remove this #[serde] attribute"
                ),
            );
        }
    }
    // A second `Serialize` impl would conflict with the one the macro derives.
    for path in serialize_derives(resource.attrs) {
        cx.error_spanned_by(
            &path,
            format!("#[tenant_resource] already derives `Serialize` for `{ident}`\nhelp: remove `Serialize` from this derive"),
        );
    }
}

fn check_table(cx: &Ctxt, resource: &Resource) {
    let table = &resource.table;
    let problem = names::sql_identifier_problem(table).or_else(|| {
        CORE_TABLES.contains(&table.as_str()).then(|| "tenant-core already has a table of that name".to_owned())
    });
    let Some(problem) = problem else { return };
    match &resource.args.table {
        Some(lit) => cx.error_spanned_by(
            lit,
            format!("table name \"{table}\" cannot be used: {problem}\nhelp: write `table = \"…\"` with a lowercase name such as \"customers\""),
        ),
        None => cx.error_spanned_by(
            resource.ident,
            format!(
                "the table name \"{table}\" derived from `{}` cannot be used: {problem}\n\
                 help: name the table with `#[tenant_resource(table = \"…\")]`",
                resource.ident
            ),
        ),
    }
}

fn check_path(cx: &Ctxt, resource: &Resource) {
    // A derived path is valid whenever the table name is.
    let Some(lit) = &resource.args.path else { return };
    let path = lit.value();
    let problem = if path.is_empty() {
        Some("`path` is empty\nhelp: write e.g. `path = \"/api/customers\"`".to_owned())
    } else if !path.starts_with('/') {
        Some(format!("`path` must start with `/`\nhelp: write `path = \"/{path}\"`"))
    } else if path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let example = if trimmed.is_empty() { "/api/customers" } else { trimmed };
        Some(format!(
            "`path` must not end with `/`\nhelp: write `path = \"{example}\"`; requests with a trailing slash are accepted anyway"
        ))
    } else if path.contains('{') || path.contains('}') || path.contains(':') || path.contains('*') {
        Some("`path` cannot have parameters\nhelp: write a fixed collection path such as \"/api/customers\"; `/{id}` is added for single items".to_owned())
    } else if path.contains("//") || !path.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c)) {
        Some("`path` may contain only ASCII letters, digits, `-`, `_`, `.`, `~` and single `/` separators\nhelp: write e.g. `path = \"/api/customers\"`".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        cx.error_spanned_by(lit, problem);
    }
}

fn check_singular(cx: &Ctxt, resource: &Resource) {
    if let Some(lit) = &resource.args.singular
        && lit.value().trim().is_empty()
    {
        cx.error_spanned_by(
            lit,
            "`singular` is empty\nhelp: write the name of one item, e.g. `singular = \"customer\"`",
        );
    }
}

/// `read_only` and `actions` together, and a role for a write the resource does not serve.
fn check_actions(cx: &Ctxt, resource: &Resource) {
    let args = &resource.args;
    if let (Some(read_only), Some(_)) = (&args.read_only, &args.actions) {
        cx.error_spanned_by(
            read_only,
            "`read_only` and `actions` cannot be used together\n\
             help: `read_only` is short for `actions = \"list, retrieve\"`: keep one of them",
        );
    }
    if args.actions.as_ref().is_some_and(|arg| arg.actions.is_none()) {
        // The list has an error: which routes are served is unknown.
        return;
    }
    let roles: [(&Option<RoleArg>, &[Action]); 3] = [
        (&args.create, &[Action::Create]),
        (&args.update, &[Action::Update, Action::PartialUpdate]),
        (&args.delete, &[Action::Destroy]),
    ];
    for (arg, actions) in roles {
        let Some(RoleArg { key, lit, .. }) = arg else { continue };
        if actions.iter().any(|action| resource.actions.contains(*action)) {
            continue;
        }
        let key_name = key.to_token_stream().to_string();
        let written = format!("{key_name} = {}", lit.to_token_stream());
        let names = actions.iter().map(|action| format!("`{}`", action.name())).collect::<Vec<_>>().join(" or ");
        let routes =
            actions.iter().map(|action| format!("`{}`", action.route(&resource.path))).collect::<Vec<_>>().join(", ");
        let help = if args.actions.is_some() {
            format!("remove `{written}`, or add {names} to `actions`")
        } else {
            format!("remove `{written}`: `read_only` serves only `list` and `retrieve`")
        };
        cx.error_spanned_by(
            quote::quote!(#key = #lit),
            format!(
                "`{written}` has no effect: this resource does not serve {names} ({routes}), so no request needs the role\n\
                 help: {help}"
            ),
        );
    }
}

fn check_field(cx: &Ctxt, field: &crate::ast::Field) {
    let name = &field.name;
    let args = &field.args;
    if SYSTEM_COLUMNS.contains(&name.as_str()) {
        let what = match name.as_str() {
            "id" => "is the primary key, set by the server",
            "company_id" => "is set from the active company",
            _ => "is set by the server",
        };
        cx.error_spanned_by(
            field.ident,
            format!(
                "`{name}` is added by #[tenant_resource] and {what}; remove this field\n\
                 help: every resource has `id`, `company_id`, `created_at` and `updated_at`"
            ),
        );
        return;
    }
    if let Some(problem) = names::sql_identifier_problem(name) {
        let suggestion = names::snake_case(name);
        let help = if suggestion != *name && names::sql_identifier_problem(&suggestion).is_none() {
            format!("rename it to `{suggestion}`")
        } else {
            "rename the field: its name is used unquoted as the column name".to_owned()
        };
        cx.error_spanned_by(field.ident, format!("field name `{name}` cannot be a column: {problem}\nhelp: {help}"));
    }
    for attr in &field.attrs {
        if attr.path() == SERDE {
            cx.error_spanned_by(
                attr,
                format!(
                    "#[tenant_resource] controls how `{name}` is serialized: its JSON key is the field name\n\
                     help: remove this #[serde] attribute"
                ),
            );
        }
    }
    if let Some(filter) = &args.filter
        && QUERY_PARAMS.contains(&name.as_str())
    {
        cx.error_spanned_by(
            filter,
            format!(
                "field `{name}` cannot be a filter: `?{name}=` is already a list parameter\n\
                     help: rename the field, or remove `filter`"
            ),
        );
    }
    if let (Some(_), Some(range)) = (&args.len, &args.range) {
        cx.error_spanned_by(
            &range.key,
            format!("field `{name}` has both `len` and `range`\nhelp: `len` limits text and `range` limits numbers; keep the one that fits its type"),
        );
    }
    if let (Some(_), Some(range)) = (&args.email, &args.range) {
        cx.error_spanned_by(
            &range.key,
            format!("field `{name}` has both `email` and `range`\nhelp: `email` applies to text and `range` to numbers; keep the one that fits its type"),
        );
    }
}

pub fn check_choice_enum(cx: &Ctxt, choices: &ChoiceEnum) {
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for (i, choice) in choices.variants.iter().enumerate() {
        cx.section(i + 1);
        let span_tokens = match &choice.args.rename {
            Some(lit) => lit.to_token_stream(),
            None => choice.ident.to_token_stream(),
        };
        if choice.name.is_empty() {
            cx.error_spanned_by(
                span_tokens,
                format!(
                    "`{}` is stored as an empty string\nhelp: give it a name, e.g. `#[choice(rename = \"…\")]`",
                    choice.ident
                ),
            );
            continue;
        }
        if let Some(first) = seen.get(choice.name.as_str()) {
            cx.error_spanned_by(
                span_tokens,
                format!(
                    "`{}` and `{}` are both stored as \"{}\"\nhelp: give one of them another name with `#[choice(rename = \"…\")]`",
                    first, choice.ident, choice.name
                ),
            );
        } else {
            seen.insert(&choice.name, choice.ident);
        }
    }
    cx.section(0);
}
