//! Prometheus metrics (cargo feature `metrics`; issue 14): `GET /metrics` in Prometheus' text
//! exposition format (version 0.0.4, what every Prometheus server scrapes), built with the
//! `prometheus` crate on a registry of the app's own (no process-wide state: two apps in one
//! process, as in tests, count apart).
//!
//! What is counted, for every request the router answers (fallbacks included):
//!
//! - `http_requests_total{method, route, status}`: answers, by method (the nine standard ones,
//!   anything else as `OTHER`: a client must not be able to add series), matched route template
//!   (`/api/customers/{id}`; `(unmatched)` for the 404 fallback) and status code;
//! - `http_request_duration_seconds{method, route}`: a histogram of the time to the response head
//!   ([`LATENCY_BUCKETS`]);
//! - `http_requests_in_flight`: requests being answered now;
//! - `db_pool_connections{state="idle"|"in_use"}`, `db_pool_max_connections`, `db_pool_waiting`:
//!   the serving pool when scraped ([`PoolStats`]);
//! - `http_requests_by_company_total{company_id}`, only with `METRICS_PER_COMPANY=1`: tenant
//!   requests by active company, counted once the membership is verified. Off by default: one
//!   series per company is a cardinality Prometheus' own documentation warns against for large
//!   tenant counts.
//!
//! Who may read them ([`Config`](crate::Config)): with `METRICS_ADDR`, only a listener of their
//! own on that address serves `/metrics` (bind it where only the scraper reaches; the API's
//! address does not serve it); otherwise, with `METRICS_TOKEN`, the API's address serves it to
//! `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise, as any unauthenticated request). The
//! token is required on `METRICS_ADDR` too when both are set. Neither set: nothing is recorded,
//! no layer is added, and `/metrics` is 404.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sha2::{Digest, Sha256};
use tower::{Layer, Service};
use uuid::Uuid;

use crate::db::{Db, PoolStats};
use crate::error::ApiError;

/// Upper bounds of the latency histogram's buckets, in seconds: from half a millisecond (a
/// retrieve served from a warm pool) to ten seconds (past the default request timeout).
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The `Content-Type` of the text format (`prometheus::TEXT_FORMAT`).
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The app's metrics: its registry and the handles requests update. Made by the app's state
/// when `METRICS_TOKEN` or `METRICS_ADDR` is set.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    pool_waiting: IntGauge,
    companies: Option<IntCounterVec>,
    db: Db,
    /// SHA-256 of `METRICS_TOKEN`: compared digest to digest, so the comparison's time says
    /// nothing about the token.
    token_digest: Option<[u8; 32]>,
}

