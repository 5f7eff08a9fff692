//! One `tracing` span per request, and the request id of every answer (API.md, "Operations":
//! "Every response carries `X-Request-Id` (the client's, when sane, else a new one)"; issue 14).
//!
//! The span is tower-http's `TraceLayer`, around everything the request does; the id is
//! [`RequestIdLayer`], outside it (tower-http's request-id middleware did the same at a cost,
//! see there). This module says what is sane, what the span holds and what each answer logs:
//!
//! - an `X-Request-Id` the client sent is kept when it is 1 to [`MAX_REQUEST_ID_LEN`] visible
//!   ASCII characters (no spaces, no control characters: it is copied into every log line and back
//!   into the answer), and sent once; otherwise it is replaced by a new UUID;
//! - the span `request` has `method`, `route` (the matched route template, `/api/customers/{id}`,
//!   never the raw path with its ids), `request_id`, and, once known, `user_id` (recorded by the
//!   token check, `identity.rs`) and `company_id` (by the membership check, `tenant.rs`); what the
//!   request logs meanwhile is logged inside it;
//! - each answer logs one event inside the span, by status, as Django's `django.request` logger
//!   does: a 5xx is an `ERROR` `request failed` with its cause (the database error behind a 500 or
//!   503, which the answer itself never shows), a 4xx a `WARN` `request refused`, anything else a
//!   `DEBUG` `request finished`; each with `status` and `latency_ms`, and the 4xx and 5xx ones also
//!   with the request's `method`, `route` and `request_id`, so that they say which request it
//!   was even where the span is off (the user and the company are the span's).
//!
//! Levels: the span and the success line are `DEBUG`, as tower-http's own defaults are, so at the
//! default filter (`INFO`, `logging.rs`) a successful request costs no formatting at all: on,
//! they cost several times the 5 % of a request's instructions issue 14 allows tracing
//! (bench/RESULTS.md). `RUST_LOG=info,tenant_core::request_trace=debug` turns them on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, Response};
use tower::{Layer, Service};
use tracing::Span;
use uuid::Uuid;

/// The longest request id kept from a client, in bytes.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The route of a request no route matched (the 404 fallback), in spans and metrics.
pub const UNMATCHED_ROUTE: &str = "(unmatched)";

/// The header. A `HeaderName`, not a `&str`: a lookup by string parses and validates the name
/// each time, and a request looks it up five times (callgrind: about 1 400 instructions).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Whether a client's request id can be kept: visible ASCII only, 1 to [`MAX_REQUEST_ID_LEN`].
pub fn is_sane_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len()) && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// The request's id: its `X-Request-Id` when sent once and sane, else a new random UUID (v4:
/// nothing about the server's clock or volume in it), which replaces whatever was sent.
fn request_id(req: &mut Request) -> HeaderValue {
    let mut values = req.headers().get_all(&REQUEST_ID_HEADER).iter();
    if let (Some(value), None) = (values.next(), values.next())
        && is_sane_request_id(value.as_bytes())
    {
        return value.clone();
    }
    let mut buf = Uuid::encode_buffer();
    let id =
        HeaderValue::from_str(Uuid::new_v4().hyphenated().encode_lower(&mut buf)).expect("a UUID is a header value");
    req.headers_mut().insert(REQUEST_ID_HEADER, id.clone());
    id
}

/// The layer that gives every request its id (outermost, so that the span and every log line
/// have it) and every answer the same `X-Request-Id`.
///
/// Not tower-http's `SetRequestId` / `PropagateRequestId`: they also put the id in the
/// request's extensions, which no one here reads, and that insert, with the map it grows and
/// frees, was the largest part of what tracing cost a request (callgrind, bench/RESULTS.md).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> RequestIdService<S> {
        RequestIdService { inner }
    }
}

