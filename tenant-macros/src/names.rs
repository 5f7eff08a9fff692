//! Name rules: Rust names to SQL and URL names, SQL identifier checks, "did you mean" hints.

use crate::symbol::Symbol;

/// `InvoiceLine` → `invoice_line`, `HTTPLog` → `http_log`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                let boundary = prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower);
                if boundary && !out.ends_with('_') {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A regular English plural of a snake_case name: `customer` → `customers`,
/// `category` → `categories`, `address` → `addresses`.
pub fn plural(name: &str) -> String {
    let ends_with_sibilant = ["s", "x", "z", "ch", "sh"].iter().any(|end| name.ends_with(end));
    if ends_with_sibilant {
        return format!("{name}es");
    }
    if let Some(stem) = name.strip_suffix('y') {
        let before = stem.chars().last();
        if before.is_some_and(|c| c.is_ascii_alphabetic() && !"aeiou".contains(c)) {
            return format!("{stem}ies");
        }
    }
    format!("{name}s")
}

/// Why `name` cannot be used unquoted as a table or column name on PostgreSQL and SQLite, if it
/// cannot. The macro never quotes identifiers, so the rule is strict.
pub fn sql_identifier_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Some("it is empty".to_owned());
    };
    if !(first.is_ascii_lowercase() || first == '_')
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Some("it is not a lowercase SQL identifier (`[a-z_][a-z0-9_]*`)".to_owned());
    }
    if name.len() > 63 {
        return Some(format!("it is {} characters long; PostgreSQL truncates identifiers to 63", name.len()));
    }
    if is_reserved(name) {
        return Some("it is a reserved word in SQL".to_owned());
    }
    None
}

/// Reserved words of PostgreSQL and SQLite that cannot name a column or table unquoted.
pub fn is_reserved(name: &str) -> bool {
    RESERVED.binary_search(&name).is_ok()
}

// Sorted: PostgreSQL's reserved (and "can be function or type") key words, and SQLite's key words
// that have no fallback to an identifier.
const RESERVED: &[&str] = &[
    "add",
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "autoincrement",
    "between",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "commit",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "escape",
    "except",
    "exists",
    "false",
    "fetch",
    "filter",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "glob",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "nothing",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "overlaps",
    "placing",
    "primary",
    "references",
    "regexp",
    "returning",
    "right",
    "rollback",
    "select",
    "session_user",
    "set",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "transaction",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// The valid key closest to a mistyped one, for "did you mean" hints.
pub fn closest(wrong: &str, valid: &[Symbol]) -> Option<Symbol> {
    let wrong_lower = wrong.to_ascii_lowercase();
    valid
        .iter()
        .map(|key| (edit_distance(&wrong_lower, key.as_str()), *key))
        .filter(|(distance, key)| *distance <= 2 && *distance < key.as_str().len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
        .or_else(|| {
            // `searchable` → `search`, `ordering` → `order`, `defaults` → `default`.
            valid.iter().copied().find(|key| key.as_str().len() >= 3 && wrong_lower.starts_with(key.as_str()))
        })
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::{FIELD_KEYS, RESOURCE_KEYS};

    #[test]
    fn snake_case_of_type_names() {
        assert_eq!(snake_case("Customer"), "customer");
        assert_eq!(snake_case("InvoiceLine"), "invoice_line");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Paid"), "paid");
        assert_eq!(snake_case("V2Item"), "v2_item");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("customer"), "customers");
        assert_eq!(plural("invoice_line"), "invoice_lines");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("address"), "addresses");
        assert_eq!(plural("box"), "boxes");
        assert_eq!(plural("batch"), "batches");
    }

    #[test]
    fn sql_identifiers() {
        assert_eq!(sql_identifier_problem("customers"), None);
        assert_eq!(sql_identifier_problem("_x9"), None);
        assert!(sql_identifier_problem("").is_some());
        assert!(sql_identifier_problem("Customers").is_some());
        assert!(sql_identifier_problem("9lives").is_some());
        assert!(sql_identifier_problem("my-table").is_some());
        assert!(sql_identifier_problem(&"a".repeat(64)).is_some());
        assert!(sql_identifier_problem("order").unwrap().contains("reserved"));
        assert!(sql_identifier_problem("user").unwrap().contains("reserved"));
    }

    #[test]
    fn reserved_list_is_sorted() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]), "RESERVED must stay sorted for binary_search");
    }

    #[test]
    fn suggestions() {
        let s = |w| closest(w, FIELD_KEYS).map(|k| k.as_str());
        assert_eq!(s("uniqe"), Some("unique"));
        assert_eq!(s("serach"), Some("search"));
        assert_eq!(s("searchable"), Some("search"));
        assert_eq!(s("ordering"), Some("order"));
        assert_eq!(s("Unique"), Some("unique"));
        assert_eq!(s("nullable"), None);
        assert_eq!(closest("tabel", RESOURCE_KEYS).map(|k| k.as_str()), Some("table"));
        assert_eq!(closest("delet", RESOURCE_KEYS).map(|k| k.as_str()), Some("delete"));
    }
}
