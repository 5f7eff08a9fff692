//! `EXPLAIN` of every statement the framework generates for `Customer`, as the serving role,
//! inside a transaction with a real tenant set, with the parameters a request would bind.
//!
//! Each statement is shown with `EXPLAIN (ANALYZE, BUFFERS)` (a custom plan for these values; the
//! transaction is rolled back, so update and delete change nothing), and its generic plan (what
//! a prepared statement may switch to after five executions) is summarised too. A statement on a
//! tenant table is flagged unless every scan of that table uses an index leading with
//! `company_id`.

use std::collections::HashMap;

use demo_app::Customer;
use sqlx::{AssertSqlSafe, Connection, Row};
use tenant_core::Resource;
use tenant_core::query::ListQuery;
use tenant_core::value::Value;

use crate::Result;
use crate::pg::Database;
use crate::seed::Tenant;

/// The tenant tables the statements touch.
const TENANT_TABLES: &[&str] = &["customers"];

#[derive(Debug, Clone)]
pub struct Explained {
    pub name: String,
    pub sql: String,
    pub plan: String,
    pub generic: String,
    /// `None`: every scan of a tenant table, in the custom and the generic plan, uses an index
    /// leading with `company_id`. `Some(why)` otherwise.
    pub flag: Option<String>,
    /// Sequential scans of core (non-tenant) tables, which are not flagged: on small tables they
    /// are the planner's right choice.
    pub note: Option<String>,
}

/// The statements: `(name, sql, params)`.
fn statements(tenant: &Tenant) -> Vec<(String, String, Vec<Value>)> {
    let desc = &Customer::DESC;
    let company = Value::Uuid(Some(tenant.company_id));
    let (id, email) = tenant.samples[0].clone();
    let id = Value::Uuid(Some(id));
    let list = |name: &str, pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let query = ListQuery::parse(desc, &pairs).expect("a valid list query");
        let (sql, params) = query.to_sql(desc, tenant_core::Dialect::Postgres, company.clone());
        (name.to_string(), sql.as_str().to_string(), params)
    };
    let now = Value::Timestamp(Some(chrono::Utc::now()));
    vec![
        (
            "membership + tenant (every request)".to_string(),
            crate::statements::MEMBERSHIP.to_string(),
            vec![Value::Uuid(Some(tenant.user_id)), Value::Uuid(None)],
        ),
        ("select_one (retrieve)".to_string(), desc.sql.select_one.to_string(), vec![company.clone(), id.clone()]),
        (
            "select_one_for_update (update)".to_string(),
            desc.sql.select_one_for_update.to_string(),
            vec![company.clone(), id.clone()],
        ),
        list("list (default order)", &[("page_size", "20")]),
        list("list ?email=", &[("email", &email)]),
        list("list ?ordering=-name", &[("ordering", "-name")]),
        list("list ?search=", &[("search", "ada")]),
        ("exists".to_string(), desc.sql.exists.to_string(), vec![company.clone(), id.clone()]),
        (
            "update".to_string(),
            desc.sql.update.to_string(),
            vec![
                company.clone(),
                id.clone(),
                now,
                Value::Text(Some("Renamed".into())),
                Value::Text(Some(email)),
                Value::Text(None),
                Value::Text(Some(String::new())),
            ],
        ),
        ("delete".to_string(), desc.sql.delete.to_string(), vec![company, id]),
    ]
}

/// A value as an SQL literal, for `EXPLAIN EXECUTE` of the generic plan.
fn literal(value: &Value) -> String {
    let quote = |s: String| format!("'{}'", s.replace('\'', "''"));
    match value {
        Value::Text(Some(s)) => quote(s.clone()),
        Value::Bool(Some(b)) => b.to_string(),
        Value::I32(Some(n)) => n.to_string(),
        Value::I64(Some(n)) => n.to_string(),
        Value::F64(Some(n)) => n.to_string(),
        Value::Uuid(Some(u)) => quote(u.to_string()),
        Value::Date(Some(d)) => quote(d.to_string()),
        Value::Timestamp(Some(t)) => quote(t.to_rfc3339()),
        _ => "NULL".to_string(),
    }
}

/// The scans of a plan: `(node, index or None, table)`.
fn scans(plan: &str) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    for line in plan.lines() {
        let line = line.trim_start().trim_start_matches("->").trim();
        let node = line.split("  (").next().unwrap_or(line);
        if let Some(rest) = node.strip_prefix("Seq Scan on ") {
            let table = rest.split_whitespace().next().map(str::to_string);
            out.push(("Seq Scan".to_string(), None, table));
        } else if let Some(rest) = node.strip_prefix("Bitmap Index Scan on ") {
            out.push(("Bitmap Index Scan".to_string(), rest.split_whitespace().next().map(str::to_string), None));
        } else if let Some(pos) = node.find(" using ")
            && node[..pos].contains("Index")
        {
            let mut words = node[pos + 7..].split_whitespace();
            let index = words.next().map(str::to_string);
            let table = match (words.next(), words.next()) {
                (Some("on"), Some(t)) => Some(t.to_string()),
                _ => None,
            };
            out.push((node[..pos].to_string(), index, table));
        }
    }
    out
}

