//! The backend seam. Everything above this module speaks [`Value`]s, `$n`-placeholder SQL and
//! [`RowReader`]s; each backend module binds the values for its own driver and reads its rows
//! through a `RowReader`.
//!
//! Adding a backend means: a module beside `postgres.rs` and `sqlite.rs`, a variant in [`Db`],
//! [`Tx`] and [`Dialect`], its DDL types in `schema.rs`, and its core migrations folder.
//! sqlx's `Any` driver is not used: it has no UUID, date or timestamp types.

pub mod postgres;
mod sqlite;

use std::borrow::Cow;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::row::{ByTypes, RowDecoder};
use crate::value::{DecodeError, FieldType, Value};

/// A decoded row, in the order of the statement's columns.
pub type Row = Vec<Value>;

/// A driver's row, read left to right by a backend's [`RowReader`] impl: each call takes the
/// next column. A value that does not decode as asked is a [`DecodeError`] naming the column.
struct Reader<'r, R> {
    row: &'r R,
    next: usize,
}

impl<'r, R: sqlx::Row> Reader<'r, R> {
    fn new(row: &'r R) -> Self {
        Reader { row, next: 0 }
    }

    #[inline]
    fn get<T>(&mut self, column: &'static str, expected: &'static str) -> Result<Option<T>, DecodeError>
    where
        T: for<'v> sqlx::Decode<'v, R::Database> + sqlx::Type<R::Database>,
        usize: sqlx::ColumnIndex<R>,
    {
        let index = self.next;
        self.next += 1;
        self.row.try_get(index).map_err(|e| DecodeError {
            column,
            expected,
            found: match e {
                sqlx::Error::ColumnIndexOutOfBounds { .. } | sqlx::Error::ColumnNotFound(_) => "no column",
                _ => "a column of another type",
            },
        })
    }
}

/// `RowReader` methods that decode the column with the driver's own type (`Reader::get`):
/// `native_reads!(text: String, "text"; …)` inside a backend's `impl RowReader`.
macro_rules! native_reads {
    ($($method:ident: $t:ty, $expected:literal;)*) => {
        $(
            #[inline]
            fn $method(&mut self, column: &'static str) -> Result<Option<$t>, DecodeError> {
                self.get(column, $expected)
            }
        )*
    };
}
use native_reads;

/// Which SQL dialect a backend speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// The dialect a `DATABASE_URL` speaks, without connecting.
    pub fn of_url(url: &str) -> Dialect {
        if is_postgres_url(url) { Dialect::Postgres } else { Dialect::Sqlite }
    }

    pub fn supports_row_locks(self) -> bool {
        matches!(self, Dialect::Postgres)
    }
}

