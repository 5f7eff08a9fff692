//! Hooks (issue 10, item 1) and the typed operations of `Scoped` (item 3), over HTTP on both
//! backends: a project tracker whose tasks run every hook. Each hook's effect is seen through
//! the generated endpoints, an error in any hook rolls the whole write back, and a hook that
//! reads another resource sees only the active company's rows.

use chrono::NaiveDate;
use serde_json::json;
use tenant_core::{ApiError, App, Hooks, Scoped, tenant_resource};
use tests::*;
use uuid::Uuid;

#[tenant_resource(table = "hk_projects", path = "/api/projects", delete = "staff")]
pub struct Project {
    #[field(len = 1..=100)]
    pub name: String,
    pub starts_on: NaiveDate,
    /// Kept by the task hooks.
    #[field(default)]
    pub task_count: i32,
}

#[tenant_resource(table = "hk_tasks", path = "/api/tasks", delete = "staff", hooks)]
pub struct Task {
    #[field(references = Project, filter)]
    pub project_id: Uuid,
    #[field(len = 1..=100)]
    pub title: String,
    pub due_on: NaiveDate,
    #[field(default)]
    pub done: bool,
    /// Set by `before_create` for titles that start with `!`.
    pub flagged_on: Option<NaiveDate>,
}

impl Hooks for Task {
    async fn validate(scoped: &mut Scoped, task: &Task, old: Option<&Task>) -> Result<(), ApiError> {
        if task.title == "forbidden" {
            return Err(ApiError::non_field("This title is not allowed."));
        }
        if old.is_some_and(|old| old.done && task.done && old.title != task.title) {
            return Err(ApiError::field("title", "A done task keeps its title."));
        }
        // A foreign or missing project is `find`'s `None`: the reference check answers it.
        if let Some(project) = scoped.find::<Project>(task.project_id).await?
            && task.due_on < project.starts_on
        {
            return Err(ApiError::field("due_on", "A task cannot be due before its project starts."));
        }
        Ok(())
    }

    async fn before_create(_scoped: &mut Scoped, task: &mut Task) -> Result<(), ApiError> {
        if task.title.starts_with('!') {
            task.flagged_on = Some(task.due_on);
        }
        // Whatever a hook writes here, the row stays the active company's.
        task.company_id = Uuid::nil();
        task.id = Uuid::nil();
        Ok(())
    }

    async fn after_create(scoped: &mut Scoped, task: &Task) -> Result<(), ApiError> {
        count_task(scoped, task.project_id, 1).await?;
        if task.title == "rollback" {
            return Err(ApiError::field("title", "rolled back after the insert"));
        }
        Ok(())
    }

    async fn before_update(_scoped: &mut Scoped, task: &mut Task, old: &Task) -> Result<(), ApiError> {
        task.company_id = Uuid::nil();
        if task.done && !old.done {
            task.title = format!("{} (done)", task.title);
        }
        Ok(())
    }

    async fn after_update(scoped: &mut Scoped, task: &Task, old: &Task) -> Result<(), ApiError> {
        if task.project_id != old.project_id {
            count_task(scoped, old.project_id, -1).await?;
            count_task(scoped, task.project_id, 1).await?;
        }
        if task.title == "boom" {
            return Err(ApiError::field("title", "rolled back after the update"));
        }
        Ok(())
    }

    async fn before_delete(_scoped: &mut Scoped, task: &Task) -> Result<(), ApiError> {
        if task.done {
            return Err(ApiError::Conflict("A done task cannot be deleted.".into()));
        }
        Ok(())
    }

    async fn after_delete(scoped: &mut Scoped, task: &Task) -> Result<(), ApiError> {
        count_task(scoped, task.project_id, -1).await
    }
}

/// Typed operations inside a hook: read the project, write its count back.
async fn count_task(scoped: &mut Scoped, project_id: Uuid, by: i32) -> Result<(), ApiError> {
    let project = scoped.get::<Project>(project_id).await?;
    let patch = ProjectPatch { task_count: Some(project.task_count + by), ..Default::default() };
    scoped.update::<Project>(project_id, patch).await?;
    Ok(())
}

fn register(app: App) -> App {
    app.resource::<Project>().resource::<Task>()
}

async fn project(app: &TestApp, user: &User, starts_on: &str) -> Uuid {
    let r = app.post("/api/projects", &user.auth(), json!({"name": "P", "starts_on": starts_on})).await;
    r.assert_status(201);
    r.id()
}

