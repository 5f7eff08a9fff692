// `read_only`, `write_only`, `write` and `computed` used where they cannot work: every mistake
// is reported at once, under its own key.
use tenant_core::tenant_resource;

#[tenant_resource(table = "projects", computed(name: String, late: bool, late: bool))]
pub struct Project {
    pub name: String,
    #[field(read_only)]
    pub renames: i32,
    #[field(read_only, write_only, default)]
    pub shown: i32,
    #[field(read_only, write = "admin", default)]
    pub frozen: bool,
    #[field(write_only, filter, search, order, lookups = "in")]
    pub secret: String,
    #[field(write = "owner")]
    pub archived: bool,
}

fn main() {}
