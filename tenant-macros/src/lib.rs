//! The macros of tenant-core: `#[tenant_resource]` and `#[derive(TenantEnum)]`.
//!
//! Use them through `tenant_core`, which re-exports both; generated code reaches the runtime only
//! through `::tenant_core::__private`, so a user crate depends on `tenant-core` alone.
//!
//! Layout (after serde_derive): `attr.rs` parses attributes into plain values that keep their
//! tokens, `ast.rs` builds the model, `check.rs` applies the rules that span several
//! attributes, `expand.rs`/`enum_derive.rs` generate code from the model alone, and `ctxt.rs`
//! collects every error so all of them are reported at once.

mod ast;
mod attr;
mod check;
mod ctxt;
mod embed;
mod enum_derive;
mod expand;
mod names;
mod sql;
mod symbol;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Turns a struct with named fields into a tenant-owned resource.
///
/// ```ignore
/// #[tenant_resource(table = "customers", path = "/api/customers", delete = "admin")]
/// pub struct Customer {
///     #[field(unique, filter, search, order, email)]
///     pub email: String,
///     #[field(search, order, len = 1..=200)]
///     pub name: String,
///     #[field(len = ..=50)]
///     pub phone: Option<String>,
///     #[field(default)]
///     pub notes: String,
/// }
/// ```
///
/// Struct options (all optional):
/// - `table = "…"`: the table; default: the snake_case name in the plural (`customers`).
/// - `path = "…"`: the collection path; default `"/api/" + table`. Starts with `/`, no trailing `/`.
/// - `singular = "…"`: the name of one item in messages; default: the snake_case name with spaces.
/// - `create`, `update`, `delete` `= "admin" | "staff"`: the lowest role allowed; default `"staff"`
///   (`"admin"` for `delete`).
/// - `actions = "list, retrieve, …"`: the routes served, by Django REST Framework's viewset action
///   names (`list`, `create`, `retrieve`, `update`, `partial_update`, `destroy`); default all six.
///   Any other method on a served path answers 405. `read_only` is `actions = "list, retrieve"`.
/// - `hooks`: the app implements `tenant_core::Hooks` for the struct.
///
/// Field options, in `#[field(...)]` (all optional):
/// - `unique`: unique per company. `filter`: `?field=value`. `search`: part of `?search=`.
///   `order`: allowed in `?ordering=`. `email`: must look like an email address.
/// - `len = 1..=200` / `..=50` / `1..`: length in characters (text).
/// - `range = 0..` / `..=100` / `-1.5..=1.5`: inclusive bounds (numbers).
/// - `default` (`Default::default()`) or `default = EXPR` (a value of the field's type; a `&str` for a `String`, the bare value for an `Option`).
/// - `renamed_from = "old"`: the field's previous name, so that `makemigrations` renames the column.
/// - `references = Other`: holds the id of an `Other` of the same company (`Uuid` fields).
///
/// Generates: the struct with `id`, `company_id`, `created_at` and `updated_at` added first and
/// `Serialize` derived; `impl Resource`; `{Name}Input` and `{Name}Patch` request bodies; and
/// `{Name}::router()`.
///
/// Limits: two resources cannot reference each other (`A` → `B` and `B` → `A`): each `DESC` would
/// need the other's first, a const-evaluation cycle. A resource may reference itself. For an
/// `Option<String>` field, write `default = Some("…".to_owned())` (`Into` does not go from `&str`
/// to `Option<String>`).
#[proc_macro_attribute]
pub fn tenant_resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::tenant_resource(attr.into(), item.into()).into()
}

/// Stores a fieldless enum as one of a fixed set of strings: the variant names in snake_case,
/// or `#[choice(rename = "…")]`. Implements `FieldValue`, `Serialize`, `Deserialize`,
/// `Display`, `FromStr` and `as_str()`. The enum must also derive `Debug` and `Clone` to be used
/// in a resource's request bodies.
/// `unique` and `order` work on the enum and on `Option<Enum>`.
#[proc_macro_derive(TenantEnum, attributes(choice))]
pub fn tenant_enum(item: TokenStream) -> TokenStream {
    enum_derive::tenant_enum(item.into()).into()
}

/// Compiles an app's migrations folder into its binary: `embed_migrations!("migrations")`, a
/// path relative to the crate's `Cargo.toml`, holding `postgres/NNNN_name.sql` and
/// `sqlite/NNNN_name.sql` as `makemigrations` writes them. Expands to a
/// `tenant_core::migrations::EmbeddedMigrations` for `App::migrations`.
///
/// Each file is read with `include_str!`, so an edited file rebuilds the app; a new file is
/// seen when the crate rebuilds (a `build.rs` printing `cargo:rerun-if-changed=migrations`
/// makes that automatic).
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    embed::embed_migrations(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
