//! Reading the headers that say who is calling: each one exactly once ([`single_header`]), and
//! the bearer token of `Authorization` ([`bearer`]), with API.md's 401s. Below the state, so
//! that what checks a token of its own (`/metrics`, `metrics.rs`) reads it as the token check
//! of every authenticated route does (`identity.rs`).

use axum::http::header::{AUTHORIZATION, AsHeaderName};
use axum::http::{HeaderMap, HeaderValue};

use crate::error::ApiError;
use crate::messages::{INVALID_AUTHORIZATION, NOT_AUTHENTICATED, REPEATED_AUTHORIZATION, UNREADABLE_AUTHORIZATION};

/// A request header that must appear at most once was sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatedHeader;

/// The value of header `name`, which must appear at most once: `Ok(None)` when absent,
/// `Err(RepeatedHeader)` when sent more than once, whatever the values (equal ones too).
///
/// Every header the framework reads to decide who is calling or for which company goes through
/// this, never through `HeaderMap::get`, which silently keeps the first of several values: a
/// client, or a proxy that appends rather than replaces, must not get an answer for an identity
/// or a tenant that was picked by header order (issue 8, item 7). An app that adds headers of
/// its own deciding identity or tenant should read them the same way.
pub fn single_header(headers: &HeaderMap, name: impl AsHeaderName) -> Result<Option<&HeaderValue>, RepeatedHeader> {
    let mut values = headers.get_all(name).into_iter();
    let first = values.next();
    match values.next() {
        Some(_) => Err(RepeatedHeader),
        None => Ok(first),
    }
}

/// The bearer token of `Authorization`. Absent, malformed, or sent more than once → 401.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = single_header(headers, AUTHORIZATION)
        .map_err(|RepeatedHeader| ApiError::Unauthorized(REPEATED_AUTHORIZATION))?
        .ok_or(ApiError::Unauthorized(NOT_AUTHENTICATED))?;
    let value = value.to_str().map_err(|_| ApiError::Unauthorized(UNREADABLE_AUTHORIZATION))?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized(INVALID_AUTHORIZATION))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(INVALID_AUTHORIZATION));
    }
    Ok(token.trim())
}
