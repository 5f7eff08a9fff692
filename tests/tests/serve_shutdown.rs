//! Graceful shutdown (issue 13, item 6), on the real server process: the `demo_server` binary
//! (`demo_app::serve`, what `demo-app serve` runs) over this test's database, sent SIGTERM.
//!
//! - Requests in flight when the signal comes finish with their normal answer, and their writes
//!   are stored; new connections are refused as soon as the signal is handled; an idle
//!   keep-alive connection does not hold the shutdown; the process exits 0 within
//!   `SHUTDOWN_TIMEOUT_SECS`, after logging each phase.
//! - A request that outlives a short `SHUTDOWN_TIMEOUT_SECS` is dropped at the deadline (nothing
//!   stored), and the process still exits 0, promptly.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tests::demo::{customer_body, product_body};
use tests::wire::*;
use tests::*;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

const DEMO_SERVER: &str = env!("CARGO_BIN_EXE_demo_server");

/// How long the server may take to migrate and start on a loaded machine.
const STARTUP: Duration = Duration::from_secs(60);

/// The demo server, running as a process of its own.
struct DemoServer {
    child: Child,
    addr: SocketAddr,
    stderr: tokio::task::JoinHandle<String>,
}

impl DemoServer {
    /// Starts it over `app`'s database (on PostgreSQL the owner's URL: it migrates, finds nothing
    /// to do, and serves as the RLS-bound role), signing tokens as the tests do, with `envs`.
    async fn start(app: &TestApp, envs: &[(&str, &str)]) -> DemoServer {
        let addr: SocketAddr = tests::ports::free_local_addr();
        let mut command = Command::new(DEMO_SERVER);
        command.env_clear().stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
        command
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.database_url)
            .env("BIND_ADDR", addr.to_string())
            .env("JWT_SECRET", TEST_JWT_SECRET)
            .env("RUST_LOG", "info,sqlx=warn");
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the demo_server binary starts");
        let mut pipe = child.stderr.take().unwrap();
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text).await;
            text
        });
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the server exited ({status}) instead of serving; stderr: {}", stderr.await.unwrap());
            }
            if let Ok(stream) = TcpStream::connect(addr).await {
                drop(stream);
                break;
            }
            assert!(Instant::now() < deadline, "the server did not start on {addr}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        DemoServer { child, addr, stderr }
    }

    fn sigterm(&self) {
        let pid = self.child.id().expect("still running") as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid, which it still is (not yet reaped).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM sent");
    }

    /// Waits for the process to exit within `limit`; its status and stderr.
    async fn exit_within(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => {
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
                panic!("the server did not exit within {limit:?}; stderr: {}", self.stderr.await.unwrap());
            }
        };
        (status, self.stderr.await.unwrap())
    }
}

fn bearer(user: &User) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {}", user.access)), ("content-type", "application/json".into())]
}

