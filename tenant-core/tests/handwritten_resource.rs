//! The runtime without the macro: a resource implemented by hand, served and queried through
//! the real router on SQLite. Proves the generic handlers do not depend on generated code.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde::Serialize;
use serde_json::{Value as Json, json};
use tenant_core::auth::jwt::TokenType;
use tenant_core::resource::{Actions, Field, Permissions, Resource, ResourceDesc, ResourceSql};
use tenant_core::value::{DecodeError, FieldType, FieldValue, RowReader, Value};
use tenant_core::{App, Config, Db};
use tower::ServiceExt;
use uuid::Uuid;

#[derive(Serialize)]
struct Note {
    id: Uuid,
    company_id: Uuid,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    title: String,
    stars: Option<i32>,
}

/// The create body; the patch body is the same with every field optional.
#[derive(Serialize, serde::Deserialize, Default)]
struct NoteInput {
    title: String,
    stars: Option<i32>,
}

#[derive(Serialize, serde::Deserialize, Default)]
struct NotePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stars: Option<Option<i32>>,
}

impl tenant_core::Hooks for Note {}

impl Resource for Note {
    type Input = NoteInput;
    type Patch = NotePatch;

    const DESC: ResourceDesc = ResourceDesc {
        name: "Note",
        singular: "note",
        table: "notes",
        path: "/api/notes",
        fields: &[
            Field {
                unique: true,
                search: true,
                order: true,
                min_len: Some(1),
                ..Field::new("title", FieldType::Text, false)
            },
            Field { filter: true, min: Some(0.0), max: Some(5.0), ..Field::new("stars", FieldType::I32, true) },
        ],
        permissions: Permissions::DEFAULT,
        actions: Actions::ALL,
        computed: &[],
        sql: ResourceSql {
            select_one: "SELECT id, company_id, created_at, updated_at, title, stars FROM notes WHERE company_id = $1 AND id = $2",
            select_one_for_update: "SELECT id, company_id, created_at, updated_at, title, stars FROM notes WHERE company_id = $1 AND id = $2 FOR UPDATE",
            list_columns: "SELECT id, company_id, created_at, updated_at, title, stars",
            list_scope: "FROM notes WHERE company_id = $1",
            insert: "INSERT INTO notes (id, company_id, created_at, updated_at, title, stars) VALUES ($1, $2, $3, $4, $5, $6)",
            update: "UPDATE notes SET updated_at = $3, title = $4, stars = $5 WHERE company_id = $1 AND id = $2",
            delete: "DELETE FROM notes WHERE company_id = $1 AND id = $2",
            exists: "SELECT 1 FROM notes WHERE company_id = $1 AND id = $2",
        },
    };

    fn from_row<R: RowReader + ?Sized>(row: &mut R) -> Result<Self, DecodeError> {
        Ok(Note {
            id: FieldValue::read(row, "id")?,
            company_id: FieldValue::read(row, "company_id")?,
            created_at: FieldValue::read(row, "created_at")?,
            updated_at: FieldValue::read(row, "updated_at")?,
            title: FieldValue::read(row, "title")?,
            stars: FieldValue::read(row, "stars")?,
        })
    }

    fn into_row(self) -> Vec<Value> {
        vec![
            self.id.into_value(),
            self.company_id.into_value(),
            self.created_at.into_value(),
            self.updated_at.into_value(),
            self.title.into_value(),
            self.stars.into_value(),
        ]
    }

    fn id(&self) -> Uuid {
        self.id
    }
}

struct Harness {
    router: axum::Router,
    tokens: Vec<String>,
    _dir: tempfile::TempDir,
}

/// Two companies with one admin each, made directly in the core tables.
async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    let db = Db::connect(&url, 4).await.unwrap();
    let app = App::with_db(db.clone(), Config::new(url)).unwrap().resource::<Note>();
    app.migrate().await.unwrap();
    let mut tokens = vec![];
    for name in ["A", "B"] {
        let (user, company) = (Uuid::now_v7(), Uuid::now_v7());
        let now = Value::Timestamp(Some(chrono::Utc::now()));
        db.execute(
            "INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)",
            &[Value::Uuid(Some(company)), Value::Text(Some(name.into())), now.clone()],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO users (id, email, password_hash, default_company_id, created_at) VALUES ($1, $2, 'x', $3, $4)",
            &[
                Value::Uuid(Some(user)),
                Value::Text(Some(format!("{name}@t.test"))),
                Value::Uuid(Some(company)),
                now.clone(),
            ],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO memberships (company_id, user_id, role, created_at) VALUES ($1, $2, 'admin', $3)",
            &[Value::Uuid(Some(company)), Value::Uuid(Some(user)), now],
        )
        .await
        .unwrap();
        tokens.push(app.state().keys().issue(user, TokenType::Access));
    }
    Harness { router: app.into_router().await.unwrap(), tokens, _dir: dir }
}

