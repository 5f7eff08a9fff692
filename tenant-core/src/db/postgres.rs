//! PostgreSQL: binds [`Value`]s with their native types and decodes rows by [`FieldType`].

use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnection, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row as _};

use super::{DbError, Row, Sql};
use crate::resource::FieldType;
use crate::value::Value;

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(DbError::classify)
}

pub(super) async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations/postgres")
        .run(pool)
        .await
        .map_err(|e| DbError::Other(format!("core migrations failed: {e}")))
}

fn bind<'q>(mut query: Query<'q, Postgres, PgArguments>, params: &'q [Value]) -> Query<'q, Postgres, PgArguments> {
    for value in params {
        query = match value {
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
            Value::I32(v) => query.bind(*v),
            Value::I64(v) => query.bind(*v),
            Value::F64(v) => query.bind(*v),
            Value::Uuid(v) => query.bind(*v),
            Value::Date(v) => query.bind(*v),
            Value::Timestamp(v) => query.bind(*v),
        };
    }
    query
}

fn decode(row: &PgRow, types: &[FieldType]) -> Result<Row, sqlx::Error> {
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
                FieldType::Uuid => Value::Uuid(row.try_get(i)?),
                FieldType::Date => Value::Date(row.try_get(i)?),
                FieldType::Timestamp => Value::Timestamp(row.try_get(i)?),
            })
        })
        .collect()
}

pub(super) async fn fetch_all(
    conn: &mut PgConnection,
    sql: Sql,
    params: &[Value],
    types: &[FieldType],
) -> Result<Vec<Row>, DbError> {
    let rows = bind(sqlx::query(sql.into_sqlx()), params).fetch_all(conn).await.map_err(DbError::classify)?;
    rows.iter().map(|r| decode(r, types).map_err(DbError::classify)).collect()
}

pub(super) async fn execute(conn: &mut PgConnection, sql: Sql, params: &[Value]) -> Result<u64, DbError> {
    let done = bind(sqlx::query(sql.into_sqlx()), params).execute(conn).await.map_err(DbError::classify)?;
    Ok(done.rows_affected())
}
