use tenant_core::tenant_resource;

pub struct Customer {
    pub name: String,
}

#[tenant_resource]
pub struct Invoice {
    #[field(references = Customer)]
    pub customer_id: uuid::Uuid,
}

fn main() {}
