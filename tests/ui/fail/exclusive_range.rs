use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Product {
    #[field(len = 1..64)]
    pub sku: String,
    #[field(range = 0..100)]
    pub discount: i32,
    #[field(len = 10)]
    pub code: String,
}

fn main() {}
