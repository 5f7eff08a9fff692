use tenant_core::tenant_resource;

#[tenant_resource(table = "users", path = "/api/people/")]
pub struct Person {
    pub name: String,
}

#[tenant_resource(table = "Order Lines", path = "")]
pub struct OrderLine {
    pub name: String,
}

fn main() {}
