//! Test harness of this repository: `tenant_core::testing` (the app under test, tenants,
//! requests, the generic isolation check) with the demo app as the default app, and the demo's
//! own fixtures and tools (a PostgreSQL proxy, an SMTP sink, raw HTTP on the wire).
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
//! Backends: see `tenant_core::testing`.

pub mod checks;
pub mod demo;
pub mod lists;
pub mod model;
pub mod ports;
pub mod proxy;
pub mod smtp_sink;
pub mod wire;

pub use serde_json;
pub use tenant_core::auth::jwt::TokenType;
pub use tenant_core::testing::{
    Auth, Backend, DEFAULT_POSTGRES_URL, PASSWORD, Resp, Served, TEST_JWT_SECRET, TestApp, User, assert_isolated,
    signed_token, signed_token_living,
};
pub use uuid;

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
    (register = $register:path; $($rest:tt)*) => {
        ::tenant_core::both_backends! { register = $register; $($rest)* }
    };
    ($($rest:tt)*) => {
        ::tenant_core::both_backends! { register = ::demo_app::register; $($rest)* }
    };
}
