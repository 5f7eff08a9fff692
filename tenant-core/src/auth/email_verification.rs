//! E-mail ownership (API.md, "Auth"): `POST /api/auth/verify-email` `{"token"}` and
//! `POST /api/auth/verify-email/resend`.
//!
//! Sign-up sends a message with a random token (256 bits, base64url) to the address; presenting
//! it proves the user receives mail there. Only the token's SHA-256 digest is stored, so a copy
//! of the database verifies nobody; a token is deleted when used (single use), expires after
//! `EMAIL_VERIFICATION_TTL_SECS`, and is replaced by the next one sent to the same user. A
//! verified address is what invitations are matched against: an unverified user keeps their own
//! companies but cannot accept an invitation (`accounts/invitations.rs`).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value as JsonValue, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::accounts::{Form, cleaned};
use crate::body::JsonObject;
use crate::client_address::ClientAddress;
use crate::db::{Tx, TxMode};
use crate::error::ApiError;
use crate::identity::{CurrentUser, user_not_found};
use crate::mail::Email;
use crate::messages::INVALID_TOKEN;
use crate::state::AppState;
use crate::validate::clock::now;
use crate::value::Value;

/// Bytes of randomness in a token.
const TOKEN_BYTES: usize = 32;
/// Longest text taken as a token (a real one is 43 characters); longer is invalid unread.
const MAX_TOKEN_CHARS: usize = 128;

const DELETE_TOKENS_OF_USER: &str = "DELETE FROM email_verifications WHERE user_id = $1";
const INSERT_TOKEN: &str = "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5)";
/// Takes a token: whatever happens next, it cannot be used again.
const TAKE_TOKEN: &str = "DELETE FROM email_verifications WHERE token_hash = $1 RETURNING user_id, email, expires_at";
/// Verifies the address the token was sent to, if it is still the user's (keeps the first date).
const MARK_VERIFIED: &str = "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3) \
     WHERE id = $1 AND email = $2";
const USER_EMAIL: &str = "SELECT email, email_verified_at FROM users WHERE id = $1";

/// A new random token: what the message carries.
fn new_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness for a token: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored of a token: its SHA-256 digest, hex.
fn digest(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Replaces `user_id`'s outstanding tokens with a new one for `email`, inside the caller's
/// transaction, and returns the message to send once it commits.
pub(crate) async fn issue(tx: &mut Tx, user_id: Uuid, email: &str, ttl: Duration) -> Result<Email, ApiError> {
    let token = new_token()?;
    let created_at = now();
    let expires_at = crate::validate::clock::expiry_after(created_at, ttl);
    tx.execute(DELETE_TOKENS_OF_USER, &[Value::Uuid(Some(user_id))]).await?;
    tx.execute(
        INSERT_TOKEN,
        &[
            Value::Text(Some(digest(&token))),
            Value::Uuid(Some(user_id)),
            Value::Text(Some(email.to_string())),
            Value::Timestamp(Some(created_at)),
            Value::Timestamp(Some(expires_at)),
        ],
    )
    .await?;
    Ok(message(email, &token, expires_at))
}

/// The verification message. API.md: the token is on a line of its own starting with `Token: `.
fn message(email: &str, token: &str, expires_at: DateTime<Utc>) -> Email {
    let expires = Value::Timestamp(Some(expires_at)).to_json();
    let expires = expires.as_str().unwrap_or_default();
    Email {
        to: email.to_string(),
        subject: "Verify your email address".to_string(),
        body: format!(
            "Someone, hopefully you, signed up with this address.\n\
             \n\
             To confirm it is yours, send this token to POST /api/auth/verify-email as {{\"token\": \"...\"}}:\n\
             \n\
             Token: {token}\n\
             \n\
             The token can be used once, until {expires}. If you did not sign up, ignore this message.\n"
        ),
    }
}

/// `POST /api/auth/verify-email` `{"token"}` → 200 `{"email", "email_verified": true}`; an
/// unknown, used or expired token → 400 on `token` ([`INVALID_TOKEN`]). No authentication: the
/// token is the proof. Throttled per client address.
pub(super) async fn verify(
    State(state): State<AppState>,
    client: ClientAddress,
    body: Result<JsonObject, ApiError>,
) -> Result<Json<JsonValue>, ApiError> {
    state.throttle().address(client.0)?;
    let mut form = Form::new(body?);
    let token = form.secret("token");
    form.finish()?;
    let token = cleaned(token)?;
    let token = token.trim();
    let invalid = || ApiError::field("token", INVALID_TOKEN);
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(invalid());
    }

    let mut tx = state.db().begin(TxMode::Write).await?;
    let row: Option<(Uuid, String, DateTime<Utc>)> = tx
        .fetch_optional_as(TAKE_TOKEN, &[Value::Text(Some(digest(token)))], ["user_id", "email", "expires_at"])
        .await?;
    let Some((user_id, email, expires_at)) = row else {
        tx.rollback().await?;
        return Err(invalid());
    };
    let verified_now = now();
    if expires_at <= verified_now {
        // The expired token stays deleted: commit.
        tx.commit().await?;
        return Err(invalid());
    }
    let updated = tx
        .execute(
            MARK_VERIFIED,
            &[Value::Uuid(Some(user_id)), Value::Text(Some(email.clone())), Value::Timestamp(Some(verified_now))],
        )
        .await?;
    tx.commit().await?;
    if updated == 0 {
        return Err(invalid());
    }
    Ok(Json(json!({ "email": email, "email_verified": true })))
}

/// `POST /api/auth/verify-email/resend` (authenticated) → 204: a new token goes to the user's
/// address and the previous ones stop working. Nothing is sent when the address is already
/// verified. Throttled per client address and per account, as each call sends mail.
pub(super) async fn resend(
    State(state): State<AppState>,
    client: ClientAddress,
    user: CurrentUser,
) -> Result<StatusCode, ApiError> {
    state.throttle().address(client.0)?;
    let mut tx = state.db().begin(TxMode::Write).await?;
    let (email, verified_at): (String, Option<DateTime<Utc>>) = tx
        .fetch_optional_as(USER_EMAIL, &[Value::Uuid(Some(user.user_id))], ["email", "email_verified_at"])
        .await?
        .ok_or_else(user_not_found)?;
    state.throttle().account(&email)?;
    if verified_at.is_some() {
        tx.rollback().await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let message = issue(&mut tx, user.user_id, &email, state.config().email_verification_ttl).await?;
    tx.commit().await?;
    state.send_mail(message).await;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_url_safe_and_stored_as_digests() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn the_message_carries_the_token_on_its_own_line() {
        let expires = DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z").unwrap().with_timezone(&Utc);
        let email = message("a@example.com", "tok_EN-123", expires);
        assert_eq!(email.to, "a@example.com");
        assert!(email.body.lines().any(|l| l == "Token: tok_EN-123"), "{}", email.body);
        assert!(email.body.contains("2030-01-02T03:04:05"), "{}", email.body);
    }
}
