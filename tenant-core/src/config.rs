//! Configuration from the environment (and a `.env` file, read by the binary).

use std::net::SocketAddr;
use std::time::Duration;

/// Used when `JWT_SECRET` is unset: fine on a laptop, never in production (logged loudly).
pub const DEV_JWT_SECRET: &str = "insecure-development-secret-change-me";

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite:…` or `postgres://…`. Default: `sqlite:tenant.db` in the working directory.
    pub database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`, default 10.
    pub max_connections: u32,
    /// `BIND_ADDR`, default `127.0.0.1:8080`.
    pub bind_addr: SocketAddr,
    /// `JWT_SECRET`; see [`DEV_JWT_SECRET`].
    pub jwt_secret: String,
    /// `ACCESS_TOKEN_TTL_SECS`, default 900 (15 minutes).
    pub access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECS`, default 604800 (7 days).
    pub refresh_ttl: Duration,
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

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

impl Config {
    /// A configuration for `database_url` with every other setting at its default.
    pub fn new(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            max_connections: 10,
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            jwt_secret: DEV_JWT_SECRET.to_string(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// Reads the variables named on each field; unset ones take their defaults.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], with any lookup (testable without touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::new(get("DATABASE_URL").unwrap_or_else(|| "sqlite:tenant.db".to_string()));
        if let Some(v) = get("DATABASE_MAX_CONNECTIONS") {
            config.max_connections = parse("DATABASE_MAX_CONNECTIONS", &v)?;
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
        Ok(config)
    }

    pub fn uses_dev_secret(&self) -> bool {
        self.jwt_secret == DEV_JWT_SECRET
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| ConfigError { name, message: format!("{value:?}: {e}") })
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
            _ => None,
        })
        .unwrap();
        assert_eq!(c.bind_addr.port(), 9000);
        assert_eq!(c.access_ttl, Duration::from_secs(60));
        assert!(!c.uses_dev_secret());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Config::from_lookup(|k| (k == "BIND_ADDR").then(|| "nope".into())).unwrap_err();
        assert_eq!(err.name, "BIND_ADDR");
        let err = Config::from_lookup(|k| (k == "JWT_SECRET").then(|| "short".into())).unwrap_err();
        assert_eq!(err.name, "JWT_SECRET");
    }
}
