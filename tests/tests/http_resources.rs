//! CRUD of the demo's tenant resources (customers, products, invoices) over HTTP, on both
//! backends: create, retrieve, replace, partial update, delete, validation, uniqueness.

use serde_json::{Value, json};
use tests::demo::*;
use tests::*;
use uuid::Uuid;

const READ_ONLY: [&str; 4] = ["id", "company_id", "created_at", "updated_at"];

#[track_caller]
fn ts(v: &Value) -> chrono::DateTime<chrono::Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_utc()
}

#[track_caller]
fn assert_read_only_fields(obj: &Value, company: Uuid) {
    for key in READ_ONLY {
        assert!(obj.get(key).is_some_and(|v| !v.is_null()), "missing {key} in {obj}");
    }
    let id = Uuid::parse_str(obj["id"].as_str().unwrap()).expect("id is a UUID");
    assert_eq!(id.get_version_num(), 7, "ids are UUIDv7: {id}");
    assert_eq!(obj["company_id"], json!(company.to_string()), "company_id is the active company: {obj}");
    for key in ["created_at", "updated_at"] {
        ts(&obj[key]);
        let t = obj[key].as_str().unwrap();
        assert!(
            t.len() >= 20 && t.as_bytes()[10] == b'T' && (t.ends_with('Z') || t.ends_with("+00:00")),
            "{key} is RFC 3339 UTC: {t}"
        );
    }
}

/// Create, Location, retrieve, and the defaults of optional fields, for one resource.
async fn create_and_retrieve(app: &TestApp, resource: &str) {
    let alice = app.signup("Acme").await;
    let body = create_body(app, &alice.auth(), resource).await;
    let path = format!("/api/{resource}");
    let r = app.post(&path, &alice.auth(), body.clone()).await;
    r.assert_status(201);
    assert_read_only_fields(&r.body, alice.company_id);
    for (k, v) in body.as_object().unwrap() {
        assert_eq!(&r.body[k], v, "field {k} echoed back in {}", r.text);
    }
    let id = r.id();
    let location = r.header("location").unwrap_or_else(|| panic!("no Location header on 201 ({resource})"));
    assert!(location.ends_with(&format!("/api/{resource}/{id}")), "Location {location:?}");
    // The Location can be followed.
    let path_only = location.find("/api/").map(|i| &location[i..]).unwrap();
    let got = app.get(path_only, &alice.auth()).await;
    got.assert_status(200);
    assert_eq!(got.body, r.body, "retrieve returns what create returned");
    assert_eq!(r.body["created_at"], r.body["updated_at"]);
}

