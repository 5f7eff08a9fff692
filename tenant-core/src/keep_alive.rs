//! Keeps HTTP/1.1 connections usable after answers given without reading the request body.
//!
//! Many answers come before a handler reads the body: 415 for a body that is not JSON, 401
//! without a token, 403 on a bad `X-Company-Id`, 404 on a malformed id or an unknown route, 405,
//! 413 once the limit is hit (see API.md's error table). hyper 1.x reads a request body only when
//! it is polled. When the handler drops the body unfinished, hyper's dispatcher
//! (`proto/h1/dispatch.rs`, `poll_read` → `Conn::poll_drain_or_close_read`) makes one attempt to
//! read what is already buffered and otherwise closes the read side, and with it the connection.
//! The response head has usually been written by then, saying keep-alive (no `Connection:
//! close`), so a keep-alive client sends its next request on a connection the server is closing
//! and gets "server disconnected without sending a response". Bodies of a few KiB often arrive in
//! hyper's buffer in time; bodies of tens of KiB and more, or chunked ones, usually do not.
//!
//! [`KeepAliveLayer`] fixes this for every route, the fallbacks included, in one place: for a
//! request that has a body, the body is wrapped in a tracker that counts the bytes read and
//! notices its end; if the handler drops it unfinished, the tracker hands the rest back. Once the
//! response exists, the rest is read and discarded when the whole body stays within
//! [`MAX_BODY_BYTES`] (so the connection is kept), and otherwise the response says `Connection:
//! close` (hyper then closes after writing it, and the client knows not to reuse the
//! connection). The rest is read before the answer goes to hyper: a client still uploading is not
//! reading yet, and a handler that reads the body waits just as long. It also says `Connection:
//! close` for a body that failed, for an `Expect: 100-continue` body never asked for (no `100
//! Continue` was sent; asking now would only make the client upload what is refused), and when
//! the rest does not arrive within [`DRAIN_TIMEOUT`]. Requests without a body (`is_end_stream()` of hyper's body, i.e. neither a
//! non-zero `Content-Length` nor `Transfer-Encoding`) pass straight through, without allocation.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, Version, header};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tower::{Layer, Service};

use crate::body::MAX_BODY_BYTES;

/// The longest the unread rest of a body is waited for before giving up and answering with
/// `Connection: close` instead: a client that announces more than it sends must not hold the
/// answer (and the request's task) forever. A 1 MiB body takes under a second at 10 Mbit/s.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The layer: `router.layer(KeepAliveLayer)` (see [`crate::App::into_router`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct KeepAliveLayer;

impl<S> Layer<S> for KeepAliveLayer {
    type Service = KeepAlive<S>;

    fn layer(&self, inner: S) -> KeepAlive<S> {
        KeepAlive { inner }
    }
}

/// The service [`KeepAliveLayer`] wraps around each route.
#[derive(Clone, Debug)]
pub struct KeepAlive<S> {
    inner: S,
}

impl<S> Service<Request> for KeepAlive<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = KeepAliveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // HTTP/2 and later end a stream, not the connection, when a body is left unread.
        if req.body().is_end_stream() || matches!(req.version(), Version::HTTP_2 | Version::HTTP_3) {
            return KeepAliveFuture::Direct { future: self.inner.call(req) };
        }
        let expects_continue = req
            .headers()
            .get(header::EXPECT)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let slot: Arc<Mutex<Option<Unread>>> = Arc::default();
        let tracker = slot.clone();
        let req = req.map(move |inner| {
            Body::new(Tracked { inner, read: 0, polled: false, ended: false, failed: false, slot: tracker })
        });
        let future = self.inner.call(req);
        KeepAliveFuture::Tracked {
            future: Box::pin(async move {
                let response = future.await?;
                Ok(settle(response, &slot, expects_continue).await)
            }),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`KeepAlive`]: the route's own future when there is no body.
    #[project = KeepAliveFutureProj]
    pub enum KeepAliveFuture<F> {
        Direct { #[pin] future: F },
        Tracked { future: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for KeepAliveFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            KeepAliveFutureProj::Direct { future } => future.poll(cx),
            KeepAliveFutureProj::Tracked { future } => future.as_mut().poll(cx),
        }
    }
}

/// What a handler left of a request body when it dropped it.
struct Unread {
    body: Body,
    /// Bytes of data the handler had read.
    read: u64,
    /// Whether the handler polled the body at all (for `Expect: 100-continue`: hyper sends the
    /// `100 Continue` at the first poll, so an unpolled body was never asked for).
    polled: bool,
    /// The body had already failed (the client went away, malformed chunking): the connection
    /// cannot be reused.
    failed: bool,
}

/// The request body as the handler sees it: the original, counting the data read and handing
/// the rest back through `slot` when dropped before its end.
struct Tracked {
    inner: Body,
    read: u64,
    polled: bool,
    ended: bool,
    failed: bool,
    slot: Arc<Mutex<Option<Unread>>>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        this.polled = true;
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => this.read += frame.data_ref().map_or(0, |data| data.len() as u64),
            Some(Err(_)) => this.failed = true,
            None => this.ended = true,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if self.ended || (!self.failed && self.inner.is_end_stream()) {
            return;
        }
        let unread =
            Unread { body: std::mem::take(&mut self.inner), read: self.read, polled: self.polled, failed: self.failed };
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(unread);
    }
}

