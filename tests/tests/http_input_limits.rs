//! Inputs at the edges of what the database engines hold: NUL characters, dates outside years
//! 1-9999, integers written as floats or past a column's range, oversized search and ordering
//! input, huge page numbers. API.md: never a 5xx for bad input; each is a 400 naming what was
//! wrong (or the page rule's 404), identically on both backends, and nothing is stored.

use serde_json::{Value, json};
use tests::demo::*;
use tests::*;

const NUL_MESSAGE: &str = "Null characters are not allowed.";

#[track_caller]
fn assert_field_message(r: &Resp, field: &str, message: &str) {
    r.assert_status(400);
    r.assert_field_error(field);
    let messages = r.body[field].as_array().unwrap();
    assert!(messages.iter().any(|m| m == message), "expected {message:?} on {field}, got {}", r.text);
}

#[track_caller]
fn count(r: &Resp) -> u64 {
    r.body["count"].as_u64().unwrap_or_else(|| panic!("no count in {}", r.text))
}

both_backends! {
    async fn nul_characters_in_resource_fields_are_400(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let cid = id_of(&c);
        let cases: Vec<(&str, &str, Value)> = vec![
            ("customers", "name", json!("a\u{0}b")),
            ("customers", "email", json!("a\u{0}b@example.com")),
            ("customers", "phone", json!("\u{0}")),
            ("customers", "notes", json!("notes\u{0}")),
            ("products", "sku", json!("S\u{0}1")),
            ("products", "name", json!("\u{0}name")),
            ("invoices", "number", json!("INV\u{0}1")),
            ("invoices", "status", json!("paid\u{0}")),
            ("invoices", "issued_on", json!("2026-01-01\u{0}")),
            ("invoices", "customer_id", json!(format!("{cid}\u{0}"))),
        ];
        for (resource, field, value) in &cases {
            let mut body = create_body(&app, &a, resource).await;
            body[*field] = value.clone();
            let r = app.post(&format!("/api/{resource}"), &a, body.clone()).await;
            assert_eq!(r.status, 400, "POST {resource} {field}: {}", r.text);
            r.assert_field_error(field);
            // PUT and PATCH validate the same way.
            let obj = make(&app, &a, resource).await;
            let path = format!("/api/{resource}/{}", id_of(&obj));
            let r = app.put(&path, &a, body).await;
            assert_eq!(r.status, 400, "PUT {resource} {field}: {}", r.text);
            r.assert_field_error(field);
            let r = app.patch(&path, &a, json!({ *field: value })).await;
            assert_eq!(r.status, 400, "PATCH {resource} {field}: {}", r.text);
            r.assert_field_error(field);
        }
        // The text fields say why, in Django REST Framework's words.
        let mut body = customer_body(&tag());
        body["name"] = json!("a\u{0}b");
        assert_field_message(&app.post("/api/customers", &a, body).await, "name", NUL_MESSAGE);
    }

    async fn nul_characters_in_account_fields_are_400(app: TestApp) {
        let r = app
            .post("/api/auth/signup", &Auth::None, json!({"email": "n@example.com", "password": PASSWORD, "company_name": "A\u{0}B"}))
            .await;
        assert_field_message(&r, "company_name", NUL_MESSAGE);
        let r = app
            .post("/api/auth/signup", &Auth::None, json!({"email": "n\u{0}@example.com", "password": PASSWORD, "company_name": "AB"}))
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        r.assert_field_error("email");
        let r = app
            .post("/api/auth/signup", &Auth::None, json!({"email": "n@example.com", "password": "pass\u{0}word123", "company_name": "AB"}))
            .await;
        assert_field_message(&r, "password", NUL_MESSAGE);
        let alice = app.signup("Acme").await;
        let r = app.post("/api/companies", &alice.auth(), json!({"name": "Evil\u{0}Corp"})).await;
        assert_field_message(&r, "name", NUL_MESSAGE);
        let r = app.post("/api/auth/token", &Auth::None, json!({"email": alice.email, "password": "x\u{0}"})).await;
        assert!(r.status == 400 || r.status == 401, "{}", r.text);
        let r = app.get("/api/companies", &alice.auth()).await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(1), "nothing was created: {}", r.text);
    }

    async fn nul_characters_in_query_parameters_are_400(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        customer(&app, &a).await;
        for q in ["search=a%00b", "search=%00", "email=a%00b@example.com", "ordering=na%00me", "page=1%00"] {
            let r = app.get(&format!("/api/customers?{q}"), &a).await;
            assert!(r.status == 400 || r.status == 404, "{q}: {} {}", r.status, r.text);
            assert!(r.body.is_object(), "{q}: {}", r.text);
        }
        // An unusable page size falls back to the default, as in DRF.
        app.get("/api/customers?page_size=5%00", &a).await.assert_status(200);
        let r = app.get("/api/customers?search=a%00b", &a).await;
        assert_field_message(&r, "search", NUL_MESSAGE);
        let r = app.get("/api/customers?email=a%00b@example.com", &a).await;
        r.assert_status(400);
        r.assert_field_error("email");
    }

    async fn dates_are_limited_to_years_1_to_9999(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let body = |date: &str| {
            let mut b = invoice_body(&id_of(&c), &tag());
            b["issued_on"] = json!(date);
            b
        };
        for bad in ["+10000-01-01", "10000-01-01", "-0001-01-01", "0000-01-01", "+2026-01-01", "99999-12-31", "2026-02-30"] {
            let r = app.post("/api/invoices", &a, body(bad)).await;
            assert_eq!(r.status, 400, "{bad}: {}", r.text);
            r.assert_field_error("issued_on");
        }
        for good in ["0001-01-01", "9999-12-31", "2024-02-29"] {
            let r = app.post("/api/invoices", &a, body(good)).await;
            r.assert_status(201);
            assert_eq!(r.body["issued_on"], json!(good));
        }
        // Stored dates sort as dates on both backends.
        let r = app.get("/api/invoices?ordering=-issued_on", &a).await;
        let dates: Vec<&str> = r.body["results"].as_array().unwrap().iter().map(|o| o["issued_on"].as_str().unwrap()).collect();
        assert_eq!(dates, ["9999-12-31", "2024-02-29", "0001-01-01"]);
        let inv = app.get("/api/invoices?ordering=issued_on", &a).await.body["results"][0].clone();
        let r = app.patch(&format!("/api/invoices/{}", id_of(&inv)), &a, json!({"issued_on": "+10000-01-01"})).await;
        r.assert_status(400);
        r.assert_field_error("issued_on");
    }

    async fn integer_fields_accept_integral_numbers_only(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        // DRF's IntegerField: 10.0 is 10; JSON Schema calls it an integer too.
        for (raw, stored) in [("10.0", 10), ("1e3", 1000), ("0.0", 0), ("-0.0", 0), ("2.5e1", 25), ("1E2", 100)] {
            let body = format!(r#"{{"sku": "S-{}", "name": "P", "price_cents": {raw}}}"#, tag());
            let r = send_raw(&app, "POST", "/api/products", &a, &body).await;
            assert_eq!(r.status, 201, "{raw}: {}", r.text);
            assert_eq!(r.body["price_cents"], json!(stored), "{raw}");
        }
        // Fractional values and values outside the column's range name the field.
        for raw in ["10.5", "0.1", "-0.5", "1e-3", "9223372036854775808", "1e19", "-1e19", "18446744073709551616"] {
            let body = format!(r#"{{"sku": "S-{}", "name": "P", "price_cents": {raw}}}"#, tag());
            let r = send_raw(&app, "POST", "/api/products", &a, &body).await;
            assert_eq!(r.status, 400, "{raw}: {}", r.text);
            r.assert_field_error("price_cents");
        }
        // The same on update, and for the other integer fields.
        let p = product(&app, &a).await;
        let path = format!("/api/products/{}", id_of(&p));
        let r = send_raw(&app, "PATCH", &path, &a, r#"{"price_cents": 42.0}"#).await;
        r.assert_status(200);
        assert_eq!(r.body["price_cents"], json!(42));
        let r = send_raw(&app, "PATCH", &path, &a, r#"{"price_cents": 42.5}"#).await;
        r.assert_status(400);
        r.assert_field_error("price_cents");
        let inv = invoice(&app, &a).await;
        let path = format!("/api/invoices/{}", id_of(&inv));
        let r = send_raw(&app, "PATCH", &path, &a, r#"{"amount_cents": 1.0e2}"#).await;
        r.assert_status(200);
        assert_eq!(r.body["amount_cents"], json!(100));
        let r = send_raw(&app, "PATCH", &path, &a, r#"{"amount_cents": 99.99}"#).await;
        r.assert_status(400);
        r.assert_field_error("amount_cents");
    }

    async fn search_input_is_bounded(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        app.create("/api/customers", &a, json!({"name": "x".repeat(100), "email": "long@example.com"})).await;
        // At the limits: 10 terms, 100 characters each.
        let r = app.get(&format!("/api/customers?search={}", "x".repeat(100)), &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 1);
        let ten = ["x"; 10].join("%20");
        app.get(&format!("/api/customers?search={ten}"), &a).await.assert_status(200);
        // Past them: 400 on `search`, the same on both backends.
        for q in [
            "q".repeat(55_000),
            "x".repeat(101),
            "é".repeat(101),
            ["x"; 11].join("%20"),
            vec!["ab"; 8_000].join("%20"),
            vec!["ab"; 8_000].join(","),
            format!("{}x", "%20".repeat(2_000)),
        ] {
            let r = app.get(&format!("/api/customers?search={q}"), &a).await;
            assert_eq!(r.status, 400, "search of {} bytes: {}", q.len(), r.text);
            r.assert_field_error("search");
        }
        // Every searchable resource applies them.
        for resource in ["products", "invoices"] {
            let r = app.get(&format!("/api/{resource}?search={}", "q".repeat(55_000)), &a).await;
            assert_eq!(r.status, 400, "{resource}: {}", r.text);
            r.assert_field_error("search");
        }
    }

    async fn ordering_terms_are_deduplicated_and_capped(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for n in ["b", "a", "c"] {
            app.create("/api/customers", &a, json!({"name": n, "email": format!("{n}@example.com")})).await;
        }
        // A repeated term counts once: the first occurrence decides.
        let r = app.get("/api/customers?ordering=-name,name,-name,email", &a).await;
        r.assert_status(200);
        let names: Vec<&str> = r.body["results"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["c", "b", "a"]);
        // Many terms: 400 on `ordering`, never an engine error.
        for q in [vec!["name"; 3_000].join(","), vec!["-name,email"; 2_000].join(","), vec!["nope"; 3_000].join(",")] {
            let r = app.get(&format!("/api/customers?ordering={q}"), &a).await;
            assert_eq!(r.status, 400, "{} bytes: {}", q.len(), &r.text[..r.text.len().min(300)]);
            r.assert_field_error("ordering");
            assert!(r.text.len() < 2_000, "the error stays short: {} bytes", r.text.len());
        }
    }

    async fn huge_page_numbers_are_not_a_500(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        customer(&app, &a).await;
        for q in [
            "page=9223372036854775807",
            "page=9223372036854775808",
            "page=18446744073709551615",
            "page=18446744073709551616",
            "page=1e3",
            "page=99999999999999999999999999999999&page_size=100",
        ] {
            let r = app.get(&format!("/api/customers?{q}"), &a).await;
            assert_eq!(r.status, 404, "{q}: {}", r.text);
            r.assert_detail();
        }
        for q in ["page_size=18446744073709551616", "page_size=9223372036854775807", "page_size=1e2"] {
            let r = app.get(&format!("/api/customers?{q}"), &a).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
        }
    }
}

/// Sends `raw` as a JSON body, byte for byte (numbers such as `1e3` or `10.0` keep their spelling).
async fn send_raw(app: &TestApp, method: &str, path: &str, auth: &Auth, raw: &str) -> Resp {
    let Auth::Bearer(token) = auth else { panic!("a bearer auth") };
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    app.send(method, path, &headers, Some(raw.as_bytes().to_vec())).await
}

mod request_timeout {
    use std::time::Duration;

    use axum::body::{Body, Bytes};
    use futures::StreamExt;
    use tower::ServiceExt;

    use super::*;

    both_backends! {
        /// A write whose body stalls is abandoned at `REQUEST_TIMEOUT_SECS`: 503, the connection
        /// closed, nothing written, and no transaction was ever held for it.
        async fn a_stalled_upload_is_abandoned_at_the_configured_request_timeout(app: TestApp) {
            let strict = app.connect_again_with(|c| c.request_timeout = Duration::from_secs(1)).await;
            let alice = strict.signup("Acme").await;
            let first = futures::stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b"{\"name\": \"Sl")) });
            let body = Body::from_stream(first.chain(futures::stream::pending()));
            let request = axum::http::Request::post("/api/customers")
                .header("authorization", format!("Bearer {}", alice.access))
                .header("content-type", "application/json")
                .body(body)
                .unwrap();
            let started = std::time::Instant::now();
            let response = strict.router.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers().get("connection").unwrap(), "close");
            assert!(started.elapsed() < Duration::from_secs(20), "abandoned at the configured limit, not the default 30 s");
            let list = strict.get("/api/customers", &alice.auth()).await;
            assert_eq!(list.body["count"], json!(0));
        }
    }
}
