//! Tenant isolation: another company's rows are invisible and untouchable through every verb,
//! with answers identical to those for rows that do not exist, in lists and counts too, and no
//! request body can place a row in another company.

use serde_json::{Value, json};
use tests::demo::*;
use tests::*;
use uuid::Uuid;

const NOT_FOUND: &str = r#"{"detail": "Not found."}"#;

fn not_found() -> Value {
    serde_json::from_str(NOT_FOUND).unwrap()
}

/// Bob (another company) tries every verb on Alice's object: each is a 404 identical to the
/// answer for a random id, and Alice's row is unchanged afterwards.
async fn other_company_gets_404_for_every_verb(app: &TestApp, resource: &str) {
    let alice = app.signup("Acme").await;
    let bob = app.signup("Bobco").await;
    let obj = make(app, &alice.auth(), resource).await;
    let id = id_of(&obj);
    let path = format!("/api/{resource}/{id}");
    let missing = format!("/api/{resource}/{}", Uuid::now_v7());
    // Bob's bodies are valid in Bob's company (an invoice names one of Bob's customers).
    let put = put_body(app, &bob.auth(), resource).await;
    let (patch, _, _) = patch_body(resource);

    // Both path forms (API.md accepts a trailing slash) reach the same scoped handlers.
    for slash in ["", "/"] {
        let path = format!("{path}{slash}");
        let missing = format!("{missing}{slash}");
        for (verb, on_alice, on_missing) in [
            ("GET", app.get(&path, &bob.auth()).await, app.get(&missing, &bob.auth()).await),
            ("PUT", app.put(&path, &bob.auth(), put.clone()).await, app.put(&missing, &bob.auth(), put.clone()).await),
            (
                "PATCH",
                app.patch(&path, &bob.auth(), patch.clone()).await,
                app.patch(&missing, &bob.auth(), patch.clone()).await,
            ),
            ("DELETE", app.delete(&path, &bob.auth()).await, app.delete(&missing, &bob.auth()).await),
        ] {
            assert_eq!(on_alice.status, 404, "{verb} {path} (another company's): {}", on_alice.text);
            assert_eq!(on_alice.body, not_found(), "{verb} {resource}");
            assert_eq!(on_missing.status, 404);
            assert_eq!(on_alice.text, on_missing.text, "{verb} {resource}: indistinguishable from a missing id");
            assert_eq!(
                on_alice.headers.get("content-type"),
                on_missing.headers.get("content-type"),
                "{verb} {resource}: same headers"
            );
        }
    }

    // The same with the company header naming Bob's own company explicitly.
    let r = app.get(&path, &bob.in_company(bob.company_id)).await;
    r.assert_status(404);
    assert_eq!(r.body, not_found());

    // Bob's lists, counts, filters and searches never show it.
    for slash in ["", "/"] {
        let list = app.get(&format!("/api/{resource}{slash}?page_size=100"), &bob.auth()).await;
        list.assert_status(200);
        let ids: Vec<&str> =
            list.body["results"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
        assert!(!ids.contains(&id.as_str()), "{resource}{slash}: another company's row in the list");
    }
    let field = match resource {
        "customers" => "email",
        "products" => "sku",
        _ => "number",
    };
    let value = obj[field].as_str().unwrap();
    let r = app.get(&format!("/api/{resource}?{field}={value}"), &bob.auth()).await;
    r.assert_status(200);
    assert_eq!(r.body["count"], json!(0), "{resource}: filtering by another company's value finds nothing");
    if resource != "products" {
        let r = app.get(&format!("/api/{resource}?search={value}"), &bob.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body["count"], json!(0), "{resource}: searching finds nothing of another company");
    }

    // Alice's row is untouched: same body, including updated_at.
    let after = app.get(&path, &alice.auth()).await;
    after.assert_status(200);
    assert_eq!(after.body, obj, "{resource}: the owner's row changed after another company's attempts");
    let list = app.get(&format!("/api/{resource}"), &alice.auth()).await;
    assert_eq!(list.body["count"], json!(1), "{resource}: nothing was added to Alice's company");
}

both_backends! {
    async fn customers_of_another_company_are_invisible(app: TestApp) {
        other_company_gets_404_for_every_verb(&app, "customers").await;
    }

    async fn products_of_another_company_are_invisible(app: TestApp) {
        other_company_gets_404_for_every_verb(&app, "products").await;
    }

    async fn invoices_of_another_company_are_invisible(app: TestApp) {
        other_company_gets_404_for_every_verb(&app, "invoices").await;
    }

    async fn list_and_count_show_only_the_active_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        for resource in RESOURCES {
            for _ in 0..3 {
                make(&app, &alice.auth(), resource).await;
            }
            for _ in 0..2 {
                make(&app, &bob.auth(), resource).await;
            }
        }
        for (user, customers_n, n) in [(&alice, 6, 3), (&bob, 4, 2)] {
            for resource in RESOURCES {
                // Each invoice brought a customer of its own.
                let expected = if resource == "customers" { customers_n } else { n };
                let r = app.get(&format!("/api/{resource}?page_size=100"), &user.auth()).await;
                r.assert_status(200);
                assert_eq!(r.body["count"], json!(expected), "{resource} count for {}", user.email);
                let results = r.body["results"].as_array().unwrap();
                assert_eq!(results.len(), expected);
                for o in results {
                    assert_eq!(o["company_id"], json!(user.company_id.to_string()), "{resource}: {o}");
                }
                // Paging and searching stay inside the company too.
                let r = app.get(&format!("/api/{resource}?page_size=1&page={expected}"), &user.auth()).await;
                r.assert_status(200);
                assert_eq!(r.body["count"], json!(expected));
                assert!(r.body["next"].is_null());
                app.get(&format!("/api/{resource}?page_size=1&page={}", expected + 1), &user.auth()).await.assert_status(404);
                let r = app.get(&format!("/api/{resource}?search=e&page_size=100"), &user.auth()).await;
                for o in r.body["results"].as_array().unwrap() {
                    assert_eq!(o["company_id"], json!(user.company_id.to_string()));
                }
            }
        }
    }

    async fn invoice_filter_by_another_companys_customer_finds_nothing(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let inv = invoice(&app, &alice.auth()).await;
        invoice(&app, &bob.auth()).await;
        let cid = inv["customer_id"].as_str().unwrap();
        let r = app.get(&format!("/api/invoices?customer_id={cid}"), &bob.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body["count"], json!(0));
        let r = app.get(&format!("/api/invoices?customer_id={cid}"), &alice.auth()).await;
        assert_eq!(r.body["count"], json!(1));
    }

    async fn mass_assignment_cannot_cross_companies(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        for resource in RESOURCES {
            // Bob tries to create a row in Alice's company through the body.
            let mut body = create_body(&app, &bob.auth(), resource).await;
            body["company_id"] = json!(alice.company_id.to_string());
            let r = app.post(&format!("/api/{resource}"), &bob.auth(), body).await;
            r.assert_status(201);
            assert_eq!(r.body["company_id"], json!(bob.company_id.to_string()), "{resource}");
            // Bob tries to move his row into Alice's company.
            let path = format!("/api/{resource}/{}", r.id());
            let p = app.patch(&path, &bob.auth(), json!({"company_id": alice.company_id.to_string()})).await;
            p.assert_status(200);
            assert_eq!(p.body["company_id"], json!(bob.company_id.to_string()), "{resource}");
            let mut put = put_body(&app, &bob.auth(), resource).await;
            put["company_id"] = json!(alice.company_id.to_string());
            let p = app.put(&path, &bob.auth(), put).await;
            p.assert_status(200);
            assert_eq!(p.body["company_id"], json!(bob.company_id.to_string()), "{resource}");
            app.get(&path, &alice.auth()).await.assert_status(404);
            let list = app.get(&format!("/api/{resource}"), &alice.auth()).await;
            assert_eq!(list.body["count"], json!(0), "{resource}: nothing in Alice's company");
        }
    }

    async fn a_row_with_the_same_id_space_is_isolated_under_concurrency(app: TestApp) {
        // Two companies hammer their own rows at once; neither sees the other's.
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let mut futures = Vec::new();
        for i in 0..10 {
            futures.push(app.post("/api/products", &alice.auth(), product_body(&format!("same-{i}"))));
            futures.push(app.post("/api/products", &bob.auth(), product_body(&format!("same-{i}"))));
        }
        for r in futures::future::join_all(futures).await {
            r.assert_status(201);
        }
        for user in [&alice, &bob] {
            let r = app.get("/api/products?page_size=100", &user.auth()).await;
            assert_eq!(r.body["count"], json!(10));
            for o in r.body["results"].as_array().unwrap() {
                assert_eq!(o["company_id"], json!(user.company_id.to_string()));
            }
        }
    }
}
