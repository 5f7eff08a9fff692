//! The start-up drift check: the live database against the registered models. A server whose
//! tables lack a column the model has would answer 500 to every request of that resource;
//! this check names each difference before anything is served.
//!
//! It reads the catalog the serving role may read (`information_schema`, `pg_class`,
//! `pg_constraint` on PostgreSQL; `pragma_table_info` and friends on SQLite) and compares what
//! the database enforces: each table, each column's type and nullability, the per-company unique
//! constraints, the composite foreign keys and, on PostgreSQL, forced row-level security.

use super::state::{ColumnType, SchemaState, TableState};
use crate::db::{Db, DbError, Dialect};
use crate::schema::{column_type, foreign_key_constraint_name, unique_constraint_name};
use crate::value::{FieldType, Value};

/// Every difference between `db` and the schema `expected`, one sentence each (empty: none).
///
/// # Errors
///
/// The catalog cannot be read.
pub async fn check_drift(db: &Db, expected: &SchemaState) -> Result<Vec<String>, DbError> {
    let mut findings = Vec::new();
    for table in &expected.tables {
        let live = live_columns(db, &table.table).await?;
        if live.is_empty() {
            findings.push(format!("table {} is missing", table.table));
            continue;
        }
        compare_columns(db.dialect(), table, &live, &mut findings);
        compare_constraints(db, table, &mut findings).await?;
    }
    Ok(findings)
}

/// `(name, type as the catalog spells it, nullable)` of each live column.
async fn live_columns(db: &Db, table: &str) -> Result<Vec<(String, String, bool)>, DbError> {
    let (sql, nullable_type) = match db.dialect() {
        Dialect::Postgres => (
            "SELECT column_name::text, data_type::text, is_nullable = 'YES' FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            FieldType::Bool,
        ),
        Dialect::Sqlite => {
            ("SELECT name, type, \"notnull\" = 0 FROM pragma_table_info($1) ORDER BY cid", FieldType::Bool)
        }
    };
    let mut tx = db.begin(crate::db::TxMode::Read).await?;
    let rows = tx.fetch_all(sql, &[text(table)], &[FieldType::Text, FieldType::Text, nullable_type]).await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let text = |v: &Value| if let Value::Text(Some(s)) = v { s.clone() } else { String::new() };
            (text(&row[0]), text(&row[1]), row[2] == Value::Bool(Some(true)))
        })
        .collect())
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

/// How the catalog names a column type: PostgreSQL's `information_schema` spells it out.
fn catalog_type(dialect: Dialect, ty: ColumnType) -> String {
    match (dialect, ty) {
        (Dialect::Postgres, ColumnType::Timestamp) => "timestamp with time zone".into(),
        (Dialect::Postgres, other) => column_type(Dialect::Postgres, other).to_lowercase(),
        (Dialect::Sqlite, other) => column_type(Dialect::Sqlite, other).to_string(),
    }
}

fn compare_columns(dialect: Dialect, table: &TableState, live: &[(String, String, bool)], findings: &mut Vec<String>) {
    let t = &table.table;
    for column in &table.columns {
        let Some((_, ty, nullable)) = live.iter().find(|(name, _, _)| *name == column.name) else {
            findings.push(format!("table {t}: column {} is missing", column.name));
            continue;
        };
        let expected = catalog_type(dialect, column.ty);
        if !ty.eq_ignore_ascii_case(&expected) {
            findings.push(format!("table {t}: column {} is {ty}, the model needs {expected}", column.name));
        }
        if *nullable != column.nullable {
            let (db, model) = if *nullable { ("allows", "does not") } else { ("refuses", "allows") };
            findings.push(format!("table {t}: column {} {db} NULL, the model {model}", column.name));
        }
    }
    let system = ["id", "company_id", "created_at", "updated_at"];
    for (name, _, nullable) in live {
        if !nullable && !system.contains(&name.as_str()) && table.column(name).is_none() {
            findings
                .push(format!("table {t}: column {name} is NOT NULL and not in the model, so every insert would fail"));
        }
    }
}

async fn compare_constraints(db: &Db, table: &TableState, findings: &mut Vec<String>) -> Result<(), DbError> {
    let t = &table.table;
    match db.dialect() {
        Dialect::Postgres => {
            let sql = "SELECT conname::text FROM pg_constraint WHERE conrelid = to_regclass($1)";
            let mut tx = db.begin(crate::db::TxMode::Read).await?;
            let rows = tx.fetch_all(sql, &[text(t)], &[FieldType::Text]).await?;
            let security = tx
                .fetch_optional(
                    "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = to_regclass($1)",
                    &[text(t)],
                    &[FieldType::Bool],
                )
                .await?;
            tx.commit().await?;
            let names: Vec<String> = rows
                .into_iter()
                .filter_map(|r| if let Value::Text(Some(s)) = &r[0] { Some(s.clone()) } else { None })
                .collect();
            for column in &table.columns {
                let c = &column.name;
                if column.unique && !names.contains(&unique_constraint_name(t, c)) {
                    findings.push(format!("table {t}: the unique constraint (company_id, {c}) is missing"));
                }
                if column.references.is_some() && !names.contains(&foreign_key_constraint_name(t, c)) {
                    findings.push(format!("table {t}: the foreign key (company_id, {c}) is missing"));
                }
            }
            if security.map(|row| row[0] != Value::Bool(Some(true))).unwrap_or(true) {
                findings.push(format!("table {t}: row-level security is not forced"));
            }
        }
        Dialect::Sqlite => {
            let mut tx = db.begin(crate::db::TxMode::Read).await?;
            let uniques = tx
                .fetch_all(
                    "SELECT group_concat(ii.name, ',') FROM pragma_index_list($1) il, pragma_index_info(il.name) ii \
                     WHERE il.\"unique\" = 1 GROUP BY il.name",
                    &[text(t)],
                    &[FieldType::Text],
                )
                .await?;
            let keys = tx
                .fetch_all(
                    "SELECT \"from\", \"table\" FROM pragma_foreign_key_list($1)",
                    &[text(t)],
                    &[FieldType::Text, FieldType::Text],
                )
                .await?;
            tx.commit().await?;
            for column in &table.columns {
                let c = &column.name;
                let wanted = format!("company_id,{c}");
                if column.unique && !uniques.iter().any(|r| r[0] == Value::Text(Some(wanted.clone()))) {
                    findings.push(format!("table {t}: the unique constraint (company_id, {c}) is missing"));
                }
                if let Some(target) = &column.references {
                    let found = keys.iter().any(|r| r[0] == text(c) && r[1] == text(target));
                    if !found {
                        findings.push(format!("table {t}: the foreign key (company_id, {c}) is missing"));
                    }
                }
            }
        }
    }
    Ok(())
}
