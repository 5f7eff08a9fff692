//! The documented way to build an app (README's "Declaring a resource", built as the
//! `readme_app` binary) is safe by default: on PostgreSQL it refuses to serve with a role that
//! escapes row-level security, and says so on stderr with no logging set up; the override
//! (`ALLOW_RLS_BYPASS=1`) serves with a warning on stderr; the default serving role serves.

use std::process::Stdio;
use std::time::Duration;

use tests::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const README_APP: &str = env!("CARGO_BIN_EXE_readme_app");

/// How long the app may take to migrate and start (or refuse) on a loaded machine.
const STARTUP: Duration = Duration::from_secs(60);

fn free_addr() -> String {
    tests::ports::free_local_addr().to_string()
}

/// Starts the README app with only the given settings (none inherited from this process).
fn start(envs: &[(&str, &str)], dir: &std::path::Path) -> Child {
    let mut command = Command::new(README_APP);
    command.env_clear().current_dir(dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.env("PATH", std::env::var_os("PATH").unwrap_or_default()).kill_on_drop(true);
    for (name, value) in envs {
        command.env(name, value);
    }
    command.spawn().expect("the readme_app binary starts")
}

/// Waits for the app to exit; returns its stderr. Panics if it is still running after `STARTUP`.
async fn refused(child: Child) -> String {
    let output = tokio::time::timeout(STARTUP, child.wait_with_output())
        .await
        .expect("the app refuses and exits instead of serving")
        .expect("its output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "a refusal exits non-zero; stderr: {stderr}");
    assert!(!stdout.contains("listening"), "it never served; stdout: {stdout}");
    stderr
}

/// Waits until the app answers `GET /healthz` with 200 on `addr`, then stops it; returns its
/// stderr. Panics if it exits or does not answer within `STARTUP`.
async fn serves(mut child: Child, addr: &str) -> String {
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        if let Some(status) = child.try_wait().expect("the app's status") {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
            panic!("the app exited ({status}) instead of serving; stderr: {stderr}");
        }
        if let Ok(mut stream) = TcpStream::connect(addr).await {
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            assert!(response.starts_with("HTTP/1.1 200"), "healthz: {response}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the app did not start serving on {addr}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    String::from_utf8_lossy(&output.stderr).into_owned()
}

both_backends! {
    async fn the_readme_app_refuses_to_serve_past_row_level_security(app: TestApp) {
        let dir = tempfile::tempdir().unwrap();
        let url = app.database_url.clone();
        match app.backend {
            Backend::Sqlite => {
                // Nothing to bypass on SQLite: it serves, and the development secret is announced
                // on stderr although no logging is set up.
                let addr = free_addr();
                let stderr = serves(start(&[("DATABASE_URL", &url), ("BIND_ADDR", &addr)], dir.path()), &addr).await;
                assert!(stderr.contains("JWT_SECRET is not set"), "stderr: {stderr}");
            }
            Backend::Postgres => {
                // Served as the owner, a superuser here: refused, with the reason and the fix.
                let addr = free_addr();
                let envs = [("DATABASE_URL", url.as_str()), ("DATABASE_APP_URL", url.as_str()), ("BIND_ADDR", addr.as_str())];
                let stderr = refused(start(&envs, dir.path())).await;
                assert!(stderr.contains("refusing to serve"), "stderr: {stderr}");
                assert!(stderr.contains("is a superuser"), "stderr: {stderr}");
                assert!(stderr.contains("ALLOW_RLS_BYPASS=1"), "the way out is named; stderr: {stderr}");
                assert!(!stderr.contains("RlsBypass"), "a sentence, not a Debug dump; stderr: {stderr}");
                // The documented override serves, loudly.
                let addr = free_addr();
                let envs = [
                    ("DATABASE_URL", url.as_str()),
                    ("DATABASE_APP_URL", url.as_str()),
                    ("ALLOW_RLS_BYPASS", "1"),
                    ("BIND_ADDR", addr.as_str()),
                ];
                let stderr = serves(start(&envs, dir.path()), &addr).await;
                assert!(stderr.contains("ALLOW_RLS_BYPASS is set: serving although"), "stderr: {stderr}");
                // The default: the migration's serving role, subject to RLS, serves.
                let addr = free_addr();
                let envs = [("DATABASE_URL", url.as_str()), ("BIND_ADDR", addr.as_str())];
                let stderr = serves(start(&envs, dir.path()), &addr).await;
                assert!(!stderr.contains("refusing"), "stderr: {stderr}");
            }
        }
    }
}

/// `APP_ENV=production` refuses every development default at once, one line each on stderr, and
/// serves once they are set (SQLite: no database role to configure).
#[tokio::test]
async fn production_refuses_the_development_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("prod.db").display());
    let addr = free_addr();
    let base = [("DATABASE_URL", url.as_str()), ("BIND_ADDR", addr.as_str()), ("APP_ENV", "production")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };

    let stderr = refused(start(&with(&[("ALLOW_RLS_BYPASS", "1"), ("DOCS_PAGE", "on")]), dir.path())).await;
    assert!(stderr.contains("refusing to start with APP_ENV=production"), "{stderr}");
    for line in ["  - JWT_SECRET is unset", "  - the docs page is on: set DOCS_PAGE=off", "  - ALLOW_RLS_BYPASS is set"]
    {
        assert!(stderr.lines().any(|l| l.starts_with(line)), "{line:?} is not a line of: {stderr}");
    }
    let secret = ("JWT_SECRET", "a-production-secret-of-more-than-32-bytes");
    serves(start(&with(&[secret, ("ALLOWED_HOSTS", "127.0.0.1, api.example.com")]), dir.path()), &addr).await;
    // Development (the default) still serves with the defaults, warning about them.
    let stderr = serves(start(&[base[0], base[1]], dir.path()), &addr).await;
    assert!(stderr.contains("JWT_SECRET is not set"), "{stderr}");
}