/// The service of [`RequestIdLayer`].
#[derive(Debug, Clone)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S, B> Service<Request> for RequestIdService<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> RequestIdFuture<S::Future> {
        let id = request_id(&mut req);
        RequestIdFuture { inner: self.inner.call(req), id: Some(id) }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RequestIdService`]: puts the id on the answer.
    pub struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        id: Option<HeaderValue>,
    }
}

impl<F, B, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = ready!(this.inner.poll(cx));
        if let (Ok(response), Some(id)) = (&mut result, this.id.take()) {
            response.headers_mut().insert(REQUEST_ID_HEADER, id);
        }
        Poll::Ready(result)
    }
}

/// The route template of `req`, or [`UNMATCHED_ROUTE`].
fn route_of<B>(req: &axum::http::Request<B>) -> &str {
    req.extensions().get::<MatchedPath>().map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
}

/// The span of one request (see the module's doc).
pub fn make_span<B>(req: &axum::http::Request<B>) -> Span {
    let request_id = req.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::debug_span!(
        "request",
        method = %req.method(),
        route = route_of(req),
        request_id,
        user_id = tracing::field::Empty,
        company_id = tracing::field::Empty,
    )
}

/// The `DEBUG` line of a successful answer, inside its span (a refused or failed one is logged
/// by [`RequestContextLayer`], which holds the request's context; see the module's doc).
pub fn on_response<B>(response: &Response<B>, latency: Duration, span: &Span) {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        tracing::debug!(parent: span, status = status.as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "request finished");
    }
}

/// The `WARN` (4xx) or `ERROR` (5xx, with its cause) line of a refused or failed answer, with
/// the request's context as fields, inside the current span (the request's, when it is on).
fn log_refused_or_failed(context: &RequestContext, response: &axum::response::Response) {
    let status = response.status().as_u16();
    let latency_ms = context.started.elapsed().as_secs_f64() * 1000.0;
    let method = tracing::field::display(&context.method);
    let route = context.route.as_ref().map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    let request_id = context.request_id.as_ref().and_then(|v| v.to_str().ok());
    if response.status().is_server_error() {
        let cause = response.extensions().get::<crate::error::ErrorCause>().map(|c| c.0.as_str());
        tracing::error!(status, latency_ms, method, route, request_id, cause, "request failed");
    } else {
        tracing::warn!(status, latency_ms, method, route, request_id, "request refused");
    }
}

/// Records the authenticated user on the current request's span.
pub(crate) fn record_user(user_id: Uuid) {
    // The span is `DEBUG`: where no filter enables `DEBUG` (the default) it is off, and the
    // current span need not be looked up in the dispatcher at all.
    if tracing::level_enabled!(tracing::Level::DEBUG) {
        Span::current().record("user_id", tracing::field::display(user_id));
    }
}

/// Records the active company on the current request's span.
pub(crate) fn record_company(company_id: Uuid) {
    if tracing::level_enabled!(tracing::Level::DEBUG) {
        Span::current().record("company_id", tracing::field::display(company_id));
    }
}

/// The layer that logs a refused or failed answer with what it knows of its request (method,
/// route template, request id), inside `TraceLayer` (see [`crate::App::into_router`]).
///
/// The user and the company are in the span, not in this line: carrying them to the answer
/// outside the span (a task-local of the request's future, or a shared cell in its extensions)
/// cost 1 000 instructions a retrieve and 4 000 a list at the default level (callgrind), a
/// fifth of the 5 % tracing may cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContextLayer;

impl<S> Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;

    fn layer(&self, inner: S) -> RequestContextService<S> {
        RequestContextService { inner }
    }
}

/// The service of [`RequestContextLayer`].
#[derive(Debug, Clone)]
pub struct RequestContextService<S> {
    inner: S,
}

impl<S> Service<Request> for RequestContextService<S>
where
    S: Service<Request, Response = axum::response::Response>,
{
    type Response = axum::response::Response;
    type Error = S::Error;
    type Future = RequestContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> RequestContextFuture<S::Future> {
        let context = RequestContext {
            started: Instant::now(),
            method: req.method().clone(),
            route: req.extensions().get::<MatchedPath>().cloned(),
            request_id: req.headers().get(&REQUEST_ID_HEADER).cloned(),
        };
        RequestContextFuture { inner: self.inner.call(req), context: Some(context) }
    }
}

/// What the line of a refused or failed request says about it, kept from its arrival.
#[derive(Debug)]
struct RequestContext {
    started: Instant,
    method: Method,
    route: Option<MatchedPath>,
    request_id: Option<HeaderValue>,
}

pin_project_lite::pin_project! {
    /// The future of [`RequestContextService`]: logs a refused or failed answer.
    pub struct RequestContextFuture<F> {
        #[pin]
        inner: F,
        context: Option<RequestContext>,
    }
}

impl<F, E> Future for RequestContextFuture<F>
where
    F: Future<Output = Result<axum::response::Response, E>>,
{
    type Output = Result<axum::response::Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let (Ok(response), Some(context)) = (&result, this.context.take())
            && (response.status().is_client_error() || response.status().is_server_error())
        {
            log_refused_or_failed(&context, response);
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_request_ids() {
        for ok in ["a", "01J9-abc_def.123:xyz", &"x".repeat(128), "req/42", "{}"] {
            assert!(is_sane_request_id(ok.as_bytes()), "{ok}");
        }
        for bad in ["", " ", "a b", "tab\there", "nul\0", &"x".repeat(129), "é", "line\nbreak"] {
            assert!(!is_sane_request_id(bad.as_bytes()), "{bad:?}");
        }
    }
}
