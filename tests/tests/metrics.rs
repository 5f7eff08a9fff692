//! Prometheus metrics (issue 14, item 3; `tenant_core::metrics`), read as a scraper reads them:
//! every scrape is checked line by line against the text format's grammar and parsed with a
//! Prometheus text parser, and the tests count their own requests in it.
//!
//! - Unconfigured, nothing is served (`/metrics` is 404).
//! - `METRICS_TOKEN`: the API's address serves `/metrics` to that bearer token only (401
//!   otherwise); requests are counted by method, route template (never an id) and status, with
//!   a latency histogram; the pool's gauges are there; a non-standard method is `OTHER`.
//! - `METRICS_PER_COMPANY`: tenant requests by active company, only once the membership holds
//!   (naming another company counts nothing for it); absent unless asked for.
//! - `METRICS_ADDR`: served on that address only, not on the API's; the token holds there too.

use std::net::SocketAddr;

use std::collections::BTreeMap;

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{PrometheusType, PrometheusValue};
use serde_json::json;
use tests::wire::{Client, Framing};
use tests::*;

const TOKEN: &str = "metrics-token-of-the-tests-0123456789";

/// One series of a scrape, as the parser read it.
#[derive(Debug)]
struct Sample {
    metric: String,
    labels: BTreeMap<String, String>,
    value: Reading,
}

#[derive(Debug)]
enum Reading {
    Number(f64),
    /// Cumulative buckets (upper bound, count), the count and the sum.
    Histogram {
        buckets: Vec<(f64, f64)>,
        count: f64,
        sum: f64,
    },
}

/// A scrape: every series of every family.
#[derive(Debug)]
struct Scrape {
    samples: Vec<Sample>,
}

async fn scrape(app: &TestApp) -> Scrape {
    let r = app.get("/metrics", &Auth::bearer(TOKEN)).await;
    r.assert_status(200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    parse(&r.text)
}

/// Parses `text` with a parser of the text format's grammar (a pest grammar, which also
/// checks that each family's samples match its `# TYPE`), panicking on anything else.
#[track_caller]
fn parse(text: &str) -> Scrape {
    let exposition = parse_prometheus(text).unwrap_or_else(|e| panic!("not Prometheus text format: {e:?}\n{text}"));
    let mut samples = Vec::new();
    for (name, family) in &exposition.families {
        for sample in family.iter_samples() {
            let labels = sample.get_labelset().expect("labels bound to the family");
            let labels = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let value = match (&family.family_type, &sample.value) {
                (PrometheusType::Counter, PrometheusValue::Counter(c)) => Reading::Number(c.value.as_f64()),
                (PrometheusType::Gauge, PrometheusValue::Gauge(n)) => Reading::Number(n.as_f64()),
                (PrometheusType::Histogram, PrometheusValue::Histogram(h)) => Reading::Histogram {
                    buckets: h.buckets.iter().map(|b| (b.upper_bound, b.count.as_f64())).collect(),
                    count: h.count.expect("a _count") as f64,
                    sum: h.sum.expect("a _sum").as_f64(),
                },
                (kind, value) => panic!("{name}: a {kind:?} family with a sample {value:?}"),
            };
            samples.push(Sample { metric: name.clone(), labels, value });
        }
    }
    Scrape { samples }
}

/// The samples of `metric` whose labels include every one of `labels`.
fn samples<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .collect()
}

/// The value of the one series of `metric` with exactly these labels; 0 when there is none (a
/// counter not yet incremented has no series).
#[track_caller]
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<_> =
        samples(scrape, metric, labels).into_iter().filter(|s| s.labels.len() == labels.len()).collect();
    match found[..] {
        [] => 0.0,
        [Sample { value: Reading::Number(v), .. }] => *v,
        _ => panic!("{metric} {labels:?}: {found:?}"),
    }
}

fn requests(scrape: &Scrape, method: &str, route: &str, status: &str) -> f64 {
    value(scrape, "http_requests_total", &[("method", method), ("route", route), ("status", status)])
}

/// The latency histogram of `method route`: buckets, count and sum (zeros when absent).
#[track_caller]
fn latency(scrape: &Scrape, method: &str, route: &str) -> (Vec<(f64, f64)>, f64, f64) {
    let found = samples(scrape, "http_request_duration_seconds", &[("method", method), ("route", route)]);
    match found[..] {
        [] => (Vec::new(), 0.0, 0.0),
        [Sample { value: Reading::Histogram { buckets, count, sum }, .. }] => (buckets.clone(), *count, *sum),
        _ => panic!("one histogram of {method} {route}: {found:?}"),
    }
}

