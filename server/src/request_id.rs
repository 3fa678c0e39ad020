//! One id per request: the caller's `x-request-id` when it is short and safe, else a new
//! `req_…`; sent back as the `x-request-id` header and, on an error, as the body's
//! `request_id`. A server error's real text is logged here under that id, never sent.
//!
//! A tower layer, like the access log, so an open long-poll keeps no boxed future.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};

use crate::error::ErrorReport;

/// The header a request id comes in and goes out in.
pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest caller-given request id kept (a longer one is replaced by a new id).
pub(crate) const MAX_REQUEST_ID_LEN: usize = 64;

/// Gives every request of the routes it wraps an id.
#[derive(Clone, Copy, Default)]
pub(crate) struct RequestIds;

impl<S> Layer<S> for RequestIds {
    type Service = WithRequestId<S>;

    fn layer(&self, inner: S) -> WithRequestId<S> {
        WithRequestId { inner }
    }
}

/// A service whose requests carry an id and whose answers say it.
#[derive(Clone)]
pub(crate) struct WithRequestId<S> {
    inner: S,
}

impl<S> Service<Request> for WithRequestId<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let given = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|v| is_safe_id(v));
        let id = match given {
            Some(v) => v.to_string(),
            None => new_request_id(),
        };
        RequestIdFuture { inner: self.inner.call(req), id: Some(id) }
    }
}

/// The inner response, given the request's id once ready.
pub(crate) struct RequestIdFuture<F> {
    inner: F,
    id: Option<String>,
}

impl<F, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let out = ready!(Pin::new(&mut self.inner).poll(cx));
        let id = self.id.take().unwrap_or_default();
        Poll::Ready(out.map(|resp| stamp(resp, &id)))
    }
}

/// Sets the `x-request-id` header, and on an error answer the body's `request_id` (logging a
/// server error's real text under the id).
fn stamp(mut resp: Response, id: &str) -> Response {
    if let Some(report) = resp.extensions_mut().remove::<ErrorReport>() {
        resp = report.into_response_with_id(resp, id);
    }
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    resp
}

/// Whether a caller's request id may be used (and so logged and echoed): 1 to
/// [`MAX_REQUEST_ID_LEN`] ASCII letters, digits, `-`, `_`, `.` or `:`.
pub(crate) fn is_safe_id(v: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A new request id, `req_` and random characters.
pub(crate) fn new_request_id() -> String {
    grantline_core::engine::secrets::new_id("req_").unwrap_or_else(|_| "req_unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_the_caller() {
        assert!(is_safe_id("b7c1e2a4-1f2e-4c3d-9a8b-0123456789ab"));
        assert!(is_safe_id("trace.abc:1_2"));
        assert!(!is_safe_id(""));
        assert!(!is_safe_id(&"a".repeat(MAX_REQUEST_ID_LEN + 1)));
        assert!(!is_safe_id("id with spaces"));
        assert!(!is_safe_id("id\r\nset-cookie: x"));
        assert!(!is_safe_id("<script>"));
        assert!(new_request_id().starts_with("req_") && is_safe_id(&new_request_id()));
    }

    async fn get(app: &mut axum::Router, id: Option<&str>) -> (Response, serde_json::Value) {
        let mut req = axum::http::Request::builder().uri("/boom");
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        let resp = app.call(req.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (Response::from_parts(parts, axum::body::Body::empty()), serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn an_internal_error_answers_its_request_id_and_never_its_text() {
        let boom = || async { crate::ApiError(grantline_core::Error::Internal("sqlite: datatype mismatch in accounts".into())) };
        let mut app = axum::Router::new().route("/boom", axum::routing::get(boom)).layer(RequestIds);
        let (resp, body) = get(&mut app, Some("trace-7")).await;
        assert_eq!(resp.status().as_u16(), 500);
        assert_eq!(resp.headers()["x-request-id"], "trace-7");
        assert_eq!(body["error"]["request_id"], "trace-7");
        assert_eq!(body["error"]["slug"], "INTERNAL");
        let text = body.to_string();
        assert!(!text.contains("sqlite") && !text.contains("mismatch"), "{text}");
        assert!(body["error"]["message"].as_str().unwrap().contains("trace-7"), "{body}");

        let (resp, body) = get(&mut app, Some("not a <safe> id")).await;
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(id.starts_with("req_") && body["error"]["request_id"] == id.as_str(), "{body}");
    }
}
