//! Response headers every answer carries (issue 13, item 7): `X-Content-Type-Options: nosniff`
//! on every response, fallbacks and early answers included; `Cache-Control: no-store` on every
//! answer of the account, token and tenant routes (success and error alike), and not on the
//! public, cacheable ones.

use serde_json::json;
use tests::*;

both_backends! {
    async fn every_answer_is_nosniff_and_private_ones_are_no_store(app: TestApp) {
        let a = app.signup("Acme").await;
        let created = app.create("/api/customers", &a.auth(), json!({"name": "Ann", "email": "ann@acme.test"})).await;
        let id = created["id"].as_str().unwrap().to_string();
        let private = [
            ("POST", "/api/auth/token".to_string(), Auth::none(), Some(json!({"email": a.email, "password": PASSWORD}))),
            ("POST", "/api/auth/token".to_string(), Auth::none(), Some(json!({"email": a.email, "password": "wrong-password"}))),
            ("GET", "/api/me".to_string(), a.auth(), None),
            ("GET", "/api/me".to_string(), Auth::none(), None),
            ("GET", "/api/customers".to_string(), a.auth(), None),
            ("GET", format!("/api/customers/{id}"), a.auth(), None),
            ("GET", format!("/api/customers/{id}/"), a.auth(), None),
            ("GET", format!("/api/customers/{}", uuid::Uuid::now_v7()), a.auth(), None),
            ("POST", "/api/customers".to_string(), a.auth(), Some(json!({"name": ""}))),
            ("GET", "/api/members".to_string(), a.in_company_raw("not-a-uuid"), None),
        ];
        for (method, path, auth, body) in private {
            let r = app.request(method, &path, &auth, body).await;
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{method} {path} ({})", r.status);
            assert_eq!(r.header("cache-control"), Some("no-store"), "{method} {path} ({})", r.status);
        }
        for (method, path) in [("GET", "/healthz"), ("GET", "/api/openapi.json"), ("GET", "/nowhere"), ("DELETE", "/api/openapi.json")] {
            let r = app.request(method, path, &Auth::none(), None).await;
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{method} {path} ({})", r.status);
            assert_eq!(r.header("cache-control"), None, "{method} {path} ({}) is public", r.status);
        }
    }
}

both_backends! {
    async fn a_host_that_is_not_allowed_is_refused_before_anything_runs(app: TestApp) {
        let a = app.signup("Acme").await;
        let token = a.access.clone();
        let bearer = format!("Bearer {token}");
        let routes = [("GET", "/api/customers"), ("GET", "/api/me"), ("GET", "/healthz"), ("GET", "/nowhere"), ("POST", "/api/auth/token")];
        for host in ["evil.example", "localhost.evil.example:8080", "127.0.0.1:80:80", "bad host"] {
            for (method, path) in routes {
                let r = app.send(method, path, &[("host", host), ("authorization", &bearer)], None).await;
                assert_eq!((r.status, &r.body), (400, &json!({"detail": "Invalid Host header."})), "{method} {path} Host: {host}");
            }
        }
        // Nothing ran: no customer was created through a refused host.
        let body = serde_json::to_vec(&json!({"name": "Eve", "email": "eve@acme.test"})).unwrap();
        let headers = [("host", "evil.example"), ("authorization", bearer.as_str()), ("content-type", "application/json")];
        app.send("POST", "/api/customers", &headers, Some(body)).await.assert_status(400);
        assert_eq!(app.get("/api/customers", &a.auth()).await.body["count"], 0);

        // The development hosts are allowed, with any port, and the links use the host.
        for _ in 0..3 {
            app.create("/api/customers", &a.auth(), json!({"name": "C", "email": format!("{}@acme.test", uuid::Uuid::now_v7())})).await;
        }
        for host in ["localhost", "127.0.0.1:8080", "[::1]:3000"] {
            let r = app.send("GET", "/api/customers?page_size=1", &[("host", host), ("authorization", &bearer)], None).await;
            assert_eq!(r.status, 200, "Host: {host}: {}", r.text);
            assert_eq!(r.body["next"], json!(format!("http://{host}/api/customers?page_size=1&page=2")));
        }

        // ALLOWED_HOSTS replaces them; PUBLIC_BASE_URL writes the links whatever the host.
        let configured = app
            .connect_again_with(|config| {
                config.allowed_hosts = Some(vec![".example.com".into()]);
                config.public_base_url = Some("https://api.example.com/v1".into());
            })
            .await;
        let r = configured.send("GET", "/api/customers?page_size=1", &[("host", "localhost"), ("authorization", &bearer)], None).await;
        assert_eq!(r.status, 400, "localhost is no longer allowed");
        let r = configured.send("GET", "/api/customers?page_size=1", &[("host", "eu.example.com"), ("authorization", &bearer)], None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["next"], json!("https://api.example.com/v1/api/customers?page_size=1&page=2"));
    }
}
