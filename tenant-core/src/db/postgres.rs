//! PostgreSQL: binds [`Value`]s with their native types and reads rows with the type each
//! column's reader asks for.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPoolOptions, PgQueryResult, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::backend::Backend;
use super::prepared::Prepared;
use super::sql::{DbError, Reader, native_reads, set_tenant_statement};
use crate::value::{DecodeError, RowReader, Value};

/// No liveness ping before each checkout (`test_before_acquire`): it was a round trip of every
/// request (issue 15). A connection that died in the pool fails its first statement instead,
/// and the first statement of a transaction, or a read outside one, is sent again on another
/// connection (`Db::begin`, `Db::read_in_one_trip`, `Db::may_retry`): nothing ran, so nothing can run twice.
fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
}

fn parse_url(url: &str) -> Result<PgConnectOptions, DbError> {
    PgConnectOptions::from_str(url).map_err(|e| DbError::Other(format!("invalid PostgreSQL URL: {e}")))
}

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    pool_options(max_connections).connect_with(parse_url(url)?).await.map_err(DbError::classify)
}

/// A pool that connects on first use, to `url` or, with `credentials`, to the same server and
/// database as another user. Lazy, because the serving role may be created by the migration
/// that runs after the pool is made.
pub(super) fn connect_lazy(
    url: &str,
    credentials: Option<(&str, &str)>,
    max_connections: u32,
    statement_timeout: Duration,
    prepared: Arc<Prepared>,
    citus: Arc<AtomicBool>,
) -> Result<PgPool, DbError> {
    let mut options = parse_url(url)?;
    if let Some((user, password)) = credentials {
        options = options.username(user).password(password);
    }
    // The one-trip reads write their values as literals (`literal.rs`), which are plain `'…'`
    // strings only while this is on (PostgreSQL's default since 9.1). Set in the start-up packet,
    // where a server's or role's own setting cannot turn it off.
    options = options.options([("standard_conforming_strings", "on")]);
    if !statement_timeout.is_zero() {
        // Sent in the start-up packet, so it holds for every statement of every serving
        // connection at no cost per request: one tenant's slow query is cancelled (→ 503) instead
        // of holding a pooled connection that the other tenants need. Migrations, on the owner's
        // pool, are not limited.
        options = options.options([("statement_timeout", statement_timeout.as_millis())]);
    }
    // Each new connection prepares the one-trip messages' statements registered so far
    // (`prepared.rs`); those registered later are prepared when a message first misses them.
    let pool = pool_options(max_connections).after_connect(move |conn, _meta| {
        let prepared = prepared.clone();
        let citus = citus.clone();
        Box::pin(async move {
            // Fatal when it fails: on Citus a connection without it would serve empty lists.
            let on_citus = sqlx::raw_sql(sqlx::AssertSqlSafe(CITUS_ON_CONNECT)).fetch_optional(&mut *conn).await?;
            if on_citus.is_some() {
                citus.store(true, Ordering::Relaxed);
            }
            // Not fatal: a connection opened before the migration made the tables cannot prepare
            // their statements yet; its first one-trip read prepares what it misses.
            if let Some(statements) = prepared.missing(&[])
                && let Err(err) = sqlx::raw_sql(sqlx::AssertSqlSafe(statements)).execute(&mut *conn).await
            {
                tracing::debug!(%err, "preparing the one-trip statements on a new connection");
            }
            Ok(())
        })
    });
    Ok(pool.connect_lazy_with(options))
}

/// What each serving connection runs first: on a database with the `citus` extension, asks
/// Citus to send the transaction's `SET LOCAL` commands on to the workers (its
/// `citus.propagate_set_commands`, off by default), so that the tenant setting reaches the row-level
/// security of the shards (issue 16); a row comes back only there. On plain PostgreSQL it
/// sets nothing and returns no row: one statement per new connection, none per request.
pub const CITUS_ON_CONNECT: &str = "SELECT set_config('citus.propagate_set_commands', 'local', false) \
     FROM pg_extension WHERE extname = 'citus'";

/// Prepares on `conn` the registered statements it lacks (`pg_prepared_statements` says which
/// it has), after a one-trip message named one it had not.
pub(super) async fn prepare_missing(conn: &mut PgConnection, prepared: &Prepared) -> Result<(), DbError> {
    let present: Vec<(String,)> = sqlx::query_as("SELECT name FROM pg_prepared_statements")
        .fetch_all(&mut *conn)
        .await
        .map_err(DbError::classify)?;
    let present: Vec<String> = present.into_iter().map(|(name,)| name).collect();
    if let Some(statements) = prepared.missing(&present) {
        fetch_message(conn, &statements).await?;
    }
    Ok(())
}

