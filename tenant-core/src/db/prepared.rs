//! Named prepared statements for the one-trip reads (`Db::read_in_one_trip`).
//!
//! A simple-protocol message carries no parameters, so its statements would be parsed and
//! planned on every request: measured with pgbench, that cost PostgreSQL about three times the
//! CPU of the same statements prepared (issue 15). So each statement a one-trip message sends is
//! prepared once per connection (`PREPARE name AS …`, PostgreSQL docs, sql-prepare.html) and the
//! message says `EXECUTE name(…)` with its values written in as literals (`literal.rs`): one round
//! trip, and the plan cached as for the extended protocol.
//!
//! The names are this process's: a statement gets the next number the first time it is sent,
//! up to [`MAX_STATEMENTS`] (every generated statement of a resource is one text, but a list's
//! text follows its filters, so a client could make many; past the cap a statement is sent
//! written out in full, still one round trip). A connection learns them lazily: a message naming
//! a statement the connection has not prepared fails with `26000` before anything ran, and is
//! sent again after the missing ones are prepared (`Db`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

use super::literal::{inline_params, placeholder_count, write_literal};
use crate::value::Value;

/// The most statements a process prepares on each connection.
pub(crate) const MAX_STATEMENTS: usize = 256;

/// PostgreSQL's SQLSTATE for `EXECUTE` of a name the session has not prepared.
pub(crate) const UNDEFINED_PREPARED_STATEMENT: &str = "26000";

/// The statements this process sends by name, and their names (`t_0`, `t_1`, …).
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// Each statement's number and parameter count.
    names: RwLock<HashMap<Arc<str>, (usize, usize)>>,
}

impl Prepared {
    /// The number and parameter count of `sql`, registered now if it is new, there is room, and
    /// the literal writer accepts its text.
    fn name_of(&self, sql: &str) -> Option<(usize, usize)> {
        if let Some(found) = self.names.read().unwrap_or_else(|p| p.into_inner()).get(sql) {
            return Some(*found);
        }
        let count = placeholder_count(sql)?;
        let mut names = self.names.write().unwrap_or_else(|p| p.into_inner());
        let next = names.len();
        match names.get(sql) {
            Some(found) => Some(*found),
            None if next < MAX_STATEMENTS => {
                names.insert(Arc::from(sql), (next, count));
                Some((next, count))
            }
            None => None,
        }
    }

    /// `PREPARE` statements for every registered statement not in `present` (the names a
    /// connection has, from `pg_prepared_statements`), joined by `;`; `None` when none is missing.
    pub(crate) fn missing(&self, present: &[String]) -> Option<String> {
        let names = self.names.read().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (sql, (index, _)) in names.iter() {
            let name = format!("t_{index}");
            if !present.contains(&name) {
                if !out.is_empty() {
                    out.push(';');
                }
                let _ = write!(out, "PREPARE {name} AS {sql}");
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Registers `sql` to be prepared on every connection from now on (the pool's connections
    /// prepare what is registered when they open: `postgres.rs`). For statements every request
    /// sends, registered before the first connection opens.
    pub(crate) fn register(&self, sql: &str) {
        let _ = self.name_of(sql);
    }

    /// `sql` with its `params` as one statement of a simple-protocol message: `EXECUTE t_n(…)`
    /// with every value a literal and `$1` written as `first`, or, past the cap, the statement
    /// itself with its values written in. `None` when a value cannot be written (`literal.rs`).
    pub(crate) fn statement(&self, sql: &str, params: &[Value], first: &str) -> Option<String> {
        let Some((index, count)) = self.name_of(sql) else { return inline_params(sql, params, first) };
        if count == 0 {
            return Some(format!("EXECUTE t_{index}"));
        }
        let mut out = format!("EXECUTE t_{index}(");
        for n in 1..=count {
            if n > 1 {
                out.push_str(", ");
            }
            match n {
                1 => out.push_str(first),
                n => write_literal(&mut out, params.get(n - 1)?)?,
            }
        }
        out.push(')');
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_statement_is_executed_by_name_with_literals() {
        let prepared = Prepared::default();
        let sql = "SELECT a FROM t WHERE company_id = $1 AND name = $2 AND x = '$3' LIMIT $3";
        let params = [Value::Uuid(None), Value::Text(Some("o'k".into())), Value::I64(Some(20))];
        assert_eq!(prepared.statement(sql, &params, "C").unwrap(), "EXECUTE t_0(C, 'o''k'::text, '20'::int8)");
        let other = "SELECT 1 WHERE id = $1";
        assert_eq!(prepared.statement(other, &[Value::Uuid(Some(Uuid::nil()))], "C").unwrap(), "EXECUTE t_1(C)");
        // The same text keeps its name.
        assert_eq!(prepared.statement(sql, &params, "D").unwrap(), "EXECUTE t_0(D, 'o''k'::text, '20'::int8)");
        let mut missing = prepared.missing(&["t_1".to_string()]).unwrap();
        assert_eq!(missing, format!("PREPARE t_0 AS {sql}"));
        missing = prepared.missing(&[]).unwrap();
        assert!(missing.contains("PREPARE t_0 AS ") && missing.contains("PREPARE t_1 AS SELECT 1"), "{missing}");
        assert_eq!(prepared.missing(&["t_0".into(), "t_1".into()]), None);
    }

    #[test]
    fn past_the_cap_statements_are_written_out() {
        let prepared = Prepared::default();
        let params = [Value::Uuid(None), Value::I64(Some(1))];
        for n in 0..MAX_STATEMENTS {
            let sql = format!("SELECT {n} WHERE company_id = $1 AND x = $2");
            assert!(prepared.statement(&sql, &params, "C").unwrap().starts_with("EXECUTE "));
        }
        let sql = "SELECT 'last' WHERE company_id = $1 AND x = $2";
        assert_eq!(
            prepared.statement(sql, &params, "C").unwrap(),
            "SELECT 'last' WHERE company_id = C AND x = '1'::int8"
        );
    }

    #[test]
    fn what_the_literal_writer_declines_is_declined() {
        let prepared = Prepared::default();
        let params = [Value::Uuid(None), Value::Text(Some("\0".into()))];
        assert_eq!(prepared.statement("SELECT $2 WHERE c = $1", &params, "C"), None);
        assert_eq!(prepared.statement("SELECT 1; SELECT $2", &params[..1], "C"), None);
    }
}
