//! Parsing of `#[tenant_resource(...)]`, `#[field(...)]` and `#[choice(...)]` into plain values.
//!
//! Every value keeps the tokens it came from, so later errors point at what the user wrote.
//! Nothing here stops at the first mistake: errors go to the [`Ctxt`] and parsing carries on
//! with the next key.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, Expr, Ident, LitStr, Meta, Path, Token, Type};

use crate::ctxt::Ctxt;
use crate::symbol::*;

#[cfg(test)]
mod tests;
mod values;

use values::*;

/// The role a write needs (`create`, `update`, `delete` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Staff,
    Admin,
}

/// A role as written: `delete = "admin"`. Keeps its key and value, so an error about the whole
/// key (a role for a route not served) points at `delete = "admin"`.
#[derive(Debug, Clone)]
pub struct RoleArg {
    pub key: Path,
    pub lit: LitStr,
    pub role: Role,
}

/// One of the six routes, by Django REST Framework's viewset action name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    List,
    Create,
    Retrieve,
    Update,
    PartialUpdate,
    Destroy,
}

impl Action {
    /// In DRF's order, the order of [`ACTION_NAMES`].
    pub const ALL: [Action; 6] =
        [Action::List, Action::Create, Action::Retrieve, Action::Update, Action::PartialUpdate, Action::Destroy];

    /// `list`, `partial_update`, …
    pub fn name(self) -> &'static str {
        ACTION_NAMES[self as usize].as_str()
    }

    fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }

    /// The method and path it serves, for messages: `POST /api/customers`.
    pub fn route(self, path: &str) -> String {
        match self {
            Action::List => format!("GET {path}"),
            Action::Create => format!("POST {path}"),
            Action::Retrieve => format!("GET {path}/{{id}}"),
            Action::Update => format!("PUT {path}/{{id}}"),
            Action::PartialUpdate => format!("PATCH {path}/{{id}}"),
            Action::Destroy => format!("DELETE {path}/{{id}}"),
        }
    }
}

/// A set of [`Action`]s: the routes a resource serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actions([bool; 6]);

impl Actions {
    pub const NONE: Actions = Actions([false; 6]);
    /// The default: all six (DRF's `ModelViewSet`).
    pub const ALL: Actions = Actions([true; 6]);
    /// `read_only`: `list` and `retrieve` (DRF's `ReadOnlyModelViewSet`).
    pub const READ_ONLY: Actions = Actions([true, false, true, false, false, false]);

    pub fn contains(self, action: Action) -> bool {
        self.0[action as usize]
    }

    fn insert(&mut self, action: Action) {
        self.0[action as usize] = true;
    }
}

/// `actions = "list, retrieve"`, as written.
#[derive(Debug, Clone)]
pub struct ActionsArg {
    /// The actions named, or `None` when the list has an error (reported already): the model
    /// then serves all six, so that no rule about the served routes adds a second error.
    pub actions: Option<Actions>,
}

/// The arguments of `#[tenant_resource(...)]`. `None` means "not written": defaults are applied
/// by the model in `ast.rs`.
#[derive(Debug, Default)]
pub struct ResourceArgs {
    pub table: Option<LitStr>,
    pub path: Option<LitStr>,
    pub singular: Option<LitStr>,
    pub create: Option<RoleArg>,
    pub update: Option<RoleArg>,
    pub delete: Option<RoleArg>,
    /// `hooks`: the app implements `tenant_core::Hooks` for the model itself.
    pub hooks: Option<Path>,
    /// `actions = "list, retrieve, …"`: the routes served.
    pub actions: Option<ActionsArg>,
    /// `read_only`: `actions = "list, retrieve"`.
    pub read_only: Option<Path>,
    /// `computed(name: Type, …)`: output fields the model's methods of those names return.
    pub computed: Vec<ComputedArg>,
}

/// One computed output field: `is_overdue: bool` in `computed(...)`.
#[derive(Debug, Clone)]
pub struct ComputedArg {
    pub ident: Ident,
    pub ty: Type,
}

/// `len = 1..=200`: bounds in characters.
#[derive(Debug, Clone)]
pub struct LenArg {
    pub min: Option<usize>,
    pub max: Option<usize>,
}

