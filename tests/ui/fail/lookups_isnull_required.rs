use tenant_core::tenant_resource;

#[tenant_resource]
pub struct Invoice {
    #[field(order, lookups = "gte, isnull")]
    pub issued_on: chrono::NaiveDate,
}

fn main() {}
