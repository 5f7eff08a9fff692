//! The backend seam. Everything above this module speaks [`Value`]s, `$n`-placeholder SQL and
//! [`RowReader`](crate::value::RowReader)s; each backend module binds the values for its own driver and reads its rows
//! through a `RowReader`.
//!
//! The query functions are written once, in `backend.rs`, over its `Backend` trait. Adding a
//! backend means: a module beside `postgres.rs` and `sqlite.rs` implementing `Backend` (binding)
//! and `RowReader` (reading), a variant in [`Db`], [`Tx`] and [`Dialect`], its DDL types in
//! `schema.rs`, and its core migrations folder.
//! sqlx's `Any` driver is not used: it has no UUID, date or timestamp types.

mod backend;
mod literal;
pub mod postgres;
mod prepared;
pub mod script;
mod shard_name;
mod sql;
mod sql_builder;
mod sqlite;

#[doc(hidden)]
pub use literal::{inline_params, write_literal};
pub(crate) use sql::tenant_setting;
pub use sql::{DbError, Dialect, Row, Sql, TENANT_SETTING, is_postgres_url, set_tenant_statement};
pub use sql_builder::{Param, Span, SqlBuilder};
pub(crate) use sqlite::timestamp_text;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::row::{ByTypes, Columns, FromColumns, RowDecoder};
use crate::value::{FieldType, Value};
use prepared::Prepared;

/// A connection pool to one backend, and how many tasks are waiting on it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    waiting: Arc<AtomicUsize>,
    /// The statements one-trip messages send by name (PostgreSQL, `prepared.rs`).
    prepared: Arc<Prepared>,
    /// Whether a connection of this pool found the `citus` extension ([`Db::is_citus`]).
    citus: Arc<AtomicBool>,
}

/// The driver's pool of one backend ([`Db::pool`]): sqlx's migrator and anything else that
/// takes a pool directly.
#[derive(Clone, Debug)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl From<Pool> for Db {
    fn from(pool: Pool) -> Db {
        Db { pool, waiting: Arc::default(), prepared: Arc::default(), citus: Arc::default() }
    }
}

/// A snapshot of the pool's connections ([`Db::stats`]), for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, idle or in use (sqlx's `Pool::size`).
    pub size: u32,
    /// Open connections not in use (sqlx's `Pool::num_idle`).
    pub idle: u32,
    /// The most connections the pool opens (`DATABASE_MAX_CONNECTIONS`).
    pub max: u32,
    /// Tasks waiting for a connection: counted from the request for one until it is handed
    /// over, and for a transaction until its `BEGIN` is answered (sqlx opens both in one call;
    /// on SQLite a writer's `BEGIN IMMEDIATE` also waits there for the write lock).
    pub waiting: u32,
}

/// Counts a task as waiting on the pool while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Waiting<'a> {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether a transaction will write. SQLite takes its write lock up front for writers
/// (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a read lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    Read,
    Write,
}

