//! Runtime of the multi-tenant framework.
//!
//! `#[tenant_resource]` (from `tenant-macros`, re-exported here) turns a model struct into a
//! [`Resource`]: plain data describing the table, its fields and its SQL. Everything that acts on
//! that data (validation, tenant scoping, the six CRUD endpoints, list queries, the schema) lives
//! in this crate and is written once for every resource.

#![warn(missing_docs)]

// What an app author uses: documented, and each module's items are what its page shows.
pub mod app;
pub mod config;
pub mod crud;
pub mod mail;
pub mod query;
pub mod resource;
pub mod value;

// The runtime's internals. The hidden ones stay reachable because the workspace's own tests,
// the benchmark or the demo app reach into them; they are not an API and change without notice.
pub(crate) mod accounts;
#[doc(hidden)]
pub mod auth;
#[doc(hidden)]
pub mod body;
pub(crate) mod body_first;
#[doc(hidden)]
pub mod client_address;
#[doc(hidden)]
pub mod db;
pub(crate) mod error;
pub(crate) mod fair_share;
pub(crate) mod identity;
pub(crate) mod keep_alive;
pub(crate) mod rate;
#[doc(hidden)]
pub mod rls;
pub(crate) mod role;
#[doc(hidden)]
pub mod row;
#[doc(hidden)]
pub mod schema;
pub(crate) mod setting;
pub(crate) mod slash_routes;
pub(crate) mod state;
pub(crate) mod tenant;
pub(crate) mod throttle;
pub(crate) mod validate;

pub use app::{App, StartupError};
pub use config::Config;
pub use db::DbError;
#[doc(hidden)]
pub use db::{Db, Dialect};
pub use error::{ApiError, FieldErrors};
pub use identity::CurrentUser;
pub use query::ListQuery;
pub use resource::{Field, Permissions, Reference, Resource, ResourceDesc, ResourceSql};
pub use role::Role;
pub use state::AppState;
pub use tenant::{Scoped, Tenant};
pub use tenant_macros::{TenantEnum, tenant_resource};
pub use value::{FieldType, FieldValue, Value};

/// What generated code reaches at run time. Not a public API: the macro and this module change
/// together, so a user's crate only ever depends on `tenant-core`.
#[doc(hidden)]
pub mod __private {
    pub use crate::crud::routes;
    pub use crate::resource::{Field, Permissions, Reference, Resource, ResourceDesc, ResourceSql};
    pub use crate::role::Role;
    pub use crate::state::AppState;
    pub use crate::value::{
        DecodeError, FieldType, FieldValue, Lengthable, Numeric, Orderable, RowReader, Searchable, Uniqueable,
        UuidField, Value,
    };
    pub use axum;
    pub use chrono;
    pub use serde;
    pub use uuid;
}
