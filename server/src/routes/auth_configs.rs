//! `/api/v3.1/auth_configs`

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use grantline_core::model::{AuthConfigInfo, CreateAuthConfigRequest, CreateAuthConfigResponse, Page};

use super::openapi::{ChangeErrors, ListErrors};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller, QueryParams};
use crate::AppState;

/// Store an OAuth app's credentials for a toolkit.
#[utoipa::path(
    post,
    path = "/auth_configs",
    operation_id = "create_auth_config",
    tag = "auth configs",
    security(("apiKey" = [])),
    request_body = CreateAuthConfigRequest,
    responses((status = 201, description = "The new auth config (never its secret).", body = CreateAuthConfigResponse), ChangeErrors),
)]
pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<CreateAuthConfigRequest>,
) -> ApiResult<(StatusCode, Json<CreateAuthConfigResponse>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_auth_config(&who, req).await?)))
}

/// List auth configs (no secrets).
#[utoipa::path(
    get,
    path = "/auth_configs",
    operation_id = "list_auth_configs",
    tag = "auth configs",
    security(("apiKey" = [])),
    params(("toolkit_slug" = Option<String>, Query, description = "Only this toolkit's auth configs.")),
    responses((status = 200, description = "Every auth config of the project (or of one toolkit), in one page.", body = Page<AuthConfigInfo>), ListErrors),
)]
pub async fn list(State(s): State<AppState>, Caller(who): Caller, q: QueryParams) -> ApiResult<Json<Page<AuthConfigInfo>>> {
    // Every auth config comes in one page; the only filter is the toolkit.
    q.only(&["toolkit_slug"])?;
    let toolkit = q.get("toolkit_slug").filter(|t| !t.is_empty());
    let items: Vec<AuthConfigInfo> =
        s.engine.list_auth_configs(&who).await?.into_iter().filter(|c| toolkit.is_none_or(|t| c.toolkit.as_deref() == Some(t))).collect();
    let n = items.len() as u64;
    Ok(Json(Page { items, next_cursor: None, total_pages: 1, current_page: 1, total_items: n }))
}
