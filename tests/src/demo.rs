//! Bodies and set-up for the demo app's three resources (customers, products, invoices).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Auth, TestApp};

pub const RESOURCES: [&str; 3] = ["customers", "products", "invoices"];

/// A unique-enough tag for values that must not collide (emails, SKUs, numbers).
pub fn tag() -> String {
    Uuid::new_v4().simple().to_string()[..12].to_string()
}

pub fn customer_body(n: &str) -> Value {
    json!({"name": format!("Customer {n}"), "email": format!("c-{n}@example.com")})
}

pub fn product_body(n: &str) -> Value {
    json!({"sku": format!("SKU-{n}"), "name": format!("Product {n}"), "price_cents": 1250})
}

pub fn invoice_body(customer_id: &str, n: &str) -> Value {
    json!({"customer_id": customer_id, "number": format!("INV-{n}"), "amount_cents": 9900})
}

/// Creates a customer as `auth`; returns the object.
pub async fn customer(app: &TestApp, auth: &Auth) -> Value {
    app.create("/api/customers", auth, customer_body(&tag())).await
}

/// Creates a product as `auth`; returns the object.
pub async fn product(app: &TestApp, auth: &Auth) -> Value {
    app.create("/api/products", auth, product_body(&tag())).await
}

/// Creates an invoice (and a customer for it) as `auth`; returns the invoice.
pub async fn invoice(app: &TestApp, auth: &Auth) -> Value {
    let c = customer(app, auth).await;
    app.create("/api/invoices", auth, invoice_body(c["id"].as_str().unwrap(), &tag())).await
}

/// Creates one object of `resource` as `auth` (with what it depends on); returns it.
pub async fn make(app: &TestApp, auth: &Auth, resource: &str) -> Value {
    match resource {
        "customers" => customer(app, auth).await,
        "products" => product(app, auth).await,
        "invoices" => invoice(app, auth).await,
        other => panic!("unknown resource {other}"),
    }
}

/// A valid body for `POST /api/{resource}` as `auth` (creating dependencies if needed).
pub async fn create_body(app: &TestApp, auth: &Auth, resource: &str) -> Value {
    match resource {
        "customers" => customer_body(&tag()),
        "products" => product_body(&tag()),
        "invoices" => {
            let c = customer(app, auth).await;
            invoice_body(c["id"].as_str().unwrap(), &tag())
        }
        other => panic!("unknown resource {other}"),
    }
}

/// A full, valid `PUT` body for `resource` that changes every writable field, as `auth`.
pub async fn put_body(app: &TestApp, auth: &Auth, resource: &str) -> Value {
    let n = tag();
    match resource {
        "customers" => json!({
            "name": format!("Replaced {n}"), "email": format!("r-{n}@example.com"),
            "phone": "+1 555 0100", "notes": "replaced"
        }),
        "products" => json!({
            "sku": format!("R-{n}"), "name": format!("Replaced {n}"), "price_cents": 777, "active": false
        }),
        "invoices" => {
            let c = customer(app, auth).await;
            json!({
                "customer_id": c["id"], "number": format!("R-{n}"), "amount_cents": 4242,
                "status": "sent", "issued_on": "2026-02-03"
            })
        }
        other => panic!("unknown resource {other}"),
    }
}

/// A valid `PATCH` body for `resource` that changes one field: (body, field, new value).
pub fn patch_body(resource: &str) -> (Value, &'static str, Value) {
    let (field, value) = match resource {
        "customers" => ("name", json!("Patched name")),
        "products" => ("price_cents", json!(4321)),
        "invoices" => ("status", json!("paid")),
        other => panic!("unknown resource {other}"),
    };
    (json!({ field: value.clone() }), field, value)
}

/// The object's id as a string; panics if absent.
#[track_caller]
pub fn id_of(obj: &Value) -> String {
    obj["id"].as_str().unwrap_or_else(|| panic!("no id in {obj}")).to_string()
}
