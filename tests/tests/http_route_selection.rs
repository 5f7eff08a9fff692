//! Route selection (issue 10, item 5), over HTTP on both backends: a resource serves the routes
//! its DRF actions name (`read_only`, `actions = "…"`). Any other method on a path it serves is
//! a 405 `{"detail": "Method not allowed."}` with `Allow` naming the methods that path serves;
//! a path serving no method is a 404 like any unknown route; both slash forms alike. The served
//! routes keep their rules: roles, and another company's id is a 404.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tenant_core::{App, tenant_resource};
use tests::*;
use uuid::Uuid;

/// DRF's `ReadOnlyModelViewSet`: `GET /api/rates`, `GET /api/rates/{id}`. Rows are written by
/// the app's own code (here, the test through `Scoped`).
#[tenant_resource(table = "rs_rates", path = "/api/rates", read_only)]
pub struct Rate {
    pub label: String,
    pub cents: i64,
}

/// `GET` and `POST /api/reports`; no item path at all.
#[tenant_resource(table = "rs_reports", path = "/api/reports", actions = "list, create")]
pub struct Report {
    #[field(len = 1..=100, order)]
    pub title: String,
}

/// `GET` and `PATCH /api/settings/{id}`; no collection path at all. Only admins change them.
#[tenant_resource(
    table = "rs_settings",
    path = "/api/settings",
    actions = "retrieve, partial_update",
    update = "admin"
)]
pub struct Setting {
    pub name: String,
    pub value: String,
}

fn register(app: App) -> App {
    app.resource::<Rate>().resource::<Report>().resource::<Setting>()
}

/// A rate and a setting of `company`, written as a job would.
async fn seed(app: &TestApp, company: Uuid) -> (Uuid, Uuid) {
    let mut scoped = app.scoped(company).await;
    let rate = scoped.create::<Rate>(RateInput { label: "standard".into(), cents: 1200 }).await.expect("a rate");
    let setting =
        scoped.create::<Setting>(SettingInput { name: "theme".into(), value: "dark".into() }).await.expect("a setting");
    scoped.commit().await.expect("committed");
    (rate.id, setting.id)
}

/// `path` and `path/`.
fn both_forms(path: &str) -> [String; 2] {
    [path.to_string(), format!("{path}/")]
}

/// The methods of an `Allow` header.
fn allowed(r: &Resp) -> BTreeSet<String> {
    let allow = r.header("allow").unwrap_or_else(|| panic!("a 405 names the allowed methods: {:?}", r.headers));
    allow.split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect()
}

fn methods(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|m| m.to_string()).collect()
}

/// Sends `method` with a JSON body (as a client writing would) and checks API.md's 405.
#[track_caller]
fn assert_405(r: &Resp, method: &str, path: &str, allow: &[&str]) {
    assert_eq!(r.status, 405, "{method} {path}: {}", r.text);
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("application/json"), "{method} {path}: a JSON 405, got {ct:?}");
    assert_eq!(r.body, json!({"detail": "Method not allowed."}), "{method} {path}");
    assert_eq!(allowed(r), methods(allow), "{method} {path}: Allow");
}

#[track_caller]
fn assert_not_found(r: &Resp, method: &str, path: &str) {
    assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
    assert_eq!(r.body, json!({"detail": "Not found."}), "{method} {path}");
}

/// Every row of `path`'s list for `user`, read through the list route when it is served.
async fn count(app: &TestApp, user: &User, path: &str) -> Value {
    let r = app.get(path, &user.auth()).await;
    r.assert_status(200);
    r.body["count"].clone()
}

