//! Custom actions (issue 10, item 4) over HTTP on both backends: a detail action and collection
//! actions on a resource's routes, with both slash forms, the framework's error bodies, the
//! declared minimum role, and the active company's rows only.

use axum::http::Method;
use chrono::NaiveDate;
use serde_json::json;
use tenant_core::actions::Object;
use tenant_core::body::JsonObject;
use tenant_core::{ApiError, App, ListQuery, Role, Tenant, tenant_resource};
use tests::*;

#[tenant_resource(table = "ac_tasks", path = "/api/tasks")]
pub struct Task {
    #[field(len = 1..=100)]
    pub title: String,
    pub due_on: NaiveDate,
    #[field(default, filter)]
    pub done: bool,
    pub note: Option<String>,
}

/// `POST /api/tasks/{id}/complete` with an optional `{"note": "…"}`.
async fn complete(
    Object { mut scoped, object: task, .. }: Object<Task>,
    JsonObject(body): JsonObject,
) -> Result<axum::Json<Task>, ApiError> {
    if task.done {
        return Err(ApiError::Conflict("This task is already done.".into()));
    }
    let note = match body.get("note") {
        None => None,
        Some(serde_json::Value::String(note)) => Some(Some(note.clone())),
        Some(_) => return Err(ApiError::field("note", "Not a valid string.")),
    };
    let patch = TaskPatch { done: Some(true), note, ..Default::default() };
    let task = scoped.update::<Task>(task.id, patch).await?;
    scoped.commit().await?;
    Ok(axum::Json(task))
}

/// `GET /api/tasks/overdue`: the undone tasks due before 2026-01-01.
async fn overdue(mut tenant: Tenant) -> Result<axum::Json<Vec<Task>>, ApiError> {
    let query = ListQuery::parse(&<Task as tenant_core::Resource>::DESC, &[("done".into(), "false".into())])?;
    let mut scoped = tenant.begin()?;
    let (_, tasks) = scoped.list::<Task>(&ListQuery { page_size: 100, ..query }).await?;
    scoped.commit().await?;
    let cutoff = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    Ok(axum::Json(tasks.into_iter().filter(|t| t.due_on < cutoff).collect()))
}

/// `DELETE /api/tasks/done` (admin): removes the done tasks, answers how many.
async fn purge_done(mut tenant: Tenant) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let query = ListQuery::parse(&<Task as tenant_core::Resource>::DESC, &[("done".into(), "true".into())])?;
    let mut scoped = tenant.begin()?;
    let (_, tasks) = scoped.list::<Task>(&ListQuery { page_size: 100, ..query }).await?;
    for task in &tasks {
        scoped.delete::<Task>(task.id).await?;
    }
    scoped.commit().await?;
    Ok(axum::Json(json!({"deleted": tasks.len()})))
}

fn register(app: App) -> App {
    app.resource_with::<Task>(|routes| {
        routes
            .detail_action(Method::POST, "complete", Role::Staff, complete)
            .collection_action(Method::GET, "overdue", Role::Staff, overdue)
            .collection_action(Method::DELETE, "done", Role::Admin, purge_done)
    })
}

async fn task(app: &TestApp, user: &User, title: &str, due_on: &str) -> uuid::Uuid {
    let r = app.post("/api/tasks", &user.auth(), json!({"title": title, "due_on": due_on})).await;
    r.assert_status(201);
    r.id()
}

