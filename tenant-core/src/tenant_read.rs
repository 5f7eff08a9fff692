//! Tenant reads in one database round trip (issue 15): the list and retrieve endpoints.
//!
//! A [`Tenant`] costs `BEGIN`, the membership statement, the request's statements and `COMMIT`:
//! four round trips for one query. A read needs one. On PostgreSQL with row-level security,
//! [`TenantRead`] sends the membership statement (which sets the transaction-local tenant only
//! when the caller is a member) and the query together, as one simple-protocol message that
//! PostgreSQL runs as one implicit transaction. The query is scoped by the setting the first
//! statement made (`$1` is written as [`TENANT_COMPANY`]), so every guarantee of the slower path
//! holds. Both statements are prepared on every connection and sent as `EXECUTE` with their
//! values written in as literals (`db/prepared.rs`): a simple-protocol message has no bound
//! parameters, and statements written out in full would be parsed and planned on every request.
//! The guarantees:
//! - the membership is checked again on every request, in the same transaction as the query;
//! - the tenant setting is transaction-local (gone when the message's transaction ends);
//! - row-level security still applies to the query;
//! - fail-closed: without a membership row the setting stays unset, the query's scope is NULL
//!   and matches nothing (and RLS shows nothing); the answer is then the slower path's 401/403,
//!   and rows returned anyway would be a 500, never an answer;
//! - a company's connection share ([`crate::fair_share`]) is taken before the round trip, for
//!   the company this caller was last verified a member of with the same `X-Company-Id`; with
//!   none known (a first request, a non-member), the read takes the slower path, which checks
//!   the membership before it takes any share.
//!
//! Elsewhere (SQLite, whose reads have no network round trips; PostgreSQL with
//! `ROW_LEVEL_SECURITY=off`, where nothing would scope a query sent before its membership is
//! known; a Citus coordinator, where the membership statement's `set_config` would not reach the
//! workers and the tenant is set with `SET LOCAL` instead, `citus.rs`; a statement the literal
//! writer declines) it is a [`Tenant`] transaction as before.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use uuid::Uuid;

use crate::db::{Dialect, Sql, TxMode, tenant_setting, write_literal};
use crate::error::ApiError;
use crate::identity::{USER_EXISTS, user_not_found};
use crate::messages::{NO_ACTIVE_COMPANY, NOT_A_MEMBER};
use crate::row::RowDecoder;
use crate::state::AppState;
use crate::tenant::{Membership, RESOLVE_MEMBERSHIP_AND_SET_TENANT, Tenant};
use crate::value::{FieldType, Value};

/// The scoped company inside a one-trip read: the tenant the membership statement set, NULL
/// (matching no row) when it set none. `NULLIF`: a setting once made on a connection reads as
/// `''` after its transaction, not as missing.
pub(crate) const TENANT_COMPANY: &str = concat!("NULLIF(current_setting('", tenant_setting!(), "', true), '')::uuid");

/// The caller of a read endpoint, before any database work: who they are (the token, 401) and
/// which company they ask for (`X-Company-Id`, 403 when malformed). The membership is checked by
/// [`TenantRead::fetch_all_with`], in the read's own round trip.
///
/// An extractor with [`Tenant`]'s answers: 401, 403 (not a member, no active company, a bad
/// `X-Company-Id`), 429 (the user's or the company's rate), 503.
pub struct TenantRead {
    state: AppState,
    user_id: Uuid,
    requested: Option<Uuid>,
}

impl<S> FromRequestParts<S> for TenantRead
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let (user_id, requested) = Tenant::caller(parts, &state).await?;
        Ok(TenantRead { state, user_id, requested })
    }
}

impl TenantRead {
    /// The backend's dialect, for building the read's statement.
    pub fn dialect(&self) -> Dialect {
        self.state.db().dialect()
    }

    /// The slower path's [`Tenant`]: a read transaction with the membership resolved in it. For
    /// an answer that needs no query but must not come before the membership's 403 (a bad query
    /// parameter is a 400 for members only, as DRF checks permissions before the view runs).
    pub async fn into_tenant(self) -> Result<Tenant, ApiError> {
        Tenant::enter(&self.state, self.user_id, self.requested, TxMode::Read, false, None).await
    }