impl Db {
    /// Connects to `url`: `postgres://…` / `postgresql://…`, or `sqlite:…` (created if missing).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbError> {
        if is_postgres_url(url) {
            postgres::connect(url, max_connections).await.map(|pool| Pool::Postgres(pool).into())
        } else if url.starts_with("sqlite:") {
            sqlite::connect(url, max_connections).await.map(|pool| Pool::Sqlite(pool).into())
        } else {
            Err(DbError::Other("DATABASE_URL must start with postgres://, postgresql:// or sqlite:".to_string()))
        }
    }

    /// The pool requests are served with. On SQLite, `DATABASE_URL`. On PostgreSQL, a role that
    /// is subject to row-level security: `DATABASE_APP_URL`, or `DATABASE_URL` as the app role
    /// (see [`Config`](crate::Config)). It connects lazily: the migration may create the role.
    pub async fn connect_serving(config: &crate::Config) -> Result<Db, DbError> {
        let max = config.max_connections;
        if !is_postgres_url(&config.database_url) {
            return Db::connect(&config.database_url, max).await;
        }
        let timeout = config.statement_timeout;
        let prepared = Arc::<Prepared>::default();
        let citus = Arc::<AtomicBool>::default();
        let pool = match &config.app_database_url {
            Some(url) => postgres::connect_lazy(url, None, max, timeout, prepared.clone(), citus.clone())?,
            None => postgres::connect_lazy(
                &config.database_url,
                Some((config.app_role.as_str(), config.app_password.as_str())),
                max,
                timeout,
                prepared.clone(),
                citus.clone(),
            )?,
        };
        Ok(Db { pool: Pool::Postgres(pool), waiting: Arc::default(), prepared, citus })
    }

    /// The role requests are served as, for grants (PostgreSQL only).
    pub fn serving_role(config: &crate::Config) -> Result<String, DbError> {
        match &config.app_database_url {
            Some(url) => postgres::url_user(url),
            None => Ok(config.app_role.clone()),
        }
    }

    /// Where this pool connects, for a person to read (never a password): `SQLite <file>`
    /// (`SQLite :memory:` for an in-memory database) or `PostgreSQL <host>:<port>/<database>`,
    /// from the pool's own connection settings, with ` (Citus coordinator)` once a connection found
    /// the extension ([`Db::is_citus`]).
    pub fn location(&self) -> String {
        match &self.pool {
            Pool::Postgres(pool) => {
                let options = pool.connect_options();
                let database = options.get_database().unwrap_or(options.get_username());
                let citus = if self.is_citus() { " (Citus coordinator)" } else { "" };
                format!("PostgreSQL {}:{}/{database}{citus}", options.get_host(), options.get_port())
            }
            Pool::Sqlite(pool) => format!("SQLite {}", pool.connect_options().get_filename().display()),
        }
    }

    /// Whether this is the serving pool of a Citus cluster's coordinator: one of its connections
    /// found the `citus` extension when it opened (and asked Citus to pass `SET LOCAL` on to the
    /// workers, `postgres::CITUS_ON_CONNECT`). Known before the first request that could need it,
    /// since every connection checks before it is first used. Requests then set their tenant
    /// with `SET LOCAL` ([`set_tenant_statement`]) and take no one-trip read (`tenant_read.rs`),
    /// whose `set_config` would not reach the workers. Always `false` for SQLite and for pools
    /// made with [`Db::connect`] (the migration's, which asks the catalog itself: `citus.rs`).
    pub fn is_citus(&self) -> bool {
        self.citus.load(Ordering::Relaxed)
    }

    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Whether the database has the `citus` extension, read from the catalog now (the
    /// migration's pools, which [`Db::is_citus`] does not cover). `false` on SQLite.
    ///
    /// # Errors
    ///
    /// The catalog cannot be read.
    pub async fn has_citus_extension(&self) -> Result<bool, DbError> {
        if self.dialect() != Dialect::Postgres {
            return Ok(false);
        }
        let found = self.fetch_optional(postgres::CITUS_EXTENSION, &[], &[FieldType::I32]).await?;
        Ok(found.is_some())
    }

    /// Runs the core migrations (users, companies, memberships) of this backend; on Citus each
    /// as one block of separate statements (`script.rs`).
    pub async fn migrate_core(&self) -> Result<(), DbError> {
        match &self.pool {
            Pool::Postgres(pool) => postgres::migrate(pool, self.has_citus_extension().await?).await,
            Pool::Sqlite(pool) => sqlite::migrate(pool).await,
        }
    }

    pub async fn begin(&self, mode: TxMode) -> Result<Tx, DbError> {
        let _waiting = Waiting::new(&self.waiting);
        match &self.pool {
            // `BEGIN` is a transaction's first statement: on a connection that died in the pool
            // (no ping before checkout, `postgres.rs`) it never ran, and is sent again on another
            // (`Db::may_retry`).
            Pool::Postgres(pool) => {
                let mut lost = 0;
                loop {
                    match pool.begin().await.map_err(DbError::classify) {
                        Err(DbError::ConnectionLost(_)) if self.may_retry(&mut lost) => {}
                        other => break other.map(Tx::Postgres),
                    }
                }
            }
            Pool::Sqlite(pool) => {
                let begin = match mode {
                    TxMode::Read => "BEGIN",
                    TxMode::Write => "BEGIN IMMEDIATE",
                };
                pool.begin_with(begin).await.map(Tx::Sqlite).map_err(DbError::classify)
            }
        }
    }

    /// `sql` with `params` as one statement of a one-trip message ([`Db::read_in_one_trip`]):
    /// `EXECUTE` of the statement prepared on every connection, its
    /// values written in as literals and `$1` as `first` (`prepared.rs`, `literal.rs`). `None`
    /// when a value cannot be written; the caller then binds it on the slower path.
    pub(crate) fn one_trip_statement(&self, sql: &str, params: &[Value], first: &str) -> Option<String> {
        self.prepared.statement(sql, params, first)
    }

    /// Registers `sql`, a statement of the one-trip messages that every request may send, to be
    /// prepared on each connection as it opens (before the first one opens: at start-up).
    pub(crate) fn prepare_on_connect(&self, sql: &str) {
        self.prepared.register(sql);
    }

    /// Two reads in one round trip (PostgreSQL only): `first`, then `second`, sent as one
    /// simple-protocol message and run as one implicit transaction, so a transaction-local
    /// setting made by `first` holds for `second` and is gone after. Both as
    /// [`Db::one_trip_statement`] writes them. Each statement's rows go through its decoder.
    ///
    /// Both must be reads (the caller's promise): on a connection lost before the answer, the
    /// message is sent again on another connection (`Db::may_retry`), which is only harmless for reads.
    pub(crate) async fn read_in_one_trip<A: RowDecoder, B: RowDecoder>(
        &self,
        first: &str,
        second: &str,
        a: &mut A,
        b: &mut B,
    ) -> Result<(Vec<A::Output>, Vec<B::Output>), DbError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(DbError::Other("one-trip reads are PostgreSQL's".into()));
        };
        let message = format!("{first};{second}");
        let mut lost = 0;
        let results = loop {
            let mut conn = self.acquire(pool).await?;
            match postgres::fetch_message(&mut conn, &message).await {
                Err(DbError::ConnectionLost(_)) if self.may_retry(&mut lost) => {}
                // Nothing ran (the message stops at its first error): prepare, send again.
                Err(DbError::NotPrepared) => {
                    postgres::prepare_missing(&mut conn, &self.prepared).await?;
                    break postgres::fetch_message(&mut conn, &message).await?;
                }
                other => break other?,
            }
        };
        let [first_rows, second_rows] = <[Vec<_>; 2]>::try_from(results)
            .map_err(|r| DbError::Other(format!("a two-statement message answered {} results", r.len())))?;
        let mut out_a = Vec::with_capacity(first_rows.len());
        for row in &first_rows {
            out_a.push(a.decode(&mut sql::Reader::new(row))?);
        }
        let mut out_b = Vec::with_capacity(second_rows.len());
        for row in &second_rows {
            out_b.push(b.decode(&mut sql::Reader::new(row))?);
        }
        Ok((out_a, out_b))
    }

    /// Runs one statement on a pooled connection, outside any transaction (schema set-up,
    /// statements such as `CREATE DATABASE` that refuse to run inside one).
    pub async fn execute(&self, sql: impl Into<Sql>, params: &[Value]) -> Result<u64, DbError> {
        let sql = sql.into();
        match &self.pool {
            Pool::Postgres(pool) => {
                let mut conn = self.acquire(pool).await?;
                backend::execute::<Postgres>(&mut conn, sql, params).await
            }
            Pool::Sqlite(pool) => {
                let mut conn = self.acquire(pool).await?;
                backend::execute::<Sqlite>(&mut conn, sql, params).await
            }
        }
    }

    /// Runs one query on a pooled connection, outside any transaction (a single read needs none),
    /// and decodes its first row by `types` (one per selected column). Reads only: on a
    /// connection lost under it ([`DbError::ConnectionLost`]), it runs again on another (`Db::may_retry`).
    pub async fn fetch_optional(
        &self,
        sql: impl Into<Sql>,
        params: &[Value],
        types: &[FieldType],
    ) -> Result<Option<Row>, DbError> {
        self.read_optional_with(sql.into(), params, &mut ByTypes(types)).await
    }

    /// Runs one query on a pooled connection, outside any transaction, and reads its first row
    /// as a tuple of the columns named `columns` (see [`Columns`]). Reads only, retried as
    /// [`Db::fetch_optional`].
    pub async fn fetch_optional_as<T: FromColumns<N>, const N: usize>(
        &self,
        sql: impl Into<Sql>,
        params: &[Value],
        columns: [&'static str; N],
    ) -> Result<Option<T>, DbError> {
        self.read_optional_with(sql.into(), params, &mut Columns::new(columns)).await
    }

    /// One read on a pooled connection, sent again on another while the ones it gets turn out
    /// dead (the pool does not ping before checkout, `postgres.rs`).
    async fn read_optional_with<D: RowDecoder>(
        &self,
        sql: Sql,
        params: &[Value],
        decoder: &mut D,
    ) -> Result<Option<D::Output>, DbError> {
        let mut lost = 0;
        loop {
            let result = match &self.pool {
                Pool::Postgres(pool) => {
                    let mut conn = self.acquire(pool).await?;
                    backend::fetch_optional_with::<Postgres, _>(&mut conn, sql.clone(), params, decoder).await
                }
                Pool::Sqlite(pool) => {
                    let mut conn = self.acquire(pool).await?;
                    backend::fetch_optional_with::<Sqlite, _>(&mut conn, sql.clone(), params, decoder).await
                }
            };
            match result {
                Err(DbError::ConnectionLost(_)) if self.may_retry(&mut lost) => {}
                other => return other,
            }
        }
    }

    /// `SELECT 1`, for `/healthz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.fetch_optional("SELECT 1", &[], &[FieldType::I32]).await.map(drop)
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Postgres(pool) => pool.close().await,
            Pool::Sqlite(pool) => pool.close().await,
        }
    }

    /// The driver's pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The pool's connections now (see [`PoolStats`]).
    pub fn stats(&self) -> PoolStats {
        let (size, idle, max) = match &self.pool {
            Pool::Postgres(pool) => (pool.size(), pool.num_idle(), pool.options().get_max_connections()),
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle(), pool.options().get_max_connections()),
        };
        let waiting = self.waiting.load(Ordering::Relaxed);
        PoolStats {
            size,
            idle: idle.try_into().unwrap_or(u32::MAX),
            max,
            waiting: waiting.try_into().unwrap_or(u32::MAX),
        }
    }

    /// Whether a statement that found its connection dead ([`DbError::ConnectionLost`]) may be
    /// sent again, counting the connections lost so far in `lost`. A restart or failover kills
    /// every pooled connection at once, so the next checkouts may all be dead ones (each is
    /// closed as it fails): up to the pool's size, plus one fresh connection.
    fn may_retry(&self, lost: &mut u32) -> bool {
        *lost += 1;
        let max = match &self.pool {
            Pool::Postgres(pool) => pool.options().get_max_connections(),
            Pool::Sqlite(pool) => pool.options().get_max_connections(),
        };
        *lost <= max
    }

    /// A connection of `pool` (this `Db`'s), counted as waiting until it is handed over.
    async fn acquire<DB: sqlx::Database>(
        &self,
        pool: &sqlx::Pool<DB>,
    ) -> Result<sqlx::pool::PoolConnection<DB>, DbError> {
        let _waiting = Waiting::new(&self.waiting);
        pool.acquire().await.map_err(DbError::classify)
    }
}

