//! What operators and orchestrators call: liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::openapi::ListErrors;
use crate::extract::Caller;
use crate::AppState;

/// The content type of the Prometheus text format.
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()), responses((status = 200, description = "`ok`", content_type = "text/plain", body = String)))]
pub(crate) async fn health() -> &'static str {
    "ok"
}

/// What `/readyz` found.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReadyAnswer {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// Each check (`database`, `migrations`, `change_feed`, and `shutdown` while stopping): `ok`,
    /// or why not.
    checks: BTreeMap<String, String>,
}

/// Readiness: the database answers, the schema is migrated and the change feed is connected;
/// 503 naming what is not, and while the broker shuts down.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "Ready.", body = ReadyAnswer),
        (status = 503, description = "Not ready: the checks say why.", body = ReadyAnswer),
    ),
)]
pub(crate) async fn ready(State(s): State<AppState>) -> (StatusCode, Json<ReadyAnswer>) {
    let readiness = s.engine.ready().await;
    let checks = readiness.checks.iter().map(|c| (c.name.to_string(), if c.ok { "ok".to_string() } else { c.detail.clone() })).collect();
    if readiness.is_ready() {
        (StatusCode::OK, Json(ReadyAnswer { status: "ready", checks }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(ReadyAnswer { status: "not_ready", checks }))
    }
}

/// The broker's metrics in the Prometheus text format (HTTP requests, flows, waits, tools,
/// refreshes). `--metrics-bind` serves the same text without credentials on a private address.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "meta",
    security(("apiKey" = [])),
    responses((status = 200, description = "Prometheus text format 0.0.4.", content_type = "text/plain", body = String), ListErrors),
)]
pub(crate) async fn metrics(Caller(_): Caller) -> impl IntoResponse {
    metrics_text().await
}

/// The text of `/metrics`, for both listeners.
pub(crate) async fn metrics_text() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], crate::telemetry::render())
}
