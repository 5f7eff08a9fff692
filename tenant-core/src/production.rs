//! The production guard: with `APP_ENV=production` the app refuses to start on a setting that is
//! only safe on a developer's machine, as Django's `check --deploy` warns, but as a refusal.

use crate::config::{AppEnv, Config, DEV_APP_PASSWORD, DEV_JWT_SECRET};
use crate::db::Dialect;

/// Each setting that `APP_ENV=production` refuses, one line each naming the variable and what
/// to do; empty in development. `docs_page`: whether `GET /docs` would be served.
pub fn refusals(config: &Config, docs_page: bool) -> Vec<String> {
    if config.app_env != AppEnv::Production {
        return Vec::new();
    }
    let mut refusals = Vec::new();
    if config.jwt_secret == DEV_JWT_SECRET {
        refusals.push("JWT_SECRET is unset (the development secret): set 32 or more random bytes".to_string());
    } else if config.jwt_secret.len() < 32 {
        refusals.push("JWT_SECRET is shorter than 32 bytes: set 32 or more random bytes".to_string());
    }
    let postgres = Dialect::of_url(&config.database_url) == Dialect::Postgres;
    if postgres && config.app_database_url.is_none() && config.app_password == DEV_APP_PASSWORD {
        refusals.push(
            "DATABASE_APP_PASSWORD is unset (the development password of the serving role): set it, or \
             DATABASE_APP_URL"
                .to_string(),
        );
    }
    if docs_page {
        refusals.push("the docs page is on: set DOCS_PAGE=off".to_string());
    }
    if config.allowed_hosts.is_none() && config.public_base_url.is_none() {
        refusals.push(
            "ALLOWED_HOSTS is unset (only localhost is allowed): set the host names clients use, or \
             PUBLIC_BASE_URL"
                .to_string(),
        );
    }
    if config.metrics_token.as_ref().is_some_and(|token| token.len() < 32) {
        refusals.push("METRICS_TOKEN is shorter than 32 bytes: set 32 or more random bytes".to_string());
    }
    if config.allow_rls_bypass {
        refusals
            .push("ALLOW_RLS_BYPASS is set: unset it and serve with a role subject to row-level security".to_string());
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production(url: &str) -> Config {
        let mut config = Config::new(url);
        config.app_env = AppEnv::Production;
        config.jwt_secret = "x".repeat(32);
        config.allowed_hosts = Some(vec!["api.example.com".into()]);
        config
    }

    #[test]
    fn development_refuses_nothing() {
        let mut config = Config::new("postgres://localhost/db");
        config.allow_rls_bypass = true;
        assert!(refusals(&config, true).is_empty());
    }

    #[test]
    fn production_refuses_each_development_default() {
        assert!(refusals(&production("postgres://o@h/db"), false)[0].starts_with("DATABASE_APP_PASSWORD is unset"));
        let mut config = production("postgres://o@h/db");
        config.app_password = "a-real-password".into();
        assert!(refusals(&config, false).is_empty());
        config.app_database_url = Some("postgres://app@h/db".into());
        config.app_password = DEV_APP_PASSWORD.into();
        assert!(refusals(&config, false).is_empty(), "the serving role's own URL carries its password");
        let mut config = production("sqlite:x.db");
        assert!(refusals(&config, false).is_empty(), "SQLite has no serving role");
        config.jwt_secret = DEV_JWT_SECRET.into();
        config.allow_rls_bypass = true;
        let all = refusals(&config, true);
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(
            all[0].starts_with("JWT_SECRET is unset")
                && all[1].contains("DOCS_PAGE=off")
                && all[2].starts_with("ALLOW_RLS_BYPASS")
        );
        config.jwt_secret = "short".into();
        assert!(refusals(&config, false)[0].starts_with("JWT_SECRET is shorter than 32 bytes"));
        let mut config = production("sqlite:x.db");
        config.allowed_hosts = None;
        assert!(refusals(&config, false)[0].starts_with("ALLOWED_HOSTS is unset"));
        config.public_base_url = Some("https://api.example.com".into());
        assert!(refusals(&config, false).is_empty(), "links from PUBLIC_BASE_URL need no host list");
        config.metrics_token = Some("x".repeat(31));
        assert!(refusals(&config, false)[0].starts_with("METRICS_TOKEN is shorter than 32 bytes"));
        config.metrics_token = Some("x".repeat(32));
        assert!(refusals(&config, false).is_empty());
    }
}
