//! One message: what callers hand the mailer, how it becomes RFC 5322 text, and why a send fails.

use std::time::Duration;

use lettre::message::Mailbox;

use crate::setting::ConfigError;

/// One outgoing plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient: an address (`ann@example.com`) or a mailbox (`Ann <ann@example.com>`).
    pub to: String,
    pub subject: String,
    /// Plain text; line breaks may be `\n` or `\r\n`.
    pub body: String,
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

pub(super) fn parse_from(from: &str) -> Result<Mailbox, ConfigError> {
    from.parse().map_err(|e| ConfigError { name: "DEFAULT_FROM_EMAIL", message: format!("{from:?}: {e}") })
}
