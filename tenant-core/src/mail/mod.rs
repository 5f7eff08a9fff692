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

mod console;
mod message;
mod settings;

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

use crate::setting::ConfigError;
use console::ConsoleWriter;
use message::parse_from;
pub use message::{Email, MailError};
pub use settings::{DEFAULT_FROM_EMAIL, DEFAULT_SMTP_TIMEOUT, EmailBackend, MailConfig, SmtpSecurity, SmtpSettings};

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
    use super::*;

    fn formatted(email: &Email) -> String {
        let from: Mailbox = "Acme <no-reply@acme.example>".parse().unwrap();
        String::from_utf8(build_message(&from, email).unwrap().formatted()).unwrap()
    }

    fn email(body: &str) -> Email {
        Email { to: "ann@example.com".into(), subject: "Verify your e-mail".into(), body: body.into() }
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
