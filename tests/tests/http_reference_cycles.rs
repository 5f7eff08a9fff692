//! Resources that reference each other (issue 10, item 8), over HTTP on both backends: a
//! project and its tasks (a 2-cycle: a task's project, a project's lead task), teams, offices
//! and employees (a 3-cycle: team → office → manager → team) and categories (a resource that
//! references itself). They compile, migrate (again and again: every start-up migrates), link
//! both ways, refuse another company's ids (400) and refuse to delete a referenced row (409).
//! On PostgreSQL the foreign keys are added after the tables, once each, also over a database
//! whose keys were created inline by earlier versions. On SQLite they stay inline, some naming a
//! table created after theirs (each cycle is registered so): the 409s show that they hold.

use serde_json::{Value as Json, json};
use tenant_core::value::FieldType;
use tenant_core::{App, Db, Value, tenant_resource};
use tests::*;
use uuid::Uuid;

#[tenant_resource(table = "cy_projects", path = "/api/projects")]
pub struct Project {
    #[field(len = 1..=100)]
    pub name: String,
    /// Nullable, so that a project can exist before its tasks.
    #[field(references = Task)]
    pub lead_task_id: Option<Uuid>,
}

#[tenant_resource(table = "cy_tasks", path = "/api/tasks")]
pub struct Task {
    #[field(references = Project, filter)]
    pub project_id: Uuid,
    #[field(len = 1..=100)]
    pub title: String,
}

#[tenant_resource(table = "cy_teams", path = "/api/teams")]
pub struct Team {
    #[field(len = 1..=100)]
    pub name: String,
    #[field(references = Office)]
    pub office_id: Option<Uuid>,
}

#[tenant_resource(table = "cy_offices", path = "/api/offices")]
pub struct Office {
    #[field(len = 1..=100)]
    pub city: String,
    #[field(references = Employee)]
    pub manager_id: Option<Uuid>,
}

#[tenant_resource(table = "cy_employees", path = "/api/employees")]
pub struct Employee {
    #[field(len = 1..=100)]
    pub name: String,
    #[field(references = Team, filter)]
    pub team_id: Uuid,
    /// In the 3-cycle and a reference to itself, through `Self`.
    #[field(references = Self)]
    pub mentor_id: Option<Uuid>,
}

#[tenant_resource(table = "cy_categories", path = "/api/categories", singular = "category")]
pub struct Category {
    #[field(len = 1..=100)]
    pub name: String,
    /// A reference to itself, through its own name.
    #[field(references = Category, filter)]
    pub parent_id: Option<Uuid>,
}

/// Each cycle registered so that the first table created names one created after it.
fn register(app: App) -> App {
    app.resource::<Task>()
        .resource::<Project>()
        .resource::<Employee>()
        .resource::<Office>()
        .resource::<Team>()
        .resource::<Category>()
}

/// `(table, reference field, referenced table)`: every reference above.
const REFERENCES: [(&str, &str, &str); 7] = [
    ("cy_projects", "lead_task_id", "cy_tasks"),
    ("cy_tasks", "project_id", "cy_projects"),
    ("cy_teams", "office_id", "cy_offices"),
    ("cy_offices", "manager_id", "cy_employees"),
    ("cy_employees", "team_id", "cy_teams"),
    ("cy_employees", "mentor_id", "cy_employees"),
    ("cy_categories", "parent_id", "cy_categories"),
];

async fn create(app: &TestApp, auth: &Auth, path: &str, body: Json) -> Uuid {
    let r = app.post(path, auth, body).await;
    r.assert_status(201);
    r.id()
}

/// The app migrated once more, as a restart does, and serving from the new router.
async fn restarted(app: &TestApp) -> TestApp {
    let again = app.app_again().await;
    again.migrate().await.expect("migrating again");
    let state = again.state().clone();
    app.with_router(again.into_router().await.expect("isolation check"), state)
}

