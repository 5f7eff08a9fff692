// `read_only` is short for `actions = "list, retrieve"`: one or the other.
use tenant_core::tenant_resource;

#[tenant_resource(table = "rates", actions = "list", read_only)]
pub struct Rate {
    pub label: String,
}

fn main() {}
