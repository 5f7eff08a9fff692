//! The one seam between the framework's statements and a sqlx driver. A backend supplies what
//! differs ([`Backend`]: how a [`Value`] is bound, how a column is read through its
//! [`RowReader`] impl, how a transaction starts and carries the tenant); the query functions
//! below are written once for every backend.

use sqlx::query::Query;
use sqlx::{Database, Executor, IntoArguments};

use super::sql::{DbError, Reader, Sql};
use crate::row::RowDecoder;
use crate::value::{RowReader, Value};

/// A sqlx driver the framework can run on. Implemented by `postgres.rs` and `sqlite.rs`; a
/// third backend implements it (and [`RowReader`] for `Reader<'_, Self::Row>`) and nothing in
/// the query functions changes.
pub(super) trait Backend: Database {
    /// Binds one value in this backend's storage form (SQLite keeps UUIDs and timestamps as
    /// text; PostgreSQL binds them natively). NULLs keep their type.
    fn bind_value<'q>(query: Query<'q, Self, Self::Arguments>, value: &'q Value) -> Query<'q, Self, Self::Arguments>;

    /// The rows a statement affected (sqlx's query results share no trait for it).
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// Binds `params` in order: `$1` is `params[0]`.
pub(super) fn bind<'q, B: Backend>(
    mut query: Query<'q, B, B::Arguments>,
    params: &'q [Value],
) -> Query<'q, B, B::Arguments> {
    for value in params {
        query = B::bind_value(query, value);
    }
    query
}

/// Runs a query and hands every row to `decoder`, straight from the driver's row.
pub(super) async fn fetch_all_with<B, D>(
    conn: &mut B::Connection,
    sql: Sql,
    params: &[Value],
    decoder: &mut D,
) -> Result<Vec<D::Output>, DbError>
where
    B: Backend,
    for<'c> &'c mut B::Connection: Executor<'c, Database = B>,
    B::Arguments: IntoArguments<B>,
    D: RowDecoder,
    for<'r> Reader<'r, B::Row>: RowReader,
{
    let rows = bind(sqlx::query(sql.into_sqlx()), params).fetch_all(conn).await.map_err(DbError::classify)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(decoder.decode(&mut Reader::new(row))?);
    }
    Ok(out)
}

/// Runs a query and hands its first row, if any, to `decoder`.
pub(super) async fn fetch_optional_with<B, D>(
    conn: &mut B::Connection,
    sql: Sql,
    params: &[Value],
    decoder: &mut D,
) -> Result<Option<D::Output>, DbError>
where
    B: Backend,
    for<'c> &'c mut B::Connection: Executor<'c, Database = B>,
    B::Arguments: IntoArguments<B>,
    D: RowDecoder,
    for<'r> Reader<'r, B::Row>: RowReader,
{
    let row = bind(sqlx::query(sql.into_sqlx()), params).fetch_optional(conn).await.map_err(DbError::classify)?;
    Ok(row.map(|row| decoder.decode(&mut Reader::new(&row))).transpose()?)
}

/// Runs a statement; returns the number of rows it affected.
pub(super) async fn execute<B>(conn: &mut B::Connection, sql: Sql, params: &[Value]) -> Result<u64, DbError>
where
    B: Backend,
    for<'c> &'c mut B::Connection: Executor<'c, Database = B>,
    B::Arguments: IntoArguments<B>,
{
    let done = bind(sqlx::query(sql.into_sqlx()), params).execute(conn).await.map_err(DbError::classify)?;
    Ok(B::rows_affected(&done))
}
