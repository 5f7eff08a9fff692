//! Defense in depth on PostgreSQL: row-level security and tenant-safe keys hold even for SQL
//! that forgets the `company_id` filter, run through the app's own pool (the serving role).

use futures::future::join_all;
use serde_json::json;
use tenant_core::db::{DbError, TxMode};
use tenant_core::value::FieldType;
use tenant_core::{Db, Value};
use tests::demo::{customer, invoice_body, tag};
use tests::{Backend, TestApp, User};
use uuid::Uuid;

/// A PostgreSQL test app, or `None` when PostgreSQL is unavailable outside CI.
async fn pg() -> Option<TestApp> {
    TestApp::for_app(Backend::Postgres, demo_app::register).await
}

fn uuid(value: &Value) -> Uuid {
    match value {
        Value::Uuid(Some(id)) => *id,
        other => panic!("not a uuid: {other:?}"),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(t) => t.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// Two companies with two customers each; returns (A's admin, B's admin, A's and B's customer ids).
async fn two_tenants(app: &TestApp) -> (User, User, Vec<Uuid>, Vec<Uuid>) {
    let (a, b) = (app.signup("Acme").await, app.signup("Globex").await);
    let mut ids = (vec![], vec![]);
    for _ in 0..2 {
        ids.0.push(customer(app, &a.auth()).await["id"].as_str().unwrap().parse().unwrap());
        ids.1.push(customer(app, &b.auth()).await["id"].as_str().unwrap().parse().unwrap());
    }
    (a, b, ids.0, ids.1)
}

/// The owner's pool (a superuser here): outside row-level security, for checking what is
/// really stored.
async fn owner(app: &TestApp) -> Db {
    Db::connect(&app.database_url, 1).await.expect("owner connection")
}

async fn count_as_owner(app: &TestApp, table: &'static str, company: Uuid) -> i64 {
    let sql = match table {
        "customers" => "SELECT COUNT(*) FROM customers WHERE company_id = $1",
        "invoices" => "SELECT COUNT(*) FROM invoices WHERE company_id = $1",
        _ => unreachable!(),
    };
    let row = owner(app).await.fetch_optional(sql, &[Value::Uuid(Some(company))], &[FieldType::I64]).await.unwrap();
    match row.unwrap()[0] {
        Value::I64(Some(n)) => n,
        ref other => panic!("{other:?}"),
    }
}

const CUSTOMER_INSERT: &str = "INSERT INTO customers (id, company_id, created_at, updated_at, name, email, notes) \
     VALUES ($1, $2, now(), now(), 'Raw', $3, '')";

#[tokio::test]
async fn an_unscoped_select_sees_only_the_tenant_of_the_transaction() {
    let Some(app) = pg().await else { return };
    let (a, _b, a_ids, _) = two_tenants(&app).await;

    // Inside A's transaction, a query with no company filter at all.
    let mut tx = app.db.begin(TxMode::Read).await.unwrap();
    tx.set_tenant(a.company_id).await.unwrap();
    let rows = tx.fetch_all("SELECT id, company_id FROM customers", &[], &[FieldType::Uuid, FieldType::Uuid]).await;
    tx.rollback().await.unwrap();
    let rows = rows.unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| uuid(&r[1]) == a.company_id));
    let mut seen: Vec<Uuid> = rows.iter().map(|r| uuid(&r[0])).collect();
    seen.sort();
    let mut expected = a_ids.clone();
    expected.sort();
    assert_eq!(seen, expected);

    // Outside any tenant transaction: nothing, in a transaction or not.
    let mut tx = app.db.begin(TxMode::Read).await.unwrap();
    let rows = tx.fetch_all("SELECT id FROM customers", &[], &[FieldType::Uuid]).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(rows.is_empty(), "{rows:?}");
    assert!(app.db.fetch_optional("SELECT id FROM customers", &[], &[FieldType::Uuid]).await.unwrap().is_none());
    // The rows are there all the same.
    assert_eq!(count_as_owner(&app, "customers", a.company_id).await, 2);
}

