//! Configuration from the environment (and a `.env` file, when the binary calls
//! [`load_dotenv`]).
//!
//! [`Config::from_env`] reads every setting README.md's "Configuration" table lists, each with
//! the default given on its field; [`Config::new`] gives the same defaults without reading
//! anything, for an app or a test that sets fields itself. Settings whose rule comes from
//! Django, Django REST Framework or Simple JWT keep their names and units.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

pub use crate::rate::Rate;
pub use crate::setting::ConfigError;

/// The default of [`Config::request_timeout`] (`REQUEST_TIMEOUT_SECS`).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The default of [`Config::header_read_timeout`] (`HEADER_READ_TIMEOUT_SECS`).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default of [`Config::body_read_timeout`] (`BODY_READ_TIMEOUT_SECS`).
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// The default of [`Config::shutdown_timeout`] (`SHUTDOWN_TIMEOUT_SECS`).
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
use crate::setting::{parse, parse_flag};

/// `APP_ENV`: `development` (the default) or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppEnv {
    /// Development defaults are allowed, each with a loud warning.
    #[default]
    Development,
    /// Development defaults are refused (`production.rs`).
    Production,
}

/// Used when `JWT_SECRET` is unset: fine on a laptop, never in production (logged loudly).
pub const DEV_JWT_SECRET: &str = "insecure-development-secret-change-me";

/// The serving role the migration creates on PostgreSQL when `DATABASE_APP_URL` is unset.
pub const DEFAULT_APP_ROLE: &str = "tenant_app";

/// Its password when `DATABASE_APP_PASSWORD` is unset (logged loudly, like the JWT secret).
pub const DEV_APP_PASSWORD: &str = "insecure-development-password-change-me";

