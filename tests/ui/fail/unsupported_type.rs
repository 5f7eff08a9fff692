use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Product {
    pub name: String,
    pub tags: Vec<String>,
}

fn main() {}
