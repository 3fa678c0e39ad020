//! `GET /openapi.json`: the REST API's description.

use axum::http::header;
use axum::response::IntoResponse;

/// The document; `tests/openapi.rs` checks it names every route the router serves.
pub const DOCUMENT: &str = include_str!("../openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
