//! Statements with their values written in as PostgreSQL literals, for the reads that travel in
//! one simple-protocol message (`Db::fetch_in_one_trip`): a simple `Query` message carries no
//! bound parameters, and it is the only way to send several statements in one round trip that
//! PostgreSQL runs as one implicit transaction (PostgreSQL docs, "Multiple Statements in a
//! Simple Query", protocol-flow.html).
//!
//! Safety rests on three rules, each tested below and against a server (`tests/tests/literals.rs`):
//! - every value is rendered from its typed [`Value`], never from client text as SQL: text is one
//!   `'…'` literal with each `'` doubled (correct because every serving connection starts with
//!   `standard_conforming_strings = on`, `postgres.rs`, so a backslash is an ordinary
//!   character); NUL, which no PostgreSQL text can hold, is refused; numbers, booleans, UUIDs,
//!   dates and timestamps are rendered from their Rust types, so they hold no quote at all;
//!   every literal carries the cast the bound parameter had, so it means what binding meant;
//! - placeholders are replaced in one pass over the statement's own text, which comes from
//!   `&'static str` fragments ([`Sql`](super::Sql)); quoted strings and identifiers in it are
//!   copied, never searched, and a rendered value is never scanned again;
//! - anything this scanner is not sure of (a comment, a `;`, a dollar-quoted or prefixed string
//!   such as `E'…'`, a placeholder without its value) makes it answer `None`, and the caller
//!   falls back to bound parameters.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, SecondsFormat, TimeDelta, Utc};

/// 2000-01-01T00:00:00Z in Unix seconds: PostgreSQL's timestamp epoch.
const POSTGRES_EPOCH: i64 = 946_684_800;

use crate::value::Value;

/// `sql` with `$1` replaced by `first` (an expression of the caller's, e.g. the tenant setting)
/// and every other `$n` by `params[n - 1]` as a literal. `None` when the statement or a value
/// cannot be written safely (see the module's rules).
pub fn inline_params(sql: &str, params: &[Value], first: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len() + 16 * params.len());
    substitute(sql, &mut out, |n, out| match n {
        1 => {
            out.push_str(first);
            Some(())
        }
        n => write_literal(out, params.get(n.checked_sub(1)?)?),
    })?;
    Some(out)
}

/// The highest `$n` of `sql`, read as [`inline_params`] reads it; `None` for a statement it
/// would decline (whatever the values).
pub(crate) fn placeholder_count(sql: &str) -> Option<usize> {
    let mut highest = 0;
    substitute(sql, &mut String::new(), |n, _| {
        highest = highest.max(n);
        (n > 0).then_some(())
    })?;
    Some(highest)
}

/// Copies `sql` into `out`, handing each placeholder's number to `write` in its place.
fn substitute(sql: &str, out: &mut String, mut write: impl FnMut(usize, &mut String) -> Option<()>) -> Option<()> {
    let bytes = sql.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                // A prefixed string (E'', U&'', B'', X'') has other escape rules: not ours.
                if quote == b'\'' && i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'&') {
                    return None;
                }
                i = end_of_quoted(bytes, i, quote)?;
            }
            b'$' => {
                let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                let n: usize = sql[i + 1..i + 1 + digits].parse().ok()?;
                out.push_str(&sql[copied..i]);
                write(n, out)?;
                i += 1 + digits;
                copied = i;
            }
            b';' => return None,
            b'-' if bytes.get(i + 1) == Some(&b'-') => return None,
            b'/' if bytes.get(i + 1) == Some(&b'*') => return None,
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    Some(())
}