/// SQL text: either written into the program (`&'static str`, e.g. by the macro) or assembled at
/// run time **only from static fragments** (column names from a [`crate::ResourceDesc`],
/// keywords, `$n` placeholders). Client input is never part of SQL text; it is always bound.
#[derive(Debug, Clone)]
pub struct Sql(Cow<'static, str>);

impl Sql {
    /// Assembled text. The caller vouches that it holds no client input (see the type's docs).
    pub fn assembled(text: String) -> Sql {
        Sql(Cow::Owned(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn into_sqlx(self) -> sqlx::AssertSqlSafe<Cow<'static, str>> {
        // Safe by construction: see the type's documentation.
        sqlx::AssertSqlSafe(self.0)
    }
}

impl From<&'static str> for Sql {
    fn from(text: &'static str) -> Sql {
        Sql(Cow::Borrowed(text))
    }
}

/// A database failure, classified so the HTTP layer can answer precisely.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint was violated. PostgreSQL names the constraint; SQLite lists the
    /// columns. Either is matched against the schema's naming in `schema.rs`.
    #[error("unique violation (constraint {constraint:?}, columns {columns:?})")]
    Unique { constraint: Option<String>, columns: Vec<String> },
    /// A foreign key was violated (a missing referent on write, dependants on delete).
    #[error("foreign key violation")]
    ForeignKey,
    /// The database cannot be reached (connection refused, pool timed out, …).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A statement ran past `statement_timeout` and was cancelled (PostgreSQL `57014`).
    #[error("statement timeout")]
    Timeout,
    /// A `NOWAIT` row lock found the row locked (PostgreSQL `55P03`).
    #[error("row lock not available")]
    LockNotAvailable,
    /// A value did not have the expected type.
    #[error(transparent)]
    Decode(#[from] crate::value::DecodeError),
    /// Anything else: a bug or a schema mismatch.
    #[error("database error: {0}")]
    Other(String),
}

impl DbError {
    fn classify(err: sqlx::Error) -> DbError {
        match err {
            sqlx::Error::Database(db) => {
                use sqlx::error::ErrorKind;
                match db.kind() {
                    ErrorKind::UniqueViolation => DbError::Unique {
                        constraint: db.constraint().map(str::to_string),
                        columns: sqlite::unique_columns(db.message()),
                    },
                    ErrorKind::ForeignKeyViolation => DbError::ForeignKey,
                    _ if db.code().as_deref() == Some(QUERY_CANCELED) => DbError::Timeout,
                    _ if db.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => DbError::LockNotAvailable,
                    _ => DbError::Other(db.to_string()),
                }
            }
            sqlx::Error::Io(e) => DbError::Unavailable(e.to_string()),
            sqlx::Error::PoolTimedOut => DbError::Unavailable("timed out waiting for a connection".into()),
            sqlx::Error::PoolClosed => DbError::Unavailable("pool closed".into()),
            sqlx::Error::Tls(e) => DbError::Unavailable(e.to_string()),
            other => DbError::Other(other.to_string()),
        }
    }
}

/// The setting that carries the active company through a transaction.
pub const TENANT_SETTING: &str = "app.company_id";

/// Sets the tenant of the current transaction (transaction-local: gone at commit or rollback,
/// so a pooled connection never carries it into another request). For raw transactions
/// ([`Tx::set_tenant`]); requests set it while resolving the membership.
pub const SET_TENANT: &str = "SELECT set_config('app.company_id', $1, true)";

/// PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout` (or a cancel request).
const QUERY_CANCELED: &str = "57014";
/// PostgreSQL's SQLSTATE for a `NOWAIT` lock that found its row locked.
const LOCK_NOT_AVAILABLE: &str = "55P03";

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A connection pool to one backend. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
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
            postgres::connect(url, max_connections).await.map(Db::Postgres)
        } else if url.starts_with("sqlite:") {
            sqlite::connect(url, max_connections).await.map(Db::Sqlite)
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
        let pool = match &config.app_database_url {
            Some(url) => postgres::connect_lazy(url, None, max, timeout)?,
            None => postgres::connect_lazy(
                &config.database_url,
                Some((config.app_role.as_str(), config.app_password.as_str())),
                max,
                timeout,
            )?,
        };
        Ok(Db::Postgres(pool))
    }

    /// The role requests are served as, for grants (PostgreSQL only).
    pub fn serving_role(config: &crate::Config) -> Result<String, DbError> {
        match &config.app_database_url {
            Some(url) => postgres::url_user(url),
            None => Ok(config.app_role.clone()),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Postgres(_) => Dialect::Postgres,
            Db::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs the core migrations (users, companies, memberships) of this backend.
    pub async fn migrate_core(&self) -> Result<(), DbError> {
        match self {
            Db::Postgres(pool) => postgres::migrate(pool).await,
            Db::Sqlite(pool) => sqlite::migrate(pool).await,
        }
    }

    pub async fn begin(&self, mode: TxMode) -> Result<Tx, DbError> {
        match self {
            Db::Postgres(pool) => pool.begin().await.map(Tx::Postgres).map_err(DbError::classify),
            Db::Sqlite(pool) => {
                let begin = match mode {
                    TxMode::Read => "BEGIN",
                    TxMode::Write => "BEGIN IMMEDIATE",
                };
                pool.begin_with(begin).await.map(Tx::Sqlite).map_err(DbError::classify)
            }
        }
    }

    /// Runs one statement on a pooled connection, outside any transaction (schema set-up,
    /// statements such as `CREATE DATABASE` that refuse to run inside one).
    pub async fn execute(&self, sql: impl Into<Sql>, params: &[Value]) -> Result<u64, DbError> {
        let sql = sql.into();
        match self {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(DbError::classify)?;
                postgres::execute(&mut conn, sql, params).await
            }
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(DbError::classify)?;
                sqlite::execute(&mut conn, sql, params).await
            }
        }
    }

    /// Runs one query on a pooled connection, outside any transaction (a single read needs none),
    /// and decodes its first row by `types` (one per selected column).
    pub async fn fetch_optional(
        &self,
        sql: impl Into<Sql>,
        params: &[Value],
        types: &[FieldType],
    ) -> Result<Option<Row>, DbError> {
        let sql = sql.into();
        let decoder = &mut ByTypes(types);
        match self {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(DbError::classify)?;
                postgres::fetch_optional_with(&mut conn, sql, params, decoder).await
            }
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(DbError::classify)?;
                sqlite::fetch_optional_with(&mut conn, sql, params, decoder).await
            }
        }
    }

    /// `SELECT 1`, for `/healthz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.fetch_optional("SELECT 1", &[], &[FieldType::I32]).await.map(drop)
    }

    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite(pool) => pool.close().await,
        }
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

    /// Runs a query and builds one output of `decoder` per row, straight from the driver's row.
    pub async fn fetch_all_with<D: RowDecoder + Send>(
        &mut self,
        sql: impl Into<Sql>,
        params: &[Value],
        decoder: &mut D,
    ) -> Result<Vec<D::Output>, DbError> {
        let sql = sql.into();
        match self {
            Tx::Postgres(tx) => postgres::fetch_all_with(tx, sql, params, decoder).await,
            Tx::Sqlite(tx) => sqlite::fetch_all_with(tx, sql, params, decoder).await,
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
            Tx::Postgres(tx) => postgres::fetch_optional_with(tx, sql, params, decoder).await,
            Tx::Sqlite(tx) => sqlite::fetch_optional_with(tx, sql, params, decoder).await,
        }
    }

    /// Runs a statement; returns the number of rows affected.
    pub async fn execute(&mut self, sql: impl Into<Sql>, params: &[Value]) -> Result<u64, DbError> {
        let sql = sql.into();
        match self {
            Tx::Postgres(tx) => postgres::execute(tx, sql, params).await,
            Tx::Sqlite(tx) => sqlite::execute(tx, sql, params).await,
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
