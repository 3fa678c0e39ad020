//! `/api/v3.1/project…`: the project's profile (the name, logo and support URL its pages show,
//! and its user verification), and `/project-logos/…`, where the broker serves the logo.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use grantline_core::model::{ProjectInfo, ProjectPatch};

use super::openapi::{NotFoundOnly, ResourceErrors};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller};
use crate::AppState;

/// An image's bytes (PNG, JPEG or WebP).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct Image(#[allow(dead_code)] Vec<u8>);

/// The project, and the profile its pages show.
#[utoipa::path(
    get,
    path = "/project",
    operation_id = "get_project",
    tag = "project",
    security(("apiKey" = [])),
    responses((status = 200, description = "The project and its profile.", body = ProjectInfo), ResourceErrors),
)]
pub async fn get(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<Json<ProjectInfo>> {
    Ok(Json(s.engine.get_project_info(&who).await?))
}

/// Change the project's profile: only the fields sent change, and `null` clears one.
#[utoipa::path(
    patch,
    path = "/project",
    operation_id = "update_project",
    tag = "project",
    security(("apiKey" = [])),
    request_body(content = ProjectPatch, content_type = "application/json"),
    responses((status = 200, description = "The project as it is now.", body = ProjectInfo), ResourceErrors),
)]
pub async fn update(State(s): State<AppState>, Caller(who): Caller, ApiJson(patch): ApiJson<ProjectPatch>) -> ApiResult<Json<ProjectInfo>> {
    Ok(Json(s.engine.update_project(&who, patch).await?))
}

/// Set the project's logo: the image itself as the body (PNG, JPEG or WebP, at most 256 KiB; no SVG).
#[utoipa::path(
    put,
    path = "/project/logo",
    operation_id = "set_project_logo",
    tag = "project",
    security(("apiKey" = [])),
    request_body(description = "The image.", content((Image = "image/png"), (Image = "image/jpeg"), (Image = "image/webp"))),
    responses(
        (status = 200, description = "The project, with its new `logo_url`.", body = ProjectInfo),
        (status = 413, description = "The body is larger than the broker takes.", content_type = "text/plain", body = String),
        ResourceErrors,
    ),
)]
pub async fn set_logo(State(s): State<AppState>, Caller(who): Caller, headers: HeaderMap, body: Bytes) -> ApiResult<Json<ProjectInfo>> {
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("invalid"));
    let Some(content_type) = content_type else {
        return Err(grantline_core::Error::validation("content-type", "send the image with its type: image/png, image/jpeg or image/webp").into());
    };
    Ok(Json(s.engine.set_project_logo(&who, Some(content_type), &body).await?))
}

/// Remove the project's logo.
#[utoipa::path(
    delete,
    path = "/project/logo",
    operation_id = "delete_project_logo",
    tag = "project",
    security(("apiKey" = [])),
    responses((status = 200, description = "The project, without a logo.", body = ProjectInfo), ResourceErrors),
)]
pub async fn delete_logo(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<Json<ProjectInfo>> {
    Ok(Json(s.engine.delete_project_logo(&who).await?))
}

/// A project's logo, as its pages show it (a new logo has a new URL, so this one is cached for long).
#[utoipa::path(
    get,
    path = "/project-logos/{project_id}/{file}",
    operation_id = "project_logo",
    tag = "meta",
    security(()),
    params(
        ("project_id" = String, Path, description = "The project (`pr_…`).", pattern = r"^pr_[A-Za-z0-9]{1,64}$"),
        ("file" = String, Path, description = "`{sha256}.{png|jpg|webp}`, as `logo_url` names it.", pattern = r"^[0-9a-f]{64}\.(png|jpg|webp)$"),
    ),
    responses(
        (status = 200, description = "The image.", content((Image = "image/png"), (Image = "image/jpeg"), (Image = "image/webp"))),
        NotFoundOnly,
    ),
)]
pub async fn logo(State(s): State<AppState>, Path((project_id, file)): Path<(String, String)>) -> Response {
    match s.engine.project_logo(&project_id, &file).await {
        Ok(logo) => {
            let mut response = (StatusCode::OK, logo.data).into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&logo.meta.content_type).unwrap_or(HeaderValue::from_static("image/png")));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
            response
        }
        // Any failure is "no such logo" (the only status this route documents).
        Err(_) => crate::ApiError(grantline_core::Error::not_found("logo", file)).into_response(),
    }
}
