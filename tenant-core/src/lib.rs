//! The runtime of `tenant`: multi-tenant REST APIs in which every query is scoped to the
//! caller's company, on SQLite or PostgreSQL.
//!
//! [`#[tenant_resource]`](macro@tenant_resource) turns a plain struct into a [`Resource`]: a
//! static [`ResourceDesc`] of its table, fields, permissions and SQL. [`App`] serves each
//! resource with six endpoints (list, create, retrieve, replace, update, delete) scoped to the
//! caller's active company, beside the routes every app gets: sign-up, login and refresh (JWT),
//! e-mail verification, `/api/me`, companies, members and invitations. The HTTP contract is
//! API.md; bodies, pages and error messages follow Django REST Framework's.
//!
//! # A minimal app
//!
//! ```no_run
//! use tenant_core::{App, Config, tenant_resource};
//!
//! #[tenant_resource(table = "customers", path = "/api/customers")]
//! pub struct Customer {
//!     #[field(search, order, len = 1..=200)]
//!     pub name: String,
//!     #[field(unique, filter, email)]
//!     pub email: String,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let config = Config::from_env()?; // DATABASE_URL, JWT_SECRET, BIND_ADDR, …
//!     let addr = config.bind_addr;
//!     let app = App::connect(config).await?.resource::<Customer>();
//!     app.migrate().await?; // core tables, then each resource's table if missing
//!     let server = tenant_core::Server::from_app(app).await?; // refuses a role that escapes RLS
//!     let listener = tokio::net::TcpListener::bind(addr).await?;
//!     println!("listening on http://{addr}");
//!     server.run(listener).await?; // until SIGTERM or Ctrl-C, then a graceful shutdown
//!     Ok(())
//! }
//! ```
//!
//! README.md ("Declaring a resource") has the longer version, with an enum, a reference and
//! every attribute key, which the workspace's tests build and run (`tests/src/bin/readme_app.rs`);
//! its "Configuration" table lists every environment variable.
//!
//! # The main types
//!
//! - Assembling: [`App`] (connect, register, migrate, serve) and [`StartupError`]; serving
//!   with [`Server`] or [`serve()`] (timeouts of slow clients, graceful shutdown), [`ServeError`];
//!   [`Config`] and the rest of [`config`]; the mail settings in [`mail`].
//! - Describing: [`Resource`], [`ResourceDesc`], [`Field`] (with its [`Lookups`], a set of
//!   [`Lookup`]s), [`Permissions`], [`Reference`] and [`ResourceSql`] (what the macro generates,
//!   in [`resource`]); [`FieldType`], [`Value`] and
//!   [`FieldValue`] (the field types, in [`value`]); [`derive@TenantEnum`] for enum fields.
//! - Handlers of your own, next to the generated ones: the [`Tenant`] extractor is the only
//!   way to a [`Scoped`] transaction, which the typed operations ([`Scoped::get`], [`Scoped::list`], …)
//!   (with a [`ListQuery`]) take; [`CurrentUser`] for routes tied to no company; [`Role`];
//!   [`ApiError`] (with [`FieldErrors`]) for every error answer; [`AppState`], the routers'
//!   state.
//!
//! # Isolation
//!
//! Every generated statement binds the active company's id as `$1`, and only [`Tenant`] makes
//! the [`Scoped`] transaction those statements run in, so an unscoped query of a tenant
//! resource does not compile. On PostgreSQL, row-level security checks it a second time, and
//! [`App::into_router`] refuses to serve as a role that would escape it. README.md ("How
//! isolation is enforced") has the whole list, and what SQLite lacks.
//!
//! # Where the rest lives
//!
//! `docs/ARCHITECTURE.md` maps the crate's layers, the path of a request through them, and the
//! file that holds each rule of API.md. The modules not shown here (the database seam, the
//! schema, row-level security, authentication, the account routes…) are internals: some stay
//! reachable, hidden, for the workspace's tests and benchmark, and none is an API. Generated
//! code reaches the runtime only through the hidden `__private` module.

