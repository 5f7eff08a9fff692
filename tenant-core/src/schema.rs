//! The tables of tenant resources, rendered per dialect from their [`ResourceDesc`].
//!
//! DML is built by the macro at compile time (it is the same on every backend); DDL differs per
//! backend, so it is rendered here, in the one place that knows each dialect's types.
//!
//! Every tenant table gets:
//! - `company_id NOT NULL` referencing `companies`, and a primary key `(company_id, id)`;
//! - `UNIQUE (company_id, field)` named `<table>_<field>_key` for each `unique` field, so the
//!   database itself refuses duplicates within a company (no check-then-insert race);
//! - a composite foreign key `(company_id, ref) → other (company_id, id)` for each reference, so
//!   a row can never point at another company's row;
//! - an index `(company_id, created_at, id)` serving the default list order, and
//!   `(company_id, field)` indexes for filter and reference fields.

use crate::db::{DbError, Dialect};
use crate::resource::{Field, ResourceDesc};
use crate::value::FieldType;

/// The name of the unique constraint of `field`; [`unique_field`] reads it back.
pub fn unique_constraint_name(table: &str, field: &str) -> String {
    format!("{table}_{field}_key")
}

/// Which field a unique violation concerns, if it is one of `desc`'s: the constraint
/// `UNIQUE (company_id, field)` named by [`unique_constraint_name`].
pub fn unique_field(desc: &ResourceDesc, err: &DbError) -> Option<&'static Field> {
    desc.fields
        .iter()
        .filter(|f| f.unique)
        .find(|f| err.violates_unique(&unique_constraint_name(desc.table, f.name), &["company_id", f.name]))
}

fn column_type(dialect: Dialect, ty: FieldType) -> &'static str {
    match (dialect, ty) {
        (Dialect::Postgres, FieldType::Text | FieldType::Choice(_)) => "TEXT",
        (Dialect::Postgres, FieldType::Bool) => "BOOLEAN",
        (Dialect::Postgres, FieldType::I32) => "INTEGER",
        (Dialect::Postgres, FieldType::I64) => "BIGINT",
        (Dialect::Postgres, FieldType::F64) => "DOUBLE PRECISION",
        (Dialect::Postgres, FieldType::Uuid) => "UUID",
        (Dialect::Postgres, FieldType::Date) => "DATE",
        (Dialect::Postgres, FieldType::Timestamp) => "TIMESTAMPTZ",
        // SQLite: see db/sqlite.rs for how UUIDs and timestamps are stored as text.
        (Dialect::Sqlite, FieldType::Text | FieldType::Choice(_)) => "TEXT",
        (Dialect::Sqlite, FieldType::Bool) => "BOOLEAN",
        (Dialect::Sqlite, FieldType::I32 | FieldType::I64) => "INTEGER",
        (Dialect::Sqlite, FieldType::F64) => "REAL",
        (Dialect::Sqlite, FieldType::Uuid | FieldType::Date | FieldType::Timestamp) => "TEXT",
    }
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `CREATE TABLE` and `CREATE INDEX` statements for one resource (idempotent).
pub fn resource_statements(dialect: Dialect, desc: &ResourceDesc) -> Vec<String> {
    let t = desc.table;
    let mut cols = vec![
        format!("id {} NOT NULL", column_type(dialect, FieldType::Uuid)),
        format!(
            "company_id {} NOT NULL REFERENCES companies (id) ON DELETE CASCADE",
            column_type(dialect, FieldType::Uuid)
        ),
        format!("created_at {} NOT NULL", column_type(dialect, FieldType::Timestamp)),
        format!("updated_at {} NOT NULL", column_type(dialect, FieldType::Timestamp)),
    ];
    for f in desc.fields {
        let mut col = format!("{} {}", f.name, column_type(dialect, f.ty));
        if !f.nullable {
            col.push_str(" NOT NULL");
        }
        if let FieldType::Choice(choices) = f.ty {
            let list: Vec<String> = choices.iter().map(|c| quote_literal(c)).collect();
            col.push_str(&format!(" CHECK ({} IN ({}))", f.name, list.join(", ")));
        }
        cols.push(col);
    }
    cols.push("PRIMARY KEY (company_id, id)".to_string());
    for f in desc.fields.iter().filter(|f| f.unique) {
        cols.push(format!("CONSTRAINT {} UNIQUE (company_id, {})", unique_constraint_name(t, f.name), f.name));
    }
    for f in desc.fields {
        if let Some(r) = f.references {
            cols.push(format!(
                "CONSTRAINT {t}_{name}_fkey FOREIGN KEY (company_id, {name}) REFERENCES {rt} (company_id, id)",
                name = f.name,
                rt = r.table
            ));
        }
    }
    let mut statements = vec![format!("CREATE TABLE IF NOT EXISTS {t} (\n    {}\n)", cols.join(",\n    "))];
    statements.push(format!("CREATE INDEX IF NOT EXISTS {t}_company_created_idx ON {t} (company_id, created_at, id)"));
    for f in desc.fields.iter().filter(|f| !f.unique && (f.filter || f.references.is_some())) {
        statements
            .push(format!("CREATE INDEX IF NOT EXISTS {t}_{name}_idx ON {t} (company_id, {name})", name = f.name));
    }
    statements
}

