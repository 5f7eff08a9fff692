// An action name that is not one of DRF's six: each is reported, with what to write instead.
use tenant_core::tenant_resource;

#[tenant_resource(table = "rates", actions = "list, retreive, delete")]
pub struct Rate {
    pub label: String,
}

fn main() {}
