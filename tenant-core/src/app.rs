//! Assembling an application: [`App`] connects, registers resources, migrates, checks tenant
//! isolation and builds the router; [`StartupError`] is why it refuses to.
//!
//! The order is fixed by what each step needs: [`App::connect`], then [`App::resource`] once
//! per model, [`App::migrate`] (which may create the serving role), then [`App::into_router`]
//! (which checks that role). README.md's "Declaring a resource" has the whole `main`.

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use tower_http::trace::TraceLayer;

use crate::actions::ActionDesc;
use crate::body::MAX_BODY_BYTES;
use crate::body_first::RequestTimeout;
use crate::body_timeout::BodyTimeoutLayer;
use crate::config::Config;
use crate::db::{Db, DbError, Dialect, Sql};
use crate::error::ApiError;
use crate::hosts::{AllowedHosts, HostAndHeadersLayer};
use crate::keep_alive::KeepAliveLayer;
use crate::migrations::{EmbeddedMigrations, MigrationProgress, MigrationStatus};
use crate::openapi::ApiInfo;
use crate::resource::{Resource, ResourceDesc};
use crate::schema::{self, ServingRole};
use crate::setting::{ConfigError, warn_loudly};
use crate::slash_routes::SlashRoutes;
use crate::state::{AppState, RowLevelSecurity, StartupReport};

/// Builder of an application: `App::connect(config).await?.resource::<Customer>()…`.
///
/// Every app gets, besides its resources, the account routes of API.md (`/api/auth/*`,
/// `/api/me`, `/api/companies`, `/api/members`, `/api/invitations`) and `/healthz`.
pub struct App {
    state: AppState,
    resources: Vec<ResourceDesc>,
    actions: Vec<ActionDesc>,
    migrations: Option<EmbeddedMigrations>,
    api_info: ApiInfo,
    docs_page_by_default: bool,
    routes: Router<AppState>,
}

impl App {
    /// Opens the serving pool and builds the shared state; nothing is migrated yet.
    ///
    /// On SQLite the pool is `DATABASE_URL`'s (the file is created if missing). On PostgreSQL
    /// it serves as a role subject to row-level security: `DATABASE_APP_URL`, or `DATABASE_URL`
    /// as [`Config::app_role`]. That pool connects lazily, because [`App::migrate`] may have to
    /// create the role first, so a PostgreSQL server that cannot be reached shows up at
    /// `migrate` or the first request, not here.
    ///
    /// Logs a warning for each development default still in use (`JWT_SECRET`,
    /// `EMAIL_BACKEND=console`, `DATABASE_APP_PASSWORD`), to stderr when no `tracing` subscriber
    /// is installed.
    ///
    /// # Errors
    ///
    /// [`StartupError::Db`] for a URL that is neither `postgres://`, `postgresql://` nor
    /// `sqlite:`, or a SQLite file that cannot be opened; [`StartupError::Config`] for a mail
    /// setting the transport refuses (see [`Mailer::new`](crate::mail::Mailer::new)).
    pub async fn connect(config: Config) -> Result<App, StartupError> {
        // The app's own default of the docs page is not known yet: `into_router` checks it.
        let refusals = crate::production::refusals(&config, config.docs_page == Some(true));
        if !refusals.is_empty() {
            return Err(StartupError::Production(refusals));
        }
        if config.uses_dev_secret() {
            warn_loudly(
                false,
                "JWT_SECRET is not set: using the built-in development secret. Anyone can forge tokens; \
                 set JWT_SECRET (32+ random bytes) before exposing this server.",
            );
        }
        if config.email.backend == crate::mail::EmailBackend::Console {
            warn_loudly(
                false,
                "EMAIL_BACKEND is not set: e-mail is printed to standard output, verification tokens \
                 included, so whoever reads this output can verify any address. Set EMAIL_BACKEND=smtp \
                 (or file) outside development.",
            );
        }
        let db = Db::connect_serving(&config).await?;
        if db.dialect() == Dialect::Postgres
            && config.app_database_url.is_none()
            && config.app_password == crate::config::DEV_APP_PASSWORD
        {
            warn_loudly(
                false,
                &format!(
                    "DATABASE_APP_PASSWORD is not set: the serving role {:?} is created with the built-in \
                 development password. Set DATABASE_APP_URL (or DATABASE_APP_PASSWORD) in production.",
                    config.app_role
                ),
            );
        }
        App::with_db(db, config)
    }

