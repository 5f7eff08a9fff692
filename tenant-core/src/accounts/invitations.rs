//! Joining a company is an invitation the invitee accepts (API.md, "Companies and members").
//!
//! An admin invites an address (`POST /api/members`), never a user: the answer is the same
//! whether or not the address has an account, so an admin learns nothing about who is
//! registered, and nobody becomes a member of a company without consenting. The invitee sees the
//! invitations addressed to their **verified** email (`GET /api/invitations`) and accepts or
//! declines them; someone who merely registered the address first cannot, so a squatted address
//! gains nothing. Pending invitations are rows of `invitations`, one per company and address
//! (inviting again renews it), deleted when accepted, declined or revoked; an expired row is
//! never shown nor accepted and is purged at the company's next invitation.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

use super::companies::add_membership;
use super::companies::{default_if_none, within_company_quota};
use super::form::{Form, cleaned};
use super::members::{Roster, already_member};
use crate::body::JsonObject;
use crate::db::TxMode;
use crate::error::ApiError;
use crate::identity::CurrentUser;
use crate::mail::Email;
use crate::role::Role;
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::validate::clock::now;
use crate::value::{FieldType, Value};

const MEMBER_BY_EMAIL: &str = "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id \
     WHERE m.company_id = $1 AND u.email = $2";
const PURGE_EXPIRED: &str = "DELETE FROM invitations WHERE company_id = $1 AND expires_at <= $2";
const PENDING_FOR: &str = "SELECT id FROM invitations WHERE company_id = $1 AND email = $2";
const PENDING_FOR_UPDATE: &str = "SELECT id FROM invitations WHERE company_id = $1 AND email = $2 FOR UPDATE";
const COUNT_PENDING: &str = "SELECT COUNT(*) FROM invitations WHERE company_id = $1";
const INSERT: &str = "INSERT INTO invitations (id, company_id, email, role, invited_by, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const RENEW: &str = "UPDATE invitations SET role = $2, invited_by = $3, created_at = $4, expires_at = $5 WHERE id = $1";
const COMPANY_NAME: &str = "SELECT name FROM companies WHERE id = $1";
const INVITER_EMAIL: &str = "SELECT email FROM users WHERE id = $1";
const LIST_PENDING: &str = "SELECT id, email, role, expires_at FROM invitations \
     WHERE company_id = $1 AND expires_at > $2 ORDER BY created_at, id";
const REVOKE: &str = "DELETE FROM invitations WHERE id = $1 AND company_id = $2";

/// The invitations a user may act on: addressed to their email, which they verified, unexpired.
const MINE: &str = "SELECT i.id, i.company_id, c.name, i.role, i.expires_at FROM invitations i \
     JOIN companies c ON c.id = i.company_id JOIN users u ON u.email = i.email \
     WHERE u.id = $1 AND u.email_verified_at IS NOT NULL AND i.expires_at > $2 ORDER BY i.created_at, i.id";
/// One of [`MINE`], by id.
const ONE_OF_MINE: &str = "SELECT i.company_id, i.role FROM invitations i JOIN users u ON u.email = i.email \
     WHERE i.id = $1 AND u.id = $2 AND u.email_verified_at IS NOT NULL AND i.expires_at > $3";
/// [`ONE_OF_MINE`], locking the invitation (PostgreSQL): two accepts of one invitation serialise.
const ONE_OF_MINE_FOR_UPDATE: &str = "SELECT i.company_id, i.role FROM invitations i \
     JOIN users u ON u.email = i.email WHERE i.id = $1 AND u.id = $2 AND u.email_verified_at IS NOT NULL \
     AND i.expires_at > $3 FOR UPDATE OF i";
const IS_MEMBER: &str = "SELECT user_id FROM memberships WHERE company_id = $1 AND user_id = $2";
const DELETE: &str = "DELETE FROM invitations WHERE id = $1";

const MEMBERSHIP_PKEY: &str = "memberships_pkey";
const MEMBERSHIP_PKEY_COLUMNS: &[&str] = &["company_id", "user_id"];

