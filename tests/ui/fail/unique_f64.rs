use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Product {
    #[field(unique)]
    pub weight: f64,
}

fn main() {}
