use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Product {
    #[field(default = "yes")]
    pub active: bool,
}

fn main() {}
