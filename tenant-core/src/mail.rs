//! Outgoing e-mail (verification, invitations): one plain-text message at a time, through the
//! backend `EMAIL_BACKEND` selects — the console (development default), one `.eml` file per message
//! in a directory (development and tests), or SMTP.
//!
//! Settings carry Django's names where Django has one; see [`MailConfig::from_lookup`].
//!
//! Every message is RFC 5322 text with `From`, `To`, `Subject`, `Date`, `Message-ID`, `MIME-Version`
//! and `Content-Type: text/plain; charset=utf-8`, its body always quoted-printable: ASCII lines
//! shorter than 76 characters stay verbatim, whatever else the body holds, so a line such as
//! `Token: abc` can be read from the file line by line. Longer lines are soft-wrapped (`=` at the
//! end of the line) and `=` is written `=3D`: a token meant to be read that way must be short and
//! free of `=` (URL-safe base64 without padding, for instance).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType, MIME_VERSION_1_0};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::setting::{ConfigError, parse, parse_flag};

/// `DEFAULT_FROM_EMAIL` when unset (Django's default).
pub const DEFAULT_FROM_EMAIL: &str = "webmaster@localhost";

/// `EMAIL_TIMEOUT` when unset.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One outgoing plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient: an address (`ann@example.com`) or a mailbox (`Ann <ann@example.com>`).
    pub to: String,
    pub subject: String,
    /// Plain text; line breaks may be `\n` or `\r\n`.
    pub body: String,
}

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
    File { dir: PathBuf },
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
    /// Never shown by `Debug` nor in a [`MailError`].
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

fn parse_from(from: &str) -> Result<Mailbox, ConfigError> {
    from.parse().map_err(|e| ConfigError { name: "DEFAULT_FROM_EMAIL", message: format!("{from:?}: {e}") })
}

/// Why a message was not sent. No message ever contains the SMTP password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient does not parse as an address or a mailbox.
    #[error("invalid recipient address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    /// The message could not be built.
    #[error("could not build the message: {0}")]
    Message(String),
    /// The SMTP server could not be reached, refused the message, or the exchange failed.
    #[error("SMTP delivery through {server} failed: {message}")]
    Smtp { server: String, message: String },
    /// The SMTP exchange took longer than `EMAIL_TIMEOUT`.
    #[error("SMTP delivery through {server} timed out after {timeout:?}")]
    Timeout { server: String, timeout: Duration },
    /// Writing the message (to standard output or its file) failed.
    #[error("could not write the message to {target}: {source}")]
    Io {
        target: String,
        #[source]
        source: std::io::Error,
    },
}

/// Sends messages through the configured backend. Cheap to clone (Arc inside).
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    from: Mailbox,
    transport: Transport,
}

enum Transport {
    /// Messages are handed to a writer thread ([`ConsoleWriter`]).
    Console(ConsoleWriter),
    File {
        dir: PathBuf,
    },
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// `host:port`, for errors.
        server: String,
        timeout: Duration,
        /// Scrubbed from error messages, should a server echo it.
        password: Option<String>,
    },
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match &self.inner.transport {
            Transport::Console(_) => "console".to_string(),
            Transport::File { dir } => format!("file {}", dir.display()),
            Transport::Smtp { server, .. } => format!("smtp {server}"),
        };
        f.debug_struct("Mailer").field("backend", &backend).field("from", &self.inner.from.to_string()).finish()
    }
}

impl Mailer {
    /// Builds the transport; a bad setting (unparsable from address, missing EMAIL_FILE_DIR for
    /// the file backend, …) is a ConfigError naming the variable. Creates the file backend's
    /// directory if missing. Needs no running runtime; connects to no server.
    pub fn new(config: &MailConfig) -> Result<Mailer, ConfigError> {
        let from = parse_from(&config.from)?;
        let transport = match &config.backend {
            EmailBackend::Console => Transport::Console(ConsoleWriter::start()?),
            EmailBackend::File { dir } => {
                if dir.as_os_str().is_empty() {
                    return Err(ConfigError { name: "EMAIL_FILE_DIR", message: "must not be empty".into() });
                }
                std::fs::create_dir_all(dir).map_err(|e| ConfigError {
                    name: "EMAIL_FILE_DIR",
                    message: format!("cannot create {}: {e}", dir.display()),
                })?;
                Transport::File { dir: dir.clone() }
            }
            EmailBackend::Smtp(smtp) => smtp_transport(smtp)?,
        };
        Ok(Mailer { inner: Arc::new(Inner { from, transport }) })
    }