/// Every setting of the runtime. Each field names its environment variable, its unit and its
/// default; a duration's variable says its unit (`_SECS` or `_MS`).
///
/// Fields are public so an app can adjust a configuration it read (`config.email.backend =
/// …`) before [`App::connect`](crate::App::connect); the checks [`Config::from_env`] applies
/// (a secret of 32 bytes or more, at least one hashing worker…) are not re-applied then.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite:…` or `postgres://…`. Default: `sqlite:tenant.db` in the working
    /// directory. On PostgreSQL this is the **owner's** URL: migrations run with it, and it is
    /// never used to serve requests.
    pub database_url: String,
    /// `DATABASE_APP_URL` (PostgreSQL): the URL requests are served with, as a role that owns
    /// nothing and is subject to row-level security. Unset: `DATABASE_URL` with the user and
    /// password replaced by [`Config::app_role`] and [`Config::app_password`]; the migration
    /// then creates that role if it does not exist.
    pub app_database_url: Option<String>,
    /// `DATABASE_APP_ROLE`, default [`DEFAULT_APP_ROLE`].
    pub app_role: String,
    /// `DATABASE_APP_PASSWORD`, default [`DEV_APP_PASSWORD`].
    pub app_password: String,
    /// `APP_ENV`: `development` (default) or `production`, where the development defaults are
    /// refused at start-up (`production.rs`).
    pub app_env: AppEnv,
    /// `DOCS_PAGE=on|off`: serve `GET /docs`, a browsable page of the OpenAPI document (API.md,
    /// "Operations"). Unset (`None`), the app's default applies: off, unless the app chose
    /// [`App::docs_page_by_default`](crate::App::docs_page_by_default) (the demo app does).
    pub docs_page: Option<bool>,
    /// `ALLOW_RLS_BYPASS=1`: serve even if the serving role escapes row-level security
    /// (superuser, `BYPASSRLS`, table owner). Logged loudly; never for production.
    pub allow_rls_bypass: bool,
    /// `ROW_LEVEL_SECURITY`, default on. Off, tenant transactions do not set `app.company_id`,
    /// so the server must serve as a role that bypasses RLS (which needs `ALLOW_RLS_BYPASS`):
    /// for measuring what RLS costs, or a cluster without it. Query scoping still applies.
    pub row_level_security: bool,
    /// `DATABASE_MAX_CONNECTIONS`, default 10.
    pub max_connections: u32,
    /// `DATABASE_MAX_CONNECTIONS_PER_COMPANY`: pooled connections one company's requests may
    /// hold at once, so one tenant cannot starve the others (`fair_share.rs`); `0` = no limit.
    /// Unset (`None`): half the pool, rounded up.
    pub max_connections_per_company: Option<u32>,
    /// `BIND_ADDR`, default `127.0.0.1:8080`.
    pub bind_addr: SocketAddr,
    /// `JWT_SECRET`: the HS256 signing key, at least 32 bytes (RFC 7518, section 3.2: an
    /// HS256 key must be at least as long as its 256-bit hash output). Unset: [`DEV_JWT_SECRET`],
    /// with a loud warning.
    pub jwt_secret: String,
    /// `ACCESS_TOKEN_TTL_SECS`, default 900 (15 minutes).
    pub access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECS`, default 604800 (7 days).
    pub refresh_ttl: Duration,
    /// `JWT_LEEWAY_SECS`: clock skew tolerated on a token's `exp`, `nbf` and `iat`, default 0
    /// (Simple JWT's `LEEWAY`).
    pub jwt_leeway: Duration,
    /// `DATABASE_STATEMENT_TIMEOUT_MS` (PostgreSQL): the longest any statement of a serving
    /// connection may run before PostgreSQL cancels it (→ 503), so one tenant's heavy queries
    /// cannot hold the pool the others need; default 5000, `0` = no limit. SQLite has no such
    /// limit (the list input caps bound its work).
    pub statement_timeout: Duration,
    /// `REQUEST_TIMEOUT_SECS`: the longest a write to a tenant resource or an account route may
    /// take, its body's upload included (past it: 503 and `Connection: close`, its transaction
    /// rolled back); default 30. See `body_first.rs`.
    pub request_timeout: Duration,
    /// `HEADER_READ_TIMEOUT_SECS`: the longest a client may take to send a request's line and
    /// headers, counted from the moment the server starts waiting for them (so it also closes a
    /// keep-alive connection left idle that long); past it the connection is closed without an
    /// answer. Default 10. See [`serve`](crate::serve()).
    pub header_read_timeout: Duration,
    /// `BODY_READ_TIMEOUT_SECS`: the longest a request's body may take to arrive, counted from
    /// its headers; past it → 408 `{"detail": …}` with `Connection: close`, nothing written.
    /// Default 20.
    pub body_read_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_SECS`: on SIGTERM or Ctrl-C, how long the requests in flight may take to
    /// finish once the server stopped accepting connections; the connections still open then are
    /// dropped (their transactions roll back). Default 30. See [`serve`](crate::serve()).
    pub shutdown_timeout: Duration,
    /// `MAX_COMPANIES_PER_USER`: companies one user may belong to and still create another
    /// (`POST /api/companies` past it → 409); default 20. Bounds what one account can make.
    pub max_companies_per_user: u32,
    /// `MAX_PENDING_INVITATIONS_PER_COMPANY`: invitations one company may have pending at once
    /// (`POST /api/members` past it → 409); default 100. Bounds the mail one admin can send.
    pub max_pending_invitations_per_company: u32,
    /// `INVITATION_TTL_SECS`: how long an invitation can be accepted, default 604800 (7 days).
    pub invitation_ttl: Duration,
    /// `EMAIL_VERIFICATION_TTL_SECS`: how long a verification token is valid, default 259200
    /// (3 days, Django's `PASSWORD_RESET_TIMEOUT`).
    pub email_verification_ttl: Duration,
    /// `THROTTLE_AUTH_ADDRESS`: attempts on the credential endpoints (sign-up, login) per client
    /// address, as DRF writes rates; default `30/min`.
    pub throttle_auth_address: Rate,
    /// `THROTTLE_INVITATION_COMPANY`: invitations one company may send, default `100/hour`.
    pub throttle_invitation_company: Rate,
    /// `THROTTLE_INVITATION_ADDRESS`: invitations one address may receive (from every company
    /// together), default `5/hour`: invitation mail goes to people who asked for nothing.
    pub throttle_invitation_address: Rate,
    /// `ALLOWED_HOSTS`: comma-separated host names the `Host` header may name (Django's forms:
    /// `api.example.com`, `.example.com` for it and its subdomains, `*` for any); another host
    /// gets 400 (`hosts.rs`). Unset: `localhost`, `127.0.0.1`, `[::1]`, which `APP_ENV=production`
    /// refuses unless `PUBLIC_BASE_URL` is set.
    pub allowed_hosts: Option<Vec<String>>,
    /// `PUBLIC_BASE_URL`: the scheme, host and path prefix clients reach the API at
    /// (`https://api.example.com`); the list's `next`/`previous` links are written from it
    /// instead of the request's `Host`.
    pub public_base_url: Option<String>,
    /// `TRUSTED_PROXIES`: the reverse proxies (comma-separated addresses or CIDR blocks, read by
    /// [`parse_trusted_proxies`]) whose `X-Forwarded-For` entries name the client the throttles
    /// count; default none (the TCP peer is the client). When the peer is one of them, the client
    /// is the rightmost entry that is not a trusted proxy; entries to its left were written by
    /// the client and are ignored. (DRF's `NUM_PROXIES` counts hops instead.)
    pub trusted_proxies: Vec<IpNet>,
    /// `THROTTLE_AUTH_ACCOUNT`: attempts per account (the email an attempt names); default `10/min`.
    pub throttle_auth_account: Rate,
    /// `THROTTLE_USER`: authenticated requests per user (DRF's `UserRateThrottle`), default
    /// `1200/min` (a burst of 1200, then 20 a second); `off` (`None`): not counted.
    pub throttle_user: Option<Rate>,
    /// `THROTTLE_COMPANY`: requests per active company, all its users together, default
    /// `6000/min` (100 a second); `off` (`None`): not counted. Counted once the membership is
    /// verified (`request_throttle.rs`).
    pub throttle_company: Option<Rate>,
    /// `PASSWORD_HASH_WORKERS`: threads that hash passwords, each holding Argon2id's 19 MiB;
    /// default one per core. Bounds the memory and CPU a burst of logins can take.
    pub password_hash_workers: usize,
    /// `PASSWORD_HASH_QUEUE`: logins and sign-ups that may wait for a worker; past it → 503 with
    /// `Retry-After`. Default 32.
    pub password_hash_queue: usize,
    /// `METRICS_TOKEN`: the bearer token `GET /metrics` requires (`metrics.rs`, cargo feature
    /// `metrics`); with it and without [`Config::metrics_addr`], the API's own address serves
    /// the metrics. `APP_ENV=production` refuses one under 32 bytes. Unset or empty: none.
    pub metrics_token: Option<String>,
    /// `METRICS_ADDR`: an address of its own where [`Server`](crate::Server) serves `/metrics`
    /// and nothing else (e.g. `127.0.0.1:9100`, reached by the scraper only); the API's address
    /// then does not serve it. Unset: none.
    pub metrics_addr: Option<SocketAddr>,
    /// `METRICS_PER_COMPANY`: also count requests by active company
    /// (`http_requests_by_company_total{company_id}`), one series per company; default off.
    pub metrics_per_company: bool,
    /// Outgoing e-mail: `EMAIL_BACKEND` (default `console`), `DEFAULT_FROM_EMAIL` and the
    /// backend's variables; see [`crate::mail::MailConfig::from_lookup`].
    pub email: crate::mail::MailConfig,
}