both_backends! {
    async fn metrics_are_not_served_unless_configured(app: TestApp) {
        app.get("/metrics", &Auth::None).await.assert_status(404);
        app.get("/metrics", &Auth::bearer(TOKEN)).await.assert_status(404);
    }

    async fn the_token_guards_metrics_and_they_count_the_tests_own_requests(app: TestApp) {
        let alice = app.signup("Acme").await;
        let app = app.connect_again_with(|c| c.metrics_token = Some(TOKEN.to_string())).await;

        let bearer_token = format!("Bearer {TOKEN}");
        let token_scheme = format!("Token {TOKEN}");
        let user_token = format!("Bearer {}", alice.access);
        for (headers, detail) in [
            (vec![], "Authentication credentials were not provided."),
            (vec![("authorization", "Bearer wrong-token")], "Token is invalid."),
            (vec![("authorization", user_token.as_str())], "Token is invalid."),
            (vec![("authorization", token_scheme.as_str())], "Invalid Authorization header: expected `Bearer <token>`."),
            (vec![("authorization", "Bearer ")], "Invalid Authorization header: expected `Bearer <token>`."),
            (
                vec![("authorization", bearer_token.as_str()), ("authorization", bearer_token.as_str())],
                "Authorization was sent more than once: send one `Bearer <token>`.",
            ),
        ] {
            let r = app.send("GET", "/metrics", &headers, None).await;
            assert_eq!(r.status, 401, "{headers:?}: {}", r.text);
            assert_eq!(r.body, json!({"detail": detail}), "{headers:?}");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }

        let before = scrape(&app).await;
        for _ in 0..3 {
            app.get("/api/customers", &alice.auth()).await.assert_status(200);
        }
        let created = app.post("/api/customers", &alice.auth(), json!({"name": "Ann", "email": "ann@acme.test"})).await;
        created.assert_status(201);
        let id = created.id();
        app.get(&format!("/api/customers/{id}"), &alice.auth()).await.assert_status(200);
        app.get(&format!("/api/customers/{}", uuid::Uuid::now_v7()), &alice.auth()).await.assert_status(404);
        app.get("/api/no-such-thing", &alice.auth()).await.assert_status(404);
        app.request("BREW", "/api/customers", &alice.auth(), None).await.assert_status(405);
        app.get("/api/customers", &Auth::None).await.assert_status(401);
        let after = scrape(&app).await;

        let delta = |method, route, status| requests(&after, method, route, status) - requests(&before, method, route, status);
        assert_eq!(delta("GET", "/api/customers", "200"), 3.0);
        assert_eq!(delta("POST", "/api/customers", "201"), 1.0);
        assert_eq!(delta("GET", "/api/customers/{id}", "200"), 1.0);
        assert_eq!(delta("GET", "/api/customers/{id}", "404"), 1.0);
        assert_eq!(delta("GET", "(unmatched)", "404"), 1.0);
        assert_eq!(delta("OTHER", "/api/customers", "405"), 1.0);
        assert_eq!(delta("GET", "/api/customers", "401"), 1.0);
        // The first scrape is counted by the time of the second; the refused ones too.
        assert_eq!(delta("GET", "/metrics", "200"), 1.0);
        assert_eq!(requests(&after, "GET", "/metrics", "401"), 6.0);
        assert!(samples(&after, "http_requests_total", &[("method", "BREW")]).is_empty());

        // No id in any label: routes are templates.
        for sample in &after.samples {
            for v in sample.labels.values() {
                assert!(!v.contains(&id.to_string()), "{sample:?}");
                assert!(v.split('/').all(|part| uuid::Uuid::try_parse(part).is_err() || sample.metric.contains("company")), "{sample:?}");
            }
        }

        // The histogram: cumulative buckets at the documented bounds, the last one +Inf and
        // equal to the count, which counts the requests.
        let (buckets, count, sum) = latency(&after, "GET", "/api/customers");
        let le: Vec<f64> = buckets.iter().map(|(le, _)| *le).collect();
        let mut expected = tenant_core::metrics::LATENCY_BUCKETS.to_vec();
        expected.push(f64::INFINITY);
        assert_eq!(le, expected);
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative: {buckets:?}");
        assert_eq!(buckets.last().unwrap().1, count);
        let (_, count_before, sum_before) = latency(&before, "GET", "/api/customers");
        assert_eq!(count - count_before, 4.0, "three 200s and the 401");
        assert!(sum > sum_before);
        let (_, retrieves, _) = latency(&after, "GET", "/api/customers/{id}");
        assert_eq!(retrieves - latency(&before, "GET", "/api/customers/{id}").1, 2.0);

        // The pool, read when scraped; the scrape itself is the request in flight.
        let max = value(&after, "db_pool_max_connections", &[]);
        assert_eq!(max, f64::from(app.state.config().max_connections));
        let idle = value(&after, "db_pool_connections", &[("state", "idle")]);
        let in_use = value(&after, "db_pool_connections", &[("state", "in_use")]);
        assert!(idle + in_use >= 1.0 && idle + in_use <= max, "idle {idle}, in use {in_use}, max {max}");
        assert_eq!(value(&after, "db_pool_waiting", &[]), 0.0);
        assert_eq!(value(&after, "http_requests_in_flight", &[]), 1.0);
        // Per company only when asked for.
        assert!(samples(&after, "http_requests_by_company_total", &[]).is_empty());
    }

    async fn per_company_counts_only_verified_memberships(app: TestApp) {
        let alice = app.signup("Acme").await;
        let bob = app.signup("Globex").await;
        let eve = app.signup("Evilcorp").await;
        let app = app
            .connect_again_with(|c| {
                c.metrics_token = Some(TOKEN.to_string());
                c.metrics_per_company = true;
            })
            .await;
        let company = |scrape: &Scrape, user: &User| {
            value(scrape, "http_requests_by_company_total", &[("company_id", &user.company_id.to_string())])
        };
        let before = scrape(&app).await;
        for _ in 0..3 {
            app.get("/api/customers", &alice.auth()).await.assert_status(200);
        }
        for _ in 0..2 {
            app.get("/api/products", &bob.auth()).await.assert_status(200);
        }
        // Eve names Acme: refused, and counted for nobody.
        app.get("/api/customers", &eve.in_company(alice.company_id)).await.assert_status(403);
        let after = scrape(&app).await;
        assert_eq!(company(&after, &alice) - company(&before, &alice), 3.0);
        assert_eq!(company(&after, &bob) - company(&before, &bob), 2.0);
        assert_eq!(company(&after, &eve), 0.0);
    }

    async fn a_metrics_address_of_their_own_serves_them_there_only(app: TestApp) {
        let alice = app.signup("Acme").await;
        let metrics_addr: SocketAddr = tests::ports::free_local_addr();
        let app = app.connect_again_with(|c| c.metrics_addr = Some(metrics_addr)).await;
        let served = app.serve().await;
        // The metrics listener is bound by the server as it starts.
        let mut metrics = connect_within(metrics_addr).await;
        let mut api = Client::connect(served.addr).await;
        let bearer = format!("Bearer {}", alice.access);
        for _ in 0..2 {
            let (r, _) = api.exchange("GET", "/api/customers", &[("authorization", bearer.clone())], b"", Framing::ContentLength).await.unwrap();
            assert_eq!(r.status, 200);
        }
        let (r, _) = api.exchange("GET", "/metrics", &[], b"", Framing::ContentLength).await.unwrap();
        assert_eq!(r.status, 404, "the API's address does not serve the metrics");
        let (r, _) = metrics.exchange("GET", "/metrics", &[], b"", Framing::ContentLength).await.unwrap();
        assert_eq!(r.status, 200);
        let scrape = parse(std::str::from_utf8(&r.body).unwrap());
        assert_eq!(requests(&scrape, "GET", "/api/customers", "200"), 2.0);
        assert_eq!(requests(&scrape, "GET", "(unmatched)", "404"), 1.0, "the API's 404 for /metrics");
        let (r, _) = metrics.exchange("GET", "/api/customers", &[("authorization", bearer.clone())], b"", Framing::ContentLength).await.unwrap();
        assert_eq!(r.status, 404, "the metrics address serves nothing else");
        drop(served);

        // With a token as well, the metrics address asks for it.
        let metrics_addr: SocketAddr = tests::ports::free_local_addr();
        let app = app
            .connect_again_with(|c| {
                c.metrics_addr = Some(metrics_addr);
                c.metrics_token = Some(TOKEN.to_string());
            })
            .await;
        let _served = app.serve().await;
        let mut metrics = connect_within(metrics_addr).await;
        let (r, _) = metrics.exchange("GET", "/metrics", &[], b"", Framing::ContentLength).await.unwrap();
        assert_eq!(r.status, 401);
        let auth = format!("Bearer {TOKEN}");
        let (r, _) = metrics.exchange("GET", "/metrics", &[("authorization", auth.clone())], b"", Framing::ContentLength).await.unwrap();
        assert_eq!(r.status, 200);
        parse(std::str::from_utf8(&r.body).unwrap());
    }
}

/// A connection to `addr`, retried for a few seconds while the server binds it.
async fn connect_within(addr: SocketAddr) -> Client {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Client::connect(addr).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {addr}");
}