/// One line: the scans of a plan, e.g. `Index Scan using customers_pkey on customers`.
fn summary(plan: &str) -> String {
    let parts: Vec<String> = scans(plan)
        .into_iter()
        .map(|(node, index, table)| match (index, table) {
            (Some(i), Some(t)) => format!("{node} using {i} on {t}"),
            (Some(i), None) => format!("{node} on {i}"),
            (None, Some(t)) => format!("{node} on {t}"),
            (None, None) => node,
        })
        .collect();
    if parts.is_empty() { "(no table scan)".to_string() } else { parts.join(", ") }
}

/// Why a plan is flagged (a tenant table read without an index leading with `company_id`), and
/// the sequential scans of other tables. `leading`: index name → (table, first column).
fn flag(plan: &str, leading: &HashMap<String, (String, String)>) -> (Option<String>, Option<String>) {
    let (mut problems, mut notes) = (Vec::new(), Vec::new());
    for (node, index, table) in scans(plan) {
        match index {
            None => {
                let table = table.unwrap_or_default();
                if TENANT_TABLES.contains(&table.as_str()) {
                    problems.push(format!("{node} on {table}"));
                } else {
                    notes.push(format!("{node} on {table}"));
                }
            }
            Some(index) => {
                if let Some((table, column)) = leading.get(&index)
                    && TENANT_TABLES.contains(&table.as_str())
                    && column != "company_id"
                {
                    problems.push(format!("{index} on {table} leads with {column}, not company_id"));
                }
            }
        }
    }
    let join = |v: Vec<String>| if v.is_empty() { None } else { Some(v.join("; ")) };
    (join(problems), join(notes))
}

/// Explains every statement for `tenant`'s company, as the serving role.
pub async fn explain_all(db: &Database, tenant: &Tenant) -> Result<Vec<Explained>> {
    let mut conn = db.app().await?;
    let leading: HashMap<String, (String, String)> = sqlx::query(
        "SELECT ic.relname::text, tc.relname::text, a.attname::text FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
         JOIN pg_namespace n ON n.oid = tc.relnamespace WHERE n.nspname = 'public'",
    )
    .fetch_all(&mut conn)
    .await?
    .into_iter()
    .map(|r| (r.get::<String, _>(0), (r.get::<String, _>(1), r.get::<String, _>(2))))
    .collect();

    let mut tx = conn.begin().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(tenant_core::db::set_tenant_statement(tenant.company_id)))
        .execute(&mut *tx)
        .await?;
    let mut out = Vec::new();
    for (name, sql, params) in statements(tenant) {
        let explain = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
        let rows: Vec<String> = tenant_core::db::postgres::bind(sqlx::query(AssertSqlSafe(explain)), &params)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| format!("EXPLAIN {name}: {e}"))?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        let plan = rows.join("\n");

        let literals: Vec<String> = params.iter().map(literal).collect();
        let generic_sql = format!(
            "PREPARE bench_explain AS {sql}; SET LOCAL plan_cache_mode = force_generic_plan; \
             EXPLAIN EXECUTE bench_explain({})",
            literals.join(", ")
        );
        let rows = sqlx::raw_sql(AssertSqlSafe(generic_sql))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| format!("generic EXPLAIN {name}: {e}"))?;
        let generic: String = rows.iter().filter_map(|r| r.try_get::<String, _>(0).ok()).collect::<Vec<_>>().join("\n");
        sqlx::raw_sql("DEALLOCATE bench_explain; SET LOCAL plan_cache_mode = auto").execute(&mut *tx).await?;

        let ((custom, custom_note), (generic_flag, generic_note)) = (flag(&plan, &leading), flag(&generic, &leading));
        let both = |a: Option<String>, b: Option<String>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(
                [a.map(|c| format!("plan: {c}")), b.map(|g| format!("generic plan: {g}"))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        out.push(Explained {
            name,
            sql,
            generic: summary(&generic),
            plan,
            flag: both(custom, generic_flag),
            note: both(custom_note, generic_note),
        });
    }
    tx.rollback().await?;
    conn.close().await?;
    Ok(out)
}

pub fn scan_summary(plan: &str) -> String {
    summary(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_scans_and_flags() {
        let plan = "Limit  (cost=1..2 rows=20)\n  ->  WindowAgg\n        ->  Index Scan using customers_company_created_idx on customers  (cost=0.42..80.00)\n              Index Cond: (company_id = $1)\n  ->  Seq Scan on users u  (cost=1..2)\n  ->  Bitmap Index Scan on other_idx  (cost=1)";
        assert_eq!(
            summary(plan),
            "Index Scan using customers_company_created_idx on customers, Seq Scan on users, Bitmap Index Scan on other_idx"
        );
        let mut leading = HashMap::new();
        leading
            .insert("customers_company_created_idx".to_string(), ("customers".to_string(), "company_id".to_string()));
        leading.insert("other_idx".to_string(), ("customers".to_string(), "email".to_string()));
        let (problems, notes) = flag(plan, &leading);
        assert_eq!(problems.unwrap(), "other_idx on customers leads with email, not company_id");
        assert_eq!(notes.unwrap(), "Seq Scan on users");
        let seq = "Seq Scan on customers  (cost=0.00..1.00)\n  Filter: (company_id = $1)";
        assert_eq!(flag(seq, &leading).0.unwrap(), "Seq Scan on customers");
        assert_eq!(literal(&Value::Text(Some("a'b".into()))), "'a''b'");
        assert_eq!(literal(&Value::Uuid(None)), "NULL");
    }
}
