use tenant_core::{TenantEnum, tenant_resource};

#[derive(Debug, Clone, Copy, TenantEnum)]
pub enum Status {
    Draft,
    Sent,
}

#[tenant_resource]
pub struct Invoice {
    #[field(default = "draft")]
    pub status: Status,
}

fn main() {}
