//! The tracker's resources. Projects and tasks reference each other (a project's lead task, a
//! task's project); tasks and comments are also served under their parents.

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use tenant_core::{ApiError, Hooks, Scoped, tenant_resource};
use uuid::Uuid;

#[tenant_resource(table = "tr_projects", path = "/api/projects")]
pub struct Project {
    #[field(len = 1..=100, search, order)]
    pub name: String,
    #[field(order, lookups = "gte, lte")]
    pub starts_on: NaiveDate,
    /// Only admins archive (or unarchive) a project.
    #[field(write = "admin", default, filter)]
    pub archived: bool,
    /// The task that leads the project, once there is one.
    #[field(references = Task)]
    pub lead_task_id: Option<Uuid>,
}

/// A task is overdue when it is not done and its due date has passed.
#[tenant_resource(table = "tr_tasks", path = "/api/tasks", hooks, computed(is_overdue: bool))]
pub struct Task {
    #[field(references = Project, nested, filter)]
    pub project_id: Uuid,
    #[field(len = 1..=200, search, order)]
    pub title: String,
    #[field(order, lookups = "gte, lte, isnull")]
    pub due_on: Option<NaiveDate>,
    #[field(default, filter)]
    pub done: bool,
    /// Set by the server when the task is done.
    #[field(read_only)]
    pub completed_at: Option<DateTime<Utc>>,
}

impl Task {
    fn is_overdue(&self) -> bool {
        !self.done && self.due_on.is_some_and(|due| due < Utc::now().date_naive())
    }
}

impl Hooks for Task {
    /// A task is never due before its project starts, and an archived project takes no new or
    /// changed tasks.
    async fn validate(scoped: &mut Scoped, task: &Task, _old: Option<&Task>) -> Result<(), ApiError> {
        // A missing or another company's project is the reference check's 400.
        let Some(project) = scoped.find::<Project>(task.project_id).await? else { return Ok(()) };
        if project.archived {
            return Err(ApiError::non_field("This project is archived."));
        }
        if task.due_on.is_some_and(|due| due < project.starts_on) {
            return Err(ApiError::field("due_on", "A task cannot be due before its project starts."));
        }
        Ok(())
    }

    async fn before_update(_scoped: &mut Scoped, task: &mut Task, old: &Task) -> Result<(), ApiError> {
        task.completed_at = match (old.done, task.done) {
            // Microseconds: what both backends store.
            (false, true) => Utc::now().duration_trunc(TimeDelta::microseconds(1)).ok(),
            (_, false) => None,
            (true, true) => old.completed_at,
        };
        Ok(())
    }
}

#[tenant_resource(table = "tr_comments", path = "/api/comments", delete = "staff")]
pub struct Comment {
    #[field(references = Task, nested, filter)]
    pub task_id: Uuid,
    #[field(len = 1..=2000)]
    pub body: String,
}
