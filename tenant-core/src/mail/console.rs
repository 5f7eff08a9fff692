//! The console backend (Django's), written from a thread of its own.

use super::message::MailError;
use crate::setting::ConfigError;

/// Messages the console backend holds while standard output is slow; past them, a message is
/// dropped (with an error the caller logs) rather than waited for.
const CONSOLE_BACKLOG: usize = 64;

/// Django's console backend, written from a thread of its own: standard output is a pipe that
/// can stop draining (a stalled log collector), and a blocking write on a runtime worker would
/// then stop every request of the server in turn. The thread ends when the mailer is dropped.
pub(super) struct ConsoleWriter(std::sync::mpsc::SyncSender<String>);

impl ConsoleWriter {
    pub(super) fn start() -> Result<ConsoleWriter, ConfigError> {
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
    pub(super) fn send(&self, formatted: &[u8]) -> Result<(), MailError> {
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