    /// An app over an existing pool (tests share one this way). Fails on a mail setting the
    /// transport refuses.
    #[doc(hidden)]
    pub fn with_db(db: Db, config: Config) -> Result<App, StartupError> {
        crate::tenant::prepare_on_connect(&db);
        Ok(App {
            state: AppState::new(db, config)?,
            resources: Vec::new(),
            actions: Vec::new(),
            migrations: None,
            api_info: ApiInfo::default(),
            docs_page_by_default: false,
            routes: Router::new(),
        })
    }

    /// Serves `R` at `R::DESC.path` with its tenant-scoped endpoints: the six (`GET`/`POST` on
    /// the collection, `GET`/`PUT`/`PATCH`/`DELETE` on `{path}/{id}`) or those its
    /// [`Actions`](crate::Actions) select, each also with a trailing slash; and adds its table
    /// to what [`App::migrate`] creates, whichever routes it serves.
    pub fn resource<R: Resource + crate::hooks::Hooks>(mut self) -> App {
        self.resources.push(R::DESC);
        self.routes = self.routes.merge(crate::nested::routes::<R>());
        self
    }

    /// As [`App::resource`], with custom actions added to its routes by `actions`
    /// (`routes.detail_action(…)`, `routes.collection_action(…)`: see [`crate::actions`]).
    pub fn resource_with<R: Resource + crate::hooks::Hooks>(
        mut self,
        actions: impl FnOnce(crate::actions::ResourceRoutes<R>) -> crate::actions::ResourceRoutes<R>,
    ) -> App {
        self.resources.push(R::DESC);
        let (routes, registered) = actions(crate::actions::ResourceRoutes::new()).into_parts();
        self.routes = self.routes.merge(routes);
        self.actions.extend(registered);
        self
    }

    /// Counts the per-user and per-company request throttles (`THROTTLE_USER`,
    /// `THROTTLE_COMPANY`) in `store` rather than in this process: for several instances
    /// serving one database, so that they refuse at the same total rate (see
    /// [`ThrottleStore`](crate::ThrottleStore)). Once per app; a second store is ignored with a
    /// warning.
    pub fn throttle_store(self, store: impl crate::ThrottleStore) -> App {
        if self.state.request_throttle().use_store(std::sync::Arc::new(store)).is_err() {
            tracing::warn!("App::throttle_store called twice: the first store is kept");
        }
        self
    }

    /// The state the router will serve with: for an app that merges routes of its own
    /// (`Router<AppState>`) or builds an extractor's state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The descriptions of the resources registered so far, in registration order.
    pub fn resources(&self) -> &[ResourceDesc] {
        &self.resources
    }

    /// The custom actions registered with [`App::resource_with`], in registration order.
    pub fn actions(&self) -> &[ActionDesc] {
        &self.actions
    }

    /// The title and version of the OpenAPI document (`info`); default `API`, `0.1.0`.
    pub fn api_info(mut self, title: impl Into<String>, version: impl Into<String>) -> App {
        self.api_info = ApiInfo { title: title.into(), version: version.into() };
        self
    }

    /// Serves `GET /docs` unless `DOCS_PAGE=off` (without this, only with `DOCS_PAGE=on`): for a
    /// demo or an internal app whose API may be browsed by whoever reaches it.
    pub fn docs_page_by_default(mut self) -> App {
        self.docs_page_by_default = true;
        self
    }

    /// Whether `GET /docs` is served ([`Config::docs_page`]).
    pub fn serves_docs_page(&self) -> bool {
        self.state.config().docs_page.unwrap_or(self.docs_page_by_default)
    }

