use tenant_core::TenantEnum;

#[derive(Debug, Clone, Copy, TenantEnum)]
pub enum Status {
    Draft,
    #[choice(rename = "draft")]
    Concept,
    #[choice(renam = "x")]
    Sent,
}

fn main() {}
