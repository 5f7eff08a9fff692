//! Test harness: the real demo app router, in process, over a fresh database of either backend.
//!
//! ```ignore
//! use tests::*;
//!
//! both_backends! {
//!     async fn create_then_get(app: TestApp) {
//!         let alice = app.signup("Acme").await;
//!         let r = app.post("/api/customers", &alice.auth(), json!({"name": "A", "email": "a@x.io"})).await;
//!         r.assert_status(201);
//!     }
//! }
//! ```
//!
//! Backends:
//! - SQLite: a new database file in a [`TempDir`] per test.
//! - PostgreSQL: `CREATE DATABASE t_<uuid>` on the server at `TEST_POSTGRES_URL` (falling back to
//!   the server of `scripts/pg-test-server.sh`, `postgres://postgres@127.0.0.1:54329/postgres`),
//!   dropped again when the [`TestApp`] is dropped (set `TENANT_TEST_KEEP_DB=1` to keep it).
//!   When no server can be reached the test is skipped with a loud warning, except under CI
//!   (env `CI` set) or when `TEST_POSTGRES_URL` is set explicitly: then it fails.

mod accounts;
mod app;
pub mod checks;
mod databases;
pub mod demo;
pub mod lists;
pub mod proxy;
mod requests;
pub mod smtp_sink;
pub mod wire;

use std::time::Duration;

use tenant_core::auth::jwt::Keys;
use uuid::Uuid;

pub use app::{Served, TestApp};
pub use databases::{Backend, DEFAULT_POSTGRES_URL};
pub use requests::{Auth, Resp, User};
pub use serde_json;
pub use tenant_core::auth::jwt::TokenType;
pub use uuid;

/// Password of every user [`TestApp::signup`] creates.
pub const PASSWORD: &str = "vivid-otter-meadow-42";

/// Connections of each test app's pool: tests run in parallel against one server.
pub(crate) const APP_POOL_SIZE: u32 = 5;

/// A signing secret long enough for `Config::from_env`'s rules (tests never use the dev default).
pub(crate) const TEST_JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// A token of `typ` for `user_id`, signed with the test apps' secret: exactly what the app would
/// issue, whether or not such a user exists (tests of tokens that outlive their user).
pub fn signed_token(user_id: Uuid, typ: TokenType) -> String {
    let config = tenant_core::Config::new("sqlite::memory:");
    Keys::new(TEST_JWT_SECRET.as_bytes(), config.access_ttl, config.refresh_ttl).issue(user_id, typ)
}

/// A token signed with the test apps' secret but living `ttl`: longer than the app issues when
/// `ttl` exceeds its configured lifetime (tests of forged lifetimes).
pub fn signed_token_living(user_id: Uuid, typ: TokenType, ttl: Duration) -> String {
    Keys::new(TEST_JWT_SECRET.as_bytes(), ttl, ttl).issue(user_id, typ)
}

/// Declares tests that run on both backends:
///
/// ```ignore
/// both_backends! {
///     async fn my_test(app: TestApp) { /* ... */ }
///     async fn another(app: TestApp) { /* ... */ }
/// }
/// ```
///
/// Each function becomes a module with `#[tokio::test] async fn sqlite()` and `async fn postgres()`
/// (run as `cargo test my_test::sqlite`). A PostgreSQL test is skipped (passes, with a loud
/// warning) when no server is available outside CI.
#[macro_export]
macro_rules! both_backends {
    // `register = my_app::register;` first: the app under test serves that app's resources
    // instead of the demo's (`TestApp::for_app`).
    (register = $register:path; $( $(#[$meta:meta])* async fn $name:ident ( $app:ident : $ty:ty ) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($app: $ty) $body

                #[::tokio::test]
                $(#[$meta])*
                async fn sqlite() {
                    if let Some(app) = $crate::TestApp::for_app($crate::Backend::Sqlite, $register).await {
                        body(app).await;
                    }
                }

                #[::tokio::test]
                $(#[$meta])*
                async fn postgres() {
                    if let Some(app) = $crate::TestApp::for_app($crate::Backend::Postgres, $register).await {
                        body(app).await;
                    }
                }
            }
        )*
    };
    ($( $(#[$meta:meta])* async fn $name:ident ( $app:ident : $ty:ty ) $body:block )*) => {
        $crate::both_backends! {
            register = ::demo_app::register;
            $( $(#[$meta])* async fn $name ( $app : $ty ) $body )*
        }
    };
}