impl Metrics {
    /// A registry with every metric of the module's list; the per-company counter only if
    /// `per_company`. `token`: what `/metrics` requires, if anything.
    pub(crate) fn new(db: Db, per_company: bool, token: Option<&str>) -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, route template and status."),
            &["method", "route", "status"],
        )
        .expect("a valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from the request to its response head, in seconds.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )
        .expect("a valid metric");
        let in_flight =
            IntGauge::new("http_requests_in_flight", "HTTP requests being answered now.").expect("a valid metric");
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Open connections of the serving pool, idle or in use."),
            &["state"],
        )
        .expect("a valid metric");
        let pool_max = IntGauge::new("db_pool_max_connections", "The most connections the serving pool opens.")
            .expect("a valid metric");
        let pool_waiting = IntGauge::new(
            "db_pool_waiting",
            "Requests waiting for a connection of the serving pool (until their transaction has begun).",
        )
        .expect("a valid metric");
        let companies = per_company.then(|| {
            IntCounterVec::new(
                Opts::new("http_requests_by_company_total", "Tenant requests by active company (METRICS_PER_COMPANY)."),
                &["company_id"],
            )
            .expect("a valid metric")
        });
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(in_flight.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_max.clone()),
            Box::new(pool_waiting.clone()),
        ]
        .into_iter()
        .chain(companies.clone().map(|c| Box::new(c) as Box<dyn prometheus::core::Collector>))
        {
            registry.register(collector).expect("each metric is registered once");
        }
        let token_digest = token.map(|token| Sha256::digest(token.as_bytes()).into());
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            pool_connections,
            pool_max,
            pool_waiting,
            companies,
            db,
            token_digest,
        }
    }

    /// Counts a tenant request of `company_id` (`METRICS_PER_COMPANY`); nothing otherwise.
    pub(crate) fn company_request(&self, company_id: Uuid) {
        if let Some(companies) = &self.companies {
            let mut buf = Uuid::encode_buffer();
            companies.with_label_values(&[&*company_id.hyphenated().encode_lower(&mut buf)]).inc();
        }
    }

    /// The text exposition of every metric, the pool's read now.
    pub fn render(&self) -> String {
        let PoolStats { size, idle, max, waiting } = self.db.stats();
        self.pool_connections.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool_connections.with_label_values(&["in_use"]).set(i64::from(size.saturating_sub(idle)));
        self.pool_max.set(i64::from(max));
        self.pool_waiting.set(i64::from(waiting));
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text).expect("the text encoder writes to memory");
        String::from_utf8(text).expect("the text format is UTF-8")
    }

    /// Whether `headers` carry the token `/metrics` requires (always, when none is set). The
    /// header is read as every authenticated route reads it (`identity.rs`: one `Bearer`
    /// token), with the same 401s; a token that is not this one is "Token is invalid.".
    fn authorized(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.token_digest else { return Ok(()) };
        let token = crate::authorization::bearer(headers)?;
        if <[u8; 32]>::from(Sha256::digest(token.as_bytes())) != *expected {
            return Err(ApiError::Unauthorized(crate::messages::TOKEN_INVALID));
        }
        Ok(())
    }

    fn record(&self, method: &'static str, route: &str, status: &str, seconds: f64) {
        self.requests.with_label_values(&[method, route, status]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }
}

/// `GET /metrics`, answered by `metrics` (see the module's doc for who may ask), as a router
/// of any state (it carries its own).
pub fn router<S: Clone + Send + Sync + 'static>(metrics: Arc<Metrics>) -> Router<S> {
    Router::new().route("/metrics", get(scrape)).with_state(metrics)
}

async fn scrape(State(metrics): State<Arc<Metrics>>, headers: HeaderMap) -> Result<Response, ApiError> {
    metrics.authorized(&headers)?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render()).into_response())
}

/// The method's label: one of the standard methods, or `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// The layer that counts every request (see [`crate::App::into_router`]).
#[derive(Clone, Debug)]
pub struct MetricsLayer(pub(crate) Arc<Metrics>);

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService { inner, metrics: self.0.clone() }
    }
}

/// The service [`MetricsLayer`] wraps around each route.
#[derive(Clone, Debug)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for MetricsService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> MetricsFuture<S::Future> {
        let method = method_label(req.method());
        let route = req.extensions().get::<MatchedPath>().cloned();
        self.metrics.in_flight.inc();
        MetricsFuture {
            inner: self.inner.call(req),
            state: Some(InFlight { metrics: self.metrics.clone(), method, route, start: Instant::now() }),
        }
    }
}

/// A request being answered: counted in `http_requests_in_flight` until answered or dropped.
struct InFlight {
    metrics: Arc<Metrics>,
    method: &'static str,
    /// `None`: the fallback answered (`(unmatched)`).
    route: Option<MatchedPath>,
    start: Instant,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
    }
}

pin_project_lite::pin_project! {
    /// The future of [`MetricsService`]: records the answer when its head is ready.
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        state: Option<InFlight>,
    }
}

impl<F, E> Future for MetricsFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let (Some(state), Ok(response)) = (this.state.take(), &result) {
            let seconds = state.start.elapsed().as_secs_f64();
            let route = state.route.as_ref().map_or(crate::request_trace::UNMATCHED_ROUTE, MatchedPath::as_str);
            state.metrics.record(state.method, route, response.status().as_str(), seconds);
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_name_a_series() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "OTHER");
    }
}
