//! SQLite: the embedded default. UUIDs are stored as hyphenated text and timestamps as
//! fixed-width RFC 3339 text (`2026-01-02T03:04:05.000006Z`), so that text order is time order.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Sqlite, SqlitePool};
use uuid::Uuid;

use super::backend::Backend;
use super::sql::{DbError, Reader, native_reads};
use crate::value::{DecodeError, RowReader, Value};

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<SqlitePool, DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbError::Other(format!("invalid SQLite URL: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // `REGEXP`, for case-insensitive search over Unicode (SQLite's LIKE and LOWER fold ASCII
        // only): see `query.rs`.
        .with_regexp()
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

impl Backend for Sqlite {
    #[inline]
    fn bind_value<'q>(
        query: Query<'q, Sqlite, SqliteArguments>,
        value: &'q Value,
    ) -> Query<'q, Sqlite, SqliteArguments> {
        match value {
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
            Value::I32(v) => query.bind(*v),
            Value::I64(v) => query.bind(*v),
            Value::F64(v) => query.bind(*v),
            Value::Uuid(v) => query.bind(v.map(|u| u.hyphenated().to_string())),
            Value::Date(v) => query.bind(*v),
            Value::Timestamp(v) => query.bind(v.as_ref().map(timestamp_text)),
        }
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// UUIDs and timestamps are stored as text (see the module's doc) and parsed here.
impl Reader<'_, SqliteRow> {
    #[inline]
    fn parsed<T>(
        &mut self,
        column: &'static str,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, DecodeError> {
        match self.get::<String>(column, expected)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or(DecodeError { column, expected, found: "unparsable text" }),
        }
    }
}

/// Each column with the type its reader asks for.
impl RowReader for Reader<'_, SqliteRow> {
    native_reads! {
        text: String, "text";
        bool: bool, "boolean";
        i32: i32, "32-bit integer";
        i64: i64, "64-bit integer";
        f64: f64, "number";
        date: NaiveDate, "date";
    }
    #[inline]
    fn uuid(&mut self, column: &'static str) -> Result<Option<Uuid>, DecodeError> {
        self.parsed(column, "UUID", |s| Uuid::parse_str(s).ok())
    }
    #[inline]
    fn timestamp(&mut self, column: &'static str) -> Result<Option<DateTime<Utc>>, DecodeError> {
        self.parsed(column, "timestamp", |s| DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_text_sorts_like_time() {
        let a: DateTime<Utc> = "2026-01-01T00:00:05Z".parse().unwrap();
        let b: DateTime<Utc> = "2026-01-01T00:00:05.5Z".parse().unwrap();
        assert!(timestamp_text(&a) < timestamp_text(&b));
        assert_eq!(timestamp_text(&a), "2026-01-01T00:00:05.000000Z");
    }
}
