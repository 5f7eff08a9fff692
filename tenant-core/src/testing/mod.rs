//! Testing an app built on the framework (cargo feature `testing`): the app under test on a
//! throwaway database of either backend, tenants signed up through the API, requests made in
//! process, and [`assert_isolated`], the generic proof that another company cannot reach a
//! resource's rows.
//!
//! ```ignore
//! use tenant_core::testing::*;
//!
//! fn register(app: tenant_core::App) -> tenant_core::App {
//!     app.resource::<Project>()
//! }
//!
//! tenant_core::both_backends! {
//!     register = register;
//!
//!     async fn projects_are_isolated(app: TestApp) {
//!         let owner = app.signup("Acme").await;
//!         assert_isolated::<Project>(&app, &owner, serde_json::json!({"name": "Apollo"})).await;
//!     }
//! }
//! ```
//!
//! Backends:
//! - SQLite: a new database file in a temporary directory per test.
//! - PostgreSQL: `CREATE DATABASE t_<uuid>` on the server at `TEST_POSTGRES_URL` (falling back to
//!   [`DEFAULT_POSTGRES_URL`], the server of the repository's `scripts/pg-test-server.sh`),
//!   dropped again when the [`TestApp`] is dropped (set `TENANT_TEST_KEEP_DB=1` to keep it).
//!   When no server can be reached the test is skipped with a loud warning, except under CI
//!   (env `CI` set) or when `TEST_POSTGRES_URL` is set explicitly: then it fails.

mod accounts;
mod app;
mod credentials;
mod databases;
mod isolation;
mod requests;

pub use self::app::{Register, Served, TestApp};
pub use self::credentials::{PASSWORD, TEST_JWT_SECRET, signed_token, signed_token_living};
pub use self::databases::{Backend, DEFAULT_POSTGRES_URL};
pub use self::isolation::assert_isolated;
pub use self::requests::{Auth, Resp, User};
pub use crate::slash_routes::registered::paths as registered_paths;

/// Declares tests that run on both backends, for the app `register` builds:
///
/// ```ignore
/// tenant_core::both_backends! {
///     register = my_app::register;
///
///     async fn my_test(app: TestApp) { /* ... */ }
///     async fn another(app: TestApp) { /* ... */ }
/// }
/// ```
///
/// Each function becomes a module with `#[tokio::test] async fn sqlite()` and `async fn postgres()`
/// (run as `cargo test my_test::sqlite`). A PostgreSQL test is skipped (passes, with a loud
/// warning) when no server is available outside CI. The calling crate needs `tokio` with its
/// `macros` and `rt` features.
#[macro_export]
macro_rules! both_backends {
    (register = $register:path; $( $(#[$meta:meta])* async fn $name:ident ( $app:ident : $ty:ty ) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($app: $ty) $body

                #[::tokio::test]
                $(#[$meta])*
                async fn sqlite() {
                    if let Some(app) = $crate::testing::TestApp::for_app($crate::testing::Backend::Sqlite, $register).await {
                        body(app).await;
                    }
                }

                #[::tokio::test]
                $(#[$meta])*
                async fn postgres() {
                    if let Some(app) = $crate::testing::TestApp::for_app($crate::testing::Backend::Postgres, $register).await {
                        body(app).await;
                    }
                }
            }
        )*
    };
}
