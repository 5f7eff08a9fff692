//! Tenant writes read their whole request body **before** the tenant transaction opens.
//!
//! The [`Tenant`](crate::Tenant) extractor checks membership and opens the request's transaction
//! as the handler starts; a handler then reads the body. A client sending its body slowly
//! therefore held a transaction (and on SQLite the write lock) open for as long as it liked, and
//! was authorised as of the moment its headers arrived: a member removed meanwhile still created
//! a row minutes later (issue 17). Layered on the tenant routes that take a body, this middleware
//! reads it first (within [`MAX_BODY_BYTES`]), so the membership check, the transaction and the
//! write all happen after the last byte arrived, and a removal that committed before then is
//! seen. The whole request is bounded by `REQUEST_TIMEOUT_SECS` ([`RequestTimeout`]), so a
//! write authorised at its start cannot complete long after (an access token that expires
//! meanwhile, a membership removed meanwhile that waits on the write's share lock).

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

use crate::body::MAX_BODY_BYTES;
use crate::body::is_json_content_type;
use crate::body_timeout::is_body_timeout;
use crate::config::DEFAULT_REQUEST_TIMEOUT;
use crate::error::ApiError;

/// The longest a tenant write may take, its body's upload included (`REQUEST_TIMEOUT_SECS`,
/// default [`DEFAULT_REQUEST_TIMEOUT`]): past it the request is abandoned (its transaction, if open,
/// rolls back) and answered 503 with `Connection: close`. `App::into_router` puts the configured
/// value in every request's extensions, where [`read_body_first`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Duration);

/// `route_layer(axum::middleware::from_fn(read_body_first))`: see the module's docs. Requests
/// without a body, or with a body that is not JSON (which no handler reads: it answers 415),
/// pass straight on, under the same time limit.
pub async fn read_body_first(req: Request, next: Next) -> Response {
    let limit = req.extensions().get::<RequestTimeout>().map_or(DEFAULT_REQUEST_TIMEOUT, |t| t.0);
    let work = async move {
        use axum::body::HttpBody;
        if req.body().is_end_stream() || !is_json_content_type(&req) {
            return next.run(req).await;
        }
        let (parts, body) = req.into_parts();
        match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
            Err(err) => {
                let error = if err.downcast_ref::<LengthLimitError>().is_some() {
                    ApiError::PayloadTooLarge
                } else if is_body_timeout(&*err) {
                    ApiError::BodyTimeout
                } else {
                    ApiError::BadRequest("Could not read the request body.".into())
                };
                close(error.into_response())
            }
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(response) => response,
        Err(_) => close(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"detail": "The request took too long and was abandoned. Try again."})),
            )
                .into_response(),
        ),
    }
}

/// The body was not read to its end: the connection cannot carry another request.
fn close(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
