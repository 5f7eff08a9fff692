//! What every backend module shares, below them all: the SQL text type, the dialects, how a
//! driver error is classified into a [`DbError`] (constraint violations, timeouts, locks), the
//! row reader over sqlx rows, and the name of the transaction-local tenant setting.

use std::borrow::Cow;

use crate::value::{DecodeError, Value};

/// A decoded row, in the order of the statement's columns.
pub type Row = Vec<Value>;

/// A driver's row, read left to right by a backend's [`RowReader`] impl: each call takes the
/// next column. A value that does not decode as asked is a [`DecodeError`] naming the column.
pub(super) struct Reader<'r, R> {
    row: &'r R,
    next: usize,
}

impl<'r, R: sqlx::Row> Reader<'r, R> {
    pub(super) fn new(row: &'r R) -> Self {
        Reader { row, next: 0 }
    }

    #[inline]
    pub(super) fn get<T>(&mut self, column: &'static str, expected: &'static str) -> Result<Option<T>, DecodeError>
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
pub(super) use native_reads;

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
/// keywords, `$n` placeholders). Client input is never part of an `Sql`; it is bound, or, for
/// the one-trip reads only, written in as typed literals by `literal.rs` into a separate string
/// (see its rules).
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

    pub(super) fn into_sqlx(self) -> sqlx::AssertSqlSafe<Cow<'static, str>> {
        // Safe by construction: see the type's documentation.
        sqlx::AssertSqlSafe(self.0)
    }
}

impl From<&'static str> for Sql {
    fn from(text: &'static str) -> Sql {
        Sql(Cow::Borrowed(text))
    }
}

/// A database failure, classified so the HTTP layer can answer precisely: `?` in a handler
/// turns it into an [`ApiError`](crate::ApiError) (503 for [`DbError::Unavailable`], [`DbError::ConnectionLost`],
/// [`DbError::Timeout`], [`DbError::LockNotAvailable`] and [`DbError::Busy`], 500 for the rest). [`App::migrate`](crate::App::migrate) returns it as
/// is.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint was violated. PostgreSQL names the constraint; SQLite lists the
    /// columns. Either is matched against the schema's naming in `schema.rs`.
    #[error("unique violation (constraint {constraint:?}, columns {columns:?})")]
    Unique {
        /// The constraint's name (PostgreSQL), `<table>_<field>_key` for a unique field.
        constraint: Option<String>,
        /// The constrained columns (SQLite), `company_id` among them.
        columns: Vec<String>,
    },
    /// A foreign key was violated (a missing referent on write, dependants on delete).
    #[error("foreign key violation")]
    ForeignKey,
    /// The database cannot be reached (connection refused, pool timed out, …).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The connection broke under the statement (an I/O error, or a backend terminated while it
    /// sat in the pool: `57P01`, `57P02`, class `08`). The pool pings no connection before
    /// handing it out (issue 15), so a transaction's first statement, or a read, is sent once
    /// more on a fresh connection when this comes back (`Db`); elsewhere it is a 503 as
    /// [`DbError::Unavailable`].
    #[error("database connection lost: {0}")]
    ConnectionLost(String),
    /// A statement ran past `statement_timeout` and was cancelled (PostgreSQL `57014`).
    #[error("statement timeout")]
    Timeout,
    /// A `NOWAIT` row lock found the row locked (PostgreSQL `55P03`).
    #[error("row lock not available")]
    LockNotAvailable,
    /// The database is busy with others' work and this may succeed if tried again: SQLite's
    /// lock held by another connection past the busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`),
    /// PostgreSQL's serialization failure or deadlock (`40001`, `40P01`). 503 with `Retry-After`.
    #[error("database busy: {0}")]
    Busy(String),
    /// A one-trip message named a prepared statement its connection does not have (`26000`):
    /// prepared there, the message is sent again (`Db`).
    #[error("prepared statement missing on the connection")]
    NotPrepared,
    /// A value did not have the expected type.
    #[error(transparent)]
    Decode(#[from] crate::value::DecodeError),
    /// Anything else: a bug or a schema mismatch.
    #[error("database error: {0}")]
    Other(String),
}

