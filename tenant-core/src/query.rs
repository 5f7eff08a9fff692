//! List queries: `page`, `page_size`, `ordering`, `search`, exact filters and lookups, as Django
//! REST Framework's `PageNumberPagination`, `OrderingFilter`, `SearchFilter` and django-filter
//! read them. Only fields the resource declares are accepted; values are always bound, never
//! spliced.
//!
//! Every resource's `GET {path}` reads its query string with [`ListQuery::parse`] and answers
//! [`Scoped::list`](crate::Scoped::list)'s page; a handler of your own can do the same. README.md's
//! "Lists" table gives each parameter's meaning and its answer to bad input.
//!
//! Every size a client controls that becomes SQL is bounded here, before any statement runs, so
//! that both backends answer the same 400 instead of reaching an engine limit (SQLite refuses
//! `LIKE` patterns over 50 000 bytes and expression trees deeper than 1 000): the search input
//! ([`MAX_SEARCH_CHARS`], [`MAX_SEARCH_TERMS`], [`MAX_SEARCH_TERM_CHARS`]), the ordering terms
//! ([`MAX_ORDERING_TERMS`], each field once), the values of an `__in` lookup
//! ([`MAX_IN_VALUES`]), one value per parameter (the last, as Django's `QueryDict`), and
//! `page_size` ([`MAX_PAGE_SIZE`]).
//!
//! `query/search.rs` holds the search's terms and conditions, `query/lookups.rs` the lookups'.

mod columns;
mod lookups;
mod search;

use std::collections::HashMap;

use crate::db::{Dialect, Sql, SqlBuilder};
use crate::resource::{Field, ResourceDesc};
use crate::validate::FieldErrors;
use crate::validate::parse::value_from_str;
use crate::value::Value;

pub use columns::{Column, Condition, Ordering};
pub use lookups::{LookupFilter, MAX_IN_VALUES};
pub use search::{MAX_SEARCH_CHARS, MAX_SEARCH_TERM_CHARS, MAX_SEARCH_TERMS};

