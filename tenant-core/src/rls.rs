//! PostgreSQL row-level security: the database's own guard behind the query-level scoping.
//!
//! Each tenant table gets a policy that admits only rows whose `company_id` equals the
//! transaction-local setting `app.company_id`. The [`crate::Tenant`] extractor sets it with
//! `set_config(…, true)` in the same statement that checks the caller's membership, at the
//! start of every tenant request's transaction (see `tenant.rs`); on a Citus coordinator with a
//! `SET LOCAL` after it, which Citus passes on to the workers whose shards the policy guards
//! (`citus.rs`). With no setting (or an
//! empty one, which is what `current_setting(…, true)` returns once the name has been used in the
//! session) the policy admits nothing. `FORCE` makes it apply to the table owner too.
//!
//! The server serves through a role that owns nothing and cannot bypass RLS ([`check_serving_role`]);
//! migrations run as the owner. SQLite has no RLS: there, query scoping is the guard.

use crate::db::{Db, DbError, Dialect, tenant_setting};
use crate::resource::ResourceDesc;
use crate::value::{FieldType, Value};

/// Name of the policy on each tenant table.
pub const POLICY: &str = "tenant_isolation";

/// The policy's predicate: empty or unset → NULL → no row.
///
/// No sub-select: Citus refuses policies with sub-queries on distributed tables ("Subqueries are
/// not supported in policies on distributed tables", issue 16). None is needed for speed either:
/// every framework query also says `company_id = $1`, so PostgreSQL's planner folds the two into
/// one equivalence class and checks the setting once per statement (a plan's `One-Time Filter`),
/// not once per row.
pub const TENANT_PREDICATE: &str =
    concat!("company_id = NULLIF(current_setting('", tenant_setting!(), "', true), '')::uuid");

/// The predicate as versions before issue 16 wrote it into migration files, with a sub-select.
const PREDICATE_WITH_SUB_QUERY: &str =
    concat!("company_id = (SELECT NULLIF(current_setting('", tenant_setting!(), "', true), '')::uuid)");

/// A `CREATE POLICY` statement of the framework's as an older version wrote it (with
/// `company_id = (SELECT NULLIF(…))`) rewritten with today's [`TENANT_PREDICATE`]: what a migration
/// file written before issue 16 runs on a Citus coordinator, which refuses sub-queries in
/// policies of its tables. `None` for any other statement (run as written). The two predicates
/// admit the same rows.
pub fn without_sub_query(statement: &str) -> Option<String> {
    let create = statement.find("CREATE POLICY")?;
    statement[create..]
        .contains(PREDICATE_WITH_SUB_QUERY)
        .then(|| statement.replace(PREDICATE_WITH_SUB_QUERY, TENANT_PREDICATE))
}

/// Statements that enable, force and (re)create the isolation policy of one tenant table.
/// Idempotent; run by the owner inside the migration.
pub fn policy_statements(desc: &ResourceDesc) -> Vec<String> {
    table_policy_statements(desc.table)
}

/// [`policy_statements`] of the table named `t`, for a migration (`migrations/render.rs`).
pub fn table_policy_statements(t: &str) -> Vec<String> {
    vec![
        format!("ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {t} FORCE ROW LEVEL SECURITY"),
        format!("DROP POLICY IF EXISTS {POLICY} ON {t}"),
        format!("CREATE POLICY {POLICY} ON {t} FOR ALL USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"),
    ]
}

/// Creates the serving role if it does not exist: `LOGIN`, no superuser, no `BYPASSRLS`, owner
/// of nothing. An existing role is left as it is (its password too): roles are cluster-wide,
/// and altering one concurrently from several migrations fails. Safe to run concurrently.
pub fn create_role_statement(role: &str, password: &str) -> String {
    format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) THEN \
             BEGIN CREATE ROLE {ident} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD {password}; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END; \
           END IF; \
         END $$",
        name = quote_literal(role),
        ident = quote_ident(role),
        password = quote_literal(password),
    )
}

/// Grants the serving role exactly the data access the app needs in the current database.
pub fn grant_statements(role: &str) -> Vec<String> {
    let ident = quote_ident(role);
    vec![
        format!("GRANT USAGE ON SCHEMA public TO {ident}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ident}"),
        // The migration bookkeeping is the owner's business only.
        format!("REVOKE ALL ON TABLE _sqlx_migrations FROM {ident}"),
    ]
}

/// What is wrong with a serving role, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleProblems(pub Vec<String>);