/// Loads `.env` from the working directory into the environment, if the file exists. Variables
/// already set win over the file.
pub fn load_dotenv() {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("warning: could not read .env: {e}");
    }
}

impl Config {
    /// A configuration for `database_url` with every other setting at its default.
    pub fn new(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            app_database_url: None,
            app_role: DEFAULT_APP_ROLE.to_string(),
            app_password: DEV_APP_PASSWORD.to_string(),
            allow_rls_bypass: false,
            app_env: AppEnv::Development,
            docs_page: None,
            row_level_security: true,
            max_connections: 10,
            max_connections_per_company: None,
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            jwt_secret: DEV_JWT_SECRET.to_string(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            jwt_leeway: Duration::ZERO,
            statement_timeout: Duration::from_secs(5),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            max_companies_per_user: 20,
            max_pending_invitations_per_company: 100,
            invitation_ttl: Duration::from_secs(7 * 24 * 3600),
            email_verification_ttl: Duration::from_secs(3 * 24 * 3600),
            throttle_auth_address: crate::rate::Rate::per_minute(30),
            throttle_auth_account: crate::rate::Rate::per_minute(10),
            throttle_user: Some(crate::rate::Rate::per_minute(1200)),
            throttle_company: Some(crate::rate::Rate::per_minute(6000)),
            throttle_invitation_company: crate::rate::Rate::per_hour(100),
            throttle_invitation_address: crate::rate::Rate::per_hour(5),
            trusted_proxies: Vec::new(),
            allowed_hosts: None,
            public_base_url: None,
            password_hash_workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            password_hash_queue: 32,
            metrics_token: None,
            metrics_addr: None,
            metrics_per_company: false,
            email: crate::mail::MailConfig::console(),
        }
    }