/// The index just past the quoted string or identifier that opens at `start` (a doubled quote
/// inside is an escaped one); `None` when it does not close.
fn end_of_quoted(bytes: &[u8], start: usize, quote: u8) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match bytes.get(i)? {
            q if *q == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            q if *q == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Appends `value` as a literal of the type it is bound as (`postgres.rs`, `bind_value`).
/// `None` for a value PostgreSQL could not have stored anyway (NUL in text; a date outside
/// years 1–9999, which API.md allows, whose ISO form would not read back the same).
pub fn write_literal(out: &mut String, value: &Value) -> Option<()> {
    match value {
        Value::Text(None) => out.push_str("NULL::text"),
        Value::Text(Some(text)) => {
            if text.contains('\0') {
                return None;
            }
            out.push('\'');
            for part in text.split_inclusive('\'') {
                out.push_str(part);
                if part.ends_with('\'') {
                    out.push('\'');
                }
            }
            out.push_str("'::text");
        }
        Value::Bool(None) => out.push_str("NULL::boolean"),
        Value::Bool(Some(b)) => out.push_str(if *b { "true" } else { "false" }),
        Value::I32(None) => out.push_str("NULL::int4"),
        Value::I32(Some(n)) => write!(out, "'{n}'::int4").ok()?,
        Value::I64(None) => out.push_str("NULL::int8"),
        Value::I64(Some(n)) => write!(out, "'{n}'::int8").ok()?,
        Value::F64(None) => out.push_str("NULL::float8"),
        Value::F64(Some(x)) if x.is_nan() => out.push_str("'NaN'::float8"),
        Value::F64(Some(x)) if x.is_infinite() => {
            out.push_str(if *x > 0.0 { "'Infinity'::float8" } else { "'-Infinity'::float8" })
        }
        // `{:?}` is the shortest text that reads back as the same `f64` (exponent form for
        // very large or small magnitudes), and PostgreSQL's `float8in` rounds correctly.
        Value::F64(Some(x)) => write!(out, "'{x:?}'::float8").ok()?,
        Value::Uuid(None) => out.push_str("NULL::uuid"),
        Value::Uuid(Some(id)) => write!(out, "'{}'::uuid", id.hyphenated()).ok()?,
        Value::Date(None) => out.push_str("NULL::date"),
        Value::Date(Some(date)) => {
            if !(1..=9999).contains(&date.year()) {
                return None;
            }
            write!(out, "'{}'::date", date.format("%Y-%m-%d")).ok()?
        }
        Value::Timestamp(None) => out.push_str("NULL::timestamptz"),
        Value::Timestamp(Some(at)) => {
            if !(1..=9999).contains(&at.year()) {
                return None;
            }
            // Binding sends whole microseconds since 2000-01-01 (PostgreSQL's epoch), truncated
            // toward it by sqlx (so up for earlier times); the literal must say the same
            // microsecond, where PostgreSQL would round the nanoseconds of a longer text.
            let epoch = DateTime::<Utc>::from_timestamp(POSTGRES_EPOCH, 0)?;
            let micros = (*at - epoch).num_microseconds()?;
            let at = epoch + TimeDelta::microseconds(micros);
            write!(out, "'{}'::timestamptz", at.to_rfc3339_opts(SecondsFormat::Micros, true)).ok()?
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Timelike};
    use uuid::Uuid;

    fn lit(value: Value) -> Option<String> {
        let mut out = String::new();
        write_literal(&mut out, &value).map(|()| out)
    }

    #[test]
    fn text_doubles_quotes_and_keeps_everything_else() {
        assert_eq!(lit(Value::Text(Some("it's".into()))).unwrap(), "'it''s'::text");
        assert_eq!(lit(Value::Text(Some("''".into()))).unwrap(), "''''''::text");
        assert_eq!(lit(Value::Text(Some("'".into()))).unwrap(), "''''::text");
        assert_eq!(lit(Value::Text(Some(r"a\'; DROP TABLE x; --".into()))).unwrap(), r"'a\''; DROP TABLE x; --'::text");
        assert_eq!(lit(Value::Text(Some("$1 $$ é 🦀".into()))).unwrap(), "'$1 $$ é 🦀'::text");
        assert_eq!(lit(Value::Text(Some(String::new()))).unwrap(), "''::text");
        assert_eq!(lit(Value::Text(Some("a\0b".into()))), None);
    }

    #[test]
    fn every_type_and_null_keeps_its_cast() {
        assert_eq!(lit(Value::Bool(Some(true))).unwrap(), "true");
        assert_eq!(lit(Value::I32(Some(i32::MIN))).unwrap(), "'-2147483648'::int4");
        assert_eq!(lit(Value::I64(Some(i64::MAX))).unwrap(), "'9223372036854775807'::int8");
        assert_eq!(lit(Value::F64(Some(-0.1))).unwrap(), "'-0.1'::float8");
        assert_eq!(lit(Value::F64(Some(1e300))).unwrap(), "'1e300'::float8");
        assert_eq!(lit(Value::F64(Some(f64::NAN))).unwrap(), "'NaN'::float8");
        assert_eq!(lit(Value::F64(Some(f64::NEG_INFINITY))).unwrap(), "'-Infinity'::float8");
        let id = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(lit(Value::Uuid(Some(id))).unwrap(), "'01234567-89ab-cdef-0123-456789abcdef'::uuid");
        let day = NaiveDate::from_ymd_opt(33, 2, 1).unwrap();
        assert_eq!(lit(Value::Date(Some(day))).unwrap(), "'0033-02-01'::date");
        assert_eq!(lit(Value::Date(Some(NaiveDate::from_ymd_opt(10000, 1, 1).unwrap()))), None);
        let at = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap().with_nanosecond(123_456_789).unwrap();
        assert_eq!(lit(Value::Timestamp(Some(at))).unwrap(), "'2024-05-06T07:08:09.123456Z'::timestamptz");
        // Before PostgreSQL's epoch, sqlx truncates toward it: up.
        let early = Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0).unwrap().with_nanosecond(1_500).unwrap();
        assert_eq!(lit(Value::Timestamp(Some(early))).unwrap(), "'1990-01-01T00:00:00.000002Z'::timestamptz");
        for (value, null) in [
            (Value::Text(None), "NULL::text"),
            (Value::Bool(None), "NULL::boolean"),
            (Value::I32(None), "NULL::int4"),
            (Value::I64(None), "NULL::int8"),
            (Value::F64(None), "NULL::float8"),
            (Value::Uuid(None), "NULL::uuid"),
            (Value::Date(None), "NULL::date"),
            (Value::Timestamp(None), "NULL::timestamptz"),
        ] {
            assert_eq!(lit(value).unwrap(), null);
        }
    }

    #[test]
    fn placeholders_are_replaced_outside_quotes_only() {
        let params = [Value::Uuid(None), Value::Text(Some("o'k $2".into())), Value::I64(Some(20))];
        let sql = "SELECT '$2', \"$3\" FROM t WHERE company_id = $1 AND a = $2 AND b LIKE $2 ESCAPE '\\' LIMIT $3";
        assert_eq!(
            inline_params(sql, &params, "C").unwrap(),
            "SELECT '$2', \"$3\" FROM t WHERE company_id = C AND a = 'o''k $2'::text \
             AND b LIKE 'o''k $2'::text ESCAPE '\\' LIMIT '20'::int8"
        );
        assert_eq!(inline_params("SELECT 'it''s $2' WHERE x = $2", &params, "C").unwrap(), {
            "SELECT 'it''s $2' WHERE x = 'o''k $2'::text"
        });
        assert_eq!(inline_params("x = $10", &params, "C"), None, "a placeholder without its value");
        assert_eq!(inline_params("x = $0", &params, "C"), None);
    }

    #[test]
    fn anything_unsure_falls_back_to_binding() {
        let params = [Value::Uuid(None), Value::I64(Some(1))];
        for sql in [
            "SELECT 1; SELECT 2",
            "SELECT 1 -- $2",
            "SELECT 1 /* $2 */",
            "SELECT $$x$$",
            "SELECT $tag$x$tag$",
            "SELECT E'\\'' , $2",
            "SELECT U&'x', $2",
            "SELECT 'unterminated, $2",
            "SELECT \"unterminated, $2",
        ] {
            assert_eq!(inline_params(sql, &params, "C"), None, "{sql}");
        }
        assert_eq!(inline_params("SELECT $2", &[Value::Uuid(None), Value::Text(Some("\0".into()))], "C"), None);
    }
}