/// Connects until a connection is refused (the listener closed); `Err` after `limit`. A
/// connection that is still accepted is closed at once, so it holds nothing up; one reset
/// (queued in the backlog of a listener that was just closed) is retried.
async fn refused_within(addr: SocketAddr, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        // A listener that is open but no longer accepting would leave connection attempts
        // pending once its backlog is full: each attempt gets a second.
        match tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await {
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(()),
            // The listener closed while this attempt sat in its backlog: the kernel resets
            // it. The next attempt tells whether the listener is really gone.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Ok(Err(e)) => return Err(format!("connecting failed otherwise: {e}")),
            Ok(Ok(stream)) => drop(stream),
            Err(_) => {}
        }
        if Instant::now() > deadline {
            return Err(format!("connections still accepted {limit:?} after the signal"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both_backends! {
    async fn sigterm_lets_the_requests_in_flight_finish_then_exits_0(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Globex").await;
        let server = DemoServer::start(&app, &[("SHUTDOWN_TIMEOUT_SECS", "20")]).await;
        let addr = server.addr;

        // An idle keep-alive connection (one request served on it): it must not hold the shutdown.
        let mut idle = Client::connect(addr).await;
        let (response, _) = idle.exchange("GET", "/healthz", &[], b"", Framing::ContentLength).await.unwrap();
        assert_eq!(response.status, 200);

        // Two writes in flight, of two companies: the server is reading their bodies (100
        // Continue) when the signal comes, and gets their last bytes only once new connections
        // are refused.
        let (refused, refused_rx) = tokio::sync::watch::channel(false);
        let mut uploads = Vec::new();
        for (user, path, body) in
            [(&alice, "/api/customers", customer_body("in-flight")), (&bob, "/api/products", product_body("in-flight"))]
        {
            let body = serde_json::to_vec(&body).unwrap();
            let mut upload = SlowUpload::start(addr, "POST", path, &bearer(user), body).await.unwrap();
            upload.send(3).await.unwrap();
            let mut refused_rx = refused_rx.clone();
            uploads.push(tokio::spawn(upload.finish(8, Duration::from_millis(150), async move {
                let _ = refused_rx.wait_for(|refused| *refused).await;
            })));
        }

        server.sigterm();
        let signalled = Instant::now();
        refused_within(addr, Duration::from_secs(10)).await.unwrap();
        let _ = refused.send(true);

        // The idle connection is closed by the server, without an answer.
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(10), idle.stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the idle keep-alive connection was closed");
        assert!(rest.is_empty(), "nothing was sent on it: {:?}", String::from_utf8_lossy(&rest));

        for upload in uploads {
            let (response, _) = upload.await.unwrap();
            let response = response.expect("the request in flight is answered");
            assert_eq!(response.status, 201, "{:?}", String::from_utf8_lossy(&response.body));
        }

        let (status, stderr) = server.exit_within(Duration::from_secs(30)).await;
        assert!(status.success(), "exit status {status}; stderr: {stderr}");
        assert!(signalled.elapsed() < Duration::from_secs(20), "exited within SHUTDOWN_TIMEOUT_SECS: {:?}", signalled.elapsed());
        for phase in ["SIGTERM received", "no longer accepting connections", "every connection is closed", "closing the database pool", "shut down"] {
            assert!(stderr.contains(phase), "{phase:?} is logged; stderr: {stderr}");
        }

        // The acknowledged writes are in the database.
        let customers = app.get("/api/customers", &alice.auth()).await;
        assert_eq!(customers.body["count"], json!(1), "{}", customers.text);
        assert_eq!(customers.body["results"][0]["name"], json!("Customer in-flight"));
        let products = app.get("/api/products", &bob.auth()).await;
        assert_eq!(products.body["count"], json!(1), "{}", products.text);
    }

    async fn a_request_past_the_shutdown_deadline_is_dropped_and_the_process_still_exits_0(app: TestApp) {
        let alice = app.signup("Acme").await;
        // The body and request timeouts would wait far longer than the shutdown deadline.
        let envs = [("SHUTDOWN_TIMEOUT_SECS", "1"), ("BODY_READ_TIMEOUT_SECS", "300"), ("REQUEST_TIMEOUT_SECS", "300")];
        let server = DemoServer::start(&app, &envs).await;

        let body = serde_json::to_vec(&customer_body("never-finished")).unwrap();
        let mut upload = SlowUpload::start(server.addr, "POST", "/api/customers", &bearer(&alice), body).await.unwrap();
        upload.send(10).await.unwrap();

        server.sigterm();
        let signalled = Instant::now();
        let (status, stderr) = server.exit_within(Duration::from_secs(15)).await;
        let took = signalled.elapsed();
        assert!(status.success(), "exit status {status}; stderr: {stderr}");
        assert!(took >= Duration::from_millis(900), "the deadline was waited for: {took:?}");
        assert!(stderr.contains("dropping the connections still open"), "stderr: {stderr}");
        assert!(stderr.contains("shut down"), "stderr: {stderr}");

        // The request was dropped: no answer on its connection, nothing stored.
        let received = upload.closed_within(Duration::from_secs(5)).await.expect("its connection is gone");
        assert!(received.is_empty(), "no answer: {:?}", String::from_utf8_lossy(&received));
        assert_eq!(app.get("/api/customers", &alice.auth()).await.body["count"], json!(0));
    }
}
