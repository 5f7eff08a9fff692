//! One `tracing` span per request, and the request id of every answer (API.md, "Operations":
//! "Every response carries `X-Request-Id` (the client's, when sane, else a new one)"; issue 14).
//!
//! Built from tower-http's parts, not by hand: `SetRequestId` / `PropagateRequestId` carry the id
//! from the request to the answer, `TraceLayer` opens the span around everything the request does.
//! This module only says what is sane and what the span holds:
//!
//! - an `X-Request-Id` the client sent is kept when it is 1 to [`MAX_REQUEST_ID_LEN`] visible
//!   ASCII characters (no spaces, no control characters: it is copied into every log line and back
//!   into the answer), and sent once; otherwise it is replaced by a new UUID;
//! - the span `request` has `method`, `route` (the matched route template, `/api/customers/{id}`,
//!   never the raw path with its ids), `request_id`, and, once known, `user_id` (recorded by the
//!   token check, `identity.rs`) and `company_id` (by the membership check, `tenant.rs`); each
//!   answer adds an event `request finished` with `status` and `latency_ms` inside it. What the
//!   request logs meanwhile (a database error behind a 500, say) is logged inside the span.
//!
//! Levels: the span and the event are `INFO` (one line per request, as Django's `runserver` logs),
//! so `RUST_LOG=warn` turns them off, and with them nearly all their cost.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Response};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;
use uuid::Uuid;

/// The longest request id kept from a client, in bytes.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The route of a request no route matched (the 404 fallback), in spans and metrics.
pub const UNMATCHED_ROUTE: &str = "(unmatched)";

/// The header (lower case, as `http` keeps names).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Whether a client's request id can be kept: visible ASCII only, 1 to [`MAX_REQUEST_ID_LEN`].
pub fn is_sane_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len()) && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Drops an `X-Request-Id` that is not sane, or sent more than once (whatever the values, as
/// `identity::single_header` reads identity headers), so that `SetRequestId` (which keeps any
/// value present) makes a new one.
pub fn drop_insane_request_id(mut req: Request) -> Request {
    let mut values = req.headers().get_all(REQUEST_ID_HEADER).iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(value), None) => is_sane_request_id(value.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        req.headers_mut().remove(REQUEST_ID_HEADER);
    }
    req
}

/// New request ids: random UUIDs (v4: nothing about the server's clock or volume in them).
#[derive(Debug, Clone, Copy, Default)]
pub struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let mut buf = Uuid::encode_buffer();
        let id = Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        Some(RequestId::new(HeaderValue::from_str(id).expect("a UUID is a header value")))
    }
}

/// The span of one request (see the module's doc).
pub fn make_span<B>(req: &axum::http::Request<B>) -> Span {
    let route = req.extensions().get::<MatchedPath>().map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    let request_id = req.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!(
        "request",
        method = %req.method(),
        route,
        request_id,
        user_id = tracing::field::Empty,
        company_id = tracing::field::Empty,
    )
}

/// The event that closes a request: its status and latency, inside its span.
pub fn on_response<B>(response: &Response<B>, latency: Duration, span: &Span) {
    tracing::info!(
        parent: span,
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request finished"
    );
}

/// Records the authenticated user on the current request's span.
pub(crate) fn record_user(user_id: Uuid) {
    Span::current().record("user_id", tracing::field::display(user_id));
}

/// Records the active company on the current request's span.
pub(crate) fn record_company(company_id: Uuid) {
    Span::current().record("company_id", tracing::field::display(company_id));
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
