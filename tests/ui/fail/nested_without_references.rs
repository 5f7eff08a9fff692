// `nested` serves a resource under the resource it references: it needs `references`.
use tenant_core::tenant_resource;

#[tenant_resource(table = "tasks")]
pub struct Task {
    #[field(nested, filter)]
    pub project_id: uuid::Uuid,
}

fn main() {}
