//! The one error type of the HTTP layer. Each variant is a row of API.md's error table; the
//! response body never carries SQL, a stack trace or a secret (internal causes are logged).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::db::DbError;
use crate::messages::{
    BODY_TIMEOUT, BODY_TOO_LARGE, BUSY, INTERNAL, INVALID_PAGE, METHOD_NOT_ALLOWED, NOT_FOUND, UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
};
use crate::query::QueryError;
pub use crate::validate::FieldErrors;

/// The key of messages about no one field (DRF's `NON_FIELD_ERRORS_KEY`).
pub const NON_FIELD_ERRORS: &str = "non_field_errors";

/// Why a 5xx answer failed (a database error, say), in the answer's extensions for the request
/// trace to log with the request's context (`request_trace.rs`); never sent to the client.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

/// Every error answer of the API, as API.md's error table lists them: a handler returns
/// `Result<_, ApiError>` and the variant decides the status, the headers and the JSON body
/// (`{"detail": "…"}`, or `{"field": ["…"]}` for [`ApiError::Validation`] and
/// [`ApiError::Duplicate`]), in Django REST Framework's wording.
///
/// A 500 or a 503 answers a fixed sentence, and its cause goes with the answer (in its
/// extensions) for the request trace to log (`request_trace.rs`: `ERROR request failed`, with
/// the request's id, user and company): SQL, driver errors and secrets never reach the client.
/// `?` converts the crate's other errors: a list query's
/// ([`QueryError`](crate::query::QueryError)) and the database's ([`DbError`](crate::DbError):
/// 503 when it cannot be reached or a statement ran too long, 500 otherwise).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `{"detail": "<message>"}` with `WWW-Authenticate: Bearer`: no token, a bad one, or
    /// one whose user no longer exists (Simple JWT's messages).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403 `{"detail": "<message>"}`: no active company, not a member, or role too low.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 403 `{"detail": "<message>"}` naming what the role may not do: a field whose
    /// `write = "…"` role is above the caller's.
    #[error("forbidden: {0}")]
    ForbiddenDetail(String),
    /// 404 `{"detail": "Not found."}`: missing **or** another company's, indistinguishably.
    #[error("not found")]
    NotFound,
    /// 404 `{"detail": "<message>"}` (e.g. "Invalid page.").
    #[error("not found: {0}")]
    NotFoundDetail(String),
    /// 400 `{"field": ["…"], …}`: every invalid field at once, DRF's shape.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 400 `{"detail": "…"}`: malformed JSON or a body of the wrong JSON type.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 409 `{"field": ["… already exists."]}`.
    #[error("conflict on fields")]
    Duplicate(FieldErrors),
    /// 409 `{"detail": "…"}`: the state forbids it (dependants, last admin).
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413 `{"detail": "Request body is larger than 1 MiB."}`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 408 `{"detail": "The request body took too long to arrive."}` with `Connection: close`:
    /// the body did not arrive within `BODY_READ_TIMEOUT_SECS`
    /// ([`Config::body_read_timeout`](crate::Config::body_read_timeout)). The rest of it is
    /// never read, so the connection cannot carry another request.
    #[error("the request body took too long to arrive")]
    BodyTimeout,
    /// 415: the body is not `application/json` (nor `application/*+json`).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 405 `{"detail": "Method not allowed."}`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503: the database cannot be reached, or cancelled a statement that ran too long. The
    /// cause is logged; the client reads a fixed sentence.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 429 with `Retry-After: <seconds>`: a throttle's rate was exceeded. DRF's wording:
    /// "Request was throttled. Expected available in N seconds."
    #[error("throttled, retry after {0} s")]
    Throttled(u64),
    /// 503 with `Retry-After: <seconds>`: a bounded resource (the password hashing workers) is
    /// saturated; the client may retry shortly. Not logged as an error: it is load, not a fault.
    #[error("busy, retry after {0} s")]
    Busy(u64),
    /// 500: a bug. Logged in full, answered with a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 on one field.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_string(), vec![message.into()]);
        ApiError::Validation(errors)
    }

    /// A 400 on the object as a whole: `{"non_field_errors": [message]}` (DRF's key for errors
    /// of no one field, as a serializer's `validate` raises them).
    pub fn non_field(message: impl Into<String>) -> ApiError {
        let mut errors = FieldErrors::new();
        errors.insert(NON_FIELD_ERRORS.to_string(), vec![message.into()]);
        ApiError::Validation(errors)
    }

    /// A 409 on one field whose value is already used in this company.
    pub fn duplicate(field: &str, what: &str) -> ApiError {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_string(), vec![format!("{what} with this {field} already exists.")]);
        ApiError::Duplicate(errors)
    }

    /// A 500 for a bug: `cause` is logged, the client reads "Internal server error.".
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(cause.to_string())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::ForbiddenDetail(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NotFoundDetail(_) => StatusCode::NOT_FOUND,
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Duplicate(_) | ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Database failures that are not the client's fault become 503 (unreachable) or 500 (a bug).
/// Constraint violations are mapped by the caller, who knows which field they concern.
impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> ApiError {
        match err {
            QueryError::InvalidPage => ApiError::NotFoundDetail(INVALID_PAGE.into()),
            QueryError::Invalid(errors) => ApiError::Validation(errors),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> ApiError {
        match err {
            DbError::Unavailable(cause) | DbError::ConnectionLost(cause) => ApiError::Unavailable(cause),
            // A tenant's query too heavy for the time allowed: the database is busy for it, not
            // broken, and the answer is the same 503 (API.md: "database unreachable or busy").
            DbError::Timeout => ApiError::Unavailable("statement timeout".into()),
            // Handled where a NOWAIT lock is taken (the Tenant extractor); elsewhere, busy.
            DbError::LockNotAvailable => ApiError::Busy(1),
            // Others' work in the way (a lock held past the busy timeout, a serialization
            // failure): the same request may succeed in a moment, which `Retry-After` says.
            DbError::Busy(_) => ApiError::Busy(1),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::Unauthorized(msg) | ApiError::Forbidden(msg) => json!({ "detail": msg }),
            ApiError::ForbiddenDetail(msg) => json!({ "detail": msg }),
            ApiError::NotFound => json!({ "detail": NOT_FOUND }),
            ApiError::NotFoundDetail(msg) | ApiError::BadRequest(msg) | ApiError::Conflict(msg) => {
                json!({ "detail": msg })
            }
            ApiError::Validation(errors) | ApiError::Duplicate(errors) => json!(errors),
            ApiError::PayloadTooLarge => json!({ "detail": BODY_TOO_LARGE }),
            ApiError::BodyTimeout => json!({ "detail": BODY_TIMEOUT }),
            ApiError::UnsupportedMediaType => {
                json!({ "detail": UNSUPPORTED_MEDIA_TYPE })
            }
            ApiError::MethodNotAllowed => json!({ "detail": METHOD_NOT_ALLOWED }),
            ApiError::Unavailable(_) => json!({ "detail": UNAVAILABLE }),
            ApiError::Busy(_) => json!({ "detail": BUSY }),
            // Django REST Framework's wording (`exceptions.Throttled`).
            ApiError::Throttled(seconds) => {
                json!({ "detail": format!("Request was throttled. Expected available in {seconds} seconds.") })
            }
            ApiError::Internal(_) => json!({ "detail": INTERNAL }),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::REQUEST_TIMEOUT {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let ApiError::Busy(seconds) | ApiError::Throttled(seconds) = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let ApiError::Unavailable(cause) | ApiError::Internal(cause) = self {
            // Logged with the request's context by the request trace (`request_trace.rs`).
            response.extensions_mut().insert(ErrorCause(cause));
        }
        response
    }
}
