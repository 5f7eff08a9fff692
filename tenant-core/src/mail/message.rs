//! One message: what callers hand the mailer, how it becomes RFC 5322 text, and why a send fails.

use std::time::Duration;

use lettre::message::Mailbox;

use crate::setting::ConfigError;

/// One outgoing plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient: an address (`ann@example.com`) or a mailbox (`Ann <ann@example.com>`).
    pub to: String,
    /// The `Subject`. Non-ASCII text and line breaks are encoded (RFC 2047), so a subject can
    /// never add a header of its own.
    pub subject: String,
    /// Plain text; line breaks may be `\n` or `\r\n`.
    pub body: String,
}

/// Why a message was not sent. No message ever contains the SMTP password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient does not parse as an address or a mailbox.
    #[error("invalid recipient address {address:?}: {reason}")]
    InvalidAddress {
        /// The recipient as given.
        address: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The message could not be built.
    #[error("could not build the message: {0}")]
    Message(String),
    /// The SMTP server could not be reached, refused the message, or the exchange failed.
    #[error("SMTP delivery through {server} failed: {message}")]
    Smtp {
        /// `host:port`.
        server: String,
        /// The transport's error, the password scrubbed.
        message: String,
    },
    /// The SMTP exchange took longer than `EMAIL_TIMEOUT`.
    #[error("SMTP delivery through {server} timed out after {timeout:?}")]
    Timeout {
        /// `host:port`.
        server: String,
        /// `EMAIL_TIMEOUT`.
        timeout: Duration,
    },
    /// Writing the message (to standard output or its file) failed.
    #[error("could not write the message to {target}: {source}")]
    Io {
        /// `standard output` or the file's path.
        target: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

pub(super) fn parse_from(from: &str) -> Result<Mailbox, ConfigError> {
    from.parse().map_err(|e| ConfigError { name: "DEFAULT_FROM_EMAIL", message: format!("{from:?}: {e}") })
}
