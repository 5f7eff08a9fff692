//! Slow clients (issue 13, item 4), over real TCP through `tenant_core::Server`
//! (`TestApp::serve`):
//!
//! - a client that stalls in its request's head is disconnected at `HEADER_READ_TIMEOUT_SECS`,
//!   and so is a keep-alive connection left idle that long;
//! - a body that arrives slower than `BODY_READ_TIMEOUT_SECS` allows is answered 408 (with
//!   `Connection: close`) while it is still arriving, and nothing is stored;
//! - a client trickling a body for seconds does not delay another company's write: that write
//!   completes while the trickled body still misses its last bytes (on SQLite the write lock is
//!   taken only once a body is complete, `body_first.rs`).

use std::time::Duration;

use serde_json::json;
use tests::demo::customer_body;
use tests::wire::*;
use tests::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

fn bearer(user: &User) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {}", user.access)), ("content-type", "application/json".into())]
}

/// Reads until the server ends the connection; what it sent, or `Err` after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Result<String, String> {
    let mut received = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut received)).await {
        // A reset counts as closed too.
        Ok(_) => Ok(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => Err(format!("still open after {limit:?}")),
    }
}

/// No database work: SQLite only.
#[tokio::test]
async fn a_client_stalling_in_its_headers_is_disconnected_at_the_header_read_timeout() {
    let app = TestApp::for_app(Backend::Sqlite, demo_app::register).await.expect("SQLite");
    let strict = app.connect_again_with(|c| c.header_read_timeout = Duration::from_secs(1)).await;
    let served = strict.serve().await;

    // Half a head, then nothing: closed after about a second, well before the 10 s default, with
    // no answer served.
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ").await.unwrap();
    let started = Instant::now();
    let received =
        closed_within(&mut stream, Duration::from_secs(8)).await.expect("the stalled client is disconnected");
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the timeout: {:?}", started.elapsed());
    assert!(!received.contains(" 200 "), "nothing was served: {received:?}");

    // Not a cap on the connection: a head sent in time is served, and the connection is then
    // closed once it has been idle for the same timeout.
    let mut client = Client::connect(served.addr).await;
    let (response, _) = client.exchange("GET", "/healthz", &[], b"", Framing::ContentLength).await.unwrap();
    assert_eq!(response.status, 200);
    let idle = Instant::now();
    closed_within(&mut client.stream, Duration::from_secs(8)).await.expect("an idle keep-alive connection is closed");
    assert!(idle.elapsed() >= Duration::from_millis(900), "not before the timeout: {:?}", idle.elapsed());
}

both_backends! {
    async fn a_body_slower_than_the_body_read_timeout_gets_408_and_nothing_is_stored(app: TestApp) {
        let strict = app.connect_again_with(|c| c.body_read_timeout = Duration::from_secs(1)).await;
        let alice = strict.signup("Acme").await;
        let served = strict.serve().await;

        // A tenant write (its body read by body_first.rs): 4 s of trickling against a 1 s limit.
        let body = serde_json::to_vec(&customer_body("slow")).unwrap();
        let upload = SlowUpload::start(served.addr, "POST", "/api/customers", &bearer(&alice), body).await.unwrap();
        let len = upload.len();
        let (response, sent) = upload.finish(20, Duration::from_millis(200), async {}).await;
        let response = response.expect("an answer");
        assert_eq!(response.status, 408, "{:?}", String::from_utf8_lossy(&response.body));
        let detail: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(detail, json!({"detail": "The request body took too long to arrive."}));
        assert!(response.says_close(), "the rest of the body is never read: {:?}", response.headers);
        assert!(sent < len, "answered while the body was still arriving ({sent} of {len} bytes)");
        assert_eq!(strict.get("/api/customers", &alice.auth()).await.body["count"], json!(0), "nothing stored");

        // A route whose body the JSON extractor reads (no transaction to protect): the same 408.
        let login = serde_json::to_vec(&json!({"email": alice.email, "password": alice.password})).unwrap();
        let headers = [("content-type", "application/json".to_string())];
        let upload = SlowUpload::start(served.addr, "POST", "/api/auth/token", &headers, login).await.unwrap();
        let (response, _) = upload.finish(20, Duration::from_millis(200), async {}).await;
        assert_eq!(response.expect("an answer").status, 408);

        // A body that arrives within the limit is served.
        let body = serde_json::to_vec(&customer_body("timely")).unwrap();
        let upload = SlowUpload::start(served.addr, "POST", "/api/customers", &bearer(&alice), body).await.unwrap();
        let (response, _) = upload.finish(3, Duration::from_millis(50), async {}).await;
        assert_eq!(response.expect("an answer").status, 201);
    }

    async fn a_trickled_body_does_not_delay_another_companys_write(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Globex").await;
        let served = app.serve().await;

        // Alice's write is in flight, its body being read (100 Continue)…
        let body = serde_json::to_vec(&customer_body("trickled")).unwrap();
        let mut upload = SlowUpload::start(served.addr, "POST", "/api/customers", &bearer(&alice), body).await.unwrap();
        upload.send(5).await.unwrap();
        let len = upload.len();
        let progress = upload.progress();
        let (bob_done, bob_done_rx) = tokio::sync::oneshot::channel::<()>();
        // …and its last bytes wait for Bob's write (at most a long while: if Bob's write waited
        // for Alice's, both finish only then, and the assertion below fails instead of hanging).
        let trickle = tokio::spawn(upload.finish(10, Duration::from_millis(100), async move {
            let _ = tokio::time::timeout(Duration::from_secs(20), bob_done_rx).await;
        }));

        let mut client = Client::connect(served.addr).await;
        let bob_body = serde_json::to_vec(&customer_body("bob")).unwrap();
        let (response, _) =
            client.exchange("POST", "/api/customers", &bearer(&bob), &bob_body, Framing::ContentLength).await.unwrap();
        let sent_when_bob_done = progress.load(std::sync::atomic::Ordering::SeqCst);
        let _ = bob_done.send(());
        assert_eq!(response.status, 201, "{:?}", String::from_utf8_lossy(&response.body));
        assert!(
            sent_when_bob_done < len,
            "Bob's write completed while Alice's body was still arriving ({sent_when_bob_done} of {len} bytes sent)"
        );

        let (response, sent) = trickle.await.unwrap();
        assert_eq!(response.expect("an answer").status, 201);
        assert_eq!(sent, len);
        assert_eq!(app.get("/api/customers", &alice.auth()).await.body["count"], json!(1));
        assert_eq!(app.get("/api/customers", &bob.auth()).await.body["count"], json!(1));
    }
}
