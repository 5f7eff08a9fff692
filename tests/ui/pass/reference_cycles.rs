// Resources that reference each other, in a 2-cycle, a 3-cycle and themselves, compile: each
// `DESC` points at the others through a function, never by reading their `DESC` (which was a
// const-evaluation cycle).
use tenant_core::{Resource, tenant_resource};
use uuid::Uuid;

#[tenant_resource]
pub struct Project {
    #[field(references = Task)]
    pub lead_task_id: Option<Uuid>,
}

#[tenant_resource]
pub struct Task {
    #[field(references = Project, filter)]
    pub project_id: Uuid,
    #[field(references = Self)]
    pub parent_id: Option<Uuid>,
}

#[tenant_resource]
pub struct Alpha {
    #[field(references = Beta)]
    pub beta_id: Option<Uuid>,
}

#[tenant_resource]
pub struct Beta {
    #[field(references = Gamma)]
    pub gamma_id: Option<Uuid>,
}

#[tenant_resource]
pub struct Gamma {
    #[field(references = Alpha)]
    pub alpha_id: Uuid,
    #[field(references = Gamma)]
    pub parent_id: Option<Uuid>,
}

fn target(desc: &tenant_core::ResourceDesc, field: &str) -> &'static str {
    desc.field(field).unwrap().references.unwrap().target().name
}

fn main() {
    assert_eq!(target(&Project::DESC, "lead_task_id"), "Task");
    assert_eq!(target(&Task::DESC, "project_id"), "Project");
    assert_eq!(target(&Task::DESC, "parent_id"), "Task");
    assert_eq!(target(&Alpha::DESC, "beta_id"), "Beta");
    assert_eq!(target(&Beta::DESC, "gamma_id"), "Gamma");
    assert_eq!(target(&Gamma::DESC, "alpha_id"), "Alpha");
    assert_eq!(target(&Gamma::DESC, "parent_id"), "Gamma");
    // Round trips: the cycle is walkable both ways.
    let lead = Project::DESC.field("lead_task_id").unwrap().references.unwrap();
    let back = lead.target().field("project_id").unwrap().references.unwrap();
    assert_eq!((back.table(), back.resource()), ("projects", "project"));
    assert_eq!(back.exists(), "SELECT 1 FROM projects WHERE company_id = $1 AND id = $2");
    assert_eq!(format!("{lead:?}"), "Reference { table: \"tasks\" }");
}