/// The foreign keys of `table` other than `company_id`'s, as the database lists them: on
/// PostgreSQL `name: definition` from `pg_constraint`, on SQLite `column → table` from
/// `pragma_foreign_key_list`; sorted.
async fn foreign_keys(app: &TestApp, table: &str) -> Vec<String> {
    let owner = Db::connect(&app.database_url, 1).await.expect("owner connection");
    let sql = match app.backend {
        Backend::Postgres => {
            "SELECT string_agg(conname || ': ' || pg_get_constraintdef(oid), '|' ORDER BY conname) \
             FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'f' \
             AND confrelid <> 'companies'::regclass"
        }
        // One row per column of each key; `seq = 1` is the column after `company_id`.
        Backend::Sqlite => {
            "SELECT group_concat(\"from\" || ' → ' || \"table\", '|') \
             FROM pragma_foreign_key_list($1) WHERE seq = 1"
        }
    };
    let row = owner.fetch_optional(sql, &[Value::Text(Some(table.into()))], &[FieldType::Text]).await.unwrap();
    owner.close().await;
    let Some(Value::Text(Some(list))) = row.map(|r| r[0].clone()) else { return vec![] };
    let mut keys: Vec<String> = list.split('|').map(str::to_string).collect();
    keys.sort();
    keys
}

/// What [`foreign_keys`] lists for `table` when it has exactly its references, once each.
fn expected_keys(backend: Backend, table: &str) -> Vec<String> {
    let mut keys: Vec<String> = REFERENCES
        .iter()
        .filter(|(t, ..)| *t == table)
        .map(|(t, field, target)| match backend {
            Backend::Postgres => {
                format!("{t}_{field}_fkey: FOREIGN KEY (company_id, {field}) REFERENCES {target}(company_id, id)")
            }
            Backend::Sqlite => format!("{field} → {target}"),
        })
        .collect();
    keys.sort();
    keys
}

async fn assert_one_key_per_reference(app: &TestApp) {
    for table in ["cy_projects", "cy_tasks", "cy_teams", "cy_offices", "cy_employees", "cy_categories"] {
        assert_eq!(foreign_keys(app, table).await, expected_keys(app.backend, table), "{table}");
    }
}

/// The objects `(resource, id, _)` as `auth` reads them.
async fn read_all(app: &TestApp, auth: &Auth, rows: &[(&str, Uuid, Json)]) -> Vec<Json> {
    let mut objects = Vec::new();
    for (resource, id, _) in rows {
        let r = app.get(&format!("/api/{resource}/{id}"), auth).await;
        r.assert_status(200);
        objects.push(r.body);
    }
    objects
}

/// A 409 `{"detail"}` for deleting a row still referenced.
async fn assert_delete_refused(app: &TestApp, auth: &Auth, path: &str) {
    let r = app.delete(path, auth).await;
    r.assert_status(409);
    assert!(r.assert_detail().contains("other records refer to it"), "{path}: {}", r.text);
    app.get(path, auth).await.assert_status(200);
}