#[tokio::test]
async fn raw_writes_for_another_company_fail() {
    let Some(app) = pg().await else { return };
    let (a, b, a_ids, b_ids) = two_tenants(&app).await;

    // Inserting a row for B inside A's transaction: refused by the policy's WITH CHECK.
    let mut tx = app.db.begin(TxMode::Write).await.unwrap();
    tx.set_tenant(a.company_id).await.unwrap();
    let params = [
        Value::Uuid(Some(Uuid::now_v7())),
        Value::Uuid(Some(b.company_id)),
        Value::Text(Some(format!("raw-{}@example.com", tag()))),
    ];
    let err = tx.execute(CUSTOMER_INSERT, &params).await.unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    // Moving one of A's rows to B: refused too.
    let mut tx = app.db.begin(TxMode::Write).await.unwrap();
    tx.set_tenant(a.company_id).await.unwrap();
    let moved = tx
        .execute(
            "UPDATE customers SET company_id = $1 WHERE id = $2",
            &[Value::Uuid(Some(b.company_id)), Value::Uuid(Some(a_ids[0]))],
        )
        .await;
    // On a Citus coordinator the distribution column cannot be changed at all (Citus refuses
    // before row-level security is asked).
    let refusal = moved.unwrap_err().to_string();
    assert!(
        refusal.contains("row-level security")
            || app.db.is_citus() && refusal.contains("modifying the partition value of rows is not allowed"),
        "{refusal}"
    );
    drop(tx);

    // Updating or deleting B's rows from A's transaction touches nothing.
    let mut tx = app.db.begin(TxMode::Write).await.unwrap();
    tx.set_tenant(a.company_id).await.unwrap();
    let n = tx.execute("UPDATE customers SET name = 'pwned' WHERE id = $1", &[Value::Uuid(Some(b_ids[0]))]).await;
    assert_eq!(n.unwrap(), 0);
    assert_eq!(tx.execute("DELETE FROM customers WHERE id = $1", &[Value::Uuid(Some(b_ids[1]))]).await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert_eq!(count_as_owner(&app, "customers", b.company_id).await, 2);

    // An invoice of A that points at B's customer: the composite foreign key refuses it, inside
    // A's transaction and even for the owner, who is not subject to row-level security.
    let invoice = "INSERT INTO invoices (id, company_id, created_at, updated_at, customer_id, number, amount_cents, status) \
         VALUES ($1, $2, now(), now(), $3, $4, 1, 'draft')";
    let params = |n: &str| {
        [
            Value::Uuid(Some(Uuid::now_v7())),
            Value::Uuid(Some(a.company_id)),
            Value::Uuid(Some(b_ids[0])),
            Value::Text(Some(format!("X-{n}"))),
        ]
    };
    let mut tx = app.db.begin(TxMode::Write).await.unwrap();
    tx.set_tenant(a.company_id).await.unwrap();
    assert!(matches!(tx.execute(invoice, &params("1")).await, Err(DbError::ForeignKey)));
    drop(tx);
    let owner = owner(&app).await;
    assert!(matches!(owner.execute(invoice, &params("2")).await, Err(DbError::ForeignKey)));
    assert_eq!(count_as_owner(&app, "invoices", a.company_id).await, 0);
    // The same statement with A's own customer works: the refusals above were about tenancy.
    let mut ok = params("3");
    ok[2] = Value::Uuid(Some(a_ids[0]));
    owner.execute(invoice, &ok).await.unwrap();
}

#[tokio::test]
async fn alternating_tenants_over_two_connections_never_see_each_other() {
    let Some(app) = pg().await else { return };
    let (a, b, _, _) = two_tenants(&app).await;
    let small = app.connect_again_with_pool(&app.database_url, 2).await;
    let users = [&a, &b];
    let small = &small;
    for round in 0..25 {
        let requests = (0..8).map(|i| {
            let user = users[(round + i) % 2];
            async move { (user.company_id, small.get("/api/customers", &user.auth()).await) }
        });
        for (company, r) in join_all(requests).await {
            r.assert_status(200);
            assert_eq!(r.body["count"], 2);
            for c in r.body["results"].as_array().unwrap() {
                assert_eq!(c["company_id"], json!(company));
            }
        }
        // Between requests, no pooled connection carries a tenant.
        for _ in 0..2 {
            let row = small
                .db
                .fetch_optional("SELECT current_setting('app.company_id', true)", &[], &[FieldType::Text])
                .await
                .unwrap()
                .unwrap();
            assert!(text(&row[0]).unwrap_or_default().is_empty(), "leaked setting {row:?}");
        }
    }
}

#[tokio::test]
async fn the_app_role_cannot_switch_row_level_security_off() {
    let Some(app) = pg().await else { return };
    let (a, _, _, _) = two_tenants(&app).await;
    for sql in [
        "ALTER TABLE customers DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE customers NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON customers",
        "CREATE POLICY open ON customers USING (true)",
        "SET ROLE postgres",
    ] {
        assert!(app.db.execute(sql, &[]).await.is_err(), "{sql} succeeded");
    }
    // `row_security = off` makes a query that RLS would filter fail, not see everything.
    let mut tx = app.db.begin(TxMode::Read).await.unwrap();
    tx.execute("SET LOCAL row_security = off", &[]).await.unwrap();
    assert!(tx.fetch_all("SELECT id FROM customers", &[], &[FieldType::Uuid]).await.is_err());
    drop(tx);
    // Without a tenant, nothing is readable; with one, its own rows are.
    assert!(app.db.fetch_optional("SELECT id FROM customers", &[], &[FieldType::Uuid]).await.unwrap().is_none());
    let mut tx = app.db.begin(TxMode::Read).await.unwrap();
    tx.set_tenant(a.company_id).await.unwrap();
    assert_eq!(tx.fetch_all("SELECT id FROM customers", &[], &[FieldType::Uuid]).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_server_refuses_to_serve_as_a_role_that_escapes_rls() {
    let Some(app) = pg().await else { return };
    let mut config = tenant_core::Config::new(app.database_url.clone());
    // Serving as the owner, a superuser: every escape hatch at once.
    config.app_database_url = Some(app.database_url.clone());
    let served = demo_app::register(tenant_core::App::connect(config.clone()).await.unwrap());
    let err = served.check_isolation().await.unwrap_err().to_string();
    for problem in ["is a superuser", "has BYPASSRLS", "owns table customers", "owns table invoices"] {
        assert!(err.contains(problem), "{err}");
    }
    config.allow_rls_bypass = true;
    let overridden = demo_app::register(tenant_core::App::connect(config.clone()).await.unwrap());
    overridden.check_isolation().await.unwrap();

    // Switching RLS off is refused unless the role bypasses it (it would see nothing).
    let mut off = tenant_core::Config::new(app.database_url.clone());
    off.row_level_security = false;
    off.allow_rls_bypass = true;
    let app_role = demo_app::register(tenant_core::App::connect(off).await.unwrap());
    assert!(app_role.check_isolation().await.unwrap_err().to_string().contains("ROW_LEVEL_SECURITY=off"));
    config.row_level_security = false;
    let owner = demo_app::register(tenant_core::App::connect(config).await.unwrap());
    owner.check_isolation().await.unwrap();
}

#[tokio::test]
async fn every_key_and_index_of_every_tenant_table_leads_with_company_id() {
    let Some(app) = pg().await else { return };
    let owner = owner(&app).await;
    for table in ["customers", "products", "invoices"] {
        let rows = owner
            .fetch_optional(
                "SELECT COUNT(*) FROM pg_constraint c \
                 WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u', 'f') \
                   AND NOT (SELECT attnum FROM pg_attribute WHERE attrelid = c.conrelid AND attname = 'company_id') \
                       = ANY (c.conkey)",
                &[Value::Text(Some(table.into()))],
                &[FieldType::I64],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows[0], Value::I64(Some(0)), "a key of {table} lacks company_id");
        let rows = owner
            .fetch_optional(
                "SELECT COUNT(*) FROM pg_indexes WHERE tablename = $1 AND indexdef NOT LIKE '%(company_id%'",
                &[Value::Text(Some(table.into()))],
                &[FieldType::I64],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows[0], Value::I64(Some(0)), "an index of {table} does not lead with company_id");
        let forced = owner
            .fetch_optional(
                "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = $1::regclass",
                &[Value::Text(Some(table.into()))],
                &[FieldType::Bool],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(forced[0], Value::Bool(Some(true)), "{table} has no forced row-level security");
    }
    // An invoice body through HTTP still works end to end under all of this.
    let a = app.signup("Acme").await;
    let c = customer(&app, &a.auth()).await;
    app.create("/api/invoices", &a.auth(), invoice_body(c["id"].as_str().unwrap(), &tag())).await;
}
