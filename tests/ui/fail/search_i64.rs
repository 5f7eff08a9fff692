use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Product {
    #[field(search)]
    pub stock: Option<i64>,
}

fn main() {}
