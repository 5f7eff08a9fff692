//! `GET /api/openapi.json` (issue 12): the document is served without auth, is valid OpenAPI
//! 3.1, documents every route the router serves and nothing else (methods included), and says
//! what the resource descriptions say (formats, bounds, enums, nullability, read/write-only
//! fields, list parameters, security).
//!
//! One test per file section keeps the process-wide route registry
//! (`tenant_core::testing::registered_paths`) to the apps this file builds.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::Method;
use serde_json::{Value as Json, json};
use tenant_core::{App, Role};
use tests::*;

/// A resource using what the demo does not: field control, a computed field, a nested route,
/// route selection, and a custom action.
mod board {
    use tenant_core::tenant_resource;
    use uuid::Uuid;

    #[tenant_resource(table = "oa_boards", actions = "list, create, retrieve")]
    pub struct Board {
        #[field(len = 1..=80, order, search)]
        pub title: String,
        #[field(write_only)]
        pub secret: Option<String>,
        #[field(read_only, default)]
        pub archived: bool,
    }

    #[tenant_resource(table = "oa_cards", computed(is_long: bool))]
    pub struct Card {
        #[field(references = Board, nested, filter)]
        pub board_id: Uuid,
        #[field(range = 0..=10, lookups = "gte, lt")]
        pub points: i32,
        #[field(write = "admin")]
        pub pinned: Option<bool>,
    }

    impl Card {
        pub fn is_long(&self) -> bool {
            self.points > 5
        }
    }
}

async fn flip(
    tenant_core::actions::Object { object, .. }: tenant_core::actions::Object<board::Card>,
) -> axum::Json<board::Card> {
    axum::Json(object)
}

/// The demo's models (without its migrations: the tables are created from the models) and the
/// board's.
fn register(app: App) -> App {
    use demo_app::models::{Customer, Invoice, Product};
    app.resource::<Customer>()
        .resource::<Product>()
        .resource::<Invoice>()
        .resource::<board::Board>()
        .resource_with::<board::Card>(|r| r.detail_action(Method::POST, "flip", Role::Admin, flip))
}

fn schemas(doc: &Json) -> &serde_json::Map<String, Json> {
    doc["components"]["schemas"].as_object().unwrap()
}

/// `(path, methods)` the document lists.
fn documented(doc: &Json) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.as_str() != "parameters")
                .map(|m| m.to_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// The parameter `name` of the operation `method path`.
fn parameter<'a>(doc: &'a Json, path: &str, method: &str, name: &str) -> &'a Json {
    let parameters = doc["paths"][path][method]["parameters"].as_array().unwrap_or_else(|| panic!("{method} {path}"));
    parameters.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{method} {path}: no parameter {name}"))
}

