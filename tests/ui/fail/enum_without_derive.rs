use tenant_core::tenant_resource;

#[derive(Debug, Clone, Copy)]
pub enum Status {
    Draft,
    Sent,
}

#[tenant_resource]
pub struct Invoice {
    pub number: String,
    pub status: Status,
}

fn main() {}
