//! The tables of tenant resources, rendered per dialect from their [`ResourceDesc`].
//!
//! DML is built by the macro at compile time (it is the same on every backend); DDL differs per
//! backend, so it is rendered here, in the one place that knows each dialect's types.
//!
//! Every tenant table gets:
//! - `company_id NOT NULL` referencing `companies`, and a primary key `(company_id, id)`;
//! - `UNIQUE (company_id, field)` named `<table>_<field>_key` for each `unique` field, so the
//!   database itself refuses duplicates within a company (no check-then-insert race);
//! - a composite foreign key `(company_id, ref) → other (company_id, id)` named
//!   `<table>_<field>_fkey` for each reference, so a row can never point at another company's row;
//! - an index `(company_id, created_at, id)` serving the default list order, and
//!   `(company_id, field)` indexes for filter and reference fields.
//!
//! References may form cycles (a project's lead task, a task's project; or `A → B → C → A`), so
//! no order of `CREATE TABLE` statements can satisfy every foreign key of a cycle inline. On
//! PostgreSQL every table is created first, without its references, and the foreign keys are
//! added afterwards, each by a statement that skips a constraint of that name already on the
//! table ([`foreign_key_statements`]): the migration runs at every start-up, and databases
//! created before this order (keys inline, named alike) keep their one constraint per reference.
//! SQLite cannot add a foreign key to an existing table, but its `REFERENCES` clause may name a
//! table created later (it is resolved when a row is written), so its keys stay inline.

use crate::db::{DbError, Dialect};
use crate::migrations::state::{ColumnState, ColumnType, TableState};
use crate::resource::{Field, ResourceDesc};

/// The name of the unique constraint of `field`: `<table>_<field>_key`, truncated as PostgreSQL
/// truncates it (to 63 bytes); [`unique_field`] reads it back.
pub fn unique_constraint_name(table: &str, field: &str) -> String {
    identifier(format!("{table}_{field}_key"))
}

/// A generated name as PostgreSQL stores it: at most 63 bytes (`NAMEDATALEN - 1`), cut at a
/// character boundary. PostgreSQL truncates every longer identifier it reads, in `CREATE` and
/// `DROP` alike, so only the names compared with the catalog or an error need this; all
/// generated names go through it so that they read the same everywhere (PostgreSQL docs,
/// "Identifiers and Key Words").
pub(crate) fn identifier(mut name: String) -> String {
    if name.len() > MAX_IDENTIFIER_BYTES {
        let mut end = MAX_IDENTIFIER_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// Which field a unique violation concerns, if it is one of `desc`'s: the constraint
/// `UNIQUE (company_id, field)` named by [`unique_constraint_name`].
pub fn unique_field(desc: &ResourceDesc, err: &DbError) -> Option<&'static Field> {
    desc.fields
        .iter()
        .filter(|f| f.unique)
        .find(|f| err.violates_unique(&unique_constraint_name(desc.table, f.name), &["company_id", f.name]))
}

/// The column type of `ty` in `dialect`.
pub(crate) fn column_type(dialect: Dialect, ty: ColumnType) -> &'static str {
    match (dialect, ty) {
        (Dialect::Postgres, ColumnType::Text | ColumnType::Choice) => "TEXT",
        (Dialect::Postgres, ColumnType::Bool) => "BOOLEAN",
        (Dialect::Postgres, ColumnType::I32) => "INTEGER",
        (Dialect::Postgres, ColumnType::I64) => "BIGINT",
        (Dialect::Postgres, ColumnType::F64) => "DOUBLE PRECISION",
        (Dialect::Postgres, ColumnType::Uuid) => "UUID",
        (Dialect::Postgres, ColumnType::Date) => "DATE",
        (Dialect::Postgres, ColumnType::Timestamp) => "TIMESTAMPTZ",
        // SQLite: see db/sqlite.rs for how UUIDs and timestamps are stored as text.
        (Dialect::Sqlite, ColumnType::Text | ColumnType::Choice) => "TEXT",
        (Dialect::Sqlite, ColumnType::Bool) => "BOOLEAN",
        (Dialect::Sqlite, ColumnType::I32 | ColumnType::I64) => "INTEGER",
        (Dialect::Sqlite, ColumnType::F64) => "REAL",
        (Dialect::Sqlite, ColumnType::Uuid | ColumnType::Date | ColumnType::Timestamp) => "TEXT",
    }
}