/// An invitation as its company's admins see it.
fn pending_json(id: Uuid, email: &str, role: Role, expires_at: DateTime<Utc>) -> JsonValue {
    json!({
        "id": id,
        "email": email,
        "role": role.as_str(),
        "status": "pending",
        "expires_at": Value::Timestamp(Some(expires_at)).to_json(),
    })
}

/// A `{id}` path segment; anything but a UUID names no invitation (404).
fn invitation_id(path: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    path.ok().and_then(|Path(id)| Uuid::parse_str(&id).ok()).ok_or(ApiError::NotFound)
}

/// `POST /api/members` `{"email", "role"}` (admin) → 201 `{"id", "email", "role", "status":
/// "pending", "expires_at"}`, and an invitation message to the address. The same answer whether
/// or not the address has an account; a current member → 409; past
/// `MAX_PENDING_INVITATIONS_PER_COMPANY` pending invitations → 409. Inviting an address again
/// renews its invitation (same id, the new role, a new expiry) and sends the message again.
/// Every invitation counts against `THROTTLE_INVITATION_COMPANY` and
/// `THROTTLE_INVITATION_ADDRESS` (429), as each one mails someone who asked for nothing.
pub(super) async fn create(
    State(state): State<AppState>,
    mut tenant: Tenant,
    body: Result<JsonObject, ApiError>,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    tenant.require(Role::Admin)?;
    let mut form = Form::new(body?);
    let email = form.email("email");
    let role = form.role("role", true);
    form.finish()?;
    let (email, role) = (cleaned(email)?, cleaned(role)?);
    state.throttle().invitation(tenant.company_id(), &email)?;

    let mut scoped = tenant.begin()?;
    let company_id = scoped.company_id();
    let company = Value::Uuid(Some(company_id));
    let address = Value::Text(Some(email.clone()));
    let tx = scoped.tx();
    // The roster lock serialises this company's membership changes and invitations, so the
    // quota below cannot be overrun by simultaneous invitations.
    let roster = Roster::lock(tx, company_id).await?;
    roster.require_admin(tenant.user_id())?;
    let created_at = now();
    let expires_at = crate::validate::clock::expiry_after(created_at, state.config().invitation_ttl);
    tx.execute(PURGE_EXPIRED, &[company.clone(), Value::Timestamp(Some(created_at))]).await?;
    // On PostgreSQL the pending invitation is locked first: an accept or decline under way
    // (which lock it too) finishes before, and what follows sees its outcome (the invitation
    // gone, the invitee perhaps a member now).
    let pending_sql = if tx.dialect().supports_row_locks() { PENDING_FOR_UPDATE } else { PENDING_FOR };
    let existing: Option<(Uuid,)> =
        tx.fetch_optional_as(pending_sql, &[company.clone(), address.clone()], ["id"]).await?;
    if tx.fetch_optional(MEMBER_BY_EMAIL, &[company.clone(), address.clone()], &[FieldType::Uuid]).await?.is_some() {
        return Err(already_member());
    }
    let role_text = Value::Text(Some(role.as_str().to_string()));
    let inviter = Value::Uuid(Some(tenant.user_id()));
    let renewed = match existing {
        Some((id,)) => {
            let renewed = tx
                .execute(
                    RENEW,
                    &[
                        Value::Uuid(Some(id)),
                        role_text.clone(),
                        inviter.clone(),
                        Value::Timestamp(Some(created_at)),
                        Value::Timestamp(Some(expires_at)),
                    ],
                )
                .await?;
            // Gone meanwhile (declined, accepted): a new invitation instead.
            (renewed == 1).then_some(id)
        }
        None => None,
    };
    let id = match renewed {
        Some(id) => id,
        None => {
            let pending: i64 = tx
                .fetch_optional_as(COUNT_PENDING, std::slice::from_ref(&company), ["count"])
                .await?
                .map_or(0, |(n,)| n);
            let quota = state.config().max_pending_invitations_per_company;
            if pending >= i64::from(quota) {
                return Err(ApiError::Conflict(format!(
                    "This company already has {pending} pending invitations, the most it may: \
                     revoke some, or wait for them to be accepted or to expire."
                )));
            }
            let id = Uuid::now_v7();
            tx.execute(
                INSERT,
                &[
                    Value::Uuid(Some(id)),
                    company.clone(),
                    address,
                    role_text,
                    inviter.clone(),
                    Value::Timestamp(Some(created_at)),
                    Value::Timestamp(Some(expires_at)),
                ],
            )
            .await?;
            id
        }
    };
    let (company_name,): (String,) = tx
        .fetch_optional_as(COMPANY_NAME, &[company], ["name"])
        .await?
        .ok_or_else(|| ApiError::internal("the active company has no row"))?;
    let inviter_email: Option<String> =
        tx.fetch_optional_as(INVITER_EMAIL, &[inviter], ["email"]).await?.map(|(email,)| email);
    scoped.commit().await?;
    state.send_mail(message(&email, id, &company_name, inviter_email.as_deref(), role, expires_at)).await;
    Ok((StatusCode::CREATED, Json(pending_json(id, &email, role, expires_at))))
}

