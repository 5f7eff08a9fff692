//! `GET /api/me` and `PATCH /api/me` (`{"default_company_id"}`).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

use super::companies::CompanyRow;
use super::form::Form;
use crate::body::JsonObject;
use crate::db::{Tx, TxMode};
use crate::error::ApiError;
use crate::identity::{CurrentUser, requested_company, user_not_found};
use crate::messages::NOT_A_MEMBER;
use crate::state::AppState;
use crate::value::Value;

const USER_BY_ID: &str = "SELECT email, email_verified_at, default_company_id FROM users WHERE id = $1";
/// Sets the default company, only if the user is a member of it (0 rows otherwise).
const SET_DEFAULT_IF_MEMBER: &str = "UPDATE users SET default_company_id = $2 WHERE id = $1 \
     AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1 AND m.company_id = $2)";
const CLEAR_DEFAULT: &str = "UPDATE users SET default_company_id = NULL WHERE id = $1";

/// The user as `/api/me` shows it.
#[derive(Debug, Clone, PartialEq)]
struct Me {
    id: Uuid,
    email: String,
    /// Whether the user proved they receive mail at `email` (`auth/email_verification.rs`).
    email_verified: bool,
    default_company_id: Option<Uuid>,
    active_company_id: Option<Uuid>,
    memberships: Vec<CompanyRow>,
}

impl Me {
    /// Reads the user and their memberships. The active company is `requested` (403 unless a
    /// member), else the default company if the user is still a member of it, else none.
    async fn load(tx: &mut Tx, user_id: Uuid, requested: Option<Uuid>) -> Result<Me, ApiError> {
        let (email, verified_at, default_company_id): (String, Option<chrono::DateTime<chrono::Utc>>, Option<Uuid>) =
            tx.fetch_optional_as(
                USER_BY_ID,
                &[Value::Uuid(Some(user_id))],
                ["email", "email_verified_at", "default_company_id"],
            )
            .await?
            // The `CurrentUser` extractor checked the user exists; this is a deletion since.
            .ok_or_else(user_not_found)?;
        let memberships = CompanyRow::for_user(tx, user_id).await?;
        let active_company_id = active_company(&memberships, default_company_id, requested)?;
        Ok(Me {
            id: user_id,
            email,
            email_verified: verified_at.is_some(),
            default_company_id,
            active_company_id,
            memberships,
        })
    }

    fn to_json(&self) -> JsonValue {
        let memberships: Vec<JsonValue> = self
            .memberships
            .iter()
            .map(|c| json!({ "company_id": c.id, "company_name": c.name, "role": c.role.as_str() }))
            .collect();
        json!({
            "id": self.id,
            "email": self.email,
            "email_verified": self.email_verified,
            "default_company_id": self.default_company_id,
            "active_company_id": self.active_company_id,
            "memberships": memberships,
        })
    }
}

/// The rule of `active_company_id`, the same one the `Tenant` extractor applies.
fn active_company(
    memberships: &[CompanyRow],
    default: Option<Uuid>,
    requested: Option<Uuid>,
) -> Result<Option<Uuid>, ApiError> {
    let is_member = |id: Uuid| memberships.iter().any(|c| c.id == id);
    match requested {
        Some(id) if is_member(id) => Ok(Some(id)),
        Some(_) => Err(ApiError::Forbidden(NOT_A_MEMBER)),
        None => Ok(default.filter(|&id| is_member(id))),
    }
}

/// `GET /api/me`.
pub(super) async fn get_me(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> Result<Json<JsonValue>, ApiError> {
    let requested = requested_company(&headers)?;
    let mut tx = state.db().begin(TxMode::Read).await?;
    let me = Me::load(&mut tx, user.user_id, requested).await?;
    tx.rollback().await?;
    Ok(Json(me.to_json()))
}

/// `PATCH /api/me` `{"default_company_id": uuid-or-null}` → 200, the `/api/me` body.
/// Other fields are read-only and ignored; a company the caller is not a member of → 403.
pub(super) async fn patch_me(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Result<JsonObject, ApiError>,
) -> Result<Json<JsonValue>, ApiError> {
    let requested = requested_company(&headers)?;
    let mut form = Form::new(body?);
    let default = form.nullable_uuid("default_company_id");
    form.finish()?;

    let mut tx = state.db().begin(TxMode::Write).await?;
    let user_id = Value::Uuid(Some(user.user_id));
    match default {
        None => {}
        Some(None) => {
            tx.execute(CLEAR_DEFAULT, &[user_id]).await?;
        }
        Some(Some(company_id)) => {
            let updated = tx.execute(SET_DEFAULT_IF_MEMBER, &[user_id, Value::Uuid(Some(company_id))]).await?;
            if updated == 0 {
                return Err(ApiError::Forbidden(NOT_A_MEMBER));
            }
        }
    }
    let me = Me::load(&mut tx, user.user_id, requested).await?;
    tx.commit().await?;
    Ok(Json(me.to_json()))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::role::Role;

    fn company(id: Uuid) -> CompanyRow {
        CompanyRow { id, name: "c".into(), created_at: Utc::now(), role: Role::Staff }
    }

    #[test]
    fn active_company_rules() {
        let (a, b, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let member_of = [company(a), company(b)];
        // The header wins when the caller is a member of it.
        assert_eq!(active_company(&member_of, Some(a), Some(b)).unwrap(), Some(b));
        // The header naming a company the caller is not in is a 403, even with a good default.
        assert!(matches!(active_company(&member_of, Some(a), Some(other)), Err(ApiError::Forbidden(_))));
        // Without the header, the default if still a member, else none.
        assert_eq!(active_company(&member_of, Some(a), None).unwrap(), Some(a));
        assert_eq!(active_company(&member_of, Some(other), None).unwrap(), None);
        assert_eq!(active_company(&member_of, None, None).unwrap(), None);
        assert_eq!(active_company(&[], None, None).unwrap(), None);
    }
}
