//! Citus: the same app on a cluster of PostgreSQL servers, with each tenant table sharded by
//! `company_id` (issue 16).
//!
//! When the database has the `citus` extension (the app connects to a Citus coordinator),
//! [`App::migrate`](crate::App::migrate) places every table the framework knows once the
//! migrations ran ([`distribute`]): the core tables ([`CORE_TABLES`]) become *reference* tables,
//! copied to every node, and the resources' tables are *distributed* by `company_id`, all in one
//! co-location group, so that a tenant's rows of every table, and every composite foreign key
//! between them, sit on one shard. A request then touches one worker: Citus routes a statement
//! with `company_id = <value>` to the one shard holding that company (a "router" plan).
//!
//! Citus's rules that decide the steps (Citus documentation, "Creating and Modifying
//! Distributed Objects", "Table Management"):
//! - a table that a foreign key links to a table not yet placed cannot be distributed, and the
//!   foreign keys of a distributed table may point only at reference tables or at co-located
//!   distributed tables through the distribution column; so every foreign key between two
//!   tables of which one is not yet placed is dropped first and added again once both are, in
//!   the same transaction. That holds for any graph of references, cycles included (the tracker
//!   app's projects and tasks refer to each other).
//! - `pg_dist_partition` also lists the "Citus local" tables Citus made by itself (a local table
//!   with a foreign key to a reference table): placed means `partmethod = 'h'` (distributed) or
//!   `repmodel = 't'` (reference), not merely listed.
//! - policies with sub-queries are refused on distributed tables: the tenant policy has none
//!   (`rls.rs`); each table's policy is created again before it is distributed, so that one
//!   written by an older version of the framework is replaced.
//!
//! The steps are computed from the catalog ([`Catalog`]) by [`plan`], a pure function, so their
//! order is tested without a cluster; [`distribute`] reads the catalog under a lock and runs
//! them in one transaction. Run again, it finds everything placed and does nothing.
//!
//! On every request the tenant is set with `SET LOCAL`, which Citus passes on to the workers
//! (`db::set_tenant_statement`); [`serving_problem`] is the start-up check that it will.

use std::collections::BTreeMap;

use crate::db::{Db, DbError, Dialect, Sql, TxMode};
use crate::resource::ResourceDesc;
use crate::rls::quote_ident;
use crate::value::{FieldType, Value};

/// The framework's own tables (its core migrations), referenced tables first. All become
/// reference tables: they are read across companies (a user's companies, sign-in by e-mail), so
/// no single distribution column would route them.
pub const CORE_TABLES: [&str; 6] =
    ["companies", "users", "memberships", "email_verifications", "invitations", "refresh_tokens"];

/// Where Citus keeps a table, as `pg_dist_partition` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Not in `pg_dist_partition`: an ordinary table of the coordinator.
    Local,
    /// A "Citus local" table (`partmethod = 'n'`, `repmodel = 's'`): Citus tracks it, but it is
    /// still on the coordinator only. Made by Citus itself when a local table gets a foreign key to
    /// a reference table.
    CitusLocal,
    /// A reference table (`repmodel = 't'`): one copy on every node.
    Reference,
    /// Distributed by hash (`partmethod = 'h'`).
    Distributed,
}

impl Placement {
    /// The placement of a `pg_dist_partition` row (`None`: no row).
    pub fn from_catalog(partmethod: Option<&str>, repmodel: Option<&str>) -> Placement {
        match (partmethod, repmodel) {
            (None, _) => Placement::Local,
            (Some("h"), _) => Placement::Distributed,
            (_, Some("t")) => Placement::Reference,
            _ => Placement::CitusLocal,
        }
    }
}

/// A foreign key as the catalog holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint's name.
    pub name: String,
    /// The referencing table.
    pub table: String,
    /// The referenced table.
    pub referenced: String,
    /// `pg_get_constraintdef`: `FOREIGN KEY (company_id, customer_id) REFERENCES customers(company_id, id)`.
    pub definition: String,
}

/// What [`plan`] needs to know of the database: each table's placement (absent: no such table)
/// and the foreign keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Each table of the current schema and where Citus keeps it.
    pub placements: BTreeMap<String, Placement>,
    /// Every foreign key between tables of the current schema.
    pub foreign_keys: Vec<ForeignKey>,
}

impl Catalog {
    fn placement(&self, table: &str) -> Option<Placement> {
        self.placements.get(table).copied()
    }
}

