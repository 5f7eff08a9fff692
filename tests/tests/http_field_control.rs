//! Field control (issue 10, item 2) over HTTP on both backends: `read_only` fields ignored in
//! bodies and set by a hook, `write_only` fields stored but never shown, a field-level `write`
//! role (403 naming the field on a change, an unchanged value allowed), and computed output
//! fields.

use chrono::NaiveDate;
use serde_json::json;
use tenant_core::{ApiError, App, Hooks, Scoped, tenant_resource};
use tests::*;

#[tenant_resource(table = "fc_projects", path = "/api/projects", computed(is_overdue: bool, shout: String), hooks)]
pub struct Project {
    #[field(len = 1..=100, search)]
    pub name: String,
    pub due_on: Option<NaiveDate>,
    /// Only admins archive a project.
    #[field(write = "admin", default, filter)]
    pub archived: bool,
    /// Set by the server: the hook counts the renames.
    #[field(read_only, default)]
    pub renames: i32,
    /// Accepted and stored, never shown.
    #[field(write_only)]
    pub secret: Option<String>,
}

impl Project {
    fn is_overdue(&self) -> bool {
        self.due_on.is_some_and(|due| due < NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()) && !self.archived
    }

    fn shout(&self) -> String {
        self.name.to_uppercase()
    }
}

impl Hooks for Project {
    async fn before_update(_scoped: &mut Scoped, new: &mut Project, old: &Project) -> Result<(), ApiError> {
        if new.name != old.name {
            new.renames = old.renames + 1;
        }
        Ok(())
    }
}

fn register(app: App) -> App {
    app.resource::<Project>()
}

both_backends! {
    register = register;

    async fn read_only_fields_are_ignored_in_bodies_and_set_by_hooks(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app.post("/api/projects", &alice.auth(), json!({"name": "p", "renames": 40})).await;
        r.assert_status(201);
        assert_eq!(r.get("renames"), &json!(0), "the default, not the body's");
        let id = r.id();
        let r = app.patch(&format!("/api/projects/{id}"), &alice.auth(), json!({"renames": 7})).await;
        r.assert_status(200);
        assert_eq!(r.get("renames"), &json!(0));
        let r = app.put(&format!("/api/projects/{id}"), &alice.auth(), json!({"name": "q", "renames": 7})).await;
        r.assert_status(200);
        assert_eq!(r.get("renames"), &json!(1), "the hook's count");
        let r = app.get(&format!("/api/projects/{id}"), &alice.auth()).await;
        assert_eq!(r.get("renames"), &json!(1));
    }

    async fn write_only_fields_are_stored_and_never_shown(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app.post("/api/projects", &alice.auth(), json!({"name": "p", "secret": "s3"})).await;
        r.assert_status(201);
        assert!(r.body.get("secret").is_none(), "{}", r.body);
        let id = r.id();
        for r in [
            app.get(&format!("/api/projects/{id}"), &alice.auth()).await,
            app.patch(&format!("/api/projects/{id}"), &alice.auth(), json!({"secret": "s4"})).await,
        ] {
            r.assert_status(200);
            assert!(r.body.get("secret").is_none(), "{}", r.body);
        }
        let r = app.get("/api/projects", &alice.auth()).await;
        assert!(r.get("results")[0].get("secret").is_none(), "{}", r.body);
        // Stored all the same: the typed operations read it.
        let mut scoped = app.scoped(alice.company_id).await;
        assert_eq!(scoped.get::<Project>(id).await.unwrap().secret.as_deref(), Some("s4"));
        scoped.commit().await.unwrap();
    }

    async fn a_field_write_role_refuses_changes_by_lower_roles_only(app: TestApp) {
        let admin = app.signup("Acme").await;
        let staff = app.signup("Staffer Co").await;
        app.add_member(&admin, &staff, "staff").await;
        let staff_auth = staff.in_company(admin.company_id);

        // Create: the default value is allowed, another one is not.
        let r = app.post("/api/projects", &staff_auth, json!({"name": "p", "archived": true})).await;
        r.assert_status(403);
        assert_eq!(r.body, json!({"detail": "You do not have permission to change the field \"archived\"."}));
        let r = app.post("/api/projects", &staff_auth, json!({"name": "p", "archived": false})).await;
        r.assert_status(201);
        let id = r.id();
        let path = format!("/api/projects/{id}");

        // Update: a change is refused and nothing is written; the same value passes.
        let r = app.patch(&path, &staff_auth, json!({"name": "renamed", "archived": true})).await;
        r.assert_status(403);
        let r = app.get(&path, &admin.auth()).await;
        assert_eq!((r.get("name"), r.get("archived")), (&json!("p"), &json!(false)));
        app.put(&path, &staff_auth, json!({"name": "p2", "archived": false})).await.assert_status(200);
        app.patch(&path, &admin.auth(), json!({"archived": true})).await.assert_status(200);
        let r = app.patch(&path, &staff_auth, json!({"name": "p3", "archived": true})).await;
        r.assert_status(200);
        let r = app.patch(&path, &staff_auth, json!({"archived": false})).await;
        r.assert_status(403);
        // A body without the field leaves it alone, whoever sends it.
        let r = app.put(&path, &staff_auth, json!({"name": "p4"})).await;
        r.assert_status(200);
        assert_eq!(r.get("archived"), &json!(true));
        // A job acts for no member: not limited.
        let mut scoped = app.scoped(admin.company_id).await;
        let patch = ProjectPatch { archived: Some(false), ..Default::default() };
        assert!(!scoped.update::<Project>(id, patch).await.unwrap().archived);
        scoped.commit().await.unwrap();
    }

    async fn computed_fields_are_in_every_answer(app: TestApp) {
        let alice = app.signup("Acme").await;
        let r = app.post("/api/projects", &alice.auth(), json!({"name": "late", "due_on": "2025-06-01"})).await;
        r.assert_status(201);
        assert_eq!((r.get("is_overdue"), r.get("shout")), (&json!(true), &json!("LATE")));
        let id = r.id();
        let r = app.patch(&format!("/api/projects/{id}"), &alice.auth(), json!({"archived": true})).await;
        assert_eq!(r.get("is_overdue"), &json!(false));
        let r = app.get("/api/projects?search=late", &alice.auth()).await;
        assert_eq!(r.get("results")[0]["shout"], json!("LATE"));
        let keys: Vec<&String> = r.get("results")[0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 10, "4 system fields, 4 shown fields, 2 computed, no secret: {keys:?}");
        assert!(!keys.iter().any(|k| *k == "secret"));
    }

    async fn field_control_never_opens_another_company(app: TestApp) {
        let alice = app.signup("Acme").await;
        let mallory = app.signup("Evil").await;
        let id = app.post("/api/projects", &alice.auth(), json!({"name": "p", "secret": "s"})).await.id();
        for r in [
            app.get(&format!("/api/projects/{id}"), &mallory.auth()).await,
            app.patch(&format!("/api/projects/{id}"), &mallory.auth(), json!({"archived": true})).await,
            app.patch(&format!("/api/projects/{id}"), &mallory.auth(), json!({"renames": 3})).await,
        ] {
            r.assert_status(404);
            assert_eq!(r.body, json!({"detail": "Not found."}));
        }
        let r = app.get("/api/projects?archived=false", &mallory.auth()).await;
        assert_eq!(r.get("count"), &json!(0));
        let r = app.get(&format!("/api/projects/{id}"), &alice.auth()).await;
        assert_eq!((r.get("archived"), r.get("renames")), (&json!(false), &json!(0)));
    }
}