impl Harness {
    async fn call(&self, who: usize, method: &str, path: &str, body: Option<Json>) -> (StatusCode, Json) {
        let mut req =
            Request::builder().method(method).uri(path).header("authorization", format!("Bearer {}", self.tokens[who]));
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
        let resp = self.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, if bytes.is_empty() { Json::Null } else { serde_json::from_slice(&bytes).unwrap() })
    }
}

#[tokio::test]
async fn crud_scoped_to_the_company() {
    let h = harness().await;
    let (status, note) =
        h.call(0, "POST", "/api/notes", Some(json!({"title": "first", "stars": 3, "company_id": Uuid::nil()}))).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_ne!(note["company_id"], json!(Uuid::nil()));
    let path = format!("/api/notes/{}", note["id"].as_str().unwrap());

    assert_eq!(h.call(0, "GET", &path, None).await.1["title"], "first");
    // Company B: the same answer as for a missing id, for every verb.
    let missing = h.call(0, "GET", &format!("/api/notes/{}", Uuid::now_v7()), None).await;
    for (method, body) in
        [("GET", None), ("PUT", Some(json!({"title": "x"}))), ("PATCH", Some(json!({"stars": 1}))), ("DELETE", None)]
    {
        assert_eq!(h.call(1, method, &path, body).await, missing, "{method}");
    }
    assert_eq!(h.call(1, "GET", "/api/notes", None).await.1["count"], 0);
    assert_eq!(h.call(0, "GET", &path, None).await.1["stars"], 3);

    // The same title is fine in company B, a duplicate in company A.
    assert_eq!(h.call(1, "POST", "/api/notes", Some(json!({"title": "first"}))).await.0, StatusCode::CREATED);
    let (status, body) = h.call(0, "POST", "/api/notes", Some(json!({"title": "first"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["title"][0].as_str().unwrap().contains("already exists"));

    let (status, body) = h.call(0, "PATCH", &path, Some(json!({"stars": 9}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["stars"].is_array());
    let (status, body) = h.call(0, "PATCH", &path, Some(json!({"stars": null}))).await;
    assert_eq!((status, body["stars"].clone(), body["title"].clone()), (StatusCode::OK, Json::Null, json!("first")));

    assert_eq!(h.call(0, "DELETE", &path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(h.call(0, "GET", &path, None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_pages_filters_orders_and_searches() {
    let h = harness().await;
    for (i, title) in ["Alpha", "beta", "Gamma", "delta", "alphabet"].iter().enumerate() {
        let (status, _) = h.call(0, "POST", "/api/notes", Some(json!({"title": title, "stars": i % 2}))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = h.call(0, "GET", "/api/notes?page_size=2&ordering=-title", None).await;
    assert_eq!(page["count"], 5);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert_eq!(page["results"][0]["title"], "delta");
    assert_eq!(page["previous"], Json::Null);
    assert_eq!(page["next"], "/api/notes?page_size=2&ordering=-title&page=2");
    let (_, last) = h.call(0, "GET", "/api/notes?page_size=2&ordering=-title&page=3", None).await;
    assert_eq!(
        (last["next"].clone(), last["previous"].clone()),
        (Json::Null, json!("/api/notes?page_size=2&ordering=-title&page=2"))
    );
    assert_eq!(h.call(0, "GET", "/api/notes?page_size=2&page=4", None).await.0, StatusCode::NOT_FOUND);

    let (_, found) = h.call(0, "GET", "/api/notes?search=ALPHA", None).await;
    assert_eq!(found["count"], 2);
    let (_, filtered) = h.call(0, "GET", "/api/notes?stars=1", None).await;
    assert_eq!(filtered["count"], 2);
    assert_eq!(h.call(0, "GET", "/api/notes?stars=many", None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(h.call(0, "GET", "/api/notes?ordering=stars", None).await.0, StatusCode::BAD_REQUEST);
    // Wildcards in a search are literal.
    assert_eq!(h.call(0, "GET", "/api/notes?search=%25", None).await.1["count"], 0);
}
