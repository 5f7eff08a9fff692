//! Refresh tokens as records: rotation, reuse detection, revocation (API.md, "Auth").
//!
//! Simple JWT's `ROTATE_REFRESH_TOKENS` + `BLACKLIST_AFTER_ROTATION`, done per login rather than
//! per token: every refresh token has a row in `refresh_tokens` (core migration 0003), keyed by
//! its `jti`, in the **family** of the login that started it. A refresh retires the token it was
//! given and records its successor in the same family. A retired token presented again can only
//! be a copy (the legitimate client holds the successor), and which of the two holders is the
//! thief is unknowable: the whole family is deleted, so neither can refresh again and the user
//! logs in afresh (the reuse detection of OAuth 2.0 Security BCP, RFC 9700 section 4.14.2). A
//! token whose row is gone (its family revoked by reuse, logout or a password change; its user
//! deleted) refreshes nothing.
//!
//! Access tokens have no rows: they stay stateless and short-lived (`ACCESS_TOKEN_TTL_SECS`,
//! 15 minutes), so a revoked session's access token keeps working until it expires, within the
//! user's current memberships (checked on every request). README.md, "Tokens", says so.
//!
//! Two refreshes racing with the same token: one rotates, the other finds the token retired and
//! revokes the family, as for any reuse. Clients refresh once, then use the token they got back.

use uuid::Uuid;

use crate::auth::jwt::{Claims, Keys, TokenError, TokenType};
use crate::db::{DbError, Tx, TxMode};
use crate::error::ApiError;
use crate::identity::{user_exists, user_not_found};
use crate::messages::{TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_REUSED, TOKEN_REVOKED, WRONG_TOKEN_TYPE_REFRESH};
use crate::state::AppState;
use crate::validate::clock::now;
use crate::value::Value;

const RECORD: &str = "INSERT INTO refresh_tokens (jti, family_id, user_id, created_at, expires_at, rotated_at) \
     VALUES ($1, $2, $3, $4, $5, NULL)";
/// Retires a current token; its family when it was current. Atomic: of two refreshes racing
/// with one token, exactly one gets the row.
const RETIRE: &str = "UPDATE refresh_tokens SET rotated_at = $3 \
     WHERE jti = $1 AND user_id = $2 AND rotated_at IS NULL RETURNING family_id";
const FAMILY_OF: &str = "SELECT family_id FROM refresh_tokens WHERE jti = $1 AND user_id = $2";
const REVOKE_FAMILY: &str = "DELETE FROM refresh_tokens WHERE family_id = $1";
const REVOKE_FAMILY_OF: &str = "DELETE FROM refresh_tokens WHERE family_id = \
     (SELECT family_id FROM refresh_tokens WHERE jti = $1 AND user_id = $2)";
const REVOKE_USER: &str = "DELETE FROM refresh_tokens WHERE user_id = $1";
/// Rows that can refresh nothing any more, whatever their state: kept no longer than their token.
const FORGET_EXPIRED: &str = "DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at <= $2";

/// The 401 for a refresh token that does not verify, with the reason as the refresh route says it.
pub(crate) fn refresh_token_error(err: TokenError) -> ApiError {
    ApiError::Unauthorized(match err {
        TokenError::Expired => TOKEN_EXPIRED,
        TokenError::Invalid => TOKEN_INVALID,
        TokenError::WrongType => WRONG_TOKEN_TYPE_REFRESH,
    })
}

/// Signs a refresh token for `user_id` in `family` (a new family when `None`: the token's own
/// `jti`) and records it in `tx`. Returns the token.
async fn issue(tx: &mut Tx, keys: &Keys, user_id: Uuid, family: Option<Uuid>) -> Result<String, DbError> {
    let (token, claims) = keys.issue_claims(user_id, TokenType::Refresh);
    let Claims { jti, iat, exp, .. } = claims;
    let at = |secs: u64| chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0);
    tx.execute(
        RECORD,
        &[
            Value::Uuid(Some(jti)),
            Value::Uuid(Some(family.unwrap_or(jti))),
            Value::Uuid(Some(user_id)),
            Value::Timestamp(at(iat)),
            Value::Timestamp(at(exp)),
        ],
    )
    .await?;
    Ok(token)
}

/// A login (sign-in or sign-up) in `tx`: the refresh token of a new family. The user's rows
/// whose tokens have expired go at the same time, so the table holds per user no more than the
/// logins of one refresh lifetime.
pub(crate) async fn start_family(tx: &mut Tx, keys: &Keys, user_id: Uuid) -> Result<String, DbError> {
    tx.execute(FORGET_EXPIRED, &[Value::Uuid(Some(user_id)), Value::Timestamp(Some(now()))]).await?;
    issue(tx, keys, user_id, None).await
}

/// `POST /api/auth/token/refresh`: exchanges `token` for `(access, refresh)`, retiring it.
///
/// Errors, all 401: the token does not verify (expired, forged, an access token); its user no
/// longer exists ("User not found.", as on every route); it was retired already (its family is
/// revoked, and committed so, before the answer); its family was revoked.
pub(crate) async fn rotate(state: &AppState, token: &str) -> Result<(String, String), ApiError> {
    let keys = state.keys();
    let claims = keys.verify(token, TokenType::Refresh).map_err(refresh_token_error)?;
    let (jti, user_id) = (Value::Uuid(Some(claims.jti)), Value::Uuid(Some(claims.sub)));
    let mut tx = state.db().begin(TxMode::Write).await?;
    let current: Option<(Uuid,)> = tx
        .fetch_optional_as(RETIRE, &[jti.clone(), user_id.clone(), Value::Timestamp(Some(now()))], ["family_id"])
        .await?;
    if let Some((family,)) = current {
        let refresh = issue(&mut tx, keys, claims.sub, Some(family)).await?;
        tx.commit().await?;
        return Ok((keys.issue(claims.sub, TokenType::Access), refresh));
    }
    let retired: Option<(Uuid,)> = tx.fetch_optional_as(FAMILY_OF, &[jti, user_id], ["family_id"]).await?;
    if let Some((family,)) = retired {
        tx.execute(REVOKE_FAMILY, &[Value::Uuid(Some(family))]).await?;
        tx.commit().await?;
        tracing::warn!(user_id = %claims.sub, "a retired refresh token was presented again: its login is revoked");
        return Err(ApiError::Unauthorized(TOKEN_REUSED));
    }
    tx.rollback().await?;
    if !user_exists(state, claims.sub).await? {
        return Err(user_not_found());
    }
    Err(ApiError::Unauthorized(TOKEN_REVOKED))
}

/// Logout: revokes the family of the refresh token `jti` of `user_id` (it, its ancestors and
/// descendants), if it still has one.
pub(crate) async fn revoke_family_of(tx: &mut Tx, jti: Uuid, user_id: Uuid) -> Result<(), DbError> {
    tx.execute(REVOKE_FAMILY_OF, &[Value::Uuid(Some(jti)), Value::Uuid(Some(user_id))]).await?;
    Ok(())
}

/// A password change: revokes every refresh token of `user_id`.
pub(crate) async fn revoke_user(tx: &mut Tx, user_id: Uuid) -> Result<(), DbError> {
    tx.execute(REVOKE_USER, &[Value::Uuid(Some(user_id))]).await?;
    Ok(())
}