#![warn(missing_docs)]

// What an app author uses: documented, and each module's items are what its page shows.
pub mod actions;
pub mod app;
pub mod citus;
pub mod cli;
pub mod config;
pub mod crud;
pub mod logging;
pub mod mail;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod migrations;
pub mod openapi;
pub mod progress;
pub mod query;
pub mod request_throttle;
pub mod request_trace;
pub mod resource;
pub mod value;

// The runtime's internals. The hidden ones stay reachable because the workspace's own tests,
// the benchmark or the demo app reach into them; they are not an API and change without notice.
pub(crate) mod accounts;
#[doc(hidden)]
pub mod auth;
pub(crate) mod authorization;
#[doc(hidden)]
pub mod body;
pub(crate) mod body_first;
pub(crate) mod body_timeout;
#[doc(hidden)]
pub mod client_address;
#[doc(hidden)]
pub mod db;
pub(crate) mod default_value;
pub(crate) mod error;
pub(crate) mod fair_share;
#[doc(hidden)]
pub mod field_serde;
pub(crate) mod hooks;
pub mod hosts;
pub(crate) mod identity;
pub mod jobs;
pub(crate) mod keep_alive;
pub mod manage;
pub(crate) mod messages;
pub(crate) mod nested;
pub(crate) mod operations;
pub mod production;
pub(crate) mod rate;
#[doc(hidden)]
pub mod rls;
pub(crate) mod role;
#[doc(hidden)]
pub mod row;
#[doc(hidden)]
pub mod schema;
pub(crate) mod serve;
pub(crate) mod setting;
pub(crate) mod slash_routes;
pub(crate) mod state;
pub(crate) mod tenant;
pub(crate) mod tenant_read;
#[cfg(feature = "testing")]
pub mod testing;
pub(crate) mod throttle;
pub(crate) mod validate;

pub use app::{App, StartupError};
pub use authorization::{RepeatedHeader, single_header};
pub use config::Config;
pub use db::DbError;
#[doc(hidden)]
pub use db::{Db, Dialect};
pub use error::{ApiError, FieldErrors};
pub use hooks::Hooks;
pub use identity::CurrentUser;
pub use query::ListQuery;
pub use rate::Rate;
pub use request_throttle::{ThrottleScope, ThrottleStore};
pub use resource::{
    Actions, Computed, Field, Lookup, Lookups, Permissions, Reference, Resource, ResourceDesc, ResourceSql,
};
pub use role::Role;
pub use serve::{ServeError, Server, serve, shutdown_signal};
pub use state::{AppState, RowLevelSecurity, StartupReport};
pub use tenant::{Scoped, Tenant};
pub use tenant_macros::{TenantEnum, embed_migrations, tenant_resource};
pub use value::{FieldType, FieldValue, Value};

/// What generated code reaches at run time. Not a public API: the macro and this module change
/// together, so a user's crate only ever depends on `tenant-core`.
#[doc(hidden)]
pub mod __private {
    pub use crate::default_value::default_value;
    pub use crate::field_serde;
    pub use crate::hooks::Hooks;
    pub use crate::nested::routes;
    pub use crate::query::Column;
    pub use crate::resource::{
        Actions, Computed, Field, Lookup, Lookups, Permissions, Reference, Resource, ResourceDesc, ResourceSql,
        TypeProbe, ViaAnyType, ViaFieldValue,
    };
    pub use crate::role::Role;
    pub use crate::state::AppState;
    pub use crate::value::{
        Comparable, DecodeError, FieldType, FieldValue, Lengthable, Nullable, Numeric, Orderable, RowReader,
        Searchable, Uniqueable, UuidField, Value,
    };
    pub use axum;
    pub use chrono;
    pub use serde;
    pub use uuid;
}
