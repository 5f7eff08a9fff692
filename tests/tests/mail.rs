//! The mailer of API.md ("Operations": outgoing e-mail) through its real backends: the file
//! backend into a temporary directory, and SMTP against the in-process sink of
//! `tests::smtp_sink`. No database.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tenant_core::mail::{Email, MailConfig, MailError, Mailer};
use tests::smtp_sink::SmtpSink;

const PASSWORD: &str = "correct-horse-battery-staple";

/// A mailer configured as the app would be, from these variables.
fn mailer(vars: &[(&str, &str)]) -> Mailer {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let config = MailConfig::from_lookup(|k| vars.get(k).cloned()).expect("valid mail settings");
    Mailer::new(&config).expect("a mailer")
}

fn email(to: &str, token: &str) -> Email {
    Email {
        to: to.to_string(),
        subject: "Join Café Zoë".to_string(),
        body: format!("You are invited to Café Zoë.\n\nToken: {token}\n\nThe invitation expires in 7 days.\n"),
    }
}

/// The value of the `Token: ` line, read line by line as API.md says.
fn token(message: &str) -> Option<&str> {
    message.lines().find_map(|l| l.trim_end_matches('\r').strip_prefix("Token: "))
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().map(|l| l.trim_end_matches('\r')).take_while(|l| !l.is_empty()).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Every entry of `dir`, sorted by name.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn file_backend_writes_one_eml_file_per_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("outbox"); // created by the mailer
    let dir_var = dir.to_str().unwrap();
    let mailer = mailer(&[
        ("EMAIL_BACKEND", "file"),
        ("EMAIL_FILE_DIR", dir_var),
        ("DEFAULT_FROM_EMAIL", "Acme <no-reply@acme.example>"),
    ]);

    mailer.send(email("ann@example.com", "first-token")).await.unwrap();
    let files = entries(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let first = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(header(&first, "To"), Some("ann@example.com"), "{first}");
    assert_eq!(header(&first, "From"), Some("Acme <no-reply@acme.example>"), "{first}");
    // The subject is RFC 2047-encoded (non-ASCII); it is there, and the message is plain ASCII.
    assert!(header(&first, "Subject").is_some_and(|s| s.starts_with("Join =?utf-8?b?")), "{first}");
    assert!(first.is_ascii(), "{first}");
    assert!(header(&first, "Date").is_some() && header(&first, "Message-ID").is_some(), "{first}");
    assert_eq!(token(&first), Some("first-token"), "{first}");

    mailer
        .send(Email { subject: "Verify your e-mail".into(), ..email("bob@example.com", "second-token") })
        .await
        .unwrap();
    let files = entries(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with(".eml") && !name.starts_with('.'), "only finished messages: {files:?}");
    }
    // Names sort in sending order.
    assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), first);
    let second = std::fs::read_to_string(&files[1]).unwrap();
    assert_eq!(header(&second, "To"), Some("bob@example.com"), "{second}");
    assert_eq!(header(&second, "Subject"), Some("Verify your e-mail"), "{second}");
    assert_eq!(token(&second), Some("second-token"), "{second}");
}

#[tokio::test]
async fn file_backend_refuses_a_bad_recipient_without_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = mailer(&[("EMAIL_BACKEND", "file"), ("EMAIL_FILE_DIR", tmp.path().to_str().unwrap())]);
    let err = mailer.send(email("not an address", "t")).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidAddress { .. }), "{err}");
    assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn smtp_delivers_the_envelope_and_the_message() {
    let sink = SmtpSink::start().await;
    let port = sink.port().to_string();
    let mailer = mailer(&[
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", &port),
        ("DEFAULT_FROM_EMAIL", "Acme <no-reply@acme.example>"),
    ]);

    mailer.send(email("Ann <ann@example.com>", "smtp-token")).await.unwrap();
    mailer.send(email("bob@example.com", "other-token")).await.unwrap();

    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let m = &messages[0];
    assert_eq!(m.mail_from, "no-reply@acme.example");
    assert_eq!(m.rcpt_to, ["ann@example.com"]);
    assert_eq!((m.auth_user.as_deref(), m.auth_password.as_deref()), (None, None), "no credentials configured");
    assert!(!m.helo.is_empty());
    assert_eq!(m.header("From"), Some("Acme <no-reply@acme.example>"), "{}", m.data);
    assert_eq!(m.header("To"), Some("Ann <ann@example.com>"), "{}", m.data);
    assert_eq!(m.header("Content-Type"), Some("text/plain; charset=utf-8"), "{}", m.data);
    assert_eq!(token(&m.data), Some("smtp-token"), "{}", m.data);
    assert_eq!(messages[1].rcpt_to, ["bob@example.com"]);
    assert_eq!(token(&messages[1].data), Some("other-token"));
}

#[tokio::test]
async fn smtp_sends_the_credentials_when_user_and_password_are_set() {
    let sink = SmtpSink::start().await;
    let port = sink.port().to_string();
    let authenticated = mailer(&[
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", &port),
        ("EMAIL_HOST_USER", "mailer@acme.example"),
        ("EMAIL_HOST_PASSWORD", PASSWORD),
    ]);
    authenticated.send(email("ann@example.com", "auth-token")).await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].auth_user.as_deref(), Some("mailer@acme.example"));
    assert_eq!(messages[0].auth_password.as_deref(), Some(PASSWORD));
    assert_eq!(messages[0].mail_from, "webmaster@localhost");
    assert_eq!(token(&messages[0].data), Some("auth-token"));

    // A user without a password sends no credentials.
    let user_only = mailer(&[
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", &port),
        ("EMAIL_HOST_USER", "mailer@acme.example"),
    ]);
    user_only.send(email("ann@example.com", "t")).await.unwrap();
    assert_eq!(sink.messages()[1].auth_user, None);
}

/// The settings of an SMTP mailer to `port` with credentials and a 1-second timeout.
fn failing_mailer(port: u16) -> Mailer {
    let port = port.to_string();
    mailer(&[
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", &port),
        ("EMAIL_HOST_USER", "mailer@acme.example"),
        ("EMAIL_HOST_PASSWORD", PASSWORD),
        ("EMAIL_TIMEOUT", "1"),
    ])
}

fn assert_no_password(err: &MailError) {
    for shown in [err.to_string(), format!("{err:?}"), format!("{:?}", std::error::Error::source(err))] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
}

#[tokio::test]
async fn smtp_to_a_closed_port_is_an_error_without_the_password() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let err = failing_mailer(port).send(email("ann@example.com", "t")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(err, MailError::Smtp { .. } | MailError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    assert_no_password(&err);
}

#[tokio::test]
async fn smtp_to_a_silent_server_times_out() {
    // Accepts connections and never says a word: only EMAIL_TIMEOUT ends the wait.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let mailer = failing_mailer(port);
    let send = mailer.send(email("ann@example.com", "t"));
    // Bounded here too, so that a mailer which waits forever fails the test instead of hanging it.
    let err =
        tokio::time::timeout(Duration::from_secs(5), send).await.expect("EMAIL_TIMEOUT ends the send").unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, MailError::Timeout { .. }), "{err:?}");
    assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_no_password(&err);
    silent.abort();
}
