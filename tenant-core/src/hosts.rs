//! The `Host` header, as Django's `ALLOWED_HOSTS` treats it: a request naming a host that is not
//! allowed gets 400 `{"detail": "Invalid Host header."}` before anything else runs, so no link
//! the app writes (the list's `next` and `previous`) can point at a host an attacker chose. With
//! `PUBLIC_BASE_URL`, links are written from it and the `Host` header is not used for them.
//!
//! A request without a `Host` header (HTTP/1.0, in-process tests) passes: it names no host, and
//! its links are paths.
//!
//! The same service sets the two headers every answer needs (issue 13): `X-Content-Type-Options:
//! nosniff` on every answer, and `Cache-Control: no-store` on every answer under `/api/` but the
//! OpenAPI document, the account, token and tenant routes, whose answers carry an account's or
//! a tenant's data or tokens (RFC 9111 `no-store`; RFC 6749 section 5.1 asks it of token
//! responses). An app's own routes merged under `/api/` get it too: private unless known public.
//! One service rather than three layers: each tower layer wraps every request's future, and the
//! three cost 2 to 7 % of a request's instructions (bench/RESULTS.md).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::ApiError;

/// The hosts allowed when `ALLOWED_HOSTS` is unset: a developer's machine (Django's default
/// with `DEBUG`). Production sets its own (the production guard says so).
pub const DEVELOPMENT_HOSTS: &[&str] = &["localhost", "127.0.0.1", "[::1]"];

/// `ALLOWED_HOSTS` entries, Django's forms: `example.com` (exactly), `.example.com` (it and its
/// subdomains), `*` (any host: only behind a proxy that checks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// The patterns, compared without case.
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> AllowedHosts {
        AllowedHosts(
            patterns.into_iter().map(|p| p.as_ref().trim().to_ascii_lowercase()).filter(|p| !p.is_empty()).collect(),
        )
    }

    /// Whether the `Host` header value `host` (with or without a port) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else { return false };
        self.0.iter().any(|pattern| {
            pattern == "*"
                || pattern.eq_ignore_ascii_case(name)
                || pattern
                    .strip_prefix('.')
                    .is_some_and(|domain| domain.eq_ignore_ascii_case(name) || ends_with_ignore_case(name, pattern))
        })
    }
}

/// Whether `name` ends with `suffix`, ASCII case ignored (`name` is ASCII: [`host_name`] checked).
fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len() && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// The host of a `Host` value without its port or a trailing dot, as written (compare it without
/// case): `Example.com:8080` → `Example.com`, `[::1]:80` → `[::1]`; `None` for a value that is not
/// a host name (Django's `host_validation_re`: letters, digits, `-`, `.`, or a bracketed IPv6
/// address). Borrowed: this runs on every request.
fn host_name(host: &str) -> Option<&str> {
    let host = host.trim();
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let rest = &host[end + 1..];
        (&host[..=end], if rest.is_empty() { None } else { Some(rest.strip_prefix(':')?) })
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = if name.starts_with('[') {
        name.len() > 2 && name[1..name.len() - 1].bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    (name_ok && port_ok).then(|| name.trim_end_matches('.'))
}

/// `PUBLIC_BASE_URL`, as the request extension the list reads its links from.
#[derive(Debug, Clone)]
pub struct PublicBaseUrl(pub Arc<str>);

/// The layer: checks `Host` against [`AllowedHosts`], hands [`PublicBaseUrl`] to the handlers,
/// and sets `X-Content-Type-Options` and `Cache-Control` on the answer (see the module's doc).
#[derive(Debug, Clone)]
pub struct HostAndHeadersLayer {
    allowed: Arc<AllowedHosts>,
    base: Option<PublicBaseUrl>,
}

impl HostAndHeadersLayer {
    /// Allowing `allowed`, links from `base` when given.
    pub fn new(allowed: AllowedHosts, base: Option<&str>) -> HostAndHeadersLayer {
        HostAndHeadersLayer {
            allowed: Arc::new(allowed),
            base: base.map(|b| PublicBaseUrl(Arc::from(b.trim_end_matches('/')))),
        }
    }
}

impl<S> Layer<S> for HostAndHeadersLayer {
    type Service = HostAndHeaders<S>;

    fn layer(&self, inner: S) -> HostAndHeaders<S> {
        HostAndHeaders { inner, layer: self.clone() }
    }
}

/// The service of [`HostAndHeadersLayer`].
#[derive(Debug, Clone)]
pub struct HostAndHeaders<S> {
    inner: S,
    layer: HostAndHeadersLayer,
}

/// Whether answers to `path` are private (`Cache-Control: no-store`): everything under `/api/`
/// but the OpenAPI document, which is the same for everyone.
fn is_private(path: &str) -> bool {
    path.strip_prefix("/api/").is_some_and(|rest| rest.trim_end_matches('/') != "openapi.json")
}

/// Sets the headers of the module's doc on `response`, leaving a value a handler chose.
fn set_headers(response: &mut Response, private: bool) {
    let headers = response.headers_mut();
    headers.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    if private {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
}

impl<S> Service<Request> for HostAndHeaders<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = HostAndHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let private = is_private(req.uri().path());
        if let Some(host) = req.headers().get(header::HOST) {
            let allowed = host.to_str().is_ok_and(|host| self.layer.allowed.allows(host));
            if !allowed {
                let mut response = ApiError::BadRequest("Invalid Host header.".into()).into_response();
                set_headers(&mut response, private);
                return HostAndHeadersFuture::Refused { response: Some(response) };
            }
        }
        if let Some(base) = &self.layer.base {
            req.extensions_mut().insert(base.clone());
        }
        HostAndHeadersFuture::Inner { future: self.inner.call(req), private }
    }
}