/// `range = 0..=100`: inclusive numeric bounds.
#[derive(Debug, Clone)]
pub struct RangeArg {
    pub key: Path,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `default` or `default = EXPR`.
#[derive(Debug, Clone)]
pub enum DefaultArg {
    /// `default`: `<T as Default>::default()`.
    Trait(Path),
    /// `default = EXPR`: `Into::<T>::into(EXPR)`.
    Expr(Box<Expr>),
}

/// `references = Customer`.
#[derive(Debug, Clone)]
pub struct ReferencesArg {
    pub target: Type,
}

/// `lookups = "gte, lte"`: the django-filter lookups lists accept on the field, each once, in
/// the order written (unknown names were reported and left out).
#[derive(Debug, Clone)]
pub struct LookupsArg {
    pub lit: LitStr,
    pub names: Vec<Symbol>,
}

/// The options of one field, merged over all of its `#[field(...)]` attributes. Flags keep the
/// key's path so errors about them point at the key.
#[derive(Debug, Default, Clone)]
pub struct FieldArgs {
    pub unique: Option<Path>,
    pub filter: Option<Path>,
    pub search: Option<Path>,
    pub order: Option<Path>,
    pub lookups: Option<LookupsArg>,
    pub email: Option<Path>,
    pub len: Option<LenArg>,
    pub range: Option<RangeArg>,
    pub default: Option<DefaultArg>,
    pub references: Option<ReferencesArg>,
    pub read_only: Option<Path>,
    pub write_only: Option<Path>,
    /// `nested`: also served under the referenced resource's item path.
    pub nested: Option<Path>,
    /// `renamed_from = "old"`: the column's previous name, for `makemigrations`.
    pub renamed_from: Option<LitStr>,
    /// `write = "admin"`: the lowest role that may set or change the field.
    pub write: Option<(Path, RoleArg)>,
}

/// The options of one enum variant: `#[choice(rename = "…")]`.
#[derive(Debug, Default, Clone)]
pub struct ChoiceArgs {
    pub rename: Option<LitStr>,
}

/// Parses the tokens inside `#[tenant_resource(...)]`.
pub fn parse_resource_args(cx: &Ctxt, tokens: TokenStream) -> ResourceArgs {
    let mut args = ResourceArgs::default();
    let parser = syn::meta::parser(|meta| parse_resource_key(cx, &mut args, meta));
    if let Err(err) = parser.parse2(tokens) {
        cx.syn_error(err);
    }
    args
}

fn parse_resource_key(cx: &Ctxt, args: &mut ResourceArgs, meta: ParseNestedMeta) -> syn::Result<()> {
    let owner = "#[tenant_resource]";
    let key = meta.path.clone();
    if key == TABLE {
        let hint = "`table` needs a table name: `table = \"customers\"`";
        if let Some(lit) = string_value(cx, &meta, hint)? {
            set(cx, &mut args.table, &key, owner, lit);
        }
    } else if key == PATH {
        let hint = "`path` needs a URL path: `path = \"/api/customers\"`";
        if let Some(lit) = string_value(cx, &meta, hint)? {
            set(cx, &mut args.path, &key, owner, lit);
        }
    } else if key == SINGULAR {
        let hint = "`singular` needs the name of one item, used in messages: `singular = \"customer\"`";
        if let Some(lit) = string_value(cx, &meta, hint)? {
            set(cx, &mut args.singular, &key, owner, lit);
        }
    } else if key == HOOKS {
        if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
            cx.error_spanned_by(
                &key,
                "`hooks` takes no value\nhelp: write just `hooks`, and `impl tenant_core::Hooks for …` beside the struct",
            );
            skip_rest(meta.input)?;
        } else {
            set(cx, &mut args.hooks, &key, owner, key.clone());
        }
    } else if key == COMPUTED {
        if meta.input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in meta.input);
            let entries = content.parse_terminated(
                |input: syn::parse::ParseStream| {
                    let ident: Ident = input.parse()?;
                    input.parse::<Token![:]>()?;
                    let ty: Type = input.parse()?;
                    Ok(ComputedArg { ident, ty })
                },
                Token![,],
            );
            match entries {
                Ok(entries) => args.computed.extend(entries),
                Err(err) => cx.error_spanned_by(
                    &key,
                    format!(
                        "`computed` lists output fields with their types: `computed(is_overdue: bool)`\n\
                         help: each is read from the model's method of that name (`fn is_overdue(&self) -> bool`); {err}"
                    ),
                ),
            }
        } else {
            cx.error_spanned_by(
                &key,
                "`computed` lists output fields with their types: `computed(is_overdue: bool)`\n\
                 help: each is read from the model's method of that name (`fn is_overdue(&self) -> bool`)",
            );
            skip_rest(meta.input)?;
        }
    } else if key == READ_ONLY {
        if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
            cx.error_spanned_by(
                &key,
                "`read_only` takes no value\nhelp: write just `read_only` to serve only `list` and `retrieve`, \
                 or remove it to serve all six actions",
            );
            skip_rest(meta.input)?;
        } else {
            set(cx, &mut args.read_only, &key, owner, key.clone());
        }
    } else if key == ACTIONS {
        let hint = format!(
            "`actions` needs the routes to serve, as a string of action names: `actions = \"list, retrieve, create\"`\n\
             note: the actions are {}",
            list(ACTION_NAMES)
        );
        if let Some(lit) = string_value(cx, &meta, &hint)? {
            let actions = parse_actions(cx, &lit);
            set(cx, &mut args.actions, &key, owner, ActionsArg { actions });
        }
    } else if key == CREATE || key == UPDATE || key == DELETE {
        let name = key.get_ident().map(ToString::to_string).unwrap_or_default();
        let hint =
            format!("`{name}` needs the lowest role allowed to {name}: `{name} = \"admin\"` or `{name} = \"staff\"`");
        if let Some(lit) = string_value(cx, &meta, &hint)? {
            let role = match lit.value().as_str() {
                "admin" => Some(Role::Admin),
                "staff" => Some(Role::Staff),
                other => {
                    cx.error_spanned_by(
                        &lit,
                        format!(
                            "unknown role `{other}` for `{name}`\n\
                             help: the roles are \"admin\" and \"staff\" (the default): write `{name} = \"admin\"`"
                        ),
                    );
                    None
                }
            };
            let slot = if key == CREATE {
                &mut args.create
            } else if key == UPDATE {
                &mut args.update
            } else {
                &mut args.delete
            };
            if let Some(role) = role {
                set(cx, slot, &key, owner, RoleArg { key: key.clone(), lit, role });
            }
        }
    } else {
        let shown = key.to_token_stream().to_string().replace(' ', "");
        let help = match shown.as_str() {
            "name" | "table_name" => {
                "help: write `table = \"…\"` for the table, or `singular = \"…\"` for the name used in messages"
                    .to_owned()
            }
            "route" | "url" | "prefix" | "endpoint" | "base_path" => "help: write `path = \"/api/…\"`".to_owned(),
            "read" | "get" | "view" => {
                "help: reads are open to every member of the company; only `create`, `update` and `delete` take a role"
                    .to_owned()
            }
            "list" | "retrieve" | "partial_update" | "destroy" => format!(
                "help: `{shown}` is an action: choose the routes served with `actions = \"list, retrieve, …\"` \
                 (or `read_only`); reads are open to every member, and only `create`, `update` and `delete` take a role"
            ),
            "methods" | "http_method_names" | "routes" | "allowed_methods" | "endpoints" => format!(
                "help: choose the routes served with `actions = \"list, retrieve, …\"`, by Django REST Framework's \
                 action names: {}",
                list(ACTION_NAMES)
            ),
            "plural" => "help: write `table = \"…\"` (the path defaults to \"/api/\" followed by the table)".to_owned(),
            _ => did_you_mean(&shown, RESOURCE_KEYS),
        };
        cx.error_spanned_by(&key, format!("unknown #[tenant_resource] option `{shown}`\n{help}"));
        skip_rest(meta.input)?;
    }
    Ok(())
}

