//! `tenant_core::testing::assert_isolated` over every resource of the demo app and of the
//! hooks test's tracker, on both backends: another company reaches none of their rows through
//! any route, list parameter or typed operation.

use demo_app::models::{Customer, Invoice, Product};
use serde_json::json;
use tests::*;

both_backends! {
    async fn demo_resources_are_isolated(app: TestApp) {
        let owner = app.signup("Acme").await;
        assert_isolated::<Customer>(&app, &owner, json!({"name": "Ann", "email": "ann@acme.test", "phone": "1"})).await;
        assert_isolated::<Product>(&app, &owner, json!({"sku": "S-1", "name": "Widget", "price_cents": 100})).await;
        let customer = app.post("/api/customers", &owner.auth(), json!({"name": "B", "email": "b@acme.test"})).await.id();
        let invoice = json!({"customer_id": customer, "number": "INV-1", "amount_cents": 5, "issued_on": "2026-01-02"});
        assert_isolated::<Invoice>(&app, &owner, invoice).await;
    }
}

/// The check is not vacuous: an app whose actions leak (raw SQL that forgets the company, which
/// only SQLite lets through: on PostgreSQL row-level security still scopes it) fails it.
mod leaky_actions {
    use axum::Json;
    use axum::extract::Path;
    use axum::http::Method;
    use demo_app::models::Customer;
    use serde_json::{Value as Json_, json};
    use tenant_core::{ApiError, App, FieldType, Role, Tenant, Value};
    use tests::*;

    /// `GET /api/customers/{id}/peek`: finds the customer by id alone.
    async fn peek(mut tenant: Tenant, Path(id): Path<uuid::Uuid>) -> Result<Json<Json_>, ApiError> {
        let mut scoped = tenant.begin()?;
        let sql = "SELECT name FROM customers WHERE id = $1";
        let row = scoped.raw_sql_unscoped().fetch_optional(sql, &[Value::Uuid(Some(id))], &[FieldType::Text]).await?;
        row.map(|_| Json(json!({"id": id}))).ok_or(ApiError::NotFound)
    }

    /// `GET /api/customers/everyone`: every company's ids.
    async fn everyone(mut tenant: Tenant) -> Result<Json<Json_>, ApiError> {
        let mut scoped = tenant.begin()?;
        let rows = scoped.raw_sql_unscoped().fetch_all("SELECT id FROM customers", &[], &[FieldType::Uuid]).await?;
        let ids: Vec<String> = rows.iter().map(|row| format!("{:?}", row)).collect();
        Ok(Json(json!({"ids": ids})))
    }

    fn with_peek(app: App) -> App {
        app.resource_with::<Customer>(|r| r.detail_action(Method::GET, "peek", Role::Staff, peek))
    }

    fn with_everyone(app: App) -> App {
        app.resource_with::<Customer>(|r| r.collection_action(Method::GET, "everyone", Role::Staff, everyone))
    }

    async fn check(register: tenant_core::testing::Register) {
        let app = TestApp::for_app(Backend::Sqlite, register).await.expect("SQLite is always there");
        let owner = app.signup("Acme").await;
        assert_isolated::<Customer>(&app, &owner, json!({"name": "Ann", "email": "ann@acme.test"})).await;
    }

    #[tokio::test]
    #[should_panic(expected = "/peek by another company answers differently from a missing id")]
    async fn a_detail_action_that_finds_another_companys_row() {
        check(with_peek).await;
    }

    #[tokio::test]
    #[should_panic(expected = "/everyone by another company shows the row")]
    async fn a_collection_action_that_lists_another_companys_row() {
        check(with_everyone).await;
    }
}
