//! Models that evolve (issue 11): an app starts with models v1 and data in two companies, the
//! models change to v2 (a new optional field, a field with a default, a new unique field, a new
//! reference to a new resource, a new choice field with a filter, a renamed field), then v3
//! drops a field. Each step is `makemigrations` (written to a folder, as a team would commit it)
//! and `migrate`, on both backends; every row, value and per-company constraint survives, the
//! new table is isolated like the others, and the HTTP API serves the new models.

use std::path::Path;

use serde_json::{Value as Json, json};
use tenant_core::migrations::{EmbeddedMigrations, MakeMigrationsError, make_migrations};
use tenant_core::{App, Resource, ResourceDesc};
use tests::*;

mod v1 {
    use tenant_core::tenant_resource;
    use uuid::Uuid;

    #[tenant_resource(table = "ev_projects")]
    pub struct Project {
        #[field(unique, filter)]
        pub name: String,
        pub budget: i64,
    }

    #[tenant_resource(table = "ev_tasks")]
    pub struct Task {
        #[field(references = Project)]
        pub project_id: Uuid,
        pub title: String,
        pub old_note: Option<String>,
        #[field(default)]
        pub legacy: String,
    }
}

mod v2 {
    use tenant_core::{TenantEnum, tenant_resource};
    use uuid::Uuid;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, TenantEnum)]
    pub enum Status {
        Open,
        Done,
    }

    #[tenant_resource(table = "ev_projects")]
    pub struct Project {
        #[field(unique, filter)]
        pub name: String,
        pub budget: i64,
        #[field(unique)]
        pub code: Option<String>,
        #[field(default = 3)]
        pub priority: i64,
        pub description: Option<String>,
    }

    #[tenant_resource(table = "ev_reviewers")]
    pub struct Reviewer {
        pub name: String,
    }

    #[tenant_resource(table = "ev_tasks")]
    pub struct Task {
        #[field(references = Project)]
        pub project_id: Uuid,
        pub title: String,
        #[field(renamed_from = "old_note")]
        pub note: Option<String>,
        #[field(default)]
        pub legacy: String,
        #[field(references = Reviewer)]
        pub reviewer_id: Option<Uuid>,
        #[field(filter, default = Status::Open)]
        pub status: Status,
    }
}

mod v3 {
    use tenant_core::tenant_resource;
    use uuid::Uuid;

    use super::v2::{Project, Reviewer, Status};

    /// v2's task without `legacy`.
    #[tenant_resource(table = "ev_tasks")]
    pub struct Task {
        #[field(references = Project)]
        pub project_id: Uuid,
        pub title: String,
        pub note: Option<String>,
        #[field(references = Reviewer)]
        pub reviewer_id: Option<Uuid>,
        #[field(filter, default = Status::Open)]
        pub status: Status,
    }
}

fn v1(app: App) -> App {
    app.resource::<v1::Project>().resource::<v1::Task>()
}

fn v2(app: App) -> App {
    app.resource::<v2::Project>().resource::<v2::Reviewer>().resource::<v2::Task>()
}

fn v3(app: App) -> App {
    app.resource::<v2::Project>().resource::<v2::Reviewer>().resource::<v3::Task>()
}

/// The models of `register`, as `makemigrations` reads them.
async fn resources(base: &TestApp, register: fn(App) -> App) -> Vec<ResourceDesc> {
    register(base.app_again().await).resources().to_vec()
}

/// `register`'s app over `base`'s database with the migrations of `dir`, migrated; what it
/// applied, and the app serving it.
async fn migrate(base: &TestApp, register: fn(App) -> App, dir: &Path) -> (Vec<i64>, TestApp) {
    let app = register(base.app_again().await).migrations(EmbeddedMigrations::read_dir(dir).unwrap());
    let applied = app.migrate().await.unwrap_or_else(|e| panic!("migrate: {e}"));
    let state = app.state().clone();
    let router = app.into_router().await.unwrap_or_else(|e| panic!("serving after migrate: {e}"));
    (applied.iter().map(|m| m.version).collect(), base.with_router(router, state))
}

fn files(dir: &Path) -> usize {
    ["postgres", "sqlite"].iter().map(|d| std::fs::read_dir(dir.join(d)).map_or(0, |e| e.count())).sum()
}

fn results(r: &Resp) -> Vec<Json> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["results"].as_array().unwrap().clone()
}

