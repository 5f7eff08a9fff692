//! The members of the active company: `GET /api/members` (any member), and, for admins,
//! `PATCH /api/members/{user_id}` and `DELETE /api/members/{user_id}` (also any member for
//! themselves: leaving). New members come through invitations (`invitations.rs`).
//!
//! Every change runs in one write transaction that first reads the company's whole roster
//! (locking its rows on PostgreSQL; SQLite's write transaction already serialises writers),
//! then re-checks that the caller is still an admin and that an admin remains afterwards. Two
//! admins demoting each other at the same moment therefore cannot leave a company without one.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::StatusCode;
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

use super::form::Form;
use crate::body::JsonObject;
use crate::db::Tx;
use crate::error::ApiError;
use crate::messages::{NOT_A_MEMBER, PERMISSION_DENIED};
use crate::role::Role;
use crate::tenant::{MemberLock, Tenant};
use crate::value::Value;

const LIST_MEMBERS: &str = "SELECT m.user_id, u.email, m.role FROM memberships m \
     JOIN users u ON u.id = m.user_id WHERE m.company_id = $1 ORDER BY m.created_at, m.user_id";
const ROSTER: &str = "SELECT user_id, role FROM memberships WHERE company_id = $1 ORDER BY user_id";
/// `ROSTER` with row locks, taken in a fixed order so two writers cannot deadlock.
const ROSTER_FOR_UPDATE: &str =
    "SELECT user_id, role FROM memberships WHERE company_id = $1 ORDER BY user_id FOR UPDATE";
const EMAIL_BY_ID: &str = "SELECT email FROM users WHERE id = $1";
const UPDATE_ROLE: &str = "UPDATE memberships SET role = $3 WHERE company_id = $1 AND user_id = $2";
const DELETE_MEMBERSHIP: &str = "DELETE FROM memberships WHERE company_id = $1 AND user_id = $2";
/// API.md: a member who leaves or is removed from their default company gets the oldest company
/// they still belong to as their default (or none); any other default is left as it is.
const FALL_BACK_DEFAULT_IF: &str = "UPDATE users SET default_company_id = \
     (SELECT m.company_id FROM memberships m WHERE m.user_id = $1 ORDER BY m.created_at, m.company_id LIMIT 1) \
     WHERE id = $1 AND default_company_id = $2";

fn member_json(user_id: Uuid, email: &str, role: Role) -> JsonValue {
    json!({ "user_id": user_id, "email": email, "role": role.as_str() })
}

pub(super) fn already_member() -> ApiError {
    ApiError::duplicate("email", "A member")
}

/// The memberships of one company, read inside a write transaction.
#[derive(Debug)]
pub(super) struct Roster(Vec<(Uuid, Role)>);

impl Roster {
    /// Reads (and on PostgreSQL locks) every membership row of `company_id`.
    pub(super) async fn lock(tx: &mut Tx, company_id: Uuid) -> Result<Roster, ApiError> {
        let sql = if tx.dialect().supports_row_locks() { ROSTER_FOR_UPDATE } else { ROSTER };
        Ok(Roster(tx.fetch_all_as(sql, &[Value::Uuid(Some(company_id))], ["user_id", "role"]).await?))
    }

    fn role_of(&self, user_id: Uuid) -> Option<Role> {
        self.0.iter().find(|(id, _)| *id == user_id).map(|(_, role)| *role)
    }

    fn admins(&self) -> usize {
        self.0.iter().filter(|(_, role)| *role == Role::Admin).count()
    }

    /// The caller's role as of now, not as of the `Tenant` check a moment ago: a caller
    /// demoted or removed meanwhile is refused.
    pub(super) fn require_admin(&self, caller: Uuid) -> Result<(), ApiError> {
        match self.role_of(caller) {
            Some(Role::Admin) => Ok(()),
            Some(Role::Staff) => Err(ApiError::Forbidden(PERMISSION_DENIED)),
            None => Err(ApiError::Forbidden(NOT_A_MEMBER)),
        }
    }

    /// The target's current role; 404 when they are not a member of this company.
    fn member(&self, user_id: Uuid) -> Result<Role, ApiError> {
        self.role_of(user_id).ok_or(ApiError::NotFound)
    }

    /// 409 when the change (a new role, or `None` for removal) would leave no admin.
    fn keeps_an_admin(&self, current: Role, new: Option<Role>) -> Result<(), ApiError> {
        let loses_admin = current == Role::Admin && new != Some(Role::Admin);
        if loses_admin && self.admins() <= 1 {
            return Err(ApiError::Conflict(match new {
                None => "Cannot remove the last admin of the company.".to_string(),
                Some(_) => "Cannot demote the last admin of the company.".to_string(),
            }));
        }
        Ok(())
    }
}

/// A `{user_id}` path segment; anything but a UUID names no member (404).
fn target(path: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    path.ok().and_then(|Path(id)| Uuid::parse_str(&id).ok()).ok_or(ApiError::NotFound)
}

async fn email_of(tx: &mut Tx, user_id: Uuid) -> Result<String, ApiError> {
    let (email,) = tx
        .fetch_optional_as(EMAIL_BY_ID, &[Value::Uuid(Some(user_id))], ["email"])
        .await?
        .ok_or_else(|| ApiError::internal("member without a user row"))?;
    Ok(email)
}