pin_project_lite::pin_project! {
    /// The answer of [`HostAndHeaders`]: the 400, or the inner service's, with the headers set.
    #[project = HostAndHeadersProjection]
    #[allow(missing_docs)]
    pub enum HostAndHeadersFuture<F> {
        /// A host that is not allowed: the 400, taken when polled.
        Refused { response: Option<Response> },
        /// Served: the inner service's answer.
        Inner { #[pin] future: F, private: bool },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for HostAndHeadersFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HostAndHeadersProjection::Refused { response } => {
                Poll::Ready(Ok(response.take().expect("a refused host's future is polled once")))
            }
            HostAndHeadersProjection::Inner { future, private } => {
                let Ok(mut response) = std::task::ready!(future.poll(cx));
                set_headers(&mut response, *private);
                Poll::Ready(Ok(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_as_in_django() {
        let allowed = AllowedHosts::new(["api.example.com", ".tenant.test", "LOCALHOST"]);
        for host in [
            "api.example.com",
            "API.example.com:443",
            "tenant.test",
            "a.tenant.test:8080",
            "localhost:3000",
            "localhost.",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in [
            "example.com",
            "evil.com",
            "api.example.com.evil.com",
            "eviltenant.test",
            "api.example.com:x",
            "a b",
            "",
            "[::1]",
            "localhost:",
        ] {
            assert!(!allowed.allows(host), "{host}");
        }
        let any = AllowedHosts::new(["*"]);
        assert!(any.allows("whatever.example:1") && !any.allows("bad host"));
        assert!(AllowedHosts::new(["Example.COM"]).allows("eXample.com:1"));
        let dev = AllowedHosts::new(DEVELOPMENT_HOSTS);
        assert!(dev.allows("[::1]:8080") && dev.allows("127.0.0.1:54000") && !dev.allows("10.0.0.1"));
    }

    #[test]
    fn private_paths_are_under_api_but_the_document() {
        for path in ["/api/customers", "/api/me/", "/api/auth/token", "/api/nowhere", "/api/openapi.json.bak"] {
            assert!(is_private(path), "{path}");
        }
        for path in ["/healthz", "/api/openapi.json", "/api/openapi.json/", "/docs", "/api", "/apix/customers"] {
            assert!(!is_private(path), "{path}");
        }
    }
}
