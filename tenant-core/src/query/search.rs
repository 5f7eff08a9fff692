//! `?search=`: the terms, within their caps, and their conditions per dialect (DRF's
//! `SearchFilter`: every term must match some searchable field, case-insensitively).

use crate::db::{Dialect, SqlBuilder};
use crate::messages::NUL_NOT_ALLOWED;
use crate::resource::ResourceDesc;
use crate::value::Value;

/// Characters of the whole `?search=` value (room for the most terms at their longest, and the
/// spaces between); longer → 400 on `search`.
pub const MAX_SEARCH_CHARS: usize = 1024;
/// Terms of `?search=` (separated by whitespace or commas); more → 400 on `search`.
pub const MAX_SEARCH_TERMS: usize = 10;
/// Characters of one search term; longer → 400 on `search`.
pub const MAX_SEARCH_TERM_CHARS: usize = 100;

/// The terms of `raw` (separated by whitespace or commas); `Err` is the message on `search`.
pub(super) fn parse(raw: &str) -> Result<Vec<String>, String> {
    if raw.chars().count() > MAX_SEARCH_CHARS {
        return Err(format!("Ensure the search has no more than {MAX_SEARCH_CHARS} characters."));
    }
    if raw.contains('\0') {
        return Err(NUL_NOT_ALLOWED.into());
    }
    let terms: Vec<String> =
        raw.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()).map(str::to_string).collect();
    if terms.len() > MAX_SEARCH_TERMS {
        return Err(format!("Ensure the search has no more than {MAX_SEARCH_TERMS} terms."));
    }
    if terms.iter().any(|t| t.chars().count() > MAX_SEARCH_TERM_CHARS) {
        return Err(format!("Ensure each search term has no more than {MAX_SEARCH_TERM_CHARS} characters."));
    }
    Ok(terms)
}

/// Writes ` AND (<field> matches <term> OR …)` for each term, the term bound once.
///
/// PostgreSQL compares `LOWER(column)` with `LOWER(term)` (the database's locale folds case; a
/// `C` locale folds ASCII only); SQLite, whose `LOWER` and `LIKE` fold ASCII only, matches the
/// term as a case-insensitive literal with the `REGEXP` function sqlx registers on every
/// connection (Rust's `regex`, Unicode simple case folding).
pub(super) fn push_sql(sql: &mut SqlBuilder, desc: &ResourceDesc, terms: &[String]) {
    let dialect = sql.dialect();
    let searchable = || desc.fields.iter().filter(|f| f.search);
    for term in terms {
        let pattern = match dialect {
            Dialect::Postgres => format!("%{}%", escape_like(term)),
            Dialect::Sqlite => format!("(?i){}", regex::escape(term)),
        };
        let pattern = sql.bind(Value::Text(Some(pattern)));
        sql.push(" AND (");
        for (i, field) in searchable().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            match dialect {
                Dialect::Postgres => {
                    sql.push("LOWER(").push(field.name).push(") LIKE LOWER(").param(pattern).push(") ESCAPE '\\'")
                }
                Dialect::Sqlite => sql.push(field.name).push(" REGEXP ").param(pattern),
            };
        }
        sql.push(")");
    }
}

/// Escapes `LIKE` wildcards so a search term matches literally.
fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_off\"), r"50\%\_off\\");
        assert_eq!(parse(" a,b  c ").unwrap(), ["a", "b", "c"]);
    }

    #[test]
    fn search_sizes_are_bounded() {
        assert_eq!(parse(&["ab"; MAX_SEARCH_TERMS].join(" ")).unwrap().len(), MAX_SEARCH_TERMS);
        assert_eq!(parse(&"é".repeat(MAX_SEARCH_TERM_CHARS)).unwrap().len(), 1);
        for bad in [
            ["ab"; MAX_SEARCH_TERMS + 1].join(" "),
            "é".repeat(MAX_SEARCH_TERM_CHARS + 1),
            " ".repeat(MAX_SEARCH_CHARS + 1),
            "a\0b".to_string(),
        ] {
            assert!(parse(&bad).is_err(), "{bad:?} is refused");
        }
    }
}
