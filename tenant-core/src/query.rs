//! List queries: `page`, `page_size`, `ordering`, `search` and exact filters, as Django REST
//! Framework's `PageNumberPagination`, `OrderingFilter`, `SearchFilter` and django-filter read
//! them. Only fields the resource declares are accepted; values are always bound, never spliced.

use crate::db::Sql;
use crate::error::{ApiError, FieldErrors};
use crate::resource::{Field, ResourceDesc};
use crate::validate::value_from_str;
use crate::value::Value;

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// A parsed list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
    /// `(field, descending)`, in priority order.
    pub ordering: Vec<(&'static str, bool)>,
    /// Search terms (whitespace-separated in `?search=`); each must match some searchable field.
    pub search: Vec<String>,
    /// Exact matches.
    pub filters: Vec<(&'static str, Value)>,
}

impl ListQuery {
    /// Reads the query string pairs. Unknown parameters are ignored, as in DRF.
    pub fn parse(desc: &ResourceDesc, pairs: &[(String, String)]) -> Result<ListQuery, ApiError> {
        let mut query =
            ListQuery { page: 1, page_size: DEFAULT_PAGE_SIZE, ordering: vec![], search: vec![], filters: vec![] };
        let mut errors = FieldErrors::new();
        for (key, raw) in pairs {
            match key.as_str() {
                "page" => {
                    query.page = raw
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or_else(|| ApiError::NotFoundDetail("Invalid page.".into()))?;
                }
                // Like DRF: an unusable page size falls back to the default; a large one is capped.
                "page_size" => {
                    query.page_size = raw
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE))
                }
                "ordering" => query.ordering = parse_ordering(desc, raw, &mut errors),
                "search" => {
                    if desc.fields.iter().any(|f| f.search) {
                        query.search = raw
                            .split(|c: char| c.is_whitespace() || c == ',')
                            .filter(|t| !t.is_empty())
                            .map(str::to_string)
                            .collect();
                    }
                }
                name => {
                    if let Some(field) = desc.fields.iter().find(|f| f.filter && f.name == name)
                        && !raw.is_empty()
                    {
                        match filter_value(field, raw) {
                            Ok(v) => query.filters.push((field.name, v)),
                            Err(message) => errors.entry(field.name.to_string()).or_default().push(message),
                        }
                    }
                }
            }
        }
        if errors.is_empty() { Ok(query) } else { Err(ApiError::Validation(errors)) }
    }

    /// The list statement and its parameters: the macro's `list` text with the page's count as
    /// a scalar sub-query (`count` with the same conditions), then the conditions, the order and
    /// the page. `$1` is the company id; the conditions' parameters serve both halves.
    pub fn to_sql(&self, desc: &ResourceDesc, company: Value) -> (Sql, Vec<Value>) {
        let mut conditions = String::new();
        let mut params = vec![company];
        for (name, value) in &self.filters {
            params.push(value.clone());
            conditions.push_str(&format!(" AND {name} = ${}", params.len()));
        }
        let searchable: Vec<&Field> = desc.fields.iter().filter(|f| f.search).collect();
        for term in &self.search {
            params.push(Value::Text(Some(format!("%{}%", escape_like(&term.to_lowercase())))));
            let n = params.len();
            let any: Vec<String> =
                searchable.iter().map(|f| format!("LOWER({}) LIKE ${n} ESCAPE '\\'", f.name)).collect();
            conditions.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
        // `list` is `SELECT <columns> FROM <table> WHERE company_id = $1` (see `ResourceSql`).
        let (columns, from) = desc.sql.list.split_once(" FROM ").unwrap_or((desc.sql.list, ""));
        let mut sql = format!("{columns}, ({}{conditions}) FROM {from}{conditions} ORDER BY ", desc.sql.count);
        for (name, desc) in &self.ordering {
            sql.push_str(name);
            sql.push_str(if *desc { " DESC, " } else { " ASC, " });
        }
        // The default order, and the tie-breaker that makes pages stable under any ordering.
        sql.push_str("created_at ASC, id ASC");
        let offset = (self.page.saturating_sub(1)).saturating_mul(self.page_size);
        params.push(Value::I64(Some(self.page_size as i64)));
        params.push(Value::I64(Some(i64::try_from(offset).unwrap_or(i64::MAX))));
        sql.push_str(&format!(" LIMIT ${} OFFSET ${}", params.len() - 1, params.len()));
        (Sql::assembled(sql), params)
    }
}

