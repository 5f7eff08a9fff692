//! The literal writer of the one-trip reads (`tenant-core/src/db/literal.rs`), against a real
//! PostgreSQL server: every value written in as a literal must mean exactly what binding it
//! means, and no text, however hostile, may be anything but one text value.
//!
//! Each case runs as the serving pool runs: a simple-protocol message on a connection started
//! with `standard_conforming_strings = on`. Random values of every type (proptest, seeded) and a
//! corpus of hostile texts; run with `TEST_POSTGRES_URL` (skipped without it, as every
//! PostgreSQL test).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};
use tenant_core::Value;
use tenant_core::db::{inline_params, write_literal};
use uuid::Uuid;

async fn connect() -> Option<PgConnection> {
    let url = std::env::var("TEST_POSTGRES_URL").ok()?;
    let options = PgConnectOptions::from_str(&url).unwrap().options([("standard_conforming_strings", "on")]);
    Some(PgConnection::connect_with(&options).await.unwrap())
}

/// Whether `value` written as a literal is the same value as `value` bound, per PostgreSQL
/// (`IS NOT DISTINCT FROM`, so NULLs compare too), and the literal is exactly one expression:
/// the statement answers one row of one column.
async fn same_as_bound(conn: &mut PgConnection, value: &Value) -> Result<(), String> {
    let mut literal = String::new();
    write_literal(&mut literal, value).ok_or_else(|| format!("declined {value:?}"))?;
    let sql = format!("SELECT ({literal}) IS NOT DISTINCT FROM $1 AS same");
    let query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
    let query = tenant_core::db::postgres::bind(query, std::slice::from_ref(value));
    let rows = query.fetch_all(&mut *conn).await.map_err(|e| format!("{sql}: {e}"))?;
    if rows.len() != 1 || rows[0].len() != 1 || !rows[0].get::<bool, _>("same") {
        return Err(format!("{value:?} written as {literal} is not the bound value"));
    }
    Ok(())
}

/// `SELECT $2 AS v` with the value written in, sent as a simple-protocol message: exactly one
/// row with one column, and for text, exactly the text.
async fn one_text_value(conn: &mut PgConnection, text: &str) -> Result<(), String> {
    let params = [Value::Uuid(None), Value::Text(Some(text.to_string()))];
    let Some(sql) = inline_params("SELECT $2 AS v", &params, "NULL") else {
        return if text.contains('\0') { Ok(()) } else { Err(format!("declined {text:?}")) };
    };
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    match rows.as_slice() {
        [row] if row.len() == 1 && row.get::<String, _>("v") == text => Ok(()),
        _ => Err(format!("{text:?} as {sql} answered {} rows", rows.len())),
    }
}

const HOSTILE: &[&str] = &[
    "'",
    "''",
    "\\",
    "\\'",
    "'; DROP TABLE users; --",
    "\\'; SELECT 1; --",
    "$1",
    "$2 $$ $tag$ $$",
    "E'\\x41'",
    "/* */ -- ;",
    "\"quoted\"",
    "é ß 漢字 🦀 \u{202e}rtl \u{feff}",
    "line\nbreak\r\ttab",
    "\u{1}\u{7f}\u{80}\u{ffff}",
    "",
];

#[tokio::test]
async fn literals_mean_what_binding_means() {
    let Some(mut conn) = connect().await else {
        eprintln!("TEST_POSTGRES_URL is not set: skipping");
        return;
    };
    for text in HOSTILE {
        same_as_bound(&mut conn, &Value::Text(Some(text.to_string()))).await.unwrap();
        one_text_value(&mut conn, text).await.unwrap();
    }
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let edges = [
        Value::I32(Some(i32::MIN)),
        Value::I32(Some(i32::MAX)),
        Value::I64(Some(i64::MIN)),
        Value::I64(Some(i64::MAX)),
        Value::F64(Some(0.1)),
        Value::F64(Some(-0.0)),
        Value::F64(Some(f64::MAX)),
        Value::F64(Some(f64::MIN_POSITIVE)),
        Value::F64(Some(5e-324)),
        Value::F64(Some(f64::INFINITY)),
        Value::F64(Some(f64::NEG_INFINITY)),
        Value::F64(Some(f64::NAN)),
        Value::Bool(Some(true)),
        Value::Bool(Some(false)),
        Value::Uuid(Some(Uuid::nil())),
        Value::Uuid(Some(Uuid::max())),
        Value::Date(Some(day(1, 1, 1))),
        Value::Date(Some(day(9999, 12, 31))),
        Value::Date(Some(day(2024, 2, 29))),
        Value::Timestamp(Some(at("0001-01-01T00:00:00Z"))),
        Value::Timestamp(Some(at("9999-12-31T23:59:59.999999Z"))),
        Value::Timestamp(Some(at("2024-06-01T12:34:56.123456789+02:00"))),
        Value::Text(None),
        Value::Bool(None),
        Value::I32(None),
        Value::I64(None),
        Value::F64(None),
        Value::Uuid(None),
        Value::Date(None),
        Value::Timestamp(None),
    ];
    for value in &edges {
        same_as_bound(&mut conn, value).await.unwrap();
    }
}

fn any_value() -> impl Strategy<Value = Value> {
    let day = (1i32..=9999, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
    let at = (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(s, n)| DateTime::<Utc>::from_timestamp(s, n).unwrap());
    prop_oneof![
        any::<String>().prop_map(|s| Value::Text(Some(s.replace('\0', "")))),
        "['\\\\$;\\-/*\" a-z]{0,12}".prop_map(|s| Value::Text(Some(s))),
        any::<bool>().prop_map(|b| Value::Bool(Some(b))),
        any::<i32>().prop_map(|n| Value::I32(Some(n))),
        any::<i64>().prop_map(|n| Value::I64(Some(n))),
        any::<f64>().prop_map(|x| Value::F64(Some(x))),
        any::<u128>().prop_map(|n| Value::Uuid(Some(Uuid::from_u128(n)))),
        day.prop_map(|d| Value::Date(Some(d))),
        at.prop_map(|t| Value::Timestamp(Some(t))),
    ]
}

#[tokio::test]
async fn random_values_mean_what_binding_means() {
    let Some(mut conn) = connect().await else {
        eprintln!("TEST_POSTGRES_URL is not set: skipping");
        return;
    };
    let config = Config { cases: 2000, ..Config::default() };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[15; 32]));
    let strategy = proptest::collection::vec(any_value(), 2000);
    let values = strategy.new_tree(&mut runner).unwrap().current();
    for value in &values {
        same_as_bound(&mut conn, value).await.unwrap();
        if let Value::Text(Some(text)) = value {
            one_text_value(&mut conn, text).await.unwrap();
        }
    }
}
