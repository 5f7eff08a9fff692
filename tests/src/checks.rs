//! Checks shared by the account tests: response shapes, the error bodies of API.md, JWT claims,
//! and helpers over the account endpoints (every authenticated route, the 401 for a missing user).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Auth, Backend, PASSWORD, Resp, TestApp, TokenType, User, signed_token};

pub const BAD_CREDENTIALS: &str = "No active account found with the given credentials";

pub fn uuid_of(v: &Value) -> Uuid {
    Uuid::parse_str(v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))).unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[track_caller]
pub fn assert_keys(obj: &Value, expected: &[&str]) {
    let mut keys: Vec<&str> =
        obj.as_object().unwrap_or_else(|| panic!("not an object: {obj}")).keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "keys of {obj}");
}

#[track_caller]
pub fn assert_rfc3339_utc(v: &Value) {
    let t = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    assert!(t.len() >= 20 && t.as_bytes()[10] == b'T' && (t.ends_with('Z') || t.ends_with("+00:00")), "{t}");
}

/// A 401 as API.md describes it: a detail and `WWW-Authenticate: Bearer`.
#[track_caller]
pub fn assert_401(r: &Resp) {
    r.assert_status(401);
    r.assert_detail();
    assert_eq!(r.header("www-authenticate"), Some("Bearer"), "401 without WWW-Authenticate: {}", r.text);
}

#[track_caller]
pub fn assert_403(r: &Resp) {
    r.assert_status(403);
    r.assert_detail();
}

#[track_caller]
pub fn assert_404(r: &Resp) {
    r.assert_status(404);
    assert_eq!(r.body, json!({"detail": "Not found."}));
}

/// `{"field": [message]}` exactly.
#[track_caller]
pub fn assert_errors(r: &Resp, expected: Value) {
    r.assert_status(400);
    assert_eq!(r.body, expected, "validation errors");
}

/// The payload of a JWT (base64url, unpadded), decoded without checking the signature.
pub fn jwt_claims(token: &str) -> Value {
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

pub async fn signup_raw(app: &TestApp, email: &str, company: &str) -> Resp {
    app.post("/api/auth/signup", &Auth::None, json!({"email": email, "password": PASSWORD, "company_name": company}))
        .await
}

pub async fn me(app: &TestApp, auth: &Auth) -> Value {
    let r = app.get("/api/me", auth).await;
    r.assert_status(200);
    r.body
}

pub async fn create_company(app: &TestApp, user: &User, name: &str) -> Uuid {
    let r = app.post("/api/companies", &user.auth(), json!({"name": name})).await;
    r.assert_status(201);
    r.id()
}

/// `(user_id, role)` of every member of the active company of `auth`.
pub async fn roles(app: &TestApp, auth: &Auth) -> Vec<(Uuid, String)> {
    let r = app.get("/api/members", auth).await;
    r.assert_status(200);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (uuid_of(&m["user_id"]), m["role"].as_str().unwrap().to_string()))
        .collect()
}

pub fn bearer(user: &User) -> String {
    format!("Bearer {}", user.access)
}

pub fn member_path(user: &User) -> String {
    format!("/api/members/{}", user.id)
}

/// What every authenticated route answers for a correctly signed token whose user does not
/// exist (never did, or was deleted): Simple JWT's 401.
#[track_caller]
pub fn assert_user_not_found(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text);
    assert_eq!(r.body, json!({"detail": "User not found."}), "{what}");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}: 401 without WWW-Authenticate");
}

/// `method path` with each of `authorizations` as one `Authorization` header and each of
/// `companies` as one `X-Company-Id` header (in order), and `body` as JSON.
pub async fn send_with(
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
pub fn every_authenticated_route(
    objects: &[(&str, String)],
    member: Uuid,
) -> Vec<(&'static str, String, Option<Value>)> {
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
pub async fn assert_user_not_found_everywhere(
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

/// The rules of row-level isolation on the live schema of `tables` (whatever created it: the
/// app at start-up or its migrations): every primary key, unique constraint, foreign key and
/// index leads with or includes `company_id`, and on PostgreSQL row-level security is forced.
pub async fn assert_keys_lead_with_company_id(app: &TestApp, tables: &[&str]) {
    use tenant_core::db::TxMode;
    use tenant_core::{Db, FieldType, Value};
    let db = Db::connect(&app.database_url, 1).await.expect("the owner's connection");
    let mut tx = db.begin(TxMode::Read).await.unwrap();
    for table in tables {
        let t = Value::Text(Some(table.to_string()));
        let count = |rows: Vec<Vec<Value>>| match &rows[0][0] {
            Value::I64(Some(n)) => *n,
            other => panic!("a count: {other:?}"),
        };
        let checks: &[(&str, &str)] = match app.backend {
            Backend::Postgres => &[
                (
                    "a key lacks company_id",
                    "SELECT COUNT(*) FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u', 'f') \
                     AND NOT (SELECT attnum FROM pg_attribute WHERE attrelid = c.conrelid AND attname = 'company_id') = ANY (c.conkey)",
                ),
                (
                    "an index does not lead with company_id",
                    "SELECT COUNT(*) FROM pg_indexes WHERE tablename = $1 AND indexdef NOT LIKE '%(company_id%'",
                ),
                (
                    "row-level security is not forced",
                    "SELECT COUNT(*) FROM pg_class WHERE oid = $1::regclass AND NOT (relrowsecurity AND relforcerowsecurity)",
                ),
            ],
            Backend::Sqlite => &[
                (
                    "an index or key does not lead with company_id",
                    "SELECT COUNT(*) FROM pragma_index_list($1) il, pragma_index_info(il.name) ii \
                     WHERE ii.seqno = 0 AND ii.name <> 'company_id'",
                ),
                (
                    "a foreign key lacks company_id",
                    "SELECT COUNT(*) FROM (SELECT id FROM pragma_foreign_key_list($1) GROUP BY id \
                     HAVING SUM(\"from\" = 'company_id') = 0)",
                ),
            ],
        };
        for (problem, sql) in checks {
            let rows = tx.fetch_all(*sql, std::slice::from_ref(&t), &[FieldType::I64]).await.unwrap();
            assert_eq!(count(rows), 0, "{table}: {problem}");
        }
    }
    tx.commit().await.unwrap();
    db.close().await;
}
