//! Core errors as HTTP answers: the status, `Retry-After` where a retry makes sense, and the
//! body of [`grantline_core::Error::to_body`]. The broker's own failures (`INTERNAL`) answer a
//! generic message: their text (a database's, a vault's) is logged under the request's id
//! (`request_id.rs`), and the body and `x-request-id` header give the client that id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use grantline_core::{Error, ErrorBody};

/// What an `INTERNAL` error tells the client instead of its text (its `detail`; the message
/// adds the kind's prefix, and the request-id layer the id).
pub(crate) const INTERNAL_DETAIL: &str = "the broker could not complete this request; its log has the details under this request_id";

/// A core error on its way out as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// An error answer on its way through the request-id layer, which sets its `request_id` and
/// logs it: the body as sent, and for a server error the real text to log.
#[derive(Clone, Debug)]
pub(crate) struct ErrorReport {
    body: ErrorBody,
    code: String,
    log: Option<String>,
}

impl ErrorReport {
    /// `resp` (this report's answer) with `id` in its body, the error logged under `id`.
    pub(crate) fn into_response_with_id(mut self, resp: Response, id: &str) -> Response {
        if let Some(text) = &self.log {
            tracing::error!(request_id = id, code = %self.code, error = %text, "request failed");
        }
        if self.body.error.slug == "INTERNAL" {
            let detail = format!("{INTERNAL_DETAIL} ({id})");
            self.body.error.message = format!("internal error: {detail}");
            self.body.error.detail = Some(detail);
        }
        self.body.error.request_id = Some(id.to_string());
        let (mut parts, _) = resp.into_parts();
        match serde_json::to_vec(&self.body) {
            Ok(bytes) => {
                parts.headers.remove(axum::http::header::CONTENT_LENGTH);
                Response::from_parts(parts, axum::body::Body::from(bytes))
            }
            Err(_) => Response::from_parts(parts, axum::body::Body::empty()),
        }
    }
}

/// The body a client is sent for `e`: an `INTERNAL` error's text replaced by a generic message.
pub(crate) fn public_body(e: &Error) -> ErrorBody {
    let mut body = e.to_body();
    if matches!(e, Error::Internal(_)) {
        body.error.message = format!("internal error: {INTERNAL_DETAIL}");
        body.error.detail = Some(INTERNAL_DETAIL.to_string());
    }
    body
}

/// The message a client (or a model, over MCP) is shown for `e`, outside an HTTP error answer:
/// an `INTERNAL` error is logged under a new request id, which the message names.
pub(crate) fn logged_message(e: &Error) -> String {
    if !matches!(e, Error::Internal(_)) {
        return e.to_string();
    }
    let id = crate::request_id::new_request_id();
    tracing::error!(request_id = %id, code = e.code(), error = %e, "request failed");
    format!("internal error: {INTERNAL_DETAIL} ({id})")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = public_body(&self.0);
        let mut response = (status, Json(&body)).into_response();
        if let Some(secs) = self.0.retry_after() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        let log = status.is_server_error().then(|| self.0.to_string());
        response.extensions_mut().insert(ErrorReport { body, code: self.0.code().to_string(), log });
        response
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_errors_text_stays_in_the_log() {
        let body = public_body(&Error::Internal("sqlite: datatype mismatch in table accounts".into()));
        let json = serde_json::to_string(&body).unwrap();
        assert!(!json.contains("sqlite") && !json.contains("accounts"), "{json}");
        assert_eq!((body.error.slug.as_str(), body.error.status), ("INTERNAL", 500));
        let other = public_body(&Error::validation("cursor", "expected a cursor"));
        assert!(other.error.message.contains("cursor"), "other kinds keep their message");
    }
}