/// One open transaction. Every request that touches the database works inside one.
pub enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Postgres(_) => Dialect::Postgres,
            Tx::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Binds the transaction to a company where the backend enforces it itself (PostgreSQL
    /// row-level security); a no-op on SQLite, where query scoping is the guard.
    pub async fn set_tenant(&mut self, company_id: uuid::Uuid) -> Result<(), DbError> {
        match self {
            Tx::Postgres(tx) => postgres::set_tenant(tx, company_id).await,
            Tx::Sqlite(_) => Ok(()),
        }
    }

    /// Runs a query and decodes every row by `types` (one per selected column).
    pub async fn fetch_all(
        &mut self,
        sql: impl Into<Sql>,
        params: &[Value],
        types: &[FieldType],
    ) -> Result<Vec<Row>, DbError> {
        self.fetch_all_with(sql, params, &mut ByTypes(types)).await
    }

    /// Runs a query and decodes its first row, if any, by `types`.
    pub async fn fetch_optional(
        &mut self,
        sql: impl Into<Sql>,
        params: &[Value],
        types: &[FieldType],
    ) -> Result<Option<Row>, DbError> {
        self.fetch_optional_with(sql, params, &mut ByTypes(types)).await
    }

    /// Runs a query and reads every row as a tuple of the columns named `columns` (see
    /// [`Columns`]): `let rows: Vec<(Uuid, String)> = tx.fetch_all_as(sql, &params, ["id", "name"])`.
    pub async fn fetch_all_as<T: FromColumns<N> + Send, const N: usize>(
        &mut self,
        sql: impl Into<Sql>,
        params: &[Value],
        columns: [&'static str; N],
    ) -> Result<Vec<T>, DbError> {
        self.fetch_all_with(sql, params, &mut Columns::new(columns)).await
    }

    /// Runs a query and reads its first row, if any, as a tuple of the columns named `columns`.
    pub async fn fetch_optional_as<T: FromColumns<N> + Send, const N: usize>(
        &mut self,
        sql: impl Into<Sql>,
        params: &[Value],
        columns: [&'static str; N],
    ) -> Result<Option<T>, DbError> {
        self.fetch_optional_with(sql, params, &mut Columns::new(columns)).await
    }

    /// Runs a query and builds one output of `decoder` per row, straight from the driver's row.
    pub async fn fetch_all_with<D: RowDecoder + Send>(
        &mut self,
        sql: impl Into<Sql>,
        params: &[Value],
        decoder: &mut D,
    ) -> Result<Vec<D::Output>, DbError> {
        let sql = sql.into();
        match self {
            Tx::Postgres(tx) => backend::fetch_all_with::<Postgres, _>(tx, sql, params, decoder).await,
            Tx::Sqlite(tx) => backend::fetch_all_with::<Sqlite, _>(tx, sql, params, decoder).await,
        }
    }

    /// Runs a query and builds an output of `decoder` from its first row, if any.
    pub async fn fetch_optional_with<D: RowDecoder + Send>(
        &mut self,
        sql: impl Into<Sql>,
        params: &[Value],
        decoder: &mut D,
    ) -> Result<Option<D::Output>, DbError> {
        let sql = sql.into();
        match self {
            Tx::Postgres(tx) => backend::fetch_optional_with::<Postgres, _>(tx, sql, params, decoder).await,
            Tx::Sqlite(tx) => backend::fetch_optional_with::<Sqlite, _>(tx, sql, params, decoder).await,
        }
    }

    /// Runs a statement; returns the number of rows affected.
    pub async fn execute(&mut self, sql: impl Into<Sql>, params: &[Value]) -> Result<u64, DbError> {
        let sql = sql.into();
        match self {
            Tx::Postgres(tx) => backend::execute::<Postgres>(tx, sql, params).await,
            Tx::Sqlite(tx) => backend::execute::<Sqlite>(tx, sql, params).await,
        }
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Postgres(tx) => tx.commit().await,
            Tx::Sqlite(tx) => tx.commit().await,
        }
        .map_err(DbError::classify)
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        match self {
            Tx::Postgres(tx) => tx.rollback().await,
            Tx::Sqlite(tx) => tx.rollback().await,
        }
        .map_err(DbError::classify)
    }
}
