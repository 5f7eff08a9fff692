//! Every statement the framework generates for the demo's resources is scoped to one company,
//! and every key of every tenant table includes `company_id`: the rules of row-level isolation,
//! and Citus's rules for distributing the tables by `company_id` (a query routable to one shard,
//! the distribution column in every primary key, unique constraint and foreign key).

use tenant_core::citus::new_schema_statements;
use tenant_core::query::ListQuery;
use tenant_core::schema::create_statements;
use tenant_core::{Dialect, Lookup, Value};

fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
    q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn every_generated_statement_is_scoped_to_the_company() {
    for desc in demo_app::resources() {
        let sql = desc.sql;
        for (name, statement) in [
            ("select_one", sql.select_one),
            ("select_one_for_update", sql.select_one_for_update),
            ("update", sql.update),
            ("delete", sql.delete),
            ("exists", sql.exists),
        ] {
            assert!(statement.contains("WHERE company_id = $1 AND id = $2"), "{}.{name}: {statement}", desc.name);
        }
        assert!(sql.list_scope.ends_with("WHERE company_id = $1"), "{}.list_scope: {}", desc.name, sql.list_scope);
        assert!(!sql.list_columns.contains(" FROM "), "{}.list_columns: {}", desc.name, sql.list_columns);
        assert!(sql.insert.contains("(id, company_id, "), "{}.insert: {}", desc.name, sql.insert);
        // The company of a row can never change.
        let set_clause = &sql.update[..sql.update.find(" WHERE").unwrap()];
        assert!(!set_clause.contains("company_id"), "{}.update: {}", desc.name, sql.update);

        // Lists with every option keep the company condition first; the rest only narrows it.
        let filter = desc.fields.iter().find(|f| f.filter).map(|f| f.name).unwrap();
        let order = desc.fields.iter().find(|f| f.order).map(|f| format!("-{}", f.name)).unwrap();
        let value = |ty| match ty {
            tenant_core::FieldType::Bool => "true",
            tenant_core::FieldType::Uuid => "0190f000-0000-7000-8000-000000000000",
            tenant_core::FieldType::Choice(c) => c[0],
            tenant_core::FieldType::I32 | tenant_core::FieldType::I64 => "7",
            tenant_core::FieldType::Date => "2026-01-31",
            _ => "x",
        };
        // And every lookup the resource declares.
        let mut lookups: Vec<(String, String)> = Vec::new();
        for field in desc.fields {
            for lookup in field.lookups.iter() {
                let raw = match lookup {
                    Lookup::IsNull => "false".to_string(),
                    Lookup::In => format!("{0},{0}", value(field.ty)),
                    _ => value(field.ty).to_string(),
                };
                lookups.push((format!("{}__{}", field.name, lookup.name()), raw));
            }
        }
        let mut query = pairs(&[
            (filter, value(desc.field(filter).unwrap().ty)),
            ("ordering", &order),
            ("search", "a b"),
            ("page", "2"),
        ]);
        query.extend(lookups.iter().cloned());
        let query = ListQuery::parse(&desc, &query).unwrap();
        assert_eq!(query.lookups.len(), lookups.len(), "{}: {lookups:?}", desc.name);
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let (statement, params) = query.to_sql(&desc, dialect, Value::Uuid(Some(uuid::Uuid::nil())));
            let text = statement.as_str();
            // Both the page and its count are scoped: the count sub-query and the outer query.
            assert_eq!(text.matches(&format!("FROM {} WHERE company_id = $1 AND ", desc.table)).count(), 2, "{text}");
            assert!(text.contains(&format!("(SELECT COUNT(*) {} AND ", sql.list_scope)), "{text}");
            assert!(!text.contains(" OR company_id"), "{text}");
            // Each lookup narrows the count and the page alike, its values bound.
            for (name, _) in &query.lookups {
                assert_eq!(text.matches(&format!(" AND {name} ")).count() % 2, 0, "{text}");
                assert!(text.matches(&format!(" AND {name} ")).count() >= 2, "{text}");
            }
            assert!(!text.contains("2026-01-31"), "values are bound: {text}");
            assert_eq!(params[0], Value::Uuid(Some(uuid::Uuid::nil())));
        }
    }
}

#[test]
fn every_key_of_every_tenant_table_includes_company_id() {
    let resources = demo_app::resources();
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        for statement in create_statements(dialect, &resources).unwrap() {
            for line in statement.lines().map(str::trim) {
                if line.starts_with("PRIMARY KEY") || line.contains(" UNIQUE (") {
                    assert!(line.contains("(company_id, "), "{line}");
                }
                if line.contains("FOREIGN KEY") {
                    assert!(line.contains("FOREIGN KEY (company_id, ") && line.contains("(company_id, id)"), "{line}");
                }
            }
            if statement.starts_with("CREATE INDEX") {
                assert!(statement.contains("(company_id, "), "{statement}");
            }
        }
    }
    let citus = new_schema_statements(&resources).unwrap();
    for desc in &resources {
        assert!(
            citus.iter().any(|s| s.contains(&format!("create_distributed_table('{}', 'company_id'", desc.table))),
            "{} is not distributed by company_id",
            desc.table
        );
    }
}