pub(crate) fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `name TYPE [NOT NULL] [CHECK (name IN (…))]`: a declared field's column.
pub(crate) fn column_definition(dialect: Dialect, column: &ColumnState) -> String {
    let mut col = format!("{} {}", column.name, column_type(dialect, column.ty));
    if !column.nullable {
        col.push_str(" NOT NULL");
    }
    if let Some(check) = choice_check(column) {
        col.push(' ');
        col.push_str(&check);
    }
    col
}

/// `CHECK (name IN ('a', 'b'))` for a choice column.
pub(crate) fn choice_check(column: &ColumnState) -> Option<String> {
    (column.ty == ColumnType::Choice).then(|| {
        let list: Vec<String> = column.choices.iter().map(|c| quote_literal(c)).collect();
        format!("CHECK ({} IN ({}))", column.name, list.join(", "))
    })
}

/// `CREATE TABLE` and `CREATE INDEX` statements for one resource (idempotent). On SQLite the
/// table's foreign keys are part of it; on PostgreSQL they are not (only `company_id`'s, to
/// `companies`): [`foreign_key_statements`] adds them once every table exists.
pub fn resource_statements(dialect: Dialect, desc: &ResourceDesc) -> Vec<String> {
    let table = TableState::of(desc);
    let mut statements = vec![create_table_statement(dialect, &table, &table.table)];
    statements.extend(index_statements(&table));
    statements
}

/// `CREATE TABLE IF NOT EXISTS name (…)` for `table`'s columns and keys: created as `name`,
/// which differs from `table.table` only while SQLite rebuilds a table (`migrations/render.rs`).
pub(crate) fn create_table_statement(dialect: Dialect, table: &TableState, name: &str) -> String {
    let t = &table.table;
    let mut cols = vec![
        format!("id {} NOT NULL", column_type(dialect, ColumnType::Uuid)),
        format!(
            "company_id {} NOT NULL REFERENCES companies (id) ON DELETE CASCADE",
            column_type(dialect, ColumnType::Uuid)
        ),
        format!("created_at {} NOT NULL", column_type(dialect, ColumnType::Timestamp)),
        format!("updated_at {} NOT NULL", column_type(dialect, ColumnType::Timestamp)),
    ];
    cols.extend(table.columns.iter().map(|c| column_definition(dialect, c)));
    cols.push("PRIMARY KEY (company_id, id)".to_string());
    for c in table.columns.iter().filter(|c| c.unique) {
        cols.push(format!("CONSTRAINT {} UNIQUE (company_id, {})", unique_constraint_name(t, &c.name), c.name));
    }
    if dialect == Dialect::Sqlite {
        for c in &table.columns {
            if let Some(target) = &c.references {
                cols.push(format!(
                    "CONSTRAINT {} {}",
                    foreign_key_constraint_name(t, &c.name),
                    foreign_key_clause(&c.name, target)
                ));
            }
        }
    }
    format!("CREATE TABLE IF NOT EXISTS {name} (\n    {}\n)", cols.join(",\n    "))
}

/// The list index `(company_id, created_at, id)` and each column's `(company_id, column)` index.
pub(crate) fn index_statements(table: &TableState) -> Vec<String> {
    let t = &table.table;
    let mut statements = vec![format!(
        "CREATE INDEX IF NOT EXISTS {} ON {t} (company_id, created_at, id)",
        identifier(format!("{t}_company_created_idx"))
    )];
    for c in table.columns.iter().filter(|c| c.index) {
        statements.push(column_index_statement(t, &c.name));
    }
    statements
}

/// `CREATE INDEX IF NOT EXISTS <table>_<column>_idx ON table (company_id, column)`.
pub(crate) fn column_index_statement(table: &str, column: &str) -> String {
    format!("CREATE INDEX IF NOT EXISTS {} ON {table} (company_id, {column})", column_index_name(table, column))
}

/// The name of a column's index.
pub(crate) fn column_index_name(table: &str, column: &str) -> String {
    identifier(format!("{table}_{column}_idx"))
}

/// PostgreSQL's longest identifier in bytes (`NAMEDATALEN - 1`); longer names are truncated.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// The name of the foreign key of the reference field `field`: `<table>_<field>_fkey`, truncated
/// as PostgreSQL truncates it (to 63 bytes), so that the name looked up in `pg_constraint` is
/// the name stored there.
pub fn foreign_key_constraint_name(table: &str, field: &str) -> String {
    identifier(format!("{table}_{field}_fkey"))
}

