//! The mail settings (Django's names): `EMAIL_BACKEND` and each backend's variables.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::message::parse_from;
use crate::setting::{ConfigError, parse, parse_flag};

/// `DEFAULT_FROM_EMAIL` when unset (Django's default).
pub const DEFAULT_FROM_EMAIL: &str = "webmaster@localhost";

/// `EMAIL_TIMEOUT` when unset.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where messages go (`EMAIL_BACKEND`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailBackend {
    /// `console`, the default: each message is written, whole, to standard output, followed by a
    /// separator line. **Development only**: messages carry secrets (verification and invitation
    /// tokens), and standard output is often collected with the logs in production.
    Console,
    /// `file`: one RFC 5322 file per message, `<uuid v7>.eml` (file names sort in sending order),
    /// in `dir` (`EMAIL_FILE_DIR`, created if missing). Each file appears whole: it is written
    /// under a temporary name (`.<uuid>.eml.tmp`) and renamed. For development and tests.
    File {
        /// `EMAIL_FILE_DIR`.
        dir: PathBuf,
    },
    /// `smtp`: delivery to an SMTP server, one connection per message.
    Smtp(SmtpSettings),
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (neither `EMAIL_USE_TLS` nor `EMAIL_USE_SSL`): only for a relay on the same host
    /// or network.
    None,
    /// `EMAIL_USE_TLS`: STARTTLS, required — without it the server is refused before any
    /// credentials or message are sent. Usually port 587.
    StartTls,
    /// `EMAIL_USE_SSL`: TLS from the first byte (implicit TLS, "SMTPS"). Usually port 465.
    Tls,
}

/// The SMTP backend's settings. Server certificates are checked against the Mozilla roots
/// (webpki-roots) for `host`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// `EMAIL_HOST`, default `localhost`.
    pub host: String,
    /// `EMAIL_PORT`, default 25 (whatever the security: set 587 for STARTTLS or 465 for implicit
    /// TLS, as in Django).
    pub port: u16,
    /// `EMAIL_HOST_USER`, default none. Credentials are sent only when the password is set too.
    pub username: Option<String>,
    /// `EMAIL_HOST_PASSWORD`, default none. Credentials are sent only when the user is set too.
    /// Never shown by `Debug` nor in a [`MailError`](crate::mail::MailError).
    pub password: Option<String>,
    /// `EMAIL_USE_TLS` / `EMAIL_USE_SSL` (flags, mutually exclusive), default [`SmtpSecurity::None`].
    pub security: SmtpSecurity,
    /// `EMAIL_TIMEOUT` in seconds (fractions allowed), default 10 ([`DEFAULT_SMTP_TIMEOUT`]): the
    /// longest one message's whole exchange may take, connecting included.
    pub timeout: Duration,
}

