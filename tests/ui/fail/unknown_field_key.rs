use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Customer {
    #[field(uniqe, filter)]
    pub email: String,
    #[field(nullable)]
    pub phone: String,
}

fn main() {}
