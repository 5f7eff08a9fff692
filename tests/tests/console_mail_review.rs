//! Security review of issue 17, the console mailer: its default is announced at start-up, and a
//! standard output that stops draining does not stop the server. Each "Finding" failed on the
//! code it was written against (647fc05) and passes since its fix.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use tests::*;
use uuid::Uuid;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", Uuid::now_v7().simple())
}

/// The README's app (`readme_app`), started as `main` starts it, with only `envs`.
mod readme_app {
    use std::process::Stdio;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::process::{Child, Command};

    pub const BIN: &str = env!("CARGO_BIN_EXE_readme_app");

    pub fn free_addr() -> String {
        tests::ports::free_local_addr().to_string()
    }

    pub fn start(envs: &[(&str, &str)], dir: &std::path::Path) -> Child {
        start_with_stdout(envs, dir, Stdio::piped())
    }

    pub fn start_with_stdout(envs: &[(&str, &str)], dir: &std::path::Path, stdout: Stdio) -> Child {
        let mut command = Command::new(BIN);
        command.env_clear().current_dir(dir).stdin(Stdio::null()).stdout(stdout).stderr(Stdio::piped());
        command.env("PATH", std::env::var_os("PATH").unwrap_or_default()).kill_on_drop(true);
        for (name, value) in envs {
            command.env(name, value);
        }
        command.spawn().expect("readme_app starts")
    }

    /// One HTTP/1.1 request; the status and the body (`Connection: close`).
    pub async fn http(addr: &str, method: &str, path: &str, auth: Option<&str>, body: Option<&str>) -> (u16, String) {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if let Some(token) = auth {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }

    /// Waits until `GET /healthz` answers on `addr`.
    pub async fn wait_ready(child: &mut Child, addr: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            assert!(child.try_wait().unwrap().is_none(), "readme_app exited");
            if TcpStream::connect(addr).await.is_ok() {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "readme_app did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Finding: `EMAIL_BACKEND` defaults to `console`, which prints every message (verification
/// tokens included) to standard output, where production log collection picks it up; unlike
/// the development `JWT_SECRET` and `DATABASE_APP_PASSWORD` defaults, nothing is said at
/// start-up. Anyone who reads the logs can verify any address registered meanwhile (and so
/// accept its invitations). The minimal README app, with a real secret, shows it: silence on
/// stderr, tokens on stdout.
#[tokio::test]
async fn the_console_mail_default_is_announced_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let addr = readme_app::free_addr();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let mut child = readme_app::start(
        &[("DATABASE_URL", &url), ("BIND_ADDR", &addr), ("JWT_SECRET", "a-real-secret-0123456789abcdef-0123456789")],
        dir.path(),
    );
    readme_app::wait_ready(&mut child, &addr).await;
    let signup = json!({"email": unique("prod-user"), "password": PASSWORD, "company_name": "Prod"}).to_string();
    let (status, _) = readme_app::http(&addr, "POST", "/api/auth/signup", None, Some(&signup)).await;
    assert_eq!(status, 201);
    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let token_printed = stdout.lines().any(|l| l.starts_with("Token: "));
    assert!(
        stderr.contains("EMAIL_BACKEND"),
        "no start-up warning about the console mail backend (stderr: {stderr:?}); a verification token \
         was printed to stdout: {token_printed}"
    );
}

/// Sends 160 invitations (8 at a time) through a README app whose stdout is `stdout`; whether
/// `/healthz` still answers within 5 s afterwards, and how many invitations were answered.
async fn healthy_after_a_burst_of_console_mail(stdout: std::process::Stdio) -> (bool, usize) {
    let dir = tempfile::tempdir().unwrap();
    let addr = readme_app::free_addr();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let mut child = readme_app::start_with_stdout(
        &[("DATABASE_URL", &url), ("BIND_ADDR", &addr), ("JWT_SECRET", "a-real-secret-0123456789abcdef-0123456789")],
        dir.path(),
        stdout,
    );
    readme_app::wait_ready(&mut child, &addr).await;
    let signup = json!({"email": unique("admin"), "password": PASSWORD, "company_name": "Acme"}).to_string();
    let (status, body) = readme_app::http(&addr, "POST", "/api/auth/signup", None, Some(&signup)).await;
    assert_eq!(status, 201, "{body}");
    let access = serde_json::from_str::<Value>(&body).unwrap()["access"].as_str().unwrap().to_string();
    let invitation = json!({"email": unique("someone"), "role": "staff"}).to_string();
    // About 1 KiB per message: a 64 KiB pipe is full after some 60; send well past that, many at once.
    let mut answered = 0;
    for _ in 0..20 {
        let batch = join_all((0..8).map(|_| {
            tokio::time::timeout(
                Duration::from_secs(2),
                readme_app::http(&addr, "POST", "/api/members", Some(&access), Some(&invitation)),
            )
        }))
        .await;
        answered += batch.iter().filter(|r| r.is_ok()).count();
    }
    let health =
        tokio::time::timeout(Duration::from_secs(5), readme_app::http(&addr, "GET", "/healthz", None, None)).await;
    (matches!(health, Ok((200, _))), answered)
}

/// Finding: the console backend writes with a blocking `write_all` on standard output, on a
/// runtime worker thread, under the process-wide stdout lock. When stdout stops draining (a
/// stalled log pipe or collector), the first send blocks its worker and every later send blocks
/// on the lock, until no worker is left: the whole server, `/healthz` included, stops
/// answering. Invitations are unthrottled, so one admin fills the pipe in seconds. (stdout is
/// piped here and never read.)
#[tokio::test]
async fn a_stdout_that_stops_draining_does_not_stop_the_server() {
    let (healthy, answered) = healthy_after_a_burst_of_console_mail(std::process::Stdio::piped()).await;
    assert!(
        healthy,
        "/healthz did not answer within 5 s once stdout stopped draining ({answered} of 160 invitations answered)"
    );
}

/// Control of the finding above (passes): the same burst with stdout drained (`/dev/null`).
#[tokio::test]
async fn control_a_drained_stdout_keeps_the_server_up() {
    let (healthy, answered) = healthy_after_a_burst_of_console_mail(std::process::Stdio::null()).await;
    assert!(healthy && answered == 160, "{answered} of 160 invitations answered");
}
