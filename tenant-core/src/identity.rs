//! Who is calling: the bearer token of `Authorization` and the `X-Company-Id` header, each read
//! exactly once, and the [`CurrentUser`] extractor for routes not tied to a company.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::auth::jwt::TokenType;
use crate::authorization::{RepeatedHeader, bearer, single_header};
use crate::error::ApiError;
use crate::messages::{
    INVALID_COMPANY_HEADER, REPEATED_COMPANY, TOKEN_EXPIRED, TOKEN_INVALID, USER_NOT_FOUND, WRONG_TOKEN_TYPE_ACCESS,
};
use crate::state::AppState;
use crate::value::{FieldType, Value};

/// The header that picks the active company for one request.
pub const COMPANY_HEADER: &str = "x-company-id";

/// Whether the user exists; one indexed read.
pub(crate) const USER_EXISTS: &str = "SELECT id FROM users WHERE id = $1";

/// The 401 for a token that outlived its user.
pub fn user_not_found() -> ApiError {
    ApiError::Unauthorized(USER_NOT_FOUND)
}

/// Whether user `user_id` exists, read on a pooled connection outside any transaction.
pub(crate) async fn user_exists(state: &AppState, user_id: Uuid) -> Result<bool, ApiError> {
    Ok(state.db().fetch_optional(USER_EXISTS, &[Value::Uuid(Some(user_id))], &[FieldType::Uuid]).await?.is_some())
}

/// An authenticated user, not (yet) tied to a company: the extractor of `/api/me` and
/// `/api/companies`, and of any route of yours that needs a signed-in user but no company.
///
/// It reads `Authorization: Bearer <access token>` (sent once; a refresh token is refused) and
/// checks that the user still exists (one read), so a token that outlived its user is a 401
/// "User not found." on every route that takes a `CurrentUser`, as Simple JWT's
/// `JWTAuthentication` answers, and no handler can forget to check. Rejections are
/// [`ApiError`]s (401; 429 past the user's request rate, `THROTTLE_USER`). For a route tied to the active company, take a
/// [`Tenant`](crate::Tenant) instead.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser {
    /// The user's id (the token's `sub`).
    pub user_id: Uuid,
}

/// The user the request's access token names, from the token alone (no database read).
pub(crate) fn token_user(parts: &Parts, state: &AppState) -> Result<Uuid, ApiError> {
    let token = bearer(&parts.headers)?;
    let claims = state.keys().verify(token, TokenType::Access).map_err(|e| match e {
        crate::auth::jwt::TokenError::Expired => ApiError::Unauthorized(TOKEN_EXPIRED),
        crate::auth::jwt::TokenError::Invalid => ApiError::Unauthorized(TOKEN_INVALID),
        crate::auth::jwt::TokenError::WrongType => ApiError::Unauthorized(WRONG_TOKEN_TYPE_ACCESS),
    })?;
    crate::request_trace::record_user(claims.sub);
    Ok(claims.sub)
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = &AppState::from_ref(state);
        let user_id = token_user(parts, state)?;
        state.request_throttle().user(user_id).await?;
        if !user_exists(state, user_id).await? {
            return Err(user_not_found());
        }
        Ok(CurrentUser { user_id })
    }
}

/// Reads `X-Company-Id`: absent → `None`; present but not a UUID, or sent more than once
/// (whatever the values) → 403, as API.md answers a malformed one.
pub fn requested_company(headers: &HeaderMap) -> Result<Option<Uuid>, ApiError> {
    match single_header(headers, COMPANY_HEADER).map_err(|RepeatedHeader| ApiError::Forbidden(REPEATED_COMPANY))? {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .map(Some)
            .ok_or(ApiError::Forbidden(INVALID_COMPANY_HEADER)),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::messages::REPEATED_AUTHORIZATION;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn identity_headers_must_not_repeat() {
        let id = "0190c3e2-7d1a-7b3c-9d4e-5f6a7b8c9d0e";
        assert_eq!(single_header(&headers(&[]), COMPANY_HEADER), Ok(None));
        assert_eq!(single_header(&headers(&[("x-company-id", id)]), COMPANY_HEADER).unwrap().unwrap(), id);
        // Twice is refused whatever the values, equal ones included; other headers do not count.
        for twice in [[("x-company-id", id), ("x-company-id", id)], [("x-company-id", id), ("x-company-id", "")]] {
            assert_eq!(single_header(&headers(&twice), COMPANY_HEADER), Err(RepeatedHeader));
        }
        let other = headers(&[("x-company-id", id), ("x-other", id)]);
        assert_eq!(requested_company(&other).unwrap(), Some(Uuid::parse_str(id).unwrap()));
        let twice = headers(&[("x-company-id", id), ("x-company-id", id)]);
        assert!(matches!(requested_company(&twice), Err(ApiError::Forbidden(REPEATED_COMPANY))));
        let twice = headers(&[("authorization", "Bearer a"), ("authorization", "Bearer a")]);
        assert!(matches!(bearer(&twice), Err(ApiError::Unauthorized(REPEATED_AUTHORIZATION))));
        assert_eq!(bearer(&headers(&[("authorization", "Bearer a")])).unwrap(), "a");
    }
}
