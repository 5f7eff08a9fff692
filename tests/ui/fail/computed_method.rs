// A computed field is read from the model's method of its name, with its declared type.
use tenant_core::tenant_resource;

#[tenant_resource(table = "projects", computed(is_overdue: bool, days_left: i64))]
pub struct Project {
    pub name: String,
}

impl Project {
    fn is_overdue(&self) -> Option<bool> {
        None
    }
}

fn main() {}
