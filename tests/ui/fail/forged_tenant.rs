// The tenant context cannot be forged: its fields are private and it has no public constructor,
// so the only `Tenant` is the one the extractor verified (token, membership, role).
use tenant_core::{Role, Tenant};

fn main() {
    let _forged = Tenant { user_id: uuid::Uuid::nil(), company_id: uuid::Uuid::nil(), role: Role::Admin };
    let _also = Tenant::new(uuid::Uuid::nil(), uuid::Uuid::nil(), Role::Admin);
}
