// A resource serves at least one route.
use tenant_core::tenant_resource;

#[tenant_resource(table = "rates", actions = "")]
pub struct Rate {
    pub label: String,
}

#[tenant_resource(table = "fees", actions = " , ")]
pub struct Fee {
    pub label: String,
}

fn main() {}