impl Default for SmtpSettings {
    /// `localhost:25`, no credentials, no TLS, [`DEFAULT_SMTP_TIMEOUT`].
    fn default() -> SmtpSettings {
        SmtpSettings {
            host: "localhost".to_string(),
            port: 25,
            username: None,
            password: None,
            security: SmtpSecurity::None,
            timeout: DEFAULT_SMTP_TIMEOUT,
        }
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("security", &self.security)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The mail settings of `Config` (field `Config::email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `EMAIL_BACKEND`: `console` (default), `file` or `smtp`.
    pub backend: EmailBackend,
    /// `DEFAULT_FROM_EMAIL`, default [`DEFAULT_FROM_EMAIL`]: the `From` of every message, an
    /// address or a mailbox (`Acme <no-reply@acme.example>`).
    pub from: String,
}

impl MailConfig {
    /// Console backend, from "webmaster@localhost" (Django's DEFAULT_FROM_EMAIL default).
    pub fn console() -> MailConfig {
        MailConfig { backend: EmailBackend::Console, from: DEFAULT_FROM_EMAIL.to_string() }
    }

    /// Reads the variables below; unset ones take their defaults. An empty value counts as unset.
    ///
    /// - `EMAIL_BACKEND`: `console` (default), `file` or `smtp`.
    /// - `DEFAULT_FROM_EMAIL`: default `webmaster@localhost`; must parse as a mailbox.
    /// - `file`: `EMAIL_FILE_DIR`, required.
    /// - `smtp`: `EMAIL_HOST` (default `localhost`), `EMAIL_PORT` (default 25), `EMAIL_HOST_USER`
    ///   and `EMAIL_HOST_PASSWORD` (credentials only when both are set), `EMAIL_USE_TLS`
    ///   (STARTTLS, required when set) or `EMAIL_USE_SSL` (implicit TLS) — not both —, and
    ///   `EMAIL_TIMEOUT` (seconds, default 10).
    ///
    /// Only the chosen backend's variables are read. A bad value is a [`ConfigError`] naming its
    /// variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<MailConfig, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut config = MailConfig::console();
        if let Some(from) = get("DEFAULT_FROM_EMAIL") {
            let from = from.trim().to_string();
            parse_from(&from)?;
            config.from = from;
        }
        let backend = get("EMAIL_BACKEND").map(|v| v.trim().to_ascii_lowercase());
        config.backend = match backend.as_deref() {
            None | Some("console") => EmailBackend::Console,
            Some("file") => {
                let Some(dir) = get("EMAIL_FILE_DIR") else {
                    return Err(ConfigError {
                        name: "EMAIL_FILE_DIR",
                        message: "required when EMAIL_BACKEND is file".into(),
                    });
                };
                EmailBackend::File { dir: PathBuf::from(dir) }
            }
            Some("smtp") => {
                let mut smtp = SmtpSettings::default();
                if let Some(v) = get("EMAIL_HOST") {
                    smtp.host = v.trim().to_string();
                }
                if let Some(v) = get("EMAIL_PORT") {
                    smtp.port = parse("EMAIL_PORT", &v)?;
                    if smtp.port == 0 {
                        return Err(ConfigError { name: "EMAIL_PORT", message: "must be 1 to 65535".into() });
                    }
                }
                smtp.username = get("EMAIL_HOST_USER");
                smtp.password = get("EMAIL_HOST_PASSWORD");
                let starttls = get("EMAIL_USE_TLS").map(|v| parse_flag("EMAIL_USE_TLS", &v)).transpose()?;
                let implicit = get("EMAIL_USE_SSL").map(|v| parse_flag("EMAIL_USE_SSL", &v)).transpose()?;
                smtp.security = match (starttls.unwrap_or(false), implicit.unwrap_or(false)) {
                    (false, false) => SmtpSecurity::None,
                    (true, false) => SmtpSecurity::StartTls,
                    (false, true) => SmtpSecurity::Tls,
                    (true, true) => {
                        return Err(ConfigError {
                            name: "EMAIL_USE_SSL",
                            message: "EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive: set only one".into(),
                        });
                    }
                };
                if let Some(v) = get("EMAIL_TIMEOUT") {
                    let secs: f64 = parse("EMAIL_TIMEOUT", &v)?;
                    smtp.timeout =
                        Duration::try_from_secs_f64(secs).ok().filter(|t| !t.is_zero()).ok_or_else(|| ConfigError {
                            name: "EMAIL_TIMEOUT",
                            message: format!("{v:?}: expected seconds > 0"),
                        })?;
                }
                EmailBackend::Smtp(smtp)
            }
            Some(other) => {
                return Err(ConfigError {
                    name: "EMAIL_BACKEND",
                    message: format!("{other:?}: expected console, file or smtp"),
                });
            }
        };
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> Result<MailConfig, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        MailConfig::from_lookup(|k| vars.get(k).cloned())
    }

    fn smtp(vars: &[(&str, &str)]) -> SmtpSettings {
        let mut all = vec![("EMAIL_BACKEND", "smtp")];
        all.extend_from_slice(vars);
        match lookup(&all).unwrap().backend {
            EmailBackend::Smtp(s) => s,
            other => panic!("expected smtp, got {other:?}"),
        }
    }

    fn error_name(vars: &[(&str, &str)]) -> &'static str {
        lookup(vars).unwrap_err().name
    }

    #[test]
    fn defaults() {
        assert_eq!(lookup(&[]).unwrap(), MailConfig::console());
        assert_eq!(MailConfig::console().from, "webmaster@localhost");
        assert_eq!(MailConfig::console().backend, EmailBackend::Console);
        assert_eq!(lookup(&[("EMAIL_BACKEND", "")]).unwrap(), MailConfig::console());
        let s = smtp(&[]);
        assert_eq!(s, SmtpSettings::default());
        assert_eq!((s.host.as_str(), s.port), ("localhost", 25));
        assert_eq!((s.username, s.password), (None, None));
        assert_eq!(s.security, SmtpSecurity::None);
        assert_eq!(s.timeout, Duration::from_secs(10));
        // The default From parses, and the default config builds a mailer.
        crate::mail::Mailer::new(&MailConfig::console()).unwrap();
    }

    #[test]
    fn each_variable() {
        assert_eq!(lookup(&[("EMAIL_BACKEND", " Console ")]).unwrap().backend, EmailBackend::Console);
        assert_eq!(
            lookup(&[("EMAIL_BACKEND", "file"), ("EMAIL_FILE_DIR", "/tmp/mail")]).unwrap().backend,
            EmailBackend::File { dir: "/tmp/mail".into() }
        );
        let from = "Acme <no-reply@acme.example>";
        assert_eq!(lookup(&[("DEFAULT_FROM_EMAIL", from)]).unwrap().from, from);
        let s = smtp(&[
            ("EMAIL_HOST", "smtp.example.com"),
            ("EMAIL_PORT", "587"),
            ("EMAIL_HOST_USER", "ann"),
            ("EMAIL_HOST_PASSWORD", "s3cret pass"),
            ("EMAIL_USE_TLS", "true"),
            ("EMAIL_TIMEOUT", "2.5"),
        ]);
        assert_eq!(s.host, "smtp.example.com");
        assert_eq!(s.port, 587);
        assert_eq!(s.username.as_deref(), Some("ann"));
        assert_eq!(s.password.as_deref(), Some("s3cret pass"));
        assert_eq!(s.security, SmtpSecurity::StartTls);
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(smtp(&[("EMAIL_USE_SSL", "1")]).security, SmtpSecurity::Tls);
        assert_eq!(smtp(&[("EMAIL_USE_TLS", "0"), ("EMAIL_USE_SSL", "0")]).security, SmtpSecurity::None);
        // The SMTP variables mean nothing to the other backends.
        assert_eq!(lookup(&[("EMAIL_PORT", "nope")]).unwrap(), MailConfig::console());
        // `Config` reads them.
        assert_eq!(crate::Config::new("sqlite::memory:").email, MailConfig::console());
        let config = crate::Config::from_lookup(|k| (k == "EMAIL_BACKEND").then(|| "smtp".into())).unwrap();
        assert_eq!(config.email.backend, EmailBackend::Smtp(SmtpSettings::default()));
        let err = crate::Config::from_lookup(|k| (k == "EMAIL_BACKEND").then(|| "x".into())).unwrap_err();
        assert_eq!(err.name, "EMAIL_BACKEND");
    }

    #[test]
    fn each_error_names_its_variable() {
        assert_eq!(error_name(&[("EMAIL_BACKEND", "sendmail")]), "EMAIL_BACKEND");
        let err = lookup(&[("EMAIL_BACKEND", "sendmail")]).unwrap_err().to_string();
        assert!(err.contains("console, file or smtp"), "{err}");
        assert_eq!(error_name(&[("EMAIL_BACKEND", "file")]), "EMAIL_FILE_DIR");
        assert_eq!(error_name(&[("DEFAULT_FROM_EMAIL", "not an address")]), "DEFAULT_FROM_EMAIL");
        let smtp = |k, v| error_name(&[("EMAIL_BACKEND", "smtp"), (k, v)]);
        assert_eq!(smtp("EMAIL_PORT", "nope"), "EMAIL_PORT");
        assert_eq!(smtp("EMAIL_PORT", "70000"), "EMAIL_PORT");
        assert_eq!(smtp("EMAIL_PORT", "0"), "EMAIL_PORT");
        assert_eq!(smtp("EMAIL_USE_TLS", "maybe"), "EMAIL_USE_TLS");
        assert_eq!(smtp("EMAIL_USE_SSL", "maybe"), "EMAIL_USE_SSL");
        assert_eq!(smtp("EMAIL_TIMEOUT", "soon"), "EMAIL_TIMEOUT");
        assert_eq!(smtp("EMAIL_TIMEOUT", "0"), "EMAIL_TIMEOUT");
        assert_eq!(smtp("EMAIL_TIMEOUT", "-1"), "EMAIL_TIMEOUT");
        let both = lookup(&[("EMAIL_BACKEND", "smtp"), ("EMAIL_USE_TLS", "1"), ("EMAIL_USE_SSL", "1")]).unwrap_err();
        assert_eq!(both.name, "EMAIL_USE_SSL");
        assert!(both.message.contains("EMAIL_USE_TLS"), "{both}");
    }
}