/// Validates `doc` with the maintained Python validator (`openapi-spec-validator`, which `.ci/run`
/// installs and names in `OPENAPI_VALIDATOR_PYTHON`); skipped with a warning outside CI.
fn validate_with_openapi_spec_validator(doc: &Json, name: &str) {
    let Ok(python) = std::env::var("OPENAPI_VALIDATOR_PYTHON") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set OPENAPI_VALIDATOR_PYTHON (see .ci/run)");
        eprintln!("WARNING: OPENAPI_VALIDATOR_PYTHON is not set: the OpenAPI 3.1 schema validation is skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = std::process::Command::new(python).args(["-m", "openapi_spec_validator"]).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{name}: not valid OpenAPI 3.1:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

tenant_core::both_backends! {
    register = register;

    async fn the_document_is_valid_and_matches_the_router(app: TestApp) {
        let r = app.get("/api/openapi.json", &Auth::none()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let doc = r.body.clone();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(app.get("/api/openapi.json/", &Auth::none()).await.body, doc, "both slash forms");
        validate_with_openapi_spec_validator(&doc, "demo");

        // Every documented path exists (an undocumented method answers 405, not 404), with
        // exactly its documented methods.
        let paths = documented(&doc);
        let me = app.signup("Acme").await;
        for (path, methods) in &paths {
            let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string()).replace("{user_id}", &uuid::Uuid::now_v7().to_string());
            let r = app.request("OPTIONS", &concrete, &me.auth(), None).await;
            assert_eq!(r.status, 405, "OPTIONS {concrete}: the documented path {path} is not routed: {}", r.text);
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                let body = (method != "GET" && method != "DELETE").then(|| json!({}));
                let r = app.request(method, &concrete, &me.auth(), body).await;
                if methods.contains(method) {
                    assert_ne!(r.status, 405, "{method} {path} is documented but not served");
                } else {
                    assert_eq!(r.status, 405, "{method} {path} is served ({}) but not documented", r.status);
                }
            }
        }
        // And every path the router registered is documented.
        let registered: BTreeSet<String> = tenant_core::testing::registered_paths().into_iter().collect();
        let listed: BTreeSet<String> = paths.keys().cloned().collect();
        assert_eq!(registered, listed, "registered paths (left) and documented paths (right) differ");
    }
}

#[tokio::test]
async fn the_document_says_what_the_models_say() {
    let app = TestApp::for_app(Backend::Sqlite, register).await.unwrap();
    let doc = app.get("/api/openapi.json", &Auth::none()).await.body;
    let s = schemas(&doc);

    // Formats, bounds, nullability (3.1 style), enums, read-only system fields.
    let customer = &s["Customer"]["properties"];
    assert_eq!(customer["email"]["format"], "email");
    assert_eq!((customer["name"]["minLength"].clone(), customer["name"]["maxLength"].clone()), (json!(1), json!(200)));
    assert_eq!(customer["phone"]["type"], json!(["string", "null"]));
    assert_eq!(customer["id"]["format"], "uuid");
    assert_eq!(customer["id"]["readOnly"], true);
    assert_eq!(customer["created_at"]["format"], "date-time");
    assert_eq!(s["Invoice"]["properties"]["status"]["enum"], json!(["draft", "sent", "paid"]));
    assert_eq!(s["Invoice"]["properties"]["issued_on"]["format"], "date");
    assert_eq!(s["Product"]["properties"]["price_cents"]["minimum"], 0);
    // Create: required = no default and not Option; partial update: nothing required.
    assert_eq!(s["CustomerInput"]["required"], json!(["name", "email"]));
    assert!(s["CustomerPatch"].get("required").is_none());
    assert_eq!(s["CustomerPage"]["properties"]["results"]["items"]["$ref"], "#/components/schemas/Customer");

    // Field control and computed fields.
    let board = &s["Board"]["properties"];
    assert!(board.get("secret").is_none(), "a write-only field is not in responses");
    assert_eq!(board["archived"]["readOnly"], true);
    assert_eq!(s["BoardInput"]["properties"]["secret"]["writeOnly"], true);
    assert!(s["BoardInput"]["properties"].get("archived").is_none(), "a read-only field is not in bodies");
    assert_eq!(s["Card"]["properties"]["is_long"], json!({"type": "boolean", "readOnly": true}));
    assert!(s["Card"]["required"].as_array().unwrap().contains(&json!("is_long")));

    // List parameters: pages, ordering as an enum, search, filters and lookups with their types.
    let list = "/api/invoices";
    assert_eq!(parameter(&doc, list, "get", "page_size")["schema"]["maximum"], 100);
    let ordering = &parameter(&doc, list, "get", "ordering")["schema"]["items"]["enum"];
    for term in ["number", "-number", "issued_on", "-issued_on"] {
        assert!(ordering.as_array().unwrap().contains(&json!(term)), "{term} not in {ordering}");
    }
    assert_eq!(parameter(&doc, list, "get", "status__in")["schema"]["items"]["enum"], json!(["draft", "sent", "paid"]));
    assert_eq!(parameter(&doc, list, "get", "issued_on__isnull")["schema"]["type"], "boolean");
    assert_eq!(parameter(&doc, list, "get", "amount_cents__gte")["schema"]["format"], "int64");
    assert_eq!(parameter(&doc, list, "get", "customer_id")["schema"]["format"], "uuid");
    assert_eq!(parameter(&doc, list, "get", "X-Company-Id")["in"], "header");

    // Route selection, nested routes and actions.
    assert!(
        doc["paths"]["/api/oa_boards/{id}"].get("put").is_none()
            && doc["paths"]["/api/oa_boards/{id}"].get("delete").is_none()
    );
    assert!(doc["paths"]["/api/oa_boards/{id}/oa_cards"].get("post").is_some());
    let nested_body =
        &doc["paths"]["/api/oa_boards/{id}/oa_cards"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert!(nested_body["properties"].get("board_id").is_none(), "the reference comes from the path");
    assert!(doc["paths"]["/api/oa_cards/{id}/flip"]["post"]["summary"].as_str().unwrap().contains("Admins only"));

    // Security: bearer everywhere but the public routes; the 401 and 403 answers where they apply.
    assert_eq!(doc["security"], json!([{"bearerAuth": []}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );
    for public in
        [("/api/auth/signup", "post"), ("/api/auth/token", "post"), ("/healthz", "get"), ("/api/openapi.json", "get")]
    {
        assert_eq!(doc["paths"][public.0][public.1]["security"], json!([]), "{public:?}");
    }
    let retrieve = &doc["paths"]["/api/customers/{id}"]["get"]["responses"];
    for status in ["200", "401", "403", "404", "503"] {
        assert!(retrieve.get(status).is_some(), "retrieve lacks {status}");
    }
    let create = &doc["paths"]["/api/customers"]["post"]["responses"];
    for status in ["201", "400", "409", "413", "415"] {
        assert!(create.get(status).is_some(), "create lacks {status}");
    }
    assert!(create["201"]["headers"].get("Location").is_some());
}

/// The schema `schema` names: itself, or the component its `$ref` points to.
fn resolve<'a>(doc: &'a Json, schema: &'a Json) -> &'a Json {
    match schema["$ref"].as_str() {
        Some(reference) => &schemas(doc)[reference.rsplit('/').next().unwrap()],
        None => schema,
    }
}

tenant_core::both_backends! {
    register = register;

    // Found by schemathesis (scripts/schemathesis.sh, `negative_data_rejection`): the document
    // required `default_company_id` in `PATCH /api/me` and `role` in `PATCH /api/members/{user_id}`,
    // but a PATCH is partial (DRF's `partial=True`): `{}` is a valid body, answered 200 with
    // nothing changed. Every PATCH body of the document requires no field.
    async fn patch_bodies_require_no_field(app: TestApp) {
        let doc = app.get("/api/openapi.json", &Auth::none()).await.body;
        let mut patches = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(patch) = item.get("patch") else { continue };
            patches += 1;
            let body = resolve(&doc, &patch["requestBody"]["content"]["application/json"]["schema"]);
            assert!(
                body.get("required").is_none_or(|r| r.as_array().unwrap().is_empty()),
                "PATCH {path}: a partial update's body requires {}",
                body["required"]
            );
        }
        assert!(patches >= 5, "the demo's and the board's PATCH routes: {patches}");

        // The minimal inputs: an empty PATCH changes nothing and answers 200.
        let alice = app.signup("Acme").await;
        let before = app.get("/api/me", &alice.auth()).await.body;
        let r = app.patch("/api/me", &alice.auth(), json!({})).await;
        r.assert_status(200);
        assert_eq!(r.body, before);
        let r = app.patch(&format!("/api/members/{}", alice.id), &alice.auth(), json!({})).await;
        r.assert_status(200);
        assert_eq!(r.body["role"], "admin");
    }
}