async fn task_count(app: &TestApp, user: &User, project: Uuid) -> i64 {
    let r = app.get(&format!("/api/projects/{project}"), &user.auth()).await;
    r.assert_status(200);
    r.get("task_count").as_i64().unwrap()
}

both_backends! {
    register = register;

    async fn validate_runs_on_create_and_update_with_drf_bodies(app: TestApp) {
        let alice = app.signup("Acme").await;
        let p = project(&app, &alice, "2026-05-01").await;
        let early = json!({"project_id": p, "title": "T", "due_on": "2026-04-30"});
        let r = app.post("/api/tasks", &alice.auth(), early).await;
        r.assert_status(400);
        assert_eq!(r.body, json!({"due_on": ["A task cannot be due before its project starts."]}));
        let r = app.post("/api/tasks", &alice.auth(), json!({"project_id": p, "title": "forbidden", "due_on": "2026-05-02"})).await;
        r.assert_status(400);
        assert_eq!(r.body, json!({"non_field_errors": ["This title is not allowed."]}));
        assert_eq!(task_count(&app, &alice, p).await, 0, "nothing was written");

        let r = app.post("/api/tasks", &alice.auth(), json!({"project_id": p, "title": "T", "due_on": "2026-05-01"})).await;
        r.assert_status(201);
        let task = r.id();
        let r = app.patch(&format!("/api/tasks/{task}"), &alice.auth(), json!({"due_on": "2026-01-01"})).await;
        r.assert_status(400);
        r.assert_field_error("due_on");
        let r = app.put(&format!("/api/tasks/{task}"), &alice.auth(), json!({"project_id": p, "title": "forbidden", "due_on": "2026-06-01"})).await;
        r.assert_status(400);
        let r = app.get(&format!("/api/tasks/{task}"), &alice.auth()).await;
        assert_eq!((r.get("title"), r.get("due_on")), (&json!("T"), &json!("2026-05-01")), "unchanged");
    }

    async fn before_create_sets_server_fields_but_never_the_company_or_id(app: TestApp) {
        let alice = app.signup("Acme").await;
        let p = project(&app, &alice, "2026-05-01").await;
        let r = app.post("/api/tasks", &alice.auth(), json!({"project_id": p, "title": "!urgent", "due_on": "2026-05-03"})).await;
        r.assert_status(201);
        assert_eq!(r.get("flagged_on"), &json!("2026-05-03"));
        assert_eq!(r.get("company_id"), &json!(alice.company_id.to_string()));
        let id = r.id();
        assert_ne!(id, Uuid::nil());
        assert_eq!(r.header("location"), Some(format!("/api/tasks/{id}").as_str()));
        let r = app.get(&format!("/api/tasks/{id}"), &alice.auth()).await;
        r.assert_status(200);
        assert_eq!(r.get("flagged_on"), &json!("2026-05-03"));
        assert_eq!(r.get("company_id"), &json!(alice.company_id.to_string()));
    }

    async fn after_hooks_write_in_the_same_transaction_and_their_errors_roll_back(app: TestApp) {
        let alice = app.signup("Acme").await;
        let (p, q) = (project(&app, &alice, "2026-05-01").await, project(&app, &alice, "2026-05-01").await);
        let body = |title: &str, project: Uuid| json!({"project_id": project, "title": title, "due_on": "2026-05-02"});
        let r = app.post("/api/tasks", &alice.auth(), body("a", p)).await;
        r.assert_status(201);
        let task = r.id();
        assert_eq!(task_count(&app, &alice, p).await, 1);

        // An error after the INSERT: neither the task nor the count survives.
        let r = app.post("/api/tasks", &alice.auth(), body("rollback", p)).await;
        r.assert_status(400);
        assert_eq!(task_count(&app, &alice, p).await, 1);
        let r = app.get("/api/tasks", &alice.auth()).await;
        assert_eq!(r.get("count"), &json!(1));

        // Moving the task moves the count; an error after the UPDATE undoes both.
        app.patch(&format!("/api/tasks/{task}"), &alice.auth(), json!({"project_id": q})).await.assert_status(200);
        assert_eq!((task_count(&app, &alice, p).await, task_count(&app, &alice, q).await), (0, 1));
        let r = app.patch(&format!("/api/tasks/{task}"), &alice.auth(), json!({"project_id": p, "title": "boom"})).await;
        r.assert_status(400);
        assert_eq!((task_count(&app, &alice, p).await, task_count(&app, &alice, q).await), (0, 1));
        let r = app.get(&format!("/api/tasks/{task}"), &alice.auth()).await;
        assert_eq!((r.get("title"), r.get("project_id")), (&json!("a"), &json!(q.to_string())));
    }

    async fn before_update_sees_the_stored_object(app: TestApp) {
        let alice = app.signup("Acme").await;
        let p = project(&app, &alice, "2026-05-01").await;
        let r = app.post("/api/tasks", &alice.auth(), json!({"project_id": p, "title": "t", "due_on": "2026-05-02"})).await;
        let task = r.id();
        let r = app.patch(&format!("/api/tasks/{task}"), &alice.auth(), json!({"done": true})).await;
        r.assert_status(200);
        assert_eq!(r.get("title"), &json!("t (done)"));
        // `validate` compares with the stored object too.
        let r = app.patch(&format!("/api/tasks/{task}"), &alice.auth(), json!({"title": "renamed"})).await;
        r.assert_status(400);
        assert_eq!(r.body, json!({"title": ["A done task keeps its title."]}));
    }

    async fn before_delete_can_refuse_and_after_delete_runs(app: TestApp) {
        let alice = app.signup("Acme").await;
        let p = project(&app, &alice, "2026-05-01").await;
        let body = json!({"project_id": p, "title": "t", "due_on": "2026-05-02"});
        let (a, b) = (app.post("/api/tasks", &alice.auth(), body.clone()).await.id(), app.post("/api/tasks", &alice.auth(), body).await.id());
        assert_eq!(task_count(&app, &alice, p).await, 2);
        app.patch(&format!("/api/tasks/{a}"), &alice.auth(), json!({"done": true})).await.assert_status(200);
        let r = app.delete(&format!("/api/tasks/{a}"), &alice.auth()).await;
        r.assert_status(409);
        assert_eq!(r.assert_detail(), "A done task cannot be deleted.");
        app.delete(&format!("/api/tasks/{b}"), &alice.auth()).await.assert_status(204);
        assert_eq!(task_count(&app, &alice, p).await, 1);
        app.get(&format!("/api/tasks/{a}"), &alice.auth()).await.assert_status(200);
    }

    async fn hooks_and_typed_operations_never_reach_another_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let theirs = project(&app, &alice, "2026-05-01").await;
        let r = app.post("/api/tasks", &alice.auth(), json!({"project_id": theirs, "title": "t", "due_on": "2026-05-02"})).await;
        let task = r.id();

        // Mallory names Alice's project: the hook's `find` sees nothing (so no due-date rule
        // leaks whether it exists), and the reference check answers as for a missing project.
        let early = json!({"project_id": theirs, "title": "t", "due_on": "2000-01-01"});
        let r = app.post("/api/tasks", &mallory.auth(), early).await;
        r.assert_status(400);
        let foreign = r.body.clone();
        let missing = app
            .post("/api/tasks", &mallory.auth(), json!({"project_id": Uuid::now_v7(), "title": "t", "due_on": "2000-01-01"}))
            .await;
        assert_eq!(foreign.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["project_id"], "{foreign}");
        assert_eq!(missing.body.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["project_id"]);

        // Every verb on Alice's task from Mallory: the 404 of a missing id, nothing changed.
        for r in [
            app.get(&format!("/api/tasks/{task}"), &mallory.auth()).await,
            app.patch(&format!("/api/tasks/{task}"), &mallory.auth(), json!({"title": "x"})).await,
            app.delete(&format!("/api/tasks/{task}"), &mallory.auth()).await,
        ] {
            r.assert_status(404);
            assert_eq!(r.body, json!({"detail": "Not found."}));
        }
        assert_eq!(task_count(&app, &alice, theirs).await, 1);
        let r = app.get(&format!("/api/tasks/{task}"), &alice.auth()).await;
        assert_eq!(r.get("title"), &json!("t"));

        // The typed operations of a Scoped of Mallory's company: the same 404s.
        let mut scoped = app.scoped(mallory.company_id).await;
        assert!(matches!(scoped.get::<Task>(task).await, Err(ApiError::NotFound)));
        assert!(scoped.find::<Project>(theirs).await.unwrap().is_none());
        let patch = TaskPatch { title: Some("x".into()), ..Default::default() };
        assert!(matches!(scoped.update::<Task>(task, patch).await, Err(ApiError::NotFound)));
        assert!(matches!(scoped.delete::<Task>(task).await, Err(ApiError::NotFound)));
        let (count, tasks) = scoped.list::<Task>(&tenant_core::ListQuery::default()).await.unwrap();
        assert_eq!((count, tasks.len()), (0, 0));
        scoped.commit().await.unwrap();
    }

    async fn raw_sql_is_scoped_by_rls_on_postgres_only(app: TestApp) {
        let (alice, bob) = (app.signup("Acme").await, app.signup("Other").await);
        for user in [&alice, &bob] {
            project(&app, user, "2026-05-01").await;
        }
        let mut scoped = app.scoped(alice.company_id).await;
        let company = tenant_core::Value::Uuid(Some(scoped.company_id()));
        let tx = scoped.raw_sql_unscoped();
        let rows = tx.fetch_all("SELECT name FROM hk_projects WHERE company_id = $1", &[company], &[tenant_core::FieldType::Text]).await.unwrap();
        assert_eq!(rows.len(), 1, "the author's own condition scopes it on every backend");
        let all = tx.fetch_all("SELECT name FROM hk_projects", &[], &[tenant_core::FieldType::Text]).await.unwrap();
        let expected = match app.backend {
            Backend::Postgres => 1, // row-level security still applies
            Backend::Sqlite => 2,   // nothing does: the documented duty of the author
        };
        assert_eq!(all.len(), expected);
        scoped.commit().await.unwrap();
    }

    async fn jobs_visit_every_company_and_refuse_an_unknown_one(app: TestApp) {
        let (alice, bob) = (app.signup("Acme").await, app.signup("Other").await);
        let (pa, pb) = (project(&app, &alice, "2026-05-01").await, project(&app, &bob, "2026-05-01").await);
        let companies = tenant_core::jobs::every_company(&app.state).await.unwrap();
        assert_eq!(companies, vec![alice.company_id, bob.company_id]);
        for (company, own, other) in [(alice.company_id, pa, pb), (bob.company_id, pb, pa)] {
            let mut scoped = app.scoped(company).await;
            let (count, projects) = scoped.list::<Project>(&tenant_core::ListQuery::default()).await.unwrap();
            assert_eq!((count, projects.iter().map(|p| p.id).collect::<Vec<_>>()), (1, vec![own]));
            assert!(scoped.find::<Project>(other).await.unwrap().is_none());
            scoped.commit().await.unwrap();
        }
        assert!(matches!(tenant_core::jobs::scoped(&app.state, Uuid::now_v7()).await, Err(ApiError::NotFound)));
    }

    async fn typed_operations_apply_the_endpoints_rules_and_hooks(app: TestApp) {
        let alice = app.signup("Acme").await;
        let p = project(&app, &alice, "2026-05-01").await;
        let mut scoped = app.scoped(alice.company_id).await;
        let due_on = NaiveDate::from_ymd_opt(2026, 5, 9).unwrap();
        let input = TaskInput { project_id: p, title: "!typed".into(), due_on, done: None, flagged_on: None };
        let task = scoped.create::<Task>(input).await.unwrap();
        assert_eq!((task.company_id, task.flagged_on), (alice.company_id, Some(due_on)));
        let too_long = TaskInput { project_id: p, title: "x".repeat(101), due_on, done: None, flagged_on: None };
        match scoped.create::<Task>(too_long).await {
            Err(ApiError::Validation(errors)) => assert!(errors.contains_key("title"), "{errors:?}"),
            other => panic!("expected a field error, got {:?}", other.map(|t| t.id)),
        }
        let early = TaskInput { project_id: p, title: "t".into(), due_on: NaiveDate::MIN, done: None, flagged_on: None };
        assert!(matches!(scoped.create::<Task>(early).await, Err(ApiError::Validation(_))));
        let done = scoped.update::<Task>(task.id, TaskPatch { done: Some(true), ..Default::default() }).await.unwrap();
        assert_eq!(done.title, "!typed (done)");
        assert!(matches!(scoped.delete::<Task>(task.id).await, Err(ApiError::Conflict(_))));
        scoped.commit().await.unwrap();
        assert_eq!(task_count(&app, &alice, p).await, 1);
        let r = app.get(&format!("/api/tasks/{}", task.id), &alice.auth()).await;
        assert_eq!(r.get("title"), &json!("!typed (done)"));
    }
}
