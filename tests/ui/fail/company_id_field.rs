use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Customer {
    pub company_id: uuid::Uuid,
    pub name: String,
}

fn main() {
    // The struct and its impls are still emitted: no second error here.
    let _ = Customer::router;
    let _ = <Customer as tenant_core::Resource>::DESC;
}