/// The action names of `actions = "list, retrieve"`, separated by commas. Reports every unknown
/// or repeated name, and an empty list; `None` after any of them.
fn parse_actions(cx: &Ctxt, lit: &LitStr) -> Option<Actions> {
    let text = lit.value();
    let names: Vec<&str> = text.split(',').map(str::trim).filter(|name| !name.is_empty()).collect();
    let note = format!("note: the actions are {} (Django REST Framework's viewset actions)", list(ACTION_NAMES));
    if names.is_empty() {
        cx.error_spanned_by(
            lit,
            format!(
                "`actions` names no action: a resource serves at least one route\n\
                 help: name the routes to serve, e.g. `actions = \"list, retrieve\"`, or remove `actions` to serve all six\n{note}"
            ),
        );
        return None;
    }
    let mut actions = Actions::NONE;
    let mut ok = true;
    for name in names {
        match Action::from_name(name) {
            Some(action) if actions.contains(action) => {
                cx.error_spanned_by(lit, format!("duplicate action `{name}` in `actions`\nhelp: name it once"));
                ok = false;
            }
            Some(action) => actions.insert(action),
            None => {
                cx.error_spanned_by(
                    lit,
                    format!("unknown action `{name}` in `actions`\n{}\n{note}", action_help(name)),
                );
                ok = false;
            }
        }
    }
    ok.then_some(actions)
}

