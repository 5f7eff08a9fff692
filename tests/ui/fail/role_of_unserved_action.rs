// A role for a write the resource does not serve would never be checked.
use tenant_core::tenant_resource;

#[tenant_resource(table = "rates", read_only, delete = "staff")]
pub struct Rate {
    pub label: String,
}

#[tenant_resource(table = "fees", actions = "list, create", create = "admin", update = "admin")]
pub struct Fee {
    pub label: String,
}

fn main() {}
