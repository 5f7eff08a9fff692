//! TEMPORARY stand-in for the mailer seam being written on branch `mail` (replaced on merge).

use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailBackend {
    Console,
    File { dir: PathBuf },
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    pub backend: EmailBackend,
    pub from: String,
}

impl MailConfig {
    pub fn console() -> MailConfig {
        MailConfig { backend: EmailBackend::Console, from: "webmaster@localhost".into() }
    }
}

#[derive(Clone, Debug)]
pub struct Mailer(Arc<MailConfig>);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Mailer, crate::config::ConfigError> {
        Ok(Mailer(Arc::new(config.clone())))
    }

    pub async fn send(&self, email: Email) -> Result<(), MailError> {
        let text =
            format!("From: {}\r\nTo: {}\r\nSubject: {}\r\n\r\n{}", self.0.from, email.to, email.subject, email.body);
        match &self.0.backend {
            EmailBackend::File { dir } => {
                std::fs::create_dir_all(dir)?;
                let tmp = dir.join(format!("{}.tmp", uuid::Uuid::now_v7()));
                std::fs::write(&tmp, text)?;
                std::fs::rename(&tmp, tmp.with_extension("eml"))?;
            }
            _ => println!("{text}"),
        }
        Ok(())
    }
}
