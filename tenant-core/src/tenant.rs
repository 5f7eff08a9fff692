//! The tenant context: who is calling, and for which company.
//!
//! [`Tenant`] is an axum extractor and the **only** way to obtain a [`Scoped`] transaction, which
//! every tenant-resource query takes. A handler that does not extract a `Tenant` therefore cannot
//! query tenant data at all: an unscoped query does not compile.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::jwt::TokenType;
use crate::db::{Dialect, Tx, TxMode};
use crate::error::ApiError;
use crate::row::{RowDecoder, RowReader};
use crate::value::{DecodeError, FieldValue, Value};

/// The header that picks the active company for one request.
pub const COMPANY_HEADER: &str = "x-company-id";

/// A member's role in a company. Ordered: `Admin` may do everything `Staff` may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Staff,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An authenticated user, not (yet) tied to a company: for `/api/me` and `/api/companies`.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser {
    pub user_id: Uuid,
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("Authentication credentials were not provided."))?;
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("Invalid Authorization header."))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthorized("Invalid Authorization header: expected `Bearer <token>`."))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized("Invalid Authorization header: expected `Bearer <token>`."));
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers)?;
        let claims = state.keys().verify(token, TokenType::Access).map_err(|e| match e {
            crate::auth::jwt::TokenError::Expired => ApiError::Unauthorized("Token has expired."),
            crate::auth::jwt::TokenError::Invalid => ApiError::Unauthorized("Token is invalid."),
            crate::auth::jwt::TokenError::WrongType => {
                ApiError::Unauthorized("Token has the wrong type: use an access token.")
            }
        })?;
        Ok(CurrentUser { user_id: claims.sub })
    }
}

/// Reads `X-Company-Id`: absent → `None`; present but not a UUID → 403.
pub fn requested_company(headers: &HeaderMap) -> Result<Option<Uuid>, ApiError> {
    match headers.get(COMPANY_HEADER) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .map(Some)
            .ok_or(ApiError::Forbidden("X-Company-Id is not a valid UUID.")),
    }
}

/// The active company of the caller (the `X-Company-Id` one, or the default), with the
/// caller's role in it, and the request's transaction, bound to that company.
///
/// Membership is read from the database on every request, so removing a member takes effect
/// at once, even while their token is still valid. The extractor opens the request's one
/// transaction (a writer's for any method but GET, HEAD and OPTIONS) and resolves the company
/// inside it; on PostgreSQL the same statement sets the transaction-local tenant that
/// row-level security checks. So a tenant request costs `BEGIN`, one membership statement, its
/// queries, and `COMMIT`.
pub struct Tenant {
    user_id: Uuid,
    company_id: Uuid,
    role: Role,
    tx: Option<Tx>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("user_id", &self.user_id)
            .field("company_id", &self.company_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Resolve the active company and check membership in one statement.
const RESOLVE_MEMBERSHIP: &str = "SELECT m.company_id, m.role FROM memberships m \
     WHERE m.user_id = $1 AND m.company_id = COALESCE($2, (SELECT u.default_company_id FROM users u WHERE u.id = $1))";

/// The same, also setting the row-level security tenant (transaction-local) when, and only
/// when, the membership exists.
const RESOLVE_MEMBERSHIP_AND_SET_TENANT: &str = "SELECT m.company_id, m.role, \
     set_config('app.company_id', m.company_id::text, true) FROM memberships m \
     WHERE m.user_id = $1 AND m.company_id = COALESCE($2, (SELECT u.default_company_id FROM users u WHERE u.id = $1))";

impl Tenant {
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    pub fn company_id(&self) -> Uuid {
        self.company_id
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// 403 unless the caller's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden("You do not have permission to perform this action."))
        }
    }

    /// Resolves the active company for `user_id` inside `tx`, setting the database's tenant
    /// where the backend enforces row-level security.
    async fn resolve(
        state: &AppState,
        tx: &mut Tx,
        user_id: Uuid,
        requested: Option<Uuid>,
    ) -> Result<(Uuid, Role), ApiError> {
        let params = [Value::Uuid(Some(user_id)), Value::Uuid(requested)];
        let sql = if tx.dialect() == Dialect::Postgres && state.config().row_level_security {
            RESOLVE_MEMBERSHIP_AND_SET_TENANT
        } else {
            RESOLVE_MEMBERSHIP
        };
        match tx.fetch_optional_with(sql, &params, &mut Membership).await? {
            Some((company_id, Ok(role))) => Ok((company_id, role)),
            Some((_, Err(role))) => Err(ApiError::internal(format!("unknown role {role:?} in memberships"))),
            None => Err(match requested {
                Some(_) => ApiError::Forbidden("You are not a member of this company."),
                None => ApiError::Forbidden(
                    "No active company: send X-Company-Id or set a default company you are a member of.",
                ),
            }),
        }
    }

    /// The request's transaction, bound to this tenant. Every tenant-resource query runs
    /// through it; it can be taken once.
    pub fn begin(&mut self) -> Result<Scoped, ApiError> {
        let tx = self.tx.take().ok_or_else(|| ApiError::internal("the tenant transaction was already taken"))?;
        Ok(Scoped { tx, company_id: self.company_id })
    }
}

/// Decodes the membership row: the company and the role (`Err`: a role this version does not
/// know). The `set_config` column after them is not read.
struct Membership;

impl RowDecoder for Membership {
    type Output = (Uuid, Result<Role, String>);
    fn decode<R: RowReader + ?Sized>(&mut self, row: &mut R) -> Result<Self::Output, DecodeError> {
        let company_id = Uuid::read(row, "company_id")?;
        let role = String::read(row, "role")?;
        Ok((company_id, Role::parse(&role).ok_or(role)))
    }
}

/// Reads never take SQLite's write lock; every other method is treated as a write.
fn tx_mode(method: &Method) -> TxMode {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) { TxMode::Read } else { TxMode::Write }
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let requested = requested_company(&parts.headers)?;
        let mut tx = state.db().begin(tx_mode(&parts.method)).await?;
        let (company_id, role) = Tenant::resolve(state, &mut tx, user.user_id, requested).await?;
        Ok(Tenant { user_id: user.user_id, company_id, role, tx: Some(tx) })
    }
}

/// A transaction bound to one company. It can only be made by [`Tenant::begin`]; the queries in
/// [`crate::crud`] take it and put its company id into every statement.
pub struct Scoped {
    tx: Tx,
    company_id: Uuid,
}

impl Scoped {
    pub fn company_id(&self) -> Uuid {
        self.company_id
    }

    /// The company id as the first bound parameter of every scoped statement.
    pub(crate) fn company_param(&self) -> Value {
        Value::Uuid(Some(self.company_id))
    }

    pub(crate) fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), ApiError> {
        Ok(self.tx.commit().await?)
    }
}
