//! Core errors as HTTP answers: the status, `Retry-After` where a retry makes sense, and the
//! body of [`grantline_core::Error::to_body`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use grantline_core::Error;

/// A core error on its way out as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = self.0.code(), error = %self.0, "request failed");
        }
        let mut response = (status, Json(self.0.to_body())).into_response();
        if let Some(secs) = self.0.retry_after() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
