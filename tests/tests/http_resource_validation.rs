//! Validation of the demo's tenant resources over HTTP, on both backends: every field rule of
//! API.md, on create, replace and partial update, with DRF's error shapes.

use serde_json::{Value, json};
use tests::demo::*;
use tests::*;
use uuid::Uuid;

/// POSTs `body` to `/api/{resource}` and expects a 400 naming each of `fields`.
async fn expect_invalid(app: &TestApp, auth: &Auth, resource: &str, body: Value, fields: &[&str]) {
    let r = app.post(&format!("/api/{resource}"), auth, body.clone()).await;
    assert_eq!(r.status, 400, "{resource} {body} should be refused; got {} {}", r.status, r.text);
    for f in fields {
        r.assert_field_error(f);
    }
}

both_backends! {
    async fn customer_validation(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let ok = |k: &str, v: Value| {
            let mut b = customer_body(&tag());
            b[k] = v;
            b
        };
        // Required fields: all errors at once.
        expect_invalid(&app, &a, "customers", json!({}), &["name", "email"]).await;
        expect_invalid(&app, &a, "customers", json!({"name": "No email"}), &["email"]).await;
        // Length bounds.
        expect_invalid(&app, &a, "customers", ok("name", json!("")), &["name"]).await;
        expect_invalid(&app, &a, "customers", ok("name", json!("x".repeat(201))), &["name"]).await;
        expect_invalid(&app, &a, "customers", ok("phone", json!("1".repeat(51))), &["phone"]).await;
        // Email format.
        for bad in ["not-an-email", "a@", "@b.com", "a b@c.com", ""] {
            expect_invalid(&app, &a, "customers", ok("email", json!(bad)), &["email"]).await;
        }
        // Wrong JSON types for a field.
        expect_invalid(&app, &a, "customers", ok("name", json!(123)), &["name"]).await;
        expect_invalid(&app, &a, "customers", ok("name", json!(["x"])), &["name"]).await;
        expect_invalid(&app, &a, "customers", ok("email", json!({"a": 1})), &["email"]).await;
        expect_invalid(&app, &a, "customers", ok("notes", json!(false)), &["notes"]).await;
        // Null is refused where the field is not nullable.
        expect_invalid(&app, &a, "customers", ok("name", Value::Null), &["name"]).await;
        // Blank after trimming, as Django REST Framework's CharField sees it.
        expect_invalid(&app, &a, "customers", ok("name", json!("   ")), &["name"]).await;
        // Boundaries that are fine: 200 chars, 50-char phone, null phone, multibyte chars count as one.
        app.create("/api/customers", &a, ok("name", json!("x".repeat(200)))).await;
        app.create("/api/customers", &a, ok("name", json!("é".repeat(200)))).await;
        app.create("/api/customers", &a, ok("phone", json!("1".repeat(50)))).await;
        app.create("/api/customers", &a, ok("phone", Value::Null)).await;
        // Nothing invalid was stored.
        let list = app.get("/api/customers?page_size=100", &a).await;
        assert_eq!(list.body["count"], json!(4), "{}", list.text);
    }

    async fn product_validation(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let ok = |k: &str, v: Value| {
            let mut b = product_body(&tag());
            b[k] = v;
            b
        };
        expect_invalid(&app, &a, "products", json!({}), &["sku", "name", "price_cents"]).await;
        expect_invalid(&app, &a, "products", ok("sku", json!("")), &["sku"]).await;
        expect_invalid(&app, &a, "products", ok("sku", json!("s".repeat(65))), &["sku"]).await;
        expect_invalid(&app, &a, "products", ok("name", json!("n".repeat(201))), &["name"]).await;
        expect_invalid(&app, &a, "products", ok("price_cents", json!(-1)), &["price_cents"]).await;
        expect_invalid(&app, &a, "products", ok("price_cents", json!("100")), &["price_cents"]).await;
        expect_invalid(&app, &a, "products", ok("price_cents", json!(1.5)), &["price_cents"]).await;
        expect_invalid(&app, &a, "products", ok("price_cents", json!(u64::MAX)), &["price_cents"]).await;
        expect_invalid(&app, &a, "products", ok("price_cents", json!(true)), &["price_cents"]).await;
        expect_invalid(&app, &a, "products", ok("price_cents", Value::Null), &["price_cents"]).await;
        expect_invalid(&app, &a, "products", ok("active", json!("yes")), &["active"]).await;
        expect_invalid(&app, &a, "products", ok("active", json!(1)), &["active"]).await;
        // Several bad fields: each is reported.
        let mut b = product_body(&tag());
        b["price_cents"] = json!(-5);
        b["sku"] = json!("");
        expect_invalid(&app, &a, "products", b, &["price_cents", "sku"]).await;
        app.create("/api/products", &a, ok("sku", json!("s".repeat(64)))).await;
        app.create("/api/products", &a, ok("active", json!(false))).await;
        let list = app.get("/api/products", &a).await;
        assert_eq!(list.body["count"], json!(2), "{}", list.text);
    }

    async fn invoice_validation(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let cid = id_of(&c);
        let ok = |k: &str, v: Value| {
            let mut b = invoice_body(&cid, &tag());
            b[k] = v;
            b
        };
        expect_invalid(&app, &a, "invoices", json!({}), &["customer_id", "number", "amount_cents"]).await;
        expect_invalid(&app, &a, "invoices", ok("status", json!("void")), &["status"]).await;
        expect_invalid(&app, &a, "invoices", ok("status", json!("PAID")), &["status"]).await;
        expect_invalid(&app, &a, "invoices", ok("status", json!(1)), &["status"]).await;
        expect_invalid(&app, &a, "invoices", ok("amount_cents", json!(-100)), &["amount_cents"]).await;
        expect_invalid(&app, &a, "invoices", ok("number", json!("")), &["number"]).await;
        expect_invalid(&app, &a, "invoices", ok("number", json!("9".repeat(33))), &["number"]).await;
        expect_invalid(&app, &a, "invoices", ok("customer_id", json!("not-a-uuid")), &["customer_id"]).await;
        expect_invalid(&app, &a, "invoices", ok("customer_id", json!(42)), &["customer_id"]).await;
        // A well-formed id that is no customer at all.
        expect_invalid(&app, &a, "invoices", ok("customer_id", json!(Uuid::now_v7().to_string())), &["customer_id"]).await;
        // A well-formed id of another resource of the same company (a product) is not a customer.
        let p = product(&app, &a).await;
        expect_invalid(&app, &a, "invoices", ok("customer_id", p["id"].clone()), &["customer_id"]).await;
        for bad in ["2026-13-01", "2026-02-30", "yesterday", "01/02/2026"] {
            expect_invalid(&app, &a, "invoices", ok("issued_on", json!(bad)), &["issued_on"]).await;
        }
        app.create("/api/invoices", &a, ok("number", json!("9".repeat(32)))).await;
        let list = app.get("/api/invoices", &a).await;
        assert_eq!(list.body["count"], json!(1), "{}", list.text);
    }

    async fn patch_and_put_validate(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let path = format!("/api/customers/{}", id_of(&c));
        for (body, field) in [
            (json!({"name": ""}), "name"),
            (json!({"name": null}), "name"),
            (json!({"email": "nope"}), "email"),
            (json!({"phone": "1".repeat(51)}), "phone"),
            (json!({"name": 5}), "name"),
        ] {
            let r = app.patch(&path, &a, body.clone()).await;
            assert_eq!(r.status, 400, "PATCH {body}: {}", r.text);
            r.assert_field_error(field);
        }
        let p = product(&app, &a).await;
        let r = app.patch(&format!("/api/products/{}", id_of(&p)), &a, json!({"price_cents": -1})).await;
        r.assert_status(400);
        r.assert_field_error("price_cents");
        let i = invoice(&app, &a).await;
        let r = app.patch(&format!("/api/invoices/{}", id_of(&i)), &a, json!({"status": "cancelled"})).await;
        r.assert_status(400);
        r.assert_field_error("status");
        let mut put = put_body(&app, &a, "invoices").await;
        put["amount_cents"] = json!(-1);
        let r = app.put(&format!("/api/invoices/{}", id_of(&i)), &a, put).await;
        r.assert_status(400);
        r.assert_field_error("amount_cents");
        // Nothing changed.
        assert_eq!(app.get(&path, &a).await.body, c);
        assert_eq!(app.get(&format!("/api/products/{}", id_of(&p)), &a).await.body, p);
        assert_eq!(app.get(&format!("/api/invoices/{}", id_of(&i)), &a).await.body, i);
    }

    async fn phone_can_be_cleared_with_null(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let mut b = customer_body(&tag());
        b["phone"] = json!("123");
        let c = app.create("/api/customers", &a, b).await;
        assert_eq!(c["phone"], json!("123"));
        let r = app.patch(&format!("/api/customers/{}", id_of(&c)), &a, json!({"phone": null})).await;
        r.assert_status(200);
        assert_eq!(r.body["phone"], Value::Null);
    }
}
