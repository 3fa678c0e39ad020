//! Core errors as HTTP answers: status, and `{"error": {code, message, status, field}}`.

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
        (status, Json(self.0.to_body())).into_response()
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
