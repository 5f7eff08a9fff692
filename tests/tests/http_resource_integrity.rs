//! Integrity of the demo's tenant resources over HTTP, on both backends: values unique per
//! company (409, also under concurrency), invoices that reference customers of their own company
//! only, deletes blocked by dependants, and who may delete.

use serde_json::{Value, json};
use tests::demo::*;
use tests::*;
use uuid::Uuid;

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