fn parse_ordering(desc: &ResourceDesc, raw: &str, errors: &mut FieldErrors) -> Vec<(&'static str, bool)> {
    let mut ordering = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, descending) = match part.strip_prefix('-') {
            Some(name) => (name, true),
            None => (part, false),
        };
        match desc.fields.iter().find(|f| f.order && f.name == name) {
            Some(field) => ordering.push((field.name, descending)),
            None => {
                let allowed: Vec<&str> = desc.fields.iter().filter(|f| f.order).map(|f| f.name).collect();
                errors.entry("ordering".into()).or_default().push(format!(
                    "Invalid ordering field \"{name}\". Choose from: {}.",
                    if allowed.is_empty() { "(none)".to_string() } else { allowed.join(", ") }
                ));
            }
        }
    }
    ordering
}

fn filter_value(field: &Field, raw: &str) -> Result<Value, String> {
    value_from_str(field.ty, raw).map_err(|m| format!("Invalid filter value: {m}"))
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
    use crate::resource::{FieldType, Permissions, ResourceSql};

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
        sql: ResourceSql {
            select_one: "",
            select_one_for_update: "",
            list: "SELECT * FROM things WHERE company_id = $1",
            count: "SELECT COUNT(*) FROM things WHERE company_id = $1",
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
        let (sql, params) = q.to_sql(&DESC, Value::I32(Some(7)));
        assert_eq!(
            sql.as_str(),
            "SELECT *, (SELECT COUNT(*) FROM things WHERE company_id = $1 AND active = $2 \
             AND (LOWER(name) LIKE $3 ESCAPE '\\' OR LOWER(note) LIKE $3 ESCAPE '\\') \
             AND (LOWER(name) LIKE $4 ESCAPE '\\' OR LOWER(note) LIKE $4 ESCAPE '\\')) \
             FROM things WHERE company_id = $1 AND active = $2 \
             AND (LOWER(name) LIKE $3 ESCAPE '\\' OR LOWER(note) LIKE $3 ESCAPE '\\') \
             AND (LOWER(name) LIKE $4 ESCAPE '\\' OR LOWER(note) LIKE $4 ESCAPE '\\') \
             ORDER BY name DESC, created_at ASC, id ASC LIMIT $5 OFFSET $6"
        );
        assert_eq!(params[2], Value::Text(Some("%50\\%%".into())));
        assert_eq!(params[5], Value::I64(Some(100)));
    }

    #[test]
    fn rejects_undeclared_ordering_bad_filters_and_bad_pages() {
        let err = ListQuery::parse(&DESC, &pairs(&[("ordering", "note"), ("active", "maybe")])).unwrap_err();
        let ApiError::Validation(errors) = err else { panic!() };
        assert!(errors.contains_key("ordering") && errors.contains_key("active"));
        for page in ["0", "-1", "x"] {
            assert!(matches!(ListQuery::parse(&DESC, &pairs(&[("page", page)])), Err(ApiError::NotFoundDetail(_))));
        }
        // Unknown parameters and empty filter values are ignored.
        let q = ListQuery::parse(&DESC, &pairs(&[("nope", "1"), ("active", ""), ("page_size", "x")])).unwrap();
        assert!(q.filters.is_empty());
        assert_eq!(q.page_size, DEFAULT_PAGE_SIZE);
    }
}
