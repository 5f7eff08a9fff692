//! The `Host` header, as Django's `ALLOWED_HOSTS` treats it: a request naming a host that is not
//! allowed gets 400 `{"detail": "Invalid Host header."}` before anything else runs, so no link
//! the app writes (the list's `next` and `previous`) can point at a host an attacker chose. With
//! `PUBLIC_BASE_URL`, links are written from it and the `Host` header is not used for them.
//!
//! A request without a `Host` header (HTTP/1.0, in-process tests) passes: it names no host, and
//! its links are paths.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::header;
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
                || *pattern == name
                || pattern.strip_prefix('.').is_some_and(|domain| name == domain || name.ends_with(pattern.as_str()))
        })
    }
}

/// The host of a `Host` value without its port, lowercased: `Example.com:8080` → `example.com`,
/// `[::1]:80` → `[::1]`; `None` for a value that is not a host name (Django's `host_validation_re`:
/// letters, digits, `-`, `.`, or a bracketed IPv6 address).
fn host_name(host: &str) -> Option<String> {
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
    (name_ok && port_ok).then(|| name.trim_end_matches('.').to_ascii_lowercase())
}

/// `PUBLIC_BASE_URL`, as the request extension the list reads its links from.
#[derive(Debug, Clone)]
pub struct PublicBaseUrl(pub Arc<str>);

/// The layer: checks `Host` against [`AllowedHosts`] and hands [`PublicBaseUrl`] to the handlers.
#[derive(Debug, Clone)]
pub struct HostLayer {
    allowed: Arc<AllowedHosts>,
    base: Option<PublicBaseUrl>,
}

impl HostLayer {
    /// Allowing `allowed`, links from `base` when given.
    pub fn new(allowed: AllowedHosts, base: Option<&str>) -> HostLayer {
        HostLayer { allowed: Arc::new(allowed), base: base.map(|b| PublicBaseUrl(Arc::from(b.trim_end_matches('/')))) }
    }
}

impl<S> Layer<S> for HostLayer {
    type Service = HostCheck<S>;

    fn layer(&self, inner: S) -> HostCheck<S> {
        HostCheck { inner, layer: self.clone() }
    }
}

/// The service of [`HostLayer`].
#[derive(Debug, Clone)]
pub struct HostCheck<S> {
    inner: S,
    layer: HostLayer,
}

impl<S> Service<Request> for HostCheck<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = HostFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        if let Some(host) = req.headers().get(header::HOST) {
            let allowed = host.to_str().is_ok_and(|host| self.layer.allowed.allows(host));
            if !allowed {
                let response = ApiError::BadRequest("Invalid Host header.".into()).into_response();
                return HostFuture::Refused { response: Some(response) };
            }
        }
        if let Some(base) = &self.layer.base {
            req.extensions_mut().insert(base.clone());
        }
        HostFuture::Inner { future: self.inner.call(req) }
    }
}

pin_project_lite::pin_project! {
    /// The answer of [`HostCheck`]: the 400, or the inner service's.
    #[project = HostFutureProjection]
    #[allow(missing_docs)]
    pub enum HostFuture<F> {
        /// A host that is not allowed: the 400, taken when polled.
        Refused { response: Option<Response> },
        /// Served: the inner service's answer.
        Inner { #[pin] future: F },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for HostFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HostFutureProjection::Refused { response } => {
                Poll::Ready(Ok(response.take().expect("a refused host's future is polled once")))
            }
            HostFutureProjection::Inner { future } => future.poll(cx),
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
        let dev = AllowedHosts::new(DEVELOPMENT_HOSTS);
        assert!(dev.allows("[::1]:8080") && dev.allows("127.0.0.1:54000") && !dev.allows("10.0.0.1"));
    }
}