    /// The OpenAPI 3.1 document of everything [`App::into_router`] serves (API.md,
    /// "Operations"), as `GET /api/openapi.json` answers it.
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        crate::openapi::document(&self.api_info, &self.resources, &self.actions, self.serves_docs_page())
    }

    /// The app's migrations folder, compiled in with
    /// [`embed_migrations!`](crate::embed_migrations): [`App::migrate`] then applies its files
    /// instead of creating tables from the models (see [`crate::migrations`]).
    pub fn migrations(mut self, migrations: EmbeddedMigrations) -> App {
        self.migrations = Some(migrations);
        self
    }

    /// Django's `migrate`: applies the core migrations, then the app's pending migrations in
    /// order ([`App::migrations`]), and returns those it applied. On PostgreSQL it runs as the
    /// owner (`DATABASE_URL`), on a connection of its own, and also grants the serving role its
    /// data access, creating that role first when `DATABASE_APP_URL` is unset.
    ///
    /// An app that registered no migrations (a test's throwaway resources) gets what is
    /// missing of each table created from the models, with its indexes, foreign keys (cycles
    /// allowed) and row-level security, as Django creates the tables of an app without
    /// migrations; such a table is never altered. It also rewrites e-mail addresses stored by
    /// earlier versions into their canonical form (README.md, "Members, invitations and e-mail
    /// verification").
    ///
    /// # Errors
    ///
    /// A [`DbError`] when the database cannot be reached, a statement or a migration fails (a
    /// failed migration leaves nothing behind), an applied migration file was edited, or a
    /// resource references a table that is not registered.
    pub async fn migrate(&self) -> Result<Vec<MigrationStatus>, DbError> {
        self.migrate_with_progress(|_| {}).await
    }

    /// [`App::migrate`], telling `progress` about the app's migrations as they run (what
    /// `migrate` prints): the plan, then each migration as it starts and once it is committed
    /// ([`MigrationProgress`]), applied one at a time. The core migrations and the serving
    /// role's grants are not reported; nor is anything for an app without
    /// [`App::migrations`] (its tables are created from the models, and `progress` is not
    /// called).
    ///
    /// # Errors
    ///
    /// As [`App::migrate`]; the app's migrations before a failing one stay applied.
    pub async fn migrate_with_progress(
        &self,
        mut progress: impl FnMut(MigrationProgress) + Send,
    ) -> Result<Vec<MigrationStatus>, DbError> {
        let config = self.state.config();
        match self.state.db().dialect() {
            Dialect::Sqlite => self.migrate_with(self.state.db(), None, &mut progress).await,
            Dialect::Postgres => {
                let role = Db::serving_role(config)?;
                let serving = ServingRole {
                    name: &role,
                    create_with_password: config.app_database_url.is_none().then_some(config.app_password.as_str()),
                };
                let owner = Db::connect(&config.database_url, 1).await?;
                let result = self.migrate_with(&owner, Some(serving), &mut progress).await;
                owner.close().await;
                result
            }
        }
    }

    async fn migrate_with(
        &self,
        db: &Db,
        serving: Option<ServingRole<'_>>,
        progress: &mut (dyn FnMut(MigrationProgress) + Send),
    ) -> Result<Vec<MigrationStatus>, DbError> {
        db.migrate_core().await?;
        crate::accounts::canonicalize_stored_emails(db).await?;
        let (statements, applied) = match &self.migrations {
            None => (schema::migration_statements(db.dialect(), &self.resources, serving)?, Vec::new()),
            Some(migrations) => {
                let applied = crate::migrations::apply::apply_with_progress(db, migrations, progress).await?;
                (schema::serving_role_statements(db.dialect(), serving, true), applied)
            }
        };
        for statement in statements {
            db.execute(Sql::assembled(statement), &[]).await?;
        }
        // On a Citus coordinator: every table not placed yet is placed now (`citus.rs`), once the
        // migrations ran on ordinary tables: the first migrate of a database, and files written
        // before the framework knew Citus (their policies' sub-queries are refused on Citus
        // tables; the placement replaces those policies first). A migration written since
        // distributes its new tables itself once the core tables are placed
        // (`migrations/render.rs`). The grants again after, so that the shards made now carry them
        // too (idempotent).
        if !crate::citus::distribute(db, &self.resources).await?.is_empty() {
            for statement in schema::serving_role_statements(db.dialect(), serving, self.migrations.is_some()) {
                db.execute(Sql::assembled(statement), &[]).await?;
            }
        }
        Ok(applied)
    }

    /// Django's `showmigrations`: each migration of [`App::migrations`], applied or not. On
    /// PostgreSQL it reads as the owner (`DATABASE_URL`), on a connection of its own: the
    /// serving role may not read the migrations' records.
    ///
    /// # Errors
    ///
    /// The database cannot be read.
    pub async fn show_migrations(&self) -> Result<Vec<MigrationStatus>, DbError> {
        let Some(migrations) = &self.migrations else {
            return Ok(Vec::new());
        };
        match self.state.db().dialect() {
            Dialect::Sqlite => crate::migrations::apply::status(self.state.db(), migrations).await,
            Dialect::Postgres => {
                let owner = Db::connect(&self.state.config().database_url, 1).await?;
                let result = crate::migrations::apply::status(&owner, migrations).await;
                owner.close().await;
                result
            }
        }
    }

    /// The start-up drift check: each difference between the live tables and the registered
    /// models (a missing table or column, another type or nullability, a missing unique
    /// constraint or foreign key, row-level security not forced), one sentence each.
    ///
    /// # Errors
    ///
    /// The catalog cannot be read.
    pub async fn check_schema(&self) -> Result<Vec<String>, DbError> {
        let expected = crate::migrations::SchemaState::of(&self.resources);
        crate::migrations::drift::check_drift(self.state.db(), &expected).await
    }

    /// Refuses to serve when the serving role escapes row-level security (a superuser, a
    /// `BYPASSRLS` role, or the owner of a tenant table), unless `ALLOW_RLS_BYPASS` is set, in
    /// which case every problem is logged as an error. Nothing to check on SQLite.
    pub async fn check_isolation(&self) -> Result<(), StartupError> {
        self.isolation().await.map(|_| ())
    }

    /// [`App::check_isolation`], and what it found: row-level security forced on how many
    /// tables, or off and why.
    async fn isolation(&self) -> Result<RowLevelSecurity, StartupError> {
        let db = self.state.db();
        let problems = crate::rls::check_serving_role(db, &self.resources).await?;
        let postgres = db.dialect() == Dialect::Postgres;
        if !postgres {
            return Ok(RowLevelSecurity::Off {
                why: "SQLite has none: every query is scoped to its company by the framework".to_string(),
            });
        }
        if !self.state.config().row_level_security {
            if problems.0.is_empty() || !self.state.config().allow_rls_bypass {
                return Err(StartupError::RlsOff);
            }
            warn_loudly(
                true,
                "ROW_LEVEL_SECURITY is off: tenant isolation rests on query scoping alone. \
                 Never run like this in production.",
            );
            return Ok(RowLevelSecurity::Off {
                why: "ROW_LEVEL_SECURITY=off with ALLOW_RLS_BYPASS: isolation rests on query scoping alone".to_string(),
            });
        }
        if problems.0.is_empty() {
            if let Some(problem) = crate::citus::check_serving(db).await? {
                return Err(StartupError::CitusSetting(problem));
            }
            return Ok(RowLevelSecurity::Forced { tables: crate::rls::forced_tables(db).await? });
        }
        if self.state.config().allow_rls_bypass {
            for problem in &problems.0 {
                warn_loudly(
                    true,
                    &format!(
                        "ALLOW_RLS_BYPASS is set: serving although {problem}. Row-level security does NOT \
                     protect this server's data; never run like this in production."
                    ),
                );
            }
            return Ok(RowLevelSecurity::Off {
                why: format!("bypassed, ALLOW_RLS_BYPASS is set: {}", problems.0.join("; ")),
            });
        }
        Err(StartupError::RlsBypass(problems.0))
    }

    /// The complete router: the account routes, `/healthz`, the resources, JSON errors for
    /// unknown paths (404 `{"detail": "Not found."}`) and methods (405), the 1 MiB body
    /// limit (413) and the body read timeout (408). Every route also answers with a trailing
    /// slash (API.md accepts both forms).
    ///
    /// Serve it with [`Server`](crate::Server) (or [`serve`](crate::serve()) the app directly),
    /// which gives each request the client's address (`ConnectInfo<SocketAddr>`): the sign-in
    /// throttles count per client address, and without the peer's address only the
    /// per-account limits apply (a warning says so).
    ///
    /// Runs [`App::check_isolation`] first, so there is no way to a serving router that skips it:
    /// on PostgreSQL a serving role that escapes row-level security is an `Err` (unless
    /// `ALLOW_RLS_BYPASS` is set), whose `Debug` form, what `main` prints when it returns the
    /// error, is the sentence saying what to change. Call it after [`App::migrate`] (which may
    /// create the serving role).
    pub async fn into_router(self) -> Result<Router, StartupError> {
        let refusals = crate::production::refusals(self.state.config(), self.serves_docs_page());
        if !refusals.is_empty() {
            return Err(StartupError::Production(refusals));
        }
        let row_level_security = self.isolation().await?;
        let drift = self.check_schema().await?;
        if !drift.is_empty() {
            return Err(StartupError::SchemaDrift(drift));
        }
        self.state.record_startup(StartupReport {
            backend: self.state.db().location(),
            serving_role: crate::rls::current_role(self.state.db()).await?,
            row_level_security,
            docs_page: self.serves_docs_page(),
        });
        // Built once: a request copies the bytes.
        let document = axum::body::Bytes::from(self.openapi().to_json().expect("utoipa's model serializes"));
        let openapi = get(move || {
            let document = document.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], document) }
        });
        let docs = if self.serves_docs_page() {
            // Swagger UI's files are compiled in (utoipa-swagger-ui's `vendored` feature): the
            // page works with no network at build or run time.
            let config = utoipa_swagger_ui::Config::new(["/api/openapi.json"]);
            Router::from(utoipa_swagger_ui::SwaggerUi::new("/docs").config(config))
        } else {
            Router::new()
        };
        // Metrics (`metrics.rs`): counted by a layer when configured; `/metrics` on this
        // router only when it has no address of its own (`Server::run` serves that one).
        #[cfg(feature = "metrics")]
        let (metrics_layer, metrics_route) = match self.state.metrics() {
            Some(metrics) => {
                let route = match self.state.config().metrics_addr {
                    None => crate::metrics::router(metrics.clone()),
                    Some(_) => Router::new(),
                };
                (Some(crate::metrics::MetricsLayer(metrics.clone())), route)
            }
            None => (None, Router::new()),
        };
        #[cfg(not(feature = "metrics"))]
        let (metrics_layer, metrics_route) = {
            if self.state.config().serves_metrics() {
                warn_loudly(
                    false,
                    "METRICS_TOKEN or METRICS_ADDR is set, but this build has no `metrics` feature: no metrics \
                     are served (enable tenant-core's `metrics` feature)",
                );
            }
            (None::<tower::layer::util::Identity>, Router::new())
        };
        let allowed_hosts = match &self.state.config().allowed_hosts {
            Some(hosts) => AllowedHosts::new(hosts),
            None => AllowedHosts::new(crate::hosts::DEVELOPMENT_HOSTS),
        };
        Ok(crate::auth::handlers::routes()
            .merge(crate::accounts::routes())
            .merge(self.routes)
            .route_with_slash("/healthz", get(healthz))
            .route_with_slash("/api/openapi.json", openapi)
            .merge(docs)
            .merge(metrics_route)
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            // One `Router::layer` for the whole stack: axum wraps every route in a boxed service
            // per call, cloned for each request, so five calls cost five boxes and clones per
            // request where one stack costs one (bench/RESULTS.md). Outermost first:
            .layer(
                tower::ServiceBuilder::new()
                    // The request id first, so that the span, every log line and the answer
                    // carry it (`request_trace.rs`).
                    .layer(crate::request_trace::RequestIdLayer)
                    .layer(
                        TraceLayer::new_for_http()
                            .make_span_with(crate::request_trace::make_span)
                            .on_request(())
                            .on_response(crate::request_trace::on_response)
                            .on_failure(()),
                    )
                    .layer(crate::request_trace::RequestContextLayer)
                    .option_layer(metrics_layer)
                    // Outside the keep-alive layer: a body past its deadline is a failed body
                    // there, whose rest is not waited for (the answer says `Connection: close`).
                    .layer(BodyTimeoutLayer::new(self.state.config().body_read_timeout))
                    .layer(KeepAliveLayer)
                    // Inside the keep-alive layer: a refused host's unread body is drained like
                    // any early answer's, so the connection stays usable.
                    .layer(HostAndHeadersLayer::new(allowed_hosts, self.state.config().public_base_url.as_deref()))
                    .layer(axum::Extension(RequestTimeout(self.state.config().request_timeout)))
                    .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
            )
            .with_state(self.state))
    }
}

