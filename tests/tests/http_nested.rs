//! Nested collections (issue 10, item 6) over HTTP on both backends:
//! `#[field(references = Project, nested)]` serves `GET`/`POST /api/projects/{id}/tasks`; a
//! missing or another company's parent is the 404 of a missing object; a create takes the
//! project from the path, never from the body.

use serde_json::json;
use tenant_core::{App, tenant_resource};
use tests::*;
use uuid::Uuid;

#[tenant_resource(table = "ns_projects", path = "/api/projects")]
pub struct Project {
    #[field(len = 1..=100)]
    pub name: String,
}

#[tenant_resource(table = "ns_tasks", path = "/api/tasks", create = "admin")]
pub struct Task {
    #[field(references = Project, nested, filter)]
    pub project_id: Uuid,
    #[field(len = 1..=100, search, order)]
    pub title: String,
}

fn register(app: App) -> App {
    app.resource::<Project>().resource::<Task>()
}

async fn project(app: &TestApp, user: &User) -> Uuid {
    let r = app.post("/api/projects", &user.auth(), json!({"name": "P"})).await;
    r.assert_status(201);
    r.id()
}

fn titles(r: &Resp) -> Vec<&str> {
    r.get("results").as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect()
}

both_backends! {
    register = register;

    async fn a_nested_collection_lists_and_creates_within_its_parent(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (p, q) = (project(&app, &alice).await, project(&app, &alice).await);
        for (i, path) in [format!("/api/projects/{p}/tasks"), format!("/api/projects/{p}/tasks/")].iter().enumerate() {
            // The body's project is ignored: the path's is taken.
            let r = app.post(path, &alice.auth(), json!({"title": format!("p{i}"), "project_id": q})).await;
            r.assert_status(201);
            assert_eq!(r.get("project_id"), &json!(p.to_string()));
            assert_eq!(r.header("location"), Some(format!("/api/tasks/{}", r.id()).as_str()));
        }
        app.post(&format!("/api/projects/{q}/tasks"), &alice.auth(), json!({"title": "q0"})).await.assert_status(201);
        let r = app.get(&format!("/api/projects/{p}/tasks?ordering=-title"), &alice.auth()).await;
        r.assert_status(200);
        assert_eq!((r.get("count"), titles(&r)), (&json!(2), vec!["p1", "p0"]));
        // The child's list parameters apply, and page links keep the nested path.
        let r = app.get(&format!("/api/projects/{p}/tasks?search=p1"), &alice.auth()).await;
        assert_eq!(titles(&r), vec!["p1"]);
        let r = app.get(&format!("/api/projects/{p}/tasks?page_size=1"), &alice.auth()).await;
        let next = r.get("next").as_str().unwrap();
        assert!(next.contains(&format!("/api/projects/{p}/tasks?")) && next.contains("page=2"), "{next}");
        // An explicit filter on another project cannot widen the nested list.
        let r = app.get(&format!("/api/projects/{p}/tasks?project_id={q}"), &alice.auth()).await;
        assert_eq!(r.get("count"), &json!(0));
        // The flat collection is still there.
        let r = app.get("/api/tasks", &alice.auth()).await;
        assert_eq!(r.get("count"), &json!(3));
    }

    async fn a_missing_foreign_or_malformed_parent_is_a_404_and_nothing_is_written(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let theirs = project(&app, &alice).await;
        app.post(&format!("/api/projects/{theirs}/tasks"), &alice.auth(), json!({"title": "secret"})).await.assert_status(201);
        let mine = project(&app, &mallory).await;
        for parent in [theirs.to_string(), Uuid::now_v7().to_string(), "nope".to_string()] {
            let r = app.get(&format!("/api/projects/{parent}/tasks"), &mallory.auth()).await;
            r.assert_status(404);
            assert_eq!(r.body, json!({"detail": "Not found."}));
            let r = app.post(&format!("/api/projects/{parent}/tasks"), &mallory.auth(), json!({"title": "x", "project_id": mine})).await;
            r.assert_status(404);
            assert_eq!(r.body, json!({"detail": "Not found."}));
        }
        let r = app.get("/api/tasks", &mallory.auth()).await;
        assert_eq!(r.get("count"), &json!(0), "nothing was created: {}", r.text);
        let r = app.get(&format!("/api/projects/{theirs}/tasks"), &alice.auth()).await;
        assert_eq!(titles(&r), vec!["secret"]);
    }

    async fn a_nested_create_keeps_the_resources_role(app: TestApp) {
        let admin = app.signup("Acme").await;
        let staff = app.signup("Staffer").await;
        app.add_member(&admin, &staff, "staff").await;
        let p = project(&app, &admin).await;
        let r = app.post(&format!("/api/projects/{p}/tasks"), &staff.in_company(admin.company_id), json!({"title": "t"})).await;
        r.assert_status(403);
        let r = app.get(&format!("/api/projects/{p}/tasks"), &staff.in_company(admin.company_id)).await;
        assert_eq!(r.get("count"), &json!(0));
        let r = app.delete(&format!("/api/projects/{p}/tasks"), &admin.auth()).await;
        r.assert_status(405);
    }
}