/// The role requests are served as on PostgreSQL: granted data access by the migration, and
/// created first when `create_with_password` is given.
#[derive(Debug, Clone, Copy)]
pub struct ServingRole<'a> {
    pub name: &'a str,
    pub create_with_password: Option<&'a str>,
}

/// Everything the migration runs after the core migrations: the tables, and on PostgreSQL the
/// row-level security policies, the serving role and its grants.
pub fn migration_statements(
    dialect: Dialect,
    resources: &[ResourceDesc],
    serving: Option<ServingRole<'_>>,
) -> Result<Vec<String>, DbError> {
    let mut statements = create_statements(dialect, resources)?;
    if dialect == Dialect::Postgres {
        statements.extend(resources.iter().flat_map(crate::rls::policy_statements));
        if let Some(role) = serving {
            if let Some(password) = role.create_with_password {
                statements.push(crate::rls::create_role_statement(role.name, password));
            }
            statements.extend(crate::rls::grant_statements(role.name));
        }
    }
    Ok(statements)
}

/// What a Citus cluster runs after the schema exists: the core tables become reference tables
/// (replicated to every node: `companies` is referenced by every tenant table) and each tenant
/// table is distributed by `company_id`, all co-located, so every tenant query and every
/// composite foreign key stays on one shard. The keys `schema` generates already include
/// `company_id` everywhere, as Citus requires.
pub fn citus_statements(resources: &[ResourceDesc]) -> Result<Vec<String>, DbError> {
    let mut statements: Vec<String> = ["companies", "users", "memberships", "email_verifications", "invitations"]
        .iter()
        .map(|t| format!("SELECT create_reference_table('{t}')"))
        .collect();
    let ordered = create_order(resources)?;
    let mut colocate: Option<&str> = None;
    for desc in ordered {
        statements.push(match colocate {
            None => format!("SELECT create_distributed_table('{}', 'company_id')", desc.table),
            Some(first) => {
                format!("SELECT create_distributed_table('{}', 'company_id', colocate_with => '{first}')", desc.table)
            }
        });
        colocate.get_or_insert(desc.table);
    }
    Ok(statements)
}

/// Statements for every resource, referenced tables before the tables that reference them.
pub fn create_statements(dialect: Dialect, resources: &[ResourceDesc]) -> Result<Vec<String>, DbError> {
    Ok(create_order(resources)?.into_iter().flat_map(|d| resource_statements(dialect, d)).collect())
}

