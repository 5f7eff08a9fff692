//! `POST /api/auth/logout` and `POST /api/auth/password`: ending one login, or all of them
//! (API.md, "Auth"). Both revoke refresh tokens only (`refresh_tokens.rs`); an access token
//! already issued keeps working until it expires (README.md, "Tokens").

use axum::extract::State;
use axum::http::StatusCode;

use crate::accounts::{Form, cleaned};
use crate::auth::jwt::TokenType;
use crate::auth::password::MAX_PASSWORD_LEN;
use crate::auth::password_validation::validate_password;
use crate::auth::refresh_tokens::{refresh_token_error, revoke_family_of, revoke_user};
use crate::body::JsonObject;
use crate::client_address::ClientAddress;
use crate::db::TxMode;
use crate::error::ApiError;
use crate::identity::{CurrentUser, user_not_found};
use crate::messages::{TOKEN_INVALID, WRONG_CURRENT_PASSWORD};
use crate::state::AppState;
use crate::value::Value;

const USER_PASSWORD: &str = "SELECT email, password_hash FROM users WHERE id = $1";
/// Only if the hash is still the one the current password was checked against: of two changes
/// racing, the second finds the first's hash and is told its current password is wrong.
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3";

/// `POST /api/auth/logout` `{"refresh"}` (authenticated) → 204. The refresh token's login (the
/// token, the ones it replaced and any that replaced it) no longer refreshes. Idempotent: a token
/// already revoked is 204 too. 401 for a token that does not verify (expired, forged, an access
/// token) or that is another user's: nobody ends someone else's session.
pub(crate) async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<JsonObject, ApiError>,
) -> Result<StatusCode, ApiError> {
    let mut form = Form::new(body?);
    let token = form.secret("refresh");
    form.finish()?;
    let token = cleaned(token)?;
    let claims = state.keys().verify(token.trim(), TokenType::Refresh).map_err(refresh_token_error)?;
    if claims.sub != user.user_id {
        return Err(ApiError::Unauthorized(TOKEN_INVALID));
    }
    let mut tx = state.db().begin(TxMode::Write).await?;
    revoke_family_of(&mut tx, claims.jti, user.user_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/password` `{"current_password", "new_password"}` (authenticated) → 204. The
/// new password passes the sign-up's validators (API.md: Django's four); every refresh token of
/// the user is revoked in the same transaction as the change, so a stolen refresh token dies
/// with the old password. 400 on `current_password` when it is wrong, on `new_password` when it
/// is refused. Throttled per client address and per account, like sign-in: it checks a password.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    client: ClientAddress,
    user: CurrentUser,
    body: Result<JsonObject, ApiError>,
) -> Result<StatusCode, ApiError> {
    state.throttle().address(client.0)?;
    let user_id = Value::Uuid(Some(user.user_id));
    let stored: Option<(String, String)> =
        state.db().fetch_optional_as(USER_PASSWORD, std::slice::from_ref(&user_id), ["email", "password_hash"]).await?;
    let Some((email, stored_hash)) = stored else { return Err(user_not_found()) };
    state.throttle().account(&email)?;

    let mut form = Form::new(body?);
    let current = form.secret("current_password");
    let new = form.secret("new_password");
    if let Some(new) = &new {
        for message in validate_password(new, &email) {
            form.error("new_password", message);
        }
    }
    form.finish()?;
    let (current, new) = (cleaned(current)?, cleaned(new)?);
    // A password no sign-up accepts cannot match: refused without hashing megabytes.
    let matches = current.chars().count() <= MAX_PASSWORD_LEN
        && state.hashers().verify(current, Some(stored_hash.clone())).await?;
    if !matches {
        return Err(ApiError::field("current_password", WRONG_CURRENT_PASSWORD));
    }
    // Hashed before the transaction opens: the slow part must not hold the write lock.
    let new_hash = state.hashers().hash(new).await?;
    let mut tx = state.db().begin(TxMode::Write).await?;
    let changed =
        tx.execute(SET_PASSWORD, &[user_id, Value::Text(Some(new_hash)), Value::Text(Some(stored_hash))]).await?;
    if changed == 0 {
        tx.rollback().await?;
        return Err(ApiError::field("current_password", WRONG_CURRENT_PASSWORD));
    }
    revoke_user(&mut tx, user.user_id).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.user_id, "password changed: every refresh token of the user is revoked");
    Ok(StatusCode::NO_CONTENT)
}
