//! Reading one setting: the error that names it, the parsers, and the warning an unsafe value
//! deserves. Below `config.rs` and every module with settings of its own (`mail.rs`), which all
//! read their variables the same way.

/// A setting that cannot be used. Displayed as `invalid configuration: NAME: message`, so the
/// operator knows which variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}: {message}")]
pub struct ConfigError {
    /// The environment variable, e.g. `JWT_SECRET`.
    pub name: &'static str,
    /// What is wrong with its value, quoting it unless it is a secret.
    pub message: String,
}

/// Warnings about unsafe settings must reach the operator even when the app installed no
/// `tracing` subscriber (README's minimal `main` installs none): then they go to stderr directly.
/// `severe`: logged as an error (isolation is weakened), else as a warning.
pub(crate) fn warn_loudly(severe: bool, message: &str) {
    match (tracing::dispatcher::has_been_set(), severe) {
        (true, true) => tracing::error!("{message}"),
        (true, false) => tracing::warn!("{message}"),
        (false, _) => eprintln!("WARNING: {message}"),
    }
}

pub(crate) fn parse_flag(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(ConfigError { name, message: format!("{value:?}: expected 1/0, true/false, yes/no or on/off") }),
    }
}

pub(crate) fn parse<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| ConfigError { name, message: format!("{value:?}: {e}") })
}