/// `GET /api/members` → `[{"user_id", "email", "role"}]`, in the order they joined.
pub(super) async fn list(mut tenant: Tenant) -> Result<Json<JsonValue>, ApiError> {
    let mut scoped = tenant.begin()?;
    let company = scoped.company_param();
    let rows: Vec<(Uuid, String, Role)> =
        scoped.tx().fetch_all_as(LIST_MEMBERS, &[company], ["user_id", "email", "role"]).await?;
    scoped.commit().await?;
    Ok(Json(rows.iter().map(|(user_id, email, role)| member_json(*user_id, email, *role)).collect()))
}

/// `PATCH /api/members/{user_id}` `{"role"}` → 200 `{"user_id", "email", "role"}`.
pub(super) async fn update(
    mut tenant: Tenant,
    path: Result<Path<String>, PathRejection>,
    body: Result<JsonObject, ApiError>,
) -> Result<Json<JsonValue>, ApiError> {
    tenant.require(Role::Admin)?;
    let user_id = target(path)?;

    let mut scoped = tenant.begin()?;
    let company_id = scoped.company_id();
    let tx = scoped.tx();
    let roster = Roster::lock(tx, company_id).await?;
    roster.require_admin(tenant.user_id())?;
    // As in Django REST Framework: the object is looked up (404) before the body is validated.
    let current = roster.member(user_id)?;
    let mut form = Form::new(body?);
    let role = form.role("role", false);
    form.finish()?;
    let role = role.unwrap_or(current);
    if role != current {
        roster.keeps_an_admin(current, Some(role))?;
        MemberLock::exclusive(tx, user_id).await?;
        tx.execute(
            UPDATE_ROLE,
            &[Value::Uuid(Some(company_id)), Value::Uuid(Some(user_id)), Value::Text(Some(role.as_str().to_string()))],
        )
        .await?;
    }
    let email = email_of(tx, user_id).await?;
    scoped.commit().await?;
    Ok(Json(member_json(user_id, &email, role)))
}

/// `DELETE /api/members/{user_id}` → 204: an admin removes a member, or any member leaves
/// (`{user_id}` is the caller's own id); the last admin can do neither (409). The removed user
/// loses access at once (membership is checked on every request); if this was their default
/// company, their default becomes the oldest company they still belong to.
pub(super) async fn remove(
    mut tenant: Tenant,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let user_id = target(path)?;
    let leaving = user_id == tenant.user_id();
    if !leaving {
        tenant.require(Role::Admin)?;
    }

    let mut scoped = tenant.begin()?;
    let company_id = scoped.company_id();
    let tx = scoped.tx();
    let roster = Roster::lock(tx, company_id).await?;
    if !leaving {
        roster.require_admin(tenant.user_id())?;
    }
    let current = roster.member(user_id)?;
    roster.keeps_an_admin(current, None)?;
    let (user, company) = (Value::Uuid(Some(user_id)), Value::Uuid(Some(company_id)));
    MemberLock::exclusive(tx, user_id).await?;
    tx.execute(DELETE_MEMBERSHIP, &[company.clone(), user.clone()]).await?;
    tx.execute(FALL_BACK_DEFAULT_IF, &[user, company]).await?;
    scoped.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(members: &[(Uuid, Role)]) -> Roster {
        Roster(members.to_vec())
    }

    #[test]
    fn last_admin_can_be_neither_removed_nor_demoted() {
        let (admin, staff) = (Uuid::now_v7(), Uuid::now_v7());
        let r = roster(&[(admin, Role::Admin), (staff, Role::Staff)]);
        assert!(matches!(r.keeps_an_admin(Role::Admin, None), Err(ApiError::Conflict(_))));
        assert!(matches!(r.keeps_an_admin(Role::Admin, Some(Role::Staff)), Err(ApiError::Conflict(_))));
        // Staff can always go or be promoted; an admin can stay an admin.
        assert!(r.keeps_an_admin(Role::Staff, None).is_ok());
        assert!(r.keeps_an_admin(Role::Staff, Some(Role::Admin)).is_ok());
        assert!(r.keeps_an_admin(Role::Admin, Some(Role::Admin)).is_ok());
    }

    #[test]
    fn an_admin_can_go_while_another_remains() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let r = roster(&[(a, Role::Admin), (b, Role::Admin)]);
        assert!(r.keeps_an_admin(Role::Admin, None).is_ok());
        assert!(r.keeps_an_admin(Role::Admin, Some(Role::Staff)).is_ok());
    }

    #[test]
    fn caller_and_target_are_checked_against_the_roster() {
        let (admin, staff, stranger) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let r = roster(&[(admin, Role::Admin), (staff, Role::Staff)]);
        assert!(r.require_admin(admin).is_ok());
        assert!(matches!(r.require_admin(staff), Err(ApiError::Forbidden(_))));
        assert!(matches!(r.require_admin(stranger), Err(ApiError::Forbidden(_))));
        assert_eq!(r.member(staff).unwrap(), Role::Staff);
        assert!(matches!(r.member(stranger), Err(ApiError::NotFound)));
        assert_eq!(r.admins(), 1);
    }

    #[test]
    fn path_segments_that_are_not_uuids_are_404() {
        let id = Uuid::now_v7();
        assert_eq!(target(Ok(Path(id.to_string()))).unwrap(), id);
        assert!(matches!(target(Ok(Path("nope".into()))), Err(ApiError::NotFound)));
    }
}
