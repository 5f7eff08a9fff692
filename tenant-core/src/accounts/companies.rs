//! `GET /api/companies` (the caller's companies, with the caller's role) and
//! `POST /api/companies` (a new company, the caller its admin).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

use super::form::{Form, MAX_COMPANY_NAME_LEN, cleaned};
use crate::body::JsonObject;
use crate::db::{DbError, Tx, TxMode};
use crate::error::ApiError;
use crate::identity::{CurrentUser, user_not_found};
use crate::role::Role;
use crate::state::AppState;
use crate::validate::clock::now;
use crate::value::Value;

/// The companies of a user, oldest first.
const USER_COMPANIES: &str = "SELECT c.id, c.name, c.created_at, m.role FROM memberships m \
     JOIN companies c ON c.id = m.company_id WHERE m.user_id = $1 ORDER BY c.created_at, c.id";

const INSERT_COMPANY: &str = "INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)";
const INSERT_MEMBERSHIP: &str =
    "INSERT INTO memberships (company_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)";
/// The companies a user belongs to, for the quota of `POST /api/companies` (API.md).
const COUNT_MEMBERSHIPS: &str = "SELECT COUNT(*) FROM memberships WHERE user_id = $1";
const LOCK_USER: &str = "SELECT id FROM users WHERE id = $1 FOR UPDATE";
/// Makes `$2` the default company of user `$1` unless they already have one.
const DEFAULT_IF_NONE: &str = "UPDATE users SET default_company_id = $2 WHERE id = $1 AND default_company_id IS NULL";

/// One company as its members see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompanyRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The role of the user the row was read for.
    pub role: Role,
}

impl CompanyRow {
    /// `{"id", "name", "created_at", "role"}`.
    pub(crate) fn to_json(&self) -> JsonValue {
        json!({
            "id": self.id,
            "name": self.name,
            "created_at": Value::Timestamp(Some(self.created_at)).to_json(),
            "role": self.role.as_str(),
        })
    }

    /// Every company `user_id` is a member of, oldest first.
    pub(crate) async fn for_user(tx: &mut Tx, user_id: Uuid) -> Result<Vec<CompanyRow>, ApiError> {
        let rows = tx
            .fetch_all_as(USER_COMPANIES, &[Value::Uuid(Some(user_id))], ["id", "name", "created_at", "role"])
            .await?;
        Ok(rows.into_iter().map(|(id, name, created_at, role)| CompanyRow { id, name, created_at, role }).collect())
    }
}

/// Creates a company with `user_id` as its admin, inside the caller's transaction. The user
/// row must exist (a missing user is a [`DbError::ForeignKey`]).
pub(crate) async fn create_company(tx: &mut Tx, user_id: Uuid, name: String) -> Result<CompanyRow, DbError> {
    let company = CompanyRow { id: Uuid::now_v7(), name, created_at: now(), role: Role::Admin };
    tx.execute(
        INSERT_COMPANY,
        &[
            Value::Uuid(Some(company.id)),
            Value::Text(Some(company.name.clone())),
            Value::Timestamp(Some(company.created_at)),
        ],
    )
    .await?;
    add_membership(tx, company.id, user_id, Role::Admin).await?;
    Ok(company)
}

/// Inserts a membership. A duplicate is a [`DbError::Unique`] on the primary key.
pub(crate) async fn add_membership(tx: &mut Tx, company_id: Uuid, user_id: Uuid, role: Role) -> Result<(), DbError> {
    tx.execute(
        INSERT_MEMBERSHIP,
        &[
            Value::Uuid(Some(company_id)),
            Value::Uuid(Some(user_id)),
            Value::Text(Some(role.as_str().to_string())),
            Value::Timestamp(Some(now())),
        ],
    )
    .await?;
    Ok(())
}

/// Makes `company_id` the default company of `user_id` if they have none.
pub(crate) async fn default_if_none(tx: &mut Tx, user_id: Uuid, company_id: Uuid) -> Result<(), DbError> {
    tx.execute(DEFAULT_IF_NONE, &[Value::Uuid(Some(user_id)), Value::Uuid(Some(company_id))]).await?;
    Ok(())
}

/// 409 when `user_id` already belongs to `quota` companies (API.md: "a configurable number of
/// companies per user"), checked before they join or create another. The user's row is locked
/// first on PostgreSQL, so two simultaneous joins count each other (SQLite's write transaction
/// already serialises them).
pub(crate) async fn within_company_quota(tx: &mut Tx, user_id: Uuid, quota: u32) -> Result<(), ApiError> {
    if tx.dialect().supports_row_locks() {
        tx.execute(LOCK_USER, &[Value::Uuid(Some(user_id))]).await?;
    }
    let count: i64 =
        tx.fetch_optional_as(COUNT_MEMBERSHIPS, &[Value::Uuid(Some(user_id))], ["count"]).await?.map_or(0, |(n,)| n);
    if count >= i64::from(quota) {
        return Err(ApiError::Conflict(format!(
            "You already belong to {count} companies, the most one user may: leave one before joining another."
        )));
    }
    Ok(())
}

/// `GET /api/companies` → `[{"id", "name", "created_at", "role"}]`.
pub(super) async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<JsonValue>, ApiError> {
    let mut tx = state.db().begin(TxMode::Read).await?;
    let companies = CompanyRow::for_user(&mut tx, user.user_id).await?;
    tx.rollback().await?;
    Ok(Json(JsonValue::Array(companies.iter().map(CompanyRow::to_json).collect())))
}

/// `POST /api/companies` `{"name"}` → 201 `{"id", "name", "created_at", "role": "admin"}`.
pub(super) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<JsonObject, ApiError>,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let mut form = Form::new(body?);
    let name = form.text("name", MAX_COMPANY_NAME_LEN);
    form.finish()?;
    let name = cleaned(name)?;

    let mut tx = state.db().begin(TxMode::Write).await?;
    within_company_quota(&mut tx, user.user_id, state.config().max_companies_per_user).await?;
    let company = create_company(&mut tx, user.user_id, name).await.map_err(user_gone)?;
    default_if_none(&mut tx, user.user_id, company.id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(company.to_json())))
}

/// A foreign-key failure on the caller's own id: the user was deleted after the `CurrentUser`
/// extractor checked it exists.
fn user_gone(err: DbError) -> ApiError {
    match err {
        DbError::ForeignKey => user_not_found(),
        other => other.into(),
    }
}
