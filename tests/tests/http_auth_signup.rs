//! Sign-up (API.md, "Auth"): what it creates, its validation (Django's password validators
//! included), taken emails, and the bounds on credential endpoints (hashing, throttles).

use serde_json::json;
use tests::checks::*;
use tests::*;

both_backends! {
    async fn signup_creates_user_company_admin_membership_and_default(app: TestApp) {
        let r = app
            .post(
                "/api/auth/signup",
                &Auth::None,
                json!({"email": "  Alice@Example.COM ", "password": PASSWORD, "company_name": "  Acme  ", "id": "ignored"}),
            )
            .await;
        r.assert_status(201);
        assert_keys(&r.body, &["user", "company", "access", "refresh"]);
        let (user, company) = (&r.body["user"], &r.body["company"]);
        assert_keys(user, &["id", "email", "email_verified", "default_company_id"]);
        assert_eq!(user["email_verified"], false, "a new address is unverified until its token comes back");
        assert_keys(company, &["id", "name", "created_at", "role"]);
        assert_eq!(user["email"], "alice@example.com", "emails are trimmed and stored lower-case");
        assert_eq!(uuid_of(&user["id"]).get_version_num(), 7);
        assert_eq!(uuid_of(&company["id"]).get_version_num(), 7);
        assert_eq!(user["default_company_id"], company["id"]);
        assert_eq!(company["name"], "Acme");
        assert_eq!(company["role"], "admin");
        assert_rfc3339_utc(&company["created_at"]);

        let access = Auth::bearer(r.body["access"].as_str().unwrap());
        let me = me(&app, &access).await;
        assert_eq!(
            me,
            json!({
                "id": user["id"], "email": "alice@example.com", "email_verified": false, "default_company_id": company["id"],
                "active_company_id": company["id"],
                "memberships": [{"company_id": company["id"], "company_name": "Acme", "role": "admin"}],
            })
        );
        // The company as listed later is the company answered at signup, to the microsecond.
        let companies = app.get("/api/companies", &access).await;
        companies.assert_status(200);
        assert_eq!(companies.body, json!([company]));
        let members = app.get("/api/members", &access).await;
        members.assert_status(200);
        assert_eq!(members.body, json!([{"user_id": user["id"], "email": "alice@example.com", "role": "admin"}]));
    }

    async fn signup_validates_every_field_at_once(app: TestApp) {
        let r = app.post("/api/auth/signup", &Auth::None, json!({})).await;
        let required = json!(["This field is required."]);
        assert_errors(&r, json!({"email": required, "password": required, "company_name": required}));

        let r = app
            .post("/api/auth/signup", &Auth::None, json!({"email": "nope", "password": "xq9#zkw", "company_name": "  "}))
            .await;
        assert_errors(
            &r,
            json!({
                "email": ["Enter a valid email address."],
                "password": ["This password is too short. It must contain at least 8 characters."],
                "company_name": ["This field may not be blank."],
            }),
        );

        let r = app
            .post(
                "/api/auth/signup",
                &Auth::None,
                json!({"email": null, "password": 12345678, "company_name": "x".repeat(201)}),
            )
            .await;
        assert_errors(
            &r,
            json!({
                "email": ["This field may not be null."],
                "password": ["Not a valid string."],
                "company_name": ["Ensure this field has no more than 200 characters."],
            }),
        );

        // The boundaries themselves are accepted.
        let r = app
            .post(
                "/api/auth/signup",
                &Auth::None,
                json!({"email": "edge@example.com", "password": "8 chars!", "company_name": "é".repeat(200)}),
            )
            .await;
        r.assert_status(201);

        // Bodies that are not a JSON object.
        let r = app.send("POST", "/api/auth/signup", &[("content-type", "text/plain")], Some(b"hi".to_vec())).await;
        r.assert_status(415);
        r.assert_detail();
        let r = app.send("POST", "/api/auth/signup", &[("content-type", "application/json")], Some(b"{".to_vec())).await;
        r.assert_status(400);
        r.assert_detail();
        let r = app.post("/api/auth/signup", &Auth::None, json!(["a"])).await;
        r.assert_status(400);
        r.assert_detail();
    }

    async fn signup_with_a_taken_email_is_409_whatever_its_case(app: TestApp) {
        signup_raw(&app, "bob@example.com", "First").await.assert_status(201);
        let r = signup_raw(&app, " BOB@Example.com", "Second").await;
        r.assert_status(409);
        assert_eq!(r.body, json!({"email": ["A user with this email already exists."]}));

        // The refused signup left nothing behind: Bob still has exactly one company.
        let t = app.post("/api/auth/token", &Auth::None, json!({"email": "bob@example.com", "password": PASSWORD})).await;
        t.assert_status(200);
        let companies = app.get("/api/companies", &Auth::bearer(t.body["access"].as_str().unwrap())).await;
        assert_eq!(companies.body.as_array().unwrap().len(), 1, "{}", companies.text);
        assert_eq!(companies.body[0]["name"], "First");
    }

    async fn simultaneous_signups_with_one_email_create_one_user(app: TestApp) {
        let (a, b) = tokio::join!(signup_raw(&app, "race@example.com", "A"), signup_raw(&app, "Race@example.com", "B"));
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "a: {} / b: {}", a.text, b.text);
        let conflict = if a.status == 409 { &a } else { &b };
        assert_eq!(conflict.body, json!({"email": ["A user with this email already exists."]}));
    }

    async fn signup_applies_djangos_password_validators(app: TestApp) {
        // API.md: 8 to 1024 characters; not too common, entirely numeric or similar to the email.
        let signup = |email: &str, password: String| {
            app.post("/api/auth/signup", &Auth::None, json!({"email": email, "password": password, "company_name": "Acme"}))
        };
        let common = "This password is too common.";
        for (email, password, messages) in [
            ("a1@example.com", "12345678".to_string(), vec![common, "This password is entirely numeric."]),
            ("a2@example.com", "aaaaaaaa".to_string(), vec![common]),
            ("a3@example.com", "password".to_string(), vec![common]),
            ("a4@example.com", "Password1".to_string(), vec![common]),
            ("john.smith@example.com", "example1".to_string(), vec!["The password is too similar to the email address."]),
            ("a5@example.com", "x".repeat(1025), vec!["Ensure this field has no more than 1024 characters."]),
            ("a6@example.com", "é".repeat(400_000), vec!["Ensure this field has no more than 1024 characters."]),
        ] {
            let r = signup(email, password).await;
            assert_eq!(r.status, 400, "{email}: {}", r.text);
            assert_eq!(r.body["password"], json!(messages), "{email}: {}", r.text);
        }
        // Nothing was created; a sound password at the bounds is accepted.
        signup("a1@example.com", "w1d3-awake".to_string()).await.assert_status(201);
        signup("a5@example.com", "qz".repeat(512)).await.assert_status(201);
        // A password longer than any sign-up accepts cannot log in, and costs no hashing.
        let r = app.post("/api/auth/token", &Auth::None, json!({"email": "a5@example.com", "password": "q".repeat(1024 * 1024 - 100)})).await;
        r.assert_status(401);
        let r = app.post("/api/auth/token", &Auth::None, json!({"email": "a5@example.com", "password": "qz".repeat(512)})).await;
        r.assert_status(200);
    }

    async fn a_burst_of_logins_is_bounded_never_an_error(app: TestApp) {
        // API.md: hashing runs with bounded concurrency; beyond the bound, 503 with Retry-After.
        let alice = app.signup("Acme").await;
        let attempts = (0..120).map(|i| {
            app.post("/api/auth/token", &Auth::None, json!({"email": alice.email, "password": format!("wrong-{i}")}))
        });
        let answers = futures::future::join_all(attempts).await;
        let mut busy = 0;
        for r in &answers {
            match r.status {
                401 => {}
                503 => {
                    busy += 1;
                    assert_eq!(r.header("retry-after"), Some("1"), "{}", r.text);
                    r.assert_detail();
                }
                other => panic!("a login answered {other}: {}", r.text),
            }
        }
        assert!(busy > 0, "120 simultaneous logins exceed the workers and their queue of 32");
        // The burst leaves nothing behind: the next login is served.
        let r = app.post("/api/auth/token", &Auth::None, json!({"email": alice.email, "password": alice.password})).await;
        r.assert_status(200);
    }

    async fn credential_endpoints_are_throttled_per_address_and_per_account(app: TestApp) {
        use axum::extract::connect_info::MockConnectInfo;
        use tower::ServiceExt;
        let alice = app.signup("Acme").await;
        // The production defaults: 30 attempts a minute per address, 10 per account.
        let defaults = tenant_core::Config::new("sqlite::memory:");
        let strict = app
            .connect_again_with(|c| {
                c.throttle_auth_address = defaults.throttle_auth_address;
                c.throttle_auth_account = defaults.throttle_auth_account;
            })
            .await;
        // Per account: the 11th login naming alice within a minute is a 429, right or wrong
        // password, whoever sends it; another account is not affected.
        // (GCRA: a burst of 10, then one more every 6 s, so a slow run may fit a few more.)
        let mut allowed = 0;
        let r = loop {
            let r = strict.post("/api/auth/token", &Auth::None, json!({"email": alice.email, "password": format!("guess-{allowed}")})).await;
            if r.status != 401 {
                break r;
            }
            allowed += 1;
            assert!(allowed < 15, "per-account throttle never applied");
        };
        r.assert_status(429);
        assert!(allowed >= 10, "the burst of 10 is allowed: {allowed}");
        let r = strict.post("/api/auth/token", &Auth::None, json!({"email": alice.email.to_uppercase(), "password": alice.password})).await;
        r.assert_status(429);
        let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(r.body["detail"], json!(format!("Request was throttled. Expected available in {wait} seconds.")));
        let r = strict.post("/api/auth/signup", &Auth::None, json!({"email": alice.email, "password": PASSWORD, "company_name": "X"})).await;
        r.assert_status(429);
        let bob = strict.signup("Bob Co").await;
        strict.post("/api/auth/token", &Auth::None, json!({"email": bob.email, "password": bob.password})).await.assert_status(200);

        // Per client address (the app served with connect info): the 31st attempt from one
        // address is a 429, whatever the accounts; another address goes on.
        let from = |ip: [u8; 4]| strict.router.clone().layer(MockConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        let login = |email: String| {
            axum::http::Request::post("/api/auth/token")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(json!({"email": email, "password": "nope-nope-nope"}).to_string()))
                .unwrap()
        };
        // (A burst of 30, then one more every 2 s.)
        let mut allowed = 0;
        let r = loop {
            let r = from([10, 0, 0, 1]).oneshot(login(format!("nobody-{allowed}@example.com"))).await.unwrap();
            if r.status() != 401 {
                break r;
            }
            allowed += 1;
            assert!(allowed < 45, "per-address throttle never applied");
        };
        assert_eq!(r.status(), 429);
        assert!(allowed >= 30, "the burst of 30 is allowed: {allowed}");
        assert!(r.headers().contains_key("retry-after"));
        let r = from([10, 0, 0, 2]).oneshot(login("someone@example.com".into())).await.unwrap();
        assert_eq!(r.status(), 401);
    }
}