both_backends! {
    async fn customers_create_and_retrieve(app: TestApp) {
        create_and_retrieve(&app, "customers").await;
    }
    async fn products_create_and_retrieve(app: TestApp) {
        create_and_retrieve(&app, "products").await;
    }
    async fn invoices_create_and_retrieve(app: TestApp) {
        create_and_retrieve(&app, "invoices").await;
    }

    async fn defaults_of_optional_fields(app: TestApp) {
        let alice = app.signup("Acme").await;
        let c = app.create("/api/customers", &alice.auth(), json!({"name": "Bare", "email": "bare@example.com"})).await;
        assert_eq!(c["phone"], Value::Null, "phone defaults to null: {c}");
        assert_eq!(c["notes"], json!(""), "notes defaults to \"\": {c}");
        let p = app.create("/api/products", &alice.auth(), json!({"sku": "A1", "name": "Apple", "price_cents": 0})).await;
        assert_eq!(p["active"], json!(true), "active defaults to true: {p}");
        assert_eq!(p["price_cents"], json!(0), "zero price allowed: {p}");
        let i = app
            .create("/api/invoices", &alice.auth(), json!({"customer_id": c["id"], "number": "1", "amount_cents": 0}))
            .await;
        assert_eq!(i["status"], json!("draft"), "status defaults to draft: {i}");
        assert_eq!(i["issued_on"], Value::Null, "issued_on defaults to null: {i}");
        let i = app
            .create(
                "/api/invoices",
                &alice.auth(),
                json!({"customer_id": c["id"], "number": "2", "amount_cents": 5, "issued_on": "2026-02-28", "status": "paid"}),
            )
            .await;
        assert_eq!(i["issued_on"], json!("2026-02-28"));
        assert_eq!(i["status"], json!("paid"));
    }

    async fn read_only_and_unknown_fields_are_ignored_on_create(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let forged_id = Uuid::now_v7().to_string();
        let r = app
            .post(
                "/api/customers",
                &alice.auth(),
                json!({
                    "name": "Mass", "email": "mass@example.com",
                    "id": forged_id, "company_id": bob.company_id.to_string(),
                    "created_at": "2000-01-01T00:00:00Z", "updated_at": "2000-01-01T00:00:00Z",
                    "is_admin": true, "unknown": [1, 2, 3]
                }),
            )
            .await;
        r.assert_status(201);
        assert_eq!(r.body["company_id"], json!(alice.company_id.to_string()), "company_id from the body must be ignored");
        assert_ne!(r.body["id"], json!(forged_id), "id from the body must be ignored");
        assert_ne!(r.body["created_at"], json!("2000-01-01T00:00:00Z"));
        assert!(r.body.get("unknown").is_none() && r.body.get("is_admin").is_none(), "unknown fields are not echoed: {}", r.text);
        // Nothing landed in Bob's company.
        let bobs = app.get("/api/customers", &bob.auth()).await;
        bobs.assert_status(200);
        assert_eq!(bobs.body["count"], json!(0), "{}", bobs.text);
    }

    async fn put_replaces_every_writable_field(app: TestApp) {
        let alice = app.signup("Acme").await;
        for resource in RESOURCES {
            let obj = make(&app, &alice.auth(), resource).await;
            let id = id_of(&obj);
            let body = put_body(&app, &alice.auth(), resource).await;
            let r = app.put(&format!("/api/{resource}/{id}"), &alice.auth(), body.clone()).await;
            r.assert_status(200);
            for (k, v) in body.as_object().unwrap() {
                assert_eq!(&r.body[k], v, "{resource}: PUT sets {k}: {}", r.text);
            }
            assert_eq!(r.body["id"], obj["id"]);
            assert_eq!(r.body["company_id"], obj["company_id"]);
            assert_eq!(r.body["created_at"], obj["created_at"], "{resource}: created_at never changes");
            assert!(ts(&r.body["updated_at"]) > ts(&obj["updated_at"]), "{resource}: updated_at moves forward");
            let got = app.get(&format!("/api/{resource}/{id}"), &alice.auth()).await;
            got.assert_status(200);
            assert_eq!(got.body, r.body, "{resource}: stored as answered");
        }
    }

    async fn put_requires_the_required_fields(app: TestApp) {
        let alice = app.signup("Acme").await;
        let c = customer(&app, &alice.auth()).await;
        let r = app.put(&format!("/api/customers/{}", id_of(&c)), &alice.auth(), json!({"name": "Only name"})).await;
        r.assert_status(400);
        r.assert_field_error("email");
        let got = app.get(&format!("/api/customers/{}", id_of(&c)), &alice.auth()).await;
        assert_eq!(got.body, c, "a rejected PUT changes nothing");
    }

    async fn patch_changes_only_the_given_fields(app: TestApp) {
        let alice = app.signup("Acme").await;
        for resource in RESOURCES {
            let obj = make(&app, &alice.auth(), resource).await;
            let id = id_of(&obj);
            let (body, field, value) = patch_body(resource);
            let r = app.patch(&format!("/api/{resource}/{id}"), &alice.auth(), body).await;
            r.assert_status(200);
            assert_eq!(r.body[field], value, "{resource}: {}", r.text);
            for (k, v) in obj.as_object().unwrap() {
                if k != field && k != "updated_at" {
                    assert_eq!(&r.body[k], v, "{resource}: PATCH of {field} must not change {k}");
                }
            }
            assert!(ts(&r.body["updated_at"]) > ts(&obj["updated_at"]), "{resource}: updated_at moves forward");
            // An empty PATCH is valid and changes nothing but (possibly) updated_at.
            let r2 = app.patch(&format!("/api/{resource}/{id}"), &alice.auth(), json!({})).await;
            r2.assert_status(200);
            assert_eq!(r2.body[field], value);
        }
    }

    async fn patch_and_put_ignore_read_only_fields(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let c = customer(&app, &alice.auth()).await;
        let id = id_of(&c);
        let other_id = Uuid::now_v7().to_string();
        let r = app
            .patch(
                &format!("/api/customers/{id}"),
                &alice.auth(),
                json!({"company_id": bob.company_id.to_string(), "id": other_id, "created_at": "2000-01-01T00:00:00Z", "notes": "x"}),
            )
            .await;
        r.assert_status(200);
        assert_eq!(r.body["company_id"], json!(alice.company_id.to_string()), "PATCH must not move a row to another company");
        assert_eq!(r.body["id"], c["id"]);
        assert_eq!(r.body["created_at"], c["created_at"]);
        let mut body = put_body(&app, &alice.auth(), "customers").await;
        body["company_id"] = json!(bob.company_id.to_string());
        body["id"] = json!(other_id);
        let r = app.put(&format!("/api/customers/{id}"), &alice.auth(), body).await;
        r.assert_status(200);
        assert_eq!(r.body["company_id"], json!(alice.company_id.to_string()), "PUT must not move a row to another company");
        assert_eq!(r.body["id"], c["id"]);
        // Still Alice's, still invisible to Bob.
        app.get(&format!("/api/customers/{id}"), &alice.auth()).await.assert_status(200);
        app.get(&format!("/api/customers/{id}"), &bob.auth()).await.assert_status(404);
        app.get(&format!("/api/customers/{other_id}"), &alice.auth()).await.assert_status(404);
    }

    async fn delete_then_gone(app: TestApp) {
        let alice = app.signup("Acme").await;
        for resource in RESOURCES {
            let obj = make(&app, &alice.auth(), resource).await;
            let path = format!("/api/{resource}/{}", id_of(&obj));
            let r = app.delete(&path, &alice.auth()).await;
            r.assert_status(204);
            assert!(r.text.is_empty(), "204 has no body: {:?}", r.text);
            let again = app.get(&path, &alice.auth()).await;
            again.assert_status(404);
            assert_eq!(again.body, json!({"detail": "Not found."}));
            app.delete(&path, &alice.auth()).await.assert_status(404);
            app.patch(&path, &alice.auth(), json!({})).await.assert_status(404);
            let put = put_body(&app, &alice.auth(), resource).await;
            app.put(&path, &alice.auth(), put).await.assert_status(404);
        }
    }

    async fn missing_object_is_404_for_every_verb(app: TestApp) {
        let alice = app.signup("Acme").await;
        for resource in RESOURCES {
            let path = format!("/api/{resource}/{}", Uuid::now_v7());
            let put = put_body(&app, &alice.auth(), resource).await;
            for r in [
                app.get(&path, &alice.auth()).await,
                app.put(&path, &alice.auth(), put).await,
                app.patch(&path, &alice.auth(), json!({})).await,
                app.delete(&path, &alice.auth()).await,
            ] {
                r.assert_status(404);
                assert_eq!(r.body, json!({"detail": "Not found."}), "{resource}");
            }
        }
    }

    async fn id_that_is_not_a_uuid_is_404(app: TestApp) {
        let alice = app.signup("Acme").await;
        for resource in RESOURCES {
            for bad in ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g"] {
                let r = app.get(&format!("/api/{resource}/{bad}"), &alice.auth()).await;
                r.assert_status(404);
                assert_eq!(r.body, json!({"detail": "Not found."}), "{resource}/{bad}: {}", r.text);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Uniqueness per company
// ---------------------------------------------------------------------------------------------

/// `(resource, unique field)`.
const UNIQUE: [(&str, &str); 3] = [("customers", "email"), ("products", "sku"), ("invoices", "number")];

both_backends! {
    async fn unique_per_company_is_409_on_the_field(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        for (resource, field) in UNIQUE {
            let first = create_body(&app, &alice.auth(), resource).await;
            app.create(&format!("/api/{resource}"), &alice.auth(), first.clone()).await;
            // Same value again in the same company: 409 on that field.
            let mut dup = create_body(&app, &alice.auth(), resource).await;
            dup[field] = first[field].clone();
            let r = app.post(&format!("/api/{resource}"), &alice.auth(), dup).await;
            r.assert_status(409);
            r.assert_field_error(field);
            assert_eq!(r.body.as_object().unwrap().len(), 1, "only {field} is named: {}", r.text);
            // Same value in another company: fine.
            let mut other = create_body(&app, &bob.auth(), resource).await;
            other[field] = first[field].clone();
            app.create(&format!("/api/{resource}"), &bob.auth(), other).await;
            // Counts: exactly one each (invoices also created customers, so count the resource only).
            let a = app.get(&format!("/api/{resource}?{field}={}", first[field].as_str().unwrap()), &alice.auth()).await;
            a.assert_status(200);
            assert_eq!(a.body["count"], json!(1), "{resource}: {}", a.text);
        }
    }

    async fn unique_conflict_on_update(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for (resource, field) in UNIQUE {
            let x = make(&app, &a, resource).await;
            let y = make(&app, &a, resource).await;
            let path = format!("/api/{resource}/{}", id_of(&y));
            let r = app.patch(&path, &a, json!({ field: x[field].clone() })).await;
            r.assert_status(409);
            r.assert_field_error(field);
            let mut put = put_body(&app, &a, resource).await;
            put[field] = x[field].clone();
            let r = app.put(&path, &a, put).await;
            r.assert_status(409);
            r.assert_field_error(field);
            assert_eq!(app.get(&path, &a).await.body, y, "{resource}: unchanged after the conflicts");
            // Setting its own value again is not a conflict.
            let r = app.patch(&path, &a, json!({ field: y[field].clone() })).await;
            r.assert_status(200);
        }
    }

    async fn concurrent_duplicate_creates_give_one_201_and_409s(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let body = json!({"name": "Racer", "email": "race@example.com"});
        let requests = (0..10).map(|_| app.post("/api/customers", &a, body.clone()));
        let results = futures::future::join_all(requests).await;
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "exactly one create wins: {statuses:?}");
        for r in results.iter().filter(|r| r.status != 201) {
            assert_eq!(r.status, 409, "the others are 409, never 500: {statuses:?}; {}", r.text);
            r.assert_field_error("email");
        }
        let list = app.get("/api/customers", &a).await;
        assert_eq!(list.body["count"], json!(1));
    }

    async fn concurrent_distinct_creates_all_succeed(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let bodies: Vec<Value> = (0..20).map(|i| product_body(&format!("p{i}"))).collect();
        let results = futures::future::join_all(bodies.iter().map(|b| app.post("/api/products", &a, b.clone()))).await;
        for r in &results {
            r.assert_status(201);
        }
        let list = app.get("/api/products?page_size=100", &a).await;
        assert_eq!(list.body["count"], json!(20));
    }

    async fn concurrent_updates_of_one_row_never_fail(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let p = product(&app, &a).await;
        let path = format!("/api/products/{}", id_of(&p));
        let results =
            futures::future::join_all((0..10).map(|i| app.patch(&path, &a, json!({"price_cents": 100 + i})))).await;
        for r in &results {
            r.assert_status(200);
        }
        let got = app.get(&path, &a).await;
        let price = got.body["price_cents"].as_i64().unwrap();
        assert!((100..110).contains(&price), "{}", got.text);
    }
}

// ---------------------------------------------------------------------------------------------
// Invoices ↔ customers
// ---------------------------------------------------------------------------------------------

both_backends! {
    async fn invoice_customer_of_another_company_is_400(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let bobs_customer = customer(&app, &bob.auth()).await;
        let r = app.post("/api/invoices", &alice.auth(), invoice_body(&id_of(&bobs_customer), &tag())).await;
        r.assert_status(400);
        r.assert_field_error("customer_id");
        // Same answer as for a customer that does not exist at all (no existence leak).
        let missing = Uuid::now_v7().to_string();
        let r2 = app.post("/api/invoices", &alice.auth(), invoice_body(&missing, "x")).await;
        r2.assert_status(400);
        assert_eq!(
            r.text.replace(&id_of(&bobs_customer), "ID"),
            r2.text.replace(&missing, "ID"),
            "another company's customer looks exactly like a missing one"
        );
        // Nor can an existing invoice be pointed at it.
        let inv = invoice(&app, &alice.auth()).await;
        let path = format!("/api/invoices/{}", id_of(&inv));
        let r = app.patch(&path, &alice.auth(), json!({"customer_id": bobs_customer["id"]})).await;
        r.assert_status(400);
        r.assert_field_error("customer_id");
        let mut put = put_body(&app, &alice.auth(), "invoices").await;
        put["customer_id"] = bobs_customer["id"].clone();
        let r = app.put(&path, &alice.auth(), put).await;
        r.assert_status(400);
        r.assert_field_error("customer_id");
        assert_eq!(app.get(&path, &alice.auth()).await.body, inv);
        let list = app.get("/api/invoices", &alice.auth()).await;
        assert_eq!(list.body["count"], json!(1));
    }

    async fn deleting_a_customer_with_invoices_is_409(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let inv = app.create("/api/invoices", &a, invoice_body(&id_of(&c), "1")).await;
        let cpath = format!("/api/customers/{}", id_of(&c));
        let r = app.delete(&cpath, &a).await;
        r.assert_status(409);
        r.assert_detail();
        app.get(&cpath, &a).await.assert_status(200);
        app.get(&format!("/api/invoices/{}", id_of(&inv)), &a).await.assert_status(200);
        // Once the invoice is gone, the customer can go.
        app.delete(&format!("/api/invoices/{}", id_of(&inv)), &a).await.assert_status(204);
        app.delete(&cpath, &a).await.assert_status(204);
        app.get(&cpath, &a).await.assert_status(404);
    }

    async fn invoice_can_move_to_another_customer_of_the_same_company(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let inv = invoice(&app, &a).await;
        let c2 = customer(&app, &a).await;
        let r = app.patch(&format!("/api/invoices/{}", id_of(&inv)), &a, json!({"customer_id": c2["id"]})).await;
        r.assert_status(200);
        assert_eq!(r.body["customer_id"], c2["id"]);
        // The first customer has no invoices any more.
        let r = app.delete(&format!("/api/customers/{}", inv["customer_id"].as_str().unwrap()), &a).await;
        r.assert_status(204);
    }

    async fn concurrent_patches_to_one_unique_value(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for round in 0..3 {
            let x = customer(&app, &a).await;
            let y = customer(&app, &a).await;
            let target = json!({"email": format!("same-{round}@example.com")});
            let (rx, ry) = futures::join!(
                app.patch(&format!("/api/customers/{}", id_of(&x)), &a, target.clone()),
                app.patch(&format!("/api/customers/{}", id_of(&y)), &a, target.clone()),
            );
            let mut statuses = [rx.status, ry.status];
            statuses.sort();
            assert_eq!(statuses, [200, 409], "one wins, one conflicts: {} / {}", rx.text, ry.text);
            let loser = if rx.status == 409 { &rx } else { &ry };
            loser.assert_field_error("email");
        }
    }

    async fn deleting_a_customer_races_new_invoices(app: TestApp) {
        // Either the delete wins (and every invoice for the customer is refused with a 400), or an
        // invoice wins (and the delete is a 409). Never both, never a 500, never a dangling invoice.
        let a = app.signup("Acme").await.auth();
        for _ in 0..5 {
            let c = customer(&app, &a).await;
            let cid = id_of(&c);
            let (del, i1, i2) = futures::join!(
                app.delete(&format!("/api/customers/{cid}"), &a),
                app.post("/api/invoices", &a, invoice_body(&cid, &tag())),
                app.post("/api/invoices", &a, invoice_body(&cid, &tag())),
            );
            for r in [&del, &i1, &i2] {
                assert!(r.status < 500, "no 5xx in a race: {} {}", r.status, r.text);
            }
            let invoices_created = [&i1, &i2].iter().filter(|r| r.status == 201).count();
            match del.status {
                204 => {
                    assert_eq!(invoices_created, 0, "customer deleted yet invoices created: {} / {}", i1.text, i2.text);
                    for r in [&i1, &i2] {
                        r.assert_status(400);
                        r.assert_field_error("customer_id");
                    }
                }
                409 => assert!(invoices_created >= 1, "delete refused without any invoice: {}", del.text),
                other => panic!("unexpected delete status {other}: {}", del.text),
            }
        }
        // Every stored invoice points at an existing customer of the company.
        let list = app.get("/api/invoices?page_size=100", &a).await;
        for inv in list.body["results"].as_array().unwrap() {
            let path = format!("/api/customers/{}", inv["customer_id"].as_str().unwrap());
            app.get(&path, &a).await.assert_status(200);
        }
    }

    async fn delete_is_admin_only_by_default(app: TestApp) {
        // API.md: DELETE is "admin only (per-resource setting)"; every other verb is any member's.
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        app.add_member(&alice, &bob, "staff").await;
        let staff = bob.in_company(alice.company_id);
        for resource in RESOURCES {
            let obj = make(&app, &staff, resource).await;
            let path = format!("/api/{resource}/{}", id_of(&obj));
            let (patch, _, _) = patch_body(resource);
            app.patch(&path, &staff, patch).await.assert_status(200);
            let r = app.delete(&path, &staff).await;
            assert_eq!(r.status, 403, "staff DELETE {resource}: {}", r.text);
            r.assert_detail();
            app.get(&path, &staff).await.assert_status(200);
            // The refusal comes before the lookup: a missing id is a 403 too, so staff learn nothing.
            let r = app.delete(&format!("/api/{resource}/{}", uuid::Uuid::now_v7()), &staff).await;
            assert_eq!(r.status, 403, "{resource}: {}", r.text);
            app.delete(&path, &alice.auth()).await.assert_status(204);
        }
    }
}
