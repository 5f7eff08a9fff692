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
