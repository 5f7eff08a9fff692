//! django-filter's lookups on lists: `field__in=a,b`, `field__gt` / `__gte` / `__lt` / `__lte`
//! and `field__isnull=true|false`, each accepted only where the field declares it
//! (`#[field(lookups = "gte, lte")]`, [`Field::lookups`]).
//!
//! Values are read by the field's type exactly as its exact filter reads them
//! ([`value_from_str`]), and become bound parameters of the list statement's conditions.

use crate::db::SqlBuilder;
use crate::resource::{Field, Lookup, ResourceDesc};
use crate::validate::parse::value_from_str;
use crate::value::{FieldType, Value};

/// Values of one `?field__in=`; more → 400 on that parameter. It bounds the statement's
/// parameters (one per value) and its size, as the search and ordering caps do.
pub const MAX_IN_VALUES: usize = 100;

/// One lookup of a list, parsed: what `?field__lookup=value` asks for. [`ListQuery`]'s
/// `lookups` holds them with the field's name.
///
/// [`ListQuery`]: super::ListQuery
#[derive(Debug, Clone, PartialEq)]
pub enum LookupFilter {
    /// `__in=a,b`: `field IN (a, b)`, 1 to [`MAX_IN_VALUES`] values.
    In(Vec<Value>),
    /// `__gt=v`: `field > v`.
    Gt(Value),
    /// `__gte=v`: `field >= v`.
    Gte(Value),
    /// `__lt=v`: `field < v`.
    Lt(Value),
    /// `__lte=v`: `field <= v`.
    Lte(Value),
    /// `__isnull=true`: `field IS NULL`; `false`: `field IS NOT NULL`.
    IsNull(bool),
}

impl LookupFilter {
    /// Which lookup this is.
    pub fn lookup(&self) -> Lookup {
        match self {
            LookupFilter::In(_) => Lookup::In,
            LookupFilter::Gt(_) => Lookup::Gt,
            LookupFilter::Gte(_) => Lookup::Gte,
            LookupFilter::Lt(_) => Lookup::Lt,
            LookupFilter::Lte(_) => Lookup::Lte,
            LookupFilter::IsNull(_) => Lookup::IsNull,
        }
    }

    /// Writes ` AND <field> <condition>`, every value bound.
    pub(super) fn push_sql(&self, sql: &mut SqlBuilder, field: &'static str) {
        sql.push(" AND ").push(field);
        let (operator, value) = match self {
            LookupFilter::In(values) => {
                sql.push(" IN (");
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.push_bind(value.clone());
                }
                sql.push(")");
                return;
            }
            LookupFilter::IsNull(true) => {
                sql.push(" IS NULL");
                return;
            }
            LookupFilter::IsNull(false) => {
                sql.push(" IS NOT NULL");
                return;
            }
            LookupFilter::Gt(value) => (" > ", value),
            LookupFilter::Gte(value) => (" >= ", value),
            LookupFilter::Lt(value) => (" < ", value),
            LookupFilter::Lte(value) => (" <= ", value),
        };
        sql.push(operator).push_bind(value.clone());
    }
}

/// The field and lookup a parameter names (`price__gte`), if the resource declares that lookup
/// on that field; `None` for any other name, which the list then ignores, as django-filter does.
pub(super) fn declared(desc: &ResourceDesc, parameter: &str) -> Option<(&'static Field, Lookup)> {
    let (name, lookup) = parameter.rsplit_once("__")?;
    let lookup = Lookup::from_name(lookup)?;
    desc.field(name).filter(|field| field.lookups.contains(lookup)).map(|field| (field, lookup))
}