/// Checks that the pool's role is really subject to row-level security: not a superuser, no
/// `BYPASSRLS`, and owner of none of the tenant tables.
pub async fn check_serving_role(db: &Db, resources: &[ResourceDesc]) -> Result<RoleProblems, DbError> {
    if db.dialect() != Dialect::Postgres {
        return Ok(RoleProblems(vec![]));
    }
    let row = db
        .fetch_optional(
            "SELECT current_user::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
            &[FieldType::Text, FieldType::Bool, FieldType::Bool],
        )
        .await?
        .ok_or_else(|| DbError::Other("current_user has no pg_roles row".into()))?;
    let mut problems = vec![];
    let user = match &row[0] {
        Value::Text(Some(u)) => u.clone(),
        _ => String::new(),
    };
    if row[1] == Value::Bool(Some(true)) {
        problems.push(format!("role {user:?} is a superuser (superusers ignore row-level security)"));
    }
    if row[2] == Value::Bool(Some(true)) {
        problems.push(format!("role {user:?} has BYPASSRLS"));
    }
    for desc in resources {
        let owned = db
            .fetch_optional(
                "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1 AND tableowner = current_user",
                &[Value::Text(Some(desc.table.to_string()))],
                &[FieldType::I32],
            )
            .await?;
        if owned.is_some() {
            problems.push(format!("role {user:?} owns table {}", desc.table));
        }
    }
    Ok(RoleProblems(problems))
}

/// The role the pool's sessions run as (`current_user`): on PostgreSQL, the serving role the
/// start-up report names; `None` on SQLite, which has no roles.
///
/// # Errors
///
/// The database cannot be read.
pub async fn current_role(db: &Db) -> Result<Option<String>, DbError> {
    if db.dialect() != Dialect::Postgres {
        return Ok(None);
    }
    let row = db.fetch_optional("SELECT current_user::text", &[], &[FieldType::Text]).await?;
    Ok(row.and_then(|row| match &row[0] {
        Value::Text(Some(name)) => Some(name.clone()),
        _ => None,
    }))
}

/// How many tables of the current schema have row-level security enabled and forced (so that
/// their owner is subject to it too): the tenant tables, once migrated. 0 on SQLite.
///
/// # Errors
///
/// The catalog cannot be read.
pub async fn forced_tables(db: &Db) -> Result<u64, DbError> {
    if db.dialect() != Dialect::Postgres {
        return Ok(0);
    }
    let row = db
        .fetch_optional(
            "SELECT count(*)::int8 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
             AND c.relrowsecurity AND c.relforcerowsecurity",
            &[],
            &[FieldType::I64],
        )
        .await?;
    Ok(match row.as_deref() {
        Some([Value::I64(Some(n))]) => (*n).max(0) as u64,
        _ => 0,
    })
}

/// `REVOKE ALL ON TABLE table FROM role`: a bookkeeping table the serving role must not touch.
pub fn revoke_statement(role: &str, table: &str) -> String {
    format!("REVOKE ALL ON TABLE {table} FROM {}", quote_ident(role))
}

/// `"name"`, with `"` doubled: an identifier as PostgreSQL reads it, whatever it holds.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_statements_quote_what_they_embed() {
        let s = create_role_statement("app\"role", "pa'ss");
        assert!(s.contains("CREATE ROLE \"app\"\"role\""));
        assert!(s.contains("rolname = 'app\"role'"));
        assert!(s.contains("PASSWORD 'pa''ss'"));
        assert!(s.contains("NOBYPASSRLS"));
        assert!(grant_statements("a").iter().all(|g| g.contains("\"a\"")));
    }

    /// The policy statement of migration files written before issue 16 (demo-app's
    /// `0001_initial.sql`) gets today's predicate on Citus; nothing else is touched.
    #[test]
    fn older_policies_are_rewritten_without_the_sub_query() {
        let old = format!(
            "CREATE POLICY {POLICY} ON customers FOR ALL USING ({PREDICATE_WITH_SUB_QUERY}) WITH CHECK ({PREDICATE_WITH_SUB_QUERY})"
        );
        let file = include_str!("../../demo-app/migrations/postgres/0001_initial.sql");
        assert!(file.contains(&old), "the recorded form is the one older files hold");
        let new = without_sub_query(&old).unwrap();
        assert_eq!(new, table_policy_statements("customers").pop().unwrap());
        assert_eq!(without_sub_query("DROP POLICY IF EXISTS tenant_isolation ON customers"), None);
        assert_eq!(without_sub_query(&table_policy_statements("customers").pop().unwrap()), None);
    }

    /// Citus refuses a policy with a sub-query on a distributed table (issue 16): the predicate,
    /// and so every policy statement, has none.
    #[test]
    fn the_policy_has_no_sub_query() {
        assert!(!TENANT_PREDICATE.to_ascii_uppercase().contains("SELECT"), "{TENANT_PREDICATE}");
        let create = table_policy_statements("t").pop().unwrap();
        assert!(create.starts_with("CREATE POLICY"), "{create}");
        assert_eq!(create.to_ascii_uppercase().matches("SELECT").count(), 0, "{create}");
        assert_eq!(create.matches('(').count(), create.matches(')').count(), "{create}");
    }
}
