//! Request tracing (issue 14, item 2; API.md, "Operations"): every answer carries `X-Request-Id`
//! (the client's when sane, else a new one), and each request logs, inside one span, its method,
//! route template, request id, user, company, status and latency. The log is captured as JSON
//! lines, as `LOG_FORMAT=json` writes them.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use tests::*;

/// The JSON lines every test of this binary logs (one global subscriber: a request's future may
/// move between the runtime's threads).
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer: Arc<Mutex<Vec<u8>>> = Arc::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("info,sqlx=warn")
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(move || Capture(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buffer
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The `request finished` line of the request whose id is `request_id`.
fn finished(request_id: &str) -> Value {
    let text = String::from_utf8(log().lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    lines
        .into_iter()
        .find(|l| l["message"] == "request finished" && l["span"]["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no `request finished` line for {request_id} in:\n{text}"))
}

both_backends! {
    async fn each_request_logs_one_span_with_route_user_company_status(app: TestApp) {
        log();
        let alice = app.signup("Acme").await;
        let c = app.create("/api/customers", &alice.auth(), json!({"name": "Ann", "email": "ann@acme.test"})).await;
        let path = format!("/api/customers/{}", c["id"].as_str().unwrap());
        let id = format!("req-{}", uuid::Uuid::now_v7());
        let bearer = format!("Bearer {}", alice.access);
        let r = app.send("GET", &path, &[("authorization", &bearer), ("x-request-id", &id)], None).await;
        r.assert_status(200);
        assert_eq!(r.header("x-request-id"), Some(id.as_str()), "the client's id comes back");

        let line = finished(&id);
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["status"], 200);
        assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
        let span = &line["span"];
        assert_eq!(span["name"], "request");
        assert_eq!(span["method"], "GET");
        assert_eq!(span["route"], "/api/customers/{id}", "the template, not the path with its id");
        assert_eq!(span["user_id"], json!(alice.id.to_string()));
        assert_eq!(span["company_id"], json!(alice.company_id.to_string()));

        // A refused request: the user is known, the company is not; the status is the answer's.
        let id = format!("req-{}", uuid::Uuid::now_v7());
        let other = uuid::Uuid::now_v7().to_string();
        let r = app.send("GET", "/api/customers", &[("authorization", &bearer), ("x-request-id", &id), ("x-company-id", &other)], None).await;
        r.assert_status(403);
        let line = finished(&id);
        assert_eq!(line["status"], 403);
        assert_eq!(line["span"]["user_id"], json!(alice.id.to_string()));
        assert!(line["span"].get("company_id").is_none(), "{line}");
        // No route at all.
        let id = format!("req-{}", uuid::Uuid::now_v7());
        app.send("GET", "/nowhere/42", &[("x-request-id", &id)], None).await.assert_status(404);
        assert_eq!(finished(&id)["span"]["route"], "(unmatched)");
    }

    async fn an_insane_or_missing_request_id_is_replaced_by_a_new_one(app: TestApp) {
        log();
        let long = "x".repeat(129);
        for headers in [
            vec![],
            vec![("x-request-id", "has space")],
            vec![("x-request-id", long.as_str())],
            vec![("x-request-id", "")],
            vec![("x-request-id", "one"), ("x-request-id", "two")],
        ] {
            let r = app.send("GET", "/healthz", &headers, None).await;
            r.assert_status(200);
            let id = r.header("x-request-id").expect("every answer has an id").to_string();
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{headers:?} → {id}");
            assert_eq!(finished(&id)["span"]["route"], "/healthz");
        }
        // Two answers, two ids; error answers carry one too.
        let a = app.send("GET", "/healthz", &[], None).await;
        let b = app.send("GET", "/api/me", &[], None).await;
        b.assert_status(401);
        assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
        assert!(b.header("x-request-id").is_some());
    }
}