/// After the handler: reads and discards what it left of the body, or marks the response
/// `Connection: close` when that is not possible within [`MAX_BODY_BYTES`] and [`DRAIN_TIMEOUT`].
/// Nothing is left when the handler read the body to its end (or still holds it).
async fn settle(mut response: Response, slot: &Mutex<Option<Unread>>, expects_continue: bool) -> Response {
    let unread = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    let Some(unread) = unread else {
        return response;
    };
    // A client that sent `Expect: 100-continue` and got no `100 Continue` may or may not send
    // the body now: asking for it would only make it upload what is refused anyway.
    let solicited = unread.polled || !expects_continue;
    let reusable = solicited
        && !unread.failed
        && matches!(tokio::time::timeout(DRAIN_TIMEOUT, drain(unread.body, unread.read)).await, Ok(true));
    if !reusable {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads `body` to its end, discarding the data, as long as the whole body (of which `read`
/// bytes were read before) stays within [`MAX_BODY_BYTES`]. `true` when the end was reached;
/// `false` as soon as the limit would be passed (before reading anything when the announced
/// `Content-Length` already passes it) or the body fails.
async fn drain(mut body: Body, read: u64) -> bool {
    let limit = MAX_BODY_BYTES as u64;
    let mut total = read;
    if total.saturating_add(body.size_hint().lower()) > limit {
        return false;
    }
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            None => return true,
            Some(Err(_)) => return false,
            Some(Ok(frame)) => {
                total += frame.data_ref().map_or(0, |data| data.len() as u64);
                if total > limit {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    /// A body of `chunks`, announcing `exact` bytes if given, counting the bytes taken from it.
    struct Source {
        chunks: VecDeque<Bytes>,
        exact: Option<u64>,
        taken: Arc<AtomicUsize>,
    }

    impl HttpBody for Source {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            let this = self.get_mut();
            Poll::Ready(this.chunks.pop_front().map(|chunk| {
                this.taken.fetch_add(chunk.len(), Ordering::SeqCst);
                Ok(Frame::data(chunk))
            }))
        }

        fn is_end_stream(&self) -> bool {
            self.chunks.is_empty()
        }

        fn size_hint(&self) -> SizeHint {
            self.exact.map(SizeHint::with_exact).unwrap_or_default()
        }
    }

    fn source(sizes: &[usize], announce: bool) -> (Body, Arc<AtomicUsize>) {
        let taken = Arc::new(AtomicUsize::new(0));
        let chunks: VecDeque<Bytes> = sizes.iter().map(|&n| Bytes::from(vec![b'x'; n])).collect();
        let exact = announce.then(|| sizes.iter().sum::<usize>() as u64);
        (Body::new(Source { chunks, exact, taken: taken.clone() }), taken)
    }

    /// A route that answers 415 without reading, one that reads 10 bytes, one that reads all.
    fn router() -> Router {
        async fn early() -> axum::http::StatusCode {
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        async fn partial(body: Body) -> &'static str {
            let mut body = body;
            let _ = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
            "partial"
        }
        async fn full(body: Body) -> String {
            axum::body::to_bytes(body, usize::MAX).await.map(|b| b.len().to_string()).unwrap_or_default()
        }
        Router::new()
            .route("/early", post(early))
            .route("/partial", post(partial))
            .route("/full", post(full))
            .layer(KeepAliveLayer)
    }

    async fn send(path: &str, body: Body, expect: bool) -> Response {
        let mut req = Request::post(path);
        if expect {
            req = req.header(header::EXPECT, "100-continue");
        }
        router().oneshot(req.body(body).unwrap()).await.unwrap()
    }

    fn says_close(response: &Response) -> bool {
        response.headers().get(header::CONNECTION).is_some_and(|v| v == "close")
    }

    #[tokio::test]
    async fn an_unread_body_within_the_limit_is_drained_and_the_connection_kept() {
        for (sizes, announce) in
            [(&[300 * 1024][..], true), (&[100 * 1024; 3][..], false), (&[MAX_BODY_BYTES][..], true)]
        {
            let (body, taken) = source(sizes, announce);
            let response = send("/early", body, false).await;
            assert_eq!(response.status(), 415);
            assert!(!says_close(&response), "{sizes:?}");
            assert_eq!(taken.load(Ordering::SeqCst), sizes.iter().sum::<usize>(), "{sizes:?} drained");
        }
        let (body, taken) = source(&[10, 20, 30], false);
        assert!(!says_close(&send("/partial", body, false).await));
        assert_eq!(taken.load(Ordering::SeqCst), 60);
    }

    #[tokio::test]
    async fn past_the_limit_the_answer_says_close_without_reading_more() {
        // Announced too long: nothing is read.
        let (body, taken) = source(&[MAX_BODY_BYTES + 1], true);
        assert!(says_close(&send("/early", body, false).await));
        assert_eq!(taken.load(Ordering::SeqCst), 0);
        // Chunked: read up to the limit, then given up on.
        let (body, taken) = source(&[512 * 1024; 4], false);
        assert!(says_close(&send("/early", body, false).await));
        assert_eq!(taken.load(Ordering::SeqCst), 3 * 512 * 1024);
    }

    #[tokio::test]
    async fn an_unanswered_expect_continue_is_not_solicited() {
        let (body, taken) = source(&[700], true);
        assert!(says_close(&send("/early", body, true).await));
        assert_eq!(taken.load(Ordering::SeqCst), 0);
        // Once the handler asked for the body, the rest is drained as usual.
        let (body, _) = source(&[700, 700], true);
        assert!(!says_close(&send("/partial", body, true).await));
    }

    #[tokio::test]
    async fn read_and_empty_bodies_are_left_alone() {
        let (body, taken) = source(&[5000, 5000], false);
        let response = send("/full", body, false).await;
        assert!(!says_close(&response));
        assert_eq!(taken.load(Ordering::SeqCst), 10_000);
        assert!(!says_close(&send("/early", Body::empty(), false).await));
    }
}
