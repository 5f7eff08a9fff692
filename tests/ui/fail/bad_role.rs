use tenant_core::tenant_resource;

#[tenant_resource(delete = "owner", create = admin)]
pub struct Customer {
    pub name: String,
}

fn main() {}