/// The invitation message. It carries no secret: accepting needs the invitee's own login and a
/// verified address, so the id is all it has to name.
fn message(
    to: &str,
    id: Uuid,
    company_name: &str,
    inviter: Option<&str>,
    role: Role,
    expires_at: DateTime<Utc>,
) -> Email {
    let expires = Value::Timestamp(Some(expires_at)).to_json();
    let expires = expires.as_str().unwrap_or_default().to_string();
    let who = inviter.unwrap_or("An admin of the company");
    // Names are single lines since sign-up refuses control characters; a name stored before
    // that rule still cannot write lines of its own into the message.
    let company_name: String = company_name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    Email {
        to: to.to_string(),
        subject: format!("Invitation to join {company_name}"),
        body: format!(
            "{who} invited you to join the company \"{company_name}\" as {role}.\n\
             \n\
             To accept, sign in with this address (or sign up with it and verify it), then\n\
             POST /api/invitations/{id}/accept. To decline, POST /api/invitations/{id}/decline.\n\
             \n\
             Invitation: {id}\n\
             \n\
             The invitation can be accepted until {expires}. If you do not know this company,\n\
             ignore this message: nothing happens unless you accept.\n",
            role = role.as_str(),
        ),
    }
}

/// `GET /api/members/invitations` (admin) → the active company's pending invitations, oldest
/// first, each as `POST /api/members` answered it.
pub(super) async fn list_pending(mut tenant: Tenant) -> Result<Json<JsonValue>, ApiError> {
    tenant.require(Role::Admin)?;
    let mut scoped = tenant.begin()?;
    let company = scoped.company_param();
    let rows: Vec<(Uuid, String, Role, DateTime<Utc>)> = scoped
        .tx()
        .fetch_all_as(LIST_PENDING, &[company, Value::Timestamp(Some(now()))], ["id", "email", "role", "expires_at"])
        .await?;
    scoped.commit().await?;
    Ok(Json(rows.iter().map(|(id, email, role, expires_at)| pending_json(*id, email, *role, *expires_at)).collect()))
}

