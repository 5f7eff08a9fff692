//! A bad-input corpus over every route (issue 13, item 9): unicode edge cases, huge and odd
//! numbers, nested, duplicate-key and truncated JSON, wrong types, NUL, overlong strings and
//! query strings, odd content types, methods and path ids. The routes come from the app's own
//! OpenAPI document (which `openapi.rs` proves lists every registered route), each body field
//! from its request schema. Every answer must be below 500, and a refused request must store
//! nothing: the row counts of every table, and the object a refused write names, are unchanged.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::Connection;
use tests::demo::*;
use tests::*;

const TABLES: &[&str] = &[
    "users",
    "companies",
    "memberships",
    "invitations",
    "email_verifications",
    "refresh_tokens",
    "customers",
    "products",
    "invoices",
];

/// The owner's connection, which reads the row counts of every table in one statement.
enum Counter {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Counter {
    async fn connect(app: &TestApp) -> Counter {
        if app.database_url.starts_with("sqlite:") {
            Counter::Sqlite(sqlx::SqliteConnection::connect(&app.database_url).await.unwrap())
        } else {
            Counter::Postgres(sqlx::PgConnection::connect(&app.database_url).await.unwrap())
        }
    }

    async fn counts(&mut self) -> Vec<i64> {
        let columns: Vec<String> = TABLES.iter().map(|t| format!("(SELECT count(*) FROM {t})")).collect();
        let sql = sqlx::AssertSqlSafe(format!("SELECT {}", columns.join(", ")));
        let mut out = Vec::new();
        match self {
            Counter::Sqlite(c) => {
                let row = sqlx::query(sql).fetch_one(c).await.unwrap();
                for i in 0..TABLES.len() {
                    out.push(sqlx::Row::get::<i64, _>(&row, i));
                }
            }
            Counter::Postgres(c) => {
                let row = sqlx::query(sql).fetch_one(c).await.unwrap();
                for i in 0..TABLES.len() {
                    out.push(sqlx::Row::get::<i64, _>(&row, i));
                }
            }
        }
        out
    }
}

/// Strings a client can send: empty, blank, control and format characters, NUL, every plane,
/// combining marks, right-to-left overrides, overlong ones.
fn strings() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "\t\n\r".into(),
        "\u{0}".into(),
        "a\u{0}b".into(),
        "\u{feff}name".into(),
        "\u{200b}".into(),
        "\u{202e}evil\u{202c}".into(),
        "e\u{301}\u{301}\u{301}\u{301}".into(),
        "🏳️‍🌈".repeat(300),
        "𝕏".into(),
        "\u{10ffff}".into(),
        "\u{fffd}".into(),
        "x".repeat(100_000),
        "ä".repeat(70_000),
        "<script>alert(1)</script>".into(),
        "'; DROP TABLE customers; --".into(),
        "%00".into(),
        "../../etc/passwd".into(),
        "not-a-uuid".into(),
        "00000000-0000-0000-0000-000000000000".into(),
        "2024-02-30".into(),
        "9999-12-31T23:59:60Z".into(),
        "-0001-01-01".into(),
        "1e309".into(),
        "admin".into(),
        "ADMIN".into(),
        "@".into(),
        "a@b".into(),
        format!("{}@example.com", "a".repeat(300)),
    ]
}

/// Every JSON type with its edge values, as values of one field.
fn values() -> Vec<Value> {
    let mut v: Vec<Value> = strings().into_iter().map(Value::String).collect();
    v.extend([
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(-0.0),
        json!(0.5),
        json!(1e308),
        json!(-1e308),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.000000000000001),
        json!([]),
        json!([1, 2, 3]),
        json!({}),
        json!({"nested": {"deeper": [null]}}),
        Value::Array(vec![json!("x".repeat(1000)); 100]),
    ]);
    v
}