/// The statements that place `core` tables as reference tables and `tenant` tables as tables
/// distributed by `company_id`, co-located, given what `catalog` says is placed already. Empty
/// when everything is placed. Tables missing from the catalog are skipped. Run in one transaction:
/// 1. every foreign key between two of these tables of which one is not placed yet is dropped;
/// 2. each core table not yet a reference table becomes one (`create_reference_table`);
/// 3. each tenant table not yet distributed gets the current tenant policy and is distributed,
///    co-located with the first tenant table distributed (`create_distributed_table`);
/// 4. the foreign keys of step 1 are added again, by their names and definitions.
pub fn plan(core: &[&str], tenant: &[&str], catalog: &Catalog) -> Vec<String> {
    let placed = |table: &str, want: Placement| catalog.placement(table).is_none_or(|p| p == want);
    let core_pending: Vec<&str> = core.iter().copied().filter(|t| !placed(t, Placement::Reference)).collect();
    let tenant_pending: Vec<&str> = tenant.iter().copied().filter(|t| !placed(t, Placement::Distributed)).collect();
    if core_pending.is_empty() && tenant_pending.is_empty() {
        return Vec::new();
    }
    let ours = |t: &str| core.contains(&t) || tenant.contains(&t);
    let pending = |t: &str| core_pending.contains(&t) || tenant_pending.contains(&t);
    let moved: Vec<&ForeignKey> = catalog
        .foreign_keys
        .iter()
        .filter(|fk| ours(&fk.table) && ours(&fk.referenced) && (pending(&fk.table) || pending(&fk.referenced)))
        .collect();
    // Sequential: a transaction that creates distributed tables and then adds foreign keys to them
    // must not have opened parallel connections to the shards first (Citus refuses the foreign key).
    let mut statements = vec!["SET LOCAL citus.multi_shard_modify_mode TO 'sequential'".to_string()];
    statements
        .extend(moved.iter().map(|fk| format!("ALTER TABLE {} DROP CONSTRAINT {}", fk.table, quote_ident(&fk.name))));
    statements.extend(core_pending.iter().map(|t| format!("SELECT create_reference_table('{t}')")));
    let mut colocate = tenant.iter().copied().find(|t| catalog.placement(t) == Some(Placement::Distributed));
    for table in tenant_pending {
        statements.extend(crate::rls::table_policy_statements(table));
        statements.push(match colocate {
            None => format!("SELECT create_distributed_table('{table}', 'company_id')"),
            Some(first) => {
                format!("SELECT create_distributed_table('{table}', 'company_id', colocate_with => '{first}')")
            }
        });
        colocate.get_or_insert(table);
    }
    statements.extend(
        moved
            .iter()
            .map(|fk| format!("ALTER TABLE {} ADD CONSTRAINT {} {}", fk.table, quote_ident(&fk.name), fk.definition)),
    );
    statements
}

/// What [`distribute`] runs on a database where the resources' tables were just made and
/// nothing is placed yet, from the models alone (the foreign keys between tenant tables that
/// `schema.rs` names; on a live database the core tables' own foreign keys are dropped and added
/// again around their placement too): `schema --citus` prints it.
///
/// # Errors
///
/// A resource references a table that is not registered (as [`crate::schema::create_statements`]).
pub fn new_schema_statements(resources: &[ResourceDesc]) -> Result<Vec<String>, DbError> {
    let tenant = crate::schema::create_order_tables(resources)?;
    let placements =
        CORE_TABLES.iter().chain(&tenant).map(|t| (t.to_string(), Placement::Local)).collect::<BTreeMap<_, _>>();
    let foreign_keys = resources
        .iter()
        .flat_map(|desc| {
            desc.fields.iter().filter_map(move |f| {
                let target = f.references?.table();
                Some(ForeignKey {
                    name: crate::schema::foreign_key_constraint_name(desc.table, f.name),
                    table: desc.table.to_string(),
                    referenced: target.to_string(),
                    definition: crate::schema::foreign_key_clause(f.name, target),
                })
            })
        })
        .collect();
    Ok(plan(&CORE_TABLES, &tenant, &Catalog { placements, foreign_keys }))
}

/// A lock key of the distribution step (`pg_advisory_xact_lock`), so that two servers starting
/// together place the tables once: the second reads the catalog after the first committed.
const DISTRIBUTE_LOCK: i64 = 0x7465_6e61_6e74_6469; // "tenantdi"

/// Places the framework's tables on a Citus cluster ([`plan`]), as the owner, in one
/// transaction under a lock; nothing on plain PostgreSQL or SQLite. Returns the statements it ran
/// (empty when everything was placed already).
///
/// # Errors
///
/// The catalog cannot be read, or Citus refuses a step (the transaction leaves nothing behind).
pub async fn distribute(db: &Db, resources: &[ResourceDesc]) -> Result<Vec<String>, DbError> {
    if !db.has_citus_extension().await? {
        return Ok(Vec::new());
    }
    let tenant: Vec<&str> = crate::schema::create_order_tables(resources)?;
    let mut tx = db.begin(TxMode::Write).await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[Value::I64(Some(DISTRIBUTE_LOCK))]).await?;
    let catalog = read_catalog(&mut tx).await?;
    let statements = plan(&CORE_TABLES, &tenant, &catalog);
    for statement in &statements {
        tx.execute(Sql::assembled(statement.clone()), &[]).await?;
    }
    tx.commit().await?;
    Ok(statements)
}

