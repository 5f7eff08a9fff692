use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Customer {
    pub id: i64,
    pub name: String,
}

fn main() {}
