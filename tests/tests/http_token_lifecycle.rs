//! The refresh token's life (API.md, "Auth"; issue 13, item 2): rotation, reuse of a retired
//! token revoking its whole login, logout, password change, and the JWT attack set at the HTTP
//! boundary (alg `none`, another algorithm, another key, tampered parts, `exp`/`nbf` edges).

use serde_json::json;
use tests::checks::*;
use tests::*;

const REVOKED: &str = "Token has been revoked.";
const REUSED: &str = "Token has already been used: every token of this login is revoked.";

/// `POST /api/auth/token/refresh` with `token`.
async fn refresh(app: &TestApp, token: &str) -> Resp {
    app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": token})).await
}

/// Refreshes `token`, which must work; returns the new `(access, refresh)`.
async fn rotate(app: &TestApp, token: &str) -> (String, String) {
    let r = refresh(app, token).await;
    r.assert_status(200);
    assert_keys(&r.body, &["access", "refresh"]);
    (r.body["access"].as_str().unwrap().to_string(), r.body["refresh"].as_str().unwrap().to_string())
}

/// A second login of `user`: its own family.
async fn login(app: &TestApp, user: &User, password: &str) -> Resp {
    app.post("/api/auth/token", &Auth::None, json!({"email": user.email, "password": password})).await
}

#[track_caller]
fn assert_refused(r: &Resp, detail: &str) {
    assert_401(r);
    assert_eq!(r.body, json!({"detail": detail}), "{}", r.text);
}

