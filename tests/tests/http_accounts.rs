//! The account endpoints over HTTP, on both backends: every row of API.md's "Auth" and
//! "Companies and members" sections (signup, tokens, refresh, `/api/me`, companies, members,
//! the last-admin rule, membership checked on every request).

use serde_json::{Value, json};
use tenant_core::db::TxMode;
use tenant_core::{FieldType, Value as DbValue};
use tests::*;
use uuid::Uuid;

const BAD_CREDENTIALS: &str = "No active account found with the given credentials";

fn uuid_of(v: &Value) -> Uuid {
    Uuid::parse_str(v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))).unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[track_caller]
fn assert_keys(obj: &Value, expected: &[&str]) {
    let mut keys: Vec<&str> =
        obj.as_object().unwrap_or_else(|| panic!("not an object: {obj}")).keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "keys of {obj}");
}

#[track_caller]
fn assert_rfc3339_utc(v: &Value) {
    let t = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    assert!(t.len() >= 20 && t.as_bytes()[10] == b'T' && (t.ends_with('Z') || t.ends_with("+00:00")), "{t}");
}

/// A 401 as API.md describes it: a detail and `WWW-Authenticate: Bearer`.
#[track_caller]
fn assert_401(r: &Resp) {
    r.assert_status(401);
    r.assert_detail();
    assert_eq!(r.header("www-authenticate"), Some("Bearer"), "401 without WWW-Authenticate: {}", r.text);
}

#[track_caller]
fn assert_403(r: &Resp) {
    r.assert_status(403);
    r.assert_detail();
}

#[track_caller]
fn assert_404(r: &Resp) {
    r.assert_status(404);
    assert_eq!(r.body, json!({"detail": "Not found."}));
}

/// `{"field": [message]}` exactly.
#[track_caller]
fn assert_errors(r: &Resp, expected: Value) {
    r.assert_status(400);
    assert_eq!(r.body, expected, "validation errors");
}

/// The payload of a JWT (base64url, unpadded), decoded without checking the signature.
fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in payload.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {payload}"),
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
        }
    }
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn signup_raw(app: &TestApp, email: &str, company: &str) -> Resp {
    app.post("/api/auth/signup", &Auth::None, json!({"email": email, "password": PASSWORD, "company_name": company}))
        .await
}

async fn me(app: &TestApp, auth: &Auth) -> Value {
    let r = app.get("/api/me", auth).await;
    r.assert_status(200);
    r.body
}

async fn create_company(app: &TestApp, user: &User, name: &str) -> Uuid {
    let r = app.post("/api/companies", &user.auth(), json!({"name": name})).await;
    r.assert_status(201);
    r.id()
}

/// `(user_id, role)` of every member of the active company of `auth`.
async fn roles(app: &TestApp, auth: &Auth) -> Vec<(Uuid, String)> {
    let r = app.get("/api/members", auth).await;
    r.assert_status(200);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (uuid_of(&m["user_id"]), m["role"].as_str().unwrap().to_string()))
        .collect()
}

fn bearer(user: &User) -> String {
    format!("Bearer {}", user.access)
}

fn member_path(user: &User) -> String {
    format!("/api/members/{}", user.id)
}

/// What every authenticated route answers for a correctly signed token whose user does not
/// exist (never did, or was deleted): Simple JWT's 401.
#[track_caller]
fn assert_user_not_found(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text);
    assert_eq!(r.body, json!({"detail": "User not found."}), "{what}");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}: 401 without WWW-Authenticate");
}

