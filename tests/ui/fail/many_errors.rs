use tenant_core::tenant_resource;

// Every mistake is reported in one go, each at its own token.
#[tenant_resource(table = 5, path = "api/customers", delete = "owner", delete = "admin")]
pub struct Customer {
    pub created_at: String,
    #[field(len = 1..200, serach)]
    pub name: String,
    #[field(unique = true, range = 0..)]
    pub order: i32,
    #[field(filter)]
    pub page: i32,
}

fn main() {}