/// `FOREIGN KEY (company_id, field) REFERENCES target (company_id, id)`: a reference can only
/// name a row of its own row's company.
pub(crate) fn foreign_key_clause(field: &str, target: &str) -> String {
    format!("FOREIGN KEY (company_id, {field}) REFERENCES {target} (company_id, id)")
}

/// PostgreSQL: one statement per reference of `desc` that adds its composite foreign key
/// ([`foreign_key_constraint_name`]) unless the table already has a constraint of that name.
/// Idempotent, and safe against a concurrent migration adding the same key (its
/// `duplicate_object` is ignored). Run once every table exists, so references may form cycles.
/// Empty on SQLite, whose keys are part of `CREATE TABLE` ([`resource_statements`]).
pub fn foreign_key_statements(dialect: Dialect, desc: &ResourceDesc) -> Vec<String> {
    if dialect != Dialect::Postgres {
        return Vec::new();
    }
    let t = desc.table;
    desc.fields
        .iter()
        .filter_map(|f| f.references.map(|r| (f, r)))
        .map(|(f, r)| {
            let name = foreign_key_constraint_name(t, f.name);
            format!(
                "DO $$ BEGIN\n    \
                 IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {table}::regclass AND conname = {name_literal}) THEN\n        \
                 ALTER TABLE {t} ADD CONSTRAINT {name} {clause};\n    \
                 END IF;\n\
                 EXCEPTION WHEN duplicate_object THEN NULL;\n\
                 END $$",
                table = quote_literal(t),
                name_literal = quote_literal(&name),
                clause = foreign_key_clause(f.name, r.table()),
            )
        })
        .collect()
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
    }
    statements.extend(serving_role_statements(dialect, serving, false));
    Ok(statements)
}

/// PostgreSQL: the serving role (created when asked) and its grants, run after every
/// migration (the grants cover the tables that exist then); `app_migrations` when the app's
/// migrations table (`_tenant_migrations`) exists, which the role may not touch either.
pub fn serving_role_statements(
    dialect: Dialect,
    serving: Option<ServingRole<'_>>,
    app_migrations: bool,
) -> Vec<String> {
    let mut statements = Vec::new();
    if let (Dialect::Postgres, Some(role)) = (dialect, serving) {
        if let Some(password) = role.create_with_password {
            statements.push(crate::rls::create_role_statement(role.name, password));
        }
        statements.extend(crate::rls::grant_statements(role.name));
        if app_migrations {
            statements.push(crate::rls::revoke_statement(role.name, crate::migrations::apply::MIGRATIONS_TABLE));
        }
    }
    statements
}

/// Statements for every resource: each table with its indexes, referenced tables before the
/// tables that reference them wherever references do not form a cycle; then, on PostgreSQL,
/// every foreign key ([`foreign_key_statements`]), once all the tables exist.
///
/// # Errors
///
/// A resource references a table that is not among `resources` (not registered with
/// `App::resource`).
pub fn create_statements(dialect: Dialect, resources: &[ResourceDesc]) -> Result<Vec<String>, DbError> {
    let ordered = create_order(resources)?;
    let mut statements: Vec<String> = ordered.iter().flat_map(|d| resource_statements(dialect, d)).collect();
    statements.extend(ordered.iter().flat_map(|d| foreign_key_statements(dialect, d)));
    Ok(statements)
}

/// The resources' tables in [`create_statements`]' order (referenced tables first where
/// references form no cycle): the order `citus.rs` distributes them in.
///
/// # Errors
///
/// As [`create_statements`].
pub fn create_order_tables(resources: &[ResourceDesc]) -> Result<Vec<&'static str>, DbError> {
    Ok(create_order(resources)?.into_iter().map(|d| d.table).collect())
}