/// Reads `raw`, the value of `field__lookup` (not empty: an empty value asks for nothing), with
/// the field's type. `Err` is the parameter's message, as the exact filters word it.
pub(super) fn parse(field: &Field, lookup: Lookup, raw: &str) -> Result<LookupFilter, String> {
    let value = |raw: &str| value_from_str(field.ty, raw);
    let filter = match lookup {
        Lookup::In => {
            let items: Vec<&str> = raw.split(',').take(MAX_IN_VALUES + 1).collect();
            if items.len() > MAX_IN_VALUES {
                Err(format!("Ensure the list has no more than {MAX_IN_VALUES} values."))
            } else if items.iter().any(|item| item.trim().is_empty()) {
                Err("Empty values are not allowed: separate the values with single commas.".to_string())
            } else {
                items.into_iter().map(value).collect::<Result<_, _>>().map(LookupFilter::In)
            }
        }
        Lookup::Gt => value(raw).map(LookupFilter::Gt),
        Lookup::Gte => value(raw).map(LookupFilter::Gte),
        Lookup::Lt => value(raw).map(LookupFilter::Lt),
        Lookup::Lte => value(raw).map(LookupFilter::Lte),
        // django-filter's `BooleanWidget`: `true`, `false`, `1` or `0`, in any case.
        Lookup::IsNull => match value_from_str(FieldType::Bool, raw) {
            Ok(Value::Bool(Some(is_null))) => Ok(LookupFilter::IsNull(is_null)),
            Ok(_) => Err("Must be a valid boolean.".to_string()),
            Err(message) => Err(message),
        },
    };
    filter.map_err(|message| format!("Invalid filter value: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Dialect;
    use crate::query::{ListQuery, QueryError};
    use crate::resource::{Lookups, Permissions, ResourceSql};

    const PRICE: Field = Field {
        lookups: Lookups::of(&[Lookup::In, Lookup::Gte, Lookup::Lt]),
        ..Field::new("price", FieldType::I64, false)
    };
    const DUE: Field = Field { lookups: Lookups::of(&[Lookup::IsNull]), ..Field::new("due", FieldType::Date, true) };

    fn sql(filter: LookupFilter) -> (String, Vec<Value>) {
        let mut sql = SqlBuilder::scoped(Dialect::Postgres, Value::I32(Some(7)));
        filter.push_sql(&mut sql, "f");
        let (sql, params) = sql.finish();
        (sql.as_str().to_string(), params[1..].to_vec())
    }

    #[test]
    fn each_lookup_writes_its_condition_with_bound_values() {
        let (one, two) = (Value::I64(Some(1)), Value::I64(Some(2)));
        assert_eq!(
            sql(LookupFilter::In(vec![one.clone(), two.clone()])),
            (" AND f IN ($2, $3)".into(), vec![one.clone(), two])
        );
        assert_eq!(sql(LookupFilter::In(vec![one.clone()])), (" AND f IN ($2)".into(), vec![one.clone()]));
        for (filter, text) in [
            (LookupFilter::Gt(one.clone()), " AND f > $2"),
            (LookupFilter::Gte(one.clone()), " AND f >= $2"),
            (LookupFilter::Lt(one.clone()), " AND f < $2"),
            (LookupFilter::Lte(one.clone()), " AND f <= $2"),
        ] {
            assert_eq!(sql(filter), (text.into(), vec![one.clone()]));
        }
        assert_eq!(sql(LookupFilter::IsNull(true)), (" AND f IS NULL".into(), vec![]));
        assert_eq!(sql(LookupFilter::IsNull(false)), (" AND f IS NOT NULL".into(), vec![]));
    }

    #[test]
    fn values_are_read_with_the_field_type() {
        assert_eq!(
            parse(&PRICE, Lookup::In, "3, 1,2"),
            Ok(LookupFilter::In(vec![Value::I64(Some(3)), Value::I64(Some(1)), Value::I64(Some(2))]))
        );
        assert_eq!(parse(&PRICE, Lookup::Gte, " 10 "), Ok(LookupFilter::Gte(Value::I64(Some(10)))));
        assert_eq!(parse(&PRICE, Lookup::Gte, "1e3"), Ok(LookupFilter::Gte(Value::I64(Some(1000)))));
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 31);
        assert_eq!(parse(&DUE, Lookup::Lt, "2026-01-31"), Ok(LookupFilter::Lt(Value::Date(date))));
        for (raw, is_null) in
            [("true", true), ("TRUE", true), ("1", true), ("false", false), ("False", false), ("0", false)]
        {
            assert_eq!(parse(&DUE, Lookup::IsNull, raw), Ok(LookupFilter::IsNull(is_null)), "{raw}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_exact_filters_wording() {
        assert_eq!(
            parse(&PRICE, Lookup::Gte, "cheap"),
            Err("Invalid filter value: A valid integer is required.".into())
        );
        assert_eq!(parse(&PRICE, Lookup::Lt, "1.5"), Err("Invalid filter value: A valid integer is required.".into()));
        assert_eq!(
            parse(&DUE, Lookup::Gt, "2026-13-01"),
            Err(format!("Invalid filter value: {}", crate::messages::DATE_FORMAT))
        );
        assert_eq!(parse(&DUE, Lookup::IsNull, "yes"), Err("Invalid filter value: Must be a valid boolean.".into()));
        assert!(parse(&PRICE, Lookup::In, "1,x").unwrap_err().contains("A valid integer is required."));
        for raw in ["1,,2", "1,", ",1", "1, ,2", ","] {
            assert_eq!(
                parse(&PRICE, Lookup::In, raw),
                Err("Invalid filter value: Empty values are not allowed: separate the values with single commas."
                    .into()),
                "{raw}"
            );
        }
        let most = vec!["1"; MAX_IN_VALUES].join(",");
        assert!(matches!(parse(&PRICE, Lookup::In, &most), Ok(LookupFilter::In(v)) if v.len() == MAX_IN_VALUES));
        assert_eq!(
            parse(&PRICE, Lookup::In, &format!("{most},1")),
            Err(format!("Invalid filter value: Ensure the list has no more than {MAX_IN_VALUES} values."))
        );
        assert!(parse(&PRICE, Lookup::Gte, "1\0").unwrap_err().contains("Null characters are not allowed."));
    }

    const THINGS: ResourceDesc = ResourceDesc {
        name: "Thing",
        singular: "thing",
        table: "things",
        path: "/api/things",
        fields: &[
            PRICE,
            Field {
                filter: true,
                lookups: Lookups::of(&[Lookup::In]),
                ..Field::new("status", FieldType::Choice(&["draft", "paid"]), false)
            },
            Field { lookups: Lookups::of(&[Lookup::Gt, Lookup::IsNull]), ..DUE },
            Field { search: true, ..Field::new("name", FieldType::Text, false) },
        ],
        permissions: Permissions::DEFAULT,
        actions: crate::resource::Actions::ALL,
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

    fn query(q: &[(&str, &str)]) -> Result<ListQuery, QueryError> {
        ListQuery::parse(&THINGS, &q.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>())
    }

    #[test]
    fn only_declared_lookups_are_read_and_the_last_value_counts() {
        let q = query(&[
            ("price__gte", "5"),
            ("status__in", "paid"),
            ("price__gt", "1"),   // not declared on price
            ("name__in", "a"),    // name declares none
            ("status__gte", "a"), // status declares `in` only
            ("price__GTE", "1"),  // lookups are case-sensitive, as Django's
            ("nope__in", "1"),    // no such field
            ("price__", "1"),
            ("__in", "1"),
            ("due__isnull", ""), // empty: no condition
            ("price__gte", "7"), // the last value counts, in the first one's place
            ("due__isnull", "true"),
        ])
        .unwrap();
        assert_eq!(
            q.lookups,
            [
                ("price", LookupFilter::Gte(Value::I64(Some(7)))),
                ("status", LookupFilter::In(vec![Value::Text(Some("paid".into()))])),
                ("due", LookupFilter::IsNull(true)),
            ]
        );
        assert!(q.filters.is_empty());
        // The exact filter and a lookup of one field are two parameters.
        let q = query(&[("status", "draft"), ("status__in", "draft,paid")]).unwrap();
        assert_eq!(q.filters, [("status", Value::Text(Some("draft".into())))]);
        assert_eq!(q.lookups[0].1.lookup(), Lookup::In);
    }

    #[test]
    fn every_bad_value_is_reported_under_its_parameter() {
        let Err(QueryError::Invalid(errors)) = query(&[
            ("price__gte", "cheap"),
            ("status__in", "draft,void"),
            ("due__isnull", "maybe"),
            ("due__gt", "yesterday"),
            ("status", "void"),
            ("price__in", "1,,2"),
        ]) else {
            panic!("refused")
        };
        let mut keys: Vec<&str> = errors.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["due__gt", "due__isnull", "price__gte", "price__in", "status", "status__in"]);
        assert_eq!(errors["price__gte"], ["Invalid filter value: A valid integer is required."]);
        assert_eq!(
            errors["status__in"],
            ["Invalid filter value: \"void\" is not a valid choice. Choose from: draft, paid."]
        );
        assert_eq!(errors["due__isnull"], ["Invalid filter value: Must be a valid boolean."]);
    }

    #[test]
    fn lookups_narrow_the_page_and_its_count_alike() {
        let q = query(&[
            ("search", "x"),
            ("due__gt", "2026-01-01"),
            ("status", "paid"),
            ("price__in", "1,2"),
            ("due__isnull", "false"),
        ])
        .unwrap();
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let (sql, params) = q.to_sql(&THINGS, dialect, Value::I32(Some(7)));
            let conditions = "WHERE company_id = $1 AND status = $2 AND due > $3 AND price IN ($4, $5) \
                              AND due IS NOT NULL AND (";
            assert_eq!(sql.as_str().matches(conditions).count(), 2, "{}", sql.as_str());
            assert!(sql.as_str().starts_with("SELECT *, (SELECT COUNT(*) FROM things "), "{}", sql.as_str());
            assert_eq!(
                params[1..5],
                [
                    Value::Text(Some("paid".into())),
                    Value::Date(chrono::NaiveDate::from_ymd_opt(2026, 1, 1)),
                    Value::I64(Some(1)),
                    Value::I64(Some(2)),
                ]
            );
            assert_eq!(params.len(), 8, "the company, 4 values, the search term, the page");
        }
    }
}