/// `DELETE /api/members/invitations/{id}` (admin) → 204; an id that is not a pending invitation
/// of the active company (another company's included) → 404.
pub(super) async fn revoke(
    mut tenant: Tenant,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Role::Admin)?;
    let id = invitation_id(path)?;
    let mut scoped = tenant.begin()?;
    let company_id = scoped.company_id();
    let tx = scoped.tx();
    let roster = Roster::lock(tx, company_id).await?;
    roster.require_admin(tenant.user_id())?;
    let deleted = tx.execute(REVOKE, &[Value::Uuid(Some(id)), Value::Uuid(Some(company_id))]).await?;
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    scoped.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/invitations` → the caller's pending invitations `[{"id", "company_id",
/// "company_name", "role", "expires_at"}]`: those addressed to their email, once verified (an
/// unverified user gets `[]`).
pub(super) async fn list_mine(State(state): State<AppState>, user: CurrentUser) -> Result<Json<JsonValue>, ApiError> {
    let mut tx = state.db().begin(TxMode::Read).await?;
    let rows: Vec<(Uuid, Uuid, String, Role, DateTime<Utc>)> = tx
        .fetch_all_as(
            MINE,
            &[Value::Uuid(Some(user.user_id)), Value::Timestamp(Some(now()))],
            ["id", "company_id", "company_name", "role", "expires_at"],
        )
        .await?;
    tx.rollback().await?;
    let invitations = rows.into_iter().map(|(id, company_id, company_name, role, expires_at)| {
        json!({
            "id": id,
            "company_id": company_id,
            "company_name": company_name,
            "role": role.as_str(),
            "expires_at": Value::Timestamp(Some(expires_at)).to_json(),
        })
    });
    Ok(Json(invitations.collect()))
}

/// `POST /api/invitations/{id}/accept` → 200 `{"company_id", "role"}`: the caller becomes a
/// member with the invited role. Only for one of the caller's own invitations (addressed to
/// their verified email, unexpired): anything else is 404, as a missing invitation. Someone
/// already a member → 409 (the invitation is used up); past `MAX_COMPANIES_PER_USER` → 409.
/// Accepting is the caller's own act, so a user without a default company gets this one.
pub(super) async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let id = invitation_id(path)?;
    let mut tx = state.db().begin(TxMode::Write).await?;
    let sql = if tx.dialect().supports_row_locks() { ONE_OF_MINE_FOR_UPDATE } else { ONE_OF_MINE };
    let (company_id, role): (Uuid, Role) = tx
        .fetch_optional_as(
            sql,
            &[Value::Uuid(Some(id)), Value::Uuid(Some(user.user_id)), Value::Timestamp(Some(now()))],
            ["company_id", "role"],
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    let (company, member) = (Value::Uuid(Some(company_id)), Value::Uuid(Some(user.user_id)));
    if tx.fetch_optional(IS_MEMBER, &[company, member], &[FieldType::Uuid]).await?.is_some() {
        tx.execute(DELETE, &[Value::Uuid(Some(id))]).await?;
        tx.commit().await?;
        return Err(ApiError::Conflict("You are already a member of this company.".to_string()));
    }
    within_company_quota(&mut tx, user.user_id, state.config().max_companies_per_user).await?;
    add_membership(&mut tx, company_id, user.user_id, role).await.map_err(|err| {
        if err.violates_unique(MEMBERSHIP_PKEY, MEMBERSHIP_PKEY_COLUMNS) {
            ApiError::Conflict("You are already a member of this company.".to_string())
        } else {
            err.into()
        }
    })?;
    tx.execute(DELETE, &[Value::Uuid(Some(id))]).await?;
    default_if_none(&mut tx, user.user_id, company_id).await?;
    tx.commit().await?;
    Ok(Json(json!({ "company_id": company_id, "role": role.as_str() })))
}

/// `POST /api/invitations/{id}/decline` → 204: the invitation is gone. The same 404 as
/// [`accept`] for anything that is not one of the caller's own pending invitations.
pub(super) async fn decline(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = invitation_id(path)?;
    let mut tx = state.db().begin(TxMode::Write).await?;
    let sql = if tx.dialect().supports_row_locks() { ONE_OF_MINE_FOR_UPDATE } else { ONE_OF_MINE };
    tx.fetch_optional(
        sql,
        &[Value::Uuid(Some(id)), Value::Uuid(Some(user.user_id)), Value::Timestamp(Some(now()))],
        &[FieldType::Uuid, FieldType::Text],
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.execute(DELETE, &[Value::Uuid(Some(id))]).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_company_and_the_invitation() {
        let id = Uuid::now_v7();
        let expires = DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z").unwrap().with_timezone(&Utc);
        let email = message("bob@example.com", id, "Café Zoë", Some("ann@example.com"), Role::Staff, expires);
        assert_eq!(email.to, "bob@example.com");
        assert_eq!(email.subject, "Invitation to join Café Zoë");
        assert!(email.body.lines().any(|l| l == format!("Invitation: {id}")), "{}", email.body);
        assert!(email.body.contains("ann@example.com invited you"), "{}", email.body);
        assert!(!email.body.contains("Token:"), "an invitation carries no token");
    }

    #[test]
    fn ids_that_are_not_uuids_are_404() {
        let id = Uuid::now_v7();
        assert_eq!(invitation_id(Ok(Path(id.to_string()))).unwrap(), id);
        assert!(matches!(invitation_id(Ok(Path("nope".into()))), Err(ApiError::NotFound)));
    }
}
