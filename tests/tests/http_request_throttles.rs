//! Per-user and per-company request throttles (issue 13, item 3; API.md's 429 row): past
//! `THROTTLE_USER` a user is refused, past `THROTTLE_COMPANY` the company's users are refused
//! together, with `Retry-After` and DRF's body; a refused request changes nothing, and nobody
//! can spend another company's allowance.

use serde_json::json;
use tests::*;

/// A 429 as API.md describes it, with DRF's wording and a `Retry-After` in whole seconds.
#[track_caller]
fn assert_throttled(r: &Resp) {
    assert_eq!(r.status, 429, "{}", r.text);
    let wait: u64 = r.header("retry-after").expect("Retry-After").parse().expect("whole seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.body, json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")}));
}

both_backends! {
    async fn a_user_past_their_rate_is_throttled_on_every_authenticated_route(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        app.add_member(&alice, &bob, "staff").await;
        let app = app
            .connect_again_with(|c| {
                c.throttle_user = Some("3/min".parse().unwrap());
                c.throttle_company = None;
            })
            .await;
        app.get("/api/me", &alice.auth()).await.assert_status(200);
        app.get("/api/customers", &alice.auth()).await.assert_status(200);
        app.get("/api/companies", &alice.auth()).await.assert_status(200);
        // The fourth, whatever the route: the user's count is one.
        for path in ["/api/customers", "/api/me", "/api/members"] {
            assert_throttled(&app.get(path, &alice.auth()).await);
        }
        // A throttled write stores nothing.
        let r = app.post("/api/customers", &alice.auth(), json!({"name": "Ann", "email": "ann@acme.test"})).await;
        assert_throttled(&r);
        // Bob, in the same company, has his own allowance.
        let r = app.get("/api/customers", &bob.in_company(alice.company_id)).await;
        r.assert_status(200);
        assert_eq!(r.body["count"], 0, "the throttled create wrote nothing");
        // Not counted before authentication: an anonymous request is a 401, not a 429.
        app.get("/api/customers", &Auth::None).await.assert_status(401);
    }

    async fn a_company_past_its_rate_is_throttled_for_all_its_users(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let eve = app.signup("Evilcorp").await;
        app.add_member(&alice, &bob, "staff").await;
        let app = app
            .connect_again_with(|c| {
                c.throttle_user = None;
                c.throttle_company = Some("4/min".parse().unwrap());
            })
            .await;
        // Eve names Acme in X-Company-Id: 403, and Acme's allowance is untouched.
        for _ in 0..10 {
            app.get("/api/customers", &eve.in_company(alice.company_id)).await.assert_status(403);
        }
        // Acme's users together: four requests, then both are refused.
        app.get("/api/customers", &alice.auth()).await.assert_status(200);
        app.get("/api/customers", &bob.in_company(alice.company_id)).await.assert_status(200);
        app.create("/api/customers", &alice.auth(), json!({"name": "Ann", "email": "ann@acme.test"})).await;
        app.get("/api/products", &bob.in_company(alice.company_id)).await.assert_status(200);
        assert_throttled(&app.get("/api/customers", &alice.auth()).await);
        let r = app.post("/api/customers", &bob.in_company(alice.company_id), json!({"name": "B", "email": "b@acme.test"})).await;
        assert_throttled(&r);
        // Switching users does not escape it; switching to one's own other company does, and
        // other companies are served as before.
        assert_throttled(&app.get("/api/members", &bob.in_company(alice.company_id)).await);
        let r = app.get("/api/customers", &bob.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body["count"], 0);
        app.get("/api/customers", &eve.auth()).await.assert_status(200);
        // Account routes not tied to a company count per user only.
        app.get("/api/me", &alice.auth()).await.assert_status(200);
    }

}

#[test]
fn the_settings_read_as_drf_rates_or_off() {
    {
        let read = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            tenant_core::Config::from_lookup(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        };
        let defaults = read(&[]).unwrap();
        assert_eq!(defaults.throttle_user, Some("1200/min".parse().unwrap()));
        assert_eq!(defaults.throttle_company, Some("6000/min".parse().unwrap()));
        let set = read(&[("THROTTLE_USER", "100/hour"), ("THROTTLE_COMPANY", "OFF")]).unwrap();
        assert_eq!(set.throttle_user, Some("100/hour".parse().unwrap()));
        assert_eq!(set.throttle_company, None);
        for (name, bad) in [("THROTTLE_USER", "fast"), ("THROTTLE_COMPANY", "0/min"), ("THROTTLE_USER", "")] {
            let err = read(&[(name, bad)]).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