impl DbError {
    /// Whether this is a violation of the unique index `constraint` over `columns`: PostgreSQL
    /// names the constraint, SQLite lists the columns (`UNIQUE constraint failed: t.a, t.b`).
    /// The one mapping from a constraint error to what it concerns, for the core tables and the
    /// resources' `UNIQUE (company_id, field)` alike.
    ///
    /// On Citus the violation is a shard's: its constraint's name carries the shard's id
    /// (`customers_email_key_102008`), and the error as the coordinator passes it on names no
    /// constraint at all, only its message does (issue 16). So a name matches as itself or as
    /// the name Citus gives its copy on a shard (`shard_name.rs`: `_<shard id>` appended, a long
    /// name clipped and hashed first); the columns of PostgreSQL's detail (`Key (company_id,
    /// email)=(…) already exists.`, absent where row-level security is on) match as SQLite's do.
    pub fn violates_unique(&self, constraint: &str, columns: &[&str]) -> bool {
        let DbError::Unique { constraint: name, columns: cols } = self else {
            return false;
        };
        let named = name.as_deref().is_some_and(|name| super::shard_name::is_name_or_shard_of(name, constraint));
        named || (!cols.is_empty() && cols.len() == columns.len() && cols.iter().zip(columns).all(|(a, b)| a == b))
    }

    /// A unique violation as the server reported it: the constraint's name where the error
    /// carries it, else the one its message quotes (Citus passes a worker's error on without the
    /// field); the columns from PostgreSQL's detail, else from SQLite's message.
    pub fn unique_violation(constraint: Option<&str>, message: &str, detail: Option<&str>) -> DbError {
        DbError::Unique {
            constraint: constraint.map(str::to_string).or_else(|| quoted_constraint(message)),
            columns: match detail {
                Some(detail) => key_columns(detail),
                None => unique_columns(message),
            },
        }
    }

    pub(super) fn classify(err: sqlx::Error) -> DbError {
        match err {
            sqlx::Error::Database(db) => {
                use sqlx::error::ErrorKind;
                match db.kind() {
                    ErrorKind::UniqueViolation => {
                        let detail =
                            db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().and_then(|pg| pg.detail());
                        DbError::unique_violation(db.constraint(), db.message(), detail)
                    }
                    ErrorKind::ForeignKeyViolation => DbError::ForeignKey,
                    _ => match db.code().as_deref() {
                        Some(QUERY_CANCELED) => DbError::Timeout,
                        Some(LOCK_NOT_AVAILABLE) => DbError::LockNotAvailable,
                        Some(super::prepared::UNDEFINED_PREPARED_STATEMENT) => DbError::NotPrepared,
                        Some(code) if is_busy(code) => DbError::Busy(db.to_string()),
                        Some(code) if is_connection_lost(code) => DbError::ConnectionLost(db.to_string()),
                        Some(code) if is_unavailable(code) => DbError::Unavailable(db.to_string()),
                        _ => DbError::Other(db.to_string()),
                    },
                }
            }
            sqlx::Error::Io(e) => DbError::ConnectionLost(e.to_string()),
            sqlx::Error::PoolTimedOut => DbError::Unavailable("timed out waiting for a connection".into()),
            sqlx::Error::PoolClosed => DbError::Unavailable("pool closed".into()),
            sqlx::Error::Tls(e) => DbError::Unavailable(e.to_string()),
            other => DbError::Other(other.to_string()),
        }
    }
}

/// The setting's name as a literal, for `concat!` in the statements that read or set it
/// (`tenant.rs`, `rls.rs`): the one place it is spelled.
macro_rules! tenant_setting {
    () => {
        "app.company_id"
    };
}
pub(crate) use tenant_setting;

/// The setting that carries the active company through a transaction.
pub const TENANT_SETTING: &str = tenant_setting!();