/// `resources` ordered so that referenced tables come first.
fn create_order(resources: &[ResourceDesc]) -> Result<Vec<&ResourceDesc>, DbError> {
    let mut ordered: Vec<&ResourceDesc> = Vec::new();
    let mut pending: Vec<&ResourceDesc> = resources.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|desc| {
            let ready = desc
                .fields
                .iter()
                .filter_map(|f| f.references)
                .all(|r| r.table == desc.table || ordered.iter().any(|o| o.table == r.table));
            if ready {
                ordered.push(desc);
            }
            !ready
        });
        if pending.len() == before {
            let names: Vec<String> = pending
                .iter()
                .flat_map(|d| {
                    d.fields
                        .iter()
                        .filter_map(move |f| f.references.map(|r| format!("{}.{} → {}", d.name, f.name, r.table)))
                })
                .collect();
            return Err(DbError::Other(format!(
                "resources reference tables that are not registered with App::resource (or form a cycle): {}",
                names.join(", ")
            )));
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Actions, Permissions, Reference, ResourceSql};

    const SQL: ResourceSql = ResourceSql {
        select_one: "",
        select_one_for_update: "",
        list_columns: "",
        list_scope: "",
        insert: "",
        update: "",
        delete: "",
        exists: "",
    };

    const PARENTS: ResourceDesc = ResourceDesc {
        name: "Parent",
        singular: "parent",
        table: "parents",
        path: "/api/parents",
        fields: &[Field { unique: true, ..Field::new("code", FieldType::Text, false) }],
        permissions: Permissions::DEFAULT,
        actions: Actions::ALL,
        sql: SQL,
    };

    const CHILDREN: ResourceDesc = ResourceDesc {
        name: "Child",
        singular: "child",
        table: "children",
        path: "/api/children",
        fields: &[
            Field {
                references: Some(Reference { table: "parents", resource: "parent", exists: "" }),
                ..Field::new("parent_id", FieldType::Uuid, false)
            },
            Field::new("state", FieldType::Choice(&["a", "b'c"]), true),
        ],
        permissions: Permissions::DEFAULT,
        actions: Actions::ALL,
        sql: SQL,
    };

    #[test]
    fn every_key_includes_company_id() {
        let ddl = resource_statements(Dialect::Postgres, &CHILDREN).join(";\n");
        assert!(ddl.contains("PRIMARY KEY (company_id, id)"));
        assert!(ddl.contains("FOREIGN KEY (company_id, parent_id) REFERENCES parents (company_id, id)"));
        assert!(ddl.contains("CHECK (state IN ('a', 'b''c'))"));
        assert!(ddl.contains("ON children (company_id, created_at, id)"));
        assert!(ddl.contains("ON children (company_id, parent_id)"));
        let ddl = resource_statements(Dialect::Sqlite, &PARENTS).join(";\n");
        assert!(ddl.contains("CONSTRAINT parents_code_key UNIQUE (company_id, code)"));
    }

    #[test]
    fn referenced_tables_come_first_and_missing_ones_are_named() {
        let stmts = create_statements(Dialect::Sqlite, &[CHILDREN, PARENTS]).unwrap();
        let parents = stmts.iter().position(|s| s.starts_with("CREATE TABLE IF NOT EXISTS parents")).unwrap();
        let children = stmts.iter().position(|s| s.starts_with("CREATE TABLE IF NOT EXISTS children")).unwrap();
        assert!(parents < children);
        let err = create_statements(Dialect::Sqlite, &[CHILDREN]).unwrap_err().to_string();
        assert!(err.contains("Child.parent_id → parents"), "{err}");
    }

    #[test]
    fn citus_distributes_tenant_tables_colocated_by_company() {
        let stmts = citus_statements(&[CHILDREN, PARENTS]).unwrap();
        assert_eq!(stmts[0], "SELECT create_reference_table('companies')");
        assert!(stmts.contains(&"SELECT create_distributed_table('parents', 'company_id')".to_string()));
        assert!(stmts.contains(
            &"SELECT create_distributed_table('children', 'company_id', colocate_with => 'parents')".to_string()
        ));
    }

    #[test]
    fn unique_violations_map_back_to_fields() {
        let pg = |name: &str| DbError::Unique { constraint: Some(name.into()), columns: vec![] };
        let lite =
            |cols: &[&str]| DbError::Unique { constraint: None, columns: cols.iter().map(|c| c.to_string()).collect() };
        assert_eq!(unique_field(&PARENTS, &pg("parents_code_key")).map(|f| f.name), Some("code"));
        assert_eq!(unique_field(&PARENTS, &lite(&["company_id", "code"])).map(|f| f.name), Some("code"));
        assert!(unique_field(&PARENTS, &pg("other_key")).is_none());
        assert!(
            unique_field(&PARENTS, &lite(&["code"])).is_none(),
            "a unique index not per company is not the field's"
        );
        assert!(unique_field(&PARENTS, &DbError::ForeignKey).is_none());
    }
}