/// Whole bodies that are not a JSON object, or not JSON at all, sent as `application/json`.
fn raw_bodies() -> Vec<Vec<u8>> {
    let mut deep = "[".repeat(10_000);
    deep.push_str(&"]".repeat(10_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000));
    let many_keys = format!("{{{}}}", (0..20_000).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(","));
    [
        "",
        " ",
        "null",
        "[]",
        "\"string\"",
        "1",
        "{",
        "{\"name\":",
        "{\"name\": \"a\",}",
        "{\"name\": \"a\"} trailing",
        "{\"name\": \"a\", \"name\": \"b\"}",
        "{\"name\": \"\\ud800\"}",
        "{\"name\": \"\\u0000\"}",
        "{\"n\": 1e400}",
        "{\"n\": -1e400}",
        "{\"n\": NaN}",
        "{\"n\": Infinity}",
        "{\"n\": 00012}",
        "{\"n\": 123456789012345678901234567890}",
        "{'single': 'quotes'}",
        "{\"a\": 1} {\"b\": 2}",
        "\u{feff}{}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([
        deep.into_bytes(),
        deep_object.into_bytes(),
        many_keys.into_bytes(),
        vec![0xff, 0xfe, 0x00],
        b"{\"name\": \"\xc3\x28\"}".to_vec(),
        vec![b'{'; 1 << 20],
    ])
    .collect()
}

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=x"),
    Some("application/json; charset=utf-16"),
    Some("application/jsonx"),
    Some("application/json-patch+json"),
    Some("application/xml"),
    Some(""),
    Some("*/*"),
];

fn query_strings() -> Vec<String> {
    vec![
        format!("search={}", "a".repeat(30_000)),
        "page=99999999999999999999999".into(),
        "page=-1".into(),
        "page=0".into(),
        "page=1.5".into(),
        "page_size=0".into(),
        "page_size=-5".into(),
        "page_size=100000000".into(),
        "ordering=".into(),
        "ordering=-".into(),
        "ordering=--name".into(),
        format!("ordering={}", vec!["name"; 2000].join(",")),
        "ordering=password_hash".into(),
        "%ZZ=1".into(),
        "name=%00".into(),
        "search=%00".into(),
        "search=%ff%fe".into(),
        "status__in=".into(),
        format!("status__in={}", vec!["draft"; 5_000].join(",")),
        "issued_on__gte=99999-01-01".into(),
        "issued_on__gte=0000-00-00".into(),
        "created_at__gte=2024-13-45T99:99:99Z".into(),
        "unit_price__gte=1e400".into(),
        "unit_price__gte=NaN".into(),
        "stock__gte=99999999999999999999".into(),
        "customer=not-a-uuid".into(),
        "customer__in=a,b,c".into(),
        "x[]=1&x[]=2".into(),
        "page=1&page=2".into(),
        "&&&=&=".into(),
        "name__regex=.*".into(),
        "name__isnull=maybe".into(),
    ]
}

const ODD_METHODS: &[&str] = &["TRACE", "PROPFIND", "FOO", "OPTIONS", "HEAD", "PURGE"];

const BAD_IDS: &[&str] = &[
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "%00",
    "..%2f..",
    "1",
    "-1",
    "01a2b3c4-d5e6-7f80-9a0b-1c2d3e4f5a6b7",
    "{id}",
    "%F0%9F%98%80",
];

/// One request of the corpus, and the answer's status.
struct Sent {
    what: String,
    status: u16,
}

struct Run<'a> {
    app: &'a TestApp,
    bearer: String,
    /// The company every request names: a corpus request may well set the caller's default
    /// company to null (`PATCH /api/me`), which must not take the rest of the corpus with it.
    company: String,
    auth: Auth,
    counter: Counter,
    /// The row counts after the last request.
    counts: Vec<i64>,
    failures: Vec<String>,
    sent: usize,
}

impl Run<'_> {
    /// Sends one request; checks it is not a 5xx, and that a refused write stored nothing.
    async fn send(&mut self, method: &str, path: &str, content_type: Option<&str>, body: Option<Vec<u8>>) -> Sent {
        let is_write = !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PROPFIND");
        let object_before = if is_write { self.snapshot(path).await } else { None };
        let mut headers = vec![("authorization", self.bearer.as_str()), ("x-company-id", self.company.as_str())];
        if let Some(ct) = content_type {
            headers.push(("content-type", ct));
        }
        let shown_body = body.as_ref().map(|b| String::from_utf8_lossy(&b[..b.len().min(60)]).into_owned());
        let r = self.app.send(method, path, &headers, body).await;
        self.sent += 1;
        let what = format!("{method} {} [{content_type:?}] {shown_body:?}", &path[..path.len().min(120)]);
        if r.status >= 500 {
            self.failures.push(format!("{what} → {}: {}", r.status, &r.text[..r.text.len().min(200)]));
        }
        if is_write {
            let counts = self.counter.counts().await;
            if r.status >= 400 {
                if counts != self.counts {
                    self.failures.push(format!("{what} → {} but the row counts changed", r.status));
                }
                if self.snapshot(path).await != object_before {
                    self.failures.push(format!("{what} → {} but the object changed", r.status));
                }
            }
            self.counts = counts;
        }
        Sent { what, status: r.status }
    }

    /// What a refused write to `path` must leave as it was, as the caller reads it: the object a
    /// detail path names, the members for the members' routes, the account for `/api/me`.
    async fn snapshot(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let read = match segments.as_slice() {
            ["api", resource, id] if RESOURCES.contains(resource) && uuid::Uuid::parse_str(id).is_ok() => path,
            ["api", "members", ..] => "/api/members",
            ["api", "me"] => "/api/me",
            _ => return None,
        };
        Some(self.app.get(read, &self.auth).await.text)
    }
}

