//! The state every handler shares: the pool, the signing keys, the password hashers, the
//! throttles, the mailer, the companies' connection shares and the configuration.

use std::sync::{Arc, OnceLock};

use crate::auth::jwt::Keys;
use crate::auth::password::Hashers;
use crate::config::Config;
use crate::db::Db;
use crate::fair_share::CompanyConnections;
use crate::mail::{Email, Mailer};
use crate::request_throttle::RequestThrottle;
use crate::setting::ConfigError;
use crate::throttle::AuthThrottle;

/// Shared state of every handler: the pool, the signing keys, the password hashers, the
/// throttles, the mailer and the configuration, built once by [`App`](crate::App).
///
/// It is the state of every framework route (`Router<AppState>`: a resource's generated
/// `router()`, say) and what the [`Tenant`](crate::Tenant) and
/// [`CurrentUser`](crate::CurrentUser) extractors read. An app with state of its own keeps it
/// beside this one and implements axum's `FromRef<TheirState> for AppState` (or derives
/// `FromRef` on its state struct). Cloning is cheap (one `Arc`).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    db: Db,
    keys: Keys,
    hashers: Hashers,
    throttle: AuthThrottle,
    request_throttle: RequestThrottle,
    mailer: Mailer,
    company_connections: Option<CompanyConnections>,
    /// `None` unless `METRICS_TOKEN` or `METRICS_ADDR` is set (`metrics.rs`).
    #[cfg(feature = "metrics")]
    metrics: Option<Arc<crate::metrics::Metrics>>,
    config: Config,
    /// Set once by [`App::into_router`](crate::App::into_router), after its checks passed.
    startup: OnceLock<StartupReport>,
}

/// What a server runs on, as its start-up checks found it ([`App::into_router`](crate::App::into_router)
/// records it; [`AppState::startup_report`] reads it): what `serve` prints when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupReport {
    /// The serving pool's database, never with a password: `SQLite <file>` or
    /// `PostgreSQL <host>:<port>/<database>` ([`Db::location`]).
    pub backend: String,
    /// PostgreSQL: the role requests run as (the serving pool's `current_user`); `None` on
    /// SQLite.
    pub serving_role: Option<String>,
    /// Whether the database itself keeps the companies apart.
    pub row_level_security: RowLevelSecurity,
    /// Whether `GET /docs` is served.
    pub docs_page: bool,
}

/// Row-level security as the start-up check found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowLevelSecurity {
    /// PostgreSQL, served by a role subject to it: forced on `tables` tables of the schema.
    Forced {
        /// How many tables have it enabled and forced (the tenant tables).
        tables: u64,
    },
    /// Not in force, and why, as a sentence: SQLite has none, `ROW_LEVEL_SECURITY=off`, or a
    /// serving role that bypasses it let through by `ALLOW_RLS_BYPASS`. Isolation then rests
    /// on the framework's query scoping alone.
    Off {
        /// Why.
        why: String,
    },
}

impl std::fmt::Display for RowLevelSecurity {
    /// `on (forced on 3 tenant tables)` or `off (why)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowLevelSecurity::Forced { tables } => write!(f, "on (forced on {tables} tenant tables)"),
            RowLevelSecurity::Off { why } => write!(f, "off ({why})"),
        }
    }
}

impl StartupReport {
    /// The lines `serve` prints once listening on `addr`, the first `{name} listening on
    /// http://{addr}`, then `  backend: …`, `  serving role: …` (PostgreSQL),
    /// `  row-level security: …` and, when the docs page is on, `  docs: http://{addr}/docs`.
    pub fn lines(&self, name: &str, addr: std::net::SocketAddr) -> Vec<String> {
        let mut lines = vec![format!("{name} listening on http://{addr}"), format!("  backend: {}", self.backend)];
        if let Some(role) = &self.serving_role {
            lines.push(format!("  serving role: {role}"));
        }
        lines.push(format!("  row-level security: {}", self.row_level_security));
        if self.docs_page {
            lines.push(format!("  docs: http://{addr}/docs"));
        }
        lines
    }
}

