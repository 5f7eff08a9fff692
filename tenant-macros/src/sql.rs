//! The SQL text of a resource, built once at compile time (see `ResourceSql` in tenant-core).
//!
//! Table and column names are checked to be plain lowercase identifiers (`check.rs`), so they are
//! written unquoted. Placeholders are `$n`, which PostgreSQL and SQLite both accept.

use crate::symbol::SYSTEM_COLUMNS;

/// One string per `ResourceSql` field.
#[derive(Debug, PartialEq, Eq)]
pub struct Statements {
    pub select_one: String,
    pub select_one_for_update: String,
    pub list_columns: String,
    pub list_scope: String,
    pub insert: String,
    pub update: String,
    pub delete: String,
    pub exists: String,
}

/// Statements over `table` whose own columns are `fields`, in declaration order.
pub fn statements(table: &str, fields: &[&str]) -> Statements {
    let columns: Vec<&str> = SYSTEM_COLUMNS.iter().chain(fields).copied().collect();
    let column_list = columns.join(", ");
    let scoped = "WHERE company_id = $1 AND id = $2";

    let select_one = format!("SELECT {column_list} FROM {table} {scoped}");
    let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
    // `$1` and `$2` are the company and the id; `updated_at` is `$3`, then each field in order.
    let assignments: Vec<String> = std::iter::once(&"updated_at")
        .chain(fields)
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 3))
        .collect();
    Statements {
        select_one_for_update: format!("{select_one} FOR UPDATE"),
        list_columns: format!("SELECT {column_list}"),
        list_scope: format!("FROM {table} WHERE company_id = $1"),
        insert: format!("INSERT INTO {table} ({column_list}) VALUES ({})", placeholders.join(", ")),
        update: format!("UPDATE {table} SET {} {scoped}", assignments.join(", ")),
        delete: format!("DELETE FROM {table} {scoped}"),
        exists: exists(table),
        select_one,
    }
}

/// `SELECT 1 FROM t WHERE company_id = $1 AND id = $2`: whether a row of the active company has
/// this id (reference checks).
fn exists(table: &str) -> String {
    format!("SELECT 1 FROM {table} WHERE company_id = $1 AND id = $2")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_statements() {
        let sql = statements("customers", &["email", "name", "phone", "notes"]);
        assert_eq!(
            sql.select_one,
            "SELECT id, company_id, created_at, updated_at, email, name, phone, notes FROM customers WHERE company_id = $1 AND id = $2"
        );
        assert_eq!(
            sql.select_one_for_update,
            "SELECT id, company_id, created_at, updated_at, email, name, phone, notes FROM customers WHERE company_id = $1 AND id = $2 FOR UPDATE"
        );
        assert_eq!(sql.list_columns, "SELECT id, company_id, created_at, updated_at, email, name, phone, notes");
        assert_eq!(sql.list_scope, "FROM customers WHERE company_id = $1");
        assert_eq!(
            sql.insert,
            "INSERT INTO customers (id, company_id, created_at, updated_at, email, name, phone, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        assert_eq!(
            sql.update,
            "UPDATE customers SET updated_at = $3, email = $4, name = $5, phone = $6, notes = $7 WHERE company_id = $1 AND id = $2"
        );
        assert_eq!(sql.delete, "DELETE FROM customers WHERE company_id = $1 AND id = $2");
        assert_eq!(sql.exists, "SELECT 1 FROM customers WHERE company_id = $1 AND id = $2");
    }

    #[test]
    fn no_fields() {
        let sql = statements("tags", &[]);
        assert_eq!(sql.insert, "INSERT INTO tags (id, company_id, created_at, updated_at) VALUES ($1, $2, $3, $4)");
        assert_eq!(sql.update, "UPDATE tags SET updated_at = $3 WHERE company_id = $1 AND id = $2");
    }
}
