//! Runtime of the multi-tenant framework.
//!
//! `#[tenant_resource]` (from `tenant-macros`, re-exported here) turns a model struct into a
//! [`Resource`]: plain data describing the table, its fields and its SQL. Everything that acts on
//! that data (validation, tenant scoping, the six CRUD endpoints, list queries, the schema) lives
//! in this crate and is written once for every resource.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod body;
pub mod body_first;
pub mod client_address;
pub mod config;
pub mod crud;
pub mod db;
pub mod error;
pub mod fair_share;
pub mod identity;
pub mod keep_alive;
pub mod mail;
pub mod query;
pub mod rate;
pub mod resource;
pub mod rls;
pub mod role;
pub mod row;
pub mod schema;
pub mod setting;
pub mod slash_routes;
pub mod state;
pub mod tenant;
pub mod throttle;
pub mod validate;
pub mod value;

pub use app::App;
pub use config::Config;
pub use db::{Db, Dialect};
pub use error::ApiError;
pub use identity::CurrentUser;
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
