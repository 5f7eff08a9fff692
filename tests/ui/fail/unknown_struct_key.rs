use tenant_core::tenant_resource;

#[tenant_resource(tabel = "customers", read = "staff")]
pub struct Customer {
    pub name: String,
}

fn main() {}
