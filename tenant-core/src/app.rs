//! Assembling an application: state, routes, and the cross-cutting layers every app gets.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::auth::jwt::Keys;
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::error::ApiError;
use crate::resource::{Resource, ResourceDesc};
use crate::schema;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of every handler: the pool, the signing keys, the configuration.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    db: Db,
    keys: Keys,
    config: Config,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        let keys = Keys::new(config.jwt_secret.as_bytes(), config.access_ttl, config.refresh_ttl);
        AppState(Arc::new(Inner { db, keys, config }))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn keys(&self) -> &Keys {
        &self.0.keys
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }
}

/// Builder of an application: `App::connect(config).await?.resource::<Customer>()…`.
pub struct App {
    state: AppState,
    resources: Vec<ResourceDesc>,
    routes: Router<AppState>,
}

impl App {
    /// Connects to `config.database_url` and applies the core migrations.
    pub async fn connect(config: Config) -> Result<App, DbError> {
        if config.uses_dev_secret() {
            tracing::warn!(
                "JWT_SECRET is not set: using the built-in development secret. Anyone can forge tokens; \
                 set JWT_SECRET (32+ random bytes) before exposing this server."
            );
        }
        let db = Db::connect(&config.database_url, config.max_connections).await?;
        Ok(App::with_db(db, config))
    }

    /// An app over an existing pool (tests share one this way).
    pub fn with_db(db: Db, config: Config) -> App {
        App { state: AppState::new(db, config), resources: Vec::new(), routes: Router::new() }
    }

    /// Serves `R` at `R::DESC.path` with the six tenant-scoped endpoints.
    pub fn resource<R: Resource>(mut self) -> App {
        self.resources.push(R::DESC);
        self.routes = self.routes.merge(crate::crud::routes::<R>());
        self
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn resources(&self) -> &[ResourceDesc] {
        &self.resources
    }

    /// Applies the core migrations and creates each resource's table and indexes if missing.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let db = self.state.db();
        db.migrate_core().await?;
        for statement in schema::create_statements(db.dialect(), &self.resources)? {
            db.execute(crate::db::Sql::assembled(statement), &[]).await?;
        }
        Ok(())
    }

    /// The complete router: framework endpoints, resources, JSON errors for unknown paths and
    /// methods, the body limit, and trailing-slash tolerance.
    pub fn into_router(self) -> Router {
        let api = crate::auth::handlers::routes()
            .merge(crate::accounts::routes())
            .route("/healthz", get(healthz))
            .merge(self.routes)
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.state);
        // Routing happens inside `api`, so the path must be normalised before it sees the request.
        let normalized = NormalizePathLayer::trim_trailing_slash().layer(api);
        Router::new().fallback_service(normalized)
    }
}

async fn healthz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.db().ping().await?;
    Ok(axum::Json(json!({ "status": "ok" })))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
