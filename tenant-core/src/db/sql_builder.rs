//! Per-request SQL, assembled without ever writing client input into the text: the builder
//! accepts only `&'static str` fragments (the macro's statement parts, column names from a
//! [`ResourceDesc`](crate::ResourceDesc), keywords) and takes every value as a bound parameter,
//! numbering its placeholder in the backend's dialect.

use std::fmt::Write;
use std::ops::Range;

use super::sql::{Dialect, Sql};
use crate::value::Value;

/// A statement under construction and its parameters, in placeholder order.
///
/// It starts with the active company as the first parameter, so the macro's scoped fragments
/// (`… WHERE company_id = $1`) can be pushed as they are.
#[derive(Debug)]
pub struct SqlBuilder {
    dialect: Dialect,
    text: String,
    params: Vec<Value>,
}

/// A parameter already bound, to be referred to once or more ([`SqlBuilder::param`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param(usize);

/// A stretch of text already written, to be written again ([`SqlBuilder::repeat`]).
#[derive(Debug, Clone)]
pub struct Span(Range<usize>);

impl SqlBuilder {
    /// An empty statement whose first parameter (`$1`) is `company`.
    pub fn scoped(dialect: Dialect, company: Value) -> SqlBuilder {
        SqlBuilder { dialect, text: String::with_capacity(512), params: vec![company] }
    }

    /// Appends fixed text. `'static` is the guarantee: text typed into the program or built by
    /// the macro, never a request's input.
    #[inline]
    pub fn push(&mut self, fragment: &'static str) -> &mut Self {
        self.text.push_str(fragment);
        self
    }

    /// Binds `value` without writing its placeholder yet.
    pub fn bind(&mut self, value: Value) -> Param {
        self.params.push(value);
        Param(self.params.len())
    }

    /// Writes the placeholder of a bound parameter: `$n` on PostgreSQL and SQLite (both number
    /// from 1), so a parameter used twice is bound once.
    pub fn param(&mut self, param: Param) -> &mut Self {
        match self.dialect {
            Dialect::Postgres | Dialect::Sqlite => {
                let _ = write!(self.text, "${}", param.0);
            }
        }
        self
    }

    /// Binds `value` and writes its placeholder.
    pub fn push_bind(&mut self, value: Value) -> &mut Self {
        let param = self.bind(value);
        self.param(param)
    }

    /// Where the text ends now, to mark the start of a [`Span`].
    pub fn mark(&self) -> usize {
        self.text.len()
    }

    /// The text written since `start` (a [`mark`](Self::mark)).
    pub fn since(&self, start: usize) -> Span {
        Span(start..self.text.len())
    }

    /// Writes `span` again, placeholders and all: the same conditions over the same parameters
    /// (a list's page and its count).
    pub fn repeat(&mut self, span: &Span) -> &mut Self {
        self.text.extend_from_within(span.0.clone());
        self
    }

    /// The dialect placeholders are written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The statement and its parameters.
    pub fn finish(self) -> (Sql, Vec<Value>) {
        (Sql::assembled(self.text), self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_after_the_company_and_reuses_bound_ones() {
        let mut b = SqlBuilder::scoped(Dialect::Postgres, Value::I32(Some(7)));
        b.push("SELECT 1 FROM t WHERE company_id = $1");
        let start = b.mark();
        b.push(" AND a = ").push_bind(Value::I32(Some(1)));
        let term = b.bind(Value::Text(Some("x".into())));
        b.push(" AND (b = ").param(term).push(" OR c = ").param(term).push(")");
        let conditions = b.since(start);
        b.push(" UNION SELECT 2 FROM t WHERE company_id = $1").repeat(&conditions);
        let (sql, params) = b.finish();
        assert_eq!(
            sql.as_str(),
            "SELECT 1 FROM t WHERE company_id = $1 AND a = $2 AND (b = $3 OR c = $3) \
             UNION SELECT 2 FROM t WHERE company_id = $1 AND a = $2 AND (b = $3 OR c = $3)"
        );
        assert_eq!(params, [Value::I32(Some(7)), Value::I32(Some(1)), Value::Text(Some("x".into()))]);
    }
}
