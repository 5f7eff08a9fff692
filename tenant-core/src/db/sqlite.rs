//! SQLite: the embedded default. UUIDs are stored as hyphenated text and timestamps as
//! fixed-width RFC 3339 text (`2026-01-02T03:04:05.000006Z`), so that text order is time order.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row as _, Sqlite, SqlitePool};
use uuid::Uuid;

use super::{DbError, Row, Sql};
use crate::resource::FieldType;
use crate::value::Value;

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<SqlitePool, DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbError::Other(format!("invalid SQLite URL: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(DbError::classify)
}

pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations/sqlite")
        .run(pool)
        .await
        .map_err(|e| DbError::Other(format!("core migrations failed: {e}")))
}

/// The storage form of a timestamp: always six fractional digits, so text order is time order.
pub(crate) fn timestamp_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// SQLite names no constraint on a unique violation; its message lists the columns:
/// `UNIQUE constraint failed: customers.company_id, customers.email`.
pub(super) fn unique_columns(message: &str) -> Vec<String> {
    message
        .strip_prefix("UNIQUE constraint failed: ")
        .map(|cols| cols.split(", ").map(|c| c.rsplit('.').next().unwrap_or(c).trim().to_string()).collect())
        .unwrap_or_default()
}

fn bind<'q>(mut query: Query<'q, Sqlite, SqliteArguments>, params: &'q [Value]) -> Query<'q, Sqlite, SqliteArguments> {
    for value in params {
        query = match value {
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
            Value::I32(v) => query.bind(*v),
            Value::I64(v) => query.bind(*v),
            Value::F64(v) => query.bind(*v),
            Value::Uuid(v) => query.bind(v.map(|u| u.hyphenated().to_string())),
            Value::Date(v) => query.bind(*v),
            Value::Timestamp(v) => query.bind(v.as_ref().map(timestamp_text)),
        };
    }
    query
}

fn decode(row: &SqliteRow, types: &[FieldType]) -> Result<Row, sqlx::Error> {
    let bad = |i: usize, e: String| sqlx::Error::ColumnDecode { index: i.to_string(), source: e.into() };
    types
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            Ok(match ty {
                FieldType::Text | FieldType::Choice(_) => Value::Text(row.try_get(i)?),
                FieldType::Bool => Value::Bool(row.try_get(i)?),
                FieldType::I32 => Value::I32(row.try_get(i)?),
                FieldType::I64 => Value::I64(row.try_get(i)?),
                FieldType::F64 => Value::F64(row.try_get(i)?),
                FieldType::Uuid => Value::Uuid(
                    row.try_get::<Option<String>, _>(i)?
                        .map(|s| Uuid::parse_str(&s).map_err(|e| bad(i, e.to_string())))
                        .transpose()?,
                ),
                FieldType::Date => Value::Date(row.try_get(i)?),
                FieldType::Timestamp => Value::Timestamp(
                    row.try_get::<Option<String>, _>(i)?
                        .map(|s| {
                            DateTime::parse_from_rfc3339(&s)
                                .map(|t| t.with_timezone(&Utc))
                                .map_err(|e| bad(i, e.to_string()))
                        })
                        .transpose()?,
                ),
            })
        })
        .collect()
}

pub(super) async fn fetch_all(
    conn: &mut SqliteConnection,
    sql: Sql,
    params: &[Value],
    types: &[FieldType],
) -> Result<Vec<Row>, DbError> {
    let rows = bind(sqlx::query(sql.into_sqlx()), params).fetch_all(conn).await.map_err(DbError::classify)?;
    rows.iter().map(|r| decode(r, types).map_err(DbError::classify)).collect()
}

pub(super) async fn execute(conn: &mut SqliteConnection, sql: Sql, params: &[Value]) -> Result<u64, DbError> {
    let done = bind(sqlx::query(sql.into_sqlx()), params).execute(conn).await.map_err(DbError::classify)?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_columns_are_read_from_the_message() {
        assert_eq!(
            unique_columns("UNIQUE constraint failed: customers.company_id, customers.email"),
            vec!["company_id", "email"]
        );
        assert!(unique_columns("something else").is_empty());
    }

    #[test]
    fn timestamp_text_sorts_like_time() {
        let a: DateTime<Utc> = "2026-01-01T00:00:05Z".parse().unwrap();
        let b: DateTime<Utc> = "2026-01-01T00:00:05.5Z".parse().unwrap();
        assert!(timestamp_text(&a) < timestamp_text(&b));
        assert_eq!(timestamp_text(&a), "2026-01-01T00:00:05.000000Z");
    }
}
