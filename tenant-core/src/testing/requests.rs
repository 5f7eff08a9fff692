//! Requests to the app under test and their answers: how a request authenticates, the users
//! tests sign up, and the response read in full.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

use super::app::TestApp;

/// How a request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`, no company header (the default company).
    Bearer(String),
    /// `Authorization: Bearer <token>` and `X-Company-Id: <raw value>`.
    BearerCompany(String, String),
}

impl Auth {
    /// No `Authorization` header.
    pub fn none() -> Auth {
        Auth::None
    }

    /// A bearer token, the user's default company.
    pub fn bearer(token: impl Into<String>) -> Auth {
        Auth::Bearer(token.into())
    }

    /// A bearer token and `X-Company-Id: <company>` (any text, for tests of bad values).
    pub fn bearer_company(token: impl Into<String>, company: impl ToString) -> Auth {
        Auth::BearerCompany(token.into(), company.to_string())
    }

    fn headers(&self) -> Vec<(String, String)> {
        match self {
            Auth::None => vec![],
            Auth::Bearer(token) => vec![("authorization".into(), format!("Bearer {token}"))],
            Auth::BearerCompany(token, company) => {
                vec![("authorization".into(), format!("Bearer {token}")), ("x-company-id".into(), company.clone())]
            }
        }
    }
}

/// A user created by [`TestApp::signup`], with the company the signup made.
#[derive(Debug, Clone)]
pub struct User {
    /// The user's id.
    pub id: Uuid,
    /// A unique address, verified unless made by `signup_unverified`.
    pub email: String,
    /// [`PASSWORD`](super::PASSWORD).
    pub password: String,
    /// The company created at signup (the user's default company; the user is its admin).
    pub company_id: Uuid,
    /// The access token signup returned.
    pub access: String,
    /// The refresh token signup returned.
    pub refresh: String,
}

impl User {
    /// Bearer token, no `X-Company-Id`: acts in the default company.
    pub fn auth(&self) -> Auth {
        Auth::Bearer(self.access.clone())
    }

    /// Bearer token and `X-Company-Id: company`.
    pub fn in_company(&self, company: Uuid) -> Auth {
        Auth::BearerCompany(self.access.clone(), company.to_string())
    }

    /// Bearer token and a raw `X-Company-Id` value (e.g. not a UUID).
    pub fn in_company_raw(&self, company: &str) -> Auth {
        Auth::BearerCompany(self.access.clone(), company.to_string())
    }
}

/// A response, read in full.
#[derive(Debug, Clone)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body parsed as JSON; `Null` when empty (or not JSON: see `text`).
    pub body: Value,
    /// The body as text (lossy UTF-8).
    pub text: String,
}

impl Resp {
    /// Panics, showing the body, unless the status is `expected`.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Resp {
        assert_eq!(self.status, expected, "expected status {expected}, got {}; body: {}", self.status, self.text);
        self
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `body[key]`, `Null` if absent.
    pub fn get(&self, key: &str) -> &Value {
        &self.body[key]
    }

    /// `body["id"]` as a UUID; panics if absent.
    #[track_caller]
    pub fn id(&self) -> Uuid {
        let id = self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", self.text));
        Uuid::parse_str(id).unwrap_or_else(|e| panic!("id {id:?} is not a UUID: {e}"))
    }

    /// Panics unless the body is a JSON object with a `detail` string (an error body).
    #[track_caller]
    pub fn assert_detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_else(|| panic!("expected a {{\"detail\": ...}} body, got {}", self.text))
    }

    /// Panics unless the body is a field-error map (`{"field": ["message", ...]}`) with `field`.
    #[track_caller]
    pub fn assert_field_error(&self, field: &str) -> &Resp {
        let obj = self.body.as_object().unwrap_or_else(|| panic!("expected a field-error object, got {}", self.text));
        for (key, messages) in obj {
            let list = messages
                .as_array()
                .unwrap_or_else(|| panic!("field error {key:?} is not a list of messages: {}", self.text));
            assert!(
                !list.is_empty() && list.iter().all(Value::is_string),
                "field error {key:?} must be a non-empty list of strings: {}",
                self.text
            );
        }
        assert!(obj.contains_key(field), "expected an error on {field:?}, got {}", self.text);
        self
    }
}

impl TestApp {
    // The request methods borrow only `self`: the path, auth and headers are copied before the
    // future is returned, so `join_all(ids.iter().map(|id| app.get(&format!(..), &user.auth())))`
    // works without `let` bindings for every temporary.

    /// `GET path`.
    pub fn get<'a>(&'a self, path: &str, auth: &Auth) -> impl Future<Output = Resp> + use<'a> {
        self.request("GET", path, auth, None)
    }

    /// `POST path` with a JSON body.
    pub fn post<'a>(&'a self, path: &str, auth: &Auth, body: Value) -> impl Future<Output = Resp> + use<'a> {
        self.request("POST", path, auth, Some(body))
    }

    /// `PUT path` with a JSON body.
    pub fn put<'a>(&'a self, path: &str, auth: &Auth, body: Value) -> impl Future<Output = Resp> + use<'a> {
        self.request("PUT", path, auth, Some(body))
    }

    /// `PATCH path` with a JSON body.
    pub fn patch<'a>(&'a self, path: &str, auth: &Auth, body: Value) -> impl Future<Output = Resp> + use<'a> {
        self.request("PATCH", path, auth, Some(body))
    }

    /// `DELETE path`.
    pub fn delete<'a>(&'a self, path: &str, auth: &Auth) -> impl Future<Output = Resp> + use<'a> {
        self.request("DELETE", path, auth, None)
    }

    /// Any method, with authentication and an optional JSON body (sent as `application/json`).
    pub fn request<'a>(
        &'a self,
        method: &str,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> impl Future<Output = Resp> + use<'a> {
        let mut headers = auth.headers();
        let bytes = body.map(|b| {
            headers.push(("content-type".into(), "application/json".into()));
            serde_json::to_vec(&b).expect("serialisable body")
        });
        self.send_owned(method.to_string(), path.to_string(), headers, bytes)
    }

    /// Fully general: raw body bytes and headers, nothing added.
    pub fn send<'a>(
        &'a self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> impl Future<Output = Resp> + use<'a> {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.send_owned(method.to_string(), path.to_string(), headers, body)
    }

    async fn send_owned(
        &self,
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Resp {
        let method = Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut builder = Request::builder().method(method).uri(path.as_str());
        for (name, value) in &headers {
            builder = builder.header(
                HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
                HeaderValue::from_str(value).expect("valid header value"),
            );
        }
        let request = builder.body(body.map(Body::from).unwrap_or_else(Body::empty)).expect("valid request");
        let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("readable body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Resp { status, headers, body, text }
    }
}