both_backends! {
    register = register;

    async fn cycles_migrate_again_and_keep_one_key_per_reference(app: TestApp) {
        assert_one_key_per_reference(&app).await;
        let app = restarted(&app).await;
        let app = restarted(&app).await;
        assert_one_key_per_reference(&app).await;
        // And the restarted app serves.
        let a = app.signup("Acme").await.auth();
        let project = create(&app, &a, "/api/projects", json!({"name": "P"})).await;
        create(&app, &a, "/api/tasks", json!({"project_id": project, "title": "T"})).await;
    }

    async fn two_resources_reference_each_other(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let project = create(&app, &a, "/api/projects", json!({"name": "Launch"})).await;
        let task = create(&app, &a, "/api/tasks", json!({"project_id": project, "title": "Plan"})).await;
        let other = create(&app, &a, "/api/tasks", json!({"project_id": project, "title": "Ship"})).await;
        let path = format!("/api/projects/{project}");
        let r = app.patch(&path, &a, json!({"lead_task_id": task})).await;
        r.assert_status(200);
        assert_eq!(r.get("lead_task_id"), &json!(task));
        // Both ways, read back.
        assert_eq!(app.get(&path, &a).await.get("lead_task_id"), &json!(task));
        let tasks = app.get(&format!("/api/tasks?project_id={project}"), &a).await;
        assert_eq!(tasks.get("count"), &json!(2), "{}", tasks.text);
        // A project with a lead can be created in one go once the task exists.
        let second = create(&app, &a, "/api/projects", json!({"name": "Next", "lead_task_id": other})).await;
        // Each side blocks the other's delete while referenced.
        assert_delete_refused(&app, &a, &path).await;
        assert_delete_refused(&app, &a, &format!("/api/tasks/{task}")).await;
        // Unlinked, they go.
        app.patch(&path, &a, json!({"lead_task_id": null})).await.assert_status(200);
        app.delete(&format!("/api/tasks/{task}"), &a).await.assert_status(204);
        assert_delete_refused(&app, &a, &path).await; // `other` is still its task
        app.delete(&format!("/api/projects/{second}"), &a).await.assert_status(204);
        app.delete(&format!("/api/tasks/{other}"), &a).await.assert_status(204);
        app.delete(&path, &a).await.assert_status(204);
    }

    async fn three_resources_in_a_cycle_and_one_referencing_itself(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        let team = create(&app, &a, "/api/teams", json!({"name": "Core"})).await;
        let lead = create(&app, &a, "/api/employees", json!({"name": "Ada", "team_id": team})).await;
        let office = create(&app, &a, "/api/offices", json!({"city": "Oslo", "manager_id": lead})).await;
        let r = app.patch(&format!("/api/teams/{team}"), &a, json!({"office_id": office})).await;
        r.assert_status(200);
        assert_eq!(r.get("office_id"), &json!(office));
        // A reference to the same resource: a mentor, a parent category.
        let junior =
            create(&app, &a, "/api/employees", json!({"name": "Bob", "team_id": team, "mentor_id": lead})).await;
        let r = app.get(&format!("/api/employees/{junior}"), &a).await;
        assert_eq!((r.get("team_id"), r.get("mentor_id")), (&json!(team), &json!(lead)));
        let root = create(&app, &a, "/api/categories", json!({"name": "Root"})).await;
        let leaf = create(&app, &a, "/api/categories", json!({"name": "Leaf", "parent_id": root})).await;
        let children = app.get(&format!("/api/categories?parent_id={root}"), &a).await;
        assert_eq!(children.get("count"), &json!(1), "{}", children.text);
        // A row may even name itself.
        let r = app.patch(&format!("/api/employees/{lead}"), &a, json!({"mentor_id": lead})).await;
        r.assert_status(200);

        // Every referenced row is kept.
        assert_delete_refused(&app, &a, &format!("/api/teams/{team}")).await;
        assert_delete_refused(&app, &a, &format!("/api/offices/{office}")).await;
        assert_delete_refused(&app, &a, &format!("/api/employees/{lead}")).await;
        assert_delete_refused(&app, &a, &format!("/api/categories/{root}")).await;
        // Leaves go, then what they referenced.
        app.delete(&format!("/api/categories/{leaf}"), &a).await.assert_status(204);
        app.delete(&format!("/api/categories/{root}"), &a).await.assert_status(204);
        app.delete(&format!("/api/employees/{junior}"), &a).await.assert_status(204);
        // `lead` is its own mentor and still the office's manager.
        assert_delete_refused(&app, &a, &format!("/api/employees/{lead}")).await;
        app.patch(&format!("/api/offices/{office}"), &a, json!({"manager_id": null})).await.assert_status(200);
        app.delete(&format!("/api/employees/{lead}"), &a).await.assert_status(204);
        assert_delete_refused(&app, &a, &format!("/api/offices/{office}")).await; // the team's
        app.patch(&format!("/api/teams/{team}"), &a, json!({"office_id": null})).await.assert_status(200);
        app.delete(&format!("/api/offices/{office}"), &a).await.assert_status(204);
        app.delete(&format!("/api/teams/{team}"), &a).await.assert_status(204);
    }

    async fn every_reference_refuses_another_company_s_row(app: TestApp) {
        let (alice, bob) = (app.signup("Acme").await.auth(), app.signup("Globex").await.auth());
        // One row of each resource in each company, linked within the company.
        let mut ids = Vec::new();
        for auth in [&alice, &bob] {
            let project = create(&app, auth, "/api/projects", json!({"name": "P"})).await;
            let task = create(&app, auth, "/api/tasks", json!({"project_id": project, "title": "T"})).await;
            let team = create(&app, auth, "/api/teams", json!({"name": "T"})).await;
            let employee = create(&app, auth, "/api/employees", json!({"name": "E", "team_id": team})).await;
            let office = create(&app, auth, "/api/offices", json!({"city": "C"})).await;
            let category = create(&app, auth, "/api/categories", json!({"name": "C"})).await;
            ids.push([
                ("projects", project, json!({"name": "P"})),
                ("tasks", task, json!({"project_id": project, "title": "T"})),
                ("teams", team, json!({"name": "T"})),
                ("offices", office, json!({"city": "C"})),
                ("employees", employee, json!({"name": "E", "team_id": team})),
                ("categories", category, json!({"name": "C"})),
            ]);
        }
        let id = |company: usize, path: &str| ids[company].iter().find(|(p, ..)| *p == path).unwrap().1;
        let bob_rows = read_all(&app, &bob, &ids[1]).await;
        // (resource, reference field, referenced resource)
        let references = [
            ("projects", "lead_task_id", "tasks"),
            ("tasks", "project_id", "projects"),
            ("teams", "office_id", "offices"),
            ("offices", "manager_id", "employees"),
            ("employees", "team_id", "teams"),
            ("employees", "mentor_id", "employees"),
            ("categories", "parent_id", "categories"),
        ];
        for (resource, field, target) in references {
            let own = id(0, resource);
            let body = ids[0].iter().find(|(p, ..)| *p == resource).unwrap().2.clone();
            for foreign in [id(1, target), Uuid::now_v7()] {
                let mut create_body = body.clone();
                create_body[field] = json!(foreign);
                let r = app.post(&format!("/api/{resource}"), &alice, create_body).await;
                r.assert_status(400);
                r.assert_field_error(field);
                let r = app.patch(&format!("/api/{resource}/{own}"), &alice, json!({ field: foreign })).await;
                r.assert_status(400);
                r.assert_field_error(field);
                assert!(r.get(field)[0].as_str().unwrap().contains("does not exist"), "{}", r.text);
            }
            // The same company's row is accepted.
            let r = app.patch(&format!("/api/{resource}/{own}"), &alice, json!({ field: id(0, target) })).await;
            r.assert_status(200);
        }
        assert_eq!(read_all(&app, &bob, &ids[1]).await, bob_rows, "Bob's rows are untouched");
    }
}

