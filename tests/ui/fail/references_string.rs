use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Customer {
    pub name: String,
}

#[tenant_resource]
pub struct Invoice {
    #[field(references = Customer)]
    pub customer: String,
}

fn main() {}