/// `resources` ordered so that referenced tables come first. A cycle has no such order: when
/// every resource left references one that is not placed yet, the first of them (in
/// registration order) is placed anyway, and the rest follow as before.
fn create_order(resources: &[ResourceDesc]) -> Result<Vec<&ResourceDesc>, DbError> {
    let missing: Vec<String> = resources
        .iter()
        .flat_map(|d| {
            d.fields.iter().filter_map(move |f| {
                let r = f.references?;
                let table = r.table();
                (!resources.iter().any(|o| o.table == table)).then(|| format!("{}.{} → {table}", d.name, f.name))
            })
        })
        .collect();
    if !missing.is_empty() {
        return Err(DbError::Other(format!(
            "resources reference tables that are not registered with App::resource: {}",
            missing.join(", ")
        )));
    }
    let mut ordered: Vec<&ResourceDesc> = Vec::new();
    let mut pending: Vec<&ResourceDesc> = resources.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|desc| {
            let ready = desc
                .fields
                .iter()
                .filter_map(|f| f.references)
                .all(|r| r.table() == desc.table || ordered.iter().any(|o| o.table == r.table()));
            if ready {
                ordered.push(desc);
            }
            !ready
        });
        if pending.len() == before {
            // Every resource left is in a cycle or references one.
            ordered.push(pending.remove(0));
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Actions, Permissions, Reference, ResourceSql};
    use crate::value::FieldType;

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
        computed: &[],
    };

    const CHILDREN: ResourceDesc = ResourceDesc {
        name: "Child",
        singular: "child",
        table: "children",
        path: "/api/children",
        fields: &[
            Field { references: Some(Reference::new(|| &PARENTS)), ..Field::new("parent_id", FieldType::Uuid, false) },
            Field::new("state", FieldType::Choice(&["a", "b'c"]), true),
        ],
        permissions: Permissions::DEFAULT,
        actions: Actions::ALL,
        sql: SQL,
        computed: &[],
    };

    /// A resource of `table` whose fields `(name, target)` reference the targets.
    const fn referencing(table: &'static str, fields: &'static [Field]) -> ResourceDesc {
        ResourceDesc {
            name: table,
            singular: table,
            table,
            path: "/api/x",
            fields,
            permissions: Permissions::DEFAULT,
            actions: Actions::ALL,
            sql: SQL,
            computed: &[],
        }
    }

    const fn reference(name: &'static str, target: fn() -> &'static ResourceDesc) -> Field {
        Field { references: Some(Reference::new(target)), ..Field::new(name, FieldType::Uuid, true) }
    }

    // A 2-cycle (projects ↔ tasks), and a 3-cycle (a → b → c → a) whose `c` also references itself.
    const PROJECTS: ResourceDesc = referencing("projects", &[reference("lead_task_id", || &TASKS)]);
    const TASKS: ResourceDesc = referencing("tasks", &[reference("project_id", || &PROJECTS)]);
    const A: ResourceDesc = referencing("a", &[reference("b_id", || &B)]);
    const B: ResourceDesc = referencing("b", &[reference("c_id", || &C)]);
    const C: ResourceDesc = referencing("c", &[reference("a_id", || &A), reference("parent_id", || &C)]);

    fn position(statements: &[String], prefix: &str) -> usize {
        let found: Vec<usize> =
            statements.iter().enumerate().filter(|(_, s)| s.starts_with(prefix)).map(|(i, _)| i).collect();
        assert_eq!(found.len(), 1, "{prefix}: {statements:#?}");
        found[0]
    }

    #[test]
    fn every_key_includes_company_id() {
        let ddl = resource_statements(Dialect::Sqlite, &CHILDREN).join(";\n");
        assert!(ddl.contains("PRIMARY KEY (company_id, id)"));
        assert!(ddl.contains(
            "CONSTRAINT children_parent_id_fkey FOREIGN KEY (company_id, parent_id) REFERENCES parents (company_id, id)"
        ));
        assert!(ddl.contains("CHECK (state IN ('a', 'b''c'))"));
        assert!(ddl.contains("ON children (company_id, created_at, id)"));
        assert!(ddl.contains("ON children (company_id, parent_id)"));
        let ddl = resource_statements(Dialect::Sqlite, &PARENTS).join(";\n");
        assert!(ddl.contains("CONSTRAINT parents_code_key UNIQUE (company_id, code)"));
        // PostgreSQL: the table without its reference, then the key on its own.
        let ddl = resource_statements(Dialect::Postgres, &CHILDREN).join(";\n");
        assert!(ddl.contains("PRIMARY KEY (company_id, id)"));
        assert!(!ddl.contains("FOREIGN KEY"), "{ddl}");
        let keys = foreign_key_statements(Dialect::Postgres, &CHILDREN);
        assert_eq!(keys.len(), 1);
        assert!(keys[0].contains(
            "ALTER TABLE children ADD CONSTRAINT children_parent_id_fkey \
             FOREIGN KEY (company_id, parent_id) REFERENCES parents (company_id, id);"
        ));
        assert!(foreign_key_statements(Dialect::Sqlite, &CHILDREN).is_empty());
    }

    #[test]
    fn foreign_keys_are_added_once() {
        let key = &foreign_key_statements(Dialect::Postgres, &CHILDREN)[0];
        assert!(key.starts_with("DO $$ BEGIN"), "{key}");
        assert!(
            key.contains(
                "IF NOT EXISTS (SELECT 1 FROM pg_constraint \
                 WHERE conrelid = 'children'::regclass AND conname = 'children_parent_id_fkey') THEN"
            ),
            "{key}"
        );
        assert!(key.contains("EXCEPTION WHEN duplicate_object THEN NULL;"), "{key}");
        // The name PostgreSQL stores: truncated to 63 bytes.
        assert_eq!(foreign_key_constraint_name("invoices", "customer_id"), "invoices_customer_id_fkey");
        let (table, field) = ("t".repeat(40), "f".repeat(40));
        let name = foreign_key_constraint_name(&table, &field);
        assert_eq!(name.len(), 63);
        assert!(format!("{table}_{field}_fkey").starts_with(&name));
    }

    #[test]
    fn referenced_tables_come_first_and_missing_ones_are_named() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let stmts = create_statements(dialect, &[CHILDREN, PARENTS]).unwrap();
            let parents = position(&stmts, "CREATE TABLE IF NOT EXISTS parents");
            let children = position(&stmts, "CREATE TABLE IF NOT EXISTS children");
            assert!(parents < children);
        }
        let err = create_statements(Dialect::Sqlite, &[CHILDREN]).unwrap_err().to_string();
        assert!(err.contains("Child.parent_id → parents"), "{err}");
        assert!(crate::citus::new_schema_statements(&[CHILDREN]).is_err());
    }

    #[test]
    fn cycles_create_every_table_then_every_foreign_key() {
        let resources = [A, TASKS, B, PROJECTS, C, PARENTS, CHILDREN];
        let references = [
            ("a", "b_id", "b"),
            ("tasks", "project_id", "projects"),
            ("b", "c_id", "c"),
            ("projects", "lead_task_id", "tasks"),
            ("c", "a_id", "a"),
            ("c", "parent_id", "c"),
            ("children", "parent_id", "parents"),
        ];
        let pg = create_statements(Dialect::Postgres, &resources).unwrap();
        let last_table = pg.iter().rposition(|s| s.starts_with("CREATE ")).unwrap();
        let first_key = pg.iter().position(|s| s.contains("FOREIGN KEY")).unwrap();
        assert!(last_table < first_key, "{pg:#?}");
        assert!(pg[first_key..].iter().all(|s| s.starts_with("DO $$")), "{pg:#?}");
        assert_eq!(pg.len() - first_key, references.len());
        for (table, field, target) in references {
            let clause = format!(
                "ALTER TABLE {table} ADD CONSTRAINT {table}_{field}_fkey \
                 FOREIGN KEY (company_id, {field}) REFERENCES {target} (company_id, id);"
            );
            assert_eq!(pg.iter().filter(|s| s.contains(&clause)).count(), 1, "{clause}");
        }
        // SQLite: every key inline, whichever table its clause names comes later.
        let lite = create_statements(Dialect::Sqlite, &resources).unwrap();
        assert!(lite.iter().all(|s| s.starts_with("CREATE ")), "{lite:#?}");
        for (table, field, target) in references {
            let create = &lite[position(&lite, &format!("CREATE TABLE IF NOT EXISTS {table} ("))];
            let clause = format!(
                "CONSTRAINT {table}_{field}_fkey FOREIGN KEY (company_id, {field}) REFERENCES {target} (company_id, id)"
            );
            assert!(create.contains(&clause), "{create}");
        }
        // Outside the cycles, referenced tables still come first; a cycle starts at its first
        // registered table, and the others follow their references from there.
        for statements in [&pg, &lite] {
            let order: Vec<&str> = statements
                .iter()
                .filter_map(|s| s.strip_prefix("CREATE TABLE IF NOT EXISTS "))
                .map(|s| &s[..s.find(' ').unwrap()])
                .collect();
            assert_eq!(order, ["parents", "children", "a", "c", "b", "tasks", "projects"]);
        }
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
