use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Product {
    #[field(range = 0..=100)]
    pub name: String,
}

fn main() {}