/// `(name, value)` of every listed row, sorted: what must survive a migration.
fn by_name(rows: &[Json], keys: &[&str]) -> Vec<Vec<Json>> {
    let mut out: Vec<Vec<Json>> = rows.iter().map(|r| keys.iter().map(|k| r[*k].clone()).collect()).collect();
    out.sort_by_key(|row| row[0].to_string());
    out
}

/// No resource: each step registers its own models.
fn bare(app: App) -> App {
    app
}

tenant_core::both_backends! {
    register = bare;

    async fn models_evolve_with_their_data(base: TestApp) {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();

        // v1, and data in two companies.
        let written = make_migrations(&resources(&base, v1).await, dir, false).unwrap().expect("the initial migration");
        assert_eq!(written.number, 1);
        assert!(make_migrations(&resources(&base, v1).await, dir, false).unwrap().is_none(), "nothing changed");
        let (applied, app) = migrate(&base, v1, dir).await;
        assert_eq!(applied, [1]);
        let (a, b) = (app.signup("Acme").await, app.signup("Beta").await);
        let mut tasks = Vec::new();
        for (user, names) in [(&a, ["Apollo", "Gemini", "Mercury"]), (&b, ["Apollo", "Vostok", "Soyuz"])] {
            for (i, name) in names.iter().enumerate() {
                let p = app.create("/api/ev_projects", &user.auth(), json!({"name": name, "budget": 100 * i})).await;
                let note = if i == 0 { Json::Null } else { json!(format!("note {name}")) };
                let t = json!({"project_id": p["id"], "title": format!("{name} task"), "old_note": note, "legacy": "kept"});
                tasks.push(app.create("/api/ev_tasks", &user.auth(), t).await);
            }
        }
        let before_projects = by_name(&results(&app.get("/api/ev_projects", &a.auth()).await), &["name", "budget", "id"]);
        let before_tasks = by_name(&results(&app.get("/api/ev_tasks", &a.auth()).await), &["title", "old_note", "project_id", "id"]);
        assert_eq!((before_projects.len(), before_tasks.len()), (3, 3));

        // v2: written, reviewed (its header names each change), not yet applied.
        let written = make_migrations(&resources(&base, v2).await, dir, false).unwrap().expect("a second migration");
        assert_eq!(written.number, 2);
        let text = written.operations.join("\n");
        for expected in ["Create table ev_reviewers", "add field code", "add field priority (existing rows get 3)", "rename field old_note to note", "add reference reviewer_id → ev_reviewers", "add unique (company_id, code)"] {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        assert!(make_migrations(&resources(&base, v2).await, dir, false).unwrap().is_none(), "running it again writes nothing");

        // Serving v2 before migrating is refused, naming what is missing.
        let unmigrated = v2(base.app_again().await);
        let refusal = unmigrated.into_router().await.expect_err("drift refuses to serve").to_string();
        for missing in ["table ev_reviewers is missing", "table ev_projects: column code is missing", "table ev_tasks: column note is missing"] {
            assert!(refusal.contains(missing), "{missing:?} not in: {refusal}");
        }
        assert!(refusal.contains("Run `migrate`"), "{refusal}");

        let (applied, app) = migrate(&base, v2, dir).await;
        assert_eq!(applied, [2]);

        // Every row and value is there, the new columns hold the default or NULL.
        let projects = results(&app.get("/api/ev_projects", &a.auth()).await);
        assert_eq!(by_name(&projects, &["name", "budget", "id"]), before_projects);
        assert!(projects.iter().all(|p| p["priority"] == 3 && p["code"].is_null() && p["description"].is_null()), "{projects:?}");
        let listed = results(&app.get("/api/ev_tasks", &a.auth()).await);
        assert_eq!(by_name(&listed, &["title", "note", "project_id", "id"]), before_tasks, "notes moved to the renamed field");
        assert!(listed.iter().all(|t| t["status"] == "open" && t["reviewer_id"].is_null() && t["legacy"] == "kept"), "{listed:?}");
        assert_eq!(results(&app.get("/api/ev_projects", &b.auth()).await).len(), 3, "the other company's rows are all there");
        assert_eq!(app.get("/api/ev_tasks?status=open", &a.auth()).await.body["count"], 3, "the new filter works");

        // Per-company constraints hold: the old unique field, the new one, the new reference.
        app.post("/api/ev_projects", &a.auth(), json!({"name": "Apollo", "budget": 1})).await.assert_status(409);
        app.create("/api/ev_projects", &a.auth(), json!({"name": "Vostok", "budget": 1, "code": "X"})).await;
        app.post("/api/ev_projects", &a.auth(), json!({"name": "Other", "budget": 1, "code": "X"})).await.assert_status(409);
        app.create("/api/ev_projects", &b.auth(), json!({"name": "Gemini", "budget": 1, "code": "X"})).await;
        let mine = app.create("/api/ev_reviewers", &a.auth(), json!({"name": "Ann"})).await;
        let theirs = app.create("/api/ev_reviewers", &b.auth(), json!({"name": "Bob"})).await;
        let project = &projects[0]["id"];
        let task = |reviewer: &Json| json!({"project_id": project, "title": "t", "reviewer_id": reviewer});
        app.create("/api/ev_tasks", &a.auth(), task(&mine["id"])).await;
        app.post("/api/ev_tasks", &a.auth(), task(&theirs["id"])).await.assert_field_error("reviewer_id");

        // The new table is as isolated as a table created with the app.
        assert_isolated::<v2::Reviewer>(&app, &a, json!({"name": "Cy"})).await;
        assert_isolated::<v2::Task>(&app, &a, json!({"project_id": project, "title": "iso"})).await;
        checks::assert_keys_lead_with_company_id(&app, &["ev_projects", "ev_reviewers", "ev_tasks"]).await;

        // v3 drops `legacy`: refused without the flag (nothing written), done with it.
        let refused = make_migrations(&resources(&base, v3).await, dir, false).unwrap_err();
        let MakeMigrationsError::Refused(reasons) = &refused else { panic!("{refused}") };
        assert!(reasons[0].contains("field `legacy` is gone") && reasons[0].contains("--allow-drop"), "{reasons:?}");
        assert_eq!(files(dir), 4, "a refusal writes nothing");
        let written = make_migrations(&resources(&base, v3).await, dir, true).unwrap().expect("a third migration");
        assert!(written.operations[0].contains("drop field legacy"), "{:?}", written.operations);
        let before = by_name(&results(&app.get("/api/ev_tasks", &a.auth()).await), &["id", "title", "note", "reviewer_id", "status"]);
        let (applied, app) = migrate(&base, v3, dir).await;
        assert_eq!(applied, [3]);
        let after = results(&app.get("/api/ev_tasks", &a.auth()).await);
        assert_eq!(by_name(&after, &["id", "title", "note", "reviewer_id", "status"]), before);
        assert!(after.iter().all(|t| t.get("legacy").is_none()), "{after:?}");
        checks::assert_keys_lead_with_company_id(&app, &["ev_projects", "ev_reviewers", "ev_tasks"]).await;
        let (applied, _) = migrate(&base, v3, dir).await;
        assert!(applied.is_empty(), "migrate twice applies nothing the second time");
        let _ = <v1::Task as Resource>::DESC;
    }
}

/// Django's `makemigrations --check`: the committed migrations of the demo app match its models,
/// so a model changed without its migration fails here, not in production.
#[test]
fn the_demo_apps_migrations_match_its_models() {
    let dir = Path::new(demo_app::MIGRATIONS_DIR);
    let pending = tenant_core::migrations::files::pending_operations(&demo_app::resources(), dir, false).unwrap();
    assert!(pending.is_empty(), "run `cargo run -p demo-app -- makemigrations`: {pending:?}");
}

/// A customer with the demo's models but no migrations: what `migrate` built before apps had
/// migrations (tables created from the models at start-up).
fn demo_without_migrations(app: App) -> App {
    use demo_app::models::{Customer, Invoice, Product};
    app.resource::<Customer>().resource::<Product>().resource::<Invoice>()
}

tenant_core::both_backends! {
    register = demo_without_migrations;

    async fn a_database_created_before_migrations_adopts_the_initial_one(base: TestApp) {
        let owner = base.signup("Acme").await;
        let customer = base.create("/api/customers", &owner.auth(), json!({"name": "Ann", "email": "ann@acme.test"})).await;
        let app = base.app_again().await.migrations(demo_app::MIGRATIONS);
        let applied: Vec<i64> = app.migrate().await.unwrap().iter().map(|m| m.version).collect();
        assert_eq!(applied, [1], "the initial migration runs over the existing tables");
        let state = app.state().clone();
        let app = base.with_router(app.into_router().await.unwrap(), state);
        let r = app.get(&format!("/api/customers/{}", customer["id"].as_str().unwrap()), &owner.auth()).await;
        assert_eq!((r.status, &r.body["email"]), (200, &json!("ann@acme.test")));
        app.post("/api/customers", &owner.auth(), json!({"name": "A", "email": "ann@acme.test"})).await.assert_status(409);
    }
}