both_backends! {
    async fn each_refresh_rotates_and_retires_the_token_sent(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (access, r2) = rotate(&app, &alice.refresh).await;
        assert_ne!(r2, alice.refresh);
        me(&app, &Auth::bearer(access)).await;
        let (_, r3) = rotate(&app, &r2).await;
        let (_, r4) = rotate(&app, &r3).await;
        assert_eq!(jwt_claims(&r4)["typ"], json!("refresh"));
        assert_eq!(jwt_claims(&r4)["sub"], json!(alice.id));

        // Presenting a retired token again (the first one, three rotations ago) revokes the
        // whole login: the newest token of the family dies with it.
        assert_refused(&refresh(&app, &alice.refresh).await, REUSED);
        assert_refused(&refresh(&app, &r4).await, REVOKED);
        // And stays revoked: the retired token again is just revoked, not "reused" twice.
        assert_refused(&refresh(&app, &r2).await, REVOKED);
    }

    async fn reuse_revokes_only_its_own_login(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let second = login(&app, &alice, PASSWORD).await;
        second.assert_status(200);
        let other_login = second.body["refresh"].as_str().unwrap().to_string();

        let (_, current) = rotate(&app, &alice.refresh).await;
        assert_refused(&refresh(&app, &alice.refresh).await, REUSED);
        assert_refused(&refresh(&app, &current).await, REVOKED);
        // Alice's other login and Bob are untouched.
        let (_, other_next) = rotate(&app, &other_login).await;
        rotate(&app, &other_next).await;
        rotate(&app, &bob.refresh).await;
    }

    async fn a_retired_token_presented_twice_at_once_leaves_at_most_one_winner(app: TestApp) {
        // Two refreshes racing with one token: at most one rotates; whatever happens, a token
        // that was answered 200 and later presented again is refused, and nothing is a 500.
        let alice = app.signup("Acme").await;
        let (a, b) = tokio::join!(refresh(&app, &alice.refresh), refresh(&app, &alice.refresh));
        let statuses = [a.status, b.status];
        assert!(statuses.iter().filter(|s| **s == 200).count() <= 1, "{statuses:?}: {} / {}", a.text, b.text);
        assert!(statuses.iter().all(|s| [200, 401].contains(s)), "{statuses:?}");
        // The reuse revoked the family, including the winner's successor.
        for r in [&a, &b] {
            if r.status == 200 {
                assert_refused(&refresh(&app, r.body["refresh"].as_str().unwrap()).await, REVOKED);
            }
        }
    }

    async fn logout_revokes_that_login_and_its_descendants(app: TestApp) {
        let alice = app.signup("Acme").await;
        let second = login(&app, &alice, PASSWORD).await.body["refresh"].as_str().unwrap().to_string();
        let (_, current) = rotate(&app, &alice.refresh).await;

        // Logging out with the retired first token ends the login, its successor included.
        let r = app.post("/api/auth/logout", &alice.auth(), json!({"refresh": alice.refresh})).await;
        r.assert_status(204);
        assert_eq!(r.text, "");
        assert_refused(&refresh(&app, &current).await, REVOKED);
        // Idempotent.
        app.post("/api/auth/logout", &alice.auth(), json!({"refresh": current})).await.assert_status(204);
        // The other login still refreshes; the access token still works until it expires
        // (access tokens are stateless: README.md, "Tokens").
        let (_, second_next) = rotate(&app, &second).await;
        me(&app, &alice.auth()).await;
        app.get("/api/customers", &alice.auth()).await.assert_status(200);

        // Logout of the current token of a login.
        app.post("/api/auth/logout", &alice.auth(), json!({"refresh": second_next})).await.assert_status(204);
        assert_refused(&refresh(&app, &second_next).await, REVOKED);
    }

    async fn logout_needs_the_callers_own_valid_refresh_token(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        // Unauthenticated, or with a refresh token as the bearer: 401.
        assert_401(&app.post("/api/auth/logout", &Auth::None, json!({"refresh": alice.refresh})).await);
        assert_401(&app.post("/api/auth/logout", &Auth::bearer(alice.refresh.clone()), json!({"refresh": alice.refresh})).await);
        // Bob cannot end Alice's session with her token.
        let r = app.post("/api/auth/logout", &bob.auth(), json!({"refresh": alice.refresh})).await;
        assert_refused(&r, "Token is invalid.");
        // An access token, garbage, a missing field.
        assert_refused(&app.post("/api/auth/logout", &alice.auth(), json!({"refresh": alice.access})).await, "Token has the wrong type: use a refresh token.");
        assert_refused(&app.post("/api/auth/logout", &alice.auth(), json!({"refresh": "a.b.c"})).await, "Token is invalid.");
        assert_errors(&app.post("/api/auth/logout", &alice.auth(), json!({})).await, json!({"refresh": ["This field is required."]}));
        // Nothing was revoked by any of it.
        rotate(&app, &alice.refresh).await;
        rotate(&app, &bob.refresh).await;
    }

    async fn a_password_change_revokes_every_refresh_token_of_the_user(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        let second = login(&app, &alice, PASSWORD).await.body["refresh"].as_str().unwrap().to_string();
        let (_, current) = rotate(&app, &alice.refresh).await;
        let new_password = "a-new passphrase 42";

        // Refusals change nothing.
        let r = app.post("/api/auth/password", &alice.auth(), json!({"current_password": "wrong-password", "new_password": new_password})).await;
        assert_errors(&r, json!({"current_password": ["Your current password was entered incorrectly. Please enter it again."]}));
        let r = app.post("/api/auth/password", &alice.auth(), json!({"current_password": PASSWORD, "new_password": "12345678901"})).await;
        r.assert_status(400);
        assert!(r.body["new_password"].is_array(), "{}", r.text);
        assert!(r.body.get("current_password").is_none(), "{}", r.text);
        let r = app.post("/api/auth/password", &alice.auth(), json!({})).await;
        assert_errors(&r, json!({"current_password": ["This field is required."], "new_password": ["This field is required."]}));
        assert_401(&app.post("/api/auth/password", &Auth::None, json!({"current_password": PASSWORD, "new_password": new_password})).await);
        let (_, current) = rotate(&app, &current).await;

        let r = app.post("/api/auth/password", &alice.auth(), json!({"current_password": PASSWORD, "new_password": new_password})).await;
        r.assert_status(204);
        for token in [&current, &second] {
            assert_refused(&refresh(&app, token).await, REVOKED);
        }
        login(&app, &alice, PASSWORD).await.assert_status(401);
        let fresh = login(&app, &alice, new_password).await;
        fresh.assert_status(200);
        rotate(&app, fresh.body["refresh"].as_str().unwrap()).await;
        // Another user is untouched.
        rotate(&app, &bob.refresh).await;
        login(&app, &bob, PASSWORD).await.assert_status(200);
    }

    async fn a_refresh_token_the_server_never_recorded_refreshes_nothing(app: TestApp) {
        // Signed with the right secret (a leaked key, or a token from before rotation existed),
        // for a real user: without its record it is refused.
        let alice = app.signup("Acme").await;
        assert_refused(&refresh(&app, &signed_token(alice.id, TokenType::Refresh)).await, REVOKED);
        // Of a user that does not exist: the answer of every route to such a token.
        let r = refresh(&app, &signed_token(uuid::Uuid::now_v7(), TokenType::Refresh)).await;
        assert_refused(&r, "User not found.");
        // A refresh token of Alice's with Bob's id in it is a forgery: the signature breaks.
        rotate(&app, &alice.refresh).await;
    }

    async fn the_jwt_attack_set_is_refused_everywhere(app: TestApp) {
        let alice = app.signup("Acme").await;
        let now = jwt_claims(&alice.access)["iat"].as_u64().unwrap();
        let claims = |typ: &str, iat: u64, exp: u64| {
            json!({"sub": alice.id, "typ": typ, "iat": iat, "exp": exp, "jti": uuid::Uuid::now_v7()})
        };
        let hs256 = json!({"alg": "HS256", "typ": "JWT"});
        let good = jwt::sign(&hs256, &claims("access", now, now + 60), TEST_JWT_SECRET.as_bytes());
        app.get("/api/me", &Auth::bearer(good.clone())).await.assert_status(200);

        let (header, payload, signature) = jwt::parts(&good);
        let mut forged = vec![
            ("alg none, no signature", format!("{}.{payload}.", jwt::b64(&json!({"alg": "none", "typ": "JWT"})))),
            ("alg None", format!("{}.{payload}.", jwt::b64(&json!({"alg": "None"})))),
            ("alg none keeping the signature", format!("{}.{payload}.{signature}", jwt::b64(&json!({"alg": "none"})))),
            ("HS512, same secret", jwt::sign(&json!({"alg": "HS512"}), &claims("access", now, now + 60), TEST_JWT_SECRET.as_bytes())),
            ("HS384, same secret", jwt::sign(&json!({"alg": "HS384"}), &claims("access", now, now + 60), TEST_JWT_SECRET.as_bytes())),
            ("RS256 header on an HMAC signature", format!("{}.{payload}.{signature}", jwt::b64(&json!({"alg": "RS256"})))),
            ("another key", jwt::sign(&hs256, &claims("access", now, now + 60), b"another-secret-another-secret-0123456789")),
            ("tampered header", format!("{}.{payload}.{signature}", jwt::b64(&json!({"alg": "HS256", "typ": "JWT", "kid": "x"})))),
            ("tampered payload", format!("{header}.{}.{signature}", jwt::b64(&json!({"sub": uuid::Uuid::now_v7(), "typ": "access", "iat": now, "exp": now + 60, "jti": alice.id})))),
            ("payload of another token", format!("{header}.{}.{signature}", jwt::parts(&alice.access).1)),
            ("tampered signature", format!("{header}.{payload}.{}", jwt::flip_first(&signature))),
            ("no signature", format!("{header}.{payload}.")),
            ("two parts", format!("{header}.{payload}")),
            ("four parts", format!("{good}.{signature}")),
            ("expired a second ago", jwt::sign(&hs256, &claims("access", now - 60, now - 1), TEST_JWT_SECRET.as_bytes())),
            ("issued in the future", jwt::sign(&hs256, &claims("access", now + 30, now + 60), TEST_JWT_SECRET.as_bytes())),
            ("not before a second from now", {
                let mut c = claims("access", now, now + 60);
                c["nbf"] = json!(now + 30);
                jwt::sign(&hs256, &c, TEST_JWT_SECRET.as_bytes())
            }),
            ("refresh as access", alice.refresh.clone()),
            ("no typ", jwt::sign(&hs256, &json!({"sub": alice.id, "iat": now, "exp": now + 60, "jti": alice.id}), TEST_JWT_SECRET.as_bytes())),
            ("typ of another kind", jwt::sign(&hs256, &claims("admin", now, now + 60), TEST_JWT_SECRET.as_bytes())),
            ("sub not a UUID", jwt::sign(&hs256, &json!({"sub": "1", "typ": "access", "iat": now, "exp": now + 60, "jti": alice.id}), TEST_JWT_SECRET.as_bytes())),
            ("exp as a string", jwt::sign(&hs256, &json!({"sub": alice.id, "typ": "access", "iat": now, "exp": (now + 60).to_string(), "jti": alice.id}), TEST_JWT_SECRET.as_bytes())),
        ];
        for (what, token) in &forged {
            for path in ["/api/me", "/api/customers", "/api/companies"] {
                let r = app.get(path, &Auth::bearer(token.clone())).await;
                assert_401(&r);
                assert!(r.text.len() < 200 && !r.text.contains(TEST_JWT_SECRET), "{what}: {}", r.text);
            }
        }
        // The same attacks on the refresh route (with "refresh" as the type), plus access as refresh.
        forged.retain(|(what, _)| *what != "refresh as access");
        let refresh_claims = claims("refresh", now, now + 60);
        let good_refresh = jwt::sign(&hs256, &refresh_claims, TEST_JWT_SECRET.as_bytes());
        let (_, refresh_payload, refresh_signature) = jwt::parts(&good_refresh);
        for (what, token) in [
            ("alg none", format!("{}.{refresh_payload}.", jwt::b64(&json!({"alg": "none"})))),
            ("another key", jwt::sign(&hs256, &refresh_claims, b"another-secret-another-secret-0123456789")),
            ("tampered signature", format!("{header}.{refresh_payload}.{}", jwt::flip_first(&refresh_signature))),
            ("HS512", jwt::sign(&json!({"alg": "HS512"}), &refresh_claims, TEST_JWT_SECRET.as_bytes())),
            ("expired", jwt::sign(&hs256, &claims("refresh", now - 60, now - 1), TEST_JWT_SECRET.as_bytes())),
            ("access as refresh", alice.access.clone()),
        ] {
            let r = refresh(&app, &token).await;
            assert_401(&r);
            assert_ne!(r.status, 200, "{what}");
        }
        // The edges, exactly: a token expiring a second from now works, one that expired a
        // second ago does not (no leeway by default: Simple JWT's `LEEWAY = 0`); `nbf` now works.
        let edge = jwt::sign(&hs256, &claims("access", now, now + 1), TEST_JWT_SECRET.as_bytes());
        let r = app.get("/api/me", &Auth::bearer(edge)).await;
        // The clock may tick past `exp` between signing and checking: 200 or "expired", never another answer.
        assert!(r.status == 200 || r.body == json!({"detail": "Token has expired."}), "{}", r.text);
        let expired = jwt::sign(&hs256, &claims("access", now - 60, now - 1), TEST_JWT_SECRET.as_bytes());
        assert_eq!(app.get("/api/me", &Auth::bearer(expired)).await.body, json!({"detail": "Token has expired."}));
        let mut nbf_now = claims("access", now, now + 60);
        nbf_now["nbf"] = json!(now);
        app.get("/api/me", &Auth::bearer(jwt::sign(&hs256, &nbf_now, TEST_JWT_SECRET.as_bytes()))).await.assert_status(200);
    }
}

/// Hand-made JWTs: what an attacker can write, including what a JWT library would refuse to.
mod jwt {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    use serde_json::Value;

    pub fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    /// `header.payload.signature` with the HMAC the header's `alg` names (HS256/384/512).
    pub fn sign(header: &Value, claims: &Value, secret: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        macro_rules! mac {
            ($digest:ty) => {{
                let mut m = Hmac::<$digest>::new_from_slice(secret).unwrap();
                m.update(input.as_bytes());
                m.finalize().into_bytes().to_vec()
            }};
        }
        let signature = match header["alg"].as_str() {
            Some("HS384") => mac!(sha2::Sha384),
            Some("HS512") => mac!(sha2::Sha512),
            _ => mac!(sha2::Sha256),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    pub fn parts(token: &str) -> (String, String, String) {
        let mut it = token.split('.').map(str::to_string);
        (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
    }

    /// The signature with its first character changed (still base64url).
    pub fn flip_first(signature: &str) -> String {
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        format!("{first}{}", &signature[1..])
    }
}
