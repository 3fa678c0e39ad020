//! `/logos/{slug}.svg`: a monogram for each toolkit without a logo of its own, served by the
//! broker so that no page or answer sends a user's browser to a third party.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::pages::esc;
use crate::AppState;

/// A toolkit's monogram (SVG), for toolkits without a logo URL of their own.
#[utoipa::path(
    get,
    path = "/logos/{file}",
    operation_id = "toolkit_logo",
    tag = "meta",
    security(()),
    params(("file" = String, Path, description = "`{toolkit slug}.svg`.", pattern = r"^[A-Za-z0-9_.-]+\.svg$")),
    responses(
        (status = 200, description = "The monogram.", content_type = "image/svg+xml", body = String),
        super::openapi::NotFoundOnly,
    ),
)]
pub async fn logo(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(def) = file.strip_suffix(".svg").and_then(|slug| s.engine.catalog().get(slug)) else {
        return crate::ApiError(grantline_core::Error::not_found("logo", file)).into_response();
    };
    let initial: String = def.name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().collect()).unwrap_or_default();
    // A stable hue per slug, so each toolkit keeps its colour.
    let hue = def.slug.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360;
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" role="img" aria-label="{name}"><rect width="32" height="32" rx="7" fill="hsl({hue},55%,42%)"/><text x="16" y="21.5" font-family="system-ui,sans-serif" font-size="16" font-weight="600" fill="#fff" text-anchor="middle">{initial}</text></svg>"##,
        name = esc(&def.name),
        initial = esc(&initial),
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg).into_response()
}
