//! The JSON body extractor. It answers each malformed body with the status API.md gives:
//! 415 when the body is not JSON, 413 when it is over the limit, 400 when it does not parse or
//! is not a JSON object.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value as Json};

use crate::body_timeout::is_body_timeout;
use crate::error::ApiError;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request body that is a JSON object.
#[derive(Debug, Clone, Default)]
pub struct JsonObject(pub Map<String, Json>);

/// `application/json` or `application/<something>+json`, parameters ignored.
pub(crate) fn is_json_content_type(req: &Request) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(&req) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else if is_body_timeout(&rejection) {
                ApiError::BodyTimeout
            } else {
                ApiError::BadRequest("Could not read the request body.".to_string())
            }
        })?;
        parse_object(&bytes).map(JsonObject)
    }
}

/// Parses `bytes` as one JSON object; anything else is a 400 that says what was wrong.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Json>, ApiError> {
    let value: Json =
        serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("JSON parse error: {e}")))?;
    match value {
        Json::Object(map) => Ok(map),
        other => Err(ApiError::BadRequest(format!(
            "Invalid data. Expected a JSON object, but got {}.",
            json_type_name(&other)
        ))),
    }
}

pub fn json_type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_pass_everything_else_is_a_400() {
        assert!(parse_object(br#"{"a": 1}"#).is_ok());
        for bad in [&b"[1]"[..], b"1", b"\"x\"", b"null", b"{", b""] {
            assert!(matches!(parse_object(bad), Err(ApiError::BadRequest(_))), "{:?}", bad);
        }
    }
}
