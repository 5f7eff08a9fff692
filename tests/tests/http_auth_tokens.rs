//! Tokens (API.md, "Auth"): login, refresh, the token checks every route makes (type,
//! signature, expiry, lifetime, a repeated header), and the 401 for a user that does not exist.

use serde_json::json;
use tenant_core::db::TxMode;
use tenant_core::{FieldType, Value as DbValue};
use tests::checks::*;
use tests::*;
use uuid::Uuid;

both_backends! {
    async fn token_issues_an_access_and_a_refresh_token(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app
            .post("/api/auth/token", &Auth::None, json!({"email": format!(" {} ", alice.email.to_uppercase()), "password": PASSWORD}))
            .await;
        r.assert_status(200);
        assert_keys(&r.body, &["access", "refresh"]);
        let access = r.body["access"].as_str().unwrap();
        let refresh = r.body["refresh"].as_str().unwrap();
        assert_eq!(me(&app, &Auth::bearer(access)).await["id"], json!(alice.id));

        // Lifetimes: 15 minutes and 7 days by default.
        let (a, rf) = (jwt_claims(access), jwt_claims(refresh));
        assert_eq!(a["sub"], json!(alice.id));
        assert_eq!(a["exp"].as_u64().unwrap() - a["iat"].as_u64().unwrap(), 15 * 60);
        assert_eq!(rf["exp"].as_u64().unwrap() - rf["iat"].as_u64().unwrap(), 7 * 24 * 3600);

        let r = app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": refresh})).await;
        r.assert_status(200);
    }

    async fn token_refuses_wrong_credentials_alike(app: TestApp) {
        let alice = app.signup("Acme").await;
        for body in [
            json!({"email": alice.email, "password": "wrong-password"}),
            json!({"email": "nobody@example.com", "password": PASSWORD}),
            json!({"email": "not an email", "password": PASSWORD}),
        ] {
            let r = app.post("/api/auth/token", &Auth::None, body.clone()).await;
            assert_401(&r);
            assert_eq!(r.body, json!({"detail": BAD_CREDENTIALS}), "for {body}");
        }
        let r = app.post("/api/auth/token", &Auth::None, json!({})).await;
        assert_errors(&r, json!({"email": ["This field is required."], "password": ["This field is required."]}));
        let r = app.post("/api/auth/token", &Auth::None, json!({"email": alice.email, "password": ""})).await;
        assert_errors(&r, json!({"password": ["This field may not be blank."]}));
    }

    async fn passwords_are_stored_with_argon2id(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mut tx = app.db.begin(TxMode::Read).await.unwrap();
        let row = tx
            .fetch_optional(
                "SELECT password_hash FROM users WHERE id = $1",
                &[DbValue::Uuid(Some(alice.id))],
                &[FieldType::Text],
            )
            .await
            .unwrap()
            .expect("the user row");
        tx.rollback().await.unwrap();
        let DbValue::Text(Some(hash)) = &row[0] else { panic!("{row:?}") };
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(PASSWORD));
    }

    async fn refresh_issues_a_new_access_and_refresh_token(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": alice.refresh})).await;
        r.assert_status(200);
        assert_keys(&r.body, &["access", "refresh"]);
        let access = r.body["access"].as_str().unwrap();
        assert_ne!(access, alice.access);
        assert_ne!(r.body["refresh"].as_str().unwrap(), alice.refresh);
        assert_eq!(me(&app, &Auth::bearer(access)).await["id"], json!(alice.id));
    }

    async fn invalid_tokens_are_401(app: TestApp) {
        let alice = app.signup("Acme").await;
        // Refresh: an access token, a forged token, garbage.
        let (signed, signature) = alice.refresh.rsplit_once('.').unwrap();
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{signed}.{first}{}", &signature[1..]);
        for token in [alice.access.as_str(), forged.as_str(), "garbage", "a.b.c"] {
            let r = app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": token})).await;
            assert_401(&r);
        }
        let r = app.post("/api/auth/token/refresh", &Auth::None, json!({})).await;
        assert_errors(&r, json!({"refresh": ["This field is required."]}));

        // Bearer: none, a refresh token, garbage, another scheme.
        assert_401(&app.get("/api/me", &Auth::None).await);
        assert_401(&app.get("/api/me", &Auth::bearer(alice.refresh.clone())).await);
        assert_401(&app.get("/api/companies", &Auth::bearer("garbage")).await);
        let basic = app.send("GET", "/api/me", &[("authorization", "Basic YTpi")], None).await;
        assert_401(&basic);
    }

    async fn a_repeated_authorization_header_is_401(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let (a, b) = (bearer(&alice), bearer(&bob));
        let pairs = [
            [a.clone(), a.clone()],
            [a.clone(), b.clone()],
            [b.clone(), a.clone()],
            [a.clone(), "Bearer garbage".to_string()],
            ["Bearer garbage".to_string(), a.clone()],
            [a.clone(), "Basic YTpi".to_string()],
            [String::new(), a.clone()],
        ];
        let customer = tests::demo::customer(&app, &alice.auth()).await;
        let objects = [("customers", tests::demo::id_of(&customer))];
        for pair in &pairs {
            for companies in [vec![], vec![alice.company_id.to_string()]] {
                for (method, path, body) in every_authenticated_route(&objects, bob.id) {
                    let r = send_with(&app, method, &path, pair, &companies, body).await;
                    let what = format!("{method} {path} with Authorization {pair:?}");
                    assert_eq!(r.status, 401, "{what}: {}", r.text);
                    assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}");
                    assert_eq!(
                        r.body,
                        json!({"detail": "Authorization was sent more than once: send one `Bearer <token>`."}),
                        "{what}"
                    );
                }
            }
        }
        // Nothing was written.
        assert_eq!(roles(&app, &alice.auth()).await, vec![(alice.id, "admin".to_string())]);
        assert_eq!(app.get("/api/companies", &alice.auth()).await.body.as_array().unwrap().len(), 1);
        assert_eq!(app.get(&format!("/api/customers/{}", objects[0].1), &alice.auth()).await.body, customer);
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(alice.company_id));
    }

    async fn a_token_of_a_user_that_never_existed_is_401_everywhere(app: TestApp) {
        let alice = app.signup("Acme").await;
        let objects: Vec<(&str, String)> =
            tests::demo::RESOURCES.iter().map(|r| (*r, Uuid::now_v7().to_string())).collect();
        // No header, a real company, one that does not exist, and a malformed one: whoever
        // the caller is not comes first.
        let companies = [alice.company_id.to_string(), Uuid::now_v7().to_string(), "not-a-uuid".to_string()];
        assert_user_not_found_everywhere(&app, Uuid::now_v7(), &objects, alice.id, &companies).await;
        assert_eq!(roles(&app, &alice.auth()).await, vec![(alice.id, "admin".to_string())]);
    }

    async fn a_token_of_a_deleted_user_is_401_everywhere(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        app.add_member(&alice, &bob, "admin").await;
        // Objects in Acme (which outlives Bob) and in Bob's own company (left without members).
        let mut objects = Vec::new();
        for resource in tests::demo::RESOURCES {
            for company in [alice.company_id, bob.company_id] {
                let obj = tests::demo::make(&app, &bob.in_company(company), resource).await;
                objects.push((resource, tests::demo::id_of(&obj)));
            }
        }
        // Bob's tokens work until his row goes.
        me(&app, &bob.auth()).await;
        app.get("/api/customers", &bob.in_company(alice.company_id)).await.assert_status(200);

        app.delete_user(bob.id).await;

        let companies = [alice.company_id.to_string(), bob.company_id.to_string(), "not-a-uuid".to_string()];
        assert_user_not_found_everywhere(&app, bob.id, &objects, alice.id, &companies).await;
        // The tokens the app itself issued to Bob are refused alike.
        for (method, path, body) in every_authenticated_route(&objects, alice.id) {
            let r = app.request(method, &path, &bob.auth(), body).await;
            assert_user_not_found(&r, &format!("{method} {path} with Bob's own token"));
        }
        let r = app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": bob.refresh})).await;
        assert_user_not_found(&r, "refresh with Bob's own token");
        // Alice is untouched, and Bob is gone from Acme's members; nothing of Acme's changed.
        assert_eq!(roles(&app, &alice.auth()).await, vec![(alice.id, "admin".to_string())]);
        for resource in tests::demo::RESOURCES {
            let r = app.get(&format!("/api/{resource}"), &alice.auth()).await;
            r.assert_status(200);
            let expected = if resource == "customers" { 2 } else { 1 }; // the invoice's own customer
            assert_eq!(r.body["count"], json!(expected), "{resource}");
        }
    }

    async fn a_token_living_longer_than_configured_is_401(app: TestApp) {
        // Signed with the right secret, but a lifetime the server never issues (15 minutes for
        // access tokens, 7 days for refresh tokens): refused like a forged one.
        let alice = app.signup("Acme").await;
        let day = std::time::Duration::from_secs(24 * 3600);
        let access = signed_token_living(alice.id, TokenType::Access, day);
        let r = app.get("/api/customers", &Auth::bearer(access)).await;
        r.assert_status(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        let r = app.get("/api/me", &Auth::bearer(signed_token_living(alice.id, TokenType::Access, day))).await;
        r.assert_status(401);
        let refresh = signed_token_living(alice.id, TokenType::Refresh, day * 30);
        app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": refresh})).await.assert_status(401);
        // Exactly the configured lifetime is what the server issues itself: accepted.
        let ok = signed_token_living(alice.id, TokenType::Access, std::time::Duration::from_secs(900));
        app.get("/api/customers", &Auth::bearer(ok)).await.assert_status(200);
    }
}
