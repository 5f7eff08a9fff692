//! `POST /api/auth/signup`, `POST /api/auth/token` and `POST /api/auth/token/refresh`; the
//! e-mail verification routes are in `email_verification.rs`, logout and the password change in
//! `sessions.rs`, the refresh tokens' records in `refresh_tokens.rs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

use crate::accounts::{CompanyRow, Form, MAX_COMPANY_NAME_LEN, canonical_email, cleaned, create_company};
use crate::auth::jwt::TokenType;
use crate::auth::password::MAX_PASSWORD_LEN;
use crate::auth::password_validation::validate_password;
use crate::auth::refresh_tokens::{rotate, start_family};
use crate::body::JsonObject;
use crate::client_address::ClientAddress;
use crate::db::{Dialect, Tx, TxMode};
use crate::error::ApiError;
use crate::messages::BAD_CREDENTIALS;
use crate::slash_routes::SlashRoutes;
use crate::state::AppState;
use crate::validate::clock::now;
use crate::value::Value;

/// The unique index on `users.email`, as each backend reports its violation.
const USERS_EMAIL_KEY: &str = "users_email_key";
const USERS_EMAIL_COLUMNS: &[&str] = &["email"];

/// The user comes first (the membership references it), so a taken email fails the first
/// statement; `default_company_id` is set once the company exists.
const INSERT_USER: &str = "INSERT INTO users (id, email, password_hash, default_company_id, created_at) \
     VALUES ($1, $2, $3, NULL, $4)";
const SET_DEFAULT: &str = "UPDATE users SET default_company_id = $2 WHERE id = $1";
const CREDENTIALS: &str = "SELECT id, password_hash FROM users WHERE email = $1";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route_with_slash("/api/auth/signup", post(signup))
        .route_with_slash("/api/auth/token", post(token))
        .route_with_slash("/api/auth/token/refresh", post(refresh))
        .route_with_slash("/api/auth/verify-email", post(super::email_verification::verify))
        .route_with_slash("/api/auth/verify-email/resend", post(super::email_verification::resend))
        .route_with_slash("/api/auth/logout", post(super::sessions::logout))
        .route_with_slash("/api/auth/password", post(super::sessions::change_password))
}

