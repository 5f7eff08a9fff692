// An action named twice.
use tenant_core::tenant_resource;

#[tenant_resource(table = "rates", actions = "list, retrieve, list")]
pub struct Rate {
    pub label: String,
}

fn main() {}
