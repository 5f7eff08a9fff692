//! API.md's and Django REST Framework's response texts, in one place: what a client reads in
//! `{"detail": "..."}` and in field errors. Each handler names the text it answers with from
//! here, so a wording is changed once and a test can compare against the same constant.

// Field errors: DRF's own wording (`rest_framework.fields`), for bodies and query parameters.

/// A required field is absent (DRF `required`).
pub(crate) const REQUIRED: &str = "This field is required.";
/// `null` for a non-nullable field (DRF `null`).
pub(crate) const NOT_NULL: &str = "This field may not be null.";
/// An empty string where text is required (DRF `blank`).
pub(crate) const NOT_BLANK: &str = "This field may not be blank.";
/// A JSON value that is not a string for a text field (DRF `CharField.invalid`).
pub(crate) const NOT_A_STRING: &str = "Not a valid string.";
/// Not a UUID (DRF `UUIDField.invalid`).
pub(crate) const INVALID_UUID: &str = "Must be a valid UUID.";
/// Not an email address (DRF `EmailField.invalid`).
pub(crate) const INVALID_EMAIL: &str = "Enter a valid email address.";
/// Text with a NUL character (DRF's `ProhibitNullCharactersValidator`). API.md: text never
/// contains NUL; PostgreSQL's `text` cannot store it.
pub const NUL_NOT_ALLOWED: &str = "Null characters are not allowed.";
/// Not a `YYYY-MM-DD` date (DRF `DateField.invalid`).
pub(crate) const DATE_FORMAT: &str = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
/// Not an integer (DRF `IntegerField.invalid`).
pub(crate) const INTEGER_REQUIRED: &str = "A valid integer is required.";
/// A name with a line break or another control character (this framework's rule: names are
/// single lines, as they go into lists and mail).
pub(crate) const CONTROL_CHARACTERS: &str = "Control characters (such as line breaks) are not allowed.";

// Details (`{"detail": ...}`).

/// 404 for a missing object **or** another company's, identically (API.md; DRF's `NotFound`).
pub(crate) const NOT_FOUND: &str = "Not found.";
/// 403 for a role too low (DRF's `PermissionDenied`).
pub(crate) const PERMISSION_DENIED: &str = "You do not have permission to perform this action.";

/// 403 for a field whose `write` role is above the caller's (API.md: "role too low for the
/// action"), naming it.
pub(crate) fn field_write_denied(field: &str) -> String {
    format!("You do not have permission to change the field \"{field}\".")
}
/// 403 for a company the caller does not belong to (API.md).
pub(crate) const NOT_A_MEMBER: &str = "You are not a member of this company.";
/// 403 when no company is active: no `X-Company-Id` and no default company (API.md).
pub(crate) const NO_ACTIVE_COMPANY: &str =
    "No active company: send X-Company-Id or set a default company you are a member of.";
/// 401 for a correctly signed token whose user does not exist (never did, or was deleted):
/// Simple JWT's `JWTAuthentication` answers so on every route, and API.md requires a 401 on
/// every route.
pub(crate) const USER_NOT_FOUND: &str = "User not found.";
/// 401 for an `Authorization` header sent more than once.
pub(crate) const REPEATED_AUTHORIZATION: &str = "Authorization was sent more than once: send one `Bearer <token>`.";
/// 403 for an `X-Company-Id` header sent more than once.
pub(crate) const REPEATED_COMPANY: &str = "X-Company-Id was sent more than once: send it once.";
/// 401 of `/api/auth/token` for an unknown email and a wrong password alike (Simple JWT's text).
pub(crate) const BAD_CREDENTIALS: &str = "No active account found with the given credentials";
/// 400 on `token` of `/api/auth/verify-email`: unknown, used, expired, or for an address the user
/// no longer has — one text for all, so a guess learns nothing.
pub(crate) const INVALID_TOKEN: &str = "This token is invalid or has expired.";
/// 401 without `Authorization` (DRF's `NotAuthenticated`).
pub(crate) const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
/// 401 for an `Authorization` header that is not `Bearer <token>`.
pub(crate) const INVALID_AUTHORIZATION: &str = "Invalid Authorization header: expected `Bearer <token>`.";
/// 401 for an `Authorization` header that is not text.
pub(crate) const UNREADABLE_AUTHORIZATION: &str = "Invalid Authorization header.";
/// 401 for a token past its `exp` (Simple JWT).
pub(crate) const TOKEN_EXPIRED: &str = "Token has expired.";
/// 401 for a token that is malformed, forged, or otherwise refused (Simple JWT).
pub(crate) const TOKEN_INVALID: &str = "Token is invalid.";
/// 401 for a refresh token used as an access token.
pub(crate) const WRONG_TOKEN_TYPE_ACCESS: &str = "Token has the wrong type: use an access token.";
/// 401 for an access token used to refresh.
pub(crate) const WRONG_TOKEN_TYPE_REFRESH: &str = "Token has the wrong type: use a refresh token.";
/// 401 for a refresh token whose login was revoked: logout, a password change, a reuse.
pub(crate) const TOKEN_REVOKED: &str = "Token has been revoked.";
/// 401 for a refresh token presented again after it was exchanged (API.md: its login is revoked).
pub(crate) const TOKEN_REUSED: &str = "Token has already been used: every token of this login is revoked.";
/// 400 on `current_password` of a password change (Django's `PasswordChangeForm`).
pub(crate) const WRONG_CURRENT_PASSWORD: &str = "Your current password was entered incorrectly. Please enter it again.";
/// 403 for an `X-Company-Id` that is not a UUID (API.md).
pub(crate) const INVALID_COMPANY_HEADER: &str = "X-Company-Id is not a valid UUID.";
/// 404 for a page past the end or not a page (DRF's `PageNumberPagination`).
pub(crate) const INVALID_PAGE: &str = "Invalid page.";
/// 413 (API.md: bodies over 1 MiB).
pub(crate) const BODY_TOO_LARGE: &str = "Request body is larger than 1 MiB.";
/// 408 (`BODY_READ_TIMEOUT_SECS`: the body did not arrive in time).
pub(crate) const BODY_TIMEOUT: &str = "The request body took too long to arrive.";
/// 415 (API.md: bodies must be JSON).
pub(crate) const UNSUPPORTED_MEDIA_TYPE: &str = "Unsupported media type: send the body as application/json.";
/// 405 (DRF's `MethodNotAllowed`).
pub(crate) const METHOD_NOT_ALLOWED: &str = "Method not allowed.";
/// 503 when the database is unreachable or busy (API.md: never a stack trace, SQL or secret).
pub(crate) const UNAVAILABLE: &str =
    "Service temporarily unavailable: the database is unreachable or busy. Try again later.";
/// 503 with `Retry-After` when the password hashers' queue is full.
pub(crate) const BUSY: &str = "The server is busy: try again in a moment.";
/// 500: the cause is logged, never shown.
pub(crate) const INTERNAL: &str = "Internal server error.";