impl AppState {
    /// Fails only on a mail setting the transport refuses (see [`Mailer::new`]).
    pub(crate) fn new(db: Db, config: Config) -> Result<AppState, ConfigError> {
        let mailer = Mailer::new(&config.email)?;
        let keys = Keys::new(config.jwt_secret.as_bytes(), config.access_ttl, config.refresh_ttl)
            .with_leeway(config.jwt_leeway);
        let hashers = Hashers::new(config.password_hash_workers, config.password_hash_queue);
        let throttle = AuthThrottle::new(&config);
        let request_throttle = RequestThrottle::new(&config);
        let company_connections = CompanyConnections::new(config.company_connection_share());
        #[cfg(feature = "metrics")]
        let metrics = config.serves_metrics().then(|| {
            Arc::new(crate::metrics::Metrics::new(
                db.clone(),
                config.metrics_per_company,
                config.metrics_token.as_deref(),
            ))
        });
        Ok(AppState(Arc::new(Inner {
            db,
            keys,
            hashers,
            throttle,
            request_throttle,
            mailer,
            company_connections,
            #[cfg(feature = "metrics")]
            metrics,
            config,
            startup: OnceLock::new(),
        })))
    }

    /// Sends `email` through the configured backend (`EMAIL_BACKEND`), from
    /// `DEFAULT_FROM_EMAIL`; see [`mail`](crate::mail) for the message's form. A failure is
    /// logged, not returned: the message follows a committed change (a sign-up, an invitation)
    /// that must not be reported as failed, and the user can ask again
    /// (`/api/auth/verify-email/resend`, a new invitation). Send after the commit, for the same
    /// reason.
    pub async fn send_mail(&self, email: Email) {
        let to = email.to.clone();
        if let Err(err) = self.0.mailer.send(email).await {
            tracing::error!(%to, %err, "could not send an e-mail");
        }
    }

    /// The throttles of the credential endpoints.
    pub(crate) fn throttle(&self) -> &AuthThrottle {
        &self.0.throttle
    }

    /// The per-user and per-company request throttles (`THROTTLE_USER`, `THROTTLE_COMPANY`).
    pub fn request_throttle(&self) -> &RequestThrottle {
        &self.0.request_throttle
    }

    /// Each company's share of the pool (`None`: unlimited); see `fair_share.rs`.
    pub(crate) fn company_connections(&self) -> Option<&CompanyConnections> {
        self.0.company_connections.as_ref()
    }

    /// The app's metrics, when it serves them (cargo feature `metrics`, `METRICS_TOKEN` or
    /// `METRICS_ADDR`).
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> Option<&Arc<crate::metrics::Metrics>> {
        self.0.metrics.as_ref()
    }

    /// Counts a tenant request of `company_id` where `METRICS_PER_COMPANY` asks for it.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn count_company_request(&self, company_id: uuid::Uuid) {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.0.metrics {
            metrics.company_request(company_id);
        }
    }

    /// The password hashing workers (bounded concurrency and memory; see [`Hashers`]).
    pub(crate) fn hashers(&self) -> &Hashers {
        &self.0.hashers
    }

    /// The serving pool. Not for handlers: a query on it is not scoped to any company (take a
    /// [`Tenant`](crate::Tenant) and its [`Scoped`](crate::Scoped) transaction instead).
    #[doc(hidden)]
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// The token signing keys (tests and the benchmark mint tokens with them).
    #[doc(hidden)]
    pub fn keys(&self) -> &Keys {
        &self.0.keys
    }

    /// The configuration the app was built with.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// What the start-up checks found (the backend, the serving role, row-level security):
    /// `None` until [`App::into_router`](crate::App::into_router) has run its checks on this
    /// state (or a clone of it).
    pub fn startup_report(&self) -> Option<&StartupReport> {
        self.0.startup.get()
    }

    /// Records what the start-up checks found; a second report is ignored (the first stands).
    pub(crate) fn record_startup(&self, report: StartupReport) {
        let _ = self.0.startup.set(report);
    }
}
