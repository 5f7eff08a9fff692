//! Request tracing (issue 14, item 2; API.md, "Operations"): every answer carries `X-Request-Id`
//! (the client's when sane, else a new one), and each request logs, inside one span, its method,
//! route template, request id, user, company, status and latency. The log is captured as JSON
//! lines, as `LOG_FORMAT=json` writes them, twice: at the default filter (`DEFAULT_FILTER`:
//! refused and failed requests only, each line saying which request it was) and with the
//! request trace at `DEBUG` (the span, and a line for every answer).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use tests::*;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The two captures: at the default filter, and with the request trace at `DEBUG`.
struct Logs {
    default: Arc<Mutex<Vec<u8>>>,
    debug: Arc<Mutex<Vec<u8>>>,
}

/// The JSON lines every test of this binary logs (one global subscriber: a request's future may
/// move between the runtime's threads).
fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs { default: Arc::default(), debug: Arc::default() };
        let layer = |buffer: &Arc<Mutex<Vec<u8>>>, filter: &str| {
            let buffer = buffer.clone();
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(move || Capture(buffer.clone()))
                .with_filter(EnvFilter::new(filter))
                .boxed()
        };
        let subscriber = tracing_subscriber::registry().with(vec![
            layer(&logs.default, tenant_core::logging::DEFAULT_FILTER),
            layer(&logs.debug, "info,sqlx=warn,tenant_core::request_trace=debug"),
        ]);
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
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

fn lines(buffer: &Mutex<Vec<u8>>) -> (String, Vec<Value>) {
    let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    let lines = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    (text, lines)
}

/// The line that closes the request whose id is `request_id`, in the `DEBUG` capture (its span
/// has the id).
fn finished(request_id: &str) -> Value {
    let (text, lines) = lines(&logs().debug);
    let mut found = lines.into_iter().filter(|l| {
        ["request finished", "request refused", "request failed"].contains(&l["message"].as_str().unwrap_or(""))
            && l["span"]["request_id"] == request_id
    });
    let line = found.next().unwrap_or_else(|| panic!("no answer line for {request_id} in:\n{text}"));
    assert!(found.next().is_none(), "one answer line for {request_id}");
    line
}

/// Every line of the default capture that mentions `request_id` anywhere.
fn default_lines(request_id: &str) -> Vec<Value> {
    let (_, lines) = lines(&logs().default);
    lines.into_iter().filter(|l| l.to_string().contains(request_id)).collect()
}

both_backends! {
    async fn each_request_logs_one_span_with_route_user_company_status(app: TestApp) {
        logs();
        let alice = app.signup("Acme").await;
        let c = app.create("/api/customers", &alice.auth(), json!({"name": "Ann", "email": "ann@acme.test"})).await;
        let path = format!("/api/customers/{}", c["id"].as_str().unwrap());
        let id = format!("req-{}", uuid::Uuid::now_v7());
        let bearer = format!("Bearer {}", alice.access);
        let r = app.send("GET", &path, &[("authorization", &bearer), ("x-request-id", &id)], None).await;
        r.assert_status(200);
        assert_eq!(r.header("x-request-id"), Some(id.as_str()), "the client's id comes back");

        let line = finished(&id);
        assert_eq!(line["level"], "DEBUG");
        assert_eq!(line["message"], "request finished");
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
        assert_eq!((line["level"].as_str(), line["message"].as_str()), (Some("WARN"), Some("request refused")));
        assert_eq!(line["status"], 403);
        assert_eq!(line["span"]["user_id"], json!(alice.id.to_string()));
        assert!(line["span"].get("company_id").is_none(), "{line}");
        // No route at all.
        let id = format!("req-{}", uuid::Uuid::now_v7());
        app.send("GET", "/nowhere/42", &[("x-request-id", &id)], None).await.assert_status(404);
        assert_eq!(finished(&id)["span"]["route"], "(unmatched)");
    }

    async fn an_insane_or_missing_request_id_is_replaced_by_a_new_one(app: TestApp) {
        logs();
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

    async fn at_the_default_filter_only_refused_and_failed_requests_log_and_say_which_they_were(app: TestApp) {
        logs();
        let alice = app.signup("Acme").await;
        let bearer = format!("Bearer {}", alice.access);
        // A success: nothing at the default filter.
        let id = format!("req-{}", uuid::Uuid::now_v7());
        app.send("GET", "/api/customers", &[("authorization", &bearer), ("x-request-id", &id)], None).await.assert_status(200);
        assert_eq!(default_lines(&id), Vec::<Value>::new(), "a success logs nothing at INFO");

        // Refused: one WARN line with the request's context as fields, no span (it is DEBUG).
        let id = format!("req-{}", uuid::Uuid::now_v7());
        let other = uuid::Uuid::now_v7().to_string();
        let headers = [("authorization", bearer.as_str()), ("x-request-id", id.as_str()), ("x-company-id", other.as_str())];
        app.send("GET", "/api/customers", &headers, None).await.assert_status(403);
        let [line] = &default_lines(&id)[..] else { panic!("one line: {:?}", default_lines(&id)) };
        assert_eq!((line["level"].as_str(), line["message"].as_str()), (Some("WARN"), Some("request refused")));
        assert_eq!(line["status"], 403);
        assert_eq!(line["method"], "GET");
        assert_eq!(line["route"], "/api/customers");
        assert_eq!(line["request_id"], json!(id));
        assert!(line.get("span").is_none(), "the span is DEBUG: {line}");

        // Failed: the database is gone. One ERROR line with the cause, which the answer never
        // shows, and which request it was; in the DEBUG capture, the same inside the span, which
        // says whose.
        app.db.close().await;
        let id = format!("req-{}", uuid::Uuid::now_v7());
        let r = app.send("GET", &format!("/api/customers/{}", uuid::Uuid::now_v7()), &[("authorization", &bearer), ("x-request-id", &id)], None).await;
        assert_eq!(r.status, 503, "{}", r.text);
        assert_eq!(r.body, json!({"detail": "Service temporarily unavailable: the database is unreachable or busy. Try again later."}));
        let [line] = &default_lines(&id)[..] else { panic!("one line: {:?}", default_lines(&id)) };
        assert_eq!((line["level"].as_str(), line["message"].as_str()), (Some("ERROR"), Some("request failed")));
        assert_eq!(line["status"], 503);
        assert_eq!(line["route"], "/api/customers/{id}");
        assert_eq!(line["request_id"], json!(id));
        let cause = line["cause"].as_str().expect("the cause is logged");
        assert!(!cause.is_empty() && !r.text.contains(cause), "{cause}");
        let line = finished(&id);
        assert_eq!(line["message"], "request failed");
        assert_eq!(line["span"]["user_id"], json!(alice.id.to_string()));
        assert_eq!(line["cause"], json!(cause));
    }
}