/// `SET LOCAL app.company_id = '<company>'`: sets the tenant of the current transaction
/// (transaction-local: gone at commit or rollback, so a pooled connection never carries it into
/// another request). For raw transactions ([`Tx::set_tenant`](crate::db::Tx::set_tenant)), and
/// for requests on Citus, where the membership statement cannot set it (`tenant.rs`).
///
/// A `SET LOCAL` command rather than `set_config(…, true)`, which does the same on one server:
/// Citus sends `SET LOCAL` on to the workers the transaction uses (with
/// `citus.propagate_set_commands = 'local'`, `db/citus.rs`) and never `set_config`, so on a
/// cluster the workers' row-level security would see no tenant (issue 16). A UUID's text needs no
/// quoting beyond the quotes; `SET` takes no parameters.
pub fn set_tenant_statement(company_id: uuid::Uuid) -> String {
    format!(concat!("SET LOCAL ", tenant_setting!(), " = '{}'"), company_id.hyphenated())
}

/// PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout` (or a cancel request).
const QUERY_CANCELED: &str = "57014";
/// PostgreSQL's SQLSTATE for a `NOWAIT` lock that found its row locked.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// SQLite's busy and locked result codes, primary and extended (`SQLITE_BUSY` 5,
/// `SQLITE_BUSY_RECOVERY` 261, `SQLITE_BUSY_SNAPSHOT` 517, `SQLITE_BUSY_TIMEOUT` 773,
/// `SQLITE_LOCKED` 6, `SQLITE_LOCKED_SHAREDCACHE` 262: sqlite.org/rescode.html), and
/// PostgreSQL's `serialization_failure` and `deadlock_detected`: the work of others is in the way,
/// and the same request may succeed in a moment.
fn is_busy(code: &str) -> bool {
    matches!(code, "5" | "261" | "517" | "773" | "6" | "262" | "40001" | "40P01")
}

/// PostgreSQL's SQLSTATEs of a server that cannot serve now (Appendix A, "PostgreSQL Error
/// Codes"): class 08 (connection exception), `57P01` `admin_shutdown` (what `pg_ctl stop -m
/// fast` and `pg_terminate_backend` send), `57P02` `crash_shutdown`, `57P03`
/// `cannot_connect_now` (starting up or shutting down), `53300` `too_many_connections`.
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// The SQLSTATEs of a connection that broke (see [`DbError::ConnectionLost`]).
fn is_connection_lost(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02")
}

/// SQLite names no constraint on a unique violation; its message lists the columns:
/// `UNIQUE constraint failed: customers.company_id, customers.email`.
pub(super) fn unique_columns(message: &str) -> Vec<String> {
    message
        .strip_prefix("UNIQUE constraint failed: ")
        .map(|cols| cols.split(", ").map(|c| c.rsplit('.').next().unwrap_or(c).trim().to_string()).collect())
        .unwrap_or_default()
}

/// The constraint PostgreSQL's message names, for an error that does not carry the name in its
/// own field (Citus passes a worker's error on with its message only): `duplicate key value
/// violates unique constraint "customers_email_key_102008"`. The first double-quoted name.
pub(super) fn quoted_constraint(message: &str) -> Option<String> {
    let (_, rest) = message.split_once('"')?;
    let (name, _) = rest.split_once('"')?;
    (!name.is_empty()).then(|| name.to_string())
}

