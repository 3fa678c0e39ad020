//! Answers given before their request's body was read end the connection, and say so.
//!
//! A handler may refuse a request before reading its body (a missing credential, a wrong
//! content type). hyper then drops the rest of the body if it has already arrived, and
//! otherwise closes the connection after the answer, without telling the client: an HTTP/1.1
//! client that pools connections sends its next request on a socket that is about to close and
//! gets "server disconnected". MCP clients meet this on their very first request, which is
//! answered 401 to start logging in. This layer watches each request body and, when the answer
//! is ready while the body is still unread, adds `Connection: close` (RFC 9112 §9.6), so the
//! client opens a new connection instead of reusing this one.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};

/// Adds `Connection: close` to answers given before their request's body was read to its end.
#[derive(Clone, Copy, Default)]
pub(crate) struct CloseOnUnreadBody;

impl<S> Layer<S> for CloseOnUnreadBody {
    type Service = Watched<S>;

    fn layer(&self, inner: S) -> Watched<S> {
        Watched { inner }
    }
}

/// A service whose request bodies are watched until read.
#[derive(Clone)]
pub(crate) struct Watched<S> {
    inner: S,
}

impl<S> Service<Request> for Watched<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = WatchedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if req.body().is_end_stream() {
            return WatchedFuture { inner: self.inner.call(req), read: None };
        }
        let read = Arc::new(AtomicBool::new(false));
        let req = req.map(|inner| Body::new(ReadWatch { inner, read: read.clone() }));
        WatchedFuture { inner: self.inner.call(req), read: Some(read) }
    }
}

/// The inner answer, marked `Connection: close` if the request's body was left unread.
pub(crate) struct WatchedFuture<F> {
    inner: F,
    /// Set once the request body has been read to its end; `None` when it had none.
    read: Option<Arc<AtomicBool>>,
}

impl<F, E> Future for WatchedFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let out = ready!(Pin::new(&mut self.inner).poll(cx));
        let unread = self.read.as_ref().is_some_and(|read| !read.load(Ordering::Acquire));
        Poll::Ready(out.map(|mut resp| {
            if unread {
                resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }))
    }
}

/// A request body that records when it has been read to its end.
struct ReadWatch {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for ReadWatch {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if frame.is_none() || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;

    fn app() -> axum::Router {
        let refuse = || async { axum::http::StatusCode::UNAUTHORIZED };
        let read = |body: String| async move { body };
        axum::Router::new().route("/refuse", post(refuse)).route("/read", post(read)).layer(CloseOnUnreadBody)
    }

    async fn send(path: &str, body: &'static str) -> Response {
        let req = axum::http::Request::post(path).body(Body::from(body)).unwrap();
        app().call(req).await.unwrap()
    }

    #[tokio::test]
    async fn an_answer_given_without_reading_the_body_closes_the_connection() {
        let resp = send("/refuse", "{\"jsonrpc\":\"2.0\"}").await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers().get(header::CONNECTION).unwrap(), "close");
    }

    #[tokio::test]
    async fn an_answer_after_reading_the_body_keeps_the_connection() {
        let resp = send("/read", "hello").await;
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().get(header::CONNECTION).is_none());
        let resp = send("/refuse", "").await;
        assert!(resp.headers().get(header::CONNECTION).is_none(), "a request with no body has nothing left unread");
    }
}