    /// Sends one message. Errors are returned (the caller logs them; a failed send never fails
    /// the HTTP request that caused it).
    pub async fn send(&self, email: Email) -> Result<(), MailError> {
        let message = build_message(&self.inner.from, &email)?;
        match &self.inner.transport {
            Transport::Console(writer) => writer.send(&message.formatted()),
            Transport::File { dir } => write_file(dir, &message.formatted()).await,
            Transport::Smtp { transport, server, timeout, password } => {
                match tokio::time::timeout(*timeout, transport.send(message)).await {
                    Ok(Ok(_response)) => Ok(()),
                    Ok(Err(e)) => {
                        let mut message = e.to_string();
                        if let Some(password) = password.as_deref().filter(|p| !p.is_empty()) {
                            message = message.replace(password, "<redacted>");
                        }
                        Err(MailError::Smtp { server: server.clone(), message })
                    }
                    Err(_elapsed) => Err(MailError::Timeout { server: server.clone(), timeout: *timeout }),
                }
            }
        }
    }
}

fn smtp_transport(smtp: &SmtpSettings) -> Result<Transport, ConfigError> {
    if smtp.host.trim().is_empty() {
        return Err(ConfigError { name: "EMAIL_HOST", message: "must not be empty".into() });
    }
    if smtp.port == 0 {
        return Err(ConfigError { name: "EMAIL_PORT", message: "must be 1 to 65535".into() });
    }
    if smtp.timeout.is_zero() {
        return Err(ConfigError { name: "EMAIL_TIMEOUT", message: "must be more than 0 seconds".into() });
    }
    let tls = |name: &'static str| {
        TlsParameters::new(smtp.host.clone())
            .map_err(|e| ConfigError { name, message: format!("TLS for {:?}: {e}", smtp.host) })
    };
    let tls = match smtp.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(tls("EMAIL_USE_TLS")?),
        SmtpSecurity::Tls => Tls::Wrapper(tls("EMAIL_USE_SSL")?),
    };
    // lettre's async transport times out the connection only; `send` bounds the whole exchange.
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(smtp.timeout));
    match (&smtp.username, &smtp.password) {
        (Some(user), Some(password)) => {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        (Some(_), None) => crate::setting::warn_loudly(
            false,
            "EMAIL_HOST_USER is set without EMAIL_HOST_PASSWORD: mail is sent without authentication",
        ),
        (None, Some(_)) => crate::setting::warn_loudly(
            false,
            "EMAIL_HOST_PASSWORD is set without EMAIL_HOST_USER: mail is sent without authentication",
        ),
        (None, None) => {}
    }
    Ok(Transport::Smtp {
        transport: Box::new(builder.build()),
        server: format!("{}:{}", smtp.host, smtp.port),
        timeout: smtp.timeout,
        password: smtp.password.clone(),
    })
}

/// The message as sent: headers, and the body in quoted-printable.
fn build_message(from: &Mailbox, email: &Email) -> Result<Message, MailError> {
    let to: Mailbox = email.to.trim().parse().map_err(|e: lettre::address::AddressError| {
        MailError::InvalidAddress { address: email.to.clone(), reason: e.to_string() }
    })?;
    let body = Body::new_with_encoding(email.body.clone(), ContentTransferEncoding::QuotedPrintable)
        .map_err(|_| MailError::Message("the body cannot be encoded as quoted-printable".into()))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.as_str())
        .message_id(Some(format!("<{}@{}>", Uuid::now_v7(), from.email.domain())))
        .header(MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| MailError::Message(e.to_string()))
}

/// Messages the console backend holds while standard output is slow; past them, a message is
/// dropped (with an error the caller logs) rather than waited for.
const CONSOLE_BACKLOG: usize = 64;

/// Django's console backend, written from a thread of its own: standard output is a pipe that
/// can stop draining (a stalled log collector), and a blocking write on a runtime worker would
/// then stop every request of the server in turn. The thread ends when the mailer is dropped.
struct ConsoleWriter(std::sync::mpsc::SyncSender<String>);

