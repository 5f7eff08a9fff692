use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Product {
    #[field(len = 1..=5)]
    pub active: bool,
}

fn main() {}