    /// This configuration with the per-user and per-company request throttles off (tests, and
    /// benchmarks that measure the server's own pace).
    pub fn without_request_throttles(mut self) -> Config {
        self.throttle_user = None;
        self.throttle_company = None;
        self
    }

    /// Reads the variables named on each field from the process environment; unset ones take
    /// their defaults. A `.env` file is read only if [`load_dotenv`] ran first.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable whose value does not parse (a number, an
    /// address, a flag other than `1/0`, `true/false`, `yes/no`, `on/off`, a rate other than
    /// DRF's `N/period`) or breaks a rule: `JWT_SECRET` under 32 bytes, a timeout of 0
    /// (`REQUEST_TIMEOUT_SECS`, `HEADER_READ_TIMEOUT_SECS`, `BODY_READ_TIMEOUT_SECS`,
    /// `SHUTDOWN_TIMEOUT_SECS`), `PASSWORD_HASH_WORKERS` of 0, and the mail settings' rules
    /// ([`MailConfig::from_lookup`](crate::mail::MailConfig::from_lookup)).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], with any lookup (testable without touching the environment):
    /// `get(name)` is the variable's value, `None` when unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::new(get("DATABASE_URL").unwrap_or_else(|| "sqlite:tenant.db".to_string()));
        config.app_database_url = get("DATABASE_APP_URL").filter(|v| !v.trim().is_empty());
        if let Some(v) = get("DATABASE_APP_ROLE") {
            config.app_role = v;
        }
        if let Some(v) = get("DATABASE_APP_PASSWORD") {
            config.app_password = v;
        }
        if let Some(v) = get("APP_ENV") {
            config.app_env = match v.trim().to_ascii_lowercase().as_str() {
                "production" => AppEnv::Production,
                "development" | "" => AppEnv::Development,
                _ => {
                    let message = format!("{v:?}: expected development or production");
                    return Err(ConfigError { name: "APP_ENV", message });
                }
            };
        }
        if let Some(v) = get("DOCS_PAGE") {
            config.docs_page = Some(parse_flag("DOCS_PAGE", &v)?);
        }
        if let Some(v) = get("ALLOW_RLS_BYPASS") {
            config.allow_rls_bypass = parse_flag("ALLOW_RLS_BYPASS", &v)?;
        }
        if let Some(v) = get("ROW_LEVEL_SECURITY") {
            config.row_level_security = parse_flag("ROW_LEVEL_SECURITY", &v)?;
        }
        if let Some(v) = get("DATABASE_MAX_CONNECTIONS") {
            config.max_connections = parse("DATABASE_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("DATABASE_MAX_CONNECTIONS_PER_COMPANY") {
            config.max_connections_per_company = Some(parse("DATABASE_MAX_CONNECTIONS_PER_COMPANY", &v)?);
        }
        if let Some(v) = get("BIND_ADDR") {
            config.bind_addr = parse("BIND_ADDR", &v)?;
        }
        if let Some(v) = get("JWT_SECRET") {
            if v.len() < 32 {
                return Err(ConfigError { name: "JWT_SECRET", message: "must be at least 32 bytes".into() });
            }
            config.jwt_secret = v;
        }
        if let Some(v) = get("ACCESS_TOKEN_TTL_SECS") {
            config.access_ttl = Duration::from_secs(parse("ACCESS_TOKEN_TTL_SECS", &v)?);
        }
        if let Some(v) = get("REFRESH_TOKEN_TTL_SECS") {
            config.refresh_ttl = Duration::from_secs(parse("REFRESH_TOKEN_TTL_SECS", &v)?);
        }
        if let Some(v) = get("JWT_LEEWAY_SECS") {
            config.jwt_leeway = Duration::from_secs(parse("JWT_LEEWAY_SECS", &v)?);
        }
        if let Some(v) = get("DATABASE_STATEMENT_TIMEOUT_MS") {
            config.statement_timeout = Duration::from_millis(parse("DATABASE_STATEMENT_TIMEOUT_MS", &v)?);
        }
        for (name, field) in [
            ("REQUEST_TIMEOUT_SECS", &mut config.request_timeout),
            ("HEADER_READ_TIMEOUT_SECS", &mut config.header_read_timeout),
            ("BODY_READ_TIMEOUT_SECS", &mut config.body_read_timeout),
            ("SHUTDOWN_TIMEOUT_SECS", &mut config.shutdown_timeout),
        ] {
            if let Some(v) = get(name) {
                *field = Duration::from_secs(parse(name, &v)?);
                if field.is_zero() {
                    return Err(ConfigError { name, message: "must be at least 1".into() });
                }
            }
        }
        if let Some(v) = get("MAX_COMPANIES_PER_USER") {
            config.max_companies_per_user = parse("MAX_COMPANIES_PER_USER", &v)?;
        }
        if let Some(v) = get("MAX_PENDING_INVITATIONS_PER_COMPANY") {
            config.max_pending_invitations_per_company = parse("MAX_PENDING_INVITATIONS_PER_COMPANY", &v)?;
        }
        if let Some(v) = get("INVITATION_TTL_SECS") {
            config.invitation_ttl = Duration::from_secs(parse("INVITATION_TTL_SECS", &v)?);
        }
        if let Some(v) = get("EMAIL_VERIFICATION_TTL_SECS") {
            config.email_verification_ttl = Duration::from_secs(parse("EMAIL_VERIFICATION_TTL_SECS", &v)?);
        }
        if let Some(v) = get("THROTTLE_AUTH_ADDRESS") {
            config.throttle_auth_address =
                v.parse().map_err(|message| ConfigError { name: "THROTTLE_AUTH_ADDRESS", message })?;
        }
        if let Some(v) = get("THROTTLE_INVITATION_COMPANY") {
            config.throttle_invitation_company =
                v.parse().map_err(|message| ConfigError { name: "THROTTLE_INVITATION_COMPANY", message })?;
        }
        if let Some(v) = get("THROTTLE_INVITATION_ADDRESS") {
            config.throttle_invitation_address =
                v.parse().map_err(|message| ConfigError { name: "THROTTLE_INVITATION_ADDRESS", message })?;
        }
        if let Some(v) = get("ALLOWED_HOSTS") {
            config.allowed_hosts = Some(v.split(',').map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect());
        }
        if let Some(v) = get("PUBLIC_BASE_URL").filter(|v| !v.trim().is_empty()) {
            let v = v.trim().trim_end_matches('/').to_string();
            let ok = (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(['?', '#', ' ']);
            if !ok {
                let message = format!("{v:?}: expected an absolute http(s) URL such as https://api.example.com");
                return Err(ConfigError { name: "PUBLIC_BASE_URL", message });
            }
            config.public_base_url = Some(v);
        }
        if let Some(v) = get("TRUSTED_PROXIES") {
            config.trusted_proxies =
                parse_trusted_proxies(&v).map_err(|message| ConfigError { name: "TRUSTED_PROXIES", message })?;
        }
        if let Some(v) = get("THROTTLE_AUTH_ACCOUNT") {
            config.throttle_auth_account =
                v.parse().map_err(|message| ConfigError { name: "THROTTLE_AUTH_ACCOUNT", message })?;
        }
        for (name, field) in
            [("THROTTLE_USER", &mut config.throttle_user), ("THROTTLE_COMPANY", &mut config.throttle_company)]
        {
            if let Some(v) = get(name) {
                *field = parse_optional_rate(&v).map_err(|message| ConfigError { name, message })?;
            }
        }
        if let Some(v) = get("PASSWORD_HASH_WORKERS") {
            config.password_hash_workers = parse("PASSWORD_HASH_WORKERS", &v)?;
            if config.password_hash_workers == 0 {
                return Err(ConfigError { name: "PASSWORD_HASH_WORKERS", message: "must be at least 1".into() });
            }
        }
        if let Some(v) = get("PASSWORD_HASH_QUEUE") {
            config.password_hash_queue = parse("PASSWORD_HASH_QUEUE", &v)?;
        }
        config.metrics_token = get("METRICS_TOKEN").filter(|v| !v.is_empty());
        if let Some(v) = get("METRICS_ADDR").filter(|v| !v.trim().is_empty()) {
            config.metrics_addr = Some(parse("METRICS_ADDR", &v)?);
        }
        if let Some(v) = get("METRICS_PER_COMPANY") {
            config.metrics_per_company = parse_flag("METRICS_PER_COMPANY", &v)?;
        }
        config.email = crate::mail::MailConfig::from_lookup(&get)?;
        Ok(config)
    }

    /// Each company's share of the pool: [`Config::max_connections_per_company`], or half of
    /// [`Config::max_connections`] (rounded up) when unset; `0` = no limit.
    pub(crate) fn company_connection_share(&self) -> u32 {
        self.max_connections_per_company.unwrap_or_else(|| self.max_connections.div_ceil(2))
    }

    /// Whether the app records and serves metrics: `METRICS_TOKEN` or `METRICS_ADDR` is set.
    pub fn serves_metrics(&self) -> bool {
        self.metrics_token.is_some() || self.metrics_addr.is_some()
    }

    /// Whether `JWT_SECRET` was left at [`DEV_JWT_SECRET`].
    pub(crate) fn uses_dev_secret(&self) -> bool {
        self.jwt_secret == DEV_JWT_SECRET
    }
}

/// A rate (`"20/min"`, see [`Rate`]) or `off` for none.
fn parse_optional_rate(value: &str) -> Result<Option<Rate>, String> {
    if value.trim().eq_ignore_ascii_case("off") { Ok(None) } else { value.parse().map(Some) }
}

/// `TRUSTED_PROXIES`: comma-separated addresses or CIDR blocks (`10.0.0.0/8, 2001:db8::/32,
/// 127.0.0.1`); a bare address is a block of one. Blanks around items and empty items are
/// ignored, so an empty value means none.
///
/// # Errors
///
/// The message for the first item that is neither an address nor a block (without the
/// variable's name, which [`Config::from_env`] adds).
pub fn parse_trusted_proxies(value: &str) -> Result<Vec<IpNet>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an IP address nor a CIDR block"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.database_url, "sqlite:tenant.db");
        assert_eq!(c.access_ttl, Duration::from_secs(900));
        assert!(c.uses_dev_secret());