impl ConsoleWriter {
    fn start() -> Result<ConsoleWriter, ConfigError> {
        let (queue, messages) = std::sync::mpsc::sync_channel::<String>(CONSOLE_BACKLOG);
        std::thread::Builder::new()
            .name("console-mail".into())
            .spawn(move || {
                use std::io::Write;
                for message in messages {
                    let mut stdout = std::io::stdout().lock();
                    if stdout.write_all(message.as_bytes()).and_then(|()| stdout.flush()).is_err() {
                        // Standard output is gone: nothing more can be shown.
                        return;
                    }
                }
            })
            .map_err(|e| ConfigError {
                name: "EMAIL_BACKEND",
                message: format!("cannot start the console writer: {e}"),
            })?;
        Ok(ConsoleWriter(queue))
    }

    /// The message, then a line of dashes, queued for one write; never blocks.
    fn send(&self, formatted: &[u8]) -> Result<(), MailError> {
        let mut out = String::from_utf8_lossy(formatted).replace("\r\n", "\n");
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&"-".repeat(79));
        out.push('\n');
        self.0.try_send(out).map_err(|err| MailError::Io {
            target: "standard output".into(),
            source: std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                match err {
                    std::sync::mpsc::TrySendError::Full(_) => "not keeping up: message dropped",
                    std::sync::mpsc::TrySendError::Disconnected(_) => "closed: message dropped",
                },
            ),
        })
    }
}

