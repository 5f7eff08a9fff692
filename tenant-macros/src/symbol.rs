//! The attribute names and keys the macros understand, in one place.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// An attribute name or key, compared against parsed paths without allocating.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Symbol(pub &'static str);

/// The field attribute, `#[field(...)]`.
pub const FIELD: Symbol = Symbol("field");
/// The variant attribute of `#[derive(TenantEnum)]`, `#[choice(...)]`.
pub const CHOICE: Symbol = Symbol("choice");
pub const SERDE: Symbol = Symbol("serde");
pub const DERIVE: Symbol = Symbol("derive");

// `#[tenant_resource(...)]` keys.
pub const TABLE: Symbol = Symbol("table");
pub const PATH: Symbol = Symbol("path");
pub const SINGULAR: Symbol = Symbol("singular");
pub const CREATE: Symbol = Symbol("create");
pub const UPDATE: Symbol = Symbol("update");
pub const DELETE: Symbol = Symbol("delete");
pub const HOOKS: Symbol = Symbol("hooks");
pub const COMPUTED: Symbol = Symbol("computed");
pub const ACTIONS: Symbol = Symbol("actions");
// `READ_ONLY` (below, also a field key) is a struct key too: `actions = "list, retrieve"`.

pub const RESOURCE_KEYS: &[Symbol] =
    &[TABLE, PATH, SINGULAR, CREATE, UPDATE, DELETE, HOOKS, COMPUTED, ACTIONS, READ_ONLY];

// The action names in `actions = "…"`: Django REST Framework's viewset actions, in its order.
pub const LIST: Symbol = Symbol("list");
pub const RETRIEVE: Symbol = Symbol("retrieve");
pub const PARTIAL_UPDATE: Symbol = Symbol("partial_update");
pub const DESTROY: Symbol = Symbol("destroy");

pub const ACTION_NAMES: &[Symbol] = &[LIST, CREATE, RETRIEVE, UPDATE, PARTIAL_UPDATE, DESTROY];

// `#[field(...)]` keys.
pub const UNIQUE: Symbol = Symbol("unique");
pub const FILTER: Symbol = Symbol("filter");
pub const SEARCH: Symbol = Symbol("search");
pub const ORDER: Symbol = Symbol("order");
pub const EMAIL: Symbol = Symbol("email");
pub const LEN: Symbol = Symbol("len");
pub const RANGE: Symbol = Symbol("range");
pub const DEFAULT: Symbol = Symbol("default");
pub const REFERENCES: Symbol = Symbol("references");
pub const READ_ONLY: Symbol = Symbol("read_only");
pub const WRITE_ONLY: Symbol = Symbol("write_only");
pub const WRITE: Symbol = Symbol("write");
pub const LOOKUPS: Symbol = Symbol("lookups");
pub const NESTED: Symbol = Symbol("nested");
pub const RENAMED_FROM: Symbol = Symbol("renamed_from");

pub const FIELD_KEYS: &[Symbol] = &[
    UNIQUE,
    FILTER,
    SEARCH,
    ORDER,
    LOOKUPS,
    EMAIL,
    LEN,
    RANGE,
    DEFAULT,
    REFERENCES,
    NESTED,
    READ_ONLY,
    WRITE_ONLY,
    WRITE,
    RENAMED_FROM,
];
// The lookups of `#[field(lookups = "…")]`, django-filter's names (tenant-core's `Lookup`).
pub const IN: Symbol = Symbol("in");
pub const GT: Symbol = Symbol("gt");
pub const GTE: Symbol = Symbol("gte");
pub const LT: Symbol = Symbol("lt");
pub const LTE: Symbol = Symbol("lte");
pub const ISNULL: Symbol = Symbol("isnull");

pub const LOOKUP_NAMES: &[Symbol] = &[IN, GT, GTE, LT, LTE, ISNULL];
/// The lookups that compare: the field's type must be ordered.
pub const COMPARISONS: &[Symbol] = &[GT, GTE, LT, LTE];

// `#[choice(...)]` keys.
pub const RENAME: Symbol = Symbol("rename");

pub const CHOICE_KEYS: &[Symbol] = &[RENAME];

/// Columns every resource gets from the macro; a model must not declare them.
pub const SYSTEM_COLUMNS: [&str; 4] = ["id", "company_id", "created_at", "updated_at"];

/// List query parameters of the runtime; a filterable field cannot share their names.
pub const QUERY_PARAMS: &[&str] = &["page", "page_size", "ordering", "search"];

/// Tables created by tenant-core's own migrations.
pub const CORE_TABLES: &[&str] = &["companies", "users", "memberships", "_sqlx_migrations"];

impl Symbol {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.0)
    }
}

/// `a, b, c` for messages.
pub fn list(keys: &[Symbol]) -> String {
    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}