/// `POST /api/auth/signup` `{"email", "password", "company_name"}` → 201
/// `{"user": {"id", "email", "email_verified", "default_company_id"}, "company": {"id", "name", "created_at", "role"},
/// "access", "refresh"}`. The user, the company, the admin membership and the default company
/// are written in one transaction, with the e-mail verification token whose message is sent once
/// it commits (`"email_verified": false` until the token comes back). A taken email (case-insensitively) is a 409, detected from
/// the unique index so that two simultaneous sign-ups cannot both succeed.
async fn signup(
    State(state): State<AppState>,
    client: ClientAddress,
    body: Result<JsonObject, ApiError>,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    state.throttle().address(client.0)?;
    let mut form = Form::new(body?);
    let email = form.email("email");
    if let Some(email) = &email {
        state.throttle().account(email)?;
    }
    let password = form.secret("password");
    if let Some(password) = &password {
        // Compared with the email as given when that is not a valid address yet.
        let raw_email = email.clone().unwrap_or_default();
        for message in validate_password(password, &raw_email) {
            form.error("password", message);
        }
    }
    let company_name = form.text("company_name", MAX_COMPANY_NAME_LEN);
    form.finish()?;
    let (email, password, company_name) = (cleaned(email)?, cleaned(password)?, cleaned(company_name)?);

    // Hash before opening the transaction: the slow part must not hold a write lock.
    let password_hash = state.hashers().hash(password).await?;
    // Sent again when PostgreSQL broke a deadlock by aborting it (`40P01`, or a serialization
    // failure): two signups with one address on Citus, whose `users` is a reference table written
    // on every node, deadlock instead of one waiting for the other (issue 16). Its next attempt
    // finds the address taken (409), as on one server; nothing of the aborted one remains.
    let mut attempts = 0;
    let (user_id, company, verification, refresh) = loop {
        attempts += 1;
        match signup_transaction(&state, &email, password_hash.clone(), company_name.clone()).await {
            Err(ApiError::Busy(_)) if attempts < SIGNUP_ATTEMPTS && state.db().dialect() == Dialect::Postgres => {}
            other => break other?,
        }
    };
    state.send_mail(verification).await;

    let keys = state.keys();
    let body = json!({
        "user": { "id": user_id, "email": email, "email_verified": false, "default_company_id": company.id },
        "company": company.to_json(),
        "access": keys.issue(user_id, TokenType::Access),
        "refresh": refresh,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// How many times a signup is tried when PostgreSQL aborts it to break a deadlock.
const SIGNUP_ATTEMPTS: u32 = 3;

/// The signup's writes, in one transaction: the user, its company and membership, its default,
/// the verification token and the refresh family.
async fn signup_transaction(
    state: &AppState,
    email: &str,
    password_hash: String,
    company_name: String,
) -> Result<(Uuid, CompanyRow, crate::mail::Email, String), ApiError> {
    let mut tx = state.db().begin(TxMode::Write).await?;
    let user_id = insert_user(&mut tx, email, password_hash).await?;
    let company = create_company(&mut tx, user_id, company_name).await?;
    tx.execute(SET_DEFAULT, &[Value::Uuid(Some(user_id)), Value::Uuid(Some(company.id))]).await?;
    let verification =
        super::email_verification::issue(&mut tx, user_id, email, state.config().email_verification_ttl).await?;
    let refresh = start_family(&mut tx, state.keys(), user_id).await?;
    tx.commit().await?;
    Ok((user_id, company, verification, refresh))
}

/// Inserts a user with a canonical `email` and an Argon2 `password_hash`, no default company
/// and the address unverified, inside the caller's transaction; returns its id. A taken email is
/// the 409 of `email` (API.md), detected from the unique index.
pub(crate) async fn insert_user(tx: &mut Tx, email: &str, password_hash: String) -> Result<Uuid, ApiError> {
    let user_id = Uuid::now_v7();
    tx.execute(
        INSERT_USER,
        &[
            Value::Uuid(Some(user_id)),
            Value::Text(Some(email.to_string())),
            Value::Text(Some(password_hash)),
            Value::Timestamp(Some(now())),
        ],
    )
    .await
    .map_err(
        |err| {
            if err.violates_unique(USERS_EMAIL_KEY, USERS_EMAIL_COLUMNS) { email_taken() } else { err.into() }
        },
    )?;
    Ok(user_id)
}

fn email_taken() -> ApiError {
    ApiError::duplicate("email", "A user")
}

/// `POST /api/auth/token` `{"email", "password"}` → 200 `{"access", "refresh"}`. An unknown
/// email and a wrong password get the same 401 after the same amount of work.
async fn token(
    State(state): State<AppState>,
    client: ClientAddress,
    body: Result<JsonObject, ApiError>,
) -> Result<Json<JsonValue>, ApiError> {
    state.throttle().address(client.0)?;
    let mut form = Form::new(body?);
    let email = form.text("email", usize::MAX);
    let password = form.secret("password");
    form.finish()?;
    let (email, password) = (canonical_email(&cleaned(email)?), cleaned(password)?);
    state.throttle().account(&email)?;

    let mut tx = state.db().begin(TxMode::Read).await?;
    let row: Option<(Uuid, String)> =
        tx.fetch_optional_as(CREDENTIALS, &[Value::Text(Some(email))], ["id", "password_hash"]).await?;
    tx.rollback().await?;
    let (user_id, stored) = row.unzip();
    // Verified outside the transaction, so the connection is not held during the slow part. A
    // password no sign-up accepts cannot match: refused without hashing megabytes.
    let ok = password.chars().count() <= MAX_PASSWORD_LEN && state.hashers().verify(password, stored).await?;
    let user_id = match (ok, user_id) {
        (true, Some(id)) => id,
        _ => return Err(ApiError::Unauthorized(BAD_CREDENTIALS)),
    };
    let mut tx = state.db().begin(TxMode::Write).await?;
    let refresh = start_family(&mut tx, state.keys(), user_id).await?;
    tx.commit().await?;
    Ok(Json(json!({ "access": state.keys().issue(user_id, TokenType::Access), "refresh": refresh })))
}

/// `POST /api/auth/token/refresh` `{"refresh"}` → 200 `{"access", "refresh"}`: the token sent is
/// retired and the one returned replaces it (rotation, `refresh_tokens.rs`). 401 for an access
/// token, an expired, forged, retired or revoked one (a retired one revokes its whole login), and
/// [`USER_NOT_FOUND`](crate::identity::USER_NOT_FOUND) for the token of a user who no longer
/// exists, the answer of every other route to such a user's tokens.
async fn refresh(
    State(state): State<AppState>,
    body: Result<JsonObject, ApiError>,
) -> Result<Json<JsonValue>, ApiError> {
    let mut form = Form::new(body?);
    let token = form.secret("refresh");
    form.finish()?;
    let token = cleaned(token)?;
    let (access, refresh) = rotate(&state, token.trim()).await?;
    Ok(Json(json!({ "access": access, "refresh": refresh })))
}