/// One `<uuid v7>.eml` file, written under a temporary name then renamed, so that a reader of the
/// directory never sees a partial message.
async fn write_file(dir: &Path, formatted: &[u8]) -> Result<(), MailError> {
    let id = Uuid::now_v7();
    let path = dir.join(format!("{id}.eml"));
    let tmp = dir.join(format!(".{id}.eml.tmp"));
    let io_error = |path: &Path| {
        let target = path.display().to_string();
        move |source| MailError::Io { target, source }
    };
    tokio::fs::write(&tmp, formatted).await.map_err(io_error(&tmp))?;
    if let Err(e) = tokio::fs::rename(&tmp, &path).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(io_error(&path)(e));
    }
    Ok(())
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

    fn formatted(email: &Email) -> String {
        let from: Mailbox = "Acme <no-reply@acme.example>".parse().unwrap();
        String::from_utf8(build_message(&from, email).unwrap().formatted()).unwrap()
    }

    fn email(body: &str) -> Email {
        Email { to: "ann@example.com".into(), subject: "Verify your e-mail".into(), body: body.into() }
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
        Mailer::new(&MailConfig::console()).unwrap();
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

    #[test]
    fn mailer_new_checks_its_settings() {
        let bad_from = MailConfig { from: "nobody".into(), ..MailConfig::console() };
        assert_eq!(Mailer::new(&bad_from).unwrap_err().name, "DEFAULT_FROM_EMAIL");
        let no_dir = MailConfig { backend: EmailBackend::File { dir: PathBuf::new() }, ..MailConfig::console() };
        assert_eq!(Mailer::new(&no_dir).unwrap_err().name, "EMAIL_FILE_DIR");
        let tmp = tempfile::tempdir().unwrap();
        let blocker = tmp.path().join("a-file");
        std::fs::write(&blocker, "").unwrap();
        let unusable =
            MailConfig { backend: EmailBackend::File { dir: blocker.join("mail") }, ..MailConfig::console() };
        assert_eq!(Mailer::new(&unusable).unwrap_err().name, "EMAIL_FILE_DIR");
        let missing = tmp.path().join("new/mail");
        let created = MailConfig { backend: EmailBackend::File { dir: missing.clone() }, ..MailConfig::console() };
        Mailer::new(&created).unwrap();
        assert!(missing.is_dir());
        let no_host = SmtpSettings { host: " ".into(), ..SmtpSettings::default() };
        let no_host = MailConfig { backend: EmailBackend::Smtp(no_host), ..MailConfig::console() };
        assert_eq!(Mailer::new(&no_host).unwrap_err().name, "EMAIL_HOST");
        // Building the TLS transports loads the roots and needs no server.
        for security in [SmtpSecurity::StartTls, SmtpSecurity::Tls] {
            let s = SmtpSettings { host: "smtp.example.com".into(), security, ..SmtpSettings::default() };
            Mailer::new(&MailConfig { backend: EmailBackend::Smtp(s), ..MailConfig::console() }).unwrap();
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let s = SmtpSettings {
            username: Some("ann".into()),
            password: Some("hunter2-secret".into()),
            ..SmtpSettings::default()
        };
        let config = MailConfig { backend: EmailBackend::Smtp(s), ..MailConfig::console() };
        let shown = format!("{config:?} {:?}", Mailer::new(&config).unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("ann"), "{shown}");
    }

    #[test]
    fn headers_and_ascii_body() {
        let text = formatted(&email("Welcome!\n\nToken: abc\n\nThe link expires in 24 hours.\n"));
        let (headers, body) = text.split_once("\r\n\r\n").expect("a blank line ends the headers");
        for expected in [
            "From: Acme <no-reply@acme.example>\r\n",
            "To: ann@example.com\r\n",
            "Subject: Verify your e-mail\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n",
        ] {
            assert!(format!("{headers}\r\n").contains(expected), "{expected:?} missing from {headers}");
        }
        assert!(headers.lines().any(|l| l.starts_with("Date: ")), "{headers}");
        let message_id = headers.lines().find_map(|l| l.strip_prefix("Message-ID: ")).expect("a Message-ID");
        assert!(message_id.starts_with('<') && message_id.ends_with("@acme.example>"), "{message_id}");
        assert!(body.split("\r\n").any(|l| l == "Token: abc"), "{body}");
        assert_eq!(body, "Welcome!\r\n\r\nToken: abc\r\n\r\nThe link expires in 24 hours.\r\n");
        // Each message has its own id.
        let other = formatted(&email("x"));
        assert!(!other.contains(message_id));
    }

    #[test]
    fn non_ascii_body_keeps_the_token_line() {
        let long_ascii = "a".repeat(75);
        let text = formatted(&Email {
            to: "Zoë <zoe@example.com>".into(),
            subject: "Invitation à Café Zoë".into(),
            // Mostly non-ASCII, so that base64 would be the shorter encoding.
            body: format!("Café Zoë invites you.\nΚαλώς ήρθατε — добро пожаловать\nToken: abc\r\n{long_ascii}\n"),
        });
        let (headers, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(headers.contains("Content-Transfer-Encoding: quoted-printable\r\n"), "{headers}");
        assert!(headers.is_ascii() && body.is_ascii(), "{text}");
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert!(lines.contains(&"Token: abc"), "{body}");
        assert!(lines.contains(&long_ascii.as_str()), "{body}");
        assert!(lines.contains(&"Caf=C3=A9 Zo=C3=AB invites you."), "{body}");
        assert_eq!(lines.len(), 7, "the long non-ASCII line is soft-wrapped: {body}");
        assert!(headers.contains("Subject: Invitation =?utf-8?b?"), "{headers}");
    }

    #[test]
    fn header_injection_is_neutralised() {
        let text = formatted(&Email {
            to: "ann@example.com".into(),
            subject: "Hi\r\nBcc: mallory@example.com".into(),
            body: "Token: abc".into(),
        });
        let (headers, _) = text.split_once("\r\n\r\n").unwrap();
        assert!(!headers.lines().any(|l| l.starts_with("Bcc:")), "{headers}");
        assert_eq!(headers.lines().filter(|l| l.starts_with("Subject: =?utf-8?")).count(), 1, "{headers}");
    }

    #[test]
    fn bad_recipient_is_an_error() {
        let from: Mailbox = DEFAULT_FROM_EMAIL.parse().unwrap();
        for to in ["", "not an address", "ann@", "a@b@c", "ann@example.com\r\nBcc: x@y.z"] {
            let err = build_message(&from, &Email { to: to.into(), ..email("Token: abc") }).unwrap_err();
            assert!(matches!(err, MailError::InvalidAddress { .. }), "{to:?}: {err}");
        }
    }

    #[tokio::test]
    async fn console_and_file_backends_send() {
        Mailer::new(&MailConfig::console()).unwrap().send(email("Token: abc")).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = MailConfig { backend: EmailBackend::File { dir: dir.path().into() }, ..MailConfig::console() };
        let mailer = Mailer::new(&config).unwrap();
        mailer.send(email("Token: abc")).await.unwrap();
        let err = mailer.send(Email { to: "nope".into(), ..email("Token: abc") }).await.unwrap_err();
        assert!(matches!(err, MailError::InvalidAddress { .. }));
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].ends_with(".eml") && !names[0].starts_with('.'), "{names:?}");
    }
}