        let c = Config::from_lookup(|k| match k {
            "BIND_ADDR" => Some("0.0.0.0:9000".into()),
            "ACCESS_TOKEN_TTL_SECS" => Some("60".into()),
            "JWT_SECRET" => Some("x".repeat(40)),
            "DATABASE_APP_URL" => Some("postgres://app:pw@db/app".into()),
            "ALLOW_RLS_BYPASS" => Some("yes".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.bind_addr.port(), 9000);
        assert_eq!(c.access_ttl, Duration::from_secs(60));
        assert!(!c.uses_dev_secret());
        assert_eq!(c.app_database_url.as_deref(), Some("postgres://app:pw@db/app"));
        assert!(c.allow_rls_bypass);
        assert_eq!(Config::new("sqlite:x").app_role, DEFAULT_APP_ROLE);
        assert!(!Config::new("sqlite:x").allow_rls_bypass);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Config::from_lookup(|k| (k == "BIND_ADDR").then(|| "nope".into())).unwrap_err();
        assert_eq!(err.name, "BIND_ADDR");
        let err = Config::from_lookup(|k| (k == "JWT_SECRET").then(|| "short".into())).unwrap_err();
        assert_eq!(err.name, "JWT_SECRET");
        let err = Config::from_lookup(|k| (k == "ALLOW_RLS_BYPASS").then(|| "maybe".into())).unwrap_err();
        assert_eq!(err.name, "ALLOW_RLS_BYPASS");
        for (name, bad) in [("METRICS_ADDR", "9100"), ("METRICS_ADDR", "localhost:x"), ("METRICS_PER_COMPANY", "maybe")]
        {
            let err = Config::from_lookup(|k| (k == name).then(|| bad.into())).unwrap_err();
            assert_eq!(err.name, name, "{bad}");
        }
    }

    #[test]
    fn metrics_settings() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert!(!c.serves_metrics() && !c.metrics_per_company);
        let c = Config::from_lookup(|k| (k == "METRICS_TOKEN").then(String::new)).unwrap();
        assert!(!c.serves_metrics(), "an empty token is none");
        let c = Config::from_lookup(|k| match k {
            "METRICS_TOKEN" => Some("t".repeat(32)),
            "METRICS_ADDR" => Some("127.0.0.1:9100".into()),
            "METRICS_PER_COMPANY" => Some("on".into()),
            _ => None,
        })
        .unwrap();
        assert!(c.serves_metrics() && c.metrics_per_company);
        assert_eq!(c.metrics_addr, Some(SocketAddr::from(([127, 0, 0, 1], 9100))));
        let c = Config::from_lookup(|k| (k == "METRICS_ADDR").then(|| "[::1]:9100".into())).unwrap();
        assert!(c.serves_metrics() && c.metrics_token.is_none());
    }

    #[test]
    fn timeouts_default_parse_and_refuse_zero() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.header_read_timeout, DEFAULT_HEADER_READ_TIMEOUT);
        assert_eq!(c.body_read_timeout, DEFAULT_BODY_READ_TIMEOUT);
        assert_eq!(c.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT);
        assert_eq!(c.request_timeout, DEFAULT_REQUEST_TIMEOUT);
        let names =
            ["REQUEST_TIMEOUT_SECS", "HEADER_READ_TIMEOUT_SECS", "BODY_READ_TIMEOUT_SECS", "SHUTDOWN_TIMEOUT_SECS"];
        let c = Config::from_lookup(|k| names.contains(&k).then(|| "7".into())).unwrap();
        for value in [c.request_timeout, c.header_read_timeout, c.body_read_timeout, c.shutdown_timeout] {
            assert_eq!(value, Duration::from_secs(7));
        }
        for name in names {
            for bad in ["0", "-1", "soon"] {
                let err = Config::from_lookup(|k| (k == name).then(|| bad.into())).unwrap_err();
                assert_eq!(err.name, name, "{name}={bad}");
            }
        }
    }
}
