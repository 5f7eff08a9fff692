use tenant_core::TenantEnum;

#[derive(Debug, Clone, Copy, TenantEnum)]
pub enum Status {
    Draft,
    Sent(u32),
    Paid { on: u32 },
}

fn main() {}
