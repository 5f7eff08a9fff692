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