/// A database created before the foreign keys moved out of `CREATE TABLE`: its self-reference
/// was declared inline, named `<table>_<field>_fkey`. Migrating it now keeps that one key (no
/// second one under another name), and the key still holds.
#[tokio::test]
async fn an_earlier_database_keeps_its_inline_keys() {
    let Some(app) = TestApp::for_app(Backend::Postgres, register).await else { return };
    let owner = Db::connect(&app.database_url, 1).await.expect("owner connection");
    owner.execute("DROP TABLE cy_categories", &[]).await.unwrap();
    // What the migration created for `Category` before this change.
    owner
        .execute(
            "CREATE TABLE IF NOT EXISTS cy_categories (
    id UUID NOT NULL,
    company_id UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    name TEXT NOT NULL,
    parent_id UUID,
    PRIMARY KEY (company_id, id),
    CONSTRAINT cy_categories_parent_id_fkey FOREIGN KEY (company_id, parent_id) REFERENCES cy_categories (company_id, id)
)",
            &[],
        )
        .await
        .unwrap();
    owner.close().await;
    let app = restarted(&app).await;
    assert_one_key_per_reference(&app).await;
    let a = app.signup("Acme").await.auth();
    let root = create(&app, &a, "/api/categories", json!({"name": "Root"})).await;
    create(&app, &a, "/api/categories", json!({"name": "Leaf", "parent_id": root})).await;
    assert_delete_refused(&app, &a, &format!("/api/categories/{root}")).await;
}
