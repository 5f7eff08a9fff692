//! The schema the registered resources need, as data: what `makemigrations` records in
//! `migrations/state.json`, compares with the models, and renders as DDL per dialect.
//!
//! Only what the database enforces is recorded: tables, columns with their storage type,
//! nullability and choices, the per-company unique constraints, the indexes and the composite
//! foreign keys. How a field is validated, filtered or shown (`max_len`, `search`, `read_only`)
//! lives in the model alone and needs no migration. Every table also has the system columns
//! (`id`, `company_id`, `created_at`, `updated_at`), its primary key `(company_id, id)`, the
//! list index and, on PostgreSQL, its row-level security policy: they are implied, not recorded.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::resource::ResourceDesc;
use crate::value::FieldType;

/// The recorded schema of an app: `migrations/state.json`, written by `makemigrations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaState {
    /// The format of this file, [`SchemaState::FORMAT`].
    pub format: u32,
    /// The tenant tables, in the order the models register them.
    pub tables: Vec<TableState>,
}

/// One tenant table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableState {
    /// The table's name (`#[tenant_resource(table = …)]`).
    pub table: String,
    /// The declared fields' columns, in declaration order (the system columns are implied).
    pub columns: Vec<ColumnState>,
}

/// One column of a declared field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnState {
    /// The column's name: the field's.
    pub name: String,
    /// The storage type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// A choice field's stored names (its `CHECK … IN (…)` constraint).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Whether NULL is allowed (`Option<T>`).
    pub nullable: bool,
    /// The model's default as JSON, if any: what a migration that adds the column writes into the
    /// rows that exist already. Not a database default (the app always writes the column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
    /// `UNIQUE (company_id, column)`, named `<table>_<column>_key`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// An index `(company_id, column)` named `<table>_<column>_idx` (filters and references that
    /// are not unique: a unique constraint is an index already).
    #[serde(default, skip_serializing_if = "is_false")]
    pub index: bool,
    /// The referenced table: `FOREIGN KEY (company_id, column) REFERENCES it (company_id, id)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
}

/// A column's storage type, named as in [`FieldType`]; each dialect renders it (`schema.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// `String`.
    Text,
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// `uuid::Uuid`.
    Uuid,
    /// `chrono::NaiveDate`.
    Date,
    /// `chrono::DateTime<Utc>`.
    Timestamp,
    /// A `#[derive(TenantEnum)]` enum, stored as text limited to its choices.
    Choice,
}

fn is_false(b: &bool) -> bool {
    !b
}

impl ColumnType {
    /// The storage type of a field type.
    pub fn of(ty: FieldType) -> ColumnType {
        match ty {
            FieldType::Text => ColumnType::Text,
            FieldType::Bool => ColumnType::Bool,
            FieldType::I32 => ColumnType::I32,
            FieldType::I64 => ColumnType::I64,
            FieldType::F64 => ColumnType::F64,
            FieldType::Uuid => ColumnType::Uuid,
            FieldType::Date => ColumnType::Date,
            FieldType::Timestamp => ColumnType::Timestamp,
            FieldType::Choice(_) => ColumnType::Choice,
        }
    }

    /// How it is named in messages and in `state.json`.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Bool => "bool",
            ColumnType::I32 => "i32",
            ColumnType::I64 => "i64",
            ColumnType::F64 => "f64",
            ColumnType::Uuid => "uuid",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Choice => "choice",
        }
    }
}

impl SchemaState {
    /// The version of the `state.json` format this crate writes and reads.
    pub const FORMAT: u32 = 1;

    /// No table: the state before an app's first migration.
    pub fn empty() -> SchemaState {
        SchemaState { format: Self::FORMAT, tables: Vec::new() }
    }

    /// The schema `resources` need.
    pub fn of(resources: &[ResourceDesc]) -> SchemaState {
        SchemaState { format: Self::FORMAT, tables: resources.iter().map(TableState::of).collect() }
    }

    /// The table named `name`, if recorded.
    pub fn table(&self, name: &str) -> Option<&TableState> {
        self.tables.iter().find(|t| t.table == name)
    }
}

impl TableState {
    /// The table of one resource.
    pub fn of(desc: &ResourceDesc) -> TableState {
        let columns = desc
            .fields
            .iter()
            .map(|f| ColumnState {
                name: f.name.to_owned(),
                ty: ColumnType::of(f.ty),
                choices: match f.ty {
                    FieldType::Choice(choices) => choices.iter().map(|c| (*c).to_owned()).collect(),
                    _ => Vec::new(),
                },
                nullable: f.nullable,
                default: f.default.map(|default| default().to_json()),
                unique: f.unique,
                index: !f.unique && (f.filter || f.references.is_some()),
                references: f.references.map(|r| r.table().to_owned()),
            })
            .collect();
        TableState { table: desc.table.to_owned(), columns }
    }

    /// The column named `name`, if any.
    pub fn column(&self, name: &str) -> Option<&ColumnState> {
        self.columns.iter().find(|c| c.name == name)
    }
}
