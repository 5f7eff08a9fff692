use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Customer(String, Option<String>);

fn main() {}
