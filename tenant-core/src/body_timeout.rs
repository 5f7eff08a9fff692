//! `BODY_READ_TIMEOUT_SECS`: the longest a request body may take to arrive.
//!
//! hyper bounds the request's line and headers (`HEADER_READ_TIMEOUT_SECS`, set in `serve.rs`),
//! not its body: a client may announce a body and send it a byte at a time. [`BodyTimeoutLayer`]
//! gives every request that has a body a deadline, counted from the moment the request reaches
//! the router (its headers have arrived): whoever reads the body past it (the JSON extractor of
//! `body.rs`, `body_first.rs`, the keep-alive drain, an app's own extractor) gets an error
//! ([`is_body_timeout`] recognises it) instead of waiting longer. The framework's readers answer
//! it 408 `{"detail": "…"}` with `Connection: close` ([`ApiError::BodyTimeout`]); nothing is
//! written, since no handler has the body. A request whose body arrives in time is not touched,
//! and one without a body passes straight through.
//!
//! It sits outside [`KeepAliveLayer`](crate::keep_alive::KeepAliveLayer), so the keep-alive
//! tracker sees the error as a failed body and never waits to drain the rest of it.
//!
//! [`ApiError::BodyTimeout`]: crate::ApiError::BodyTimeout

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// The error a body's reader gets once [`BodyTimeoutLayer`]'s deadline has passed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive within BODY_READ_TIMEOUT_SECS")]
pub struct BodyTimedOut;

/// Whether `err`, or an error it wraps, is [`BodyTimedOut`].
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        current = err.source();
    }
    false
}

/// `router.layer(BodyTimeoutLayer::new(config.body_read_timeout))` (see
/// [`App::into_router`](crate::App::into_router)).
#[derive(Clone, Copy, Debug)]
pub struct BodyTimeoutLayer {
    limit: Duration,
}

impl BodyTimeoutLayer {
    /// Bodies must arrive within `limit` of their request's headers.
    pub fn new(limit: Duration) -> BodyTimeoutLayer {
        BodyTimeoutLayer { limit }
    }
}

impl<S> Layer<S> for BodyTimeoutLayer {
    type Service = BodyTimeout<S>;

    fn layer(&self, inner: S) -> BodyTimeout<S> {
        BodyTimeout { inner, limit: self.limit }
    }
}

/// The service [`BodyTimeoutLayer`] wraps around the router.
#[derive(Clone, Debug)]
pub struct BodyTimeout<S> {
    inner: S,
    limit: Duration,
}

impl<S: Service<Request>> Service<Request> for BodyTimeout<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> S::Future {
        if req.body().is_end_stream() {
            return self.inner.call(req);
        }
        let deadline = Instant::now() + self.limit;
        self.inner.call(req.map(|inner| Body::new(Deadline { inner, deadline, sleep: None, expired: false })))
    }
}

/// A body that fails once its deadline has passed. The timer is made only when the body is
/// waited for, so a body that is already there (or never read) costs none.
struct Deadline {
    inner: Body,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
    expired: bool,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.expired = true;
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        !self.expired && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    /// A body of `left` one-byte chunks, each `every` after the last.
    struct Trickle {
        left: usize,
        every: Duration,
        sleep: Pin<Box<Sleep>>,
    }

    impl HttpBody for Trickle {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::convert::Infallible>>> {
            let this = self.get_mut();
            if this.left == 0 {
                return Poll::Ready(None);
            }
            std::task::ready!(this.sleep.as_mut().poll(cx));
            this.left -= 1;
            let next = Instant::now() + this.every;
            this.sleep.as_mut().reset(next);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"x")))))
        }
    }

    fn trickle(left: usize, every: Duration) -> Body {
        Body::new(Trickle { left, every, sleep: Box::pin(tokio::time::sleep(every)) })
    }

    async fn read(body: Body) -> String {
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => format!("read {}", bytes.len()),
            Err(err) => format!("timed out: {}", is_body_timeout(&err)),
        }
    }

    async fn send(body: Body) -> String {
        let router = Router::new().route("/", post(read)).layer(BodyTimeoutLayer::new(Duration::from_secs(5)));
        let response = router.oneshot(Request::post("/").body(body).unwrap()).await.unwrap();
        String::from_utf8(axum::body::to_bytes(response.into_body(), 1000).await.unwrap().to_vec()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_slower_than_the_limit_fails_at_the_deadline() {
        assert_eq!(send(trickle(4, Duration::from_secs(1))).await, "read 4");
        let started = Instant::now();
        assert_eq!(send(trickle(10, Duration::from_secs(1))).await, "timed out: true");
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(send(Body::from("at once")).await, "read 7");
        assert!(!is_body_timeout(&std::io::Error::other("another failure")));
    }
}
