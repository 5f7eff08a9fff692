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
    #[field(default = 1.5)]
    pub quantity: i64,
    #[field(default = 0)]
    pub title: String,
}

fn main() {}