/// What to write instead of `name`, an unknown action.
fn action_help(name: &str) -> String {
    if name.split_whitespace().nth(1).is_some() {
        let separated = name.split_whitespace().collect::<Vec<_>>().join(", ");
        return format!("help: separate the actions with commas: `actions = \"{separated}\"`");
    }
    let verb = |action: &str, route: &str| format!("help: `{route}` is the action `{action}`: write `{action}`");
    match name.to_ascii_lowercase().as_str() {
        "get" | "read" => {
            "help: `GET {path}` is the action `list`, `GET {path}/{id}` is `retrieve`: write `list, retrieve`"
                .to_owned()
        }
        "post" | "add" | "new" => verb("create", "POST {path}"),
        "put" | "replace" => verb("update", "PUT {path}/{id}"),
        "patch" | "partial" | "partial_updates" | "partialupdate" => verb("partial_update", "PATCH {path}/{id}"),
        "delete" | "del" | "remove" => verb("destroy", "DELETE {path}/{id}"),
        "all" | "*" => "help: all six actions are served by default: remove `actions`".to_owned(),
        "read_only" | "readonly" => "help: write `read_only` instead of `actions`".to_owned(),
        _ => match crate::names::closest(name, ACTION_NAMES) {
            Some(action) => format!("help: did you mean `{action}`?"),
            None => "help: remove it".to_owned(),
        },
    }
}

/// Parses every `#[field(...)]` attribute of one field (named `field` in messages).
pub fn parse_field_args(cx: &Ctxt, field: &str, attrs: &[Attribute]) -> FieldArgs {
    let mut args = FieldArgs::default();
    for attr in attrs.iter().filter(|attr| attr.path() == FIELD) {
        match &attr.meta {
            Meta::List(_) => {}
            Meta::Path(path) => {
                cx.error_spanned_by(
                    path,
                    format!(
                        "#[field] on `{field}` has no options\n\
                         help: list options in parentheses, e.g. `#[field(filter, order)]`, or remove the attribute"
                    ),
                );
                continue;
            }
            Meta::NameValue(nv) => {
                cx.error_spanned_by(
                    nv,
                    format!("#[field] on `{field}` takes a list\nhelp: write `#[field(unique, len = 1..=200)]`"),
                );
                continue;
            }
        }
        if let Err(err) = attr.parse_nested_meta(|meta| parse_field_key(cx, field, &mut args, meta)) {
            cx.syn_error(err);
        }
    }
    args
}