/// `method path` with each of `authorizations` as one `Authorization` header and each of
/// `companies` as one `X-Company-Id` header (in order), and `body` as JSON.
async fn send_with(
    app: &TestApp,
    method: &str,
    path: &str,
    authorizations: &[String],
    companies: &[String],
    body: Option<Value>,
) -> Resp {
    let mut headers: Vec<(&str, &str)> = authorizations.iter().map(|a| ("authorization", a.as_str())).collect();
    headers.extend(companies.iter().map(|c| ("x-company-id", c.as_str())));
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    app.send(method, path, &headers, body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

/// Every authenticated route, as `(method, path, body)`: the list, create and each object verb of
/// every resource (on the objects `objects`, `(resource, id)`), `/api/me`, `/api/companies`, and
/// every `/api/members` verb (on `member`), the invitation routes (on a random invitation id),
/// and the e-mail verification resend.
fn every_authenticated_route(objects: &[(&str, String)], member: Uuid) -> Vec<(&'static str, String, Option<Value>)> {
    let mut routes = Vec::new();
    for (resource, id) in objects {
        let list = format!("/api/{resource}");
        let one = format!("/api/{resource}/{id}");
        // The create and update bodies need not be valid: the 401 comes before the body is read.
        let body = json!({"name": "x", "email": "x@example.com", "sku": "x", "price_cents": 1, "number": "x"});
        routes.push(("GET", list.clone(), None));
        routes.push(("POST", list, Some(body.clone())));
        routes.push(("GET", one.clone(), None));
        routes.push(("PUT", one.clone(), Some(body)));
        routes.push(("PATCH", one.clone(), Some(json!({"name": "x"}))));
        routes.push(("DELETE", one, None));
    }
    let member = format!("/api/members/{member}");
    routes.extend([
        ("GET", "/api/me".to_string(), None),
        ("PATCH", "/api/me".to_string(), Some(json!({"default_company_id": null}))),
        ("GET", "/api/companies".to_string(), None),
        ("POST", "/api/companies".to_string(), Some(json!({"name": "Ghost Inc"}))),
        ("GET", "/api/members".to_string(), None),
        ("POST", "/api/members".to_string(), Some(json!({"email": "x@example.com", "role": "staff"}))),
        ("PATCH", member.clone(), Some(json!({"role": "admin"}))),
        ("DELETE", member, None),
        ("GET", "/api/members/invitations".to_string(), None),
        ("DELETE", format!("/api/members/invitations/{}", Uuid::now_v7()), None),
        ("GET", "/api/invitations".to_string(), None),
        ("POST", format!("/api/invitations/{}/accept", Uuid::now_v7()), None),
        ("POST", format!("/api/invitations/{}/decline", Uuid::now_v7()), None),
        ("POST", "/api/auth/verify-email/resend".to_string(), None),
    ]);
    routes
}

/// Every authenticated route, and the refresh endpoint, answer 401 "User not found." for the
/// tokens of a user that does not exist: without `X-Company-Id` and with each of `companies`.
async fn assert_user_not_found_everywhere(
    app: &TestApp,
    user_id: Uuid,
    objects: &[(&str, String)],
    member: Uuid,
    companies: &[String],
) {
    let authorization = [format!("Bearer {}", signed_token(user_id, TokenType::Access))];
    let mut headers: Vec<Vec<String>> = vec![vec![]];
    headers.extend(companies.iter().map(|c| vec![c.clone()]));
    for company in &headers {
        for (method, path, body) in every_authenticated_route(objects, member) {
            let r = send_with(app, method, &path, &authorization, company, body).await;
            assert_user_not_found(&r, &format!("{method} {path} with X-Company-Id {company:?}"));
        }
    }
    let refresh = signed_token(user_id, TokenType::Refresh);
    let r = app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": refresh})).await;
    assert_user_not_found(&r, "POST /api/auth/token/refresh");
}

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

    async fn refresh_issues_a_new_access_token(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app.post("/api/auth/token/refresh", &Auth::None, json!({"refresh": alice.refresh})).await;
        r.assert_status(200);
        assert_keys(&r.body, &["access"]);
        let access = r.body["access"].as_str().unwrap();
        assert_ne!(access, alice.access);
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

    async fn me_refuses_a_repeated_company_header(app: TestApp) {
        let alice = app.signup("Acme").await;
        let beta = create_company(&app, &alice, "Beta").await.to_string();
        let acme = alice.company_id.to_string();
        let foreign = app.signup("Bob Co").await.company_id.to_string();
        let authorization = [bearer(&alice)];
        for pair in [
            [acme.clone(), beta.clone()],
            [beta.clone(), acme.clone()],
            [acme.clone(), foreign.clone()],
            [foreign.clone(), acme.clone()],
            [beta.clone(), beta.clone()],
            [acme.clone(), "not-a-uuid".to_string()],
        ] {
            for (method, body) in [("GET", None), ("PATCH", Some(json!({"default_company_id": beta})))] {
                let r = send_with(&app, method, "/api/me", &authorization, &pair, body).await;
                assert_403(&r);
                assert_eq!(
                    r.body,
                    json!({"detail": "X-Company-Id was sent more than once: send it once."}),
                    "{method} /api/me with X-Company-Id {pair:?}"
                );
            }
        }
        // The refused PATCHes changed nothing.
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(alice.company_id));
    }

    async fn me_reflects_the_active_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let beta = create_company(&app, &alice, "Beta").await;
        let bob = app.signup("Bob Co").await;
        app.add_member(&bob, &alice, "staff").await;

        let body = me(&app, &alice.auth()).await;
        assert_keys(&body, &["id", "email", "email_verified", "default_company_id", "active_company_id", "memberships"]);
        assert_eq!(body["email_verified"], true, "the harness verifies every sign-up");
        assert_eq!(body["email"], json!(alice.email));
        assert_eq!(body["default_company_id"], json!(alice.company_id));
        assert_eq!(body["active_company_id"], json!(alice.company_id));
        assert_eq!(
            body["memberships"],
            json!([
                {"company_id": alice.company_id, "company_name": "Acme", "role": "admin"},
                {"company_id": beta, "company_name": "Beta", "role": "admin"},
                {"company_id": bob.company_id, "company_name": "Bob Co", "role": "staff"},
            ])
        );

        let body = me(&app, &alice.in_company(beta)).await;
        assert_eq!(body["active_company_id"], json!(beta));
        assert_eq!(body["default_company_id"], json!(alice.company_id), "the header does not change the default");
        assert_eq!(me(&app, &alice.in_company(bob.company_id)).await["active_company_id"], json!(bob.company_id));

        // Not a member, or not a UUID: 403.
        let carol = app.signup("Carol Co").await;
        assert_403(&app.get("/api/me", &alice.in_company(carol.company_id)).await);
        assert_403(&app.get("/api/me", &alice.in_company(Uuid::now_v7())).await);
        assert_403(&app.get("/api/me", &alice.in_company_raw("not-a-uuid")).await);
    }

    async fn me_patch_sets_the_default_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let beta = create_company(&app, &alice, "Beta").await;

        let r = app.patch("/api/me", &alice.auth(), json!({"default_company_id": beta})).await;
        r.assert_status(200);
        assert_eq!(r.body["default_company_id"], json!(beta));
        assert_eq!(r.body["active_company_id"], json!(beta));
        assert_eq!(r.body["memberships"].as_array().unwrap().len(), 2);
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(beta));

        // Read-only fields are ignored.
        let r = app.patch("/api/me", &alice.auth(), json!({"email": "evil@example.com", "id": Uuid::now_v7()})).await;
        r.assert_status(200);
        assert_eq!(r.body["email"], json!(alice.email));
        assert_eq!(r.body["id"], json!(alice.id));

        // A company the caller is not a member of: 403, nothing changes.
        let bob = app.signup("Bob Co").await;
        for company in [bob.company_id, Uuid::now_v7()] {
            assert_403(&app.patch("/api/me", &alice.auth(), json!({"default_company_id": company})).await);
        }
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(beta));

        let r = app.patch("/api/me", &alice.auth(), json!({"default_company_id": "nope"})).await;
        assert_errors(&r, json!({"default_company_id": ["Must be a valid UUID."]}));
        let r = app.send("PATCH", "/api/me", &[("authorization", bearer(&alice).as_str())], Some(b"x".to_vec())).await;
        r.assert_status(415);

        // null clears it: no active company without the header any more.
        let r = app.patch("/api/me", &alice.auth(), json!({"default_company_id": null})).await;
        r.assert_status(200);
        assert_eq!(r.body["default_company_id"], Value::Null);
        assert_eq!(r.body["active_company_id"], Value::Null);
        assert_403(&app.get("/api/members", &alice.auth()).await);
        app.get("/api/members", &alice.in_company(beta)).await.assert_status(200);
    }

    async fn companies_lists_the_callers_companies_with_their_role(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app.post("/api/companies", &alice.auth(), json!({"name": "  Beta  ", "id": Uuid::now_v7()})).await;
        r.assert_status(201);
        assert_keys(&r.body, &["id", "name", "created_at", "role"]);
        assert_eq!(r.body["name"], "Beta");
        assert_eq!(r.body["role"], "admin");
        assert_eq!(r.id().get_version_num(), 7);
        assert_rfc3339_utc(&r.body["created_at"]);
        let beta = r.body.clone();

        let bob = app.signup("Bob Co").await;
        app.add_member(&bob, &alice, "staff").await;

        let list = app.get("/api/companies", &alice.auth()).await;
        list.assert_status(200);
        let list = list.body.as_array().unwrap().clone();
        assert_eq!(list.len(), 3, "{list:?}");
        assert_eq!(list[0]["id"], json!(alice.company_id));
        assert_eq!(list[0]["role"], "admin");
        assert_eq!(list[1], beta, "the created company, as answered at creation");
        assert_eq!(list[2]["id"], json!(bob.company_id));
        assert_eq!(list[2]["name"], "Bob Co");
        assert_eq!(list[2]["role"], "staff");

        // Bob sees only his own company; the caller became the only member of the new one.
        let bobs = app.get("/api/companies", &bob.auth()).await;
        assert_eq!(bobs.body.as_array().unwrap().len(), 1);
        assert_eq!(roles(&app, &alice.in_company(uuid_of(&beta["id"]))).await, vec![(alice.id, "admin".to_string())]);
        // Creating a company does not move an existing default.
        assert_eq!(me(&app, &alice.auth()).await["default_company_id"], json!(alice.company_id));

        assert_401(&app.get("/api/companies", &Auth::None).await);
        assert_401(&app.post("/api/companies", &Auth::None, json!({"name": "X"})).await);
    }

    async fn companies_create_validates_the_name(app: TestApp) {
        let alice = app.signup("Acme").await;
        assert_errors(&app.post("/api/companies", &alice.auth(), json!({})).await, json!({"name": ["This field is required."]}));
        assert_errors(
            &app.post("/api/companies", &alice.auth(), json!({"name": "n".repeat(201)})).await,
            json!({"name": ["Ensure this field has no more than 200 characters."]}),
        );
        assert_errors(&app.post("/api/companies", &alice.auth(), json!({"name": ""})).await, json!({"name": ["This field may not be blank."]}));
        assert_errors(&app.post("/api/companies", &alice.auth(), json!({"name": 5})).await, json!({"name": ["Not a valid string."]}));
        let r = app.send("POST", "/api/companies", &[("authorization", bearer(&alice).as_str())], Some(b"{}".to_vec())).await;
        r.assert_status(415);
        assert_eq!(app.get("/api/companies", &alice.auth()).await.body.as_array().unwrap().len(), 1);
    }

    async fn a_new_company_becomes_the_default_of_a_user_without_one(app: TestApp) {
        let alice = app.signup("Acme").await;
        app.patch("/api/me", &alice.auth(), json!({"default_company_id": null})).await.assert_status(200);
        let new = create_company(&app, &alice, "Fresh").await;
        let body = me(&app, &alice.auth()).await;
        assert_eq!(body["default_company_id"], json!(new));
        assert_eq!(body["active_company_id"], json!(new));
    }

    async fn members_are_listed_to_any_member_of_the_active_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &bob, "staff").await;

        let expected = json!([
            {"user_id": alice.id, "email": alice.email, "role": "admin"},
            {"user_id": bob.id, "email": bob.email, "role": "staff"},
        ]);
        let r = app.get("/api/members", &alice.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body, expected);
        let r = app.get("/api/members", &bob.in_company(alice.company_id)).await;
        r.assert_status(200);
        assert_eq!(r.body, expected, "staff may list members too");
        // Bob's default company is still his own.
        assert_eq!(roles(&app, &bob.auth()).await, vec![(bob.id, "admin".to_string())]);

        assert_403(&app.get("/api/members", &carol.in_company(alice.company_id)).await);
        assert_403(&app.get("/api/members", &carol.in_company_raw("nope")).await);
        assert_401(&app.get("/api/members", &Auth::None).await);
    }

    async fn admins_invite_and_invitees_accept(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;

        let r = app.post("/api/members", &alice.auth(), json!({"email": bob.email.to_uppercase(), "role": "staff"})).await;
        r.assert_status(201);
        assert_keys(&r.body, &["id", "email", "role", "status", "expires_at"]);
        assert_eq!(r.body["email"], json!(bob.email));
        assert_eq!(r.body["role"], "staff");
        assert_eq!(r.body["status"], "pending");
        assert_rfc3339_utc(&r.body["expires_at"]);
        let invitation = r.id();
        // Not a member until Bob accepts.
        assert_403(&app.get("/api/members", &bob.in_company(alice.company_id)).await);
        let r = app.post(&format!("/api/invitations/{invitation}/accept"), &bob.auth(), json!({})).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"company_id": alice.company_id, "role": "staff"}));
        // Bob can act in Acme at once; his default company does not move.
        app.get("/api/members", &bob.in_company(alice.company_id)).await.assert_status(200);
        assert_eq!(me(&app, &bob.auth()).await["default_company_id"], json!(bob.company_id));
        // The invitation is used up.
        assert_404(&app.post(&format!("/api/invitations/{invitation}/accept"), &bob.auth(), json!({})).await);

        // Staff may not invite.
        assert_403(&app.post("/api/members", &bob.in_company(alice.company_id), json!({"email": carol.email, "role": "staff"})).await);
        // Already a member: 409 on the email.
        let r = app.post("/api/members", &alice.auth(), json!({"email": bob.email, "role": "admin"})).await;
        r.assert_status(409);
        r.assert_field_error("email");
        let r = app.post("/api/members", &alice.auth(), json!({"email": alice.email, "role": "staff"})).await;
        r.assert_status(409);
        // Validation.
        assert_errors(
            &app.post("/api/members", &alice.auth(), json!({})).await,
            json!({"email": ["This field is required."], "role": ["This field is required."]}),
        );
        assert_errors(
            &app.post("/api/members", &alice.auth(), json!({"email": "nope", "role": "owner"})).await,
            json!({"email": ["Enter a valid email address."], "role": ["\"owner\" is not a valid choice."]}),
        );
        assert_errors(
            &app.post("/api/members", &alice.auth(), json!({"email": carol.email, "role": "Admin"})).await,
            json!({"role": ["\"Admin\" is not a valid choice."]}),
        );

        app.add_member(&alice, &carol, "admin").await;
        assert_eq!(
            roles(&app, &alice.auth()).await,
            vec![(alice.id, "admin".into()), (bob.id, "staff".into()), (carol.id, "admin".into())]
        );
    }

    async fn admins_change_roles(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        let dave = app.signup("Dave Co").await;
        app.add_member(&alice, &bob, "staff").await;
        app.add_member(&alice, &carol, "staff").await;

        // Staff may not change roles, not even their own.
        assert_403(&app.patch(&member_path(&carol), &bob.in_company(alice.company_id), json!({"role": "admin"})).await);
        assert_403(&app.patch(&member_path(&bob), &bob.in_company(alice.company_id), json!({"role": "admin"})).await);

        let r = app.patch(&member_path(&bob), &alice.auth(), json!({"role": "admin", "email": "ignored@example.com"})).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"user_id": bob.id, "email": bob.email, "role": "admin"}));
        // Bob is an admin of Acme at once.
        let r = app.patch(&format!("{}/", member_path(&carol)), &bob.in_company(alice.company_id), json!({"role": "admin"})).await;
        r.assert_status(200);
        assert_eq!(r.body["role"], "admin");

        // No role: nothing changes.
        let r = app.patch(&member_path(&carol), &alice.auth(), json!({})).await;
        r.assert_status(200);
        assert_eq!(r.body["role"], "admin");
        assert_errors(
            &app.patch(&member_path(&carol), &alice.auth(), json!({"role": "boss"})).await,
            json!({"role": ["\"boss\" is not a valid choice."]}),
        );
        assert_errors(
            &app.patch(&member_path(&carol), &alice.auth(), json!({"role": null})).await,
            json!({"role": ["This field may not be null."]}),
        );

        // Not a member of the active company (though a member elsewhere), unknown, not a UUID: 404.
        assert_404(&app.patch(&member_path(&dave), &alice.auth(), json!({"role": "staff"})).await);
        assert_404(&app.patch(&format!("/api/members/{}", Uuid::now_v7()), &alice.auth(), json!({"role": "staff"})).await);
        assert_404(&app.patch("/api/members/not-a-uuid", &alice.auth(), json!({"role": "staff"})).await);
        // A member of another company is reached only from that company.
        assert_404(&app.patch(&member_path(&alice), &dave.auth(), json!({"role": "staff"})).await);
        assert_eq!(roles(&app, &alice.auth()).await.iter().filter(|(_, r)| r == "admin").count(), 3);
    }

    async fn admins_remove_members_who_lose_access_at_once(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &bob, "staff").await;
        app.add_member(&alice, &carol, "staff").await;
        app.patch("/api/me", &bob.auth(), json!({"default_company_id": alice.company_id})).await.assert_status(200);
        app.get("/api/members", &bob.auth()).await.assert_status(200);

        assert_403(&app.delete(&member_path(&carol), &bob.auth()).await);

        let r = app.delete(&member_path(&bob), &alice.auth()).await;
        r.assert_status(204);
        assert!(r.text.is_empty(), "204 has no body: {}", r.text);

        // Bob's unexpired token no longer opens Acme, and his default no longer points at it: it
        // fell back to the oldest company he still belongs to (API.md), his own.
        assert_403(&app.get("/api/members", &bob.in_company(alice.company_id)).await);
        let body = me(&app, &bob.auth()).await;
        assert_eq!(body["default_company_id"], json!(bob.company_id));
        assert_eq!(body["active_company_id"], json!(bob.company_id));
        assert_eq!(body["memberships"], json!([{"company_id": bob.company_id, "company_name": "Bob Co", "role": "admin"}]));
        app.get("/api/members", &bob.in_company(bob.company_id)).await.assert_status(200);

        // Gone already, never there, not a UUID: 404.
        assert_404(&app.delete(&member_path(&bob), &alice.auth()).await);
        assert_404(&app.delete(&format!("/api/members/{}", Uuid::now_v7()), &alice.auth()).await);
        assert_404(&app.delete("/api/members/42", &alice.auth()).await);
        // Carol, removed, keeps her own default company.
        app.delete(&format!("{}/", member_path(&carol)), &alice.auth()).await.assert_status(204);
        assert_eq!(me(&app, &carol.auth()).await["default_company_id"], json!(carol.company_id));
        assert_eq!(roles(&app, &alice.auth()).await, vec![(alice.id, "admin".to_string())]);
    }

    async fn the_last_admin_can_be_neither_removed_nor_demoted(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;

        let r = app.delete(&member_path(&alice), &alice.auth()).await;
        r.assert_status(409);
        r.assert_detail();
        let r = app.patch(&member_path(&alice), &alice.auth(), json!({"role": "staff"})).await;
        r.assert_status(409);
        r.assert_detail();
        // Re-asserting the role is not a demotion.
        app.patch(&member_path(&alice), &alice.auth(), json!({"role": "admin"})).await.assert_status(200);

        // With a second admin, the first may step down; then the second is the last one.
        app.add_member(&alice, &bob, "admin").await;
        let bob_in_acme = bob.in_company(alice.company_id);
        app.patch(&member_path(&alice), &alice.auth(), json!({"role": "staff"})).await.assert_status(200);
        assert_403(&app.delete(&member_path(&bob), &alice.auth()).await);
        let r = app.patch(&member_path(&bob), &bob_in_acme, json!({"role": "staff"})).await;
        r.assert_status(409);
        let r = app.delete(&member_path(&bob), &bob_in_acme).await;
        r.assert_status(409);
        // Staff can always be removed, and an admin may remove another admin.
        app.patch(&member_path(&alice), &bob_in_acme, json!({"role": "admin"})).await.assert_status(200);
        app.delete(&member_path(&bob), &alice.auth()).await.assert_status(204);
        assert_eq!(roles(&app, &alice.auth()).await, vec![(alice.id, "admin".to_string())]);
    }

    async fn admins_demoting_or_removing_each_other_at_once_leave_an_admin(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        let acme = alice.company_id;
        app.add_member(&alice, &bob, "admin").await;
        let (as_alice, as_bob) = (alice.in_company(acme), bob.in_company(acme));

        for round in 0..3 {
            let (a, b) = tokio::join!(
                app.patch(&member_path(&bob), &as_alice, json!({"role": "staff"})),
                app.patch(&member_path(&alice), &as_bob, json!({"role": "staff"})),
            );
            let ok = [&a, &b].iter().filter(|r| r.status == 200).count();
            assert_eq!(ok, 1, "round {round}: exactly one demotion wins: {} / {}", a.text, b.text);
            for r in [&a, &b] {
                assert!([200, 403, 409].contains(&r.status), "round {round}: {} {}", r.status, r.text);
            }
            let admins: Vec<Uuid> = roles(&app, &as_alice).await.into_iter().filter(|(_, r)| r == "admin").map(|(id, _)| id).collect();
            assert_eq!(admins.len(), 1, "round {round}: {admins:?}");
            // Promote the demoted one back for the next round.
            let (winner, loser) = if admins[0] == alice.id { (&as_alice, &bob) } else { (&as_bob, &alice) };
            app.patch(&member_path(loser), winner, json!({"role": "admin"})).await.assert_status(200);
        }

        let (a, b) = tokio::join!(app.delete(&member_path(&bob), &as_alice), app.delete(&member_path(&alice), &as_bob));
        let ok = [&a, &b].iter().filter(|r| r.status == 204).count();
        assert_eq!(ok, 1, "exactly one removal wins: {} {} / {} {}", a.status, a.text, b.status, b.text);
        let survivor = if a.status == 204 { &as_alice } else { &as_bob };
        let left = roles(&app, survivor).await;
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].1, "admin");
    }

    async fn account_routes_answer_json_for_wrong_methods(app: TestApp) {
        let alice = app.signup("Acme").await;
        for (method, path) in [
            ("DELETE", "/api/companies"),
            ("PUT", "/api/me"),
            ("GET", "/api/auth/token"),
            ("GET", "/api/auth/signup"),
            ("GET", "/api/auth/token/refresh"),
            ("DELETE", "/api/members"),
            ("GET", &*member_path(&alice)),
        ] {
            let r = app.request(method, path, &alice.auth(), None).await;
            r.assert_status(405);
            r.assert_detail();
        }
        // A trailing slash is accepted.
        app.get("/api/me/", &alice.auth()).await.assert_status(200);
        app.get("/api/companies/", &alice.auth()).await.assert_status(200);
        let t = app.post("/api/auth/token/", &Auth::None, json!({"email": alice.email, "password": PASSWORD})).await;
        t.assert_status(200);
        let r = app.post("/api/auth/token/refresh/", &Auth::None, json!({"refresh": alice.refresh})).await;
        r.assert_status(200);
        app.get("/api/members/", &alice.auth()).await.assert_status(200);
        let path = format!("{}/", member_path(&alice));
        app.patch(&path, &alice.auth(), json!({"role": "admin"})).await.assert_status(200);
        app.request("GET", &path, &alice.auth(), None).await.assert_status(405);
        app.get("/healthz/", &Auth::None).await.assert_status(200);
        let body = json!({"email": "slash@example.com", "password": PASSWORD, "company_name": "Slash"});
        app.post("/api/auth/signup/", &Auth::None, body).await.assert_status(201);
        // One trailing slash, as Django's APPEND_SLASH URLs: two are not the same path.
        app.get("/api/me//", &alice.auth()).await.assert_status(404);
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

    async fn nobodys_default_company_is_set_by_another_user(app: TestApp) {
        // API.md: an admin adding a user with no default company does not make it theirs, so the
        // user's next write without X-Company-Id cannot land in the admin's company.
        let alice = app.signup("Acme").await;
        let victim = app.signup("Victim Co").await;
        app.add_member(&alice, &victim, "staff").await;
        // The victim leaves their own company... they cannot: they are its last admin. They leave
        // Acme instead and come back, then check that Acme never became their default.
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], json!(victim.company_id));
        // A user without a default: removed from it by... themselves is impossible as last admin,
        // so give Victim Co a second admin and let the victim leave it.
        let helper = app.signup("Helper").await;
        app.add_member(&victim, &helper, "admin").await;
        let r = app.delete(&format!("/api/members/{}", victim.id), &victim.auth()).await;
        r.assert_status(204);
        // Their default fell back to the oldest company they still belong to: Acme.
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], json!(alice.company_id), "{}", me.text);
        // Now they leave Acme too: no company, no default.
        app.delete(&format!("/api/members/{}", victim.id), &victim.in_company(alice.company_id)).await.assert_status(204);
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], Value::Null, "{}", me.text);
        // Alice invites the victim again: until they accept, nothing of theirs changes.
        let invitation = app.post("/api/members", &alice.auth(), json!({"email": victim.email, "role": "staff"})).await;
        invitation.assert_status(201);
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], Value::Null, "{}", me.text);
        assert_eq!(me.body["memberships"], json!([]), "{}", me.text);
        let r = app.post("/api/customers", &victim.auth(), json!({"name": "Private", "email": "p@example.com"})).await;
        r.assert_status(403);
        let list = app.get("/api/customers", &alice.auth()).await;
        assert_eq!(list.body["count"], json!(0), "nothing landed in Acme: {}", list.text);
        // Accepting is the victim's own act: a user without a default company gets this one.
        app.post(&format!("/api/invitations/{}/accept", invitation.id()), &victim.auth(), json!({})).await.assert_status(200);
        let me = app.get("/api/me", &victim.auth()).await;
        assert_eq!(me.body["default_company_id"], json!(alice.company_id), "{}", me.text);
    }

    async fn any_member_may_leave_but_not_the_last_admin(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        app.add_member(&alice, &bob, "staff").await;
        let in_acme = bob.in_company(alice.company_id);
        // Staff leave on their own; they lose access at once.
        app.delete(&format!("/api/members/{}", bob.id), &in_acme).await.assert_status(204);
        app.get("/api/customers", &in_acme).await.assert_status(403);
        // Staff still cannot remove anyone else.
        app.add_member(&alice, &bob, "staff").await;
        let carol = app.signup("Carol Co").await;
        app.add_member(&alice, &carol, "staff").await;
        app.delete(&format!("/api/members/{}", carol.id), &in_acme).await.assert_status(403);
        // The last admin cannot leave; with a second admin they can.
        let r = app.delete(&format!("/api/members/{}", alice.id), &alice.auth()).await;
        r.assert_status(409);
        app.patch(&format!("/api/members/{}", carol.id), &alice.auth(), json!({"role": "admin"})).await.assert_status(200);
        app.delete(&format!("/api/members/{}", alice.id), &alice.auth()).await.assert_status(204);
        // Alice's default fell back to none (Acme was her only company).
        let me = app.get("/api/me", &alice.auth()).await;
        assert_eq!(me.body["default_company_id"], Value::Null, "{}", me.text);
    }

    async fn companies_per_user_are_limited(app: TestApp) {
        let capped = app.connect_again_with(|c| c.max_companies_per_user = 3).await;
        let alice = capped.signup("First").await;
        for name in ["Second", "Third"] {
            capped.post("/api/companies", &alice.auth(), json!({"name": name})).await.assert_status(201);
        }
        let r = capped.post("/api/companies", &alice.auth(), json!({"name": "Fourth"})).await;
        r.assert_status(409);
        r.assert_detail();
        let companies = capped.get("/api/companies", &alice.auth()).await;
        assert_eq!(companies.body.as_array().map(Vec::len), Some(3));
        // Simultaneous creations at the edge cannot pass it either.
        let bob = capped.signup("B1").await;
        let tries = (0..6).map(|i| capped.post("/api/companies", &bob.auth(), json!({"name": format!("B{i}")})));
        let created = futures::future::join_all(tries).await.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 2, "one user never belongs to more than the quota");
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
