//! One log line per request: method, route template, status and milliseconds; never the query
//! string (it carries `state` and `code`).
//!
//! A tower layer rather than `middleware::from_fn`: that boxes a future of about a kilobyte per
//! request, which every open long-poll keeps for as long as it waits. This one's future is the
//! inner one and three small fields.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use tower::{Layer, Service};

/// Logs every request of the routes it wraps.
#[derive(Clone, Copy, Default)]
pub(crate) struct AccessLog;

impl<S> Layer<S> for AccessLog {
    type Service = Logged<S>;

    fn layer(&self, inner: S) -> Logged<S> {
        Logged { inner }
    }
}

/// A service whose requests are logged when their response is ready.
#[derive(Clone)]
pub(crate) struct Logged<S> {
    inner: S,
}

impl<S> Service<Request> for Logged<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = LoggedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let (method, route) = (req.method().clone(), req.extensions().get::<MatchedPath>().cloned());
        LoggedFuture { inner: self.inner.call(req), method, route, started: Instant::now() }
    }
}

/// The inner response, logged once ready.
pub(crate) struct LoggedFuture<F> {
    inner: F,
    method: Method,
    route: Option<MatchedPath>,
    started: Instant,
}

impl<F, E> Future for LoggedFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let out = ready!(Pin::new(&mut self.inner).poll(cx));
        if let Ok(resp) = &out {
            let (method, route) = (&self.method, self.route.as_ref().map_or("-", MatchedPath::as_str));
            tracing::info!(%method, route, status = resp.status().as_u16(), ms = self.started.elapsed().as_millis() as u64, "request");
        }
        Poll::Ready(out)
    }
}