fn parse_field_key(cx: &Ctxt, field: &str, args: &mut FieldArgs, meta: ParseNestedMeta) -> syn::Result<()> {
    let owner = format!("field `{field}`");
    let key = meta.path.clone();
    let flags: [(Symbol, &mut Option<Path>); 8] = [
        (UNIQUE, &mut args.unique),
        (FILTER, &mut args.filter),
        (SEARCH, &mut args.search),
        (ORDER, &mut args.order),
        (EMAIL, &mut args.email),
        (READ_ONLY, &mut args.read_only),
        (WRITE_ONLY, &mut args.write_only),
        (NESTED, &mut args.nested),
    ];
    for (symbol, slot) in flags {
        if key == symbol {
            if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                cx.error_spanned_by(
                    &key,
                    format!("`{symbol}` on field `{field}` takes no value\nhelp: write just `{symbol}`, e.g. `#[field({symbol})]`"),
                );
                skip_rest(meta.input)?;
            } else {
                set(cx, slot, &key, &owner, key.clone());
            }
            return Ok(());
        }
    }
    if key == LEN {
        let hint = format!(
            "`len` on field `{field}` needs a range of characters, e.g. `len = 1..=200`, `len = ..=50` or `len = 1..`"
        );
        if let Some(expr) = value::<Expr>(cx, &meta, &hint)? {
            match parse_bounds(&expr, "len", field, |e| usize_literal(e, field)) {
                Ok((min, max)) => set(cx, &mut args.len, &key, &owner, LenArg { min, max }),
                Err(err) => cx.syn_error(err),
            }
        }
    } else if key == RANGE {
        let hint = format!(
            "`range` on field `{field}` needs a range of numbers, e.g. `range = 0..`, `range = ..=100` or `range = 1..=5`"
        );
        if let Some(expr) = value::<Expr>(cx, &meta, &hint)? {
            match parse_bounds(&expr, "range", field, |e| number_literal(e, field)) {
                Ok((min, max)) => set(cx, &mut args.range, &key, &owner, RangeArg { key: key.clone(), min, max }),
                Err(err) => cx.syn_error(err),
            }
        }
    } else if key == DEFAULT {
        if meta.input.peek(Token![=]) {
            let hint = format!(
                "`default =` on field `{field}` needs a value, e.g. `default = 0`, or write just `default` for `Default::default()`"
            );
            if let Some(expr) = value::<Expr>(cx, &meta, &hint)? {
                set(cx, &mut args.default, &key, &owner, DefaultArg::Expr(Box::new(expr)));
            }
        } else if meta.input.peek(syn::token::Paren) {
            cx.error_spanned_by(
                &key,
                format!("`default` on field `{field}` is written `default = value`\nhelp: e.g. `default = 0`, or just `default` for `Default::default()`"),
            );
            skip_rest(meta.input)?;
        } else {
            set(cx, &mut args.default, &key, &owner, DefaultArg::Trait(key.clone()));
        }
    } else if key == WRITE {
        let hint =
            format!("`write` on field `{field}` needs the lowest role that may set or change it: `write = \"admin\"`");
        if let Some(lit) = string_value(cx, &meta, &hint)? {
            match lit.value().as_str() {
                "admin" => {
                    let role = RoleArg { key: key.clone(), lit: lit.clone(), role: Role::Admin };
                    set(cx, &mut args.write, &key, &owner, (key.clone(), role));
                }
                "staff" => {
                    let role = RoleArg { key: key.clone(), lit: lit.clone(), role: Role::Staff };
                    set(cx, &mut args.write, &key, &owner, (key.clone(), role));
                }
                other => cx.error_spanned_by(
                    &lit,
                    format!(
                        "unknown role `{other}` for `write` on field `{field}`\n\
                         help: the roles are \"admin\" and \"staff\": write `write = \"admin\"`"
                    ),
                ),
            }
        }
    } else if key == RENAMED_FROM {
        let hint =
            format!("`renamed_from` on field `{field}` needs the field's previous name: `renamed_from = \"old_name\"`");
        if let Some(lit) = string_value(cx, &meta, &hint)? {
            let old = lit.value();
            let ok = !old.is_empty()
                && old.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !old.as_bytes()[0].is_ascii_digit();
            if !ok {
                cx.error_spanned_by(
                    &lit,
                    format!("`renamed_from` on field `{field}` must be a field name in snake_case\nhelp: {hint}"),
                );
            } else if old == field {
                cx.error_spanned_by(
                    &lit,
                    format!("field `{field}` cannot be renamed from itself\nhelp: remove `renamed_from`"),
                );
            } else {
                set(cx, &mut args.renamed_from, &key, &owner, lit);
            }
        }
    } else if key == LOOKUPS {
        if let Some(lit) = lookups_string(cx, &meta, field)? {
            let names = lookup_names(cx, &lit, field);
            set(cx, &mut args.lookups, &key, &owner, LookupsArg { lit, names });
        }
    } else if key == REFERENCES {
        let hint =
            format!("`references` on field `{field}` needs the referenced resource type: `references = Customer`");
        if meta.input.peek(Token![=]) && meta.input.peek2(LitStr) {
            meta.input.parse::<Token![=]>()?;
            let lit: LitStr = meta.input.parse()?;
            cx.error_spanned_by(
                &lit,
                format!(
                    "`references` on field `{field}` takes a type, not a string\nhelp: write `references = {}`",
                    lit.value()
                ),
            );
        } else if let Some(target) = value::<Type>(cx, &meta, &hint)? {
            match &target {
                Type::Path(path) if path.qself.is_none() => {
                    set(cx, &mut args.references, &key, &owner, ReferencesArg { target });
                }
                _ => cx.error_spanned_by(
                    &target,
                    format!("`references` on field `{field}` needs a #[tenant_resource] struct\nhelp: {hint}"),
                ),
            }
        }
    } else {
        let shown = key.to_token_stream().to_string().replace(' ', "");
        let help = match shown.as_str() {
            "nullable" | "optional" | "null" | "option" => {
                format!("help: to make `{field}` optional, give it the type `Option<T>`")
            }
            "required" => format!(
                "help: fields are required unless their type is `Option<T>` or they have a `default`, so `{field}` needs nothing"
            ),
            "min_len" | "max_len" | "length" | "min_length" | "max_length" | "size" | "max_chars" => {
                "help: write the length as a range of characters, e.g. `len = 1..=200`".to_owned()
            }
            "min" | "max" | "minimum" | "maximum" | "between" | "value" => {
                "help: write the bounds as a range, e.g. `range = 0..=100`".to_owned()
            }
            "ref" | "reference" | "foreign_key" | "fk" | "belongs_to" => {
                "help: write `references = OtherResource`".to_owned()
            }
            "sort" | "sortable" => format!("help: did you mean `order`?\nnote: the options are {}", list(FIELD_KEYS)),
            "readonly" | "output_only" | "server" => "help: did you mean `read_only`?".to_owned(),
            "writeonly" | "input_only" | "hidden" | "secret" | "skip_serializing" => {
                "help: did you mean `write_only`?".to_owned()
            }
            "role" | "write_role" | "admin" | "permission" => {
                "help: write `write = \"admin\"` for the lowest role that may set or change the field".to_owned()
            }
            "gt" | "gte" | "lt" | "lte" | "isnull" => {
                format!(
                    "help: lookups are listed in a string: `lookups = \"{shown}\"`\nnote: the lookups are {}",
                    list(LOOKUP_NAMES)
                )
            }
            "lookup_expr" | "filter_lookups" => {
                format!("help: write `lookups = \"gte, lte\"`\nnote: the lookups are {}", list(LOOKUP_NAMES))
            }
            "rename" | "column" | "name" => {
                format!("help: the column and the JSON key are the field's name, `{field}`; rename the field itself")
            }
            _ => did_you_mean(&shown, FIELD_KEYS),
        };
        cx.error_spanned_by(&key, format!("unknown option `{shown}` on field `{field}`\n{help}"));
        skip_rest(meta.input)?;
    }
    Ok(())
}

/// Parses the `#[choice(...)]` attributes of one enum variant.
pub fn parse_choice_args(cx: &Ctxt, variant: &str, attrs: &[Attribute]) -> ChoiceArgs {
    let mut args = ChoiceArgs::default();
    for attr in attrs.iter().filter(|attr| attr.path() == CHOICE) {
        if !matches!(attr.meta, Meta::List(_)) {
            cx.error_spanned_by(
                attr,
                format!("#[choice] on `{variant}` takes a list\nhelp: write `#[choice(rename = \"…\")]`"),
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.clone();
            if key == RENAME {
                let hint = format!("`rename` on `{variant}` needs the stored name: `rename = \"…\"`");
                if let Some(lit) = string_value(cx, &meta, &hint)? {
                    set(cx, &mut args.rename, &key, &format!("variant `{variant}`"), lit);
                }
            } else {
                let shown = key.to_token_stream().to_string().replace(' ', "");
                cx.error_spanned_by(
                    &key,
                    format!("unknown #[choice] option `{shown}` on `{variant}`\n{}", did_you_mean(&shown, CHOICE_KEYS)),
                );
                skip_rest(meta.input)?;
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    args
}
