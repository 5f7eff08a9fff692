//! The tracker over HTTP on both backends, through `tenant_core::testing`: each power it uses,
//! and the generic isolation check for each of its resources.

use chrono::{Duration, Utc};
use serde_json::json;
use tenant_core::testing::*;
use tracker::{Comment, Project, Task};
use uuid::Uuid;

async fn project(app: &TestApp, user: &User, starts_on: &str) -> Uuid {
    let r = app.post("/api/projects", &user.auth(), json!({"name": "Apollo", "starts_on": starts_on})).await;
    r.assert_status(201);
    r.id()
}

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset)).to_string()
}

tenant_core::both_backends! {
    register = tracker::register;

    async fn the_hook_rule_holds_on_every_path(app: TestApp) {
        let alice = app.signup("Acme").await;
        let p = project(&app, &alice, "2026-05-01").await;
        for path in ["/api/tasks".to_string(), format!("/api/projects/{p}/tasks")] {
            let r = app.post(&path, &alice.auth(), json!({"project_id": p, "title": "t", "due_on": "2026-04-01"})).await;
            r.assert_status(400);
            assert_eq!(r.body, json!({"due_on": ["A task cannot be due before its project starts."]}));
        }
        let t = app.post("/api/tasks", &alice.auth(), json!({"project_id": p, "title": "t", "due_on": "2026-05-02"})).await.id();
        let r = app.patch(&format!("/api/tasks/{t}"), &alice.auth(), json!({"due_on": "2026-01-01"})).await;
        r.assert_status(400);
        app.patch(&format!("/api/projects/{p}"), &alice.auth(), json!({"archived": true})).await.assert_status(200);
        let r = app.post("/api/tasks", &alice.auth(), json!({"project_id": p, "title": "u"})).await;
        r.assert_status(400);
        assert_eq!(r.body, json!({"non_field_errors": ["This project is archived."]}));
    }

    async fn only_admins_archive_a_project(app: TestApp) {
        let admin = app.signup("Acme").await;
        let staff = app.signup("Staffer").await;
        app.add_member(&admin, &staff, "staff").await;
        let p = project(&app, &admin, "2026-05-01").await;
        let as_staff = staff.in_company(admin.company_id);
        let r = app.patch(&format!("/api/projects/{p}"), &as_staff, json!({"archived": true})).await;
        r.assert_status(403);
        assert_eq!(r.assert_detail(), "You do not have permission to change the field \"archived\".");
        app.patch(&format!("/api/projects/{p}"), &as_staff, json!({"name": "Gemini", "archived": false})).await.assert_status(200);
        app.patch(&format!("/api/projects/{p}"), &admin.auth(), json!({"archived": true})).await.assert_status(200);
    }

    async fn completing_a_task_is_an_action_and_sets_the_read_only_field(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let p = project(&app, &alice, "2020-01-01").await;
        let r = app.post(&format!("/api/projects/{p}/tasks"), &alice.auth(), json!({"title": "late", "due_on": day(-3), "completed_at": "2020-01-01T00:00:00Z"})).await;
        r.assert_status(201);
        assert_eq!((r.get("is_overdue"), r.get("completed_at")), (&json!(true), &json!(null)));
        let t = r.id();
        let r = app.post(&format!("/api/tasks/{t}/complete"), &mallory.auth(), json!({})).await;
        r.assert_status(404);
        let r = app.post(&format!("/api/tasks/{t}/complete/"), &alice.auth(), json!({})).await;
        r.assert_status(200);
        assert_eq!((r.get("done"), r.get("is_overdue")), (&json!(true), &json!(false)));
        assert!(r.get("completed_at").is_string(), "{}", r.text);
        app.post(&format!("/api/tasks/{t}/complete"), &alice.auth(), json!({})).await.assert_status(409);
        let r = app.patch(&format!("/api/tasks/{t}"), &alice.auth(), json!({"done": false})).await;
        assert_eq!(r.get("completed_at"), &json!(null));
    }

    async fn nested_collections_and_lookups(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let p = project(&app, &alice, "2020-01-01").await;
        let tasks = [("a", Some(day(-1))), ("b", Some(day(5))), ("c", None)];
        let mut ids = Vec::new();
        for (title, due) in tasks {
            ids.push(app.post(&format!("/api/projects/{p}/tasks"), &alice.auth(), json!({"title": title, "due_on": due})).await.id());
        }
        let r = app.get(&format!("/api/projects/{p}/tasks?due_on__lte={}&ordering=title", day(0)), &alice.auth()).await;
        assert_eq!(r.get("count"), &json!(1));
        let r = app.get(&format!("/api/projects/{p}/tasks?due_on__isnull=true"), &alice.auth()).await;
        assert_eq!(r.get("results")[0]["title"], json!("c"));
        let r = app.post(&format!("/api/tasks/{}/comments", ids[0]), &alice.auth(), json!({"body": "on it"})).await;
        r.assert_status(201);
        assert_eq!(r.get("task_id"), &json!(ids[0].to_string()));
        let r = app.get(&format!("/api/tasks/{}/comments", ids[0]), &alice.auth()).await;
        assert_eq!(r.get("count"), &json!(1));
        for path in [format!("/api/projects/{p}/tasks"), format!("/api/tasks/{}/comments", ids[0])] {
            let r = app.get(&path, &mallory.auth()).await;
            r.assert_status(404);
            assert_eq!(r.body, json!({"detail": "Not found."}));
        }
    }

    async fn projects_and_tasks_reference_each_other(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let p = project(&app, &alice, "2026-05-01").await;
        let t = app.post("/api/tasks", &alice.auth(), json!({"project_id": p, "title": "lead"})).await.id();
        let r = app.patch(&format!("/api/projects/{p}"), &alice.auth(), json!({"lead_task_id": t})).await;
        r.assert_status(200);
        assert_eq!(r.get("lead_task_id"), &json!(t.to_string()));
        let theirs = project(&app, &mallory, "2026-05-01").await;
        let r = app.patch(&format!("/api/projects/{theirs}"), &mallory.auth(), json!({"lead_task_id": t})).await;
        r.assert_status(400);
        r.assert_field_error("lead_task_id");
        app.delete(&format!("/api/tasks/{t}"), &alice.auth()).await.assert_status(409);
    }

    async fn the_overdue_job_counts_each_company_apart(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Bob Co").await;
        for (user, late) in [(&alice, 2), (&bob, 1)] {
            let p = project(&app, user, "2020-01-01").await;
            for i in 0..late {
                app.post("/api/tasks", &user.auth(), json!({"project_id": p, "title": format!("late {i}"), "due_on": day(-2)})).await.assert_status(201);
            }
            app.post("/api/tasks", &user.auth(), json!({"project_id": p, "title": "future", "due_on": day(3)})).await.assert_status(201);
        }
        let counts = tracker::overdue_per_company(&app.state, Utc::now().date_naive()).await.unwrap();
        assert_eq!(counts, vec![(alice.company_id, 2), (bob.company_id, 1)]);
    }

    async fn every_resource_is_isolated(app: TestApp) {
        let owner = app.signup("Acme").await;
        assert_isolated::<Project>(&app, &owner, json!({"name": "Apollo", "starts_on": "2026-05-01"})).await;
        let p = project(&app, &owner, "2026-05-01").await;
        let task = json!({"project_id": p, "title": "t", "due_on": "2026-05-02"});
        assert_isolated::<Task>(&app, &owner, task.clone()).await;
        let t = app.post("/api/tasks", &owner.auth(), task).await.id();
        assert_isolated::<Comment>(&app, &owner, json!({"task_id": t, "body": "hello"})).await;
    }
}

/// `makemigrations --check`: the committed migrations match the models.
#[test]
fn the_migrations_match_the_models() {
    let resources = tracker::register_resources();
    let dir = std::path::Path::new(tracker::MIGRATIONS_DIR);
    let pending = tenant_core::migrations::files::pending_operations(&resources, dir, false).unwrap();
    assert!(pending.is_empty(), "run `cargo run -p tracker -- makemigrations`: {pending:?}");
}
