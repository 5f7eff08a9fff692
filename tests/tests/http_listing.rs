//! Lists of the demo's tenant resources: the page shape (DRF's `PageNumberPagination`),
//! pagination and its bounds, and how the query string is read.

use serde_json::json;
use tests::demo::*;
use tests::lists::*;
use tests::*;

both_backends! {
    async fn empty_list_page(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for resource in RESOURCES {
            let r = app.get(&format!("/api/{resource}"), &a).await;
            r.assert_status(200);
            assert_page_shape(&r);
            assert_eq!(r.body, json!({"count": 0, "next": null, "previous": null, "results": []}), "{resource}");
        }
    }

    async fn list_items_are_whole_objects(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for resource in RESOURCES {
            let obj = make(&app, &a, resource).await;
            let r = app.get(&format!("/api/{resource}"), &a).await;
            r.assert_status(200);
            assert_page_shape(&r);
            assert_eq!(count(&r), 1);
            assert_eq!(results(&r)[0], obj, "{resource}: a list item equals the retrieved object");
        }
    }

    async fn pagination(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let all = customers(&app, &a, 25).await;
        let ids: Vec<String> = all.iter().map(id_of).collect();

        let p1 = app.get("/api/customers", &a).await;
        p1.assert_status(200);
        assert_page_shape(&p1);
        assert_eq!(count(&p1), 25);
        assert_eq!(results(&p1).len(), 20, "default page size is 20");
        assert!(p1.body["previous"].is_null());
        let next = p1.body["next"].as_str().expect("a next link on page 1");
        assert!(next.contains("page=2"), "next link {next}");
        assert_eq!(strings(&p1, "id"), ids[..20], "default order is creation order");

        // The next link can be followed (as a path).
        let next_path = &next[next.find("/api/").expect("next link names the path")..];
        let p2 = app.get(next_path, &a).await;
        p2.assert_status(200);
        assert_eq!(count(&p2), 25);
        assert_eq!(strings(&p2, "id"), ids[20..]);
        assert!(p2.body["next"].is_null());
        let prev = p2.body["previous"].as_str().expect("a previous link on page 2");
        assert!(prev.contains("/api/customers"), "{prev}");

        let p3 = app.get("/api/customers?page=3", &a).await;
        p3.assert_status(404);
        p3.assert_detail();

        // page_size.
        let r = app.get("/api/customers?page_size=10&page=3", &a).await;
        r.assert_status(200);
        assert_eq!(strings(&r, "id"), ids[20..]);
        assert!(r.body["next"].is_null());
        let prev = r.body["previous"].as_str().unwrap();
        assert!(prev.contains("page=2") && prev.contains("page_size=10"), "previous keeps page_size: {prev}");
        let r = app.get("/api/customers?page_size=10", &a).await;
        let next = r.body["next"].as_str().unwrap();
        assert!(next.contains("page_size=10") && next.contains("page=2"), "next keeps page_size: {next}");
        let r = app.get("/api/customers?page_size=7&page=4", &a).await;
        assert_eq!(strings(&r, "id"), ids[21..]);
        app.get("/api/customers?page_size=5&page=6", &a).await.assert_status(404);

        let r = app.get("/api/customers?page_size=100", &a).await;
        assert_eq!(results(&r).len(), 25);
        assert!(r.body["next"].is_null() && r.body["previous"].is_null());

        // Other query parameters survive in the links.
        let r = app.get("/api/customers?page_size=5&ordering=-name", &a).await;
        let next = r.body["next"].as_str().unwrap();
        assert!(next.contains("ordering=-name"), "next keeps ordering: {next}");
    }

    async fn invalid_page_numbers(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        customers(&app, &a, 2).await;
        // Django REST Framework answers an invalid page with 404 ("Invalid page.").
        for q in ["page=0", "page=-1", "page=abc", "page=2", "page=99999999999999999999"] {
            let r = app.get(&format!("/api/customers?{q}"), &a).await;
            r.assert_status(404);
            r.assert_detail();
        }
        // page=1 of an empty list is fine (not "past the end").
        let b = app.signup("Empty").await.auth();
        app.get("/api/customers?page=1", &b).await.assert_status(200);
        app.get("/api/customers?page=2", &b).await.assert_status(404);
    }

    async fn page_size_is_capped_at_100(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for i in 0..105 {
            app.create("/api/products", &a, json!({"sku": format!("S{i:03}"), "name": "P", "price_cents": i})).await;
        }
        let r = app.get("/api/products?page_size=1000", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 105);
        assert_eq!(results(&r).len(), 100, "page_size is at most 100");
        assert!(r.body["next"].is_string());
        let r = app.get("/api/products", &a).await;
        assert_eq!(results(&r).len(), 20);
        // A nonsensical page_size never breaks the list.
        for q in ["page_size=0", "page_size=-5", "page_size=abc"] {
            let r = app.get(&format!("/api/products?{q}"), &a).await;
            assert!(r.status == 200 || r.status == 400, "{q}: {} {}", r.status, r.text);
            if r.status == 200 {
                assert!(!results(&r).is_empty() && results(&r).len() <= 100, "{q}");
            } else {
                assert!(r.body.is_object(), "{q}: {}", r.text);
            }
        }
    }

    async fn query_strings_are_url_decoded(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        app.create("/api/customers", &a, json!({"name": "Tom & Jerry", "email": "tom+jerry@example.com"})).await;
        let r = app.get("/api/customers?email=tom%2Bjerry%40example.com", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 1, "{}", r.text);
        let r = app.get("/api/customers?search=tom%20%26%20jerry", &a).await;
        assert_eq!(count(&r), 1, "{}", r.text);
    }

    async fn repeated_query_parameters_last_wins(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let cid = id_of(&c);
        for (number, status) in [("A-1", "paid"), ("A-2", "draft"), ("A-3", "draft")] {
            app.create("/api/invoices", &a, json!({"customer_id": cid, "number": number, "amount_cents": 1, "status": status})).await;
        }
        // As Django's QueryDict: the last value of a repeated parameter counts, for every parameter.
        let r = app.get("/api/invoices?status=paid&status=draft", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 2, "{}", r.text);
        let r = app.get("/api/invoices?status=draft&status=paid", &a).await;
        assert_eq!(strings(&r, "number"), ["A-1"]);
        let r = app.get("/api/invoices?status=void&status=paid", &a).await;
        assert_eq!(r.status, 200, "an invalid earlier value does not count: {}", r.text);
        let r = app.get("/api/invoices?status=paid&status=", &a).await;
        assert_eq!(count(&r), 3, "an empty last value means no filter: {}", r.text);
        let r = app.get("/api/invoices?search=A-1&search=A-3", &a).await;
        assert_eq!(strings(&r, "number"), ["A-3"]);
        let r = app.get("/api/invoices?ordering=number&ordering=-number", &a).await;
        assert_eq!(strings(&r, "number"), ["A-3", "A-2", "A-1"]);
        let r = app.get("/api/invoices?ordering=nope&ordering=number", &a).await;
        assert_eq!(strings(&r, "number"), ["A-1", "A-2", "A-3"], "{}", r.text);
        let r = app.get("/api/invoices?page_size=1&page_size=2", &a).await;
        assert_eq!(results(&r).len(), 2);
        let r = app.get("/api/invoices?page_size=1&page=abc&page=2", &a).await;
        r.assert_status(200);
        assert_eq!(results(&r).len(), 1);
        let r = app.get("/api/invoices?page=1&page=9", &a).await;
        r.assert_status(404);
        // The page links carry one value per parameter: the one that counted.
        let r = app.get("/api/invoices?page_size=5&page_size=1&status=paid&status=draft", &a).await;
        let next = r.body["next"].as_str().unwrap();
        assert_eq!(next.matches("page_size=").count(), 1, "{next}");
        assert!(next.contains("page_size=1") && next.contains("status=draft") && !next.contains("paid"), "{next}");
    }
}
