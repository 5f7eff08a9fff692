//! What every app under test shares: the users' password, the signing secret, tokens signed
//! with it, and the pool size.

use std::time::Duration;

use uuid::Uuid;

use crate::auth::jwt::{Keys, TokenType};

/// Password of every user [`TestApp::signup`](super::TestApp::signup) creates.
pub const PASSWORD: &str = "vivid-otter-meadow-42";

/// Connections of each test app's pool: tests run in parallel against one server.
pub(crate) const APP_POOL_SIZE: u32 = 5;

/// The signing secret of every test app (long enough for `Config::from_env`'s rules; never the
/// development default).
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// A token of `typ` for `user_id`, signed with the test apps' secret (a refresh token made so has
/// no record in the app's database, so it refreshes nothing: the answer to a revoked one): what the app would
/// issue, whether or not such a user exists (tests of tokens that outlive their user).
pub fn signed_token(user_id: Uuid, typ: TokenType) -> String {
    let config = crate::Config::new("sqlite::memory:");
    Keys::new(TEST_JWT_SECRET.as_bytes(), config.access_ttl, config.refresh_ttl).issue(user_id, typ)
}

/// A token signed with the test apps' secret but living `ttl`: longer than the app issues when
/// `ttl` exceeds its configured lifetime (tests of forged lifetimes).
pub fn signed_token_living(user_id: Uuid, typ: TokenType, ttl: Duration) -> String {
    Keys::new(TEST_JWT_SECRET.as_bytes(), ttl, ttl).issue(user_id, typ)
}