/// Objects per page without `?page_size=`, or with one that is not a positive integer (DRF's
/// `PageNumberPagination` falls back to its `page_size` the same way).
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest `?page_size=`; a larger one is capped to it, not refused (DRF's
/// `max_page_size`).
pub const MAX_PAGE_SIZE: u64 = 100;
/// Comma-separated terms of `?ordering=`; more → 400 on `ordering`. A field named twice counts
/// once (its first occurrence decides), so the statement orders by each field at most once.
pub const MAX_ORDERING_TERMS: usize = 20;

/// Why a list's query string was refused: not a page (404 "Invalid page.", as DRF's
/// `PageNumberPagination`), or bad parameters (400, one message per parameter). `?` in a
/// handler turns it into that [`ApiError`](crate::ApiError).
#[derive(Debug, PartialEq)]
pub enum QueryError {
    /// `?page=` is not a positive integer: 404 `{"detail": "Invalid page."}`. (A page past the
    /// last is found only by running the query: [`Scoped::list`](crate::Scoped::list) answers it.)
    InvalidPage,
    /// 400 with one list of messages per parameter (`ordering`, `search`, the filtered field's
    /// name, or a lookup's parameter, `price_cents__gte`).
    Invalid(FieldErrors),
}

/// A parsed list request: which page, in which order, narrowed how. Made by
/// [`ListQuery::parse`] and run by [`Scoped::list`](crate::Scoped::list).
///
/// The fields are public so a handler can adjust a parsed query (fix a filter, say). The field
/// names in `ordering`, `filters` and `lookups` become SQL text: set only names of the
/// resource's own orderable, filterable and lookup fields, as `parse` does; the values are
/// always bound parameters. Every condition (filters, lookups, search terms) must hold: they
/// combine with `AND`, in the page and in its count alike. Whatever the ordering, rows then sort
/// by `created_at`, `id`, so pages are stable.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// 1-based.
    pub page: u64,
    /// 1 to [`MAX_PAGE_SIZE`].
    pub page_size: u64,
    /// `(field, descending)`, in priority order, each field once. NULLs sort last ascending and
    /// first descending, on both backends.
    pub ordering: Vec<(&'static str, bool)>,
    /// Search terms (whitespace-separated in `?search=`); each must match some searchable field.
    pub search: Vec<String>,
    /// Exact matches, one per field.
    pub filters: Vec<(&'static str, Value)>,
    /// django-filter lookups (`?price_cents__gte=100`): the field's name and the condition, at
    /// most one per field and lookup, in the order the parameters came.
    pub lookups: Vec<(&'static str, LookupFilter)>,
}

/// The query string's pairs with one value per parameter: the **last** one, as Django's
/// `QueryDict.__getitem__` (and so DRF and django-filter) reads `?status=paid&status=draft`.
/// Parameters keep the order of their first appearance.
pub(crate) fn last_values(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for (key, value) in pairs {
        match index.get(key.as_str()) {
            Some(&i) => out[i].1.clone_from(value),
            None => {
                index.insert(key, out.len());
                out.push((key.clone(), value.clone()));
            }
        }
    }
    out
}

/// The first page of [`DEFAULT_PAGE_SIZE`] objects in the default order (`created_at`, then
/// `id`), unfiltered: what `GET {path}` with no parameters lists.
impl Default for ListQuery {
    fn default() -> ListQuery {
        ListQuery {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            ordering: vec![],
            search: vec![],
            filters: vec![],
            lookups: vec![],
        }
    }
}

impl ListQuery {
    /// Reads the query string's pairs, percent-decoded, in their order (what
    /// `serde_urlencoded::from_str::<Vec<(String, String)>>` gives). Unknown parameters are
    /// ignored, as in DRF, and so are lookups the field does not declare (`?name__gt=` without
    /// `lookups = "gt"` on `name`); a repeated parameter counts with its last value, as
    /// Django's `QueryDict` reads it. An empty filter or lookup value filters nothing.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidPage`] for a `page` that is not a positive integer; otherwise
    /// [`QueryError::Invalid`] with every bad parameter at once: an `ordering` naming a field
    /// that is not orderable or more than [`MAX_ORDERING_TERMS`] terms, a `search` over the
    /// caps or holding NUL, a filter or lookup value the field cannot hold, an `__in` list with
    /// an empty item or more than [`MAX_IN_VALUES`] values, an `__isnull` that is not `true` or
    /// `false`.
    pub fn parse(desc: &ResourceDesc, pairs: &[(String, String)]) -> Result<ListQuery, QueryError> {
        let mut query = ListQuery::default();
        let mut errors = FieldErrors::new();
        for (key, raw) in last_values(pairs) {
            match key.as_str() {
                "page" => {
                    query.page = raw.trim().parse::<u64>().ok().filter(|p| *p >= 1).ok_or(QueryError::InvalidPage)?;
                }
                // Like DRF: an unusable page size falls back to the default; a large one is capped.
                "page_size" => {
                    let raw = raw.trim();
                    query.page_size = match raw.parse::<u64>() {
                        Ok(n) if n >= 1 => n.min(MAX_PAGE_SIZE),
                        // All digits but past `u64::MAX`: more than the cap too.
                        Err(_) if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) => MAX_PAGE_SIZE,
                        _ => DEFAULT_PAGE_SIZE,
                    };
                }
                "ordering" => match parse_ordering(desc, &raw) {
                    Ok(ordering) => query.ordering = ordering,
                    Err(messages) => {
                        errors.insert("ordering".into(), messages);
                    }
                },
                "search" => {
                    if desc.fields.iter().any(|f| f.search) {
                        match search::parse(&raw) {
                            Ok(terms) => query.search = terms,
                            Err(message) => {
                                errors.insert("search".into(), vec![message]);
                            }
                        }
                    }
                }
                // An empty filter or lookup value asks for nothing, as in django-filter.
                _ if raw.is_empty() => {}
                name => {
                    if let Some(field) = desc.fields.iter().find(|f| f.filter && f.name == name) {
                        match filter_value(field, &raw) {
                            Ok(v) => query.filters.push((field.name, v)),
                            Err(message) => errors.entry(field.name.to_string()).or_default().push(message),
                        }
                    } else if let Some((field, lookup)) = lookups::declared(desc, name) {
                        match lookups::parse(field, lookup, &raw) {
                            Ok(filter) => query.lookups.push((field.name, filter)),
                            Err(message) => errors.entry(key.clone()).or_default().push(message),
                        }
                    }
                }
            }
        }
        if errors.is_empty() { Ok(query) } else { Err(QueryError::Invalid(errors)) }
    }

    /// The list statement and its parameters: the macro's `list` text with the page's count as
    /// a scalar sub-query (`count` with the same conditions), then the conditions (exact
    /// filters, lookups, search terms), the order and the page. `$1` is the company id; the
    /// conditions' parameters serve both halves.
    ///
    /// Search is case-insensitive over Unicode on both backends (`query/search.rs` says how).
    ///
    /// NULLs sort last in ascending order and first in descending order on both backends
    /// (PostgreSQL's default, written out because SQLite's is the reverse); the `created_at`,
    /// `id` tie-breaker keeps pages stable through a block of NULLs.
    #[doc(hidden)]
    pub fn to_sql(&self, desc: &ResourceDesc, dialect: Dialect, company: Value) -> (Sql, Vec<Value>) {
        // `SELECT <columns>, (SELECT COUNT(*) <scope><conditions>) <scope><conditions> ORDER BY …
        // LIMIT $n OFFSET $m`: the page and its count in one round trip, over the same conditions.
        let mut sql = SqlBuilder::scoped(dialect, company);
        sql.push(desc.sql.list_columns).push(", (SELECT COUNT(*) ").push(desc.sql.list_scope);
        let start = sql.mark();
        for (name, value) in &self.filters {
            sql.push(" AND ").push(name).push(" = ").push_bind(value.clone());
        }
        for (name, filter) in &self.lookups {
            filter.push_sql(&mut sql, name);
        }
        search::push_sql(&mut sql, desc, &self.search);
        let conditions = sql.since(start);
        sql.push(") ").push(desc.sql.list_scope).repeat(&conditions).push(" ORDER BY ");
        for (name, descending) in &self.ordering {
            let nullable = desc.field(name).is_some_and(|f| f.nullable);
            sql.push(name).push(match (*descending, nullable) {
                (false, false) => " ASC, ",
                (true, false) => " DESC, ",
                (false, true) => " ASC NULLS LAST, ",
                (true, true) => " DESC NULLS FIRST, ",
            });
        }
        let offset = (self.page.saturating_sub(1)).saturating_mul(self.page_size);
        sql.push("created_at ASC, id ASC LIMIT ").push_bind(Value::I64(Some(self.page_size as i64)));
        sql.push(" OFFSET ").push_bind(Value::I64(Some(i64::try_from(offset).unwrap_or(i64::MAX))));
        sql.finish()
    }
}

/// `field,-other`: each term an orderable field, at most [`MAX_ORDERING_TERMS`] terms, each
/// field once (its first occurrence decides). `Err` holds one message per unknown field.
fn parse_ordering(desc: &ResourceDesc, raw: &str) -> Result<Vec<(&'static str, bool)>, Vec<String>> {
    let parts: Vec<&str> = raw.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.len() > MAX_ORDERING_TERMS {
        return Err(vec![format!("Ensure the ordering has no more than {MAX_ORDERING_TERMS} terms.")]);
    }
    let mut ordering: Vec<(&'static str, bool)> = Vec::new();
    let mut errors = Vec::new();
    for part in parts {
        let (name, descending) = match part.strip_prefix('-') {
            Some(name) => (name, true),
            None => (part, false),
        };
        match desc.fields.iter().find(|f| f.order && f.name == name) {
            Some(field) if ordering.iter().any(|(name, _)| *name == field.name) => {}
            Some(field) => ordering.push((field.name, descending)),
            None => {
                let allowed: Vec<&str> = desc.fields.iter().filter(|f| f.order).map(|f| f.name).collect();
                let message = format!(
                    "Invalid ordering field \"{}\". Choose from: {}.",
                    name.escape_debug(),
                    if allowed.is_empty() { "(none)".to_string() } else { allowed.join(", ") }
                );
                if !errors.contains(&message) {
                    errors.push(message);
                }
            }
        }
    }
    if errors.is_empty() { Ok(ordering) } else { Err(errors) }
}

fn filter_value(field: &Field, raw: &str) -> Result<Value, String> {
    value_from_str(field.ty, raw).map_err(|m| format!("Invalid filter value: {m}"))
}

/// The typed builder's side (`query/columns.rs`).
impl ListQuery {
    /// This query, also narrowed by `condition` (every condition must hold).
    pub fn filter(mut self, condition: Condition) -> ListQuery {
        match condition.test {
            columns::Test::Exact(value) => self.filters.push((condition.field, value)),
            columns::Test::Lookup(lookup) => self.lookups.push((condition.field, lookup)),
        }
        self
    }

    /// This query, ordered next by `ordering` (before the default `created_at`, `id`).
    pub fn order_by(mut self, ordering: Ordering) -> ListQuery {
        if !self.ordering.iter().any(|(field, _)| *field == ordering.field) {
            self.ordering.push((ordering.field, ordering.descending));
        }
        self
    }

    /// This query with pages of `size` objects (clamped to 1 to
    /// [`MAX_PAGE_SIZE`]).
    pub fn with_page_size(mut self, size: u64) -> ListQuery {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// This query's page `page` (1-based).
    pub fn with_page(mut self, page: u64) -> ListQuery {
        self.page = page.max(1);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Actions, Permissions, ResourceSql};
    use crate::value::FieldType;

    const DESC: ResourceDesc = ResourceDesc {
        name: "Thing",
        singular: "thing",
        table: "things",
        path: "/api/things",
        fields: &[
            Field { search: true, order: true, ..Field::new("name", FieldType::Text, false) },
            Field { filter: true, ..Field::new("active", FieldType::Bool, false) },
            Field { search: true, ..Field::new("note", FieldType::Text, true) },
        ],
        permissions: Permissions::DEFAULT,
        actions: Actions::ALL,
        computed: &[],
        sql: ResourceSql {
            select_one: "",
            select_one_for_update: "",
            list_columns: "SELECT *",
            list_scope: "FROM things WHERE company_id = $1",
            insert: "",
            update: "",
            delete: "",
            exists: "",
        },
    };

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn parses_and_builds_bound_sql() {
        let q = ListQuery::parse(
            &DESC,
            &pairs(&[
                ("page", "2"),
                ("page_size", "500"),
                ("ordering", "-name"),
                ("active", "true"),
                ("search", "50% off"),
            ]),
        )
        .unwrap();
        assert_eq!((q.page, q.page_size), (2, MAX_PAGE_SIZE));
        let (sql, params) = q.to_sql(&DESC, Dialect::Postgres, Value::I32(Some(7)));
        assert_eq!(
            sql.as_str(),
            "SELECT *, (SELECT COUNT(*) FROM things WHERE company_id = $1 AND active = $2 \
             AND (LOWER(name) LIKE LOWER($3) ESCAPE '\\' OR LOWER(note) LIKE LOWER($3) ESCAPE '\\') \
             AND (LOWER(name) LIKE LOWER($4) ESCAPE '\\' OR LOWER(note) LIKE LOWER($4) ESCAPE '\\')) \
             FROM things WHERE company_id = $1 AND active = $2 \
             AND (LOWER(name) LIKE LOWER($3) ESCAPE '\\' OR LOWER(note) LIKE LOWER($3) ESCAPE '\\') \
             AND (LOWER(name) LIKE LOWER($4) ESCAPE '\\' OR LOWER(note) LIKE LOWER($4) ESCAPE '\\') \
             ORDER BY name DESC, created_at ASC, id ASC LIMIT $5 OFFSET $6"
        );
        assert_eq!(params[2], Value::Text(Some("%50\\%%".into())));
        assert_eq!(params[5], Value::I64(Some(100)));
        // SQLite: the term as a case-insensitive regex literal.
        let (sql, params) = q.to_sql(&DESC, Dialect::Sqlite, Value::I32(Some(7)));
        assert!(sql.as_str().contains("AND (name REGEXP $3 OR note REGEXP $3)"), "{}", sql.as_str());
        assert_eq!(params[2], Value::Text(Some("(?i)50%".into())));
        let q = ListQuery::parse(&DESC, &pairs(&[("search", "a.b*(c)")])).unwrap();
        let (_, params) = q.to_sql(&DESC, Dialect::Sqlite, Value::I32(Some(7)));
        assert_eq!(params[1], Value::Text(Some(r"(?i)a\.b\*\(c\)".into())));
    }

    #[test]
    fn nullable_fields_sort_nulls_last_ascending_on_every_dialect() {
        const NULLABLE: ResourceDesc = ResourceDesc {
            fields: &[
                Field { order: true, ..Field::new("name", FieldType::Text, false) },
                Field { order: true, ..Field::new("due", FieldType::Date, true) },
            ],
            ..DESC
        };
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let q = ListQuery::parse(&NULLABLE, &pairs(&[("ordering", "due,-name")])).unwrap();
            let (sql, _) = q.to_sql(&NULLABLE, dialect, Value::I32(Some(7)));
            assert!(sql.as_str().contains("ORDER BY due ASC NULLS LAST, name DESC, created_at"), "{}", sql.as_str());
            let q = ListQuery::parse(&NULLABLE, &pairs(&[("ordering", "-due")])).unwrap();
            let (sql, _) = q.to_sql(&NULLABLE, dialect, Value::I32(Some(7)));
            assert!(sql.as_str().contains("ORDER BY due DESC NULLS FIRST, created_at"), "{}", sql.as_str());
        }
    }

    #[test]
    fn rejects_undeclared_ordering_bad_filters_and_bad_pages() {
        let err = ListQuery::parse(&DESC, &pairs(&[("ordering", "note"), ("active", "maybe")])).unwrap_err();
        let QueryError::Invalid(errors) = err else { panic!() };
        assert!(errors.contains_key("ordering") && errors.contains_key("active"));
        for page in ["0", "-1", "x", "1e3"] {
            assert!(matches!(ListQuery::parse(&DESC, &pairs(&[("page", page)])), Err(QueryError::InvalidPage)));
        }
        // Unknown parameters and empty filter values are ignored.
        let q = ListQuery::parse(&DESC, &pairs(&[("nope", "1"), ("active", ""), ("page_size", "x")])).unwrap();
        assert!(q.filters.is_empty());
        assert_eq!(q.page_size, DEFAULT_PAGE_SIZE);
        // A page size past u64 is past the cap; one that is not a number is the default.
        let q = ListQuery::parse(&DESC, &pairs(&[("page_size", "99999999999999999999999")])).unwrap();
        assert_eq!(q.page_size, MAX_PAGE_SIZE);
        let q = ListQuery::parse(&DESC, &pairs(&[("page_size", "-99999999999999999999999")])).unwrap();
        assert_eq!(q.page_size, DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn the_last_value_of_a_repeated_parameter_counts() {
        let raw = pairs(&[("active", "true"), ("page", "x"), ("active", "false"), ("page", "2"), ("z", "1")]);
        assert_eq!(last_values(&raw), pairs(&[("active", "false"), ("page", "2"), ("z", "1")]));
        let q = ListQuery::parse(&DESC, &raw).unwrap();
        assert_eq!((q.page, q.filters.clone()), (2, vec![("active", Value::Bool(Some(false)))]));
        let q = ListQuery::parse(&DESC, &pairs(&[("ordering", "bad"), ("ordering", "-name")])).unwrap();
        assert_eq!(q.ordering.len(), 1);
    }

    #[test]
    fn search_and_ordering_sizes_are_bounded() {
        // The search's own caps are `query/search.rs`'s tests; here, that they are a 400 on `search`.
        let Err(QueryError::Invalid(errors)) = ListQuery::parse(&DESC, &pairs(&[("search", "a\0b")])) else { panic!() };
        assert!(errors.contains_key("search"));
        let ordering = |raw: String| ListQuery::parse(&DESC, &pairs(&[("ordering", &raw)]));
        let q = ordering(["name", "-name"].repeat(MAX_ORDERING_TERMS / 2).join(",")).unwrap();
        assert_eq!(q.ordering.len(), 1, "each field once");
        assert!(!q.ordering[0].1, "the first occurrence decides");
        assert!(ordering(vec!["name"; MAX_ORDERING_TERMS + 1].join(",")).is_err());
        let Err(QueryError::Invalid(errors)) = ordering(vec!["x"; MAX_ORDERING_TERMS].join(",")) else { panic!() };
        assert_eq!(errors["ordering"].len(), 1, "one message per unknown field");
    }
}
