//! The tenant context outside a request: background jobs, management commands, tests.
//!
//! A request gets its [`Scoped`] transaction from the [`Tenant`](crate::Tenant) extractor, after
//! the caller's membership is checked. Code that runs on no one's behalf names the company
//! itself, here, and gets the same [`Scoped`]: every statement of the typed operations binds
//! that company, and on PostgreSQL the transaction carries it for row-level security, so the
//! same code reads the same rows on both backends. There is no other way to a tenant table
//! through the public API.
//!
//! ```no_run
//! use tenant_core::{ApiError, AppState, ListQuery, jobs, tenant_resource};
//!
//! #[tenant_resource(table = "invoices")]
//! pub struct Invoice {
//!     #[field(filter)]
//!     pub paid: bool,
//! }
//!
//! /// A nightly job: how many unpaid invoices each company has.
//! async fn unpaid_per_company(state: &AppState) -> Result<Vec<(uuid::Uuid, u64)>, ApiError> {
//!     let unpaid = ListQuery::parse(&<Invoice as tenant_core::Resource>::DESC, &[("paid".into(), "false".into())])?;
//!     let mut out = Vec::new();
//!     for company_id in jobs::every_company(state).await? {
//!         let mut scoped = jobs::scoped(state, company_id).await?;
//!         let (count, _) = scoped.list::<Invoice>(&unpaid).await?;
//!         scoped.commit().await?;
//!         out.push((company_id, count));
//!     }
//!     Ok(out)
//! }
//! ```

use uuid::Uuid;

use crate::db::TxMode;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant::{Scoped, scoped_outside_request};
use crate::value::Value;

/// Every company, oldest first.
const EVERY_COMPANY: &str = "SELECT id FROM companies ORDER BY created_at, id";
const COMPANY_EXISTS: &str = "SELECT id FROM companies WHERE id = $1";

/// A write transaction scoped to `company_id`, on no member's behalf: what a job works in.
/// Commit it with [`Scoped::commit`]; dropping it rolls back. It holds one pooled connection
/// until then, outside the per-company connection shares of requests.
///
/// # Errors
///
/// 404 ([`ApiError::NotFound`]) when there is no such company; 503 when the database cannot
/// be reached; 500 otherwise.
pub async fn scoped(state: &AppState, company_id: Uuid) -> Result<Scoped, ApiError> {
    let mut tx = state.db().begin(TxMode::Write).await?;
    let exists: Option<(Uuid,)> =
        tx.fetch_optional_as(COMPANY_EXISTS, &[Value::Uuid(Some(company_id))], ["id"]).await?;
    if exists.is_none() {
        tx.rollback().await?;
        return Err(ApiError::NotFound);
    }
    tx.set_tenant(company_id).await?;
    Ok(scoped_outside_request(tx, company_id))
}

/// The id of every company, oldest first: the one way to iterate tenants, for jobs that visit
/// each in turn with [`scoped`]. It reads the companies table only, never a tenant's rows.
///
/// # Errors
///
/// 503 when the database cannot be reached; 500 otherwise.
pub async fn every_company(state: &AppState) -> Result<Vec<Uuid>, ApiError> {
    let mut tx = state.db().begin(TxMode::Read).await?;
    let ids: Vec<(Uuid,)> = tx.fetch_all_as(EVERY_COMPANY, &[], ["id"]).await?;
    tx.rollback().await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}