async fn read_catalog(tx: &mut crate::db::Tx) -> Result<Catalog, DbError> {
    let text = |v: &Value| match v {
        Value::Text(Some(s)) => Some(s.clone()),
        _ => None,
    };
    let tables = tx
        .fetch_all(
            "SELECT c.relname::text, p.partmethod::text, p.repmodel::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
            &[],
            &[FieldType::Text, FieldType::Text, FieldType::Text],
        )
        .await?;
    let placements = tables
        .iter()
        .filter_map(|row| {
            let name = text(&row[0])?;
            Some((name, Placement::from_catalog(text(&row[1]).as_deref(), text(&row[2]).as_deref())))
        })
        .collect();
    let keys = tx
        .fetch_all(
            "SELECT con.conname::text, cl.relname::text, ref.relname::text, pg_get_constraintdef(con.oid) \
             FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid \
             JOIN pg_class ref ON ref.oid = con.confrelid JOIN pg_namespace n ON n.oid = cl.relnamespace \
             WHERE con.contype = 'f' AND n.nspname = current_schema() ORDER BY cl.relname, con.conname",
            &[],
            &[FieldType::Text, FieldType::Text, FieldType::Text, FieldType::Text],
        )
        .await?;
    let foreign_keys = keys
        .iter()
        .filter_map(|row| {
            Some(ForeignKey {
                name: text(&row[0])?,
                table: text(&row[1])?,
                referenced: text(&row[2])?,
                definition: text(&row[3])?,
            })
        })
        .collect();
    Ok(Catalog { placements, foreign_keys })
}

/// The start-up check's decision for a serving connection: `None` when requests will be scoped
/// on every node, else why not, as a sentence. `citus` is the extension's version on the
/// database (`None`: plain PostgreSQL, nothing to check); `propagate` is the connection's
/// `citus.propagate_set_commands`. Anything but `local` means Citus keeps each request's `SET
/// LOCAL` of the tenant on the coordinator: the workers' row-level security would see no tenant,
/// so every list would come back empty and every write fail (issue 16).
pub fn serving_problem(citus: Option<&str>, propagate: Option<&str>) -> Option<String> {
    let version = citus?;
    match propagate {
        Some("local") => None,
        other => Some(format!(
            "the database is a Citus {version} coordinator and the serving connections have \
             citus.propagate_set_commands = {:?}, not 'local': the tenant of each request would not \
             reach the workers (every list empty, every write refused). The framework sets it on each \
             connection it opens; a connection pooler between the app and the coordinator must keep \
             session settings (session pooling), or set it for the serving role: \
             ALTER ROLE <role> SET citus.propagate_set_commands = 'local'",
            other.unwrap_or("")
        )),
    }
}

/// Reads what [`serving_problem`] decides on, through the serving pool.
///
/// # Errors
///
/// The catalog cannot be read.
pub async fn check_serving(db: &Db) -> Result<Option<String>, DbError> {
    if db.dialect() != Dialect::Postgres {
        return Ok(None);
    }
    let row = db
        .fetch_optional(
            "SELECT (SELECT extversion::text FROM pg_extension WHERE extname = 'citus'), \
             current_setting('citus.propagate_set_commands', true)",
            &[],
            &[FieldType::Text, FieldType::Text],
        )
        .await?;
    let text = |v: Option<&Value>| match v {
        Some(Value::Text(Some(s))) => Some(s.clone()),
        _ => None,
    };
    let (version, propagate) = match row.as_deref() {
        Some([a, b]) => (text(Some(a)), text(Some(b))),
        _ => (None, None),
    };
    Ok(serving_problem(version.as_deref(), propagate.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start-up check's decision (issue 16): plain PostgreSQL needs nothing; on Citus only
    /// `local` propagates the tenant's `SET LOCAL` to the workers.
    #[test]
    fn serving_is_refused_on_citus_unless_set_commands_propagate() {
        assert_eq!(serving_problem(None, None), None);
        assert_eq!(serving_problem(None, Some("none")), None);
        assert_eq!(serving_problem(Some("13.0-1"), Some("local")), None);
        for setting in [Some("none"), Some(""), None] {
            let problem = serving_problem(Some("13.0-1"), setting).expect("refused");
            assert!(problem.contains("citus.propagate_set_commands"), "{problem}");
            assert!(problem.contains("Citus 13.0-1"), "{problem}");
        }
    }
}