/// The user name in a PostgreSQL URL.
pub(super) fn url_user(url: &str) -> Result<String, DbError> {
    Ok(parse_url(url)?.get_username().to_string())
}

/// Binds the transaction to a tenant for row-level security (see `rls.rs`).
pub(super) async fn set_tenant(conn: &mut PgConnection, company_id: uuid::Uuid) -> Result<(), DbError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(set_tenant_statement(company_id)))
        .execute(conn)
        .await
        .map(drop)
        .map_err(DbError::classify)
}

/// Sends `message` (several statements joined by `;`, their values written in) as one
/// simple-protocol `Query`: one round trip, the statements one implicit transaction (PostgreSQL
/// docs, "Multiple Statements in a Simple Query"). Returns each statement's rows, in order; the
/// first error ends the message and rolls the whole of it back.
pub(super) async fn fetch_message(conn: &mut PgConnection, message: &str) -> Result<Vec<Vec<PgRow>>, DbError> {
    use futures_util::TryStreamExt;
    let mut results = vec![Vec::new()];
    let mut stream = sqlx::raw_sql(sqlx::AssertSqlSafe(message)).fetch_many(conn);
    while let Some(item) = stream.try_next().await.map_err(DbError::classify)? {
        match item {
            sqlx::Either::Left(_done) => results.push(Vec::new()),
            sqlx::Either::Right(row) => results.last_mut().expect("never empty").push(row),
        }
    }
    results.pop();
    Ok(results)
}

pub(super) async fn migrate(pool: &PgPool, citus: bool) -> Result<(), DbError> {
    let mut migrator = sqlx::migrate!("./migrations/postgres");
    if citus {
        migrator.migrations = migrator.migrations.iter().map(|m| for_citus(m, &|_| None)).collect::<Vec<_>>().into();
    }
    migrator.run(pool).await.map_err(|e| DbError::Other(format!("core migrations failed: {e}")))
}

/// Whether the `citus` extension is installed: a row, or none.
pub(super) const CITUS_EXTENSION: &str = "SELECT 1 FROM pg_extension WHERE extname = 'citus'";

/// A migration as a Citus coordinator must be sent: its statements one by one in one `DO` block
/// (`script.rs`), after `SET LOCAL citus.multi_shard_modify_mode TO 'sequential'` (a
/// transaction that distributes a table and then adds its foreign keys to a reference table
/// must use one connection per node: Citus's hint). Its checksum stays the file's, so a
/// database migrated before it became a Citus coordinator is not told its files were edited.
/// A migration that runs outside a transaction is left as it is.
///
/// `rewrite` may replace a statement by what Citus accepts in its stead (`migrations/apply.rs`:
/// the framework's own policies as older versions wrote them).
pub fn for_citus(
    migration: &sqlx::migrate::Migration,
    rewrite: &dyn Fn(&str) -> Option<String>,
) -> sqlx::migrate::Migration {
    if migration.no_tx {
        return migration.clone();
    }
    let statements: Vec<String> = super::script::split(migration.sql.as_str())
        .into_iter()
        .map(|s| rewrite(s).unwrap_or_else(|| s.to_string()))
        .collect();
    let block =
        super::script::one_block(&statements.join(";\n"), &["SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"]);
    use sqlx::SqlSafeStr;
    let mut wrapped = migration.clone();
    wrapped.sql = sqlx::AssertSqlSafe(block).into_sql_str();
    wrapped
}

/// Binds [`Value`]s to a sqlx query in order, each NULL with its type. Public for tools that
/// drive sqlx themselves with the framework's statements (the benchmark's `EXPLAIN`).
pub fn bind<'q>(query: Query<'q, Postgres, PgArguments>, params: &'q [Value]) -> Query<'q, Postgres, PgArguments> {
    super::backend::bind(query, params)
}

impl Backend for Postgres {
    #[inline]
    fn bind_value<'q>(query: Query<'q, Postgres, PgArguments>, value: &'q Value) -> Query<'q, Postgres, PgArguments> {
        match value {
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
            Value::I32(v) => query.bind(*v),
            Value::I64(v) => query.bind(*v),
            Value::F64(v) => query.bind(*v),
            Value::Uuid(v) => query.bind(*v),
            Value::Date(v) => query.bind(*v),
            Value::Timestamp(v) => query.bind(*v),
        }
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Each column with the type its reader asks for.
impl RowReader for Reader<'_, PgRow> {
    native_reads! {
        text: String, "text";
        bool: bool, "boolean";
        i32: i32, "32-bit integer";
        i64: i64, "64-bit integer";
        f64: f64, "number";
        date: NaiveDate, "date";
        uuid: Uuid, "UUID";
        timestamp: DateTime<Utc>, "timestamp";
    }
}
