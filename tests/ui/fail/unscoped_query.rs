// A tenant-resource query needs a `Scoped` transaction, and only the `Tenant` extractor makes
// one: building it by hand from a raw transaction does not compile.
use tenant_core::db::TxMode;
use tenant_core::{AppState, Scoped, tenant_resource};

#[tenant_resource]
pub struct Customer {
    pub name: String,
}

async fn all_customers_of_every_company(state: AppState, id: uuid::Uuid) {
    let tx = state.db().begin(TxMode::Read).await.unwrap();
    let mut scoped = Scoped { tx, company_id: uuid::Uuid::nil() };
    let _ = scoped.get::<Customer>(id).await;
}

fn main() {}