    /// Runs the read `sql` (its `$1` the company, `params[0]` a placeholder for it) for the
    /// caller's active company and decodes every row with `decoder`: in one round trip where the
    /// module's conditions hold, else in a [`Tenant`] transaction.
    pub async fn fetch_all_with<D: RowDecoder + Send>(
        self,
        sql: Sql,
        mut params: Vec<Value>,
        decoder: &mut D,
    ) -> Result<Vec<D::Output>, ApiError> {
        let state = &self.state;
        let shares = state.company_connections();
        let share_of = shares.map(|shares| shares.member_company(self.user_id, self.requested));
        // No statement is written for a read that takes the slower path anyway.
        // Not on Citus: the membership statement's `set_config` would not reach the workers
        // (`db::set_tenant_statement`), and there the `Tenant` path sets the tenant with `SET LOCAL`.
        let one_trip = state.db().dialect() == Dialect::Postgres
            && state.config().row_level_security
            && !state.db().is_citus()
            && !matches!(share_of, Some(None));
        let statements = one_trip.then(|| self.statements(&sql, &params)).flatten();
        let Some((membership, query)) = statements else {
            let mut tenant = self.into_tenant().await?;
            let mut scoped = tenant.begin()?;
            params[0] = scoped.company_param();
            let rows = scoped.tx().fetch_all_with(sql, &params, decoder).await?;
            scoped.commit().await?;
            return Ok(rows);
        };
        let _permit = match (shares, share_of.flatten()) {
            (Some(shares), Some(company)) => match shares.try_acquire(company) {
                Some(permit) => Some(permit),
                None => Some(shares.acquire(company).await.ok_or(ApiError::Busy(1))?),
            },
            _ => None,
        };
        let (members, rows) = state.db().read_in_one_trip(&membership, &query, &mut Membership, decoder).await?;
        match members.into_iter().next() {
            Some((company_id, Ok(_role))) => {
                // Recorded only when it changed: no lock of the shared map on a read that found
                // what it expected.
                if let Some(shares) = shares
                    && share_of.flatten() != Some(company_id)
                {
                    shares.remember_member(self.user_id, self.requested, company_id);
                }
                Tenant::admitted(state, company_id).await?;
                Ok(rows)
            }
            Some((_, Err(role))) => Err(ApiError::internal(format!("unknown role {role:?} in memberships"))),
            None => {
                if let Some(shares) = shares {
                    shares.forget_member(self.user_id, self.requested);
                }
                if !rows.is_empty() {
                    return Err(ApiError::internal("a read without a membership returned rows"));
                }
                self.refusal().await
            }
        }
    }

    /// The read's two statements as a one-trip message sends them (`EXECUTE` of statements
    /// prepared on every connection, values written in), or `None` when a value cannot be.
    fn statements(&self, sql: &Sql, params: &[Value]) -> Option<(String, String)> {
        let db = self.state.db();
        let mut user = String::new();
        write_literal(&mut user, &Value::Uuid(Some(self.user_id)))?;
        let membership_params = [Value::Uuid(Some(self.user_id)), Value::Uuid(self.requested)];
        let membership = db.one_trip_statement(RESOLVE_MEMBERSHIP_AND_SET_TENANT, &membership_params, &user)?;
        let query = db.one_trip_statement(sql.as_str(), params, TENANT_COMPANY)?;
        Some((membership, query))
    }

    /// The answer to a caller without the membership: 401 when the user no longer exists (as
    /// Simple JWT), else 403 as [`Tenant`] gives it.
    async fn refusal<T>(&self) -> Result<T, ApiError> {
        let params = [Value::Uuid(Some(self.user_id))];
        if self.state.db().fetch_optional(USER_EXISTS, &params, &[FieldType::Uuid]).await?.is_none() {
            return Err(user_not_found());
        }
        Err(match self.requested {
            Some(_) => ApiError::Forbidden(NOT_A_MEMBER),
            None => ApiError::Forbidden(NO_ACTIVE_COMPANY),
        })
    }
}