/// `template` with every `{parameter}` replaced by `value` (in one pass: `value` may itself
/// look like a parameter).
fn fill(template: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The body fields of an operation, from its request schema (`$ref`s resolved).
fn body_fields(doc: &Value, operation: &Value) -> Option<Vec<String>> {
    let mut schema = operation.pointer("/requestBody/content/application~1json/schema")?.clone();
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap();
        schema = doc["components"]["schemas"][name].clone();
    }
    Some(schema["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default())
}

both_backends! {
    async fn no_bad_input_gets_a_5xx_or_stores_anything(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bobco").await;
        app.add_member(&alice, &bob, "staff").await;
        let mut ids: BTreeMap<&str, String> = BTreeMap::new();
        for resource in RESOURCES {
            ids.insert(resource, id_of(&make(&app, &alice.auth(), resource).await).to_string());
        }
        ids.insert("members", bob.id.to_string());
        let invited = app.post("/api/members", &alice.auth(), json!({"email": "someone@corpus.test", "role": "staff"})).await;
        invited.assert_status(201);
        ids.insert("invitations", invited.body["id"].as_str().unwrap().to_string());
        let doc = app.get("/api/openapi.json", &Auth::None).await.body;

        let mut counter = Counter::connect(&app).await;
        let counts = counter.counts().await;
        let mut run = Run {
            app: &app,
            bearer: format!("Bearer {}", alice.access),
            company: alice.company_id.to_string(),
            auth: alice.in_company(alice.company_id),
            counter,
            counts,
            failures: Vec::new(),
            sent: 0,
        };
        let paths = doc["paths"].as_object().unwrap().clone();
        for (template, item) in &paths {
            // Path parameters: the caller's own object of that collection, so the body and the
            // query are what is judged.
            let segment = template.trim_start_matches("/api/").split('/').next().unwrap_or("");
            let id = ids.get(segment).cloned().unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
            let path = fill(template, &id);
            for (method, operation) in item.as_object().unwrap() {
                let method = method.to_uppercase();
                if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                    continue;
                }
                // Odd ids in every position.
                if template.contains('{') {
                    for bad in BAD_IDS {
                        run.send(&method, &fill(template, bad), Some("application/json"), Some(b"{}".to_vec())).await;
                    }
                }
                // Deleting the objects would leave nothing to judge the other requests on.
                if method == "DELETE" {
                    continue;
                }
                if method == "GET" {
                    for q in query_strings() {
                        run.send("GET", &format!("{path}?{q}"), None, None).await;
                    }
                    continue;
                }
                for body in raw_bodies() {
                    run.send(&method, &path, Some("application/json"), Some(body)).await;
                }
                for ct in CONTENT_TYPES {
                    run.send(&method, &path, *ct, Some(br#"{"name": "x"}"#.to_vec())).await;
                }
                for field in body_fields(&doc, operation).unwrap_or_default() {
                    for value in values() {
                        let body = serde_json::to_vec(&json!({ field.clone(): value })).unwrap();
                        run.send(&method, &path, Some("application/json"), Some(body)).await;
                    }
                }
                // A query string on a write is ignored or refused, never a 5xx.
                run.send(&method, &format!("{path}?{}", "a=".repeat(20_000)), Some("application/json"), Some(b"{}".to_vec())).await;
            }
            for method in ODD_METHODS {
                let sent = run.send(method, &path, None, None).await;
                if *method != "OPTIONS" && *method != "HEAD" {
                    assert_eq!(sent.status, 405, "{}", sent.what);
                }
            }
        }
        // The objects the corpus aimed at are still there, unchanged by every refusal.
        for resource in RESOURCES {
            app.get(&format!("/api/{resource}/{}", ids[resource]), &alice.in_company(alice.company_id)).await.assert_status(200);
        }
        eprintln!("{} requests of the corpus sent", run.sent);
        assert!(run.sent > 3000, "the corpus reached every route: {}", run.sent);
        assert!(run.failures.is_empty(), "{} failures, the first:\n{}", run.failures.len(), run.failures[..run.failures.len().min(40)].join("\n"));
    }
}