mod behind_a_proxy {
    use super::*;

    both_backends! {
        /// With `TRUSTED_PROXIES`, clients behind the proxy are throttled one by one (by their
        /// `X-Forwarded-For` address), and a client that reaches the app directly cannot choose
        /// its bucket with the header.
        async fn throttles_count_the_forwarded_client_of_a_trusted_proxy_only(app: TestApp) {
            use axum::extract::connect_info::MockConnectInfo;
            use tower::ServiceExt;
            let strict = app
                .connect_again_with(|c| {
                    c.throttle_auth_address = "2/min".parse().unwrap();
                    c.trusted_proxies = tenant_core::config::parse_trusted_proxies("10.0.0.0/8").unwrap();
                })
                .await;
            let from = |peer: [u8; 4]| strict.router.clone().layer(MockConnectInfo(std::net::SocketAddr::from((peer, 40000))));
            let login = |forwarded: &str| {
                axum::http::Request::post("/api/auth/token")
                    .header("content-type", "application/json")
                    .header("x-forwarded-for", forwarded)
                    .body(axum::body::Body::from(json!({"email": "nobody@example.com", "password": "nope-nope-nope"}).to_string()))
                    .unwrap()
            };
            let status = |r: axum::response::Response| r.status().as_u16();
            // Client A, through the proxy: two attempts, then 429 (whatever A writes to the left).
            let proxy = [10, 0, 0, 1];
            assert_eq!(status(from(proxy).oneshot(login("203.0.113.5")).await.unwrap()), 401);
            assert_eq!(status(from(proxy).oneshot(login("6.6.6.6, 203.0.113.5")).await.unwrap()), 401);
            assert_eq!(status(from(proxy).oneshot(login("7.7.7.7, 203.0.113.5")).await.unwrap()), 429);
            // Client B, through the same proxy (and a second one), has its own count.
            assert_eq!(status(from(proxy).oneshot(login("203.0.113.6, 10.0.0.2")).await.unwrap()), 401);
            // A client that is not a proxy: its header is ignored, its own address counts.
            let direct = [198, 51, 100, 7];
            assert_eq!(status(from(direct).oneshot(login("1.0.0.1")).await.unwrap()), 401);
            assert_eq!(status(from(direct).oneshot(login("1.0.0.2")).await.unwrap()), 401);
            assert_eq!(status(from(direct).oneshot(login("1.0.0.3")).await.unwrap()), 429);
        }
    }
}