both_backends! {
    register = register;

    async fn read_only_serves_list_and_retrieve(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (rate, _) = seed(&app, alice.company_id).await;
        for path in both_forms("/api/rates") {
            let r = app.get(&path, &alice.auth()).await;
            r.assert_status(200);
            assert_eq!(r.body["count"], json!(1), "{path}");
            assert_eq!(r.body["results"][0]["label"], json!("standard"), "{path}");
        }
        for path in both_forms(&format!("/api/rates/{rate}")) {
            let r = app.get(&path, &alice.auth()).await;
            r.assert_status(200);
            assert_eq!((r.id(), r.get("cents")), (rate, &json!(1200)), "{path}");
        }
    }

    async fn methods_not_served_answer_405_with_allow_on_both_slash_forms(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (rate, setting) = seed(&app, alice.company_id).await;
        let r = app.post("/api/reports", &alice.auth(), json!({"title": "Q1"})).await;
        r.assert_status(201);
        let report = r.id();
        // Each path that serves something, the methods it does not serve, and its `Allow`.
        let cases: [(String, &[&str], &[&str]); 4] = [
            ("/api/rates".into(), &["POST", "PUT", "PATCH", "DELETE"], &["GET", "HEAD"]),
            (format!("/api/rates/{rate}"), &["POST", "PUT", "PATCH", "DELETE"], &["GET", "HEAD"]),
            ("/api/reports".into(), &["PUT", "PATCH", "DELETE"], &["GET", "HEAD", "POST"]),
            (format!("/api/settings/{setting}"), &["POST", "PUT", "DELETE"], &["GET", "HEAD", "PATCH"]),
        ];
        for (path, refused, allow) in &cases {
            for path in both_forms(path) {
                for method in *refused {
                    let body = json!({"label": "changed", "cents": 1, "title": "changed", "name": "changed", "value": "changed"});
                    let r = app.request(method, &path, &alice.auth(), Some(body)).await;
                    assert_405(&r, method, &path, allow);
                }
            }
        }
        // Nothing was created, changed or deleted by the refused requests.
        assert_eq!(count(&app, &alice, "/api/rates").await, json!(1));
        assert_eq!(count(&app, &alice, "/api/reports").await, json!(1));
        let r = app.get(&format!("/api/rates/{rate}"), &alice.auth()).await;
        assert_eq!((r.get("label"), r.get("cents")), (&json!("standard"), &json!(1200)));
        let r = app.get(&format!("/api/settings/{setting}"), &alice.auth()).await;
        assert_eq!((r.get("name"), r.get("value")), (&json!("theme"), &json!("dark")));
        let mut scoped = app.scoped(alice.company_id).await;
        assert_eq!(scoped.get::<Report>(report).await.expect("still there").title, "Q1");
    }

    async fn a_path_serving_no_method_is_a_404(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (_, setting) = seed(&app, alice.company_id).await;
        let r = app.post("/api/reports", &alice.auth(), json!({"title": "Q1"})).await;
        r.assert_status(201);
        let report = r.id();
        // `Report` has no item route: not even its own id is found, with any method.
        for path in both_forms(&format!("/api/reports/{report}")) {
            for method in ["GET", "PUT", "PATCH", "DELETE", "POST"] {
                let r = app.request(method, &path, &alice.auth(), Some(json!({"title": "changed"}))).await;
                assert_not_found(&r, method, &path);
            }
        }
        // `Setting` has no collection route.
        for path in both_forms("/api/settings") {
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                let r = app.request(method, &path, &alice.auth(), Some(json!({"name": "n", "value": "v"}))).await;
                assert_not_found(&r, method, &path);
            }
        }
        let mut scoped = app.scoped(alice.company_id).await;
        assert_eq!(scoped.get::<Report>(report).await.expect("still there").title, "Q1");
        assert_eq!(scoped.get::<Setting>(setting).await.expect("still there").name, "theme");
    }

    async fn served_writes_work_on_both_slash_forms(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (_, setting) = seed(&app, alice.company_id).await;
        for (n, path) in both_forms("/api/reports").iter().enumerate() {
            let r = app.post(path, &alice.auth(), json!({"title": format!("report {n}")})).await;
            r.assert_status(201);
            assert_eq!(r.get("title"), &json!(format!("report {n}")));
            // `Location` would name an item route this resource does not serve.
            assert_eq!(r.header("location"), None, "{path}");
        }
        let r = app.post("/api/reports", &alice.auth(), json!({"title": ""})).await;
        r.assert_status(400);
        r.assert_field_error("title");
        let r = app.get("/api/reports?ordering=-title", &alice.auth()).await;
        assert_eq!(r.body["count"], json!(2));

        for (n, path) in both_forms(&format!("/api/settings/{setting}")).iter().enumerate() {
            let r = app.patch(path, &alice.auth(), json!({"value": format!("light {n}")})).await;
            r.assert_status(200);
            assert_eq!((r.id(), r.get("value"), r.get("name")), (setting, &json!(format!("light {n}")), &json!("theme")));
        }
        let r = app.get(&format!("/api/settings/{setting}/"), &alice.auth()).await;
        r.assert_status(200);
        assert_eq!(r.get("value"), &json!("light 1"));
    }

    async fn roles_still_apply_to_the_served_writes(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob's").await;
        app.add_member(&alice, &bob, "staff").await;
        let (_, setting) = seed(&app, alice.company_id).await;
        let path = format!("/api/settings/{setting}");
        let r = app.patch(&path, &bob.in_company(alice.company_id), json!({"value": "light"})).await;
        r.assert_status(403);
        r.assert_detail();
        // Reads are any member's.
        app.get(&path, &bob.in_company(alice.company_id)).await.assert_status(200);
        let r = app.patch(&path, &alice.auth(), json!({"value": "light"})).await;
        r.assert_status(200);
        assert_eq!(r.get("value"), &json!("light"));
    }

    async fn another_companys_ids_are_not_found_on_served_routes(app: TestApp) {
        let alice = app.signup("Acme").await;
        let eve = app.signup("Evil").await;
        let (rate, setting) = seed(&app, alice.company_id).await;
        let r = app.post("/api/reports", &alice.auth(), json!({"title": "Acme's"})).await;
        r.assert_status(201);
        for path in both_forms(&format!("/api/rates/{rate}")) {
            assert_not_found(&app.get(&path, &eve.auth()).await, "GET", &path);
        }
        for path in both_forms(&format!("/api/settings/{setting}")) {
            assert_not_found(&app.get(&path, &eve.auth()).await, "GET", &path);
            let r = app.patch(&path, &eve.auth(), json!({"value": "pwned"})).await;
            assert_not_found(&r, "PATCH", &path);
        }
        assert_eq!(count(&app, &eve, "/api/rates").await, json!(0));
        assert_eq!(count(&app, &eve, "/api/reports").await, json!(0));
        // Eve's own rows are hers alone.
        let (eves_rate, _) = seed(&app, eve.company_id).await;
        let r = app.get("/api/rates", &eve.auth()).await;
        assert_eq!(r.body["results"].as_array().map(|a| a.len()), Some(1));
        assert_eq!(r.body["results"][0]["id"], json!(eves_rate.to_string()));
        // Alice's are untouched.
        let r = app.get(&format!("/api/settings/{setting}"), &alice.auth()).await;
        assert_eq!(r.get("value"), &json!("dark"));
        assert_eq!(count(&app, &alice, "/api/reports").await, json!(1));
    }
}