both_backends! {
    register = register;

    async fn a_detail_action_works_on_both_slash_forms_with_the_framework_errors(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (a, b) = (task(&app, &alice, "a", "2026-05-01").await, task(&app, &alice, "b", "2026-05-01").await);
        let r = app.post(&format!("/api/tasks/{a}/complete"), &alice.auth(), json!({"note": "shipped"})).await;
        r.assert_status(200);
        assert_eq!((r.get("done"), r.get("note")), (&json!(true), &json!("shipped")));
        let r = app.post(&format!("/api/tasks/{b}/complete/"), &alice.auth(), json!({})).await;
        r.assert_status(200);
        let r = app.post(&format!("/api/tasks/{a}/complete"), &alice.auth(), json!({})).await;
        r.assert_status(409);
        assert_eq!(r.assert_detail(), "This task is already done.");
        let r = app.post(&format!("/api/tasks/{a}/complete"), &alice.auth(), json!([1])).await;
        r.assert_status(400);
        // A method the action does not serve: API.md's 405.
        let r = app.get(&format!("/api/tasks/{a}/complete"), &alice.auth()).await;
        r.assert_status(405);
        assert!(r.body.get("detail").is_some(), "{}", r.text);
        // Not a UUID, or no such task: the 404 of every route.
        for path in ["/api/tasks/nope/complete".to_string(), format!("/api/tasks/{}/complete", uuid::Uuid::now_v7())] {
            let r = app.post(&path, &alice.auth(), json!({})).await;
            r.assert_status(404);
            assert_eq!(r.body, json!({"detail": "Not found."}));
        }
        let r = app.post(&format!("/api/tasks/{a}/complete"), &Auth::none(), json!({})).await;
        r.assert_status(401);
    }

    async fn a_collection_action_sees_the_active_company_only(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let late = task(&app, &alice, "late", "2025-06-01").await;
        task(&app, &alice, "future", "2026-06-01").await;
        task(&app, &mallory, "theirs", "2025-06-01").await;
        for path in ["/api/tasks/overdue", "/api/tasks/overdue/"] {
            let r = app.get(path, &alice.auth()).await;
            r.assert_status(200);
            let ids: Vec<&str> = r.body.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
            assert_eq!(ids, vec![late.to_string()]);
        }
        let r = app.get("/api/tasks/overdue", &mallory.auth()).await;
        assert_eq!(r.body.as_array().unwrap().len(), 1);
        assert_ne!(r.body[0]["id"], json!(late.to_string()));
        // The action's path does not shadow the item route: an id still retrieves.
        app.get(&format!("/api/tasks/{late}"), &alice.auth()).await.assert_status(200);
    }

    async fn an_action_answers_a_lower_role_403_before_anything_runs(app: TestApp) {
        let admin = app.signup("Acme").await;
        let staff = app.signup("Staffer").await;
        app.add_member(&admin, &staff, "staff").await;
        let done = task(&app, &admin, "d", "2026-05-01").await;
        app.post(&format!("/api/tasks/{done}/complete"), &admin.auth(), json!({})).await.assert_status(200);
        let r = app.delete("/api/tasks/done", &staff.in_company(admin.company_id)).await;
        r.assert_status(403);
        assert_eq!(r.assert_detail(), "You do not have permission to perform this action.");
        app.get(&format!("/api/tasks/{done}"), &admin.auth()).await.assert_status(200);
        let r = app.delete("/api/tasks/done/", &admin.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"deleted": 1}));
        app.get(&format!("/api/tasks/{done}"), &admin.auth()).await.assert_status(404);
        // Staff may complete (the detail action's role).
        let t = task(&app, &admin, "t", "2026-05-01").await;
        app.post(&format!("/api/tasks/{t}/complete"), &staff.in_company(admin.company_id), json!({})).await.assert_status(200);
    }

    async fn a_detail_action_never_reaches_another_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let theirs = task(&app, &alice, "t", "2026-05-01").await;
        let foreign = app.post(&format!("/api/tasks/{theirs}/complete"), &mallory.auth(), json!({})).await;
        let missing = app.post(&format!("/api/tasks/{}/complete", uuid::Uuid::now_v7()), &mallory.auth(), json!({})).await;
        assert_eq!((foreign.status, &foreign.body), (missing.status, &missing.body));
        assert_eq!(foreign.status, 404);
        let r = app.delete("/api/tasks/done", &mallory.auth()).await;
        assert_eq!(r.body, json!({"deleted": 0}));
        let r = app.get(&format!("/api/tasks/{theirs}"), &alice.auth()).await;
        assert_eq!(r.get("done"), &json!(false));
        // Naming Alice's company does not help a non-member.
        let r = app.post(&format!("/api/tasks/{theirs}/complete"), &mallory.in_company(alice.company_id), json!({})).await;
        r.assert_status(403);
    }
}