/// The columns of PostgreSQL's detail of a unique violation: `Key (company_id, email)=(…)
/// already exists.` → `company_id`, `email` (names as PostgreSQL prints them; the framework's
/// are plain identifiers, never quoted). Empty for any other text.
pub(super) fn key_columns(detail: &str) -> Vec<String> {
    detail
        .strip_prefix("Key (")
        .and_then(|rest| rest.split_once(")="))
        .map(|(cols, _)| cols.split(", ").map(|c| c.trim().to_string()).collect())
        .unwrap_or_default()
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_unavailable_codes_are_told_from_bugs() {
        for code in ["5", "517", "6", "40001", "40P01"] {
            assert!(is_busy(code) && !is_unavailable(code), "{code}");
        }
        for code in ["08006", "08001", "57P01", "57P03", "53300"] {
            assert!(is_unavailable(code) && !is_busy(code), "{code}");
        }
        // A bug stays a 500: a syntax error, an undefined column, SQLite's generic error.
        for code in ["42601", "42703", "1", "23502"] {
            assert!(!is_busy(code) && !is_unavailable(code), "{code}");
        }
    }

    /// Unique violations as Citus 13.0.5 reported them (issue 16), recorded on a cluster of a
    /// coordinator and two workers: a distributed table's shard on a worker (no constraint field,
    /// the shard's name in the message) and a reference table's placement on the coordinator
    /// (the field, with the shard's id). Plain PostgreSQL's for comparison.
    #[test]
    fn citus_shard_violations_map_to_the_constraint() {
        // As the serving role gets it: row-level security is on, so PostgreSQL leaves out the
        // `Key (…)=(…)` detail, and the name is only in the message.
        let worker = DbError::unique_violation(
            None,
            "duplicate key value violates unique constraint \"customers_email_key_102022\"",
            None,
        );
        assert!(worker.violates_unique("customers_email_key", &["company_id", "email"]));
        assert!(!worker.violates_unique("customers_name_key", &["company_id", "name"]));
        let reference = DbError::unique_violation(
            Some("users_email_key_102009"),
            "duplicate key value violates unique constraint \"users_email_key_102009\"",
            None,
        );
        assert!(reference.violates_unique("users_email_key", &["email"]));
        assert!(!reference.violates_unique("users_pkey", &["id"]));
        // A name that merely starts alike is another constraint.
        let other = DbError::unique_violation(Some("users_email_key_old"), "", None);
        assert!(!other.violates_unique("users_email_key", &["email"]));
        let plain = DbError::unique_violation(
            Some("memberships_pkey"),
            "duplicate key value violates unique constraint \"memberships_pkey\"",
            Some("Key (company_id, user_id)=(a, b) already exists."),
        );
        assert!(plain.violates_unique("memberships_pkey", &["company_id", "user_id"]));
        // A long name's shard copy is clipped and hashed (`shard_name.rs`), recorded through the app.
        let long = DbError::unique_violation(
            None,
            "duplicate key value violates unique constraint \"li_warehouse_inventory_reconciliation_batches_e_67576f60_102031\"",
            None,
        );
        assert!(long.violates_unique(
            "li_warehouse_inventory_reconciliation_batches_external_referenc",
            &["company_id", "external_reference_identifier_code"]
        ));
        // Without a name anywhere, the detail's columns decide (a table without row-level security).
        let nameless = DbError::unique_violation(None, "", Some("Key (company_id, sku)=(a, b) already exists."));
        assert!(nameless.violates_unique("products_sku_key", &["company_id", "sku"]));
        assert!(!nameless.violates_unique("products_name_key", &["company_id", "name"]));
    }

    #[test]
    fn unique_violations_match_by_constraint_or_columns() {
        let pg = DbError::Unique { constraint: Some("users_email_key".into()), columns: vec![] };
        let lite = DbError::Unique { constraint: None, columns: vec!["email".into()] };
        let other = DbError::Unique { constraint: Some("memberships_pkey".into()), columns: vec![] };
        assert!(pg.violates_unique("users_email_key", &["email"]));
        assert!(lite.violates_unique("users_email_key", &["email"]));
        assert!(!other.violates_unique("users_email_key", &["email"]));
        assert!(!DbError::ForeignKey.violates_unique("users_email_key", &["email"]));
    }

    #[test]
    fn unique_columns_are_read_from_the_message() {
        assert_eq!(
            unique_columns("UNIQUE constraint failed: customers.company_id, customers.email"),
            vec!["company_id", "email"]
        );
        assert!(unique_columns("something else").is_empty());
    }
}
