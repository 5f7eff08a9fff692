//! Authentication: tokens, passwords, and the `/api/auth/*` endpoints.

pub mod email_verification;
pub mod handlers;
pub mod jwt;
pub mod password;
pub mod password_validation;
pub(crate) mod refresh_tokens;
pub(crate) mod sessions;
