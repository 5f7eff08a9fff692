//! CRUD of the demo's tenant resources (customers, products, invoices) over HTTP, on both
//! backends: create, retrieve, replace, partial update, delete.

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
