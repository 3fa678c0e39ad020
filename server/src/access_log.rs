//! One log line per request: method, route template, status and milliseconds; never the query
//! string (it carries `state` and `code`). Every line logged while a request is served belongs
//! to its `request` span, which carries the request's id (`request_id`): the caller's
//! `x-request-id` when it is short and safe, else a new `req_…`, sent back in `x-request-id`.
//! The same numbers feed `grantline_http_requests_total{route,method,status}` and
//! `grantline_http_request_duration_seconds{route,method}`.
//!
//! A tower layer rather than `middleware::from_fn`: that boxes a future of about a kilobyte per
//! request, which every open long-poll keeps for as long as it waits. This one's future is the
//! inner one and a few small fields.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use tower::{Layer, Service};

use crate::request_id::{is_safe_id, new_request_id, REQUEST_ID};

/// The header a request id comes in and goes out in.


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

    fn call(&mut self, mut req: Request) -> Self::Future {
        let (method, route) = (req.method().clone(), req.extensions().get::<MatchedPath>().cloned());
        let given = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|v| is_safe_id(v));
        let id = match given {
            Some(v) => v.to_string(),
            None => new_request_id(),
        };
        // The inner layers (the error answers' `request_id`) use this same id.
        if let Ok(v) = HeaderValue::from_str(&id) {
            req.headers_mut().insert(REQUEST_ID.clone(), v);
        }
        let span = tracing::info_span!("request", request_id = %id);
        let inner = span.in_scope(|| self.inner.call(req));
        LoggedFuture { inner, method, route, started: Instant::now(), span, id: Some(id) }
    }
}

/// The inner response, logged once ready.
pub(crate) struct LoggedFuture<F> {
    inner: F,
    method: Method,
    route: Option<MatchedPath>,
    started: Instant,
    span: tracing::Span,
    id: Option<String>,
}

impl<F, E> Future for LoggedFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _entered = this.span.enter();
        let mut out = ready!(Pin::new(&mut this.inner).poll(cx));
        if let Ok(resp) = &mut out {
            let route = this.route.as_ref().map_or("-", MatchedPath::as_str);
            let status = resp.status().as_u16();
            let elapsed = this.started.elapsed();
            tracing::info!(method = %this.method, route, status, ms = elapsed.as_millis() as u64, "request");
            let method = method_label(&this.method);
            metrics::counter!("grantline_http_requests_total", "route" => route.to_string(), "method" => method, "status" => status.to_string())
                .increment(1);
            metrics::histogram!("grantline_http_request_duration_seconds", "route" => route.to_string(), "method" => method)
                .record(elapsed.as_secs_f64());
            if let Some(id) = this.id.take() {
                if !resp.headers().contains_key(&REQUEST_ID) {
                    if let Ok(v) = HeaderValue::from_str(&id) {
                        resp.headers_mut().insert(REQUEST_ID.clone(), v);
                    }
                }
            }
        }
        Poll::Ready(out)
    }
}

/// The method as a metric label: the standard ones, else `OTHER` (labels stay few).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
