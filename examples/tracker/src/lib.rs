//! A project tracker on tenant-core: projects, tasks and comments, each company's own.
//!
//! Every power an app customises a DRF `ModelViewSet` with is used once: a hook rule (a task is
//! never due before its project starts; an archived project takes no tasks), an admin-only field
//! (`archived`), a read-only field set by a hook (`completed_at`), a computed field
//! (`is_overdue`), a custom action (`POST /api/tasks/{id}/complete`), nested collections
//! (`/api/projects/{id}/tasks`, `/api/tasks/{id}/comments`), lookups (`due_on__lte`, …),
//! resources that reference each other (a project's lead task), and a job over every company
//! ([`overdue_per_company`]).

pub mod models;

use axum::http::Method;
use tenant_core::actions::Object;
use tenant_core::{ApiError, App, AppState, Config, ListQuery, Role, jobs};
use uuid::Uuid;

pub use models::{Comment, Project, Task, TaskPatch};

/// Any error of the binary's commands.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The tracker's resources and action on the framework's `App`.
pub fn register(app: App) -> App {
    app.resource::<Project>()
        .resource_with::<Task>(|routes| routes.detail_action(Method::POST, "complete", Role::Staff, complete))
        .resource::<Comment>()
        .migrations(tenant_core::embed_migrations!("migrations"))
        .api_info("tracker", env!("CARGO_PKG_VERSION"))
}

/// The tracker's resources, as `register` adds them (what `makemigrations` compares).
pub fn register_resources() -> Vec<tenant_core::ResourceDesc> {
    use tenant_core::Resource;
    vec![Project::DESC, Task::DESC, Comment::DESC]
}

/// Where `makemigrations` writes the tracker's migrations: `examples/tracker/migrations`.
pub const MIGRATIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// Connects, migrates, checks isolation and returns the router.
pub async fn build(config: Config) -> Result<axum::Router, BoxError> {
    let app = register(App::connect(config).await?);
    app.migrate().await?;
    Ok(app.into_router().await?)
}

/// `POST /api/tasks/{id}/complete` (staff): marks the task done; `completed_at` is set by the
/// task's `before_update` hook. 409 when it already is.
async fn complete(Object { mut scoped, object: task, .. }: Object<Task>) -> Result<axum::Json<Task>, ApiError> {
    if task.done {
        return Err(ApiError::Conflict("This task is already done.".into()));
    }
    let task = scoped.update::<Task>(task.id, TaskPatch { done: Some(true), ..Default::default() }).await?;
    scoped.commit().await?;
    Ok(axum::Json(task))
}

/// A job over every company: how many of its tasks are overdue (not done, due before
/// `today`), one company at a time, each in its own scope.
pub async fn overdue_per_company(state: &AppState, today: chrono::NaiveDate) -> Result<Vec<(Uuid, u64)>, ApiError> {
    // The typed builder: `Task::DONE`, `Task::DUE_ON` are checked against the model's fields.
    let query = ListQuery::default().filter(Task::DONE.eq(false)).filter(Task::DUE_ON.lt(Some(today)));
    let mut counts = Vec::new();
    for company in jobs::every_company(state).await? {
        let mut scoped = jobs::scoped(state, company).await?;
        let (count, _) = scoped.list::<Task>(&query).await?;
        scoped.commit().await?;
        counts.push((company, count));
    }
    Ok(counts)
}
