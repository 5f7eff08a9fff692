//! Lists of the demo's tenant resources: ordering (NULLs last ascending, first descending),
//! exact filters, and search (case-insensitive over Unicode, wildcards literal).

use serde_json::json;
use tests::demo::*;
use tests::lists::*;
use tests::*;

both_backends! {
    async fn ordering(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for (sku, name, price) in [("B", "banana", 300), ("A", "apple", 300), ("C", "cherry", 100), ("D", "date", 200)] {
            app.create("/api/products", &a, json!({"sku": sku, "name": name, "price_cents": price})).await;
        }
        let r = app.get("/api/products?ordering=sku", &a).await;
        r.assert_status(200);
        assert_eq!(strings(&r, "sku"), ["A", "B", "C", "D"]);
        let r = app.get("/api/products?ordering=-sku", &a).await;
        assert_eq!(strings(&r, "sku"), ["D", "C", "B", "A"]);
        let r = app.get("/api/products?ordering=name", &a).await;
        assert_eq!(strings(&r, "name"), ["apple", "banana", "cherry", "date"]);
        let r = app.get("/api/products?ordering=price_cents", &a).await;
        assert_eq!(ints(&r, "price_cents"), [100, 200, 300, 300]);
        // Several keys: price descending, then name ascending among equal prices.
        let r = app.get("/api/products?ordering=-price_cents,name", &a).await;
        r.assert_status(200);
        assert_eq!(strings(&r, "sku"), ["A", "B", "D", "C"]);
        // Whitespace around the keys is tolerated, as in Django REST Framework.
        let r = app.get("/api/products?ordering=-price_cents,%20name", &a).await;
        r.assert_status(200);
        assert_eq!(strings(&r, "sku"), ["A", "B", "D", "C"]);
        let r = app.get("/api/products?ordering=-price_cents,-name", &a).await;
        assert_eq!(strings(&r, "sku"), ["B", "A", "D", "C"]);
        // Ordering combines with pagination: page 2 continues the order.
        let r = app.get("/api/products?ordering=-sku&page_size=3&page=2", &a).await;
        assert_eq!(strings(&r, "sku"), ["A"]);
        // Default: creation order.
        let r = app.get("/api/products", &a).await;
        assert_eq!(strings(&r, "sku"), ["B", "A", "C", "D"]);
    }

    async fn ordering_of_each_resource(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for (name, email) in [("Zed", "a@example.com"), ("Amy", "z@example.com"), ("Mia", "m@example.com")] {
            app.create("/api/customers", &a, json!({"name": name, "email": email})).await;
        }
        let r = app.get("/api/customers?ordering=name", &a).await;
        assert_eq!(strings(&r, "name"), ["Amy", "Mia", "Zed"]);
        let r = app.get("/api/customers?ordering=-email", &a).await;
        assert_eq!(strings(&r, "name"), ["Amy", "Mia", "Zed"]);
        let cid = strings(&r, "id")[0].clone();
        for (number, amount, issued) in [("003", 5, json!("2026-01-03")), ("001", 9, json!("2026-01-01")), ("002", 1, json!("2026-01-02"))] {
            app.create(
                "/api/invoices",
                &a,
                json!({"customer_id": cid, "number": number, "amount_cents": amount, "issued_on": issued}),
            )
            .await;
        }
        let r = app.get("/api/invoices?ordering=number", &a).await;
        assert_eq!(strings(&r, "number"), ["001", "002", "003"]);
        let r = app.get("/api/invoices?ordering=-amount_cents", &a).await;
        assert_eq!(ints(&r, "amount_cents"), [9, 5, 1]);
        let r = app.get("/api/invoices?ordering=issued_on", &a).await;
        assert_eq!(strings(&r, "number"), ["001", "002", "003"]);
        let r = app.get("/api/invoices?ordering=-issued_on", &a).await;
        assert_eq!(strings(&r, "number"), ["003", "002", "001"]);
    }

    async fn ordering_by_an_undeclared_field_is_400(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        customers(&app, &a, 2).await;
        for q in [
            "/api/customers?ordering=nope",
            "/api/customers?ordering=phone",           // a field, but not orderable
            "/api/customers?ordering=name,nope",
            "/api/customers?ordering=-notes",
            "/api/customers?ordering=name%3BDROP%20TABLE%20customers",
            "/api/customers?ordering=company_id",
            "/api/products?ordering=active",
            "/api/invoices?ordering=status",
            "/api/invoices?ordering=customer_id",
        ] {
            let r = app.get(q, &a).await;
            assert_eq!(r.status, 400, "{q}: {}", r.text);
            assert!(r.body.is_object(), "{q}: error body is JSON: {}", r.text);
        }
        // And nothing broke.
        let r = app.get("/api/customers", &a).await;
        assert_eq!(count(&r), 2);
    }

    async fn nulls_sort_last_ascending_and_first_descending(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let cid = id_of(&c);
        let dated = [("D-1", Some("2026-03-01")), ("N-1", None), ("D-2", Some("2026-01-01")), ("N-2", None), ("D-3", Some("2026-02-01")), ("N-3", None)];
        for (number, issued_on) in dated {
            app.create("/api/invoices", &a, json!({"customer_id": cid, "number": number, "amount_cents": 1, "issued_on": issued_on})).await;
        }
        let r = app.get("/api/invoices?ordering=issued_on", &a).await;
        // Ties (the NULLs) keep the default order: created_at, then id.
        assert_eq!(strings(&r, "number"), ["D-2", "D-3", "D-1", "N-1", "N-2", "N-3"], "{}", r.text);
        let r = app.get("/api/invoices?ordering=-issued_on", &a).await;
        assert_eq!(strings(&r, "number"), ["N-1", "N-2", "N-3", "D-1", "D-3", "D-2"], "{}", r.text);
        // Paging through the NULL block gives every row exactly once, in the same order.
        for ordering in ["issued_on", "-issued_on"] {
            let all = strings(&app.get(&format!("/api/invoices?ordering={ordering}"), &a).await, "number");
            let mut paged = Vec::new();
            for page in 1..=3 {
                let r = app.get(&format!("/api/invoices?ordering={ordering}&page_size=2&page={page}"), &a).await;
                r.assert_status(200);
                paged.extend(strings(&r, "number"));
            }
            assert_eq!(paged, all, "{ordering}");
        }
    }

    async fn exact_filters(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        app.create("/api/products", &a, json!({"sku": "ON1", "name": "On", "price_cents": 1})).await;
        app.create("/api/products", &a, json!({"sku": "ON2", "name": "On", "price_cents": 1, "active": true})).await;
        app.create("/api/products", &a, json!({"sku": "OFF", "name": "Off", "price_cents": 1, "active": false})).await;
        let r = app.get("/api/products?active=false", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 1);
        assert_eq!(strings(&r, "sku"), ["OFF"]);
        let r = app.get("/api/products?active=true", &a).await;
        assert_eq!(count(&r), 2);
        let r = app.get("/api/products?sku=ON2", &a).await;
        assert_eq!(strings(&r, "sku"), ["ON2"]);
        let r = app.get("/api/products?sku=on2", &a).await;
        assert_eq!(count(&r), 0, "exact filters are exact (case-sensitive)");
        let r = app.get("/api/products?sku=ON", &a).await;
        assert_eq!(count(&r), 0, "exact filters are not substring matches");
        let r = app.get("/api/products?sku=ON1&active=true", &a).await;
        assert_eq!(strings(&r, "sku"), ["ON1"], "filters combine with AND");
        let r = app.get("/api/products?sku=ON1&active=false", &a).await;
        assert_eq!(count(&r), 0);

        let c1 = customer(&app, &a).await;
        let c2 = customer(&app, &a).await;
        let email = c1["email"].as_str().unwrap();
        let r = app.get(&format!("/api/customers?email={email}"), &a).await;
        assert_eq!(strings(&r, "id"), [id_of(&c1)]);
        for (n, cust, status) in [("1", &c1, "draft"), ("2", &c1, "paid"), ("3", &c2, "paid")] {
            app.create("/api/invoices", &a, json!({"customer_id": cust["id"], "number": n, "amount_cents": 1, "status": status}))
                .await;
        }
        let r = app.get("/api/invoices?status=paid", &a).await;
        assert_eq!(count(&r), 2);
        let r = app.get(&format!("/api/invoices?customer_id={}", id_of(&c1)), &a).await;
        assert_eq!(strings(&r, "number"), ["1", "2"]);
        let r = app.get(&format!("/api/invoices?customer_id={}&status=paid", id_of(&c1)), &a).await;
        assert_eq!(strings(&r, "number"), ["2"]);
        let r = app.get("/api/invoices?number=3", &a).await;
        assert_eq!(strings(&r, "number"), ["3"]);
        let r = app.get("/api/invoices?status=sent", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 0);
        // A parameter that is no filter of the resource is ignored, as in Django REST Framework.
        let r = app.get("/api/invoices?amount_cents=999&foo=bar", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 3);
    }

    async fn filter_with_a_bad_value_is_400(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        invoice(&app, &a).await;
        for q in [
            "/api/products?active=maybe",
            "/api/products?active=2",
            "/api/invoices?customer_id=not-a-uuid",
            "/api/invoices?customer_id=123",
            "/api/invoices?status=void",
            "/api/invoices?status=PAID",
        ] {
            let r = app.get(q, &a).await;
            assert_eq!(r.status, 400, "{q}: {}", r.text);
            assert!(r.body.is_object(), "{q}: {}", r.text);
        }
    }

    async fn search_is_a_case_insensitive_substring(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        app.create("/api/customers", &a, json!({"name": "Acme Corporation", "email": "info@acme.test"})).await;
        app.create("/api/customers", &a, json!({"name": "Globex", "email": "hello@globex.test"})).await;
        app.create("/api/customers", &a, json!({"name": "Initech", "email": "ACME-fan@initech.test"})).await;
        let r = app.get("/api/customers?search=acme", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 2, "name or email, any case: {}", r.text);
        let r = app.get("/api/customers?search=CORPOR", &a).await;
        assert_eq!(strings(&r, "name"), ["Acme Corporation"]);
        let r = app.get("/api/customers?search=GLOBEX.TEST", &a).await;
        assert_eq!(strings(&r, "name"), ["Globex"], "email is searchable");
        let r = app.get("/api/customers?search=nothing-like-this", &a).await;
        assert_eq!(count(&r), 0);
        // Search combines with a filter and ordering; count counts the matches.
        let r = app.get("/api/customers?search=acme&ordering=-name", &a).await;
        assert_eq!(strings(&r, "name"), ["Initech", "Acme Corporation"]);
        let r = app.get("/api/customers?search=acme&email=info@acme.test", &a).await;
        assert_eq!(strings(&r, "name"), ["Acme Corporation"]);
        let r = app.get("/api/customers?search=acme&page_size=1", &a).await;
        assert_eq!(count(&r), 2);
        assert_eq!(results(&r).len(), 1);
        assert!(r.body["next"].as_str().unwrap().contains("search=acme"));
        // An empty search matches everything.
        let r = app.get("/api/customers?search=", &a).await;
        assert_eq!(count(&r), 3);

        app.create("/api/products", &a, json!({"sku": "X1", "name": "Widget Deluxe", "price_cents": 1})).await;
        app.create("/api/products", &a, json!({"sku": "WIDGET", "name": "Gadget", "price_cents": 1})).await;
        let r = app.get("/api/products?search=wIdGeT", &a).await;
        assert_eq!(strings(&r, "sku"), ["X1"], "products search only name, not sku: {}", r.text);

        let c = customer(&app, &a).await;
        app.create("/api/invoices", &a, json!({"customer_id": c["id"], "number": "INV-2026-001", "amount_cents": 1})).await;
        app.create("/api/invoices", &a, json!({"customer_id": c["id"], "number": "CR-7", "amount_cents": 1})).await;
        let r = app.get("/api/invoices?search=inv-2026", &a).await;
        assert_eq!(strings(&r, "number"), ["INV-2026-001"]);
    }

    async fn search_treats_wildcards_literally(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        app.create("/api/customers", &a, json!({"name": "100% Organic", "email": "organic@example.com"})).await;
        app.create("/api/customers", &a, json!({"name": "Under_score", "email": "under@example.com"})).await;
        app.create("/api/customers", &a, json!({"name": "Plain", "email": "plain@example.com"})).await;
        app.create("/api/customers", &a, json!({"name": "Back\\slash", "email": "back@example.com"})).await;
        let r = app.get("/api/customers?search=%25", &a).await; // "%"
        r.assert_status(200);
        assert_eq!(strings(&r, "name"), ["100% Organic"], "% is not a wildcard: {}", r.text);
        let r = app.get("/api/customers?search=_", &a).await;
        assert_eq!(strings(&r, "name"), ["Under_score"], "_ is not a wildcard: {}", r.text);
        let r = app.get("/api/customers?search=%5C", &a).await; // "\"
        assert_eq!(strings(&r, "name"), ["Back\\slash"], "backslash is literal: {}", r.text);
        let r = app.get("/api/customers?search=%27%20OR%201%3D1%20--", &a).await; // "' OR 1=1 --"
        r.assert_status(200);
        assert_eq!(count(&r), 0);
        // Non-ASCII text is matched too (case folding of ASCII at least).
        app.create("/api/customers", &a, json!({"name": "Café Zoë", "email": "cafe@example.com"})).await;
        let r = app.get("/api/customers?search=caf%C3%A9", &a).await; // "café"
        assert_eq!(strings(&r, "name"), ["Café Zoë"]);
    }

    async fn search_folds_unicode_case(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for (name, email) in [
            ("ÉCOLE Zürich", "ecole@example.com"),
            ("école zürich", "ecole2@example.com"),
            ("ΩΜΈΓΑ Σύλλογος", "omega@example.com"),
            ("ПРИВЕТ мир", "privet@example.com"),
            ("Ärger GmbH", "AERGER@EXAMPLE.COM"),
            ("東京 Office", "tokyo@example.com"),
        ] {
            app.create("/api/customers", &a, json!({"name": name, "email": email})).await;
        }
        let search = |q: &'static str| {
            let a = a.clone();
            let app = &app;
            async move {
                let r = app.get(&format!("/api/customers?search={}&ordering=email", percent_encode(q)), &a).await;
                r.assert_status(200);
                strings(&r, "email")
            }
        };
        assert_eq!(search("école").await, ["ecole2@example.com", "ecole@example.com"]);
        assert_eq!(search("ÉCOLE").await, ["ecole2@example.com", "ecole@example.com"]);
        assert_eq!(search("ZÜRICH").await, ["ecole2@example.com", "ecole@example.com"]);
        // Greek, Cyrillic; several terms that must all match; ASCII case of an email.
        assert_eq!(search("ωμέγα").await, ["omega@example.com"]);
        assert_eq!(search("ΩΜΈΓΑ").await, ["omega@example.com"]);
        assert_eq!(search("σύλλογος").await, ["omega@example.com"]);
        assert_eq!(search("привет МИР").await, ["privet@example.com"]);
        assert_eq!(search("ärger aerger@").await, ["AERGER@EXAMPLE.COM"]);
        assert_eq!(search("東京").await, ["tokyo@example.com"]);
        // Regex or LIKE metacharacters in a term are literal.
        assert!(search(".*").await.is_empty());
        assert!(search("[é]").await.is_empty());
        assert!(search("(?i)x").await.is_empty());
    }
}
