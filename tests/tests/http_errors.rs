//! The framework's error answers on the demo's routes: routing, bodies, authentication on
//! resources, health, and an unreachable database.

use serde_json::{Value, json};
use tests::demo::*;
use tests::*;

const MIB: usize = 1024 * 1024;

#[track_caller]
fn assert_json_detail(r: &Resp, status: u16) {
    r.assert_status(status);
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("application/json"), "{status} is JSON, got content-type {ct:?}: {}", r.text);
    r.assert_detail();
}

both_backends! {
    async fn healthz(app: TestApp) {
        let r = app.get("/healthz", &Auth::None).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"status": "ok"}));
        app.get("/healthz/", &Auth::None).await.assert_status(200);
    }

    async fn unknown_route_is_a_json_404(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        for path in ["/nope", "/api/nope", "/api/customers/x/y", "/api", "/api/customerz"] {
            let r = app.get(path, &a).await;
            assert_json_detail(&r, 404);
            let r = app.get(path, &Auth::None).await;
            assert_eq!(r.status, 404, "{path} without a token: {}", r.text);
        }
    }

    async fn method_not_allowed_is_a_json_405(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let item = format!("/api/customers/{}", id_of(&c));
        for (method, path) in [
            ("DELETE", "/api/customers"),
            ("PUT", "/api/customers"),
            ("PATCH", "/api/products"),
            ("POST", item.as_str()),
            ("POST", "/healthz"),
        ] {
            let mut headers = vec![("content-type", "application/json")];
            let bearer = match &a {
                Auth::Bearer(t) => format!("Bearer {t}"),
                _ => unreachable!(),
            };
            headers.push(("authorization", bearer.as_str()));
            let r = app.send(method, path, &headers, Some(b"{}".to_vec())).await;
            assert_json_detail(&r, 405);
        }
        // Nothing was deleted by the refused DELETE.
        assert_eq!(app.get("/api/customers", &a).await.body["count"], json!(1));
    }

    async fn trailing_slash_is_accepted(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let r = app.post("/api/customers/", &a, customer_body("slash")).await;
        r.assert_status(201);
        let id = r.id();
        let location = r.header("location").unwrap();
        assert!(!location.ends_with('/'), "Location has no trailing slash: {location}");
        app.get("/api/customers/", &a).await.assert_status(200);
        let r = app.get(&format!("/api/customers/{id}/"), &a).await;
        r.assert_status(200);
        assert_eq!(r.id(), id);
        app.patch(&format!("/api/customers/{id}/"), &a, json!({"notes": "n"})).await.assert_status(200);
        let put = put_body(&app, &a, "customers").await;
        app.put(&format!("/api/customers/{id}/"), &a, put).await.assert_status(200);
        let r = app.get("/api/customers/?ordering=-name", &a).await;
        r.assert_status(200);
        app.delete(&format!("/api/customers/{id}/"), &a).await.assert_status(204);
    }

    async fn body_not_json_is_415(app: TestApp) {
        let a = app.signup("Acme").await;
        let bearer = format!("Bearer {}", a.access);
        let c = customer(&app, &a.auth()).await;
        let item = format!("/api/customers/{}", id_of(&c));
        let body = serde_json::to_vec(&customer_body("ct")).unwrap();
        for (method, path) in [("POST", "/api/customers"), ("PUT", item.as_str()), ("PATCH", item.as_str())] {
            for ct in [Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("multipart/form-data; boundary=x"), None] {
                let mut headers = vec![("authorization", bearer.as_str())];
                if let Some(ct) = ct {
                    headers.push(("content-type", ct));
                }
                let r = app.send(method, path, &headers, Some(body.clone())).await;
                assert_eq!(r.status, 415, "{method} {path} with content-type {ct:?}: {}", r.text);
                r.assert_detail();
            }
        }
        // With a charset parameter it is JSON.
        let r = app
            .send(
                "POST",
                "/api/customers",
                &[("authorization", bearer.as_str()), ("content-type", "application/json; charset=utf-8")],
                Some(body.clone()),
            )
            .await;
        r.assert_status(201);
        assert_eq!(app.get("/api/customers", &a.auth()).await.body["count"], json!(2));
    }

    async fn body_over_1_mib_is_413(app: TestApp) {
        let a = app.signup("Acme").await;
        let bearer = format!("Bearer {}", a.access);
        let c = customer(&app, &a.auth()).await;
        let item = format!("/api/customers/{}", id_of(&c));
        // A syntactically valid JSON object just over the limit.
        let mut big = br#"{"name": "Big", "email": "big@example.com", "notes": ""#.to_vec();
        big.extend(std::iter::repeat_n(b'x', MIB));
        big.extend(br#""}"#);
        assert!(big.len() > MIB);
        for (method, path) in [("POST", "/api/customers"), ("PUT", item.as_str()), ("PATCH", item.as_str())] {
            let r = app
                .send(method, path, &[("authorization", bearer.as_str()), ("content-type", "application/json")], Some(big.clone()))
                .await;
            assert_json_detail(&r, 413);
        }
        // Just under the limit is accepted (notes have no length limit).
        let mut ok = br#"{"name": "Big", "email": "big@example.com", "notes": ""#.to_vec();
        let room = MIB - ok.len() - 2;
        ok.extend(std::iter::repeat_n(b'x', room));
        ok.extend(br#""}"#);
        assert_eq!(ok.len(), MIB);
        let r = app
            .send("POST", "/api/customers", &[("authorization", bearer.as_str()), ("content-type", "application/json")], Some(ok))
            .await;
        r.assert_status(201);
        assert_eq!(r.body["notes"].as_str().unwrap().len(), room);
    }

    async fn malformed_json_is_400_detail(app: TestApp) {
        let a = app.signup("Acme").await;
        let bearer = format!("Bearer {}", a.access);
        let c = customer(&app, &a.auth()).await;
        let item = format!("/api/customers/{}", id_of(&c));
        let bodies: [&[u8]; 9] = [b"{", b"{\"name\": }", b"not json", b"", b"[]", b"[{\"name\": \"x\"}]", b"\"a string\"", b"42", b"null"];
        for (method, path) in [("POST", "/api/customers"), ("PUT", item.as_str()), ("PATCH", item.as_str())] {
            for body in bodies {
                let r = app
                    .send(method, path, &[("authorization", bearer.as_str()), ("content-type", "application/json")], Some(body.to_vec()))
                    .await;
                assert_eq!(r.status, 400, "{method} {path} {:?}: {}", String::from_utf8_lossy(body), r.text);
                r.assert_detail();
            }
        }
        // Invalid UTF-8 inside a string.
        let r = app
            .send(
                "POST",
                "/api/customers",
                &[("authorization", bearer.as_str()), ("content-type", "application/json")],
                Some(b"{\"name\": \"\xff\xfe\", \"email\": \"u@example.com\"}".to_vec()),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(app.get("/api/customers", &a.auth()).await.body["count"], json!(1), "nothing was created");
    }

    async fn resources_require_a_valid_access_token(app: TestApp) {
        let alice = app.signup("Acme").await;
        let c = customer(&app, &alice.auth()).await;
        let item = format!("/api/customers/{}", id_of(&c));
        let forged = {
            // Alice's token with its signature replaced.
            let mut parts: Vec<&str> = alice.access.split('.').collect();
            assert_eq!(parts.len(), 3, "the access token is a JWT");
            parts[2] = "c2lnbmF0dXJl";
            parts.join(".")
        };
        for auth in [
            Auth::None,
            Auth::bearer("garbage"),
            Auth::bearer(""),
            Auth::bearer(forged),
            Auth::bearer(alice.refresh.clone()), // a refresh token is not an access token
        ] {
            for r in [
                app.get("/api/customers", &auth).await,
                app.post("/api/customers", &auth, customer_body("x")).await,
                app.get(&item, &auth).await,
                app.put(&item, &auth, customer_body("y")).await,
                app.patch(&item, &auth, json!({"name": "hacked"})).await,
                app.delete(&item, &auth).await,
            ] {
                assert_eq!(r.status, 401, "{auth:?}: {}", r.text);
                r.assert_detail();
                let www = r.header("www-authenticate").unwrap_or("");
                assert!(www.starts_with("Bearer"), "WWW-Authenticate: Bearer, got {www:?}");
            }
        }
        // Other schemes are refused too.
        let r = app.send("GET", "/api/customers", &[("authorization", &format!("Basic {}", alice.access))], None).await;
        r.assert_status(401);
        let got = app.get(&item, &alice.auth()).await;
        assert_eq!(got.body, c, "unchanged by the refused requests");
        assert_eq!(app.get("/api/customers", &alice.auth()).await.body["count"], json!(1));
    }

    async fn database_unreachable_is_503_without_internals(app: TestApp) {
        let alice = app.signup("Acme").await;
        let c = customer(&app, &alice.auth()).await;
        let item = format!("/api/customers/{}", id_of(&c));
        app.db.close().await;
        let mut answers = vec![
            app.get("/healthz", &Auth::None).await,
            app.get("/api/customers", &alice.auth()).await,
            app.get(&item, &alice.auth()).await,
            app.post("/api/customers", &alice.auth(), customer_body("down")).await,
            app.patch(&item, &alice.auth(), json!({"name": "x"})).await,
            app.delete(&item, &alice.auth()).await,
        ];
        answers.push(
            app.post("/api/auth/token", &Auth::None, json!({"email": alice.email, "password": alice.password})).await,
        );
        for r in &answers {
            assert_json_detail(r, 503);
            let lower = r.text.to_lowercase();
            for needle in ["select", "insert", "update ", "delete from", "sqlx", "postgres", "sqlite", "pool", "panicked", "error:", "secret"] {
                assert!(!lower.contains(needle), "503 body leaks {needle:?}: {}", r.text);
            }
            assert!(!r.text.contains(&app.database_url), "503 body leaks the database URL");
        }
    }

    async fn error_bodies_never_leak_sql(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        let inv = app.create("/api/invoices", &a, invoice_body(&id_of(&c), "1")).await;
        let mut answers: Vec<Resp> = Vec::new();
        // 409 on a dependant, 409 on a duplicate, 400 on a bad reference, 400 on odd query input.
        answers.push(app.delete(&format!("/api/customers/{}", id_of(&c)), &a).await);
        answers.push(app.post("/api/customers", &a, json!({"name": "d", "email": c["email"]})).await);
        answers.push(app.post("/api/invoices", &a, invoice_body(&uuid::Uuid::now_v7().to_string(), "2")).await);
        answers.push(app.post("/api/invoices", &a, json!({"customer_id": c["id"], "number": inv["number"], "amount_cents": 1})).await);
        answers.push(app.get("/api/customers?ordering=name%3B%20DROP%20TABLE%20customers", &a).await);
        answers.push(app.get("/api/invoices?customer_id=%27%20OR%20%271%27%3D%271", &a).await);
        for r in &answers {
            assert!(r.status == 400 || r.status == 409, "{} {}", r.status, r.text);
            let lower = r.text.to_lowercase();
            for needle in ["select ", "insert ", "constraint", "sqlx", "sqlite", "postgres", "violat", "foreign key", "_key", "unique constraint"] {
                assert!(!lower.contains(needle), "error body leaks {needle:?}: {}", r.text);
            }
        }
        // Still intact.
        assert_eq!(app.get("/api/customers", &a).await.body["count"], json!(1));
    }

    async fn responses_are_json(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let c = customer(&app, &a).await;
        for r in [
            app.get("/api/customers", &a).await,
            app.get(&format!("/api/customers/{}", id_of(&c)), &a).await,
            app.post("/api/customers", &a, customer_body("j")).await,
            app.patch(&format!("/api/customers/{}", id_of(&c)), &a, json!({})).await,
        ] {
            let ct = r.header("content-type").unwrap_or("");
            assert!(ct.starts_with("application/json"), "content-type {ct:?}");
            assert_ne!(r.body, Value::Null);
        }
    }
}

/// Outages of a real PostgreSQL server (SQLite has no server to lose: see
/// `database_unreachable_is_503_without_internals` for the closed-pool case on both).
mod postgres_outages {
    use std::time::{Duration, Instant};

    use sqlx::Connection;

    use super::*;

    #[track_caller]
    fn assert_no_internals(r: &Resp, app: &TestApp) {
        let lower = r.text.to_lowercase();
        for needle in ["select", "sqlx", "postgres", "pool", "error:", "127.0.0.1", "connection refused", "os error"] {
            assert!(!lower.contains(needle), "body leaks {needle:?}: {}", r.text);
        }
        assert!(!r.text.contains(&app.database_url));
    }

    #[tokio::test]
    async fn server_gone_is_503() {
        let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
        let alice = app.signup("Acme").await;
        let c = customer(&app, &alice.auth()).await;
        let item = format!("/api/customers/{}", id_of(&c));
        // A second app reaching the same database through a proxy that we can cut.
        let (upstream, _) = proxy::reroute(&app.database_url, "127.0.0.1:1".parse().unwrap());
        let proxy = proxy::TcpProxy::start(upstream).await;
        let (_, url) = proxy::reroute(&app.database_url, proxy.addr);
        let cut_off = app.connect_again(&url).await;
        cut_off.get("/api/customers", &alice.auth()).await.assert_status(200);
        cut_off.get("/healthz", &Auth::None).await.assert_status(200);

        proxy.cut();
        let started = Instant::now();
        let answers = tokio::time::timeout(
            Duration::from_secs(60),
            futures::future::join_all([
                cut_off.request("GET", "/healthz", &Auth::None, None),
                cut_off.request("GET", "/api/customers", &alice.auth(), None),
                cut_off.request("GET", &item, &alice.auth(), None),
                cut_off.request("POST", "/api/customers", &alice.auth(), Some(customer_body("down"))),
                cut_off.request("PATCH", &item, &alice.auth(), Some(json!({"name": "x"}))),
            ]),
        )
        .await
        .expect("an unreachable database is answered within a minute, not hung on");
        for r in &answers {
            assert_json_detail(r, 503);
            assert_no_internals(r, &cut_off);
        }
        eprintln!("503s took {:?}", started.elapsed());
        // The direct app is unaffected, and nothing was written.
        let got = app.get(&item, &alice.auth()).await;
        assert_eq!(got.body, c);
    }

    #[tokio::test]
    async fn terminated_connections_are_replaced() {
        // A server restart or failover kills every pooled connection; the next requests must
        // succeed on fresh connections, not fail with a 500 each until the pool has cycled.
        let Some(app) = TestApp::for_app(Backend::Postgres, demo_app::register).await else { return };
        let alice = app.signup("Acme").await;
        let c = customer(&app, &alice.auth()).await;
        // Warm several pooled connections.
        let warm = futures::future::join_all((0..5).map(|_| app.get("/api/customers", &alice.auth()))).await;
        for r in &warm {
            r.assert_status(200);
        }
        let mut admin = sqlx::PgConnection::connect(&app.postgres_admin_url().unwrap()).await.unwrap();
        let killed: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(app.postgres_database_name().unwrap())
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(!killed.is_empty(), "the app had connections to terminate");
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..2 {
            let answers = futures::future::join_all(vec![
                app.get("/api/customers", &alice.auth()),
                app.get(&format!("/api/customers/{}", id_of(&c)), &alice.auth()),
                app.get("/healthz", &Auth::None),
                app.get("/api/products", &alice.auth()),
                app.get("/api/invoices", &alice.auth()),
            ])
            .await;
            for r in &answers {
                assert_eq!(r.status, 200, "after the connections were terminated: {}", r.text);
            }
        }
        admin.close().await.unwrap();
    }
}