/// Why the server refuses to start. `Debug` is the message itself: `fn main() -> Result<…>`
/// prints the `Debug` form of the error it returns, and that must read as a sentence.
#[derive(thiserror::Error)]
pub enum StartupError {
    /// The database: a bad URL, an unreachable server, a failed check.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A setting that parsed but cannot be used (a mail setting the transport refuses).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// PostgreSQL: the serving role escapes row-level security, one sentence per reason (a
    /// superuser, `BYPASSRLS`, or the owner of a tenant table), and `ALLOW_RLS_BYPASS` is not
    /// set. Superusers and `BYPASSRLS` roles skip every policy, and an owner may switch its
    /// table's policies off (PostgreSQL's documentation, "Row Security Policies"), so the
    /// database's own guard would not hold.
    #[error(
        "refusing to serve: {}. Serve with a role that owns nothing and has neither SUPERUSER nor \
         BYPASSRLS (DATABASE_APP_URL; by default the migration creates one), or set ALLOW_RLS_BYPASS=1 \
         to override (never in production)",
        .0.join("; ")
    )]
    RlsBypass(Vec<String>),
    /// `ROW_LEVEL_SECURITY=off` without `ALLOW_RLS_BYPASS=1`, or with a serving role that is
    /// subject to row-level security (and would see no row at all without the tenant setting).
    #[error(
        "ROW_LEVEL_SECURITY=off needs ALLOW_RLS_BYPASS=1 and a serving role that bypasses row-level \
         security (DATABASE_APP_URL): a role subject to it would see no rows"
    )]
    RlsOff,
    /// A Citus coordinator whose serving connections would keep each request's tenant setting
    /// to themselves (`citus::serving_problem`): the workers' row-level security would see no
    /// tenant, so lists would be silently empty.
    #[error("refusing to serve: {0}")]
    CitusSetting(String),
    /// The live tables differ from the registered models (`App::check_schema`), one sentence
    /// per difference: serving would answer 500 wherever they differ.
    #[error(
        "refusing to serve: the database schema does not match the models: {}. Run `migrate` to apply \
         pending migrations (after `makemigrations` if a model changed)",
        .0.join("; ")
    )]
    SchemaDrift(Vec<String>),
    /// `APP_ENV=production` with a development default still in use (`production.rs`), one line
    /// per setting.
    #[error("refusing to start with APP_ENV=production:\n  - {}", .0.join("\n  - "))]
    Production(Vec<String>),
}

impl std::fmt::Debug for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
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
